/**
 * The relay as a real process on the real network: packets sent on chain-a reach chain-b
 * with proofs and are acknowledged back; a kill -9 in the middle of the traffic and a
 * restart from the checkpoint lose no packet and apply none twice. Waits are on chain
 * events (PacketReceived on chain-b, PacketAcknowledged on chain-a), never on sleeps.
 */
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { buildGateway, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { ensurePingRoute, Events, httpResponse } from './support/relay-events';

const run = Date.now().toString(36);
const ROUTE = `relay-it-${run}`;

describe('relay service across a crash', () => {
  const env = testEnv();
  let hospitalA: Chaincode;
  let hospitalB: Chaincode;
  let onB: Events;
  let onA: Events;
  const daemons: Running[] = [];

  beforeAll(async () => {
    buildGateway();
    await ensurePingRoute(ROUTE);
    hospitalA = new Chaincode(FabricClient.open('HospitalA'), 'chain-a');
    hospitalB = new Chaincode(FabricClient.open('HospitalB'), 'chain-b');
    onB = new Events(hospitalB, [ROUTE]);
    onA = new Events(hospitalA, [ROUTE]);
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

  const send = async (n: number) =>
    (await hospitalA.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run, n } })).result.sequence;

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
    for (const s of sequences) await onB.waitFor('PacketReceived', ROUTE, s);

    // More traffic; the relay dies (no clean-up at all) as soon as the first of it lands.
    for (let n = 4; n <= 6; n++) sequences.push(await send(n));
    await onB.waitFor('PacketReceived', ROUTE, 4);
    await stop(first.child, 'SIGKILL');
    // Packets sent while no relay runs.
    for (let n = 7; n <= 8; n++) sequences.push(await send(n));

    const second = await startRelay();
    for (const s of sequences) {
      await onB.waitFor('PacketReceived', ROUTE, s);
      await onA.waitFor('PacketAcknowledged', ROUTE, s);
    }

    // Exactly once on the destination: one receipt per sequence, next expected is 9.
    const receipts = await hospitalB.crossChain.listReceipts(ROUTE, { pageSize: 100 });
    expect(receipts.items.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(receipts.items.map((r) => r.ack.result)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ pong: { run, n } })));
    for (const s of sequences) expect(onB.counts.get(`PacketReceived/${ROUTE}/${s}`)).toBe(1);
    // Exactly once on the source: every packet acknowledged, each by one transaction.
    const sent = await hospitalA.crossChain.listPackets(ROUTE, { pageSize: 100 });
    expect(sent.items.map((p) => [p.packet.sequence, p.status])).toEqual(sequences.map((s) => [s, 'acknowledged']));
    for (const s of sequences) expect(onA.counts.get(`PacketAcknowledged/${ROUTE}/${s}`)).toBe(1);

    // The restarted relay reports healthy and exposes its metrics.
    const health = await httpResponse(second.status.health);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ ok: true, relays: [{ from: 'chain-a', to: 'chain-b', streaming: true }] });
    const metrics = await httpResponse(second.status.metrics);
    expect(metrics.body).toMatch(/medbridge_relay_packets_relayed_total\{from="chain-a",to="chain-b",type="ping",outcome="success"\} [1-9]/);
    expect(metrics.body).toMatch(/medbridge_relay_end_to_end_seconds_count\{from="chain-a",to="chain-b",type="ping"\} [1-9]/);
  });
});
