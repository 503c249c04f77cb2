/**
 * One org's transport to the medbridge chaincode: evaluate and submit a contract function
 * with string arguments, get parsed JSON back, with the commit status checked and every
 * failure turned into a ClientError carrying the chaincode's own code (errors.ts, the one
 * place Fabric errors are mapped). Code reaches a contract through the typed classes in
 * ./contracts (`Chaincode`), which name each function once; the string form here is for
 * them and for the CLI's generic `query` / `invoke`.
 *
 * @example
 *   const client = FabricClient.open('HospitalA');
 *   const cc = new Chaincode(client, 'chain-a');
 *   const { result, txId } = await cc.system.heartbeat('hello');
 *   client.close();
 */
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

const LAGGING_PEER_RETRIES = 3;
const LAGGING_PEER_DELAY_MS = 250;

/** The error's message and every per-peer detail, as one text. */
function detailText(e: unknown): string {
  const details = (e as { details?: Array<{ message?: string }> }).details ?? [];
  return [(e as Error).message ?? '', ...details.map((d) => d.message ?? '')].join('\n');
}

export class FabricClient {
  private constructor(
    readonly connection: OrgConnection,
    private readonly log: Logger,
  ) {}

  /** Opens a client for an org by name, MSP id or profile path. */
  static open(org: string | Profile, opts: OpenOptions = {}): FabricClient {
    try {
      const profile = typeof org === 'string' ? loadProfile(org) : org;
      const connection = connectOrg(profile, { identity: opts.identity ?? 'user', peer: opts.peer });
      return new FabricClient(connection, opts.logger ?? silentLogger);
    } catch (e) {
      throw toClientError(e, { org: typeof org === 'string' ? org : org.org });
    }
  }

  /** A client over a connection opened elsewhere (closing the client closes it). */
  static over(connection: OrgConnection, opts: Pick<OpenOptions, 'logger'> = {}): FabricClient {
    return new FabricClient(connection, opts.logger ?? silentLogger);
  }

  get profile(): Profile {
    return this.connection.profile;
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
    return { channel, contract, fn, org: this.profile.org, endpoint: this.profile.peers[0]?.endpoint };
  }

  /** Runs a read-only function on one peer; nothing is ordered. */
  async evaluate<T = unknown>(channel: string, contract: string, fn: string, args: string[] = []): Promise<T> {
    return parseResult(await this.evaluateBytes(channel, contract, fn, args)) as T;
  }

  /** Like evaluate, but the result bytes as the peer returned them (messages that are signed). */
  async evaluateBytes(channel: string, contract: string, fn: string, args: string[] = []): Promise<Uint8Array> {
    try {
      return await this.connection.contract(channel, contract).evaluateTransaction(fn, ...args);
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
      return await this.connection.network(channel).getContract('cscc').evaluateTransaction('GetChannelConfig', channel);
    } catch (e) {
      throw toClientError(e, { channel, contract: 'cscc', fn: 'GetChannelConfig', org: this.profile.org });
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
    const site = this.site(channel, contract, fn);
    let attemptsLeft = opts.conflictRetries ?? 0;
    let laggingPeerRetries = LAGGING_PEER_RETRIES;
    for (;;) {
      const proposal = this.connection.contract(channel, contract).newProposal(fn, {
        arguments: args,
        ...(opts.endorsingOrgs ? { endorsingOrganizations: opts.endorsingOrgs } : {}),
      });
      const txId = proposal.getTransactionId();
      try {
        const tx = await proposal.endorse();
        const result = parseResult(tx.getResult()) as T;
        const submitted = await tx.submit();
        const status = await submitted.getStatus();
        if (status.successful) {
          this.log.debug({ txId, channel, contract, fn, block: status.blockNumber.toString() }, 'committed');
          return { result, txId, blockNumber: status.blockNumber };
        }
        const err = commitFailedError(status.code, txId, site);
        const conflict = /CONFLICT/.test(err.message);
        if (conflict && attemptsLeft > 0) {
          attemptsLeft -= 1;
          this.log.info({ txId, channel, contract, fn }, 'commit conflict; resubmitting');
          continue;
        }
        throw err;
      } catch (e) {
        // Endorsers at different block heights (one has not yet committed the block the
        // previous transaction landed in) answer differently; the next proposal agrees.
        if (laggingPeerRetries > 0 && /ProposalResponsePayloads do not match/.test(detailText(e))) {
          laggingPeerRetries -= 1;
          this.log.info({ txId, channel, contract, fn }, 'endorsers disagree (a peer is behind); proposing again');
          await new Promise((r) => setTimeout(r, LAGGING_PEER_DELAY_MS));
          continue;
        }
        const err = toClientError(e, site);
        this.log.debug({ txId, code: err.code, channel, contract, fn }, 'transaction failed');
        throw err;
      }
    }
  }

  close(): void {
    this.connection.close();
  }
}
