/**
 * Retired keys and the trusting period. Keys rotated out of a source's list can sign a fake
 * next epoch for a destination that never saw the real link. The destination follows a link
 * only from a known epoch adopted less than a trusting period ago; the period is shorter than
 * the time the source keeps retired keys slashable, so a fork signed by retired keys is either
 * refused or made while its signers still have stake to lose.
 */
import { epochLinkMessage, packetMessage } from '../../../chaincode/src/protocol/commitment';
import { listHash, parseNodeList } from '../../../chaincode/src/protocol/node-list';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import type { EpochLink } from '../../../chaincode/src/protocol/proof';
import { expectRejected, ROUTE, TwoChains } from '../crosschain/harness';
import { nodeList, proofOf, signatureSet, type TestNode } from '../crosschain/support';

const DAY = 86_400_000;
const POLICY = { minSubgroups: 1, minRequired: 1, minThreshold: 1, maxReplacedBps: 10000, trustingPeriodMs: 1 * DAY, retiredKeysSlashableMs: 2 * DAY };

describe('trusting period', () => {
  let t: TwoChains;
  let a0: TestNode;
  let a1: TestNode;
  let c0: TestNode;
  let c1: TestNode;

  beforeEach(async () => {
    t = await (await TwoChains.create()).setup();
    [a0, a1] = t.a.chain.nodes[0] as [TestNode, TestNode];
    [c0, c1] = t.a.chain.nodes[1] as [TestNode, TestNode];
    await t.govern(t.b, { kind: 'set-remote-policy', chainId: 'chain-a', policy: POLICY });
  });

  /**
   * The attack: epoch 1 keys (a0, c0), retired by a real rotation B never saw, sign a fake
   * epoch 2 that names only a0, and a0 signs a forged packet under it.
   */
  function forkByRetiredKeys(): { packet: Packet; proof: unknown } {
    const fake = parseNodeList(nodeList(t.a.chain, 2, { nodes: [[a0]] }));
    const message = epochLinkMessage({ chainId: 'chain-a', fromEpoch: 1, toEpoch: 2, fromListHash: listHash(t.a.lists.get(1)!), newListHash: listHash(fake) });
    const link: EpochLink = { chainId: 'chain-a', fromEpoch: 1, toEpoch: 2, newList: fake, proof: signatureSet([a0, c0], message) };
    const packet: Packet = {
      sourceChain: 'chain-a',
      destChain: 'chain-b',
      routeId: ROUTE,
      sequence: 1,
      type: 'ping',
      payload: { forged: true },
      timeoutMs: t.now + 30 * DAY,
      sentAtMs: t.now,
      sender: 'HospitalAMSP',
    };
    return { packet, proof: proofOf(2, [a0], packetMessage(packet, { epoch: 2, listHash: listHash(fake) }), [link]) };
  }

  async function rotateForReal(): Promise<void> {
    // The real epoch 2 retires a0 and c0.
    await t.setList(t.a, nodeList(t.a.chain, 2, { nodes: [[a1], [c1]] }));
  }

  it('refuses a fake next epoch signed by retired keys once the trusting period has passed', async () => {
    await rotateForReal();
    t.tick(POLICY.trustingPeriodMs);
    const { packet, proof } = forkByRetiredKeys();
    await expectRejected(t.b.ledger, 'TRUSTING_PERIOD_EXPIRED', () => t.receive(packet, proof));
  });

  it('within the period follows even the fork: the bound is that its signers are still slashable', async () => {
    await rotateForReal();
    t.tick(POLICY.trustingPeriodMs - 60_000);
    const { packet, proof } = forkByRetiredKeys();
    expect((await t.receive(packet, proof)).outcome).toBe('success');
    // a0 and c0 left the list less than a trusting period ago: their stake stays slashable
    // for retiredKeysSlashableMs after that, longer than this window.
    expect(POLICY.trustingPeriodMs).toBeLessThan(POLICY.retiredKeysSlashableMs);
  });

  it('refuses the real link as well after the period: the destination needs its governance', async () => {
    await rotateForReal();
    const packet = await t.sendPing({ n: 1 }, 29 * DAY);
    t.tick(POLICY.trustingPeriodMs);
    const proof = t.proof(await t.packetCommitment(packet.sequence), { signers: [a1, c1], epoch: 2, links: [await t.link(2, [a0, c0])] });
    await expectRejected(t.b.ledger, 'TRUSTING_PERIOD_EXPIRED', () => t.receive(packet, proof));
    // Governance vouches for the current list; the period starts again and no link is needed.
    const remote = JSON.parse(await t.b.ledger.invoke({ identity: t.b.user, timeMs: t.now }, (ctx) => t.cc.GetRemoteChain(ctx, 'chain-a'))) as { orgs: unknown[] };
    await t.govern(t.b, { kind: 'register-remote', chainId: 'chain-a', orgs: remote.orgs, nodeList: t.a.lists.get(2), schemes: ['fabric-endorsement'] });
    const direct = t.proof(await t.packetCommitment(packet.sequence), { signers: [a1, c1], epoch: 2 });
    expect((await t.receive(packet, direct)).outcome).toBe('success');
  });

  it('follows a link from a known epoch adopted within the period', async () => {
    await rotateForReal();
    const packet = await t.sendPing({ n: 1 }, 29 * DAY);
    t.tick(POLICY.trustingPeriodMs - 60_000);
    const proof = t.proof(await t.packetCommitment(packet.sequence), { signers: [a1, c1], epoch: 2, links: [await t.link(2, [a0, c0])] });
    expect((await t.receive(packet, proof)).outcome).toBe('success');
  });

  it('keeps accepting proofs of the known epoch itself after the period (the period bounds links only)', async () => {
    const packet = await t.sendPing({ n: 1 }, 29 * DAY);
    t.tick(POLICY.trustingPeriodMs * 3);
    expect((await t.receive(packet, t.proof(await t.packetCommitment(packet.sequence)))).outcome).toBe('success');
  });

  it('states a trusting period shorter than the slashable period by default', async () => {
    const fresh = await (await TwoChains.create()).setup();
    const remote = JSON.parse(await fresh.b.ledger.invoke({ identity: fresh.b.user, timeMs: fresh.now }, (ctx) => fresh.cc.GetRemoteChain(ctx, 'chain-a'))) as {
      policy: typeof POLICY;
    };
    expect(remote.policy.trustingPeriodMs).toBe(7 * DAY);
    expect(remote.policy.retiredKeysSlashableMs).toBe(14 * DAY);
  });
});
