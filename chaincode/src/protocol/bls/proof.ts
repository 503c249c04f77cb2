/**
 * The signature part of a proof under scheme `bls12381-aggregate` v1, and its verification.
 *
 * Wire form (canonical JSON): {"epoch":N,"scheme":"bls12381-aggregate","signature":"<b64 96 B>",
 * "signers":"<b64 bitmap>","version":1}. `epoch` is the source list epoch the bitmap refers to.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import { check, fail } from '../../errors';
import { decodeBitmap } from './bitmap';
import { decodeSignature, fromBase64 } from './encoding';
import { hashMessage } from './keys';
import { buildSignerTable, BlsVerificationList, checkThresholds } from './signer-table';
import { BLS_SCHEME, BLS_SCHEME_VERSION } from './suite';

export interface BlsAggregateProof {
  scheme: typeof BLS_SCHEME;
  version: typeof BLS_SCHEME_VERSION;
  epoch: number;
  /** Base64 bitmap of the signers in signer order (bitmap.ts, signer-table.ts). */
  signers: string;
  /** Base64 of the 96-byte aggregate signature. */
  signature: string;
}

export interface NamedSigner {
  position: number;
  nodeId: string;
  subgroupId: string;
}

/** What a verified proof establishes: who signed (for rewards and slashing) and the counts. */
export interface BlsVerification {
  signers: NamedSigner[];
  counts: Record<string, number>;
}

const FIELDS = ['epoch', 'scheme', 'signature', 'signers', 'version'];

/** Shape check, scheme and version first: an unknown version is UNSUPPORTED_SCHEME, not MALFORMED_PROOF. */
export function parseBlsAggregateProof(value: unknown): BlsAggregateProof {
  check(typeof value === 'object' && value !== null && !Array.isArray(value), 'MALFORMED_PROOF', 'BLS proof must be an object');
  const o = value as Record<string, unknown>;
  if (o.scheme !== BLS_SCHEME) fail('UNSUPPORTED_SCHEME', `scheme ${JSON.stringify(o.scheme) ?? 'undefined'} is not ${BLS_SCHEME}`);
  if (o.version !== BLS_SCHEME_VERSION) {
    fail('UNSUPPORTED_SCHEME', `${BLS_SCHEME} version ${JSON.stringify(o.version) ?? 'undefined'} is not supported (only ${BLS_SCHEME_VERSION})`);
  }
  const keys = Object.keys(o).sort();
  check(keys.length === FIELDS.length && keys.every((k, i) => k === FIELDS[i]), 'MALFORMED_PROOF', `BLS proof fields must be exactly ${FIELDS.join(', ')}`);
  check(Number.isSafeInteger(o.epoch) && (o.epoch as number) >= 0, 'MALFORMED_PROOF', 'BLS proof epoch must be a non-negative integer');
  check(typeof o.signers === 'string', 'MALFORMED_PROOF', 'BLS proof signers must be a base64 string');
  check(typeof o.signature === 'string', 'MALFORMED_PROOF', 'BLS proof signature must be a base64 string');
  return { scheme: BLS_SCHEME, version: BLS_SCHEME_VERSION, epoch: o.epoch as number, signers: o.signers, signature: o.signature };
}

/**
 * Verifies an aggregate proof over `message` (the commitment bytes the verifier computed itself)
 * against the verifier's own copy of the source list at the proof's epoch. In order:
 *  1. proof shape, scheme, version (MALFORMED_PROOF, UNSUPPORTED_SCHEME); epoch equals the list's;
 *  2. the list itself (INVALID_NODE_LIST, DUPLICATE_SIGNER, BLS_KEY_INVALID);
 *  3. the bitmap against the list's node count (BITMAP_INVALID);
 *  4. per-subgroup counts and the cross-subgroup rule (THRESHOLD_NOT_MET);
 *  5. the signature's encoding (BLS_SIGNATURE_INVALID);
 *  6. one pairing check: e(sum of named keys, H(message)) == e(G1, signature) (SIGNATURE_INVALID).
 * The cheap checks come first so a bad proof costs no pairing.
 */
export function verifyBlsAggregate(list: BlsVerificationList, message: Uint8Array, proofValue: unknown): BlsVerification {
  const proof = parseBlsAggregateProof(proofValue);
  check(proof.epoch === list.epoch, 'MALFORMED_PROOF', `BLS proof is for epoch ${proof.epoch}, the list supplied is epoch ${list.epoch}`);
  const table = buildSignerTable(list);
  const positions = decodeBitmap(fromBase64(proof.signers, 'BITMAP_INVALID', 'signer bitmap'), table.slots.length);
  const counts = checkThresholds(table, positions);
  const signature = decodeSignature(fromBase64(proof.signature, 'BLS_SIGNATURE_INVALID', 'aggregate signature'), 'aggregate signature');
  const named = positions.map((p) => table.slots[p]).filter((s): s is NonNullable<typeof s> => s !== undefined);
  const aggregateKey = named.reduce((sum, s) => sum.add(s.publicKey), bls12_381.G1.Point.ZERO);
  // Registered keys carry proofs of possession, so named keys can only cancel if their owners collude.
  if (aggregateKey.is0()) fail('SIGNATURE_INVALID', 'the named signers\u2019 keys sum to the identity');
  if (!bls12_381.longSignatures.verify(signature, hashMessage(message), aggregateKey)) {
    fail('SIGNATURE_INVALID', `aggregate signature does not verify for the ${named.length} named signers over this commitment`);
  }
  return { signers: named.map(({ position, nodeId, subgroupId }) => ({ position, nodeId, subgroupId })), counts };
}
