/**
 * The relay as a real process on the real network: packets sent on chain-a reach chain-b
 * with proofs and are acknowledged back; a kill -9 in the middle of the traffic and a
 * restart from the checkpoint lose no packet and apply none twice. Waits are on chain
 * events (PacketReceived on chain-b, PacketAcknowledged on chain-a), never on sleeps.
 */
import type { ChaincodeEvent, CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import { get } from 'node:http';
import { FabricClient } from '../../gateway/src/fabric/client';
import { buildGateway, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { ensurePingRoute } from './relay-events';

const run = Date.now().toString(36);
const ROUTE = `relay-it-${run}`;
const WAIT_MS = 150_000;

/** Resolves waiters on (eventName, routeId, sequence) from one channel's chaincode events. */
class EventWaiter {
  private readonly seen = new Map<string, unknown>();
  private readonly waiters = new Map<string, (body: unknown) => void>();
  private events?: CloseableAsyncIterable<ChaincodeEvent>;
  readonly counts = new Map<string, number>();

  constructor(
    private readonly client: FabricClient,
    private readonly channel: string,
    private readonly names: string[],
  ) {}

  async start(): Promise<void> {
    this.events = await this.client.connection.network(this.channel).getChaincodeEvents(this.client.profile.chaincode);
    const events = this.events;
    void (async () => {
      try {
        for await (const e of events) {
          if (!this.names.includes(e.eventName)) continue;
          const body = JSON.parse(Buffer.from(e.payload).toString()) as { routeId: string; sequence: number };
          if (body.routeId !== ROUTE) continue;
          const k = `${e.eventName}/${body.sequence}`;
          this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
          this.seen.set(k, body);
          this.waiters.get(k)?.(body);
        }
      } catch {
        // closed
      }
    })();
  }

  waitFor(name: string, sequence: number): Promise<unknown> {
    const k = `${name}/${sequence}`;
    if (this.seen.has(k)) return Promise.resolve(this.seen.get(k));
    return new Promise((resolveWait, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${name} for ${ROUTE}/${sequence} on ${this.channel} within ${WAIT_MS} ms`)), WAIT_MS);
      this.waiters.set(k, (b) => {
        clearTimeout(t);
        resolveWait(b);
      });
    });
  }

  close(): void {
    this.events?.close();
  }
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('relay service across a crash', () => {
  const env = testEnv();
  let hospitalA: FabricClient;
  let hospitalB: FabricClient;
  let onB: EventWaiter;
  let onA: EventWaiter;
  const daemons: Running[] = [];

  beforeAll(async () => {
    buildGateway();
    await ensurePingRoute(ROUTE);
    hospitalA = FabricClient.open('HospitalA');
    hospitalB = FabricClient.open('HospitalB');
    onB = new EventWaiter(hospitalB, 'chain-b', ['PacketReceived']);
    onA = new EventWaiter(hospitalA, 'chain-a', ['PacketAcknowledged']);
    await onB.start();
    await onA.start();
  });

  afterAll(async () => {
    for (const d of daemons) await stop(d.child);
    onA?.close();
    onB?.close();
    hospitalA?.close();
    hospitalB?.close();
  });

  const send = async (n: number) =>
    (await hospitalA.submit<{ sequence: number }>('chain-a', 'CrossChain', 'SendPacket', ['chain-b', 'ping', JSON.stringify({ routeId: ROUTE, payload: { run, n } })])).result.sequence;

  const startRelay = async () => {
    const d = await startDaemon<{ health: string; metrics: string }>(env, 'relay', 'start', '--from', 'chain-a', '--to', 'chain-b', '--routes', ROUTE, '--port', '0');
    daemons.push(d);
    return d;
  };

  it('delivers and acknowledges every packet exactly once when the relay is killed with SIGKILL and restarted', async () => {
    const first = await startRelay();
    const sequences: number[] = [];
    for (let n = 1; n <= 3; n++) sequences.push(await send(n));
    expect(sequences).toEqual([1, 2, 3]);
    for (const s of sequences) await onB.waitFor('PacketReceived', s);

    // More traffic; the relay dies (no clean-up at all) as soon as the first of it lands.
    for (let n = 4; n <= 6; n++) sequences.push(await send(n));
    await onB.waitFor('PacketReceived', 4);
    await stop(first.child, 'SIGKILL');
    // Packets sent while no relay runs.
    for (let n = 7; n <= 8; n++) sequences.push(await send(n));

    const second = await startRelay();
    for (const s of sequences) {
      await onB.waitFor('PacketReceived', s);
      await onA.waitFor('PacketAcknowledged', s);
    }

    // Exactly once on the destination: one receipt per sequence, next expected is 9.
    const receipts = await hospitalB.evaluate<{ items: Array<{ sequence: number; ack: { outcome: string; result: unknown } }> }>('chain-b', 'CrossChain', 'ListReceipts', [ROUTE, '100', '']);
    expect(receipts.items.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(receipts.items.map((r) => r.ack.result)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ pong: { run, n } })));
    for (const s of sequences) expect(onB.counts.get(`PacketReceived/${s}`)).toBe(1);
    // Exactly once on the source: every packet acknowledged, each by one transaction.
    const sent = await hospitalA.evaluate<{ items: Array<{ packet: { sequence: number }; status: string }> }>('chain-a', 'CrossChain', 'ListPackets', [ROUTE, '100', '']);
    expect(sent.items.map((p) => [p.packet.sequence, p.status])).toEqual(sequences.map((s) => [s, 'acknowledged']));
    for (const s of sequences) expect(onA.counts.get(`PacketAcknowledged/${s}`)).toBe(1);

    // The restarted relay reports healthy and exposes its metrics.
    const health = await httpGet(second.status.health);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ ok: true, relays: [{ from: 'chain-a', to: 'chain-b', streaming: true }] });
    const metrics = await httpGet(second.status.metrics);
    expect(metrics.body).toMatch(/medbridge_relay_packets_relayed_total\{from="chain-a",to="chain-b",type="ping",outcome="success"\} [1-9]/);
    expect(metrics.body).toMatch(/medbridge_relay_end_to_end_seconds_count\{from="chain-a",to="chain-b",type="ping"\} [1-9]/);
  });
});
