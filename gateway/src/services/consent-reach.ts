/**
 * A patient's consents on every chain they were carried to, as this hospital's chain knows it
 * (gateway/API.md "The patient's consents on every chain"). A consent reaches another chain only
 * as a packet this chain sent; the destination's acknowledgement, verified here with its proof,
 * says what the destination did with it (its mirror's status and version, or its refusal). So
 * the home chain's packet records are the whole view, with no access to the other ledger:
 *
 *  - it sees every send, whether it was acknowledged, refused or timed out, and the mirror's
 *    state as of that acknowledgement;
 *  - it cannot see what happened there afterwards without a packet: the mirror's expiry is
 *    computed from the signed terms, but a packet still in flight, or a mirror removed by the
 *    destination's own governance, is not visible from here.
 *
 * A consent this hospital keeps privately crosses sealed (chaincode/CONSENT.md "Sealed consent
 * shares"): its consent.sealed packet names only a reference, which the keeper's own index of
 * seals (Consent:ListConsentSeals) ties back to the consent. The destination acknowledges the
 * arrival, not the grantee's delivery, so for a sealed share the view says what was sealed
 * (grant or revocation) and that it arrived: the state the grantee's copy has once it fetched it.
 *
 * @example
 *   const page = await consentsOnEveryChain(cc, patientId, { pageSize: 50 });
 */
import type { ConsentStatus, ConsentWithStatus, Page, PageRequest, SentPacketRecord } from '@medbridge/chaincode';
import { allPages, type Chaincode } from '../fabric/contracts';

/** The last word this chain has about a consent on one destination chain. */
export interface ConsentOnChain {
  chainId: string;
  routeId: string;
  /** The latest packet sent for this consent to that chain. */
  sequence: number;
  packetType: string;
  /** sent = no acknowledgement yet; acknowledged = applied there; failed = refused there; timed-out. */
  delivery: SentPacketRecord['status'];
  /** The mirror there, from the acknowledgement: stored status and version (null until acknowledged). */
  mirror: { status: 'active' | 'revoked'; version: number } | null;
  /** The mirror's status now, from the acknowledged status and the signed period (null without a mirror). */
  effectiveStatus: ConsentStatus | null;
  /** The destination's refusal (`CODE: message`) when it refused the packet. */
  error: string | null;
  /** When the acknowledgement or timeout was recorded here (ms), null while in flight. */
  asOf: number | null;
  /**
   * A sealed share (a consent this hospital keeps): what the sealed packet carried, and whether
   * the destination acknowledged its arrival. `effectiveStatus` is then the state of the
   * grantee's copy once the grantee fetched it from this hospital. null for a public consent packet.
   */
  sealed: { carries: 'grant' | 'revocation'; arrived: boolean } | null;
}

/** A seal this hospital made, by the reference its consent.sealed packet names (Consent:ListConsentSeals). */
export interface SealOf {
  consentId: string;
  type: 'consent.grant' | 'consent.revoke';
}

export type ConsentAcrossChains = ConsentWithStatus & { chains: ConsentOnChain[] };

const CONSENT_PACKET_TYPES = new Set(['consent.grant', 'consent.revoke']);
const SEALED_PACKET_TYPE = 'consent.sealed';

/**
 * Pure: for each consent, the latest packet sent for it to each destination chain, with what
 * the acknowledgement says. Chains in id order.
 */
export function consentsAcrossChains(consents: ConsentWithStatus[], sent: SentPacketRecord[], now: number, seals: ReadonlyMap<string, SealOf> = new Map()): ConsentAcrossChains[] {
  const latest = new Map<string, Map<string, SentPacketRecord>>();
  for (const r of sent) {
    const consentId = consentIdOfPacket(r, seals);
    if (consentId === undefined) continue;
    const byChain = latest.get(consentId) ?? new Map<string, SentPacketRecord>();
    const prior = byChain.get(r.packet.destChain);
    if (!prior || prior.packet.sentAtMs < r.packet.sentAtMs || (prior.packet.sentAtMs === r.packet.sentAtMs && prior.packet.sequence < r.packet.sequence)) {
      byChain.set(r.packet.destChain, r);
    }
    latest.set(consentId, byChain);
  }
  return consents.map((c) => {
    const byChain = latest.get(c.consentId) ?? new Map<string, SentPacketRecord>();
    const chains = [...byChain.values()].sort((a, b) => (a.packet.destChain < b.packet.destChain ? -1 : 1)).map((r) => onChain(r, c, now, seals));
    return { ...c, chains };
  });
}

function consentIdOfPacket(r: SentPacketRecord, seals: ReadonlyMap<string, SealOf>): string | undefined {
  const payload = r.packet.payload as { consentId?: unknown; ref?: unknown } | null;
  if (payload === null || typeof payload !== 'object') return undefined;
  if (r.packet.type === SEALED_PACKET_TYPE) return typeof payload.ref === 'string' ? seals.get(payload.ref)?.consentId : undefined;
  if (!CONSENT_PACKET_TYPES.has(r.packet.type)) return undefined;
  return typeof payload.consentId === 'string' ? payload.consentId : undefined;
}

function onChain(r: SentPacketRecord, c: ConsentWithStatus, now: number, seals: ReadonlyMap<string, SealOf>): ConsentOnChain {
  const result = r.ack?.outcome === 'success' ? (r.ack.result as { status?: unknown; version?: unknown } | undefined) : undefined;
  const seal = r.packet.type === SEALED_PACKET_TYPE ? seals.get((r.packet.payload as { ref: string }).ref) : undefined;
  const status = result?.status;
  const version = result?.version;
  const mirror: ConsentOnChain['mirror'] = isStoredStatus(status) && typeof version === 'number' ? { status, version } : null;
  const arrived = seal !== undefined && status === 'arrived';
  const stateThere = mirror?.status ?? (arrived ? (seal.type === 'consent.revoke' ? 'revoked' : 'active') : undefined);
  return {
    chainId: r.packet.destChain,
    routeId: r.packet.routeId,
    sequence: r.packet.sequence,
    packetType: r.packet.type,
    delivery: r.status,
    mirror,
    effectiveStatus: stateThere ? statusAt(stateThere, 'terms' in c ? c.terms.period : { start: c.policy.period?.start ?? 0, end: c.policy.period?.end ?? 0 }, now) : null,
    error: r.ack?.outcome === 'error' ? (r.ack.error ?? null) : null,
    asOf: r.settledAtMs ?? null,
    sealed: seal ? { carries: seal.type === 'consent.revoke' ? 'revocation' : 'grant', arrived } : null,
  };
}

function isStoredStatus(v: unknown): v is 'active' | 'revoked' {
  return v === 'active' || v === 'revoked';
}

function statusAt(status: 'active' | 'revoked', period: { start: number; end: number }, now: number): ConsentStatus {
  if (status === 'revoked') return 'revoked';
  if (now < period.start) return 'pending';
  if (now >= period.end) return 'expired';
  return 'active';
}

/** Every packet this chain sent, on every route (consent packets are few next to the consents they carry; an index would be the next step if that changes). */
async function sentOnEveryRoute(chaincode: Chaincode): Promise<SentPacketRecord[]> {
  const sent: SentPacketRecord[] = [];
  for (const route of await chaincode.crossChain.listRoutes()) sent.push(...(await allPages((p) => chaincode.crossChain.listPackets(route.routeId, { pageSize: 200, bookmark: p.bookmark }))));
  return sent;
}

/** A page of the patient's public consents on this chain, each with where it was carried and its state there. */
export async function consentsOnEveryChain(chaincode: Chaincode, patientId: string, page: PageRequest, now: number = Date.now()): Promise<Page<ConsentAcrossChains>> {
  const local = await chaincode.consent.listConsentsByPatient(patientId, page);
  if (local.items.length === 0) return { items: [], bookmark: local.bookmark };
  return { items: consentsAcrossChains(local.items, await sentOnEveryRoute(chaincode), now), bookmark: local.bookmark };
}

/**
 * The patient's consents this hospital keeps privately, each with the chains it was sealed to
 * and the state there (read on this hospital's own peer: its collection holds the consents and
 * their seals).
 */
export async function keptConsentsOnEveryChain(chaincode: Chaincode, patientId: string, now: number = Date.now()): Promise<{ keeper: string; items: ConsentAcrossChains[] }> {
  const kept = await chaincode.consent.listPrivateConsents(patientId);
  const seals = new Map<string, SealOf>();
  for (const c of kept.items) for (const s of (await chaincode.consent.listConsentSeals(c.consentId)).items) seals.set(s.ref, { consentId: s.consentId, type: s.type });
  const sent = seals.size === 0 ? [] : await sentOnEveryRoute(chaincode);
  return { keeper: kept.keeper, items: consentsAcrossChains(kept.items, sent, now, seals) };
}

/**
 * The chains a consent was carried to, from this chain's own records: a public consent's sent
 * packets, or a kept consent's seals. What a revocation is carried to, so that taking a consent
 * back reaches every chain that holds a copy.
 */
export async function chainsCarriedTo(chaincode: Chaincode, consent: ConsentWithStatus): Promise<string[]> {
  if (consent.grant.message.keeper !== undefined) {
    return [...new Set((await chaincode.consent.listConsentSeals(consent.consentId)).items.map((s) => s.destChain))].sort();
  }
  const sent = (await sentOnEveryRoute(chaincode)).filter((r) => consentIdOfPacket(r, new Map()) === consent.consentId);
  return [...new Set(sent.map((r) => r.packet.destChain))].sort();
}
