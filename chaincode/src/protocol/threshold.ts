/**
 * Threshold over privileged subgroups (PROTOCOL.md "Threshold"): each subgroup counts the
 * distinct listed nodes of its own org that signed; a subgroup is satisfied at its
 * threshold t_i; the list's rule says how many subgroups must be satisfied (all, or k of m).
 * Pure: signers are node ids already matched to the list by the proof scheme.
 *
 * A key is counted once, whatever node entry it appears under: two signers whose keys are one
 * key in canonical form (node-list.ts keyIdentity, bls blsKeyIdentity) fail
 * DUPLICATE_SIGNER, even in a list stored before lists were checked for it.
 */
import { fail } from '../errors';
import { nodeKeyIdentities, type ListFacts, type VerificationNodeList } from './node-list';

export interface SubgroupCount {
  id: string;
  mspId: string;
  signed: number;
  threshold: number;
  met: boolean;
}

export interface ThresholdResult {
  met: boolean;
  subgroups: SubgroupCount[];
  /** Subgroups satisfied, and how many the rule requires. */
  satisfied: number;
  required: number;
}

/**
 * Node ids of a list, and each entry's key identities by position (subgroup, node), filled in as
 * signers need them; kept once per list content (ListFacts).
 */
interface ListedKeys {
  listed: Set<string>;
  keyIds: (string[] | undefined)[][];
}

function listedKeys(list: VerificationNodeList): ListedKeys {
  return { listed: new Set(list.subgroups.flatMap((s) => s.nodes.map((n) => n.nodeId))), keyIds: list.subgroups.map((s) => s.nodes.map(() => undefined)) };
}

/**
 * `facts`: what the verifier already derived from `list` (node-list.ts listFacts), so the list's
 * node ids and key identities are not recomputed for every proof; without it, computed here.
 */
export function evaluateThreshold(list: VerificationNodeList, signerNodeIds: readonly string[], facts?: ListFacts): ThresholdResult {
  if (facts === undefined) return countSigners(list, signerNodeIds, undefined);
  // A list's proofs are signed by the same nodes proof after proof: the count is remembered per
  // list content (facts) and signer ids in the order given, frozen; a refusal is never kept.
  const results = facts.derive('threshold-results', () => new Map<string, ThresholdResult>());
  const key = JSON.stringify(signerNodeIds);
  const known = results.get(key);
  if (known !== undefined) return known;
  const result = countSigners(list, signerNodeIds, facts);
  if (results.size >= THRESHOLD_RESULTS) results.clear();
  results.set(key, deepFrozen(result));
  return result;
}

/** Signer sets remembered per list (keyed by their JSON: unambiguous whatever the ids hold). */
const THRESHOLD_RESULTS = 64;

function deepFrozen(r: ThresholdResult): ThresholdResult {
  r.subgroups.forEach((s) => Object.freeze(s));
  Object.freeze(r.subgroups);
  return Object.freeze(r);
}

function countSigners(list: VerificationNodeList, signerNodeIds: readonly string[], facts: ListFacts | undefined): ThresholdResult {
  const seen = new Set<string>();
  for (const id of signerNodeIds) {
    if (seen.has(id)) fail('DUPLICATE_SIGNER', `node ${id} is counted twice`);
    seen.add(id);
  }
  const derived = facts?.derive('threshold-keys', listedKeys);
  const listed = derived?.listed ?? new Set(list.subgroups.flatMap((s) => s.nodes.map((n) => n.nodeId)));
  for (const id of seen) {
    if (!listed.has(id)) fail('SIGNER_NOT_IN_LIST', `node ${id} is not in list epoch ${list.epoch} of ${list.chainId}`);
  }
  const keyOwner = new Map<string, string>();
  list.subgroups.forEach((s, si) => {
    s.nodes.forEach((n, ni) => {
      if (!seen.has(n.nodeId)) return;
      let ids = derived?.keyIds[si]?.[ni];
      if (ids === undefined) {
        ids = nodeKeyIdentities(n);
        if (derived?.keyIds[si] !== undefined) derived.keyIds[si][ni] = ids;
      }
      for (const k of ids) {
        const other = keyOwner.get(k);
        if (other !== undefined) fail('DUPLICATE_SIGNER', `nodes ${other} and ${n.nodeId} hold one key; it counts once`);
        keyOwner.set(k, n.nodeId);
      }
    });
  });
  const subgroups = list.subgroups.map((s) => {
    const signed = s.nodes.filter((n) => seen.has(n.nodeId)).length;
    return { id: s.id, mspId: s.mspId, signed, threshold: s.threshold, met: s.threshold >= 1 && signed >= s.threshold };
  });
  const satisfied = subgroups.filter((s) => s.met).length;
  const required = list.rule.kind === 'all' ? list.subgroups.length : list.rule.k;
  // Fail closed on a list that could be satisfied by nobody signing.
  const met = subgroups.length > 0 && required >= 1 && satisfied >= required;
  return { met, subgroups, satisfied, required };
}

export function requireThreshold(list: VerificationNodeList, signerNodeIds: readonly string[], facts?: ListFacts): ThresholdResult {
  const r = evaluateThreshold(list, signerNodeIds, facts);
  if (!r.met) {
    const detail = r.subgroups.map((s) => `${s.id} ${s.signed}/${s.threshold}`).join(', ');
    fail('THRESHOLD_NOT_MET', `${r.satisfied} of ${r.required} required subgroups of ${list.chainId} epoch ${list.epoch} met their threshold (${detail})`);
  }
  return r;
}
