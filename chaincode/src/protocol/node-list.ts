/**
 * VerificationNodeList: the nodes (peer identities) whose signatures speak for a chain at
 * one epoch, grouped in privileged subgroups (one per org) with a threshold each, and a
 * rule across subgroups. PROTOCOL.md "VerificationNodeList".
 *
 * Parsing fails closed (INVALID_NODE_LIST): no empty list, no threshold 0, no node outside
 * its own org's subgroup, no node, certificate, key or BLS key listed twice. Keys are compared
 * in one canonical form (keyIdentity, blsKeyIdentity): the same P-256 point in compressed and
 * uncompressed encoding is one key, and a BLS key and its negation are one key. A node's optional
 * BLS key (scheme bls12381-aggregate) is accepted only with its proof of possession and its
 * binding signed by the node's certificate key (bls/binding.ts, BLS.md). The parsed list is
 * normalised (subgroups by id, nodes by nodeId, certificates re-encoded) so that its
 * hash does not depend on how the submitter wrote it.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { fail } from '../errors';
import { parsedCert, type ParsedCert } from './certificates';
import { canonicalHash } from './canonical-json';
import { asObject, reqArray, reqId, reqInt, reqString } from './fields';
import { Limits } from './limits';
import { Memo } from './verification-cache';
import { parseBlsNodeKey } from './bls/binding';
import { blsKeyIdentity } from './bls/encoding';
import type { BlsNodeKey } from './bls/node-key';

export interface VerificationNode {
  /** Stable name of the node (e.g. the peer's host name); unique in the list. */
  nodeId: string;
  mspId: string;
  /** The node's Fabric signing certificate (PEM). The list pins this exact certificate. */
  certPem: string;
  /**
   * The node's BLS key for scheme bls12381-aggregate, with its proof of possession and its
   * binding to this node's certificate; absent for nodes that sign with scheme 1 only.
   */
  bls?: BlsNodeKey;
}

export interface Subgroup {
  id: string;
  /** The org whose nodes form this subgroup; a node of another org never counts here. */
  mspId: string;
  /** Distinct nodes of this subgroup that must sign; 1..nodes.length. */
  threshold: number;
  nodes: VerificationNode[];
}

export type CrossSubgroupRule = { kind: 'all' } | { kind: 'k-of-m'; k: number };

export interface VerificationNodeList {
  chainId: string;
  /** 1 for the first list; each change by governance is the next epoch. */
  epoch: number;
  subgroups: Subgroup[];
  rule: CrossSubgroupRule;
}

/** A list node with the subgroup it belongs to and its parsed certificate. */
export interface ListedNode {
  node: VerificationNode;
  subgroupId: string;
  cert: X509Certificate;
  /** The certificate as parsed once per content (certificates.ts). */
  parsed?: ParsedCert;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function parseNodeList(value: unknown): VerificationNodeList {
  const C = 'INVALID_NODE_LIST' as const;
  const o = asObject(value, C, 'node list', ['chainId', 'epoch', 'subgroups', 'rule']);
  const chainId = reqId(o, 'chainId', C, 'node list');
  const epoch = reqInt(o, 'epoch', C, 'node list', 1);
  const rawSubgroups = reqArray(o, 'subgroups', C, 'node list', Limits.maxSubgroups);

  const nodeIds = new Set<string>();
  const fingerprints = new Set<string>();
  const publicKeys = new Set<string>();
  const blsKeys = new Set<string>();
  const subgroupIds = new Set<string>();
  const subgroupMsps = new Set<string>();
  let nodeCount = 0;

  const subgroups: Subgroup[] = rawSubgroups.map((raw, i) => {
    const what = `node list subgroup ${i}`;
    const s = asObject(raw, C, what, ['id', 'mspId', 'threshold', 'nodes']);
    const id = reqId(s, 'id', C, what);
    const mspId = reqId(s, 'mspId', C, what);
    if (subgroupIds.has(id)) fail(C, `subgroup id ${id} appears twice`);
    if (subgroupMsps.has(mspId)) fail(C, `${mspId} has more than one subgroup; each org is one subgroup`);
    subgroupIds.add(id);
    subgroupMsps.add(mspId);
    const rawNodes = reqArray(s, 'nodes', C, what, Limits.maxNodes);
    const threshold = reqInt(s, 'threshold', C, what, 1, rawNodes.length);
    nodeCount += rawNodes.length;
    if (nodeCount > Limits.maxNodes) fail(C, `a node list has at most ${Limits.maxNodes} nodes`);
    const nodes = rawNodes.map((rawNode, j) => {
      const nwhat = `${what} node ${j}`;
      const n = asObject(rawNode, C, nwhat, ['nodeId', 'mspId', 'certPem', 'bls']);
      const nodeId = reqId(n, 'nodeId', C, nwhat);
      const nodeMsp = reqId(n, 'mspId', C, nwhat);
      if (nodeMsp !== mspId) fail(C, `node ${nodeId} of ${nodeMsp} cannot be in subgroup ${id} of ${mspId}`);
      const parsed = parseListedCert(reqString(n, 'certPem', C, nwhat, Limits.maxCertPemChars), C, `certificate of node ${nodeId}`);
      const cert = parsed.cert;
      if (cert.ca) fail(C, `certificate of node ${nodeId} is a CA certificate`);
      if (!parsed.ous.includes('peer')) fail(C, `certificate of node ${nodeId} is not a peer (OU=peer)`);
      if (cert.publicKey.asymmetricKeyType !== 'ec') fail(C, `certificate of node ${nodeId} does not hold an EC key`);
      const fp = parsed.fingerprint;
      const spki = certKeyIdentity(parsed, C, `certificate of node ${nodeId}`);
      if (nodeIds.has(nodeId)) fail(C, `node ${nodeId} appears twice`);
      if (fingerprints.has(fp)) fail(C, `the certificate of node ${nodeId} appears twice`);
      if (publicKeys.has(spki)) fail(C, `the key of node ${nodeId} appears twice`);
      const certPem = parsed.pem;
      let bls: BlsNodeKey | undefined;
      if (n.bls !== undefined) {
        bls = parseBlsNodeKey(n.bls, { chainId, nodeId, mspId: nodeMsp, certPem });
        const blsId = blsKeyIdentity(bls.publicKey);
        if (blsKeys.has(blsId)) fail(C, `the BLS key of node ${nodeId} (or its negation) appears twice`);
        blsKeys.add(blsId);
      }
      nodeIds.add(nodeId);
      fingerprints.add(fp);
      publicKeys.add(spki);
      return bls === undefined ? { nodeId, mspId: nodeMsp, certPem } : { nodeId, mspId: nodeMsp, certPem, bls };
    });
    nodes.sort((a, b) => byString(a.nodeId, b.nodeId));
    return { id, mspId, threshold, nodes };
  });
  subgroups.sort((a, b) => byString(a.id, b.id));

  const r = asObject(o.rule, C, 'node list rule');
  let rule: CrossSubgroupRule;
  if (r.kind === 'all') {
    asObject(r, C, 'node list rule', ['kind']);
    rule = { kind: 'all' };
  } else if (r.kind === 'k-of-m') {
    asObject(r, C, 'node list rule', ['kind', 'k']);
    rule = { kind: 'k-of-m', k: reqInt(r, 'k', C, 'node list rule', 1, subgroups.length) };
  } else {
    fail(C, 'node list rule.kind must be "all" or "k-of-m"');
  }
  return { chainId, epoch, subgroups, rule };
}

/** The hash every signature of this list is bound to: SHA-256 of the canonical JSON, hex. */
export function listHash(list: VerificationNodeList): string {
  return listFacts(list).hash;
}

/** What the verifier derives from one list, once per list content. */
export class ListFacts {
  private nodeIndex: NodeIndex | undefined;
  private readonly derived = new Map<string, unknown>();

  constructor(
    private readonly list: VerificationNodeList,
    /** listHash of the list. */
    readonly hash: string,
  ) {}

  /** Its nodes by (MSP id, certificate), built on first use. */
  get index(): NodeIndex {
    this.nodeIndex ??= new NodeIndex(this.list);
    return this.nodeIndex;
  }

  /**
   * Something else derived from this list's content alone (`compute` must be a deterministic
   * function of the list), computed on first use; a throw keeps nothing, so a refusal is always
   * recomputed and keeps its code.
   */
  derive<T>(name: string, compute: (list: VerificationNodeList) => T): T {
    if (this.derived.has(name)) return this.derived.get(name) as T;
    const value = compute(this.list);
    this.derived.set(name, value);
    return value;
  }
}

/**
 * Lists are read from state (JSON) or from a proof for every transaction; their hash and index
 * are remembered by the list's JSON text, which fixes its content (lists hold only JSON values:
 * strings, safe integers, objects and arrays). A list whose canonical encoding fails is not kept.
 */
const facts = new Memo<ListFacts>(32);

/**
 * Lists that cannot change (deep-frozen by `sharedList`) and their facts, by object: a list the
 * proof parser hands out again is recognised without writing its text. Weak, so it holds nothing alive.
 */
const factsOfShared = new WeakMap<VerificationNodeList, ListFacts>();
const sharedLists = new WeakSet<VerificationNodeList>();

export function listFacts(list: VerificationNodeList): ListFacts {
  const known = factsOfShared.get(list);
  if (known !== undefined) return known;
  const found = facts.get(JSON.stringify(list), () => new ListFacts(structuredClone(list), canonicalHash(list)));
  if (sharedLists.has(list)) factsOfShared.set(list, found);
  return found;
}

/**
 * `list` deep-frozen, so that one parsed list can be handed to every caller that asks for the same
 * content (a write to it throws) and its facts remembered by object (listFacts).
 */
export function sharedList(list: VerificationNodeList): VerificationNodeList {
  deepFreeze(list);
  sharedLists.add(list);
  return list;
}

/** Freezes `value` and everything it holds (JSON values: objects, arrays, primitives). */
export function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/**
 * The list's nodes by (MSP id, certificate fingerprint), built once per call site and proof
 * (certificates parsed once per content, certificates.ts): a signer is found by one lookup, not
 * by re-parsing the list for every signature.
 */
export class NodeIndex {
  private readonly byCert = new Map<string, ListedNode>();

  constructor(list: VerificationNodeList) {
    for (const s of list.subgroups) {
      for (const node of s.nodes) {
        const parsed = parsedCert(node.certPem);
        const k = `${s.mspId} ${parsed.fingerprint}`;
        // The first entry wins, as a scan in list order would find it.
        if (!this.byCert.has(k)) this.byCert.set(k, { node, subgroupId: s.id, cert: parsed.cert, parsed });
      }
    }
  }

  /** The list node holding exactly this certificate for this org, if any. */
  find(mspId: string, cert: X509Certificate | ParsedCert): ListedNode | undefined {
    const fingerprint = cert instanceof X509Certificate ? cert.fingerprint256 : cert.fingerprint;
    return this.byCert.get(`${mspId} ${fingerprint}`);
  }
}

/** The list node holding exactly this certificate for this org, if any. */
export function findNode(list: VerificationNodeList, mspId: string, cert: X509Certificate): ListedNode | undefined {
  return new NodeIndex(list).find(mspId, cert);
}

/** Every node of the list with its subgroup. */
export function listedNodes(list: VerificationNodeList): ListedNode[] {
  return list.subgroups.flatMap((s) => s.nodes.map((node) => ({ node, subgroupId: s.id, cert: parsedCert(node.certPem).cert })));
}

/**
 * One text per public key whatever its encoding: for EC keys the curve and the affine
 * coordinates (so a compressed and an uncompressed SPKI of one point are the same key).
 * Every comparison of node keys goes through this (list parsing, threshold counting).
 */
export function keyIdentity(key: KeyObject, code: 'INVALID_NODE_LIST' | 'DUPLICATE_SIGNER' = 'INVALID_NODE_LIST', what = 'node key'): string {
  if (key.asymmetricKeyType !== 'ec') fail(code, `${what} is not an EC key`);
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.crv !== 'string' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') fail(code, `${what} has no affine coordinates`);
  return `ec:${jwk.crv}:${jwk.x}:${jwk.y}`;
}

/** The canonical identity of a list node's certificate key (the first of nodeKeyIdentities). */
export function nodeCertKeyIdentity(node: VerificationNode): string {
  return certKeyIdentity(parsedCert(node.certPem), 'DUPLICATE_SIGNER', `key of node ${node.nodeId}`);
}

/** The canonical identities of every key a list node holds (its certificate key, and its BLS key if any). */
export function nodeKeyIdentities(node: VerificationNode): string[] {
  const ids = [nodeCertKeyIdentity(node)];
  if (node.bls !== undefined) ids.push(blsKeyIdentity(node.bls.publicKey));
  return ids;
}

const keyIds = new Memo<string>(2048);

/** keyIdentity of a certificate's key, computed once per certificate. */
function certKeyIdentity(cert: ParsedCert, code: 'INVALID_NODE_LIST' | 'DUPLICATE_SIGNER', what: string): string {
  return keyIds.get(cert.fingerprint, () => keyIdentity(cert.cert.publicKey, code, what));
}

/** A list certificate, parsed once per text (certificates.ts), or `code`. */
function parseListedCert(pem: string, code: 'INVALID_NODE_LIST', what: string): ParsedCert {
  try {
    return parsedCert(pem);
  } catch {
    fail(code, `${what} is not a PEM X.509 certificate`);
  }
}

export function parseCert(pem: string, code: 'INVALID_NODE_LIST' | 'INVALID_ARGUMENT' | 'MALFORMED_PROOF', what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    fail(code, `${what} is not a PEM X.509 certificate`);
  }
}
