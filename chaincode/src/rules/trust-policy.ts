/**
 * What a destination demands of a remote chain's list changes (PROTOCOL.md "Trust floor and
 * trusting period"). Set per remote chain by the destination's own governance; an epoch link
 * signed by the source's current threshold is followed only if the list it adopts stays above
 * the floor and the list it starts from is not older than the trusting period. Anything else
 * needs the destination's governance (register-remote with the new list). Pure.
 *
 *  - floor: minimum subgroups, minimum subgroups the rule requires, minimum threshold of every
 *    subgroup, maximum share of the known list's nodes (by key) one link may drop;
 *  - trusting period: a link is followed only from a known epoch adopted here less than
 *    `trustingPeriodMs` ago. It must be shorter than `retiredKeysSlashableMs`, the period for
 *    which the source keeps keys it rotated out slashable (its unbonding period), so keys that
 *    could sign a fake next epoch for a destination that missed the real one are still at stake.
 */
import { fail } from '../errors';
import { asObject, reqInt } from '../protocol/fields';
import { listFacts, nodeCertKeyIdentity, type VerificationNodeList } from '../protocol/node-list';

export const BPS = 10_000;
const DAY_MS = 86_400_000;

export interface TrustPolicy {
  /** Subgroups (orgs) the new list must have. */
  minSubgroups: number;
  /** Subgroups the new list's rule must require (all = every subgroup; k-of-m = k). */
  minRequired: number;
  /** Threshold every subgroup of the new list must have at least. */
  minThreshold: number;
  /** Nodes of the known list (compared by key) that one link may drop, in basis points of its size. */
  maxReplacedBps: number;
  /** A link is followed only from a known epoch adopted here less than this long ago. */
  trustingPeriodMs: number;
  /** How long the source keeps retired keys slashable (its unbonding period); > trustingPeriodMs. */
  retiredKeysSlashableMs: number;
}

/**
 * The policy of a remote chain whose governance set none: the protocol's own minimum for the
 * floor (any valid list), a 7-day trusting period under the default 14-day unbonding period.
 */
export const DEFAULT_TRUST_POLICY: TrustPolicy = {
  minSubgroups: 1,
  minRequired: 1,
  minThreshold: 1,
  maxReplacedBps: BPS,
  trustingPeriodMs: 7 * DAY_MS,
  retiredKeysSlashableMs: 14 * DAY_MS,
};

export const MAX_TRUSTING_PERIOD_MS = 365 * DAY_MS;

export function parseTrustPolicy(value: unknown): TrustPolicy {
  const C = 'INVALID_ARGUMENT' as const;
  const w = 'policy';
  const o = asObject(value, C, w, ['minSubgroups', 'minRequired', 'minThreshold', 'maxReplacedBps', 'trustingPeriodMs', 'retiredKeysSlashableMs']);
  const policy: TrustPolicy = {
    minSubgroups: reqInt(o, 'minSubgroups', C, w, 1, 16),
    minRequired: reqInt(o, 'minRequired', C, w, 1, 16),
    minThreshold: reqInt(o, 'minThreshold', C, w, 1, 64),
    maxReplacedBps: reqInt(o, 'maxReplacedBps', C, w, 0, BPS),
    trustingPeriodMs: reqInt(o, 'trustingPeriodMs', C, w, 60_000, MAX_TRUSTING_PERIOD_MS),
    retiredKeysSlashableMs: reqInt(o, 'retiredKeysSlashableMs', C, w, 60_000, 2 * MAX_TRUSTING_PERIOD_MS),
  };
  if (policy.minRequired > policy.minSubgroups) fail(C, 'policy.minRequired cannot exceed policy.minSubgroups');
  if (policy.trustingPeriodMs >= policy.retiredKeysSlashableMs) {
    fail(
      'PARAMETERS_UNSAFE',
      `trustingPeriodMs (${policy.trustingPeriodMs}) must be shorter than retiredKeysSlashableMs (${policy.retiredKeysSlashableMs}): retired keys could sign a fake next epoch after their stake is released`,
    );
  }
  return policy;
}

function requiredSubgroups(list: VerificationNodeList): number {
  return list.rule.kind === 'all' ? list.subgroups.length : list.rule.k;
}

/** The certificate key identity of every node of `list`, in list order: derived once per list content. */
function certKeyIdentities(list: VerificationNodeList): string[] {
  return listFacts(list).derive('certKeyIdentities', (l) => l.subgroups.flatMap((s) => s.nodes.map((n) => nodeCertKeyIdentity(n))));
}

/** Refuses (TRUST_FLOOR_VIOLATED) a list `to` that a link from `from` would adopt below `policy`'s floor. */
export function checkTrustFloor(policy: TrustPolicy, from: VerificationNodeList, to: VerificationNodeList): void {
  const C = 'TRUST_FLOOR_VIOLATED' as const;
  const where = `epoch ${to.epoch} of ${to.chainId}`;
  const tail = "; this chain's governance must adopt such a list itself (register-remote)";
  if (to.subgroups.length < policy.minSubgroups) fail(C, `${where} has ${to.subgroups.length} subgroup(s); the floor here is ${policy.minSubgroups}${tail}`);
  const required = requiredSubgroups(to);
  if (required < policy.minRequired) fail(C, `${where} requires ${required} subgroup(s); the floor here is ${policy.minRequired}${tail}`);
  for (const s of to.subgroups) {
    if (s.threshold < policy.minThreshold) fail(C, `subgroup ${s.id} of ${where} has threshold ${s.threshold}; the floor here is ${policy.minThreshold}${tail}`);
  }
  const kept = new Set(certKeyIdentities(to));
  const old = certKeyIdentities(from);
  const dropped = old.filter((id) => !kept.has(id)).length;
  if (old.length > 0 && dropped * BPS > policy.maxReplacedBps * old.length) {
    fail(C, `${where} drops ${dropped} of the ${old.length} nodes of epoch ${from.epoch}; at most ${policy.maxReplacedBps / 100}% may change per epoch here${tail}`);
  }
}

/**
 * Refuses (TRUSTING_PERIOD_EXPIRED) following a link from the known epoch `epoch` adopted
 * here at `adoptedAtMs` when `nowMs` is a trusting period or more later.
 */
export function checkTrustingPeriod(policy: TrustPolicy, chainId: string, epoch: number, adoptedAtMs: number, nowMs: number): void {
  if (nowMs - adoptedAtMs >= policy.trustingPeriodMs) {
    fail(
      'TRUSTING_PERIOD_EXPIRED',
      `epoch ${epoch} of ${chainId} was adopted here at ${adoptedAtMs}, ${nowMs - adoptedAtMs} ms ago; links are followed only within ${policy.trustingPeriodMs} ms of it. This chain's governance must register ${chainId}'s current list (register-remote)`,
    );
  }
}

/** What a destination stores about a remote chain that the link checks read. */
export interface PolicyHolder {
  chainId: string;
  epoch: number;
  epochAdoptedAtMs?: number;
  updatedAtMs: number;
  policy?: TrustPolicy;
}

/**
 * The link check a verifier applies for `remote` (protocol/verify.ts RemoteView.acceptLink):
 * the trusting period from the known epoch, then the trust floor for every list adopted.
 */
export function linkAcceptor(remote: PolicyHolder): (from: VerificationNodeList, to: VerificationNodeList, atMs: number) => void {
  const policy = remote.policy ?? DEFAULT_TRUST_POLICY;
  return (from, to, atMs) => {
    if (from.epoch === remote.epoch) checkTrustingPeriod(policy, remote.chainId, from.epoch, remote.epochAdoptedAtMs ?? remote.updatedAtMs, atMs);
    checkTrustFloor(policy, from, to);
  };
}
