/**
 * Strict decoding of BLS12-381 points and of the base64 strings that carry them in canonical JSON.
 *
 * The library's decoders accept more than one encoding of a point (coordinates not reduced
 * modulo p, a missing compression flag, garbage after an infinity flag). A point is accepted
 * here only if it has the exact length, the compressed form, is not the identity, lies in the
 * prime-order subgroup, and re-encodes to the very same bytes; so one point has one encoding
 * and a hash over encodings (the list hash) is a hash over points.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import { ErrorCode, fail } from '../../errors';
import { BLS_PUBLIC_KEY_BYTES, BLS_SIGNATURE_BYTES } from './suite';

export type G1Point = ReturnType<typeof bls12_381.G1.Point.fromBytes>;
export type G2Point = ReturnType<typeof bls12_381.G2.Point.fromBytes>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, the only form accepted for bytes inside canonical JSON. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Decodes canonical base64 (standard alphabet, padded, no whitespace) or fails with `code`. */
export function fromBase64(text: unknown, code: ErrorCode, what: string): Uint8Array {
  if (typeof text !== 'string' || !BASE64.test(text)) fail(code, `${what} is not canonical base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) fail(code, `${what} is not canonical base64`);
  return new Uint8Array(bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/** A public key: 48-byte compressed G1 point, in the subgroup, not the identity, canonical. */
export function decodePublicKey(bytes: Uint8Array, what = 'BLS public key'): G1Point {
  if (bytes.length !== BLS_PUBLIC_KEY_BYTES) {
    fail('BLS_KEY_INVALID', `${what} must be ${BLS_PUBLIC_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  const point = decodeWith(() => bls12_381.G1.Point.fromBytes(bytes), 'BLS_KEY_INVALID', what);
  if (point.is0()) fail('BLS_KEY_INVALID', `${what} is the identity point`);
  if (!point.isTorsionFree()) fail('BLS_KEY_INVALID', `${what} is not in the prime-order subgroup`);
  if (!sameBytes(point.toBytes(true), bytes)) fail('BLS_KEY_INVALID', `${what} is not canonically encoded`);
  return point;
}

/** A signature (or proof of possession): 96-byte compressed G2 point, same rules as keys. */
export function decodeSignature(
  bytes: Uint8Array,
  what = 'BLS signature',
  code: ErrorCode = 'BLS_SIGNATURE_INVALID',
): G2Point {
  if (bytes.length !== BLS_SIGNATURE_BYTES) {
    fail(code, `${what} must be ${BLS_SIGNATURE_BYTES} bytes, got ${bytes.length}`);
  }
  const point = decodeWith(() => bls12_381.longSignatures.Signature.fromBytes(bytes), code, what);
  if (point.is0()) fail(code, `${what} is the identity point`);
  if (!point.isTorsionFree()) fail(code, `${what} is not in the prime-order subgroup`);
  if (!sameBytes(encodeSignature(point), bytes)) fail(code, `${what} is not canonically encoded`);
  return point;
}

export function encodePublicKey(point: G1Point): Uint8Array {
  return point.toBytes(true);
}

export function encodeSignature(point: G2Point): Uint8Array {
  return bls12_381.longSignatures.Signature.toBytes(point);
}

function decodeWith<P>(decode: () => P, code: ErrorCode, what: string): P {
  try {
    return decode();
  } catch (e) {
    // The library's reason (not on the curve, not in the subgroup, bad flags) is kept for the operator.
    const reason = e instanceof Error ? e.message : 'undecodable';
    return fail(code, `${what} is not a valid point (${reason})`);
  }
}

/**
 * One text per BLS public key up to sign: the compressed encoding with the sign flag cleared,
 * hex. A key and its negation (pk, -pk) have the same identity, so a list can never hold both
 * (their sum is the identity point: both would count while neither signs). Expects the key
 * text as lists hold it (canonical base64 of a decoded key); anything else is its own identity.
 */
export function blsKeyIdentity(publicKeyB64: string): string {
  const bytes = Buffer.from(publicKeyB64, 'base64');
  if (bytes.length !== BLS_PUBLIC_KEY_BYTES) return `bls:raw:${publicKeyB64}`;
  bytes[0] = bytes[0]! & ~0x20;
  return `bls:${bytes.toString('hex')}`;
}
