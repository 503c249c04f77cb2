/**
 * Consent state (CONSENT.md "State"): patients, guardians, used patient nonces, record
 * anchors with their versions, consents and their indexes, consents mirrored from other
 * chains, the access log and emergencies. Every key comes from keys.ts; values are
 * canonical JSON. Getters return undefined for what is not there; `found` (store.ts) turns
 * that into NOT_FOUND where the caller needs it.
 */
import type { ChaincodeStub } from 'fabric-shim';
import type { AccessLogEntry, Emergency } from '../rules/access-rules';
import type { Consent } from '../rules/consent-rules';
import type { Guardian, Patient } from '../rules/patient-rules';
import type { RecordAnchor, RecordVersion } from '../rules/record-rules';
import type { RemoteConsent } from '../rules/remote-consent-rules';
import { key, KeyTypes, pad } from './keys';
import { exists, getJson, listAllByPartialKey, listByPartialKey, putJson, type Page } from './store';

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

export async function getRecord(stub: ChaincodeStub, recordId: string): Promise<RecordAnchor | undefined> {
  return getJson<RecordAnchor>(stub, key(stub, KeyTypes.Record, recordId));
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

/** Indexes a record under its patient and custodian. */
export async function putCustodianIndex(stub: ChaincodeStub, anchor: RecordAnchor): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RecordByCustodian, anchor.patientId, anchor.custodian, anchor.recordId), { recordId: anchor.recordId });
}

/** Whether `org` is the custodian of at least one record of the patient on this chain. */
export async function holdsRecordOf(stub: ChaincodeStub, patientId: string, org: string): Promise<boolean> {
  return (await listAllByPartialKey<{ recordId: string }>(stub, KeyTypes.RecordByCustodian, [patientId, org])).length > 0;
}

// --- consents

export async function getConsent(stub: ChaincodeStub, consentId: string): Promise<Consent | undefined> {
  return getJson<Consent>(stub, key(stub, KeyTypes.Consent, consentId));
}

export async function consentExists(stub: ChaincodeStub, consentId: string): Promise<boolean> {
  return exists(stub, key(stub, KeyTypes.Consent, consentId));
}

export async function putConsent(stub: ChaincodeStub, consent: Consent): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Consent, consent.consentId), consent);
}

/** Indexes a new consent under its patient and under its grantee. */
export async function indexConsent(stub: ChaincodeStub, consent: Consent): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.ConsentByPatient, consent.patientId, consent.consentId), { consentId: consent.consentId });
  await putJson(stub, key(stub, KeyTypes.ConsentByGrantee, consent.grantee, consent.patientId, consent.consentId), {
    consentId: consent.consentId,
  });
}

/** Consent ids of a patient in consent-id order, a page at a time. */
export async function listConsentIdsOfPatient(stub: ChaincodeStub, patientId: string, pageSize: number, bookmark: string): Promise<Page<{ consentId: string }>> {
  return listByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByPatient, [patientId], pageSize, bookmark);
}

/** Consent ids a patient gave `grantee`, in consent-id order. */
export async function consentIdsFor(stub: ChaincodeStub, grantee: string, patientId: string): Promise<Array<{ consentId: string }>> {
  return listAllByPartialKey<{ consentId: string }>(stub, KeyTypes.ConsentByGrantee, [grantee, patientId]);
}

// --- consents from other chains

export async function getRemoteConsent(stub: ChaincodeStub, sourceChain: string, consentId: string): Promise<RemoteConsent | undefined> {
  return getJson<RemoteConsent>(stub, key(stub, KeyTypes.RemoteConsent, sourceChain, consentId));
}

/** Writes a mirrored consent and its grantee index. */
export async function putRemoteConsent(stub: ChaincodeStub, mirror: RemoteConsent): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RemoteConsent, mirror.sourceChain, mirror.consentId), mirror);
  await putJson(stub, key(stub, KeyTypes.RemoteConsentByGrantee, mirror.grantee, mirror.sourceChain, mirror.consentId), {
    sourceChain: mirror.sourceChain,
    consentId: mirror.consentId,
  });
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

// --- access log

/** Appends an entry to its patient's access log, keyed by time and transaction. */
export async function putAccessLogEntry(stub: ChaincodeStub, entry: AccessLogEntry): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.AccessLog, entry.patientId, pad(entry.time), entry.txId), entry);
}

/** A patient's access log, oldest first, a page at a time. */
export async function listAccessLog(stub: ChaincodeStub, patientId: string, pageSize: number, bookmark: string): Promise<Page<AccessLogEntry>> {
  return listByPartialKey<AccessLogEntry>(stub, KeyTypes.AccessLog, [patientId], pageSize, bookmark);
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

/** Emergency ids of a patient for one org, in id order. */
export async function emergencyIdsOf(stub: ChaincodeStub, patientId: string, org: string): Promise<Array<{ emergencyId: string }>> {
  return listAllByPartialKey<{ emergencyId: string }>(stub, KeyTypes.EmergencyByPatient, [patientId, org]);
}

/** Every emergency on this chain in id order, a page at a time. */
export async function listEmergencies(stub: ChaincodeStub, pageSize: number, bookmark: string): Promise<Page<Emergency>> {
  return listByPartialKey<Emergency>(stub, KeyTypes.Emergency, [], pageSize, bookmark);
}
