/**
 * The medbridge chaincode on one channel, as one org sees it: a typed client per contract
 * (one method per transaction, argument and result types from `@medbridge/chaincode`),
 * the chain id, and the chaincode's events. Every failure is a ClientError carrying the
 * chaincode's own code (errors.ts).
 *
 * @example
 *   const cc = new Chaincode(FabricClient.open('HospitalA'), 'chain-a');
 *   const { result } = await cc.consent.registerPatient(key.publicKey);
 *   const chainId = await cc.chainId();
 *   const sub = await cc.on(['PacketReceived'], (e) => log.info({ sequence: e.payload.sequence }, 'received'));
 *   await sub.close();
 */
import type { ChaincodeEventName } from '@medbridge/chaincode';
import type { FabricClient } from '../client';
import type { Profile } from '../profile';
import { ConsentClient } from './consent';
import { CrossChainClient } from './crosschain';
import { openEvents, type ChaincodeEvent, type EventOptions, type EventStream } from './events';
import { GovernanceClient } from './governance';
import { IncentiveClient } from './incentive';
import { SystemClient } from './system';

/** A running `on(...)` subscription. */
export interface Subscription {
  /** Stops reading events and waits for the handler loop to end. */
  close(): Promise<void>;
  /** Settles when the stream ends: rejects with the stream's (or a handler's) failure. */
  readonly done: Promise<void>;
}

export class Chaincode {
  readonly system: SystemClient;
  readonly consent: ConsentClient;
  readonly governance: GovernanceClient;
  readonly crossChain: CrossChainClient;
  readonly incentive: IncentiveClient;
  private chainIdRead?: Promise<string>;

  constructor(
    /** The org's transport (its identity signs and submits). */
    readonly client: FabricClient,
    /** The channel (one chain); default: the org's first channel. */
    readonly channel: string = client.defaultChannel,
  ) {
    this.system = new SystemClient(client, channel);
    this.consent = new ConsentClient(client, channel);
    this.governance = new GovernanceClient(client, channel);
    this.crossChain = new CrossChainClient(client, channel);
    this.incentive = new IncentiveClient(client, channel);
  }

  get profile(): Profile {
    return this.client.profile;
  }

  get mspId(): string {
    return this.client.mspId;
  }

  /** This chaincode on another channel, with the same org and identity. */
  onChannel(channel: string): Chaincode {
    return channel === this.channel ? this : new Chaincode(this.client, channel);
  }

  /** The chain id of this channel (Governance members record; read once, it never changes). */
  chainId(): Promise<string> {
    this.chainIdRead ??= this.governance.getMembers().then(
      (m) => m.chainId,
      (e: unknown) => {
        this.chainIdRead = undefined;
        throw e;
      },
    );
    return this.chainIdRead;
  }

  /** The channel's chaincode events from `startBlock` (or a checkpoint, or the next block) on. */
  events<N extends ChaincodeEventName = ChaincodeEventName>(opts: EventOptions<N> = {}): Promise<EventStream<ChaincodeEvent<N>>> {
    return openEvents(this.client, this.channel, opts);
  }

  /**
   * Calls `handler` for each event named in `names`, in commit order, until `close()`.
   * The stream is open when the returned promise resolves.
   */
  async on<N extends ChaincodeEventName>(
    names: readonly N[],
    handler: (event: ChaincodeEvent<N>) => void | Promise<void>,
    opts: Omit<EventOptions<N>, 'names'> = {},
  ): Promise<Subscription> {
    const stream = await this.events({ ...opts, names });
    const done = (async () => {
      for await (const e of stream) await handler(e);
    })();
    return {
      done,
      close: async () => {
        stream.close();
        await done.catch(() => undefined);
      },
    };
  }
}
