/**
 * CA roll-over of one org of a registered remote chain (NETWORKS.md "Remote chain
 * lifecycle"): governance adds the org's new root while the old one still signs, and retires
 * the old root only once no node of the latest list known here still chains to it, so that
 * proofs keep verifying across the change. Pure: the contract loads the remote chain and,
 * for a retirement, its latest list.
 */
import { X509Certificate } from 'node:crypto';
import { fail } from '../errors';
import { Limits } from '../protocol/limits';
import type { VerificationNodeList } from '../protocol/node-list';
import { checkChainTrust, verifyCertPath, type ChainTrust, type OrgTrust } from '../protocol/path-proof';

export interface RootChange {
  kind: 'add-remote-root' | 'retire-remote-root';
  mspId: string;
  /** PEM of the root certificate added or retired. */
  rootCert: string;
}

/** Whether a node certificate has a valid path to the roots of `trust` at `atMs` (any failure: no). */
function chainsTo(certPem: string, mspId: string, trust: ChainTrust, atMs: number, nodeId: string): boolean {
  try {
    verifyCertPath({ cert: new X509Certificate(certPem), mspId, trust, extraIntermediates: [], atMs, what: `certificate of node ${nodeId}` });
    return true;
  } catch {
    return false;
  }
}

/**
 * The orgs of `remote` after the change. Add: NOT_FOUND for an org not registered,
 * ALREADY_EXISTS for a root already there, INVALID_ARGUMENT past Limits.maxCertsPerOrg.
 * Retire: NOT_FOUND for a root not there, INVALID_ARGUMENT for the org's last root,
 * ROOT_IN_USE while a node of `latestList` (the list at `remote.epoch`) still chains to it.
 * The result passes checkChainTrust.
 */
export function rollRoot(
  remote: { chainId: string; orgs: readonly OrgTrust[]; epoch: number },
  change: RootChange,
  latestList: VerificationNodeList | undefined,
  atMs: number,
): OrgTrust[] {
  const { chainId } = remote;
  const org = remote.orgs.find((o) => o.mspId === change.mspId);
  if (!org) fail('NOT_FOUND', `${change.mspId} is not a registered org of ${chainId}`);
  const fp = new X509Certificate(change.rootCert).fingerprint256;
  const has = org.rootCerts.some((r) => new X509Certificate(r).fingerprint256 === fp);
  let rootCerts: string[];
  if (change.kind === 'add-remote-root') {
    if (has) fail('ALREADY_EXISTS', `this root is already registered for ${change.mspId} of ${chainId}`);
    if (org.rootCerts.length >= Limits.maxCertsPerOrg) fail('INVALID_ARGUMENT', `${change.mspId} already has ${Limits.maxCertsPerOrg} roots; retire one first`);
    rootCerts = [...org.rootCerts, change.rootCert];
  } else {
    if (!has) fail('NOT_FOUND', `this root is not registered for ${change.mspId} of ${chainId}`);
    if (org.rootCerts.length === 1) fail('INVALID_ARGUMENT', `${change.mspId} of ${chainId} would have no root left; add its new root first (add-remote-root)`);
    // Retire only once no node of the latest known list still chains to this root.
    const only = { chainId, orgs: [{ ...org, rootCerts: [change.rootCert] }] };
    for (const s of latestList?.subgroups ?? []) {
      for (const n of s.nodes.filter((x) => x.mspId === change.mspId)) {
        if (chainsTo(n.certPem, n.mspId, only, atMs, n.nodeId)) {
          fail('ROOT_IN_USE', `node ${n.nodeId} of ${chainId}'s list at epoch ${remote.epoch} still chains to this root; retire it once a list without its certificates is known here`);
        }
      }
    }
    rootCerts = org.rootCerts.filter((r) => new X509Certificate(r).fingerprint256 !== fp);
  }
  const orgs = remote.orgs.map((o) => (o.mspId === change.mspId ? { ...o, rootCerts } : o));
  checkChainTrust({ chainId, orgs });
  return orgs;
}
