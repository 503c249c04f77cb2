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
