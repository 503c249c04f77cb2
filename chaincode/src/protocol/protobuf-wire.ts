/**
 * The protobuf wire format, read for the few Fabric messages the scheme-1 check looks into
 * (scheme-endorsement.ts: a proposal, its headers and invocation, a proposal response payload).
 * Every proof carries a new proposal and a new response, so they are decoded once per proof;
 * a generic decoder (google-protobuf) builds a message object per nested message and costs more
 * than the signature checks themselves at a few signers. This reader only splits a message into
 * its fields, without copying bytes.
 *
 * It fails closed where a Fabric peer's decoder (Go) fails: a truncated field, a varint longer than
 * ten bytes, field number 0, a group or an unknown wire type, and a known field with another wire
 * type than its schema gives. Unknown fields are skipped. A singular field that occurs more than
 * once takes its last value, as in Go and google-protobuf; an embedded message that the check
 * reads must occur at most once (Go would merge the occurrences, google-protobuf would keep the
 * last: refusing means no reading of such bytes can differ from what the peer executed).
 */

/** Wire types: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit. */
export type WireType = 0 | 1 | 2 | 5;

/** A message's known fields: field number to the wire type every occurrence must have. */
export type WireSchema = Readonly<Record<number, WireType>>;

/** Thrown on bytes that are not a well-formed message of the schema; callers map it to their code. */
export class WireError extends Error {}

interface Varint {
  /** The low 32 bits, signed (int32 and enum fields). */
  low32: number;
  /** The value when it is below 2^53, else Infinity (lengths). */
  value: number;
  next: number;
}

function readVarint(buf: Uint8Array, at: number): Varint {
  let low32 = 0;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = buf[at + i];
    if (b === undefined) throw new WireError('truncated varint');
    if (i === 9 && b > 1) throw new WireError('varint overflows 64 bits');
    if (i < 5) low32 |= (b & 0x7f) << (7 * i);
    value = i < 8 ? value + (b & 0x7f) * scale : Infinity;
    scale *= 128;
    if (b < 0x80) return { low32: low32 | 0, value, next: at + i + 1 };
  }
  throw new WireError('varint longer than ten bytes');
}

/** One message split into fields: each field number's occurrences in order. */
export class WireMessage {
  private constructor(private readonly fields: Map<number, (Buffer | number)[]>) {}

  /** Splits `buf` into fields; WireError on anything malformed (see the module comment). */
  static read(buf: Buffer, schema: WireSchema): WireMessage {
    const fields = new Map<number, (Buffer | number)[]>();
    let at = 0;
    while (at < buf.length) {
      const tag = readVarint(buf, at);
      at = tag.next;
      if (tag.value > 0xffffffff) throw new WireError('tag out of range');
      const field = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      if (field === 0) throw new WireError('field number 0');
      const expected = schema[field];
      if (expected !== undefined && expected !== wire) throw new WireError(`field ${field} has wire type ${wire}, not ${expected}`);
      let value: Buffer | number;
      switch (wire) {
        case 0: {
          const v = readVarint(buf, at);
          at = v.next;
          value = v.low32;
          break;
        }
        case 1:
        case 5: {
          const size = wire === 1 ? 8 : 4;
          if (at + size > buf.length) throw new WireError('truncated fixed-size field');
          value = buf.subarray(at, at + size);
          at += size;
          break;
        }
        case 2: {
          const len = readVarint(buf, at);
          at = len.next;
          if (len.value > buf.length - at) throw new WireError('truncated length-delimited field');
          value = buf.subarray(at, at + len.value);
          at += len.value;
          break;
        }
        default:
          throw new WireError(`wire type ${wire} is not read here`);
      }
      if (expected === undefined) continue;
      const seen = fields.get(field);
      if (seen === undefined) fields.set(field, [value]);
      else seen.push(value);
    }
    return new WireMessage(fields);
  }

  /** The last value of a length-delimited field (bytes, string), empty when absent. */
  bytes(field: number): Buffer {
    const all = this.fields.get(field);
    const last = all?.[all.length - 1];
    return last instanceof Buffer ? last : EMPTY;
  }

  /** A string field (UTF-8), '' when absent. */
  string(field: number): string {
    return this.bytes(field).toString('utf8');
  }

  /** An int32 or enum field, 0 when absent. */
  int32(field: number): number {
    const all = this.fields.get(field);
    const last = all?.[all.length - 1];
    return typeof last === 'number' ? last : 0;
  }

  /** Every value of a repeated length-delimited field, in order. */
  repeated(field: number): Buffer[] {
    return (this.fields.get(field) ?? []).filter((v): v is Buffer => v instanceof Buffer);
  }

  /** An embedded message read with `schema`, undefined when absent; WireError when it occurs twice. */
  message(field: number, schema: WireSchema): WireMessage | undefined {
    const all = this.fields.get(field);
    if (all === undefined) return undefined;
    if (all.length > 1) throw new WireError(`embedded message ${field} occurs ${all.length} times`);
    return WireMessage.read(this.bytes(field), schema);
  }
}

const EMPTY = Buffer.alloc(0);

/** The encoding of a message whose only field is bytes field 1 holding `value` (proto3: nothing when empty). */
export function singleBytesField(value: Buffer): Buffer {
  if (value.length === 0) return EMPTY;
  const len: number[] = [];
  let n = value.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), value]);
}
