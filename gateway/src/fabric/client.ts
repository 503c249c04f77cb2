/**
 * One org's transport to the medbridge chaincode: evaluate and submit a contract function
 * with string arguments, get parsed JSON back, with the commit status checked and every
 * failure turned into a ClientError carrying the chaincode's own code (errors.ts, the one
 * place Fabric errors are mapped). Code reaches a contract through the typed classes in
 * ./contracts (`Chaincode`), which name each function once; the string form here is for
 * them and for the CLI's generic `query` / `invoke`.
 *
 * An org runs more than one peer so that one can be down: the client talks to one of them (the
 * profile's first, or `peer`) and, when that peer itself cannot be reached (gRPC UNAVAILABLE or
 * DEADLINE_EXCEEDED from the gateway peer, no endorser detail), moves to the org's next peer and
 * stays there. Only steps before anything is ordered move: an evaluate, or the endorsement of a
 * submit (a new proposal, so a new transaction id, on the next peer). A failure while handing the
 * endorsed transaction to the orderer or waiting for its commit status is not retried elsewhere:
 * its outcome is unknown, and it is reported as such (UNAVAILABLE / TIMEOUT with the txId).
 *
 * Endorsement in parallel: left to plan alone, the Gateway runs a proposal on a peer of its own
 * org first and only then on the other orgs the policy needs, two chaincode executions one after
 * the other. The client remembers which orgs endorsed the last committed transaction of each
 * function on each channel and names them on the next proposal, which the Gateway then sends to
 * all of them at once. When a proposal naming them fails for want of endorsers, or its
 * transaction fails the endorsement policy at commit, it is made again with the Gateway's plan.
 *
 * @example
 *   const client = FabricClient.open('HospitalA');
 *   const cc = new Chaincode(client, 'chain-a');
 *   const { result, txId } = await cc.system.heartbeat('hello');
 *   client.close();
 */
import { EndorseError } from '@hyperledger/fabric-gateway';
import { common, gateway, msp, peer } from '@hyperledger/fabric-protos';
import type { Logger } from 'pino';
import { commitFailedError, toClientError, type CallSite } from '../errors';
import { silentLogger } from '../logger';
import { connectOrg, type OrgConnection } from './connection';
import { loadProfile, type IdentityKind, type Profile } from './profile';

export interface Submitted<T> {
  result: T;
  txId: string;
  blockNumber: bigint;
}

export interface SubmitOptions {
  /** Resubmit (new proposal) this many times when the commit fails on an MVCC/phantom conflict. */
  conflictRetries?: number;
  /** Only these orgs endorse (e.g. when another org's peers are known to be down). */
  endorsingOrgs?: string[];
  /**
   * Transient data: reaches the endorsers, never a block. A private transaction names its
   * endorsing orgs too (fabric-gateway sends the proposal, transient data included, to those only).
   */
  transient?: Record<string, Uint8Array>;
}

/**
 * Where one committed submit spent its time, from the client's side: endorsement (proposal to
 * endorsed transaction, on every org the plan needs), handing it to the orderer, and waiting
 * for the commit status (ordering, block cut, validation, commit). Retries are counted by
 * cause; their time is in `totalMs` and in the phase they repeated.
 */
export interface SubmitTimings {
  channel: string;
  contract: string;
  fn: string;
  txId: string;
  endorseMs: number;
  submitMs: number;
  commitMs: number;
  totalMs: number;
  /** Proposals made again because the endorsers disagreed (a peer behind by a block). */
  laggingPeerRetries: number;
  /** Transactions resubmitted after an MVCC/phantom conflict at commit. */
  conflictRetries: number;
  /** Time spent waiting before proposing again after endorsers disagreed. */
  retryWaitMs: number;
}

export interface OpenOptions {
  identity?: IdentityKind;
  peer?: number;
  logger?: Logger;
}

/** Result bytes as a value: '' -> null, JSON text -> parsed, anything else -> the string. */
export function parseResult(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Proposals made again when endorsers disagree; the wait doubles each time (0.25 to 2 s, 3.75 s in all). */
const LAGGING_PEER_RETRIES = 4;
const LAGGING_PEER_DELAY_MS = 250;

/**
 * The MSP ids that endorsed a transaction, from fabric-gateway's endorsed transaction bytes (a
 * gateway.PreparedTransaction holding the envelope), sorted, each once; empty when the bytes are
 * not an endorser transaction.
 */
export function endorsingMspIds(preparedTransaction: Uint8Array): string[] {
  try {
    const envelope = gateway.PreparedTransaction.deserializeBinary(preparedTransaction).getEnvelope();
    if (!envelope) return [];
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const tx = peer.Transaction.deserializeBinary(payload.getData_asU8());
    const ids = new Set<string>();
    for (const action of tx.getActionsList()) {
      const cap = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
      for (const e of cap.getAction()?.getEndorsementsList() ?? []) ids.add(msp.SerializedIdentity.deserializeBinary(e.getEndorser_asU8()).getMspid());
    }
    return [...ids].sort();
  } catch {
    return [];
  }
}

/** The error's message and every per-peer detail, as one text. */
function detailText(e: unknown): string {
  const details = (e as { details?: Array<{ message?: string }> }).details ?? [];
  return [(e as Error).message ?? '', ...details.map((d) => d.message ?? '')].join('\n');
}

/**
 * True when the gateway peer itself could not be reached or did not answer in time: a gRPC
 * UNAVAILABLE or DEADLINE_EXCEEDED without per-endorser details (with details, the gateway peer
 * answered and is reporting other peers' failures, which another gateway peer would meet too).
 */
export function gatewayPeerUnreachable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (code !== 14 && code !== 4) return false;
  const details = (e as { details?: unknown }).details;
  return !Array.isArray(details) || details.length === 0;
}

/** Opens the connection to the org's peer #index (the client's way to reach each of its peers). */
export type PeerConnector = (index: number) => OrgConnection;

export class FabricClient {
  private readonly connections: (OrgConnection | undefined)[];
  private current: number;
  private readonly submitObservers = new Set<(t: SubmitTimings) => void>();
  /**
   * The orgs whose endorsements the last committed submit of each (channel, contract, function)
   * carried. Named on the next proposal, the gateway asks them all at once; without, it runs the
   * proposal on one peer of its own org first and only then on the others the policy needs
   * (two chaincode executions one after the other). Forgotten when a proposal naming them fails.
   */
  private readonly endorsementPlans = new Map<string, string[]>();

  private constructor(
    first: OrgConnection,
    firstIndex: number,
    private readonly log: Logger,
    private readonly connectPeer?: PeerConnector,
  ) {
    this.connections = [];
    this.connections[firstIndex] = first;
    this.current = firstIndex;
  }

  /** Opens a client for an org by name, MSP id or profile path. */
  static open(org: string | Profile, opts: OpenOptions = {}): FabricClient {
    try {
      const profile = typeof org === 'string' ? loadProfile(org) : org;
      const identity = opts.identity ?? 'user';
      const first = opts.peer ?? 0;
      const connector: PeerConnector = (index) => connectOrg(profile, { identity, peer: index });
      return new FabricClient(connector(first), first, opts.logger ?? silentLogger, connector);
    } catch (e) {
      throw toClientError(e, { org: typeof org === 'string' ? org : org.org });
    }
  }

  /**
   * A client over a connection opened elsewhere (closing the client closes it). With `connectPeer`,
   * the client can move to the org's other peers as `open`'s does; without, it stays on this one.
   */
  static over(connection: OrgConnection, opts: Pick<OpenOptions, 'logger'> & { peer?: number; connectPeer?: PeerConnector } = {}): FabricClient {
    return new FabricClient(connection, opts.peer ?? 0, opts.logger ?? silentLogger, opts.connectPeer);
  }

  /** The connection in use now (to the peer the client last reached). */
  get connection(): OrgConnection {
    return this.connections[this.current] as OrgConnection;
  }

  /** Index in the profile of the peer the client uses now. */
  get peerIndex(): number {
    return this.current;
  }

  get profile(): Profile {
    return this.connection.profile;
  }

  /**
   * Moves to the org's next peer after `failed` (the index that could not be reached), unless
   * another call has moved already. False when the org has no other peer to try.
   */
  private moveOn(failed: number, tried: Set<number>): boolean {
    if (this.current !== failed) return true;
    const peers = this.profile.peers.length;
    if (!this.connectPeer || peers < 2) return false;
    for (let step = 1; step < peers; step++) {
      const next = (failed + step) % peers;
      if (tried.has(next)) continue;
      try {
        this.connections[next] ??= this.connectPeer(next);
      } catch (e) {
        this.log.warn({ org: this.profile.org, peer: next, err: (e as Error).message }, 'cannot open the next peer');
        continue;
      }
      this.current = next;
      this.log.warn({ org: this.profile.org, from: this.profile.peers[failed]?.endpoint, to: this.profile.peers[next]?.endpoint }, 'gateway peer unreachable; moving to the next peer of the org');
      return true;
    }
    return false;
  }

  /** Runs `step` on the current peer and, while the gateway peer itself is unreachable, on the org's others. */
  private async onSomePeer<T>(step: (connection: OrgConnection) => Promise<T>): Promise<T> {
    const tried = new Set<number>();
    for (;;) {
      const at = this.current;
      tried.add(at);
      try {
        return await step(this.connection);
      } catch (e) {
        if (!gatewayPeerUnreachable(e) || !this.moveOn(at, tried) || tried.has(this.current)) throw e;
      }
    }
  }

  get mspId(): string {
    return this.connection.profile.mspId;
  }

  /** The first channel of this org, used when --channel is not given. */
  get defaultChannel(): string {
    const ch = this.connection.profile.channels[0];
    if (ch === undefined) throw new Error(`profile of ${this.profile.org} lists no channel`);
    return ch;
  }

  private site(channel: string, contract: string, fn: string): CallSite {
    return { channel, contract, fn, org: this.profile.org, endpoint: this.profile.peers[this.current]?.endpoint };
  }

  /**
   * Runs a read-only function on one peer; nothing is ordered. `targetOrg`: a peer of that org
   * answers (the one that holds its private data), not this org's own.
   */
  async evaluate<T = unknown>(channel: string, contract: string, fn: string, args: string[] = [], targetOrg?: string): Promise<T> {
    return parseResult(await this.evaluateBytes(channel, contract, fn, args, targetOrg)) as T;
  }

  /** Like evaluate, but the result bytes as the peer returned them (messages that are signed). */
  async evaluateBytes(channel: string, contract: string, fn: string, args: string[] = [], targetOrg?: string): Promise<Uint8Array> {
    try {
      if (targetOrg !== undefined && targetOrg !== this.mspId) {
        return await this.onSomePeer((c) => c.contract(channel, contract).evaluate(fn, { arguments: args, endorsingOrganizations: [targetOrg] }));
      }
      return await this.onSomePeer((c) => c.contract(channel, contract).evaluateTransaction(fn, ...args));
    } catch (e) {
      throw toClientError(e, this.site(channel, contract, fn));
    }
  }

  /**
   * The channel's current configuration block's config (a `common.Config`), read through the
   * peer's configuration system chaincode (cscc), not medbridge.
   */
  async channelConfig(channel: string): Promise<Uint8Array> {
    try {
      return await this.onSomePeer((c) => c.network(channel).getContract('cscc').evaluateTransaction('GetChannelConfig', channel));
    } catch (e) {
      throw toClientError(e, { channel, contract: 'cscc', fn: 'GetChannelConfig', org: this.profile.org });
    }
  }

  /** The number of blocks of `channel` as this org's peer holds them (the next block's number). */
  async height(channel: string): Promise<number> {
    try {
      const info = common.BlockchainInfo.deserializeBinary(await this.onSomePeer((c) => c.network(channel).getContract('qscc').evaluateTransaction('GetChainInfo', channel)));
      return info.getHeight();
    } catch (e) {
      throw toClientError(e, { channel, contract: 'qscc', fn: 'GetChainInfo', org: this.profile.org });
    }
  }

  /**
   * The channel's blocks as this org's peer stores them (serialized `common.Block`, numbers
   * `from` up to the height when called), read through the peer's ledger system chaincode
   * (qscc): what any member of the channel can read from its own ledger. For audits of what
   * a ledger reveals.
   */
  async blocks(channel: string, from = 0): Promise<Uint8Array[]> {
    const qscc = (c: OrgConnection) => c.network(channel).getContract('qscc');
    try {
      const height = await this.height(channel);
      const out: Uint8Array[] = [];
      for (let n = from; n < height; n++) out.push(await this.onSomePeer((c) => qscc(c).evaluateTransaction('GetBlockByNumber', channel, String(n))));
      return out;
    } catch (e) {
      throw toClientError(e, { channel, contract: 'qscc', fn: 'GetBlockByNumber', org: this.profile.org });
    }
  }

  /**
   * Calls `observer` with the phases of every submit of this client that commits as valid
   * (benchmarks decompose a transaction's latency with it). Returns the function that stops it.
   */
  observeSubmits(observer: (t: SubmitTimings) => void): () => void {
    this.submitObservers.add(observer);
    return () => this.submitObservers.delete(observer);
  }

  /** Remembers the orgs that endorsed a committed transaction; only ever an optimisation, so it never throws. */
  private learnPlan(planKey: string, tx: { getBytes(): Uint8Array }): void {
    try {
      const orgs = endorsingMspIds(tx.getBytes());
      if (orgs.length > 0) this.endorsementPlans.set(planKey, orgs);
    } catch {
      // Not learned: the next proposal is planned by the gateway, as without it.
    }
  }

  /** Endorses, orders and waits for the commit; throws unless the transaction committed as valid. */
  async submit<T = unknown>(
    channel: string,
    contract: string,
    fn: string,
    args: string[] = [],
    opts: SubmitOptions = {},
  ): Promise<Submitted<T>> {
    let attemptsLeft = opts.conflictRetries ?? 0;
    let laggingPeerRetries = LAGGING_PEER_RETRIES;
    const started = performance.now();
    const phases = { endorseMs: 0, submitMs: 0, commitMs: 0, laggingPeerRetries: 0, conflictRetries: 0, retryWaitMs: 0 };
    const planKey = `${channel}\u0000${contract}\u0000${fn}`;
    /** A proposal that named learned orgs and failed is made once more with the gateway's own plan. */
    const dropLearned = (learned: string[] | undefined, why: string): boolean => {
      if (!learned || this.endorsementPlans.get(planKey) !== learned) return false;
      this.endorsementPlans.delete(planKey);
      this.log.info({ channel, contract, fn, orgs: learned, why }, 'endorsing orgs of the last commit did not do; proposing with the gateway plan');
      return true;
    };
    for (;;) {
      let txId = '';
      const learned = opts.endorsingOrgs ? undefined : this.endorsementPlans.get(planKey);
      const endorsingOrganizations = opts.endorsingOrgs ?? learned;
      // Endorsement may move to another peer of the org (a new proposal each time: nothing is
      // ordered until submit); the transaction then stays with the peer that endorsed it.
      const endorse = (c: OrgConnection) => {
        const proposal = c.contract(channel, contract).newProposal(fn, {
          arguments: args,
          ...(endorsingOrganizations ? { endorsingOrganizations } : {}),
          ...(opts.transient ? { transientData: opts.transient } : {}),
        });
        txId = proposal.getTransactionId();
        return proposal.endorse();
      };
      let t = performance.now();
      const lap = (): number => {
        const now = performance.now();
        const ms = now - t;
        t = now;
        return ms;
      };
      try {
        const tx = await this.onSomePeer(endorse);
        phases.endorseMs += lap();
        const result = parseResult(tx.getResult()) as T;
        const submitted = await tx.submit();
        phases.submitMs += lap();
        const status = await submitted.getStatus();
        phases.commitMs += lap();
        if (status.successful) {
          this.log.debug({ txId, channel, contract, fn, block: status.blockNumber.toString() }, 'committed');
          // A proposal that named learned orgs was endorsed by exactly those: nothing new to learn.
          if (!opts.endorsingOrgs && !learned) this.learnPlan(planKey, tx);
          if (this.submitObservers.size > 0) {
            const timings: SubmitTimings = { channel, contract, fn, txId, ...phases, totalMs: performance.now() - started };
            for (const o of this.submitObservers) o(timings);
          }
          return { result, txId, blockNumber: status.blockNumber };
        }
        const err = commitFailedError(status.code, txId, this.site(channel, contract, fn));
        if (/ENDORSEMENT_POLICY_FAILURE/.test(err.message) && dropLearned(learned, 'ENDORSEMENT_POLICY_FAILURE')) continue;
        const conflict = /CONFLICT/.test(err.message);
        if (conflict && attemptsLeft > 0) {
          attemptsLeft -= 1;
          phases.conflictRetries += 1;
          this.log.info({ txId, channel, contract, fn }, 'commit conflict; resubmitting');
          continue;
        }
        throw err;
      } catch (e) {
        // Endorsers at different block heights (one has not yet committed the block the
        // previous transaction landed in) answer differently; the next proposal agrees.
        if (laggingPeerRetries > 0 && /ProposalResponsePayloads do not match/.test(detailText(e))) {
          laggingPeerRetries -= 1;
          const waitMs = LAGGING_PEER_DELAY_MS * 2 ** phases.laggingPeerRetries;
          phases.laggingPeerRetries += 1;
          phases.endorseMs += lap();
          this.log.info({ txId, channel, contract, fn, waitMs }, 'endorsers disagree (a peer is behind); proposing again');
          await new Promise((r) => setTimeout(r, waitMs));
          phases.retryWaitMs += lap();
          continue;
        }
        const err = toClientError(e, this.site(channel, contract, fn));
        // An endorsement that failed for want of endorsers (not a refusal by the chaincode) ordered nothing: proposed again.
        if (e instanceof EndorseError && err.kind !== 'rejected' && dropLearned(learned, err.code)) continue;
        this.log.debug({ txId, code: err.code, channel, contract, fn }, 'transaction failed');
        throw err;
      }
    }
  }

  close(): void {
    for (const c of this.connections) c?.close();
  }
}
