/**
 * The chaincode's events as typed values: the name, its payload (chaincode `ChaincodeEvents`)
 * parsed from canonical JSON, and where it was committed. A stream reads one channel's
 * events from a block (or after a checkpoint) on; events of other chaincode versions that
 * this client does not know are skipped. A batch transaction's one event (PacketsReceived,
 * PacketsAcknowledged) is read as one event per packet (PacketReceived, PacketAcknowledged,
 * same transaction and block), so a consumer sees every packet the same way whichever path
 * delivered it.
 */
import type { ChaincodeEvent as FabricEvent, Checkpoint, CloseableAsyncIterable } from '@hyperledger/fabric-gateway';
import { ChaincodeEventNames, type ChaincodeEventName, type ChaincodeEvents } from '@medbridge/chaincode';
import type { FabricClient } from '../client';

/** The events that close a packet on its destination chain: received (applied or refused) or timed out there. */
export const ArrivalEvents = ['PacketReceived', 'PacketTimeoutRecorded'] as const satisfies readonly ChaincodeEventName[];

/** The events that settle a packet on its source chain: acknowledged or timed out. */
export const SettlementEvents = ['PacketAcknowledged', 'PacketTimedOut'] as const satisfies readonly ChaincodeEventName[];

/** One committed event: `payload` is typed by `name`. */
export type ChaincodeEvent<N extends ChaincodeEventName = ChaincodeEventName> = {
  [K in N]: {
    name: K;
    payload: ChaincodeEvents[K];
    txId: string;
    blockNumber: bigint;
    /** For an item of a batch event: its index and the batch's item count. */
    item?: number;
    items?: number;
  };
}[N];

export interface EventOptions<N extends ChaincodeEventName> {
  /** Only these events (default: every event). */
  names?: readonly N[];
  /** Start at this block (default: the next block). */
  startBlock?: bigint;
  /** Resume after the last event this checkpoint recorded (it wins over startBlock when set). */
  checkpoint?: Checkpoint;
}

/** Events in commit order until `close()`. */
export interface EventStream<E> extends AsyncIterable<E> {
  close(): void;
}

const known: ReadonlySet<string> = new Set(ChaincodeEventNames);

/** Reads a Fabric chaincode event into a typed one; undefined for names not in `wanted` (or unknown). */
export function toChaincodeEvent<N extends ChaincodeEventName>(e: FabricEvent, wanted?: ReadonlySet<string>): ChaincodeEvent<N> | undefined {
  if (!known.has(e.eventName) || (wanted && !wanted.has(e.eventName))) return undefined;
  const payload = JSON.parse(Buffer.from(e.payload).toString('utf8')) as unknown;
  return { name: e.eventName, payload, txId: e.transactionId, blockNumber: e.blockNumber } as ChaincodeEvent<N>;
}

/** What each item of a batch event reads as. */
const BatchItemEvents: Partial<Record<ChaincodeEventName, ChaincodeEventName>> = {
  PacketsSent: 'PacketSent',
  PacketsReceived: 'PacketReceived',
  PacketsAcknowledged: 'PacketAcknowledged',
};

/**
 * Reads a Fabric chaincode event into typed ones: itself, or for a batch event one event per
 * item (in item order); nothing for names not in `wanted` (or unknown).
 */
export function toChaincodeEvents<N extends ChaincodeEventName>(e: FabricEvent, wanted?: ReadonlySet<string>): ChaincodeEvent<N>[] {
  const itemName = known.has(e.eventName) ? BatchItemEvents[e.eventName as ChaincodeEventName] : undefined;
  if (itemName === undefined) {
    const one = toChaincodeEvent<N>(e, wanted);
    return one ? [one] : [];
  }
  if (wanted && !wanted.has(itemName)) return [];
  const payload = JSON.parse(Buffer.from(e.payload).toString('utf8')) as { items?: unknown[] };
  const items = payload.items ?? [];
  return items.map((item, i) => ({ name: itemName, payload: item, txId: e.transactionId, blockNumber: e.blockNumber, item: i, items: items.length }) as ChaincodeEvent<N>);
}

/** Opens the event stream of `channel` for `client`'s org. */
export async function openEvents<N extends ChaincodeEventName = ChaincodeEventName>(
  client: FabricClient,
  channel: string,
  opts: EventOptions<N> = {},
): Promise<EventStream<ChaincodeEvent<N>>> {
  const raw: CloseableAsyncIterable<FabricEvent> = await client.connection.network(channel).getChaincodeEvents(client.profile.chaincode, {
    ...(opts.startBlock === undefined ? {} : { startBlock: opts.startBlock }),
    ...(opts.checkpoint === undefined ? {} : { checkpoint: opts.checkpoint }),
  });
  const wanted = opts.names ? new Set<string>(opts.names) : undefined;
  return {
    close: () => raw.close(),
    async *[Symbol.asyncIterator]() {
      for await (const e of raw) {
        for (const typed of toChaincodeEvents<N>(e, wanted)) yield typed;
      }
    },
  };
}
