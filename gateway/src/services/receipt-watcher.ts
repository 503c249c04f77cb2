/**
 * Waits for packets to arrive on a destination chain, by its own events (PacketReceived,
 * PacketTimeoutRecorded) rather than by polling: `waitFor(route, sequence)` resolves with
 * the moment the receipt's block was delivered to this client, i.e. when the packet is
 * usable on that chain.
 */
import { ArrivalEvents, type Chaincode } from '../fabric/contracts';
import { PacketEventWatcher } from './packet-event-watcher';

export interface Arrival {
  routeId: string;
  sequence: number;
  outcome: string;
  event: (typeof ArrivalEvents)[number];
  txId: string;
  blockNumber: bigint;
  /** Date.now() when the event reached this client. */
  at: number;
  signers: string[];
}

export class ReceiptWatcher extends PacketEventWatcher<(typeof ArrivalEvents)[number], Arrival> {
  constructor(chaincode: Chaincode) {
    super(
      chaincode,
      ArrivalEvents,
      (e) => ({
        routeId: e.payload.routeId,
        sequence: e.payload.sequence,
        outcome: e.payload.outcome,
        event: e.name,
        txId: e.txId,
        blockNumber: e.blockNumber,
        at: Date.now(),
        signers: e.payload.signers ?? [],
      }),
      'did not arrive',
    );
  }
}
