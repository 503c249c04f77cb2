/**
 * Per-route queues of the relay on the real network: a packet that cannot be delivered
 * (its route paused on chain-b) holds up only its own route, while another route's packets
 * sent after it are delivered and acknowledged. The checkpoint stays before the stuck
 * packet, so after a kill -9 and a restart the stuck packet is still delivered (once the
 * route resumes) and the other route's packets are found done, never applied twice.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import { buildGateway, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { counter, Events, httpGet, WAIT_MS } from './support/relay-events';
import { waitFor } from './support/polling';

const run = Date.now().toString(36);
const STUCK = `relay-hol-p-${run}`;
const FREE = `relay-hol-q-${run}`;

interface Health {
  relays: Array<{ checkpointBlock: string | null; queues: Record<string, number>; inFlight: number }>;
}

describe('relay queues per route', () => {
  const env = testEnv();
  const checkpointFile = join(env.MEDBRIDGE_DATA_DIR!, 'relay', 'chain-a--chain-b.checkpoint.json');
  let admin: CrossChainAdmin;
  let a: Chaincode;
  let b: Chaincode;
  let onA: Events;
  let onB: Events;
  const daemons: Running<{ health: string; metrics: string }>[] = [];

  beforeAll(async () => {
    buildGateway();
    admin = new CrossChainAdmin();
    await admin.ensureRoute('chain-a', 'chain-b', STUCK, ['ping']);
    await admin.ensureRoute('chain-a', 'chain-b', FREE, ['ping']);
    a = new Chaincode(FabricClient.open('HospitalA'), 'chain-a');
    b = new Chaincode(FabricClient.open('HospitalB'), 'chain-b');
    onA = new Events(a, [STUCK, FREE]);
    onB = new Events(b, [STUCK, FREE]);
    await onA.start();
    await onB.start();
  });

  afterAll(async () => {
    for (const d of daemons) await stop(d.child);
    // Leave the route open whatever happened.
    if ((await admin?.route('chain-b', STUCK))?.status === 'paused') await admin.govern('chain-b', { kind: 'resume-route', routeId: STUCK });
    admin?.close();
    onA?.close();
    onB?.close();
    a?.client.close();
    b?.client.close();
  });

  const send = async (routeId: string, n: number) =>
    (await a.crossChain.sendPacket('chain-b', 'ping', { routeId, payload: { run, n } })).result.packet.sequence;
  const startRelay = async () => {
    const d = await startDaemon<{ health: string; metrics: string }>(env, 'relay', 'start', '--from', 'chain-a', '--to', 'chain-b', '--routes', `${STUCK},${FREE}`, '--port', '0');
    daemons.push(d);
    return d;
  };

  it('delivers other routes past an undeliverable packet, keeps the checkpoint before it across a kill -9, and applies everything exactly once', async () => {
    await admin.govern('chain-b', { kind: 'pause-route', routeId: STUCK });
    const first = await startRelay();

    // The stuck packet comes first in the stream.
    expect(await send(STUCK, 1)).toBe(1);
    expect(await send(FREE, 1)).toBe(1);
    expect(await send(FREE, 2)).toBe(2);
    for (const s of [1, 2]) {
      await onB.waitFor('PacketReceived', FREE, s);
      await onA.waitFor('PacketAcknowledged', FREE, s);
    }
    // The stuck route is waiting (refused ROUTE_PAUSED), not given up, and holds the checkpoint back.
    await waitFor('a route-paused retry', async () => counter(await httpGet(first.status.metrics), 'medbridge_relay_failures_total', { reason: 'route-paused' }) >= 1, WAIT_MS);
    // The relay drops a packet from its route's queue when the acknowledgement's commit status comes
    // back, which can be a moment after this test sees the acknowledgement event.
    const health = await waitFor('the free route gone from the relay queues', async () => {
      const h = JSON.parse(await httpGet(first.status.health)) as Health;
      return h.relays[0]?.queues[FREE] ? undefined : h;
    }, WAIT_MS);
    expect(health.relays[0]?.queues).toEqual({ [STUCK]: 1 });
    const stuckBlock = onA.blocks.get(`PacketSent/${STUCK}/1`)!;
    const saved = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { blockNumber: string };
    expect(BigInt(saved.blockNumber)).toBeLessThanOrEqual(stuckBlock);
    expect(onB.counts.has(`PacketReceived/${STUCK}/1`)).toBe(false);

    await stop(first.child, 'SIGKILL');
    const second = await startRelay();
    await admin.govern('chain-b', { kind: 'resume-route', routeId: STUCK });
    await onB.waitFor('PacketReceived', STUCK, 1);
    await onA.waitFor('PacketAcknowledged', STUCK, 1);

    // The restarted relay read the free route's packets again (the checkpoint was before them) and found them done.
    await waitFor(
      'the restarted relay to pass the free route again',
      async () => counter(await httpGet(second.status.metrics), 'medbridge_relay_duplicates_total', { stage: 'settled' }) >= 2,
      WAIT_MS,
    );
    for (const [route, seqs] of [[STUCK, [1]], [FREE, [1, 2]]] as const) {
      const receipts = await b.crossChain.listReceipts(route, { pageSize: 100 });
      expect(receipts.items.map((r) => [r.sequence, r.ack.outcome])).toEqual(seqs.map((s) => [s, 'success']));
      for (const s of seqs) {
        expect(onB.counts.get(`PacketReceived/${route}/${s}`)).toBe(1);
        expect(onA.counts.get(`PacketAcknowledged/${route}/${s}`)).toBe(1);
      }
    }
    // Once everything is handled the checkpoint moves past the formerly stuck packet.
    await waitFor('the checkpoint past the stuck packet', () => {
      const c = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { blockNumber: string };
      return BigInt(c.blockNumber) > stuckBlock;
    }, WAIT_MS);
  });
});
