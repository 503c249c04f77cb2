/**
 * Reading, writing and governing a channel from integration tests, the same way in every
 * suite: results parsed as canonical JSON, failures with each peer's own (chaincode) message,
 * governance as a proposal approved by every member org's admin.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FabricClient } from '../../../gateway/src/fabric/client';
import { connectOrg, type OrgConnection } from '../../../gateway/src/fabric/connection';
import { Chaincode } from '../../../gateway/src/fabric/contracts';
import { loadProfile, type Profile } from '../../../gateway/src/fabric/profile';
import { toClientError, type ClientError } from '../../../gateway/src/errors';
import { sourceChain, type SourceChain } from '../../../gateway/src/proofs';

export interface ChainHandle {
  channel: string;
  /** A member's user identity, for reads. */
  user: OrgConnection;
  /** One admin per member org; governance needs all of them. */
  admins: OrgConnection[];
}

/** A channel with the profiles of its member orgs (the peers that prove its statements). */
export interface Chain extends ChainHandle {
  orgs: Profile[];
  /** The chaincode through the member's user (the same connection as `user`), typed. */
  cc: Chaincode;
}

/**
 * The connections of one suite: `chain` opens a channel's user and admin connections, `close`
 * closes every connection opened here (in `afterAll`).
 */
export class Connections {
  private readonly open: OrgConnection[] = [];
  private readonly clients: FabricClient[] = [];

  connect(p: Profile, identity: 'admin' | 'user'): OrgConnection {
    const c = connectOrg(p, { identity });
    this.open.push(c);
    return c;
  }

  /** `channel` with the user of the first org in `orgs` and an admin of each. */
  chain(channel: string, orgs: string[]): Chain {
    const profiles = orgs.map((o) => loadProfile(o));
    const user = FabricClient.open(profiles[0]!, { identity: 'user' });
    this.clients.push(user);
    return { channel, orgs: profiles, admins: profiles.map((p) => this.connect(p, 'admin')), user: user.connection, cc: new Chaincode(user, channel) };
  }

  close(): void {
    this.open.forEach((c) => c.close());
    this.clients.forEach((c) => c.close());
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

export async function evaluate(c: ChainHandle, contract: string, fn: string, ...args: string[]): Promise<any> {
  return JSON.parse(text(await c.user.contract(c.channel, contract).evaluateTransaction(fn, ...args)));
}

export async function submit(conn: OrgConnection, channel: string, contract: string, fn: string, ...args: string[]): Promise<any> {
  try {
    return JSON.parse(text(await conn.contract(channel, contract).submitTransaction(fn, ...args)));
  } catch (e) {
    // Surface each peer's chaincode message (the medbridge error code) instead of gRPC noise.
    const details = ((e as { details?: Array<{ address?: string; message?: string }> }).details ?? []).map((d) => `${d.address}: ${d.message}`);
    throw new Error(`${contract}:${fn} on ${channel} failed: ${(e as Error).message} ${details.join(' | ')}`);
  }
}

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
 * expect(await codeOf(contract.submitTransaction('GrantConsent', grant))).toBe('NONCE_REPLAYED');
 * expect(await codeOf(() => verifyAnchorAttestation(forged, trusted, expected, now))).toBe('COMMITMENT_MISMATCH');
 */
export async function codeOf(call: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  return (await errorOf(call))?.code;
}

/** The chain's own current verification node list, or undefined before it has one. */
export async function nodeListOf(c: ChainHandle): Promise<{ epoch: number; list: any } | undefined> {
  if ((await codeOf(c.user.contract(c.channel, 'CrossChain').evaluateTransaction('GetNodeList', ''))) === 'NOT_FOUND') return undefined;
  return evaluate(c, 'CrossChain', 'GetNodeList', '');
}

/** What `on` knows of the remote chain `remote` (its epoch, schemes, ...), or undefined if it is not registered. */
export async function remoteChainOf(on: ChainHandle, remote: string): Promise<any> {
  if ((await codeOf(on.user.contract(on.channel, 'CrossChain').evaluateTransaction('GetRemoteChain', remote))) === 'UNKNOWN_CHAIN') return undefined;
  return evaluate(on, 'CrossChain', 'GetRemoteChain', remote);
}

/** Proposes with the first member admin, approves with the others; returns the executed proposal. */
export async function govern(c: ChainHandle, action: unknown): Promise<any> {
  const [first, ...rest] = c.admins;
  if (!first) throw new Error(`no admin for ${c.channel}`);
  let p = await submit(first, c.channel, 'Governance', 'Propose', JSON.stringify(action));
  for (const admin of rest) p = await submit(admin, c.channel, 'Governance', 'Approve', p.proposalId);
  expect(p.status).toBe('executed');
  return p;
}
