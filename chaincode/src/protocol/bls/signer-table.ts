/**
 * The signer order that bitmaps refer to, over the project's VerificationNodeList.
 *
 * Signer order: all nodes of the list sorted by (subgroup id, node id), both compared by UTF-16
 * code units (the order canonical JSON uses for keys, and the order parseNodeList normalises a
 * list to). Position 0 is the first node of the first subgroup. The order depends only on the
 * list's content, so signer, relay and verifier agree on it by construction.
 *
 * A node takes part in this scheme through the optional `bls` member of its list entry
 * (BlsNodeKey, registered and checked in binding.ts); the list hash covers it.
 */
import type { VerificationNode, VerificationNodeList } from '../node-list';
import { fail } from '../../errors';
import { Memo } from '../verification-cache';
import { blsKeyIdentity, decodePublicKey, fromBase64, G1Point } from './encoding';
import type { BlsNodeKey } from './node-key';
import { BLS_MAX_NODES } from './suite';

export type { BlsNodeKey };

export type BlsVerificationNode = VerificationNode & { bls?: BlsNodeKey };

export interface SignerSlot {
  position: number;
  nodeId: string;
  mspId: string;
  subgroupId: string;
  certPem: string;
  /** The key as the list holds it (canonical base64). */
  publicKeyB64: string;
  publicKey: G1Point;
}

export interface SignerTable {
  chainId: string;
  epoch: number;
  slots: SignerSlot[];
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The BLS entry of a list node, if it has one. */
export function blsKeyOf(node: VerificationNode): BlsNodeKey | undefined {
  return (node as BlsVerificationNode).bls;
}

/**
 * Lays the list's nodes out in signer order with their decoded BLS keys. Fails BLS_KEY_INVALID
 * (a node without a BLS key, or a key that does not decode), DUPLICATE_SIGNER (a node id or a
 * BLS key listed twice, in one subgroup or across two: no node ever occupies two positions),
 * INVALID_NODE_LIST (an empty list or more nodes than a bitmap may name).
 */
export function buildSignerTable(list: VerificationNodeList): SignerTable {
  if (!Array.isArray(list.subgroups) || list.subgroups.length === 0) fail('INVALID_NODE_LIST', 'list has no subgroups');
  const nodeIds = new Set<string>();
  const keys = new Map<string, string>();
  const slots: SignerSlot[] = [];
  for (const sg of [...list.subgroups].sort((a, b) => byCodeUnit(a.id, b.id))) {
    if (!Array.isArray(sg.nodes) || sg.nodes.length === 0) fail('INVALID_NODE_LIST', `subgroup ${sg.id} has no nodes`);
    for (const node of [...sg.nodes].sort((a, b) => byCodeUnit(a.nodeId, b.nodeId))) {
      if (nodeIds.has(node.nodeId)) fail('DUPLICATE_SIGNER', `node ${node.nodeId} appears more than once in list epoch ${list.epoch} of ${list.chainId}`);
      nodeIds.add(node.nodeId);
      const bls = blsKeyOf(node);
      if (bls === undefined) fail('BLS_KEY_INVALID', `node ${node.nodeId} has no registered BLS key`);
      // A key and its negation are one key: together they cancel and count without signing.
      const identity = blsKeyIdentity(bls.publicKey);
      const owner = keys.get(identity);
      if (owner !== undefined) fail('DUPLICATE_SIGNER', `nodes ${owner} and ${node.nodeId} share one BLS public key (or hold a key and its negation)`);
      keys.set(identity, node.nodeId);
      slots.push({
        position: slots.length,
        nodeId: node.nodeId,
        mspId: node.mspId,
        subgroupId: sg.id,
        certPem: node.certPem,
        publicKeyB64: bls.publicKey,
        publicKey: cachedKey(bls.publicKey, node.nodeId),
      });
    }
  }
  if (slots.length > BLS_MAX_NODES) fail('INVALID_NODE_LIST', `list has ${slots.length} nodes; a bitmap names at most ${BLS_MAX_NODES}`);
  return { chainId: list.chainId, epoch: list.epoch, slots };
}

/**
 * Decoded keys by their base64 text. Decoding a key (square root plus subgroup check) costs about a
 * millisecond and a list is verified many times. Only successfully decoded keys are kept, and the
 * outcome of a call never depends on the cache, so the chaincode stays deterministic.
 */
const keyCache = new Memo<G1Point>(4096);

function cachedKey(text: string, nodeId: string): G1Point {
  return keyCache.get(text, () => {
    const what = `BLS public key of node ${nodeId}`;
    return decodePublicKey(fromBase64(text, 'BLS_KEY_INVALID', what), what);
  });
}

/** For benchmarks: measure the cold path. */
export function clearKeyCache(): void {
  keyCache.clear();
}
