/**
 * Key pairs, signing and proofs of possession. Used by a node's signer (gateway side) and by
 * tests; the chaincode only verifies and never generates or holds a secret key.
 *
 * Randomness is always the caller's: `deriveSecretKey` turns input keying material (at least
 * 32 bytes from a CSPRNG, read by the signer at enrolment) into a scalar with the KeyGen
 * procedure of the IETF BLS signature draft (HKDF-SHA-256, salt "BLS-SIG-KEYGEN-SALT-").
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import { createHash, hkdfSync } from 'node:crypto';
import { fail } from '../../errors';
import { blsBackend } from './backend';
import { decodePublicKey, decodeSignature, encodePublicKey, encodeSignature, G2Point } from './encoding';
import { BLS_POP_DST, BLS_SCHEME_VERSION_2, type BlsSchemeVersion, BLS_SECRET_KEY_BYTES, BLS_SIGN_DST } from './suite';

const Fr = bls12_381.fields.Fr;
const KEYGEN_SALT = 'BLS-SIG-KEYGEN-SALT-';
/** ceil((3 * ceil(log2(r))) / 16) for BLS12-381: enough output to make the reduction mod r unbiased. */
const KEYGEN_OKM_BYTES = 48;

export interface BlsKeyPair {
  /** 32-byte big-endian scalar. Secret: lives in the signer's key file only. */
  secretKey: Uint8Array;
  /** 48-byte compressed G1 point. */
  publicKey: Uint8Array;
}

/**
 * Derives a secret key from caller-supplied keying material (IETF KeyGen).
 *
 * @example const { publicKey } = deriveKeyPair(ikm) // ikm: 32 bytes from the caller's CSPRNG, outside chaincode;
 */
export function deriveSecretKey(ikm: Uint8Array, keyInfo: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (ikm.length < 32) fail('INVALID_ARGUMENT', 'BLS key material must be at least 32 bytes');
  let salt: Buffer = Buffer.from(KEYGEN_SALT, 'ascii');
  const info = Buffer.concat([Buffer.from(keyInfo), Buffer.from([0, KEYGEN_OKM_BYTES])]);
  for (;;) {
    salt = createHash('sha256').update(salt).digest();
    const okm = Buffer.from(hkdfSync('sha256', Buffer.concat([Buffer.from(ikm), Buffer.from([0])]), salt, info, KEYGEN_OKM_BYTES));
    const sk = Fr.create(BigInt(`0x${okm.toString('hex')}`));
    if (sk !== 0n) return Buffer.from(sk.toString(16).padStart(BLS_SECRET_KEY_BYTES * 2, '0'), 'hex');
  }
}

export function deriveKeyPair(ikm: Uint8Array, keyInfo?: Uint8Array): BlsKeyPair {
  const secretKey = deriveSecretKey(ikm, keyInfo);
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return encodePublicKey(bls12_381.longSignatures.getPublicKey(scalar(secretKey)));
}

/** The commitment bytes hashed to G2 under the signing tag: what every signer signs. */
export function hashMessage(message: Uint8Array): G2Point {
  return bls12_381.longSignatures.hash(message, BLS_SIGN_DST);
}

/** One node's signature over commitment bytes (96 bytes). */
export function signMessage(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return encodeSignature(bls12_381.longSignatures.sign(hashMessage(message), scalar(secretKey)));
}

/** One node's signature in scheme `version` (version 2 on the process's backend, backend.ts). */
export function signMessageAs(version: BlsSchemeVersion, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return version === BLS_SCHEME_VERSION_2 ? blsBackend().sign(secretKey, message) : signMessage(secretKey, message);
}

/** Verifies one node's signature over commitment bytes (relay side, before aggregating). */
export function verifyMessage(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = decodePublicKey(publicKey);
  const sig = decodeSignature(signature);
  return bls12_381.longSignatures.verify(sig, hashMessage(message), pk);
}

/**
 * Proof of possession: the public key's own bytes signed under the PoP tag (IETF PopProve with
 * this project's tag). Only the holder of the secret key can produce it, which is what makes a
 * crafted key (pk' = x*G - pk_victim) impossible to register.
 */
export function provePossession(secretKey: Uint8Array): Uint8Array {
  const publicKey = publicKeyOf(secretKey);
  const h = bls12_381.longSignatures.hash(publicKey, BLS_POP_DST);
  return encodeSignature(bls12_381.longSignatures.sign(h, scalar(secretKey)));
}

/** Checks a proof of possession; fails BLS_KEY_INVALID for a bad key, BLS_POP_INVALID otherwise. */
export function checkPossession(publicKey: Uint8Array, pop: Uint8Array): void {
  const pk = decodePublicKey(publicKey);
  const proof = decodeSignature(pop, 'BLS proof of possession', 'BLS_POP_INVALID');
  const h = bls12_381.longSignatures.hash(publicKey, BLS_POP_DST);
  if (!bls12_381.longSignatures.verify(proof, h, pk)) {
    fail('BLS_POP_INVALID', 'BLS proof of possession does not verify for this public key');
  }
}

function scalar(secretKey: Uint8Array): bigint {
  if (secretKey.length !== BLS_SECRET_KEY_BYTES) fail('INVALID_ARGUMENT', `BLS secret key must be ${BLS_SECRET_KEY_BYTES} bytes`);
  const k = BigInt(`0x${Buffer.from(secretKey).toString('hex')}`);
  if (k === 0n || k >= Fr.ORDER) fail('INVALID_ARGUMENT', 'BLS secret key is out of range');
  return k;
}
