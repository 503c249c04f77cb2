/**
 * Waits on a chain's own packet events instead of polling: start it before sending, then
 * `waitFor(route, sequence)` resolves with the event's entry when its block reaches this client.
 * ReceiptWatcher (destination: received or timed out) and SettlementWatcher (source:
 * acknowledged or timed out) are the two uses.
 */
import type { ChaincodeEventName } from '@medbridge/chaincode';
import { ClientError } from '../errors';
import type { ChaincodeEvent, Chaincode, EventStream } from '../fabric/contracts';

export interface PacketEventEntry {
  routeId: string;
  sequence: number;
}

export class PacketEventWatcher<N extends ChaincodeEventName, T extends PacketEventEntry> {
  private readonly seen = new Map<string, T>();
  private readonly waiters = new Map<string, Array<(entry: T) => void>>();
  private events?: EventStream<ChaincodeEvent<N>>;
  private loop?: Promise<void>;
  private failure?: unknown;

  /**
   * @param eventNames the chaincode events that settle a (route, sequence)
   * @param toEntry reads an event into an entry; undefined skips it
   * @param outcome how a timeout message says what did not happen, e.g. "did not arrive"
   */
  constructor(
    protected readonly chaincode: Chaincode,
    private readonly eventNames: readonly N[],
    private readonly toEntry: (event: ChaincodeEvent<N>) => T | undefined,
    private readonly outcome: string,
  ) {}

  get channel(): string {
    return this.chaincode.channel;
  }

  /** Starts listening from `startBlock`, or from the next block. */
  async start(startBlock?: bigint): Promise<void> {
    const events = await this.chaincode.events({ names: this.eventNames, ...(startBlock === undefined ? {} : { startBlock }) });
    this.events = events;
    this.loop = (async () => {
      try {
        for await (const e of events) {
          const entry = this.toEntry(e);
          if (!entry) continue;
          const k = `${entry.routeId}/${entry.sequence}`;
          this.seen.set(k, entry);
          for (const w of this.waiters.get(k) ?? []) w(entry);
          this.waiters.delete(k);
        }
      } catch (e) {
        this.failure = e;
      }
    })();
  }

  /** Resolves when (routeId, sequence) has been seen; rejects after `timeoutMs`. */
  waitFor(routeId: string, sequence: number, timeoutMs = 120_000): Promise<T> {
    const k = `${routeId}/${sequence}`;
    const done = this.seen.get(k);
    if (done) return Promise.resolve(done);
    return new Promise((resolveWait, reject) => {
      const timer = setTimeout(() => {
        const why = this.failure ? `; event stream failed: ${String(this.failure)}` : '; is a relay running? (medbridge relay start)';
        reject(new ClientError('TIMEOUT', 'unavailable', `packet ${k} ${this.outcome} on ${this.channel} within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      const list = this.waiters.get(k) ?? [];
      list.push((entry) => {
        clearTimeout(timer);
        resolveWait(entry);
      });
      this.waiters.set(k, list);
    });
  }

  async close(): Promise<void> {
    this.events?.close();
    await this.loop?.catch(() => undefined);
  }
}
