/**
 * What the cross-chain contract calls to carry consents between chains.
 *
 * Home chain:  buildConsentPacket(ctx, consentId)  -> { type, payload } from stored state only.
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
  consentPacketOf,
  verifyConsentPacket,
  type ConsentPacketType,
} from '../rules/remote-consent-rules';
import { isPolicyConsent, type Consent, type StoredConsent } from '../rules/consent-rules';
import { idPublicKeyOf, rotationChainOf, type Patient } from '../rules/patient-rules';
import { getConsent, getPatient, getRemoteConsent, putRemoteConsent } from '../state/consent-repo';
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
 * could never reach a chain that holds the grant. PROOF_TOO_LARGE names the sizes.
 */
export function requireCarriable(consent: Consent, patient: Patient): void {
  const size = canonicalBytes(packetOf(consent, patient).payload).length;
  check(
    size + REVOCATION_ALLOWANCE_BYTES <= MAX_CONSENT_PAYLOAD_BYTES,
    'PROOF_TOO_LARGE',
    `this consent would travel as a ${size}-byte payload (${size + REVOCATION_ALLOWANCE_BYTES} once revoked); a consent packet carries at most ${MAX_CONSENT_PAYLOAD_BYTES}: name fewer record ids or categories`,
  );
}

/**
 * The packet that carries a consent's current state to the grantee's chain:
 * 'consent.grant' while it is active (version 1), 'consent.revoke' once revoked (version 2).
 * Built only from this chain's state, never from caller bytes.
 */
export async function buildConsentPacket(ctx: Context, consentId: string): Promise<{ type: ConsentPacketType; payload: Json }> {
  if (!Formats.consentId.test(consentId)) fail('INVALID_ARGUMENT', 'consentId is malformed');
  const { chainId } = await getMemberSet(ctx.stub);
  const consent = found(await getConsent(ctx.stub, consentId), `consent ${consentId}`);
  if (consent.chainId !== chainId) fail('WRONG_CHANNEL', `consent ${consentId} was granted on ${consent.chainId}, not ${chainId}`);
  const patient = found(await getPatient(ctx.stub, consent.patientId), `patient ${consent.patientId}`);
  const { type, payload } = packetOf(consent, patient);
  return { type, payload: payload as unknown as Json };
}

/**
 * The packet of a consent with the patient's id key and, once rotated, the rotations that lead
 * to the current key. A consent v2 does not travel (yet): INVALID_ARGUMENT, nothing is sent.
 */
export function packetOf(consent: StoredConsent, patient: Patient): ReturnType<typeof consentPacketOf> {
  if (isPolicyConsent(consent)) {
    fail('INVALID_ARGUMENT', `consent ${consent.consentId} is a consent v2 policy; consent v2 is enforced on its home chain only (CONSENT.md "Consent language (v2)")`);
  }
  return consentPacketOf(consent, idPublicKeyOf(patient), rotationChainOf(patient));
}

/**
 * Applies a consent packet from `sourceChainId` to this chain's RemoteConsent mirror,
 * after re-verifying the patient's signatures. Writes the mirror and its grantee index.
 */
export async function applyConsentPacket(ctx: Context, sourceChainId: string, type: string, payload: Json): Promise<Json> {
  const { chainId, members } = await getMemberSet(ctx.stub);
  if (!Formats.chainId.test(sourceChainId)) fail('INVALID_ARGUMENT', 'sourceChainId is malformed');
  if (sourceChainId === chainId) fail('WRONG_CHANNEL', 'a chain does not receive consent packets from itself');
  const p = verifyConsentPacket(sourceChainId, type, payload);
  const existing = await getRemoteConsent(ctx.stub, sourceChainId, p.consentId);
  const mirror = applyConsentPacketRule(existing, sourceChainId, type as ConsentPacketType, p, members, txTimeMs(ctx), ctx.stub.getTxID());
  await putRemoteConsent(ctx.stub, mirror);
  return applyResult(mirror);
}
