/**
 * Consent state (CONSENT.md "State"): patients, guardians, used patient nonces, record
 * anchors with their versions, consents and their indexes, consents mirrored from other
 * chains, the access log and emergencies. Every key comes from keys.ts; values are
 * canonical JSON. Getters return undefined for what is not there; `found` (store.ts) turns
 * that into NOT_FOUND where the caller needs it.
 */
import type { ChaincodeStub } from 'fabric-shim';
import type { AccessLogEntry, Emergency } from '../rules/access-rules';
import { isPolicyConsent, type Consent, type PolicyConsent, type PrivateConsentEntry, type StoredConsent } from '../rules/consent-rules';
import type { Guardian, Patient } from '../rules/patient-rules';
import { liveRecord, type ErasedRecord, type PrivateRecordLabels, type RecordAnchor, type RecordVersion, type StoredRecordState } from '../rules/record-rules';
import { remoteGranteesOf, type StoredRemoteConsent } from '../rules/remote-consent-rules';
import type { ConsentSeal, SealedArrival } from '../rules/sealed-consent-rules';
import { key, KeyTypes, pad } from './keys';
import { canonicalBytes, sha256Hex } from '../protocol/canonical-json';
import { exists, getJson, getPrivateJson, getSaltedPrivateJson, listAllByPartialKey, listAllPrivateByPartialKey, listByPartialKey, putJson, type Page } from './store';

export type { AccessLogEntry } from '../rules/access-rules';

/** What a used nonce records. */
export interface NonceUse {
  kind: string;
  patientId: string;
  time: number;
  txId: string;
}

// --- patients, guardians, nonces

export async function getPatient(stub: ChaincodeStub, patientId: string): Promise<Patient | undefined> {
  return getJson<Patient>(stub, key(stub, KeyTypes.Patient, patientId));
}

export async function putPatient(stub: ChaincodeStub, patient: Patient): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Patient, patient.patientId), patient);
}

/** The patient a rotated-in key belongs to (keys a patient registered with derive the id instead). */
export async function getPatientKeyOwner(stub: ChaincodeStub, keyId: string): Promise<{ patientId: string } | undefined> {
  return getJson<{ patientId: string }>(stub, key(stub, KeyTypes.PatientKey, keyId));
}

export async function putPatientKeyOwner(stub: ChaincodeStub, keyId: string, patientId: string): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.PatientKey, keyId), { patientId });
}

/** Every consent id of a patient, in consent-id order. */
export async function allConsentIdsOfPatient(stub: ChaincodeStub, patientId: string): Promise<Array<{ consentId: string }>> {
  return listAllByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByPatient, [patientId]);
}

export async function getGuardian(stub: ChaincodeStub, patientId: string, guardianId: string): Promise<Guardian | undefined> {
  return getJson<Guardian>(stub, key(stub, KeyTypes.Guardian, patientId, guardianId));
}

export async function putGuardian(stub: ChaincodeStub, guardian: Guardian): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Guardian, guardian.patientId, guardian.guardianId), guardian);
}

export async function isNonceUsed(stub: ChaincodeStub, signerKeyId: string, nonce: string): Promise<boolean> {
  return exists(stub, key(stub, KeyTypes.PatientNonce, signerKeyId, nonce));
}

export async function putNonceUse(stub: ChaincodeStub, signerKeyId: string, nonce: string, use: NonceUse): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.PatientNonce, signerKeyId, nonce), use);
}

// --- records

/** A record's live head; RECORD_ERASED when the record was erased (every reader of a record answers so). */
export async function getRecord(stub: ChaincodeStub, recordId: string): Promise<RecordAnchor | undefined> {
  return liveRecord(await getStoredRecord(stub, recordId));
}

/** What a record's key holds: its head, or the marker an erasure left. */
export async function getStoredRecord(stub: ChaincodeStub, recordId: string): Promise<StoredRecordState | undefined> {
  return getJson<StoredRecordState>(stub, key(stub, KeyTypes.Record, recordId));
}

/**
 * Erases a record's anchor: the marker replaces the head, and every version (each holding a
 * hash and the metadata labels) and the patient index entry are deleted from state.
 */
export async function putErasure(stub: ChaincodeStub, head: RecordAnchor, erased: ErasedRecord): Promise<void> {
  for (let v = 1; v <= head.version; v++) await stub.deleteState(key(stub, KeyTypes.RecordVersion, head.recordId, pad(v)));
  await stub.deleteState(key(stub, KeyTypes.RecordByCustodian, head.patientId, head.custodian, head.recordId));
  await putJson(stub, key(stub, KeyTypes.Record, erased.recordId), erased);
}

export async function putRecord(stub: ChaincodeStub, anchor: RecordAnchor): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Record, anchor.recordId), anchor);
}

export async function getRecordVersion(stub: ChaincodeStub, recordId: string, version: number): Promise<RecordVersion | undefined> {
  return getJson<RecordVersion>(stub, key(stub, KeyTypes.RecordVersion, recordId, pad(version)));
}

export async function putRecordVersion(stub: ChaincodeStub, version: RecordVersion): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RecordVersion, version.recordId, pad(version.version)), version);
}

/** Every version of a record, oldest first, a page at a time. */
export async function listRecordVersions(stub: ChaincodeStub, recordId: string, pageSize: number, bookmark: string): Promise<Page<RecordVersion>> {
  return listByPartialKey<RecordVersion>(stub, KeyTypes.RecordVersion, [recordId], pageSize, bookmark);
}

/**
 * A record version's metadata in its custodian's implicit collection (CONSENT.md "Private record
 * metadata"): the value carries the custodian's random salt, so the SHA-256 every member holds
 * (and the anchor names) cannot be matched to guessed labels. Returns that SHA-256 (hex).
 */
export async function putPrivateRecordLabels(stub: ChaincodeStub, collection: string, labels: PrivateRecordLabels): Promise<string> {
  const bytes = canonicalBytes(labels);
  await stub.putPrivateData(collection, key(stub, KeyTypes.RecordLabels, labels.recordId, pad(labels.version)), bytes);
  return sha256Hex(bytes);
}

/**
 * SHA-256 (hex) of a version's private metadata as every peer of the channel holds it, member of
 * the collection or not (Fabric's GetPrivateDataHash); undefined when none was written.
 */
export async function privateRecordLabelsHash(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<string | undefined> {
  const h = await stub.getPrivateDataHash(collection, key(stub, KeyTypes.RecordLabels, recordId, pad(version)));
  return h === undefined || h.length === 0 ? undefined : Buffer.from(h).toString('hex');
}

/**
 * A version's private metadata as stored (bytes, for the caller to check against the anchor's
 * hash); undefined when absent. Throws on a peer of another org, which does not hold it.
 */
export async function getPrivateRecordLabels(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<Buffer | undefined> {
  const bytes = await stub.getPrivateData(collection, key(stub, KeyTypes.RecordLabels, recordId, pad(version)));
  return bytes === undefined || bytes.length === 0 ? undefined : Buffer.from(bytes);
}

/** Purges a version's private metadata: gone from the current state and from every member peer's private history (Fabric 2.5 PurgePrivateData); the hash stays. */
export async function purgePrivateRecordLabels(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<void> {
  await stub.purgePrivateData(collection, key(stub, KeyTypes.RecordLabels, recordId, pad(version)));
}

/** Indexes a record under its patient and custodian. */
export async function putCustodianIndex(stub: ChaincodeStub, anchor: RecordAnchor): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RecordByCustodian, anchor.patientId, anchor.custodian, anchor.recordId), { recordId: anchor.recordId });
}

/** The ids of a patient's records that `org` holds, in record-id order. */
export async function recordIdsHeldBy(stub: ChaincodeStub, patientId: string, org: string): Promise<Array<{ recordId: string }>> {
  return listAllByPartialKey<{ recordId: string }>(stub, KeyTypes.RecordByCustodian, [patientId, org]);
}

/** Record ids of a patient in (custodian, record id) order, a page at a time. */
export async function listRecordIdsOfPatient(stub: ChaincodeStub, patientId: string, pageSize: number, bookmark: string): Promise<Page<{ recordId: string }>> {
  return listByPartialKey<{ recordId: string }>(stub, KeyTypes.RecordByCustodian, [patientId], pageSize, bookmark);
}

/** Whether `org` is the custodian of at least one record of the patient on this chain. */
export async function holdsRecordOf(stub: ChaincodeStub, patientId: string, org: string): Promise<boolean> {
  return (await recordIdsHeldBy(stub, patientId, org)).length > 0;
}

// --- private custody (CONSENT.md "Private patients and anchors"): a patient and the anchors of
// their records in the custodian's implicit collection, every value salted with the writer's salt.

export async function getPrivatePatient(stub: ChaincodeStub, collection: string, patientId: string): Promise<Patient | undefined> {
  return getSaltedPrivateJson<Patient>(stub, collection, key(stub, KeyTypes.Patient, patientId));
}

export async function putPrivatePatient(stub: ChaincodeStub, collection: string, patient: Patient, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.Patient, patient.patientId), canonicalBytes({ ...patient, salt: saltHex }));
}

export async function getPrivateGuardian(stub: ChaincodeStub, collection: string, patientId: string, guardianId: string): Promise<Guardian | undefined> {
  return getSaltedPrivateJson<Guardian>(stub, collection, key(stub, KeyTypes.Guardian, patientId, guardianId));
}

export async function putPrivateGuardian(stub: ChaincodeStub, collection: string, guardian: Guardian, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.Guardian, guardian.patientId, guardian.guardianId), canonicalBytes({ ...guardian, salt: saltHex }));
}

/** The private patient a rotated-in key belongs to, in `collection`. */
export async function getPrivatePatientKeyOwner(stub: ChaincodeStub, collection: string, keyId: string): Promise<{ patientId: string } | undefined> {
  return getSaltedPrivateJson<{ patientId: string }>(stub, collection, key(stub, KeyTypes.PatientKey, keyId));
}

export async function putPrivatePatientKeyOwner(stub: ChaincodeStub, collection: string, keyId: string, patientId: string, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.PatientKey, keyId), canonicalBytes({ patientId, salt: saltHex }));
}

/** What a record's key holds in `collection`: its head, or an erasure marker. */
export async function getPrivateStoredRecord(stub: ChaincodeStub, collection: string, recordId: string): Promise<StoredRecordState | undefined> {
  return getSaltedPrivateJson<StoredRecordState>(stub, collection, key(stub, KeyTypes.Record, recordId));
}

export async function putPrivateRecord(stub: ChaincodeStub, collection: string, anchor: RecordAnchor, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.Record, anchor.recordId), canonicalBytes({ ...anchor, salt: saltHex }));
}

/** The exact bytes of a private record version (what a private anchor attestation binds by their hash), or undefined. */
export async function getPrivateRecordVersionBytes(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<Buffer | undefined> {
  const bytes = await stub.getPrivateData(collection, key(stub, KeyTypes.RecordVersion, recordId, pad(version)));
  return bytes === undefined || bytes.length === 0 ? undefined : Buffer.from(bytes);
}

export async function getPrivateRecordVersion(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<RecordVersion | undefined> {
  return getSaltedPrivateJson<RecordVersion>(stub, collection, key(stub, KeyTypes.RecordVersion, recordId, pad(version)));
}

export async function putPrivateRecordVersion(stub: ChaincodeStub, collection: string, version: RecordVersion, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.RecordVersion, version.recordId, pad(version.version)), canonicalBytes({ ...version, salt: saltHex }));
}

/** Fabric's hash (hex) of a private record version, as every peer of the channel holds it; undefined when none. */
export async function privateRecordVersionHash(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<string | undefined> {
  const h = await stub.getPrivateDataHash(collection, key(stub, KeyTypes.RecordVersion, recordId, pad(version)));
  return h === undefined || h.length === 0 ? undefined : Buffer.from(h).toString('hex');
}

/** Purges a private record version: gone from every member peer's store and private history (Fabric 2.5); its hash stays. */
export async function purgePrivateRecordVersion(stub: ChaincodeStub, collection: string, recordId: string, version: number): Promise<void> {
  await stub.purgePrivateData(collection, key(stub, KeyTypes.RecordVersion, recordId, pad(version)));
}

/** The erasure marker of a privately anchored record, in place of its head (salted). */
export async function putPrivateErasure(stub: ChaincodeStub, collection: string, erased: ErasedRecord, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.Record, erased.recordId), canonicalBytes({ ...erased, salt: saltHex }));
}

/** Drops a record from its patient's private index (the key stays, with the others, or with none). */
export async function unindexPrivateRecord(stub: ChaincodeStub, collection: string, patientId: string, recordId: string, saltHex: string): Promise<void> {
  const recordIds = (await privateRecordIdsOf(stub, collection, patientId)).filter((id) => id !== recordId);
  await stub.putPrivateData(collection, key(stub, KeyTypes.RecordByCustodian, patientId), canonicalBytes({ patientId, recordIds, salt: saltHex }));
}

/** The ids of a patient's records anchored privately in `collection` (one key per patient, read with a point read), in id order. */
export async function privateRecordIdsOf(stub: ChaincodeStub, collection: string, patientId: string): Promise<string[]> {
  return (await getPrivateJson<{ recordIds: string[] }>(stub, collection, key(stub, KeyTypes.RecordByCustodian, patientId)))?.recordIds ?? [];
}

export async function indexPrivateRecord(stub: ChaincodeStub, collection: string, patientId: string, recordId: string, saltHex: string): Promise<void> {
  const recordIds = [...new Set([...(await privateRecordIdsOf(stub, collection, patientId)), recordId])].sort();
  await stub.putPrivateData(collection, key(stub, KeyTypes.RecordByCustodian, patientId), canonicalBytes({ patientId, recordIds, salt: saltHex }));
}

// --- consents

/** A consent in state: v1 terms or a v2 policy (isPolicyConsent tells them apart). */
export async function getConsent(stub: ChaincodeStub, consentId: string): Promise<StoredConsent | undefined> {
  return getJson<StoredConsent>(stub, key(stub, KeyTypes.Consent, consentId));
}

export async function consentExists(stub: ChaincodeStub, consentId: string): Promise<boolean> {
  return exists(stub, key(stub, KeyTypes.Consent, consentId));
}

export async function putConsent(stub: ChaincodeStub, consent: StoredConsent): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Consent, consent.consentId), consent);
}

/**
 * Indexes a new consent v1 under its patient, and under (patient, scope) for every record id and
 * category its scope names, whatever its grantee: an access decision reads the consents covering
 * the record asked for, and which they are depends on the patient and the record only, never on
 * who asks (CONSENT.md "State"). A patient's consents stored before these indexes are indexed by
 * the patient's next grant (indexPatientConsents).
 */
export async function indexConsent(stub: ChaincodeStub, consent: Consent): Promise<void> {
  await indexPatientConsents(stub, consent.patientId);
  await putJson(stub, key(stub, KeyTypes.ConsentByPatient, consent.patientId, consent.consentId), { consentId: consent.consentId });
  await indexConsentScopes(stub, consent);
}

/** Indexes a new consent v2 under its patient, twice: with every consent, and with the patient's consents v2, which every decision for the patient reads. */
export async function indexPolicyConsent(stub: ChaincodeStub, consent: PolicyConsent): Promise<void> {
  await indexPatientConsents(stub, consent.patientId);
  await putJson(stub, key(stub, KeyTypes.ConsentByPatient, consent.patientId, consent.consentId), { consentId: consent.consentId });
  await putJson(stub, key(stub, KeyTypes.PolicyConsentByPatient, consent.patientId, consent.consentId), { consentId: consent.consentId });
}

/**
 * Puts a patient's earlier consents into the (patient, scope) and consent v2 indexes, once, and
 * marks the patient: consents stored by a version without them decide as before until then
 * (consentIdsForRecord reads such a patient's consents whole).
 */
async function indexPatientConsents(stub: ChaincodeStub, patientId: string): Promise<void> {
  if (await patientConsentsIndexed(stub, patientId)) return;
  for (const { consentId } of await listAllByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByPatient, [patientId])) {
    const earlier = await getConsent(stub, consentId);
    if (earlier === undefined) continue;
    if (isPolicyConsent(earlier)) await putJson(stub, key(stub, KeyTypes.PolicyConsentByPatient, patientId, consentId), { consentId });
    else await indexConsentScopes(stub, earlier);
  }
  await putJson(stub, key(stub, KeyTypes.PatientConsentsIndexed, patientId), { indexed: true });
}

/** The scope keys of a consent: one per record id and per category it names, sorted, no repeats. */
export function scopeKeysOf(consent: Pick<Consent, 'terms'>): string[] {
  const { recordIds, categories } = consent.terms.scope;
  return [...new Set([...recordIds.map(recordScope), ...categories.map(categoryScope)])].sort();
}

const recordScope = (recordId: string): string => `record:${recordId}`;
const categoryScope = (category: string): string => `category:${category}`;

async function indexConsentScopes(stub: ChaincodeStub, consent: Consent): Promise<void> {
  for (const scope of scopeKeysOf(consent)) {
    await putJson(stub, key(stub, KeyTypes.ConsentByPatientScope, consent.patientId, scope, consent.consentId), { consentId: consent.consentId });
  }
}

/** Whether every consent of the patient is in the (patient, scope) and consent v2 indexes (see indexPatientConsents). */
export async function patientConsentsIndexed(stub: ChaincodeStub, patientId: string): Promise<boolean> {
  return exists(stub, key(stub, KeyTypes.PatientConsentsIndexed, patientId));
}

/**
 * Ids of the consents that can decide for `record`, of every grantee, sorted, each once: the
 * patient's consents v1 whose scope names the record's id or category, and the patient's
 * consents v2. The keys read are a function of the patient and the record alone, so a logged
 * decision's read set does not tell who asked (CONSENT.md "Private access decisions"). What
 * reading them costs depends on those consents, not on how many the patient or the chain holds.
 * A patient not yet indexed (consents from before the indexes) is read whole: every consent of
 * the patient, which the caller filters as the index would.
 */
export async function consentIdsForRecord(stub: ChaincodeStub, record: { patientId: string; recordId: string; category: string }): Promise<string[]> {
  const ids = new Set<string>();
  if (!(await patientConsentsIndexed(stub, record.patientId))) {
    for (const r of await listAllByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByPatient, [record.patientId])) ids.add(r.consentId);
    return [...ids].sort();
  }
  for (const scope of [recordScope(record.recordId), categoryScope(record.category)]) {
    for (const r of await listAllByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByPatientScope, [record.patientId, scope])) ids.add(r.consentId);
  }
  for (const r of await listAllByPartialKey<{ consentId: string }>(stub, KeyTypes.PolicyConsentByPatient, [record.patientId])) ids.add(r.consentId);
  return [...ids].sort();
}

/** Consent ids of a patient in consent-id order, a page at a time. */
export async function listConsentIdsOfPatient(stub: ChaincodeStub, patientId: string, pageSize: number, bookmark: string): Promise<Page<{ consentId: string }>> {
  return listByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByPatient, [patientId], pageSize, bookmark);
}

// --- consents from other chains

export async function getRemoteConsent(stub: ChaincodeStub, sourceChain: string, consentId: string): Promise<StoredRemoteConsent | undefined> {
  return getJson<StoredRemoteConsent>(stub, key(stub, KeyTypes.RemoteConsent, sourceChain, consentId));
}

/** Writes a mirrored consent and its grantee index (one entry per grantee of a consent v2). */
export async function putRemoteConsent(stub: ChaincodeStub, mirror: StoredRemoteConsent): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RemoteConsent, mirror.sourceChain, mirror.consentId), mirror);
  for (const grantee of remoteGranteesOf(mirror)) {
    await putJson(stub, key(stub, KeyTypes.RemoteConsentByGrantee, grantee, mirror.sourceChain, mirror.consentId), {
      sourceChain: mirror.sourceChain,
      consentId: mirror.consentId,
    });
  }
}

/** References to the consents mirrored for `grantee`, in (source chain, consent id) order, a page at a time. */
export async function listRemoteConsentRefs(
  stub: ChaincodeStub,
  grantee: string,
  pageSize: number,
  bookmark: string,
): Promise<Page<{ sourceChain: string; consentId: string }>> {
  return listByPartialKey<{ sourceChain: string; consentId: string }>(stub, KeyTypes.RemoteConsentByGrantee, [grantee], pageSize, bookmark);
}

// --- sealed consent shares (CONSENT.md "Sealed consent shares")

/** A sealed consent in its custodian's collection, stored as its exact canonical bytes; returns their SHA-256 (Fabric's hash of the value). */
export async function putSealedConsent(stub: ChaincodeStub, collection: string, ref: string, bytes: Buffer): Promise<string> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.SealedConsent, ref), bytes);
  return sha256Hex(bytes);
}

/** The index entry of one sealed share of a consent, in the custodian's collection (salted value). */
export async function putConsentSeal(stub: ChaincodeStub, collection: string, seal: ConsentSeal, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.ConsentSeal, seal.consentId, seal.ref), canonicalBytes({ ...seal, salt: saltHex }));
}

/** Every sealed share of a consent this peer's org keeps, oldest first (then by reference). */
export async function listConsentSeals(stub: ChaincodeStub, collection: string, consentId: string): Promise<ConsentSeal[]> {
  const stored = await listAllPrivateByPartialKey<ConsentSeal & { salt?: string }>(stub, collection, KeyTypes.ConsentSeal, [consentId]);
  return stored
    .map(({ salt: _salt, ...seal }) => seal)
    .sort((a, b) => a.sealedAt - b.sealedAt || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

/** The exact bytes of a sealed consent this peer's org keeps, or undefined. */
export async function getSealedConsentBytes(stub: ChaincodeStub, collection: string, ref: string): Promise<Buffer | undefined> {
  const bytes = await stub.getPrivateData(collection, key(stub, KeyTypes.SealedConsent, ref));
  return bytes === undefined || bytes.length === 0 ? undefined : Buffer.from(bytes);
}

/** Fabric's hash (hex) of a sealed consent in `collection`, as every peer of the channel holds it; undefined when none. */
export async function sealedConsentHash(stub: ChaincodeStub, collection: string, ref: string): Promise<string | undefined> {
  const h = await stub.getPrivateDataHash(collection, key(stub, KeyTypes.SealedConsent, ref));
  return h === undefined || h.length === 0 ? undefined : Buffer.from(h).toString('hex');
}

export async function getSealedArrival(stub: ChaincodeStub, sourceChain: string, digest: string): Promise<SealedArrival | undefined> {
  return getJson<SealedArrival>(stub, key(stub, KeyTypes.SealedArrival, sourceChain, digest));
}

export async function putSealedArrival(stub: ChaincodeStub, arrival: SealedArrival): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.SealedArrival, arrival.sourceChain, arrival.digest), arrival);
}

/** Arrivals of sealed consents from `sourceChain`, in digest order, a page at a time. */
export async function listSealedArrivals(stub: ChaincodeStub, sourceChain: string, pageSize: number, bookmark: string): Promise<Page<SealedArrival>> {
  return listByPartialKey<SealedArrival>(stub, KeyTypes.SealedArrival, [sourceChain], pageSize, bookmark);
}

/** Marks an arrival delivered by `collection`'s org (salted value). */
export async function putSealedDelivered(stub: ChaincodeStub, collection: string, arrival: SealedArrival, consentId: string, txId: string, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.SealedDelivered, arrival.sourceChain, arrival.digest), canonicalBytes({ consentId, txId, salt: saltHex }));
}

/** Whether `collection`'s org delivered an arrival (read on a peer of that org). */
export async function sealedDelivered(stub: ChaincodeStub, collection: string, sourceChain: string, digest: string): Promise<boolean> {
  const bytes = await stub.getPrivateData(collection, key(stub, KeyTypes.SealedDelivered, sourceChain, digest));
  return bytes !== undefined && bytes.length > 0;
}

/** A consent delivered sealed, in its grantee's collection (salted value; the key names a consent id, which is not guessable). */
export async function putPrivateRemoteConsent(stub: ChaincodeStub, collection: string, mirror: StoredRemoteConsent, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.RemoteConsent, mirror.sourceChain, mirror.consentId), canonicalBytes({ ...mirror, salt: saltHex }));
}

export async function getPrivateRemoteConsent(stub: ChaincodeStub, collection: string, sourceChain: string, consentId: string): Promise<StoredRemoteConsent | undefined> {
  return getSaltedPrivateJson<StoredRemoteConsent>(stub, collection, key(stub, KeyTypes.RemoteConsent, sourceChain, consentId));
}

/** Every consent delivered sealed to `collection`'s org, in (source chain, consent id) order, without salts (queries only: a private range query). */
export async function listPrivateRemoteConsents(stub: ChaincodeStub, collection: string): Promise<StoredRemoteConsent[]> {
  const stored = await listAllPrivateByPartialKey<StoredRemoteConsent & { salt?: string }>(stub, collection, KeyTypes.RemoteConsent, []);
  return stored.map(({ salt: _salt, ...m }) => m as StoredRemoteConsent);
}

// --- access log

/** Appends an entry to its patient's access log, keyed by time and transaction. */
export async function putAccessLogEntry(stub: ChaincodeStub, entry: AccessLogEntry): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.AccessLog, entry.patientId, pad(entry.time), entry.txId), entry);
}

/** A patient's access log, oldest first, a page at a time. */
export async function listAccessLog(stub: ChaincodeStub, patientId: string, pageSize: number, bookmark: string): Promise<Page<AccessLogEntry>> {
  return listByPartialKey<AccessLogEntry>(stub, KeyTypes.AccessLog, [patientId], pageSize, bookmark);
}

/** Every public entry of a patient's access log (emergencies, and decisions logged before they were private), oldest first. */
export async function listAllAccessLog(stub: ChaincodeStub, patientId: string): Promise<AccessLogEntry[]> {
  return listAllByPartialKey<AccessLogEntry>(stub, KeyTypes.AccessLog, [patientId]);
}

/** The implicit private data collection of org `mspId` (Fabric gives every chaincode one per org of the channel). */
export function implicitCollection(mspId: string): string {
  return `_implicit_org_${mspId}`;
}

/**
 * A custodian's access decision, in its own implicit collection (CONSENT.md "Private by
 * default"). The public ledger holds SHA-256 of the key and of the value; both carry the
 * caller's random salt (hex), so nobody without it can match them to a guessed patient, record or
 * requester. The entry is read back without its salt.
 */
export async function putPrivateAccessLogEntry(stub: ChaincodeStub, collection: string, entry: AccessLogEntry, saltHex: string): Promise<void> {
  const k = key(stub, KeyTypes.AccessLog, entry.patientId, pad(entry.time), entry.txId, saltHex);
  await stub.putPrivateData(collection, k, canonicalBytes({ ...entry, salt: saltHex }));
}

/** Every entry of a patient's access log in `collection` (this peer's org's), oldest first, without salts. */
export async function listPrivateAccessLog(stub: ChaincodeStub, collection: string, patientId: string): Promise<AccessLogEntry[]> {
  const stored = await listAllPrivateByPartialKey<AccessLogEntry & { salt?: string }>(stub, collection, KeyTypes.AccessLog, [patientId]);
  return stored.map(({ salt: _salt, ...entry }) => entry);
}

// --- private consents (CONSENT.md "Private consents"), in their keeper's implicit collection

/**
 * A private consent under its id (a hash of the signed grant: not guessable), its value carrying
 * the writer's random salt so its hash cannot be matched to a guessed consent.
 */
export async function putPrivateConsent(stub: ChaincodeStub, collection: string, c: StoredConsent, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.Consent, c.consentId), canonicalBytes({ ...c, salt: saltHex }));
}

/** A private consent of `collection` as this peer holds it (its org's own collection), without its salt. */
export async function getPrivateConsent(stub: ChaincodeStub, collection: string, consentId: string): Promise<StoredConsent | undefined> {
  return getSaltedPrivateJson<StoredConsent>(stub, collection, key(stub, KeyTypes.Consent, consentId));
}

/**
 * The keeper's index of a patient's private consents: one key per patient, read with a point
 * read (LogAccess decides and then writes; Fabric refuses writes after a private range query).
 * The key's hash can be tested against a guessed patient id: it tells that the patient holds
 * private consents at this keeper, never for whom (the grantees are in the value, which is salted).
 */
export async function privateConsentIndex(stub: ChaincodeStub, collection: string, patientId: string): Promise<PrivateConsentEntry[]> {
  return (await getPrivateJson<{ consents: PrivateConsentEntry[] }>(stub, collection, key(stub, KeyTypes.PrivateConsentIndex, patientId)))?.consents ?? [];
}

/** Adds a private consent to its patient's index in `collection` (entries kept in consent-id order). */
export async function indexPrivateConsent(stub: ChaincodeStub, collection: string, patientId: string, entry: PrivateConsentEntry, saltHex: string): Promise<void> {
  const others = (await privateConsentIndex(stub, collection, patientId)).filter((e) => e.consentId !== entry.consentId);
  const consents = [...others, entry].sort((a, b) => (a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0));
  await stub.putPrivateData(collection, key(stub, KeyTypes.PrivateConsentIndex, patientId), canonicalBytes({ patientId, consents, salt: saltHex }));
}

/**
 * Whether `collection`'s org keeps private consents of the patient, as any peer of the channel can
 * tell (Fabric's hash of the index key; the content stays with the keeper).
 */
export async function keepsPrivateConsents(stub: ChaincodeStub, collection: string, patientId: string): Promise<boolean> {
  const h = await stub.getPrivateDataHash(collection, key(stub, KeyTypes.PrivateConsentIndex, patientId));
  return h !== undefined && h.length > 0;
}

/** Whether a patient message's nonce was used at this keeper (its private grants and revocations). */
export async function isPrivateNonceUsed(stub: ChaincodeStub, collection: string, signerKeyId: string, nonce: string): Promise<boolean> {
  const bytes = await stub.getPrivateData(collection, key(stub, KeyTypes.PatientNonce, signerKeyId, nonce));
  return bytes !== undefined && bytes.length > 0;
}

export async function putPrivateNonceUse(stub: ChaincodeStub, collection: string, signerKeyId: string, nonce: string, use: NonceUse, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.PatientNonce, signerKeyId, nonce), canonicalBytes({ ...use, salt: saltHex }));
}

// --- emergencies

export async function getEmergency(stub: ChaincodeStub, emergencyId: string): Promise<Emergency | undefined> {
  return getJson<Emergency>(stub, key(stub, KeyTypes.Emergency, emergencyId));
}

export async function putEmergency(stub: ChaincodeStub, e: Emergency): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Emergency, e.emergencyId), e);
}

/** Indexes a new emergency under its patient and the org it opens access for. */
export async function indexEmergency(stub: ChaincodeStub, e: Emergency): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.EmergencyByPatient, e.patientId, e.org, e.emergencyId), { emergencyId: e.emergencyId });
}

/** Ids of a patient's public emergencies (opened before emergencies were private), every org's, in (org, id) order. */
export async function publicEmergencyIdsOfPatient(stub: ChaincodeStub, patientId: string): Promise<Array<{ emergencyId: string }>> {
  return listAllByPartialKey<{ emergencyId: string }>(stub, KeyTypes.EmergencyByPatient, [patientId]);
}

/** Every public emergency (opened before emergencies were private), in id order. */
export async function listAllPublicEmergencies(stub: ChaincodeStub): Promise<Emergency[]> {
  return listAllByPartialKey<Emergency>(stub, KeyTypes.Emergency, []);
}

/**
 * A private emergency (CONSENT.md "Private break-glass"), in its custodian's implicit collection,
 * by id: the key names the opening transaction only; the value carries the request's random salt,
 * so its hash cannot be matched to a guessed patient, record, org or reason. A review rewrites the
 * value under the same key with the review's own salt.
 */
export async function putPrivateEmergency(stub: ChaincodeStub, collection: string, e: Emergency, saltHex: string): Promise<void> {
  await stub.putPrivateData(collection, key(stub, KeyTypes.Emergency, e.emergencyId), canonicalBytes({ ...e, salt: saltHex }));
}

/** A private emergency of `collection` as this peer holds it (its org's own collection), without its salt. */
export async function getPrivateEmergency(stub: ChaincodeStub, collection: string, emergencyId: string): Promise<Emergency | undefined> {
  return getSaltedPrivateJson<Emergency>(stub, collection, key(stub, KeyTypes.Emergency, emergencyId));
}

/**
 * The ids of a patient's private emergencies in `collection`, of every opening org, one key per
 * patient read with a point read: Fabric refuses writes in a transaction that ran a range query
 * over private data, and BreakGlass and LogAccess read these before they write. One key for the
 * patient, not per (patient, org): its hash can be tested against a guessed patient only, which
 * the transaction's public read of the patient names anyway, never against the org that asks
 * (CONSENT.md "Private break-glass"). Undefined when the patient has none written this way yet.
 */
export async function privateEmergencyIdsOfPatient(stub: ChaincodeStub, collection: string, patientId: string): Promise<string[] | undefined> {
  return (await getPrivateJson<{ emergencyIds: string[] }>(stub, collection, key(stub, KeyTypes.EmergencyIdsOfPatient, patientId)))?.emergencyIds;
}

/** Ids in the (patient, org) index that earlier versions wrote in `collection`, read by point (see privateEmergencyIdsOfPatient). */
export async function legacyPrivateEmergencyIdsOf(stub: ChaincodeStub, collection: string, patientId: string, org: string): Promise<string[]> {
  return (await getPrivateJson<{ emergencyIds: string[] }>(stub, collection, key(stub, KeyTypes.EmergencyByPatient, patientId, org)))?.emergencyIds ?? [];
}

/** Writes a patient's emergency index in `collection`: `earlier` (every org's) and the new one, sorted, with the writer's salt. */
export async function indexPrivateEmergency(stub: ChaincodeStub, collection: string, e: Emergency, earlier: readonly string[], saltHex: string): Promise<void> {
  const ids = [...new Set([...earlier, e.emergencyId])].sort();
  await stub.putPrivateData(collection, key(stub, KeyTypes.EmergencyIdsOfPatient, e.patientId), canonicalBytes({ emergencyIds: ids, salt: saltHex }));
}

/** Every private emergency in `collection`, in id order, without salts. */
export async function listAllPrivateEmergencies(stub: ChaincodeStub, collection: string): Promise<Emergency[]> {
  const stored = await listAllPrivateByPartialKey<Emergency & { salt?: string }>(stub, collection, KeyTypes.Emergency, []);
  return stored.map(({ salt: _salt, ...e }) => e);
}
