/**
 * Reading, writing and governing a channel from integration tests, the same way in every
 * suite: through the typed chaincode client (gateway/src/fabric/contracts), so results are
 * the chaincode's own types and failures carry its error codes; governance as a proposal
 * approved by every member org's admin.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GovernanceAction, GovernanceProposal } from '@medbridge/chaincode';
import { FabricClient } from '../../../gateway/src/fabric/client';
import { Chaincode, orAbsent } from '../../../gateway/src/fabric/contracts';
import { loadProfile, type Profile } from '../../../gateway/src/fabric/profile';
import { toClientError, type ClientError } from '../../../gateway/src/errors';
import { sourceChain, type SourceChain } from '../../../gateway/src/proofs';

export interface ChainHandle {
  channel: string;
  /** The chaincode as a member's user identity: reads and member transactions. */
  cc: Chaincode;
  /** The chaincode as one admin per member org; governance needs all of them. */
  admins: Chaincode[];
}

/** A channel with the profiles of its member orgs (the peers that prove its statements). */
export interface Chain extends ChainHandle {
  orgs: Profile[];
}

/**
 * The connections of one suite: `chain` opens a channel's user and admin clients, `close`
 * closes every client opened here (in `afterAll`).
 */
export class Connections {
  private readonly open: FabricClient[] = [];

  connect(p: Profile, identity: 'admin' | 'user'): FabricClient {
    const c = FabricClient.open(p, { identity });
    this.open.push(c);
    return c;
  }

  /** `channel` with the user of the first org in `orgs` and an admin of each. */
  chain(channel: string, orgs: string[]): Chain {
    const profiles = orgs.map((o) => loadProfile(o));
    const user = this.connect(profiles[0]!, 'user');
    return {
      channel,
      orgs: profiles,
      admins: profiles.map((p) => new Chaincode(this.connect(p, 'admin'), channel)),
      cc: new Chaincode(user, channel),
    };
  }

  close(): void {
    this.open.forEach((c) => c.close());
  }
}

/** The chain as a proof source: statements signed through its user, by any of its members' peers. */
export function sourceOf(c: Chain): SourceChain {
  return sourceChain(c.cc.client, c.channel, c.orgs.flatMap((p) => p.peers));
}

/** The first PEM file (by name) in a cryptogen MSP folder such as `msp/cacerts`. */
export function firstPem(dir: string): string {
  const f = readdirSync(dir).filter((n) => n.endsWith('.pem')).sort()[0];
  if (!f) throw new Error(`no PEM in ${dir}`);
  return readFileSync(join(dir, f), 'utf8');
}

/** The trust a remote chain registers for `chain`: each member org's root CA (from its first peer's MSP). */
export function trustOf(chain: Chain) {
  return chain.orgs.map((p) => ({
    mspId: p.mspId,
    rootCerts: [firstPem(join(dirname(dirname(p.peers[0]!.tlsRootCert)), 'msp', 'cacerts'))],
    intermediateCerts: [],
    revokedSerials: [],
  }));
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/**
 * The error a call fails with, as the gateway reports it (the chaincode's code and message), or
 * undefined when it succeeds: of a pending call (a promise), or of a function (which may throw
 * or return a promise).
 */
export async function errorOf(call: Promise<unknown> | (() => unknown)): Promise<ClientError | undefined> {
  try {
    await (typeof call === 'function' ? call() : call);
    return undefined;
  } catch (e) {
    return toClientError(e);
  }
}

/**
 * The medbridge error code a call fails with, or undefined when it succeeds (see `errorOf`).
 *
 * @example
 * expect(await codeOf(a.cc.consent.grantConsent(grant))).toBe('NONCE_REPLAYED');
 * expect(await codeOf(() => verifyAnchorAttestation(forged, trusted, expected, now))).toBe('COMMITMENT_MISMATCH');
 */
export async function codeOf(call: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  return (await errorOf(call))?.code;
}

/** The chain's own current verification node list, or undefined before it has one. */
export function nodeListOf(c: ChainHandle) {
  return orAbsent(c.cc.crossChain.getNodeList());
}

/** What `on` knows of the remote chain `remote` (its epoch, schemes, ...), or undefined if it is not registered. */
export function remoteChainOf(on: ChainHandle, remote: string) {
  return orAbsent(on.cc.crossChain.getRemoteChain(remote), ['UNKNOWN_CHAIN']);
}

/**
 * Proposes with the first member admin, approves with the others; returns the executed proposal.
 * A submit returns once the proposer's own peer committed it; each approver first waits until its
 * own peer has the proposal too (peers of other orgs may be a block behind), as an admin who
 * approves from a list of open proposals would. The last approval executes it, committed on the
 * last approver's peer; before returning, every member org's peer has committed the execution
 * too, so that a read through any of them (`cc` is the first org's) sees its effect.
 */
export async function govern(c: ChainHandle, action: GovernanceAction): Promise<GovernanceProposal> {
  const [first, ...rest] = c.admins;
  if (!first) throw new Error(`no admin for ${c.channel}`);
  let p = (await first.governance.propose(action)).result;
  for (const admin of rest) {
    await admin.governance.proposalOnPeer(p.proposalId, 10_000);
    p = (await admin.governance.approve(p.proposalId)).result;
  }
  expect(p.status).toBe('executed');
  for (const admin of c.admins) await executedOnPeer(admin, p.proposalId, 10_000);
  return p;
}

/** Waits until `admin`'s own peer reads proposal `proposalId` as executed. */
async function executedOnPeer(admin: Chaincode, proposalId: string, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  while ((await admin.governance.proposalOnPeer(proposalId, waitMs)).status !== 'executed') {
    if (Date.now() > until) throw new Error(`proposal ${proposalId} is not executed on this org's peer after ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
