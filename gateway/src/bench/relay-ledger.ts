/**
 * What the relay benches read back: packets of a route received and acknowledged, from both
 * ledgers, and the relay's transactions by packets carried (its batch size histogram).
 */
import { allPages, type Chaincode } from '../fabric/contracts';
import type { Relay } from '../relay/relay';

/** Sequences of `routeId` in [from, to) that are acknowledged on chain-a, and receipts on chain-b (each counted once). */
export async function settledOnBoth(a: Chaincode, b: Chaincode, routeId: string, from: number, to: number): Promise<{ received: number; acknowledged: number; duplicates: number }> {
  const sent = await allPages((page) => a.crossChain.listPackets(routeId, page));
  const receipts = await allPages((page) => b.crossChain.listReceipts(routeId, page));
  const inStep = (s: number) => s >= from && s < to;
  const seen = new Map<number, number>();
  for (const r of receipts) if (inStep(r.sequence)) seen.set(r.sequence, (seen.get(r.sequence) ?? 0) + 1);
  const duplicates = [...seen.values()].filter((c) => c > 1).length;
  const acknowledged = sent.filter((p) => inStep(p.packet.sequence) && p.status === 'acknowledged').length;
  return { received: seen.size, acknowledged, duplicates };
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
