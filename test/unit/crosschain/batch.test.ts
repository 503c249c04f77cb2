/**
 * CrossChain batches (PROTOCOL.md "Batches"): ReceivePackets and AcknowledgePackets carry a
 * contiguous run of one route's packets or acknowledgements under one proof; each item goes
 * through its single transaction's checks; the batch applies entirely or writes nothing.
 */
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import { Domains } from '../../../chaincode/src/protocol/commitment';
import { expectedQuery } from '../../../chaincode/src/protocol/scheme-endorsement';
import { Limits } from '../../../chaincode/src/protocol/limits';
import { packetHash, type Acknowledgement, type Packet } from '../../../chaincode/src/protocol/packet';
import { withOwnWrites } from '../../../chaincode/src/state/own-writes';
import { MINUTE, ROUTE, TwoChains, expectRejected } from './harness';
import { firstOfEach, signatureSet } from './support';

/** ReceivePackets on chain B as its user. */
function receivePackets(net: TwoChains, packets: unknown, proof: unknown): Promise<Record<string, unknown>> {
  return net.b.ledger
    .invoke({ identity: net.b.user, timeMs: net.tick() }, (ctx) => net.cc.ReceivePackets(ctx, JSON.stringify(packets), JSON.stringify(proof)))
    .then((out) => JSON.parse(out) as Record<string, unknown>);
}

/** AcknowledgePackets on chain A as its user. */
function acknowledgePackets(net: TwoChains, acks: unknown, proof: unknown): Promise<Record<string, unknown>> {
  return net.a.ledger
    .invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.AcknowledgePackets(ctx, JSON.stringify(acks), JSON.stringify(proof)))
    .then((out) => JSON.parse(out) as Record<string, unknown>);
}

describe('CrossChain batches: one proof and one transaction for a run of packets of one route', () => {
  let net: TwoChains;

  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
  });

  async function sendPings(n: number): Promise<Packet[]> {
    const out: Packet[] = [];
    for (let i = 1; i <= n; i++) out.push(await net.sendPing({ n: i }));
    return out;
  }

  async function packetBatchCommitment(from: number, count: number): Promise<Buffer> {
    const text = await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.GetPacketBatchCommitment(ctx, ROUTE, String(from), String(count)));
    return Buffer.from(text, 'utf8');
  }

  async function ackBatchCommitment(from: number, count: number): Promise<Buffer> {
    const text = await net.b.ledger.invoke({ identity: net.b.user, timeMs: net.now }, (ctx) => net.cc.GetAckBatchCommitment(ctx, ROUTE, String(from), String(count)));
    return Buffer.from(text, 'utf8');
  }

  const receiveBatch = (packets: unknown, proof: unknown) => receivePackets(net, packets, proof);
  const ackBatch = (acks: unknown, proof: unknown) => acknowledgePackets(net, acks, proof);

  function ackProof(message: Buffer): unknown {
    // Endorsed on the destination's channel, where the acknowledgements are.
    return { ...signatureSet(firstOfEach(net.b.chain), message, { channel: 'chain-b' }), epoch: 1, links: [] };
  }

  async function received(packets: Packet[]): Promise<Acknowledgement[]> {
    const out = await receiveBatch(packets, net.proof(await packetBatchCommitment(packets[0]!.sequence, packets.length)));
    return (out.items as { ack: Acknowledgement }[]).map((i) => i.ack);
  }

  it('signs a domain-separated message that binds every packet hash of the run in order', async () => {
    const packets = await sendPings(3);
    const message = JSON.parse((await packetBatchCommitment(1, 3)).toString('utf8')) as Record<string, unknown>;
    expect(message).toMatchObject({ domain: Domains.packetBatch, sourceChain: 'chain-a', destChain: 'chain-b', routeId: ROUTE, fromSequence: 1, count: 3, epoch: 1 });
    expect(message.packetHashes).toEqual(packets.map(packetHash));
  });

  it('refuses a batch statement of a packet that was never sent, or of more than the limit', async () => {
    await sendPings(2);
    await expect(packetBatchCommitment(1, 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(packetBatchCommitment(1, Limits.maxBatchPackets + 1)).rejects.toMatchObject({ code: 'BATCH_INVALID' });
  });

  it('applies a run of packets with one proof: a receipt, an acknowledgement and an event item each, in order', async () => {
    const packets = await sendPings(3);
    const out = await receiveBatch(packets, net.proof(await packetBatchCommitment(1, 3)));
    expect(out).toMatchObject({ routeId: ROUTE, fromSequence: 1, count: 3 });
    const items = out.items as { sequence: number; outcome: string; ack: Acknowledgement }[];
    expect(items.map((i) => [i.sequence, i.outcome])).toEqual([
      [1, 'success'],
      [2, 'success'],
      [3, 'success'],
    ]);
    for (const [i, item] of items.entries()) {
      expect((await net.receipt(i + 1)).ack).toEqual(item.ack);
      expect((item.ack as { result?: unknown }).result).toEqual({ pong: { n: i + 1 } });
    }
    expect((await net.routeOn(net.b)).nextRecvSequence).toBe(4);
    const event = net.b.ledger.events.at(-1)!;
    expect(event.name).toBe('PacketsReceived');
    // The next packet takes the single path on the route the batch advanced.
    const [p4] = await sendPings(1);
    expect(await net.receive(p4, net.proof(await net.packetCommitment(4)))).toMatchObject({ sequence: 4, outcome: 'success' });
  });

  it('refuses a run with a gap in its sequences (BATCH_INVALID) and writes nothing', async () => {
    const [p1, , p3] = await sendPings(3);
    const proof = net.proof(await packetBatchCommitment(1, 2));
    await expectRejected(net.b.ledger, 'BATCH_INVALID', () => receiveBatch([p1, p3], proof));
  });

  it('refuses a run out of order (BATCH_INVALID) and writes nothing', async () => {
    const [p1, p2] = await sendPings(2);
    const proof = net.proof(await packetBatchCommitment(1, 2));
    await expectRejected(net.b.ledger, 'BATCH_INVALID', () => receiveBatch([p2, p1], proof));
  });

  it('refuses items of one route that are not one run: the route again after another (BATCH_INVALID), and writes nothing', async () => {
    const [p1, p2] = await sendPings(2);
    const proof = net.proof(await packetBatchCommitment(1, 2));
    await expectRejected(net.b.ledger, 'BATCH_INVALID', () => receiveBatch([p1, { ...p2!, routeId: 'route-other' }, { ...p2!, sequence: 3 }], proof));
  });

  it('refuses more packets than the limit (BATCH_INVALID) before any proof is read, and an empty batch', async () => {
    const [p1] = await sendPings(1);
    const proof = net.proof(await net.packetCommitment(1));
    const many = Array.from({ length: Limits.maxBatchPackets + 1 }, (_, i) => ({ ...p1!, sequence: i + 1 }));
    await expectRejected(net.b.ledger, 'BATCH_INVALID', () => receiveBatch(many, proof));
    await expectRejected(net.b.ledger, 'BATCH_INVALID', () => receiveBatch([], proof));
  });

  it('refuses a proof of a shorter run (the statement binds the count and every hash) and writes nothing', async () => {
    const packets = await sendPings(3);
    const short = net.proof(await packetBatchCommitment(1, 2));
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => receiveBatch(packets, short));
  });

  it("refuses a single packet's proof for a batch (domain separation) and writes nothing", async () => {
    const packets = await sendPings(2);
    const single = net.proof(await net.packetCommitment(1));
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => receiveBatch(packets, single));
  });

  it('refuses a tampered packet in the run (its hash no longer matches the signed one) and writes nothing', async () => {
    const [p1, p2] = await sendPings(2);
    const proof = net.proof(await packetBatchCommitment(1, 2));
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => receiveBatch([p1, { ...p2!, payload: { n: 99 } }], proof));
  });

  it('refuses a whole batch whose first packet was already received (PACKET_REPLAYED): never partly applied', async () => {
    const packets = await sendPings(2);
    await net.receive(packets[0], net.proof(await net.packetCommitment(1)));
    const proof = net.proof(await packetBatchCommitment(1, 2));
    await expectRejected(net.b.ledger, 'PACKET_REPLAYED', () => receiveBatch(packets, proof));
    expect((await net.routeOn(net.b)).nextRecvSequence).toBe(2);
  });

  it('refuses a whole batch once it was applied (PACKET_REPLAYED) and writes nothing', async () => {
    const packets = await sendPings(2);
    const proof = net.proof(await packetBatchCommitment(1, 2));
    await receiveBatch(packets, proof);
    await expectRejected(net.b.ledger, 'PACKET_REPLAYED', () => receiveBatch(packets, proof));
  });

  it('refuses a batch that does not start at the next sequence (OUT_OF_ORDER) and writes nothing', async () => {
    const packets = await sendPings(3);
    const proof = net.proof(await packetBatchCommitment(2, 2));
    await expectRejected(net.b.ledger, 'OUT_OF_ORDER', () => receiveBatch(packets.slice(1), proof));
  });

  it('refuses a batch whose last packet exceeds the rate limit (RATE_LIMITED) and writes nothing', async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup({ rateLimit: { maxPackets: 2, windowMs: MINUTE } });
    const packets = await sendPings(2);
    // A third packet sent in a later window: the receive window still holds the batch's first two.
    net.tick(MINUTE);
    packets.push(await net.sendPing({ n: 3 }));
    const proof = net.proof(await packetBatchCommitment(1, 3));
    await expectRejected(net.b.ledger, 'RATE_LIMITED', () => receiveBatch(packets, proof));
  });

  it('refuses a batch with a timed-out packet (PACKET_TIMED_OUT): timeouts are recorded one by one', async () => {
    const p1 = await net.sendPing({ n: 1 });
    const p2 = await net.sendPing({ n: 2 }, 1000);
    const proof = net.proof(await packetBatchCommitment(1, 2));
    net.tick(5000);
    await expectRejected(net.b.ledger, 'PACKET_TIMED_OUT', () => receiveBatch([p1, p2], proof));
  });

  it('settles a run of acknowledgements with one proof of the destination, each as AcknowledgePacket does', async () => {
    const packets = await sendPings(3);
    const acks = await received(packets);
    const message = JSON.parse((await ackBatchCommitment(1, 3)).toString('utf8')) as Record<string, unknown>;
    expect(message).toMatchObject({ domain: Domains.ackBatch, fromSequence: 1, count: 3 });
    const out = await ackBatch(acks, ackProof(await ackBatchCommitment(1, 3)));
    expect((out.items as { sequence: number; status: string }[]).map((i) => [i.sequence, i.status])).toEqual([
      [1, 'acknowledged'],
      [2, 'acknowledged'],
      [3, 'acknowledged'],
    ]);
    expect(net.a.ledger.events.at(-1)?.name).toBe('PacketsAcknowledged');
    for (let s = 1; s <= 3; s++) {
      const sent = JSON.parse(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.GetPacket(ctx, ROUTE, String(s)))) as { status: string; ack: unknown };
      expect(sent.status).toBe('acknowledged');
      expect(sent.ack).toEqual(acks[s - 1]);
    }
  });

  it('refuses acknowledgements already settled (PACKET_REPLAYED), with a gap (BATCH_INVALID) or a short proof, writing nothing', async () => {
    const packets = await sendPings(3);
    const acks = await received(packets);
    const proof = ackProof(await ackBatchCommitment(1, 3));
    await expectRejected(net.a.ledger, 'BATCH_INVALID', () => ackBatch([acks[0], acks[2]], proof));
    const short = ackProof(await ackBatchCommitment(1, 2));
    await expectRejected(net.a.ledger, 'COMMITMENT_MISMATCH', () => ackBatch(acks, short));
    await ackBatch(acks, proof);
    await expectRejected(net.a.ledger, 'PACKET_REPLAYED', () => ackBatch(acks, proof));
  });

  it('refuses an acknowledgement statement of a packet not received', async () => {
    await received(await sendPings(2));
    await expect(ackBatchCommitment(1, 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('CrossChain batches over several routes: one run per route under one proof', () => {
  const ROUTE2 = 'route-ab2';
  let net: TwoChains;

  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
    await net.openRoute(net.a, 'chain-b', undefined, ROUTE2);
    await net.openRoute(net.b, 'chain-a', undefined, ROUTE2);
  });

  async function pings(routeId: string, n: number): Promise<Packet[]> {
    const out: Packet[] = [];
    for (let i = 1; i <= n; i++) out.push(await net.sendPing({ n: i, routeId }, undefined, routeId));
    return out;
  }

  const runsArg = (runs: { routeId: string; fromSequence: number; count: number }[]) => canonicalize(runs);

  async function packetRuns(arg: string): Promise<Buffer> {
    return Buffer.from(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.GetPacketRunsCommitment(ctx, arg)), 'utf8');
  }

  async function ackRuns(arg: string): Promise<Buffer> {
    return Buffer.from(await net.b.ledger.invoke({ identity: net.b.user, timeMs: net.now }, (ctx) => net.cc.GetAckRunsCommitment(ctx, arg)), 'utf8');
  }

  const receiveBatch = (packets: unknown, proof: unknown) => receivePackets(net, packets, proof);
  const ackBatch = (acks: unknown, proof: unknown) => acknowledgePackets(net, acks, proof);

  const both = [
    { routeId: ROUTE, fromSequence: 1, count: 2 },
    { routeId: ROUTE2, fromSequence: 1, count: 2 },
  ];

  it('signs a runs message binding each route, first sequence and packet hash, queried by the argument the verifier expects', async () => {
    const packets = [...(await pings(ROUTE, 2)), ...(await pings(ROUTE2, 2))];
    const message = await packetRuns(runsArg(both));
    const m = JSON.parse(message.toString('utf8')) as Record<string, unknown>;
    expect(m).toMatchObject({ domain: Domains.packetRuns, sourceChain: 'chain-a', destChain: 'chain-b', epoch: 1 });
    expect(m.runs).toEqual([
      { routeId: ROUTE, fromSequence: 1, packetHashes: packets.slice(0, 2).map(packetHash) },
      { routeId: ROUTE2, fromSequence: 1, packetHashes: packets.slice(2).map(packetHash) },
    ]);
    // The query a peer must have answered for this message (scheme 1's proposal check) is this very call.
    expect(expectedQuery(message)).toEqual({ fn: 'CrossChain:GetPacketRunsCommitment', args: [[runsArg(both)]] });
  });

  it('receives and settles runs of two routes with one proof each way, each item as its single transaction', async () => {
    const packets = [...(await pings(ROUTE, 2)), ...(await pings(ROUTE2, 2))];
    const out = await receiveBatch(packets, net.proof(await packetRuns(runsArg(both))));
    const items = out.items as { routeId: string; sequence: number; outcome: string; ack: Acknowledgement }[];
    expect(items.map((i) => [i.routeId, i.sequence, i.outcome])).toEqual([
      [ROUTE, 1, 'success'],
      [ROUTE, 2, 'success'],
      [ROUTE2, 1, 'success'],
      [ROUTE2, 2, 'success'],
    ]);
    for (const routeId of [ROUTE, ROUTE2]) {
      const route = JSON.parse(await net.b.ledger.invoke({ identity: net.b.user, timeMs: net.now }, (ctx) => net.cc.GetRoute(ctx, routeId))) as { nextRecvSequence: number };
      expect(route.nextRecvSequence).toBe(3);
    }
    const acks = items.map((i) => i.ack);
    const ackMessage = await ackRuns(runsArg(both));
    expect(JSON.parse(ackMessage.toString('utf8'))).toMatchObject({ domain: Domains.ackRuns, sourceChain: 'chain-a', destChain: 'chain-b' });
    const settled = await ackBatch(acks, { ...signatureSet(firstOfEach(net.b.chain), ackMessage, { channel: 'chain-b' }), epoch: 1, links: [] });
    expect((settled.items as { routeId: string; status: string }[]).map((i) => [i.routeId, i.status])).toEqual([
      [ROUTE, 'acknowledged'],
      [ROUTE, 'acknowledged'],
      [ROUTE2, 'acknowledged'],
      [ROUTE2, 'acknowledged'],
    ]);
  });

  it('refuses routes out of route-id order (BATCH_INVALID) and a proof of one route for runs of two (COMMITMENT_MISMATCH), writing nothing', async () => {
    const one = await pings(ROUTE, 2);
    const two = await pings(ROUTE2, 2);
    const proof = net.proof(await packetRuns(runsArg(both)));
    await expectRejected(net.b.ledger, 'BATCH_INVALID', () => receiveBatch([...two, ...one], proof));
    const oneRoute = net.proof(Buffer.from(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.GetPacketBatchCommitment(ctx, ROUTE, '1', '2')), 'utf8'));
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => receiveBatch([...one, ...two], oneRoute));
    // ...and a runs proof that leaves a route's packet out
    const short = net.proof(await packetRuns(runsArg([both[0]!, { routeId: ROUTE2, fromSequence: 1, count: 1 }])));
    await expectRejected(net.b.ledger, 'COMMITMENT_MISMATCH', () => receiveBatch([...one, ...two], short));
  });

  it('refuses the whole batch when an item of the second route was already received (PACKET_REPLAYED): the first route is not advanced', async () => {
    const one = await pings(ROUTE, 2);
    const two = await pings(ROUTE2, 2);
    await net.receive(two[0], net.proof(Buffer.from(await net.a.ledger.invoke({ identity: net.a.user, timeMs: net.now }, (ctx) => net.cc.GetPacketCommitment(ctx, ROUTE2, '1')), 'utf8')));
    const proof = net.proof(await packetRuns(runsArg(both)));
    await expectRejected(net.b.ledger, 'PACKET_REPLAYED', () => receiveBatch([...one, ...two], proof));
    expect((await net.routeOn(net.b)).nextRecvSequence).toBe(1);
  });

  it('answers a runs query only for two routes or more, in order, canonical, within the limit, of packets sent', async () => {
    await pings(ROUTE, 2);
    await pings(ROUTE2, 1);
    await expect(packetRuns(runsArg([both[0]!]))).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    await expect(packetRuns(runsArg([...both].reverse()))).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    await expect(packetRuns(runsArg([both[0]!, both[0]!]))).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    await expect(packetRuns(JSON.stringify(both, null, 1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(packetRuns(runsArg([{ ...both[0]!, count: Limits.maxBatchPackets }, both[1]!]))).rejects.toMatchObject({ code: 'BATCH_INVALID' });
    await expect(packetRuns(runsArg(both))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ackRuns(runsArg([both[0]!, { routeId: ROUTE2, fromSequence: 1, count: 1 }]))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('CrossChain:SendPackets: several sends in one transaction', () => {
  let net: TwoChains;

  beforeEach(async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup();
  });

  function sendBatch(sends: unknown): Promise<{ items: { routeId: string; sequence: number; packetHash: string; packet: Packet }[] }> {
    return net.a.ledger
      .invoke({ identity: net.a.user, timeMs: net.tick() }, (ctx) => net.cc.SendPackets(ctx, typeof sends === 'string' ? sends : JSON.stringify(sends)))
      .then((out) => JSON.parse(out) as { items: { routeId: string; sequence: number; packetHash: string; packet: Packet }[] });
  }
  const ping = (n: number) => ({ destChain: 'chain-b', type: 'ping', args: { payload: { n } } });

  it('stores each send as SendPacket does, in order with consecutive sequences, under one PacketsSent event', async () => {
    const first = await net.sendPing({ n: 0 });
    const events = net.a.ledger.events.length;
    const out = await sendBatch([ping(1), ping(2), ping(3)]);
    expect(out.items.map((i) => i.sequence)).toEqual([first.sequence + 1, first.sequence + 2, first.sequence + 3]);
    expect(out.items.map((i) => i.packet.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    for (const item of out.items) expect(item.packetHash).toBe(packetHash(item.packet));
    const newEvents = net.a.ledger.events.slice(events);
    expect(newEvents.map((e) => e.name)).toEqual(['PacketsSent']);
    expect(newEvents[0]!.payload).toEqual(out);
    // The route's next sequence moved past the batch: a single send after it takes the next one.
    expect((await net.sendPing({ n: 4 })).sequence).toBe(first.sequence + 4);
    // Each packet is provable and received on its own, in route order, as a single send's is.
    for (const packet of [first, ...out.items.map((i) => i.packet)]) {
      const result = await net.receive(packet, net.proof(await net.packetCommitment(packet.sequence)));
      expect(result).toMatchObject({ sequence: packet.sequence, outcome: 'success' });
    }
  });

  it('refuses the whole batch when one send is refused (all or nothing) and writes nothing', async () => {
    await expectRejected(net.a.ledger, 'PACKET_TYPE_NOT_ALLOWED', () => sendBatch([ping(1), { destChain: 'chain-b', type: 'nope', args: {} }]));
    await expectRejected(net.a.ledger, 'ROUTE_NOT_OPEN', () => sendBatch([ping(1), { destChain: 'chain-z', type: 'ping', args: { payload: {} } }]));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () => sendBatch([ping(1), { destChain: 'chain-b', type: 'ping', args: { payload: {}, extra: 1 } }]));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () => sendBatch([{ type: 'ping', args: { payload: {} } }]));
    await expectRejected(net.a.ledger, 'INVALID_ARGUMENT', () => sendBatch('{"not":"an array"}'));
  });

  it('refuses an empty batch and one above the limit (BATCH_INVALID)', async () => {
    await expectRejected(net.a.ledger, 'BATCH_INVALID', () => sendBatch([]));
    await expectRejected(net.a.ledger, 'BATCH_INVALID', () => sendBatch(Array.from({ length: Limits.maxBatchPackets + 1 }, (_, i) => ping(i))));
  });

  it("counts every send of the batch against the route's send rate (RATE_LIMITED on the one that exceeds it)", async () => {
    net = await TwoChains.create({ peersPerOrg: 1 });
    await net.setup({ rateLimit: { maxPackets: 2, windowMs: MINUTE } });
    await expect(sendBatch([ping(1), ping(2)])).resolves.toMatchObject({ items: [{ sequence: 1 }, { sequence: 2 }] });
    net.tick(MINUTE);
    await expectRejected(net.a.ledger, 'RATE_LIMITED', () => sendBatch([ping(3), ping(4), ping(5)]));
  });
});

describe('withOwnWrites: the items of a batch see the writes of the items before them', () => {
  it('reads back what the transaction wrote or deleted, and commits the last write', async () => {
    const net = await TwoChains.create({ peersPerOrg: 1 });
    const ledger = net.b.ledger;
    await ledger.invoke({ identity: net.b.user, timeMs: net.now }, async (ctx) => ctx.stub.putState('k2', Buffer.from('old')));
    await ledger.invoke({ identity: net.b.user, timeMs: net.now }, async (ctx) => {
      const view = withOwnWrites(ctx);
      await view.stub.putState('k1', Buffer.from('one'));
      expect(Buffer.from(await view.stub.getState('k1')).toString()).toBe('one');
      // The plain stub keeps Fabric's semantics: committed state only.
      expect((await ctx.stub.getState('k1')).length).toBe(0);
      await view.stub.putState('k1', Buffer.from('two'));
      await view.stub.deleteState('k2');
      expect((await view.stub.getState('k2')).length).toBe(0);
      expect(view.stub.getTxID()).toBe(ctx.stub.getTxID());
    });
    expect(ledger.state.get('k1')?.toString()).toBe('two');
    expect(ledger.state.has('k2')).toBe(false);
  });

  it('reads a key it has not written from the peer once, however many items ask, and its own write after that', async () => {
    const net = await TwoChains.create({ peersPerOrg: 1 });
    const ledger = net.b.ledger;
    await ledger.invoke({ identity: net.b.user, timeMs: net.now }, async (ctx) => ctx.stub.putState('params', Buffer.from('p1')));
    await ledger.invoke({ identity: net.b.user, timeMs: net.now }, async (ctx) => {
      const asked: string[] = [];
      const read = ctx.stub.getState.bind(ctx.stub);
      ctx.stub.getState = (k: string) => {
        asked.push(k);
        return read(k);
      };
      const view = withOwnWrites(ctx);
      for (let item = 0; item < 3; item++) expect(Buffer.from(await view.stub.getState('params')).toString()).toBe('p1');
      expect((await view.stub.getState('absent')).length).toBe(0);
      expect((await view.stub.getState('absent')).length).toBe(0);
      await view.stub.putState('params', Buffer.from('p2'));
      expect(Buffer.from(await view.stub.getState('params')).toString()).toBe('p2');
      expect(asked).toEqual(['params', 'absent']);
    });
  });
});
