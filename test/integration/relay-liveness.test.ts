/**
 * The relay's liveness paths on the real network (net1, chain-a -> chain-b):
 *  - a packet the relay did not deliver before its timeout is recorded as timed out on the
 *    destination (RecordTimeout), settled on the source with the destination's signed timeout
 *    acknowledgement (TimeoutPacket) and ends `timed-out`; a late delivery is refused;
 *  - (native runtime) with both peers of HospitalA stopped, chain-a's HospitalA subgroup is
 *    below its threshold: the relay retries with backoff, gives nothing up and writes nothing;
 *    once `network.sh up` restarts the peers the packet is delivered and acknowledged once.
 * Waits are on chain events, the relay's metrics and process state, each with a deadline.
 */
import { toClientError } from '../../gateway/src/errors';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { buildPacketProof, sourceChain } from '../../gateway/src/proofs';
import { buildGateway, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { counter, ensurePingRoute, Events, httpGet, WAIT_MS } from './support/relay-events';
import { waitFor } from './support/polling';
import { nativePid, processAlive, restartMissingNodes } from './support/network';

const run = Date.now().toString(36);
const RUNTIME = process.env.FABRIC_RUNTIME || 'native';

describe('relay timeout path on the real network', () => {
  const ROUTE = `relay-to-${run}`;
  const env = testEnv();
  let a: Chaincode;
  let b: Chaincode;
  let onA: Events;
  let onB: Events;
  let relay: Running<{ health: string; metrics: string }> | undefined;

  beforeAll(async () => {
    buildGateway();
    await ensurePingRoute(ROUTE);
    a = new Chaincode(FabricClient.open('HospitalA'), 'chain-a');
    b = new Chaincode(FabricClient.open('HospitalB'), 'chain-b');
    onA = new Events(a, [ROUTE]);
    onB = new Events(b, [ROUTE]);
    await onA.start();
    await onB.start();
  });

  afterAll(async () => {
    if (relay) await stop(relay.child);
    onA?.close();
    onB?.close();
    a?.client.close();
    b?.client.close();
  });

  it('records a packet not delivered before its timeout as timed out on both chains, and refuses its late delivery', async () => {
    // SendPacket takes timeoutAfterMs from 1 s; no relay carries this route yet.
    const sent = await a.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, timeoutAfterMs: 2000, payload: { run } });
    const packet = sent.result.packet;
    expect(packet.sequence).toBe(1);

    // Wait until chain-b's own transaction time is past the packet's timeout (a query's tx time on chain-b).
    await waitFor('chain-b time past the packet timeout', async () => {
      const ping = await b.system.ping();
      return ping.txTimeMs > packet.timeoutMs;
    }, 30_000);

    relay = await startDaemon(env, 'relay', 'start', '--from', 'chain-a', '--to', 'chain-b', '--routes', ROUTE, '--port', '0');
    await onA.waitFor('PacketTimedOut', ROUTE, 1);

    const receipt = await b.crossChain.getReceipt(ROUTE, 1);
    expect(receipt.ack.outcome).toBe('timeout');
    const onSource = await a.crossChain.getPacket(ROUTE, 1);
    expect(onSource.status).toBe('timed-out');
    // The ping handler never ran: no success acknowledgement, no PacketAcknowledged.
    expect(onA.counts.get(`PacketAcknowledged/${ROUTE}/1`)).toBeUndefined();
    expect(onA.counts.get(`PacketTimedOut/${ROUTE}/1`)).toBe(1);
    // The relay counts a leg once its own submit returns, which can be after the event reached this
    // listener: wait for the counters to reach their value, then check nothing counted twice.
    const metricsUrl = relay.status.metrics;
    const metrics = await waitFor(
      'the relay counted the timeout leg and its acknowledgement',
      async () => {
        const text = await httpGet(metricsUrl);
        return counter(text, 'medbridge_relay_acks_relayed_total', { kind: 'timeout' }) >= 1 ? text : undefined;
      },
      30_000,
    );
    expect(counter(metrics, 'medbridge_relay_packets_relayed_total', { outcome: 'timeout' })).toBe(1);
    expect(counter(metrics, 'medbridge_relay_acks_relayed_total', { kind: 'timeout' })).toBe(1);

    // A late delivery with a valid proof from chain-a's peers is refused, and changes nothing.
    const route = await b.crossChain.getRoute(ROUTE);
    const known = (await b.crossChain.getRemoteChain('chain-a')).epoch;
    const built = await buildPacketProof(sourceChain(a.client, 'chain-a'), ROUTE, 1, known);
    const late = await b.crossChain.receivePacket(onSource.packet, built.proof).then(
      () => 'accepted',
      (e: unknown) => toClientError(e).code,
    );
    expect(late).toBe('PACKET_REPLAYED');
    expect(await b.crossChain.getReceipt(ROUTE, 1)).toEqual(receipt);
    expect((await b.crossChain.getRoute(ROUTE)).nextRecvSequence).toBe(route.nextRecvSequence);
    expect((await a.crossChain.getPacket(ROUTE, 1)).status).toBe('timed-out');
  });
});

const HOSPITAL_A_PEERS = ['peer0.hospitala.net1.medbridge', 'peer1.hospitala.net1.medbridge'];
const pidOf = (name: string): number | undefined => nativePid(name);
const alive = processAlive;
const networkUp = restartMissingNodes;

const belowThreshold = RUNTIME === 'native' ? describe : describe.skip;
const belowThresholdName =
  RUNTIME === 'native'
    ? 'relay while a source subgroup is below threshold'
    : `relay while a source subgroup is below threshold (skipped: stops peer processes by their pid files, which needs FABRIC_RUNTIME=native; this run uses ${RUNTIME})`;

belowThreshold(belowThresholdName, () => {
  const ROUTE = `relay-wait-${run}`;
  const env = testEnv();
  let c: Chaincode;
  let b: Chaincode;
  let a: Chaincode;
  let onA: Events;
  let onB: Events;
  let relay: Running<{ health: string; metrics: string }> | undefined;

  beforeAll(async () => {
    buildGateway();
    await ensurePingRoute(ROUTE);
    a = new Chaincode(FabricClient.open('HospitalA'), 'chain-a');
    b = new Chaincode(FabricClient.open('HospitalB'), 'chain-b');
    c = new Chaincode(FabricClient.open('HospitalC'), 'chain-a');
    onA = new Events(c, [ROUTE]);
    onB = new Events(b, [ROUTE]);
    await onA.start();
    await onB.start();
  });

  afterAll(async () => {
    if (relay) await stop(relay.child);
    onA?.close();
    onB?.close();
    a?.client.close();
    b?.client.close();
    c?.client.close();
    // Whatever happened, give the network its peers back.
    if (HOSPITAL_A_PEERS.some((p) => !alive(pidOf(p)))) networkUp();
  });

  it('retries with backoff without giving up or writing anything, then delivers exactly once when the peers are back', async () => {
    const sent = await a.crossChain.sendPacket('chain-b', 'ping', { routeId: ROUTE, payload: { run } });
    expect(sent.result.packet.sequence).toBe(1);

    // Both HospitalA peers go away: its subgroup (threshold 1) on chain-a cannot sign.
    for (const p of HOSPITAL_A_PEERS) {
      const pid = pidOf(p);
      expect(alive(pid)).toBe(true);
      process.kill(pid!, 'SIGTERM');
    }
    await waitFor('HospitalA peers stopped', () => HOSPITAL_A_PEERS.every((p) => !alive(pidOf(p))), 30_000);

    relay = await startDaemon(env, 'relay', 'start', '--from', 'chain-a', '--to', 'chain-b', '--routes', ROUTE, '--port', '0');
    // The relay's structured warnings (JSON lines on stderr): one per failed attempt, with its backoff.
    const retries: Array<{ attempt: number; retryInMs: number; reason: string }> = [];
    let partial = '';
    relay.child.stderr?.on('data', (c: Buffer) => {
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const l = JSON.parse(line) as { stage?: string; attempt?: number; retryInMs?: number; reason?: string };
          if (l.stage === 'receive' && l.attempt !== undefined && l.retryInMs !== undefined) retries.push({ attempt: l.attempt, retryInMs: l.retryInMs, reason: l.reason ?? '' });
        } catch {
          // not a log line
        }
      }
    });
    const metricsUrl = relay.status.metrics;
    // At least three failed attempts at the receive step: the relay keeps waiting.
    await waitFor('three failed receive attempts', async () => {
      const m = await httpGet(metricsUrl);
      return counter(m, 'medbridge_relay_failures_total', { stage: 'receive' }) >= 3 ? m : undefined;
    }, WAIT_MS);
    const m = await httpGet(metricsUrl);
    expect(counter(m, 'medbridge_relay_failures_total', { stage: 'receive', reason: 'below-threshold' })).toBeGreaterThanOrEqual(1);
    expect(counter(m, 'medbridge_relay_packets_relayed_total', {})).toBe(0);
    expect(relay.child.exitCode).toBeNull();
    // Backoff: consecutive attempts wait longer each time (250 ms doubling, ±20 % jitter).
    await waitFor('three logged retries', () => retries.length >= 3, 30_000);
    const firstThree = retries.slice(0, 3);
    expect(firstThree.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(firstThree[1]!.retryInMs).toBeGreaterThan(firstThree[0]!.retryInMs);
    expect(firstThree[2]!.retryInMs).toBeGreaterThan(firstThree[1]!.retryInMs);
    // Nothing was written: no receipt on chain-b, the packet still `sent` on chain-a.
    const receipt = await b.crossChain.getReceipt(ROUTE, 1).then(
      () => 'present',
      (e: unknown) => toClientError(e).code,
    );
    expect(receipt).toBe('NOT_FOUND');
    expect((await c.crossChain.getPacket(ROUTE, 1)).status).toBe('sent');

    networkUp();
    expect(HOSPITAL_A_PEERS.every((p) => alive(pidOf(p)))).toBe(true);

    await onB.waitFor('PacketReceived', ROUTE, 1);
    await onA.waitFor('PacketAcknowledged', ROUTE, 1);
    const receipts = await b.crossChain.listReceipts(ROUTE, { pageSize: 100 });
    expect(receipts.items.map((r) => [r.sequence, r.ack.outcome])).toEqual([[1, 'success']]);
    expect(onB.counts.get(`PacketReceived/${ROUTE}/1`)).toBe(1);
    expect(onA.counts.get(`PacketAcknowledged/${ROUTE}/1`)).toBe(1);
    expect((await c.crossChain.getPacket(ROUTE, 1)).status).toBe('acknowledged');
  });
});
