/**
 * Access decisions and emergency (break-glass) access. `checkAccess` is the one
 * function that says whether an org may read a record for a purpose at a time; the
 * contract calls it for CheckAccess (read-only) and for LogAccess (decided and logged
 * in the same transaction).
 */
import { fail } from '../errors';
import { CONSENT_ACTIONS, PURPOSES_OF_USE } from '../protocol/patient-messages';
import { actionCovered, consentStatusAt, purposeCovered, scopeCovers, type Consent } from './consent-rules';
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
  input: { patientId: string; recordId: string | null; reason: string; durationMs: number | null },
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
  | 'emergency-expired';

export interface AccessDecision {
  allowed: boolean;
  reason: AccessReason;
  consentId: string | null;
  emergencyId: string | null;
}

export interface AccessQuery {
  grantee: string;
  record: { recordId: string; patientId: string; custodian: string; category: string };
  purpose: string;
  action: string;
  at: number;
  /** Consents of this patient for this grantee (others are ignored). */
  consents: Consent[];
  /** Emergencies of this patient (others are ignored). */
  emergencies: Emergency[];
}

/** Deny reasons from most to least specific, for consents whose scope covers the record. */
const DENY_ORDER: AccessReason[] = ['purpose-not-covered', 'action-not-covered', 'consent-revoked', 'consent-expired', 'consent-not-yet-valid'];

/**
 * The access decision, deterministic in its inputs: the custodian always reads its own
 * records; otherwise an active consent covering record, purpose and action allows
 * (lowest consent id first); otherwise an open emergency of the grantee's org for
 * purpose ETREAT; otherwise refused with the most specific reason.
 */
export function checkAccess(q: AccessQuery): AccessDecision {
  if (!(PURPOSES_OF_USE as readonly string[]).includes(q.purpose)) {
    fail('INVALID_ARGUMENT', `purpose ${q.purpose} is not one of ${PURPOSES_OF_USE.join(', ')}`);
  }
  if (!(CONSENT_ACTIONS as readonly string[]).includes(q.action)) fail('INVALID_ARGUMENT', `action ${q.action} is not supported`);
  if (q.grantee === q.record.custodian) return decision(true, 'custodian');

  const consents = q.consents
    .filter((c) => c.grantee === q.grantee && c.patientId === q.record.patientId)
    .sort((a, b) => (a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0));
  const denials = new Set<AccessReason>();
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
    else return decision(true, 'consent', c.consentId);
  }

  const emergencies = q.emergencies
    .filter((e) => e.org === q.grantee && e.patientId === q.record.patientId && (e.recordId === null || e.recordId === q.record.recordId))
    .sort((a, b) => (a.emergencyId < b.emergencyId ? -1 : a.emergencyId > b.emergencyId ? 1 : 0));
  if (q.purpose === EMERGENCY_PURPOSE) {
    const open = emergencies.find((e) => emergencyActiveAt(e, q.at));
    if (open) return decision(true, 'emergency', null, open.emergencyId);
  }
  for (const r of DENY_ORDER) if (denials.has(r)) return decision(false, r);
  if (q.purpose === EMERGENCY_PURPOSE && emergencies.length > 0) return decision(false, 'emergency-expired');
  if (denials.has('out-of-scope')) return decision(false, 'out-of-scope');
  return decision(false, 'no-consent');
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
export function mayReviewEmergency(e: Pick<Emergency, 'org' | 'recordId'>, org: string, custody: LogCustody): boolean {
  if (e.org === org) return true;
  if (e.recordId !== null) return custody.recordCustodian === org;
  return custody.holdsRecordOfPatient;
}
