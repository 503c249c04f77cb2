/**
 * Batches on the real network (chaincode/PROTOCOL.md "Batches"): a burst of packets on one
 * route, sent while no relay runs, is delivered with ReceivePackets and settled with
 * AcknowledgePackets (several packets per transaction), survives a kill -9 of the relay in the
 * middle, and ends exactly once on both ledgers. Concurrent sends go out together in one
 * SendPackets transaction (services/send-batcher.ts), whose one PacketsSent event the relay reads
 * as one event per packet. Packets of several routes ready together go under one proof and one
 * transaction each way (a runs statement). Waits are on chain events, never on sleeps.
 */
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { CrossChainService } from '../../gateway/src/services/crosschain-service';
import { buildGateway, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { ensurePingRoute, Events, httpResponse } from './support/relay-events';

const run = Date.now().toString(36);
const ROUTE = `batch-it-${run}`;
/** Routes whose runs go together (route-id order: m1 < m2 < m3). */
const MULTI = [1, 2, 3].map((i) => `batch-it-${run}-m${i}`);
const BURST = 12;

/** Sum and count of the batch size histogram for `stage`, from the relay's Prometheus text. */
function batchSizes(metrics: string, stage: string): { sum: number; count: number } {
  const read = (kind: 'sum' | 'count') => {
    const m = new RegExp(`medbridge_relay_batch_size_${kind}\\{from="chain-a",to="chain-b",stage="${stage}"\\} ([0-9.]+)`).exec(metrics);
    return m ? Number(m[1]) : 0;
  };
  return { sum: read('sum'), count: read('count') };
}

describe('relay batches on the real network', () => {
  const env = testEnv();
  let hospitalA: Chaincode;
  let hospitalB: Chaincode;
  let onB: Events;
  let onA: Events;
  const daemons: Running[] = [];

  beforeAll(async () => {
    buildGateway();
    for (const routeId of [ROUTE, ...MULTI]) await ensurePingRoute(routeId);
    hospitalA = new Chaincode(FabricClient.open('HospitalA'), 'chain-a');
    hospitalB = new Chaincode(FabricClient.open('HospitalB'), 'chain-b');
    onB = new Events(hospitalB, [ROUTE, ...MULTI]);
    onA = new Events(hospitalA, [ROUTE, ...MULTI]);
    await onB.start();
    await onA.start();
  });

  afterAll(async () => {
    for (const d of daemons) await stop(d.child);
    onA?.close();
    onB?.close();
    hospitalA?.client.close();
    hospitalB?.client.close();
  });

  const send = async (n: number) => (await hospitalA.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run, n } })).result.sequence;

  const startRelay = async (routes = [ROUTE]) => {
    const d = await startDaemon<{ health: string; metrics: string }>(env, 'relay', 'start', '--from', 'chain-a', '--to', 'chain-b', '--routes', routes.join(','), '--port', '0');
    daemons.push(d);
    return d;
  };

  it('delivers a burst in batches, across a kill -9, exactly once on both ledgers', async () => {
    const sequences: number[] = [];
    for (let n = 1; n <= BURST; n++) sequences.push(await send(n));
    expect(sequences).toEqual(Array.from({ length: BURST }, (_, i) => i + 1));

    // The whole burst is ready when the relay starts: it goes in batches.
    const first = await startRelay();
    await onB.waitFor('PacketReceived', ROUTE, 1);
    await stop(first.child, 'SIGKILL');
    // More packets while no relay runs; the restarted relay resumes from its checkpoint.
    for (let n = BURST + 1; n <= BURST + 4; n++) sequences.push(await send(n));
    const second = await startRelay();
    for (const s of sequences) {
      await onB.waitFor('PacketReceived', ROUTE, s);
      await onA.waitFor('PacketAcknowledged', ROUTE, s);
    }

    // Exactly once on the destination: one receipt and one PacketReceived per sequence.
    const receipts = await hospitalB.crossChain.listReceipts(ROUTE, { pageSize: 100 });
    expect(receipts.items.map((r) => r.sequence)).toEqual(sequences);
    expect(receipts.items.map((r) => r.ack.result)).toEqual(sequences.map((n) => ({ pong: { run, n } })));
    for (const s of sequences) expect(onB.counts.get(`PacketReceived/${ROUTE}/${s}`)).toBe(1);
    expect((await hospitalB.crossChain.getRoute(ROUTE)).nextRecvSequence).toBe(sequences.length + 1);
    // Exactly once on the source: every packet acknowledged, one PacketAcknowledged each.
    const sent = await hospitalA.crossChain.listPackets(ROUTE, { pageSize: 100 });
    expect(sent.items.map((p) => [p.packet.sequence, p.status])).toEqual(sequences.map((s) => [s, 'acknowledged']));
    for (const s of sequences) expect(onA.counts.get(`PacketAcknowledged/${ROUTE}/${s}`)).toBe(1);

    // Batches were used: fewer receive transactions than packets, and the relay's histogram says so.
    const receiveTxs = new Set(receipts.items.map((r) => r.txId));
    expect(receiveTxs.size).toBeLessThan(sequences.length);
    const metrics = (await httpResponse(second.status.metrics)).body;
    const acks = batchSizes(metrics, 'acknowledge');
    expect(acks.count).toBeGreaterThan(0);
    expect(acks.sum).toBeGreaterThan(acks.count);
  });

  it('sends concurrent sends in one SendPackets transaction; the relay carries each of its packets exactly once, across a kill -9', async () => {
    // No relay while the sends commit: the batch waits on chain A.
    for (const d of daemons.splice(0)) await stop(d.child, 'SIGKILL');
    const service = new CrossChainService(hospitalA);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => service.sendPing('chain-b', { run, concurrent: i }, { routeId: ROUTE })));
    const sequences = results.map((r) => r.result.sequence);
    expect(new Set(sequences).size).toBe(10);
    // The first went alone; those that arrived while it was in flight shared transactions.
    const perTx = new Map<string, number>();
    for (const r of results) perTx.set(r.txId, (perTx.get(r.txId) ?? 0) + 1);
    expect(perTx.size).toBeLessThan(10);
    expect(Math.max(...perTx.values())).toBeGreaterThan(1);

    const relay = await startRelay();
    await onB.waitFor('PacketReceived', ROUTE, Math.min(...sequences));
    await stop(relay.child, 'SIGKILL');
    await startRelay();
    for (const s of sequences) {
      await onB.waitFor('PacketReceived', ROUTE, s);
      await onA.waitFor('PacketAcknowledged', ROUTE, s);
    }
    for (const s of sequences) {
      expect(onB.counts.get(`PacketReceived/${ROUTE}/${s}`)).toBe(1);
      expect(onA.counts.get(`PacketAcknowledged/${ROUTE}/${s}`)).toBe(1);
    }
    const sent = await hospitalA.crossChain.listPackets(ROUTE, { pageSize: 100 });
    expect(sent.items.filter((p) => sequences.includes(p.packet.sequence)).map((p) => p.status)).toEqual(sequences.map(() => 'acknowledged'));
    const receipts = await hospitalB.crossChain.listReceipts(ROUTE, { pageSize: 100 });
    expect(receipts.items.filter((r) => sequences.includes(r.sequence)).map((r) => r.ack.result)).toEqual(results.map((_, i) => ({ pong: { run, concurrent: i } })));
  });

  it('carries the packets of several routes under one proof and one transaction each way, each exactly once', async () => {
    for (const d of daemons.splice(0)) await stop(d.child, 'SIGKILL');
    // Three packets on each route while no relay runs: every route has a run ready when it starts.
    const sent: [string, number][] = [];
    for (const routeId of MULTI) {
      for (let n = 1; n <= 3; n++) sent.push([routeId, (await hospitalA.crossChain.sendPacket('chain-b', 'ping', { routeId, payload: { run, routeId, n } })).result.sequence]);
    }
    await startRelay(MULTI);
    for (const [routeId, s] of sent) {
      await onB.waitFor('PacketReceived', routeId, s);
      await onA.waitFor('PacketAcknowledged', routeId, s);
    }
    const receiveTxs = new Map<string, Set<string>>();
    for (const routeId of MULTI) {
      const receipts = await hospitalB.crossChain.listReceipts(routeId, { pageSize: 100 });
      expect(receipts.items.map((r) => r.sequence)).toEqual([1, 2, 3]);
      expect(receipts.items.map((r) => r.ack.result)).toEqual([1, 2, 3].map((n) => ({ pong: { run, routeId, n } })));
      for (const r of receipts.items) receiveTxs.set(r.txId, new Set([...(receiveTxs.get(r.txId) ?? []), routeId]));
      const packets = await hospitalA.crossChain.listPackets(routeId, { pageSize: 100 });
      expect(packets.items.map((p) => p.status)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    }
    for (const [routeId, s] of sent) {
      expect(onB.counts.get(`PacketReceived/${routeId}/${s}`)).toBe(1);
      expect(onA.counts.get(`PacketAcknowledged/${routeId}/${s}`)).toBe(1);
    }
    // One ReceivePackets carried the runs of two routes or more.
    expect(Math.max(...[...receiveTxs.values()].map((routes) => routes.size))).toBeGreaterThan(1);
    expect(receiveTxs.size).toBeLessThan(sent.length);
  });
});
