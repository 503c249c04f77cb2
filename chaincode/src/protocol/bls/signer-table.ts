/**
 * The verifier's view of a verification node list for this scheme, and the signer order that
 * bitmaps refer to.
 *
 * Signer order: all nodes of the list, sorted by (subgroup id, node id), both compared by
 * UTF-16 code units (the order canonical JSON uses for keys). Position 0 is the first node of
 * the first subgroup. The order depends only on the list's content, never on how an array
 * happened to be stored, so the signer, the relay and the verifier agree on it by construction.
 */
import { check, fail } from '../../errors';
import { decodePublicKey, fromBase64, G1Point } from './encoding';
import { BLS_MAX_NODES } from './suite';

export interface BlsListNode {
  nodeId: string;
  /** Base64 of the 48-byte compressed G1 key, registered with its PoP and binding (binding.ts). */
  blsPublicKey: string;
}

export interface BlsListSubgroup {
  id: string;
  /** Distinct signers this subgroup needs, 1..nodes.length. */
  threshold: number;
  nodes: BlsListNode[];
}

/** Across subgroups: every subgroup meets its threshold, or at least k of them do. */
export type SubgroupRule = { kind: 'all' } | { kind: 'k-of-m'; k: number };

export interface BlsVerificationList {
  chainId: string;
  epoch: number;
  subgroups: BlsListSubgroup[];
  rule: SubgroupRule;
}

export interface SignerSlot {
  position: number;
  nodeId: string;
  subgroupId: string;
  publicKey: G1Point;
}

export interface SignerTable {
  chainId: string;
  epoch: number;
  slots: SignerSlot[];
  subgroups: { id: string; threshold: number; size: number }[];
  rule: SubgroupRule;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Validates the list for this scheme and lays its nodes out in signer order.
 * Fails INVALID_NODE_LIST (shape, thresholds, rule), DUPLICATE_SIGNER (a node id or a BLS key
 * appearing twice, in one subgroup or across two), BLS_KEY_INVALID (a key that does not decode).
 */
export function buildSignerTable(list: BlsVerificationList): SignerTable {
  check(typeof list.chainId === 'string' && list.chainId !== '', 'INVALID_NODE_LIST', 'list has no chain id');
  check(Number.isSafeInteger(list.epoch) && list.epoch >= 0, 'INVALID_NODE_LIST', 'list epoch must be a non-negative integer');
  check(Array.isArray(list.subgroups) && list.subgroups.length > 0, 'INVALID_NODE_LIST', 'list has no subgroups');
  const subgroups = [...list.subgroups].sort((a, b) => byCodeUnit(a.id, b.id));
  const nodeIds = new Set<string>();
  const keys = new Map<string, string>();
  const slots: SignerSlot[] = [];
  const summary: SignerTable['subgroups'] = [];
  for (const [i, sg] of subgroups.entries()) {
    check(typeof sg.id === 'string' && sg.id !== '', 'INVALID_NODE_LIST', 'a subgroup has no id');
    check(i === 0 || subgroups[i - 1]?.id !== sg.id, 'INVALID_NODE_LIST', `subgroup ${sg.id} appears twice`);
    check(Array.isArray(sg.nodes) && sg.nodes.length > 0, 'INVALID_NODE_LIST', `subgroup ${sg.id} has no nodes`);
    check(
      Number.isSafeInteger(sg.threshold) && sg.threshold >= 1 && sg.threshold <= sg.nodes.length,
      'INVALID_NODE_LIST',
      `subgroup ${sg.id} threshold ${String(sg.threshold)} is not within 1..${sg.nodes.length}`,
    );
    for (const node of [...sg.nodes].sort((a, b) => byCodeUnit(a.nodeId, b.nodeId))) {
      check(typeof node.nodeId === 'string' && node.nodeId !== '', 'INVALID_NODE_LIST', `subgroup ${sg.id} has a node without id`);
      if (nodeIds.has(node.nodeId)) fail('DUPLICATE_SIGNER', `node ${node.nodeId} appears more than once in the list`);
      nodeIds.add(node.nodeId);
      if (node.blsPublicKey === undefined) fail('BLS_KEY_INVALID', `node ${node.nodeId} has no BLS public key`);
      const owner = keys.get(node.blsPublicKey);
      if (owner !== undefined) fail('DUPLICATE_SIGNER', `nodes ${owner} and ${node.nodeId} share one BLS public key`);
      keys.set(node.blsPublicKey, node.nodeId);
      slots.push({ position: slots.length, nodeId: node.nodeId, subgroupId: sg.id, publicKey: cachedKey(node.blsPublicKey, node.nodeId) });
    }
    summary.push({ id: sg.id, threshold: sg.threshold, size: sg.nodes.length });
  }
  check(slots.length <= BLS_MAX_NODES, 'INVALID_NODE_LIST', `list has ${slots.length} nodes, more than ${BLS_MAX_NODES}`);
  const rule = list.rule;
  if (rule?.kind === 'k-of-m') {
    check(Number.isSafeInteger(rule.k) && rule.k >= 1 && rule.k <= summary.length, 'INVALID_NODE_LIST', `rule k=${String(rule.k)} is not within 1..${summary.length}`);
  } else if (rule?.kind !== 'all') {
    fail('INVALID_NODE_LIST', 'list has no valid cross-subgroup rule');
  }
  return { chainId: list.chainId, epoch: list.epoch, slots, subgroups: summary, rule };
}

/** Per-subgroup counts of the named positions, then the cross-subgroup rule; THRESHOLD_NOT_MET otherwise. */
export function checkThresholds(table: SignerTable, positions: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sg of table.subgroups) counts[sg.id] = 0;
  const seen = new Set<number>();
  for (const p of positions) {
    const slot = table.slots[p];
    if (slot === undefined) fail('BITMAP_INVALID', `position ${p} is outside the list`);
    if (seen.has(p)) continue;
    seen.add(p);
    counts[slot.subgroupId] = (counts[slot.subgroupId] ?? 0) + 1;
  }
  const short = table.subgroups.filter((sg) => (counts[sg.id] ?? 0) < sg.threshold);
  const met = table.subgroups.length - short.length;
  const needed = table.rule.kind === 'all' ? table.subgroups.length : table.rule.k;
  if (met < needed) {
    const detail = short.map((sg) => `${sg.id} ${counts[sg.id] ?? 0}/${sg.threshold}`).join(', ');
    fail('THRESHOLD_NOT_MET', `${met} of ${table.subgroups.length} subgroups meet their threshold, ${needed} needed (below: ${detail})`);
  }
  return counts;
}

/**
 * Decoded keys by their base64 text. Decoding a key (square root plus subgroup check) costs about a
 * millisecond; a list is verified many times. Only successfully decoded keys are kept and the
 * outcome of a call never depends on the cache, so the chaincode stays deterministic.
 */
const keyCache = new Map<string, G1Point>();
const KEY_CACHE_LIMIT = 4096;

function cachedKey(text: string, nodeId: string): G1Point {
  const hit = keyCache.get(text);
  if (hit !== undefined) return hit;
  const point = decodePublicKey(fromBase64(text, 'BLS_KEY_INVALID', `BLS public key of node ${nodeId}`), `BLS public key of node ${nodeId}`);
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(text, point);
  return point;
}

/** For benchmarks: measure the cold path. */
export function clearKeyCache(): void {
  keyCache.clear();
}
