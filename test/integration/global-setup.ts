/**
 * Integration suite set-up: takes a lease on the network (network.sh acquire): a network that is
 * already up is reused (its chaincode redeployed if chaincode/dist changed), otherwise it is
 * started. global-teardown.ts releases the lease; the network stops only when the last test run
 * using a network that a test run started leaves (MEDBRIDGE_KEEP_NETWORK=1 keeps it up).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETWORK_SCRIPT, networkNames, REPO_ROOT, runNetworkScript } from './support/network';

export default async function globalSetup(): Promise<void> {
  // The deployed chaincode is the compiled one: make sure it is current.
  const tsc = spawnSync('npx', ['tsc', '-b', 'chaincode'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('the chaincode does not compile (npx tsc -b chaincode); fix it before the integration tests');

  // FABRIC_RUNTIME=native|docker (default native) reaches network.sh through the environment: the
  // same networks as processes or as containers (network/DOCKER.md); a network already up with
  // the other runtime is refused with a clear message rather than mixed.
  const runtime = process.env.FABRIC_RUNTIME || 'native';
  if (runtime !== 'native' && runtime !== 'docker') throw new Error(`FABRIC_RUNTIME=${runtime}: expected native or docker`);
  process.env.FABRIC_RUNTIME = runtime;
  process.stderr.write(`\nintegration: network(s) ${networkNames().join(',')} (${runtime} runtime) for test run ${process.pid}\n`);
  // network.sh writes the reason of a failure to MEDBRIDGE_ERROR_FILE: the error thrown here
  // repeats it, after the clean-up output that follows it on the terminal.
  const dir = mkdtempSync(join(tmpdir(), 'medbridge-setup-'));
  process.env.MEDBRIDGE_ERROR_FILE = join(dir, 'reason');
  try {
    if (runNetworkScript('acquire') !== 0) {
      const reason = failureReason();
      // jest skips the teardown when the set-up throws: give the lease back (and stop what this
      // run started) now.
      runNetworkScript('release');
      throw new Error(`network.sh acquire failed: ${reason} (logs under .runtime/<net>/logs, MEDBRIDGE_KEEP_NETWORK=1 keeps them)`);
    }
    // Network 2 (net2.test.ts): a second, independent network with its own lease.
    for (const net of extraNetworks()) {
      if (runExtra(net, 'acquire') !== 0) {
        const reason = failureReason();
        runExtra(net, 'release');
        runNetworkScript('release');
        throw new Error(`network.sh acquire of ${net} failed: ${reason} (logs under .runtime/${net}/logs)`);
      }
    }
  } finally {
    delete process.env.MEDBRIDGE_ERROR_FILE;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reason network.sh recorded last (its `error:` message), on one line, its last 2000 characters. */
function failureReason(): string {
  const file = process.env.MEDBRIDGE_ERROR_FILE;
  if (!file || !existsSync(file)) return 'no reason recorded (see above)';
  const reason = readFileSync(file, 'utf8').replace(/\s+/g, ' ').trim();
  return reason.length > 2000 ? `...${reason.slice(-2000)}` : reason;
}

/** Networks the suite starts beside NETWORKS: net2 unless MEDBRIDGE_NET2=0 or NETWORKS names it. */
export function extraNetworks(): string[] {
  return process.env.MEDBRIDGE_NET2 === '0' || networkNames().includes('net2') ? [] : ['net2'];
}

export function runExtra(net: string, command: 'acquire' | 'release'): number {
  const res = spawnSync(NETWORK_SCRIPT, [command, String(process.pid)], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NETWORKS: net } });
  return res.status ?? 1;
}
