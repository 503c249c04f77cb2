/**
 * Test chains for the cross-chain unit tests: orgs with run-time PKI, peers as
 * verification nodes, and synthetic Fabric endorsements (test/fixtures/endorsement.ts: the
 * proposal of the query, and a ProposalResponsePayload with its hash whose chaincode response
 * is the expected message, signed by the peer's generated key exactly as a Fabric peer signs).
 */
import type { VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import type { ChainTrust, OrgTrust } from '../../../chaincode/src/protocol/path-proof';
import { ENDORSEMENT_VERSION, type EndorsementSignature } from '../../../chaincode/src/protocol/scheme-endorsement';
import { endorsement, type EndorseOptions } from '../../fixtures/endorsement';
import type { Proof, SignatureSet } from '../../../chaincode/src/protocol/proof';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';

export interface TestNode {
  nodeId: string;
  mspId: string;
  identity: Issued;
}

export interface TestChain {
  chainId: string;
  orgs: TestOrg[];
  /** nodes[org index][peer index] */
  nodes: TestNode[][];
}

export async function createChain(chainId: string, mspIds: string[], peersPerOrg = 2): Promise<TestChain> {
  const orgs: TestOrg[] = [];
  const nodes: TestNode[][] = [];
  for (const mspId of mspIds) {
    const org = await createOrg(mspId);
    orgs.push(org);
    const row: TestNode[] = [];
    for (let i = 0; i < peersPerOrg; i++) {
      const nodeId = `peer${i}.${mspId.toLowerCase()}.${chainId}`;
      row.push({ nodeId, mspId, identity: await org.peer(nodeId) });
    }
    nodes.push(row);
  }
  return { chainId, orgs, nodes };
}

export function orgTrust(org: TestOrg, extra: Partial<OrgTrust> = {}): OrgTrust {
  return { mspId: org.mspId, rootCerts: [org.ca.certPem], intermediateCerts: [], revokedSerials: [], ...extra };
}

export function chainTrust(chain: TestChain): ChainTrust {
  return { chainId: chain.chainId, orgs: chain.orgs.map((o) => orgTrust(o)) };
}

/** A list with one subgroup per org holding the given nodes (default: all), threshold per subgroup. */
export function nodeList(
  chain: TestChain,
  epoch: number,
  opts: { threshold?: number; nodes?: TestNode[][]; rule?: VerificationNodeList['rule'] } = {},
): VerificationNodeList {
  const rows = opts.nodes ?? chain.nodes;
  return {
    chainId: chain.chainId,
    epoch,
    rule: opts.rule ?? { kind: 'all' },
    subgroups: rows.map((row, i) => ({
      id: `sg-${chain.orgs[i]!.mspId}`,
      mspId: chain.orgs[i]!.mspId,
      threshold: opts.threshold ?? 1,
      nodes: row.map((n) => ({ nodeId: n.nodeId, mspId: n.mspId, certPem: n.identity.certPem })),
    })),
  };
}

export type { EndorseOptions };

/** A Fabric endorsement of the read-only medbridge query whose response payload is `message` (test/fixtures/endorsement.ts). */
export function endorse(node: TestNode, message: Buffer, opts: EndorseOptions = {}): EndorsementSignature {
  return endorsement({ mspId: node.mspId, certPem: node.identity.certPem, privateKey: node.identity.privateKey }, message, opts);
}

export function signatureSet(nodes: TestNode[], message: Buffer, opts: EndorseOptions = {}): SignatureSet {
  return { scheme: 'fabric-endorsement', version: ENDORSEMENT_VERSION, signatures: nodes.map((n) => endorse(n, message, opts)) };
}

export function proofOf(epoch: number, nodes: TestNode[], message: Buffer, links: Proof['links'] = []): Proof {
  return { ...signatureSet(nodes, message), epoch, links };
}

/** First node of every org: meets an 'all' rule with threshold 1. */
export function firstOfEach(chain: TestChain): TestNode[] {
  return chain.nodes.map((row) => row[0]!);
}
