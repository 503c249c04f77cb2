/**
 * Slashing evidence verified with the protocol module against chain A's own node list,
 * with real (synthetic) Fabric endorsements; and the fee lifecycle through the real
 * CrossChain contract with the incentive hooks registered.
 */
import type { Context } from 'fabric-contract-api';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import {
  isSignerStaked,
  nodesMarkedForRemoval,
  registerIncentiveHooks,
  requireCurrentListStaked,
  requireListStaked,
} from '../../../chaincode/src/contracts/incentive-hooks';
import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { listHash } from '../../../chaincode/src/protocol/node-list';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import type { FakeIdentity } from '../support/fake-ledger';
import { expectRejected, ROUTE, TwoChains } from '../crosschain/harness';
import { firstOfEach, signatureSet, type TestNode } from '../crosschain/support';
import { balanceOf, circulating, escrows, supply } from './support';

const inc = new IncentiveContract();
const A = 'HospitalAMSP';
const C = 'HospitalCMSP';
const S = DEFAULT_PARAMS.minStake;

async function run<T>(t: TwoChains, who: FakeIdentity, fn: (ctx: Context) => Promise<T>): Promise<T> {
  return t.a.ledger.invoke({ identity: who, timeMs: t.tick() }, fn);
}

/** Chain A with value transfer on, HospitalA funded, and its first node (peer0 of A) staked. */
async function valueChain(): Promise<{ t: TwoChains; node: TestNode; cNode: TestNode }> {
  const chains = await TwoChains.create();
  await chains.setup();
  for (const admin of chains.a.admins) await run(chains, admin, (ctx) => inc.SetParams(ctx, JSON.stringify(DEFAULT_PARAMS), 'p'));
  for (const admin of chains.a.admins) await run(chains, admin, (ctx) => inc.Mint(ctx, `org:${A}`, String(10 * S), 'seed'));
  for (const admin of chains.a.admins) await run(chains, admin, (ctx) => inc.Mint(ctx, `org:${C}`, String(10 * S), 'seed'));
  const node = chains.a.chain.nodes[0]![0]!;
  const cNode = chains.a.chain.nodes[1]![0]!;
  await run(chains, chains.a.admins[0]!, (ctx) => inc.Deposit(ctx, node.nodeId, String(S)));
  await run(chains, chains.a.admins[1]!, (ctx) => inc.Deposit(ctx, cNode.nodeId, String(S)));
  return { t: chains, node, cNode };
}

function packetOf(t: TwoChains, sequence: number, payload: unknown): Packet {
  return {
    sourceChain: 'chain-a',
    destChain: 'chain-b',
    routeId: ROUTE,
    sequence,
    type: 'ping',
    payload: payload as Packet['payload'],
    timeoutMs: t.now + 3_600_000,
    sentAtMs: t.now,
    sender: A,
  };
}

/** A signed commitment of `signers` over `packet`, bound to chain A's list at epoch 1. */
function signed(t: TwoChains, packet: Packet, signers: TestNode[]): unknown {
  const list = t.a.lists.get(1)!;
  const message = packetMessage(packet, { epoch: 1, listHash: listHash(list) });
  return { packet, epoch: 1, proof: signatureSet(signers, message) };
}

describe('slashing evidence on the real protocol verification', () => {
  it('slashes a node that signed two different packets for one route and sequence, pays the reporter, marks it for removal', async () => {
    const { t, node } = await valueChain();
    const evidence = { kind: 'conflict', nodeId: node.nodeId, a: signed(t, packetOf(t, 1, { n: 1 }), [node]), b: signed(t, packetOf(t, 1, { n: 2 }), [node]) };
    const reporterBefore = balanceOf(t.a.ledger, `org:${C}`);
    const record = JSON.parse(await run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(evidence))));
    expect(record).toMatchObject({ kind: 'conflict', nodeId: node.nodeId, amount: S, reporterMspId: C, reporterReward: S / 10, treasuryAmount: S - S / 10 });
    expect(balanceOf(t.a.ledger, `org:${C}`)).toBe(reporterBefore + S / 10);
    expect(balanceOf(t.a.ledger, 'treasury')).toBe(S - S / 10);
    expect(await run(t, t.a.user, (ctx) => isSignerStaked(ctx, node.nodeId))).toBe(false);
    expect(await run(t, t.a.user, (ctx) => nodesMarkedForRemoval(ctx))).toEqual([node.nodeId]);
    expect(t.a.ledger.events.at(-1)?.name).toBe('NodeSlashed');
    expect(circulating(t.a.ledger)).toBe(supply(t.a.ledger).total);
  });

  it('slashes a node that signed a packet its chain never sent', async () => {
    const { t, node } = await valueChain();
    const evidence = { kind: 'uncommitted', nodeId: node.nodeId, signed: signed(t, packetOf(t, 7, { forged: true }), [node]) };
    const record = JSON.parse(await run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(evidence))));
    expect(record).toMatchObject({ kind: 'uncommitted', nodeId: node.nodeId, sequence: 7 });
  });

  it('rejects a signature over the packet the chain really sent (EVIDENCE_INVALID), changing nothing', async () => {
    const { t, node } = await valueChain();
    const sent = await t.sendPing({ n: 1 });
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () =>
      run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify({ kind: 'uncommitted', nodeId: node.nodeId, signed: signed(t, sent, [node]) }))),
    );
  });

  it('rejects two signatures over the same packet, a tampered packet, and another node\'s signature (EVIDENCE_INVALID)', async () => {
    const { t, node, cNode } = await valueChain();
    const p1 = packetOf(t, 1, { n: 1 });
    const same = { kind: 'conflict', nodeId: node.nodeId, a: signed(t, p1, [node]), b: signed(t, p1, [node]) };
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () => run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(same))));
    const tampered = signed(t, p1, [node]) as { packet: Packet };
    const forged = { kind: 'conflict', nodeId: node.nodeId, a: signed(t, p1, [node]), b: { ...tampered, packet: { ...p1, payload: { n: 2 } } } };
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () => run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(forged))));
    const otherNode = { kind: 'conflict', nodeId: node.nodeId, a: signed(t, p1, [node]), b: signed(t, packetOf(t, 1, { n: 2 }), [cNode]) };
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () => run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(otherNode))));
  });

  it('rejects evidence about packets of another chain and malformed evidence (EVIDENCE_INVALID)', async () => {
    const { t, node } = await valueChain();
    const foreign = { ...packetOf(t, 1, { n: 1 }), sourceChain: 'chain-b', destChain: 'chain-a' };
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () =>
      run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify({ kind: 'uncommitted', nodeId: node.nodeId, signed: signed(t, foreign, [node]) }))),
    );
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () => run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, '{"kind":"conflict"}')));
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () => run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, 'not json')));
  });

  it('slashes a node once (ALREADY_SLASHED)', async () => {
    const { t, node } = await valueChain();
    const evidence = { kind: 'conflict', nodeId: node.nodeId, a: signed(t, packetOf(t, 1, { n: 1 }), [node]), b: signed(t, packetOf(t, 1, { n: 2 }), [node]) };
    await run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(evidence)));
    const again = { ...evidence, b: signed(t, packetOf(t, 1, { n: 3 }), [node]) };
    await expectRejected(t.a.ledger, 'ALREADY_SLASHED', () => run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(again))));
  });
});

describe('fees through the real CrossChain contract', () => {
  it('escrows the minimum fee on SendPacket and splits it on AcknowledgePacket; the relayer org gets its share', async () => {
    registerIncentiveHooks();
    const { t } = await valueChain();
    const before = balanceOf(t.a.ledger, `org:${A}`);
    const { packet, result } = await t.deliverPing({ n: 1 });
    expect(escrows(t.a.ledger)).toEqual([expect.objectContaining({ routeId: ROUTE, sequence: packet.sequence, amount: DEFAULT_PARAMS.minFee, status: 'held' })]);
    expect(balanceOf(t.a.ledger, `org:${A}`)).toBe(before - DEFAULT_PARAMS.minFee);
    const ackProof = { ...signatureSet(firstOfEach(t.b.chain), await t.ackCommitment(packet.sequence)), epoch: 1, links: [] };
    await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.AcknowledgePacket(ctx, JSON.stringify(result.ack), JSON.stringify(ackProof)));
    const escrow = escrows(t.a.ledger)[0]!;
    expect(escrow.status).toBe('paid');
    // The acknowledgement names the chain-A nodes whose signatures chain B accepted in the
    // packet proof; those staked signers share the signer pool, the relayer org the rest.
    expect((result.ack as { packetSigners?: string[] }).packetSigners).toEqual(['peer0.hospitalamsp.chain-a', 'peer0.hospitalcmsp.chain-a']);
    expect(escrow.payouts).toEqual([
      { account: 'node:peer0.hospitalamsp.chain-a', amount: 35 },
      { account: 'node:peer0.hospitalcmsp.chain-a', amount: 35 },
      { account: `org:${A}`, amount: 30 },
    ]);
    expect(circulating(t.a.ledger)).toBe(supply(t.a.ledger).total);
  });
});

describe('stake checks for governance list changes and route opening', () => {
  it('requires every node of a list to be staked, and refuses a list naming a slashed node', async () => {
    const { t, node, cNode } = await valueChain();
    const list = t.a.lists.get(1)!;
    // peer1 of each org holds no stake yet.
    await expect(run(t, t.a.user, (ctx) => requireListStaked(ctx, list))).rejects.toMatchObject({ code: 'INSUFFICIENT_STAKE' });
    await expect(run(t, t.a.user, (ctx) => requireCurrentListStaked(ctx))).rejects.toMatchObject({ code: 'INSUFFICIENT_STAKE' });
    const staked = { ...list, subgroups: list.subgroups.map((s) => ({ ...s, nodes: s.nodes.filter((n) => [node.nodeId, cNode.nodeId].includes(n.nodeId)) })) };
    await run(t, t.a.user, (ctx) => requireListStaked(ctx, staked));
    const evidence = { kind: 'conflict', nodeId: node.nodeId, a: signed(t, packetOf(t, 1, { n: 1 }), [node]), b: signed(t, packetOf(t, 1, { n: 2 }), [node]) };
    await run(t, t.a.admins[1]!, (ctx) => inc.SubmitEvidence(ctx, JSON.stringify(evidence)));
    await expect(run(t, t.a.user, (ctx) => requireListStaked(ctx, staked))).rejects.toThrow(new RegExp(node.nodeId.replace(/\./g, '\\.')));
  });
});
