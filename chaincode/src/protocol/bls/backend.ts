/**
 * Where the pairing arithmetic of scheme version 2 runs (chaincode/BLS.md "Backends").
 *
 * - `native`: supranational/blst through `@chainsafe/blst` (prebuilt Node-API binaries shipped
 *   as npm platform packages, e.g. `@chainsafe/blst-linux-x64-gnu`). Its hash to G2 uses one
 *   fixed tag, `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`: that is why version 2 exists.
 * - `js`: `@noble/curves` (pure JavaScript), the library version 1 always uses, with the same
 *   tag and the same message bytes. Used where the native module cannot load (another platform,
 *   a libc it was not built for), or when MEDBRIDGE_BLS_BACKEND=js asks for it.
 *
 * Both compute the same functions. A signature is accepted by either only if it is the
 * canonical compressed encoding of a point of the prime-order subgroup other than the identity
 * (checked here, in the same order, with the same codes), and verification is the same pairing
 * equation, so two peers with different backends decide every proof alike.
 *
 * MEDBRIDGE_BLS_BACKEND (read once, when this module loads): `auto` (default: native when it
 * loads, else js), `native` (fail at start when it cannot load), `js`.
 */
import type * as Blst from '@chainsafe/blst';
import { bls12_381 } from '@noble/curves/bls12-381';
import { type ErrorCode, fail } from '../../errors';
import { Memo } from '../verification-cache';
import { decodeSignature as decodeSignatureJs, type G1Point, type G2Point } from './encoding';
import { BLS_SECRET_KEY_BYTES, BLS_SIGNATURE_BYTES, BLS_V2_MESSAGE_PREFIX, BLS_V2_SIGN_DST } from './suite';

export type BlsBackendName = 'native' | 'js';

/** A signature decoded by the backend that will use it (opaque outside this module). */
export interface BackendSignature {
  readonly bytes: Uint8Array;
  readonly point: Blst.Signature | G2Point;
}

/** A public key of the verifier's list: its canonical text and the point decoded by signer-table.ts. */
export interface BackendKeySource {
  publicKeyB64: string;
  publicKey: G1Point;
}

export interface BlsBackend {
  readonly name: BlsBackendName;
  /** Strict decoding (see the module comment); fails `code` (default BLS_SIGNATURE_INVALID). */
  decodeSignature(bytes: Uint8Array, what: string, code?: ErrorCode): BackendSignature;
  /**
   * The pairing check e(sum of keys, H(prefix || message)) == e(G1, sig). 'identity' when the keys
   * sum to the identity point (nothing is checked then).
   */
  verifyAggregate(sig: BackendSignature, keys: readonly BackendKeySource[], message: Uint8Array): 'valid' | 'invalid' | 'identity';
  /** One node's signature, version 2 (96 bytes, compressed). */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** The sum of already decoded signatures, compressed. */
  aggregate(sigs: readonly BackendSignature[]): Uint8Array;
}

/** The bytes a version-2 signature covers: the scheme's prefix, then the commitment (BLS.md). */
export function v2SignedBytes(message: Uint8Array): Uint8Array {
  return Buffer.concat([BLS_V2_PREFIX_BYTES, message]);
}

const BLS_V2_PREFIX_BYTES = Buffer.from(BLS_V2_MESSAGE_PREFIX, 'utf8');

function secretScalarBytes(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== BLS_SECRET_KEY_BYTES) fail('INVALID_ARGUMENT', `BLS secret key must be ${BLS_SECRET_KEY_BYTES} bytes`);
  const k = BigInt(`0x${Buffer.from(secretKey).toString('hex')}`);
  if (k === 0n || k >= bls12_381.fields.Fr.ORDER) fail('INVALID_ARGUMENT', 'BLS secret key is out of range');
  return secretKey;
}

/** Pure JavaScript: @noble/curves with the version-2 tag. */
export const jsBackend: BlsBackend = {
  name: 'js',
  decodeSignature(bytes, what, code = 'BLS_SIGNATURE_INVALID') {
    return { bytes, point: decodeSignatureJs(bytes, what, code) };
  },
  verifyAggregate(sig, keys, message) {
    const key = keys.reduce((sum, k) => sum.add(k.publicKey), bls12_381.G1.Point.ZERO);
    if (key.is0()) return 'identity';
    const h = bls12_381.longSignatures.hash(v2SignedBytes(message), BLS_V2_SIGN_DST);
    return bls12_381.longSignatures.verify(sig.point as G2Point, h, key) ? 'valid' : 'invalid';
  },
  sign(secretKey, message) {
    const k = BigInt(`0x${Buffer.from(secretScalarBytes(secretKey)).toString('hex')}`);
    const h = bls12_381.longSignatures.hash(v2SignedBytes(message), BLS_V2_SIGN_DST);
    return bls12_381.longSignatures.Signature.toBytes(bls12_381.longSignatures.sign(h, k));
  },
  aggregate(sigs) {
    const sum = sigs.reduce((s, x) => s.add(x.point as G2Point), bls12_381.G2.Point.ZERO);
    return bls12_381.longSignatures.Signature.toBytes(sum);
  },
};

/** The compressed identity of G1 (infinity flag and compression flag set, zeros). */
const G1_IDENTITY = Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(47)]);

/** Native: supranational/blst. Keys are validated by signer-table.ts; here they only change form. */
function nativeBackend(blst: typeof Blst): BlsBackend {
  // Keys of the verifier's own lists, by their canonical text (already strictly decoded there).
  const keys = new Memo<Blst.PublicKey>(4096);
  const keyOf = (k: BackendKeySource): Blst.PublicKey =>
    keys.get(k.publicKeyB64, () => blst.PublicKey.fromBytes(Buffer.from(k.publicKeyB64, 'base64'), false));
  return {
    name: 'native',
    decodeSignature(bytes, what, code = 'BLS_SIGNATURE_INVALID') {
      if (bytes.length !== BLS_SIGNATURE_BYTES) fail(code, `${what} must be ${BLS_SIGNATURE_BYTES} bytes, got ${bytes.length}`);
      // blst reads a 96-byte string only as a compressed point; the flags decide what it is.
      if ((bytes[0]! & 0x80) === 0) fail(code, `${what} is not a valid point (compression flag not set)`);
      if ((bytes[0]! & 0x40) !== 0) fail(code, `${what} is the identity point`);
      let point: Blst.Signature;
      try {
        point = blst.Signature.fromBytes(bytes, true, true);
      } catch (e) {
        return fail(code, `${what} is not a valid point (${e instanceof Error ? e.message : 'undecodable'})`);
      }
      if (!Buffer.from(point.toBytes(true)).equals(Buffer.from(bytes))) fail(code, `${what} is not canonically encoded`);
      return { bytes, point };
    },
    verifyAggregate(sig, sources, message) {
      const key = blst.aggregatePublicKeys(sources.map(keyOf), false);
      if (Buffer.from(key.toBytes(true)).equals(G1_IDENTITY)) return 'identity';
      return blst.verify(v2SignedBytes(message), key, sig.point as Blst.Signature, false, false) ? 'valid' : 'invalid';
    },
    sign(secretKey, message) {
      return blst.SecretKey.fromBytes(secretScalarBytes(secretKey)).sign(v2SignedBytes(message)).toBytes(true);
    },
    aggregate(sigs) {
      return blst.aggregateSignatures(sigs.map((s) => s.point as Blst.Signature), false).toBytes(true);
    },
  };
}

/** Why the native backend is not in use (undefined when it is). */
let nativeUnavailable: string | undefined;

function loadNative(): BlsBackend | undefined {
  try {
    // Loaded at run time so that a platform without a prebuilt binary falls back to js.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const blst = require('@chainsafe/blst') as typeof Blst;
    return nativeBackend(blst);
  } catch (e) {
    nativeUnavailable = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return undefined;
  }
}

function choose(wanted: string | undefined): BlsBackend {
  switch (wanted ?? 'auto') {
    case 'js':
      nativeUnavailable = 'MEDBRIDGE_BLS_BACKEND=js';
      return jsBackend;
    case 'native': {
      const native = loadNative();
      if (native === undefined) throw new Error(`MEDBRIDGE_BLS_BACKEND=native but @chainsafe/blst does not load: ${nativeUnavailable}`);
      return native;
    }
    case 'auto':
      return loadNative() ?? jsBackend;
    default:
      throw new Error(`MEDBRIDGE_BLS_BACKEND must be auto, native or js, not ${wanted}`);
  }
}

// Which library computes, never what is decided: both backends give the same answer for every
// input (test/unit/bls/backend.test.ts), so peers with different backends endorse alike.
let current: BlsBackend = choose(process.env.MEDBRIDGE_BLS_BACKEND);

/** The backend version 2 uses in this process. */
export function blsBackend(): BlsBackend {
  return current;
}

/** Which backend is in use, and why not native when it is not (for start-up logs and benchmarks). */
export function blsBackendInfo(): { backend: BlsBackendName; nativeUnavailable?: string } {
  return current.name === 'native' ? { backend: 'native' } : { backend: 'js', nativeUnavailable };
}

/** Tests and benchmarks: run with another backend ('auto' re-detects). Returns the one in use before. */
export function useBlsBackend(wanted: BlsBackendName | 'auto'): BlsBackendName {
  const before = current.name;
  nativeUnavailable = undefined;
  current = choose(wanted);
  return before;
}
