/**
 * Cross-chain on the real network (net1): chain-a = HospitalA + HospitalC, chain-b =
 * HospitalB + HospitalC. Governance (admins of all member orgs) sets each chain's list
 * and registers the other chain; a ping sent on chain-a is proven to chain-b with real
 * endorsements of chain-a's peers, applied there, and acknowledged on chain-a with real
 * endorsements of chain-b's peers. Then chain-a alone rotates its list, and chain-b
 * accepts the next packet through the epoch link, with no governance on chain-b.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connectOrg, type OrgConnection } from '../../gateway/src/fabric/connection';
import { loadProfile, type Profile } from '../../gateway/src/fabric/profile';
import { buildAckProof, buildPacketProof, type SourceChain } from '../../gateway/src/proofs';
import { evaluate, govern, submit } from './support/chain-ops';

interface Chain {
  channel: string;
  orgs: Profile[];
  admins: OrgConnection[];
  user: OrgConnection;
}

const run = Date.now().toString(36);
const ROUTE = `route-it-${run}`;
const connections: OrgConnection[] = [];

function peerDir(tlsRootCert: string): string {
  return dirname(dirname(tlsRootCert));
}

function firstPem(dir: string): string {
  const f = readdirSync(dir).filter((n) => n.endsWith('.pem')).sort()[0];
  if (!f) throw new Error(`no PEM in ${dir}`);
  return readFileSync(join(dir, f), 'utf8');
}

function nodesOf(p: Profile, peerIndexes: number[]) {
  return peerIndexes.map((i) => {
    const peer = p.peers[i]!;
    return { nodeId: peer.name, mspId: p.mspId, certPem: firstPem(join(peerDir(peer.tlsRootCert), 'msp', 'signcerts')) };
  });
}

function listFor(chain: Chain, epoch: number, peerIndexes: number[]) {
  return {
    chainId: chain.channel,
    epoch,
    rule: { kind: 'all' },
    subgroups: chain.orgs.map((p) => ({ id: `sg-${p.mspId}`, mspId: p.mspId, threshold: 1, nodes: nodesOf(p, peerIndexes) })),
  };
}

function trustOf(chain: Chain) {
  return chain.orgs.map((p) => ({
    mspId: p.mspId,
    rootCerts: [firstPem(join(peerDir(p.peers[0]!.tlsRootCert), 'msp', 'cacerts'))],
    intermediateCerts: [],
    revokedSerials: [],
  }));
}

function connect(p: Profile, identity: 'admin' | 'user'): OrgConnection {
  const c = connectOrg(p, { identity });
  connections.push(c);
  return c;
}

function chain(channel: string, orgs: string[]): Chain {
  const profiles = orgs.map((o) => loadProfile(o));
  return { channel, orgs: profiles, admins: profiles.map((p) => connect(p, 'admin')), user: connect(profiles[0]!, 'user') };
}

async function headEpoch(c: Chain): Promise<number> {
  try {
    return (await evaluate(c, 'CrossChain', 'GetNodeList', '')).epoch as number;
  } catch (e) {
    const err = e as { message?: string; details?: Array<{ message?: string }> };
    const text = [err.message ?? '', ...(err.details ?? []).map((d) => d.message ?? '')].join(' ');
    if (/NOT_FOUND/.test(text)) return 0;
    throw e;
  }
}

async function knownEpoch(on: Chain, remote: string): Promise<number> {
  return (await evaluate(on, 'CrossChain', 'GetRemoteChain', remote)).epoch as number;
}

function source(c: Chain): SourceChain {
  return { channel: c.channel, connection: c.user, peers: c.orgs.flatMap((p) => p.peers) };
}

describe('cross-chain packets on the real network', () => {
  let a: Chain;
  let b: Chain;

  beforeAll(() => {
    a = chain('chain-a', ['HospitalA', 'HospitalC']);
    b = chain('chain-b', ['HospitalB', 'HospitalC']);
  });
  afterAll(() => connections.forEach((c) => c.close()));

  it('delivers a ping from chain-a to chain-b, acknowledges it, and follows a rotation of chain-a through an epoch link', async () => {
    // Each chain's own list (only if it has none yet: the network outlives test runs).
    for (const c of [a, b]) {
      if ((await headEpoch(c)) === 0) await govern(c, { kind: 'set-node-list', list: listFor(c, 1, [0, 1]) });
    }
    // Each chain trusts the other at its current list.
    for (const [on, remote] of [[b, a], [a, b]] as const) {
      const epoch = await headEpoch(remote);
      const { list } = await evaluate(remote, 'CrossChain', 'GetNodeList', '');
      let known = 0;
      try {
        known = await knownEpoch(on, remote.channel);
      } catch {
        known = 0;
      }
      if (known < epoch) {
        await govern(on, { kind: 'register-remote', chainId: remote.channel, orgs: trustOf(remote), nodeList: list, schemes: ['fabric-endorsement'] });
      }
    }
    for (const [c, counterparty] of [[a, 'chain-b'], [b, 'chain-a']] as const) {
      await govern(c, { kind: 'open-route', routeId: ROUTE, counterparty, packetTypes: ['ping'], rateLimit: { maxPackets: 100, windowMs: 60_000 } });
    }

    // 1. ping on chain-a, proven by chain-a's peers, applied on chain-b.
    const sent = await submit(a.user, a.channel, 'CrossChain', 'SendPacket', 'chain-b', 'ping', JSON.stringify({ routeId: ROUTE, payload: { run } }));
    expect(sent.sequence).toBe(1);
    const built = await buildPacketProof(source(a), ROUTE, 1, await knownEpoch(b, 'chain-a'));
    expect((built.proof.signatures as unknown[]).length).toBeGreaterThanOrEqual(2);
    const received = await submit(b.user, b.channel, 'CrossChain', 'ReceivePacket', JSON.stringify(sent.packet), JSON.stringify(built.proof));
    expect(received).toMatchObject({ outcome: 'success', sequence: 1 });
    expect(received.ack.result).toEqual({ pong: { run } });

    // 2. acknowledged on chain-a with chain-b's peers' endorsements.
    const receipt = await evaluate(b, 'CrossChain', 'GetReceipt', ROUTE, '1');
    const ackProof = await buildAckProof(source(b), ROUTE, 1, await knownEpoch(a, 'chain-b'));
    const acked = await submit(a.user, a.channel, 'CrossChain', 'AcknowledgePacket', JSON.stringify(receipt.ack), JSON.stringify(ackProof.proof));
    expect(acked).toMatchObject({ status: 'acknowledged', sequence: 1 });
    expect((await evaluate(a, 'CrossChain', 'GetPacket', ROUTE, '1')).status).toBe('acknowledged');

    // 3. chain-a rotates its list by its own governance; chain-b does nothing.
    const before = await knownEpoch(b, 'chain-a');
    const next = (await headEpoch(a)) + 1;
    await govern(a, { kind: 'set-node-list', list: listFor(a, next, next % 2 === 0 ? [0] : [0, 1]) });
    const sent2 = await submit(a.user, a.channel, 'CrossChain', 'SendPacket', 'chain-b', 'ping', JSON.stringify({ routeId: ROUTE, payload: { run, n: 2 } }));
    const built2 = await buildPacketProof(source(a), ROUTE, sent2.sequence, before);
    expect(built2.proof.epoch).toBe(next);
    expect(built2.proof.links.map((l) => l.toEpoch)).toEqual(Array.from({ length: next - before }, (_, i) => before + i + 1));
    const received2 = await submit(b.user, b.channel, 'CrossChain', 'ReceivePacket', JSON.stringify(sent2.packet), JSON.stringify(built2.proof));
    expect(received2).toMatchObject({ outcome: 'success', sequence: 2, epoch: next });
    expect(await knownEpoch(b, 'chain-a')).toBe(next);
  });
});
