/**
 * Patient-signed messages: the only way consent and guardianship change on a channel.
 * The hospital that submits a message is a courier; the authority is the patient's
 * own key (or a guardian key the patient delegated to). See chaincode/CONSENT.md
 * "Signed-message formats".
 *
 * - Key: ECDSA on NIST P-256. Public keys travel as base64 of the uncompressed
 *   SubjectPublicKeyInfo DER (the form node:crypto and WebCrypto export).
 * - Key id: sha256(SPKI DER), lowercase hex. patientId = 'pt_' + key id of the patient key.
 * - Bytes signed: canonicalBytes(message), the UTF-8 canonical JSON of the message object.
 * - Signature: ECDSA P-256 with SHA-256, IEEE P1363 encoding (r || s, 64 bytes), base64.
 *   A fixed-length encoding leaves no DER variants to normalise.
 *
 * This module has no Fabric imports: the gateway builds and signs with it, the
 * chaincode verifies with it, so the two can never disagree on a byte.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { fail } from '../errors';
import { canonicalBytes, sha256Hex } from './canonical-json';
import { canonicalPolicy } from './consent-policy/canonical';
import type { ConsentPolicy } from './consent-policy/model';

export const PATIENT_MESSAGE_DOMAIN = 'medbridge/patient-message/v1';

export const PatientMessageKinds = [
  'consent.grant',
  'consent.grant-policy',
  'consent.revoke',
  'guardian.authorise',
  'guardian.revoke',
  'access-log.read',
  'patient.rotate-key',
  'record.erase',
  'records.read',
] as const;
export type PatientMessageKind = (typeof PatientMessageKinds)[number];

/** FHIR R4 Consent.provision.action codes medbridge enforces. */
export const CONSENT_ACTIONS = ['read'] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];

/**
 * HL7 v3 PurposeOfUse codes (FHIR R4 Consent.provision.purpose): treatment, emergency
 * treatment, payment, operations, research, public health, patient request.
 */
export const PURPOSES_OF_USE = ['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PUBHLTH', 'PATRQT'] as const;
export type PurposeOfUse = (typeof PURPOSES_OF_USE)[number];

/** Identifier formats shared by messages, state and the gateway. */
export const Formats = {
  chainId: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
  mspId: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
  keyId: /^[0-9a-f]{64}$/,
  patientId: /^pt_[0-9a-f]{64}$/,
  consentId: /^cs_[0-9a-f]{64}$/,
  recordId: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  /** A FHIR R4 resource type name, e.g. Observation, DiagnosticReport. */
  category: /^[A-Z][A-Za-z]{1,63}$/,
  /** At least 16 characters so a random nonce has at least 96 bits. */
  nonce: /^[A-Za-z0-9_-]{16,128}$/,
} as const;

export interface MessageHeader {
  domain: typeof PATIENT_MESSAGE_DOMAIN;
  kind: PatientMessageKind;
  /** Chain id of the patient's home channel; a message is valid on that chain only. */
  channel: string;
  patientId: string;
  /** Key id of the signing key: the patient's, or a guardian's. */
  signer: string;
  nonce: string;
  /** Milliseconds since the epoch, as the signer's device saw it. */
  issuedAt: number;
}

/** The terms of a consent, shaped after FHIR R4 Consent.provision. */
export interface ConsentTerms {
  /** MSP id of the organisation granted access; it may belong to another chain. */
  grantee: string;
  /** A record matches when its id is listed or its category (FHIR resource type) is listed. */
  scope: { recordIds: string[]; categories: string[] };
  actions: string[];
  purposes: string[];
  /** [start, end) in milliseconds since the epoch. */
  period: { start: number; end: number };
}

export interface ConsentGrantMessage extends MessageHeader {
  kind: 'consent.grant';
  terms: ConsentTerms;
  /**
   * A private consent (CONSENT.md "Private consents"): the MSP id of the one org that keeps it in
   * its implicit collection and enforces it, for the records it holds. Absent: a public consent.
   */
  keeper?: string;
}

/**
 * A consent v2 grant: the policy (CONSENT.md "Consent language (v2)") in its canonical form, so
 * the bytes the patient signs are the bytes the evaluator enforces. Checked here for shape
 * only; the contract parses it strictly (CONSENT_POLICY_INVALID / CONSENT_POLICY_TOO_LARGE).
 */
export interface ConsentPolicyGrantMessage extends MessageHeader {
  kind: 'consent.grant-policy';
  policy: ConsentPolicy;
  /** As ConsentGrantMessage.keeper. */
  keeper?: string;
}

export interface ConsentRevocationMessage extends MessageHeader {
  kind: 'consent.revoke';
  consentId: string;
}

export interface GuardianDelegationMessage extends MessageHeader {
  kind: 'guardian.authorise';
  guardian: {
    /** base64 SPKI DER of the guardian's P-256 key. */
    publicKey: string;
    /** The delegation ends at this time (ms since the epoch). */
    notAfter: number;
  };
}

export interface GuardianRevocationMessage extends MessageHeader {
  kind: 'guardian.revoke';
  guardianId: string;
}

/** Authenticates a patient's read of their own access log (see CONSENT.md, "Patient reads"). */
export interface AccessLogReadMessage extends MessageHeader {
  kind: 'access-log.read';
}

/**
 * Authenticates a patient's read of the consent metadata (labels) of their records that one
 * custodian holds privately (CONSENT.md "Private record metadata").
 */
export interface RecordsReadMessage extends MessageHeader {
  kind: 'records.read';
}

/**
 * Replaces the patient's key, keeping the patient id (CONSENT.md "Key rotation"). Signed by
 * the patient's current key only; its envelope also carries the new key's signature over
 * the same bytes (SignedKeyRotation.newKeySignature), proving the new key is held.
 */
export interface KeyRotationMessage extends MessageHeader {
  kind: 'patient.rotate-key';
  /** base64 SPKI DER of the new P-256 key (the same encoding rule as every key). */
  newPublicKey: string;
}

/**
 * The patient's request to erase one record (GDPR art. 17; CONSENT.md "Erasure"). The record's
 * custodian submits it with its own erasure: the anchor keeps no hash, and the custodian
 * destroys the content and its salt.
 */
export interface RecordErasureMessage extends MessageHeader {
  kind: 'record.erase';
  recordId: string;
}

export type PatientMessage =
  | ConsentGrantMessage
  | ConsentPolicyGrantMessage
  | ConsentRevocationMessage
  | GuardianDelegationMessage
  | GuardianRevocationMessage
  | AccessLogReadMessage
  | RecordsReadMessage
  | KeyRotationMessage
  | RecordErasureMessage;

type MessageOfKind<K extends PatientMessageKind> = Extract<PatientMessage, { kind: K }>;

/** What travels: the message, the signer's public key and the signature over the message. */
export interface SignedPatientMessage<M extends PatientMessage = PatientMessage> {
  message: M;
  /** base64 SPKI DER of the signing key; its key id must equal message.signer. */
  publicKey: string;
  /** base64 IEEE P1363 (r || s) ECDSA P-256 SHA-256 signature over canonicalBytes(message). */
  signature: string;
}

/** A signed key rotation: the current key's envelope plus the new key's proof of possession. */
export interface SignedKeyRotation extends SignedPatientMessage<KeyRotationMessage> {
  /** base64 IEEE P1363 signature of the NEW key over the same canonicalBytes(message). */
  newKeySignature: string;
}

// ---------------------------------------------------------------------------------------
// keys and ids

/** Key id of a public key: sha256 of its SPKI DER, hex. */
export function keyIdOf(publicKeyB64: string): string {
  return sha256Hex(decodeBase64(publicKeyB64, 'public key'));
}

/** patientId of a patient public key (base64 SPKI DER). */
export function patientIdOf(publicKeyB64: string): string {
  return `pt_${keyIdOf(publicKeyB64)}`;
}

/** The key id a patientId was derived from. */
export function patientKeyId(patientId: string): string {
  return patientId.slice(3);
}

/** The consent id a grant creates: 'cs_' + sha256(canonicalBytes(grant message)). */
export function consentIdOf(grant: ConsentGrantMessage | ConsentPolicyGrantMessage): string {
  return `cs_${sha256Hex(canonicalBytes(grant))}`;
}

/** base64 SPKI DER of a node:crypto public key (or of the public half of a private key). */
export function exportPublicKey(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING 0x04 || X || Y }: the one encoding accepted. */
const P256_SPKI_UNCOMPRESSED_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');

/**
 * Parses a base64 SPKI DER key and checks it is an uncompressed P-256 key in its
 * canonical encoding (so one key has exactly one key id).
 */
export function importPatientPublicKey(publicKeyB64: string): KeyObject {
  const der = decodeBase64(publicKeyB64, 'public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    fail('INVALID_ARGUMENT', 'public key is not a DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    fail('INVALID_ARGUMENT', 'public key must be an ECDSA P-256 key');
  }
  if (der.length !== 91 || !der.subarray(0, 27).equals(P256_SPKI_UNCOMPRESSED_PREFIX) || !key.export({ format: 'der', type: 'spki' }).equals(der)) {
    fail('INVALID_ARGUMENT', 'public key must be the uncompressed SPKI DER encoding');
  }
  return key;
}

// ---------------------------------------------------------------------------------------
// builders (used by the gateway and tests; the chaincode only verifies)

export interface HeaderInput {
  channel: string;
  patientId: string;
  signer: string;
  nonce: string;
  issuedAt: number;
}

function header<K extends PatientMessageKind>(kind: K, h: HeaderInput) {
  return {
    domain: PATIENT_MESSAGE_DOMAIN,
    kind,
    channel: h.channel,
    patientId: h.patientId,
    signer: h.signer,
    nonce: h.nonce,
    issuedAt: h.issuedAt,
  } as const;
}

/** A v1 grant; with `keeper`, a private consent that org keeps and enforces (CONSENT.md "Private consents"). */
export function buildConsentGrant(h: HeaderInput, terms: ConsentTerms, keeper?: string): ConsentGrantMessage {
  return checkMessage({ ...header('consent.grant', h), terms: cloneTerms(terms), ...keptBy(keeper) });
}

function keptBy(keeper: string | undefined): { keeper?: string } {
  return keeper === undefined ? {} : { keeper };
}

/**
 * A consent v2 grant of `policy`, put in canonical order first (what the patient signs is
 * the canonical policy); CONSENT_POLICY_INVALID names any element the engine cannot enforce.
 *
 * @example buildConsentPolicyGrant(header, { format: 'medbridge/consent-policy/v2', decision: 'permit', period, provisions })
 */
export function buildConsentPolicyGrant(h: HeaderInput, policy: unknown, keeper?: string): ConsentPolicyGrantMessage {
  return checkMessage({ ...header('consent.grant-policy', h), policy: canonicalPolicy(policy), ...keptBy(keeper) });
}

export function buildConsentRevocation(h: HeaderInput, consentId: string): ConsentRevocationMessage {
  return checkMessage({ ...header('consent.revoke', h), consentId });
}

export function buildGuardianDelegation(
  h: HeaderInput,
  guardian: { publicKey: string; notAfter: number },
): GuardianDelegationMessage {
  return checkMessage({ ...header('guardian.authorise', h), guardian: { publicKey: guardian.publicKey, notAfter: guardian.notAfter } });
}

export function buildGuardianRevocation(h: HeaderInput, guardianId: string): GuardianRevocationMessage {
  return checkMessage({ ...header('guardian.revoke', h), guardianId });
}

export function buildAccessLogRead(h: HeaderInput): AccessLogReadMessage {
  return checkMessage({ ...header('access-log.read', h) });
}

export function buildRecordsRead(h: HeaderInput): RecordsReadMessage {
  return checkMessage({ ...header('records.read', h) });
}

export function buildRecordErasure(h: HeaderInput, recordId: string): RecordErasureMessage {
  return checkMessage({ ...header('record.erase', h), recordId });
}

export function buildKeyRotation(h: HeaderInput, newPublicKey: string): KeyRotationMessage {
  return checkMessage({ ...header('patient.rotate-key', h), newPublicKey });
}

/**
 * Signs a key rotation with the current key and the new key (both over canonicalBytes(message)).
 *
 * @example
 *   const m = buildKeyRotation({ channel, patientId, signer: keyIdOf(exportPublicKey(oldKey)), nonce, issuedAt }, exportPublicKey(newKey));
 *   // issuedAt: the device's clock, in ms; the chaincode checks it against the transaction time
 *   const envelope = signKeyRotation(m, oldKey, newKey);
 */
export function signKeyRotation(message: KeyRotationMessage, currentKey: KeyObject, newKey: KeyObject): SignedKeyRotation {
  const signed = signPatientMessage(message, currentKey);
  const newKeySignature = sign('sha256', canonicalBytes(message), { key: newKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
  return { ...signed, newKeySignature };
}

/** Signs a message with a P-256 private key (gateway and tests; never called in chaincode). */
export function signPatientMessage<M extends PatientMessage>(message: M, privateKey: KeyObject): SignedPatientMessage<M> {
  checkMessage(message);
  const signature = sign('sha256', canonicalBytes(message), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return { message, publicKey: exportPublicKey(privateKey), signature: signature.toString('base64') };
}

// ---------------------------------------------------------------------------------------
// verification

export interface VerifyOptions<K extends PatientMessageKind> {
  /** The chain id the message must be bound to; WRONG_CHANNEL otherwise. */
  channel: string;
  /** Accepted kinds; INVALID_ARGUMENT otherwise. */
  kinds: readonly K[];
}

export interface VerifiedPatientMessage<M extends PatientMessage = PatientMessage> {
  signed: SignedPatientMessage<M>;
  message: M;
  /** Key id of the key that signed (message.signer, checked against the public key). */
  signerKeyId: string;
  /** True when the patient's own key signed; otherwise a guardian's key did. */
  signedByPatient: boolean;
}

/**
 * Verifies a signed patient message, in this order: shape (every field, no extra ones),
 * domain and kind, signer = key id of the enclosed P-256 public key, the signature over
 * canonicalBytes(message), and the channel binding. Pure: it knows nothing of the
 * ledger; whether a guardian key has authority is for the caller to decide
 * (rules/patient-rules.ts). Throws MedbridgeError.
 */
export function verifyPatientMessage<K extends PatientMessageKind>(
  input: unknown,
  opts: VerifyOptions<K>,
): VerifiedPatientMessage<MessageOfKind<K>> {
  const signed = parseSignedPatientMessage(input);
  const message = signed.message;
  if (!(opts.kinds as readonly string[]).includes(message.kind)) {
    fail('INVALID_ARGUMENT', `expected a ${opts.kinds.join(' or ')} message, got ${message.kind}`);
  }
  const key = importPatientPublicKey(signed.publicKey);
  if (keyIdOf(signed.publicKey) !== message.signer) {
    fail('PATIENT_SIGNATURE_INVALID', 'the enclosed public key is not the signer named in the message');
  }
  const sig = decodeBase64(signed.signature, 'signature');
  if (sig.length !== 64) fail('PATIENT_SIGNATURE_INVALID', 'signature must be 64 bytes (IEEE P1363 r || s)');
  let ok = false;
  try {
    ok = verify('sha256', canonicalBytes(message), { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) fail('PATIENT_SIGNATURE_INVALID', `the ${message.kind} signature does not verify with the signer's key`);
  if (message.kind === 'patient.rotate-key') verifyPossession(message, (signed as SignedKeyRotation).newKeySignature);
  if (message.channel !== opts.channel) {
    fail('WRONG_CHANNEL', `message is bound to chain ${message.channel}, this is ${opts.channel}`);
  }
  return {
    signed: signed as SignedPatientMessage<MessageOfKind<K>>,
    message: message as MessageOfKind<K>,
    signerKeyId: message.signer,
    signedByPatient: patientKeyId(message.patientId) === message.signer,
  };
}

/**
 * The new key of a rotation must be a distinct, canonical P-256 key whose signature over the
 * same bytes verifies (proof of possession): nobody can rotate a patient onto a key they
 * do not hold, nor onto somebody else's public key.
 */
function verifyPossession(message: KeyRotationMessage, newKeySignature: string): void {
  const newKey = importPatientPublicKey(message.newPublicKey);
  if (keyIdOf(message.newPublicKey) === message.signer) fail('INVALID_ARGUMENT', 'the new key is the key that signs the rotation');
  const sig = decodeBase64(newKeySignature, 'newKeySignature');
  if (sig.length !== 64) fail('PATIENT_SIGNATURE_INVALID', 'newKeySignature must be 64 bytes (IEEE P1363 r || s)');
  let ok = false;
  try {
    ok = verify('sha256', canonicalBytes(message), { key: newKey, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) fail('PATIENT_SIGNATURE_INVALID', 'newKeySignature does not verify with the new key (proof of possession)');
}

/**
 * Strict structural parse of a signed message (no signature check). A patient.rotate-key
 * envelope carries newKeySignature as well; no other kind may.
 */
export function parseSignedPatientMessage(input: unknown): SignedPatientMessage {
  const kind = typeof input === 'object' && input !== null ? ((input as { message?: { kind?: unknown } }).message?.kind ?? null) : null;
  const rotation = kind === 'patient.rotate-key';
  const o = object(input, 'signed message', rotation ? ['message', 'publicKey', 'signature', 'newKeySignature'] : ['message', 'publicKey', 'signature']);
  const publicKey = str(o.publicKey, 'publicKey');
  const signature = str(o.signature, 'signature');
  const message = checkMessage(o.message);
  if (rotation) return { message, publicKey, signature, newKeySignature: str(o.newKeySignature, 'newKeySignature') } as SignedKeyRotation;
  return { message, publicKey, signature };
}

/** Checks that a value is a well-formed patient message with exactly the fields of its kind. */
export function checkMessage<M extends PatientMessage>(input: M): M;
export function checkMessage(input: unknown): PatientMessage;
export function checkMessage(input: unknown): PatientMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('INVALID_ARGUMENT', 'message must be an object');
  const kind = (input as { kind?: unknown }).kind;
  const headerFields = ['domain', 'kind', 'channel', 'patientId', 'signer', 'nonce', 'issuedAt'];
  const extra: Record<PatientMessageKind, string[]> = {
    'consent.grant': ['terms'],
    'consent.grant-policy': ['policy'],
    'consent.revoke': ['consentId'],
    'guardian.authorise': ['guardian'],
    'guardian.revoke': ['guardianId'],
    'access-log.read': [],
    'patient.rotate-key': ['newPublicKey'],
    'record.erase': ['recordId'],
    'records.read': [],
  };
  if (typeof kind !== 'string' || !(PatientMessageKinds as readonly string[]).includes(kind)) {
    fail('INVALID_ARGUMENT', `message kind must be one of ${PatientMessageKinds.join(', ')}`);
  }
  const k = kind as PatientMessageKind;
  // A grant may name the org that keeps it privately (`keeper`); no other field is optional.
  const kept = (k === 'consent.grant' || k === 'consent.grant-policy') && 'keeper' in (input as object);
  const o = object(input, `${k} message`, [...headerFields, ...extra[k], ...(kept ? ['keeper'] : [])]);
  if (kept) matches(o.keeper, Formats.mspId, 'keeper');
  if (o.domain !== PATIENT_MESSAGE_DOMAIN) fail('INVALID_ARGUMENT', `message domain must be ${PATIENT_MESSAGE_DOMAIN}`);
  matches(o.channel, Formats.chainId, 'channel');
  matches(o.patientId, Formats.patientId, 'patientId');
  matches(o.signer, Formats.keyId, 'signer');
  matches(o.nonce, Formats.nonce, 'nonce');
  int(o.issuedAt, 'issuedAt');
  switch (k) {
    case 'consent.grant':
      checkTerms(o.terms);
      break;
    case 'consent.grant-policy':
      if (typeof o.policy !== 'object' || o.policy === null || Array.isArray(o.policy)) fail('INVALID_ARGUMENT', 'policy must be an object');
      break;
    case 'consent.revoke':
      matches(o.consentId, Formats.consentId, 'consentId');
      break;
    case 'guardian.authorise': {
      const g = object(o.guardian, 'guardian', ['publicKey', 'notAfter']);
      str(g.publicKey, 'guardian.publicKey');
      int(g.notAfter, 'guardian.notAfter');
      break;
    }
    case 'guardian.revoke':
      matches(o.guardianId, Formats.keyId, 'guardianId');
      break;
    case 'access-log.read':
    case 'records.read':
      break;
    case 'patient.rotate-key':
      str(o.newPublicKey, 'newPublicKey');
      break;
    case 'record.erase':
      matches(o.recordId, Formats.recordId, 'recordId');
      break;
  }
  return input as PatientMessage;
}

/** Structural check of consent terms (types and identifier formats; the rules check meaning). */
export function checkTerms(input: unknown): ConsentTerms {
  const t = object(input, 'terms', ['grantee', 'scope', 'actions', 'purposes', 'period']);
  matches(t.grantee, Formats.mspId, 'terms.grantee');
  const scope = object(t.scope, 'terms.scope', ['recordIds', 'categories']);
  strArray(scope.recordIds, 'terms.scope.recordIds').forEach((r) => matches(r, Formats.recordId, 'terms.scope.recordIds[]'));
  strArray(scope.categories, 'terms.scope.categories').forEach((c) => matches(c, Formats.category, 'terms.scope.categories[]'));
  strArray(t.actions, 'terms.actions');
  strArray(t.purposes, 'terms.purposes');
  const period = object(t.period, 'terms.period', ['start', 'end']);
  int(period.start, 'terms.period.start');
  int(period.end, 'terms.period.end');
  return input as ConsentTerms;
}

function cloneTerms(t: ConsentTerms): ConsentTerms {
  return {
    grantee: t.grantee,
    scope: { recordIds: [...t.scope.recordIds], categories: [...t.scope.categories] },
    actions: [...t.actions],
    purposes: [...t.purposes],
    period: { start: t.period.start, end: t.period.end },
  };
}

// ---------------------------------------------------------------------------------------
// small strict parsers

const MAX_LIST = 100;

function object(v: unknown, what: string, fields: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('INVALID_ARGUMENT', `${what} must be an object`);
  const o = v as Record<string, unknown>;
  for (const f of fields) if (!(f in o) || o[f] === undefined) fail('INVALID_ARGUMENT', `${what} is missing ${f}`);
  for (const k of Object.keys(o)) if (!fields.includes(k)) fail('INVALID_ARGUMENT', `${what} has an unknown field ${k}`);
  return o;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0) fail('INVALID_ARGUMENT', `${what} must be a non-empty string`);
  return v;
}

function matches(v: unknown, re: RegExp, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) fail('INVALID_ARGUMENT', `${what} is malformed (expected ${re.source})`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail('INVALID_ARGUMENT', `${what} must be a non-negative integer`);
  return v;
}

function strArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) fail('INVALID_ARGUMENT', `${what} must be an array`);
  if (v.length > MAX_LIST) fail('INVALID_ARGUMENT', `${what} has more than ${MAX_LIST} entries`);
  for (const s of v) if (typeof s !== 'string' || s.length === 0) fail('INVALID_ARGUMENT', `${what} must hold non-empty strings`);
  return v as string[];
}

function decodeBase64(s: string, what: string): Buffer {
  if (typeof s !== 'string' || s.length === 0 || s.length > 4096 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) {
    fail('INVALID_ARGUMENT', `${what} must be base64`);
  }
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) fail('INVALID_ARGUMENT', `${what} must be canonical base64`);
  return b;
}
