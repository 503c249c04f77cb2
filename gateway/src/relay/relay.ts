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
import { toClientError, usageError } from '../errors';
import { FabricClient } from '../fabric/client';
import { profilesForChannel, type Profile } from '../fabric/profile';
import { silentLogger } from '../logger';
import { buildAckProof, buildPacketProof, type BuiltProof, type ProofOptions, type SignerEndpoint, type SourceChain } from '../proofs';
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

export class Relay {
  readonly metrics: RelayMetrics;
  private readonly log: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly source: FabricClient;
  private readonly dest: FabricClient;
  private readonly checkpoint: FileCheckpointer;
  private readonly abort = new AbortController();
  private events?: CloseableAsyncIterable<ChaincodeEvent>;
  private sourceChainId = '';
  private destChainId = '';
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
    this.source = FabricClient.open(opts.sourceOrg, { logger: this.log });
    this.dest = FabricClient.open(opts.destOrg, { logger: this.log });
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
    this.source.close();
    this.dest.close();
  }

  private sourceChain(): SourceChain {
    return { channel: this.opts.from, connection: this.source.connection, peers: profilesForChannel(this.opts.from).flatMap((p) => p.peers) };
  }

  private destChain(): SourceChain {
    return { channel: this.opts.to, connection: this.dest.connection, peers: profilesForChannel(this.opts.to).flatMap((p) => p.peers) };
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

  private async chainIdOf(client: FabricClient, channel: string): Promise<string> {
    const set = await client.evaluate<{ chainId: string }>(channel, 'Governance', 'GetMembers');
    return set.chainId;
  }

  private async knownEpoch(on: FabricClient, channel: string, remoteChainId: string): Promise<number> {
    const r = await on.evaluate<{ epoch: number }>(channel, CROSS, 'GetRemoteChain', [remoteChainId]);
    return r.epoch;
  }

  private async receipt(packet: Packet): Promise<ReceiptRecord | undefined> {
    try {
      return await this.dest.evaluate<ReceiptRecord>(this.opts.to, CROSS, 'GetReceipt', [packet.routeId, String(packet.sequence)]);
    } catch (e) {
      if (toClientError(e).code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /** The schemes `routeId` is registered with on `channel` (cached). */
  private async schemesOf(on: FabricClient, channel: string, routeId: string): Promise<readonly string[] | undefined> {
    const key = `${channel}/${routeId}`;
    if (this.routeSchemes.has(key)) return this.routeSchemes.get(key);
    const route = await on.evaluate<{ schemes?: string[] }>(channel, CROSS, 'GetRoute', [routeId]);
    this.routeSchemes.set(key, route.schemes);
    return route.schemes;
  }

  /**
   * Options for a proof signed by `signingChannel` and checked by the route on `verifier`'s
   * `verifyingChannel`; fails NO_BLS_SIGNERS (retried) when the route wants BLS and none are configured.
   */
  private async proofOptions(verifier: FabricClient, verifyingChannel: string, signingChannel: string, routeId: string): Promise<ProofOptions | undefined> {
    const schemes = await this.schemesOf(verifier, verifyingChannel, routeId);
    const options = proofOptionsFor(schemes, signingChannel, this.opts.signers, routeId);
    return options && { ...options, logger: this.log };
  }

  /** Submits a proof; an UNSUPPORTED_SCHEME rejection forgets the route's cached schemes so the next attempt reads them again. */
  private async submitProof<T>(on: FabricClient, channel: string, routeId: string, fn: string, args: string[]): Promise<{ result: T; txId: string }> {
    try {
      return await on.submit<T>(channel, CROSS, fn, args, { conflictRetries: 2 });
    } catch (e) {
      if (toClientError(e).code === 'UNSUPPORTED_SCHEME') this.routeSchemes.delete(`${channel}/${routeId}`);
      throw e;
    }
  }

  /** Proof with at least one signer (endorsements, or bits of the BLS bitmap), or an error that makes persist() wait (peers down, below threshold). */
  private static requireSignatures(built: BuiltProof, what: string): BuiltProof {
    if (signerCount(built.proof) === 0) {
      const peers = built.failures.map((f) => JSON.stringify(f)).join('; ');
      throw Object.assign(new Error(`THRESHOLD_NOT_MET: no listed node endorsed ${what}${peers ? ` (${peers})` : ''}`));
    }
    return built;
  }

  /** Delivers one packet and settles it on the source. Idempotent. */
  async relayPacket(packet: Packet): Promise<void> {
    const id = `${packet.routeId}/${packet.sequence}`;
    const log = this.log.child({ packet: id, type: packet.type });
    this.state.lastPacket = id;

    const sent = await this.persist('lookup', id, () => this.source.evaluate<SentRecord>(this.opts.from, CROSS, 'GetPacket', [packet.routeId, String(packet.sequence)]));
    if (sent !== 'done-before' && sent.status !== 'sent') {
      this.metrics.duplicates.inc({ ...this.labels, stage: 'settled' });
      log.debug({ status: sent.status }, 'packet already settled on the source');
      return;
    }

    let receipt = await this.persist('lookup', id, () => this.receipt(packet));
    if (receipt === undefined) {
      const mode: { fn: 'ReceivePacket' | 'RecordTimeout' } = { fn: 'ReceivePacket' };
      const delivered = await this.persist('receive', id, async () => {
        const known = await this.knownEpoch(this.dest, this.opts.to, this.sourceChainId);
        const options = await this.proofOptions(this.dest, this.opts.to, this.opts.from, packet.routeId);
        const built = Relay.requireSignatures(await buildPacketProof(this.sourceChain(), packet.routeId, packet.sequence, known, options), id);
        try {
          return await this.submitProof<{ outcome: string }>(this.dest, this.opts.to, packet.routeId, mode.fn, [JSON.stringify(packet), JSON.stringify(built.proof)]);
        } catch (e) {
          const code = toClientError(e).code;
          // The destination's transaction time decides: switch between receive and timeout.
          if (code === 'PACKET_TIMED_OUT') mode.fn = 'RecordTimeout';
          if (code === 'PACKET_NOT_TIMED_OUT') mode.fn = 'ReceivePacket';
          throw e;
        }
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
    const settled = await this.persist('acknowledge', id, async () => {
      const known = await this.knownEpoch(this.source, this.opts.from, this.destChainId);
      const options = await this.proofOptions(this.source, this.opts.from, this.opts.to, packet.routeId);
      const built = Relay.requireSignatures(await buildAckProof(this.destChain(), packet.routeId, packet.sequence, known, options), `ack ${id}`);
      return this.submitProof(this.source, this.opts.from, packet.routeId, settleFn, [JSON.stringify(ack), JSON.stringify(built.proof)]);
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
    if (body.packet.destChain !== this.destChainId) return undefined;
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
      source: await this.chainIdOf(this.source, this.opts.from),
      dest: await this.chainIdOf(this.dest, this.opts.to),
    }));
    if (ids === 'done-before') throw new Error('unreachable');
    this.sourceChainId = ids.source;
    this.destChainId = ids.dest;
    this.log.info({ sourceChainId: this.sourceChainId, destChainId: this.destChainId, checkpoint: this.checkpoint.getBlockNumber()?.toString() ?? null }, 'relay started');
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const network = this.source.connection.network(this.opts.from);
        this.events = await network.getChaincodeEvents(this.source.profile.chaincode, {
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
