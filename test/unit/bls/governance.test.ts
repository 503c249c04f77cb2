/**
 * A BLS key enters a verification node list through governance only with its proof of
 * possession and its binding to the node's certificate; both list changes (set-node-list)
 * and remote registrations (register-remote) refuse anything else, with no state change.
 */
import { listHash, parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { provePossession, toBase64, type BlsNodeKey } from '../../../chaincode/src/protocol/bls';
import { TwoChains, expectRejected } from '../crosschain/harness';
import { chainTrust, nodeList, type TestChain, type TestNode } from '../crosschain/support';
import { blsEntry, testKeys } from './support';

function keysOf(node: TestNode) {
  return testKeys(`gov/${node.nodeId}`);
}

function entry(chain: TestChain, node: TestNode, overrides: Partial<BlsNodeKey> = {}): BlsNodeKey {
  return { ...blsEntry(chain.chainId, { ...node, keys: keysOf(node) }), ...overrides };
}

/** Chain A's list at `epoch` with a BLS key on every node; `edit` may spoil one entry. */
function blsListOf(chain: TestChain, epoch: number, edit?: (list: VerificationNodeList) => void): VerificationNodeList {
  const list = nodeList(chain, epoch);
  list.subgroups.forEach((sg, i) =>
    sg.nodes.forEach((n, j) => {
      n.bls = entry(chain, chain.nodes[i]![j]!);
    }),
  );
  edit?.(list);
  return list;
}

describe('Governance: BLS keys in verification node lists', () => {
  let net: TwoChains;
  const propose = (side: 'a' | 'b', action: unknown) =>
    net[side].ledger.invoke({ identity: net[side].admins[0]!, timeMs: net.tick() }, (ctx) => net.gov.Propose(ctx, JSON.stringify(action)));
  const nodeListOn = async (side: 'a' | 'b') =>
    JSON.parse(await net[side].ledger.invoke({ identity: net[side].user, timeMs: net.tick() }, (ctx) => net.cc.GetNodeList(ctx, ''))) as {
      epoch: number;
      listHash: string;
      list: VerificationNodeList;
    };

  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 2 });
    await net.bootstrap(net.a);
    await net.bootstrap(net.b);
  });

  it('stores a list whose nodes carry registered BLS keys, and its hash covers the keys', async () => {
    const list = blsListOf(net.a.chain, 1);
    await net.setList(net.a, list);
    const stored = await nodeListOn('a');
    expect(stored.list.subgroups.flatMap((s) => s.nodes.map((n) => n.bls?.publicKey))).toEqual(
      parseNodeList(list).subgroups.flatMap((s) => s.nodes.map((n) => n.bls!.publicKey)),
    );
    expect(stored.listHash).toBe(listHash(parseNodeList(list)));
    expect(stored.listHash).not.toBe(listHash(parseNodeList(nodeList(net.a.chain, 1))));
  });

  it('refuses a list change whose BLS key has a proof of possession made with another key (BLS_POP_INVALID)', async () => {
    const list = blsListOf(net.a.chain, 1, (l) => {
      l.subgroups[0]!.nodes[1]!.bls!.pop = toBase64(provePossession(testKeys('gov/rogue').secretKey));
    });
    await expectRejected(net.a.ledger, 'BLS_POP_INVALID', () => propose('a', { kind: 'set-node-list', list }));
  });

  it('refuses a list change whose BLS key is bound by another node certificate (BLS_BINDING_INVALID)', async () => {
    const chain = net.a.chain;
    const victim = chain.nodes[1]![0]!;
    const other = chain.nodes[1]![1]!;
    // The key of `victim`, bound with the Fabric key of `other`: a node cannot claim another's identity.
    const forged = blsEntry(chain.chainId, { ...other, nodeId: victim.nodeId, keys: keysOf(victim) });
    const list = blsListOf(chain, 1, (l) => {
      l.subgroups[1]!.nodes[0]!.bls = forged;
    });
    await expectRejected(net.a.ledger, 'BLS_BINDING_INVALID', () => propose('a', { kind: 'set-node-list', list }));
  });

  it('refuses a list change whose BLS key is bound for another chain (BLS_BINDING_INVALID)', async () => {
    const node = net.a.chain.nodes[0]![0]!;
    const list = blsListOf(net.a.chain, 1, (l) => {
      l.subgroups[0]!.nodes[0]!.bls = blsEntry('chain-b', { ...node, keys: keysOf(node) });
    });
    await expectRejected(net.a.ledger, 'BLS_BINDING_INVALID', () => propose('a', { kind: 'set-node-list', list }));
  });

  it('refuses a list in which two nodes share one BLS key (INVALID_NODE_LIST)', async () => {
    const chain = net.a.chain;
    const first = chain.nodes[0]![0]!;
    const second = chain.nodes[0]![1]!;
    const list = blsListOf(chain, 1, (l) => {
      // Correctly bound to the second node, but the same key as the first.
      l.subgroups[0]!.nodes[1]!.bls = blsEntry(chain.chainId, { ...second, keys: keysOf(first) });
    });
    await expectRejected(net.a.ledger, 'INVALID_NODE_LIST', () => propose('a', { kind: 'set-node-list', list }));
  });

  it('refuses a BLS entry with a missing or an extra field (BLS_KEY_INVALID)', async () => {
    const node = net.a.chain.nodes[0]![0]!;
    const { pop: _pop, ...noPop } = entry(net.a.chain, node);
    const missing = blsListOf(net.a.chain, 1, (l) => {
      (l.subgroups[0]!.nodes[0] as { bls: unknown }).bls = noPop;
    });
    await expectRejected(net.a.ledger, 'BLS_KEY_INVALID', () => propose('a', { kind: 'set-node-list', list: missing }));
    const extra = blsListOf(net.a.chain, 1, (l) => {
      (l.subgroups[0]!.nodes[0] as { bls: unknown }).bls = { ...entry(net.a.chain, node), secretKey: 'AA==' };
    });
    await expectRejected(net.a.ledger, 'BLS_KEY_INVALID', () => propose('a', { kind: 'set-node-list', list: extra }));
  });

  it('refuses to register a remote chain whose list carries a bad proof of possession or a bad binding', async () => {
    const remote = net.a.chain;
    const register = (list: VerificationNodeList) =>
      propose('b', { kind: 'register-remote', chainId: remote.chainId, orgs: chainTrust(remote).orgs, nodeList: list, schemes: ['bls12381-aggregate'] });
    const badPop = blsListOf(remote, 1, (l) => {
      l.subgroups[1]!.nodes[1]!.bls!.pop = toBase64(provePossession(testKeys('gov/rogue').secretKey));
    });
    await expectRejected(net.b.ledger, 'BLS_POP_INVALID', () => register(badPop));
    const node = remote.nodes[0]![0]!;
    const other = remote.nodes[1]![0]!;
    const badBinding = blsListOf(remote, 1, (l) => {
      l.subgroups[0]!.nodes[0]!.bls = blsEntry(remote.chainId, { ...other, nodeId: node.nodeId, mspId: node.mspId, keys: keysOf(node) });
    });
    await expectRejected(net.b.ledger, 'BLS_BINDING_INVALID', () => register(badBinding));
    // The same list with honest entries registers (ECDSA bindings are randomised: keep this one).
    const honest = blsListOf(remote, 1);
    await net.govern(net.b, { kind: 'register-remote', chainId: remote.chainId, orgs: chainTrust(remote).orgs, nodeList: honest, schemes: ['bls12381-aggregate'] });
    const known = JSON.parse(await net.b.ledger.invoke({ identity: net.b.user, timeMs: net.tick() }, (ctx) => net.cc.GetRemoteChain(ctx, remote.chainId))) as {
      schemes: string[];
      listHash: string;
    };
    expect(known.schemes).toEqual(['bls12381-aggregate']);
    expect(known.listHash).toBe(listHash(parseNodeList(honest)));
  });
});
