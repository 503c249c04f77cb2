/**
 * Packet and Acknowledgement: what travels between chains, PROTOCOL.md "Packet" and
 * "Acknowledgement". A packet's commitment is the SHA-256 of its canonical JSON; the
 * bytes that source nodes sign are built from it in commitment.ts.
 */
import { fail } from '../errors';
import { canonicalBytes, canonicalHash, sha256Hex, type Json } from './canonical-json';
import { asObject, reqId, reqInt, reqString } from './fields';
import { Limits } from './limits';

/** Packet types that exist at all; a route allows a subset. No generic dispatch. */
export const PacketTypes = ['ping', 'consent.grant', 'consent.revoke', 'consent.sealed'] as const;
export type PacketType = (typeof PacketTypes)[number];

export function isPacketType(value: unknown): value is PacketType {
  return typeof value === 'string' && (PacketTypes as readonly string[]).includes(value);
}

export interface Packet {
  sourceChain: string;
  destChain: string;
  routeId: string;
  /** 1, 2, 3, ... per route and direction, assigned by the source. */
  sequence: number;
  type: PacketType;
  payload: Json;
  /** Deadline: the destination refuses the packet in a transaction whose time is >= this (ms since epoch). */
  timeoutMs: number;
  /** Transaction time of SendPacket on the source, ms. */
  sentAtMs: number;
  /** MSP id of the org that sent it (pays any fee: INCENTIVES.md). */
  sender: string;
}

export type AckOutcome = 'success' | 'error' | 'timeout';

export interface Acknowledgement {
  /** The packet's direction, not the acknowledgement's: sourceChain sent the packet. */
  sourceChain: string;
  destChain: string;
  routeId: string;
  sequence: number;
  /** Commitment of the packet this acknowledges. */
  packetHash: string;
  outcome: AckOutcome;
  /** Handler result on success. */
  result?: Json;
  /** `CODE: message` of the handler's rejection on error. */
  error?: string;
  /**
   * Source nodes whose signatures were in the packet proof the destination accepted
   * (sorted node ids). Attested by the destination's signers; the source pays rewards
   * only to these (INCENTIVES.md "Fee split"). Absent on timeouts.
   */
  packetSigners?: string[];
}

const HEX64 = /^[0-9a-f]{64}$/;

export function parsePacket(value: unknown): Packet {
  return parsePacketEncoded(value).packet;
}

/**
 * A packet with its commitment (packetHash), both from the one canonical encoding the size
 * check reads: the packet parsePacket returns has exactly the fields and values it was given,
 * so its canonical JSON is that encoding, and the commitment is not encoded a second time.
 */
export function parsePacketHashed(value: unknown): { packet: Packet; packetHash: string } {
  const { packet, bytes } = parsePacketEncoded(value);
  return { packet, packetHash: sha256Hex(bytes) };
}

function parsePacketEncoded(value: unknown): { packet: Packet; bytes: Buffer } {
  const C = 'INVALID_ARGUMENT' as const;
  const o = asObject(value, C, 'packet', ['sourceChain', 'destChain', 'routeId', 'sequence', 'type', 'payload', 'timeoutMs', 'sentAtMs', 'sender']);
  const bytes = canonicalBytes(o);
  if (bytes.length > Limits.maxPacketBytes) fail('PROOF_TOO_LARGE', `a packet is at most ${Limits.maxPacketBytes} bytes`);
  const type = o.type;
  // A missing or non-string type is a malformed packet; a string outside the allowlist is a type not allowed.
  if (typeof type !== 'string') fail(C, 'packet.type must be a string');
  if (!isPacketType(type)) fail('PACKET_TYPE_NOT_ALLOWED', `packet type ${type} is not one of ${PacketTypes.join(', ')}`);
  if (!('payload' in o) || o.payload === undefined) fail(C, 'packet.payload is missing');
  const packet: Packet = {
    sourceChain: reqId(o, 'sourceChain', C, 'packet'),
    destChain: reqId(o, 'destChain', C, 'packet'),
    routeId: reqId(o, 'routeId', C, 'packet'),
    sequence: reqInt(o, 'sequence', C, 'packet', 1),
    type,
    payload: o.payload as Json,
    timeoutMs: reqInt(o, 'timeoutMs', C, 'packet', 1),
    sentAtMs: reqInt(o, 'sentAtMs', C, 'packet', 0),
    sender: reqId(o, 'sender', C, 'packet'),
  };
  return { packet, bytes };
}

export function parseAck(value: unknown): Acknowledgement {
  const C = 'INVALID_ARGUMENT' as const;
  const o = asObject(value, C, 'acknowledgement', ['sourceChain', 'destChain', 'routeId', 'sequence', 'packetHash', 'outcome', 'result', 'error', 'packetSigners']);
  if (canonicalBytes(o).length > Limits.maxPacketBytes) fail('PROOF_TOO_LARGE', `an acknowledgement is at most ${Limits.maxPacketBytes} bytes`);
  const packetHash = reqString(o, 'packetHash', C, 'acknowledgement', 64);
  if (!HEX64.test(packetHash)) fail(C, 'acknowledgement.packetHash must be 64 lowercase hex characters');
  const outcome = o.outcome;
  if (outcome !== 'success' && outcome !== 'error' && outcome !== 'timeout') fail(C, 'acknowledgement.outcome must be success, error or timeout');
  const ack: Acknowledgement = {
    sourceChain: reqId(o, 'sourceChain', C, 'acknowledgement'),
    destChain: reqId(o, 'destChain', C, 'acknowledgement'),
    routeId: reqId(o, 'routeId', C, 'acknowledgement'),
    sequence: reqInt(o, 'sequence', C, 'acknowledgement', 1),
    packetHash,
    outcome,
  };
  if (o.packetSigners !== undefined) {
    const signers = o.packetSigners;
    if (outcome === 'timeout') fail(C, 'a timeout acknowledgement names no packet signers');
    if (!Array.isArray(signers) || signers.length > Limits.maxSigners) fail(C, `acknowledgement.packetSigners must be a list of at most ${Limits.maxSigners} node ids`);
    const ids = signers.map((v, i) => {
      if (typeof v !== 'string' || v.length === 0 || v.length > 128) fail(C, `acknowledgement.packetSigners[${i}] must be a node id`);
      return v;
    });
    for (let i = 1; i < ids.length; i++) {
      if ((ids[i - 1] as string) >= (ids[i] as string)) fail(C, 'acknowledgement.packetSigners must be sorted and unique');
    }
    ack.packetSigners = ids;
  }
  if (outcome === 'success') {
    if (o.result === undefined || o.error !== undefined) fail(C, 'a success acknowledgement carries result and no error');
    ack.result = o.result as Json;
  } else if (outcome === 'error') {
    if (o.result !== undefined) fail(C, 'an error acknowledgement carries no result');
    ack.error = reqString(o, 'error', C, 'acknowledgement', 2048);
  } else if (o.result !== undefined || o.error !== undefined) {
    fail(C, 'a timeout acknowledgement carries neither result nor error');
  }
  return ack;
}

/** The packet commitment stored on the source: SHA-256 of the packet's canonical JSON, hex. */
export function packetHash(packet: Packet): string {
  return canonicalHash(packet);
}

export function ackHash(ack: Acknowledgement): string {
  return canonicalHash(ack);
}
