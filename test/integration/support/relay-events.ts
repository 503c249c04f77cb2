/**
 * Helpers of the relay integration tests: chaincode event counters with waiters, and reading
 * the relay's health and Prometheus metrics.
 */
import { get } from 'node:http';
import type { ChaincodeEvent, Chaincode, EventStream } from '../../../gateway/src/fabric/contracts';
import { CrossChainAdmin } from '../../../gateway/src/services/crosschain-admin';

/** How long a relay test waits for one chain event or one relay condition. */
export const WAIT_MS = 150_000;

/** Opens (or finds open) a chain-a <-> chain-b route carrying pings, by both chains' governance. */
export async function ensurePingRoute(routeId: string): Promise<void> {
  const admin = new CrossChainAdmin();
  try {
    await admin.ensureRoute('chain-a', 'chain-b', routeId, ['ping']);
  } finally {
    admin.close();
  }
}

/** Counts chaincode events by (name, routeId, sequence) on one channel and resolves waiters. */
export class Events {
  readonly counts = new Map<string, number>();
  /** Block of the first event seen per (name, routeId, sequence). */
  readonly blocks = new Map<string, bigint>();
  private readonly waiters = new Map<string, () => void>();
  private events?: EventStream<ChaincodeEvent>;

  constructor(
    private readonly chaincode: Chaincode,
    private readonly routes: string[],
  ) {}

  private get channel(): string {
    return this.chaincode.channel;
  }

  async start(): Promise<void> {
    const events = await this.chaincode.events();
    this.events = events;
    void (async () => {
      try {
        for await (const e of events) {
          const body = e.payload as { routeId?: string; sequence?: number };
          if (!body.routeId || !this.routes.includes(body.routeId)) continue;
          const k = `${e.name}/${body.routeId}/${body.sequence}`;
          this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
          if (!this.blocks.has(k)) this.blocks.set(k, e.blockNumber);
          this.waiters.get(k)?.();
        }
      } catch {
        // closed
      }
    })();
  }

  waitFor(name: string, routeId: string, sequence: number): Promise<void> {
    const k = `${name}/${routeId}/${sequence}`;
    if (this.counts.has(k)) return Promise.resolve();
    return new Promise((resolveWait, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${k} on ${this.channel} within ${WAIT_MS} ms`)), WAIT_MS);
      this.waiters.set(k, () => {
        clearTimeout(t);
        resolveWait();
      });
    });
  }

  close(): void {
    this.events?.close();
  }
}

/** Status and body of a plain HTTP GET (the relay's /healthz and /metrics). */
export function httpResponse(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Body of a plain HTTP GET. */
export async function httpGet(url: string): Promise<string> {
  return (await httpResponse(url)).body;
}

/** Sum of a Prometheus counter over the series whose labels include all of `labels`. */
export function counter(metrics: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

