/**
 * Relay backlog drain (`network/scripts/bench.sh relay-backlog`): how fast one relay clears a
 * backlog with batches against the single path, side by side in one run on the embedded network.
 *
 * For each value of `--max-batch` (default 32, then 1 = the single path only): with no relay
 * running, `--packets` pings are sent over `--routes` routes (`bl-<i>`, opened once and reused),
 * the sends of a route one after another (so that none conflicts on the route's send counter)
 * and the routes side by side; then a relay starts from the block of a heartbeat taken before
 * the sends. The drain time runs from the relay's start until every packet is received exactly
 * once on chain-b (its receipt) and acknowledged on chain-a, read back from the ledgers (timed
 * by point reads, every packet then checked off the clock: relay-ledger.ts waitSettled);
 * `--drain-s` bounds it. The relay's transactions by packets carried are recorded per leg.
 *
 *   node gateway/dist/bench/relay-backlog.js [--routes 4] [--packets 128] [--max-batch 32,1]
 *                                            [--drain-s 300] [--name relay-backlog]
 *
 * Writes test/bench/results/<name>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../config';
import { toClientError } from '../errors';
import { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { pickRelayOrgs, Relay } from '../relay/relay';
import { CrossChainAdmin } from '../services/crosschain-admin';
import { batchesBetween, batchSnapshot, waitSettled, type BatchSizes, type Settlement } from './relay-ledger';

const A = 'chain-a';
const B = 'chain-b';

interface Drain {
  maxBatch: number;
  sent: number;
  /** Sends refused and sent again (the route's sends go one after another, so normally 0). */
  sendRetries: number;
  received: number;
  acknowledged: number;
  drained: boolean;
  /** From the relay's start until the last packet was found acknowledged (or the bound). */
  drainS: number;
  /** Packets received and acknowledged per second of drain. */
  packetsPerSec: number;
  batches: BatchSizes;
}

/** Sends `count` pings over `routes`, each route's one after another; returns the sends retried. */
async function sendBacklog(a: Chaincode, routes: string[], count: number): Promise<number> {
  let retries = 0;
  await Promise.all(
    routes.map(async (routeId, r) => {
      for (let i = r; i < count; i += routes.length) {
        for (let attempt = 1; ; attempt++) {
          try {
            await a.crossChain.sendPacket(B, 'ping', { routeId, payload: { i } });
            break;
          } catch (e) {
            if (attempt >= 5) throw e;
            retries += 1;
          }
        }
      }
    }),
  );
  return retries;
}

async function drainOnce(o: { a: Chaincode; b: Chaincode; routes: string[]; packets: number; maxBatch: number; drainS: number; work: string; log: (s: string) => void }): Promise<Drain> {
  const { a, b, routes, packets, maxBatch, drainS, work, log } = o;
  const base = new Map<string, number>();
  for (const r of routes) base.set(r, (await a.crossChain.getRoute(r)).nextSendSequence);
  // The relay reads chain-a from this block: the backlog and nothing older.
  const from = (await a.system.heartbeat(`backlog-${maxBatch}`)).blockNumber;
  log(`max batch ${maxBatch}: ${packets} pings over ${routes.length} route(s), no relay running`);
  const sendRetries = await sendBacklog(a, routes, packets);
  const tops = new Map<string, number>();
  for (const r of routes) tops.set(r, (await a.crossChain.getRoute(r)).nextSendSequence);
  const sent = routes.reduce((s, r) => s + (tops.get(r)! - base.get(r)!), 0);
  const orgs = pickRelayOrgs(A, B);
  const relay = new Relay({ from: A, to: B, sourceOrg: orgs.source, destOrg: orgs.dest, checkpointFile: join(work, `checkpoint-${maxBatch}.json`), routes, startBlock: from, maxBatch });
  const before = await batchSnapshot(relay);
  const t0 = performance.now();
  const relayDone = relay.run();
  let settlement: Settlement;
  try {
    settlement = await waitSettled({ a, b, routes, base, tops, startedAt: t0, limitMs: drainS * 1000 });
  } finally {
    relay.stop();
    await relayDone;
  }
  const batches = batchesBetween(before, await batchSnapshot(relay));
  relay.close();
  const { drained, doneAt, received, acknowledged } = settlement;
  const seconds = (doneAt - t0) / 1000;
  const out: Drain = { maxBatch, sent, sendRetries, received, acknowledged, drained, drainS: Math.round(seconds * 10) / 10, packetsPerSec: Math.round((acknowledged / seconds) * 100) / 100, batches };
  log(`  sent ${sent}, received ${received}, acknowledged ${acknowledged}: ${drained ? 'drained' : 'not drained'} in ${out.drainS} s (${out.packetsPerSec}/s)`);
  log(`  batches: ${JSON.stringify(batches)}`);
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      routes: { type: 'string', default: '4' },
      packets: { type: 'string', default: '128' },
      'max-batch': { type: 'string', default: '32,1' },
      'drain-s': { type: 'string', default: '300' },
      name: { type: 'string', default: 'relay-backlog' },
    },
  });
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const resultsDir = join(REPO_ROOT, 'test', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'medbridge-backlog-'));
  const hospitalA = FabricClient.open('HospitalA');
  const hospitalB = FabricClient.open('HospitalB');
  const a = new Chaincode(hospitalA, A);
  const b = new Chaincode(hospitalB, B);
  const admin = new CrossChainAdmin();
  try {
    const routes = Array.from({ length: Number(values.routes) }, (_, i) => `bl-${i + 1}`);
    for (const r of routes) await admin.ensureRoute(A, B, r, ['ping'], { maxPackets: 1_000_000, windowMs: 60_000 });
    const valueTransfer = await a.incentive
      .getParams()
      .then((p) => (p as { active?: boolean }).active === true)
      .catch(() => false);
    const drains: Drain[] = [];
    for (const maxBatch of values['max-batch'].split(',').map(Number)) {
      drains.push(await drainOnce({ a, b, routes, packets: Number(values.packets), maxBatch, drainS: Number(values['drain-s']), work, log }));
    }
    const result = {
      name: values.name,
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      command: process.env.BENCH_COMMAND ?? 'node gateway/dist/bench/relay-backlog.js',
      argv: process.argv.slice(2),
      durationS: (Date.now() - started) / 1000,
      valueTransfer,
      settings: { routes: routes.length, packets: Number(values.packets), rule: 'drained: every packet received exactly once on chain-b and acknowledged on chain-a, read from both ledgers; time from the relay start until point reads polled every 200 ms find it, every packet then read on both ledgers' },
      drains,
    };
    writeFileSync(join(resultsDir, `${values.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(drains.map((d) => ({ maxBatch: d.maxBatch, drainS: d.drainS, packetsPerSec: d.packetsPerSec, drained: d.drained })))}\nresults: test/bench/results/${values.name}.json\n`);
    return drains.every((d) => d.drained) ? 0 : 1;
  } catch (e) {
    const err = toClientError(e);
    process.stderr.write(`bench failed: ${err.code}: ${err.message}\n`);
    return 1;
  } finally {
    admin.close();
    hospitalA.close();
    hospitalB.close();
    rmSync(work, { recursive: true, force: true });
  }
}

void main().then((code) => {
  process.exitCode = code;
});
