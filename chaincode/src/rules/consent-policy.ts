/**
 * The consent evaluator (CONSENT.md "Consent language (v2)", evaluation): a pure,
 * deterministic function of a parsed policy and one access request, returning the decision
 * and the path of the provision that made it. The path is what the access log records.
 *
 * Semantics, after FHIR R5 Consent:
 * 1. Outside the policy's `period` every request is denied (path [], `outside-consent-period`).
 * 2. A provision applies when each criterion it has matches the request (AND); a criterion
 *    matches when one of its values does (OR). Actors are OR-ed within one participation and
 *    AND-ed across participations (recipient, custodian, author).
 * 3. A provision's decision is the opposite of its parent's (the policy's `decision` for the
 *    top level). Of an applying provision, its applying exceptions decide in its place,
 *    recursively; with none, the provision itself decides.
 * 4. Among the applying provisions of one level, deny wins over permit; between equals the
 *    lowest index is reported.
 * 5. When no top-level provision applies, the policy's `decision` holds (path [], `base`).
 */
import { fail } from '../errors';
import { opposite, type ActorCriterion, type Coding, type ConsentPolicy, type Decision, type Period, type Provision } from '../protocol/consent-policy/model';
import {
  ACTION_MATCHED_BY,
  CONFIDENTIALITY_ORDER,
  DEFAULT_CONFIDENTIALITY,
  isConfidentiality,
  isPolicyAction,
  isPurposeOfUse,
  isRecordResourceType,
  isRequesterRole,
  isSecurityLabel,
  PolicyFormats,
  purposeAncestry,
  type PolicyAction,
} from '../protocol/consent-policy/vocabulary';

/** What the custodian states about a record when anchoring or amending it. */
export interface RecordMetadata {
  recordId: string;
  /** FHIR resource type (the anchor's category). */
  resourceType: string;
  /** At most one confidentiality code (none = N) and any sensitivity codes. */
  securityLabels: string[];
  /** When the record's data was produced, ms since the epoch. */
  dataDate: number;
  /** The org that authored the record. */
  authorOrg: string;
  /** The org that holds the record (the anchor's custodian). */
  custodian: string;
  /** Document classes the custodian assigned (may be empty). */
  documentClasses: Coding[];
}

/** One request to be decided: who asks, to do what, why, on which record, when. */
export interface AccessRequest {
  actor: {
    org: string;
    /** The requester's role as its org's certificate states it, if known. */
    role: string | null;
    /** The requester's pseudonymous practitioner id within its org, if known. */
    practitioner: string | null;
    /** The requester's care team id within its org, if known. */
    careTeam: string | null;
  };
  action: PolicyAction;
  /** One HL7 v3 PurposeOfUse code. */
  purpose: string;
  /** The policy (URI or id) the requester says it acts under, if any. */
  policy: string | null;
  record: RecordMetadata;
  /** The transaction time, ms since the epoch. */
  time: number;
}

export type PolicyReason = 'base' | 'provision' | 'outside-consent-period';

export interface PolicyDecision {
  decision: Decision;
  /** Indexes from the top-level provisions down to the provision that decided; [] for the policy itself. */
  path: number[];
  reason: PolicyReason;
}

/**
 * Decides a request under a parsed policy (parseConsentPolicy). Throws INVALID_ARGUMENT
 * only for a malformed request; every well-formed request gets a decision.
 *
 * @example evaluateConsentPolicy(policy, request) // { decision: 'deny', path: [0, 1], reason: 'provision' }
 */
export function evaluateConsentPolicy(policy: ConsentPolicy, request: AccessRequest): PolicyDecision {
  validateAccessRequest(request);
  if (policy.period !== undefined && !inPeriod(policy.period, request.time)) {
    return { decision: 'deny', path: [], reason: 'outside-consent-period' };
  }
  return decideAmong(policy.provisions ?? [], policy.decision, [], request) ?? { decision: policy.decision, path: [], reason: 'base' };
}

/** The outcome among sibling provisions whose parent decided `parent`, or null when none applies. */
function decideAmong(provisions: readonly Provision[], parent: Decision, prefix: number[], r: AccessRequest): PolicyDecision | null {
  const own = opposite(parent);
  let permit: PolicyDecision | null = null;
  for (let i = 0; i < provisions.length; i++) {
    const p = provisions[i] as Provision;
    if (!applies(p, r)) continue;
    const path = [...prefix, i];
    const outcome = decideAmong(p.provisions ?? [], own, path, r) ?? { decision: own, path, reason: 'provision' as const };
    if (outcome.decision === 'deny') return outcome;
    permit ??= outcome;
  }
  return permit;
}

/** Whether every criterion of the provision matches the request. */
export function applies(p: Provision, r: AccessRequest): boolean {
  if (p.period !== undefined && !inPeriod(p.period, r.time)) return false;
  if (p.actors !== undefined && !actorsMatch(p.actors, r)) return false;
  if (p.actions !== undefined && !ACTION_MATCHED_BY[r.action].some((a) => p.actions!.includes(a))) return false;
  if (p.purposes !== undefined && !purposeAncestry(r.purpose).some((c) => p.purposes!.includes(c))) return false;
  if (p.securityLabels !== undefined && !p.securityLabels.some((l) => labelCovers(l, r.record.securityLabels))) return false;
  if (p.resourceTypes !== undefined && !p.resourceTypes.includes(r.record.resourceType)) return false;
  if (p.documentClasses !== undefined && !p.documentClasses.some((c) => r.record.documentClasses.some((d) => d.system === c.system && d.code === c.code))) {
    return false;
  }
  if (p.dataPeriod !== undefined && !inPeriod(p.dataPeriod, r.record.dataDate)) return false;
  if (p.records !== undefined && !p.records.includes(r.record.recordId)) return false;
  if (p.policies !== undefined && (r.policy === null || !p.policies.includes(r.policy))) return false;
  return true;
}

export function inPeriod(p: Period, t: number): boolean {
  return (p.start === undefined || p.start <= t) && (p.end === undefined || t < p.end);
}

function actorsMatch(actors: readonly ActorCriterion[], r: AccessRequest): boolean {
  for (const participation of ['recipient', 'custodian', 'author'] as const) {
    const group = actors.filter((a) => a.participation === participation);
    if (group.length > 0 && !group.some((a) => actorMatches(a, r))) return false;
  }
  return true;
}

function actorMatches(a: ActorCriterion, r: AccessRequest): boolean {
  switch (a.participation) {
    case 'custodian':
      return a.org === r.record.custodian;
    case 'author':
      return a.org === r.record.authorOrg;
    case 'recipient':
      return (
        (a.org === undefined || a.org === r.actor.org) &&
        (a.role === undefined || a.role === r.actor.role) &&
        (a.practitioner === undefined || a.practitioner === r.actor.practitioner) &&
        (a.careTeam === undefined || a.careTeam === r.actor.careTeam)
      );
  }
}

/** Confidentiality is a high-water mark (label R covers records up to R); sensitivity codes match exactly. */
function labelCovers(label: string, recordLabels: readonly string[]): boolean {
  if (!isConfidentiality(label)) return recordLabels.includes(label);
  const recordLevel = recordLabels.find(isConfidentiality) ?? DEFAULT_CONFIDENTIALITY;
  return rank(recordLevel) <= rank(label);
}

function rank(c: string): number {
  return (CONFIDENTIALITY_ORDER as readonly string[]).indexOf(c);
}

/** Checks a request's vocabulary and formats; INVALID_ARGUMENT names the field. */
export function validateAccessRequest(r: AccessRequest): void {
  const bad = (what: string, why: string): never => fail('INVALID_ARGUMENT', `access request ${what} ${why}`);
  if (!PolicyFormats.mspId.test(r.actor.org)) bad('actor.org', 'is not an MSP id');
  if (r.actor.role !== null && !isRequesterRole(r.actor.role)) bad('actor.role', `is not a requester role: ${r.actor.role}`);
  if (r.actor.practitioner !== null && !PolicyFormats.localId.test(r.actor.practitioner)) bad('actor.practitioner', 'is malformed');
  if (r.actor.careTeam !== null && !PolicyFormats.localId.test(r.actor.careTeam)) bad('actor.careTeam', 'is malformed');
  if (!isPolicyAction(r.action)) bad('action', `is not a consent action: ${String(r.action)}`);
  if (!isPurposeOfUse(r.purpose)) bad('purpose', `is not a purpose of use medbridge knows: ${r.purpose}`);
  if (r.policy !== null && !PolicyFormats.policy.test(r.policy)) bad('policy', 'is malformed');
  if (!Number.isSafeInteger(r.time)) bad('time', 'is not an integer');
  validateRecordMetadata(r.record);
}

/** Checks what a request states about its record; INVALID_ARGUMENT names the field. */
export function validateRecordMetadata(m: RecordMetadata): void {
  const bad = (what: string, why: string): never => fail('INVALID_ARGUMENT', `access request ${what} ${why}`);
  if (!PolicyFormats.recordId.test(m.recordId)) bad('record.recordId', 'is malformed');
  if (!isRecordResourceType(m.resourceType)) bad('record.resourceType', `is not a record resource type: ${m.resourceType}`);
  for (const l of m.securityLabels) if (!isSecurityLabel(l)) bad('record.securityLabels', `holds an unknown label: ${l}`);
  if (m.securityLabels.filter(isConfidentiality).length > 1) bad('record.securityLabels', 'holds more than one confidentiality code');
  if (!Number.isSafeInteger(m.dataDate)) bad('record.dataDate', 'is not an integer');
  if (!PolicyFormats.mspId.test(m.authorOrg)) bad('record.authorOrg', 'is not an MSP id');
  if (!PolicyFormats.mspId.test(m.custodian)) bad('record.custodian', 'is not an MSP id');
  for (const c of m.documentClasses) {
    if (!PolicyFormats.system.test(c.system) || !PolicyFormats.code.test(c.code)) bad('record.documentClasses', 'holds a malformed coding');
  }
}

// ---------------------------------------------------------------------------------------
// grant-time checks and what a policy can grant

/** Longest period a single consent may be in force (as for v1 grants). */
export const MAX_POLICY_PERIOD_MS = 5 * 365 * 86_400_000;

/**
 * Checks a parsed policy at grant time `now`: it is in force for a bounded period of at most
 * five years that has not ended. INVALID_ARGUMENT / CONSENT_EXPIRED.
 */
export function validatePolicyForGrant(policy: ConsentPolicy, now: number): void {
  const p = policy.period;
  if (p?.start === undefined || p.end === undefined) fail('INVALID_ARGUMENT', 'a consent must state when it starts and ends (policy.period)');
  if (p.end - p.start > MAX_POLICY_PERIOD_MS) fail('INVALID_ARGUMENT', 'policy.period is longer than 5 years');
  if (p.end <= now) fail('CONSENT_EXPIRED', `the consent period ended at ${p.end}, before the transaction time`);
}

/**
 * The requester orgs a policy can ever permit: `any` when some permit holds for requesters
 * of every org (a base permit, or a permit whose provisions and ancestors name no recipient
 * org), else the sorted list of orgs named. Where a grant must be indexed and carried.
 */
export function permittedRecipientOrgs(policy: ConsentPolicy): { any: true } | { any: false; orgs: string[] } {
  if (policy.decision === 'permit') return { any: true };
  const orgs = new Set<string>();
  let any = false;
  const walk = (provisions: readonly Provision[], decision: Decision, inherited: Set<string> | null): void => {
    for (const p of provisions) {
      const own = recipientOrgs(p);
      const effective = inherited === null ? own : own === null ? inherited : new Set([...own].filter((o) => inherited.has(o)));
      if (decision === 'permit') {
        if (effective === null) any = true;
        else effective.forEach((o) => orgs.add(o));
      }
      walk(p.provisions ?? [], opposite(decision), effective);
    }
  };
  walk(policy.provisions ?? [], 'permit', null);
  return any ? { any: true } : { any: false, orgs: [...orgs].sort() };
}

/**
 * The part of a consent's reach (permittedRecipientOrgs, or a v1 grantee as `{any: false, orgs:
 * [grantee]}`) that lies outside a chain's `members`: none, and the clients keep the consent
 * privately on that chain by default; some, or every org, and it is public, since only a public
 * consent crosses chains (CONSENT.md "Private consents").
 *
 * @example reachOutside({ any: false, orgs: ['HospitalBMSP'] }, ['HospitalAMSP', 'HospitalCMSP']) // { any: false, orgs: ['HospitalBMSP'] }
 */
export function reachOutside(reach: { any: true } | { any: false; orgs: readonly string[] }, members: readonly string[]): { any: true } | { any: false; orgs: string[] } {
  return reach.any ? reach : { any: false, orgs: reach.orgs.filter((org) => !members.includes(org)) };
}

/** The orgs a provision's recipient actors restrict the requester to; null when unrestricted. */
function recipientOrgs(p: Provision): Set<string> | null {
  const recipients = (p.actors ?? []).filter((a) => a.participation === 'recipient');
  if (recipients.length === 0) return null;
  const orgs = new Set<string>();
  for (const a of recipients) {
    if (a.org === undefined) return null;
    orgs.add(a.org);
  }
  return orgs;
}
