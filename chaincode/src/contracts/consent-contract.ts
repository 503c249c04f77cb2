/**
 * `Consent`: patients, record anchors, patient-signed consents, access decisions with
 * their log (accounting of disclosures), break-glass access, and the read side of
 * consents mirrored from other chains. Thin: each method parses, authorises, loads,
 * calls a rule from rules/, writes, and emits exactly one event per state change.
 * Roles and rules: chaincode/CONSENT.md.
 */
import { Context, Info, Transaction } from 'fabric-contract-api';
import { MedbridgeContract } from './medbridge-contract';
import { deliverSealedConsent, releaseSealedConsent, remoteConsentFor, requireCarriable, sealConsent } from './consent-bridge';
import { Limits } from '../protocol/limits';
import { fail } from '../errors';
import { canonicalize, parseJson, sha256Hex } from '../protocol/canonical-json';
import { asObject } from '../protocol/fields';
import { sealResult } from '../protocol/sealed-result';
import {
  Formats,
  keyIdOf,
  patientIdOf,
  verifyPatientMessage,
  type PatientMessage,
  type PatientMessageKind,
  type VerifiedPatientMessage,
} from '../protocol/patient-messages';
import {
  checkAccess,
  EMERGENCY_PURPOSE,
  emergencyLogEntry,
  logEntryVisibleTo,
  mayReviewEmergency,
  openEmergency,
  orgRequester,
  parseRequester,
  reviewEmergency,
  type AccessDecision,
  type AccessLogEntry,
  type Emergency,
  type Requester,
} from '../rules/access-rules';
import {
  ANY_GRANTEE,
  consentPeriodEnd,
  consentStatusAt,
  grantConsent,
  grantPolicyConsent,
  isPolicyConsent,
  privateConsentEntry,
  privateConsentIdsFor,
  purposeCovered,
  revokeConsent,
  scopeCovers,
  type Consent,
  type PolicyConsent,
  type SignedBy,
  type StoredConsent,
} from '../rules/consent-rules';
import type { ConsentPolicy } from '../protocol/consent-policy/model';
import {
  asPatientSigner,
  authoriseGuardian,
  checkFreshness,
  guardianActiveAt,
  patientKeyIds,
  MAX_MESSAGE_AGE_MS,
  MAX_READ_AGE_MS,
  registerPatient,
  requireRegisteredBy,
  revokeGuardian,
  rotatePatientKey,
  signerAuthority,
  type Guardian,
  type Patient,
} from '../rules/patient-rules';
import {
  amendRecord,
  anchorRecord,
  custodianOf,
  eraseRecord,
  hashMatches,
  isErased,
  liveRecord,
  parseRecordLabels,
  recordMetadataOf,
  validateAnchorInput,
  validateHash,
  type AnchorInput,
  type ErasedRecord,
  type ErasureRequest,
  type PrivateLabelsRef,
  type PrivateRecordLabels,
  type RecordAnchor,
  type RecordLabels,
  type RecordVersion,
} from '../rules/record-rules';
import { decideRemoteAccess, parseRemoteAccessRequest } from '../rules/remote-access-rules';
import { isRemotePolicyConsent, type StoredRemoteConsent } from '../rules/remote-consent-rules';
import * as repo from '../state/consent-repo';
import { getMemberSet } from '../state/governance-repo';
import { found, type Page } from '../state/store';
import { emit, parseCount, parsePageSize, requireMemberRole, txTimeMs, type Caller, type Role } from './tx-context';

export type { AccessLogEntry } from '../rules/access-rules';

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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type WithStatus<T> = T & { effectiveStatus: string };

@Info({ title: 'Consent', description: 'Patient-owned consent, record anchors, access log and break-glass access' })
export class ConsentContract extends MedbridgeContract {
  constructor() {
    super('Consent');
  }

  // ------------------------------------------------------------------ patients

  /**
   * Registers a patient's public key (base64 SPKI DER, P-256) at the caller's org. A key the
   * patient rotated to registers that same patient at another org; a retired key registers nobody.
   */
  @Transaction()
  async RegisterPatient(ctx: Context, publicKey: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const owner = await repo.getPatientKeyOwner(ctx.stub, keyIdOf(publicKey));
    const patientId = owner?.patientId ?? patientIdOf(publicKey);
    const patient = registerPatient(await repo.getPatient(ctx.stub, patientId), publicKey, who.mspId, txTimeMs(ctx));
    await repo.putPatient(ctx.stub, patient);
    emit(ctx, 'PatientRegistered', { patientId, org: who.mspId, registeredBy: patient.registeredBy, txId: ctx.stub.getTxID() });
    return canonicalize(patient);
  }

  /**
   * Registers a patient privately at the caller's org (CONSENT.md "Private patients and anchors"):
   * {publicKey, salt} in the transient map, endorsed by the caller's org alone. The patient goes to
   * that org's implicit collection (salted) and nothing public is written: no member reads the id
   * or the key from its ledger. Such a patient's consents are kept privately (GrantConsentPrivately,
   * by this org), its records anchored privately (AnchorRecordPrivately), and its consents cross
   * chains sealed. A patient registered privately here already (or a key rotated into one) is
   * ALREADY_EXISTS. A public registration is not looked up: reading it would name the patient in
   * this transaction's read set; at this org the private registration is the one its private
   * transactions find first. The result is sealed; the event names the transaction only.
   */
  @Transaction()
  async RegisterPatientPrivately(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'RegisterPatientPrivately', ['publicKey', 'salt']);
    const who = await staff(ctx, WRITER_ROLES);
    const publicKey = requestText(r.fields, 'publicKey');
    const patientId = patientIdOf(publicKey);
    const collection = repo.implicitCollection(who.mspId);
    if ((await repo.getPrivatePatient(ctx.stub, collection, patientId)) !== undefined) fail('ALREADY_EXISTS', `patient ${patientId} is already registered by ${who.mspId}`);
    const rotatedTo = await repo.getPrivatePatientKeyOwner(ctx.stub, collection, keyIdOf(publicKey));
    if (rotatedTo !== undefined) fail('ALREADY_EXISTS', `this key belongs to patient ${rotatedTo.patientId}, registered by ${who.mspId}`);
    const patient = registerPatient(undefined, publicKey, who.mspId, txTimeMs(ctx));
    await repo.putPrivatePatient(ctx.stub, collection, patient, r.saltHex);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'PatientRegisteredPrivately', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(patient)));
  }

  /**
   * Anchors version 1 of a record of a patient registered privately at the caller's org, privately
   * (CONSENT.md "Private patients and anchors"): {recordId, patientId, category, hash, metadata
   * (RecordLabels, or null), salt} in the transient map, endorsed by the caller's org alone. The
   * head, version 1, the patient's index entry and the metadata (as LabelRecord writes it) go to the
   * caller's implicit collection, salted; nothing public. The result is sealed; the event names the
   * transaction only.
   */
  @Transaction()
  async AnchorRecordPrivately(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'AnchorRecordPrivately', ['recordId', 'patientId', 'category', 'hash', 'metadata', 'salt']);
    const who = await staff(ctx, WRITER_ROLES);
    const collection = repo.implicitCollection(who.mspId);
    const recordId = requestText(r.fields, 'recordId');
    const patientId = requestText(r.fields, 'patientId');
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const at = await patientAt(ctx, patientId, who.mspId);
    if (at === undefined || !at.private) fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered privately by ${who.mspId}: RegisterPatientPrivately first (a publicly registered patient's records are anchored with AnchorRecord)`);
    const input: AnchorInput = { recordId, patientId, category: requestText(r.fields, 'category'), hash: requestText(r.fields, 'hash') };
    if (r.fields.metadata !== null) {
      const labels: PrivateRecordLabels = { recordId, version: 1, metadata: parseRecordLabels(r.fields.metadata), salt: r.saltHex };
      validateAnchorInput({ ...input, labels: { version: 1, hash: '0'.repeat(64) } });
      input.labels = { version: 1, hash: await repo.putPrivateRecordLabels(ctx.stub, collection, labels) };
    }
    const { anchor: head, version } = anchorRecord(await repo.getPrivateStoredRecord(ctx.stub, collection, recordId), input, who.mspId, txTimeMs(ctx), ctx.stub.getTxID());
    await repo.putPrivateRecord(ctx.stub, collection, head, r.saltHex);
    await repo.putPrivateRecordVersion(ctx.stub, collection, version, r.saltHex);
    await repo.indexPrivateRecord(ctx.stub, collection, patientId, recordId, r.saltHex);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'RecordAnchoredPrivately', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(head)));
  }

  /**
   * Anchors the next version of a record the caller's org anchored privately: {recordId, hash,
   * expectedVersion, metadata (RecordLabels, or null to keep the head's), salt} in the transient
   * map, endorsed by the custodian alone; the rules of AmendRecord, everything in its collection.
   */
  @Transaction()
  async AmendRecordPrivately(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'AmendRecordPrivately', ['recordId', 'hash', 'expectedVersion', 'metadata', 'salt']);
    const who = await staff(ctx, WRITER_ROLES);
    const collection = repo.implicitCollection(who.mspId);
    const recordId = requestText(r.fields, 'recordId');
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const expected = r.fields.expectedVersion;
    if (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < 1) fail('INVALID_ARGUMENT', 'request.expectedVersion must be a positive integer');
    const head = found(liveRecord(await repo.getPrivateStoredRecord(ctx.stub, collection, recordId)), `record ${recordId} anchored privately by ${who.mspId}`);
    const headVersion = found(await repo.getPrivateRecordVersion(ctx.stub, collection, recordId, head.version), `version ${head.version} of record ${recordId}`);
    const input: { hash: string; expectedVersion: number; labels?: PrivateLabelsRef } = { hash: requestText(r.fields, 'hash'), expectedVersion: expected };
    if (r.fields.metadata !== null) {
      const metadata = parseRecordLabels(r.fields.metadata);
      // Checked before anything is written: the amendment itself (version, hash, custodian) with a placeholder ref.
      amendRecord(head, headVersion, { ...input, labels: { version: expected + 1, hash: '0'.repeat(64) } }, who.mspId, txTimeMs(ctx), ctx.stub.getTxID());
      input.labels = { version: expected + 1, hash: await repo.putPrivateRecordLabels(ctx.stub, collection, { recordId, version: expected + 1, metadata, salt: r.saltHex }) };
    }
    const { anchor: next, version } = amendRecord(head, headVersion, input, who.mspId, txTimeMs(ctx), ctx.stub.getTxID());
    await repo.putPrivateRecord(ctx.stub, collection, next, r.saltHex);
    await repo.putPrivateRecordVersion(ctx.stub, collection, version, r.saltHex);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'RecordAmendedPrivately', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(next)));
  }

  /**
   * Replaces the patient's key from a patient.rotate-key message signed by the current key,
   * with the new key's proof of possession. The patient id, consents and guardians stay; the
   * retired key stays in the history (old signatures verify) and signs nothing any more.
   * Every consent of the patient granted here must still be able to travel with the longer
   * key history (PROOF_TOO_LARGE otherwise).
   */
  @Transaction()
  async RotatePatientKey(ctx: Context, signedRotation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRotation, ['patient.rotate-key'], MAX_MESSAGE_AGE_MS);
    const patientId = a.patient.patientId;
    const newKeyId = keyIdOf(a.verified.message.newPublicKey);
    const patient = rotated(ctx, a, {
      rotatedOwner: (await repo.getPatientKeyOwner(ctx.stub, newKeyId))?.patientId,
      registeredOwner: (await repo.getPatient(ctx.stub, `pt_${newKeyId}`))?.patientId,
      guardian: await repo.getGuardian(ctx.stub, patientId, newKeyId),
    });
    for (const { consentId } of await repo.allConsentIdsOfPatient(ctx.stub, patientId)) {
      const consent = found(await repo.getConsent(ctx.stub, consentId), `consent ${consentId}`);
      if (consent.status === 'active') requireCarriable(consent, patient);
    }
    await repo.putPatient(ctx.stub, patient);
    await repo.putPatientKeyOwner(ctx.stub, newKeyId, patientId);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'PatientKeyRotated', { patientId, retiredKeyId: a.verified.signerKeyId, keyId: newKeyId, txId: ctx.stub.getTxID() });
    return canonicalize(patient);
  }

  @Transaction(false)
  async GetPatient(ctx: Context, patientId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    const at = await patientAt(ctx, patientId, who.mspId);
    if (at === undefined) fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered on this channel`);
    // A patient the caller's org registered privately says so: its gateway then takes the private transactions.
    return canonicalize(at.private ? { ...at.patient, heldPrivately: true } : at.patient);
  }

  // ------------------------------------------------------------------ records

  /** Anchors version 1 of a record held off chain by the caller's org (the custodian), without metadata. */
  @Transaction()
  async AnchorRecord(ctx: Context, recordId: string, patientId: string, category: string, hash: string): Promise<string> {
    return anchor(ctx, { recordId, patientId, category, hash });
  }

  /**
   * Anchors version 1 of a record with the metadata consent v2 decisions read (security
   * labels, data date, author org, document classes; CONSENT.md "Record metadata"): JSON.
   */
  @Transaction()
  async AnchorRecordWithMetadata(ctx: Context, recordId: string, patientId: string, category: string, hash: string, metadata: string): Promise<string> {
    return anchor(ctx, { recordId, patientId, category, hash, metadata: parseRecordLabels(parseJson(metadata, 'metadata')) });
  }

  /** Anchors the next version of a record; only the custodian, only from the current version. The metadata stays. */
  @Transaction()
  async AmendRecord(ctx: Context, recordId: string, hash: string, expectedVersion: string): Promise<string> {
    return amend(ctx, recordId, hash, expectedVersion, {});
  }

  /** Anchors the next version of a record with its new metadata (JSON, as AnchorRecordWithMetadata). */
  @Transaction()
  async AmendRecordWithMetadata(ctx: Context, recordId: string, hash: string, expectedVersion: string, metadata: string): Promise<string> {
    return amend(ctx, recordId, hash, expectedVersion, { metadata: parseRecordLabels(parseJson(metadata, 'metadata')) });
  }

  /**
   * Keeps a record version's consent v2 metadata private (CONSENT.md "Private record metadata"):
   * {recordId, version, metadata, salt} in the transient map under `request`, endorsed by the
   * caller's org alone and written only to its implicit collection. Version 1 is labelled before
   * the record is anchored (AnchorRecordLabelled binds it), version n + 1 before
   * AmendRecordLabelled. The result {recordId, version, hash} is sealed; the event names the
   * transaction only.
   */
  @Transaction()
  async LabelRecord(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'LabelRecord', ['recordId', 'version', 'metadata', 'salt']);
    const who = await staff(ctx, WRITER_ROLES);
    const recordId = requestText(r.fields, 'recordId');
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const version = r.fields.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) fail('INVALID_ARGUMENT', 'request.version must be a positive integer');
    const metadata = parseRecordLabels(r.fields.metadata);
    const head = liveRecord(await repo.getStoredRecord(ctx.stub, recordId));
    if (head !== undefined && head.custodian !== who.mspId) fail('NOT_CUSTODIAN', `only ${head.custodian}, the custodian, may label ${recordId}`);
    const next = head === undefined ? 1 : head.version + 1;
    if (version !== next) {
      fail('STALE_VERSION', head === undefined ? `record ${recordId} is not anchored: label version 1` : `record ${recordId} is at version ${head.version}: label version ${next}`);
    }
    const value: PrivateRecordLabels = { recordId, version, metadata, salt: r.saltHex };
    const hash = await repo.putPrivateRecordLabels(ctx.stub, repo.implicitCollection(who.mspId), value);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'RecordLabelled', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize({ recordId, version, hash })));
  }

  /**
   * Anchors version 1 of a record whose metadata the caller's org labelled privately (LabelRecord):
   * the anchor names that metadata by its hash, which every peer reads (Fabric's private data
   * hash), never by its content. NOT_FOUND when version 1 is not labelled.
   */
  @Transaction()
  async AnchorRecordLabelled(ctx: Context, recordId: string, patientId: string, category: string, hash: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    return anchor(ctx, { recordId, patientId, category, hash, labels: await labelledVersion(ctx, who.mspId, recordId, 1) });
  }

  /** Anchors the next version of a record with the metadata the custodian labelled privately for it (LabelRecord). */
  @Transaction()
  async AmendRecordLabelled(ctx: Context, recordId: string, hash: string, expectedVersion: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const labels = await labelledVersion(ctx, who.mspId, recordId, parseCount(expectedVersion, 'expectedVersion') + 1);
    return amend(ctx, recordId, hash, expectedVersion, { labels });
  }

  /**
   * The consent v2 metadata of a record's head, for the custodian's own staff: private metadata
   * read from the custodian's collection (on its peer) and checked against the anchor's hash, or
   * the public metadata of a record anchored with it. NOT_CUSTODIAN for any other org; NOT_FOUND
   * for a record without metadata.
   */
  @Transaction(false)
  async GetRecordLabels(ctx: Context, recordId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const record = await loadRecord(ctx, recordId, who.mspId);
    if (who.mspId !== record.custodian) fail('NOT_CUSTODIAN', `the metadata of ${recordId} is ${record.custodian}'s, its custodian`);
    if (record.labels !== undefined) {
      return canonicalize({ recordId, version: record.version, labelledVersion: record.labels.version, private: true, metadata: await heldLabels(ctx, record) });
    }
    if (record.metadata === undefined) fail('NOT_FOUND', `record ${recordId} has no metadata`);
    return canonicalize({ recordId, version: record.version, labelledVersion: null, private: false, metadata: record.metadata });
  }

  /**
   * READ-ONLY, at the custodian's peer: the exact stored bytes of a version of a record this org
   * anchored privately (salted), which the custodian gives a requester with its chain's
   * attestation of their hash (GetPrivateRecordAnchorAttestation). NOT_FOUND otherwise.
   */
  @Transaction(false)
  async GetPrivateRecordVersion(ctx: Context, recordId: string, version: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const v = parseCount(version, 'version');
    const bytes = found(await repo.getPrivateRecordVersionBytes(ctx.stub, repo.implicitCollection(who.mspId), recordId, v), `version ${v} of ${recordId} anchored privately by ${who.mspId}`);
    return bytes.toString('utf8');
  }

  @Transaction(false)
  async GetRecord(ctx: Context, recordId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    return canonicalize(await loadRecord(ctx, recordId, who.mspId));
  }

  /** Every version of a record, oldest first, paged. */
  @Transaction(false)
  async GetRecordHistory(ctx: Context, recordId: string, pageSize: string, bookmark: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const { record, private: held } = await recordAt(ctx, recordId, who.mspId);
    if (!held) return canonicalize(await repo.listRecordVersions(ctx.stub, recordId, parsePageSize(pageSize), bookmark));
    // A private record's versions, from its custodian's collection, in one page.
    const items: RecordVersion[] = [];
    for (let v = 1; v <= record.version; v++) items.push(found(await repo.getPrivateRecordVersion(ctx.stub, repo.implicitCollection(who.mspId), recordId, v), `version ${v} of ${recordId}`));
    return canonicalize({ items, bookmark: '' });
  }

  /**
   * The anchors (heads) of a patient's records on this chain, as GetRecord returns them: which
   * org holds each record off chain, its category and version. In (custodian, record id) order, paged.
   */
  @Transaction(false)
  async ListRecordsByPatient(ctx: Context, patientId: string, pageSize: string, bookmark: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    // A patient the caller's org registered privately: the records it anchored for them, in one page.
    if ((await patientAt(ctx, patientId, who.mspId))?.private === true) {
      const items: RecordAnchor[] = [];
      for (const recordId of await repo.privateRecordIdsOf(ctx.stub, repo.implicitCollection(who.mspId), patientId)) items.push(await loadRecord(ctx, recordId, who.mspId));
      return canonicalize({ items, bookmark: '' });
    }
    const page = await repo.listRecordIdsOfPatient(ctx.stub, patientId, parsePageSize(pageSize), bookmark);
    const items: RecordAnchor[] = [];
    for (const { recordId } of page.items) items.push(await loadRecord(ctx, recordId));
    return canonicalize({ items, bookmark: page.bookmark });
  }

  /** Whether a salted hash is the anchored one, for the head or a given version ('' = head). */
  @Transaction(false)
  async VerifyRecordHash(ctx: Context, recordId: string, hash: string, version: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    validateHash(hash);
    const { record: head, private: held } = await recordAt(ctx, recordId, who.mspId);
    const v = version === '' ? head.version : parseCount(version, 'version');
    const older = async () => (held ? repo.getPrivateRecordVersion(ctx.stub, repo.implicitCollection(who.mspId), recordId, v) : repo.getRecordVersion(ctx.stub, recordId, v));
    const anchored = v === head.version ? head : found(await older(), `version ${v} of record ${recordId}`);
    return canonicalize({ recordId, version: v, headVersion: head.version, match: hashMatches(anchored, hash) });
  }

  /**
   * Erases a record on the patient's record.erase message (signed by the patient or an active
   * guardian), submitted by the record's custodian org (CONSENT.md "Erasure"): the anchor keeps
   * only that it was erased, when, by whom and its version count; every version's hash and
   * metadata labels leave state. Every later read, decision, amendment or anchor of the id is
   * RECORD_ERASED. The custodian destroys the content and salt off chain.
   */
  @Transaction()
  async EraseRecord(ctx: Context, signedErasure: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    const a = await acceptPatientMessage(ctx, signedErasure, ['record.erase'], MAX_MESSAGE_AGE_MS);
    const m = a.verified.message;
    const erased = await erase(ctx, who, { basis: 'patient-signed', recordId: m.recordId, patientId: m.patientId }, a.now);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'RecordErased', { ...eventOfErasure(erased), basis: 'patient-signed', reasonCode: null });
    return canonicalize(erased);
  }

  /**
   * Erases a record on a request the custodian's privacy officer (or admin) verified out of
   * band, stating why as a code (record-rules ERASURE_REASONS; no free text). As EraseRecord otherwise.
   */
  @Transaction()
  async EraseRecordOnVerifiedRequest(ctx: Context, recordId: string, reasonCode: string): Promise<string> {
    const who = await staff(ctx, REVIEWER_ROLES);
    const erased = await erase(ctx, who, { basis: 'verified-request', recordId, reasonCode }, txTimeMs(ctx));
    emit(ctx, 'RecordErased', { ...eventOfErasure(erased), basis: 'verified-request', reasonCode });
    return canonicalize(erased);
  }

  /**
   * Erases a record the caller's org anchored privately, on the patient's signed record.erase
   * message (CONSENT.md "Private patients and anchors", "Erasure"): {signedErasure, salt} in the
   * transient map, endorsed by the custodian alone. The head becomes an erasure marker (salted)
   * in the custodian's collection, every version and its metadata are purged (gone from every
   * member peer's private store and history; their hashes stay, salted), and the patient's index
   * drops the record. Every later read or decision is RECORD_ERASED. The result is sealed.
   */
  @Transaction()
  async EraseRecordPrivately(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'EraseRecordPrivately', ['signedErasure', 'salt']);
    const who = await staff(ctx, WRITER_ROLES);
    const a = await acceptPatientMessage(ctx, signedMessageText(r.fields, 'signedErasure'), ['record.erase'], MAX_MESSAGE_AGE_MS, who.mspId);
    const collection = repo.implicitCollection(who.mspId);
    await requirePrivateNonceUnused(ctx, collection, a.verified);
    const m = a.verified.message;
    const erased = await erasePrivately(ctx, who, { basis: 'patient-signed', recordId: m.recordId, patientId: m.patientId }, a.now, r.saltHex);
    await usePrivateNonce(ctx, collection, a.verified, a.now, r.saltHex);
    emit(ctx, 'RecordErasedPrivately', { txId: erased.txId });
    return canonicalize(sealResult(r.salt, erased.txId, canonicalize(erased)));
  }

  /** EraseRecordOnVerifiedRequest for a record the caller's org anchored privately: {recordId, reasonCode, salt} in the transient map, endorsed by the custodian alone. */
  @Transaction()
  async EraseRecordPrivatelyOnVerifiedRequest(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'EraseRecordPrivatelyOnVerifiedRequest', ['recordId', 'reasonCode', 'salt']);
    const who = await staff(ctx, REVIEWER_ROLES);
    const request: ErasureRequest = { basis: 'verified-request', recordId: requestText(r.fields, 'recordId'), reasonCode: requestText(r.fields, 'reasonCode') };
    const erased = await erasePrivately(ctx, who, request, txTimeMs(ctx), r.saltHex);
    emit(ctx, 'RecordErasedPrivately', { txId: erased.txId });
    return canonicalize(sealResult(r.salt, erased.txId, canonicalize(erased)));
  }

  /** READ-ONLY, at this org's peer: whether this org anchored the record privately (live or erased), so its gateway picks the private transactions. */
  @Transaction(false)
  async IsRecordHeldPrivately(ctx: Context, recordId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const held = await repo.getPrivateStoredRecord(ctx.stub, repo.implicitCollection(who.mspId), recordId);
    return canonicalize({ recordId, heldPrivately: held !== undefined, erased: held !== undefined && isErased(held) });
  }

  /**
   * A patient's (or guardian's) own read of the consent metadata of their records the caller's
   * org holds, authenticated by a fresh records.read message (issued within 5 minutes of the
   * query): private metadata is its custodian's, so each custodian answers for its own records,
   * on its own peer (NOT_CUSTODIAN elsewhere). Items in record-id order; `metadata` null for a
   * record anchored without any.
   */
  @Transaction(false)
  async ListRecordLabelsSigned(ctx: Context, signedRead: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRead, ['records.read'], MAX_READ_AGE_MS, who.mspId);
    const items: Array<{ recordId: string; category: string; version: number; private: boolean; metadata: RecordLabels | null }> = [];
    for (const recordId of await recordIdsAt(ctx, a.patient.patientId, who.mspId)) {
      const record = await loadRecord(ctx, recordId, who.mspId);
      const metadata = record.labels !== undefined ? await heldLabels(ctx, record) : (record.metadata ?? null);
      items.push({ recordId, category: record.category, version: record.version, private: record.labels !== undefined, metadata });
    }
    return canonicalize({ custodian: who.mspId, patientId: a.patient.patientId, items });
  }

  /**
   * Purges the private metadata of a record its custodian erased (CONSENT.md "Private record
   * metadata"): every labelled version's value leaves the custodian's collection and every member
   * peer's private history (Fabric 2.5 PurgePrivateData); the hashes stay, and nothing is left that
   * opens them. Private: {recordId, salt} in the transient map, endorsed by the custodian alone.
   * Sealed result {recordId, purgedVersions}; the event names the transaction only. NOT_FOUND when
   * no labelled version is left (a transaction that writes nothing would answer to the channel's
   * endorsement policy, not to the custodian's); INVALID_ARGUMENT for a record that is not erased.
   */
  @Transaction()
  async PurgeRecordLabels(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'PurgeRecordLabels', ['recordId', 'salt']);
    const who = await staff(ctx, WRITER_ROLES);
    const recordId = requestText(r.fields, 'recordId');
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const stored = await repo.getStoredRecord(ctx.stub, recordId);
    if (stored === undefined || !isErased(stored)) fail('INVALID_ARGUMENT', `record ${recordId} is not erased; private metadata is purged with an erasure`);
    if (stored.erasedBy !== who.mspId) fail('NOT_CUSTODIAN', `only ${stored.erasedBy}, which erased ${recordId}, may purge its metadata`);
    const collection = repo.implicitCollection(who.mspId);
    const purgedVersions: number[] = [];
    for (let v = 1; v <= stored.versions; v++) {
      if ((await repo.privateRecordLabelsHash(ctx.stub, collection, recordId, v)) === undefined) continue;
      await repo.purgePrivateRecordLabels(ctx.stub, collection, recordId, v);
      purgedVersions.push(v);
    }
    if (purgedVersions.length === 0) fail('NOT_FOUND', `no private metadata of ${recordId} is left to purge`);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'RecordLabelsPurged', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize({ recordId, purgedVersions })));
  }

  /**
   * The erasure marker of an erased record, exactly as state holds it (erased, when, by which
   * org, version count); NOT_FOUND when the record is not erased. Lets anyone check that an
   * erasure left no hash behind.
   */
  @Transaction(false)
  async GetRecordErasure(ctx: Context, recordId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
    const stored = await repo.getStoredRecord(ctx.stub, recordId);
    if (stored === undefined || !isErased(stored)) fail('NOT_FOUND', `record ${recordId} is not erased`);
    return canonicalize(stored);
  }

  // ------------------------------------------------------------------ guardians

  /** Stores a patient-signed guardian.authorise message. */
  @Transaction()
  async AuthoriseGuardian(ctx: Context, signedDelegation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedDelegation, ['guardian.authorise'], MAX_MESSAGE_AGE_MS);
    const guardianId = keyIdOf(a.verified.message.guardian.publicKey);
    if (patientKeyIds(a.patient).includes(guardianId)) fail('INVALID_ARGUMENT', "a key of the patient's own cannot be their guardian");
    const existing = await repo.getGuardian(ctx.stub, a.patient.patientId, guardianId);
    const guardian = authoriseGuardian(existing, a.verified, a.now, ctx.stub.getTxID());
    await repo.putGuardian(ctx.stub, guardian);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'GuardianAuthorised', { patientId: guardian.patientId, guardianId: guardian.guardianId, notAfter: guardian.notAfter, txId: ctx.stub.getTxID() });
    return canonicalize(guardian);
  }

  /** Applies a patient-signed guardian.revoke message; takes effect for every later message. */
  @Transaction()
  async RevokeGuardian(ctx: Context, signedRevocation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRevocation, ['guardian.revoke'], MAX_MESSAGE_AGE_MS);
    const existing = await repo.getGuardian(ctx.stub, a.patient.patientId, a.verified.message.guardianId);
    const guardian = revokeGuardian(existing, a.verified, a.now, ctx.stub.getTxID());
    await repo.putGuardian(ctx.stub, guardian);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'GuardianRevoked', { patientId: guardian.patientId, guardianId: guardian.guardianId, txId: ctx.stub.getTxID() });
    return canonicalize(guardian);
  }

  /**
   * AuthoriseGuardian for a patient registered privately at the caller's org: {signedDelegation,
   * salt} in the transient map, endorsed by that org alone; the delegation and the nonce go to its
   * collection. The guardian then signs for the patient in that org's private transactions.
   */
  @Transaction()
  async AuthoriseGuardianPrivately(ctx: Context): Promise<string> {
    const { r, a, collection } = await openPrivatePatientWrite(ctx, 'AuthoriseGuardianPrivately', 'signedDelegation', ['guardian.authorise']);
    const guardianId = keyIdOf(a.verified.message.guardian.publicKey);
    if (patientKeyIds(a.patient).includes(guardianId)) fail('INVALID_ARGUMENT', "a key of the patient's own cannot be their guardian");
    const existing = await repo.getPrivateGuardian(ctx.stub, collection, a.patient.patientId, guardianId);
    const guardian = authoriseGuardian(existing, a.verified, a.now, ctx.stub.getTxID());
    await repo.putPrivateGuardian(ctx.stub, collection, guardian, r.saltHex);
    return closePrivatePatientWrite(ctx, collection, a, r, 'GuardianAuthorisedPrivately', guardian);
  }

  /** RevokeGuardian for a patient registered privately at the caller's org: {signedRevocation, salt}, as AuthoriseGuardianPrivately. */
  @Transaction()
  async RevokeGuardianPrivately(ctx: Context): Promise<string> {
    const { r, a, collection } = await openPrivatePatientWrite(ctx, 'RevokeGuardianPrivately', 'signedRevocation', ['guardian.revoke']);
    const existing = await repo.getPrivateGuardian(ctx.stub, collection, a.patient.patientId, a.verified.message.guardianId);
    const guardian = revokeGuardian(existing, a.verified, a.now, ctx.stub.getTxID());
    await repo.putPrivateGuardian(ctx.stub, collection, guardian, r.saltHex);
    return closePrivatePatientWrite(ctx, collection, a, r, 'GuardianRevokedPrivately', guardian);
  }

  /**
   * RotatePatientKey for a patient registered privately at the caller's org: {signedRotation,
   * salt} in the transient map, endorsed by that org alone. The rotated patient and the new key's
   * owner entry go to its collection. Every active consent that org keeps for the patient must
   * still travel with the longer key history (PROOF_TOO_LARGE otherwise).
   */
  @Transaction()
  async RotatePatientKeyPrivately(ctx: Context): Promise<string> {
    const { r, who, a, collection } = await openPrivatePatientWrite(ctx, 'RotatePatientKeyPrivately', 'signedRotation', ['patient.rotate-key']);
    const patientId = a.patient.patientId;
    const newKeyId = keyIdOf(a.verified.message.newPublicKey);
    const patient = rotated(ctx, a, {
      rotatedOwner: (await repo.getPrivatePatientKeyOwner(ctx.stub, collection, newKeyId))?.patientId,
      registeredOwner: (await repo.getPrivatePatient(ctx.stub, collection, `pt_${newKeyId}`))?.patientId,
      guardian: await repo.getPrivateGuardian(ctx.stub, collection, patientId, newKeyId),
    });
    for (const c of await keptConsents(ctx, who.mspId, patientId, null, a.now)) if (c.status === 'active') requireCarriable(c, patient);
    await repo.putPrivatePatient(ctx.stub, collection, patient, r.saltHex);
    await repo.putPrivatePatientKeyOwner(ctx.stub, collection, newKeyId, patientId, r.saltHex);
    return closePrivatePatientWrite(ctx, collection, a, r, 'PatientKeyRotatedPrivately', patient);
  }

  @Transaction(false)
  async GetGuardian(ctx: Context, patientId: string, guardianId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const held = await privateOrNothing(() => repo.getPrivateGuardian(ctx.stub, repo.implicitCollection(who.mspId), patientId, guardianId));
    const g = found(held ?? (await repo.getGuardian(ctx.stub, patientId, guardianId)), `guardian ${guardianId}`);
    return canonicalize({ ...g, active: g.status === 'active' && txTimeMs(ctx) < g.notAfter });
  }

  // ------------------------------------------------------------------ consents

  /**
   * Stores a consent from a consent.grant (v1 terms) or consent.grant-policy (v2 policy) message
   * signed by the patient or an authorised guardian.
   */
  @Transaction()
  async GrantConsent(ctx: Context, signedGrant: string): Promise<string> {
    const { consent, now } = await storeGrant(ctx, signedGrant);
    emit(ctx, 'ConsentGranted', eventOfConsent(consent, ctx));
    return canonicalize(withStatus(consent, now));
  }

  /** Revokes a consent from a consent.revoke message; every later check on this chain refuses. */
  @Transaction()
  async RevokeConsent(ctx: Context, signedRevocation: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRevocation, ['consent.revoke'], MAX_MESSAGE_AGE_MS);
    const consentId = a.verified.message.consentId;
    const stored = found(await repo.getConsent(ctx.stub, consentId), `consent ${consentId}`);
    const consent = revokeConsent(stored, a.verified, a.signedBy, a.now, ctx.stub.getTxID());
    await repo.putConsent(ctx.stub, consent);
    await useNonce(ctx, a.verified, a.now);
    emit(ctx, 'ConsentRevoked', eventOfConsent(consent, ctx));
    return canonicalize(withStatus(consent, a.now));
  }

  @Transaction(false)
  async GetConsent(ctx: Context, consentId: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const c = found(await repo.getConsent(ctx.stub, consentId), `consent ${consentId}`);
    return canonicalize(withStatus(c, txTimeMs(ctx)));
  }

  /** A patient's consents in consent-id order, paged. */
  @Transaction(false)
  async ListConsentsByPatient(ctx: Context, patientId: string, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const now = txTimeMs(ctx);
    const page = await repo.listConsentIdsOfPatient(ctx.stub, patientId, parsePageSize(pageSize), bookmark);
    const items: Array<WithStatus<StoredConsent>> = [];
    for (const { consentId } of page.items) {
      const c = found(await repo.getConsent(ctx.stub, consentId), `consent ${consentId}`);
      items.push(withStatus(c, now));
    }
    return canonicalize({ items, bookmark: page.bookmark });
  }

  // ------------------------------------------------------------------ private consents

  /**
   * Stores a private consent (CONSENT.md "Private consents"): a consent.grant or
   * consent.grant-policy message whose `keeper` names the org that keeps and enforces it, in the
   * transient map as {signedGrant, salt}. Endorsed by the keeper's peers alone (its implicit
   * collection's policy; any member's staff may carry the patient's grant there): the consent,
   * the patient's index entry and the nonce use go to that collection and nothing public is
   * written. It decides for the records the keeper holds. The result is sealed; the event names
   * the transaction only.
   */
  @Transaction()
  async GrantConsentPrivately(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'GrantConsentPrivately', ['signedGrant', 'salt'], PRIVATE_GRANT_MAX_BYTES);
    await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedMessageText(r.fields, 'signedGrant'), GRANT_KINDS, MAX_MESSAGE_AGE_MS, keeperNamed);
    const keeper = keeperNamed(a.verified.message);
    if (keeper === undefined) fail('INVALID_ARGUMENT', 'this grant names no keeper: it is a public consent, which GrantConsent stores');
    const collection = await keeperCollection(ctx, keeper);
    await requirePrivateNonceUnused(ctx, collection, a.verified);
    const txId = ctx.stub.getTxID();
    const consent = consentOfGrant(a, txId);
    if ((await repo.getPrivateConsent(ctx.stub, collection, consent.consentId)) !== undefined) {
      fail('ALREADY_EXISTS', `consent ${consent.consentId} already exists at ${keeper}`);
    }
    await repo.putPrivateConsent(ctx.stub, collection, consent, r.saltHex);
    await repo.indexPrivateConsent(ctx.stub, collection, consent.patientId, privateConsentEntry(consent), r.saltHex);
    await usePrivateNonce(ctx, collection, a.verified, a.now, r.saltHex);
    emit(ctx, 'ConsentGrantedPrivately', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(withStatus(consent, a.now))));
  }

  /**
   * Revokes a private consent from a consent.revoke message: {signedRevocation, keeper, salt} in
   * the transient map, endorsed by the keeper alone, as GrantConsentPrivately. NOT_FOUND when the
   * keeper holds no such consent.
   */
  @Transaction()
  async RevokeConsentPrivately(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'RevokeConsentPrivately', ['signedRevocation', 'keeper', 'salt']);
    await staff(ctx, STAFF_ROLES);
    const keeper = requestText(r.fields, 'keeper');
    if (!Formats.mspId.test(keeper)) fail('INVALID_ARGUMENT', 'keeper must be an MSP id');
    const a = await acceptPatientMessage(ctx, signedMessageText(r.fields, 'signedRevocation'), ['consent.revoke'], MAX_MESSAGE_AGE_MS, keeper);
    const collection = await keeperCollection(ctx, keeper);
    await requirePrivateNonceUnused(ctx, collection, a.verified);
    const consentId = a.verified.message.consentId;
    const stored = found(await repo.getPrivateConsent(ctx.stub, collection, consentId), `private consent ${consentId} at ${keeper}`);
    const txId = ctx.stub.getTxID();
    const consent = revokeConsent(stored, a.verified, a.signedBy, a.now, txId);
    await repo.putPrivateConsent(ctx.stub, collection, consent, r.saltHex);
    await usePrivateNonce(ctx, collection, a.verified, a.now, r.saltHex);
    emit(ctx, 'ConsentRevokedPrivately', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(withStatus(consent, a.now))));
  }

  /** A private consent this org keeps, for its staff (read on its own peer). NOT_FOUND otherwise. */
  @Transaction(false)
  async GetPrivateConsent(ctx: Context, consentId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.consentId.test(consentId)) fail('INVALID_ARGUMENT', 'consentId is malformed');
    const c = found(await repo.getPrivateConsent(ctx.stub, repo.implicitCollection(who.mspId), consentId), `private consent ${consentId} at ${who.mspId}`);
    return canonicalize(withStatus(c, txTimeMs(ctx)));
  }

  /** Every private consent of a patient this org keeps, in consent-id order, for its staff. */
  @Transaction(false)
  async ListPrivateConsents(ctx: Context, patientId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    return canonicalize({ keeper: who.mspId, items: await keptConsents(ctx, who.mspId, patientId, null, txTimeMs(ctx)) });
  }

  // ------------------------------------------------------------------ sealed consent shares

  /**
   * Seals a private consent this org keeps for another chain (CONSENT.md "Sealed consent
   * shares"): {consentId, destChain, salt} in the transient map, endorsed by this org alone. The
   * packet a public share would carry is stored in this org's implicit collection under
   * ref = SHA-256 of the salt; CrossChain:SendPacket(destChain, 'consent.sealed', {ref}) then
   * sends its digest. Nothing public is written. The result is sealed: {ref, digest, type,
   * destChain, consentId}.
   */
  @Transaction()
  async SealConsent(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'SealConsent', ['consentId', 'destChain', 'salt']);
    const who = await staff(ctx, STAFF_ROLES);
    const out = await sealConsent(ctx, who, requestText(r.fields, 'consentId'), requestText(r.fields, 'destChain'), r.saltHex);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'ConsentSealed', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(out)));
  }

  /**
   * READ-ONLY, at the custodian's peer: the exact bytes of a sealed consent this org keeps, for
   * `requesterOrg` (the org its record exchange authenticated) only if the consent is for that
   * org. NOT_FOUND, ACCESS_DENIED.
   */
  @Transaction(false)
  async GetSealedConsent(ctx: Context, ref: string, requesterOrg: string): Promise<string> {
    const who = await staff(ctx, WRITER_ROLES);
    return releaseSealedConsent(ctx, who, ref, requesterOrg);
  }

  /**
   * The grantee's side of a sealed share: {sealed (the custodian's exact bytes, as text), salt}
   * in the transient map, endorsed by the caller's org alone. Checked against the arrival of its
   * digest and as a consent packet (CONSENT.md "Sealed consent shares"); the mirror goes to the
   * caller's implicit collection. The result is sealed: {consentId, grantee(s), sourceChain,
   * status, version}.
   */
  @Transaction()
  async DeliverSealedConsent(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'DeliverSealedConsent', ['sealed', 'salt'], SEALED_DELIVERY_MAX_BYTES);
    const who = await staff(ctx, STAFF_ROLES);
    const { result } = await deliverSealedConsent(ctx, who, requestText(r.fields, 'sealed'), r.saltHex);
    const txId = ctx.stub.getTxID();
    emit(ctx, 'SealedConsentDelivered', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(result)));
  }

  /**
   * READ-ONLY, at the keeper's peer: every sealed share of a consent this org keeps ({keeper,
   * consentId, items: ConsentSeal[]}, oldest first): which chain, grant or revocation, when, and
   * the reference its consent.sealed packet names. NOT_FOUND unless this org keeps the consent.
   */
  @Transaction(false)
  async ListConsentSeals(ctx: Context, consentId: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.consentId.test(consentId)) fail('INVALID_ARGUMENT', 'consentId is malformed');
    const collection = repo.implicitCollection(who.mspId);
    found(await repo.getPrivateConsent(ctx.stub, collection, consentId), `private consent ${consentId} at ${who.mspId}`);
    return canonicalize({ keeper: who.mspId, consentId, items: await repo.listConsentSeals(ctx.stub, collection, consentId) });
  }

  /** READ-ONLY: the arrival of a sealed consent on this chain (public: it names only the custodian, reference and digest). */
  @Transaction(false)
  async GetSealedArrival(ctx: Context, sourceChainId: string, digest: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    if (!Formats.chainId.test(sourceChainId)) fail('INVALID_ARGUMENT', 'sourceChainId is malformed');
    if (!/^[0-9a-f]{64}$/.test(digest)) fail('INVALID_ARGUMENT', 'digest must be 64 lower-case hex characters');
    return canonicalize(found(await repo.getSealedArrival(ctx.stub, sourceChainId, digest), `arrival of ${digest} from ${sourceChainId}`));
  }

  /**
   * READ-ONLY, at this org's peer: arrivals of sealed consents from `sourceChainId`, in digest
   * order, paged, each with `delivered`: whether this org delivered it (its own collection).
   * What a grantee's receiver walks to find what to ask custodians for.
   */
  @Transaction(false)
  async ListSealedArrivals(ctx: Context, sourceChainId: string, pageSize: string, bookmark: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    if (!Formats.chainId.test(sourceChainId)) fail('INVALID_ARGUMENT', 'sourceChainId is malformed');
    const page = await repo.listSealedArrivals(ctx.stub, sourceChainId, parsePageSize(pageSize), bookmark);
    const collection = repo.implicitCollection(who.mspId);
    const items = [];
    for (const a of page.items) items.push({ ...a, delivered: await repo.sealedDelivered(ctx.stub, collection, a.sourceChain, a.digest) });
    return canonicalize({ items, bookmark: page.bookmark });
  }

  /** READ-ONLY, at this org's peer: the consents delivered sealed to this org, in (source chain, consent id) order, with their status now. */
  @Transaction(false)
  async ListSealedRemoteConsents(ctx: Context): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const now = txTimeMs(ctx);
    const items = (await repo.listPrivateRemoteConsents(ctx.stub, repo.implicitCollection(who.mspId))).map((m) => withStatus(m, now));
    return canonicalize({ grantee: who.mspId, items });
  }

  // ------------------------------------------------------------------ access

  /** Read-only access decision at the transaction time for a requester known by its org; logs nothing. */
  @Transaction(false)
  async CheckAccess(ctx: Context, grantee: string, recordId: string, purpose: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const at = await recordAt(ctx, recordId, who.mspId);
    if (!Formats.mspId.test(grantee)) fail('INVALID_ARGUMENT', 'grantee must be an MSP id');
    return canonicalize(await decide(ctx, orgRequester(grantee), at.record, purpose, txTimeMs(ctx), at.private));
  }

  /**
   * Read-only access decision for a requester stated in full (JSON: org, and optional role,
   * practitioner, careTeam, policy; what consent v2 provisions match on); logs nothing.
   */
  @Transaction(false)
  async CheckAccessAs(ctx: Context, requester: string, recordId: string, purpose: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const r = parseRequester(parseJson(requester, 'requester'));
    const at = await recordAt(ctx, recordId, who.mspId);
    return canonicalize(await decide(ctx, r, at.record, purpose, txTimeMs(ctx), at.private));
  }

  /**
   * Decides access for an off-chain fetch at the transaction time and logs the decision,
   * granted or refused (accounting of disclosures). Called by the custodian's gateway, endorsed
   * by the custodian's peers alone. Private (CONSENT.md "Private by default"): the request is in
   * the transient map under `request`, never in a block: {requesterOrg, recordId, purpose,
   * requestId, salt}; the entry goes to the custodian's implicit collection, the result is sealed
   * for the caller (protocol/sealed-result.ts), the event names the transaction only.
   */
  @Transaction()
  async LogAccess(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'LogAccess', ['requesterOrg', 'recordId', 'purpose', 'requestId', 'salt']);
    return logAccess(ctx, null, requestText(r.fields, 'requesterOrg'), r);
  }

  /**
   * LogAccess for a requester stated in full (as CheckAccessAs): the custodian carries what the
   * requesting org says of its requester; the log entry records it with the decision. Private as
   * LogAccess: {requester, recordId, purpose, requestId, salt} in the transient map.
   */
  @Transaction()
  async LogAccessAs(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'LogAccessAs', ['requester', 'recordId', 'purpose', 'requestId', 'salt']);
    return logAccess(ctx, parseRequester(r.fields.requester), null, r);
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
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    requireRegisteredBy((await patientAt(ctx, patientId, who.mspId))?.patient, patientId, who.mspId);
    const page = await listAccessLog(ctx, patientId, pageSize, bookmark);
    const holds = (await recordIdsAt(ctx, patientId, who.mspId)).length > 0;
    const custodians = new Map<string, string>();
    const items: AccessLogEntry[] = [];
    for (const entry of page.items) {
      let recordCustodian: string | null = null;
      if (entry.recordId !== null) {
        if (!custodians.has(entry.recordId)) {
          // An erased record's entries stay in the log (accounting of disclosures), seen as before.
          const stored = (await privateOrNothing(() => repo.getPrivateStoredRecord(ctx.stub, repo.implicitCollection(who.mspId), entry.recordId as string))) ?? (await repo.getStoredRecord(ctx.stub, entry.recordId));
          custodians.set(entry.recordId, stored ? custodianOf(stored) : '');
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
    const who = await staff(ctx, STAFF_ROLES);
    const a = await acceptPatientMessage(ctx, signedRead, ['access-log.read'], MAX_READ_AGE_MS, who.mspId);
    return canonicalize(await listAccessLog(ctx, a.patient.patientId, pageSize, bookmark));
  }

  // ------------------------------------------------------------------ emergency access

  /**
   * Opens time-limited emergency access (purpose ETREAT) for the caller's org (a clinician) to one
   * record of a patient, or to every record of the patient that one custodian holds. Private
   * (CONSENT.md "Private break-glass"): the request is in the transient map under `request`:
   * {patientId, recordId ('' = every record the custodian holds), custodian ('' = the record's),
   * reason, durationMinutes ('' = 240, at most 1440), salt}. Endorsed by the custodian's peers
   * alone: the emergency and its access-log entry go to the custodian's implicit collection,
   * nothing public is written, the result is sealed, the event names the transaction only.
   */
  @Transaction()
  async BreakGlass(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'BreakGlass', ['patientId', 'recordId', 'custodian', 'reason', 'durationMinutes', 'salt']);
    const who = await staff(ctx, EMERGENCY_ROLES);
    const now = txTimeMs(ctx);
    const patientId = requestText(r.fields, 'patientId');
    const recordId = requestText(r.fields, 'recordId');
    const durationMinutes = requestText(r.fields, 'durationMinutes');
    let custodian = requestText(r.fields, 'custodian');
    if (custodian !== '' && !Formats.mspId.test(custodian)) fail('INVALID_ARGUMENT', 'custodian must be an MSP id or empty');
    // The org whose peers run this (the gateway sends it to the custodian's, by default its own):
    // a patient and records it holds privately are looked up there first.
    const runsAt = custodian === '' ? who.mspId : custodian;
    if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
    const patientHere = await patientAt(ctx, patientId, runsAt);
    if (patientHere === undefined) fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered on this channel`);
    const privateCustody = patientHere.private;
    if (recordId !== '') {
      const record = (await recordAt(ctx, recordId, runsAt)).record;
      if (record.patientId !== patientId) fail('INVALID_ARGUMENT', `record ${recordId} belongs to another patient`);
      if (custodian !== '' && custodian !== record.custodian) fail('NOT_CUSTODIAN', `${custodian} is not the custodian of ${recordId}`);
      custodian = record.custodian;
    } else {
      if (custodian === '') fail('INVALID_ARGUMENT', 'an emergency on every record of a patient names the custodian whose records it opens');
      const holds = privateCustody
        ? (await repo.privateRecordIdsOf(ctx.stub, repo.implicitCollection(custodian), patientId)).length > 0
        : await repo.holdsRecordOf(ctx.stub, patientId, custodian);
      if (!holds) fail('NOT_CUSTODIAN', `${custodian} holds no record of patient ${patientId}`);
    }
    const durationMs = durationMinutes === '' ? null : parseCount(durationMinutes, 'durationMinutes') * 60_000;
    const collection = repo.implicitCollection(custodian);
    const earlier = await privateEmergencyIdsAt(ctx, collection, patientId);
    const mine = await loadEmergencies(ctx, patientId, who.mspId, custodian, earlier, privateCustody);
    const e = openEmergency(
      { patientId, recordId: recordId === '' ? null : recordId, custodian, reason: requestText(r.fields, 'reason'), durationMs },
      { org: who.mspId, id: who.id, role: who.role },
      mine,
      now,
      ctx.stub.getTxID(),
    );
    // The custodian's own collection, and nothing public: the custodian's endorsement alone satisfies it.
    await repo.putPrivateEmergency(ctx.stub, collection, e, r.saltHex);
    await repo.indexPrivateEmergency(ctx.stub, collection, e, earlier, r.saltHex);
    await repo.putPrivateAccessLogEntry(ctx.stub, collection, emergencyLogEntry(e, 'emergency-opened', who.mspId, now, e.txId), r.saltHex);
    emit(ctx, 'EmergencyOpened', { txId: e.txId });
    return canonicalize(sealResult(r.salt, e.txId, canonicalize(e)));
  }

  /**
   * A privacy officer's (or admin's) review of an emergency: justified or unjustified. The
   * reviewer's org is the opener's org or the emergency's custodian. Private as BreakGlass:
   * {emergencyId, custodian, outcome, salt} in the transient map, endorsed by the custodian alone.
   */
  @Transaction()
  async ReviewEmergency(ctx: Context): Promise<string> {
    const r = privateRequest(ctx, 'ReviewEmergency', ['emergencyId', 'custodian', 'outcome', 'salt']);
    const who = await staff(ctx, REVIEWER_ROLES);
    const now = txTimeMs(ctx);
    const emergencyId = requestText(r.fields, 'emergencyId');
    const custodian = requestText(r.fields, 'custodian');
    if (!Formats.mspId.test(custodian)) fail('INVALID_ARGUMENT', 'custodian must be an MSP id');
    const collection = repo.implicitCollection(custodian);
    const e = found(await repo.getPrivateEmergency(ctx.stub, collection, emergencyId), `emergency ${emergencyId} of ${custodian}`);
    if (!partyTo(e, who.mspId)) {
      fail('UNAUTHORIZED', `${who.mspId} is neither the opening org nor the custodian of this emergency`);
    }
    const reviewed = reviewEmergency(e, { org: who.mspId, id: who.id }, requestText(r.fields, 'outcome'), now);
    const txId = ctx.stub.getTxID();
    await repo.putPrivateEmergency(ctx.stub, collection, reviewed, r.saltHex);
    await repo.putPrivateAccessLogEntry(ctx.stub, collection, emergencyLogEntry(reviewed, 'emergency-reviewed', who.mspId, now, txId), r.saltHex);
    emit(ctx, 'EmergencyReviewed', { txId });
    return canonicalize(sealResult(r.salt, txId, canonicalize(reviewed)));
  }

  /**
   * A review of an emergency opened before emergencies were private (public state), as it was
   * reviewed then: public arguments and writes, endorsed as the chaincode policy says.
   */
  @Transaction()
  async ReviewPublicEmergency(ctx: Context, emergencyId: string, outcome: string): Promise<string> {
    const who = await staff(ctx, REVIEWER_ROLES);
    const now = txTimeMs(ctx);
    const e = found(await repo.getEmergency(ctx.stub, emergencyId), `emergency ${emergencyId}`);
    await loadPatient(ctx, e.patientId);
    // A record erased since the emergency opened is still reviewed by its (former) custodian.
    const recordCustodian = e.recordId === null ? null : custodianOf(found(await repo.getStoredRecord(ctx.stub, e.recordId), `record ${e.recordId}`));
    const holds = await repo.holdsRecordOf(ctx.stub, e.patientId, who.mspId);
    if (!mayReviewEmergency(e, who.mspId, { recordCustodian, holdsRecordOfPatient: holds })) {
      fail('UNAUTHORIZED', `${who.mspId} is neither the opening org nor a custodian of a record this emergency opened`);
    }
    const reviewed = reviewEmergency(e, { org: who.mspId, id: who.id }, outcome, now);
    await repo.putEmergency(ctx.stub, reviewed);
    await repo.putAccessLogEntry(ctx.stub, emergencyLogEntry(reviewed, 'emergency-reviewed', who.mspId, now, ctx.stub.getTxID()));
    emit(ctx, 'EmergencyReviewed', { txId: ctx.stub.getTxID() });
    return canonicalize(reviewed);
  }

  /**
   * One emergency, to its opening org and its custodian. `custodian` '' reads a public (older)
   * emergency; otherwise the custodian's collection, which only the custodian's peers hold (the
   * gateway client evaluates there).
   */
  @Transaction(false)
  async GetEmergency(ctx: Context, emergencyId: string, custodian: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const e = await emergencyOf(ctx, emergencyId, custodian);
    if (custodian !== '' && !partyTo(e, who.mspId)) {
      fail('UNAUTHORIZED', `${who.mspId} is neither the opening org nor the custodian of this emergency`);
    }
    return canonicalize({ ...e, active: e.openedAt <= txTimeMs(ctx) && txTimeMs(ctx) < e.expiresAt });
  }

  /**
   * The review queue of `custodian` ('' = the caller's org), in id order, paged: the private
   * emergencies in its collection that the caller's org may review (it opened them or is the
   * custodian), then the public emergencies opened before emergencies were private. Private data
   * has no paged query in Fabric, so each page reads the whole collection's emergencies.
   */
  @Transaction(false)
  async ListEmergencies(ctx: Context, custodian: string, pageSize: string, bookmark: string): Promise<string> {
    const who = await staff(ctx, REVIEWER_ROLES);
    const size = parsePageSize(pageSize);
    const holder = custodian === '' ? who.mspId : custodian;
    if (!Formats.mspId.test(holder)) fail('INVALID_ARGUMENT', 'custodian must be an MSP id or empty');
    const mine = (await repo.listAllPrivateEmergencies(ctx.stub, repo.implicitCollection(holder))).filter((e) => partyTo(e, who.mspId));
    const all = [...mine, ...(await repo.listAllPublicEmergencies(ctx.stub))];
    const at = bookmark === '' ? -1 : all.findIndex((e) => e.emergencyId === bookmark);
    if (bookmark !== '' && at < 0) fail('INVALID_ARGUMENT', 'bookmark is not one this function returned');
    const rest = all.slice(at + 1);
    const items = rest.slice(0, size);
    const last = items.at(-1);
    return canonicalize({ items, bookmark: rest.length > size && last ? last.emergencyId : '' });
  }

  // ------------------------------------------------------------------ consents from other chains

  /** Consents mirrored from other chains for a grantee org, in (source chain, consent id) order, paged. */
  @Transaction(false)
  async ListRemoteConsents(ctx: Context, grantee: string, pageSize: string, bookmark: string): Promise<string> {
    await staff(ctx, STAFF_ROLES);
    const now = txTimeMs(ctx);
    const page = await repo.listRemoteConsentRefs(ctx.stub, grantee, parsePageSize(pageSize), bookmark);
    const items: Array<WithStatus<StoredRemoteConsent>> = [];
    for (const ref of page.items) {
      const m = found(await repo.getRemoteConsent(ctx.stub, ref.sourceChain, ref.consentId), 'remote consent');
      items.push(withStatus(m, now));
    }
    return canonicalize({ items, bookmark: page.bookmark });
  }

  /**
   * Whether a consent mirrored from `sourceChainId` is active now and covers `purpose`. A
   * consent v2 decides per record: INVALID_ARGUMENT, ask CheckRemoteAccess.
   */
  @Transaction(false)
  async CheckRemoteConsent(ctx: Context, sourceChainId: string, consentId: string, purpose: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const m = found(await remoteConsentFor(ctx, who, sourceChainId, consentId), `consent ${consentId} from ${sourceChainId}`);
    if (isRemotePolicyConsent(m)) fail('INVALID_ARGUMENT', `consent ${consentId} is a consent v2: it decides per record and requester; use CheckRemoteAccess`);
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

  /**
   * The access decision on this chain under a consent mirrored from `sourceChainId`, at the
   * transaction time (CONSENT.md "Consents across chains", remote decision): request JSON
   * {requester: {org, role?, practitioner?, careTeam?, policy?}, purpose, record: {recordId,
   * resourceType, securityLabels, dataDate, authorOrg, custodian, documentClasses?}}, the record
   * as its custodian describes it. A consent v2 is evaluated by the home chain's evaluator and
   * returns its provisionPath; read-only, logs nothing.
   */
  @Transaction(false)
  async CheckRemoteAccess(ctx: Context, sourceChainId: string, consentId: string, request: string): Promise<string> {
    const who = await staff(ctx, STAFF_ROLES);
    const q = parseRemoteAccessRequest(parseJson(request, 'request'));
    const m = found(await remoteConsentFor(ctx, who, sourceChainId, consentId), `consent ${consentId} from ${sourceChainId}`);
    return canonicalize(decideRemoteAccess(m, q, txTimeMs(ctx)));
  }
}

// -------------------------------------------------------------------- helpers

/** Bytes of a private request in the transient map, at most. */
const PRIVATE_REQUEST_MAX_BYTES = 16 * 1024;
/** A sealed delivery carries a whole consent packet (at most a packet's size) with the sealed envelope and salts. */
const SEALED_DELIVERY_MAX_BYTES = Limits.maxPacketBytes + 4 * 1024;
/** A private grant carries the signed grant: a policy of up to 8 KiB (PolicyLimits) with its envelope and a guardian's delegation. */
const PRIVATE_GRANT_MAX_BYTES = 32 * 1024;
const SALT_HEX = /^[0-9a-f]{64}$/;

interface PrivateRequest {
  fields: Record<string, unknown>;
  salt: Buffer;
  saltHex: string;
}

/**
 * The request of a private transaction: canonical-JSON-parsable object under `request` in the
 * transient map, with exactly the fields `allowed` (all present), among them `salt`, 32 random
 * bytes in lower-case hex that salt what the transaction writes and seal what it returns.
 */
function privateRequest(ctx: Context, fn: string, allowed: readonly string[], maxBytes = PRIVATE_REQUEST_MAX_BYTES): PrivateRequest {
  const bytes = ctx.stub.getTransient().get('request');
  if (bytes === undefined || bytes.length === 0) {
    fail('INVALID_ARGUMENT', `${fn} takes its request in the transient map under "request" (it is private: nothing of it goes into a block)`);
  }
  if (bytes.length > maxBytes) fail('INVALID_ARGUMENT', `${fn}'s request is larger than ${maxBytes} bytes`);
  const fields = asRequestObject(parseJson(Buffer.from(bytes).toString('utf8'), 'request'), fn, allowed);
  const saltHex = fields.salt;
  if (typeof saltHex !== 'string' || !SALT_HEX.test(saltHex)) fail('INVALID_ARGUMENT', `${fn}'s request.salt must be 32 random bytes in lower-case hex`);
  return { fields, salt: Buffer.from(saltHex, 'hex'), saltHex };
}

/** asObject (unknown fields refused) with every allowed field present. */
function asRequestObject(value: unknown, fn: string, allowed: readonly string[]): Record<string, unknown> {
  const o = asObject(value, 'INVALID_ARGUMENT', `${fn}'s request`, allowed);
  for (const k of allowed) if (!(k in o)) fail('INVALID_ARGUMENT', `${fn}'s request.${k} is missing`);
  return o;
}

/** A string field of a private request ('' allowed: each field's own check decides). */
function requestText(fields: Record<string, unknown>, k: string): string {
  const v = fields[k];
  if (typeof v !== 'string') fail('INVALID_ARGUMENT', `request.${k} must be a string`);
  return v;
}

/** LogAccess / LogAccessAs: exactly one of `requester` (LogAccessAs) and `requesterOrg` (LogAccess). */
async function logAccess(ctx: Context, requester: Requester | null, requesterOrg: string | null, request: PrivateRequest): Promise<string> {
  const who = await staff(ctx, WRITER_ROLES);
  const now = txTimeMs(ctx);
  const recordId = requestText(request.fields, 'recordId');
  const purpose = requestText(request.fields, 'purpose');
  const requestId = requestText(request.fields, 'requestId');
  const { record, private: held } = await recordAt(ctx, recordId, who.mspId);
  if (record.custodian !== who.mspId) fail('NOT_CUSTODIAN', `only ${record.custodian}, the custodian of ${recordId}, logs its disclosures`);
  if (requestId !== '' && !REQUEST_ID.test(requestId)) fail('INVALID_ARGUMENT', `requestId must match ${REQUEST_ID.source} or be empty`);
  const org = requester?.org ?? (requesterOrg as string);
  if (requester === null && !Formats.mspId.test(org)) fail('INVALID_ARGUMENT', 'grantee must be an MSP id');
  const d = await decide(ctx, requester ?? orgRequester(org), record, purpose, now, held);
  const entry: AccessLogEntry = {
    kind: 'access',
    patientId: record.patientId,
    recordId,
    requester: org,
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
  if (d.provisionPath !== undefined) entry.provisionPath = d.provisionPath;
  if (requester !== null && (requester.role ?? requester.practitioner ?? requester.careTeam ?? requester.policy) !== null) {
    entry.requesterDetail = { role: requester.role, practitioner: requester.practitioner, careTeam: requester.careTeam, policy: requester.policy };
  }
  // The custodian's own collection, and nothing public: the custodian's endorsement alone satisfies it.
  await repo.putPrivateAccessLogEntry(ctx.stub, repo.implicitCollection(who.mspId), entry, request.saltHex);
  emit(ctx, 'AccessLogged', { txId: entry.txId });
  const result = canonicalize({ ...d, recordId, hash: record.hash, version: record.version, txId: entry.txId, ...(held ? { heldPrivately: true } : {}) });
  return canonicalize(sealResult(request.salt, entry.txId, result));
}

async function anchor(ctx: Context, input: AnchorInput): Promise<string> {
  const who = await staff(ctx, WRITER_ROLES);
  const now = txTimeMs(ctx);
  if (!Formats.patientId.test(input.patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
  requireRegisteredBy(await repo.getPatient(ctx.stub, input.patientId), input.patientId, who.mspId);
  if (!Formats.recordId.test(input.recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  const { anchor: head, version } = anchorRecord(await repo.getRecord(ctx.stub, input.recordId), input, who.mspId, now, ctx.stub.getTxID());
  await repo.putRecord(ctx.stub, head);
  await repo.putRecordVersion(ctx.stub, version);
  await repo.putCustodianIndex(ctx.stub, head);
  emit(ctx, 'RecordAnchored', eventOfRecord(head));
  return canonicalize(head);
}

async function amend(
  ctx: Context,
  recordId: string,
  hash: string,
  expectedVersion: string,
  change: { metadata?: RecordLabels; labels?: PrivateLabelsRef },
): Promise<string> {
  const who = await staff(ctx, WRITER_ROLES);
  const head = await loadRecord(ctx, recordId);
  const headVersion = found(await repo.getRecordVersion(ctx.stub, recordId, head.version), `version ${head.version} of record ${recordId}`);
  const expected = parseCount(expectedVersion, 'expectedVersion');
  const input = { hash, expectedVersion: expected, ...change };
  const { anchor: next, version } = amendRecord(head, headVersion, input, who.mspId, txTimeMs(ctx), ctx.stub.getTxID());
  await repo.putRecord(ctx.stub, next);
  await repo.putRecordVersion(ctx.stub, version);
  emit(ctx, 'RecordAmended', eventOfRecord(next));
  return canonicalize(next);
}

/** Checks and writes an erasure; a refusal throws before anything is written. */
async function erase(ctx: Context, who: Caller, request: ErasureRequest, now: number): Promise<ErasedRecord> {
  const stored = await repo.getStoredRecord(ctx.stub, request.recordId);
  const erased = eraseRecord(stored, request, who.mspId, now, ctx.stub.getTxID());
  await repo.putErasure(ctx.stub, stored as RecordAnchor, erased);
  return erased;
}

/**
 * erase() for a record anchored privately by the caller's org: the marker in its collection, every
 * version and its metadata purged, the patient's private index without the record.
 */
async function erasePrivately(ctx: Context, who: Caller, request: ErasureRequest, now: number, saltHex: string): Promise<ErasedRecord & { purgedLabelVersions: number[] }> {
  const collection = repo.implicitCollection(who.mspId);
  if (!Formats.recordId.test(request.recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  const stored = await repo.getPrivateStoredRecord(ctx.stub, collection, request.recordId);
  const erased = eraseRecord(stored, request, who.mspId, now, ctx.stub.getTxID());
  const head = stored as RecordAnchor;
  const purgedLabelVersions: number[] = [];
  for (let v = 1; v <= head.version; v++) {
    await repo.purgePrivateRecordVersion(ctx.stub, collection, head.recordId, v);
    if ((await repo.privateRecordLabelsHash(ctx.stub, collection, head.recordId, v)) === undefined) continue;
    await repo.purgePrivateRecordLabels(ctx.stub, collection, head.recordId, v);
    purgedLabelVersions.push(v);
  }
  await repo.putPrivateErasure(ctx.stub, collection, erased, saltHex);
  await repo.unindexPrivateRecord(ctx.stub, collection, head.patientId, head.recordId, saltHex);
  return { ...erased, purgedLabelVersions };
}

/** RecordErased carries no patient id and no hash: the event outlives the state it describes. */
function eventOfErasure(e: ErasedRecord) {
  return { recordId: e.recordId, erasedBy: e.erasedBy, versions: e.versions, txId: e.txId };
}

/** Caller with one of `roles`, in a member org of this channel. */
/**
 * GrantConsent's state change without its event: checks the caller (staff), the patient's
 * signed consent.grant message and its nonce, and stores the consent with its indexes.
 * CrossChain:GrantAndSend runs it in the same transaction as the packet that carries the consent.
 */
export async function storeGrant(ctx: Context, signedGrant: string): Promise<{ consent: StoredConsent; patient: Patient; now: number; status: WithStatus<StoredConsent> }> {
  await staff(ctx, STAFF_ROLES);
  const a = await acceptPatientMessage(ctx, signedGrant, GRANT_KINDS, MAX_MESSAGE_AGE_MS);
  const keeper = keeperNamed(a.verified.message);
  if (keeper !== undefined) {
    fail('INVALID_ARGUMENT', `this grant is kept privately by ${keeper} (its keeper field): GrantConsentPrivately at ${keeper}'s peers stores it, never public state`);
  }
  const consent = consentOfGrant(a, ctx.stub.getTxID());
  requireCarriable(consent, a.patient);
  if (await repo.consentExists(ctx.stub, consent.consentId)) fail('ALREADY_EXISTS', `consent ${consent.consentId} already exists`);
  await repo.putConsent(ctx.stub, consent);
  if (isPolicyConsent(consent)) await repo.indexPolicyConsent(ctx.stub, consent);
  else await repo.indexConsent(ctx.stub, consent);
  await useNonce(ctx, a.verified, a.now);
  return { consent, patient: a.patient, now: a.now, status: withStatus(consent, a.now) };
}

const GRANT_KINDS = ['consent.grant', 'consent.grant-policy'] as const;

/** The consent a verified grant makes, v1 terms or a v2 policy, checked for meaning (consent-rules). */
function consentOfGrant(a: Accepted<(typeof GRANT_KINDS)[number]>, txId: string): StoredConsent {
  if (a.verified.message.kind === 'consent.grant-policy') {
    const verified = a.verified as VerifiedPatientMessage<Extract<PatientMessage, { kind: 'consent.grant-policy' }>>;
    return grantPolicyConsent(verified, a.signedBy, a.now, txId);
  }
  const verified = a.verified as VerifiedPatientMessage<Extract<PatientMessage, { kind: 'consent.grant' }>>;
  return grantConsent(verified, a.signedBy, a.now, txId);
}

/** The keeper a grant names (a private consent), or undefined. */
function keeperNamed(m: PatientMessage): string | undefined {
  return m.kind === 'consent.grant' || m.kind === 'consent.grant-policy' ? m.keeper : undefined;
}

/**
 * The implicit collection of a consent's keeper, a member org of this channel (NOT_A_MEMBER
 * otherwise). Only the keeper's peers can endorse what is written there (Fabric's policy for an
 * implicit collection): a grant endorsed elsewhere does not commit.
 */
async function keeperCollection(ctx: Context, keeper: string): Promise<string> {
  const { members } = await getMemberSet(ctx.stub);
  if (!members.includes(keeper)) fail('NOT_A_MEMBER', `${keeper} is not a member of this channel: it cannot keep a consent here`);
  return repo.implicitCollection(keeper);
}

/** A private grant or revocation is refused at a keeper that already used its nonce (the public nonce is checked too, by acceptPatientMessage). */
async function requirePrivateNonceUnused(ctx: Context, collection: string, verified: VerifiedPatientMessage<PatientMessage>): Promise<void> {
  if (await repo.isPrivateNonceUsed(ctx.stub, collection, verified.signerKeyId, verified.message.nonce)) {
    fail('NONCE_REPLAYED', `nonce ${verified.message.nonce} of signer ${verified.signerKeyId} was already used; sign a new message`);
  }
}

async function usePrivateNonce(ctx: Context, collection: string, verified: VerifiedPatientMessage<PatientMessage>, now: number, saltHex: string): Promise<void> {
  const m = verified.message;
  await repo.putPrivateNonceUse(ctx.stub, collection, verified.signerKeyId, m.nonce, { kind: m.kind, patientId: m.patientId, time: now, txId: ctx.stub.getTxID() }, saltHex);
}

/** A signed patient message carried in a private request, as an object; returned as JSON text for acceptPatientMessage. */
function signedMessageText(fields: Record<string, unknown>, k: string): string {
  const v = fields[k];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('INVALID_ARGUMENT', `request.${k} must be a signed patient message (an object)`);
  return JSON.stringify(v);
}

async function staff(ctx: Context, roles: Role[]): Promise<Caller> {
  return requireMemberRole(ctx, ...roles);
}

function withStatus<T extends { status: 'active' | 'revoked'; terms: Consent['terms'] } | { status: 'active' | 'revoked'; policy: ConsentPolicy }>(c: T, now: number): WithStatus<T> {
  return { ...c, effectiveStatus: consentStatusAt(c, now) };
}

function eventOfRecord(a: RecordAnchor) {
  return { recordId: a.recordId, patientId: a.patientId, custodian: a.custodian, category: a.category, version: a.version, hash: a.hash, txId: a.txId };
}

/** ConsentGranted / ConsentRevoked: a v1 consent names its grantee; a v2 consent its grantee index entries (orgs or '*'). */
function eventOfConsent(c: StoredConsent, ctx: Context) {
  const who = isPolicyConsent(c) ? { grantee: null, grantees: c.grantees } : { grantee: c.grantee };
  return {
    consentId: c.consentId,
    patientId: c.patientId,
    ...who,
    status: c.status,
    version: c.version,
    chainId: c.chainId,
    periodEnd: consentPeriodEnd(c),
    txId: ctx.stub.getTxID(),
  };
}

/** A page's bookmark: the (time, transaction) of the last entry it returned. */
const LOG_BOOKMARK = /^(\d{1,16})\|([A-Za-z0-9]{1,128})$/;

/**
 * A patient's access log as this peer holds it for the caller's org, oldest first (by time,
 * then transaction id), paged: the public entries (emergencies opened and reviewed, and
 * decisions logged before decisions were private) merged with the decisions in the caller's
 * own implicit collection. Private data has no paged query in Fabric, so every entry of the
 * patient is read for each page.
 */
async function listAccessLog(ctx: Context, patientId: string, pageSize: string, bookmark: string): Promise<Page<AccessLogEntry>> {
  const size = parsePageSize(pageSize);
  let after: { time: number; txId: string } | undefined;
  if (bookmark !== '') {
    const m = LOG_BOOKMARK.exec(bookmark);
    if (!m) fail('INVALID_ARGUMENT', 'bookmark is not one this function returned');
    after = { time: Number(m[1]), txId: m[2] as string };
  }
  const byTime = (a: { time: number; txId: string }, b: { time: number; txId: string }): number =>
    a.time - b.time || (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0);
  const own = repo.implicitCollection(ctx.clientIdentity.getMSPID());
  const all = [...(await repo.listAllAccessLog(ctx.stub, patientId)), ...(await repo.listPrivateAccessLog(ctx.stub, own, patientId))].sort(byTime);
  const rest = after === undefined ? all : all.filter((e) => byTime(e, after) > 0);
  const items = rest.slice(0, size);
  const last = items.at(-1);
  return { items, bookmark: rest.length > size && last ? `${last.time}|${last.txId}` : '' };
}

/** A patient: registered privately at `privateAt` (when given; read on its peer), else publicly. */
async function loadPatient(ctx: Context, patientId: string, privateAt?: string): Promise<Patient> {
  if (!Formats.patientId.test(patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
  const p = privateAt === undefined ? await repo.getPatient(ctx.stub, patientId) : (await patientAt(ctx, patientId, privateAt))?.patient;
  if (!p) fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered on this channel`);
  return p;
}

/**
 * A patient as org `custodian` holds them (CONSENT.md "Private patients and anchors"): registered
 * privately in its implicit collection, read first, on a peer of that org; else the public
 * registration. A private patient's lookup reads no public key that names them. On a peer of
 * another org the private read finds nothing (Fabric answers an error for a key whose hash it
 * holds): the public registration, if any, answers.
 */
async function patientAt(ctx: Context, patientId: string, custodian: string): Promise<{ patient: Patient; private: boolean } | undefined> {
  const held = await privateOrNothing(() => repo.getPrivatePatient(ctx.stub, repo.implicitCollection(custodian), patientId));
  if (held !== undefined) return { patient: held, private: true };
  const p = await repo.getPatient(ctx.stub, patientId);
  return p === undefined ? undefined : { patient: p, private: false };
}

/** The ids of a patient's records `org` holds: privately anchored ones for a patient it registered privately, else the public index's. */
async function recordIdsAt(ctx: Context, patientId: string, org: string): Promise<string[]> {
  if ((await patientAt(ctx, patientId, org))?.private === true) return repo.privateRecordIdsOf(ctx.stub, repo.implicitCollection(org), patientId);
  return (await repo.recordIdsHeldBy(ctx.stub, patientId, org)).map((r) => r.recordId);
}

/** A private read that a peer of another org cannot make: undefined there instead of Fabric's error. */
async function privateOrNothing<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

/**
 * A record as org `custodian` holds it: anchored privately in its collection (read first, on its
 * peer), else the public anchor. `private` tells which: a decision on a private record reads no
 * public key naming its patient (decide).
 */
async function recordAt(ctx: Context, recordId: string, custodian: string): Promise<{ record: RecordAnchor; private: boolean }> {
  if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  const held = await privateOrNothing(() => repo.getPrivateStoredRecord(ctx.stub, repo.implicitCollection(custodian), recordId));
  if (held !== undefined) return { record: found(liveRecord(held), `record ${recordId}`), private: true };
  return { record: found(await repo.getRecord(ctx.stub, recordId), `record ${recordId}`), private: false };
}

/**
 * The private metadata `org` labelled for a version (LabelRecord), named by its hash as every
 * peer holds it; NOT_FOUND when there is none.
 */
async function labelledVersion(ctx: Context, org: string, recordId: string, version: number): Promise<PrivateLabelsRef> {
  if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  const hash = await repo.privateRecordLabelsHash(ctx.stub, repo.implicitCollection(org), recordId, version);
  if (hash === undefined) fail('NOT_FOUND', `version ${version} of ${recordId} has no private metadata of ${org}: LabelRecord first`);
  return { version, hash };
}

/**
 * A record's private metadata, for a caller of its custodian's org on a peer of that org (the only
 * peers that hold it), checked against the hash the anchor names; undefined for anyone else, or
 * elsewhere. The custodian alone decides with it: an answer given to another org would tell it
 * something of the labels.
 */
async function privateLabelsOf(ctx: Context, record: RecordAnchor): Promise<RecordLabels | undefined> {
  const ref = record.labels;
  if (ref === undefined || ctx.clientIdentity.getMSPID() !== record.custodian) return undefined;
  let bytes: Buffer | undefined;
  try {
    bytes = await repo.getPrivateRecordLabels(ctx.stub, repo.implicitCollection(record.custodian), record.recordId, ref.version);
  } catch {
    return undefined; // a peer of another org: it holds the hash only
  }
  if (bytes === undefined) return undefined;
  if (sha256Hex(bytes) !== ref.hash) fail('RECORD_HASH_MISMATCH', `the private metadata of ${record.recordId} does not match the hash its anchor names`);
  return (JSON.parse(bytes.toString('utf8')) as PrivateRecordLabels).metadata;
}

/** privateLabelsOf for a read that needs them: NOT_CUSTODIAN where they cannot be read. */
async function heldLabels(ctx: Context, record: RecordAnchor): Promise<RecordLabels> {
  return (await privateLabelsOf(ctx, record)) ?? fail('NOT_CUSTODIAN', `the metadata of ${record.recordId} is held by ${record.custodian}'s peers; ask one of them`);
}

/** A record's live head: public, or with `privateAt` first as that org holds it privately (recordAt). */
async function loadRecord(ctx: Context, recordId: string, privateAt?: string): Promise<RecordAnchor> {
  if (privateAt !== undefined) return (await recordAt(ctx, recordId, privateAt)).record;
  if (!Formats.recordId.test(recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  return found(await repo.getRecord(ctx.stub, recordId), `record ${recordId}`);
}

/**
 * The emergencies `org` holds for a patient that `custodian` enforces: the private ones in the
 * custodian's collection (read on the custodian's peer; another org's peer holds none of them,
 * so it finds none and refuses, never allows), then the public ones opened before emergencies
 * were private.
 */
/**
 * The emergencies `org` opened on the patient at `custodian`. Every emergency of the patient there
 * is read, whoever opened it, and the others dropped after reading: so what an ETREAT decision
 * reads, private keys' hashes included, does not name the org that asks (CONSENT.md "Private
 * access decisions"). `privateIds`: privateEmergencyIdsAt's answer, when the caller has it.
 */
async function loadEmergencies(ctx: Context, patientId: string, org: string, custodian: string, privateIds?: readonly string[], privateCustody = false): Promise<Emergency[]> {
  const out: Emergency[] = [];
  const collection = repo.implicitCollection(custodian);
  for (const id of privateIds ?? (await privateEmergencyIdsAt(ctx, collection, patientId))) {
    const e = found(await repo.getPrivateEmergency(ctx.stub, collection, id), 'emergency');
    if (e.org === org) out.push(e);
  }
  // A privately registered patient never had a public emergency (those predate private ones).
  for (const r of privateCustody ? [] : await repo.publicEmergencyIdsOfPatient(ctx.stub, patientId)) {
    const e = found(await repo.getEmergency(ctx.stub, r.emergencyId), 'emergency');
    if (e.org === org) out.push(e);
  }
  return out;
}

/**
 * Ids of the patient's private emergencies in `collection`, every opening org's: the patient's
 * index; for a patient whose emergencies were all opened before it (a (patient, org) index, read
 * by point for every member org, so still not naming the one that asks), those. BreakGlass writes
 * the patient's index from this, so the first emergency opened since carries the earlier ones over.
 */
async function privateEmergencyIdsAt(ctx: Context, collection: string, patientId: string): Promise<string[]> {
  const indexed = await repo.privateEmergencyIdsOfPatient(ctx.stub, collection, patientId);
  if (indexed !== undefined) return indexed;
  const { members } = await getMemberSet(ctx.stub);
  const ids = new Set<string>();
  for (const org of [...members].sort()) for (const id of await repo.legacyPrivateEmergencyIdsOf(ctx.stub, collection, patientId, org)) ids.add(id);
  return [...ids].sort();
}

/** Whether `org` opened the private emergency `e` or is its custodian (mayReviewEmergency for an emergency naming its custodian). */
function partyTo(e: Emergency, org: string): boolean {
  return mayReviewEmergency(e, org, { recordCustodian: null, holdsRecordOfPatient: false });
}

/** An emergency by id: public ('' custodian, opened before emergencies were private) or in the custodian's collection. */
async function emergencyOf(ctx: Context, emergencyId: string, custodian: string): Promise<Emergency> {
  if (custodian === '') return found(await repo.getEmergency(ctx.stub, emergencyId), `emergency ${emergencyId}`);
  if (!Formats.mspId.test(custodian)) fail('INVALID_ARGUMENT', 'custodian must be an MSP id or empty');
  return found(await repo.getPrivateEmergency(ctx.stub, repo.implicitCollection(custodian), emergencyId), `emergency ${emergencyId} of ${custodian}`);
}

async function decide(ctx: Context, requester: Requester, record: RecordAnchor, purpose: string, now: number, privateCustody = false): Promise<AccessDecision> {
  const grantee = requester.org;
  // The public consents that can decide for the record, of every grantee: what is read depends on
  // the patient and the record alone, so a logged decision's read set does not name who asked.
  // Those of other grantees are dropped here, after reading (checkAccess would ignore them too).
  // A record anchored privately has a privately registered patient, who has no public consent
  // (GrantConsent refuses them): nothing public is read, so no read set names the patient.
  const consents: Consent[] = [];
  const policyConsents: PolicyConsent[] = [];
  for (const consentId of privateCustody ? [] : await repo.consentIdsForRecord(ctx.stub, record)) {
    const c = found(await repo.getConsent(ctx.stub, consentId), 'consent');
    if (isPolicyConsent(c)) {
      if (c.grantees.includes(grantee) || c.grantees.includes(ANY_GRANTEE)) policyConsents.push(c);
    } else if (c.grantee === grantee && scopeCovers(c.terms, record)) {
      consents.push(c);
    }
  }
  // Private consents decide for the records of their keeper, on the keeper's peers only
  // (CONSENT.md "Private consents"); the record's custodian is the keeper whose consents count.
  const askedAtCustodian = ctx.clientIdentity.getMSPID() === record.custodian;
  if (askedAtCustodian) {
    // As the public ones: a consent v1 that covers other records only is not the record's (no-consent, not out-of-scope).
    for (const c of await keptConsents(ctx, record.custodian, record.patientId, grantee, now)) {
      if (isPolicyConsent(c)) policyConsents.push(c);
      else if (scopeCovers(c.terms, record)) consents.push(c);
    }
  }
  const privateConsentsUnseen = !askedAtCustodian && (await repo.keepsPrivateConsents(ctx.stub, repo.implicitCollection(record.custodian), record.patientId));
  // Emergencies decide only for purpose ETREAT (access-rules checkAccess); other purposes read none.
  // They are private to the record's custodian: only its peers hold them. Asked by another org (on
  // its own peer), a decision without them stands when it allows; a refusal is not an answer, since
  // an emergency the custodian holds might allow it (NOT_CUSTODIAN: ask the custodian).
  const needsEmergencies = purpose === EMERGENCY_PURPOSE && grantee !== record.custodian;
  const blind = needsEmergencies && !askedAtCustodian;
  const emergencies = needsEmergencies && !blind ? await loadEmergencies(ctx, record.patientId, grantee, record.custodian, undefined, privateCustody) : [];
  const q = { grantee, record, purpose, action: 'read', at: now, consents, emergencies };
  const d =
    policyConsents.length === 0
      ? checkAccess(q)
      : checkAccess({ ...q, policyConsents, requester, recordMetadata: recordMetadataOf(record, await privateLabelsOf(ctx, record)) });
  if (blind && !d.allowed) {
    fail('NOT_CUSTODIAN', `no consent allows ${purpose}; emergencies are private to ${record.custodian}, the custodian of ${record.recordId}, which alone decides on them`);
  }
  if (privateConsentsUnseen && !d.allowed) {
    fail('NOT_CUSTODIAN', `no public consent allows ${purpose}; ${record.custodian}, the custodian of ${record.recordId}, keeps private consents of its patient and alone decides on them`);
  }
  return d;
}

/**
 * The private consents `keeper` keeps for a patient (its own collection, read on its own peer),
 * those that can decide for requester org `grantee` (null: all), in consent-id order, with status.
 */
async function keptConsents(ctx: Context, keeper: string, patientId: string, grantee: string | null, now: number): Promise<Array<WithStatus<StoredConsent>>> {
  const collection = repo.implicitCollection(keeper);
  const entries = await repo.privateConsentIndex(ctx.stub, collection, patientId);
  const ids = grantee === null ? entries.map((e) => e.consentId) : privateConsentIdsFor(entries, grantee);
  const out: Array<WithStatus<StoredConsent>> = [];
  for (const consentId of ids) {
    const c = found(await repo.getPrivateConsent(ctx.stub, collection, consentId), `private consent ${consentId}`);
    out.push(withStatus(c, now));
  }
  return out;
}

interface Accepted<K extends PatientMessageKind> {
  verified: VerifiedPatientMessage<Extract<PatientMessage, { kind: K }>>;
  patient: Patient;
  signedBy: SignedBy;
  now: number;
}

/**
 * A patient-signed message checked in this order: signature and channel binding
 * (protocol), freshness, patient registered on this chain, signer authority (the patient's
 * current key, never a retired one, or an active guardian), nonce unused by this signer. The caller writes the nonce with
 * its state change (useNonce).
 */
async function acceptPatientMessage<K extends PatientMessageKind>(
  ctx: Context,
  json: string,
  kinds: readonly K[],
  maxAgeMs: number,
  privateAt?: string | ((m: PatientMessage) => string | undefined),
): Promise<Accepted<K>> {
  const { chainId } = await getMemberSet(ctx.stub);
  const now = txTimeMs(ctx);
  const signed = verifyPatientMessage(parseJson(json, 'signed message'), { channel: chainId, kinds });
  const m = signed.message;
  checkFreshness(m.issuedAt, now, maxAgeMs);
  // A transaction private to one org (privateAt) may find the patient registered privately there;
  // a public one reads the public registration only (a private patient is not registered for it).
  const custodian = typeof privateAt === 'function' ? privateAt(m) : privateAt;
  const at = custodian === undefined ? undefined : await patientAt(ctx, m.patientId, custodian);
  const patient = custodian === undefined ? await repo.getPatient(ctx.stub, m.patientId) : at?.patient;
  if (!patient) fail('PATIENT_NOT_REGISTERED', `patient ${m.patientId} is not registered on ${chainId}`);
  const verified = asPatientSigner(signed, patient);
  // A private patient's guardians and nonces are not read from public state (their keys name the
  // patient and the signer): their guardians are in the same collection as the patient, and their
  // nonces are kept at the org that keeps what they sign (requirePrivateNonceUnused).
  const privately = at?.private === true;
  const guardian = verified.signedByPatient
    ? undefined
    : privately
      ? await repo.getPrivateGuardian(ctx.stub, repo.implicitCollection(custodian as string), m.patientId, verified.signerKeyId)
      : await repo.getGuardian(ctx.stub, m.patientId, verified.signerKeyId);
  const authority = signerAuthority(verified, guardian, now);
  if (!privately && (await repo.isNonceUsed(ctx.stub, verified.signerKeyId, m.nonce))) {
    fail('NONCE_REPLAYED', `nonce ${m.nonce} of signer ${verified.signerKeyId} was already used; sign a new message`);
  }
  return { verified, patient, signedBy: { keyId: verified.signerKeyId, authority, delegation: guardian ? guardian.delegation : null }, now };
}

/**
 * The start of a private patient-signed write (`fn`: {<field>: the signed message, salt} in the
 * transient map): the caller's staff, and a message of a patient registered privately at the
 * caller's org (PATIENT_NOT_REGISTERED for a public one: the public transactions serve those),
 * its nonce unused at that org.
 */
async function openPrivatePatientWrite<K extends PatientMessageKind>(
  ctx: Context,
  fn: string,
  field: string,
  kinds: readonly K[],
): Promise<{ r: PrivateRequest; who: Caller; a: Accepted<K>; collection: string }> {
  const r = privateRequest(ctx, fn, [field, 'salt']);
  const who = await staff(ctx, STAFF_ROLES);
  const a = await acceptPatientMessage(ctx, signedMessageText(r.fields, field), kinds, MAX_MESSAGE_AGE_MS, who.mspId);
  const collection = repo.implicitCollection(who.mspId);
  if ((await repo.getPrivatePatient(ctx.stub, collection, a.patient.patientId)) === undefined) {
    fail('PATIENT_NOT_REGISTERED', `patient ${a.patient.patientId} is not registered privately by ${who.mspId}; a publicly registered patient's messages go to the public transactions`);
  }
  await requirePrivateNonceUnused(ctx, collection, a.verified);
  return { r, who, a, collection };
}

/**
 * The patient after a key rotation, from what the store the rotation reads (public, or the
 * custodian's collection) says of the new key: whose rotated-in key or registration it is, and
 * whether it is the patient's guardian's.
 */
function rotated(ctx: Context, a: Accepted<'patient.rotate-key'>, newKey: { rotatedOwner?: string; registeredOwner?: string; guardian?: Guardian }): Patient {
  const guardianOfPatient = newKey.guardian !== undefined && guardianActiveAt(newKey.guardian, a.now);
  return rotatePatientKey(a.patient, a.verified, { ownerPatientId: newKey.rotatedOwner ?? newKey.registeredOwner ?? null, guardianOfPatient }, a.now, ctx.stub.getTxID());
}

/** The end of a private patient-signed write: the nonce used at that org, an event naming the transaction only, the result sealed. */
async function closePrivatePatientWrite(ctx: Context, collection: string, a: { verified: VerifiedPatientMessage<PatientMessage>; now: number }, r: PrivateRequest, event: string, result: unknown): Promise<string> {
  await usePrivateNonce(ctx, collection, a.verified, a.now, r.saltHex);
  const txId = ctx.stub.getTxID();
  emit(ctx, event, { txId });
  return canonicalize(sealResult(r.salt, txId, canonicalize(result)));
}

async function useNonce(ctx: Context, verified: VerifiedPatientMessage<PatientMessage>, now: number): Promise<void> {
  const m = verified.message;
  await repo.putNonceUse(ctx.stub, verified.signerKeyId, m.nonce, {
    kind: m.kind,
    patientId: m.patientId,
    time: now,
    txId: ctx.stub.getTxID(),
  });
}
