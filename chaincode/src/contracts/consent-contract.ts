/**
 * `Consent`: patients, record anchors, patient-signed consents, access decisions with
 * their log (accounting of disclosures), break-glass access, and the read side of
 * consents mirrored from other chains. Thin: each method parses, authorises, loads,
 * calls a rule from rules/, writes, and emits exactly one event per state change.
 * Roles and rules: chaincode/CONSENT.md.
 */
import { Context, Info, Transaction } from 'fabric-contract-api';
import { MedbridgeContract } from './medbridge-contract';
import { requireCarriable } from './consent-bridge';
import { fail } from '../errors';
import { canonicalize, parseJson } from '../protocol/canonical-json';
import {
  Formats,
  keyIdOf,
  patientIdOf,
  verifyPatientMessage,
  type PatientMessage,
  type PatientMessageKind,
  type VerifiedPatientMessage,
} from '../protocol/patient-messages';
import { checkAccess, logEntryVisibleTo, mayReviewEmergency, openEmergency, reviewEmergency, type AccessDecision, type Emergency } from '../rules/access-rules';
import { consentStatusAt, grantConsent, purposeCovered, revokeConsent, type Consent, type SignedBy } from '../rules/consent-rules';
import {
  authoriseGuardian,
  checkFreshness,
  MAX_MESSAGE_AGE_MS,
  MAX_READ_AGE_MS,
  registerPatient,
  requireRegisteredBy,
  revokeGuardian,
  signerAuthority,
  type Guardian,
  type Patient,
} from '../rules/patient-rules';
import { amendRecord, anchorRecord, hashMatches, validateHash, type RecordAnchor, type RecordVersion } from '../rules/record-rules';
import type { RemoteConsent } from '../rules/remote-consent-rules';
import { key, KeyTypes, pad } from '../state/keys';
import { getMemberSet, requireMember } from '../state/members';
import { exists, getJson, listAllByPartialKey, listByPartialKey, mustGetJson, putJson, type Page } from '../state/store';
import { requireRole, txTimeMs, type Caller, type Role } from './tx-context';

/** Hospital staff and service identities that write records and log access (admin passes as member). */
const WRITER_ROLES: Role[] = ['member', 'clinician'];
/** Any staff identity of a member org: couriers for patient-signed messages, and readers. */
const STAFF_ROLES: Role[] = ['member', 'clinician', 'privacy-officer'];
/**
 * Break-glass is a clinician's act only (README "Consent", CONSENT.md "Roles"): the
 * `medbridge.role=clinician` attribute of the caller's certificate, which the org's CA
 * issues. A plain member, an admin or a privacy officer of the org is FORBIDDEN_ROLE.
 */
const EMERGENCY_ROLES: Role[] = ['clinician'];
const REVIEWER_ROLES: Role[] = ['privacy-officer', 'admin'];

const DEFAULT_PAGE_SIZE = 50;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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

type WithStatus<T> = T & { effectiveStatus: string };

@Info({ title: 'Consent', description: 'Patient-owned consent, record anchors, access log and break-glass access' })
export class ConsentContract extends MedbridgeContract {
  constructor() {
    super('Consent');
  }

  // ------------------------------------------------------------------ patients

  /** Registers a patient's public key (base64 SPKI DER, P-256) at the caller's org. */
  @Transaction()
  async RegisterPatient(ctx: Context, publicKey: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const patientId = patientIdOf(publicKey);
    const existing = await getJson<Patient>(ctx.stub, key(ctx.stub, KeyTypes.Patient, patientId));
    const patient = registerPatient(existing, publicKey, who.mspId, txTimeMs(ctx));
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Patient, patientId), patient);
    emit(ctx, 'PatientRegistered', { patientId, org: who.mspId, registeredBy: patient.registeredBy, txId: ctx.stub.getTxID() });
    return canonicalize(patient);
  }

  @Transaction(false)
  async GetPatient(ctx: Context, patientId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    return canonicalize(await loadPatient(ctx, patientId));
  }

  // ------------------------------------------------------------------ records

  /** Anchors version 1 of a record held off chain by the caller's org (the custodian). */
  @Transaction()
  async AnchorRecord(ctx: Context, recordId: string, patientId: string, category: string, hash: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const now = txTimeMs(ctx);
    const input = { recordId, patientId, category, hash };
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    const patient = await getJson<Patient>(ctx.stub, key(ctx.stub, KeyTypes.Patient, patientId));
    requireRegisteredBy(patient, patientId, who.mspId);
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const existing = await getJson<RecordAnchor>(ctx.stub, key(ctx.stub, KeyTypes.Record, recordId));
    const { anchor, version } = anchorRecord(existing, input, who.mspId, now, ctx.stub.getTxID());
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Record, recordId), anchor);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.RecordVersion, recordId, pad(version.version)), version);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.RecordByCustodian, patientId, who.mspId, recordId), { recordId });
    emit(ctx, 'RecordAnchored', eventOfRecord(anchor));
    return canonicalize(anchor);
  }

  /** Anchors the next version of a record; only the custodian, only from the current version. */
  @Transaction()
  async AmendRecord(ctx: Context, recordId: string, hash: string, expectedVersion: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const head = await loadRecord(ctx, recordId);
    const headVersion = await mustGetJson<RecordVersion>(
      ctx.stub,
      key(ctx.stub, KeyTypes.RecordVersion, recordId, pad(head.version)),
      `version ${head.version} of record ${recordId}`,
    );
    const expected = parseCount(expectedVersion, 'expectedVersion');
    const { anchor, version } = amendRecord(head, headVersion, { hash, expectedVersion: expected }, who.mspId, txTimeMs(ctx), ctx.stub.getTxID());
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Record, recordId), anchor);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.RecordVersion, recordId, pad(version.version)), version);
    emit(ctx, 'RecordAmended', eventOfRecord(anchor));
    return canonicalize(anchor);
  }

  @Transaction(false)
  async GetRecord(ctx: Context, recordId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    return canonicalize(await loadRecord(ctx, recordId));
  }

  /** Every version of a record, oldest first, paged. */
  @Transaction(false)
  async GetRecordHistory(ctx: Context, recordId: string, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    await loadRecord(ctx, recordId);
    const page = await listByPartialKey<RecordVersion>(ctx.stub, KeyTypes.RecordVersion, [recordId], parsePageSize(pageSize), bookmark);
    return canonicalize(page);
  }

  /** Whether a salted hash is the anchored one, for the head or a given version ('' = head). */
  @Transaction(false)
  async VerifyRecordHash(ctx: Context, recordId: string, hash: string, version: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    validateHash(hash);
    const head = await loadRecord(ctx, recordId);
    const v = version === '' ? head.version : parseCount(version, 'version');
    const anchored =
      v === head.version
        ? head
        : await mustGetJson<RecordVersion>(ctx.stub, key(ctx.stub, KeyTypes.RecordVersion, recordId, pad(v)), `version ${v} of record ${recordId}`);
    return canonicalize({ recordId, version: v, headVersion: head.version, match: hashMatches(anchored, hash) });
  }

  // ------------------------------------------------------------------ guardians

  /** Stores a patient-signed guardian.authorise message. */
  @Transaction()
  async AuthoriseGuardian(ctx: Context, signedDelegation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedDelegation, ['guardian.authorise'], MAX_MESSAGE_AGE_MS);
    const gKey = key(ctx.stub, KeyTypes.Guardian, a.patient.patientId, keyIdOf(a.verified.message.guardian.publicKey));
    const existing = await getJson<Guardian>(ctx.stub, gKey);
    const guardian = authoriseGuardian(existing, a.verified, a.now, ctx.stub.getTxID());
    await putJson(ctx.stub, gKey, guardian);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'GuardianAuthorised', { patientId: guardian.patientId, guardianId: guardian.guardianId, notAfter: guardian.notAfter, txId: ctx.stub.getTxID() });
    return canonicalize(guardian);
  }

  /** Applies a patient-signed guardian.revoke message; takes effect for every later message. */
  @Transaction()
  async RevokeGuardian(ctx: Context, signedRevocation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRevocation, ['guardian.revoke'], MAX_MESSAGE_AGE_MS);
    const gKey = key(ctx.stub, KeyTypes.Guardian, a.patient.patientId, a.verified.message.guardianId);
    const guardian = revokeGuardian(await getJson<Guardian>(ctx.stub, gKey), a.verified, a.now, ctx.stub.getTxID());
    await putJson(ctx.stub, gKey, guardian);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'GuardianRevoked', { patientId: guardian.patientId, guardianId: guardian.guardianId, txId: ctx.stub.getTxID() });
    return canonicalize(guardian);
  }

  @Transaction(false)
  async GetGuardian(ctx: Context, patientId: string, guardianId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const g = await mustGetJson<Guardian>(ctx.stub, key(ctx.stub, KeyTypes.Guardian, patientId, guardianId), `guardian ${guardianId}`);
    return canonicalize({ ...g, active: g.status === 'active' && txTimeMs(ctx) < g.notAfter });
  }

  // ------------------------------------------------------------------ consents

  /** Stores a consent from a consent.grant message signed by the patient or an authorised guardian. */
  @Transaction()
  async GrantConsent(ctx: Context, signedGrant: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedGrant, ['consent.grant'], MAX_MESSAGE_AGE_MS);
    const consent = grantConsent(a.verified, a.signedBy, a.now, ctx.stub.getTxID());
    requireCarriable(consent, a.patient.publicKey);
    const cKey = key(ctx.stub, KeyTypes.Consent, consent.consentId);
    if (await exists(ctx.stub, cKey)) fail('ALREADY_EXISTS', `consent ${consent.consentId} already exists`);
    await putJson(ctx.stub, cKey, consent);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.ConsentByPatient, consent.patientId, consent.consentId), { consentId: consent.consentId });
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.ConsentByGrantee, consent.grantee, consent.patientId, consent.consentId), {
      consentId: consent.consentId,
    });
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'ConsentGranted', eventOfConsent(consent, ctx));
    return canonicalize(withStatus(consent, a.now));
  }

  /** Revokes a consent from a consent.revoke message; every later check on this chain refuses. */
  @Transaction()
  async RevokeConsent(ctx: Context, signedRevocation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRevocation, ['consent.revoke'], MAX_MESSAGE_AGE_MS);
    const cKey = key(ctx.stub, KeyTypes.Consent, a.verified.message.consentId);
    const stored = await mustGetJson<Consent>(ctx.stub, cKey, `consent ${a.verified.message.consentId}`);
    const consent = revokeConsent(stored, a.verified, a.signedBy, a.now, ctx.stub.getTxID());
    await putJson(ctx.stub, cKey, consent);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'ConsentRevoked', eventOfConsent(consent, ctx));
    return canonicalize(withStatus(consent, a.now));
  }

  @Transaction(false)
  async GetConsent(ctx: Context, consentId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const c = await mustGetJson<Consent>(ctx.stub, key(ctx.stub, KeyTypes.Consent, consentId), `consent ${consentId}`);
    return canonicalize(withStatus(c, txTimeMs(ctx)));
  }

  /** A patient's consents in consent-id order, paged. */
  @Transaction(false)
  async ListConsentsByPatient(ctx: Context, patientId: string, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const now = txTimeMs(ctx);
    const page = await listByPartialKey<{ consentId: string }>(ctx.stub, KeyTypes.ConsentByPatient, [patientId], parsePageSize(pageSize), bookmark);
    const items: Array<WithStatus<Consent>> = [];
    for (const { consentId } of page.items) {
      const c = await mustGetJson<Consent>(ctx.stub, key(ctx.stub, KeyTypes.Consent, consentId), `consent ${consentId}`);
      items.push(withStatus(c, now));
    }
    return canonicalize({ items, bookmark: page.bookmark });
  }

  // ------------------------------------------------------------------ access

  /** Read-only access decision at the transaction time; logs nothing. */
  @Transaction(false)
  async CheckAccess(ctx: Context, grantee: string, recordId: string, purpose: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const record = await loadRecord(ctx, recordId);
    return canonicalize(await decide(ctx, grantee, record, purpose, txTimeMs(ctx)));
  }

  /**
   * Decides access for an off-chain fetch at the transaction time and logs the decision,
   * granted or refused (accounting of disclosures). Called by the custodian's gateway.
   */
  @Transaction()
  async LogAccess(ctx: Context, requesterOrg: string, recordId: string, purpose: string, requestId: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const now = txTimeMs(ctx);
    const record = await loadRecord(ctx, recordId);
    if (record.custodian !== who.mspId) fail('NOT_CUSTODIAN', `only ${record.custodian}, the custodian of ${recordId}, logs its disclosures`);
    if (requestId !== '' && !REQUEST_ID.test(requestId)) fail('INVALID_ARGUMENT', `requestId must match ${REQUEST_ID.source} or be empty`);
    const d = await decide(ctx, requesterOrg, record, purpose, now);
    const entry: AccessLogEntry = {
      kind: 'access',
      patientId: record.patientId,
      recordId,
      requester: requesterOrg,
      purpose,
      allowed: d.allowed,
      reason: d.reason,
      consentId: d.consentId,
      emergencyId: d.emergencyId,
      review: null,
      loggedBy: who.mspId,
      requestId: requestId === '' ? null : requestId,
      time: now,
      txId: ctx.stub.getTxID(),
    };
    await putJson(ctx.stub, accessLogKey(ctx, record.patientId, now), entry);
    emit(ctx, 'AccessLogged', { patientId: record.patientId, recordId, requester: requesterOrg, allowed: d.allowed, reason: d.reason, txId: entry.txId });
    return canonicalize({ ...d, recordId, hash: record.hash, version: record.version, txId: entry.txId });
  }

  /**
   * A patient's access log as the caller's org may see it, oldest first, paged: for an org
   * that registered the patient, the entries it is a party to and those about records it
   * holds (access-rules `logEntryVisibleTo`; a page may hold fewer items than its size).
   * Registering a patient grants no view of another custodian's entries.
   */
  @Transaction(false)
  async ListAccessLog(ctx: Context, patientId: string, pageSize: string, bookmark: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const patient = await getJson<Patient>(ctx.stub, key(ctx.stub, KeyTypes.Patient, patientId));
    requireRegisteredBy(patient, patientId, who.mspId);
    const page = await listAccessLog(ctx, patientId, pageSize, bookmark);
    const holds = await holdsRecordOf(ctx, patientId, who.mspId);
    const custodians = new Map<string, string>();
    const items: AccessLogEntry[] = [];
    for (const entry of page.items) {
      let recordCustodian: string | null = null;
      if (entry.recordId !== null) {
        if (!custodians.has(entry.recordId)) {
          const anchor = await getJson<RecordAnchor>(ctx.stub, key(ctx.stub, KeyTypes.Record, entry.recordId));
          custodians.set(entry.recordId, anchor?.custodian ?? '');
        }
        recordCustodian = custodians.get(entry.recordId) ?? null;
      }
      if (logEntryVisibleTo(entry, who.mspId, { recordCustodian, holdsRecordOfPatient: holds })) items.push(entry);
    }
    return canonicalize({ items, bookmark: page.bookmark });
  }

  /**
   * A patient's (or guardian's) own read of the access log, authenticated by a fresh
   * access-log.read message signed with their key (issued within 5 minutes of the query).
   */
  @Transaction(false)
  async ListAccessLogSigned(ctx: Context, signedRead: string, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRead, ['access-log.read'], MAX_READ_AGE_MS);
    return canonicalize(await listAccessLog(ctx, a.patient.patientId, pageSize, bookmark));
  }

  // ------------------------------------------------------------------ emergency access

  /**
   * Opens time-limited emergency access (purpose ETREAT) for the caller's org to one record
   * of a patient, or to all ('' recordId). durationMinutes '' = 240, at most 1440.
   * Flagged for review and written to the patient's access log.
   */
  @Transaction()
  async BreakGlass(ctx: Context, patientId: string, recordId: string, reason: string, durationMinutes: string): Promise<string> {
    const who = await staff(ctx, EMERGENCY_ROLES);
    const now = txTimeMs(ctx);
    await loadPatient(ctx, patientId);
    if (recordId !== '') {
      const record = await loadRecord(ctx, recordId);
      if (record.patientId !== patientId) fail('INVALID_ARGUMENT', `record ${recordId} belongs to another patient`);
    }
    const durationMs = durationMinutes === '' ? null : parseCount(durationMinutes, 'durationMinutes') * 60_000;
    const mine = await loadEmergencies(ctx, patientId, who.mspId);
    const e = openEmergency(
      { patientId, recordId: recordId === '' ? null : recordId, reason, durationMs },
      { org: who.mspId, id: who.id, role: who.role },
      mine,
      now,
      ctx.stub.getTxID(),
    );
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.Emergency, e.emergencyId), e);
    await putJson(ctx.stub, key(ctx.stub, KeyTypes.EmergencyByPatient, patientId, who.mspId, e.emergencyId), { emergencyId: e.emergencyId });
    await putJson(ctx.stub, accessLogKey(ctx, patientId, now), emergencyLogEntry(e, 'emergency-opened', who.mspId, now, ctx.stub.getTxID()));
    emit(ctx, 'EmergencyOpened', {
      emergencyId: e.emergencyId,
      patientId,
      recordId: e.recordId,
      org: e.org,
      expiresAt: e.expiresAt,
      txId: e.txId,
    });
    return canonicalize(e);
  }

  /**
   * A privacy officer's (or admin's) review of an emergency: justified or unjustified.
   * The reviewer's org is the opener's org or a custodian of the patient.
   */
  @Transaction()
  async ReviewEmergency(ctx: Context, emergencyId: string, outcome: string): Promise<string> {
    const who = await staff(ctx, REVIEWER_ROLES);
    const now = txTimeMs(ctx);
    const eKey = key(ctx.stub, KeyTypes.Emergency, emergencyId);
    const e = await mustGetJson<Emergency>(ctx.stub, eKey, `emergency ${emergencyId}`);
    await loadPatient(ctx, e.patientId);
    const recordCustodian = e.recordId === null ? null : (await loadRecord(ctx, e.recordId)).custodian;
    const holds = await holdsRecordOf(ctx, e.patientId, who.mspId);
    if (!mayReviewEmergency(e, who.mspId, { recordCustodian, holdsRecordOfPatient: holds })) {
      fail('UNAUTHORIZED', `${who.mspId} is neither the opening org nor a custodian of a record this emergency opened`);
    }
    const reviewed = reviewEmergency(e, { org: who.mspId, id: who.id }, outcome, now);
    await putJson(ctx.stub, eKey, reviewed);
    await putJson(ctx.stub, accessLogKey(ctx, e.patientId, now), emergencyLogEntry(reviewed, 'emergency-reviewed', who.mspId, now, ctx.stub.getTxID()));
    emit(ctx, 'EmergencyReviewed', { emergencyId, patientId: e.patientId, outcome: reviewed.review.status, reviewerOrg: who.mspId, txId: ctx.stub.getTxID() });
    return canonicalize(reviewed);
  }

  @Transaction(false)
  async GetEmergency(ctx: Context, emergencyId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const e = await mustGetJson<Emergency>(ctx.stub, key(ctx.stub, KeyTypes.Emergency, emergencyId), `emergency ${emergencyId}`);
    return canonicalize({ ...e, active: e.openedAt <= txTimeMs(ctx) && txTimeMs(ctx) < e.expiresAt });
  }

  /** Every emergency on this chain in id order, paged (the review queue). */
  @Transaction(false)
  async ListEmergencies(ctx: Context, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, REVIEWER_ROLES);
    return canonicalize(await listByPartialKey<Emergency>(ctx.stub, KeyTypes.Emergency, [], parsePageSize(pageSize), bookmark));
  }

  // ------------------------------------------------------------------ consents from other chains

  /** Consents mirrored from other chains for a grantee org, in (source chain, consent id) order, paged. */
  @Transaction(false)
  async ListRemoteConsents(ctx: Context, grantee: string, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const now = txTimeMs(ctx);
    const page = await listByPartialKey<{ sourceChain: string; consentId: string }>(
      ctx.stub,
      KeyTypes.RemoteConsentByGrantee,
      [grantee],
      parsePageSize(pageSize),
      bookmark,
    );
    const items: Array<WithStatus<RemoteConsent>> = [];
    for (const ref of page.items) {
      const m = await mustGetJson<RemoteConsent>(ctx.stub, key(ctx.stub, KeyTypes.RemoteConsent, ref.sourceChain, ref.consentId), 'remote consent');
      items.push(withStatus(m, now));
    }
    return canonicalize({ items, bookmark: page.bookmark });
  }

  /** Whether a consent mirrored from `sourceChainId` is active now and covers `purpose`. */
  @Transaction(false)
  async CheckRemoteConsent(ctx: Context, sourceChainId: string, consentId: string, purpose: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const m = await mustGetJson<RemoteConsent>(
      ctx.stub,
      key(ctx.stub, KeyTypes.RemoteConsent, sourceChainId, consentId),
      `consent ${consentId} from ${sourceChainId}`,
    );
    const status = consentStatusAt(m, txTimeMs(ctx));
    const covered = purposeCovered(m.terms, purpose);
    const allowed = status === 'active' && covered;
    const reason = status !== 'active' ? `consent-${status === 'pending' ? 'not-yet-valid' : status}` : covered ? 'consent' : 'purpose-not-covered';
    return canonicalize({
      allowed,
      reason,
      status,
      sourceChain: m.sourceChain,
      consentId: m.consentId,
      version: m.version,
      grantee: m.grantee,
      patientId: m.patientId,
      scope: m.terms.scope,
      period: m.terms.period,
    });
  }
}

// -------------------------------------------------------------------- helpers

/** Caller with one of `roles`, in a member org of this channel. */
async function staff(ctx: Context, roles: Role[]): Promise<Caller> {
  requireRole(ctx, ...roles);
  return requireMember(ctx);
}

function emit(ctx: Context, name: string, payload: unknown): void {
  ctx.stub.setEvent(name, Buffer.from(canonicalize(payload)));
}

function withStatus<T extends { status: 'active' | 'revoked'; terms: Consent['terms'] }>(c: T, now: number): WithStatus<T> {
  return { ...c, effectiveStatus: consentStatusAt(c, now) };
}

function eventOfRecord(a: RecordAnchor) {
  return { recordId: a.recordId, patientId: a.patientId, custodian: a.custodian, category: a.category, version: a.version, hash: a.hash, txId: a.txId };
}

function eventOfConsent(c: Consent, ctx: Context) {
  return {
    consentId: c.consentId,
    patientId: c.patientId,
    grantee: c.grantee,
    status: c.status,
    version: c.version,
    chainId: c.chainId,
    periodEnd: c.terms.period.end,
    txId: ctx.stub.getTxID(),
  };
}

function emergencyLogEntry(e: Emergency, kind: AccessLogEntry['kind'], loggedBy: string, now: number, txId: string): AccessLogEntry {
  return {
    kind,
    patientId: e.patientId,
    recordId: e.recordId,
    requester: e.org,
    purpose: 'ETREAT',
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

function accessLogKey(ctx: Context, patientId: string, now: number): string {
  return key(ctx.stub, KeyTypes.AccessLog, patientId, pad(now), ctx.stub.getTxID());
}

async function listAccessLog(ctx: Context, patientId: string, pageSize: string, bookmark: string): Promise<Page<AccessLogEntry>> {
  return listByPartialKey<AccessLogEntry>(ctx.stub, KeyTypes.AccessLog, [patientId], parsePageSize(pageSize), bookmark);
}

/** Whether `org` is the custodian of at least one record of the patient on this chain. */
async function holdsRecordOf(ctx: Context, patientId: string, org: string): Promise<boolean> {
  return (await listAllByPartialKey<{ recordId: string }>(ctx.stub, KeyTypes.RecordByCustodian, [patientId, org])).length > 0;
}

async function loadPatient(ctx: Context, patientId: string): Promise<Patient> {
  if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
  const p = await getJson<Patient>(ctx.stub, key(ctx.stub, KeyTypes.Patient, patientId));
  if (!p) fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered on this channel`);
  return p;
}

async function loadRecord(ctx: Context, recordId: string): Promise<RecordAnchor> {
  if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  return mustGetJson<RecordAnchor>(ctx.stub, key(ctx.stub, KeyTypes.Record, recordId), `record ${recordId}`);
}

async function loadEmergencies(ctx: Context, patientId: string, org: string): Promise<Emergency[]> {
  const refs = await listAllByPartialKey<{ emergencyId: string }>(ctx.stub, KeyTypes.EmergencyByPatient, [patientId, org]);
  const out: Emergency[] = [];
  for (const r of refs) out.push(await mustGetJson<Emergency>(ctx.stub, key(ctx.stub, KeyTypes.Emergency, r.emergencyId), 'emergency'));
  return out;
}

async function decide(ctx: Context, grantee: string, record: RecordAnchor, purpose: string, now: number): Promise<AccessDecision> {
  if (!Formats.mspId.test(grantee)) fail('INVALID_ARGUMENT', 'grantee must be an MSP id');
  const refs = await listAllByPartialKey<{ consentId: string }>(ctx.stub, KeyTypes.ConsentByGrantee, [grantee, record.patientId]);
  const consents: Consent[] = [];
  for (const r of refs) consents.push(await mustGetJson<Consent>(ctx.stub, key(ctx.stub, KeyTypes.Consent, r.consentId), 'consent'));
  const emergencies = await loadEmergencies(ctx, record.patientId, grantee);
  return checkAccess({ grantee, record, purpose, action: 'read', at: now, consents, emergencies });
}

interface Accepted<K extends PatientMessageKind> {
  verified: VerifiedPatientMessage<Extract<PatientMessage, { kind: K }>>;
  patient: Patient;
  signedBy: SignedBy;
  now: number;
}

/**
 * A patient-signed message checked in this order: signature and channel binding
 * (protocol), freshness, patient registered on this chain, signer authority (patient, or
 * an active guardian), nonce unused by this signer. The caller writes the nonce with
 * its state change (useNonce).
 */
async function acceptPatientMessage<K extends PatientMessageKind>(
  ctx: Context,
  json: string,
  kinds: readonly K[],
  maxAgeMs: number,
): Promise<Accepted<K>> {
  const { chainId } = await getMemberSet(ctx.stub);
  const now = txTimeMs(ctx);
  const verified = verifyPatientMessage(parseJson(json, 'signed message'), { channel: chainId, kinds });
  const m = verified.message;
  checkFreshness(m.issuedAt, now, maxAgeMs);
  const patient = await getJson<Patient>(ctx.stub, key(ctx.stub, KeyTypes.Patient, m.patientId));
  if (!patient) fail('PATIENT_NOT_REGISTERED', `patient ${m.patientId} is not registered on ${chainId}`);
  const guardian = verified.signedByPatient
    ? undefined
    : await getJson<Guardian>(ctx.stub, key(ctx.stub, KeyTypes.Guardian, m.patientId, verified.signerKeyId));
  const authority = signerAuthority(verified, guardian, now);
  if (await exists(ctx.stub, key(ctx.stub, KeyTypes.PatientNonce, verified.signerKeyId, m.nonce))) {
    fail('NONCE_REPLAYED', `nonce ${m.nonce} of signer ${verified.signerKeyId} was already used; sign a new message`);
  }
  return { verified, patient, signedBy: { keyId: verified.signerKeyId, authority, delegation: guardian ? guardian.delegation : null }, now };
}

async function useNonce(ctx: Context, verified: VerifiedPatientMessage<PatientMessage>, now: number): Promise<void> {
  const m = verified.message;
  await putJson(ctx.stub, key(ctx.stub, KeyTypes.PatientNonce, verified.signerKeyId, m.nonce), {
    kind: m.kind,
    patientId: m.patientId,
    time: now,
    txId: ctx.stub.getTxID(),
  });
}

function parsePageSize(s: string): number {
  if (s === '') return DEFAULT_PAGE_SIZE;
  return parseCount(s, 'pageSize');
}

function parseCount(s: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(s)) fail('INVALID_ARGUMENT', `${what} must be a non-negative integer`);
  return Number(s);
}
