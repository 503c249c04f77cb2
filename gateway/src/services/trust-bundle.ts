/**
 * Trust bundles: what one chain's admin hands to another chain's admins so that their
 * governance can register it as a remote chain (network/NETWORKS.md "Joining at run time").
 *
 * A bundle holds the chain id, each member org's root and intermediate CA certificates as the
 * chain itself publishes them (the MSP definitions in its channel configuration, read through
 * the peer's configuration system chaincode), the verification node list at the current epoch
 * (BLS keys included when the list has them) and the proof schemes the chain offers. The file
 * carries `hash` = SHA-256 of the bundle's canonical JSON; the two admins compare it out of
 * band (read over the phone like a fingerprint) and registration refuses a file whose hash
 * is not the one they agreed on.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { common, msp } from '@hyperledger/fabric-protos';
import {
  BLS_SCHEME,
  canonicalHash,
  checkChainTrust,
  ENDORSEMENT_SCHEME,
  listHash,
  parseNodeList,
  parseOrgTrust,
  verifyCertPath,
  type GovernanceAction,
  type OrgTrust,
  type VerificationNodeList,
} from '@medbridge/chaincode';
import { ClientError } from '../errors';
import type { FabricClient } from '../fabric/client';
import { orAbsent, type Chaincode } from '../fabric/contracts';

export const BUNDLE_FORMAT = 'medbridge/trust-bundle/v1';
export { ENDORSEMENT_SCHEME };

export interface TrustBundle {
  format: typeof BUNDLE_FORMAT;
  /** The chain id (Governance:GetMembers), usually the channel name. */
  chainId: string;
  /** Member MSP ids of the chain, sorted. */
  members: string[];
  /** Per member org: CA certificates from the channel configuration; revocations start empty. */
  orgs: OrgTrust[];
  /** The chain's verification node list at its current epoch. */
  nodeList: VerificationNodeList;
  epoch: number;
  listHash: string;
  /** Proof schemes the chain's nodes can produce. */
  schemes: string[];
}

export interface BundleFile {
  bundle: TrustBundle;
  /** sha256 of the canonical JSON of `bundle`, lowercase hex. */
  hash: string;
}

const FILE_FIELDS = ['bundle', 'hash'];
const BUNDLE_FIELDS = ['format', 'chainId', 'members', 'orgs', 'nodeList', 'epoch', 'listHash', 'schemes'];

function bundleError(message: string, hint?: string): ClientError {
  return new ClientError('BUNDLE_INVALID', 'rejected', message, hint === undefined ? {} : { hint });
}

/** The content hash admins compare: sha256 over the canonical JSON of the bundle. */
export function bundleHash(bundle: TrustBundle): string {
  return canonicalHash(bundle);
}

/** Accepts `abcd…`, `sha256:abcd…`, upper case and `ab:cd:…` groupings as people read them. */
export function normaliseHash(text: string): string {
  return text.trim().toLowerCase().replace(/^sha256:/, '').replace(/[\s:]/g, '');
}

function pem(der: Uint8Array): string {
  return new X509Certificate(Buffer.from(der)).toString();
}

/**
 * The CA certificates each application org of `channel` publishes in the channel
 * configuration (the MSP values of its config group), as the chain's peers hold them.
 */
export async function channelOrgCerts(client: FabricClient, channel: string): Promise<Map<string, { rootCerts: string[]; intermediateCerts: string[] }>> {
  const bytes = await client.channelConfig(channel);
  const config = common.Config.deserializeBinary(bytes);
  const app = config.getChannelGroup()?.getGroupsMap().get('Application');
  if (!app) throw bundleError(`the configuration of ${channel} has no Application group`);
  const out = new Map<string, { rootCerts: string[]; intermediateCerts: string[] }>();
  app.getGroupsMap().forEach((group: common.ConfigGroup, name: string) => {
    const value = group.getValuesMap().get('MSP');
    if (!value) return;
    const fabric = msp.FabricMSPConfig.deserializeBinary(msp.MSPConfig.deserializeBinary(value.getValue_asU8()).getConfig_asU8());
    out.set(fabric.getName() || name, {
      rootCerts: fabric.getRootCertsList_asU8().map(pem),
      intermediateCerts: fabric.getIntermediateCertsList_asU8().map(pem),
    });
  });
  return out;
}

/** Schemes the list's nodes can sign in: scheme 1 always, the aggregate scheme when every node has a BLS key. */
export function offeredSchemes(list: VerificationNodeList): string[] {
  const all = list.subgroups.every((s) => s.nodes.every((n) => n.bls !== undefined));
  return all ? [BLS_SCHEME, ENDORSEMENT_SCHEME].sort() : [ENDORSEMENT_SCHEME];
}

/** Builds the bundle of the chaincode's channel from what the chain publishes (config, members, current list). */
export async function exportBundle(chaincode: Chaincode): Promise<BundleFile> {
  const channel = chaincode.channel;
  const { chainId, members } = await chaincode.governance.getMembers();
  const head = await orAbsent(chaincode.crossChain.getNodeList());
  if (!head) throw bundleError(`${channel} has no verification node list yet`, `set one first: medbridge nodes propose --channel ${channel}`);
  const certs = await channelOrgCerts(chaincode.client, channel);
  const orgs: OrgTrust[] = [...members].sort().map((mspId) => {
    const c = certs.get(mspId);
    if (!c || c.rootCerts.length === 0) throw bundleError(`the configuration of ${channel} has no root certificate for member ${mspId}`);
    return { mspId, rootCerts: c.rootCerts, intermediateCerts: c.intermediateCerts, revokedSerials: [] };
  });
  const nodeList = parseNodeList(head.list);
  const bundle: TrustBundle = {
    format: BUNDLE_FORMAT,
    chainId,
    members: [...members].sort(),
    orgs,
    nodeList,
    epoch: nodeList.epoch,
    listHash: listHash(nodeList),
    schemes: offeredSchemes(nodeList),
  };
  return { bundle, hash: bundleHash(bundle) };
}

export function writeBundleFile(file: string, b: BundleFile): void {
  writeFileSync(file, `${JSON.stringify(b, null, 2)}\n`);
}

/**
 * Reads a bundle file and checks it on its own: the hash it carries is the hash of its
 * content, the node list parses and hashes to `listHash`, the roots are self-signed CAs not
 * shared between orgs, and every listed node chains to its own org's root now.
 */
export function readBundleFile(file: string, atMs = Date.now()): BundleFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw bundleError(`cannot read trust bundle ${file}: ${(e as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const f = (isObject(raw) ? raw : {}) as Partial<BundleFile>;
  const b = f.bundle;
  if (!isObject(b) || typeof f.hash !== 'string' || b.format !== BUNDLE_FORMAT) throw bundleError(`${file} is not a ${BUNDLE_FORMAT} file`);
  let actual: string;
  try {
    actual = bundleHash(b);
  } catch (e) {
    // Content canonical JSON cannot encode (a fraction, an unsafe integer, nesting too deep).
    throw bundleError(`trust bundle ${file} cannot be hashed: ${(e as Error).message}`);
  }
  if (actual !== normaliseHash(f.hash)) {
    throw new ClientError('BUNDLE_HASH_MISMATCH', 'rejected', `${file} was changed after export: its content hashes to ${actual}, the file says ${f.hash}`, {
      hint: 'ask the remote admin to export the bundle again',
    });
  }
  try {
    const unknown = [...Object.keys(f).filter((k) => !FILE_FIELDS.includes(k)), ...Object.keys(b).filter((k) => !BUNDLE_FIELDS.includes(k))];
    if (unknown.length > 0) throw bundleError(`${file} has unknown fields: ${unknown.join(', ')}`);
    const list = parseNodeList(b.nodeList);
    if (list.chainId !== b.chainId) throw bundleError(`the node list is for ${list.chainId}, the bundle for ${b.chainId}`);
    if (list.epoch !== b.epoch || listHash(list) !== b.listHash) throw bundleError('the node list does not match the epoch and list hash the bundle states');
    const orgs = b.orgs.map((o, i) => parseOrgTrust(o, `org ${i}`));
    const mspIds = orgs.map((o) => o.mspId).sort();
    if (!Array.isArray(b.members) || JSON.stringify(b.members) !== JSON.stringify(mspIds)) {
      throw bundleError(`the bundle's members must be its orgs' MSP ids, sorted: ${mspIds.join(', ')}`);
    }
    const offered = offeredSchemes(list);
    const schemes: unknown = b.schemes;
    if (!Array.isArray(schemes) || schemes.length === 0 || new Set(schemes).size !== schemes.length || !schemes.every((x) => typeof x === 'string' && offered.includes(x))) {
      throw bundleError(`the bundle's schemes must be distinct schemes its node list offers (${offered.join(', ')})`);
    }
    const trust = { chainId: b.chainId, orgs };
    checkChainTrust(trust);
    for (const s of list.subgroups) {
      for (const n of s.nodes) {
        verifyCertPath({ cert: new X509Certificate(n.certPem), mspId: n.mspId, trust, extraIntermediates: [], atMs, what: `certificate of node ${n.nodeId}` });
      }
    }
  } catch (e) {
    if (e instanceof ClientError) throw e;
    throw bundleError(`trust bundle ${file} of ${b.chainId} is invalid: ${(e as Error).message}`);
  }
  return { bundle: b, hash: actual };
}

/**
 * The bundle, if its hash is the one the admins compared out of band; otherwise
 * BUNDLE_HASH_MISMATCH and nothing is registered.
 */
export function verifiedBundle(file: string, expectedHash: string): TrustBundle {
  const wanted = normaliseHash(expectedHash);
  if (!/^[0-9a-f]{64}$/.test(wanted)) throw new ClientError('USAGE', 'usage', `--hash must be a sha256 hex digest (64 hex digits), got "${expectedHash}"`);
  const { bundle, hash } = readBundleFile(file);
  if (hash !== wanted) {
    throw new ClientError('BUNDLE_HASH_MISMATCH', 'rejected', `trust bundle ${file} of ${bundle.chainId} hashes to ${hash}, not to the expected ${wanted}; it was not registered`, {
      hint: 'compare the hash with the remote admin again (medbridge bundle show --file <f>) before registering',
    });
  }
  return bundle;
}

/** The governance action that registers (or updates) the bundle's chain as a remote chain. */
export function registerAction(bundle: TrustBundle, schemes: string[] = bundle.schemes): Extract<GovernanceAction, { kind: 'register-remote' }> {
  return { kind: 'register-remote', chainId: bundle.chainId, orgs: bundle.orgs, nodeList: bundle.nodeList, schemes };
}

/** One line per org and node, for people comparing a bundle. */
export function describeBundle(b: BundleFile): Record<string, unknown> {
  const fp = (p: string) => new X509Certificate(p).fingerprint256;
  return {
    chainId: b.bundle.chainId,
    hash: b.hash,
    epoch: b.bundle.epoch,
    listHash: b.bundle.listHash,
    schemes: b.bundle.schemes.join(','),
    rule: b.bundle.nodeList.rule.kind === 'all' ? 'all' : `k-of-m k=${b.bundle.nodeList.rule.k}`,
    orgs: b.bundle.orgs.map((o) => ({ mspId: o.mspId, roots: o.rootCerts.map(fp).join(' '), intermediates: o.intermediateCerts.length })),
    subgroups: b.bundle.nodeList.subgroups.map((s) => ({ id: s.id, mspId: s.mspId, threshold: s.threshold, nodes: s.nodes.map((n) => n.nodeId).join(' ') })),
  };
}
