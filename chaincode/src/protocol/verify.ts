/**
 * The verifier (PROTOCOL.md "Verification"): given what the destination trusts about a
 * source chain and a proof, decides whether a threshold of the source's current list
 * signed exactly `message`. Steps, in this order, each failing closed:
 *   0. the scheme (and each link's scheme) is one the source registered;
 *   1. path-proof: epoch links applied in order from the known epoch, never skipping one,
 *      each verified by steps 1-3 against the list it replaces; then every signer's
 *      certificate chains to a registered root of its own org, valid at transaction time;
 *   2. threshold: distinct listed nodes, per subgroup and across subgroups;
 *   3. signatures: every signature valid over exactly the message bound to the final list.
 * Nothing computed by the relay is used: messages are rebuilt here, lists are re-hashed.
 */
import { MedbridgeError, fail } from '../errors';
import { requireThreshold, type ThresholdResult } from './threshold';
import { epochLinkMessage, type SignerListRef } from './commitment';
import { listFacts, nodeKeyIdentities, type ListFacts, type VerificationNodeList } from './node-list';
import { orgPreparer, verifyCertPath, type ChainTrust } from './path-proof';
import { intermediatesOf, parsedSignatures, type Proof, type SignatureSet } from './proof';
import { getScheme } from './schemes';
import { Memo } from './verification-cache';

export interface RemoteView {
  trust: ChainTrust;
  /** The source's list at the epoch the destination knows. */
  list: VerificationNodeList;
  /** Schemes the source registered (proof `scheme` values). */
  schemes: readonly string[];
  /** Nodes this destination holds verified equivocation evidence against: they never count. */
  excluded?: readonly ExcludedNode[];
  /** Checks a list an epoch link would adopt, before any signature is verified (trust floor, trusting period). */
  acceptLink?: (from: VerificationNodeList, to: VerificationNodeList, atMs: number) => void;
}

/** A node whose signatures do not count, matched by node id or by any of its key identities. */
export interface ExcludedNode {
  nodeId: string;
  keyIds: readonly string[];
}

export interface SignatureSetResult {
  /** Node ids of the accepted signers, sorted. */
  signers: string[];
  threshold: ThresholdResult;
}

export interface VerifiedProof extends SignatureSetResult {
  /** The list the signatures belong to (the known list, or the last linked one). */
  list: VerificationNodeList;
  /** Lists newly learned through epoch links, in order; the caller stores them. */
  newLists: VerificationNodeList[];
}

/** Node ids of `list` that `excluded` names, by id or by a key they hold. */
function excludedIn(list: VerificationNodeList, excluded: readonly ExcludedNode[]): Set<string> {
  const out = new Set<string>();
  if (excluded.length === 0) return out;
  const ids = new Set(excluded.map((e) => e.nodeId));
  const keys = new Set(excluded.flatMap((e) => e.keyIds));
  for (const s of list.subgroups) {
    for (const n of s.nodes) {
      if (ids.has(n.nodeId) || nodeKeyIdentities(n).some((k) => keys.has(k))) out.add(n.nodeId);
    }
  }
  return out;
}

/**
 * Steps 1-3 for one signature set against one list. Signatures of excluded nodes are still
 * verified (an aggregate covers them) but never count towards the threshold, and they are
 * not among the returned signers.
 */
export function verifySignatureSet(
  set: SignatureSet,
  list: VerificationNodeList,
  trust: ChainTrust,
  schemes: readonly string[],
  atMs: number,
  message: Buffer,
  excluded: readonly ExcludedNode[] = [],
): SignatureSetResult {
  return verifySet(set, list, listFacts(list), trust, schemes, atMs, message, excluded);
}

/**
 * Signature sets of epoch links that verified, by everything the scheme's signature check reads:
 * the scheme and version, the signing list's chain and hash (which fix each claimed signer and
 * its key), the exact message (which fixes both epochs and both list hashes), and the signature
 * part's JSON text (already parsed by the scheme, so only strings, numbers, arrays and objects).
 * A link is immutable once the hashes are fixed, and every proof sent before the destination
 * stores the new list carries it again, with the same signature part in a scheme whose signatures
 * repeat (ProofScheme.repeatsSignatures; scheme 1 endorsements carry a new proposal each time, so
 * they are not kept). Only the signature check is skipped on a hit: which
 * nodes are named, their certificate paths at transaction time, exclusions and the threshold are
 * decided again for every proof. A failure is never kept (verification-cache.ts).
 */
const verifiedLinkSignatures = new Memo<true>(256);

function verifySet(
  set: SignatureSet,
  list: VerificationNodeList,
  facts: ListFacts,
  trust: ChainTrust,
  schemes: readonly string[],
  atMs: number,
  message: Buffer,
  excluded: readonly ExcludedNode[] = [],
  isLink = false,
  prepared = orgPreparer(),
): SignatureSetResult {
  if (!schemes.includes(set.scheme)) fail('UNSUPPORTED_SCHEME', `${trust.chainId} did not register proof scheme ${set.scheme}`);
  const scheme = getScheme(set.scheme, set.version);
  const parsed = parsedSignatures(set, scheme) ?? scheme.parse(set.signatures);
  const claimed = scheme.claimedSigners(parsed, list, facts);
  const extra = intermediatesOf(set);
  for (const s of claimed) {
    verifyCertPath({ cert: s.cert, parsed: s.parsed, mspId: s.mspId, trust, extraIntermediates: extra, atMs, what: `certificate of node ${s.nodeId}`, prepared });
  }
  const out = excludedIn(list, excluded);
  const counted = claimed.filter((s) => !out.has(s.nodeId));
  const threshold = requireThreshold(
    list,
    counted.map((s) => s.nodeId),
    facts,
  );
  const check = (): true => {
    scheme.verifySignatures(parsed, claimed, message, { chainId: list.chainId });
    return true;
  };
  if (isLink && scheme.repeatsSignatures === true) {
    verifiedLinkSignatures.get(`${set.scheme}/${set.version}|${list.chainId}|${facts.hash}|${message.toString('base64')}|${JSON.stringify(set.signatures)}`, check);
  } else {
    check();
  }
  return { signers: counted.map((s) => s.nodeId).sort(), threshold };
}

/** Applies the proof's epoch links to the known list, then verifies the proof's signatures. */
export function verifyProof(
  remote: RemoteView,
  proof: Proof,
  atMs: number,
  message: (signers: SignerListRef) => Buffer,
): VerifiedProof {
  const chainId = remote.trust.chainId;
  if (remote.list.chainId !== chainId) fail('INVALID_NODE_LIST', `stored list belongs to ${remote.list.chainId}, not ${chainId}`);
  if (!remote.schemes.includes(proof.scheme)) fail('UNSUPPORTED_SCHEME', `${chainId} did not register proof scheme ${proof.scheme}`);
  const known = remote.list.epoch;
  if (proof.epoch < known) fail('EPOCH_STALE', `proof is signed by epoch ${proof.epoch} of ${chainId}; this chain already knows epoch ${known}`);
  if (proof.links.length !== proof.epoch - known) {
    fail('EPOCH_SKIPPED', `proof epoch ${proof.epoch} needs ${proof.epoch - known} link(s) from known epoch ${known}; it carries ${proof.links.length}`);
  }

  let list = remote.list;
  // The registered orgs' certificates, prepared once for every signature set of the proof.
  const prepared = orgPreparer();
  // Facts of the list in hand (derived once per proof: a link's new list is the next link's signer).
  let listInHand: ListFacts | undefined;
  const newLists: VerificationNodeList[] = [];
  for (const link of proof.links) {
    if (link.fromEpoch !== list.epoch || link.toEpoch !== list.epoch + 1) {
      fail('EPOCH_SKIPPED', `epoch link ${link.fromEpoch}->${link.toEpoch} does not follow epoch ${list.epoch} of ${chainId}`);
    }
    // Trust floor and trusting period (the destination's own policy) come first and keep their codes.
    remote.acceptLink?.(list, link.newList, atMs);
    try {
      if (link.chainId !== chainId || link.newList.chainId !== chainId) fail('EPOCH_LINK_INVALID', `link is for ${link.chainId}, not ${chainId}`);
      if (link.newList.epoch !== link.toEpoch) fail('EPOCH_LINK_INVALID', `link's new list says epoch ${link.newList.epoch}, not ${link.toEpoch}`);
      for (const s of link.newList.subgroups) {
        if (!remote.trust.orgs.some((o) => o.mspId === s.mspId)) {
          fail('UNKNOWN_ROOT', `new list names ${s.mspId}, which is not a registered org of ${chainId}`);
        }
      }
      const from = listInHand ?? listFacts(list);
      const to = listFacts(link.newList);
      const linkMessage = epochLinkMessage({
        chainId,
        fromEpoch: link.fromEpoch,
        toEpoch: link.toEpoch,
        fromListHash: from.hash,
        newListHash: to.hash,
      });
      verifySet(link.proof, list, from, remote.trust, remote.schemes, atMs, linkMessage, remote.excluded, true, prepared);
      listInHand = to;
    } catch (e) {
      if (e instanceof MedbridgeError && e.code !== 'EPOCH_LINK_INVALID') {
        fail('EPOCH_LINK_INVALID', `epoch link ${link.fromEpoch}->${link.toEpoch} of ${chainId}: ${e.message}`);
      }
      throw e;
    }
    list = link.newList;
    newLists.push(link.newList);
  }

  const facts = listInHand ?? listFacts(list);
  const ref = { epoch: list.epoch, listHash: facts.hash };
  const result = verifySet(proof, list, facts, remote.trust, remote.schemes, atMs, message(ref), remote.excluded, false, prepared);
  return { ...result, list, newLists };
}
