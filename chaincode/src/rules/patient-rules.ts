/**
 * Patients and guardians: who may speak for a patient, and when a signed message is
 * fresh enough to act on. Pure functions over plain data; the contract loads and writes.
 */
import { fail } from '../errors';
import {
  Formats,
  importPatientPublicKey,
  keyIdOf,
  patientIdOf,
  patientKeyId,
  type GuardianDelegationMessage,
  type GuardianRevocationMessage,
  type KeyRotationMessage,
  type PatientMessage,
  type PatientMessageKind,
  type SignedKeyRotation,
  type SignedPatientMessage,
  type VerifiedPatientMessage,
} from '../protocol/patient-messages';

/** A patient's registration on one channel: the pseudonymous id and its public key. */
export interface Patient {
  patientId: string;
  /** base64 SPKI DER of the patient's current P-256 key (the one the id derives from until a rotation). */
  publicKey: string;
  /** Member orgs that registered the patient (custodians), sorted. */
  registeredBy: string[];
  registeredAt: number;
  updatedAt: number;
  /** Key rotations, oldest first; absent until the first one (CONSENT.md "Key rotation"). */
  keyRotations?: KeyRotation[];
}

/** One replacement of a patient's key: the retired key stays known so its old signatures verify. */
export interface KeyRotation {
  /** Key id of the key this rotation retired. */
  retiredKeyId: string;
  /** Key id of the key it made current. */
  keyId: string;
  rotatedAt: number;
  txId: string;
  /** The signed rotation, kept so another chain can follow the keys from the one the id derives from. */
  signed: SignedKeyRotation;
}

/** A patient rotates at most this many times; after that the custodian enrols a new patient id. */
export const MAX_KEY_ROTATIONS = 8;

export interface Guardian {
  patientId: string;
  /** Key id of the guardian's key. */
  guardianId: string;
  publicKey: string;
  notAfter: number;
  status: 'active' | 'revoked';
  authorisedAt: number;
  authorisedTxId: string;
  /** The patient-signed delegation, kept so other chains can re-verify a guardian's grant. */
  delegation: SignedPatientMessage<GuardianDelegationMessage>;
  revokedAt: number | null;
  revokedTxId: string | null;
}

export type SignerAuthority = 'patient' | 'guardian';

/** A message may be signed up to this far ahead of the transaction time (device clocks drift). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** A signed grant, revocation or delegation must be submitted within this time of signing. */
export const MAX_MESSAGE_AGE_MS = 7 * 86_400_000;
/** A signed read (access log, record labels) is not stored (reads write nothing), so it is valid only briefly. */
export const MAX_READ_AGE_MS = 5 * 60_000;

/** Kinds a guardian may sign on the patient's behalf; delegation stays with the patient. */
export const GUARDIAN_KINDS: readonly PatientMessageKind[] = ['consent.grant', 'consent.grant-policy', 'consent.revoke', 'access-log.read', 'record.erase', 'records.read'];

/**
 * Registers a patient at `org`, or adds `org` as another custodian of a registered patient.
 * `existing` is the patient the key belongs to: the one whose id it derives, or the one it
 * was rotated to (the contract looks both up). A retired key registers nobody.
 */
export function registerPatient(existing: Patient | undefined, publicKey: string, org: string, now: number): Patient {
  importPatientPublicKey(publicKey);
  const patientId = existing?.patientId ?? patientIdOf(publicKey);
  if (!existing) return { patientId, publicKey, registeredBy: [org], registeredAt: now, updatedAt: now };
  if (existing.publicKey !== publicKey) {
    if (patientKeyIds(existing).includes(keyIdOf(publicKey))) {
      fail('PATIENT_KEY_RETIRED', `this key of patient ${patientId} was replaced by a key rotation; register with the current key`);
    }
    fail('INVALID_ARGUMENT', 'stored patient does not match the public key');
  }
  if (existing.registeredBy.includes(org)) fail('ALREADY_EXISTS', `patient ${patientId} is already registered by ${org}`);
  return { ...existing, registeredBy: [...existing.registeredBy, org].sort(), updatedAt: now };
}

/** The patient must be registered by `org` (the custodian) for `org` to act for them. */
export function requireRegisteredBy(patient: Patient | undefined, patientId: string, org: string): Patient {
  if (!patient) fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered on this channel`);
  if (!patient.registeredBy.includes(org)) {
    fail('PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered by ${org}; register the patient first`);
  }
  return patient;
}

/** Rejects a message signed too far in the future or too long ago. */
export function checkFreshness(issuedAt: number, now: number, maxAgeMs = MAX_MESSAGE_AGE_MS): void {
  if (issuedAt > now + MAX_CLOCK_SKEW_MS) {
    fail('MESSAGE_STALE', `message issued at ${issuedAt} is ahead of the transaction time ${now}; check the signer's clock`);
  }
  if (now - issuedAt > maxAgeMs) {
    fail('MESSAGE_STALE', `message issued at ${issuedAt} is older than ${maxAgeMs} ms; sign a new one`);
  }
}

export function guardianActiveAt(g: Guardian, t: number): boolean {
  return g.status === 'active' && t < g.notAfter;
}

/**
 * Who signed, with what authority: the patient's own key, or a guardian key with a
 * delegation that is active at `now` and covers this kind of message.
 * `guardian` is the stored delegation for the signer key (if any).
 */
export function signerAuthority(
  verified: VerifiedPatientMessage<PatientMessage>,
  guardian: Guardian | undefined,
  now: number,
): SignerAuthority {
  if (verified.signedByPatient) return 'patient';
  const m = verified.message;
  if (!GUARDIAN_KINDS.includes(m.kind)) fail('GUARDIAN_NOT_AUTHORIZED', `only the patient's own key may sign ${m.kind}`);
  if (!guardian || guardian.guardianId !== verified.signerKeyId || guardian.patientId !== m.patientId) {
    fail('GUARDIAN_NOT_AUTHORIZED', `key ${verified.signerKeyId} is neither the patient's nor an authorised guardian's`);
  }
  if (guardian.status === 'revoked') fail('GUARDIAN_NOT_AUTHORIZED', `guardian ${guardian.guardianId} was revoked by the patient`);
  if (now >= guardian.notAfter) fail('GUARDIAN_NOT_AUTHORIZED', `guardian ${guardian.guardianId}'s delegation ended at ${guardian.notAfter}`);
  if (guardian.publicKey !== verified.signed.publicKey) fail('GUARDIAN_NOT_AUTHORIZED', 'guardian key does not match the delegation');
  return 'guardian';
}

/** A new guardian delegation from a verified, patient-signed guardian.authorise message. */
export function authoriseGuardian(
  existing: Guardian | undefined,
  verified: VerifiedPatientMessage<GuardianDelegationMessage>,
  now: number,
  txId: string,
): Guardian {
  const m = verified.message;
  if (!verified.signedByPatient) fail('GUARDIAN_NOT_AUTHORIZED', "only the patient's own key may authorise a guardian");
  importPatientPublicKey(m.guardian.publicKey);
  const guardianId = keyIdOf(m.guardian.publicKey);
  if (guardianId === patientKeyId(m.patientId)) fail('INVALID_ARGUMENT', 'a patient cannot be their own guardian');
  if (m.guardian.notAfter <= now) fail('INVALID_ARGUMENT', 'guardian.notAfter must be after the transaction time');
  if (existing && guardianActiveAt(existing, now)) fail('ALREADY_EXISTS', `guardian ${guardianId} is already authorised`);
  return {
    patientId: m.patientId,
    guardianId,
    publicKey: m.guardian.publicKey,
    notAfter: m.guardian.notAfter,
    status: 'active',
    authorisedAt: now,
    authorisedTxId: txId,
    delegation: verified.signed,
    revokedAt: null,
    revokedTxId: null,
  };
}

/** The guardian after a verified, patient-signed guardian.revoke message. */
export function revokeGuardian(
  existing: Guardian | undefined,
  verified: VerifiedPatientMessage<GuardianRevocationMessage>,
  now: number,
  txId: string,
): Guardian {
  const m = verified.message;
  if (!verified.signedByPatient) fail('GUARDIAN_NOT_AUTHORIZED', "only the patient's own key may revoke a guardian");
  if (!Formats.keyId.test(m.guardianId)) fail('INVALID_ARGUMENT', 'guardianId is malformed');
  if (!existing || existing.patientId !== m.patientId) fail('NOT_FOUND', `guardian ${m.guardianId} does not exist for this patient`);
  if (existing.status === 'revoked') fail('GUARDIAN_NOT_AUTHORIZED', `guardian ${m.guardianId} is already revoked`);
  return { ...existing, status: 'revoked', revokedAt: now, revokedTxId: txId };
}

// ---------------------------------------------------------------------------------------
// key rotation

/** Key id of the patient's current key. */
export function currentKeyId(p: Patient): string {
  return keyIdOf(p.publicKey);
}

/** Every key the patient has held, oldest first: the one the id derives from, then each rotated-in key. */
export function patientKeyIds(p: Patient): string[] {
  return [patientKeyId(p.patientId), ...(p.keyRotations ?? []).map((r) => r.keyId)];
}

/** The public key the patient id derives from (the first key), which other chains check the id against. */
export function idPublicKeyOf(p: Patient): string {
  return p.keyRotations?.[0]?.signed.publicKey ?? p.publicKey;
}

/** The signed rotations, oldest first, that lead from idPublicKeyOf(p) to the current key. */
export function rotationChainOf(p: Patient): SignedKeyRotation[] {
  return (p.keyRotations ?? []).map((r) => r.signed);
}

/**
 * Whether the patient's own key signed, judged against the stored patient rather than the
 * id: the current key is the patient; a retired key of the patient signs nothing any more
 * (PATIENT_KEY_RETIRED); any other key is left to the guardian check (signerAuthority).
 */
export function asPatientSigner<M extends PatientMessage>(verified: VerifiedPatientMessage<M>, patient: Patient): VerifiedPatientMessage<M> {
  if (verified.signerKeyId === currentKeyId(patient)) return { ...verified, signedByPatient: true };
  if (patientKeyIds(patient).includes(verified.signerKeyId)) {
    fail('PATIENT_KEY_RETIRED', `key ${verified.signerKeyId} of patient ${patient.patientId} was retired by a key rotation; sign with the current key`);
  }
  return { ...verified, signedByPatient: false };
}

/** What the contract knows about the new key beyond the patient record. */
export interface NewKeyFacts {
  /** The patient the new key already belongs to on this chain (registered with it or rotated to it), if any. */
  ownerPatientId: string | null;
  /** Whether the new key is an active guardian key of this patient. */
  guardianOfPatient: boolean;
}

/**
 * The patient after a verified patient.rotate-key message (asPatientSigner applied): the id
 * stays, the new key becomes current, the retired key stays in the history. Refusals in
 * order: not the patient's current key (GUARDIAN_NOT_AUTHORIZED; a retired key was already
 * refused), rotation limit, new key already held by this or another patient or by one of
 * this patient's guardians (PATIENT_KEY_IN_USE).
 */
export function rotatePatientKey(
  patient: Patient,
  verified: VerifiedPatientMessage<KeyRotationMessage>,
  facts: NewKeyFacts,
  now: number,
  txId: string,
): Patient {
  const m = verified.message;
  if (!verified.signedByPatient) fail('GUARDIAN_NOT_AUTHORIZED', "only the patient's current key may rotate the patient's key");
  if (m.patientId !== patient.patientId) fail('INVALID_ARGUMENT', 'rotation names another patient');
  const rotations = patient.keyRotations ?? [];
  if (rotations.length >= MAX_KEY_ROTATIONS) {
    fail('PATIENT_KEY_ROTATION_LIMIT', `patient ${patient.patientId} has rotated ${MAX_KEY_ROTATIONS} times; the custodian enrols a new patient id`);
  }
  const keyId = keyIdOf(m.newPublicKey);
  if (patientKeyIds(patient).includes(keyId)) fail('PATIENT_KEY_IN_USE', 'the new key was already a key of this patient; a retired key never returns');
  if (facts.ownerPatientId !== null && facts.ownerPatientId !== patient.patientId) fail('PATIENT_KEY_IN_USE', 'the new key belongs to another patient');
  if (facts.guardianOfPatient) fail('PATIENT_KEY_IN_USE', "the new key is one of this patient's guardian keys");
  const rotation: KeyRotation = { retiredKeyId: verified.signerKeyId, keyId, rotatedAt: now, txId, signed: verified.signed as SignedKeyRotation };
  return { ...patient, publicKey: m.newPublicKey, updatedAt: now, keyRotations: [...rotations, rotation] };
}
