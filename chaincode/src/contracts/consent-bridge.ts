/**
 * What the cross-chain contract calls to carry consents between chains.
 *
 * Home chain:  buildConsentPacket(ctx, consentId, destChain?) -> { type, payload } from stored state only
 *              (v1 terms, or a consent v2 policy with payload `format` v2).
 * Destination: applyConsentPacket(ctx, sourceChainId, type, payload) -> small result for the
 *              acknowledgement; validates everything before writing; throws MedbridgeError on
 *              rejection; emits no event (the cross-chain contract emits its transaction's one).
 * The payload format and its checks: rules/remote-consent-rules.ts and CONSENT.md.
 */
import type { Context } from 'fabric-contract-api';
import { check, fail } from '../errors';
import { canonicalBytes, type Json } from '../protocol/canonical-json';
import { Limits } from '../protocol/limits';
import { Formats } from '../protocol/patient-messages';
import {
  applyConsentPacketRule,
  applyResult,
  type StoredRemoteConsent,
  consentPacketOf,
  policyConsentPacketOf,
  requireEnforceableAt,
  verifyConsentPacket,
  type AnyConsentPacketPayload,
  type ConsentPacketType,
} from '../rules/remote-consent-rules';
import { isPolicyConsent, type StoredConsent } from '../rules/consent-rules';
import { idPublicKeyOf, rotationChainOf, type Patient } from '../rules/patient-rules';
import {
  getConsent,
  getPatient,
  getPrivateConsent,
  getPrivatePatient,
  getPrivateRemoteConsent,
  getRemoteConsent,
  getSealedArrival,
  getSealedConsentBytes,
  implicitCollection,
  putConsentSeal,
  putPrivateRemoteConsent,
  putRemoteConsent,
  putSealedArrival,
  putSealedConsent,
  putSealedDelivered,
  sealedConsentHash,
} from '../state/consent-repo';
import {
  parseSealedConsent,
  parseSealedConsentRef,
  SEALED_CONSENT_REF_FORMAT,
  sealedBytes,
  sealedConsentOf,
  sealedGrantees,
  sealedRefOf,
  type SealedArrival,
  type SealedConsentRef,
} from '../rules/sealed-consent-rules';
import type { Packet } from '../protocol/packet';
import type { Caller } from '../rules/roles';
import { getRemote } from '../state/crosschain-repo';
import { getMemberSet } from '../state/governance-repo';
import { found } from '../state/store';
import { txTimeMs } from './tx-context';

export type { ConsentPacketType } from '../rules/remote-consent-rules';

/**
 * Room for a consent payload in a packet: the packet limit minus the largest packet around a
 * `null` payload (longest ids, largest numbers).
 */
export const MAX_CONSENT_PAYLOAD_BYTES: number = (() => {
  const id = 'x'.repeat(Limits.maxIdChars);
  const n = Number.MAX_SAFE_INTEGER;
  const envelope = { sourceChain: id, destChain: id, routeId: id, sequence: n, type: 'consent.revoke', payload: null, timeoutMs: n, sentAtMs: n, sender: id };
  return Limits.maxPacketBytes - (canonicalBytes(envelope).length - 'null'.length);
})();

/**
 * What revoking a consent may add to its payload at most: the patient's (or a guardian's)
 * signed revocation and the guardian's delegation, with the longest fields the message
 * parser accepts (test/unit/security/packet-settlement.test.ts checks the bound).
 */
export const REVOCATION_ALLOWANCE_BYTES = 4096;

/**
 * A consent is accepted only if it can travel in both its states: its consent.grant packet
 * and, once revoked, its consent.revoke packet fit the packet limit. Otherwise a revocation
 * could never reach a chain that holds the grant. PROOF_TOO_LARGE names the sizes. Checked at
 * grant time and at key rotation, for v1 and v2 consents alike.
 */
export function requireCarriable(consent: StoredConsent, patient: Patient): void {
  const size = canonicalBytes(packetOf(consent, patient).payload).length;
  check(
    size + REVOCATION_ALLOWANCE_BYTES <= MAX_CONSENT_PAYLOAD_BYTES,
    'PROOF_TOO_LARGE',
    `this consent would travel as a ${size}-byte payload (${size + REVOCATION_ALLOWANCE_BYTES} once revoked); a consent packet carries at most ${MAX_CONSENT_PAYLOAD_BYTES}: name fewer record ids or categories, or write a shorter policy`,
  );
}

/**
 * The packet that carries a consent's current state to the grantee's chain:
 * 'consent.grant' while it is active (version 1), 'consent.revoke' once revoked (version 2).
 * Built only from this chain's state, never from caller bytes. With `destChain`, a consent v2
 * grant is first checked to be enforceable there (consentPacketTo).
 */
export async function buildConsentPacket(ctx: Context, consentId: string, destChain?: string): Promise<{ type: ConsentPacketType; payload: Json }> {
  if (!Formats.consentId.test(consentId)) fail('INVALID_ARGUMENT', 'consentId is malformed');
  const { chainId } = await getMemberSet(ctx.stub);
  const consent = found(await getConsent(ctx.stub, consentId), `consent ${consentId}`);
  if (consent.chainId !== chainId) fail('WRONG_CHANNEL', `consent ${consentId} was granted on ${consent.chainId}, not ${chainId}`);
  const patient = found(await getPatient(ctx.stub, consent.patientId), `patient ${consent.patientId}`);
  if (destChain === undefined) {
    const { type, payload } = packetOf(consent, patient);
    return { type, payload: payload as unknown as Json };
  }
  return consentPacketTo(ctx, consent, patient, destChain);
}

/**
 * The packet of a consent for `destChain`. A consent v2 grant must be enforceable there: the
 * policy must be able to permit one of the orgs this chain registered for `destChain`
 * (WRONG_DESTINATION, UNKNOWN_CHAIN; nothing is sent). A revocation always travels.
 */
export async function consentPacketTo(ctx: Context, consent: StoredConsent, patient: Patient, destChain: string): Promise<{ type: ConsentPacketType; payload: Json }> {
  const { type, payload } = packetOf(consent, patient);
  if (isPolicyConsent(consent) && type === 'consent.grant') {
    const remote = await getRemote(ctx.stub, destChain);
    requireEnforceableAt(consent.policy, consent.consentId, destChain, remote?.orgs.map((o) => o.mspId));
  }
  return { type, payload: payload as unknown as Json };
}

/**
 * The packet of a consent with the patient's id key and, once rotated, the rotations that lead
 * to the current key: v1 terms, or a consent v2 policy (payload `format` v2).
 */
export function packetOf(consent: StoredConsent, patient: Patient): { type: ConsentPacketType; payload: AnyConsentPacketPayload } {
  if (isPolicyConsent(consent)) return policyConsentPacketOf(consent, idPublicKeyOf(patient), rotationChainOf(patient));
  return consentPacketOf(consent, idPublicKeyOf(patient), rotationChainOf(patient));
}

/**
 * Applies a consent packet from `sourceChainId` to this chain's RemoteConsent mirror,
 * after re-verifying the patient's signatures. Writes the mirror and its grantee index.
 */
export async function applyConsentPacket(ctx: Context, sourceChainId: string, type: string, payload: Json): Promise<Json> {
  const { chainId, members } = await getMemberSet(ctx.stub);
  requireOtherSource(sourceChainId, chainId);
  const p = verifyConsentPacket(sourceChainId, type, payload);
  const existing = await getRemoteConsent(ctx.stub, sourceChainId, p.consentId);
  const mirror = applyConsentPacketRule(existing, sourceChainId, type as ConsentPacketType, p, members, txTimeMs(ctx), ctx.stub.getTxID());
  await putRemoteConsent(ctx.stub, mirror);
  return applyResult(mirror);
}

function requireOtherSource(sourceChainId: string, chainId: string): void {
  if (!Formats.chainId.test(sourceChainId)) fail('INVALID_ARGUMENT', 'sourceChainId is malformed');
  if (sourceChainId === chainId) fail('WRONG_CHANNEL', 'a chain does not receive consent packets from itself');
}

// ---------------------------------------------------------------- sealed consent shares (CONSENT.md "Sealed consent shares")

/**
 * Seals a private consent the caller's org keeps for `destChain`: the packet a public share
 * would carry (its current state, checked as SendPacket checks it), stored as a SealedConsent in
 * the caller's implicit collection under a reference derived from the caller's salt, with an
 * index entry under the consent (ConsentSeal: where it was sealed to, and when). Writes
 * nothing public. NOT_FOUND unless the caller's org keeps the consent privately.
 */
export async function sealConsent(ctx: Context, who: Caller, consentId: string, destChain: string, saltHex: string): Promise<{ ref: string; digest: string; type: ConsentPacketType; destChain: string; consentId: string }> {
  if (!Formats.consentId.test(consentId)) fail('INVALID_ARGUMENT', 'consentId is malformed');
  if (!Formats.chainId.test(destChain)) fail('INVALID_ARGUMENT', 'destChain is malformed');
  const { chainId } = await getMemberSet(ctx.stub);
  if (destChain === chainId) fail('WRONG_DESTINATION', 'a consent is sealed for another chain, not this one');
  const collection = implicitCollection(who.mspId);
  const consent = found(await getPrivateConsent(ctx.stub, collection, consentId), `private consent ${consentId} at ${who.mspId} (a public consent is shared with SendPacket)`);
  // Registered privately at this org (read first, on its own peer), or publicly.
  const patient = found((await getPrivatePatient(ctx.stub, collection, consent.patientId)) ?? (await getPatient(ctx.stub, consent.patientId)), `patient ${consent.patientId}`);
  requireCarriable(consent, patient);
  const { type, payload } = await consentPacketTo(ctx, consent, patient, destChain);
  const ref = sealedRefOf(saltHex);
  const sealed = sealedConsentOf({ sourceChain: chainId, destChain, custodian: who.mspId, type, payload, salt: saltHex });
  const digest = await putSealedConsent(ctx.stub, collection, ref, sealedBytes(sealed));
  await putConsentSeal(ctx.stub, collection, { consentId, ref, destChain, type, sealedAt: txTimeMs(ctx), txId: ctx.stub.getTxID() }, saltHex);
  return { ref, digest, type, destChain, consentId };
}

/**
 * The payload of a `consent.sealed` packet (SendPacket with argsJson.ref): the sender's org,
 * the reference and Fabric's hash of the sealed value in the sender's implicit collection, read
 * with GetPrivateDataHash, which every peer of the channel can (member of the collection or not).
 */
export async function sealedConsentPayload(ctx: Context, who: Caller, a: Record<string, Json>): Promise<Json> {
  if (a.payload !== undefined || a.consentId !== undefined || typeof a.ref !== 'string') {
    fail('INVALID_ARGUMENT', 'a consent.sealed packet names argsJson.ref (from SealConsent) and nothing else; its digest comes from the ledger');
  }
  const ref = a.ref;
  if (!/^[0-9a-f]{64}$/.test(ref)) fail('INVALID_ARGUMENT', 'argsJson.ref must be 64 lower-case hex characters');
  const digest = await sealedConsentHash(ctx.stub, implicitCollection(who.mspId), ref);
  if (digest === undefined) fail('NOT_FOUND', `${who.mspId} sealed no consent under ${ref}`);
  const out: SealedConsentRef = { format: SEALED_CONSENT_REF_FORMAT, custodian: who.mspId, ref, digest };
  return out as unknown as Json;
}

/**
 * Destination: a `consent.sealed` packet's arrival, written in public state under (source
 * chain, digest). It says nothing of the consent; the grantee delivers it (deliverSealedConsent).
 * The same digest twice is ALREADY_EXISTS (answered with an error acknowledgement).
 */
export async function recordSealedArrival(ctx: Context, sourceChainId: string, packet: Packet): Promise<Json> {
  const { chainId } = await getMemberSet(ctx.stub);
  requireOtherSource(sourceChainId, chainId);
  const ref = parseSealedConsentRef(packet.payload);
  if ((await getSealedArrival(ctx.stub, sourceChainId, ref.digest)) !== undefined) {
    fail('ALREADY_EXISTS', `a sealed consent with digest ${ref.digest} already arrived from ${sourceChainId}`);
  }
  const arrival: SealedArrival = {
    sourceChain: sourceChainId,
    custodian: ref.custodian,
    ref: ref.ref,
    digest: ref.digest,
    routeId: packet.routeId,
    sequence: packet.sequence,
    receivedAt: txTimeMs(ctx),
    txId: ctx.stub.getTxID(),
  };
  await putSealedArrival(ctx.stub, arrival);
  return { digest: ref.digest, status: 'arrived' };
}

/**
 * Custodian: the exact bytes of a sealed consent it keeps, for `requesterOrg` only if the
 * consent is for that org (sealedGrantees over the orgs this chain registered for the
 * destination): NOT_FOUND when this org sealed nothing under `ref`, ACCESS_DENIED otherwise.
 */
export async function releaseSealedConsent(ctx: Context, who: Caller, ref: string, requesterOrg: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(ref)) fail('INVALID_ARGUMENT', 'ref must be 64 lower-case hex characters');
  if (!Formats.mspId.test(requesterOrg)) fail('INVALID_ARGUMENT', 'requesterOrg must be an MSP id');
  const bytes = found(await getSealedConsentBytes(ctx.stub, implicitCollection(who.mspId), ref), `sealed consent ${ref} at ${who.mspId}`);
  const text = bytes.toString('utf8');
  const { sealed } = parseSealedConsent(text);
  const remote = await getRemote(ctx.stub, sealed.destChain);
  const grantees = sealedGrantees(sealed, remote?.orgs.map((o) => o.mspId) ?? []);
  if (!grantees.includes(requesterOrg)) fail('ACCESS_DENIED', `sealed consent ${ref} is not for ${requesterOrg}`);
  return text;
}

/**
 * Grantee: applies a sealed consent it got from the custodian to its own mirror, in its own
 * implicit collection. The bytes must hash to the digest of an arrival on this chain from the
 * chain they name, sealed by the custodian the arrival names, for this chain (WRONG_DESTINATION);
 * the consent packet inside is then checked exactly as a public one (verifyConsentPacket,
 * versions, expiry), and it must be for the caller's org (WRONG_DESTINATION).
 */
export async function deliverSealedConsent(ctx: Context, who: Caller, text: string, saltHex: string): Promise<{ mirror: StoredRemoteConsent; arrival: SealedArrival; result: Json }> {
  const { chainId, members } = await getMemberSet(ctx.stub);
  const { sealed, digest, ref } = parseSealedConsent(text);
  if (sealed.destChain !== chainId) fail('WRONG_DESTINATION', `this sealed consent is for ${sealed.destChain}, not ${chainId}`);
  requireOtherSource(sealed.sourceChain, chainId);
  const arrival = found(await getSealedArrival(ctx.stub, sealed.sourceChain, digest), `arrival of a sealed consent with digest ${digest} from ${sealed.sourceChain}`);
  if (arrival.custodian !== sealed.custodian || arrival.ref !== ref) {
    fail('INVALID_ARGUMENT', `the sealed consent names ${sealed.custodian} and reference ${ref}; the packet that arrived named ${arrival.custodian} and ${arrival.ref}`);
  }
  const p = verifyConsentPacket(sealed.sourceChain, sealed.type, sealed.payload, 'sealed');
  const collection = implicitCollection(who.mspId);
  const existing = await getPrivateRemoteConsent(ctx.stub, collection, sealed.sourceChain, p.consentId);
  const mirror = applyConsentPacketRule(existing, sealed.sourceChain, sealed.type, p, members, txTimeMs(ctx), ctx.stub.getTxID());
  const grantees = 'grantees' in mirror ? mirror.grantees : [mirror.grantee];
  if (!grantees.includes(who.mspId)) fail('WRONG_DESTINATION', `consent ${p.consentId} is not for ${who.mspId}: each grantee delivers its own copy`);
  await putPrivateRemoteConsent(ctx.stub, collection, mirror, saltHex);
  await putSealedDelivered(ctx.stub, collection, arrival, p.consentId, ctx.stub.getTxID(), saltHex);
  return { mirror, arrival, result: applyResult(mirror) };
}

/** A mirrored consent as the caller's org sees it: the public mirror, or the one it delivered sealed to its own collection. */
export async function remoteConsentFor(ctx: Context, who: Caller, sourceChain: string, consentId: string): Promise<StoredRemoteConsent | undefined> {
  return (await getRemoteConsent(ctx.stub, sourceChain, consentId)) ?? (await getPrivateRemoteConsent(ctx.stub, implicitCollection(who.mspId), sourceChain, consentId));
}
