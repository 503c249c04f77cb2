/**
 * Canonical JSON: the one encoding used for ledger state, events and every byte string
 * that is hashed or signed. Object keys sorted by UTF-16 code unit, no whitespace,
 * `undefined` members dropped, only finite safe integers as numbers (amounts and times
 * are integers), strings as JSON.stringify writes them.
 */
import * as crypto from 'node:crypto';
import { fail } from '../errors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function canonicalize(value: unknown): string {
  return encode(value, 0);
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/** node:crypto's one-shot hash where the runtime has it (Node >= 20.12): the same digest without a Hash object. */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Hex(data: string | Uint8Array): string {
  return oneShot !== undefined ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

/** SHA-256 over the canonical encoding of a value, hex. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalBytes(value));
}

/** Parses JSON text and rejects anything that is not canonical-encodable (e.g. floats). */
export function parseJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('INVALID_ARGUMENT', `${what} is not valid JSON`);
  }
  canonicalize(value);
  return value;
}

const MAX_DEPTH = 32;

function encode(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) fail('INVALID_ARGUMENT', 'JSON nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) fail('INVALID_ARGUMENT', `number ${value} is not a safe integer`);
      return String(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      // Loops rather than map/filter/join: this runs for every state write and every signed message.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          // A hole stays empty, as Array.prototype.map and join left it.
          if (!(i in value)) continue;
          const v: unknown = value[i];
          out += encode(v === undefined ? null : v, depth + 1);
        }
        return `${out}]`;
      }
      if (value instanceof Uint8Array) fail('INVALID_ARGUMENT', 'bytes must be encoded (base64) before canonical JSON');
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${encode(v, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      fail('INVALID_ARGUMENT', `cannot encode a ${typeof value} as canonical JSON`);
  }
}
