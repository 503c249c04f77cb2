/**
 * THE bytes that verification nodes sign (PROTOCOL.md "Signed messages"). Each is the
 * canonical JSON of a small object whose `domain` names the message kind and version, and
 * which binds the source chain, destination chain, route, sequence, the signing list's
 * epoch and hash, and the hash of the packet or acknowledgement. A signature for one of
 * these values never verifies for another, and never as another kind of message.
 *
 * These functions are the only place the messages are built: the chaincode returns them
 * from its read-only functions (so each peer signs what it read from its own ledger) and
 * the verifier rebuilds them from the packet it was given.
 */
import { canonicalBytes } from './canonical-json';
import { ackHash, packetHash, type Acknowledgement, type Packet } from './packet';

export const Domains = {
  packet: 'medbridge/packet/v1',
  ack: 'medbridge/ack/v1',
  epochLink: 'medbridge/epoch-link/v1',
  recordAnchor: 'medbridge/record-anchor/v1',
  privateRecordAnchor: 'medbridge/private-record-anchor/v1',
  packetBatch: 'medbridge/packet-batch/v1',
  ackBatch: 'medbridge/ack-batch/v1',
  packetRuns: 'medbridge/packet-runs/v1',
  ackRuns: 'medbridge/ack-runs/v1',
} as const;

/** What a signing list is: its epoch and hash. */
export interface SignerListRef {
  epoch: number;
  listHash: string;
}

export function packetMessage(packet: Packet, signers: SignerListRef): Buffer {
  return canonicalBytes({
    domain: Domains.packet,
    sourceChain: packet.sourceChain,
    destChain: packet.destChain,
    routeId: packet.routeId,
    sequence: packet.sequence,
    epoch: signers.epoch,
    listHash: signers.listHash,
    packetHash: packetHash(packet),
  });
}

/** Signed by the destination's nodes (the packet's destChain); chains named in packet direction. */
export function ackMessage(ack: Acknowledgement, signers: SignerListRef): Buffer {
  return canonicalBytes({
    domain: Domains.ack,
    sourceChain: ack.sourceChain,
    destChain: ack.destChain,
    routeId: ack.routeId,
    sequence: ack.sequence,
    epoch: signers.epoch,
    listHash: signers.listHash,
    ackHash: ackHash(ack),
  });
}

/**
 * A contiguous run of one route's packets or acknowledgements (rules/batch-rules.ts checks
 * that it is one): the route, its chains in packet direction, the first sequence and the hash
 * of each item in sequence order.
 */
export interface BatchRef {
  sourceChain: string;
  destChain: string;
  routeId: string;
  fromSequence: number;
  hashes: string[];
}

/**
 * Signed by the source's nodes for packets fromSequence .. fromSequence + count - 1 of a route
 * (ReceivePackets). Binds every packet hash in order, so it verifies for exactly that run.
 */
export function packetBatchMessage(packets: readonly Packet[], signers: SignerListRef): Buffer {
  return batchMessage(Domains.packetBatch, 'packetHashes', batchOf(packets, packets.map(packetHash)), signers);
}

/** Signed by the destination's nodes for the acknowledgements of a run of packets (AcknowledgePackets). */
export function ackBatchMessage(acks: readonly Acknowledgement[], signers: SignerListRef): Buffer {
  return batchMessage(Domains.ackBatch, 'ackHashes', batchOf(acks, acks.map(ackHash)), signers);
}

function batchOf(items: readonly { sourceChain: string; destChain: string; routeId: string; sequence: number }[], hashes: string[]): BatchRef {
  const first = items[0];
  if (!first) throw new Error('a batch message needs at least one item');
  return { sourceChain: first.sourceChain, destChain: first.destChain, routeId: first.routeId, fromSequence: first.sequence, hashes };
}

function batchMessage(domain: string, field: 'packetHashes' | 'ackHashes', b: BatchRef, signers: SignerListRef): Buffer {
  return canonicalBytes({
    domain,
    sourceChain: b.sourceChain,
    destChain: b.destChain,
    routeId: b.routeId,
    fromSequence: b.fromSequence,
    count: b.hashes.length,
    epoch: signers.epoch,
    listHash: signers.listHash,
    [field]: b.hashes,
  });
}

type RunItem = { sourceChain: string; destChain: string; routeId: string; sequence: number };

/**
 * One run of a batch over several routes: a route, its first sequence and the hash of each
 * item in sequence order. `count` is what the statement query names.
 */
export interface RunRef {
  routeId: string;
  fromSequence: number;
  count: number;
}

/**
 * The runs of items already in batch order (rules/batch-rules.ts `batchRuns`: routes in id
 * order, one run each, consecutive sequences): each run with its items.
 */
export function runsOf<T extends { routeId: string }>(items: readonly T[]): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const last = runs[runs.length - 1];
    if (last && last[0]!.routeId === item.routeId) last.push(item);
    else runs.push([item]);
  }
  return runs;
}

/** What a runs statement query names: each run's route, first sequence and count, in batch order. */
export function runRefs(items: readonly { routeId: string; sequence: number }[]): RunRef[] {
  return runsOf(items).map((run) => ({ routeId: run[0]!.routeId, fromSequence: run[0]!.sequence, count: run.length }));
}

/**
 * Signed by the source's nodes for packets of several routes between the same two chains,
 * one run per route (ReceivePackets over several routes): binds every route, first sequence
 * and packet hash in order, so it verifies for exactly those runs.
 */
export function packetRunsMessage(packets: readonly Packet[], signers: SignerListRef): Buffer {
  return runsMessage(Domains.packetRuns, 'packetHashes', packets, packets.map(packetHash), signers);
}

/** Signed by the destination's nodes for the acknowledgements of runs of several routes (AcknowledgePackets). */
export function ackRunsMessage(acks: readonly Acknowledgement[], signers: SignerListRef): Buffer {
  return runsMessage(Domains.ackRuns, 'ackHashes', acks, acks.map(ackHash), signers);
}

function runsMessage(domain: string, field: 'packetHashes' | 'ackHashes', items: readonly RunItem[], hashes: string[], signers: SignerListRef): Buffer {
  const first = items[0];
  if (!first) throw new Error('a runs message needs at least one item');
  let at = 0;
  const runs = runsOf(items).map((run) => {
    const out = { routeId: run[0]!.routeId, fromSequence: run[0]!.sequence, [field]: hashes.slice(at, at + run.length) };
    at += run.length;
    return out;
  });
  return canonicalBytes({ domain, sourceChain: first.sourceChain, destChain: first.destChain, epoch: signers.epoch, listHash: signers.listHash, runs });
}

/**
 * The message one proof of a batch signs: one route's run keeps the batch message (so a relay
 * and a chain of either age agree on it); runs of several routes take the runs message.
 */
export function packetsMessage(packets: readonly Packet[], signers: SignerListRef): Buffer {
  return runsOf(packets).length === 1 ? packetBatchMessage(packets, signers) : packetRunsMessage(packets, signers);
}

/** As packetsMessage, for acknowledgements. */
export function acksMessage(acks: readonly Acknowledgement[], signers: SignerListRef): Buffer {
  return runsOf(acks).length === 1 ? ackBatchMessage(acks, signers) : ackRunsMessage(acks, signers);
}

export interface EpochLinkRef {
  chainId: string;
  fromEpoch: number;
  toEpoch: number;
  fromListHash: string;
  newListHash: string;
}

/** Signed by the nodes of list `fromEpoch`: "our next list is the one with this hash". */
export function epochLinkMessage(link: EpochLinkRef): Buffer {
  return canonicalBytes({
    domain: Domains.epochLink,
    chainId: link.chainId,
    fromEpoch: link.fromEpoch,
    toEpoch: link.toEpoch,
    fromListHash: link.fromListHash,
    newListHash: link.newListHash,
  });
}

/** A record anchor as the custodian's chain holds it: (recordId, version) -> salted hash. */
export interface RecordAnchorRef {
  /** The chain (channel) that holds the anchor. */
  chainId: string;
  recordId: string;
  version: number;
  /** Salted SHA-256 of that version, hex. */
  hash: string;
}

/** A record version anchored privately in its custodian's implicit collection, as every peer of the chain can state it: by Fabric's hash of the stored version. */
export interface PrivateRecordAnchorRef {
  chainId: string;
  recordId: string;
  version: number;
  /** The org whose implicit collection holds the version. */
  custodian: string;
  /** SHA-256 (hex) of the stored version's bytes (a salted RecordVersion, which names the record's salted hash). */
  versionDigest: string;
}

/**
 * Signed by the nodes of the chain that holds a private anchor: "on our ledger, `custodian`'s
 * collection holds version `version` of record `recordId` as a value whose hash is
 * `versionDigest`". The custodian gives the requester those bytes; the requester checks their
 * hash against this and reads the record's salted hash from them (CONSENT.md "Private patients
 * and anchors"). Every peer can sign it: it reads the hash, which every peer holds.
 */
export function privateRecordAnchorMessage(anchor: PrivateRecordAnchorRef, signers: SignerListRef): Buffer {
  return canonicalBytes({
    domain: Domains.privateRecordAnchor,
    chainId: anchor.chainId,
    recordId: anchor.recordId,
    version: anchor.version,
    custodian: anchor.custodian,
    versionDigest: anchor.versionDigest,
    epoch: signers.epoch,
    listHash: signers.listHash,
  });
}

/**
 * Signed by the nodes of the chain that holds the anchor: "on our ledger, version `version`
 * of record `recordId` is anchored with `hash`". Lets a hospital that is not a member of
 * that chain check a fetched record against the anchor without trusting the custodian.
 */
export function recordAnchorMessage(anchor: RecordAnchorRef, signers: SignerListRef): Buffer {
  return canonicalBytes({
    domain: Domains.recordAnchor,
    chainId: anchor.chainId,
    recordId: anchor.recordId,
    version: anchor.version,
    hash: anchor.hash,
    epoch: signers.epoch,
    listHash: signers.listHash,
  });
}
