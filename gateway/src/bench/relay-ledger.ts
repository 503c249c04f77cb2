/**
 * What the relay benches read back: packets of a route received and acknowledged, from both
 * ledgers, and the relay's transactions by packets carried (its batch size histogram).
 */
import { toClientError } from '../errors';
import type { Chaincode } from '../fabric/contracts';
import type { Relay } from '../relay/relay';
import { sleep } from '../relay/backoff';

/**
 * Packets [from, to) of `routeId`, read one by one on both ledgers (point reads, sixteen at a
 * time: their cost does not grow with the route's history, as a listing's does): `received`
 * counts those whose receipt on chain-b is for the packet chain-a sent (same packet hash; a
 * receipt is stored once per sequence, a second delivery is refused, not stored), and
 * `acknowledged` those settled on chain-a with the acknowledgement that receipt holds.
 */
export async function settledOnBoth(a: Chaincode, b: Chaincode, routeId: string, from: number, to: number): Promise<{ received: number; acknowledged: number }> {
  let received = 0;
  let acknowledged = 0;
  let next = from;
  const one = async (sequence: number) => {
    const [sent, receipt] = await Promise.all([a.crossChain.getPacket(routeId, sequence), b.crossChain.getReceipt(routeId, sequence).catch(notFound)]);
    if (!receipt || receipt.packetHash !== sent.packetHash) return;
    received += 1;
    if (sent.status === 'acknowledged' && JSON.stringify(sent.ack) === JSON.stringify(receipt.ack)) acknowledged += 1;
  };
  await Promise.all(
    Array.from({ length: Math.min(16, Math.max(0, to - from)) }, async () => {
      while (next < to) await one(next++);
    }),
  );
  return { received, acknowledged };
}

function notFound(e: unknown): undefined {
  if (toClientError(e).code === 'NOT_FOUND') return undefined;
  throw e;
}

/**
 * Whether every packet of `routeId` below `to` looks settled, from two point reads: chain-b's
 * route expects `to` next, and chain-a's packet `to - 1` is acknowledged (the relay settles a
 * route's packets in sequence order). Two reads per route, so it can be polled often;
 * settledOnBoth, which reads every packet on both ledgers, is what confirms it.
 */
async function looksSettled(a: Chaincode, b: Chaincode, routeId: string, from: number, to: number): Promise<boolean> {
  if (to <= from) return true;
  if ((await b.crossChain.getRoute(routeId)).nextRecvSequence < to) return false;
  return (await a.crossChain.getPacket(routeId, to - 1)).status === 'acknowledged';
}

export interface Settlement {
  drained: boolean;
  /** performance.now() when the point reads first found every route settled (then confirmed), or when the wait gave up. */
  doneAt: number;
  received: number;
  acknowledged: number;
}

/**
 * Waits until the packets [base, top) of every route are received on chain-b and acknowledged
 * on chain-a, or `limitMs` after `startedAt`. Polls two point reads per route every `pollMs`
 * and times the drain by them; settledOnBoth then confirms every packet, off the clock (its
 * reads grow with the step's packets, and would otherwise time the reading, not the relay).
 */
export async function waitSettled(o: {
  a: Chaincode;
  b: Chaincode;
  routes: string[];
  base: ReadonlyMap<string, number>;
  tops: ReadonlyMap<string, number>;
  startedAt: number;
  limitMs: number;
  pollMs?: number;
}): Promise<Settlement> {
  const { a, b, routes, base, tops } = o;
  const sent = routes.reduce((s, r) => s + (tops.get(r)! - base.get(r)!), 0);
  const count = async () => {
    let received = 0;
    let acknowledged = 0;
    for (const r of routes) {
      const c = await settledOnBoth(a, b, r, base.get(r)!, tops.get(r)!);
      received += c.received;
      acknowledged += c.acknowledged;
    }
    return { received, acknowledged };
  };
  while (performance.now() - o.startedAt < o.limitMs) {
    const looks = await Promise.all(routes.map((r) => looksSettled(a, b, r, base.get(r)!, tops.get(r)!).catch(() => false)));
    const doneAt = performance.now();
    if (looks.every(Boolean)) {
      const c = await count();
      if (c.received === sent && c.acknowledged === sent) return { drained: true, doneAt, ...c };
    }
    await sleep(o.pollMs ?? 200);
  }
  return { drained: false, doneAt: performance.now(), ...(await count()) };
}

/** The relay's batch size histogram as cumulative counts per leg: bucket upper bound -> transactions, plus sum and count. */
export type BatchSnapshot = Record<string, { buckets: Map<number, number>; sum: number; count: number }>;

/**
 * Transactions per leg by packets carried, as ranges of the histogram's buckets ("1" is the
 * single path, "3-4" three or four packets), with their transaction and packet totals.
 */
export type BatchSizes = Record<string, { transactions: number; packets: number; sizes: Record<string, number> }>;

export async function batchSnapshot(relay: Pick<Relay, 'metrics'>): Promise<BatchSnapshot> {
  const out: BatchSnapshot = {};
  const leg = (stage: string) => (out[stage] ??= { buckets: new Map(), sum: 0, count: 0 });
  for (const v of (await relay.metrics.batchSize.get()).values) {
    const labels = v.labels as Record<string, string | number | undefined>;
    const stage = String(labels.stage);
    if (v.metricName?.endsWith('_bucket') && labels.le !== '+Inf') leg(stage).buckets.set(Number(labels.le), v.value);
    else if (v.metricName?.endsWith('_sum')) leg(stage).sum = v.value;
    else if (v.metricName?.endsWith('_count')) leg(stage).count = v.value;
  }
  return out;
}

/** What the relay did between two snapshots. */
export function batchesBetween(before: BatchSnapshot, after: BatchSnapshot): BatchSizes {
  const out: BatchSizes = {};
  for (const stage of Object.keys(after).sort()) {
    const a = after[stage]!;
    const b = before[stage];
    const sizes: Record<string, number> = {};
    let below = 0;
    let lowerBound = 0;
    for (const le of [...a.buckets.keys()].sort((x, y) => x - y)) {
      const cumulative = a.buckets.get(le)! - (b?.buckets.get(le) ?? 0);
      const n = cumulative - below;
      if (n > 0) sizes[lowerBound + 1 === le ? String(le) : `${lowerBound + 1}-${le}`] = n;
      below = cumulative;
      lowerBound = le;
    }
    out[stage] = { transactions: a.count - (b?.count ?? 0), packets: a.sum - (b?.sum ?? 0), sizes };
  }
  return out;
}
