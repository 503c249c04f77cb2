/**
 * The proof scheme is part of a route's registration: a route opened with
 * schemes ["bls12381-aggregate"] accepts aggregate proofs and refuses every other scheme, even
 * one the counterparty registered and that would verify (UNSUPPORTED_SCHEME, no state change).
 */
import { aggregatePartials, signMessage, toBase64 } from '../../../chaincode/src/protocol/bls';
import { parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import { MINUTE, ROUTE, TwoChains, expectRejected } from '../crosschain/harness';
import { chainTrust, firstOfEach, nodeList, type TestChain } from '../crosschain/support';
import { blsEntry, testKeys } from './support';

const keyOf = (nodeId: string) => testKeys(`route-scheme/${nodeId}`);

function blsListOf(chain: TestChain, epoch: number): VerificationNodeList {
  const list = nodeList(chain, epoch);
  list.subgroups.forEach((sg, i) =>
    sg.nodes.forEach((n, j) => {
      const node = chain.nodes[i]![j]!;
      n.bls = blsEntry(chain.chainId, { ...node, keys: keyOf(node.nodeId) });
    }),
  );
  return list;
}

describe('Routes registered with a proof scheme', () => {
  let net: TwoChains;
  const rateLimit = { maxPackets: 100, windowMs: MINUTE };

  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 2 });
    await net.bootstrap(net.a);
    await net.bootstrap(net.b);
    await net.setList(net.a, blsListOf(net.a.chain, 1));
    await net.setList(net.b, nodeList(net.b.chain, 1));
    await net.govern(net.b, {
      kind: 'register-remote',
      chainId: 'chain-a',
      orgs: chainTrust(net.a.chain).orgs,
      nodeList: net.a.lists.get(1),
      schemes: ['bls12381-aggregate', 'fabric-endorsement'],
    });
    await net.register(net.a, net.b);
    await net.govern(net.a, { kind: 'open-route', routeId: ROUTE, counterparty: 'chain-b', packetTypes: ['ping'], rateLimit });
    await net.govern(net.b, { kind: 'open-route', routeId: ROUTE, counterparty: 'chain-a', packetTypes: ['ping'], rateLimit, schemes: ['bls12381-aggregate'] });
  });

  function aggregateProof(message: Buffer) {
    const list = parseNodeList(net.a.lists.get(1));
    const partials = list.subgroups.flatMap((s) => s.nodes).map((n) => ({ nodeId: n.nodeId, signature: toBase64(signMessage(keyOf(n.nodeId).secretKey, message)) }));
    const { proof } = aggregatePartials(list, message, partials);
    return { ...proof, links: [] };
  }

  it('accepts an aggregate proof on a route registered with bls12381-aggregate', async () => {
    const packet = await net.sendPing({ n: 1 });
    const result = await net.receive(packet, aggregateProof(await net.packetCommitment(packet.sequence)));
    expect(result).toMatchObject({ outcome: 'success', sequence: 1 });
    expect((await net.routeOn(net.b)).schemes).toEqual(['bls12381-aggregate']);
  });

  it('refuses a valid scheme-1 proof on a route that registered only bls12381-aggregate (UNSUPPORTED_SCHEME)', async () => {
    const packet = await net.sendPing({ n: 1 });
    const endorsed = net.proof(await net.packetCommitment(packet.sequence), { signers: firstOfEach(net.a.chain) });
    await expectRejected(net.b.ledger, 'UNSUPPORTED_SCHEME', () => net.receive(packet, endorsed));
  });

  it('refuses to open a route with a scheme not registered for the counterparty (UNSUPPORTED_SCHEME)', async () => {
    const propose = (action: unknown) =>
      net.a.ledger.invoke({ identity: net.a.admins[0]!, timeMs: net.tick() }, (ctx) => net.gov.Propose(ctx, JSON.stringify(action)));
    // Chain A registered chain B with scheme 1 only; the proposal is checked against state at once.
    await expectRejected(net.a.ledger, 'UNSUPPORTED_SCHEME', () =>
      propose({ kind: 'open-route', routeId: 'route-bls-only', counterparty: 'chain-b', packetTypes: ['ping'], rateLimit, schemes: ['bls12381-aggregate'] }),
    );
  });
});
