/**
 * Batches with value transfer on (PROTOCOL.md "Batches", INCENTIVES.md): the fees and rewards of
 * a batch are exactly those of the same packets settled one by one, although every item of a
 * batch credits the same accounts inside one transaction (state/own-writes.ts).
 */
import type { Context } from 'fabric-contract-api';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { registerIncentiveHooks } from '../../../chaincode/src/contracts/incentive-hooks';
import type { Acknowledgement, Packet } from '../../../chaincode/src/protocol/packet';
import { DEFAULT_PARAMS } from '../../../chaincode/src/rules/parameter-safety';
import type { FakeIdentity } from '../support/fake-ledger';
import { accounts, circulating, escrows, supply } from '../incentives/support';
import { ROUTE, TwoChains } from './harness';
import { firstOfEach, signatureSet } from './support';

const inc = new IncentiveContract();
const S = DEFAULT_PARAMS.minStake;
const N = 4;

beforeAll(() => registerIncentiveHooks());

async function onA<T>(t: TwoChains, who: FakeIdentity, fn: (ctx: Context) => Promise<T>): Promise<T> {
  return t.a.ledger.invoke({ identity: who, timeMs: t.tick() }, fn);
}

/** Two chains with a route, value transfer on chain A, its first nodes staked; the same start every time. */
async function chains(): Promise<TwoChains> {
  const t = await TwoChains.create({ peersPerOrg: 1 });
  await t.setup();
  for (const admin of t.a.admins) await onA(t, admin, (ctx) => inc.SetParams(ctx, JSON.stringify(DEFAULT_PARAMS), 'on'));
  for (const org of ['HospitalAMSP', 'HospitalCMSP']) for (const admin of t.a.admins) await onA(t, admin, (ctx) => inc.Mint(ctx, `org:${org}`, String(10 * S), `seed ${org}`));
  await onA(t, t.a.admins[0]!, (ctx) => inc.Deposit(ctx, t.a.chain.nodes[0]![0]!.nodeId, String(S)));
  await onA(t, t.a.admins[1]!, (ctx) => inc.Deposit(ctx, t.a.chain.nodes[1]![0]!.nodeId, String(S)));
  return t;
}

async function sendPings(t: TwoChains): Promise<Packet[]> {
  const out: Packet[] = [];
  for (let i = 1; i <= N; i++) out.push(await t.sendPing({ n: i }));
  return out;
}

function bProof(t: TwoChains, message: Buffer): unknown {
  return { ...signatureSet(firstOfEach(t.b.chain), message, { channel: 'chain-b' }), epoch: 1, links: [] };
}

/** Balances by account id, without the fields that record when they moved. */
function balances(t: TwoChains): Record<string, number> {
  return Object.fromEntries(accounts(t.a.ledger).map((a) => [a.id, a.balance]));
}

describe('batches with value transfer on', () => {
  it('pays every fee and reward of a batch as the single path does, and conserves the supply', async () => {
    // One by one.
    const single = await chains();
    for (const packet of await sendPings(single)) {
      const received = await single.receive(packet, single.proof(await single.packetCommitment(packet.sequence)));
      const proof = bProof(single, await single.ackCommitment(packet.sequence));
      await onA(single, single.a.user, (ctx) => single.cc.AcknowledgePacket(ctx, JSON.stringify(received.ack), JSON.stringify(proof)));
    }

    // As one batch each way.
    const batch = await chains();
    const packets = await sendPings(batch);
    const packetMessage = await batch.a.ledger.invoke({ identity: batch.a.user, timeMs: batch.now }, (ctx) => batch.cc.GetPacketBatchCommitment(ctx, ROUTE, '1', String(N)));
    const received = JSON.parse(
      await batch.b.ledger.invoke({ identity: batch.b.user, timeMs: batch.tick() }, (ctx) => batch.cc.ReceivePackets(ctx, JSON.stringify(packets), JSON.stringify(batch.proof(Buffer.from(packetMessage))))),
    ) as { items: { ack: Acknowledgement }[] };
    const ackMessage = await batch.b.ledger.invoke({ identity: batch.b.user, timeMs: batch.now }, (ctx) => batch.cc.GetAckBatchCommitment(ctx, ROUTE, '1', String(N)));
    const acks = received.items.map((i) => i.ack);
    await onA(batch, batch.a.user, (ctx) => batch.cc.AcknowledgePackets(ctx, JSON.stringify(acks), JSON.stringify(bProof(batch, Buffer.from(ackMessage)))));

    // The same escrows paid out, the same balances, nothing minted or lost.
    const settledEscrows = (t: TwoChains) => escrows(t.a.ledger).map((e) => [e.sequence, e.status, e.amount, (e.payouts ?? []).reduce((s, p) => s + p.amount, 0)]);
    expect(settledEscrows(batch)).toEqual(settledEscrows(single));
    expect(settledEscrows(batch)).toHaveLength(N);
    expect(balances(batch)).toEqual(balances(single));
    expect(Object.values(balances(batch)).some((b) => b > 0)).toBe(true);
    expect(circulating(batch.a.ledger)).toBe(circulating(single.a.ledger));
    expect(supply(batch.a.ledger)).toEqual(supply(single.a.ledger));
  });

  it('charges each send of one SendPackets transaction the fee a single send pays, from one account, and stores the same packets', async () => {
    const single = await chains();
    const singlePackets = await sendPings(single);

    const batch = await chains();
    const sends = Array.from({ length: N }, (_, i) => ({ destChain: 'chain-b', type: 'ping', args: { payload: { n: i + 1 } } }));
    const out = JSON.parse(await onA(batch, batch.a.user, (ctx) => batch.cc.SendPackets(ctx, JSON.stringify(sends)))) as { items: { packet: Packet }[] };

    // Same sequences and payloads (send times differ: one transaction against four).
    const shape = (p: Packet) => [p.routeId, p.sequence, p.payload, p.sender];
    expect(out.items.map((i) => shape(i.packet))).toEqual(singlePackets.map(shape));
    const heldEscrows = (t: TwoChains) => escrows(t.a.ledger).map((e) => [e.sequence, e.status, e.amount]);
    expect(heldEscrows(batch)).toEqual(heldEscrows(single));
    expect(heldEscrows(batch)).toHaveLength(N);
    expect(escrows(batch.a.ledger).every((e) => e.amount > 0)).toBe(true);
    expect(balances(batch)).toEqual(balances(single));
    expect(supply(batch.a.ledger)).toEqual(supply(single.a.ledger));
  });
});
