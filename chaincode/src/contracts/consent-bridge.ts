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
  consentPacketOf,
  policyConsentPacketOf,
  requireEnforceableAt,
  verifyConsentPacket,
  type AnyConsentPacketPayload,
  type ConsentPacketType,
} from '../rules/remote-consent-rules';
import { isPolicyConsent, type StoredConsent } from '../rules/consent-rules';
import { idPublicKeyOf, rotationChainOf, type Patient } from '../rules/patient-rules';
import { getConsent, getPatient, getRemoteConsent, putRemoteConsent } from '../state/consent-repo';
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
  if (!Formats.chainId.test(sourceChainId)) fail('INVALID_ARGUMENT', 'sourceChainId is malformed');
  if (sourceChainId === chainId) fail('WRONG_CHANNEL', 'a chain does not receive consent packets from itself');
  const p = verifyConsentPacket(sourceChainId, type, payload);
  const existing = await getRemoteConsent(ctx.stub, sourceChainId, p.consentId);
  const mirror = applyConsentPacketRule(existing, sourceChainId, type as ConsentPacketType, p, members, txTimeMs(ctx), ctx.stub.getTxID());
  await putRemoteConsent(ctx.stub, mirror);
  return applyResult(mirror);
}
