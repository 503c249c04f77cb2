/**
 * Consent packets between chains: what the home chain sends (built from its own state)
 * and what a destination accepts into its RemoteConsent mirror. The destination trusts
 * the cross-chain proof for "the home chain's peers committed this", and re-verifies
 * the patient's own signatures itself, so a relay or a compromised home org cannot make
 * up a grant the patient never signed. Versions only move forward: a revocation
 * (version 2) is never overtaken by a replayed grant (version 1).
 */
import { fail } from '../errors';
import { canonicalize, type Json } from '../protocol/canonical-json';
import { CONSENT_POLICY_FORMAT, type ConsentPolicy } from '../protocol/consent-policy/model';
import { parseConsentPolicy } from '../protocol/consent-policy/parse';
import {
  consentIdOf,
  Formats,
  keyIdOf,
  patientIdOf,
  verifyPatientMessage,
  type ConsentGrantMessage,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type ConsentTerms,
  type GuardianDelegationMessage,
  type PatientMessage,
  type SignedKeyRotation,
  type SignedPatientMessage,
  type VerifiedPatientMessage,
} from '../protocol/patient-messages';
import type { Consent, PolicyConsent } from './consent-rules';
import { permittedRecipientOrgs } from './consent-policy';
import { MAX_KEY_ROTATIONS } from './patient-rules';

export const CONSENT_PACKET_TYPES = ['consent.grant', 'consent.revoke'] as const;
export type ConsentPacketType = (typeof CONSENT_PACKET_TYPES)[number];

/** What the payloads of both consent packet formats carry, with the same meaning. */
interface ConsentPacketCommon {
  consentId: string;
  version: number;
  status: 'active' | 'revoked';
  /** Chain id of the patient's home chain, where the grant was made. */
  homeChain: string;
  patientId: string;
  /** base64 SPKI DER of the patient's key; patientId is derived from it. */
  patientPublicKey: string;
  /** The patient-signed delegation when a guardian signed the grant, else null. */
  grantDelegation: SignedPatientMessage<GuardianDelegationMessage> | null;
  revocation: SignedPatientMessage<ConsentRevocationMessage> | null;
  revocationDelegation: SignedPatientMessage<GuardianDelegationMessage> | null;
  /**
   * Present only once the patient has rotated their key: the signed rotations, oldest first,
   * from patientPublicKey to the current key, so the destination knows every key of the
   * patient. Absent for a patient who never rotated (the payload is then unchanged).
   */
  keyRotations?: SignedKeyRotation[];
}

export interface ConsentPacketPayload extends ConsentPacketCommon {
  terms: ConsentTerms;
  grant: SignedPatientMessage<ConsentGrantMessage>;
}

/** What the mirrors of both consent formats hold, with the same meaning. */
interface RemoteConsentCommon {
  sourceChain: string;
  consentId: string;
  version: number;
  status: 'active' | 'revoked';
  patientId: string;
  revocation: SignedPatientMessage<ConsentRevocationMessage> | null;
  appliedAt: number;
  txId: string;
}

/** The mirror of a consent from another chain, on the grantee's chain. */
export interface RemoteConsent extends RemoteConsentCommon {
  grantee: string;
  terms: ConsentTerms;
  grant: SignedPatientMessage<ConsentGrantMessage>;
}

/**
 * The payload of a consent v2 packet (CONSENT.md "Consents across chains", v2). The same
 * packet types as v1, told apart by `format`: the patient-signed `consent.grant-policy`
 * message carries the canonical policy, so the policy travels once, inside what was signed.
 * Every other field has its v1 meaning; there is no `terms`.
 */
export interface PolicyConsentPacketPayload extends ConsentPacketCommon {
  format: typeof CONSENT_PACKET_V2;
  grant: SignedPatientMessage<ConsentPolicyGrantMessage>;
}

/** A consent packet's payload: v1 terms (no `format`) or a v2 policy. */
export type AnyConsentPacketPayload = ConsentPacketPayload | PolicyConsentPacketPayload;

/** `format` of a consent v2 packet payload; a v1 payload has no `format`. */
export const CONSENT_PACKET_V2 = 'medbridge/consent-packet/v2';

/**
 * The mirror of a consent v2 from another chain: the signed policy, evaluated here by the same
 * evaluator as on the home chain (remote-access-rules `decideRemoteAccess`). `grantees` are the orgs of this chain
 * the policy can permit when the packet is applied, sorted: where the mirror is indexed.
 */
export interface RemotePolicyConsent extends RemoteConsentCommon {
  format: typeof CONSENT_POLICY_FORMAT;
  grantees: string[];
  policy: ConsentPolicy;
  grant: SignedPatientMessage<ConsentPolicyGrantMessage>;
}

/** Any mirror in state: of a v1 consent or of a consent v2. */
export type StoredRemoteConsent = RemoteConsent | RemotePolicyConsent;

export function isRemotePolicyConsent(m: StoredRemoteConsent): m is RemotePolicyConsent {
  return (m as Partial<RemotePolicyConsent>).format === CONSENT_POLICY_FORMAT;
}

/** The orgs a mirror is indexed under: its grantee (v1) or its grantees here (v2). */
export function remoteGranteesOf(m: StoredRemoteConsent): string[] {
  return isRemotePolicyConsent(m) ? m.grantees : [m.grantee];
}

/**
 * The packet for a stored consent: type and payload from state only. `patientPublicKey` is
 * the key the patient id derives from; `keyRotations` the patient's signed rotations.
 */
export function consentPacketOf(
  c: Consent,
  patientPublicKey: string,
  keyRotations: SignedKeyRotation[] = [],
): { type: ConsentPacketType; payload: ConsentPacketPayload } {
  const payload: ConsentPacketPayload = { ...packetCommon(c, patientPublicKey, keyRotations), terms: c.terms, grant: c.grant };
  return { type: c.status === 'revoked' ? 'consent.revoke' : 'consent.grant', payload };
}

/** The fields both packet formats take from a stored consent of either format. */
function packetCommon(c: Consent | PolicyConsent, patientPublicKey: string, keyRotations: SignedKeyRotation[]): ConsentPacketCommon {
  return {
    consentId: c.consentId,
    version: c.version,
    status: c.status,
    homeChain: c.chainId,
    patientId: c.patientId,
    patientPublicKey,
    grantDelegation: c.grantSignedBy.delegation,
    revocation: c.revocation ? c.revocation.signed : null,
    revocationDelegation: c.revocation ? c.revocation.signedBy.delegation : null,
    ...(keyRotations.length > 0 ? { keyRotations } : {}),
  };
}

/**
 * The packet for a stored consent v2, as consentPacketOf for v1: the signed policy grant, the
 * patient's keys, the delegations and the revocation; `format` marks the payload as v2.
 */
export function policyConsentPacketOf(
  c: PolicyConsent,
  patientPublicKey: string,
  keyRotations: SignedKeyRotation[] = [],
): { type: ConsentPacketType; payload: PolicyConsentPacketPayload } {
  const payload: PolicyConsentPacketPayload = { format: CONSENT_PACKET_V2, ...packetCommon(c, patientPublicKey, keyRotations), grant: c.grant };
  return { type: c.status === 'revoked' ? 'consent.revoke' : 'consent.grant', payload };
}

/**
 * Send-time check of a consent v2 grant for `destChain` (`destOrgs`: the orgs this chain
 * registered for it; undefined when it registered none): the destination enforces a policy
 * only for its own orgs, so a policy that can permit none of them is refused before anything
 * is sent (WRONG_DESTINATION), as the destination would refuse it on arrival.
 */
export function requireEnforceableAt(policy: ConsentPolicy, consentId: string, destChain: string, destOrgs: string[] | undefined): void {
  if (destOrgs === undefined) fail('UNKNOWN_CHAIN', `${destChain} is not registered on this chain`);
  if (destinationGrantees(policy, destOrgs).length === 0) {
    fail('WRONG_DESTINATION', `consent ${consentId} permits none of ${destChain}'s orgs (${destOrgs.join(', ')}); nothing was sent`);
  }
}

/** The orgs of `orgs` some permit of the policy can reach, sorted. */
function destinationGrantees(policy: ConsentPolicy, orgs: readonly string[]): string[] {
  const reach = permittedRecipientOrgs(policy);
  return [...new Set(orgs.filter((o) => reach.any || reach.orgs.includes(o)))].sort();
}

const PAYLOAD_FIELDS = [
  'consentId',
  'version',
  'status',
  'homeChain',
  'patientId',
  'patientPublicKey',
  'terms',
  'grant',
  'grantDelegation',
  'revocation',
  'revocationDelegation',
];
const OPTIONAL_PAYLOAD_FIELDS = ['keyRotations'];

const PAYLOAD_V2_FIELDS = ['format', ...PAYLOAD_FIELDS.filter((f) => f !== 'terms')];

/**
 * Verifies a consent packet received from `sourceChainId`, in this order: type allowed,
 * payload shape (v1, or v2 when it has `format`), home chain = source, patient key ->
 * patientId, grant signature (bound to the source chain) and consent id, v1: terms = the
 * signed terms, v2: the signed policy in canonical form (CONSENT_POLICY_INVALID /
 * CONSENT_POLICY_TOO_LARGE otherwise), guardian delegation when a guardian signed, and for a
 * revocation the revocation signature and its consent id. A grant that names a keeper (a private
 * consent) is accepted only with `carriage` 'sealed'. Pure; throws MedbridgeError.
 */
export function verifyConsentPacket(sourceChainId: string, type: string, payload: unknown, carriage: 'public' | 'sealed' = 'public'): AnyConsentPacketPayload {
  if (!(CONSENT_PACKET_TYPES as readonly string[]).includes(type)) {
    fail('PACKET_TYPE_NOT_ALLOWED', `consent packets are ${CONSENT_PACKET_TYPES.join(' or ')}, not ${type}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) fail('INVALID_ARGUMENT', 'consent payload must be an object');
  const p = payload as Record<string, unknown>;
  const v2 = 'format' in p;
  if (v2 && p.format !== CONSENT_PACKET_V2) fail('INVALID_ARGUMENT', `consent payload format must be ${CONSENT_PACKET_V2} when present`);
  const fields = v2 ? PAYLOAD_V2_FIELDS : PAYLOAD_FIELDS;
  for (const f of fields) if (!(f in p) || p[f] === undefined) fail('INVALID_ARGUMENT', `consent payload is missing ${f}`);
  for (const f of Object.keys(p)) {
    if (!fields.includes(f) && !OPTIONAL_PAYLOAD_FIELDS.includes(f)) fail('INVALID_ARGUMENT', `consent payload has an unknown field ${f}`);
  }
  if (typeof p.consentId !== 'string' || !Formats.consentId.test(p.consentId)) fail('INVALID_ARGUMENT', 'consentId is malformed');
  if (typeof p.version !== 'number' || !Number.isSafeInteger(p.version) || p.version < 1) fail('INVALID_ARGUMENT', 'version must be a positive integer');
  if (p.status !== 'active' && p.status !== 'revoked') fail('INVALID_ARGUMENT', 'status must be active or revoked');
  if (p.homeChain !== sourceChainId) fail('WRONG_CHANNEL', `consent packet says home chain ${String(p.homeChain)} but came from ${sourceChainId}`);
  if (typeof p.patientPublicKey !== 'string') fail('INVALID_ARGUMENT', 'patientPublicKey must be a string');
  if (patientIdOf(p.patientPublicKey) !== p.patientId) fail('PATIENT_SIGNATURE_INVALID', 'patientPublicKey does not derive patientId');
  const patientId = p.patientId as string;
  const patientKeys = followRotations(keyIdOf(p.patientPublicKey), patientId, p.keyRotations, sourceChainId);

  const grant = verifyPatientMessage(p.grant, { channel: sourceChainId, kinds: [v2 ? 'consent.grant-policy' : 'consent.grant'] });
  if (grant.message.patientId !== patientId) fail('PATIENT_SIGNATURE_INVALID', 'grant is signed for another patient');
  if (consentIdOf(grant.message) !== p.consentId) fail('INVALID_ARGUMENT', 'consentId is not the id of the signed grant');
  // The patient signed it to stay private with one keeper on the home chain (CONSENT.md "Private consents"):
  // never mirrored in public state; it crosses only sealed, to its grantee's own collection ("Sealed consent shares").
  if (grant.message.keeper !== undefined && carriage !== 'sealed') {
    fail('INVALID_ARGUMENT', `the grant is a private consent kept by ${grant.message.keeper} on ${sourceChainId}: it crosses chains only sealed, never in a public packet`);
  }
  if (grant.message.kind === 'consent.grant-policy') {
    // Strict: what the patient signed must be the canonical policy the evaluator enforces.
    parseConsentPolicy(grant.message.policy);
  } else if (canonicalize(p.terms) !== canonicalize(grant.message.terms)) {
    fail('INVALID_ARGUMENT', 'terms differ from the signed grant');
  }
  checkDelegation(grant, p.grantDelegation, sourceChainId, patientKeys);

  if (type === 'consent.grant') {
    if (p.status !== 'active' || p.version !== 1 || p.revocation !== null || p.revocationDelegation !== null) {
      fail('INVALID_ARGUMENT', 'a consent.grant packet carries an active consent at version 1 without a revocation');
    }
  } else {
    if (p.status !== 'revoked' || p.version < 2 || p.revocation === null) {
      fail('INVALID_ARGUMENT', 'a consent.revoke packet carries a revoked consent at version 2 or later with its revocation');
    }
    const rev = verifyPatientMessage(p.revocation, { channel: sourceChainId, kinds: ['consent.revoke'] });
    if (rev.message.patientId !== patientId) fail('PATIENT_SIGNATURE_INVALID', 'revocation is signed for another patient');
    if (rev.message.consentId !== p.consentId) fail('INVALID_ARGUMENT', 'revocation names another consent');
    checkDelegation(rev, p.revocationDelegation, sourceChainId, patientKeys);
  }
  return payload as AnyConsentPacketPayload;
}

/**
 * Every key id of the patient, from the key the id derives from through each signed rotation
 * (each signed by the key before it, for this patient, on the source chain, with the new key's
 * proof of possession). Which key was current when the home chain accepted a message is the
 * home chain's check, covered by the proof; here any key of the patient counts as the patient.
 */
function followRotations(firstKeyId: string, patientId: string, rotations: unknown, sourceChainId: string): string[] {
  const keys = [firstKeyId];
  if (rotations === undefined) return keys;
  if (!Array.isArray(rotations) || rotations.length === 0 || rotations.length > MAX_KEY_ROTATIONS) {
    fail('INVALID_ARGUMENT', `keyRotations must be a list of 1 to ${MAX_KEY_ROTATIONS} signed rotations when present`);
  }
  for (const r of rotations) {
    const v = verifyPatientMessage(r, { channel: sourceChainId, kinds: ['patient.rotate-key'] });
    if (v.message.patientId !== patientId) fail('PATIENT_SIGNATURE_INVALID', 'a key rotation is signed for another patient');
    if (v.signerKeyId !== keys[keys.length - 1]) fail('PATIENT_SIGNATURE_INVALID', 'a key rotation is not signed by the key before it');
    const next = keyIdOf(v.message.newPublicKey);
    if (keys.includes(next)) fail('INVALID_ARGUMENT', 'a key rotation returns to a retired key');
    keys.push(next);
  }
  return keys;
}

/**
 * A guardian-signed message needs the patient's delegation of that guardian key; a
 * patient-signed one must carry none. Whether the delegation was still active when the
 * home chain accepted the message is the home chain's check (covered by the proof);
 * here the delegation must at least outlive the message's issue time.
 */
function checkDelegation(
  verified: VerifiedPatientMessage<PatientMessage>,
  delegation: unknown,
  sourceChainId: string,
  patientKeys: string[],
): void {
  if (patientKeys.includes(verified.signerKeyId)) {
    if (delegation !== null) fail('INVALID_ARGUMENT', 'a patient-signed message carries no delegation');
    return;
  }
  if (delegation === null) fail('GUARDIAN_NOT_AUTHORIZED', `key ${verified.signerKeyId} signed without a delegation from the patient`);
  const d = verifyPatientMessage(delegation, { channel: sourceChainId, kinds: ['guardian.authorise'] });
  if (!patientKeys.includes(d.signerKeyId) || d.message.patientId !== verified.message.patientId) {
    fail('GUARDIAN_NOT_AUTHORIZED', "the delegation is not signed by the patient's own key");
  }
  if (keyIdOf(d.message.guardian.publicKey) !== verified.signerKeyId) fail('GUARDIAN_NOT_AUTHORIZED', 'the delegation is for another key');
  if (verified.message.issuedAt >= d.message.guardian.notAfter) fail('GUARDIAN_NOT_AUTHORIZED', 'the message was signed after the delegation ended');
}

/**
 * The mirror after applying a verified packet on the destination. The grantee must be a
 * member of this chain (v2: the policy must be able to permit one of its members, who are
 * then the mirror's grantees); versions only move forward (equal is a duplicate and
 * refused); a grant that has already expired is refused (a revocation always applies).
 */
export function applyConsentPacketRule(
  existing: StoredRemoteConsent | undefined,
  sourceChainId: string,
  type: ConsentPacketType,
  p: AnyConsentPacketPayload,
  destinationMembers: string[],
  now: number,
  txId: string,
): StoredRemoteConsent {
  const policy = 'format' in p ? parseConsentPolicy(p.grant.message.policy) : null;
  const grantees = policy === null ? [] : destinationGrantees(policy, destinationMembers);
  if (!('format' in p) && !destinationMembers.includes(p.terms.grantee)) {
    fail('WRONG_DESTINATION', `grantee ${p.terms.grantee} is not a member of this chain`);
  }
  if (policy !== null && grantees.length === 0) fail('WRONG_DESTINATION', `consent ${p.consentId} permits no member of this chain`);
  if (existing && existing.version >= p.version) {
    fail('STALE_VERSION', `consent ${p.consentId} from ${sourceChainId} is at version ${existing.version} here; packet has ${p.version}`);
  }
  const end = 'format' in p ? (policy?.period?.end ?? 0) : p.terms.period.end;
  if (type === 'consent.grant' && end <= now) fail('CONSENT_EXPIRED', `consent ${p.consentId} expired at ${end}`);
  const common = { sourceChain: sourceChainId, consentId: p.consentId, version: p.version, status: p.status, patientId: p.patientId };
  if ('format' in p) {
    return { ...common, format: CONSENT_POLICY_FORMAT, grantees, policy: policy as ConsentPolicy, grant: p.grant, revocation: p.revocation, appliedAt: now, txId };
  }
  return { ...common, grantee: p.terms.grantee, terms: p.terms, grant: p.grant, revocation: p.revocation, appliedAt: now, txId };
}

/** The acknowledgement result for an applied packet: small and free of personal data. */
export function applyResult(m: StoredRemoteConsent): Json {
  if (isRemotePolicyConsent(m)) return { consentId: m.consentId, grantees: m.grantees, sourceChain: m.sourceChain, status: m.status, version: m.version };
  return { consentId: m.consentId, grantee: m.grantee, sourceChain: m.sourceChain, status: m.status, version: m.version };
}
