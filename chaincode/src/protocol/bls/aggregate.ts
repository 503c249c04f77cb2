/**
 * Relay side: turn individual node signatures into one aggregate proof.
 *
 * One bad signer must not spoil the aggregate. The relay sums every well-formed signature of a
 * listed node and checks the sum with one pairing; only if that fails does it verify each
 * signature alone and drop those that do not verify (reported with the node id, for the log).
 * When the sum verifies it equals (sum of the signers' secret keys) * H(m): exactly the honest
 * aggregate, whatever the individual parts were.
 */
import { bls12_381 } from '@noble/curves/bls12-381';
import { type ErrorCode, MedbridgeError } from '../../errors';
import { requireThreshold } from '../threshold';
import type { VerificationNodeList } from '../node-list';
import { encodeBitmap } from './bitmap';
import { type BackendSignature, blsBackend } from './backend';
import { decodeSignature, encodeSignature, fromBase64, type G2Point, toBase64 } from './encoding';
import { hashMessage } from './keys';
import type { BlsAggregateProof } from './proof';
import { buildSignerTable, type SignerSlot } from './signer-table';
import { BLS_SCHEME, BLS_SCHEME_VERSION, BLS_SCHEME_VERSION_2, type BlsSchemeVersion } from './suite';

export interface PartialSignature {
  nodeId: string;
  /** Base64 of the node's 96-byte signature over the message bytes. */
  signature: string;
}

export interface DroppedSignature {
  nodeId: string;
  code: ErrorCode;
  reason: string;
}

export interface AggregateResult {
  proof: BlsAggregateProof;
  /** Node ids named by the bitmap, in signer order. */
  signers: string[];
  dropped: DroppedSignature[];
}

/**
 * Fails THRESHOLD_NOT_MET if what remains after dropping bad signatures is not enough. `version`
 * is the scheme version the partials were signed in (the signer signs the version asked for).
 */
export function aggregatePartials(
  list: VerificationNodeList,
  message: Uint8Array,
  partials: readonly PartialSignature[],
  version: BlsSchemeVersion = BLS_SCHEME_VERSION,
): AggregateResult {
  if (version === BLS_SCHEME_VERSION_2) return aggregatePartialsV2(list, message, partials);
  const table = buildSignerTable(list);
  const byNode = new Map(table.slots.map((s) => [s.nodeId, s]));
  const dropped: DroppedSignature[] = [];
  const accepted = new Map<number, { slot: SignerSlot; sig: G2Point }>();
  for (const p of partials) {
    const slot = byNode.get(p.nodeId);
    if (slot === undefined) {
      dropped.push({ nodeId: p.nodeId, code: 'SIGNER_NOT_IN_LIST', reason: `not a node of ${table.chainId} epoch ${table.epoch}` });
    } else if (accepted.has(slot.position)) {
      dropped.push({ nodeId: p.nodeId, code: 'DUPLICATE_SIGNER', reason: 'a signature of this node was already taken' });
    } else {
      try {
        const sig = decodeSignature(fromBase64(p.signature, 'BLS_SIGNATURE_INVALID', `signature of ${p.nodeId}`), `signature of ${p.nodeId}`);
        accepted.set(slot.position, { slot, sig });
      } catch (e) {
        dropped.push(asDropped(p.nodeId, e));
      }
    }
  }
  const h = hashMessage(message);
  let entries = [...accepted.values()].sort((a, b) => a.slot.position - b.slot.position);
  if (entries.length > 0 && !sumVerifies(entries, h)) {
    entries = entries.filter((e) => {
      const ok = bls12_381.longSignatures.verify(e.sig, h, e.slot.publicKey);
      if (!ok) dropped.push({ nodeId: e.slot.nodeId, code: 'SIGNATURE_INVALID', reason: 'does not verify over this message' });
      return ok;
    });
  }
  requireThreshold(
    list,
    entries.map((e) => e.slot.nodeId),
  );
  const aggregate = entries.reduce((sum, e) => sum.add(e.sig), bls12_381.G2.Point.ZERO);
  return {
    proof: {
      scheme: BLS_SCHEME,
      version: BLS_SCHEME_VERSION,
      epoch: table.epoch,
      signatures: {
        signers: toBase64(encodeBitmap(
          entries.map((e) => e.slot.position),
          table.slots.length,
        )),
        signature: toBase64(encodeSignature(aggregate)),
      },
    },
    signers: entries.map((e) => e.slot.nodeId),
    dropped,
  };
}

/** The same steps on the process's backend (backend.ts), for version 2. */
function aggregatePartialsV2(list: VerificationNodeList, message: Uint8Array, partials: readonly PartialSignature[]): AggregateResult {
  const backend = blsBackend();
  const table = buildSignerTable(list);
  const byNode = new Map(table.slots.map((s) => [s.nodeId, s]));
  const dropped: DroppedSignature[] = [];
  const accepted = new Map<number, { slot: SignerSlot; sig: BackendSignature }>();
  for (const p of partials) {
    const slot = byNode.get(p.nodeId);
    if (slot === undefined) {
      dropped.push({ nodeId: p.nodeId, code: 'SIGNER_NOT_IN_LIST', reason: `not a node of ${table.chainId} epoch ${table.epoch}` });
    } else if (accepted.has(slot.position)) {
      dropped.push({ nodeId: p.nodeId, code: 'DUPLICATE_SIGNER', reason: 'a signature of this node was already taken' });
    } else {
      try {
        const what = `signature of ${p.nodeId}`;
        accepted.set(slot.position, { slot, sig: backend.decodeSignature(fromBase64(p.signature, 'BLS_SIGNATURE_INVALID', what), what) });
      } catch (e) {
        dropped.push(asDropped(p.nodeId, e));
      }
    }
  }
  let entries = [...accepted.values()].sort((a, b) => a.slot.position - b.slot.position);
  const sumOf = (es: typeof entries) => backend.decodeSignature(backend.aggregate(es.map((e) => e.sig)), 'aggregate');
  const sumVerifiesV2 = (): boolean => {
    try {
      return backend.verifyAggregate(sumOf(entries), entries.map((e) => e.slot), message) === 'valid';
    } catch {
      return false; // the sum is the identity: some partial is wrong
    }
  };
  if (entries.length > 0 && !sumVerifiesV2()) {
    entries = entries.filter((e) => {
      const ok = backend.verifyAggregate(e.sig, [e.slot], message) === 'valid';
      if (!ok) dropped.push({ nodeId: e.slot.nodeId, code: 'SIGNATURE_INVALID', reason: 'does not verify over this message' });
      return ok;
    });
  }
  requireThreshold(
    list,
    entries.map((e) => e.slot.nodeId),
  );
  return {
    proof: {
      scheme: BLS_SCHEME,
      version: BLS_SCHEME_VERSION_2,
      epoch: table.epoch,
      signatures: {
        signers: toBase64(encodeBitmap(
          entries.map((e) => e.slot.position),
          table.slots.length,
        )),
        signature: toBase64(backend.aggregate(entries.map((e) => e.sig))),
      },
    },
    signers: entries.map((e) => e.slot.nodeId),
    dropped,
  };
}

function sumVerifies(entries: { slot: SignerSlot; sig: G2Point }[], h: G2Point): boolean {
  const sig = entries.reduce((sum, e) => sum.add(e.sig), bls12_381.G2.Point.ZERO);
  const key = entries.reduce((sum, e) => sum.add(e.slot.publicKey), bls12_381.G1.Point.ZERO);
  if (sig.is0() || key.is0()) return false;
  return bls12_381.longSignatures.verify(sig, h, key);
}

function asDropped(nodeId: string, e: unknown): DroppedSignature {
  if (e instanceof MedbridgeError) return { nodeId, code: e.code, reason: e.detail };
  return { nodeId, code: 'BLS_SIGNATURE_INVALID', reason: e instanceof Error ? e.message : 'undecodable' };
}
