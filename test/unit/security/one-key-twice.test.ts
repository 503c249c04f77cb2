/**
 * One private key must count once. A second certificate for the same P-256 key (the point
 * written in compressed form) is another certificate, another fingerprint and another SPKI
 * encoding, but the same key: a list holding both is refused, and a list stored before lists
 * were checked for it still counts the key once.
 */
import { MedbridgeError } from '../../../chaincode/src/errors';
import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { keyIdentity, listHash, parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { verifyProof } from '../../../chaincode/src/protocol/verify';
import { requireThreshold } from '../../../chaincode/src/rules/threshold';
import { X509Certificate } from 'node:crypto';
import { expectCode, messageFor, packet } from '../bls/support';
import { expectRejected, TwoChains } from '../crosschain/harness';
import { chainTrust, createChain, nodeList, proofOf, type TestChain, type TestNode } from '../crosschain/support';
import { compressedTwin } from './support';

async function twinOf(chain: TestChain, org: number, peer: number): Promise<TestNode> {
  const victim = chain.nodes[org]![peer]!;
  const identity = await compressedTwin(chain.orgs[org]!, victim.identity, `twin.${victim.nodeId}`);
  return { nodeId: `twin.${victim.nodeId}`, mspId: victim.mspId, identity };
}

/** Epoch-1 list of `chain` whose first subgroup holds peer0 and its twin, threshold 2. */
function listWithTwin(chain: TestChain, twin: TestNode, epoch = 1): VerificationNodeList {
  const rows = chain.nodes.map((row, i) => (i === 0 ? [row[0]!, twin] : row));
  return nodeList(chain, epoch, { nodes: rows, threshold: 1 });
}

function withThreshold(list: VerificationNodeList, subgroup: number, threshold: number): VerificationNodeList {
  return { ...list, subgroups: list.subgroups.map((s, i) => (i === subgroup ? { ...s, threshold } : s)) };
}

describe('one key counted twice', () => {
  let chain: TestChain;
  let twin: TestNode;

  beforeAll(async () => {
    chain = await createChain('chain-a', ['HospitalAMSP', 'HospitalCMSP']);
    twin = await twinOf(chain, 0, 0);
  });

  it('sees one key in a compressed and an uncompressed certificate', () => {
    const original = new X509Certificate(chain.nodes[0]![0]!.identity.certPem);
    const other = new X509Certificate(twin.identity.certPem);
    expect(other.fingerprint256).not.toBe(original.fingerprint256);
    expect(other.publicKey.export({ type: 'spki', format: 'der' }).equals(original.publicKey.export({ type: 'spki', format: 'der' }))).toBe(false);
    expect(keyIdentity(other.publicKey)).toBe(keyIdentity(original.publicKey));
    const list = listWithTwin(chain, twin);
    const err = expectCode(() => parseNodeList(list), 'INVALID_NODE_LIST', list);
    expect(err.detail).toBe(`the key of node ${twin.nodeId} appears twice`);
  });

  it('refuses set-node-list when two nodes hold one key in different encodings', async () => {
    const t = await TwoChains.create();
    await t.bootstrap(t.a);
    const list = withThreshold(listWithTwin(t.a.chain, await twinOf(t.a.chain, 0, 0)), 0, 2);
    await expectRejected(t.a.ledger, 'INVALID_NODE_LIST', () =>
      t.a.ledger.invoke({ identity: t.a.admins[0]!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify({ kind: 'set-node-list', list }))),
    );
  });

  it('refuses register-remote when the remote list holds one key twice', async () => {
    const t = await TwoChains.create();
    await t.bootstrap(t.b);
    const list = withThreshold(listWithTwin(t.a.chain, await twinOf(t.a.chain, 0, 0)), 0, 2);
    const action = { kind: 'register-remote', chainId: 'chain-a', orgs: chainTrust(t.a.chain).orgs, nodeList: list, schemes: ['fabric-endorsement'] };
    await expectRejected(t.b.ledger, 'INVALID_NODE_LIST', () =>
      t.b.ledger.invoke({ identity: t.b.admins[0]!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action))),
    );
  });

  it('counts one key once when a stored list names it under two nodes (threshold rule)', () => {
    // A list written before parsing refused it: the threshold rule itself counts keys, not entries.
    const list = withThreshold(listWithTwin(chain, twin), 0, 2);
    const signers = [chain.nodes[0]![0]!.nodeId, twin.nodeId, chain.nodes[1]![0]!.nodeId];
    expectCode(() => requireThreshold(list, signers), 'DUPLICATE_SIGNER', list, signers);
    // Two distinct keys of the same subgroup do meet threshold 2.
    const honest = withThreshold(nodeList(chain, 1), 0, 2);
    expect(requireThreshold(honest, [chain.nodes[0]![0]!.nodeId, chain.nodes[0]![1]!.nodeId, chain.nodes[1]![0]!.nodeId]).met).toBe(true);
  });

  it('refuses a proof in which one key signs as two nodes of a stored list', () => {
    const list = withThreshold(listWithTwin(chain, twin), 0, 2);
    const remote = { trust: chainTrust(chain), list, schemes: ['fabric-endorsement'] };
    const p = packet({ sourceChain: 'chain-a' });
    const message = messageFor(p, list);
    const proof = proofOf(1, [chain.nodes[0]![0]!, twin, chain.nodes[1]![0]!], message);
    const err = expectCode(
      () => verifyProof(remote, proof, Date.now(), (ref) => packetMessage(p, ref)),
      'DUPLICATE_SIGNER',
      remote,
      proof,
    );
    expect(err).toBeInstanceOf(MedbridgeError);
    expect(listHash(remote.list)).toBe(listHash(list));
  });
});
