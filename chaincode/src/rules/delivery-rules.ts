/**
 * Delivery rules (PROTOCOL.md "ReceivePacket" step 4, "RecordTimeout", "AcknowledgePacket /
 * TimeoutPacket" step 4, "Conflicting evidence"): what a packet or acknowledgement whose
 * proof verified does to a route, decided over plain data. Each decision is a tagged
 * outcome; the contract verifies the proof before, and writes and emits after:
 *
 *   deliver / answer-error / record-timeout / settle: go on (receive, timeout, settle);
 *   duplicate: PACKET_REPLAYED, already received or settled;
 *   refuse: another refusal (wrong destination, out of order, timeout, rate limit);
 *   freeze: two different statements validly signed for one sequence; freeze the route.
 */
import type { ErrorCode } from '../errors';
import type { Json } from '../protocol/canonical-json';
import { ackHash, type Acknowledgement, type Packet } from '../protocol/packet';
import { freezeRoute, rateCheck, type RateWindow, type Refusal, type RouteRecord } from './route-rules';

export type SentStatus = 'sent' | 'acknowledged' | 'failed' | 'timed-out';

/** A packet this chain sent, with its settlement once acknowledged or timed out. */
export interface SentPacketRecord {
  packet: Packet;
  packetHash: string;
  status: SentStatus;
  txId: string;
  ack?: Acknowledgement;
  /** Destination nodes whose signatures were in the accepted acknowledgement proof. */
  ackSigners?: string[];
  ackEpoch?: number;
  settledAtMs?: number;
  /** Who submitted the acknowledgement or timeout (caller id), e.g. the relayer to reward. */
  settledBy?: string;
}

export type ReceiptOutcome = 'success' | 'error' | 'timeout';

/** A packet this chain received (or recorded as timed out), with the acknowledgement its nodes sign. */
export interface ReceiptRecord {
  routeId: string;
  sequence: number;
  sourceChain: string;
  packetHash: string;
  type: string;
  outcome: ReceiptOutcome;
  receivedAtMs: number;
  txId: string;
  /** Source epoch and nodes whose signatures were in the accepted proof. */
  proofEpoch: number;
  signers: string[];
  /** Caller id of the submitter (the relayer). */
  relayer: string;
  ack: Acknowledgement;
  ackHash: string;
}

export interface EvidenceRecord {
  routeId: string;
  sequence: number;
  /** 'packet': two source packets for one sequence; 'ack': a destination acknowledged a packet this chain never sent. */
  kind: 'packet' | 'ack';
  knownHash: string;
  conflictingHash: string;
  conflicting: Json;
  proofEpoch: number;
  signers: string[];
  recordedAtMs: number;
  txId: string;
}

/** Two different statements validly signed for one route and sequence: what is known here and what conflicts with it. */
export interface Conflict {
  kind: 'packet' | 'ack';
  sequence: number;
  /** Hash of what this chain holds ('' when it holds nothing: an acknowledgement of a packet never sent). */
  knownHash: string;
  conflictingHash: string;
  conflicting: Json;
}

type Stop = { kind: 'duplicate'; refusal: Refusal } | { kind: 'refuse'; refusal: Refusal } | { kind: 'freeze'; conflict: Conflict };

export type ReceiveDecision =
  /** Run the packet type's handler; the route's receive window becomes `recvWindow`. */
  | { kind: 'deliver'; recvWindow: RateWindow }
  /** Answer with an error acknowledgement without running a handler (a type the route does not carry). */
  | { kind: 'answer-error'; recvWindow: RateWindow; error: string }
  /** Record the timeout acknowledgement (RecordTimeout); nothing is dispatched. */
  | { kind: 'record-timeout' }
  | Stop;

export interface ReceiveInput {
  mode: 'receive' | 'timeout';
  packet: Packet;
  packetHash: string;
  /** This chain's id. */
  chainId: string;
  route: RouteRecord;
  /** The receipt stored for (packet.routeId, packet.sequence), if any. */
  receipt: ReceiptRecord | undefined;
  nowMs: number;
}

function duplicate(message: string): Stop {
  return { kind: 'duplicate', refusal: { code: 'PACKET_REPLAYED', message } };
}

function refuse(code: ErrorCode, message: string): Stop {
  return { kind: 'refuse', refusal: { code, message } };
}

/**
 * ReceivePacket / RecordTimeout after the proof verified, in this order: addressed to this
 * chain; not received before (same hash: duplicate; different hash: freeze); next in order;
 * timed out or not as the mode needs; then for a receive the rate limit and the route's
 * packet types.
 */
export function decideReceive(input: ReceiveInput): ReceiveDecision {
  const { mode, packet, packetHash, route, receipt, nowMs } = input;
  const ref = `${packet.routeId}/${packet.sequence}`;
  if (packet.destChain !== input.chainId) return refuse('WRONG_DESTINATION', `packet is addressed to ${packet.destChain}, this chain is ${input.chainId}`);
  if (receipt) {
    if (receipt.packetHash === packetHash) return duplicate(`packet ${ref} was already received`);
    return {
      kind: 'freeze',
      conflict: { kind: 'packet', sequence: packet.sequence, knownHash: receipt.packetHash, conflictingHash: packetHash, conflicting: packet as unknown as Json },
    };
  }
  if (packet.sequence < route.nextRecvSequence) return duplicate(`packet ${ref} was already received`);
  if (packet.sequence > route.nextRecvSequence) return refuse('OUT_OF_ORDER', `route ${route.routeId} expects sequence ${route.nextRecvSequence}, got ${packet.sequence}`);
  const timedOut = nowMs >= packet.timeoutMs;
  if (mode === 'receive' && timedOut) return refuse('PACKET_TIMED_OUT', `packet ${ref} timed out at ${packet.timeoutMs}`);
  if (mode === 'timeout' && !timedOut) return refuse('PACKET_NOT_TIMED_OUT', `packet ${ref} times out at ${packet.timeoutMs}`);
  if (mode === 'timeout') return { kind: 'record-timeout' };
  const rate = rateCheck(route.rateLimit, route.recvWindow, nowMs, `route ${route.routeId} (receive)`);
  if ('refusal' in rate) return { kind: 'refuse', refusal: rate.refusal };
  if (!route.packetTypes.includes(packet.type)) {
    return { kind: 'answer-error', recvWindow: rate.window, error: `PACKET_TYPE_NOT_ALLOWED: route ${route.routeId} does not carry ${packet.type} packets` };
  }
  return { kind: 'deliver', recvWindow: rate.window };
}

/** What the destination answers: the handler's result, its error, or the timeout. */
export type Answer = { outcome: 'success'; result: Json } | { outcome: 'error'; error: string } | { outcome: 'timeout' };

/**
 * The acknowledgement of `packet`. A success or error names the source nodes whose
 * signatures were in the accepted packet proof (`packetSigners`); a timeout does not.
 */
export function acknowledgementOf(packet: Packet, packetHash: string, answer: Answer, packetSigners: string[]): Acknowledgement {
  const base = { sourceChain: packet.sourceChain, destChain: packet.destChain, routeId: packet.routeId, sequence: packet.sequence, packetHash };
  if (answer.outcome === 'timeout') return { ...base, outcome: 'timeout' };
  return { ...base, packetSigners, ...answer };
}

/** The receipt of a received (or timed-out) packet. */
export function receiptOf(
  packet: Packet,
  packetHash: string,
  ack: Acknowledgement,
  proof: { epoch: number; signers: string[] },
  tx: { nowMs: number; txId: string; relayer: string },
): ReceiptRecord {
  return {
    routeId: packet.routeId,
    sequence: packet.sequence,
    sourceChain: packet.sourceChain,
    packetHash,
    type: packet.type,
    outcome: ack.outcome,
    receivedAtMs: tx.nowMs,
    txId: tx.txId,
    proofEpoch: proof.epoch,
    signers: proof.signers,
    relayer: tx.relayer,
    ack,
    ackHash: ackHash(ack),
  };
}

/** The route after accepting its next packet: the receive sequence advances. */
export function routeAfterReceive(route: RouteRecord, recvWindow: RateWindow, nowMs: number): RouteRecord {
  return { ...route, nextRecvSequence: route.nextRecvSequence + 1, recvWindow, updatedAtMs: nowMs };
}

/** `settle`: the sent packet `sent` takes `status`. */
export type SettleDecision = { kind: 'settle'; sent: SentPacketRecord; status: SentStatus } | Stop;

export interface SettleInput {
  mode: 'ack' | 'timeout';
  ack: Acknowledgement;
  /** This chain's id. */
  chainId: string;
  /** The packet stored as sent for (ack.routeId, ack.sequence), if any. */
  sent: SentPacketRecord | undefined;
}

/**
 * AcknowledgePacket / TimeoutPacket after the proof verified, in this order: for a packet of
 * this chain; sent here with the acknowledged hash (otherwise freeze); not settled before;
 * an acknowledgement of success or error settles by AcknowledgePacket, one of timeout by
 * TimeoutPacket. The sent packet becomes acknowledged, failed or timed-out.
 */
export function decideSettle(input: SettleInput): SettleDecision {
  const { mode, ack, sent } = input;
  const ref = `${ack.routeId}/${ack.sequence}`;
  if (ack.sourceChain !== input.chainId) return refuse('WRONG_DESTINATION', `acknowledgement is for packets of ${ack.sourceChain}, not ${input.chainId}`);
  const conflicting = ack as unknown as Json;
  if (!sent) return { kind: 'freeze', conflict: { kind: 'ack', sequence: ack.sequence, knownHash: '', conflictingHash: ackHash(ack), conflicting } };
  if (ack.packetHash !== sent.packetHash) {
    return { kind: 'freeze', conflict: { kind: 'ack', sequence: ack.sequence, knownHash: sent.packetHash, conflictingHash: ack.packetHash, conflicting } };
  }
  if (sent.status !== 'sent') return duplicate(`packet ${ref} is already ${sent.status}`);
  if (mode === 'ack' && ack.outcome === 'timeout') return refuse('INVALID_ARGUMENT', 'this acknowledgement records a timeout; submit it with TimeoutPacket');
  if (mode === 'timeout' && ack.outcome !== 'timeout') return refuse('PACKET_NOT_TIMED_OUT', `the destination answered packet ${ref} with ${ack.outcome}`);
  return { kind: 'settle', sent, status: ack.outcome === 'success' ? 'acknowledged' : ack.outcome === 'error' ? 'failed' : 'timed-out' };
}

/** The sent packet once settled by `ack`, proven by the destination nodes `proof.signers` at `proof.epoch`. */
export function settled(
  sent: SentPacketRecord,
  status: SentStatus,
  ack: Acknowledgement,
  proof: { epoch: number; signers: string[] },
  tx: { nowMs: number; settledBy: string },
): SentPacketRecord {
  return { ...sent, status, ack, ackSigners: proof.signers, ackEpoch: proof.epoch, settledAtMs: tx.nowMs, settledBy: tx.settledBy };
}

/** Everything a route freeze needs, named: the route, the conflict, who signed it and when. */
export interface FreezeRecord {
  route: RouteRecord;
  conflict: Conflict;
  /** The counterparty chain, the epoch of its list and its nodes whose proof carried the conflicting statement. */
  signedBy: { chainId: string; epoch: number; signers: string[] };
  nowMs: number;
  txId: string;
}

/** What a freeze writes and reports: the frozen route, the evidence record and the RouteFrozen event. */
export interface Frozen {
  route: RouteRecord;
  evidence: EvidenceRecord;
  event: { routeId: string; sequence: number; outcome: 'frozen'; reason: string; knownHash: string; conflictingHash: string; signers: string[] };
}

/**
 * Two validly signed, different statements for one route and sequence: the counterparty's
 * verification nodes equivocated (or its ledger forked). The route freezes and both hashes
 * are kept as evidence; the transaction succeeds so that the freeze persists.
 */
export function freeze(f: FreezeRecord): Frozen {
  const { route, conflict: c, signedBy } = f;
  const reason = `conflicting ${c.kind} evidence for sequence ${c.sequence} signed by ${signedBy.chainId} epoch ${signedBy.epoch}`;
  return {
    route: freezeRoute(route, reason, f.nowMs),
    evidence: {
      routeId: route.routeId,
      sequence: c.sequence,
      kind: c.kind,
      knownHash: c.knownHash,
      conflictingHash: c.conflictingHash,
      conflicting: c.conflicting,
      proofEpoch: signedBy.epoch,
      signers: signedBy.signers,
      recordedAtMs: f.nowMs,
      txId: f.txId,
    },
    event: { routeId: route.routeId, sequence: c.sequence, outcome: 'frozen', reason, knownHash: c.knownHash, conflictingHash: c.conflictingHash, signers: signedBy.signers },
  };
}
