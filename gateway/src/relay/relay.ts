/**
 * The relay between two chains, one direction (`from` -> `to`); run a second one for the
 * way back. It follows the source's chaincode events from a durable checkpoint and, for
 * every PacketSent addressed to `to`, in order:
 *   1. skips it when the source already settled it (acknowledged, failed, timed out);
 *   2. unless the destination already holds a receipt: builds the proof of the source
 *      (gateway/src/proofs) and submits ReceivePacket — or RecordTimeout once the packet timed
 *      out — on the destination;
 *   3. builds the acknowledgement proof of the destination and submits AcknowledgePacket (or
 *      TimeoutPacket) on the source, in the route's acknowledgement queue, so that the route's
 *      next packet is delivered meanwhile;
 *   4. only then marks the event handled.
 * Steps 2 and 3 are one leg function run in each direction (runLeg): the chain that signed a
 * statement proves it to the chain that verifies it. The reads a packet needs (its status on the
 * source, its receipt on the destination, the epoch the destination knows, the route's scheme,
 * the source's current list) go out side by side, not one after another, and the two list reads
 * are kept per direction while they agree and no attempt fails (listViews); the acknowledgement
 * comes from the committed ReceivePacket's answer; proofs reach the peers through one open
 * gRPC/TLS client per peer for the relay's life (proofs/peer-clients.ts). Each leg's steps are
 * timed in the `medbridge_relay_phase_seconds` metric.
 * Each route has its own queue (route-queues.ts): packets of one route go strictly in order,
 * a packet that cannot be delivered blocks its own route only. The checkpoint is the
 * low-watermark of the stream: it moves past an event only when that event and every
 * event before it are handled, so a kill -9 at any point loses nothing; what was handled
 * beyond the watermark is seen again after the restart and found done on the ledger.
 * Every step is idempotent (the chains reject replays; PACKET_REPLAYED counts as done).
 * Batches (chaincode/PROTOCOL.md "Batches"): a route's job takes the run of its consecutive
 * ready packets (up to `maxBatch`) and offers it to a collector shared by every route
 * (run-collector.ts): at most two attempts are in flight per leg, and the runs of all routes
 * that became ready meanwhile go together under ONE proof and ONE transaction (ReceivePackets,
 * then AcknowledgePackets; one route's run is a batch statement, several routes' runs a runs
 * statement). Timeouts, routes proven by BLS signer services and `maxBatch` 1 take the single
 * path. An attempt that cannot be built or is refused (a packet timed out or already received,
 * a peer down...) is not retried: each of its runs sends its first packet the single path (which
 * retries, and finds a replay done) and the rest waits again as a run, so a packet that cannot
 * be delivered holds up its own route only. Each packet's event still passes the checkpoint
 * only once it is settled.
 * Each proof is in the scheme of the route on the chain that verifies it (relay-scheme.ts):
 * scheme 1 from the signing chain's own peers, or, on a route registered for the aggregate
 * scheme only, a BLS aggregate from that chain's signer services (`signers`). Route schemes
 * are cached per route and read again after an UNSUPPORTED_SCHEME rejection.
 * Failures are retried with backoff for as long as the relay runs: an unreachable peer or
 * a subgroup below threshold makes its route wait, never skip.
 */
import type { Logger } from 'pino';
import { Limits, type Acknowledgement, type Packet, type Proof, type ReceiptRecord, type VerificationNodeList } from '@medbridge/chaincode';
import { toClientError, usageError } from '../errors';
import { FabricClient } from '../fabric/client';
import { batchStatement, Chaincode, orAbsent, type ChaincodeEvent, type EventStream, type Submitted } from '../fabric/contracts';
import { profilesForChannel, type Profile } from '../fabric/profile';
import { silentLogger } from '../logger';
import { buildStatementProof, nodeListAt, PeerClients, sourceChain, type BuiltProof, type ListBoundStatement, type ProofOptions, type SignerEndpoint, type SourceChain } from '../proofs';
import { backoffDelay, classifyFailure, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from './backoff';
import { FileCheckpointer } from './checkpoint';
import { RelayMetrics } from './metrics';
import { proofOptionsFor, signerCount } from './relay-scheme';
import { RouteQueues, takeRun, Watermark, type StreamPosition } from './route-queues';
import { RunCollector, type OfferedRun } from './run-collector';

export interface RelayOptions {
  /** Source channel. */
  from: string;
  /** Destination channel. */
  to: string;
  /** A member org of the source channel (its user identity reads and submits there). */
  sourceOrg: Profile;
  /** A member org of the destination channel. */
  destOrg: Profile;
  checkpointFile: string;
  /** Only these routes (default: every route that leads to `to`). */
  routes?: string[];
  /** Where to start when there is no checkpoint (default: block 0, the whole history). */
  startBlock?: bigint;
  metrics?: RelayMetrics;
  logger?: Logger;
  backoff?: BackoffPolicy;
  /**
   * BLS signer services of each chain's verification nodes, by channel: needed for routes
   * registered with the bls12381-aggregate scheme only (packets: the source's, acks: the destination's).
   */
  signers?: Record<string, readonly SignerEndpoint[]>;
  /** Most packets under one proof and transaction, over every route (default and at most Limits.maxBatchPackets; 1: always the single path). */
  maxBatch?: number;
}

/** A packet read from the stream, ready for its next step, with its stream position (for the checkpoint). */
interface Ready {
  packet: Packet;
  position: StreamPosition;
}

/** A delivered packet waiting for its settlement on the source. */
interface Delivered extends Ready {
  ack: Acknowledgement;
}

export interface RelayStatus {
  from: string;
  to: string;
  streaming: boolean;
  checkpointBlock: string | null;
  lastPacket: string | null;
  waitingFor: string | null;
  delivered: number;
  acknowledged: number;
  /** Packets queued or in flight per route (routes with none are left out). */
  queues: Record<string, number>;
  /** Events read from the stream and not yet behind the checkpoint. */
  inFlight: number;
}

/** How many events may be read ahead of the checkpoint before the stream is paused. */
const MAX_IN_FLIGHT = 10_000;

/**
 * Batch attempts in flight per leg: one commits while the next is proved and endorsed; the runs
 * that arrive meanwhile wait and go together.
 */
const BATCH_SLOTS = 2;

/** A proof's transaction is proposed again when its commit loses an MVCC/phantom race. */
const RESUBMIT = { conflictRetries: 2 };

/** What a leg needs before its proof: read side by side (and for a packet's first leg, beside the packet lookups). */
interface LegInputs {
  /** The epoch of the prover's list the verifier knows. */
  known: number;
  options: ProofOptions | undefined;
  /** The prover's current list. */
  current: VerificationNodeList;
}

/** One chain as this relay reaches it. */
interface End {
  /** The chaincode on the chain's channel, through the relaying org. */
  cc: Chaincode;
  /** The chain's id, read at start-up. */
  chainId: string;
}

/**
 * One leg of a packet's trip: `prover`'s nodes sign `statement`, and the proof goes into a
 * transaction on `verifier` (the packet to the destination, or its acknowledgement back to the
 * source).
 */
interface Leg<R> {
  /** Metric and log stage. */
  stage: 'receive' | 'acknowledge';
  /** The packet, `<routeId>/<sequence>`. */
  packetId: string;
  /** What the proof proves, for the below-threshold message. */
  proving: string;
  routeId: string;
  prover: End;
  verifier: End;
  statement: ListBoundStatement;
  /** When the relay began this leg (its reads included), for the phase metrics. */
  startedAt: number;
  /** The verifier's transaction that carries the proof. */
  submit(proof: Proof): Promise<Submitted<R>>;
  /**
   * Reads that decide whether the leg is still to be done, run beside the proof: awaited after the
   * proof is built and before anything is submitted; false: nothing is submitted ('skipped').
   */
  stillNeeded?: Promise<boolean>;
}

function listViewKey(verifier: End, prover: End): string {
  return `${verifier.cc.channel}<-${prover.cc.channel}`;
}

export class Relay {
  readonly metrics: RelayMetrics;
  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly source: End;
  private readonly dest: End;
  private readonly checkpoint: FileCheckpointer;
  private readonly abort = new AbortController();
  private events?: EventStream<ChaincodeEvent>;
  private readonly watermark = new Watermark();
  /** Registered schemes of each route (undefined: none named), by `<channel>/<routeId>`. */
  private readonly routeSchemes = new Map<string, readonly string[] | undefined>();
  /**
   * Per direction (verifier <- prover): the epoch of the prover's list the verifier knows and the
   * prover's current list, as last read when the two agreed. They change only when the prover's
   * list changes or a proof with epoch links lands, and a proof built on stale ones is refused by
   * the verifier, never accepted (it checks every signature against its own view). So a leg's
   * first attempt builds on them, and any failed attempt forgets them: the next reads afresh.
   */
  private readonly listViews = new Map<string, { known: number; current: VerificationNodeList }>();
  private readonly queues: RouteQueues;
  /** Per-route queues of acknowledgement legs, run beside the deliveries of `queues`. */
  private readonly ackQueues: RouteQueues;
  /** One gRPC/TLS client per peer for the relay's life, shared by every proof (proofs/peer-clients.ts). */
  private readonly peerClients = new PeerClients();
  private readonly sources = new Map<string, SourceChain>();
  /** Packets of each route ready for delivery, and delivered ones waiting for settlement, in stream order. */
  private readonly toDeliver = new Map<string, Ready[]>();
  private readonly toSettle = new Map<string, Delivered[]>();
  private readonly maxBatch: number;
  /** Runs of every route waiting for a delivery (ReceivePackets) or settlement (AcknowledgePackets) attempt. */
  private readonly deliveries: RunCollector<Ready, Delivered[]>;
  private readonly settlements: RunCollector<Delivered, boolean>;
  private state: Omit<RelayStatus, 'from' | 'to' | 'checkpointBlock' | 'queues' | 'inFlight'> = {
    streaming: false,
    lastPacket: null,
    waitingFor: null,
    delivered: 0,
    acknowledged: 0,
  };

  constructor(private readonly opts: RelayOptions) {
    this.metrics = opts.metrics ?? new RelayMetrics();
    this.log = (opts.logger ?? silentLogger).child({ relay: `${opts.from}->${opts.to}` });
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.maxBatch = Math.max(1, Math.min(Limits.maxBatchPackets, Math.floor(opts.maxBatch ?? Limits.maxBatchPackets)));
    this.deliveries = new RunCollector(BATCH_SLOTS, this.maxBatch, (runs) => this.deliverBatch(runs));
    this.settlements = new RunCollector(BATCH_SLOTS, this.maxBatch, (runs) => this.settleBatch(runs));
    this.checkpoint = FileCheckpointer.open(opts.checkpointFile);
    this.source = { cc: new Chaincode(FabricClient.open(opts.sourceOrg, { logger: this.log }), opts.from), chainId: '' };
    this.dest = { cc: new Chaincode(FabricClient.open(opts.destOrg, { logger: this.log }), opts.to), chainId: '' };
    const onError = (route: string, e: unknown) => {
      if (!(e instanceof RelayStopped)) this.log.error({ route, err: e instanceof Error ? e.message : String(e) }, 'route queue job failed; its event stays before the checkpoint');
    };
    this.queues = new RouteQueues(onError);
    this.ackQueues = new RouteQueues(onError);
  }

  get labels(): { from: string; to: string } {
    return { from: this.opts.from, to: this.opts.to };
  }

  status(): RelayStatus {
    const b = this.checkpoint.getBlockNumber();
    return { ...this.labels, ...this.state, checkpointBlock: b === undefined ? null : b.toString(), queues: this.queued(), inFlight: this.watermark.size };
  }

  /** Packets per route being delivered or waiting for, or in, their acknowledgement leg (each packet is in one queue at a time). */
  private queued(): Record<string, number> {
    const out: Record<string, number> = { ...this.queues.snapshot() };
    for (const [route, n] of Object.entries(this.ackQueues.snapshot())) out[route] = (out[route] ?? 0) + n;
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** Stops after the current step; `run()` then resolves. */
  stop(): void {
    this.abort.abort();
    this.events?.close();
  }

  close(): void {
    this.peerClients.close();
    this.source.cc.client.close();
    this.dest.cc.client.close();
  }

  /**
   * Runs `step` until it succeeds (or the ledger shows it done), waiting with backoff.
   * Returns 'done-before' when the step had already been done.
   */
  private async persist<T>(stage: string, what: string, step: (attempt: number) => Promise<T>): Promise<T | 'done-before'> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new RelayStopped();
      try {
        const out = await step(attempt);
        this.state.waitingFor = null;
        return out;
      } catch (e) {
        if (e instanceof RelayStopped) throw e;
        const c = classifyFailure(e);
        if (c.action === 'done') {
          this.metrics.duplicates.inc({ ...this.labels, stage });
          this.log.info({ stage, what, code: c.error.code }, 'already done on the ledger');
          this.state.waitingFor = null;
          return 'done-before';
        }
        this.metrics.failures.inc({ ...this.labels, stage, reason: c.reason });
        const delay = backoffDelay(attempt, this.backoff);
        this.state.waitingFor = `${stage} ${what}: ${c.reason}`;
        this.log.warn({ stage, what, reason: c.reason, code: c.error.code, attempt, retryInMs: delay, txId: c.error.txId }, c.error.message);
        await sleep(delay, this.abort.signal);
      }
    }
  }

  /** The epoch of `remoteChainId`'s list that `on` knows. */
  private async knownEpoch(on: End, remoteChainId: string): Promise<number> {
    return (await on.cc.crossChain.getRemoteChain(remoteChainId)).epoch;
  }

  private receipt(packet: Packet): Promise<ReceiptRecord | undefined> {
    return orAbsent(this.dest.cc.crossChain.getReceipt(packet.routeId, packet.sequence));
  }

  /** The schemes `routeId` is registered with on `on` (cached). */
  private async schemesOf(on: End, routeId: string): Promise<readonly string[] | undefined> {
    const key = `${on.cc.channel}/${routeId}`;
    if (this.routeSchemes.has(key)) return this.routeSchemes.get(key);
    const route = await on.cc.crossChain.getRoute(routeId);
    this.routeSchemes.set(key, route.schemes);
    return route.schemes;
  }

  /**
   * Options for a proof signed by `signingChannel` and checked by the route on `verifier`;
   * fails NO_BLS_SIGNERS (retried) when the route wants BLS and none are configured.
   */
  private async proofOptions(verifier: End, signingChannel: string, routeId: string): Promise<ProofOptions | undefined> {
    const schemes = await this.schemesOf(verifier, routeId);
    const options = proofOptionsFor(schemes, signingChannel, this.opts.signers, routeId);
    return options && { ...options, logger: this.log };
  }

  /** Proof with at least one signer (endorsements, or bits of the BLS bitmap), or an error that makes persist() wait (peers down, below threshold). */
  private static requireSignatures(built: BuiltProof, what: string): BuiltProof {
    if (signerCount(built.proof) === 0) {
      const peers = built.failures.map((f) => JSON.stringify(f)).join('; ');
      throw Object.assign(new Error(`THRESHOLD_NOT_MET: no listed node endorsed ${what}${peers ? ` (${peers})` : ''}`));
    }
    return built;
  }

  /**
   * Runs one leg until it is done (or found done on the ledger): reads what the verifier knows
   * of the prover (its epoch) and which scheme its route takes, builds the prover's proof of
   * the statement and submits it on the verifier. An UNSUPPORTED_SCHEME rejection forgets the
   * route's cached schemes so the next attempt reads them again.
   */
  private runLeg<R>(leg: Leg<R>, prefetched?: Promise<LegInputs>): Promise<Submitted<R> | 'done-before' | 'skipped'> {
    return this.persist(leg.stage, leg.packetId, async (attempt) => {
      const { prover, verifier } = leg;
      try {
        const first = attempt === 1 && prefetched ? await prefetched.catch(() => undefined) : undefined;
        const { known, options, current } = first ?? (await this.legInputs(verifier, prover, leg.routeId, attempt === 1));
        const tProof = performance.now();
        this.phase(`${leg.stage}.prepare`, tProof - leg.startedAt);
        const built = Relay.requireSignatures(await buildStatementProof(this.sourceOf(prover), leg.statement, known, { ...options, currentList: current }), leg.proving);
        if (leg.stillNeeded !== undefined && !(await leg.stillNeeded)) return 'skipped';
        const tSubmit = performance.now();
        this.phase(`${leg.stage}.proof`, tSubmit - tProof);
        const out = await leg.submit(built.proof);
        this.phase(`${leg.stage}.commit`, performance.now() - tSubmit);
        return out;
      } catch (e) {
        this.forgetListView(verifier, prover);
        if (toClientError(e).code === 'UNSUPPORTED_SCHEME') this.routeSchemes.delete(`${verifier.cc.channel}/${leg.routeId}`);
        // A proof that cannot be built for a leg already done (the packet settled meanwhile) is not retried.
        if (!(e instanceof RelayStopped) && leg.stillNeeded !== undefined && !(await leg.stillNeeded.catch(() => true))) return 'skipped';
        throw e;
      }
    });
  }

  private phase(phase: string, ms: number): void {
    this.metrics.phases.observe({ ...this.labels, phase }, ms / 1000);
  }

  /** The prover as a proof source: its peers through this relay's open clients. */
  private sourceOf(prover: End): SourceChain {
    let s = this.sources.get(prover.cc.channel);
    if (!s) {
      s = sourceChain(prover.cc.client, prover.cc.channel, undefined, this.peerClients);
      this.sources.set(prover.cc.channel, s);
    }
    return s;
  }

  /**
   * The verifier's known epoch of the prover, the route's proof options and the prover's current
   * list, side by side; with `cached`, the two list reads come from listViews when it holds them.
   */
  private async legInputs(verifier: End, prover: End, routeId: string, cached: boolean): Promise<LegInputs> {
    const view = cached ? this.listViews.get(listViewKey(verifier, prover)) : undefined;
    if (view) return { ...view, options: await this.proofOptions(verifier, prover.cc.channel, routeId) };
    const [known, options, current] = await Promise.all([
      this.knownEpoch(verifier, prover.chainId),
      this.proofOptions(verifier, prover.cc.channel, routeId),
      nodeListAt(this.sourceOf(prover)),
    ]);
    // Kept only when no epoch link is due: a proof that carries links moves what the verifier knows.
    if (known === current.epoch) this.listViews.set(listViewKey(verifier, prover), { known, current });
    return { known, options, current };
  }

  private forgetListView(verifier: End, prover: End): void {
    this.listViews.delete(listViewKey(verifier, prover));
  }

  /**
   * Delivers one packet and settles it on the source. Idempotent. The packet's status on the
   * source and its receipt on the destination are read beside the first proof, which is submitted
   * only when they say the receive is still to be done.
   */
  async relayPacket(packet: Packet): Promise<void> {
    const ack = await this.deliver(packet);
    if (ack) await this.settle(packet, ack, this.log.child({ packet: `${packet.routeId}/${packet.sequence}`, type: packet.type }));
  }

  /**
   * Delivers one packet (steps 1-2) and returns the acknowledgement to settle on the source
   * (step 3), or undefined when nothing is left to do. The stream runs the settlement in the
   * route's acknowledgement queue, beside the delivery of the route's next packet.
   */
  private async deliver(packet: Packet): Promise<Acknowledgement | undefined> {
    const { routeId, sequence } = packet;
    const id = `${routeId}/${sequence}`;
    const log = this.log.child({ packet: id, type: packet.type });
    this.state.lastPacket = id;
    const startedAt = performance.now();

    const prefetched = this.legInputs(this.dest, this.source, routeId, true);
    prefetched.catch(() => undefined);
    // The packet's status on the source and its receipt here decide whether a receive is still to
    // be done; they are read beside the first proof, and nothing is submitted before they answer.
    const lookups = Promise.all([
      this.persist('lookup', id, () => this.source.cc.crossChain.getPacket(routeId, sequence)),
      this.persist('lookup', id, () => this.receipt(packet)),
    ]);
    lookups.catch(() => undefined);
    const settledOnSource = (sent: Awaited<typeof lookups>[0]): boolean => sent !== 'done-before' && sent.status !== 'sent';
    const stillNeeded = lookups.then(([sent, found]) => !settledOnSource(sent) && found === undefined);
    // Handled here too: a relay stopping before the leg awaits it must not leave a rejection unhandled.
    stillNeeded.catch(() => undefined);

    // The destination's transaction time decides: switch between receive and timeout.
    const mode: { fn: 'ReceivePacket' | 'RecordTimeout' } = { fn: 'ReceivePacket' };
    const delivered = await this.runLeg(
      {
        stage: 'receive',
        startedAt,
        packetId: id,
        proving: id,
        routeId,
        prover: this.source,
        verifier: this.dest,
        statement: { kind: 'packet', routeId, sequence },
        stillNeeded,
        submit: async (proof) => {
          const cross = this.dest.cc.crossChain;
          try {
            return await (mode.fn === 'RecordTimeout' ? cross.recordTimeout(packet, proof, RESUBMIT) : cross.receivePacket(packet, proof, RESUBMIT));
          } catch (e) {
            const code = toClientError(e).code;
            if (code === 'PACKET_TIMED_OUT') mode.fn = 'RecordTimeout';
            if (code === 'PACKET_NOT_TIMED_OUT') mode.fn = 'ReceivePacket';
            throw e;
          }
        },
      },
      prefetched,
    );
    const [sent, found] = await lookups;
    if (settledOnSource(sent)) {
      this.metrics.duplicates.inc({ ...this.labels, stage: 'settled' });
      log.debug({ status: sent === 'done-before' ? undefined : sent.status }, 'packet already settled on the source');
      return undefined;
    }
    let receipt: Pick<ReceiptRecord, 'ack'> | undefined | 'done-before' = found;
    if (delivered !== 'skipped') {
      if (delivered !== 'done-before') {
        const outcome = mode.fn === 'RecordTimeout' ? 'timeout' : delivered.result.outcome;
        this.metrics.packetsRelayed.inc({ ...this.labels, type: packet.type, outcome });
        this.metrics.latency.observe({ ...this.labels, type: packet.type }, Math.max(0, Date.now() - packet.sentAtMs) / 1000);
        this.metrics.batchSize.observe({ ...this.labels, stage: 'receive' }, 1);
        this.state.delivered += 1;
        log.info({ txId: delivered.txId, outcome, fn: mode.fn }, 'packet delivered');
      }
      // The committed ReceivePacket answered with the acknowledgement; read it only when the receive was done before.
      const answered: Acknowledgement | undefined = delivered !== 'done-before' && 'ack' in delivered.result ? delivered.result.ack : undefined;
      receipt = answered
        ? { ack: answered }
        : await this.persist('lookup', id, async () => {
            const r = await this.receipt(packet);
            if (!r) throw new Error(`NOT_FOUND: receipt of ${id} not visible yet`);
            return r;
          });
    } else {
      // Not submitted: the receipt was already here (found above).
      this.metrics.duplicates.inc({ ...this.labels, stage: 'receive' });
    }
    if (receipt === undefined || receipt === 'done-before') return undefined;
    return receipt.ack;
  }

  /** Settles a delivered packet on the source with the destination's proof of its acknowledgement (step 3). */
  private async settle(packet: Packet, ack: Acknowledgement, log: Logger): Promise<void> {
    const { routeId, sequence } = packet;
    const id = `${routeId}/${sequence}`;
    const timedOut = ack.outcome === 'timeout';
    const settled = await this.runLeg({
      stage: 'acknowledge',
      startedAt: performance.now(),
      packetId: id,
      proving: `ack ${id}`,
      routeId,
      prover: this.dest,
      verifier: this.source,
      statement: { kind: 'ack', routeId, sequence },
      submit: (proof) => (timedOut ? this.source.cc.crossChain.timeoutPacket(ack, proof, RESUBMIT) : this.source.cc.crossChain.acknowledgePacket(ack, proof, RESUBMIT)),
    });
    if (settled !== 'done-before' && settled !== 'skipped') {
      this.metrics.acksRelayed.inc({ ...this.labels, kind: timedOut ? 'timeout' : 'ack' });
      this.metrics.batchSize.observe({ ...this.labels, stage: 'acknowledge' }, 1);
      this.state.acknowledged += 1;
      log.info({ txId: settled.txId, outcome: ack.outcome }, 'packet settled on the source');
    }
  }

  /**
   * Delivers the run of the route's ready packets: offered to the delivery collector, which
   * carries it with the runs of other routes under one proof and one ReceivePackets; when that
   * attempt did not apply (or the route's proofs come from signer services, or batches are off),
   * the head takes the single path and the rest waits again as a run. Then queues settlements.
   */
  private async deliverReady(routeId: string): Promise<void> {
    const run = takeRun(this.toDeliver.get(routeId) ?? [], this.maxBatch);
    if (run.length === 0) return;
    const delivered = (await this.batchable(this.dest, this.source, routeId)) ? await this.deliveries.offer(routeId, run) : undefined;
    if (delivered) {
      for (const d of delivered) this.queueSettlement(d);
      return;
    }
    // The single path for the head (it retries, and finds a replay done); the rest waits again as a run.
    const [head, ...rest] = run;
    this.requeue(this.toDeliver, this.queues, routeId, rest, () => this.deliverReady(routeId));
    const ack = await this.deliver(head!.packet);
    if (ack === undefined) await this.handled(head!.position);
    else this.queueSettlement({ ...head!, ack });
  }

  /**
   * Whether a route's statements from `prover` to `verifier` may go in batches: batches are on
   * and the route takes scheme 1 there (signer services sign single statements only). A failed
   * read answers no: the single path retries.
   */
  private async batchable(verifier: End, prover: End, routeId: string): Promise<boolean> {
    if (this.maxBatch < 2) return false;
    return (await this.proofOptions(verifier, prover.cc.channel, routeId).catch(() => null)) === undefined;
  }

  /** Puts `items` back at the head of the route's waiting list, with a job to take them. */
  private requeue<T>(lists: Map<string, T[]>, queues: RouteQueues, routeId: string, items: T[], job: () => Promise<void>): void {
    if (items.length === 0) return;
    waitIn(lists, routeId).unshift(...items);
    void queues.push(routeId, job);
  }

  /**
   * The acknowledgement leg does not hold up the route's next delivery; acknowledgements of one
   * route still go in order, and the checkpoint passes the event only once it is settled.
   */
  private queueSettlement(d: Delivered): void {
    waitIn(this.toSettle, d.packet.routeId).push(d);
    void this.ackQueues.push(d.packet.routeId, () => this.settleReady(d.packet.routeId));
  }

  /**
   * Settles the run of the route's delivered packets: offered to the settlement collector (one
   * AcknowledgePackets with other routes' runs); a timeout, or a run whose attempt did not apply,
   * takes the single path for its head.
   */
  private async settleReady(routeId: string): Promise<void> {
    const run = takeRun(this.toSettle.get(routeId) ?? [], this.maxBatch, (d) => d.ack.outcome !== 'timeout');
    if (run.length === 0) return;
    const timeout = run[0]!.ack.outcome === 'timeout';
    if (!timeout && (await this.batchable(this.source, this.dest, routeId)) && (await this.settlements.offer(routeId, run))) {
      for (const d of run) await this.handled(d.position);
      return;
    }
    const [head, ...rest] = run;
    this.requeue(this.toSettle, this.ackQueues, routeId, rest, () => this.settleReady(routeId));
    await this.settle(head!.packet, head!.ack, this.log.child({ packet: `${head!.packet.routeId}/${head!.packet.sequence}`, type: head!.packet.type }));
    await this.handled(head!.position);
  }

  /**
   * One attempt at a batch leg: the verifier's known epoch and the route's scheme, the prover's
   * proof of the batch statement, the verifier's transaction. Undefined when the route is
   * proven by signer services (no batch statements there) or the attempt failed: the caller
   * then takes the single path, which retries.
   */
  private async tryBatch<R>(leg: Leg<R>, count: number): Promise<Submitted<R> | undefined> {
    if (this.stopped) throw new RelayStopped();
    try {
      const { known, options, current } = await this.legInputs(leg.verifier, leg.prover, leg.routeId, true);
      if (options !== undefined) return undefined;
      const tProof = performance.now();
      this.phase(`${leg.stage}.prepare`, tProof - leg.startedAt);
      const built = Relay.requireSignatures(await buildStatementProof(this.sourceOf(leg.prover), leg.statement, known, { currentList: current }), leg.proving);
      const tSubmit = performance.now();
      this.phase(`${leg.stage}.proof`, tSubmit - tProof);
      const out = await leg.submit(built.proof);
      this.phase(`${leg.stage}.commit`, performance.now() - tSubmit);
      this.metrics.batchSize.observe({ ...this.labels, stage: leg.stage }, count);
      return out;
    } catch (e) {
      if (e instanceof RelayStopped) throw e;
      this.forgetListView(leg.verifier, leg.prover);
      const c = classifyFailure(e);
      this.metrics.failures.inc({ ...this.labels, stage: `${leg.stage}-batch`, reason: c.reason });
      this.log.info({ stage: leg.stage, batch: leg.packetId, reason: c.reason, code: c.error.code }, 'batch not applied; its packets take the single path');
      return undefined;
    }
  }

  /**
   * ReceivePackets for runs of one or several routes (route-id order) under one proof: each run's
   * packets with their acknowledgements, or undefined when the attempt did not apply (each run's
   * route then takes the single path).
   */
  private async deliverBatch(runs: OfferedRun<Ready>[]): Promise<Delivered[][] | undefined> {
    const ready = runs.flatMap((r) => r.items);
    const packets = ready.map((r) => r.packet);
    const id = batchId(packets);
    this.state.lastPacket = id;
    const done = await this.tryBatch(
      {
        stage: 'receive',
        startedAt: performance.now(),
        packetId: id,
        proving: id,
        routeId: packets[0]!.routeId,
        prover: this.source,
        verifier: this.dest,
        statement: batchStatement('packet', packets),
        submit: (proof) => this.dest.cc.crossChain.receivePackets(packets, proof, RESUBMIT),
      },
      packets.length,
    );
    // A frozen route answers without items: the single path reports it packet by packet.
    if (!done || !('items' in done.result) || done.result.items.length !== packets.length) return undefined;
    const items = done.result.items;
    for (const [i, packet] of packets.entries()) {
      this.metrics.packetsRelayed.inc({ ...this.labels, type: packet.type, outcome: items[i]!.outcome });
      this.metrics.latency.observe({ ...this.labels, type: packet.type }, Math.max(0, Date.now() - packet.sentAtMs) / 1000);
    }
    this.state.delivered += packets.length;
    this.log.info({ batch: id, txId: done.txId, count: packets.length, routes: runs.length }, 'packets delivered in one batch');
    let at = 0;
    return runs.map((r) => r.items.map((item) => ({ ...item, ack: items[at++]!.ack })));
  }

  /** AcknowledgePackets for runs of one or several routes (route-id order) under one proof; undefined when the attempt did not apply. */
  private async settleBatch(runs: OfferedRun<Delivered>[]): Promise<boolean[] | undefined> {
    const acks = runs.flatMap((r) => r.items.map((d) => d.ack));
    const id = batchId(acks);
    const done = await this.tryBatch(
      {
        stage: 'acknowledge',
        startedAt: performance.now(),
        packetId: id,
        proving: `acks ${id}`,
        routeId: acks[0]!.routeId,
        prover: this.dest,
        verifier: this.source,
        statement: batchStatement('ack', acks),
        submit: (proof) => this.source.cc.crossChain.acknowledgePackets(acks, proof, RESUBMIT),
      },
      acks.length,
    );
    if (!done || !('items' in done.result)) return undefined;
    for (let i = 0; i < acks.length; i++) this.metrics.acksRelayed.inc({ ...this.labels, kind: 'ack' });
    this.state.acknowledged += acks.length;
    this.log.info({ batch: id, txId: done.txId, count: acks.length, routes: runs.length }, 'packets settled in one batch on the source');
    return runs.map(() => true);
  }

  /** The packet an event asks this relay to carry, if any. */
  private packetOf(event: ChaincodeEvent): Packet | undefined {
    if (event.name !== 'PacketSent') return undefined;
    const { packet } = event.payload;
    if (packet.destChain !== this.dest.chainId) return undefined;
    if (this.opts.routes && !this.opts.routes.includes(packet.routeId)) return undefined;
    return packet;
  }

  /** Marks an event handled and moves the durable checkpoint to the low-watermark, if it moved. */
  private async handled(position: StreamPosition): Promise<void> {
    const next = this.watermark.complete(position);
    if (!next) return;
    await this.checkpoint.checkpointTransaction(next.blockNumber, next.transactionId);
    this.metrics.checkpointBlock.set(this.labels, Number(next.blockNumber));
  }

  /**
   * Takes one event from the stream: events this relay does not carry are handled at once;
   * a packet goes to its route's queue. Never waits for delivery (only for room when too
   * many events are in flight), so one blocked route holds up no other.
   */
  private async dispatch(event: ChaincodeEvent): Promise<void> {
    // Each packet of a batch send (PacketsSent) arrives as its own event, item `item` of `items`.
    const position: StreamPosition = { blockNumber: event.blockNumber, transactionId: event.txId, item: event.item, items: event.items };
    // A reconnected stream starts again at the checkpoint: events still in flight are already queued.
    if (!this.watermark.track(position)) return;
    const packet = this.packetOf(event);
    if (!packet) {
      await this.handled(position);
      return;
    }
    // One job per packet; a job takes every packet of the route ready by then (a batch), so
    // the jobs queued behind it may find nothing left to do.
    waitIn(this.toDeliver, packet.routeId).push({ packet, position });
    void this.queues.push(packet.routeId, () => this.deliverReady(packet.routeId));
    while (this.watermark.size >= MAX_IN_FLIGHT && !this.stopped) {
      this.state.waitingFor = `${this.watermark.pending} packets in flight; stream paused`;
      await Promise.race([this.queues.idle(), sleep(1000, this.abort.signal)]);
    }
  }

  /** Follows the source's events until stop(); reconnects with backoff when the stream breaks. */
  async run(): Promise<void> {
    const ids = await this.persist('startup', 'chain ids', async () => ({
      source: await this.source.cc.chainId(),
      dest: await this.dest.cc.chainId(),
    }));
    if (ids === 'done-before') throw new Error('unreachable');
    this.source.chainId = ids.source;
    this.dest.chainId = ids.dest;
    this.log.info({ sourceChainId: this.source.chainId, destChainId: this.dest.chainId, checkpoint: this.checkpoint.getBlockNumber()?.toString() ?? null }, 'relay started');
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        this.events = await this.source.cc.events({ checkpoint: this.checkpoint, startBlock: this.opts.startBlock ?? 0n });
        this.state.streaming = true;
        for await (const event of this.events) {
          attempt = 1;
          await this.dispatch(event);
        }
      } catch (e) {
        this.state.streaming = false;
        if (this.stopped || e instanceof RelayStopped) break;
        const err = toClientError(e, { channel: this.opts.from, fn: 'events' });
        this.metrics.failures.inc({ ...this.labels, stage: 'events', reason: err.code === 'UNAVAILABLE' ? 'unavailable' : `events:${err.code}` });
        const delay = backoffDelay(attempt, this.backoff);
        this.log.warn({ code: err.code, retryInMs: delay }, `event stream broke: ${err.message}`);
        await sleep(delay, this.abort.signal);
      } finally {
        this.state.streaming = false;
        this.events?.close();
        this.events = undefined;
      }
    }
    // stop() makes every queued job give up at its next step; their events stay before the checkpoint.
    await this.queues.idle();
    await this.ackQueues.idle();
    this.log.info('relay stopped');
  }
}

/** A batch's id for logs: each route's first..last sequence. */
function batchId(items: readonly { routeId: string; sequence: number }[]): string {
  const runs: string[] = [];
  for (let i = 0; i < items.length; ) {
    let j = i;
    while (j + 1 < items.length && items[j + 1]!.routeId === items[i]!.routeId) j += 1;
    runs.push(`${items[i]!.routeId}/${items[i]!.sequence}..${items[j]!.sequence}`);
    i = j + 1;
  }
  return runs.join(',');
}

/** The list of `key` in `lists`, created empty when absent. */
function waitIn<T>(lists: Map<string, T[]>, key: string): T[] {
  let list = lists.get(key);
  if (!list) {
    list = [];
    lists.set(key, list);
  }
  return list;
}

class RelayStopped extends Error {
  constructor() {
    super('relay stopped');
  }
}

/** The org to relay with on a channel: the given one, or the first member org with a profile (preferring one in both channels). */
export function pickRelayOrgs(from: string, to: string, sourceOrg?: string, destOrg?: string): { source: Profile; dest: Profile } {
  const fromOrgs = profilesForChannel(from);
  const toOrgs = profilesForChannel(to);
  const both = fromOrgs.find((p) => p.channels.includes(to));
  const find = (list: Profile[], name: string | undefined, channel: string): Profile => {
    if (name) {
      const wanted = name.toLowerCase().replace(/msp$/, '');
      const p = list.find((x) => x.org.toLowerCase() === wanted || x.mspId.toLowerCase().replace(/msp$/, '') === wanted);
      if (!p) throw usageError(`${name} has no profile as a member of ${channel}`);
      return p;
    }
    const p = both ?? list[0];
    if (!p) throw usageError(`no org profile is a member of ${channel}`, 'is the network up? run `make network-status`');
    return p;
  };
  return { source: find(fromOrgs, sourceOrg, from), dest: find(toOrgs, destOrg, to) };
}
