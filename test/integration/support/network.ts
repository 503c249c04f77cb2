/**
 * The embedded network as the integration tests see it: the script that runs it, the
 * description it writes (`<runtime>/<net>/network.json`) and environments for Fabric's own CLI.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const NETWORK_SCRIPT = join(REPO_ROOT, 'network', 'scripts', 'network.sh');

/** The networks the suite runs against: NETWORKS=net1,net2 or NETWORK=net1 (default net1). */
export function networkNames(): string[] {
  return (process.env.NETWORKS ?? process.env.NETWORK ?? 'net1').split(',').map((n) => n.trim()).filter(Boolean);
}

export function runtimeRoot(): string {
  return process.env.MEDBRIDGE_RUNTIME ?? join(REPO_ROOT, '.runtime');
}

export interface NetworkDescription {
  network: string;
  runtimeDir: string;
  chaincode: string;
  tools?: { fabricBin: string; peerCliConfig: string };
  ordererOrg: {
    mspId: string;
    tlsCaCert: string;
    orderers: { name: string; endpoint: string; tlsRootCert: string }[];
  };
  orgs: { name: string; mspId: string; profile: string; peers: { name: string; endpoint: string }[] }[];
  channels: { name: string; members: string[]; orderers: string[]; endorsement: string; lifecycleEndorsement: string }[];
}

export function readNetwork(name = networkNames()[0] ?? 'net1'): NetworkDescription {
  const file = join(runtimeRoot(), name, 'network.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: the network ${name} is not up (make network-up)`);
  return JSON.parse(readFileSync(file, 'utf8')) as NetworkDescription;
}

/**
 * Runs network.sh with a command; output goes to the terminal, the exit status is returned.
 * `acquire`/`release` take this test run's lease (its pid): reuse or start the network, and stop
 * it only when this run is the last one using a network a test run started.
 */
export function runNetworkScript(command: 'up' | 'down' | 'deploy' | 'check' | 'status' | 'acquire' | 'release', quiet = false): number {
  const args = command === 'acquire' || command === 'release' ? [command, String(process.pid)] : [command];
  const res: SpawnSyncReturns<Buffer> = spawnSync(NETWORK_SCRIPT, args, {
    cwd: REPO_ROOT,
    stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  if (res.error) throw res.error;
  return res.status ?? 1;
}

/**
 * Node processes of the native runtime, by the pid files it writes
 * (<runtime>/<net>/pids/<name>.pid, e.g. peer0.hospitala.net1.medbridge).
 */
export function nativePid(name: string, net = 'net1'): number | undefined {
  const f = join(runtimeRoot(), net, 'pids', `${name}.pid`);
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : undefined;
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `network.sh up` on the native runtime: starts again only the processes that are missing. */
export function restartMissingNodes(): void {
  const r = spawnSync(NETWORK_SCRIPT, ['up'], { cwd: REPO_ROOT, env: { ...process.env, FABRIC_RUNTIME: 'native' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`network.sh up failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
}
