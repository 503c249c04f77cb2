/**
 * Test chains for the cross-chain unit tests: orgs with run-time PKI, peers as
 * verification nodes, and synthetic Fabric endorsements (a ProposalResponsePayload whose
 * chaincode response is the expected message, signed by the peer's generated key exactly
 * as a Fabric peer signs: ECDSA/SHA-256 over payload || serialized endorser).
 */
import { createHash, sign } from 'node:crypto';
import { msp, peer } from '@hyperledger/fabric-protos';
import type { VerificationNodeList } from '@medbridge/chaincode/dist/protocol/node-list';
import type { ChainTrust, OrgTrust } from '@medbridge/chaincode/dist/protocol/path-proof';
import type { EndorsementSignature } from '@medbridge/chaincode/dist/protocol/scheme-endorsement';
import type { Proof, SignatureSet } from '@medbridge/chaincode/dist/protocol/proof';
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

export interface EndorseOptions {
  chaincode?: string;
  status?: number;
  /** Sign these bytes instead of the payload (forgery). */
  signOver?: Buffer;
  /** Present this identity as the endorser instead of the signer's own. */
  endorserAs?: { mspId: string; certPem: string };
}

/** A Fabric endorsement of a read-only medbridge query whose response payload is `message`. */
export function endorse(node: TestNode, message: Buffer, opts: EndorseOptions = {}): EndorsementSignature {
  const response = new peer.Response();
  response.setStatus(opts.status ?? 200);
  response.setPayload(message);
  const ccid = new peer.ChaincodeID();
  ccid.setName(opts.chaincode ?? 'medbridge');
  const action = new peer.ChaincodeAction();
  action.setResponse(response);
  action.setChaincodeId(ccid);
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(createHash('sha256').update(message).update(node.nodeId).digest());
  prp.setExtension$(action.serializeBinary());
  const payload = Buffer.from(prp.serializeBinary());
  const id = new msp.SerializedIdentity();
  id.setMspid(opts.endorserAs?.mspId ?? node.mspId);
  id.setIdBytes(Buffer.from(opts.endorserAs?.certPem ?? node.identity.certPem));
  const endorser = Buffer.from(id.serializeBinary());
  const signature = sign('sha256', opts.signOver ?? Buffer.concat([payload, endorser]), node.identity.privateKey);
  return { endorser: endorser.toString('base64'), signature: signature.toString('base64'), payload: payload.toString('base64') };
}

export function signatureSet(nodes: TestNode[], message: Buffer, opts: EndorseOptions = {}): SignatureSet {
  return { scheme: 'fabric-endorsement', version: 1, signatures: nodes.map((n) => endorse(n, message, opts)) };
}

export function proofOf(epoch: number, nodes: TestNode[], message: Buffer, links: Proof['links'] = []): Proof {
  return { ...signatureSet(nodes, message), epoch, links };
}

/** First node of every org: meets an 'all' rule with threshold 1. */
export function firstOfEach(chain: TestChain): TestNode[] {
  return chain.nodes.map((row) => row[0]!);
}
