/**
 * rules/delivery-rules.ts: what a packet or acknowledgement whose proof verified does to a
 * route (PROTOCOL.md "ReceivePacket" step 4, "RecordTimeout", "AcknowledgePacket /
 * TimeoutPacket", "Conflicting evidence"), as tagged outcomes over plain data.
 */
import type { Json } from '../../../chaincode/src/protocol/canonical-json';
import { ackHash, packetHash, type Acknowledgement, type Packet } from '../../../chaincode/src/protocol/packet';
import {
  acknowledgementOf,
  decideReceive,
  decideSettle,
  freeze,
  receiptOf,
  routeAfterReceive,
  settled,
  type ReceiptRecord,
  type ReceiveInput,
  type SentPacketRecord,
  type SettleInput,
} from '../../../chaincode/src/rules/delivery-rules';
import type { RouteRecord } from '../../../chaincode/src/rules/route-rules';

const NOW = 1_800_000_000_000;
const WINDOW = 60_000;

const route = (over: Partial<RouteRecord> = {}): RouteRecord => ({
  routeId: 'route-ab',
  counterparty: 'chain-a',
  status: 'open',
  packetTypes: ['ping'],
  rateLimit: { maxPackets: 2, windowMs: WINDOW },
  nextSendSequence: 1,
  nextRecvSequence: 3,
  sendWindow: { start: 0, count: 0 },
  recvWindow: { start: 0, count: 0 },
  updatedAtMs: 0,
  ...over,
});

const packet = (over: Partial<Packet> = {}): Packet => ({
  sourceChain: 'chain-a',
  destChain: 'chain-b',
  routeId: 'route-ab',
  sequence: 3,
  type: 'ping',
  payload: { n: 3 },
  timeoutMs: NOW + 1000,
  sentAtMs: NOW - 1000,
  sender: 'HospitalAMSP',
  ...over,
});

const receive = (over: Partial<ReceiveInput> = {}): ReceiveInput => {
  const p = over.packet ?? packet();
  return { mode: 'receive', packet: p, packetHash: packetHash(p), chainId: 'chain-b', route: route(), receipt: undefined, nowMs: NOW, ...over };
};

const receiptFor = (p: Packet): ReceiptRecord => {
  const hash = packetHash(p);
  const ack = acknowledgementOf(p, hash, { outcome: 'success', result: null }, ['n1']);
  return receiptOf(p, hash, ack, { epoch: 1, signers: ['n1'] }, { nowMs: NOW - 10, txId: 'tx-r', relayer: 'relayer' });
};

describe('decideReceive', () => {
  it('delivers the next packet in order and counts it in the receive window', () => {
    expect(decideReceive(receive())).toEqual({ kind: 'deliver', recvWindow: { start: NOW - (NOW % WINDOW), count: 1 } });
  });

  it('answers a packet type the route does not carry with an error acknowledgement, still counted', () => {
    const p = packet({ type: 'consent.grant' });
    expect(decideReceive(receive({ packet: p }))).toEqual({
      kind: 'answer-error',
      recvWindow: { start: NOW - (NOW % WINDOW), count: 1 },
      error: 'PACKET_TYPE_NOT_ALLOWED: route route-ab does not carry consent.grant packets',
    });
  });

  it('refuses a packet addressed to another chain with WRONG_DESTINATION', () => {
    expect(decideReceive(receive({ chainId: 'chain-c' }))).toMatchObject({ kind: 'refuse', refusal: { code: 'WRONG_DESTINATION' } });
  });

  it('calls a packet received before, or below the next sequence, a duplicate (PACKET_REPLAYED)', () => {
    const p = packet();
    expect(decideReceive(receive({ receipt: receiptFor(p) }))).toEqual({
      kind: 'duplicate',
      refusal: { code: 'PACKET_REPLAYED', message: 'packet route-ab/3 was already received' },
    });
    expect(decideReceive(receive({ packet: packet({ sequence: 2 }) }))).toMatchObject({ kind: 'duplicate', refusal: { code: 'PACKET_REPLAYED' } });
  });

  it('freezes on a second, different packet for a sequence already received', () => {
    const known = packet();
    const other = packet({ payload: { n: 'other' } });
    expect(decideReceive(receive({ packet: other, receipt: receiptFor(known) }))).toEqual({
      kind: 'freeze',
      conflict: { kind: 'packet', sequence: 3, knownHash: packetHash(known), conflictingHash: packetHash(other), conflicting: other as unknown as Json },
    });
  });

  it('refuses a packet above the next sequence with OUT_OF_ORDER', () => {
    expect(decideReceive(receive({ packet: packet({ sequence: 4 }) }))).toEqual({
      kind: 'refuse',
      refusal: { code: 'OUT_OF_ORDER', message: 'route route-ab expects sequence 3, got 4' },
    });
  });

  it('refuses to receive a packet from its timeout on (PACKET_TIMED_OUT) and records its timeout then', () => {
    const late = { nowMs: NOW + 1000 };
    expect(decideReceive(receive(late))).toMatchObject({ kind: 'refuse', refusal: { code: 'PACKET_TIMED_OUT' } });
    expect(decideReceive(receive({ ...late, mode: 'timeout' }))).toEqual({ kind: 'record-timeout' });
  });

  it('refuses to record the timeout of a packet that has not timed out (PACKET_NOT_TIMED_OUT)', () => {
    expect(decideReceive(receive({ mode: 'timeout' }))).toMatchObject({ kind: 'refuse', refusal: { code: 'PACKET_NOT_TIMED_OUT' } });
  });

  it('refuses a receive past the rate limit (RATE_LIMITED); a recorded timeout is not rate limited', () => {
    const full = route({ recvWindow: { start: NOW - (NOW % WINDOW), count: 2 } });
    expect(decideReceive(receive({ route: full }))).toMatchObject({ kind: 'refuse', refusal: { code: 'RATE_LIMITED' } });
    expect(decideReceive(receive({ route: full, mode: 'timeout', nowMs: NOW + 1000 }))).toEqual({ kind: 'record-timeout' });
  });

  it('opens a new window once the old one has passed', () => {
    const old = route({ recvWindow: { start: NOW - (NOW % WINDOW) - WINDOW, count: 2 } });
    expect(decideReceive(receive({ route: old }))).toMatchObject({ kind: 'deliver', recvWindow: { count: 1 } });
  });
});

describe('acknowledgements and receipts', () => {
  const p = packet();
  const hash = packetHash(p);

  it('names the packet signers on a success or an error, and not on a timeout', () => {
    const base = { sourceChain: 'chain-a', destChain: 'chain-b', routeId: 'route-ab', sequence: 3, packetHash: hash };
    expect(acknowledgementOf(p, hash, { outcome: 'success', result: { pong: 1 } }, ['n1'])).toEqual({ ...base, packetSigners: ['n1'], outcome: 'success', result: { pong: 1 } });
    expect(acknowledgementOf(p, hash, { outcome: 'error', error: 'X: y' }, ['n1'])).toEqual({ ...base, packetSigners: ['n1'], outcome: 'error', error: 'X: y' });
    expect(acknowledgementOf(p, hash, { outcome: 'timeout' }, ['n1'])).toEqual({ ...base, outcome: 'timeout' });
  });

  it('keeps the acknowledgement and its hash in the receipt', () => {
    const ack = acknowledgementOf(p, hash, { outcome: 'timeout' }, []);
    const r = receiptOf(p, hash, ack, { epoch: 2, signers: ['n1', 'n2'] }, { nowMs: NOW, txId: 'tx1', relayer: 'who' });
    expect(r).toEqual({
      routeId: 'route-ab',
      sequence: 3,
      sourceChain: 'chain-a',
      packetHash: hash,
      type: 'ping',
      outcome: 'timeout',
      receivedAtMs: NOW,
      txId: 'tx1',
      proofEpoch: 2,
      signers: ['n1', 'n2'],
      relayer: 'who',
      ack,
      ackHash: ackHash(ack),
    });
  });

  it('advances the receive sequence of the route', () => {
    const next = routeAfterReceive(route(), { start: 5, count: 1 }, NOW);
    expect(next).toEqual({ ...route(), nextRecvSequence: 4, recvWindow: { start: 5, count: 1 }, updatedAtMs: NOW });
  });
});

describe('decideSettle', () => {
  const p = packet({ sourceChain: 'chain-b', destChain: 'chain-a' });
  const sent: SentPacketRecord = { packet: p, packetHash: packetHash(p), status: 'sent', txId: 'tx-s' };
  const ackOf = (outcome: Acknowledgement['outcome'], over: Partial<Acknowledgement> = {}): Acknowledgement => ({
    sourceChain: 'chain-b',
    destChain: 'chain-a',
    routeId: 'route-ab',
    sequence: 3,
    packetHash: sent.packetHash,
    outcome,
    ...over,
  });
  const settle = (over: Partial<SettleInput> = {}): SettleInput => ({ mode: 'ack', ack: ackOf('success'), chainId: 'chain-b', sent, ...over });

  it('settles a success as acknowledged, an error as failed, a timeout as timed-out', () => {
    expect(decideSettle(settle())).toEqual({ kind: 'settle', sent, status: 'acknowledged' });
    expect(decideSettle(settle({ ack: ackOf('error', { error: 'X: y' }) }))).toEqual({ kind: 'settle', sent, status: 'failed' });
    expect(decideSettle(settle({ mode: 'timeout', ack: ackOf('timeout') }))).toEqual({ kind: 'settle', sent, status: 'timed-out' });
  });

  it('refuses an acknowledgement of packets of another chain with WRONG_DESTINATION', () => {
    expect(decideSettle(settle({ chainId: 'chain-c' }))).toMatchObject({ kind: 'refuse', refusal: { code: 'WRONG_DESTINATION' } });
  });

  it('freezes on an acknowledgement of a packet never sent, or of a different packet', () => {
    const ack = ackOf('success');
    expect(decideSettle(settle({ sent: undefined }))).toEqual({
      kind: 'freeze',
      conflict: { kind: 'ack', sequence: 3, knownHash: '', conflictingHash: ackHash(ack), conflicting: ack as unknown as Json },
    });
    const other = ackOf('success', { packetHash: 'f'.repeat(64) });
    expect(decideSettle(settle({ ack: other }))).toEqual({
      kind: 'freeze',
      conflict: { kind: 'ack', sequence: 3, knownHash: sent.packetHash, conflictingHash: 'f'.repeat(64), conflicting: other as unknown as Json },
    });
  });

  it('calls a second settlement a duplicate (PACKET_REPLAYED)', () => {
    expect(decideSettle(settle({ sent: { ...sent, status: 'acknowledged' } }))).toEqual({
      kind: 'duplicate',
      refusal: { code: 'PACKET_REPLAYED', message: 'packet route-ab/3 is already acknowledged' },
    });
  });

  it('takes a timeout only through TimeoutPacket and a success or error only through AcknowledgePacket', () => {
    expect(decideSettle(settle({ ack: ackOf('timeout') }))).toMatchObject({ kind: 'refuse', refusal: { code: 'INVALID_ARGUMENT' } });
    expect(decideSettle(settle({ mode: 'timeout' }))).toMatchObject({ kind: 'refuse', refusal: { code: 'PACKET_NOT_TIMED_OUT' } });
  });

  it('records the settlement with the acknowledgement, its signers, epoch, time and submitter', () => {
    const ack = ackOf('success');
    expect(settled(sent, 'acknowledged', ack, { epoch: 4, signers: ['d1'] }, { nowMs: NOW, settledBy: 'relayer' })).toEqual({
      ...sent,
      status: 'acknowledged',
      ack,
      ackSigners: ['d1'],
      ackEpoch: 4,
      settledAtMs: NOW,
      settledBy: 'relayer',
    });
  });
});

describe('freeze', () => {
  it('freezes the route with a reason and keeps both hashes and the signers as evidence', () => {
    const conflict = { kind: 'packet' as const, sequence: 3, knownHash: 'a'.repeat(64), conflictingHash: 'b'.repeat(64), conflicting: { x: 1 } };
    const frozen = freeze({ route: route(), conflict, signedBy: { chainId: 'chain-a', epoch: 2, signers: ['n1', 'n2'] }, nowMs: NOW, txId: 'tx-f' });
    const reason = 'conflicting packet evidence for sequence 3 signed by chain-a epoch 2';
    expect(frozen.route).toEqual({ ...route(), status: 'frozen', frozenReason: reason, updatedAtMs: NOW });
    expect(frozen.evidence).toEqual({
      routeId: 'route-ab',
      sequence: 3,
      kind: 'packet',
      knownHash: conflict.knownHash,
      conflictingHash: conflict.conflictingHash,
      conflicting: { x: 1 },
      proofEpoch: 2,
      signers: ['n1', 'n2'],
      recordedAtMs: NOW,
      txId: 'tx-f',
    });
    expect(frozen.event).toEqual({
      routeId: 'route-ab',
      sequence: 3,
      outcome: 'frozen',
      reason,
      knownHash: conflict.knownHash,
      conflictingHash: conflict.conflictingHash,
      signers: ['n1', 'n2'],
    });
  });
});
