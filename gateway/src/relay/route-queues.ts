/**
 * Per-route delivery queues with one durable low-watermark over the source's event stream.
 *
 * The relay reads one ordered stream of chaincode events from the source chain, but a
 * packet that cannot be delivered (its route paused, its destination subgroup below
 * threshold) must not hold up the packets of other routes. So each route gets its own
 * queue, drained by its own worker, strictly in stream order (delivery within a route stays
 * ordered: the destination refuses anything else with OUT_OF_ORDER).
 *
 * The checkpoint is a low-watermark: it may only move past an event once that event AND
 * every event before it in the stream are durably handled. Events of different routes
 * finish out of order, so `Watermark` keeps the events in flight in stream order and
 * reports the last event of the fully handled prefix. After a kill -9 the stream resumes
 * after that event: events handled beyond the watermark are seen again and found already
 * done on the ledger (every relay step is idempotent), none is ever skipped.
 */

/**
 * Where an event sits in the source stream (block, then position of its transaction in the
 * block). One transaction sets one chaincode event; a batch event (SendPackets' PacketsSent)
 * is read as one event per item, `item` of `items`, all at the transaction's position.
 */
export interface StreamPosition {
  blockNumber: bigint;
  transactionId: string;
  item?: number;
  items?: number;
}

/** Identity of a transaction's place in the stream (what the checkpoint records). */
export function positionKey(p: StreamPosition): string {
  return `${p.blockNumber.toString()}/${p.transactionId}`;
}

function itemKey(p: StreamPosition): string {
  return `${positionKey(p)}#${p.item ?? 0}`;
}

interface Entry {
  position: StreamPosition;
  /** Items of the transaction's event not yet handled (1 for a plain event). */
  remaining: number;
  /** Items read (a reconnected stream delivers them again) and items handled. */
  items: Set<string>;
  handled: Set<string>;
}

/**
 * The events read from the stream and not yet covered by the checkpoint, in stream order.
 * `track` in the order the stream delivers; `complete` in any order; `complete` returns the
 * new checkpoint position when the handled prefix grew, otherwise undefined. The checkpoint
 * names transactions, so a batch event's transaction is behind it only once EVERY item is
 * handled: its count comes with its first item, and an item handled before the next one is
 * read does not let the checkpoint pass the transaction.
 */
export class Watermark {
  private readonly entries: Entry[] = [];
  private readonly byKey = new Map<string, Entry>();

  private events = 0;

  /** Events (items of batch events) read but not yet behind the checkpoint: what the relay holds in memory. */
  get size(): number {
    return this.events;
  }

  /** Transactions not yet handled. */
  get pending(): number {
    let n = 0;
    for (const e of this.entries) if (e.remaining > 0) n += 1;
    return n;
  }

  /** Whether the event (the item of a batch event) is already in flight (a reconnected stream delivers it again). */
  has(p: StreamPosition): boolean {
    return this.byKey.get(positionKey(p))?.items.has(itemKey(p)) ?? false;
  }

  /** Registers an event just read from the stream. Returns false if it is already tracked. */
  track(p: StreamPosition): boolean {
    const k = positionKey(p);
    const known = this.byKey.get(k);
    if (known) {
      if (known.items.has(itemKey(p))) return false;
      known.items.add(itemKey(p));
      this.events += 1;
      return true;
    }
    const last = this.entries[this.entries.length - 1];
    if (last && p.blockNumber < last.position.blockNumber) {
      throw new Error(`event stream went back from block ${last.position.blockNumber} to ${p.blockNumber}`);
    }
    const items = p.items ?? 1;
    if (!Number.isSafeInteger(items) || items < 1) throw new Error(`event ${k} has ${items} items`);
    const e: Entry = { position: { blockNumber: p.blockNumber, transactionId: p.transactionId }, remaining: items, items: new Set([itemKey(p)]), handled: new Set() };
    this.entries.push(e);
    this.byKey.set(k, e);
    this.events += 1;
    return true;
  }

  /** Marks an event (an item) handled; returns the position the checkpoint may now move to, if it moved. */
  complete(p: StreamPosition): StreamPosition | undefined {
    const e = this.byKey.get(positionKey(p));
    if (!e || !e.items.has(itemKey(p))) throw new Error(`event ${itemKey(p)} was never tracked`);
    if (e.handled.has(itemKey(p))) return undefined;
    e.handled.add(itemKey(p));
    e.remaining -= 1;
    let advanced: StreamPosition | undefined;
    while (this.entries[0] && this.entries[0].remaining <= 0) {
      const head = this.entries.shift()!;
      this.byKey.delete(positionKey(head.position));
      this.events -= head.items.size;
      advanced = head.position;
    }
    return advanced;
  }
}

/**
 * The run at the head of `waiting` that one batch may carry: consecutive sequences, at most
 * `max`, each accepted by `fits` (a head that does not fit goes alone). Removes it from `waiting`.
 */
export function takeRun<T extends { packet: { sequence: number } }>(waiting: T[], max: number, fits: (item: T) => boolean = () => true): T[] {
  const first = waiting[0];
  if (!first) return [];
  let n = 1;
  if (fits(first)) {
    while (n < max && n < waiting.length) {
      const next = waiting[n]!;
      if (!fits(next) || next.packet.sequence !== first.packet.sequence + n) break;
      n += 1;
    }
  }
  return waiting.splice(0, n);
}

/** A job for one route: resolves when the event is durably handled; rejects only when the relay stops. */
export type RouteJob = () => Promise<void>;

/**
 * One serial queue per key (route id). Jobs of one key run one at a time in the order they
 * were pushed; different keys run concurrently. A job that never finishes blocks its key
 * only.
 */
export class RouteQueues {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly depth = new Map<string, number>();

  constructor(private readonly onError: (key: string, error: unknown) => void = () => undefined) {}

  /** Queued or running jobs per key (for status and tests). */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.depth].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Appends a job to `key`'s queue; the returned promise settles when that job has run. */
  push(key: string, job: RouteJob): Promise<void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    this.depth.set(key, (this.depth.get(key) ?? 0) + 1);
    const run = before.then(job).then(
      () => undefined,
      (e: unknown) => this.onError(key, e),
    );
    const tail = run.finally(() => {
      const left = (this.depth.get(key) ?? 1) - 1;
      if (left === 0) {
        this.depth.delete(key);
        if (this.tails.get(key) === tail) this.tails.delete(key);
      } else {
        this.depth.set(key, left);
      }
    });
    this.tails.set(key, tail);
    return tail;
  }

  /** Resolves when every job queued so far has run. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
