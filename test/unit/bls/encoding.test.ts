/**
 * Strict decoding: one point, one encoding. Keys and signatures of the wrong length, not
 * compressed, not canonical, the identity, or outside the prime-order subgroup are refused
 * with the scheme's own error codes.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import {
  decodePublicKey,
  decodeSignature,
  fromBase64,
  signMessage,
  BLS_PUBLIC_KEY_BYTES,
  BLS_SIGNATURE_BYTES,
} from '../../../chaincode/src/protocol/bls';
import { be, g1OffSubgroup, g2OffSubgroup } from './points';
import { expectCode, testKeys } from './support';

const P = bls12_381.fields.Fp.ORDER;

const pk = testKeys('encoding').publicKey;
const sig = signMessage(testKeys('encoding').secretKey, Buffer.from('commitment'));

describe('BLS public keys (G1, 48 bytes compressed)', () => {
  it('accepts a canonical key and decodes it to the same point', () => {
    expect(Buffer.from(decodePublicKey(pk).toBytes(true)).equals(Buffer.from(pk))).toBe(true);
  });

  it.each([47, 49, 96])('rejects a key of %i bytes', (len) => {
    const bytes = new Uint8Array(len);
    bytes.set(pk.subarray(0, Math.min(len, pk.length)));
    expectCode(() => decodePublicKey(bytes), 'BLS_KEY_INVALID');
  });

  it('rejects the identity point as a key', () => {
    const identity = new Uint8Array(BLS_PUBLIC_KEY_BYTES);
    identity[0] = 0xc0;
    expect(() => decodePublicKey(identity)).toThrow(/identity/);
    expectCode(() => decodePublicKey(identity), 'BLS_KEY_INVALID');
  });

  it('rejects a point on the curve outside the prime-order subgroup', () => {
    const err = expectCode(() => decodePublicKey(g1OffSubgroup()), 'BLS_KEY_INVALID');
    expect(err.message).toMatch(/subgroup/);
  });

  it('rejects a key without the compression flag', () => {
    const bytes = Uint8Array.from(pk);
    bytes[0] = (bytes[0] ?? 0) & 0x7f;
    expectCode(() => decodePublicKey(bytes), 'BLS_KEY_INVALID');
  });

  it('rejects a non-canonical key whose x coordinate is not reduced modulo p', () => {
    // x + p still fits 381 bits for about a quarter of keys: find one.
    for (let i = 0; i < 64; i++) {
      const k = testKeys(`noncanonical-${i}`).publicKey;
      const flags = (k[0] ?? 0) & 0xe0;
      const x = BigInt(`0x${Buffer.from(k).toString('hex')}`) & ((1n << 381n) - 1n);
      if (x + P >= 1n << 381n) continue;
      const bytes = be(x + P);
      bytes[0] = (bytes[0] ?? 0) | flags;
      const err = expectCode(() => decodePublicKey(bytes), 'BLS_KEY_INVALID');
      expect(err.message).toMatch(/not canonically encoded/);
      return;
    }
    throw new Error('no key with a small enough x among 64: the test could not run');
  });

  it('rejects an infinity flag followed by non-zero bytes', () => {
    const bytes = Uint8Array.from(pk);
    bytes[0] = ((bytes[0] ?? 0) & 0x1f) | 0xc0;
    expectCode(() => decodePublicKey(bytes), 'BLS_KEY_INVALID');
  });
});

describe('BLS signatures (G2, 96 bytes compressed)', () => {
  it('accepts a canonical signature', () => {
    expect(decodeSignature(sig).is0()).toBe(false);
  });

  it.each([95, 97, 192])('rejects a signature of %i bytes', (len) => {
    const bytes = new Uint8Array(len);
    bytes.set(sig.subarray(0, Math.min(len, sig.length)));
    expectCode(() => decodeSignature(bytes), 'BLS_SIGNATURE_INVALID');
  });

  it('rejects the identity point as a signature', () => {
    const identity = new Uint8Array(BLS_SIGNATURE_BYTES);
    identity[0] = 0xc0;
    expectCode(() => decodeSignature(identity), 'BLS_SIGNATURE_INVALID');
  });

  it('rejects a point on the twist curve outside the prime-order subgroup', () => {
    const err = expectCode(() => decodeSignature(g2OffSubgroup()), 'BLS_SIGNATURE_INVALID');
    expect(err.message).toMatch(/subgroup/);
  });

  it('rejects a signature whose compression flag is cleared (the library alone would accept it)', () => {
    const bytes = Uint8Array.from(sig);
    bytes[0] = (bytes[0] ?? 0) & 0x7f;
    const err = expectCode(() => decodeSignature(bytes), 'BLS_SIGNATURE_INVALID');
    expect(err.message).toMatch(/not canonically encoded/);
  });

  it('rejects a non-canonical signature whose x.c1 is not reduced modulo p', () => {
    for (let i = 0; i < 64; i++) {
      const s = signMessage(testKeys('encoding').secretKey, Buffer.from(`m-${i}`));
      const flags = (s[0] ?? 0) & 0xe0;
      const x1 = BigInt(`0x${Buffer.from(s.subarray(0, 48)).toString('hex')}`) & ((1n << 381n) - 1n);
      if (x1 + P >= 1n << 381n) continue;
      const bytes = Uint8Array.from(s);
      bytes.set(be(x1 + P), 0);
      bytes[0] = (bytes[0] ?? 0) | flags;
      const err = expectCode(() => decodeSignature(bytes), 'BLS_SIGNATURE_INVALID');
      expect(err.message).toMatch(/not canonically encoded/);
      return;
    }
    throw new Error('no signature with a small enough x.c1 among 64: the test could not run');
  });
});

describe('base64 fields', () => {
  it.each(['', 'AAA', 'AA==\n', 'AB==', '****'])('rejects %j as non-canonical base64 (or an empty value)', (text) => {
    if (text === '') {
      expect(fromBase64(text, 'BLS_KEY_INVALID', 'key').length).toBe(0);
      expectCode(() => decodePublicKey(fromBase64(text, 'BLS_KEY_INVALID', 'key')), 'BLS_KEY_INVALID');
    } else {
      expectCode(() => fromBase64(text, 'BLS_KEY_INVALID', 'key'), 'BLS_KEY_INVALID');
    }
  });
});
