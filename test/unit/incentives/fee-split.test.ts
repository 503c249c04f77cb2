import { MedbridgeError } from '../../../chaincode/src/errors';
import { markPaid, splitFee } from '../../../chaincode/src/rules/fee-split';
import type { Escrow, Stake } from '../../../chaincode/src/rules/value-rules';
import { Prng } from './prng';

const escrow = (amount: number): Escrow => ({ routeId: 'a-to-b', sequence: 3, payerMspId: 'A', amount, status: 'held', sentAtMs: 0 });
const staked = (nodeId: string, bonded = 100): Stake => ({ nodeId, ownerMspId: 'A', bonded, unbonding: [], status: 'active', removeAtNextEpoch: false });
const stakesOf = (...s: Stake[]): Map<string, Stake> => new Map(s.map((x) => [x.nodeId, x]));
const params = { signerShareBps: 7_000, minStake: 100 };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe('fee split on acknowledgement', () => {
  it('gives each staked signer floor(pool / n) and the relayer the rest including the dust', () => {
    // pool = floor(100 * 0.7) = 70; 3 signers -> 23 each (69); relayer 100 - 69 = 31
    const split = splitFee(escrow(100), ['n3', 'n1', 'n2'], 'R', stakesOf(staked('n1'), staked('n2'), staked('n3')), params);
    expect(split.payouts).toEqual([
      { account: 'node:n1', amount: 23 },
      { account: 'node:n2', amount: 23 },
      { account: 'node:n3', amount: 23 },
      { account: 'org:R', amount: 31 },
    ]);
    expect(split.paidSigners).toEqual(['n1', 'n2', 'n3']);
  });

  it('pays no signer whose stake does not count; the staked signers share the whole signer pool', () => {
    const split = splitFee(escrow(100), ['n1', 'n2'], 'R', stakesOf(staked('n1'), staked('n2', 99)), params);
    expect(split.paidSigners).toEqual(['n1']);
    expect(split.unpaidSigners).toEqual(['n2']);
    expect(split.payouts).toEqual([
      { account: 'node:n1', amount: 70 },
      { account: 'org:R', amount: 30 },
    ]);
  });

  it('sends the signer pool to the treasury when no signer is staked, never to the relayer', () => {
    const split = splitFee(escrow(100), ['n1'], 'R', stakesOf(), params);
    expect(split.payouts).toEqual([
      { account: 'org:R', amount: 30 },
      { account: 'treasury', amount: 70 },
    ]);
  });

  it('pays a signature once: duplicate signers are rejected with DUPLICATE_SIGNER', () => {
    expect(codeOf(() => splitFee(escrow(100), ['n1', 'n1'], 'R', stakesOf(staked('n1')), params))).toBe('DUPLICATE_SIGNER');
  });

  it('never pays a settled escrow again', () => {
    const e = escrow(100);
    const split = splitFee(e, ['n1'], 'R', stakesOf(staked('n1')), params);
    const paid = markPaid(e, split, 5);
    expect(paid.status).toBe('paid');
    expect(codeOf(() => splitFee(paid, ['n1'], 'R', stakesOf(staked('n1')), params))).toBe('ESCROW_SETTLED');
    expect(codeOf(() => markPaid(paid, split, 6))).toBe('ESCROW_SETTLED');
  });

  it('rejects an empty signer list', () => {
    expect(codeOf(() => splitFee(escrow(100), [], 'R', stakesOf(), params))).toBe('INVALID_ARGUMENT');
  });

  it('pays out exactly the fee for any fee, share and signer set (2000 seeded cases)', () => {
    const rng = new Prng(7);
    for (let i = 0; i < 2000; i++) {
      const fee = rng.int(0, 1_000_000_007);
      const n = rng.int(1, 64);
      const ids = Array.from({ length: n }, (_, j) => `n${j}`);
      const stakes = stakesOf(...ids.filter(() => rng.next() < 0.7).map((id) => staked(id)));
      const p = { signerShareBps: rng.int(0, 10_000), minStake: 100 };
      const split = splitFee(escrow(fee), ids, 'R', stakes, p);
      const sum = split.payouts.reduce((s, x) => s + x.amount, 0);
      expect(sum).toBe(fee);
      for (const x of split.payouts) expect(x.amount).toBeGreaterThan(0);
      const signerAmounts = split.payouts.filter((x) => x.account.startsWith('node:')).map((x) => x.amount);
      expect(new Set(signerAmounts).size).toBeLessThanOrEqual(1);
      for (const x of split.payouts.filter((y) => y.account.startsWith('node:'))) {
        expect(stakes.has(x.account.slice(5))).toBe(true);
      }
    }
  });
});
