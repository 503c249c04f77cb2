/**
 * Scheme `bls12381-aggregate` v1: the signature part of a proof, and its verification.
 *
 * Inside the project's Proof / SignatureSet (protocol/proof.ts) the scheme-specific part is
 *   "signatures": {"signature":"<base64, 96-byte aggregate G2 signature>","signers":"<base64 bitmap>"}
 * where the bitmap names the signers in signer order (signer-table.ts) of the list at the proof's
 * epoch (bitmap.ts). Everything else (scheme, version, epoch, links, intermediates) is the envelope.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import { check, fail } from '../../errors';
import { requireThreshold, type ThresholdResult } from '../threshold';
import type { VerificationNodeList } from '../node-list';
import { decodeBitmap } from './bitmap';
import { type BackendKeySource, blsBackend } from './backend';
import { decodeSignature, fromBase64, type G1Point } from './encoding';
import { hashMessage } from './keys';
import { buildSignerTable, type SignerSlot, type SignerTable } from './signer-table';
import { BLS_MAX_NODES, BLS_SCHEME, BLS_SCHEME_VERSION, BLS_SCHEME_VERSION_2, type BlsSchemeVersion, BLS_SIGNATURE_BYTES } from './suite';

export interface BlsSignatures {
  /** Base64 bitmap of the signers. */
  signers: string;
  /** Base64 of the 96-byte aggregate signature. */
  signature: string;
}

/** What a relay submits: the envelope fields of a SignatureSet plus the list epoch it refers to. */
export interface BlsAggregateProof {
  scheme: typeof BLS_SCHEME;
  version: BlsSchemeVersion;
  epoch: number;
  signatures: BlsSignatures;
}

export interface BlsVerification {
  /** Who signed, in signer order: rewards and slashing use this exactly as for scheme 1. */
  signers: Pick<SignerSlot, 'position' | 'nodeId' | 'mspId' | 'subgroupId'>[];
  threshold: ThresholdResult;
}

const MAX_BITMAP_B64 = 4 * Math.ceil(Math.ceil(BLS_MAX_NODES / 8) / 3);
const SIGNATURE_B64 = 4 * Math.ceil(BLS_SIGNATURE_BYTES / 3);

/** Shape and size of the signature part (MALFORMED_PROOF, PROOF_TOO_LARGE); no cryptography yet. */
export function parseBlsSignatures(value: unknown): BlsSignatures {
  check(typeof value === 'object' && value !== null && !Array.isArray(value), 'MALFORMED_PROOF', 'BLS signatures must be an object');
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  check(keys.length === 2 && keys[0] === 'signature' && keys[1] === 'signers', 'MALFORMED_PROOF', 'BLS signatures must have exactly the fields signature and signers');
  check(typeof o.signers === 'string' && typeof o.signature === 'string', 'MALFORMED_PROOF', 'BLS signers and signature must be base64 strings');
  if (o.signers.length > MAX_BITMAP_B64) fail('PROOF_TOO_LARGE', `a signer bitmap names at most ${BLS_MAX_NODES} nodes`);
  if (o.signature.length > SIGNATURE_B64) fail('BLS_SIGNATURE_INVALID', `aggregate signature must be ${BLS_SIGNATURE_BYTES} bytes`);
  return { signers: o.signers, signature: o.signature };
}

/** The list nodes the bitmap names, in signer order (BITMAP_INVALID, BLS_KEY_INVALID, DUPLICATE_SIGNER). */
export function namedSigners(sigs: BlsSignatures, list: VerificationNodeList, table: SignerTable = buildSignerTable(list)): SignerSlot[] {
  const positions = decodeBitmap(fromBase64(sigs.signers, 'BITMAP_INVALID', 'signer bitmap'), table.slots.length);
  return positions.map((p) => table.slots[p]).filter((s): s is SignerSlot => s !== undefined);
}

/**
 * One pairing check: e(sum of the named keys, H(message)) == e(G1 generator, signature).
 * BLS_SIGNATURE_INVALID for an encoding that is not a canonical subgroup point other than the
 * identity, SIGNATURE_INVALID if it does not verify.
 */
export function verifyAggregateSignature(signature: string, keys: readonly G1Point[], message: Uint8Array): void {
  const sig = decodeSignature(fromBase64(signature, 'BLS_SIGNATURE_INVALID', 'aggregate signature'), 'aggregate signature');
  check(keys.length > 0, 'BITMAP_INVALID', 'no signer named');
  const aggregateKey = keys.reduce((sum, k) => sum.add(k), bls12_381.G1.Point.ZERO);
  // Registered keys carry proofs of possession, so named keys can only cancel if their owners collude.
  if (aggregateKey.is0()) fail('SIGNATURE_INVALID', 'the named signers\u2019 keys sum to the identity');
  if (!bls12_381.longSignatures.verify(sig, hashMessage(message), aggregateKey)) {
    fail('SIGNATURE_INVALID', `aggregate signature does not verify for the ${keys.length} named signers over this message`);
  }
}

/**
 * Version 2 of the same check, on the process's backend (backend.ts: native blst, else pure JS):
 * the same codes in the same order, the signature over BLS_V2_MESSAGE_PREFIX || message.
 */
export function verifyAggregateSignatureV2(signature: string, keys: readonly BackendKeySource[], message: Uint8Array): void {
  const backend = blsBackend();
  const sig = backend.decodeSignature(fromBase64(signature, 'BLS_SIGNATURE_INVALID', 'aggregate signature'), 'aggregate signature');
  check(keys.length > 0, 'BITMAP_INVALID', 'no signer named');
  const outcome = backend.verifyAggregate(sig, keys, message);
  if (outcome === 'identity') fail('SIGNATURE_INVALID', 'the named signers\u2019 keys sum to the identity');
  if (outcome !== 'valid') {
    fail('SIGNATURE_INVALID', `aggregate signature does not verify for the ${keys.length} named signers over this message`);
  }
}

/** The aggregate check of `version` (1 or 2) over the named signers' keys. */
export function verifyAggregateOf(version: BlsSchemeVersion, signature: string, signers: readonly SignerSlot[], message: Uint8Array): void {
  if (version === BLS_SCHEME_VERSION_2) verifyAggregateSignatureV2(signature, signers, message);
  else verifyAggregateSignature(signature, signers.map((s) => s.publicKey), message);
}

/**
 * Verifies an aggregate proof over `message` (bytes the verifier built itself, commitment.ts)
 * against its own copy of the source list at the proof's epoch. In order, cheap checks first so
 * a bad proof costs no pairing:
 *  1. scheme and version (UNSUPPORTED_SCHEME), epoch equals the list's (MALFORMED_PROOF), shape;
 *  2. the bitmap against the list (BITMAP_INVALID) and the named nodes' keys (BLS_KEY_INVALID, DUPLICATE_SIGNER);
 *  3. per-subgroup counts and the cross-subgroup rule (THRESHOLD_NOT_MET, protocol/threshold.ts);
 *  4. the aggregate signature: encoding, then one pairing check (BLS_SIGNATURE_INVALID, SIGNATURE_INVALID).
 * Certificate paths of the named nodes are the envelope's business (protocol/verify.ts).
 */
export function verifyBlsAggregate(list: VerificationNodeList, message: Uint8Array, proofValue: unknown): BlsVerification {
  check(typeof proofValue === 'object' && proofValue !== null && !Array.isArray(proofValue), 'MALFORMED_PROOF', 'proof must be an object');
  const p = proofValue as Record<string, unknown>;
  if (p.scheme !== BLS_SCHEME || (p.version !== BLS_SCHEME_VERSION && p.version !== BLS_SCHEME_VERSION_2)) {
    fail('UNSUPPORTED_SCHEME', `proof scheme ${String(p.scheme)} version ${String(p.version)} is not ${BLS_SCHEME} version ${BLS_SCHEME_VERSION} or ${BLS_SCHEME_VERSION_2}`);
  }
  check(p.epoch === list.epoch, 'MALFORMED_PROOF', `proof is for epoch ${String(p.epoch)}, the list supplied is epoch ${list.epoch}`);
  const sigs = parseBlsSignatures(p.signatures);
  const named = namedSigners(sigs, list);
  const threshold = requireThreshold(
    list,
    named.map((s) => s.nodeId),
  );
  verifyAggregateOf(p.version, sigs.signature, named, message);
  return { signers: named.map(({ position, nodeId, mspId, subgroupId }) => ({ position, nodeId, mspId, subgroupId })), threshold };
}
