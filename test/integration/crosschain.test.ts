/**
 * Cross-chain on the real network (net1): chain-a = HospitalA + HospitalC, chain-b =
 * HospitalB + HospitalC. Governance (admins of all member orgs) sets each chain's list
 * and registers the other chain; a ping sent on chain-a is proven to chain-b with real
 * endorsements of chain-a's peers, applied there, and acknowledged on chain-a with real
 * endorsements of chain-b's peers. Then chain-a alone rotates its list, and chain-b
 * accepts the next packet through the epoch link, with no governance on chain-b. Last, a
 * patient's grant and its packet go in one transaction (CrossChain:GrantAndSend).
 */
import { dirname, join } from 'node:path';
import type { Profile } from '../../gateway/src/fabric/profile';
import type { VerificationNodeList } from '@medbridge/chaincode';
import { Connections, firstPem, govern, nodeListOf, remoteChainOf, trustOf, type Chain } from './support/chain-ops';
import { acknowledgeLeg, receiveLeg } from './support/proofs';
import { ConsentService } from '../../gateway/src/services/consent-service';
import { generatePatientKey } from '../../gateway/src/services/patient-keys';

const run = Date.now().toString(36);
const ROUTE = `route-it-${run}`;
const connections = new Connections();

function peerDir(tlsRootCert: string): string {
  return dirname(dirname(tlsRootCert));
}

function nodesOf(p: Profile, peerIndexes: number[]) {
  return peerIndexes.map((i) => {
    const peer = p.peers[i]!;
    return { nodeId: peer.name, mspId: p.mspId, certPem: firstPem(join(peerDir(peer.tlsRootCert), 'msp', 'signcerts')) };
  });
}

function listFor(chain: Chain, epoch: number, peerIndexes: number[]): VerificationNodeList {
  return {
    chainId: chain.channel,
    epoch,
    rule: { kind: 'all' },
    subgroups: chain.orgs.map((p) => ({ id: `sg-${p.mspId}`, mspId: p.mspId, threshold: 1, nodes: nodesOf(p, peerIndexes) })),
  };
}

async function headEpoch(c: Chain): Promise<number> {
  return (await nodeListOf(c))?.epoch ?? 0;
}

/** The epoch of `remote` that `on` knows (0 before it registered `remote`). */
async function knownEpoch(on: Chain, remote: string): Promise<number> {
  return (await remoteChainOf(on, remote))?.epoch ?? 0;
}

describe('cross-chain packets on the real network', () => {
  let a: Chain;
  let b: Chain;

  beforeAll(() => {
    a = connections.chain('chain-a', ['HospitalA', 'HospitalC']);
    b = connections.chain('chain-b', ['HospitalB', 'HospitalC']);
  });
  afterAll(() => connections.close());

  it('delivers a ping from chain-a to chain-b, acknowledges it, and follows a rotation of chain-a through an epoch link', async () => {
    // Each chain's own list (only if it has none yet: the network outlives test runs).
    for (const c of [a, b]) {
      if ((await headEpoch(c)) === 0) await govern(c, { kind: 'set-node-list', list: listFor(c, 1, [0, 1]) });
    }
    // Each chain trusts the other at its current list.
    for (const [on, remote] of [[b, a], [a, b]] as const) {
      const epoch = await headEpoch(remote);
      const { list } = await remote.cc.crossChain.getNodeList();
      const known = await knownEpoch(on, remote.channel);
      if (known < epoch) {
        await govern(on, { kind: 'register-remote', chainId: remote.channel, orgs: trustOf(remote), nodeList: list, schemes: ['fabric-endorsement'] });
      }
    }
    for (const [c, counterparty] of [[a, 'chain-b'], [b, 'chain-a']] as const) {
      await govern(c, { kind: 'open-route', routeId: ROUTE, counterparty, packetTypes: ['ping'], rateLimit: { maxPackets: 100, windowMs: 60_000 } });
    }

    // 1. ping on chain-a, proven by chain-a's peers, applied on chain-b.
    const { result: sent } = await a.cc.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run } });
    expect(sent.sequence).toBe(1);
    const { built, result: received } = await receiveLeg(a, b, ROUTE, sent.packet);
    expect((built.proof.signatures as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect(received).toMatchObject({ outcome: 'success', sequence: 1 });
    expect(received.ack.result).toEqual({ pong: { run } });

    // 2. acknowledged on chain-a with chain-b's peers' endorsements.
    const { result: acked } = await acknowledgeLeg(a, b, ROUTE, 1);
    expect(acked).toMatchObject({ status: 'acknowledged', sequence: 1 });
    expect((await a.cc.crossChain.getPacket(ROUTE, 1)).status).toBe('acknowledged');

    // 3. chain-a rotates its list by its own governance; chain-b does nothing.
    const before = await knownEpoch(b, 'chain-a');
    const next = (await headEpoch(a)) + 1;
    await govern(a, { kind: 'set-node-list', list: listFor(a, next, next % 2 === 0 ? [0] : [0, 1]) });
    const { result: sent2 } = await a.cc.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run, n: 2 } });
    const { built: built2, result: received2 } = await receiveLeg(a, b, ROUTE, sent2.packet, { knownEpoch: before });
    expect(built2.proof.epoch).toBe(next);
    expect(built2.proof.links.map((l) => l.toEpoch)).toEqual(Array.from({ length: next - before }, (_, i) => before + i + 1));
    expect(received2).toMatchObject({ outcome: 'success', sequence: 2, epoch: next });
    expect(await knownEpoch(b, 'chain-a')).toBe(next);
  });

  it('stores a grant and sends its packet in one transaction (GrantAndSend): proven to chain-b, usable there, acknowledged on chain-a', async () => {
    const route = `${ROUTE}-grant`;
    for (const [c, counterparty] of [[a, 'chain-b'], [b, 'chain-a']] as const) {
      await govern(c, { kind: 'open-route', routeId: route, counterparty, packetTypes: ['consent.grant'], rateLimit: { maxPackets: 100, windowMs: 60_000 } });
    }
    const consents = new ConsentService(a.cc);
    const patient = generatePatientKey();
    await consents.registerPatient(patient);
    const shared = await consents.grantAndShare(patient, patient.patientId, { grantee: 'HospitalBMSP', categories: ['Observation'], purposes: ['TREAT'], days: 30 }, 'chain-b', route);
    expect(shared.result.consent).toMatchObject({ consentId: shared.consentId, status: 'active' });
    expect(shared.result.sent).toMatchObject({ routeId: route, sequence: 1, packet: { type: 'consent.grant' } });
    expect((await consents.getConsent(shared.consentId)).status).toBe('active');
    expect((await a.cc.crossChain.getPacket(route, 1)).status).toBe('sent');

    const { result: received } = await receiveLeg(a, b, route, shared.result.sent.packet);
    expect(received).toMatchObject({ outcome: 'success', sequence: 1 });
    expect((await new ConsentService(b.cc).checkRemoteConsent('chain-a', shared.consentId, 'TREAT')).allowed).toBe(true);
    const { result: acked } = await acknowledgeLeg(a, b, route, 1);
    expect(acked).toMatchObject({ status: 'acknowledged', sequence: 1 });
  });
});
