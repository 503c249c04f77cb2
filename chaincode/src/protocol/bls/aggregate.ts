/**
 * Relay side: turn individual node signatures into one aggregate proof.
 *
 * One bad signer must not spoil the aggregate. The relay first aggregates every well-formed
 * signature from a listed node and checks the result with one pairing; only if that fails does
 * it verify each signature alone and drop the ones that do not verify. If the first check
 * passes, the sum equals (sum of secret keys) * H(m), i.e. exactly the honest aggregate.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import { ErrorCode, MedbridgeError } from '../../errors';
import { encodeBitmap } from './bitmap';
import { decodeSignature, encodeSignature, fromBase64, G2Point, toBase64 } from './encoding';
import { hashMessage } from './keys';
import { BlsAggregateProof } from './proof';
import { buildSignerTable, BlsVerificationList, checkThresholds, SignerSlot } from './signer-table';
import { BLS_SCHEME, BLS_SCHEME_VERSION } from './suite';

export interface PartialSignature {
  nodeId: string;
  /** Base64 of the node's 96-byte signature over the commitment bytes. */
  signature: string;
}

export interface DroppedSignature {
  nodeId: string;
  code: ErrorCode;
  reason: string;
}

export interface AggregateResult {
  proof: BlsAggregateProof;
  signers: string[];
  dropped: DroppedSignature[];
}

/** Fails THRESHOLD_NOT_MET if what remains after dropping bad signatures is not enough. */
export function aggregatePartials(list: BlsVerificationList, message: Uint8Array, partials: readonly PartialSignature[]): AggregateResult {
  const table = buildSignerTable(list);
  const byNode = new Map(table.slots.map((s) => [s.nodeId, s]));
  const dropped: DroppedSignature[] = [];
  const accepted = new Map<number, { slot: SignerSlot; sig: G2Point }>();
  for (const p of partials) {
    const slot = byNode.get(p.nodeId);
    if (slot === undefined) {
      dropped.push({ nodeId: p.nodeId, code: 'SIGNER_NOT_IN_LIST', reason: `not a node of ${table.chainId} epoch ${table.epoch}` });
      continue;
    }
    if (accepted.has(slot.position)) {
      dropped.push({ nodeId: p.nodeId, code: 'DUPLICATE_SIGNER', reason: 'a signature of this node was already taken' });
      continue;
    }
    try {
      accepted.set(slot.position, { slot, sig: decodeSignature(fromBase64(p.signature, 'BLS_SIGNATURE_INVALID', 'signature'), `signature of ${p.nodeId}`) });
    } catch (e) {
      dropped.push(asDropped(p.nodeId, e));
    }
  }
  const h = hashMessage(message);
  let entries = [...accepted.values()];
  if (entries.length > 0 && !verifySum(entries, h)) {
    entries = entries.filter((e) => {
      const ok = bls12_381.longSignatures.verify(e.sig, h, e.slot.publicKey);
      if (!ok) dropped.push({ nodeId: e.slot.nodeId, code: 'SIGNATURE_INVALID', reason: 'does not verify over this commitment' });
      return ok;
    });
  }
  entries.sort((a, b) => a.slot.position - b.slot.position);
  const positions = entries.map((e) => e.slot.position);
  checkThresholds(table, positions);
  const aggregate = entries.reduce((sum, e) => sum.add(e.sig), bls12_381.G2.Point.ZERO);
  return {
    proof: {
      scheme: BLS_SCHEME,
      version: BLS_SCHEME_VERSION,
      epoch: table.epoch,
      signers: toBase64(encodeBitmap(positions, table.slots.length)),
      signature: toBase64(encodeSignature(aggregate)),
    },
    signers: entries.map((e) => e.slot.nodeId),
    dropped,
  };
}

function verifySum(entries: { slot: SignerSlot; sig: G2Point }[], h: G2Point): boolean {
  const sig = entries.reduce((sum, e) => sum.add(e.sig), bls12_381.G2.Point.ZERO);
  const key = entries.reduce((sum, e) => sum.add(e.slot.publicKey), bls12_381.G1.Point.ZERO);
  if (sig.is0() || key.is0()) return false;
  return bls12_381.longSignatures.verify(sig, h, key);
}

function asDropped(nodeId: string, e: unknown): DroppedSignature {
  if (e instanceof MedbridgeError) return { nodeId, code: e.code, reason: e.detail };
  return { nodeId, code: 'BLS_SIGNATURE_INVALID', reason: e instanceof Error ? e.message : 'undecodable' };
}
