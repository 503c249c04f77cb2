/**
 * Only a node's own org stakes it. An org that deposits a stake for a node of another org
 * before the node is listed neither gets the node listed on its stake nor collects the
 * node's rewards, and cannot move the node's reward account.
 */
import type { Context } from 'fabric-contract-api';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { isSignerStaked, registerIncentiveHooks, requireCurrentListStaked } from '../../../chaincode/src/contracts/incentive-hooks';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import type { FakeIdentity } from '../support/fake-ledger';
import { expectRejected, TwoChains } from '../crosschain/harness';
import { firstOfEach, nodeList, signatureSet } from '../crosschain/support';
import { balanceOf, circulating, escrows, stakes, supply } from '../incentives/support';

const inc = new IncentiveContract();
const A = 'HospitalAMSP';
const C = 'HospitalCMSP';
const S = DEFAULT_PARAMS.minStake;

async function on<T>(t: TwoChains, who: FakeIdentity, fn: (ctx: Context) => Promise<T>): Promise<T> {
  return t.a.ledger.invoke({ identity: who, timeMs: t.tick() }, fn);
}

/** Chain A bootstrapped (no list yet), both orgs funded by governance; value transfer still off. */
async function fundedChains(): Promise<TwoChains> {
  const t = await TwoChains.create({ peersPerOrg: 1 });
  await t.bootstrap(t.a);
  await t.bootstrap(t.b);
  for (const org of [A, C]) for (const admin of t.a.admins) await on(t, admin, (ctx) => inc.Mint(ctx, `org:${org}`, String(10 * S), `seed ${org}`));
  return t;
}

async function valueOn(t: TwoChains): Promise<void> {
  for (const admin of t.a.admins) await on(t, admin, (ctx) => inc.SetParams(ctx, JSON.stringify(DEFAULT_PARAMS), 'on'));
}

describe('stake squatting', () => {
  it('refuses a list that adds a node whose stake another org deposited before it was listed (INSUFFICIENT_STAKE), changing nothing', async () => {
    const t = await fundedChains();
    await valueOn(t);
    const [aNode] = t.a.chain.nodes[0]!;
    const [cNode] = t.a.chain.nodes[1]!;
    // HospitalC stakes its own node and, before it is listed, HospitalA's node too.
    await on(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, cNode!.nodeId, String(S)));
    const squat = JSON.parse(await on(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, aNode!.nodeId, String(S))));
    expect(squat.stake).toMatchObject({ nodeId: aNode!.nodeId, ownerMspId: C, bonded: S });
    // Governance lists HospitalA's node under HospitalA: refused, the list head does not move.
    const list = nodeList(t.a.chain, 1);
    await expectRejected(t.a.ledger, 'INSUFFICIENT_STAKE', () => on(t, t.a.admins[0]!, (ctx) => t.gov.Propose(ctx, JSON.stringify({ kind: 'set-node-list', list }))));
    await expect(on(t, t.a.user, (ctx) => t.cc.GetNodeList(ctx, ''))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // HospitalC's own node, staked by its own org, is listable on its own.
    const full = nodeList(t.a.chain, 1);
    await t.setList(t.a, { ...full, subgroups: full.subgroups.filter((g) => g.mspId === C) });
    expect(await on(t, t.a.user, (ctx) => isSignerStaked(ctx, cNode!.nodeId))).toBe(true);
  });

  it('never counts or pays a foreign stake of a node listed while value transfer was off, and the squatter cannot move its rewards', async () => {
    registerIncentiveHooks();
    const t = await fundedChains();
    const [aNode] = t.a.chain.nodes[0]!;
    const [cNode] = t.a.chain.nodes[1]!;
    await on(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, aNode!.nodeId, String(S)));
    await on(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, cNode!.nodeId, String(S)));
    // Lists, remotes and route set up while value transfer is off (no stake checks then).
    await t.setList(t.a, nodeList(t.a.chain, 1));
    await t.setList(t.b, nodeList(t.b.chain, 1));
    await t.register(t.b, t.a);
    await t.register(t.a, t.b);
    await t.openRoute(t.a, 'chain-b');
    await t.openRoute(t.b, 'chain-a');
    await valueOn(t);

    expect(await on(t, t.a.user, (ctx) => isSignerStaked(ctx, aNode!.nodeId))).toBe(false);
    expect(await on(t, t.a.user, (ctx) => isSignerStaked(ctx, cNode!.nodeId))).toBe(true);
    await expect(on(t, t.a.user, (ctx) => requireCurrentListStaked(ctx))).rejects.toMatchObject({ code: 'INSUFFICIENT_STAKE' });

    // A packet signed by both orgs' nodes: only HospitalC's own node is paid; HospitalA's
    // node's stake is HospitalC's claim, so the pool is shared by the one rightful signer.
    const { packet, result } = await t.deliverPing({ n: 1 });
    expect((result.ack as { packetSigners?: string[] }).packetSigners).toEqual([aNode!.nodeId, cNode!.nodeId]);
    const ackProof = { ...signatureSet(firstOfEach(t.b.chain), await t.ackCommitment(packet.sequence)), epoch: 1, links: [] };
    await on(t, t.a.user, (ctx) => t.cc.AcknowledgePacket(ctx, JSON.stringify(result.ack), JSON.stringify(ackProof)));
    const pool = Math.floor((DEFAULT_PARAMS.minFee * DEFAULT_PARAMS.signerShareBps) / 10_000);
    expect(escrows(t.a.ledger)[0]).toMatchObject({
      status: 'paid',
      payouts: [
        { account: `node:${cNode!.nodeId}`, amount: pool },
        { account: `org:${A}`, amount: DEFAULT_PARAMS.minFee - pool },
      ],
    });
    expect(balanceOf(t.a.ledger, `node:${aNode!.nodeId}`)).toBe(0);
    expect(circulating(t.a.ledger)).toBe(supply(t.a.ledger).total);

    // The reward account of HospitalA's listed node is HospitalA's, not the squatter's.
    await on(t, t.a.admins[0]!, (ctx) => inc.Transfer(ctx, `org:${A}`, `node:${aNode!.nodeId}`, '5'));
    await expectRejected(t.a.ledger, 'UNAUTHORIZED', () => on(t, t.a.admins[1]!, (ctx) => inc.Transfer(ctx, `node:${aNode!.nodeId}`, `org:${C}`, '5')));
    await on(t, t.a.admins[0]!, (ctx) => inc.Transfer(ctx, `node:${aNode!.nodeId}`, `org:${A}`, '5'));
    // And the squatter cannot add to the claim on a listed node of another org.
    await expectRejected(t.a.ledger, 'UNAUTHORIZED', () => on(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, aNode!.nodeId, '1')));
    expect(stakes(t.a.ledger).find((s) => s.nodeId === aNode!.nodeId)).toMatchObject({ ownerMspId: C, bonded: S });
  });

  it('accepts a list whose nodes are staked by their own orgs', async () => {
    const t = await fundedChains();
    await valueOn(t);
    const [aNode] = t.a.chain.nodes[0]!;
    const [cNode] = t.a.chain.nodes[1]!;
    await on(t, t.a.admins[0]!, (ctx) => inc.Deposit(ctx, aNode!.nodeId, String(S)));
    await on(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, cNode!.nodeId, String(S)));
    await t.setList(t.a, nodeList(t.a.chain, 1));
    expect(await on(t, t.a.user, (ctx) => isSignerStaked(ctx, aNode!.nodeId))).toBe(true);
  });
});
