import { MedbridgeError } from '../../../chaincode/src/errors';
import {
  checkParams,
  DEFAULT_PARAMS,
  type IncentiveParams,
  paramViolations,
  parseParams,
} from '../../../chaincode/src/rules/parameter-safety';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
}

const constraints = (p: Partial<IncentiveParams>): string[] => paramViolations({ ...DEFAULT_PARAMS, ...p }).map((v) => v.constraint);

describe('parameter safety', () => {
  it('accepts the default parameters', () => {
    expect(paramViolations(DEFAULT_PARAMS)).toEqual([]);
    expect(checkParams(DEFAULT_PARAMS)).toEqual(DEFAULT_PARAMS);
  });

  it('refuses a minimum stake at or below V / (k·p·sigma·(1-r)) (C3 deterrence)', () => {
    // k=2, p=0.5, sigma=1, r=0.1: the bound is V / 0.9 = 1 111 111.1
    expect(constraints({ minStake: 1_111_111, reportCost: 1 })).toEqual(['C3 deterrence']);
    expect(constraints({ minStake: 1_111_112, reportCost: 1 })).toEqual([]);
    expect(codeOf(() => checkParams({ ...DEFAULT_PARAMS, minStake: 1_000 }))).toBe('PARAMETERS_UNSAFE');
  });

  it('counts the reporter share against deterrence, since a node may report itself', () => {
    expect(constraints({ reporterShareBps: 4_999 })).toEqual([]);
    expect(constraints({ reporterShareBps: 5_000 })).toEqual(['C3 deterrence']);
  });

  it('refuses a fee whose signer share does not cover the signing cost of the largest proof (C1)', () => {
    expect(constraints({ signingCost: 18 })).toEqual(['C1 signer participation']);
  });

  it('refuses a fee whose relayer share does not cover the relay cost (C2)', () => {
    expect(constraints({ signerShareBps: 9_500 })).toEqual(['C2 relayer participation']);
  });

  it('refuses a reporter share that does not cover the cost of reporting (C4)', () => {
    expect(constraints({ reportCost: 200_001 })).toEqual(['C4 reporting']);
  });

  it('refuses an unbonding period shorter than the evidence window (C5)', () => {
    expect(constraints({ unbondingPeriodMs: DEFAULT_PARAMS.evidenceWindowMs - 1 })).toEqual(['C5 unbonding']);
    expect(constraints({ evidenceWindowMs: 0 })).toEqual(['C5 unbonding']);
  });

  it('refuses out-of-range fractions: no slashing, a reporter taking everything, zero detection', () => {
    expect(constraints({ slashBps: 0 })).toEqual(['range']);
    expect(constraints({ reporterShareBps: 10_000 })).toEqual(['range']);
    expect(constraints({ reporterShareBps: 0 })).toEqual(['range']);
    expect(constraints({ detectionBps: 0 })).toEqual(['range']);
    expect(constraints({ maxSignersPerProof: 1 })).toEqual(['range']);
  });

  it('names every broken constraint in the PARAMETERS_UNSAFE message', () => {
    try {
      checkParams({ ...DEFAULT_PARAMS, minStake: 1, signingCost: 1_000 });
      throw new Error('expected a rejection');
    } catch (e) {
      expect(e).toBeInstanceOf(MedbridgeError);
      expect((e as MedbridgeError).message).toMatch(/^PARAMETERS_UNSAFE: C1 signer participation.*C3 deterrence.*C4 reporting/);
    }
  });

  it('parses a complete parameter object and refuses missing, unknown or non-integer fields', () => {
    expect(parseParams(JSON.parse(JSON.stringify(DEFAULT_PARAMS)))).toEqual(DEFAULT_PARAMS);
    const { minFee: _dropped, ...missing } = DEFAULT_PARAMS;
    expect(codeOf(() => parseParams(missing))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseParams({ ...DEFAULT_PARAMS, extra: 1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseParams({ ...DEFAULT_PARAMS, slashBps: 0.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseParams([]))).toBe('INVALID_ARGUMENT');
  });
});
