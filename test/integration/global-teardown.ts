/**
 * Integration suite teardown: gives this run's lease back. The network stops only if a test run
 * started it and no other test run still uses it; MEDBRIDGE_KEEP_NETWORK=1 keeps it up.
 */
import { runNetworkScript } from './support/network';

export default async function globalTeardown(): Promise<void> {
  if (runNetworkScript('release') !== 0) throw new Error('network.sh release failed (see above)');
}
