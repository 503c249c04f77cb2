/** Prometheus metrics of a relay (one registry per relay process). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class RelayMetrics {
  readonly registry = new Registry();
  readonly packetsRelayed: Counter<'from' | 'to' | 'type' | 'outcome'>;
  readonly acksRelayed: Counter<'from' | 'to' | 'kind'>;
  readonly failures: Counter<'from' | 'to' | 'stage' | 'reason'>;
  readonly duplicates: Counter<'from' | 'to' | 'stage'>;
  readonly latency: Histogram<'from' | 'to' | 'type'>;
  readonly checkpointBlock: Gauge<'from' | 'to'>;
  readonly phases: Histogram<'from' | 'to' | 'phase'>;
  readonly batchSize: Histogram<'from' | 'to' | 'stage'>;

  constructor() {
    this.packetsRelayed = new Counter({
      name: 'medbridge_relay_packets_relayed_total',
      help: 'Packets this relay delivered to the destination (received or recorded as timed out)',
      labelNames: ['from', 'to', 'type', 'outcome'],
      registers: [this.registry],
    });
    this.acksRelayed = new Counter({
      name: 'medbridge_relay_acks_relayed_total',
      help: 'Acknowledgements and timeouts this relay settled on the source',
      labelNames: ['from', 'to', 'kind'],
      registers: [this.registry],
    });
    this.failures = new Counter({
      name: 'medbridge_relay_failures_total',
      help: 'Failed attempts by stage and reason (each is retried)',
      labelNames: ['from', 'to', 'stage', 'reason'],
      registers: [this.registry],
    });
    this.duplicates = new Counter({
      name: 'medbridge_relay_duplicates_total',
      help: 'Steps found already done on the ledger (after a restart or by another relay)',
      labelNames: ['from', 'to', 'stage'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'medbridge_relay_end_to_end_seconds',
      help: 'From the packet send (source transaction time) to its receipt committed on the destination',
      labelNames: ['from', 'to', 'type'],
      buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
      registers: [this.registry],
    });
    this.phases = new Histogram({
      name: 'medbridge_relay_phase_seconds',
      help: 'Time of each step of a leg: <leg>.prepare (reads before the proof), <leg>.proof (signatures collected), <leg>.commit (transaction submitted until committed); leg receive or acknowledge',
      labelNames: ['from', 'to', 'phase'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
      registers: [this.registry],
    });
    this.batchSize = new Histogram({
      name: 'medbridge_relay_batch_size',
      help: 'Packets (stage receive) or acknowledgements (stage acknowledge) carried by each proof and transaction; 1 is the single path',
      labelNames: ['from', 'to', 'stage'],
      buckets: [1, 2, 4, 8, 16, 32],
      registers: [this.registry],
    });
    this.checkpointBlock = new Gauge({
      name: 'medbridge_relay_checkpoint_block',
      help: 'Source block the relay has fully handled up to',
      labelNames: ['from', 'to'],
      registers: [this.registry],
    });
  }
}
