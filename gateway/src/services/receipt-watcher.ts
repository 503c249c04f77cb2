/**
 * Waits for packets to arrive on a destination chain, by its own events (PacketReceived,
 * PacketTimeoutRecorded) rather than by polling: `waitFor(route, sequence)` resolves with
 * the moment the receipt's block was delivered to this client, i.e. when the packet is
 * usable on that chain.
 */
import type { ChaincodeEvent, CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import { ClientError } from '../errors';
import type { FabricClient } from '../fabric/client';

export interface Arrival {
  routeId: string;
  sequence: number;
  outcome: string;
  event: string;
  txId: string;
  blockNumber: bigint;
  /** Date.now() when the event reached this client. */
  at: number;
  signers: unknown[];
}

export class ReceiptWatcher {
  private readonly arrived = new Map<string, Arrival>();
  private readonly waiters = new Map<string, Array<(a: Arrival) => void>>();
  private events?: CloseableAsyncIterable<ChaincodeEvent>;
  private loop?: Promise<void>;
  private failure?: unknown;

  constructor(
    private readonly client: FabricClient,
    private readonly channel: string,
  ) {}

  /** Starts listening from the next block (call before sending what you will wait for). */
  async start(startBlock?: bigint): Promise<void> {
    this.events = await this.client.connection.network(this.channel).getChaincodeEvents(this.client.profile.chaincode, startBlock === undefined ? {} : { startBlock });
    const events = this.events;
    this.loop = (async () => {
      try {
        for await (const e of events) {
          if (e.eventName !== 'PacketReceived' && e.eventName !== 'PacketTimeoutRecorded') continue;
          const body = JSON.parse(Buffer.from(e.payload).toString('utf8')) as { routeId: string; sequence: number; outcome: string; signers?: unknown[] };
          const a: Arrival = { routeId: body.routeId, sequence: body.sequence, outcome: body.outcome, event: e.eventName, txId: e.transactionId, blockNumber: e.blockNumber, at: Date.now(), signers: body.signers ?? [] };
          const k = `${a.routeId}/${a.sequence}`;
          this.arrived.set(k, a);
          for (const w of this.waiters.get(k) ?? []) w(a);
          this.waiters.delete(k);
        }
      } catch (e) {
        this.failure = e;
      }
    })();
  }

  /** Resolves when (routeId, sequence) has arrived; rejects after `timeoutMs`. */
  waitFor(routeId: string, sequence: number, timeoutMs = 120_000): Promise<Arrival> {
    const k = `${routeId}/${sequence}`;
    const done = this.arrived.get(k);
    if (done) return Promise.resolve(done);
    return new Promise((resolveWait, reject) => {
      const timer = setTimeout(() => {
        const why = this.failure ? `; event stream failed: ${String(this.failure)}` : '; is a relay running? (medbridge relay start)';
        reject(new ClientError('TIMEOUT', 'unavailable', `packet ${k} did not arrive on ${this.channel} within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      const list = this.waiters.get(k) ?? [];
      list.push((a) => {
        clearTimeout(timer);
        resolveWait(a);
      });
      this.waiters.set(k, list);
    });
  }

  async close(): Promise<void> {
    this.events?.close();
    await this.loop?.catch(() => undefined);
  }
}
