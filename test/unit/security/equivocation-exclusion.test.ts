/**
 * A node that signs two different packets for one route and sequence loses its signing weight
 * at once on the chain that holds the evidence: the destination, which an equivocation hurts,
 * verifies the evidence against its own copy of the source's lists and stops counting the node
 * (in packet proofs and in epoch links). On the node's own chain, governance removes it from
 * the list without the approval of the node's own org.
 */
import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { aggregatePartials, signMessage, toBase64 } from '../../../chaincode/src/protocol/bls';
import { listHash, nodeKeyIdentities, parseNodeList, type VerificationNodeList } from '../../../chaincode/src/protocol/node-list';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { verifyProof } from '../../../chaincode/src/protocol/verify';
import { remoteViewOf } from '../../../gateway/src/records/anchor-attestation';
import { blsList, createBlsChain, expectCode, messageFor, packet } from '../bls/support';
import { expectRejected, TwoChains } from '../crosschain/harness';
import { chainTrust, nodeList, signatureSet, type TestNode } from '../crosschain/support';

function signed(t: TwoChains, packet: Packet, signer: TestNode, epoch = 1): unknown {
  const list = t.a.lists.get(epoch)!;
  const message = packetMessage(packet, { epoch, listHash: listHash(list) });
  const { scheme, version, signatures } = signatureSet([signer], message);
  return { packet, epoch, proof: { scheme, version, signatures } };
}

/** Two packets for chain A's route and sequence `real.sequence`, both signed by `signer`. */
function conflict(t: TwoChains, real: Packet, signer: TestNode, accused = signer.nodeId): unknown {
  const forged: Packet = { ...real, payload: { n: 666 } };
  return { kind: 'conflict', nodeId: accused, a: signed(t, real, signer), b: signed(t, forged, signer) };
}

describe('equivocation evidence on the destination', () => {
  let t: TwoChains;
  let a0: TestNode;
  let a1: TestNode;
  let c0: TestNode;

  beforeEach(async () => {
    t = await (await TwoChains.create()).setup();
    [a0, a1] = t.a.chain.nodes[0] as [TestNode, TestNode];
    c0 = t.a.chain.nodes[1]![0]!;
  });

  const submit = (evidence: unknown) =>
    t.b.ledger.invoke({ identity: t.b.user, timeMs: t.tick() }, (ctx) => t.cc.SubmitRemoteEvidence(ctx, 'chain-a', JSON.stringify(evidence)));

  it('excludes the node at once: its signature no longer meets its subgroup threshold', async () => {
    const packet = await t.sendPing({ n: 1 });
    const message = await t.packetCommitment(packet.sequence);
    const out = JSON.parse(await submit(conflict(t, packet, a0))) as { nodeId: string; keyIds: string[] };
    expect(out.nodeId).toBe(a0.nodeId);
    expect(out.keyIds.length).toBe(1);
    expect(t.b.ledger.events.at(-1)?.name).toBe('RemoteNodeExcluded');

    await expectRejected(t.b.ledger, 'THRESHOLD_NOT_MET', () => t.receive(packet, t.proof(message, { signers: [a0, c0] })));
    const ok = await t.receive(packet, t.proof(message, { signers: [a0, a1, c0] }));
    expect(ok.outcome).toBe('success');
    // The excluded node is not among the signers that count (nor those rewarded).
    expect(ok.signers).toEqual([a1.nodeId, c0.nodeId].sort());
  });

  it('carries the exclusion to verifiers off the chain (GetRemoteChain, as requesters read it)', async () => {
    const packet = await t.sendPing({ n: 1 });
    await submit(conflict(t, packet, a0));
    const registered = JSON.parse(await t.b.ledger.invoke({ identity: t.b.user, timeMs: t.now }, (ctx) => t.cc.GetRemoteChain(ctx, 'chain-a'))) as Parameters<
      typeof remoteViewOf
    >[0];
    expect(registered.excluded?.map((e) => e.nodeId)).toEqual([a0.nodeId]);
    const view = remoteViewOf(registered);
    const proof = t.proof(await t.packetCommitment(packet.sequence), { signers: [a0, c0] });
    expectCode(() => verifyProof(view, proof, t.now, (ref) => packetMessage(packet, ref)), 'THRESHOLD_NOT_MET', proof);
  });

  it('does not let the excluded node sign an epoch link either', async () => {
    const packet = await t.sendPing({ n: 1 });
    await submit(conflict(t, packet, a0));
    await t.setList(t.a, nodeList(t.a.chain, 2, { nodes: [[a1], [c0]] }));
    const message = await t.packetCommitment(packet.sequence);
    const byExcluded = t.proof(message, { signers: [a1, c0], epoch: 2, links: [await t.link(2, [a0, c0])] });
    await expectRejected(t.b.ledger, 'EPOCH_LINK_INVALID', () => t.receive(packet, byExcluded));
    const byHonest = t.proof(message, { signers: [a1, c0], epoch: 2, links: [await t.link(2, [a1, c0])] });
    expect((await t.receive(packet, byHonest)).outcome).toBe('success');
  });

  it('refuses evidence over one commitment twice (no conflict) and leaves state unchanged', async () => {
    const packet = await t.sendPing({ n: 1 });
    const same = { kind: 'conflict', nodeId: a0.nodeId, a: signed(t, packet, a0), b: signed(t, packet, a0) };
    await expectRejected(t.b.ledger, 'EVIDENCE_INVALID', () => submit(same));
  });

  it('refuses evidence signed by another node than the one it accuses', async () => {
    const packet = await t.sendPing({ n: 1 });
    await expectRejected(t.b.ledger, 'EVIDENCE_INVALID', () => submit(conflict(t, packet, a1, a0.nodeId)));
  });

  it('refuses the same exclusion twice', async () => {
    const packet = await t.sendPing({ n: 1 });
    await submit(conflict(t, packet, a0));
    await expectRejected(t.b.ledger, 'ALREADY_SLASHED', () => submit(conflict(t, packet, a0)));
  });
});

describe('removal of an equivocating node by governance of its own chain', () => {
  let t: TwoChains;
  beforeEach(async () => {
    t = await (await TwoChains.create()).setup();
  });

  /** Evidence as chain A's own SubmitEvidence takes it: signatures under A's own list. */
  function localConflict(packet: Packet, signer: TestNode): unknown {
    return conflict(t, packet, signer);
  }

  it('executes with the approval of every other member org, without the accused org', async () => {
    const a0 = t.a.chain.nodes[0]![0]!;
    const packet = await t.sendPing({ n: 1 });
    const [, adminC] = t.a.admins;
    const action = { kind: 'remove-node', nodeId: a0.nodeId, evidence: localConflict(packet, a0) };
    const out = JSON.parse(await t.a.ledger.invoke({ identity: adminC!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action)))) as {
      status: string;
      approvals: string[];
    };
    expect(out).toMatchObject({ status: 'executed', approvals: ['HospitalCMSP'] });
    const head = JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.GetNodeList(ctx, ''))) as { list: VerificationNodeList };
    expect(head.list.epoch).toBe(2);
    expect(head.list.subgroups.flatMap((s) => s.nodes.map((n) => n.nodeId))).not.toContain(a0.nodeId);
  });

  it('still needs every member org for an ordinary list change', async () => {
    const [, adminC] = t.a.admins;
    const action = { kind: 'set-node-list', list: nodeList(t.a.chain, 2, { nodes: [[t.a.chain.nodes[0]![1]!], [t.a.chain.nodes[1]![0]!]] }) };
    const out = JSON.parse(await t.a.ledger.invoke({ identity: adminC!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action)))) as { status: string };
    expect(out.status).toBe('pending');
  });

  it('refuses removal whose evidence accuses another node, and changes nothing', async () => {
    const [a0, a1] = t.a.chain.nodes[0] as [TestNode, TestNode];
    const packet = await t.sendPing({ n: 1 });
    const [, adminC] = t.a.admins;
    const action = { kind: 'remove-node', nodeId: a1.nodeId, evidence: localConflict(packet, a0) };
    await expectRejected(t.a.ledger, 'EVIDENCE_INVALID', () =>
      t.a.ledger.invoke({ identity: adminC!, timeMs: t.tick() }, (ctx) => t.gov.Propose(ctx, JSON.stringify(action))),
    );
  });
});

describe('exclusion under the aggregate scheme', () => {
  it('verifies the aggregate with the excluded key in it but never counts that node', async () => {
    const chain = await createBlsChain('chain-a', ['HospitalAMSP', 'HospitalCMSP'], 2);
    const list = parseNodeList(blsList(chain, 1));
    const [a0, a1] = chain.nodes[0]!;
    const c0 = chain.nodes[1]![0]!;
    const p = packet();
    const msg = messageFor(p, list);
    const sign = (nodes: typeof chain.nodes[number]) =>
      ({ ...aggregatePartials(list, msg, nodes.map((n) => ({ nodeId: n.nodeId, signature: toBase64(signMessage(n.keys.secretKey, msg)) }))).proof, links: [] });
    const excluded = [{ nodeId: a0!.nodeId, keyIds: nodeKeyIdentities(list.subgroups[0]!.nodes[0]!) }];
    const remote = { trust: chainTrust({ chainId: chain.chainId, orgs: chain.orgs, nodes: [] }), list, schemes: ['bls12381-aggregate'], excluded };
    const byExcluded = sign([a0!, c0]);
    expectCode(() => verifyProof(remote, byExcluded, Date.now(), (ref) => packetMessage(p, ref)), 'THRESHOLD_NOT_MET', remote, byExcluded);
    const withHonest = verifyProof(remote, sign([a0!, a1!, c0]), Date.now(), (ref) => packetMessage(p, ref));
    expect(withHonest.signers).toEqual([a1!.nodeId, c0.nodeId].sort());
  });
});
