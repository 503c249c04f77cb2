/**
 * Remote chain lifecycle by governance (NETWORKS.md "Remote chain lifecycle"): a removed
 * remote chain's packets and a paused route's packets are refused, and a remote org's CA
 * rolls over: a new root is added, the old one can be retired only once no node of the
 * latest known list chains to it.
 */
import { createOrg } from '../../fixtures/pki';
import { ROUTE, TwoChains, expectRejected } from './harness';
import { firstOfEach, nodeList, type TestNode } from './support';

type Remote = { orgs: { mspId: string; rootCerts: string[] }[]; epoch: number };

describe('remote chain lifecycle', () => {
  let net: TwoChains;

  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
  });

  const remoteOnB = async (): Promise<Remote> =>
    JSON.parse(await net.b.ledger.invoke({ identity: net.b.user, timeMs: net.now }, (ctx) => net.cc.GetRemoteChain(ctx, 'chain-a'))) as Remote;
  const proposeOnB = (action: unknown) =>
    net.b.ledger.invoke({ identity: net.b.admins[0]!, timeMs: net.tick() }, (ctx) => net.gov.Propose(ctx, JSON.stringify(action)));

  it("refuses a removed remote chain's packets with UNKNOWN_CHAIN and changes nothing", async () => {
    await net.deliverPing({ n: 1 });
    await net.govern(net.b, { kind: 'remove-remote', chainId: 'chain-a' });
    const packet = await net.sendPing({ n: 2 });
    const proof = net.proof(await net.packetCommitment(packet.sequence));
    await expectRejected(net.b.ledger, 'UNKNOWN_CHAIN', () => net.receive(packet, proof));
  });

  it("refuses a paused route's packets with ROUTE_PAUSED and accepts them again after resume-route", async () => {
    const packet = await net.sendPing({ n: 1 });
    const proof = net.proof(await net.packetCommitment(packet.sequence));
    await net.govern(net.b, { kind: 'pause-route', routeId: ROUTE });
    await expectRejected(net.b.ledger, 'ROUTE_PAUSED', () => net.receive(packet, proof));
    await net.govern(net.b, { kind: 'resume-route', routeId: ROUTE });
    expect(await net.receive(packet, proof)).toMatchObject({ outcome: 'success', sequence: 1 });
  });

  it('rolls a remote org over to a new CA: new root added, old root retired only after its certificates left the list', async () => {
    const orgA = net.a.chain.orgs[0]!;
    const oldRoot = orgA.ca.certPem;
    const newCa = await createOrg(orgA.mspId);
    const newNode: TestNode = { nodeId: 'peer9.hospitalamsp.chain-a', mspId: orgA.mspId, identity: await newCa.peer('peer9.hospitalamsp.chain-a') };

    // The new root is registered beside the old one; retiring the old one now is refused.
    await net.govern(net.b, { kind: 'add-remote-root', chainId: 'chain-a', mspId: orgA.mspId, rootCert: newCa.ca.certPem });
    expect((await remoteOnB()).orgs.find((o) => o.mspId === orgA.mspId)!.rootCerts).toHaveLength(2);
    await expectRejected(net.b.ledger, 'ROOT_IN_USE', () => proposeOnB({ kind: 'retire-remote-root', chainId: 'chain-a', mspId: orgA.mspId, rootCert: oldRoot }));

    // Chain A replaces its HospitalA node by one of the new CA; B learns epoch 2 through the link.
    const list2 = nodeList(net.a.chain, 2, { nodes: [[newNode], [net.a.chain.nodes[1]![0]!]] });
    await net.setList(net.a, list2);
    const packet = await net.sendPing({ n: 1 });
    const link = await net.link(2, firstOfEach(net.a.chain));
    const proof = net.proof(await net.packetCommitment(packet.sequence), { signers: [newNode, net.a.chain.nodes[1]![0]!], epoch: 2, links: [link] });
    expect(await net.receive(packet, proof)).toMatchObject({ outcome: 'success', epoch: 2 });

    await net.govern(net.b, { kind: 'retire-remote-root', chainId: 'chain-a', mspId: orgA.mspId, rootCert: oldRoot });
    const after = await remoteOnB();
    expect(after.epoch).toBe(2);
    expect(after.orgs.find((o) => o.mspId === orgA.mspId)!.rootCerts.map((r) => r.trim())).toEqual([newCa.ca.certPem.trim()]);

    // A node of the retired CA no longer counts, even though it once was listed.
    const p2 = await net.sendPing({ n: 2 });
    const old = net.proof(await net.packetCommitment(p2.sequence), { signers: [net.a.chain.nodes[0]![0]!, net.a.chain.nodes[1]![0]!], epoch: 2 });
    await expectRejected(net.b.ledger, 'SIGNER_NOT_IN_LIST', () => net.receive(p2, old));
  });

  it('refuses a root already registered, a root of another org, retiring the last root, and roots of unknown chains or orgs', async () => {
    const [orgA, orgC] = net.a.chain.orgs;
    await expectRejected(net.b.ledger, 'ALREADY_EXISTS', () => proposeOnB({ kind: 'add-remote-root', chainId: 'chain-a', mspId: orgA!.mspId, rootCert: orgA!.ca.certPem }));
    await expectRejected(net.b.ledger, 'INVALID_ARGUMENT', () => proposeOnB({ kind: 'add-remote-root', chainId: 'chain-a', mspId: orgA!.mspId, rootCert: orgC!.ca.certPem }));
    await expectRejected(net.b.ledger, 'INVALID_ARGUMENT', () => proposeOnB({ kind: 'retire-remote-root', chainId: 'chain-a', mspId: orgA!.mspId, rootCert: orgA!.ca.certPem }));
    await expectRejected(net.b.ledger, 'UNKNOWN_CHAIN', () => proposeOnB({ kind: 'add-remote-root', chainId: 'chain-z', mspId: orgA!.mspId, rootCert: orgA!.ca.certPem }));
    await expectRejected(net.b.ledger, 'NOT_FOUND', () => proposeOnB({ kind: 'add-remote-root', chainId: 'chain-a', mspId: 'NobodyMSP', rootCert: orgA!.ca.certPem }));
    const stranger = await createOrg(orgA!.mspId);
    await expectRejected(net.b.ledger, 'NOT_FOUND', () => proposeOnB({ kind: 'retire-remote-root', chainId: 'chain-a', mspId: orgA!.mspId, rootCert: stranger.ca.certPem }));
    await expectRejected(net.b.ledger, 'UNKNOWN_ROOT', () => proposeOnB({ kind: 'add-remote-root', chainId: 'chain-a', mspId: orgA!.mspId, rootCert: net.a.chain.nodes[0]![0]!.identity.certPem }));
  });
});
