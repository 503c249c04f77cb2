/**
 * Field readers for untrusted JSON (packets, proofs, governance actions). Each one fails
 * closed with the caller's error code: a missing or mistyped field is an error, never a default.
 */
import { fail, type ErrorCode } from '../errors';
import { Limits, isProtocolId } from './limits';

export type Obj = Record<string, unknown>;

export function asObject(value: unknown, code: ErrorCode, what: string, allowed?: readonly string[]): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(code, `${what} must be an object`);
  const obj = value as Obj;
  if (allowed) {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) fail(code, `${what} has an unknown field "${k}"`);
    }
  }
  return obj;
}

export function reqString(o: Obj, k: string, code: ErrorCode, what: string, maxChars = 1024): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) fail(code, `${what}.${k} must be a non-empty string`);
  if (v.length > maxChars) fail(code, `${what}.${k} is longer than ${maxChars} characters`);
  return v;
}

export function reqId(o: Obj, k: string, code: ErrorCode, what: string): string {
  const v = o[k];
  if (!isProtocolId(v)) {
    fail(code, `${what}.${k} must be an identifier (letters, digits, . _ : -; at most ${Limits.maxIdChars} characters)`);
  }
  return v;
}

export function reqInt(o: Obj, k: string, code: ErrorCode, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(code, `${what}.${k} must be an integer in ${min}..${max}`);
  }
  return v;
}

export function reqArray(o: Obj, k: string, code: ErrorCode, what: string, maxLen: number, minLen = 1): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) fail(code, `${what}.${k} must be an array`);
  if (v.length < minLen) fail(code, `${what}.${k} must have at least ${minLen} element(s)`);
  if (v.length > maxLen) fail(code, `${what}.${k} has more than ${maxLen} elements`);
  return v;
}

/** Strict base64 (standard alphabet, padded) to bytes; empty is an error. */
export function reqBase64(o: Obj, k: string, code: ErrorCode, what: string, maxChars: number): Buffer {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) fail(code, `${what}.${k} must be non-empty base64`);
  if (v.length > maxChars) fail(code, `${what}.${k} is longer than ${maxChars} characters`);
  // Decoding skips characters outside the alphabet and missing padding; re-encoding gives back
  // exactly `v` only if `v` is the padded standard-alphabet encoding of the bytes.
  const bytes = Buffer.from(v, 'base64');
  if (bytes.toString('base64') !== v) fail(code, `${what}.${k} is not canonical base64`);
  return bytes;
}
