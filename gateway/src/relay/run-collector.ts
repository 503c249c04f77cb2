/**
 * Group commit across routes (chaincode/PROTOCOL.md "Batches"): the relay's route jobs offer
 * their ready runs here instead of each proving its own. At most `slots` attempts are in
 * flight; runs offered while every slot is busy wait, and the next free slot carries as many of
 * them as fit (`maxItems` items in all, whole runs) under one proof and one transaction. Over
 * many routes, where each route holds one packet at a time, this is what lets batches form.
 *
 * Each route has at most one run offered at a time (its job waits for the outcome), so a batch
 * never holds two runs of a route and per-route order is kept. An attempt is ONE try: the
 * relay's `carry` never retries, and a run whose attempt failed goes back to its route's own
 * path (single packets, with retries), so a packet that cannot be delivered holds up its own
 * route only, never a slot.
 */
export interface OfferedRun<T> {
  routeId: string;
  items: T[];
}

/**
 * Carries runs of several routes (route-id order) in one attempt: the outcome of each run, same
 * order, or undefined when the attempt did not apply (every run then takes its own path).
 */
export type CarryRuns<T, R> = (runs: OfferedRun<T>[]) => Promise<R[] | undefined>;

interface Waiting<T, R> {
  run: OfferedRun<T>;
  resolve: (outcome: R | undefined) => void;
  reject: (error: unknown) => void;
}

export class RunCollector<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private busy = 0;
  private scheduled = false;

  constructor(
    private readonly slots: number,
    private readonly maxItems: number,
    private readonly carry: CarryRuns<T, R>,
  ) {}

  /** Attempts in flight (for status and tests). */
  get inFlight(): number {
    return this.busy;
  }

  /**
   * Offers a route's run; resolves with its outcome once the attempt that carried it is over
   * (undefined: not applied), rejects with what `carry` threw (the relay stopping).
   */
  offer(routeId: string, items: T[]): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ run: { routeId, items }, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Fills free slots after the current turn of the event loop, not at once: the runs offered in
   * the same turn (a burst of events read together, the routes an attempt that just ended set
   * free to offer their next run) then go in one attempt. One turn, no timer: a run offered
   * alone still leaves at once.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.busy < this.slots && this.waiting.length > 0) {
      const taken = this.take();
      this.busy += 1;
      this.carry(taken.map((w) => w.run))
        .then(
          (outcomes) => taken.forEach((w, i) => w.resolve(outcomes?.[i])),
          (e: unknown) => taken.forEach((w) => w.reject(e)),
        )
        .finally(() => {
          this.busy -= 1;
          this.schedule();
        });
    }
  }

  /** The waiting runs one attempt carries: oldest first while they fit, then in route-id order. */
  private take(): Waiting<T, R>[] {
    const taken: Waiting<T, R>[] = [];
    let items = 0;
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      if (taken.length > 0 && items + w.run.items.length > this.maxItems) {
        i += 1;
        continue;
      }
      taken.push(w);
      items += w.run.items.length;
      this.waiting.splice(i, 1);
    }
    return taken.sort((a, b) => (a.run.routeId < b.run.routeId ? -1 : a.run.routeId > b.run.routeId ? 1 : 0));
  }
}
