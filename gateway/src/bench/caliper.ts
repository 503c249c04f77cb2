/**
 * `make bench-caliper` (network/scripts/bench.sh caliper): Hyperledger Caliper 0.6.0 with its
 * Fabric peer-gateway connector against the running embedded network, for two workloads
 * (test/bench/caliper/workloads):
 *
 * - plain-put: `Consent:RegisterPatient` of a fresh key on chain-b as HospitalB (the plain puts
 *   of the relay-throughput bench);
 * - consent-grant: a patient-signed `Consent:GrantConsent` on chain-a as HospitalA.
 *
 * Each runs a fixed-rate round and a fixed-load round of `--seconds` (caliper-config.ts). Caliper
 * is installed and bound in test/bench/caliper by bench.sh; its workloads are compiled by
 * test/bench/caliper/tsconfig.json. The network and benchmark configurations are generated from
 * the connection profiles into a temporary directory (they point at the runtime's certificates
 * and keys; nothing is copied) and removed after a successful run.
 *
 *   node gateway/dist/bench/caliper.js [--seconds 20] [--workers 2] [--put-rate 20] [--put-load 32]
 *                                      [--grant-rate 10] [--grant-load 16] [--patients 8]
 *                                      [--timeout-s 600] [--name caliper]
 *
 * Writes test/bench/results/<name>.json: Caliper's figures per round (successes, failures, send
 * rate and throughput in TPS, latency avg/min/max), Caliper's version, the command, the commit.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../config';
import { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { loadProfile } from '../fabric/profile';
import { sourceCommit } from '../source-commit';
import { CALIPER_IDENTITY, caliperBenchmark, caliperNetworkConfig, parseCaliperResults, type CaliperRoundResult, type CaliperWorkload } from './caliper-config';

const CALIPER_DIR = join(REPO_ROOT, 'test', 'bench', 'caliper');
const WORKLOADS = join(REPO_ROOT, '.runtime', 'bench', 'test', 'bench', 'caliper', 'workloads');
const RESULTS = join(REPO_ROOT, 'test', 'bench', 'results');
const A = 'chain-a';
const B = 'chain-b';

function installedVersion(pkg: string): string {
  const file = join(CALIPER_DIR, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) throw new Error(`${pkg} is not installed in ${relative(REPO_ROOT, CALIPER_DIR)}: run \`make bench-caliper\` (it installs and binds Caliper there)`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Runs Caliper's manager, its output teed to `logFile` and stderr; resolves with its exit code (null: killed). */
function runCaliper(args: string[], cwd: string, logFile: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile);
    // Its own process group, so that a timeout stops the manager and the workers it forked.
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const tee = (chunk: Buffer) => {
      log.write(chunk);
      process.stderr.write(chunk);
    };
    child.stdout.on('data', tee);
    child.stderr.on('data', tee);
    const timer = setTimeout(() => {
      process.stderr.write(`caliper: no result after ${timeoutMs / 1000} s; stopping it\n`);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      log.end(() => resolve(code));
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      workers: { type: 'string', default: '2' },
      'put-rate': { type: 'string', default: '20' },
      'put-load': { type: 'string', default: '32' },
      'grant-rate': { type: 'string', default: '10' },
      'grant-load': { type: 'string', default: '16' },
      patients: { type: 'string', default: '8' },
      'timeout-s': { type: 'string', default: '600' },
      name: { type: 'string', default: 'caliper' },
    },
  });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const versions = {
    version: installedVersion('@hyperledger/caliper-cli'),
    caliperFabric: installedVersion('@hyperledger/caliper-fabric'),
    fabricGateway: installedVersion('@hyperledger/fabric-gateway'),
    grpcJs: installedVersion('@grpc/grpc-js'),
  };
  for (const w of ['plain-put', 'consent-grant']) {
    if (!existsSync(join(WORKLOADS, `${w}.js`))) throw new Error(`workload ${w} is not compiled: npx tsc -p test/bench/caliper/tsconfig.json`);
  }

  const hospitalA = loadProfile('HospitalA');
  const hospitalB = loadProfile('HospitalB');
  const clientA = FabricClient.open(hospitalA);
  const chainIdA = await new Chaincode(clientA, A).chainId().finally(() => clientA.close());

  const target = (mspId: string, channel: string) => ({ channel, contractId: hospitalA.chaincode, mspId, identity: CALIPER_IDENTITY });
  const workloads: CaliperWorkload[] = [
    {
      name: 'plain-put',
      description: `Consent:RegisterPatient of a fresh P-256 key on ${B} as ${hospitalB.mspId}`,
      module: join(WORKLOADS, 'plain-put.js'),
      arguments: target(hospitalB.mspId, B),
      tps: Number(values['put-rate']),
      load: Number(values['put-load']),
    },
    {
      name: 'consent-grant',
      description: `patient-signed Consent:GrantConsent on ${A} as ${hospitalA.mspId}`,
      module: join(WORKLOADS, 'consent-grant.js'),
      arguments: { ...target(hospitalA.mspId, A), chainId: chainIdA, grantee: 'HospitalCMSP', patients: Number(values.patients) },
      tps: Number(values['grant-rate']),
      load: Number(values['grant-load']),
    },
  ];
  const seconds = Number(values.seconds);
  const workers = Number(values.workers);
  const benchmark = caliperBenchmark({ workers, seconds, workloads });
  const network = caliperNetworkConfig([hospitalA, hospitalB], [A, B]);

  const work = mkdtempSync(join(tmpdir(), 'medbridge-caliper-'));
  const networkFile = join(work, 'network.yaml');
  const benchFile = join(work, 'benchmark.yaml');
  const logFile = join(work, 'caliper.log');
  // YAML is a superset of JSON: Caliper reads these as its usual YAML files.
  writeFileSync(networkFile, `${JSON.stringify(network, null, 2)}\n`);
  writeFileSync(benchFile, `${JSON.stringify(benchmark, null, 2)}\n`);
  const cli = join(CALIPER_DIR, 'node_modules', '@hyperledger', 'caliper-cli', 'caliper.js');
  const args = [cli, 'launch', 'manager', '--caliper-workspace', work, '--caliper-networkconfig', networkFile, '--caliper-benchconfig', benchFile, '--caliper-flow-only-test', '--caliper-report-path', join(work, 'report.html')];
  log(`caliper ${versions.version} (fabric-gateway ${versions.fabricGateway}): ${benchmark.test.rounds.length} rounds of ${seconds} s, ${workers} workers; configuration in ${work}`);

  const started = Date.now();
  const code = await runCaliper(args, work, logFile, Number(values['timeout-s']) * 1000);
  const wallSeconds = Math.round((Date.now() - started) / 1000);
  let rows: CaliperRoundResult[];
  try {
    rows = parseCaliperResults(readFileSync(logFile, 'utf8'));
  } catch (e) {
    log(`caliper: exit ${code}; ${(e as Error).message}; its log: ${logFile}`);
    return 1;
  }
  const rounds = benchmark.test.rounds.map((r) => {
    const row = rows.find((x) => x.label === r.label);
    const figures = row ? { succeeded: row.succeeded, failed: row.failed, sendRateTps: row.sendRateTps, throughputTps: row.throughputTps, latencyS: row.latencyS } : { missing: true };
    const workload = workloads.find((w) => r.label.startsWith(`${w.name}-`))!;
    return {
      label: r.label,
      workload: workload.name,
      transaction: workload.name === 'plain-put' ? 'Consent:RegisterPatient' : 'Consent:GrantConsent',
      channel: workload.arguments.channel,
      org: workload.arguments.mspId,
      rateControl: r.rateControl,
      seconds: r.txDuration,
      ...figures,
    };
  });

  const out = {
    command: process.env.BENCH_COMMAND ?? 'make bench-caliper',
    caliperCommand: ['npx caliper', ...args.slice(1)].join(' ').split(work).join('<tmp>'),
    date: new Date().toISOString(),
    commit: sourceCommit(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model.split(' ').slice(0, 2).join(' '), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: Math.round(loadavg()[0]! * 100) / 100 },
    network: 'embedded net1, native or docker runtime as started; loopback only',
    caliper: { ...versions, connector: 'peer-gateway (caliper bind --caliper-bind-sut fabric:2.4)', workers, exitCode: code, wallSeconds },
    units: 'Caliper\'s own: throughput and send rate in transactions per second, latency in seconds (submit to commit status)',
    rounds,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${values.name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  for (const r of rounds) {
    const f = r as Partial<CaliperRoundResult>;
    process.stdout.write(`${r.label.padEnd(22)} ${String(f.throughputTps ?? '-').padStart(6)} TPS  send ${String(f.sendRateTps ?? '-').padStart(6)}/s  latency avg ${f.latencyS?.avg ?? '-'} s max ${f.latencyS?.max ?? '-'} s  ok ${f.succeeded ?? '-'} failed ${f.failed ?? '-'}\n`);
  }
  log(`caliper: ${wallSeconds} s; results in ${relative(REPO_ROOT, join(RESULTS, `${values.name}.json`))}`);
  const bad = rounds.filter((r) => !('succeeded' in r) || (r as CaliperRoundResult).succeeded === 0);
  if (code !== 0 || bad.length > 0) {
    log(`caliper: exit ${code}${bad.length ? `; rounds without a committed transaction: ${bad.map((r) => r.label).join(', ')}` : ''}; its log: ${logFile}`);
    return 1;
  }
  rmSync(work, { recursive: true, force: true });
  return 0;
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench-caliper: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
