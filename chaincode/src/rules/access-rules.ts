/**
 * Access decisions and emergency (break-glass) access. `checkAccess` is the one
 * function that says whether an org may read a record for a purpose at a time; the
 * contract calls it for CheckAccess (read-only) and for LogAccess (decided and logged
 * in the same transaction).
 */
import { fail } from '../errors';
import { asObject } from '../protocol/fields';
import { isPurposeOfUse, isRecordResourceType, isRequesterRole, PolicyFormats } from '../protocol/consent-policy/vocabulary';
import { CONSENT_ACTIONS, PURPOSES_OF_USE } from '../protocol/patient-messages';
import { evaluateConsentPolicy, type RecordMetadata } from './consent-policy';
import { actionCovered, consentStatusAt, purposeCovered, scopeCovers, type Consent, type PolicyConsent } from './consent-rules';
import type { Role } from './roles';

/** Emergency access lasts at most this long from the transaction that opens it. */
export const EMERGENCY_MAX_MS = 24 * 3_600_000;
export const EMERGENCY_DEFAULT_MS = 4 * 3_600_000;
export const EMERGENCY_REASON_MIN = 10;
export const EMERGENCY_REASON_MAX = 500;
/** The purpose of use an emergency opens access for (HL7 v3 ETREAT, emergency treatment). */
export const EMERGENCY_PURPOSE = 'ETREAT';

export interface Emergency {
  emergencyId: string;
  patientId: string;
  /** One record, or null for every record of the patient. */
  recordId: string | null;
  /** The org that may read under this emergency (the opener's org). */
  org: string;
  /**
   * The custodian whose implicit collection holds the emergency and who enforces it (its own
   * records only). Absent on an emergency opened before emergencies were private (public state).
   */
  custodian?: string;
  openedBy: string;
  openedByRole: Role;
  reason: string;
  openedAt: number;
  expiresAt: number;
  txId: string;
  review: {
    status: 'pending' | 'justified' | 'unjustified';
    reviewer: string | null;
    reviewerOrg: string | null;
    reviewedAt: number | null;
  };
}

export interface Opener {
  org: string;
  id: string;
  role: Role;
}

export function emergencyActiveAt(e: Emergency, t: number): boolean {
  return e.openedAt <= t && t < e.expiresAt;
}

/**
 * Opens emergency access. `sameOrgEmergencies` are the stored emergencies of this
 * patient for the opener's org: while one covering the same record is still open, a
 * second is refused (extend nothing silently; the first must expire or be reviewed).
 */
export function openEmergency(
  input: { patientId: string; recordId: string | null; custodian: string; reason: string; durationMs: number | null },
  opener: Opener,
  sameOrgEmergencies: Emergency[],
  now: number,
  txId: string,
): Emergency {
  const reason = input.reason.trim();
  if (reason.length < EMERGENCY_REASON_MIN || reason.length > EMERGENCY_REASON_MAX) {
    fail('INVALID_ARGUMENT', `reason must be ${EMERGENCY_REASON_MIN}..${EMERGENCY_REASON_MAX} characters (a code or short justification, no patient data)`);
  }
  const duration = input.durationMs ?? EMERGENCY_DEFAULT_MS;
  if (!Number.isSafeInteger(duration) || duration <= 0 || duration > EMERGENCY_MAX_MS) {
    fail('EMERGENCY_LIMIT', `emergency access lasts at most ${EMERGENCY_MAX_MS / 60_000} minutes`);
  }
  const overlapping = sameOrgEmergencies.find(
    (e) =>
      e.org === opener.org &&
      emergencyActiveAt(e, now) &&
      (e.recordId === null || e.recordId === input.recordId),
  );
  if (overlapping) {
    fail('EMERGENCY_LIMIT', `emergency ${overlapping.emergencyId} of ${opener.org} already covers this until ${overlapping.expiresAt}`);
  }
  return {
    emergencyId: `em_${txId}`,
    patientId: input.patientId,
    recordId: input.recordId,
    org: opener.org,
    custodian: input.custodian,
    openedBy: opener.id,
    openedByRole: opener.role,
    reason,
    openedAt: now,
    expiresAt: now + duration,
    txId,
    review: { status: 'pending', reviewer: null, reviewerOrg: null, reviewedAt: null },
  };
}

/** Records a privacy officer's review. One review per emergency, never by the opener. */
export function reviewEmergency(
  e: Emergency,
  reviewer: { org: string; id: string },
  outcome: string,
  now: number,
): Emergency {
  if (outcome !== 'justified' && outcome !== 'unjustified') fail('INVALID_ARGUMENT', 'outcome must be justified or unjustified');
  if (e.review.status !== 'pending') fail('ALREADY_REVIEWED', `emergency ${e.emergencyId} was reviewed as ${e.review.status}`);
  if (reviewer.id === e.openedBy) fail('FORBIDDEN_ROLE', 'the identity that opened an emergency may not review it');
  return { ...e, review: { status: outcome, reviewer: reviewer.id, reviewerOrg: reviewer.org, reviewedAt: now } };
}

export type AccessReason =
  | 'custodian'
  | 'consent'
  | 'emergency'
  | 'no-consent'
  | 'out-of-scope'
  | 'purpose-not-covered'
  | 'action-not-covered'
  | 'consent-revoked'
  | 'consent-expired'
  | 'consent-not-yet-valid'
  | 'emergency-expired'
  | 'consent-denied';

export interface AccessDecision {
  allowed: boolean;
  reason: AccessReason;
  consentId: string | null;
  emergencyId: string | null;
  /**
   * Set only when a consent v2 decided (`consentId` is that consent): the path of the
   * provision that decided, [] for the policy's own decision. Absent on every v1 decision.
   */
  provisionPath?: number[];
}

/**
 * Who asks, beyond their org, as the requesting org states it (CheckAccessAs / LogAccessAs):
 * the role in the requester's certificate, a pseudonymous practitioner and care-team id of
 * that org, and the policy (URI or id) the request is made under. Consent v2 provisions match
 * on them; v1 consents never read them. Null = not stated (a provision naming it then does not match).
 */
export interface Requester {
  org: string;
  role: string | null;
  practitioner: string | null;
  careTeam: string | null;
  policy: string | null;
}

const REQUESTER_FIELDS = ['org', 'role', 'practitioner', 'careTeam', 'policy'] as const;

/**
 * Parses a requester (untrusted JSON): `org` (MSP id) and optional `role`, `practitioner`,
 * `careTeam`, `policy`. INVALID_ARGUMENT names the field.
 *
 * @example parseRequester({ org: 'HospitalBMSP', role: 'clinician', careTeam: 'ct-dr-x' })
 */
export function parseRequester(input: unknown): Requester {
  const o = asObject(input, 'INVALID_ARGUMENT', 'requester', REQUESTER_FIELDS);
  const opt = (k: 'role' | 'practitioner' | 'careTeam' | 'policy', ok: (v: string) => boolean): string | null => {
    const v = o[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || !ok(v)) fail('INVALID_ARGUMENT', `requester.${k} is malformed`);
    return v;
  };
  if (typeof o.org !== 'string' || !PolicyFormats.mspId.test(o.org)) fail('INVALID_ARGUMENT', 'requester.org must be an MSP id');
  return {
    org: o.org,
    role: opt('role', isRequesterRole),
    practitioner: opt('practitioner', (v) => PolicyFormats.localId.test(v)),
    careTeam: opt('careTeam', (v) => PolicyFormats.localId.test(v)),
    policy: opt('policy', (v) => PolicyFormats.policy.test(v)),
  };
}

/** A requester known by its org only (CheckAccess / LogAccess). */
export function orgRequester(org: string): Requester {
  return { org, role: null, practitioner: null, careTeam: null, policy: null };
}

export interface AccessQuery {
  grantee: string;
  record: { recordId: string; patientId: string; custodian: string; category: string };
  purpose: string;
  action: string;
  at: number;
  /** Consents of this patient for this grantee (others are ignored); stored here or mirrored from another chain. */
  consents: Array<Pick<Consent, 'consentId' | 'patientId' | 'grantee' | 'terms' | 'status'>>;
  /** Emergencies of this patient (others are ignored). */
  emergencies: Emergency[];
  /** Consents v2 of this patient that can decide for this grantee (CONSENT.md "Consent language (v2)"). */
  policyConsents?: Array<Pick<PolicyConsent, 'consentId' | 'patientId' | 'policy' | 'status'>>;
  /** The requester's details for v2 policies; absent = known by org only. */
  requester?: Requester;
  /** The record as v2 policies see it (record-rules recordMetadataOf); required with policyConsents. */
  recordMetadata?: RecordMetadata;
}

/** Deny reasons from most to least specific, for consents whose scope covers the record. */
const DENY_ORDER: AccessReason[] = ['purpose-not-covered', 'action-not-covered', 'consent-revoked', 'consent-expired', 'consent-not-yet-valid'];

/**
 * The access decision, deterministic in its inputs: the custodian always reads its own
 * records; otherwise a consent v2 provision that denies this request refuses it (unless an
 * open emergency of the grantee's org covers it, purpose ETREAT: break-glass overrides
 * consent); otherwise an active v1 consent covering record, purpose and action allows (lowest
 * consent id first), then an active v2 consent whose policy permits (lowest id first, with the
 * provision path); otherwise an open emergency for purpose ETREAT; otherwise refused with the
 * most specific reason. Without v2 consents this is the v1 decision, unchanged.
 */
export function checkAccess(q: AccessQuery): AccessDecision {
  if (!(PURPOSES_OF_USE as readonly string[]).includes(q.purpose) && !isPurposeOfUse(q.purpose)) {
    fail('INVALID_ARGUMENT', `purpose ${q.purpose} is not one of ${PURPOSES_OF_USE.join(', ')} or another HL7 PurposeOfUse code medbridge knows`);
  }
  if (!(CONSENT_ACTIONS as readonly string[]).includes(q.action)) fail('INVALID_ARGUMENT', `action ${q.action} is not supported`);
  if (q.grantee === q.record.custodian) return decision(true, 'custodian');

  const consents = q.consents
    .filter((c) => c.grantee === q.grantee && c.patientId === q.record.patientId)
    .sort((a, b) => (a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0));
  const denials = new Set<AccessReason>();
  let v1: AccessDecision | null = null;
  for (const c of consents) {
    if (!scopeCovers(c.terms, q.record)) {
      denials.add('out-of-scope');
      continue;
    }
    const status = consentStatusAt(c, q.at);
    if (status === 'revoked') denials.add('consent-revoked');
    else if (status === 'expired') denials.add('consent-expired');
    else if (status === 'pending') denials.add('consent-not-yet-valid');
    else if (!purposeCovered(c.terms, q.purpose)) denials.add('purpose-not-covered');
    else if (!actionCovered(c.terms, q.action)) denials.add('action-not-covered');
    else {
      v1 = decision(true, 'consent', c.consentId);
      break;
    }
  }
  const v2 = decidePolicies(q, denials);

  const emergencies = q.emergencies
    .filter((e) => e.org === q.grantee && e.patientId === q.record.patientId && (e.recordId === null || e.recordId === q.record.recordId))
    .sort((a, b) => (a.emergencyId < b.emergencyId ? -1 : a.emergencyId > b.emergencyId ? 1 : 0));
  const open = q.purpose === EMERGENCY_PURPOSE ? emergencies.find((e) => emergencyActiveAt(e, q.at)) : undefined;
  if (v2.deny) return open ? decision(true, 'emergency', null, open.emergencyId) : v2.deny;
  if (v1) return v1;
  if (v2.permit) return v2.permit;
  if (open) return decision(true, 'emergency', null, open.emergencyId);
  for (const r of DENY_ORDER) if (denials.has(r)) return decision(false, r);
  if (q.purpose === EMERGENCY_PURPOSE && emergencies.length > 0) return decision(false, 'emergency-expired');
  if (denials.has('out-of-scope')) return decision(false, 'out-of-scope');
  return decision(false, 'no-consent');
}

/**
 * The consents v2 of the query, lowest id first: the first whose policy denies the request by
 * a provision (an explicit deny, which wins over every permit), and the first that permits.
 * A policy that does not permit by its base decision or outside its period adds out-of-scope;
 * an inactive consent adds its status, as a v1 consent would.
 */
function decidePolicies(q: AccessQuery, denials: Set<AccessReason>): { deny: AccessDecision | null; permit: AccessDecision | null } {
  const policies = (q.policyConsents ?? [])
    .filter((c) => c.patientId === q.record.patientId)
    .sort((a, b) => (a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0));
  let deny: AccessDecision | null = null;
  let permit: AccessDecision | null = null;
  if (policies.length === 0) return { deny, permit };
  const record = q.recordMetadata;
  if (record === undefined) fail('INVALID_ARGUMENT', 'a decision under consent v2 needs the record metadata');
  const r = q.requester ?? orgRequester(q.grantee);
  if (r.org !== q.grantee) fail('INVALID_ARGUMENT', 'requester.org is not the grantee');
  for (const c of policies) {
    const status = consentStatusAt(c, q.at);
    if (status !== 'active') {
      denials.add(status === 'revoked' ? 'consent-revoked' : status === 'expired' ? 'consent-expired' : 'consent-not-yet-valid');
      continue;
    }
    // A record anchored (before metadata existed) under a category that is not a record
    // resource type cannot be described to a policy: no v2 consent decides it.
    if (!isRecordResourceType(record.resourceType)) {
      denials.add('out-of-scope');
      continue;
    }
    const d = evaluateConsentPolicy(c.policy, {
      actor: { org: r.org, role: r.role, practitioner: r.practitioner, careTeam: r.careTeam },
      // A v1 `read` is a fetch of the record from its custodian: FHIR consentaction `access`.
      action: 'access',
      purpose: q.purpose,
      policy: r.policy,
      record,
      time: q.at,
    });
    if (d.decision === 'deny' && d.reason === 'provision') {
      deny ??= { ...decision(false, 'consent-denied', c.consentId), provisionPath: d.path };
    } else if (d.decision === 'permit') {
      permit ??= { ...decision(true, 'consent', c.consentId), provisionPath: d.path };
    } else {
      denials.add('out-of-scope');
    }
  }
  return { deny, permit };
}

function decision(allowed: boolean, reason: AccessReason, consentId: string | null = null, emergencyId: string | null = null): AccessDecision {
  return { allowed, reason, consentId, emergencyId };
}

/** One entry of a patient's access log: an access decision, or an emergency opened or reviewed. */
export interface AccessLogEntry {
  kind: 'access' | 'emergency-opened' | 'emergency-reviewed';
  patientId: string;
  recordId: string | null;
  /** The org that read, or may read (emergency). */
  requester: string;
  purpose: string;
  allowed: boolean;
  reason: string;
  consentId: string | null;
  emergencyId: string | null;
  /** Set on emergency entries: flagged until a privacy officer reviews. */
  review: string | null;
  loggedBy: string;
  requestId: string | null;
  time: number;
  txId: string;
  /** Set when a consent v2 decided: the path of the deciding provision ([] = the policy's own decision). */
  provisionPath?: number[];
  /** Set when the requester stated more than its org (LogAccessAs): role, practitioner, care team, policy. */
  requesterDetail?: Omit<Requester, 'org'>;
}

/** The access-log entry of an emergency opened or reviewed (by `loggedBy`, at `now`, in transaction `txId`). */
export function emergencyLogEntry(e: Emergency, kind: AccessLogEntry['kind'], loggedBy: string, now: number, txId: string): AccessLogEntry {
  return {
    kind,
    patientId: e.patientId,
    recordId: e.recordId,
    requester: e.org,
    purpose: EMERGENCY_PURPOSE,
    allowed: true,
    reason: 'emergency',
    consentId: null,
    emergencyId: e.emergencyId,
    review: e.review.status,
    loggedBy,
    requestId: null,
    time: now,
    txId,
  };
}

/** What an org must be to see one entry of a patient's access log (see `logEntryVisibleTo`). */
export interface LogCustody {
  /** The custodian of the entry's record, for an entry about one record. */
  recordCustodian: string | null;
  /** Whether the reading org holds (is the custodian of) at least one record of the patient. */
  holdsRecordOfPatient: boolean;
}

/**
 * Whether `org` may see an access-log entry through its own (org) read of the log.
 * Registering a patient's public key is open to any member org and grants nothing over
 * another custodian's data: an org sees the entries it is a party to (it read, was granted
 * an emergency, logged or reviewed), the entries about records it holds, and emergencies
 * opened on all of the patient's records if it holds one of them. The patient sees the whole
 * log through a signed read (ListAccessLogSigned).
 */
export function logEntryVisibleTo(
  entry: { requester: string; loggedBy: string; recordId: string | null },
  org: string,
  custody: LogCustody,
): boolean {
  if (entry.requester === org || entry.loggedBy === org) return true;
  if (entry.recordId !== null) return custody.recordCustodian === org;
  return custody.holdsRecordOfPatient;
}

/**
 * Who may review an emergency: the opening org, or a custodian of what it opened (the
 * record's custodian, or for an emergency on all records any org holding one of them).
 * Registering the patient alone is not enough.
 */
export function mayReviewEmergency(e: Pick<Emergency, 'org' | 'recordId' | 'custodian'>, org: string, custody: LogCustody): boolean {
  if (e.org === org) return true;
  // A private emergency names the one custodian that holds and enforces it.
  if (e.custodian !== undefined) return e.custodian === org;
  if (e.recordId !== null) return custody.recordCustodian === org;
  return custody.holdsRecordOfPatient;
}
