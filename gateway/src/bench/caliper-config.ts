/**
 * Hyperledger Caliper's inputs and output for `make bench-caliper` (caliper.ts runs it), as pure
 * functions over plain data:
 *
 * - `caliperNetworkConfig`: Caliper's network configuration (format 2.0.0) from the orgs'
 *   connection profiles: per org its user identity (paths to the runtime's certificate and key,
 *   nothing copied) and its peers (endpoint, TLS root certificate, the TLS name on loopback).
 *   Caliper's peer-gateway connector dials the first peer of each org, server-side TLS only.
 * - `caliperBenchmark`: the benchmark configuration: per workload a fixed-rate round and a
 *   fixed-load round of `seconds` each.
 * - `parseCaliperResults`: the rounds of Caliper's "All test results" table (its log), the
 *   figures Caliper reports (TPS, latency avg/min/max in seconds, successes, failures).
 *
 * @example
 *   const network = caliperNetworkConfig([profileA, profileB], ['chain-a', 'chain-b']);
 *   const rounds = parseCaliperResults(readFileSync(logFile, 'utf8'));
 */
import type { Profile } from '../fabric/profile';

/** The identity name every org's user has in the generated network configuration. */
export const CALIPER_IDENTITY = 'user';

export interface CaliperNetworkConfig {
  name: string;
  version: '2.0.0';
  caliper: { blockchain: 'fabric'; sutOptions: { mutualTls: false } };
  channels: Array<{ channelName: string; contracts: Array<{ id: string; contractID: string }> }>;
  organizations: Array<{
    mspid: string;
    identities: { certificates: Array<{ name: string; clientPrivateKey: { path: string }; clientSignedCert: { path: string } }> };
    peers: Array<{ endpoint: string; tlsCACerts: { path: string }; grpcOptions?: Record<string, string> }>;
  }>;
}

/** Caliper's network configuration for `profiles` (one org each) on `channels`. */
export function caliperNetworkConfig(profiles: readonly Profile[], channels: readonly string[]): CaliperNetworkConfig {
  if (profiles.length === 0) throw new Error('caliper: no connection profile to describe');
  const chaincodes = new Set(profiles.map((p) => p.chaincode));
  if (chaincodes.size !== 1) throw new Error(`caliper: the profiles name different chaincodes (${[...chaincodes].join(', ')})`);
  for (const ch of channels) {
    if (!profiles.some((p) => p.channels.includes(ch))) throw new Error(`caliper: no profile is a member of ${ch}`);
  }
  const chaincode = profiles[0]!.chaincode;
  return {
    name: `medbridge-${profiles[0]!.network}`,
    version: '2.0.0',
    caliper: { blockchain: 'fabric', sutOptions: { mutualTls: false } },
    // Caliper keys contracts by contractID across channels; requests name the channel and the id.
    channels: channels.map((channelName) => ({ channelName, contracts: [{ id: chaincode, contractID: `${chaincode}@${channelName}` }] })),
    organizations: profiles.map((p) => ({
      mspid: p.mspId,
      identities: {
        certificates: [
          { name: CALIPER_IDENTITY, clientPrivateKey: { path: p.identities.user.privateKey }, clientSignedCert: { path: p.identities.user.certificate } },
        ],
      },
      peers: p.peers.map((peer) => ({
        endpoint: peer.endpoint,
        tlsCACerts: { path: peer.tlsRootCert },
        ...(peer.serverNameOverride ? { grpcOptions: { 'ssl-target-name-override': peer.serverNameOverride } } : {}),
      })),
    })),
  };
}

/** One workload of the benchmark: its module and the arguments each worker receives. */
export interface CaliperWorkload {
  /** Round label prefix, e.g. `plain-put`. */
  name: string;
  description: string;
  /** Absolute path of the compiled workload module. */
  module: string;
  arguments: Record<string, unknown>;
  /** Fixed-rate round: transactions per second over all workers. */
  tps: number;
  /** Fixed-load round: transactions kept in flight over all workers. */
  load: number;
}

export interface CaliperBenchmarkOptions {
  workers: number;
  seconds: number;
  workloads: readonly CaliperWorkload[];
}

export interface CaliperRoundConfig {
  label: string;
  description: string;
  txDuration: number;
  rateControl: { type: 'fixed-rate'; opts: { tps: number } } | { type: 'fixed-load'; opts: { transactionLoad: number } };
  workload: { module: string; arguments: Record<string, unknown> };
}

export interface CaliperBenchmark {
  test: { name: string; description: string; workers: { number: number }; rounds: CaliperRoundConfig[] };
}

/** Per workload a fixed-rate round (`<name>-rate-<tps>`) then a fixed-load round (`<name>-load-<n>`). */
export function caliperBenchmark(o: CaliperBenchmarkOptions): CaliperBenchmark {
  if (!(o.workers >= 1) || !(o.seconds >= 1)) throw new Error('caliper: workers and seconds must be at least 1');
  const rounds = o.workloads.flatMap((w): CaliperRoundConfig[] => {
    if (!(w.tps > 0) || !(w.load >= 1)) throw new Error(`caliper: ${w.name} needs a positive rate and load`);
    const workload = { module: w.module, arguments: w.arguments };
    return [
      { label: `${w.name}-rate-${w.tps}`, description: `${w.description}; fixed rate ${w.tps}/s`, txDuration: o.seconds, rateControl: { type: 'fixed-rate', opts: { tps: w.tps } }, workload },
      { label: `${w.name}-load-${w.load}`, description: `${w.description}; ${w.load} in flight`, txDuration: o.seconds, rateControl: { type: 'fixed-load', opts: { transactionLoad: w.load } }, workload },
    ];
  });
  return { test: { name: 'medbridge', description: 'plain puts and patient-signed consent grants on the embedded network', workers: { number: o.workers }, rounds } };
}

/** One row of Caliper's result table, in Caliper's units (latency in seconds); null where Caliper prints none. */
export interface CaliperRoundResult {
  label: string;
  succeeded: number;
  failed: number;
  sendRateTps: number | null;
  throughputTps: number | null;
  latencyS: { avg: number | null; min: number | null; max: number | null };
}

const COLUMNS = ['Name', 'Succ', 'Fail', 'Send Rate (TPS)', 'Max Latency (s)', 'Min Latency (s)', 'Avg Latency (s)', 'Throughput (TPS)'] as const;

function cells(line: string): string[] {
  return line
    .replace(/^\s*\|/, '')
    .replace(/\|\s*$/, '')
    .split('|')
    .map((c) => c.trim());
}

/**
 * The rows of the last "All test results" table in Caliper's console log (the summary it prints
 * after the last round; colours and timestamps ignored). Throws when the log has no such table.
 */
export function parseCaliperResults(log: string): CaliperRoundResult[] {
  // eslint-disable-next-line no-control-regex
  const text = log.replace(/\u001b\[[0-9;]*m/g, '');
  const at = text.lastIndexOf('### All test results ###');
  if (at === -1) throw new Error('caliper: the log has no "All test results" table (did every round run?)');
  const lines = text.slice(at).split('\n').slice(1);
  const rows: string[][] = [];
  for (const line of lines) {
    const t = line.trim();
    if (/^[|+][-|+]*$/.test(t)) continue; // a border or a rule between rows
    if (t.startsWith('|')) rows.push(cells(t));
    else if (t === '') continue;
    else if (rows.length > 0) break;
  }
  const header = rows[0];
  if (!header || COLUMNS.some((c) => !header.includes(c))) throw new Error(`caliper: unexpected result table header: ${JSON.stringify(header ?? [])}`);
  const col = (row: string[], name: (typeof COLUMNS)[number]) => row[header.indexOf(name)] ?? '';
  const num = (s: string) => {
    const n = Number(s);
    if (s === '' || !Number.isFinite(n)) throw new Error(`caliper: not a number in the result table: "${s}"`);
    return n;
  };
  // '-' (no success) and 'NaN' (no transaction at all) are figures Caliper could not compute.
  const orNull = (s: string) => (s === '-' || s === 'NaN' ? null : num(s));
  return rows.slice(1).map((row) => ({
    label: col(row, 'Name'),
    succeeded: num(col(row, 'Succ')),
    failed: num(col(row, 'Fail')),
    sendRateTps: orNull(col(row, 'Send Rate (TPS)')),
    throughputTps: orNull(col(row, 'Throughput (TPS)')),
    latencyS: { avg: orNull(col(row, 'Avg Latency (s)')), min: orNull(col(row, 'Min Latency (s)')), max: orNull(col(row, 'Max Latency (s)')) },
  }));
}
