import { MedbridgeError, type ErrorCode } from '../../../chaincode/src/errors';
import {
  type Account,
  type Escrow,
  type Stake,
  depositStake,
  emptyAccount,
  escrowFee,
  isStaked,
  mint,
  MAX_SUPPLY,
  parseAccountId,
  refundEscrow,
  transfer,
  unbondStake,
  withdrawStake,
} from '../../../chaincode/src/rules/value-rules';

function codeOf(fn: () => unknown): ErrorCode | 'NO_ERROR' {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

const acct = (id: string, balance: number): Account => ({ id, balance });

describe('accounts and transfers', () => {
  it('moves exactly the amount from payer to payee', () => {
    const out = transfer(acct('org:A', 100), acct('org:B', 5), 40);
    expect(out.from.balance).toBe(60);
    expect(out.to.balance).toBe(45);
  });

  it('rejects a transfer larger than the balance with INSUFFICIENT_FUNDS', () => {
    expect(codeOf(() => transfer(acct('org:A', 10), acct('org:B', 0), 11))).toBe('INSUFFICIENT_FUNDS');
  });

  it('rejects zero, negative, fractional and oversized amounts', () => {
    for (const bad of [0, -1, 1.5, MAX_SUPPLY + 1, Number.NaN]) {
      expect(codeOf(() => transfer(acct('org:A', 10), acct('org:B', 0), bad))).toBe('INVALID_ARGUMENT');
    }
  });

  it('rejects a transfer to the same account', () => {
    expect(codeOf(() => transfer(acct('org:A', 10), acct('org:A', 10), 1))).toBe('INVALID_ARGUMENT');
  });

  it('accepts only org:, node: and treasury account ids', () => {
    expect(parseAccountId('org:HospitalAMSP')).toEqual({ kind: 'org', name: 'HospitalAMSP' });
    expect(parseAccountId('node:peer0.hospitala:7051')).toEqual({ kind: 'node', name: 'peer0.hospitala:7051' });
    expect(parseAccountId('treasury')).toEqual({ kind: 'treasury', name: '' });
    for (const bad of ['', 'org:', 'user:x', 'HospitalAMSP', 'org:a b', 'org:\u0000x']) {
      expect(codeOf(() => parseAccountId(bad))).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('minting', () => {
  const meta = { authorisedBy: 'proposal-1', txId: 'tx1', txTimeMs: 5 };

  it('raises the supply and the account by the minted amount and logs it', () => {
    const out = mint({ total: 10, mints: 2 }, acct('org:A', 10), 90, meta);
    expect(out.supply).toEqual({ total: 100, mints: 3 });
    expect(out.to.balance).toBe(100);
    expect(out.record).toEqual({ seq: 2, to: 'org:A', amount: 90, authorisedBy: 'proposal-1', txId: 'tx1', txTimeMs: 5 });
  });

  it('refuses to mint past the supply cap', () => {
    expect(codeOf(() => mint({ total: MAX_SUPPLY - 5, mints: 1 }, acct('org:A', 0), 6, meta))).toBe('PARAMETERS_UNSAFE');
  });

  it('refuses to mint without a governance authorisation', () => {
    expect(codeOf(() => mint({ total: 0, mints: 0 }, acct('org:A', 0), 6, { ...meta, authorisedBy: '' }))).toBe('UNAUTHORIZED');
  });
});

describe('stake deposit, unbonding and withdrawal', () => {
  const DAY = 86_400_000;

  it('locks the deposit from the owner org and records the owner', () => {
    const out = depositStake(undefined, 'peer0.a', acct('org:A', 100), 60);
    expect(out.owner.balance).toBe(40);
    expect(out.stake).toEqual({ nodeId: 'peer0.a', ownerMspId: 'A', bonded: 60, unbonding: [], status: 'active', removeAtNextEpoch: false });
  });

  it('lets only the owner org add stake to a node', () => {
    const { stake } = depositStake(undefined, 'peer0.a', acct('org:A', 100), 60);
    expect(codeOf(() => depositStake(stake, 'peer0.a', acct('org:B', 100), 1))).toBe('UNAUTHORIZED');
  });

  it('rejects a deposit larger than the owner balance', () => {
    expect(codeOf(() => depositStake(undefined, 'peer0.a', acct('org:A', 10), 11))).toBe('INSUFFICIENT_FUNDS');
  });

  it('refuses new stake for a slashed node', () => {
    const slashed: Stake = { nodeId: 'n', ownerMspId: 'A', bonded: 0, unbonding: [], status: 'slashed', removeAtNextEpoch: true };
    expect(codeOf(() => depositStake(slashed, 'n', acct('org:A', 10), 1))).toBe('INVALID_ARGUMENT');
  });

  it('keeps unbonding stake locked until the unbonding period has passed in transaction time', () => {
    const { stake } = depositStake(undefined, 'n', acct('org:A', 100), 100);
    const unbonding = unbondStake(stake, 30, 1_000, 7 * DAY);
    expect(unbonding.bonded).toBe(70);
    expect(unbonding.unbonding).toEqual([{ amount: 30, releaseAtMs: 1_000 + 7 * DAY }]);
    expect(codeOf(() => withdrawStake(unbonding, acct('org:A', 0), 1_000 + 7 * DAY - 1))).toBe('UNBONDING');
    const out = withdrawStake(unbonding, acct('org:A', 0), 1_000 + 7 * DAY);
    expect(out.amount).toBe(30);
    expect(out.owner.balance).toBe(30);
    expect(out.stake.unbonding).toEqual([]);
  });

  it('pays released entries only, and only to the owner org', () => {
    let { stake } = depositStake(undefined, 'n', acct('org:A', 100), 100);
    stake = unbondStake(stake, 10, 0, DAY);
    stake = unbondStake(stake, 20, DAY, DAY);
    expect(codeOf(() => withdrawStake(stake, acct('org:B', 0), 10 * DAY))).toBe('UNAUTHORIZED');
    const out = withdrawStake(stake, acct('org:A', 0), DAY + 1);
    expect(out.amount).toBe(10);
    expect(out.stake.unbonding).toEqual([{ amount: 20, releaseAtMs: 2 * DAY }]);
  });

  it('cannot unbond more than is bonded', () => {
    const { stake } = depositStake(undefined, 'n', acct('org:A', 100), 50);
    expect(codeOf(() => unbondStake(stake, 51, 0, DAY))).toBe('INSUFFICIENT_STAKE');
  });

  it('counts a node as staked only while active with at least the minimum bonded', () => {
    const { stake } = depositStake(undefined, 'n', acct('org:A', 100), 50);
    expect(isStaked(stake, 50)).toBe(true);
    expect(isStaked(stake, 51)).toBe(false);
    expect(isStaked(unbondStake(stake, 1, 0, 1), 50)).toBe(false);
    expect(isStaked({ ...stake, status: 'slashed' }, 1)).toBe(false);
    expect(isStaked(undefined, 0)).toBe(false);
  });
});

describe('fee escrow and refund', () => {
  const pkt = { routeId: 'a-to-b', sequence: 1 };

  it('holds the fee out of the payer account', () => {
    const out = escrowFee(undefined, acct('org:A', 100), pkt, 40, 10, 7);
    expect(out.payer.balance).toBe(60);
    expect(out.escrow).toEqual({ routeId: 'a-to-b', sequence: 1, payerMspId: 'A', amount: 40, status: 'held', sentAtMs: 7 });
  });

  it('rejects a fee below the minimum, a fee the payer cannot pay, and a second escrow for the same packet', () => {
    expect(codeOf(() => escrowFee(undefined, acct('org:A', 100), pkt, 9, 10, 7))).toBe('INSUFFICIENT_FUNDS');
    expect(codeOf(() => escrowFee(undefined, acct('org:A', 5), pkt, 10, 10, 7))).toBe('INSUFFICIENT_FUNDS');
    const { escrow } = escrowFee(undefined, acct('org:A', 100), pkt, 10, 10, 7);
    expect(codeOf(() => escrowFee(escrow, acct('org:A', 100), pkt, 10, 10, 7))).toBe('ALREADY_EXISTS');
  });

  it('refunds the whole fee to the payer once', () => {
    const { escrow } = escrowFee(undefined, acct('org:A', 100), pkt, 40, 10, 7);
    const out = refundEscrow(escrow, acct('org:A', 60), 9);
    expect(out.payer.balance).toBe(100);
    expect(out.escrow.status).toBe('refunded');
    expect(codeOf(() => refundEscrow(out.escrow, out.payer, 10))).toBe('ESCROW_SETTLED');
  });

  it('refunds only to the payer org', () => {
    const { escrow } = escrowFee(undefined, acct('org:A', 100), pkt, 40, 10, 7);
    expect(codeOf(() => refundEscrow(escrow, acct('org:B', 0), 9))).toBe('INVALID_ARGUMENT');
  });

  it('starts empty accounts at zero', () => {
    expect(emptyAccount('node:x')).toEqual({ id: 'node:x', balance: 0 });
    const e: Escrow = { routeId: 'r', sequence: 1, payerMspId: 'A', amount: 1, status: 'held', sentAtMs: 0 };
    expect(e.status).toBe('held');
  });
});
