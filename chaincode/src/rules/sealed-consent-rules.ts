/**
 * Sealed consent shares (CONSENT.md "Sealed consent shares"): a private consent carried to
 * another chain without any ledger showing what it says. Three values, all pure here:
 *
 *   SealedConsent     the whole consent packet (type and payload, as a public share carries them),
 *                     kept in the custodian's implicit collection under a random reference;
 *   SealedConsentRef  the payload of the `consent.sealed` packet: custodian, reference and the
 *                     SHA-256 of the SealedConsent's bytes (Fabric's hash of the private value);
 *   SealedArrival     what the destination's receive writes in public state: that a sealed
 *                     consent with this digest arrived from that custodian on that route.
 *
 * The grantee gets the SealedConsent's bytes from the custodian off the ledger and delivers them
 * in a private transaction of its own: the bytes must hash to an arrival's digest, and then they
 * are checked exactly as a public consent packet is (verifyConsentPacket).
 */
import { fail } from '../errors';
import { canonicalBytes, canonicalize, parseJson, sha256Hex, type Json } from '../protocol/canonical-json';
import { asObject, reqId, reqString } from '../protocol/fields';
import { Formats } from '../protocol/patient-messages';
import { parseConsentPolicy } from '../protocol/consent-policy/parse';
import { permittedRecipientOrgs } from './consent-policy';
import { CONSENT_PACKET_TYPES, CONSENT_PACKET_V2, type ConsentPacketType } from './remote-consent-rules';

export const SEALED_CONSENT_FORMAT = 'medbridge/sealed-consent/v1';
export const SEALED_CONSENT_REF_FORMAT = 'medbridge/sealed-consent-ref/v1';

const HEX64 = /^[0-9a-f]{64}$/;

/** The private value: a consent packet for one destination, salted so its hash cannot be matched to a guess. */
export interface SealedConsent {
  format: typeof SEALED_CONSENT_FORMAT;
  sourceChain: string;
  destChain: string;
  /** The org that keeps the consent and sealed it (its implicit collection holds this value). */
  custodian: string;
  type: ConsentPacketType;
  payload: Json;
  /** 32 random bytes, hex: the sealer's salt. The reference is derived from it (sealedRefOf). */
  salt: string;
}

/**
 * The custodian's index entry of one sealed share of a consent (its own collection, salted): what
 * a patient's view of "where did my consent go" and a revocation's carrying read. Names the
 * reference, so the sent `consent.sealed` packet can be matched to its consent.
 */
export interface ConsentSeal {
  consentId: string;
  ref: string;
  destChain: string;
  type: ConsentPacketType;
  /** Transaction time of the seal (ms). */
  sealedAt: number;
  txId: string;
}

/** The `consent.sealed` packet's payload. */
export interface SealedConsentRef {
  format: typeof SEALED_CONSENT_REF_FORMAT;
  custodian: string;
  ref: string;
  /** SHA-256 (hex) of the SealedConsent's canonical bytes. */
  digest: string;
}

/** A sealed consent's arrival on the destination (public state, one per digest and source chain). */
export interface SealedArrival {
  sourceChain: string;
  custodian: string;
  ref: string;
  digest: string;
  routeId: string;
  sequence: number;
  receivedAt: number;
  txId: string;
}

/** The reference of a sealed consent: SHA-256 of its salt, so it names nothing and cannot be guessed. */
export function sealedRefOf(saltHex: string): string {
  if (!HEX64.test(saltHex)) fail('INVALID_ARGUMENT', 'a sealed consent salt is 32 bytes in lower-case hex');
  return sha256Hex(Buffer.concat([Buffer.from('medbridge/sealed-consent-ref/v1\u0000', 'utf8'), Buffer.from(saltHex, 'hex')]));
}

export function sealedConsentOf(input: Omit<SealedConsent, 'format'>): SealedConsent {
  return { format: SEALED_CONSENT_FORMAT, ...input };
}

/** The bytes that are stored, hashed by Fabric, released to the grantee and delivered: canonical JSON. */
export function sealedBytes(s: SealedConsent): Buffer {
  return canonicalBytes(s);
}

export function parseSealedConsentRef(payload: unknown): SealedConsentRef {
  const o = asObject(payload, 'INVALID_ARGUMENT', 'consent.sealed payload', ['format', 'custodian', 'ref', 'digest']);
  if (o.format !== SEALED_CONSENT_REF_FORMAT) fail('INVALID_ARGUMENT', `consent.sealed payload.format must be ${SEALED_CONSENT_REF_FORMAT}`);
  const custodian = reqString(o, 'custodian', 'INVALID_ARGUMENT', 'consent.sealed payload', 128);
  if (!Formats.mspId.test(custodian)) fail('INVALID_ARGUMENT', 'consent.sealed payload.custodian must be an MSP id');
  const ref = reqString(o, 'ref', 'INVALID_ARGUMENT', 'consent.sealed payload', 64);
  const digest = reqString(o, 'digest', 'INVALID_ARGUMENT', 'consent.sealed payload', 64);
  if (!HEX64.test(ref) || !HEX64.test(digest)) fail('INVALID_ARGUMENT', 'consent.sealed payload.ref and .digest are 64 lower-case hex characters');
  return { format: SEALED_CONSENT_REF_FORMAT, custodian, ref, digest };
}

/**
 * The SealedConsent a grantee delivers, from its exact bytes: canonical JSON (a re-encoded value
 * would not hash to the digest the source committed), the exact fields, a consent packet type,
 * and a reference that is the one its salt gives. The payload is checked later, as a packet's.
 */
export function parseSealedConsent(text: string): { sealed: SealedConsent; digest: string; ref: string } {
  const value = parseJson(text, 'sealed');
  if (canonicalize(value) !== text) fail('INVALID_ARGUMENT', 'a sealed consent is delivered in exactly the canonical bytes the custodian sealed');
  const o = asObject(value, 'INVALID_ARGUMENT', 'sealed consent', ['format', 'sourceChain', 'destChain', 'custodian', 'type', 'payload', 'salt']);
  if (o.format !== SEALED_CONSENT_FORMAT) fail('INVALID_ARGUMENT', `sealed consent.format must be ${SEALED_CONSENT_FORMAT}`);
  const sourceChain = reqId(o, 'sourceChain', 'INVALID_ARGUMENT', 'sealed consent');
  const destChain = reqId(o, 'destChain', 'INVALID_ARGUMENT', 'sealed consent');
  const custodian = reqString(o, 'custodian', 'INVALID_ARGUMENT', 'sealed consent', 128);
  if (!Formats.mspId.test(custodian)) fail('INVALID_ARGUMENT', 'sealed consent.custodian must be an MSP id');
  const type = o.type;
  if (typeof type !== 'string' || !(CONSENT_PACKET_TYPES as readonly string[]).includes(type)) {
    fail('PACKET_TYPE_NOT_ALLOWED', `a sealed consent carries ${CONSENT_PACKET_TYPES.join(' or ')}`);
  }
  if (!('payload' in o)) fail('INVALID_ARGUMENT', 'sealed consent.payload is missing');
  const salt = reqString(o, 'salt', 'INVALID_ARGUMENT', 'sealed consent', 64);
  const sealed: SealedConsent = { format: SEALED_CONSENT_FORMAT, sourceChain, destChain, custodian, type: type as ConsentPacketType, payload: o.payload as Json, salt };
  return { sealed, digest: sha256Hex(Buffer.from(text, 'utf8')), ref: sealedRefOf(salt) };
}

/**
 * The orgs of `destOrgs` (the orgs the custodian's chain registered for the destination) a
 * sealed consent is for: the grantee of v1 terms, or the orgs a v2 policy can permit. Read from
 * the custodian's own stored value; the custodian releases the value to these orgs only.
 */
export function sealedGrantees(sealed: SealedConsent, destOrgs: readonly string[]): string[] {
  const p = sealed.payload as Record<string, unknown>;
  if (p.format === CONSENT_PACKET_V2) {
    const grant = p.grant as { message: { policy: unknown } };
    const reach = permittedRecipientOrgs(parseConsentPolicy(grant.message.policy));
    return destOrgs.filter((o) => reach.any || reach.orgs.includes(o)).sort();
  }
  const grantee = (p.terms as { grantee: string }).grantee;
  return destOrgs.includes(grantee) ? [grantee] : [];
}
