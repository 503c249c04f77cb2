/**
 * An in-process relay chain-a -> chain-b for one test's routes (from a given block on, with BLS
 * signer services when the routes take aggregate proofs), with a short backoff: the production
 * Relay, started and stopped by the test.
 */
import { join } from 'node:path';
import type { SignerEndpoint } from '../../../gateway/src/proofs';
import { pickRelayOrgs, Relay } from '../../../gateway/src/relay/relay';

export interface TestRelay {
  relay: Relay;
  /** Stops the relay and waits for its loop to end. */
  stop(): Promise<void>;
}

export function startTestRelay(routes: string[], dir: string, opts: { startBlock?: bigint; signers?: Record<string, readonly SignerEndpoint[]> } = {}): TestRelay {
  const orgs = pickRelayOrgs('chain-a', 'chain-b');
  const relay = new Relay({
    from: 'chain-a',
    to: 'chain-b',
    sourceOrg: orgs.source,
    destOrg: orgs.dest,
    checkpointFile: join(dir, 'chain-a--chain-b.checkpoint.json'),
    routes,
    ...(opts.startBlock === undefined ? {} : { startBlock: opts.startBlock }),
    ...(opts.signers === undefined ? {} : { signers: opts.signers }),
    backoff: { initialMs: 100, maxMs: 2000, factor: 2 },
  });
  const done = relay.run();
  return {
    relay,
    stop: async () => {
      relay.stop();
      await done;
      relay.close();
    },
  };
}
