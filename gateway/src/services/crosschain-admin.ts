/**
 * Cross-chain administration through each channel's own governance: verification node
 * lists, trusted remote chains and routes. A change is proposed by one member org's admin
 * and executed when the admins of every member org have approved (Governance contract).
 *
 * For the embedded network the node certificates and org roots are read from the
 * cryptogen layout next to each peer's TLS root (`peers/<peer>/msp/{signcerts,cacerts}`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { GovernanceAction, GovernanceProposal, NodeListAt, OrgTrust, PacketType, RouteRecord, VerificationNode, VerificationNodeList } from '@medbridge/chaincode';
import { ClientError, usageError } from '../errors';
import { FabricClient } from '../fabric/client';
import { Chaincode, orAbsent } from '../fabric/contracts';
import { profilesForChannel, type Profile } from '../fabric/profile';
import { silentLogger } from '../logger';

function firstPem(dir: string): string {
  if (!existsSync(dir)) throw usageError(`no certificate folder ${dir}`);
  const f = readdirSync(dir).filter((n) => n.endsWith('.pem') || n.endsWith('.crt')).sort()[0];
  if (!f) throw usageError(`no PEM in ${dir}`);
  return readFileSync(join(dir, f), 'utf8');
}

function peerMspDir(tlsRootCert: string): string {
  return join(dirname(dirname(tlsRootCert)), 'msp');
}

/** The verification nodes of an org: its peers (by index) with their signing certificates. */
export function nodesOf(p: Profile, peerIndexes?: number[]): VerificationNode[] {
  const indexes = peerIndexes ?? p.peers.map((_, i) => i);
  return indexes.map((i) => {
    const peer = p.peers[i];
    if (!peer) throw usageError(`${p.org} has no peer #${i}`);
    return { nodeId: peer.name, mspId: p.mspId, certPem: firstPem(join(peerMspDir(peer.tlsRootCert), 'signcerts')) };
  });
}

/** A list with one subgroup per member org with a profile, `threshold` signers each, rule all. */
export function nodeListFor(channel: string, chainId: string, epoch: number, opts: { peers?: number[]; threshold?: number } = {}): VerificationNodeList {
  const orgs = profilesForChannel(channel);
  if (orgs.length === 0) throw usageError(`no org profile is a member of ${channel}`);
  return {
    chainId,
    epoch,
    rule: { kind: 'all' },
    subgroups: orgs.map((p) => ({ id: `sg-${p.mspId}`, mspId: p.mspId, threshold: opts.threshold ?? 1, nodes: nodesOf(p, opts.peers) })),
  };
}

/** The root certificates of every member org of a channel, for a remote registration. */
export function trustOf(channel: string): OrgTrust[] {
  return profilesForChannel(channel).map((p) => {
    const peer = p.peers[0];
    if (!peer) throw usageError(`${p.org} has no peer`);
    return { mspId: p.mspId, rootCerts: [firstPem(join(peerMspDir(peer.tlsRootCert), 'cacerts'))], intermediateCerts: [], revokedSerials: [] };
  });
}

/** What "not there yet" looks like to the reads below. */
const ABSENT = ['NOT_FOUND', 'UNKNOWN_CHAIN', 'ROUTE_NOT_OPEN'] as const;

export class CrossChainAdmin {
  private readonly admins = new Map<string, FabricClient>();

  constructor(private readonly log: Logger = silentLogger) {}

  /** The chaincode on `channel` as the admin of org `p` (its connection opened once). */
  admin(p: Profile, channel: string): Chaincode {
    let c = this.admins.get(p.mspId);
    if (!c) {
      c = FabricClient.open(p, { identity: 'admin', logger: this.log });
      this.admins.set(p.mspId, c);
    }
    return new Chaincode(c, channel);
  }

  /** The chaincode on `channel` as the admin of its first member org with a profile. */
  private reader(channel: string): Chaincode {
    const p = profilesForChannel(channel)[0];
    if (!p) throw usageError(`no org profile is a member of ${channel}`);
    return this.admin(p, channel);
  }

  chainId(channel: string): Promise<string> {
    return this.reader(channel).chainId();
  }

  async propose(by: Profile, channel: string, action: GovernanceAction): Promise<GovernanceProposal> {
    return (await this.admin(by, channel).governance.propose(action)).result;
  }

  /**
   * Approves as `by`'s admin. `waitMs` > 0: first waits (that long at most) until `by`'s own peer
   * has the proposal (GovernanceClient.proposalOnPeer), for an approval right after the propose.
   * 0 (an admin approving an id they were given): an unknown id is PROPOSAL_NOT_FOUND at once.
   */
  async approve(by: Profile, channel: string, proposalId: string, waitMs = 0): Promise<GovernanceProposal> {
    const admin = this.admin(by, channel);
    if (waitMs > 0) await admin.governance.proposalOnPeer(proposalId, waitMs);
    return (await admin.governance.approve(proposalId)).result;
  }

  /** Proposes with the first member org and approves with every other: the whole consortium agrees. */
  async govern(channel: string, action: GovernanceAction): Promise<GovernanceProposal> {
    const [first, ...rest] = profilesForChannel(channel);
    if (!first) throw usageError(`no org profile is a member of ${channel}`);
    let p = await this.propose(first, channel, action);
    for (const other of rest) if (p.status !== 'executed') p = await this.approve(other, channel, p.proposalId, 15_000);
    if (p.status !== 'executed') {
      throw new ClientError('INTERNAL', 'other', `proposal ${p.proposalId} on ${channel} is still ${p.status}; approvals: ${p.approvals.join(', ')}`);
    }
    if (rest.length > 0) await this.seenByReader(channel, p.proposalId);
    this.log.info({ channel, kind: action.kind, proposalId: p.proposalId }, 'governance action executed');
    return p;
  }

  /**
   * The last approval committed on its own org's peer; the reads of this class go to the first
   * org's. Waits (bounded) until that peer has committed it too, so a read right after govern()
   * sees the action's effect.
   */
  private async seenByReader(channel: string, proposalId: string, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.reader(channel).governance.getProposal(proposalId)).status === 'executed') return;
      if (Date.now() > until) throw new ClientError('INTERNAL', 'other', `proposal ${proposalId} on ${channel} executed, but not yet committed on the reading org's peer after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Epoch of the channel's current node list, 0 before it has one. */
  async headEpoch(channel: string): Promise<number> {
    return (await this.nodeList(channel))?.epoch ?? 0;
  }

  /** The channel's current node list, or undefined before it has one. */
  nodeList(channel: string): Promise<NodeListAt | undefined> {
    return orAbsent(this.reader(channel).crossChain.getNodeList(), ABSENT);
  }

  /** The epoch of `remoteChainId`'s list that `on` trusts, 0 when it is not registered there. */
  async knownEpoch(on: string, remoteChainId: string): Promise<number> {
    return (await orAbsent(this.reader(on).crossChain.getRemoteChain(remoteChainId), ABSENT))?.epoch ?? 0;
  }

  route(channel: string, routeId: string): Promise<RouteRecord | undefined> {
    return orAbsent(this.reader(channel).crossChain.getRoute(routeId), ABSENT);
  }

  /**
   * Idempotent set-up of a route between two channels: each has a node list, each trusts
   * the other at its current list, and the route is open on both and carries at least these
   * packet types (an existing route is widened by governance when it lacks one).
   */
  async ensureRoute(a: string, b: string, routeId: string, packetTypes: PacketType[], rateLimit = { maxPackets: 10_000, windowMs: 60_000 }): Promise<{ steps: string[] }> {
    const steps: string[] = [];
    const ids = { [a]: await this.chainId(a), [b]: await this.chainId(b) };
    for (const ch of [a, b]) {
      if ((await this.headEpoch(ch)) === 0) {
        await this.govern(ch, { kind: 'set-node-list', list: nodeListFor(ch, ids[ch] ?? ch, 1) });
        steps.push(`${ch}: node list set (epoch 1)`);
      }
    }
    for (const [on, remote] of [
      [b, a],
      [a, b],
    ] as const) {
      const head = await this.nodeList(remote);
      if (!head) throw new ClientError('INTERNAL', 'other', `${remote} has no node list`);
      const remoteId = ids[remote] ?? remote;
      if ((await this.knownEpoch(on, remoteId)) < head.epoch) {
        await this.govern(on, { kind: 'register-remote', chainId: remoteId, orgs: trustOf(remote), nodeList: head.list, schemes: ['fabric-endorsement'] });
        steps.push(`${on}: trusts ${remoteId} at epoch ${head.epoch}`);
      }
    }
    for (const [ch, counterparty] of [
      [a, ids[b] ?? b],
      [b, ids[a] ?? a],
    ] as const) {
      const r = await this.route(ch, routeId);
      if (!r) {
        await this.govern(ch, { kind: 'open-route', routeId, counterparty, packetTypes, rateLimit });
        steps.push(`${ch}: route ${routeId} opened to ${counterparty}`);
      } else {
        if (r.status === 'paused') {
          await this.govern(ch, { kind: 'resume-route', routeId });
          steps.push(`${ch}: route ${routeId} resumed`);
        }
        // A route opened for fewer packet types is widened, never narrowed (its rate limit kept).
        const missing = packetTypes.filter((t) => !r.packetTypes.includes(t));
        if (missing.length > 0) {
          await this.govern(ch, { kind: 'update-route', routeId, packetTypes: [...(r.packetTypes as PacketType[]), ...missing], rateLimit: r.rateLimit });
          steps.push(`${ch}: route ${routeId} now carries ${missing.join(', ')}`);
        }
      }
    }
    return { steps };
  }

  close(): void {
    for (const c of this.admins.values()) c.close();
    this.admins.clear();
  }
}
