/**
 * Batch rules (PROTOCOL.md "Batches"): ReceivePackets and AcknowledgePackets carry, under ONE
 * proof, a contiguous run of a route's packets or acknowledgements, or one such run of each of
 * several routes between the same two chains. After the proof verified, each item goes through
 * exactly the decision of its single transaction (delivery-rules.ts), in sequence order, on its
 * route as the items before it left it. The
 * batch applies entirely or not at all: the first item that would be refused refuses the
 * batch (a replayed item included: a batch is never partly done), and a conflicting item
 * freezes the route without applying any item.
 */
import type { Acknowledgement, Packet } from '../protocol/packet';
import { Limits } from '../protocol/limits';
import { decideReceive, decideSettle, routeAfterReceive, type Conflict, type ReceiptRecord, type ReceiveDecision, type SentPacketRecord, type SentStatus } from './delivery-rules';
import type { Refusal, RouteRecord } from './route-rules';

/** What a batch item names: its route, its chains in packet direction, its sequence. */
export interface BatchItem {
  sourceChain: string;
  destChain: string;
  routeId: string;
  sequence: number;
}

/**
 * The refusal (BATCH_INVALID) of a batch that is not runs of routes in batch order: empty,
 * longer than Limits.maxBatchPackets, items between different chains, or, within the items of
 * one route, sequences with a gap or out of order. Several routes may share a batch, one run
 * each, their runs in route-id order (so one set of runs has one order, and a route appears
 * once). Undefined for a valid batch. Checked before any proof is verified.
 */
export function batchRefusal(items: readonly BatchItem[], what: 'packets' | 'acknowledgements'): Refusal | undefined {
  const first = items[0];
  if (!first) return { code: 'BATCH_INVALID', message: `a batch carries at least one of its ${what}` };
  if (items.length > Limits.maxBatchPackets) return { code: 'BATCH_INVALID', message: `a batch carries at most ${Limits.maxBatchPackets} ${what}, got ${items.length}` };
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    const before = items[i - 1]!;
    if (item.sourceChain !== first.sourceChain || item.destChain !== first.destChain) {
      return { code: 'BATCH_INVALID', message: `all ${what} of a batch go from ${first.sourceChain} to ${first.destChain}; item ${i} does not` };
    }
    if (item.routeId === before.routeId) {
      if (item.sequence !== before.sequence + 1) {
        return { code: 'BATCH_INVALID', message: `the ${what} of a route in a batch are one run of sequences; item ${i} of ${item.routeId} has ${item.sequence}, expected ${before.sequence + 1}` };
      }
    } else if (item.routeId < before.routeId) {
      // Routes strictly increase from run to run, so a route seen before is always behind the last one.
      return { code: 'BATCH_INVALID', message: `the routes of a batch come in route-id order, one run each; item ${i} (${item.routeId}) follows ${before.routeId}` };
    }
  }
  return undefined;
}

type Stop = { kind: 'refuse'; refusal: Refusal } | { kind: 'freeze'; conflict: Conflict };

/** One packet of an accepted batch: deliver to its handler, or answer with an error acknowledgement. */
export type BatchReceiveStep = Extract<ReceiveDecision, { kind: 'deliver' | 'answer-error' }>;

export type ReceiveBatchDecision = { kind: 'deliver-all'; steps: BatchReceiveStep[]; route: RouteRecord } | Stop;

export interface ReceiveBatchInput {
  packets: readonly Packet[];
  /** packetHash of each packet, same order. */
  packetHashes: readonly string[];
  chainId: string;
  route: RouteRecord;
  /** The receipt stored for each packet's (routeId, sequence), if any; same order. */
  receipts: readonly (ReceiptRecord | undefined)[];
  nowMs: number;
}

/**
 * ReceivePackets after the proof verified: decideReceive (mode receive) for each packet in
 * order, each on the route after the ones before it (next sequence, receive window). The
 * route returned is the one to store once every packet is applied.
 */
export function decideReceiveBatch(input: ReceiveBatchInput): ReceiveBatchDecision {
  let route = input.route;
  const steps: BatchReceiveStep[] = [];
  for (const [i, packet] of input.packets.entries()) {
    const d = decideReceive({ mode: 'receive', packet, packetHash: input.packetHashes[i]!, chainId: input.chainId, route, receipt: input.receipts[i], nowMs: input.nowMs });
    if (d.kind === 'freeze') return d;
    if (d.kind === 'duplicate' || d.kind === 'refuse') return { kind: 'refuse', refusal: d.refusal };
    // decideReceive in mode receive never asks to record a timeout; a timed-out packet is refused above.
    if (d.kind === 'record-timeout') return { kind: 'refuse', refusal: { code: 'PACKET_TIMED_OUT', message: `packet ${packet.routeId}/${packet.sequence} timed out; record it with RecordTimeout` } };
    steps.push(d);
    route = routeAfterReceive(route, d.recvWindow, input.nowMs);
  }
  return { kind: 'deliver-all', steps, route };
}

export type SettleBatchDecision = { kind: 'settle-all'; settles: { sent: SentPacketRecord; status: SentStatus }[] } | Stop;

export interface SettleBatchInput {
  acks: readonly Acknowledgement[];
  chainId: string;
  /** The packet stored as sent for each acknowledgement's (routeId, sequence), if any; same order. */
  sent: readonly (SentPacketRecord | undefined)[];
}

/**
 * AcknowledgePackets after the proof verified: decideSettle (mode ack) for each
 * acknowledgement in order. Timeouts settle one by one with TimeoutPacket.
 */
export function decideSettleBatch(input: SettleBatchInput): SettleBatchDecision {
  const settles: { sent: SentPacketRecord; status: SentStatus }[] = [];
  for (const [i, ack] of input.acks.entries()) {
    const d = decideSettle({ mode: 'ack', ack, chainId: input.chainId, sent: input.sent[i] });
    if (d.kind === 'freeze') return d;
    if (d.kind === 'duplicate' || d.kind === 'refuse') return { kind: 'refuse', refusal: d.refusal };
    settles.push({ sent: d.sent, status: d.status });
  }
  return { kind: 'settle-all', settles };
}
