import { MedbridgeError } from '../../../chaincode/src/errors';
import { applySlash, judgeEvidence, type SignedStatement } from '../../../chaincode/src/rules/slashing';
import type { Stake } from '../../../chaincode/src/rules/value-rules';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const st = (over: Partial<SignedStatement> = {}): SignedStatement => ({
  nodeId: 'peer0.a',
  sourceChainId: 'chain-a',
  routeId: 'a-to-b',
  sequence: 4,
  commitmentHash: H1,
  ...over,
});
const params = { slashBps: 5_000, reporterShareBps: 1_000, unbondingPeriodMs: 100 };
const stake = (over: Partial<Stake> = {}): Stake => ({
  nodeId: 'peer0.a',
  ownerMspId: 'A',
  bonded: 1_000,
  unbonding: [],
  status: 'active',
  removeAtNextEpoch: false,
  ...over,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

describe('judging evidence', () => {
  it('accepts two signatures of one node over different commitments for the same route and sequence', () => {
    const o = judgeEvidence({ kind: 'conflict', a: st(), b: st({ commitmentHash: H2 }) });
    expect(o).toMatchObject({ kind: 'conflict', nodeId: 'peer0.a', routeId: 'a-to-b', sequence: 4 });
  });

  it('gives the same evidence hash whatever the order of the two signatures', () => {
    const x = judgeEvidence({ kind: 'conflict', a: st(), b: st({ commitmentHash: H2 }) });
    const y = judgeEvidence({ kind: 'conflict', a: st({ commitmentHash: H2 }), b: st() });
    expect(x.evidenceHash).toBe(y.evidenceHash);
  });

  it('rejects as EVIDENCE_INVALID two signatures over the same commitment, by different nodes, or for different packets', () => {
    expect(codeOf(() => judgeEvidence({ kind: 'conflict', a: st(), b: st() }))).toBe('EVIDENCE_INVALID');
    expect(codeOf(() => judgeEvidence({ kind: 'conflict', a: st(), b: st({ nodeId: 'peer1.a', commitmentHash: H2 }) }))).toBe('EVIDENCE_INVALID');
    expect(codeOf(() => judgeEvidence({ kind: 'conflict', a: st(), b: st({ sequence: 5, commitmentHash: H2 }) }))).toBe('EVIDENCE_INVALID');
    expect(codeOf(() => judgeEvidence({ kind: 'conflict', a: st(), b: st({ routeId: 'x', commitmentHash: H2 }) }))).toBe('EVIDENCE_INVALID');
    expect(codeOf(() => judgeEvidence({ kind: 'conflict', a: st(), b: st({ sourceChainId: 'chain-c', commitmentHash: H2 }) }))).toBe('EVIDENCE_INVALID');
    expect(codeOf(() => judgeEvidence({ kind: 'conflict', a: st(), b: st({ commitmentHash: 'zz' }) }))).toBe('EVIDENCE_INVALID');
  });

  it('accepts a signature for a packet this chain never sent, or sent with another commitment', () => {
    expect(judgeEvidence({ kind: 'uncommitted', statement: st(), thisChainId: 'chain-a', local: { state: 'never-sent' } }).kind).toBe('uncommitted');
    expect(
      judgeEvidence({ kind: 'uncommitted', statement: st(), thisChainId: 'chain-a', local: { state: 'committed', commitmentHash: H2 } }).kind,
    ).toBe('uncommitted');
  });

  it('rejects a signature over the packet that was really committed, one the ledger cannot judge, or one of another chain', () => {
    expect(
      codeOf(() => judgeEvidence({ kind: 'uncommitted', statement: st(), thisChainId: 'chain-a', local: { state: 'committed', commitmentHash: H1 } })),
    ).toBe('EVIDENCE_INVALID');
    expect(codeOf(() => judgeEvidence({ kind: 'uncommitted', statement: st(), thisChainId: 'chain-a', local: { state: 'unknown' } }))).toBe(
      'EVIDENCE_INVALID',
    );
    expect(codeOf(() => judgeEvidence({ kind: 'uncommitted', statement: st(), thisChainId: 'chain-b', local: { state: 'never-sent' } }))).toBe(
      'EVIDENCE_INVALID',
    );
  });
});

describe('applying a slash', () => {
  const offence = judgeEvidence({ kind: 'conflict', a: st(), b: st({ commitmentHash: H2 }) });
  const reporter = { id: 'org:B', balance: 7 };
  const treasury = { id: 'treasury', balance: 0 };

  it('takes slashBps of the whole stake, pays the reporter its share and the treasury the rest', () => {
    const out = applySlash(offence, stake({ bonded: 1_000, unbonding: [{ amount: 1_000, releaseAtMs: 50 }] }), reporter, treasury, params, 10);
    // total 2000 -> slash 1000 (all bonded), reporter 100, treasury 900
    expect(out.record).toMatchObject({ amount: 1_000, reporterReward: 100, treasuryAmount: 900, reporterMspId: 'B', ownerMspId: 'A' });
    expect(out.reporter.balance).toBe(107);
    expect(out.treasury.balance).toBe(900);
    expect(out.stake).toMatchObject({ bonded: 0, status: 'slashed', removeAtNextEpoch: true });
    expect(out.stake.unbonding).toEqual([{ amount: 1_000, releaseAtMs: 50 }]);
  });

  it('slashes unbonding stake too, and moves what stays bonded into unbonding', () => {
    const out = applySlash(offence, stake({ bonded: 100, unbonding: [{ amount: 900, releaseAtMs: 50 }] }), reporter, treasury, params, 10);
    // total 1000 -> 500: 100 from bonded, 400 from the unbonding entry
    expect(out.stake.unbonding).toEqual([{ amount: 500, releaseAtMs: 50 }]);
    const partial = applySlash(offence, stake({ bonded: 1_000 }), reporter, treasury, params, 10);
    expect(partial.stake.unbonding).toEqual([{ amount: 500, releaseAtMs: 110 }]);
  });

  it('conserves value: what leaves the stake arrives at reporter and treasury', () => {
    const before = stake({ bonded: 999, unbonding: [{ amount: 7, releaseAtMs: 1 }] });
    const out = applySlash(offence, before, reporter, treasury, { ...params, slashBps: 3_333, reporterShareBps: 777 }, 10);
    const stakeAfter = out.stake.bonded + out.stake.unbonding.reduce((s, e) => s + e.amount, 0);
    expect(1_006 + 7 + 0).toBe(stakeAfter + out.reporter.balance + out.treasury.balance);
  });

  it('slashes a node once: a second offence is ALREADY_SLASHED', () => {
    const out = applySlash(offence, stake(), reporter, treasury, params, 10);
    expect(codeOf(() => applySlash(offence, out.stake, reporter, treasury, params, 11))).toBe('ALREADY_SLASHED');
  });

  it('finds nothing to slash for a node without stake', () => {
    expect(codeOf(() => applySlash(offence, undefined, reporter, treasury, params, 10))).toBe('NOT_FOUND');
  });
});
