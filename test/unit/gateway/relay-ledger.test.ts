/**
 * The relay benches' batch size read-back (gateway/src/bench/relay-ledger.ts): the relay's
 * `medbridge_relay_batch_size` histogram turned into transactions by packets carried, per leg,
 * between two snapshots.
 */
import { batchesBetween, batchSnapshot } from '../../../gateway/src/bench/relay-ledger';
import { RelayMetrics } from '../../../gateway/src/relay/metrics';

const labels = { from: 'chain-a', to: 'chain-b' };

describe('batch sizes between two snapshots of the relay histogram', () => {
  it('counts each transaction once, in the range of its bucket, per leg', async () => {
    const relay = { metrics: new RelayMetrics() };
    for (const n of [1, 2, 3, 4, 7, 32]) relay.metrics.batchSize.observe({ ...labels, stage: 'receive' }, n);
    relay.metrics.batchSize.observe({ ...labels, stage: 'acknowledge' }, 5);
    expect(batchesBetween({}, await batchSnapshot(relay))).toEqual({
      acknowledge: { transactions: 1, packets: 5, sizes: { '5-8': 1 } },
      receive: { transactions: 6, packets: 49, sizes: { '1': 1, '2': 1, '3-4': 2, '5-8': 1, '17-32': 1 } },
    });
  });

  it('leaves out what the relay did before the first snapshot', async () => {
    const relay = { metrics: new RelayMetrics() };
    relay.metrics.batchSize.observe({ ...labels, stage: 'receive' }, 1);
    relay.metrics.batchSize.observe({ ...labels, stage: 'receive' }, 16);
    const before = await batchSnapshot(relay);
    relay.metrics.batchSize.observe({ ...labels, stage: 'receive' }, 1);
    expect(batchesBetween(before, await batchSnapshot(relay))).toEqual({ receive: { transactions: 1, packets: 1, sizes: { '1': 1 } } });
  });
});
