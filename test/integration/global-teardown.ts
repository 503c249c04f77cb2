/**
 * Integration suite teardown: gives this run's lease back. The network stops only if a test run
 * started it and no other test run still uses it; MEDBRIDGE_KEEP_NETWORK=1 keeps it up.
 */
import { runNetworkScript } from './support/network';
import { extraNetworks, runExtra } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const extra = extraNetworks().filter((net) => runExtra(net, 'release') !== 0);
  if (runNetworkScript('release') !== 0) throw new Error('network.sh release failed (see above)');
  if (extra.length > 0) throw new Error(`network.sh release of ${extra.join(',')} failed (see above)`);
}
