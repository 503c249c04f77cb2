/**
 * The destination's trust floor on the real network (net1: chain-a = HospitalA + HospitalC,
 * chain-b = HospitalB + HospitalC). chain-b's governance sets a floor for chain-a; chain-a's
 * own governance shrinks its list to one node of one org; the epoch link that chain-a's current
 * threshold signs (real endorsements of chain-a's peers) is refused on chain-b's peers with
 * TRUST_FLOOR_VIOLATED and nothing changes there; chain-b's governance then adopts the list
 * itself. Afterwards chain-a's list and chain-b's policy are put back for the other suites.
 */
import { dirname, join } from 'node:path';
import type { Profile } from '../../gateway/src/fabric/profile';
import { orAbsent } from '../../gateway/src/fabric/contracts';
import { buildPacketProof } from '../../gateway/src/proofs';
import { DEFAULT_TRUST_POLICY, type VerificationNodeList } from '@medbridge/chaincode';
import { codeOf, Connections, firstPem, govern, sourceOf, trustOf, type Chain } from './support/chain-ops';

const run = Date.now().toString(36);
const ROUTE = `route-sec-${run}`;
const DAY = 86_400_000;
const FLOOR = { minSubgroups: 2, minRequired: 2, minThreshold: 1, maxReplacedBps: 10000, trustingPeriodMs: 7 * DAY, retiredKeysSlashableMs: 14 * DAY };
const connections = new Connections();

function mspDir(p: Profile, i: number, sub: string): string {
  return join(dirname(dirname(p.peers[i]!.tlsRootCert)), 'msp', sub);
}

function firstList(c: Chain): VerificationNodeList {
  return {
    chainId: c.channel,
    epoch: 1,
    rule: { kind: 'all' },
    subgroups: c.orgs.map((p) => ({
      id: `sg-${p.mspId}`,
      mspId: p.mspId,
      threshold: 1,
      nodes: p.peers.slice(0, 2).map((peer, i) => ({ nodeId: peer.name, mspId: p.mspId, certPem: firstPem(mspDir(p, i, 'signcerts')) })),
    })),
  };
}

async function currentList(c: Chain): Promise<VerificationNodeList | undefined> {
  return (await orAbsent(c.cc.crossChain.getNodeList()))?.list;
}

async function remoteOn(on: Chain, remote: string) {
  return orAbsent(on.cc.crossChain.getRemoteChain(remote), ['UNKNOWN_CHAIN']);
}

describe('trust floor on the real network', () => {
  let a: Chain;
  let b: Chain;

  beforeAll(() => {
    a = connections.chain('chain-a', ['HospitalA', 'HospitalC']);
    b = connections.chain('chain-b', ['HospitalB', 'HospitalC']);
  });
  afterAll(() => connections.close());

  it("refuses a link shrinking chain-a below chain-b's floor, which chain-b's governance set; chain-b's governance can adopt the list itself", async () => {
    // Lists and registrations as the other suites leave them (the network outlives test runs).
    for (const c of [a, b]) if (!(await currentList(c))) await govern(c, { kind: 'set-node-list', list: firstList(c) });
    for (const [on, remote] of [[b, a], [a, b]] as const) {
      const list = (await currentList(remote))!;
      if (((await remoteOn(on, remote.channel))?.epoch ?? 0) < list.epoch) {
        await govern(on, { kind: 'register-remote', chainId: remote.channel, orgs: trustOf(remote), nodeList: list, schemes: ['fabric-endorsement'] });
      }
    }
    for (const [c, counterparty] of [[a, 'chain-b'], [b, 'chain-a']] as const) {
      await govern(c, { kind: 'open-route', routeId: ROUTE, counterparty, packetTypes: ['ping'], rateLimit: { maxPackets: 100, windowMs: 60_000 } });
    }

    // chain-b's governance sets the floor: two orgs, both required.
    await govern(b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: FLOOR });
    expect((await remoteOn(b, 'chain-a'))!.policy).toEqual(FLOOR);

    const before = (await currentList(a))!;
    const first = before.subgroups[0]!;
    const shrunk: VerificationNodeList = {
      chainId: 'chain-a',
      epoch: before.epoch + 1,
      rule: { kind: 'all' },
      subgroups: [{ ...first, threshold: 1, nodes: [first.nodes[0]!] }],
    };
    try {
      // chain-a's own governance (both of its orgs) shrinks its list to one node of one org.
      await govern(a, { kind: 'set-node-list', list: shrunk });
      const sent = (await a.cc.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run } })).result;
      const known = (await remoteOn(b, 'chain-a'))!.epoch;
      const built = await buildPacketProof(sourceOf(a), ROUTE, sent.sequence, known);
      expect(built.proof.links.at(-1)?.newList.subgroups.length).toBe(1);

      const code = await codeOf(b.cc.crossChain.receivePacket(sent.packet, built.proof));
      expect(code).toBe('TRUST_FLOOR_VIOLATED');
      expect((await remoteOn(b, 'chain-a'))!.epoch).toBe(known);
      expect(await codeOf(b.cc.crossChain.getReceipt(ROUTE, sent.sequence))).toBe('NOT_FOUND');
      expect((await b.cc.crossChain.getRoute(ROUTE)).nextRecvSequence).toBe(sent.sequence);

      // chain-b's governance adopts the shrunk list itself; the floor stays in force.
      const orgs = (await remoteOn(b, 'chain-a'))!.orgs;
      await govern(b, { kind: 'register-remote', chainId: 'chain-a', orgs, nodeList: shrunk, schemes: ['fabric-endorsement'] });
      const direct = await buildPacketProof(sourceOf(a), ROUTE, sent.sequence, shrunk.epoch);
      expect(direct.proof.links).toEqual([]);
      const { result: received } = await b.cc.crossChain.receivePacket(sent.packet, direct.proof);
      expect(received).toMatchObject({ outcome: 'success', sequence: sent.sequence, epoch: shrunk.epoch });
      expect((await remoteOn(b, 'chain-a'))!.policy).toEqual(FLOOR);
    } finally {
      // Leave the network as the other suites expect it: chain-b follows chain-a's links again,
      // and chain-a's list has its previous nodes at the next epoch.
      await govern(b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: DEFAULT_TRUST_POLICY });
      const head = (await currentList(a))!;
      if (head.subgroups.length !== before.subgroups.length) await govern(a, { kind: 'set-node-list', list: { ...before, epoch: head.epoch + 1 } });
    }
  });
});
