/**
 * Integration suite teardown: stops the network only if global-setup started it, and keeps it
 * when MEDBRIDGE_KEEP_NETWORK=1 (to look at logs or rerun single tests quickly).
 */
import { runNetworkScript } from './support/network';

export default async function globalTeardown(): Promise<void> {
  if (globalThis.__MEDBRIDGE_STARTED_NETWORK__ !== true) return;
  if (process.env.MEDBRIDGE_KEEP_NETWORK === '1') {
    process.stderr.write('integration: MEDBRIDGE_KEEP_NETWORK=1, leaving the network up (make network-down stops it)\n');
    return;
  }
  if (runNetworkScript('down') !== 0) throw new Error('network.sh down failed (see above)');
}
