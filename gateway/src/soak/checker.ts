/**
 * The soak's checker: decides over a SoakHistory (history.ts) whether the run kept the
 * protocol's promises, Jepsen-style: the history is what the clients and both ledgers say
 * at the end, the rules below are the invariants, and every broken one is a violation with
 * its own code. Pure: no network, so a unit test feeds it a history with a duplicate, a gap
 * or a lost revocation and sees it fail.
 *
 * Per direction of the route (source -> dest):
 *   DUPLICATE_DELIVERY     a sequence received (or recorded timed out) by more than one event
 *   DUPLICATE_SETTLEMENT   a sequence acknowledged or timed out on the source more than once
 *   SEQUENCE_GAP           the source's or the destination's sequences are not 1..n without a hole
 *   LOST_PACKET            a packet on the source ledger with no receipt on the destination
 *   UNSETTLED              a packet still `sent` on the source after the drain
 *   HASH_MISMATCH          a receipt whose packet hash is not the source's commitment
 *   OUTCOME_MISMATCH       source status and destination outcome disagree
 *   SEND_NOT_ON_LEDGER     a send the client saw committed that the source ledger does not hold
 *   UNEXPLAINED_PACKET     more packets on the ledger than sends committed or of unknown outcome
 *   CHECKPOINT_AHEAD       the relay's checkpoint is past the source's height
 *   CHECKPOINT_PASSED_UNDELIVERED  a packet sent before the checkpoint has no receipt
 * Across the run:
 *   NOT_DRAINED            the relay stopped settling before every packet was settled (liveness;
 *                          the packets it left show as LOST_PACKET / UNSETTLED as well)
 *   REVOCATION_NOT_IN_FORCE  a revocation sent whose consent does not read revoked where it was sent
 *   FEE_STUCK / FEE_MISMATCH / VALUE_NOT_CONSERVED  escrows not settled with their packet, payouts
 *                          not adding up, supply or escrowed totals that moved
 *   SERVED_WITHOUT_LOG     a record served with no allowed access-log entry for its transaction
 *   FAULT_NOT_INJECTED     a scheduled fault that could not be injected (the run proves less)
 * The hospital API (when it served under the load):
 *   API_HANG               a request answered later than the bound, or never
 *   API_SERVER_ERROR       a 5xx other than a clear refusal (503 UNAVAILABLE / 504 TIMEOUT with its code)
 *   API_UNREACHABLE        no answer (refused, reset) while the API process was not down
 *   API_GRANT_NOT_ON_LEDGER  a grant the API acknowledged (or a retry found there) with no ConsentGranted
 *   API_GRANT_DUPLICATED   a grant applied more than once (two ConsentGranted events)
 *   API_GRANT_UNEXPLAINED  a grant on the ledger that was refused, or never submitted, through the API
 *   API_REVOCATION_NOT_IN_FORCE  a revocation the API acknowledged whose consent does not read revoked
 */
import type { ApiHistory, DirectionHistory, SoakHistory } from './history';

export interface Violation {
  code:
    | 'DUPLICATE_DELIVERY'
    | 'DUPLICATE_SETTLEMENT'
    | 'SEQUENCE_GAP'
    | 'LOST_PACKET'
    | 'UNSETTLED'
    | 'HASH_MISMATCH'
    | 'OUTCOME_MISMATCH'
    | 'SEND_NOT_ON_LEDGER'
    | 'UNEXPLAINED_PACKET'
    | 'CHECKPOINT_AHEAD'
    | 'CHECKPOINT_PASSED_UNDELIVERED'
    | 'REVOCATION_NOT_IN_FORCE'
    | 'FEE_STUCK'
    | 'FEE_MISMATCH'
    | 'VALUE_NOT_CONSERVED'
    | 'SERVED_WITHOUT_LOG'
    | 'FAULT_NOT_INJECTED'
    | 'NOT_DRAINED'
    | 'API_HANG'
    | 'API_SERVER_ERROR'
    | 'API_UNREACHABLE'
    | 'API_GRANT_NOT_ON_LEDGER'
    | 'API_GRANT_DUPLICATED'
    | 'API_GRANT_UNEXPLAINED'
    | 'API_REVOCATION_NOT_IN_FORCE';
  message: string;
}

export interface SoakCounts {
  /** Packets on the source ledgers (all directions). */
  sent: number;
  /** Sends the clients saw committed, failed, or never heard back about. */
  clientCommitted: number;
  clientFailed: number;
  clientUnknown: number;
  /** Receipts with outcome success or error (error: the handler refused; still delivered once). */
  delivered: number;
  errorAcks: number;
  /** Source packets acknowledged (success or error acknowledgement). */
  acknowledged: number;
  timedOut: number;
  duplicates: number;
  lost: number;
  revocations: number;
  revocationsInForce: number;
  /** Longest time from a revocation's send (source tx time) to its receipt (destination tx time). */
  maxRevocationMs: number;
  /** Per direction (`<source>-><dest>`): packets sent, delivered, acknowledged, duplicates, lost. */
  byDirection: Record<string, { route: string; sent: number; delivered: number; acknowledged: number; duplicates: number; lost: number }>;
  served: number;
  /** Records served through the hospital API (part of `served`). */
  servedViaApi: number;
  /** Hospital API requests: answered 2xx, refused with a code (4xx, 503/504), not answered. */
  api: { calls: number; ok: number; refused: number; unanswered: number; grantsAcknowledged: number; grantsOnLedger: number; revocationsInForce: number };
  faults: Record<string, number>;
  faultsFailed: number;
}

export interface CheckResult {
  ok: boolean;
  counts: SoakCounts;
  violations: Violation[];
}

const SETTLES: Record<string, string> = { success: 'acknowledged', error: 'failed', timeout: 'timed-out' };

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

/** 1..n without a hole or a repeat: the first offending sequence, or undefined. */
function firstGap(sequences: readonly number[]): number | undefined {
  const sorted = [...sequences].sort((x, y) => x - y);
  for (let i = 0; i < sorted.length; i++) if (sorted[i] !== i + 1) return i + 1;
  return undefined;
}

function checkDirection(d: DirectionHistory, v: Violation[], counts: SoakCounts): void {
  const at = `${d.source} -> ${d.dest} ${d.routeId}`;
  const arrivals = countBy(
    d.events.filter((e) => e.name === 'PacketReceived' || e.name === 'PacketTimeoutRecorded'),
    (e) => String(e.sequence),
  );
  const settlements = countBy(
    d.events.filter((e) => e.name === 'PacketAcknowledged' || e.name === 'PacketTimedOut'),
    (e) => String(e.sequence),
  );
  for (const [seq, n] of arrivals) {
    if (n > 1) {
      counts.duplicates += n - 1;
      v.push({ code: 'DUPLICATE_DELIVERY', message: `${at} #${seq} arrived ${n} times on ${d.dest}` });
    }
  }
  for (const [seq, n] of settlements) {
    if (n > 1) {
      counts.duplicates += n - 1;
      v.push({ code: 'DUPLICATE_SETTLEMENT', message: `${at} #${seq} settled ${n} times on ${d.source}` });
    }
  }

  const sentGap = firstGap(d.sent.map((p) => p.sequence));
  if (sentGap !== undefined) v.push({ code: 'SEQUENCE_GAP', message: `${at}: sequence ${sentGap} missing or repeated on ${d.source}` });
  const recvGap = firstGap(d.received.map((r) => r.sequence));
  if (recvGap !== undefined) v.push({ code: 'SEQUENCE_GAP', message: `${at}: sequence ${recvGap} missing or repeated on ${d.dest}` });

  const receipts = new Map(d.received.map((r) => [r.sequence, r]));
  for (const p of d.sent) {
    counts.sent += 1;
    if (p.status === 'acknowledged' || p.status === 'failed') counts.acknowledged += 1;
    if (p.status === 'timed-out') counts.timedOut += 1;
    const r = receipts.get(p.sequence);
    if (!r) {
      counts.lost += 1;
      v.push({ code: 'LOST_PACKET', message: `${at} #${p.sequence} (${p.type}, tx ${p.txId}) has no receipt on ${d.dest}` });
      continue;
    }
    if (r.packetHash !== p.packetHash) v.push({ code: 'HASH_MISMATCH', message: `${at} #${p.sequence}: receipt for ${r.packetHash}, sent ${p.packetHash}` });
    if (p.status === 'sent') v.push({ code: 'UNSETTLED', message: `${at} #${p.sequence} received (${r.outcome}) but still unsettled on ${d.source}` });
    else if (SETTLES[r.outcome] !== p.status) v.push({ code: 'OUTCOME_MISMATCH', message: `${at} #${p.sequence}: ${d.dest} says ${r.outcome}, ${d.source} says ${p.status}` });
    if (r.outcome !== 'timeout') counts.delivered += 1;
    if (r.outcome === 'error') counts.errorAcks += 1;
    if (p.type === 'consent.revoke' && r.outcome === 'success') counts.maxRevocationMs = Math.max(counts.maxRevocationMs, r.receivedAtMs - p.sentAtMs);
  }
  const sentSeqs = new Set(d.sent.map((p) => p.sequence));
  for (const r of d.received) {
    if (!sentSeqs.has(r.sequence)) v.push({ code: 'UNEXPLAINED_PACKET', message: `${at} #${r.sequence} received on ${d.dest} but not sent on ${d.source}` });
  }

  const onLedger = new Set(d.sent.map((p) => p.txId));
  let committed = 0;
  let maybe = 0;
  for (const s of d.sends) {
    if (s.outcome === 'committed') {
      committed += 1;
      counts.clientCommitted += 1;
      if (!s.txId || !onLedger.has(s.txId)) v.push({ code: 'SEND_NOT_ON_LEDGER', message: `${at}: ${s.type} of ${s.consentId} committed (tx ${s.txId ?? '?'}) but not on ${d.source}` });
    } else if (s.outcome === 'unknown') {
      maybe += 1;
      counts.clientUnknown += 1;
    } else counts.clientFailed += 1;
  }
  if (d.sent.length > committed + maybe) v.push({ code: 'UNEXPLAINED_PACKET', message: `${at}: ${d.sent.length} packets on ${d.source}, only ${committed} sends committed and ${maybe} unknown` });

  if (d.checkpoint) {
    const { nextBlock, sourceHeight } = d.checkpoint;
    if (nextBlock > sourceHeight) v.push({ code: 'CHECKPOINT_AHEAD', message: `${at}: relay checkpoint at block ${nextBlock}, ${d.source} height ${sourceHeight}` });
    for (const e of d.events) {
      if (e.name === 'PacketSent' && e.blockNumber < nextBlock && !receipts.has(e.sequence)) {
        v.push({ code: 'CHECKPOINT_PASSED_UNDELIVERED', message: `${at} #${e.sequence} sent in block ${e.blockNumber}, behind the checkpoint (${nextBlock}), not received` });
      }
    }
  }
}

/** 5xx answers that are a clear refusal: the API's network (a peer, the orderers) is down or slow. */
const CLEAR_5XX: Record<number, string> = { 503: 'UNAVAILABLE', 504: 'TIMEOUT' };

function checkApi(api: ApiHistory, v: Violation[], counts: SoakCounts): void {
  const c = counts.api;
  for (const call of api.calls) {
    c.calls += 1;
    const what = `API ${call.op} (${(call.ms / 1000).toFixed(1)} s)`;
    if (call.status === undefined) {
      c.unanswered += 1;
      if (call.transport === 'timeout' || call.ms > api.boundMs) v.push({ code: 'API_HANG', message: `${what}: no answer within ${(api.boundMs / 1000).toFixed(0)} s` });
      else if (!call.apiDown) v.push({ code: 'API_UNREACHABLE', message: `${what}: ${call.transport ?? 'no answer'} while the API process was up` });
      continue;
    }
    if (call.ms > api.boundMs) v.push({ code: 'API_HANG', message: `${what}: answered ${call.status} after the ${(api.boundMs / 1000).toFixed(0)} s bound` });
    if (call.status < 300) c.ok += 1;
    else if (call.status < 500 && call.code) c.refused += 1;
    else if (call.status >= 500 && call.code !== undefined && CLEAR_5XX[call.status] === call.code) c.refused += 1;
    else v.push({ code: 'API_SERVER_ERROR', message: `${what}: ${call.status} ${call.code ?? '(no error code)'}` });
  }
  const events = countBy(api.granted, (g) => g.consentId);
  const submitted = new Map(api.grants.map((g) => [g.consentId, g]));
  for (const g of api.grants) {
    const n = events.get(g.consentId) ?? 0;
    if (g.outcome === 'acknowledged') c.grantsAcknowledged += 1;
    if (n > 1) v.push({ code: 'API_GRANT_DUPLICATED', message: `consent ${g.consentId} (${g.outcome} by the API) granted ${n} times on the ledger` });
    if (n >= 1) c.grantsOnLedger += 1;
    if ((g.outcome === 'acknowledged' || g.outcome === 'exists') && n === 0) v.push({ code: 'API_GRANT_NOT_ON_LEDGER', message: `consent ${g.consentId} ${g.outcome === 'exists' ? 'found there by a retry' : `acknowledged by the API (tx ${g.txId ?? '?'})`} has no ConsentGranted on the ledger` });
    if (g.outcome === 'refused' && n > 0) v.push({ code: 'API_GRANT_UNEXPLAINED', message: `consent ${g.consentId} refused by the API is granted on the ledger` });
    if (g.revoked) {
      if (g.ledgerStatus === 'revoked') c.revocationsInForce += 1;
      else v.push({ code: 'API_REVOCATION_NOT_IN_FORCE', message: `consent ${g.consentId}: revocation acknowledged by the API, reads ${g.ledgerStatus ?? 'absent'} on the ledger` });
    }
  }
  for (const [consentId] of events) {
    if (!submitted.has(consentId)) v.push({ code: 'API_GRANT_UNEXPLAINED', message: `consent ${consentId} of an API patient granted on the ledger but never submitted through the API` });
  }
}

export function checkSoak(h: SoakHistory): CheckResult {
  const v: Violation[] = [];
  const counts: SoakCounts = {
    sent: 0,
    clientCommitted: 0,
    clientFailed: 0,
    clientUnknown: 0,
    delivered: 0,
    errorAcks: 0,
    acknowledged: 0,
    timedOut: 0,
    duplicates: 0,
    lost: 0,
    revocations: h.revocations.length,
    revocationsInForce: 0,
    maxRevocationMs: 0,
    byDirection: {},
    served: h.served.length,
    servedViaApi: h.served.filter((s) => s.via === 'api').length,
    api: { calls: 0, ok: 0, refused: 0, unanswered: 0, grantsAcknowledged: 0, grantsOnLedger: 0, revocationsInForce: 0 },
    faults: {},
    faultsFailed: 0,
  };
  if (h.drain && !h.drain.complete) v.push({ code: 'NOT_DRAINED', message: `${h.drain.openAtEnd} packets unsettled when the relay stopped settling, ${(h.drain.ms / 1000).toFixed(0)} s into the drain` });
  for (const d of h.directions) {
    const before = { sent: counts.sent, delivered: counts.delivered, acknowledged: counts.acknowledged, duplicates: counts.duplicates, lost: counts.lost };
    checkDirection(d, v, counts);
    counts.byDirection[`${d.source}->${d.dest}`] = {
      route: d.routeId,
      sent: counts.sent - before.sent,
      delivered: counts.delivered - before.delivered,
      acknowledged: counts.acknowledged - before.acknowledged,
      duplicates: counts.duplicates - before.duplicates,
      lost: counts.lost - before.lost,
    };
  }

  for (const r of h.revocations) {
    if (r.destStatus === 'revoked') counts.revocationsInForce += 1;
    else v.push({ code: 'REVOCATION_NOT_IN_FORCE', message: `consent ${r.consentId} revoked on ${r.source} reads ${r.destStatus ?? 'absent'} on ${r.dest}` });
  }

  if (h.fees) {
    const f = h.fees;
    let held = 0;
    for (const e of f.escrows) {
      const at = `${f.chain} ${e.routeId} #${e.sequence}`;
      if (!e.escrow) {
        v.push({ code: 'FEE_MISMATCH', message: `${at}: no fee escrow for a packet sent with value transfer on` });
        continue;
      }
      const want = e.packetStatus === 'timed-out' ? 'refunded' : e.packetStatus === 'sent' ? 'held' : 'paid';
      if (e.escrow.status === 'held') held += e.escrow.amount;
      if (e.escrow.status === 'held' && e.packetStatus !== 'sent') v.push({ code: 'FEE_STUCK', message: `${at}: fee ${e.escrow.amount} still held for a ${e.packetStatus} packet` });
      else if (e.escrow.status !== want) v.push({ code: 'FEE_MISMATCH', message: `${at}: escrow ${e.escrow.status} for a ${e.packetStatus} packet` });
      if (e.escrow.status !== 'held' && e.escrow.paidOut !== e.escrow.amount) v.push({ code: 'FEE_MISMATCH', message: `${at}: paid out ${e.escrow.paidOut} of ${e.escrow.amount}` });
    }
    if (f.after.supply !== f.before.supply) v.push({ code: 'VALUE_NOT_CONSERVED', message: `${f.chain}: supply ${f.before.supply} -> ${f.after.supply} during the run` });
    if (f.after.escrowed - f.before.escrowed !== held) v.push({ code: 'VALUE_NOT_CONSERVED', message: `${f.chain}: escrowed ${f.before.escrowed} -> ${f.after.escrowed}, but the run's escrows hold ${held}` });
    if (f.after.escrowed < 0) v.push({ code: 'VALUE_NOT_CONSERVED', message: `${f.chain}: escrowed total ${f.after.escrowed} is negative` });
  }

  const logged = new Set(h.accessLog.filter((e) => e.allowed).map((e) => `${e.patientId}/${e.recordId}/${e.txId}`));
  for (const s of h.served) {
    if (!logged.has(`${s.patientId}/${s.recordId}/${s.txId}`)) v.push({ code: 'SERVED_WITHOUT_LOG', message: `record ${s.recordId} of ${s.patientId} served${s.via === 'api' ? ' through the hospital API' : ''} (tx ${s.txId}) with no allowed access-log entry` });
  }
  if (h.api) checkApi(h.api, v, counts);

  for (const f of h.faults) {
    counts.faults[f.kind] = (counts.faults[f.kind] ?? 0) + (f.ok ? 1 : 0);
    if (!f.ok) {
      counts.faultsFailed += 1;
      v.push({ code: 'FAULT_NOT_INJECTED', message: `${f.kind} at t+${(f.atMs / 1000).toFixed(1)} s: ${f.detail}` });
    }
  }
  return { ok: v.length === 0, counts, violations: v };
}
