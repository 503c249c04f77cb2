/**
 * BLS test chains: orgs with run-time PKI (test/fixtures/pki.ts), peers as verification nodes,
 * each with a BLS key derived at test time, registered in the list with its proof of possession
 * and its binding signed by the peer's generated Fabric key.
 */
import { createHash } from 'node:crypto';
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { listHash, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import {
  type BlsKeyPair,
  type BlsNodeKey,
  certFingerprint,
  deriveKeyPair,
  provePossession,
  signBinding,
  toBase64,
} from '../../../chaincode/src/protocol/bls';
import { MedbridgeError, type ErrorCode } from '../../../chaincode/src/errors';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';

export interface BlsTestNode {
  nodeId: string;
  mspId: string;
  identity: Issued;
  keys: BlsKeyPair;
}

export interface BlsTestChain {
  chainId: string;
  orgs: TestOrg[];
  /** nodes[org index][peer index] */
  nodes: BlsTestNode[][];
}

/** Deterministic key material per node, so failures reproduce; never a committed secret. */
export function testKeys(label: string): BlsKeyPair {
  return deriveKeyPair(createHash('sha256').update(`medbridge-test/${label}`).digest());
}

export async function createBlsChain(chainId: string, mspIds: string[], peersPerOrg = 2): Promise<BlsTestChain> {
  const orgs: TestOrg[] = [];
  const nodes: BlsTestNode[][] = [];
  for (const mspId of mspIds) {
    const org = await createOrg(mspId);
    orgs.push(org);
    const row: BlsTestNode[] = [];
    for (let i = 0; i < peersPerOrg; i++) {
      const nodeId = `peer${i}.${mspId.toLowerCase()}.${chainId}`;
      row.push({ nodeId, mspId, identity: await org.peer(nodeId), keys: testKeys(`${chainId}/${nodeId}`) });
    }
    nodes.push(row);
  }
  return { chainId, orgs, nodes };
}

/** The node's BLS list entry: key, PoP, binding signed by its Fabric key. */
export function blsEntry(chainId: string, node: BlsTestNode, keys: BlsKeyPair = node.keys): BlsNodeKey {
  const publicKey = toBase64(keys.publicKey);
  const binding = signBinding(
    { chainId, nodeId: node.nodeId, mspId: node.mspId, certFingerprint: certFingerprint(node.identity.certPem), blsPublicKey: publicKey },
    node.identity.privateKey,
  );
  return { publicKey, pop: toBase64(provePossession(keys.secretKey)), binding };
}

export function blsList(
  chain: BlsTestChain,
  epoch: number,
  opts: { threshold?: number; rule?: VerificationNodeList['rule'] } = {},
): VerificationNodeList {
  return {
    chainId: chain.chainId,
    epoch,
    rule: opts.rule ?? { kind: 'all' },
    subgroups: chain.nodes.map((row, i) => ({
      id: `sg-${chain.orgs[i]!.mspId}`,
      mspId: chain.orgs[i]!.mspId,
      threshold: opts.threshold ?? 1,
      nodes: row.map((n) => ({ nodeId: n.nodeId, mspId: n.mspId, certPem: n.identity.certPem, bls: blsEntry(chain.chainId, n) })),
    })),
  };
}

export function packet(overrides: Partial<Packet> = {}): Packet {
  return {
    sourceChain: 'chain-a',
    destChain: 'chain-b',
    routeId: 'consent',
    sequence: 7,
    type: 'ping',
    payload: { note: 'hello' },
    timeoutMs: 2_000_000_000_000,
    sentAtMs: 1_700_000_000_000,
    sender: 'HospitalAMSP',
    ...overrides,
  };
}

/** The bytes scheme 1 and this scheme both sign for `p` under `list`. */
export function messageFor(p: Packet, list: VerificationNodeList): Buffer {
  return packetMessage(p, { epoch: list.epoch, listHash: listHash(list) });
}

/**
 * Runs `fn`, expects a MedbridgeError with exactly `code`, and checks that none of `inputs`
 * was changed by the rejected call (the pure analogue of "state did not change").
 */
export function expectCode(fn: () => unknown, code: ErrorCode, ...inputs: unknown[]): MedbridgeError {
  const before = inputs.map((i) => canonicalize(i));
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MedbridgeError);
  const err = caught as MedbridgeError;
  expect(err.code).toBe(code);
  expect(inputs.map((i) => canonicalize(i))).toEqual(before);
  return err;
}
