import type { Context } from 'fabric-contract-api';
import type { FakeIdentity } from '../support/fake-ledger';
import { withLedgerCalls } from '../support/ledger-calls';
import {
  isSignerStaked,
  nodesMarkedForRemoval,
  onPacketAcknowledged,
  onPacketSent,
  onPacketTimedOut,
  registerIncentiveHooks,
  requireRouteStakes,
  rewardedSigners,
} from '../../../chaincode/src/contracts/incentive-hooks';
import { runHooks } from '../../../chaincode/src/contracts/crosschain-hooks';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import {
  activate,
  activeStake,
  balanceOf,
  circulating,
  createChannel,
  credits,
  escrows,
  seed,
  supply,
  tx,
  type Channel,
} from './support';

const S = DEFAULT_PARAMS.minStake;
const A = 'HospitalAMSP';
const C = 'HospitalCMSP';

async function expectRejected(ch: Channel, code: string, fn: () => Promise<unknown>): Promise<void> {
  const before = ch.ledger.snapshot();
  const events = ch.ledger.events.length;
  await expect(fn()).rejects.toMatchObject({ code });
  expect(ch.ledger.snapshot()).toEqual(before);
  expect(ch.ledger.events.length).toBe(events);
}

async function activeChannel(): Promise<Channel> {
  const ch = await createChannel();
  await activate(ch, DEFAULT_PARAMS);
  await seed(ch, {
    accounts: [{ id: `org:${A}`, balance: 10_000 }],
    stakes: [activeStake('peer0.a', A, S), activeStake('peer0.c', C, S), activeStake('peer1.c', C, S - 1)],
  });
  return ch;
}

describe('incentive hooks called by the cross-chain contract', () => {
  it('onPacketSent holds the fee in escrow out of the sender org, and emits no event', async () => {
    const ch = await activeChannel();
    const escrow = await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 300 }));
    expect(escrow).toMatchObject({ routeId: 'a-b', sequence: 1, payerMspId: A, amount: 300, status: 'held' });
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(9_700);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
    expect(ch.ledger.events).toEqual([]);
  });

  it('onPacketSent rejects a fee below the minimum or beyond the sender balance, changing nothing', async () => {
    const ch = await activeChannel();
    await expectRejected(ch, 'INSUFFICIENT_FUNDS', () =>
      tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: DEFAULT_PARAMS.minFee - 1 })),
    );
    await expectRejected(ch, 'INSUFFICIENT_FUNDS', () =>
      tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 10_001 })),
    );
    await expectRejected(ch, 'INSUFFICIENT_FUNDS', () =>
      tx(ch, ch.users[1]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: C, fee: 100 })),
    );
  });

  it('onPacketSent refuses a second escrow for the same route and sequence', async () => {
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 100 }));
    await expectRejected(ch, 'ALREADY_EXISTS', () =>
      tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 100 })),
    );
  });

  it('onPacketAcknowledged pays staked signers of the accepted proof and the relayer, exactly the fee', async () => {
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 1_000 }));
    const out = await tx(ch, ch.users[1]!, (ctx) =>
      onPacketAcknowledged(ctx, { routeId: 'a-b', sequence: 1, signerNodeIds: ['peer0.c', 'peer0.a', 'peer1.c', 'peer9.x'], relayerId: C }),
    );
    // pool 700 over the 2 signers with a counting stake (peer1.c is 1 short, peer9.x never staked)
    expect(out?.split.paidSigners).toEqual(['peer0.a', 'peer0.c']);
    expect(out?.split.unpaidSigners).toEqual(['peer1.c', 'peer9.x']);
    expect(balanceOf(ch.ledger, 'node:peer0.a')).toBe(350);
    expect(balanceOf(ch.ledger, 'node:peer0.c')).toBe(350);
    expect(balanceOf(ch.ledger, 'node:peer1.c')).toBe(0);
    expect(balanceOf(ch.ledger, `org:${C}`)).toBe(300);
    expect(escrows(ch.ledger)[0]).toMatchObject({ status: 'paid' });
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
    expect(ch.ledger.events).toEqual([]);
  });

  it('never pays an escrow twice: a second acknowledgement or a timeout after payment is ESCROW_SETTLED', async () => {
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 1_000 }));
    const ack = { routeId: 'a-b', sequence: 1, signerNodeIds: ['peer0.a'], relayerId: C };
    await tx(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, ack));
    await expectRejected(ch, 'ESCROW_SETTLED', () => tx(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, ack)));
    await expectRejected(ch, 'ESCROW_SETTLED', () => tx(ch, ch.users[1]!, (ctx) => onPacketTimedOut(ctx, { routeId: 'a-b', sequence: 1 })));
  });

  it('rejects duplicate signer ids in an acknowledgement, changing nothing', async () => {
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 1_000 }));
    await expectRejected(ch, 'DUPLICATE_SIGNER', () =>
      tx(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, { routeId: 'a-b', sequence: 1, signerNodeIds: ['peer0.a', 'peer0.a'], relayerId: C })),
    );
  });

  it('onPacketTimedOut refunds the whole fee to the sender org once', async () => {
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 400 }));
    const e = await tx(ch, ch.users[1]!, (ctx) => onPacketTimedOut(ctx, { routeId: 'a-b', sequence: 1 }));
    expect(e).toMatchObject({ status: 'refunded', payouts: [{ account: `org:${A}`, amount: 400 }] });
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(10_000);
    await expectRejected(ch, 'ESCROW_SETTLED', () => tx(ch, ch.users[1]!, (ctx) => onPacketTimedOut(ctx, { routeId: 'a-b', sequence: 1 })));
  });

  it('does nothing for a packet that has no escrow', async () => {
    const ch = await activeChannel();
    const before = ch.ledger.snapshot();
    expect(await tx(ch, ch.users[0]!, (ctx) => onPacketTimedOut(ctx, { routeId: 'a-b', sequence: 9 }))).toBeUndefined();
    expect(
      await tx(ch, ch.users[0]!, (ctx) => onPacketAcknowledged(ctx, { routeId: 'a-b', sequence: 9, signerNodeIds: ['peer0.a'], relayerId: C })),
    ).toBeUndefined();
    expect(ch.ledger.snapshot()).toEqual(before);
  });

  it('requireRouteStakes names every node without a counting stake (INSUFFICIENT_STAKE)', async () => {
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => requireRouteStakes(ctx, ['peer0.a', 'peer0.c']));
    await expectRejected(ch, 'INSUFFICIENT_STAKE', () => tx(ch, ch.users[0]!, (ctx) => requireRouteStakes(ctx, ['peer0.a', 'peer1.c', 'peer9.x'])));
    await expect(tx(ch, ch.users[0]!, (ctx) => requireRouteStakes(ctx, ['peer1.c']))).rejects.toThrow(/peer1\.c/);
    await expectRejected(ch, 'INVALID_ARGUMENT', () => tx(ch, ch.users[0]!, (ctx) => requireRouteStakes(ctx, [])));
  });

  it('isSignerStaked is true only for an active stake of at least minStake', async () => {
    const ch = await activeChannel();
    expect(await tx(ch, ch.users[0]!, (ctx) => isSignerStaked(ctx, 'peer0.a'))).toBe(true);
    expect(await tx(ch, ch.users[0]!, (ctx) => isSignerStaked(ctx, 'peer1.c'))).toBe(false);
    expect(await tx(ch, ch.users[0]!, (ctx) => isSignerStaked(ctx, 'peer9.x'))).toBe(false);
  });

  it('before governance sets parameters, fees are optional and stakes are not required', async () => {
    const ch = await createChannel();
    expect(await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 0 }))).toBeUndefined();
    await tx(ch, ch.users[0]!, (ctx) => requireRouteStakes(ctx, ['peer9.x']));
    expect(await tx(ch, ch.users[0]!, (ctx) => isSignerStaked(ctx, 'peer9.x'))).toBe(true);
    expect(escrows(ch.ledger)).toEqual([]);
  });

  it('lists slashed nodes for removal at the next epoch', async () => {
    const ch = await createChannel();
    await seed(ch, { stakes: [{ ...activeStake('peer0.a', A, 5), status: 'slashed', removeAtNextEpoch: true }, activeStake('peer0.c', C, 5)] });
    expect(await tx(ch, ch.users[0]!, (ctx) => nodesMarkedForRemoval(ctx))).toEqual(['peer0.a']);
  });

  it('validates inputs before any write', async () => {
    const ch = await activeChannel();
    await expectRejected(ch, 'INVALID_ARGUMENT', () =>
      tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a b', sequence: 1, payerMspId: A, fee: 100 })),
    );
    await expectRejected(ch, 'INVALID_ARGUMENT', () =>
      tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 0, payerMspId: A, fee: 100 })),
    );
    await expectRejected(ch, 'INVALID_ARGUMENT', () =>
      tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 1, payerMspId: A, fee: 1.5 })),
    );
  });
});

describe('incentive hooks plugged into the cross-chain packet lifecycle', () => {
  const packet = (sequence: number) => ({
    sourceChain: 'chain-a',
    destChain: 'chain-b',
    routeId: 'a-b',
    sequence,
    type: 'ping' as const,
    payload: {},
    timeoutMs: 10,
    sentAtMs: 1,
    sender: A,
  });

  it('charges the minimum fee on send and pays it out on acknowledgement through runHooks', async () => {
    registerIncentiveHooks();
    const ch = await activeChannel();
    const submitter = { id: 'relayer-cert-hash', mspId: C };
    await tx(ch, ch.users[0]!, (ctx) => runHooks('onSend', ctx, { packet: packet(1), packetHash: 'h', submitter: { id: 'x', mspId: A } }));
    expect(escrows(ch.ledger)[0]).toMatchObject({ amount: DEFAULT_PARAMS.minFee, status: 'held' });
    await tx(ch, ch.users[1]!, (ctx) =>
      runHooks('onAcknowledge', ctx, { packet: packet(1), packetHash: 'h', submitter, signers: ['peer0.a', 'peer0.c'] }),
    );
    expect(balanceOf(ch.ledger, 'node:peer0.a')).toBe(35);
    expect(balanceOf(ch.ledger, `org:${C}`)).toBe(30);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it('prefers the packet signers carried back in the acknowledgement over the acknowledgement signers', () => {
    const ack = { ...packet(1), packetHash: 'h', outcome: 'success' as const, result: {}, packetSigners: ['peer0.a'] };
    expect(rewardedSigners({ packet: packet(1), packetHash: 'h', submitter: { id: 'x', mspId: C }, signers: ['peer0.b'], ack })).toEqual(['peer0.a']);
    expect(rewardedSigners({ packet: packet(1), packetHash: 'h', submitter: { id: 'x', mspId: C }, signers: ['peer0.b'] })).toEqual(['peer0.b']);
  });

  it('refunds on timeout through runHooks', async () => {
    registerIncentiveHooks();
    const ch = await activeChannel();
    await tx(ch, ch.users[0]!, (ctx) => runHooks('onSend', ctx, { packet: packet(2), packetHash: 'h', submitter: { id: 'x', mspId: A } }));
    await tx(ch, ch.users[1]!, (ctx) => runHooks('onTimeout', ctx, { packet: packet(2), packetHash: 'h', submitter: { id: 'y', mspId: C } }));
    expect(balanceOf(ch.ledger, `org:${A}`)).toBe(10_000);
  });
});

/** One transaction of `who` with the requests it made to the peer (support/ledger-calls.ts): keys read, keys written, ranges queried. */
async function recorded(ch: Channel, who: FakeIdentity, fn: (ctx: Context) => Promise<unknown>): Promise<{ reads: Set<string>; ranges: string[]; writes: Set<string> }> {
  ch.now.ms += 1;
  const { calls } = await withLedgerCalls(ch.ledger, { identity: who, timeMs: ch.now.ms }, fn);
  const keys = (ops: string[]) => calls.filter((c) => ops.includes(c.op)).map((c) => c.key);
  return { reads: new Set(keys(['get'])), ranges: keys(['range']), writes: new Set(keys(['put', 'delete'])) };
}

describe('rewards under keys of their own (acknowledgements never conflict with each other)', () => {
  const ack = (sequence: number) => ({ routeId: 'a-b', sequence, signerNodeIds: ['peer0.a', 'peer0.c'], relayerId: C });

  async function sentAndFirstAcked(): Promise<Channel> {
    const ch = await activeChannel();
    for (const sequence of [1, 2, 3]) await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence, payerMspId: A, fee: 1_000 }));
    // The first payment creates the paid accounts' records; later ones only add credits.
    await tx(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, ack(1)));
    return ch;
  }

  it('two acknowledgements of different packets share no key one writes and the other reads, and write no account', async () => {
    const ch = await sentAndFirstAcked();
    const r2 = await recorded(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, ack(2)));
    const r3 = await recorded(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, ack(3)));
    for (const [a, b] of [
      [r2, r3],
      [r3, r2],
    ] as const) {
      expect([...a.writes].filter((k) => b.reads.has(k) || b.writes.has(k))).toEqual([]);
      expect(a.ranges).toEqual([]);
      expect([...a.writes].filter((k) => k.includes('mb.account'))).toEqual([]);
    }
    // Paid all the same: each signer 350 per packet, the relayer 300.
    expect(balanceOf(ch.ledger, 'node:peer0.a')).toBe(3 * 350);
    expect(balanceOf(ch.ledger, `org:${C}`)).toBe(3 * 300);
    expect(credits(ch.ledger)).toHaveLength(9);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it('folds the credits into the account when it is next written, counting each exactly once', async () => {
    const ch = await sentAndFirstAcked();
    await tx(ch, ch.users[1]!, (ctx) => onPacketAcknowledged(ctx, ack(2)));
    expect(credits(ch.ledger).filter((c) => c.account === `org:${C}`)).toHaveLength(2);
    // C's stored balance is 0, its credits 600: its fee of 100 is paid from them.
    await tx(ch, ch.users[1]!, (ctx) => onPacketSent(ctx, { routeId: 'c-b', sequence: 1, payerMspId: C, fee: 100 }));
    expect(credits(ch.ledger).filter((c) => c.account === `org:${C}`)).toEqual([]);
    expect(balanceOf(ch.ledger, `org:${C}`)).toBe(500);
    expect(credits(ch.ledger).filter((c) => c.account === 'node:peer0.a')).toHaveLength(2);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it("an acknowledgement paying the sender's own org (its relayer) reads no key that org's sends write", async () => {
    const ch = await activeChannel();
    for (const sequence of [1, 2, 3]) await tx(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence, payerMspId: A, fee: 1_000 }));
    const byA = (sequence: number) => ({ ...ack(sequence), relayerId: A });
    await tx(ch, ch.users[0]!, (ctx) => onPacketAcknowledged(ctx, byA(1)));
    // Endorsed side by side: a send of A (a new fee from A's account) and a payout to A.
    const send = await recorded(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 4, payerMspId: A, fee: 1_000 }));
    const paid = await recorded(ch, ch.users[0]!, (ctx) => onPacketAcknowledged(ctx, byA(2)));
    expect([...send.writes].filter((k) => k.includes('mb.account'))).not.toEqual([]);
    expect([...send.writes].filter((k) => paid.reads.has(k) || paid.writes.has(k))).toEqual([]);
    expect([...paid.writes].filter((k) => send.reads.has(k) || send.writes.has(k))).toEqual([]);
    expect(paid.ranges).toEqual([]);
    expect(credits(ch.ledger).filter((c) => c.account === `org:${A}`)).toHaveLength(2);
    expect(circulating(ch.ledger)).toBe(supply(ch.ledger).total);
  });

  it('a send whose stored balance covers its fee reads no credits (no range a concurrent acknowledgement could change)', async () => {
    const ch = await sentAndFirstAcked();
    const r = await recorded(ch, ch.users[0]!, (ctx) => onPacketSent(ctx, { routeId: 'a-b', sequence: 4, payerMspId: A, fee: 1_000 }));
    expect(r.ranges).toEqual([]);
    // A payer short of it folds its credits first, and is refused only if they do not cover it.
    await expectRejected(ch, 'INSUFFICIENT_FUNDS', () => tx(ch, ch.users[1]!, (ctx) => onPacketSent(ctx, { routeId: 'c-b', sequence: 1, payerMspId: C, fee: 10_000 })));
  });
});
