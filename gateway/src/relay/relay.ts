/**
 * The relay between two chains, one direction (`from` -> `to`); run a second one for the
 * way back. It follows the source's chaincode events from a durable checkpoint and, for
 * every PacketSent addressed to `to`, in order:
 *   1. skips it when the source already settled it (acknowledged, failed, timed out);
 *   2. unless the destination already holds a receipt: builds the proof of the source
 *      (gateway/src/proofs) and submits ReceivePacket — or RecordTimeout once the packet timed
 *      out — on the destination;
 *   3. builds the acknowledgement proof of the destination and submits AcknowledgePacket (or
 *      TimeoutPacket) on the source;
 *   4. only then marks the event handled.
 * Steps 2 and 3 are one leg function run in each direction (runLeg): the chain that signed a
 * statement proves it to the chain that verifies it.
 * Each route has its own queue (route-queues.ts): packets of one route go strictly in order,
 * a packet that cannot be delivered blocks its own route only. The checkpoint is the
 * low-watermark of the stream: it moves past an event only when that event and every
 * event before it are handled, so a kill -9 at any point loses nothing; what was handled
 * beyond the watermark is seen again after the restart and found done on the ledger.
 * Every step is idempotent (the chains reject replays; PACKET_REPLAYED counts as done).
 * Each proof is in the scheme of the route on the chain that verifies it (relay-scheme.ts):
 * scheme 1 from the signing chain's own peers, or, on a route registered for the aggregate
 * scheme only, a BLS aggregate from that chain's signer services (`signers`). Route schemes
 * are cached per route and read again after an UNSUPPORTED_SCHEME rejection.
 * Failures are retried with backoff for as long as the relay runs: an unreachable peer or
 * a subgroup below threshold makes its route wait, never skip.
 */
import type { ChaincodeEvent, CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import type { Logger } from 'pino';
import type { Acknowledgement, Packet } from '@medbridge/chaincode/dist/protocol/packet';
import type { Proof } from '@medbridge/chaincode/dist/protocol/proof';
import { toClientError, usageError } from '../errors';
import { FabricClient, type Submitted } from '../fabric/client';
import { profilesForChannel, type Profile } from '../fabric/profile';
import { silentLogger } from '../logger';
import { buildStatementProof, type BuiltProof, type ProofOptions, type SignerEndpoint, type ListBoundStatement, type SourceChain } from '../proofs';
import { backoffDelay, classifyFailure, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from './backoff';
import { FileCheckpointer } from './checkpoint';
import { RelayMetrics } from './metrics';
import { proofOptionsFor, signerCount } from './relay-scheme';
import { RouteQueues, Watermark, type StreamPosition } from './route-queues';

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

interface SentRecord {
  packet: Packet;
  status: 'sent' | 'acknowledged' | 'failed' | 'timed-out';
}

interface ReceiptRecord {
  ack: Acknowledgement;
}

const CROSS = 'CrossChain';

/** One chain as this relay reaches it. */
interface End {
  client: FabricClient;
  channel: string;
  /** The chain's id (Governance members), read at start-up. */
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
  /** The verifier's transaction that carries the proof. */
  submit(proof: Proof): Promise<Submitted<R>>;
}

export class Relay {
  readonly metrics: RelayMetrics;
  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly source: End;
  private readonly dest: End;
  private readonly checkpoint: FileCheckpointer;
  private readonly abort = new AbortController();
  private events?: CloseableAsyncIterable<ChaincodeEvent>;
  private readonly watermark = new Watermark();
  /** Registered schemes of each route (undefined: none named), by `<channel>/<routeId>`. */
  private readonly routeSchemes = new Map<string, readonly string[] | undefined>();
  private readonly queues: RouteQueues;
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
    this.checkpoint = FileCheckpointer.open(opts.checkpointFile);
    this.source = { client: FabricClient.open(opts.sourceOrg, { logger: this.log }), channel: opts.from, chainId: '' };
    this.dest = { client: FabricClient.open(opts.destOrg, { logger: this.log }), channel: opts.to, chainId: '' };
    this.queues = new RouteQueues((route, e) => {
      if (!(e instanceof RelayStopped)) this.log.error({ route, err: e instanceof Error ? e.message : String(e) }, 'route queue job failed; its event stays before the checkpoint');
    });
  }

  get labels(): { from: string; to: string } {
    return { from: this.opts.from, to: this.opts.to };
  }

  status(): RelayStatus {
    const b = this.checkpoint.getBlockNumber();
    return { ...this.labels, ...this.state, checkpointBlock: b === undefined ? null : b.toString(), queues: this.queues.snapshot(), inFlight: this.watermark.size };
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
    this.source.client.close();
    this.dest.client.close();
  }

  /** `end` as the signing chain of a proof: read through this relay's connection, signed by every peer of its channel. */
  private static signingChain(end: End): SourceChain {
    return { channel: end.channel, connection: end.client.connection, peers: profilesForChannel(end.channel).flatMap((p) => p.peers) };
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

  private async chainIdOf(end: End): Promise<string> {
    const set = await end.client.evaluate<{ chainId: string }>(end.channel, 'Governance', 'GetMembers');
    return set.chainId;
  }

  /** The epoch of `remoteChainId`'s list that `on` knows. */
  private async knownEpoch(on: End, remoteChainId: string): Promise<number> {
    const r = await on.client.evaluate<{ epoch: number }>(on.channel, CROSS, 'GetRemoteChain', [remoteChainId]);
    return r.epoch;
  }

  private async receipt(packet: Packet): Promise<ReceiptRecord | undefined> {
    try {
      return await this.dest.client.evaluate<ReceiptRecord>(this.dest.channel, CROSS, 'GetReceipt', [packet.routeId, String(packet.sequence)]);
    } catch (e) {
      if (toClientError(e).code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** The schemes `routeId` is registered with on `on` (cached). */
  private async schemesOf(on: End, routeId: string): Promise<readonly string[] | undefined> {
    const key = `${on.channel}/${routeId}`;
    if (this.routeSchemes.has(key)) return this.routeSchemes.get(key);
    const route = await on.client.evaluate<{ schemes?: string[] }>(on.channel, CROSS, 'GetRoute', [routeId]);
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

  /** Submits `fn(args)` on `on`, resubmitting on commit conflicts. */
  private submitOn<R>(on: End, fn: string, args: string[]): Promise<Submitted<R>> {
    return on.client.submit<R>(on.channel, CROSS, fn, args, { conflictRetries: 2 });
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
  private runLeg<R>(leg: Leg<R>): Promise<Submitted<R> | 'done-before'> {
    return this.persist(leg.stage, leg.packetId, async () => {
      const [known, options] = await Promise.all([this.knownEpoch(leg.verifier, leg.prover.chainId), this.proofOptions(leg.verifier, leg.prover.channel, leg.routeId)]);
      const built = Relay.requireSignatures(await buildStatementProof(Relay.signingChain(leg.prover), leg.statement, known, options), leg.proving);
      try {
        return await leg.submit(built.proof);
      } catch (e) {
        if (toClientError(e).code === 'UNSUPPORTED_SCHEME') this.routeSchemes.delete(`${leg.verifier.channel}/${leg.routeId}`);
        throw e;
      }
    });
  }

  /** Delivers one packet and settles it on the source. Idempotent. */
  async relayPacket(packet: Packet): Promise<void> {
    const { routeId, sequence } = packet;
    const id = `${routeId}/${sequence}`;
    const log = this.log.child({ packet: id, type: packet.type });
    this.state.lastPacket = id;

    const sent = await this.persist('lookup', id, () => this.source.client.evaluate<SentRecord>(this.source.channel, CROSS, 'GetPacket', [routeId, String(sequence)]));
    if (sent !== 'done-before' && sent.status !== 'sent') {
      this.metrics.duplicates.inc({ ...this.labels, stage: 'settled' });
      log.debug({ status: sent.status }, 'packet already settled on the source');
      return;
    }

    let receipt = await this.persist('lookup', id, () => this.receipt(packet));
    if (receipt === undefined) {
      // The destination's transaction time decides: switch between receive and timeout.
      const mode: { fn: 'ReceivePacket' | 'RecordTimeout' } = { fn: 'ReceivePacket' };
      const delivered = await this.runLeg<{ outcome: string }>({
        stage: 'receive',
        packetId: id,
        proving: id,
        routeId,
        prover: this.source,
        verifier: this.dest,
        statement: { kind: 'packet', routeId, sequence },
        submit: async (proof) => {
          try {
            return await this.submitOn<{ outcome: string }>(this.dest, mode.fn, [JSON.stringify(packet), JSON.stringify(proof)]);
          } catch (e) {
            const code = toClientError(e).code;
            if (code === 'PACKET_TIMED_OUT') mode.fn = 'RecordTimeout';
            if (code === 'PACKET_NOT_TIMED_OUT') mode.fn = 'ReceivePacket';
            throw e;
          }
        },
      });
      if (delivered !== 'done-before') {
        const outcome = mode.fn === 'RecordTimeout' ? 'timeout' : delivered.result.outcome;
        this.metrics.packetsRelayed.inc({ ...this.labels, type: packet.type, outcome });
        this.metrics.latency.observe({ ...this.labels, type: packet.type }, Math.max(0, Date.now() - packet.sentAtMs) / 1000);
        this.state.delivered += 1;
        log.info({ txId: delivered.txId, outcome, fn: mode.fn }, 'packet delivered');
      }
      receipt = await this.persist('lookup', id, async () => {
        const r = await this.receipt(packet);
        if (!r) throw new Error(`NOT_FOUND: receipt of ${id} not visible yet`);
        return r;
      });
    } else {
      this.metrics.duplicates.inc({ ...this.labels, stage: 'receive' });
    }
    if (receipt === 'done-before') return;

    const ack = receipt.ack;
    const settleFn = ack.outcome === 'timeout' ? 'TimeoutPacket' : 'AcknowledgePacket';
    const settled = await this.runLeg({
      stage: 'acknowledge',
      packetId: id,
      proving: `ack ${id}`,
      routeId,
      prover: this.dest,
      verifier: this.source,
      statement: { kind: 'ack', routeId, sequence },
      submit: (proof) => this.submitOn(this.source, settleFn, [JSON.stringify(ack), JSON.stringify(proof)]),
    });
    if (settled !== 'done-before') {
      this.metrics.acksRelayed.inc({ ...this.labels, kind: settleFn === 'TimeoutPacket' ? 'timeout' : 'ack' });
      this.state.acknowledged += 1;
      log.info({ txId: settled.txId, outcome: ack.outcome }, 'packet settled on the source');
    }
  }

  /** The packet an event asks this relay to carry, if any. */
  private packetOf(event: ChaincodeEvent): Packet | undefined {
    if (event.eventName !== 'PacketSent') return undefined;
    const body = JSON.parse(Buffer.from(event.payload).toString('utf8')) as { packet: Packet };
    if (body.packet.destChain !== this.dest.chainId) return undefined;
    if (this.opts.routes && !this.opts.routes.includes(body.packet.routeId)) return undefined;
    return body.packet;
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
    const position: StreamPosition = { blockNumber: event.blockNumber, transactionId: event.transactionId };
    // A reconnected stream starts again at the checkpoint: events still in flight are already queued.
    if (!this.watermark.track(position)) return;
    const packet = this.packetOf(event);
    if (!packet) {
      await this.handled(position);
      return;
    }
    void this.queues.push(packet.routeId, async () => {
      await this.relayPacket(packet);
      await this.handled(position);
    });
    while (this.watermark.size >= MAX_IN_FLIGHT && !this.stopped) {
      this.state.waitingFor = `${this.watermark.pending} packets in flight; stream paused`;
      await Promise.race([this.queues.idle(), sleep(1000, this.abort.signal)]);
    }
  }

  /** Follows the source's events until stop(); reconnects with backoff when the stream breaks. */
  async run(): Promise<void> {
    const ids = await this.persist('startup', 'chain ids', async () => ({
      source: await this.chainIdOf(this.source),
      dest: await this.chainIdOf(this.dest),
    }));
    if (ids === 'done-before') throw new Error('unreachable');
    this.source.chainId = ids.source;
    this.dest.chainId = ids.dest;
    this.log.info({ sourceChainId: this.source.chainId, destChainId: this.dest.chainId, checkpoint: this.checkpoint.getBlockNumber()?.toString() ?? null }, 'relay started');
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const network = this.source.client.connection.network(this.source.channel);
        this.events = await network.getChaincodeEvents(this.source.client.profile.chaincode, {
          checkpoint: this.checkpoint,
          startBlock: this.opts.startBlock ?? 0n,
        });
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
    this.log.info('relay stopped');
  }
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
