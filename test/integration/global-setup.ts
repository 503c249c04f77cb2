/**
 * Integration suite set-up: reuse a network that is already up (redeploying the chaincode if
 * chaincode/dist changed since), or start one with `network.sh up` and remember that we did,
 * so that the teardown stops only what this run started.
 */
import { spawnSync } from 'node:child_process';
import { networkNames, REPO_ROOT, runNetworkScript } from './support/network';

declare global {
  // Read by global-teardown.ts (jest runs both in the same process).
  var __MEDBRIDGE_STARTED_NETWORK__: boolean | undefined;
}

export default async function globalSetup(): Promise<void> {
  const nets = networkNames().join(',');
  // The deployed chaincode is the compiled one: make sure it is current.
  const tsc = spawnSync('npx', ['tsc', '-b', 'chaincode'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('the chaincode does not compile (npx tsc -b chaincode); fix it before the integration tests');

  if (runNetworkScript('check', true) === 0) {
    process.stderr.write(`\nintegration: reusing the running network(s) ${nets}; it stays up after the tests\n`);
    if (runNetworkScript('deploy') !== 0) throw new Error('network.sh deploy failed (see above)');
    globalThis.__MEDBRIDGE_STARTED_NETWORK__ = false;
    return;
  }
  process.stderr.write(`\nintegration: starting network(s) ${nets} (network.sh up)\n`);
  if (runNetworkScript('up') !== 0) {
    // jest skips the teardown when the set-up throws: stop what this run started now. Keep it
    // on request, to read the logs.
    if (process.env.MEDBRIDGE_KEEP_NETWORK !== '1') runNetworkScript('down');
    throw new Error('network.sh up failed (see above; logs under .runtime/<net>/logs, MEDBRIDGE_KEEP_NETWORK=1 keeps them)');
  }
  globalThis.__MEDBRIDGE_STARTED_NETWORK__ = true;
}
