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
}

export type ConsentAcrossChains = ConsentWithStatus & { chains: ConsentOnChain[] };

const CONSENT_PACKET_TYPES = new Set(['consent.grant', 'consent.revoke']);

/**
 * Pure: for each consent, the latest packet sent for it to each destination chain, with what
 * the acknowledgement says. Chains in id order.
 */
export function consentsAcrossChains(consents: ConsentWithStatus[], sent: SentPacketRecord[], now: number): ConsentAcrossChains[] {
  const latest = new Map<string, Map<string, SentPacketRecord>>();
  for (const r of sent) {
    const consentId = consentIdOfPacket(r);
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
    const chains = [...byChain.values()].sort((a, b) => (a.packet.destChain < b.packet.destChain ? -1 : 1)).map((r) => onChain(r, c, now));
    return { ...c, chains };
  });
}

function consentIdOfPacket(r: SentPacketRecord): string | undefined {
  if (!CONSENT_PACKET_TYPES.has(r.packet.type)) return undefined;
  const payload = r.packet.payload as { consentId?: unknown } | null;
  return payload !== null && typeof payload === 'object' && typeof payload.consentId === 'string' ? payload.consentId : undefined;
}

function onChain(r: SentPacketRecord, c: ConsentWithStatus, now: number): ConsentOnChain {
  const result = r.ack?.outcome === 'success' ? (r.ack.result as { status?: unknown; version?: unknown } | undefined) : undefined;
  const status = result?.status;
  const version = result?.version;
  const mirror: ConsentOnChain['mirror'] = isStoredStatus(status) && typeof version === 'number' ? { status, version } : null;
  return {
    chainId: r.packet.destChain,
    routeId: r.packet.routeId,
    sequence: r.packet.sequence,
    packetType: r.packet.type,
    delivery: r.status,
    mirror,
    effectiveStatus: mirror ? statusAt(mirror.status, 'terms' in c ? c.terms.period : { start: c.policy.period?.start ?? 0, end: c.policy.period?.end ?? 0 }, now) : null,
    error: r.ack?.outcome === 'error' ? (r.ack.error ?? null) : null,
    asOf: r.settledAtMs ?? null,
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

/**
 * A page of the patient's consents on this chain, each with where it was carried and its state
 * there. Reads every packet this chain sent on every route (consent packets are few next to
 * the consents they carry; an index would be the next step if that changes).
 */
export async function consentsOnEveryChain(chaincode: Chaincode, patientId: string, page: PageRequest, now: number = Date.now()): Promise<Page<ConsentAcrossChains>> {
  const local = await chaincode.consent.listConsentsByPatient(patientId, page);
  if (local.items.length === 0) return { items: [], bookmark: local.bookmark };
  const routes = await chaincode.crossChain.listRoutes();
  const sent: SentPacketRecord[] = [];
  for (const route of routes) sent.push(...(await allPages((p) => chaincode.crossChain.listPackets(route.routeId, { pageSize: 200, bookmark: p.bookmark }))));
  return { items: consentsAcrossChains(local.items, sent, now), bookmark: local.bookmark };
}
