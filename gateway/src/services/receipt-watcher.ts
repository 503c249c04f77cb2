/**
 * Waits for packets to arrive on a destination chain, by its own events (PacketReceived,
 * PacketTimeoutRecorded) rather than by polling: `waitFor(route, sequence)` resolves with
 * the moment the receipt's block was delivered to this client, i.e. when the packet is
 * usable on that chain.
 */
import type { FabricClient } from '../fabric/client';
import { PacketEventWatcher } from './packet-event-watcher';

export interface Arrival {
  routeId: string;
  sequence: number;
  outcome: string;
  event: string;
  txId: string;
  blockNumber: bigint;
  /** Date.now() when the event reached this client. */
  at: number;
  signers: unknown[];
}

export class ReceiptWatcher extends PacketEventWatcher<Arrival> {
  constructor(client: FabricClient, channel: string) {
    super(
      client,
      channel,
      ['PacketReceived', 'PacketTimeoutRecorded'],
      (e, payload) => {
        const body = payload as { routeId: string; sequence: number; outcome: string; signers?: unknown[] };
        return { routeId: body.routeId, sequence: body.sequence, outcome: body.outcome, event: e.eventName, txId: e.transactionId, blockNumber: e.blockNumber, at: Date.now(), signers: body.signers ?? [] };
      },
      'did not arrive',
    );
  }
}
