/**
 * Incentive parameters and the constraints the game puts on them
 * (chaincode/INCENTIVES.md "Constraints"). `checkParams` is what `Incentive:SetParams`
 * runs: a parameter set under which deviating pays is refused with PARAMETERS_UNSAFE.
 *
 * Fractions are basis points (1/10 000) so that every check is exact integer
 * arithmetic; products are taken in BigInt because they exceed 2^53.
 */
import { fail } from '../errors';
import { MAX_SUPPLY } from './value-rules';

export const BPS = 10_000;

export interface IncentiveParams {
  /** Smallest fee a packet may carry (f). */
  minFee: number;
  /** Share of a fee paid to the signers of the accepted proof; the rest goes to the relayer. */
  signerShareBps: number;
  /** Most distinct signers one accepted proof can carry (n): the signer share is divided by up to this many. */
  maxSignersPerProof: number;
  /** Fewest distinct signers any accepted proof needs (k): what a forger must corrupt, from the threshold rule. */
  minSignersPerProof: number;
  /** A signer's running cost per packet signed (c_s), in credits: the reward must cover it. */
  signingCost: number;
  /** A relayer's cost per packet delivered (c_r), in credits: its share must cover it. */
  relayCost: number;
  /** A reporter's cost of submitting evidence (c_e): the reporter share must cover it. */
  reportCost: number;
  /** Stake a node needs bonded to count as a signer (S). */
  minStake: number;
  /** Time between Unbond and Withdraw, transaction time. */
  unbondingPeriodMs: number;
  /** How long after signing evidence can still arrive (packet timeout + relay delay + reporting). */
  evidenceWindowMs: number;
  /** Fraction of a node's stake taken on valid evidence (sigma). */
  slashBps: number;
  /** Fraction of the slashed amount paid to the reporter (r); the rest goes to the treasury. */
  reporterShareBps: number;
  /** Governance's lower estimate of the probability that a false signature is detected and reported (p). */
  detectionBps: number;
  /** Most value one false packet could move on a destination chain (V). */
  maxPacketValue: number;
}

/**
 * The parameters in force until governance sets others; they satisfy every constraint
 * (a test checks it). V = 1e6 credits, p = 50 %, sigma = 100 %, r = 10 %, k = 2:
 * k·p·sigma·(1-r)·S = 0.9·S > V needs S > 1.11e6; S = 2e6.
 */
export const DEFAULT_PARAMS: IncentiveParams = {
  minFee: 100,
  signerShareBps: 7_000,
  maxSignersPerProof: 4,
  minSignersPerProof: 2,
  signingCost: 10,
  relayCost: 10,
  reportCost: 1_000,
  minStake: 2_000_000,
  unbondingPeriodMs: 14 * 24 * 3_600_000,
  evidenceWindowMs: 7 * 24 * 3_600_000,
  slashBps: 10_000,
  reporterShareBps: 1_000,
  detectionBps: 5_000,
  maxPacketValue: 1_000_000,
};

const FIELDS: ReadonlyArray<keyof IncentiveParams> = Object.keys(DEFAULT_PARAMS) as Array<keyof IncentiveParams>;

/** Parses a full parameter set from untrusted JSON: every field present, integers, nothing extra. */
export function parseParams(value: unknown): IncentiveParams {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('INVALID_ARGUMENT', 'parameters must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!(FIELDS as readonly string[]).includes(k)) fail('INVALID_ARGUMENT', `unknown parameter ${k}`);
  }
  const out = {} as Record<keyof IncentiveParams, number>;
  for (const k of FIELDS) {
    const v = obj[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail('INVALID_ARGUMENT', `parameter ${k} must be a non-negative integer`);
    }
    out[k] = v;
  }
  return out;
}

export interface Violation {
  constraint: string;
  detail: string;
}

/** Every game constraint the parameter set breaks; empty when it is safe. */
export function paramViolations(p: IncentiveParams): Violation[] {
  const v: Violation[] = [];
  const add = (constraint: string, detail: string): void => {
    v.push({ constraint, detail });
  };
  const big = BigInt;

  // Ranges.
  if (p.signerShareBps > BPS) add('range', 'signerShareBps must be at most 10000');
  if (p.slashBps < 1 || p.slashBps > BPS) add('range', 'slashBps must be in 1..10000');
  if (p.reporterShareBps < 1 || p.reporterShareBps >= BPS) add('range', 'reporterShareBps must be in 1..9999');
  if (p.detectionBps < 1 || p.detectionBps > BPS) add('range', 'detectionBps must be in 1..10000');
  if (p.minSignersPerProof < 1) add('range', 'minSignersPerProof must be at least 1');
  if (p.maxSignersPerProof < p.minSignersPerProof) add('range', 'maxSignersPerProof must be at least minSignersPerProof');
  if (p.minStake < 1) add('range', 'minStake must be positive: an unstaked signer has nothing to lose');
  for (const k of ['minFee', 'minStake', 'maxPacketValue', 'signingCost', 'relayCost', 'reportCost'] as const) {
    if (p[k] > MAX_SUPPLY) add('range', `${k} must be at most ${MAX_SUPPLY}`);
  }
  if (v.length > 0) return v;

  // (C1) Participation of signers: the smallest per-signer reward covers the signing cost.
  //      floor(f·s / BPS) / n >= c_s   <=>   floor(f·s / BPS) >= n·c_s
  const signerPool = (big(p.minFee) * big(p.signerShareBps)) / big(BPS);
  if (signerPool < big(p.maxSignersPerProof) * big(p.signingCost)) {
    add(
      'C1 signer participation',
      `signer share of the minimum fee (${signerPool}) is below maxSignersPerProof·signingCost (${p.maxSignersPerProof * p.signingCost}); honest signers would abstain`,
    );
  }
  // (C2) Participation of relayers: f - floor(f·s/BPS) >= c_r.
  const relayerShare = big(p.minFee) - signerPool;
  if (relayerShare < big(p.relayCost)) {
    add('C2 relayer participation', `relayer share of the minimum fee (${relayerShare}) is below relayCost (${p.relayCost}); relayers would withhold`);
  }
  // (C3) Deterrence, self-reporting included: every one of the k signers a forger needs loses
  //      more in expectation than the whole value the false packet moves.
  //      k · p · sigma · (1 - r) · S > V, all fractions in bps:
  //      k · p_bps · sigma_bps · (BPS - r_bps) · S > V · BPS^3
  const lhs = big(p.minSignersPerProof) * big(p.detectionBps) * big(p.slashBps) * big(BPS - p.reporterShareBps) * big(p.minStake);
  const rhs = big(p.maxPacketValue) * big(BPS) ** 3n;
  if (lhs <= rhs) {
    const needed = rhs / (big(p.minSignersPerProof) * big(p.detectionBps) * big(p.slashBps) * big(BPS - p.reporterShareBps)) + 1n;
    add(
      'C3 deterrence',
      `k·p·sigma·(1-r)·S must exceed V: with these fractions minStake must be at least ${needed} for maxPacketValue ${p.maxPacketValue}`,
    );
  }
  // (C4) Reporting pays: r · sigma · S >= c_e  (someone watches).
  const reporterReward = (((big(p.minStake) * big(p.slashBps)) / big(BPS)) * big(p.reporterShareBps)) / big(BPS);
  if (reporterReward < big(p.reportCost)) {
    add('C4 reporting', `reporter reward on a minimum stake (${reporterReward}) is below reportCost (${p.reportCost}); nobody would report`);
  }
  // (C5) Stake is still bonded when evidence arrives: unbonding outlasts the evidence window.
  if (p.evidenceWindowMs < 1) add('C5 unbonding', 'evidenceWindowMs must be positive');
  else if (p.unbondingPeriodMs < p.evidenceWindowMs) {
    add('C5 unbonding', `unbondingPeriodMs (${p.unbondingPeriodMs}) is shorter than evidenceWindowMs (${p.evidenceWindowMs}); a forger could withdraw before the evidence lands`);
  }
  return v;
}

/** SetParams' check: throws PARAMETERS_UNSAFE naming every broken constraint. */
export function checkParams(p: IncentiveParams): IncentiveParams {
  const v = paramViolations(p);
  if (v.length > 0) fail('PARAMETERS_UNSAFE', v.map((x) => `${x.constraint}: ${x.detail}`).join('; '));
  return p;
}
