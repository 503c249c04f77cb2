/**
 * `make bench`, relay part: open-loop relay throughput on the embedded network, against the
 * plain-put throughput of the destination channel in the same run.
 *
 * For each route count (default 1, 4, 16; routes `tp-<i>` from chain-a to chain-b, opened once
 * and reused) and rising offered rates (packets per second over all routes, doubling from
 * `--start-rate` for every route count, so that more routes spread the same rates thinner),
 * pings are submitted on a fixed schedule for `--step-s` seconds, whatever the chain or the
 * relay answers (open loop), spread over the routes in turn. A rate is sustained when no send
 * was refused and, within max(5 s, step/2) after the schedule's end (the time the last send was
 * due, not the time it committed: sends that queue behind the source chain are part of the
 * backlog), every packet sent in the step is committed on chain-a, received on chain-b exactly
 * once (its receipt, one per sequence, for the packet chain-a sent) and acknowledged on chain-a
 * with that receipt's acknowledgement, both read back from the ledgers. The drain is timed by
 * point reads polled every 200 ms (each route's next expected sequence on chain-b, its last
 * packet's status on chain-a); every packet is then read on both ledgers, off the clock
 * (relay-ledger.ts waitSettled). A route count's rates double until one is not sustained; then
 * `--refine` more steps halve the interval between the last sustained rate and the first that
 * was not (the figure's resolution is that interval, `resolutionPerSec`). The climb also stops
 * when the route count's `--budget-s` is spent: if every rate tried was sustained, the highest
 * is a lower bound, and the route count is listed in `budgetEnded`.
 * Plain puts: Consent:RegisterPatient with a fresh key each (distinct fresh keys) on chain-b,
 * `--puts` of them with `--put-concurrency` in flight: committed per second.
 * `--value-transfer off,on` (the default) runs the route counts first as the network is (value
 * transfer off on a fresh network; governance has no action that switches it off again, so an
 * `off` run on a network where it is on is skipped and says so), then with value transfer on
 * (ValueGovernance.ensureValueTransfer, as `make demo`: every send escrows a fee, every
 * acknowledgement pays it out).
 *
 *   node gateway/dist/bench/relay-throughput.js [--routes 1,4,16] [--start-rate 4] [--step-s 10]
 *                                               [--drain-s 45] [--budget-s 150] [--puts 400]
 *                                               [--put-concurrency 32] [--value-transfer off,on]
 *                                               [--max-batch 32] [--refine 2] [--name relay-throughput]
 *                                               [--log-file <file>]
 * --budget-s: at most this long for the offered rates of one route count, in each mode.
 * --max-batch: most packets per proof and transaction, over all routes (1: the single path only).
 * --log-file: the relay's own log (info level, JSON lines), to see why a step fell behind.
 *
 * Writes test/bench/results/<name>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Limits, type PacketType } from '@medbridge/chaincode';
import { REPO_ROOT } from '../config';
import { toClientError } from '../errors';
import { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { createLogger } from '../logger';
import { pickRelayOrgs, Relay } from '../relay/relay';
import { sleep } from '../relay/backoff';
import { CrossChainAdmin } from '../services/crosschain-admin';
import { CrossChainService } from '../services/crosschain-service';
import { ValueGovernance } from '../services/incentive-service';
import { generatePatientKey } from '../services/patient-keys';
import { sourceCommit } from '../source-commit';
import { batchesBetween, batchSnapshot, waitSettled, type BatchSizes } from './relay-ledger';

const A = 'chain-a';
const B = 'chain-b';

interface Step {
  routes: number;
  offeredPerSec: number;
  sent: number;
  sendErrors: number;
  /** Transactions the sends committed in (SendPacket alone, or SendPackets for those that waited). */
  sendTransactions: number;
  /** Packets whose receipt on chain-b (one per sequence) is for the packet chain-a sent. */
  deliveredOnce: number;
  acknowledged: number;
  drained: boolean;
  /** From the last send's commit to the end of the drain. */
  drainS: number;
  /** From the schedule's end (the last send due) to the last send's commit: the sends' own queue. */
  sendLagS: number;
  /** From the schedule's end to the end of the drain: what the rule bounds. */
  lateS: number;
  sustained: boolean;
  /** Received and acknowledged per second over the step and its drain. */
  achievedPerSec: number;
  /** The relay's transactions by packets carried, from the step's start to the end of its drain. */
  batches?: BatchSizes;
}

async function plainPuts(cc: Chaincode, n: number, concurrency: number): Promise<{ n: number; seconds: number; perSec: number; errors: number }> {
  const keys = Array.from({ length: n }, () => generatePatientKey());
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const k = keys[next++]!;
        try {
          await cc.consent.registerPatient(k.publicKey);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { n: n - errors, seconds, perSec: (n - errors) / seconds, errors };
}

interface ModeRun {
  valueTransfer: boolean;
  /** Why the mode was not measured. */
  skipped?: string;
  sustainedPerSec: Record<string, number>;
  /**
   * Route counts whose climb the budget ended while every rate was still sustained: their
   * sustainedPerSec is a lower bound (a higher rate was not tried), not the limit.
   */
  budgetEnded: string[];
  /** Per route count: the gap between the highest sustained rate and the lowest that was not (null: none failed). */
  resolutionPerSec?: Record<string, number | null>;
  /** The best route count's sustained rate over plain puts. */
  ratio: number;
  /** Each route count's sustained rate over plain puts. */
  ratioByRoutes?: Record<string, number>;
  steps: Step[];
  /** The relay's transactions by packets carried over the whole mode (backlog drains included). */
  batches?: BatchSizes;
}

/** One offered rate over `routes` for `stepS` seconds, then the drain read back from both ledgers. */
async function runStep(o: { a: Chaincode; b: Chaincode; routes: string[]; rate: number; stepS: number; drainS: number; log: (s: string) => void }): Promise<Step> {
  const { a, b, routes, rate, stepS, drainS, log } = o;
  const n = routes.length;
  const base = new Map<string, number>();
  for (const r of routes) base.set(r, (await a.crossChain.getRoute(r)).nextSendSequence);
  const count = Math.max(1, Math.round(rate * stepS));
  log(`${n} route(s), ${rate}/s offered: ${count} pings over ${stepS} s`);
  const t0 = performance.now();
  let sendErrors = 0;
  // Sends go as the hospital's API and CLI send them: through CrossChainService, which gathers
  // the sends that arrive while one is in flight into one transaction (services/send-batcher.ts).
  const service = new CrossChainService(a);
  const sendTxs = new Set<string>();
  const sends: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const routeId = routes[i % n]!;
    sends.push(
      service.sendPing(B, { i }, { routeId }).then(
        (r) => {
          sendTxs.add(r.txId);
        },
        () => {
          sendErrors += 1;
        },
      ),
    );
  }
  await Promise.all(sends);
  const sentEnd = performance.now();
  const scheduleEnd = t0 + ((count - 1) * 1000) / rate;
  const tops = new Map<string, number>();
  for (const r of routes) tops.set(r, (await a.crossChain.getRoute(r)).nextSendSequence);
  const sent = routes.reduce((s, r) => s + (tops.get(r)! - base.get(r)!), 0);
  const { drained, doneAt, received, acknowledged } = await waitSettled({ a, b, routes, base, tops, startedAt: sentEnd, limitMs: drainS * 1000 });
  const drainTook = (doneAt - sentEnd) / 1000;
  const late = (doneAt - scheduleEnd) / 1000;
  const sustained = drained && sendErrors === 0 && late <= Math.max(5, stepS / 2);
  const step: Step = {
    routes: n,
    offeredPerSec: rate,
    sent,
    sendErrors,
    sendTransactions: sendTxs.size,
    deliveredOnce: received,
    acknowledged,
    drained,
    drainS: Math.round(drainTook * 10) / 10,
    sendLagS: Math.round(((sentEnd - scheduleEnd) / 1000) * 10) / 10,
    lateS: Math.round(late * 10) / 10,
    sustained,
    achievedPerSec: Math.round((acknowledged / ((doneAt - t0) / 1000)) * 100) / 100,
  };
  log(`  sent ${sent} (last commit ${step.sendLagS} s after the schedule), received ${received}, acknowledged ${acknowledged}, settled ${step.lateS} s after the schedule: ${sustained ? 'sustained' : 'not sustained'}`);
  return step;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      routes: { type: 'string', default: '1,4,16' },
      'start-rate': { type: 'string', default: '4' },
      'step-s': { type: 'string', default: '10' },
      'drain-s': { type: 'string', default: '45' },
      'budget-s': { type: 'string', default: '150' },
      'log-file': { type: 'string' },
      puts: { type: 'string', default: '400' },
      'put-concurrency': { type: 'string', default: '32' },
      'value-transfer': { type: 'string', default: 'off,on' },
      'max-batch': { type: 'string', default: String(Limits.maxBatchPackets) },
      refine: { type: 'string', default: '2' },
      name: { type: 'string', default: 'relay-throughput' },
    },
  });
  const routeCounts = values.routes.split(',').map(Number);
  const startRate = Number(values['start-rate']);
  const stepS = Number(values['step-s']);
  const drainS = Number(values['drain-s']);
  const budgetMs = Number(values['budget-s']) * 1000;
  const maxBatch = Number(values['max-batch']);
  const refine = Number(values.refine);
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const resultsDir = join(REPO_ROOT, 'test', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'medbridge-throughput-'));
  const hospitalA = FabricClient.open('HospitalA');
  const hospitalB = FabricClient.open('HospitalB');
  const a = new Chaincode(hospitalA, A);
  const b = new Chaincode(hospitalB, B);
  const admin = new CrossChainAdmin();
  const packetTypes: PacketType[] = ['ping'];
  try {
    log(`plain puts on ${B}: ${values.puts} RegisterPatient with fresh keys, ${values['put-concurrency']} in flight`);
    const puts = await plainPuts(b, Number(values.puts), Number(values['put-concurrency']));
    log(`  ${puts.perSec.toFixed(1)} per second`);
    const valueTransferOn = () =>
      a.incentive
        .getParams()
        .then((p) => (p as { active?: boolean }).active === true)
        .catch(() => false);
    const modes = values['value-transfer'].split(',').map((m) => m.trim());
    for (const m of modes) if (m !== 'off' && m !== 'on') throw new Error(`--value-transfer takes off and/or on, not ${m}`);

    const maxRoutes = Math.max(...routeCounts);
    const routeIds = Array.from({ length: maxRoutes }, (_, i) => `tp-${i + 1}`);
    log(`routes: ${routeIds.length} (opened once, reused)`);
    for (const r of routeIds) await admin.ensureRoute(A, B, r, packetTypes, { maxPackets: 1_000_000, windowMs: 60_000 });
    // The relay follows chain-a from the block of a fresh heartbeat: no history to read first.
    const from = (await a.system.heartbeat('throughput-start')).blockNumber;
    const orgs = pickRelayOrgs(A, B);
    const logger = values['log-file'] === undefined ? undefined : createLogger({ name: 'relay-throughput', level: 'info', destination: values['log-file'] });
    const relay = new Relay({ from: A, to: B, sourceOrg: orgs.source, destOrg: orgs.dest, checkpointFile: join(work, 'checkpoint.json'), routes: routeIds, startBlock: from, maxBatch, logger });
    const relayDone = relay.run();
    const runs: ModeRun[] = [];
    try {
      for (const mode of modes) {
        if (mode === 'on') {
          const gov = new ValueGovernance(A);
          try {
            const setup = await gov.ensureValueTransfer();
            log(`value transfer on ${A}: ${setup.steps.length === 0 ? 'already on' : setup.steps.join('; ')}`);
          } finally {
            gov.close();
          }
        } else if (await valueTransferOn()) {
          runs.push({ valueTransfer: false, skipped: `value transfer is already on on ${A}, and governance has no action that switches it off`, sustainedPerSec: {}, budgetEnded: [], ratio: 0, steps: [] });
          log('value transfer off: skipped (already on)');
          continue;
        }
        const valueTransfer = await valueTransferOn();
        log(`value transfer ${valueTransfer ? 'on' : 'off'}`);
        const modeBefore = await batchSnapshot(relay);
        const steps: Step[] = [];
        const sustainedPerSec: Record<string, number> = {};
        const resolutionPerSec: Record<string, number | null> = {};
        const budgetEnded: string[] = [];
        for (const n of routeCounts) {
          const routes = routeIds.slice(0, n);
          // Each route count has its own budget: one that sustains high rates leaves the next its time.
          const countStarted = Date.now();
          const inBudget = () => Date.now() - countStarted < budgetMs;
          const tryRate = async (rate: number): Promise<boolean> => {
            const before = await batchSnapshot(relay);
            const step = await runStep({ a, b, routes, rate, stepS, drainS, log });
            step.batches = batchesBetween(before, await batchSnapshot(relay));
            log(`  batches: ${JSON.stringify(step.batches)}`);
            steps.push(step);
            // Let a backlog go before the next step, so each starts clean.
            if (!step.sustained) while (relay.status().inFlight > 0 && inBudget()) await sleep(1000);
            return step.sustained;
          };
          let ok = 0;
          let failed: number | undefined;
          for (let rate = startRate; failed === undefined && inBudget(); rate *= 2) {
            if (await tryRate(rate)) ok = rate;
            else failed = rate;
          }
          for (let k = 0; k < refine && failed !== undefined && ok > 0 && inBudget(); k++) {
            const mid = Math.round((ok + failed) / 2);
            if (mid <= ok || mid >= failed) break;
            if (await tryRate(mid)) ok = mid;
            else failed = mid;
          }
          // ok only rises (a refining rate lies above it), so it is the highest rate sustained.
          sustainedPerSec[String(n)] = ok;
          resolutionPerSec[String(n)] = failed === undefined ? null : failed - ok;
          // Every rate tried was sustained: the budget, not a failure, ended the climb.
          if (failed === undefined && ok > 0) budgetEnded.push(String(n));
        }
        const ratioByRoutes: Record<string, number> = {};
        for (const n of routeCounts) ratioByRoutes[String(n)] = Math.round((sustainedPerSec[String(n)]! / puts.perSec) * 1000) / 1000;
        const best = Math.max(...Object.values(sustainedPerSec));
        runs.push({ valueTransfer, sustainedPerSec, resolutionPerSec, budgetEnded, ratio: Math.round((best / puts.perSec) * 1000) / 1000, ratioByRoutes, steps, batches: batchesBetween(modeBefore, await batchSnapshot(relay)) });
      }
    } finally {
      relay.stop();
      await relayDone;
      relay.close();
    }
    const measured = runs.filter((r) => r.skipped === undefined);
    const off = measured.find((r) => !r.valueTransfer);
    const on = measured.find((r) => r.valueTransfer);
    const main = off ?? on;
    if (!main) throw new Error('no value-transfer mode was measured');
    const result = {
      name: values.name,
      date: new Date().toISOString(),
      commit: sourceCommit(),
      machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      command: process.env.BENCH_COMMAND ?? 'make bench',
      argv: process.argv.slice(2),
      durationS: (Date.now() - started) / 1000,
      // The headline figures are value transfer off's when it ran, else on's; `runs` has both.
      valueTransfer: main.valueTransfer,
      settings: { stepS, drainS, startRate, budgetSPerRouteCount: budgetMs / 1000, maxBatch, refine, rates: 'total over the routes, doubling from the start rate for every route count until one is not sustained, then `refine` steps halving the interval', rule: 'sustained: no send refused, and every packet of the step committed on chain-a, received on chain-b exactly once and acknowledged, read from both ledgers, within max(5 s, step/2) after the schedule ended (the last send due); the drain is timed by point reads polled every 200 ms, and every packet is then read on both ledgers' },
      plainPut: puts,
      sustainedPerSec: main.sustainedPerSec,
      resolutionPerSec: main.resolutionPerSec,
      budgetEnded: main.budgetEnded,
      ratio: main.ratio,
      ratioByRoutes: main.ratioByRoutes,
      ...(on && on !== main ? { valueTransferOn: { sustainedPerSec: on.sustainedPerSec, resolutionPerSec: on.resolutionPerSec, budgetEnded: on.budgetEnded, ratio: on.ratio, ratioByRoutes: on.ratioByRoutes } } : {}),
      runs,
    };
    writeFileSync(join(resultsDir, `${values.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify({ sustainedPerSec: result.sustainedPerSec, plainPutPerSec: Math.round(puts.perSec * 10) / 10, ratio: result.ratio, valueTransfer: result.valueTransfer, valueTransferOn: on?.sustainedPerSec })}\nresults: test/bench/results/${values.name}.json\n`);
    return 0;
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
