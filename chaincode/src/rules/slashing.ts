/**
 * Slashing on provable misbehaviour of a verification node (chaincode/INCENTIVES.md
 * "Slashing"). The contract verifies the signatures with the protocol module and hands
 * this module what each signature provably says (a SignedStatement); here we decide
 * whether the statements prove an offence and what the slash moves.
 *
 * Offences:
 *  - `conflict`: two statements by the same node, for the same source chain, route and
 *    sequence, over different packet commitments (equivocation);
 *  - `uncommitted`: a statement by a node of this chain for a packet of this chain that
 *    this chain's ledger shows was never committed, or committed with another hash.
 */
import { check, fail } from '../errors';
import { canonicalHash } from '../protocol/canonical-json';
import { BPS } from './parameter-safety';
import { type Account, type Stake, requireName, TREASURY, totalStake } from './value-rules';

/** What one verified signature commits its signer to. */
export interface SignedStatement {
  nodeId: string;
  /** Chain whose packet the signature vouches for (the packet's source). */
  sourceChainId: string;
  routeId: string;
  sequence: number;
  /** Hash of the packet commitment that was signed (hex). */
  commitmentHash: string;
}

/** What this chain's own ledger says about (route, sequence) of one of its packets. */
export type LocalPacketView =
  /** A commitment is stored: the hash of the packet that was really sent. */
  | { state: 'committed'; commitmentHash: string }
  /** The route never reached this sequence, or the route does not exist: nothing was sent. */
  | { state: 'never-sent' }
  /** The ledger cannot tell (e.g. commitment cleared after acknowledgement): not provable. */
  | { state: 'unknown' };

export type Evidence =
  | { kind: 'conflict'; a: SignedStatement; b: SignedStatement }
  | { kind: 'uncommitted'; statement: SignedStatement; thisChainId: string; local: LocalPacketView };

export interface Offence {
  kind: 'conflict' | 'uncommitted';
  nodeId: string;
  sourceChainId: string;
  routeId: string;
  sequence: number;
  /** Hash of the evidence, order-independent for conflicts: the same pair is one offence. */
  evidenceHash: string;
}

function requireStatement(s: SignedStatement, what: string): void {
  requireName(s.nodeId, `${what} node id`);
  requireName(s.sourceChainId, `${what} source chain id`);
  requireName(s.routeId, `${what} route id`);
  check(Number.isSafeInteger(s.sequence) && s.sequence >= 1, 'EVIDENCE_INVALID', `${what} sequence must be a positive integer`);
  check(/^[0-9a-f]{64}$/.test(s.commitmentHash), 'EVIDENCE_INVALID', `${what} commitment hash must be 64 hex characters`);
}

/** Decides whether verified statements prove an offence; EVIDENCE_INVALID otherwise. */
export function judgeEvidence(evidence: Evidence): Offence {
  if (evidence.kind === 'conflict') {
    const { a, b } = evidence;
    requireStatement(a, 'first');
    requireStatement(b, 'second');
    check(a.nodeId === b.nodeId, 'EVIDENCE_INVALID', 'the two signatures are by different nodes');
    check(a.sourceChainId === b.sourceChainId, 'EVIDENCE_INVALID', 'the two signatures are for different source chains');
    check(a.routeId === b.routeId && a.sequence === b.sequence, 'EVIDENCE_INVALID', 'the two signatures are for different route or sequence');
    check(a.commitmentHash !== b.commitmentHash, 'EVIDENCE_INVALID', 'the two signatures are over the same commitment: no conflict');
    const pair = [a.commitmentHash, b.commitmentHash].sort();
    return {
      kind: 'conflict',
      nodeId: a.nodeId,
      sourceChainId: a.sourceChainId,
      routeId: a.routeId,
      sequence: a.sequence,
      evidenceHash: canonicalHash({ kind: 'conflict', nodeId: a.nodeId, chain: a.sourceChainId, route: a.routeId, seq: a.sequence, pair }),
    };
  }
  if (evidence.kind === 'uncommitted') {
    const s = evidence.statement;
    requireStatement(s, 'signed');
    check(
      s.sourceChainId === evidence.thisChainId,
      'EVIDENCE_INVALID',
      `a packet of ${s.sourceChainId} can only be proven uncommitted on its own chain, this is ${evidence.thisChainId}`,
    );
    const local = evidence.local;
    if (local.state === 'unknown') fail('EVIDENCE_INVALID', `this ledger cannot tell what was committed at ${s.routeId}#${s.sequence}`);
    if (local.state === 'committed') {
      check(local.commitmentHash !== s.commitmentHash, 'EVIDENCE_INVALID', `the signed commitment is the one committed at ${s.routeId}#${s.sequence}`);
    }
    return {
      kind: 'uncommitted',
      nodeId: s.nodeId,
      sourceChainId: s.sourceChainId,
      routeId: s.routeId,
      sequence: s.sequence,
      evidenceHash: canonicalHash({ kind: 'uncommitted', nodeId: s.nodeId, chain: s.sourceChainId, route: s.routeId, seq: s.sequence, signed: s.commitmentHash }),
    };
  }
  fail('EVIDENCE_INVALID', 'evidence kind must be conflict or uncommitted');
}

export interface SlashRecord extends Offence {
  ownerMspId: string;
  /** Taken from the stake (bonded first, then unbonding entries in release order). */
  amount: number;
  reporterMspId: string;
  reporterReward: number;
  treasuryAmount: number;
  txTimeMs: number;
}

/**
 * Applies a proven offence to the node's stake: takes floor(stake · slashBps / 10000),
 * pays floor(taken · reporterShareBps / 10000) to the reporter org and the rest to the
 * treasury, moves what is left bonded into unbonding (the node no longer signs) and
 * marks the node for removal at the next epoch. A node is slashed once.
 */
export function applySlash(
  offence: Offence,
  stake: Stake | undefined,
  reporter: Account,
  treasury: Account,
  params: { slashBps: number; reporterShareBps: number; unbondingPeriodMs: number },
  nowMs: number,
): { stake: Stake; reporter: Account; treasury: Account; record: SlashRecord } {
  check(stake !== undefined, 'NOT_FOUND', `node ${offence.nodeId} has no stake on this chain`);
  check(stake.nodeId === offence.nodeId, 'INVALID_ARGUMENT', 'stake record of another node');
  check(stake.status === 'active', 'ALREADY_SLASHED', `node ${offence.nodeId} was already slashed`);
  check(treasury.id === TREASURY, 'INVALID_ARGUMENT', 'the treasury account is required');
  check(reporter.id.startsWith('org:'), 'INVALID_ARGUMENT', 'the reporter is paid to its org account');
  const total = totalStake(stake);
  const amount = Number((BigInt(total) * BigInt(params.slashBps)) / BigInt(BPS));
  const reporterReward = Number((BigInt(amount) * BigInt(params.reporterShareBps)) / BigInt(BPS));
  const treasuryAmount = amount - reporterReward;

  let rest = amount;
  const takeBonded = Math.min(stake.bonded, rest);
  rest -= takeBonded;
  const unbonding = [];
  for (const e of stake.unbonding) {
    const take = Math.min(e.amount, rest);
    rest -= take;
    if (e.amount - take > 0) unbonding.push({ amount: e.amount - take, releaseAtMs: e.releaseAtMs });
  }
  const leftBonded = stake.bonded - takeBonded;
  if (leftBonded > 0) unbonding.push({ amount: leftBonded, releaseAtMs: nowMs + params.unbondingPeriodMs });
  unbonding.sort((x, y) => x.releaseAtMs - y.releaseAtMs);

  const sameAccount = reporter.id === treasury.id;
  check(!sameAccount, 'INVALID_ARGUMENT', 'reporter and treasury are distinct');
  return {
    stake: { ...stake, bonded: 0, unbonding, status: 'slashed', removeAtNextEpoch: true },
    reporter: { ...reporter, balance: reporter.balance + reporterReward },
    treasury: { ...treasury, balance: treasury.balance + treasuryAmount },
    record: {
      ...offence,
      ownerMspId: stake.ownerMspId,
      amount,
      reporterMspId: reporter.id.slice('org:'.length),
      reporterReward,
      treasuryAmount,
      txTimeMs: nowMs,
    },
  };
}
