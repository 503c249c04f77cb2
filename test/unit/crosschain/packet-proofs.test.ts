import { packetMessage } from '../../../chaincode/src/protocol/commitment';
import { listHash } from '../../../chaincode/src/protocol/node-list';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import { ROUTE, TwoChains, expectRejected } from './harness';
import { createOrg } from '../../fixtures/pki';
import { endorse, firstOfEach, nodeList, signatureSet, type TestNode } from './support';

const DAY = 86_400_000;

describe('CrossChain: a packet from chain A is accepted on chain B only with a valid threshold proof', () => {
  let net: TwoChains;
  let a0: TestNode; // HospitalA peer0
  let a1: TestNode; // HospitalA peer1
  let c0: TestNode; // HospitalC peer0

  beforeEach(async () => {
    net = await TwoChains.create();
    await net.setup();
    [a0, a1] = net.a.chain.nodes[0] as [TestNode, TestNode];
    [c0] = net.a.chain.nodes[1] as [TestNode, TestNode];
  });

  async function sentWithMessage(): Promise<{ packet: Packet; message: Buffer }> {
    const packet = await net.sendPing({ hello: 'world' });
    return { packet, message: await net.packetCommitment(packet.sequence) };
  }

  it('applies a ping with endorsements of both orgs, stores receipt and ack, and advances the route', async () => {
    const { packet, message } = await sentWithMessage();
    const out = await net.receive(packet, net.proof(message));
    expect(out).toMatchObject({ outcome: 'success', sequence: 1, signers: [a0.nodeId, c0.nodeId].sort(), epoch: 1 });
    expect((out.ack as { result: unknown }).result).toEqual({ pong: { hello: 'world' } });
    expect(await net.receipt(1)).toMatchObject({ outcome: 'success', packetHash: expect.any(String), signers: [a0.nodeId, c0.nodeId].sort() });
    expect((await net.routeOn(net.b)).nextRecvSequence).toBe(2);
    expect(net.b.ledger.events.at(-1)?.name).toBe('PacketReceived');
  });

  it('signs exactly the domain-separated message built from the packet, the epoch and the list hash', async () => {
    const { packet, message } = await sentWithMessage();
    const list = net.a.lists.get(1)!;
    expect(message.equals(packetMessage(packet, { epoch: 1, listHash: listHash(list) }))).toBe(true);
    expect(JSON.parse(message.toString())).toEqual({
      destChain: 'chain-b',
      domain: 'medbridge/packet/v1',
      epoch: 1,
      listHash: listHash(list),
      packetHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      routeId: ROUTE,
      sequence: 1,
      sourceChain: 'chain-a',
    });
  });

  it('rejects a forged signature (signed by a key that is not the endorser certificate key)', async () => {
    const { packet, message } = await sentWithMessage();
    const forged = endorse(a0, message);
    const other = endorse(a1, message);
    const proof = { ...net.proof(message), signatures: [{ ...forged, signature: other.signature }, endorse(c0, message)] };
    await expectRejected(net.b.ledger, 'SIGNATURE_INVALID', () => net.receive(packet, proof));
  });

  it('rejects a signer that is not in the list', async () => {
    const { packet, message } = await sentWithMessage();
    const stranger: TestNode = { nodeId: 'peer9', mspId: 'HospitalAMSP', identity: await net.a.chain.orgs[0]!.peer('peer9') };
    await expectRejected(net.b.ledger, 'SIGNER_NOT_IN_LIST', () => net.receive(packet, net.proof(message, { signers: [stranger, c0] })));
  });

  it('rejects a certificate of a non-peer (client) identity as a signer', async () => {
    const { packet, message } = await sentWithMessage();
    const client = await net.a.chain.orgs[0]!.client('app-user');
    const notPeer: TestNode = { nodeId: 'app-user', mspId: 'HospitalAMSP', identity: client };
    await expectRejected(net.b.ledger, 'SIGNER_NOT_IN_LIST', () => net.receive(packet, net.proof(message, { signers: [notPeer, c0] })));
  });

  it('never counts a duplicate signer twice', async () => {
    const { packet, message } = await sentWithMessage();
    const proof = { ...net.proof(message), signatures: [endorse(a0, message), endorse(a0, message), endorse(c0, message)] };
    await expectRejected(net.b.ledger, 'DUPLICATE_SIGNER', () => net.receive(packet, proof));
  });

  it('rejects a proof in which one subgroup is below its threshold', async () => {
    const { packet, message } = await sentWithMessage();
    await expectRejected(net.b.ledger, 'THRESHOLD_NOT_MET', () => net.receive(packet, net.proof(message, { signers: [a0, a1] })));
  });

  it("never lets one org's nodes fill another org's subgroup", async () => {
    const { packet, message } = await sentWithMessage();
    // HospitalA's peer1 claims to endorse as HospitalC: it is not HospitalC's listed node.
    const posing = endorse(a1, message, { endorserAs: { mspId: 'HospitalCMSP', certPem: a1.identity.certPem } });
    const proof = { ...net.proof(message), signatures: [endorse(a0, message), posing] };
    await expectRejected(net.b.ledger, 'SIGNER_NOT_IN_LIST', () => net.receive(packet, proof));
  });

  it('rejects a signer certificate that expired before the transaction time', async () => {
    const { packet, message } = await sentWithMessage();
    net.now += 200 * DAY; // peer certificates are valid 180 days, roots 365
    await expectRejected(net.b.ledger, 'CERT_EXPIRED', () => net.receive(packet, net.proof(message)));
  });

  it('rejects a signer certificate that is not valid yet at the transaction time', async () => {
    const { packet, message } = await sentWithMessage();
    net.now -= 3 * DAY; // certificates start one day before the test began
    await expectRejected(net.b.ledger, 'CERT_EXPIRED', () => net.receive(packet, net.proof(message)));
  });

  it('rejects a tampered payload (the endorsed commitment no longer matches the packet)', async () => {
    const { packet, message } = await sentWithMessage();
    const tampered = { ...packet, payload: { hello: 'mallory' } };
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => net.receive(tampered, net.proof(message)));
  });

  it('rejects endorsements of another chaincode or of a failed response', async () => {
    const { packet, message } = await sentWithMessage();
    const other = signatureSet([a0, c0], message, { chaincode: 'othercc' });
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => net.receive(packet, { ...other, epoch: 1, links: [] }));
    const failed = signatureSet([a0, c0], message, { status: 500 });
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => net.receive(packet, { ...failed, epoch: 1, links: [] }));
  });

  describe('binds every signature to its domain', () => {
    const cases: Array<[string, (m: Record<string, unknown>) => Record<string, unknown>]> = [
      ['another route', (m) => ({ ...m, routeId: 'route-other' })],
      ['another sequence', (m) => ({ ...m, sequence: 2 })],
      ['another epoch', (m) => ({ ...m, epoch: 2 })],
      ['another list', (m) => ({ ...m, listHash: '0'.repeat(64) })],
      ['another source chain', (m) => ({ ...m, sourceChain: 'chain-z' })],
      ['another destination chain', (m) => ({ ...m, destChain: 'chain-z' })],
      ['another message kind', (m) => ({ ...m, domain: 'medbridge/ack/v1' })],
    ];
    it.each(cases)('rejects a signature made for %s', async (_name, change) => {
      const { packet, message } = await sentWithMessage();
      const other = canonicalBytes(change(JSON.parse(message.toString()) as Record<string, unknown>));
      await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => net.receive(packet, net.proof(other)));
    });
  });

  it('rejects a replayed packet', async () => {
    const { packet, message } = await sentWithMessage();
    await net.receive(packet, net.proof(message));
    await expectRejected(net.b.ledger, 'PACKET_REPLAYED', () => net.receive(packet, net.proof(message)));
  });

  it('rejects a validly signed packet addressed to another chain', async () => {
    const { packet } = await sentWithMessage();
    const elsewhere = { ...packet, destChain: 'chain-z' };
    const message = packetMessage(elsewhere, { epoch: 1, listHash: listHash(net.a.lists.get(1)!) });
    await expectRejected(net.b.ledger, 'WRONG_DESTINATION', () => net.receive(elsewhere, net.proof(message)));
  });

  it('rejects a packet that is not the next in order on its route', async () => {
    await net.sendPing({ n: 1 });
    const second = await net.sendPing({ n: 2 });
    await expectRejected(net.b.ledger, 'OUT_OF_ORDER', async () => net.receive(second, net.proof(await net.packetCommitment(2))));
  });

  it('rejects a packet whose timeout has passed at transaction time, and records the timeout instead', async () => {
    const packet = await net.sendPing({ n: 1 }, 5000);
    const proof = net.proof(await net.packetCommitment(1));
    await expectRejected(net.b.ledger, 'PACKET_NOT_TIMED_OUT', () => net.recordTimeout(packet, proof));
    net.now = packet.timeoutMs;
    await expectRejected(net.b.ledger, 'PACKET_TIMED_OUT', () => net.receive(packet, proof));
    const out = await net.recordTimeout(packet, proof);
    expect(out).toMatchObject({ outcome: 'timeout', sequence: 1 });
    expect((await net.routeOn(net.b)).nextRecvSequence).toBe(2);
  });

  it('rejects an oversized proof before any verification', async () => {
    const { packet, message } = await sentWithMessage();
    const big = JSON.stringify({ ...net.proof(message), padding: 'x'.repeat(600 * 1024) });
    await expectRejected(net.b.ledger, 'PROOF_TOO_LARGE', () => net.receive(packet, big));
    const many = { ...net.proof(message), signatures: Array.from({ length: 65 }, () => endorse(a0, message)) };
    await expectRejected(net.b.ledger, 'PROOF_TOO_LARGE', () => net.receive(packet, many));
  });

  it('rejects an unknown scheme or version, and a proof without a scheme', async () => {
    const { packet, message } = await sentWithMessage();
    await expectRejected(net.b.ledger, 'UNSUPPORTED_SCHEME', () => net.receive(packet, { ...net.proof(message), scheme: 'no-such-scheme' }));
    await expectRejected(net.b.ledger, 'UNSUPPORTED_SCHEME', () => net.receive(packet, { ...net.proof(message), version: 3 }));
    const { scheme: _s, ...noScheme } = net.proof(message);
    await expectRejected(net.b.ledger, 'MALFORMED_PROOF', () => net.receive(packet, noScheme));
    await expectRejected(net.b.ledger, 'MALFORMED_PROOF', () => net.receive(packet, { ...net.proof(message), signatures: [] }));
  });

  it('freezes the route on two different validly signed packets for one sequence, then refuses later packets', async () => {
    const { packet, message } = await sentWithMessage();
    await net.receive(packet, net.proof(message));
    const conflicting = { ...packet, payload: { hello: 'equivocation' } };
    const conflictMessage = packetMessage(conflicting, { epoch: 1, listHash: listHash(net.a.lists.get(1)!) });
    const out = await net.receive(conflicting, net.proof(conflictMessage));
    expect(out).toMatchObject({ outcome: 'frozen', sequence: 1 });
    expect((await net.routeOn(net.b)).status).toBe('frozen');
    const next = await net.sendPing({ n: 2 });
    const nextProof = net.proof(await net.packetCommitment(2));
    await expectRejected(net.b.ledger, 'ROUTE_FROZEN', () => net.receive(next, nextProof));
    await net.govern(net.b, { kind: 'unfreeze-route', routeId: ROUTE });
    expect(await net.receive(next, nextProof)).toMatchObject({ outcome: 'success', sequence: 2 });
  });

  it('refuses packets on a route paused by governance', async () => {
    const { packet, message } = await sentWithMessage();
    await net.govern(net.b, { kind: 'pause-route', routeId: ROUTE });
    await expectRejected(net.b.ledger, 'ROUTE_PAUSED', () => net.receive(packet, net.proof(message)));
    await net.govern(net.b, { kind: 'resume-route', routeId: ROUTE });
    expect(await net.receive(packet, net.proof(message))).toMatchObject({ outcome: 'success' });
  });

  it('answers a handler rejection with an error acknowledgement, drops its writes, and keeps the route moving', async () => {
    // A consent packet whose payload the consent handler rejects.
    await net.govern(net.a, { kind: 'update-route', routeId: ROUTE, packetTypes: ['consent.grant', 'ping'], rateLimit: { maxPackets: 100, windowMs: 60_000 } });
    const packet = await net.sendPing({ n: 1 });
    const bogus = { ...packet, type: 'consent.grant' as const, payload: { not: 'a consent' } };
    const message = packetMessage(bogus, { epoch: 1, listHash: listHash(net.a.lists.get(1)!) });
    const before = net.b.ledger.state.size;
    const out = await net.receive(bogus, net.proof(message));
    expect(out.outcome).toBe('error');
    expect(String((out.ack as { error: string }).error)).toMatch(/^[A-Z_]+: /);
    // receipt + ack commitment + route update only
    expect(net.b.ledger.state.size).toBe(before + 2);
    expect((await net.routeOn(net.b)).nextRecvSequence).toBe(2);
  });
});

describe('CrossChain: route limits on the source', () => {
  it('rate-limits packets per window of transaction time', async () => {
    const net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup({ rateLimit: { maxPackets: 1, windowMs: 3_600_000 } });
    net.now = Math.floor(net.now / 3_600_000) * 3_600_000 + 3_600_000 + 10; // start of a fresh window
    await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.SendPacket(ctx, 'chain-b', 'ping', '{"payload":1}'));
    await expectRejected(net.a.ledger, 'RATE_LIMITED', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now + 1000 }, (ctx) => net.cc.SendPacket(ctx, 'chain-b', 'ping', '{"payload":2}')),
    );
    await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now + 3_600_000 }, (ctx) => net.cc.SendPacket(ctx, 'chain-b', 'ping', '{"payload":3}'));
  });

  it('refuses a packet type that is not allowlisted, or not carried by the route', async () => {
    const net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
    await expectRejected(net.a.ledger, 'PACKET_TYPE_NOT_ALLOWED', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.SendPacket(ctx, 'chain-b', 'admin.exec', '{"payload":1}')),
    );
    await net.govern(net.a, { kind: 'update-route', routeId: ROUTE, packetTypes: ['consent.grant'], rateLimit: { maxPackets: 10, windowMs: 60_000 } });
    await expectRejected(net.a.ledger, 'PACKET_TYPE_NOT_ALLOWED', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.SendPacket(ctx, 'chain-b', 'ping', '{"payload":1}')),
    );
  });

  it('refuses to send on a paused route', async () => {
    const net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
    await net.govern(net.a, { kind: 'pause-route', routeId: ROUTE });
    await expectRejected(net.a.ledger, 'ROUTE_PAUSED', () => net.sendPing());
  });
});

describe('CrossChain: acknowledgements and timeouts on the source', () => {
  let net: TwoChains;
  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
  });

  function bProof(message: Buffer) {
    return { ...signatureSet(firstOfEach(net.b.chain), message), epoch: 1, links: [] };
  }

  it('marks a packet acknowledged with the destination nodes that signed, and refuses a second acknowledgement', async () => {
    await net.deliverPing();
    const receipt = await net.receipt(1);
    const proof = bProof(await net.ackCommitment(1));
    const ack = JSON.stringify(receipt.ack);
    const out = JSON.parse(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.AcknowledgePacket(ctx, ack, JSON.stringify(proof))));
    expect(out).toMatchObject({ status: 'acknowledged', signers: net.b.chain.nodes.map((r) => r[0]!.nodeId).sort() });
    const stored = JSON.parse(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.GetPacket(ctx, ROUTE, '1')));
    expect(stored).toMatchObject({ status: 'acknowledged', ackSigners: out.signers, ackEpoch: 1 });
    await expectRejected(net.a.ledger, 'PACKET_REPLAYED', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.AcknowledgePacket(ctx, ack, JSON.stringify(proof))),
    );
  });

  it('rejects an acknowledgement signed by the source chain instead of the destination', async () => {
    await net.deliverPing();
    const receipt = await net.receipt(1);
    const proof = net.proof(await net.ackCommitment(1)); // chain A's nodes
    await expectRejected(net.a.ledger, 'SIGNER_NOT_IN_LIST', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.AcknowledgePacket(ctx, JSON.stringify(receipt.ack), JSON.stringify(proof))),
    );
  });

  it('releases a packet with the destination-signed timeout statement, and only then', async () => {
    const packet = await net.sendPing({ n: 1 }, 5000);
    const proof = net.proof(await net.packetCommitment(1));
    net.now = packet.timeoutMs + 1;
    await net.recordTimeout(packet, proof);
    const receipt = await net.receipt(1);
    const ackProof = JSON.stringify(bProof(await net.ackCommitment(1)));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () =>
      net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.AcknowledgePacket(ctx, JSON.stringify(receipt.ack), ackProof)),
    );
    const out = JSON.parse(
      await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.TimeoutPacket(ctx, JSON.stringify(receipt.ack), ackProof)),
    );
    expect(out).toMatchObject({ status: 'timed-out', outcome: 'timeout' });
  });
});

describe('CrossChain: epoch links carry a new list of chain A to chain B without governance on B', () => {
  let net: TwoChains;
  let a0: TestNode;
  let a1: TestNode;
  let c0: TestNode;
  let c1: TestNode;

  beforeEach(async () => {
    net = await TwoChains.create();
    [a0, a1] = net.a.chain.nodes[0] as [TestNode, TestNode];
    [c0, c1] = net.a.chain.nodes[1] as [TestNode, TestNode];
    // Epoch 1 lists only peer0 of each org.
    await net.setup({ listA: nodeList(net.a.chain, 1, { nodes: [[a0], [c0]] }) });
  });

  /** Governance on chain A only: the next list of A lists peer1 of each org. */
  async function rotateA(epoch: number, nodes: TestNode[][], threshold = 1): Promise<void> {
    await net.setList(net.a, nodeList(net.a.chain, epoch, { nodes, threshold }));
  }

  it('accepts a packet signed by the new list through a link signed by the previous list, and stores the new list on B', async () => {
    await rotateA(2, [[a1], [c1]]);
    const link = await net.link(2, [a0, c0]);
    const packet = await net.sendPing({ after: 'rotation' });
    const message = await net.packetCommitment(packet.sequence);
    expect(JSON.parse(message.toString())).toMatchObject({ epoch: 2, listHash: listHash(net.a.lists.get(2)!) });
    const out = await net.receive(packet, net.proof(message, { signers: [a1, c1], epoch: 2, links: [link] }));
    expect(out).toMatchObject({ outcome: 'success', epoch: 2, signers: [a1.nodeId, c1.nodeId].sort() });
    const remote = JSON.parse(await net.b.ledger.invoke({ identity: net.b.user, timeMs: net.now }, (ctx) => net.cc.GetRemoteChain(ctx, 'chain-a')));
    expect(remote).toMatchObject({ epoch: 2, listHash: listHash(net.a.lists.get(2)!) });
    // The old list no longer speaks for A on B.
    const next = await net.sendPing({ n: 2 });
    const oldEpochMessage = packetMessage(next, { epoch: 1, listHash: listHash(net.a.lists.get(1)!) });
    await expectRejected(net.b.ledger, 'EPOCH_STALE', () => net.receive(next, net.proof(oldEpochMessage, { signers: [a0, c0], epoch: 1 })));
  });

  it('rejects a proof that skips an epoch', async () => {
    await rotateA(2, [[a1], [c1]]);
    await rotateA(3, [[a0, a1], [c0, c1]]);
    const link3 = await net.link(3, [a1, c1]);
    const packet = await net.sendPing();
    const message = await net.packetCommitment(packet.sequence);
    await expectRejected(net.b.ledger, 'EPOCH_SKIPPED', () => net.receive(packet, net.proof(message, { signers: [a0, c0], epoch: 3, links: [link3] })));
    const link2 = await net.link(2, [a0, c0]);
    await expectRejected(net.b.ledger, 'EPOCH_SKIPPED', () => net.receive(packet, net.proof(message, { signers: [a0, c0], epoch: 3, links: [link3, link2] })));
    expect(await net.receive(packet, net.proof(message, { signers: [a0, c0], epoch: 3, links: [link2, link3] }))).toMatchObject({ epoch: 3 });
  });

  it('rejects an epoch link signed below the previous list threshold', async () => {
    await rotateA(2, [[a1], [c1]]);
    const weakLink = await net.link(2, [a0]);
    const packet = await net.sendPing();
    const message = await net.packetCommitment(packet.sequence);
    await expectRejected(net.b.ledger, 'EPOCH_LINK_INVALID', () => net.receive(packet, net.proof(message, { signers: [a1, c1], epoch: 2, links: [weakLink] })));
  });

  it('rejects an epoch link whose new list was changed by the relay', async () => {
    await rotateA(2, [[a1], [c1]]);
    const link = await net.link(2, [a0, c0]);
    const widened = { ...link, newList: nodeList(net.a.chain, 2, { nodes: [[a0, a1], [c0, c1]] }) };
    const packet = await net.sendPing();
    const message = await net.packetCommitment(packet.sequence);
    await expectRejected(net.b.ledger, 'EPOCH_LINK_INVALID', () => net.receive(packet, net.proof(message, { signers: [a1, c1], epoch: 2, links: [widened] })));
  });

  it('never lets a new list introduce a node outside the registered roots (unknown root)', async () => {
    const rogueCa = await createOrg('HospitalAMSP');
    const rogue: TestNode = { nodeId: 'rogue.hospitala', mspId: 'HospitalAMSP', identity: await rogueCa.peer('rogue.hospitala') };
    await rotateA(2, [[rogue], [c1]]);
    const link = await net.link(2, [a0, c0]);
    const packet = await net.sendPing();
    const message = await net.packetCommitment(packet.sequence);
    await expectRejected(net.b.ledger, 'UNKNOWN_ROOT', () => net.receive(packet, net.proof(message, { signers: [rogue, c1], epoch: 2, links: [link] })));
  });

  it('rejects a signer whose certificate serial the destination registered as revoked', async () => {
    const fresh = await TwoChains.create();
    const [f0, f1] = fresh.a.chain.nodes[0] as [TestNode, TestNode];
    const [g0, g1] = fresh.a.chain.nodes[1] as [TestNode, TestNode];
    await fresh.setup({ listA: nodeList(fresh.a.chain, 1, { nodes: [[f0], [g0]] }), revokedOnB: [f1.identity.cert.serialNumber] });
    await fresh.setList(fresh.a, nodeList(fresh.a.chain, 2, { nodes: [[f1], [g1]] }));
    const link = await fresh.link(2, [f0, g0]);
    const packet = await fresh.sendPing();
    const message = await fresh.packetCommitment(packet.sequence);
    await expectRejected(fresh.b.ledger, 'CERT_REVOKED', () => fresh.receive(packet, fresh.proof(message, { signers: [f1, g1], epoch: 2, links: [link] })));
  });
});
