/**
 * CrossChain:GrantAndSend (a grant and its consent.grant packet in one transaction) and the
 * route layout that keeps a route's send state under its own key, so that an acknowledgement
 * or a receive never reads what every send writes (no MVCC conflict in one block).
 */
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { KeyTypes } from '../../../chaincode/src/state/keys';
import { DAY, newKey, signedGrant, terms, type KeyHolder } from '../consent/support';
import { expectRejected, ROUTE, TwoChains } from './harness';
import { firstOfEach, signatureSet } from './support';

const consent = new ConsentContract();

interface Granted {
  consent: { consentId: string; status: string; effectiveStatus: string };
  sent: { routeId: string; sequence: number; packetHash: string; packet: Packet };
}

describe('CrossChain:GrantAndSend', () => {
  let t: TwoChains;
  let patient: KeyHolder;

  beforeEach(async () => {
    t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    patient = newKey();
    await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => consent.RegisterPatient(ctx, patient.publicKey));
  });

  const grantJson = (grantee = 'HospitalBMSP') =>
    JSON.stringify(signedGrant('chain-a', patient, terms({ grantee, period: { start: t.now, end: t.now + 30 * DAY } }), patient, t.now));

  const grantAndSend = async (signed: string, args: object = { routeId: ROUTE }): Promise<Granted> =>
    JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.GrantAndSend(ctx, signed, 'chain-b', JSON.stringify(args)))) as Granted;

  it('stores the consent and sends its consent.grant packet in one transaction whose one event is PacketSent', async () => {
    const events = t.a.ledger.events.length;
    const out = await grantAndSend(grantJson());
    expect(out.consent).toMatchObject({ status: 'active', effectiveStatus: 'active' });
    expect(out.sent).toMatchObject({ routeId: ROUTE, sequence: 1, packet: { type: 'consent.grant', destChain: 'chain-b', sequence: 1 } });
    expect(t.a.ledger.events.length).toBe(events + 1);
    expect(t.a.ledger.events.at(-1)).toMatchObject({ name: 'PacketSent', payload: out.sent });
    const stored = JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => consent.GetConsent(ctx, out.consent.consentId))) as { consentId: string };
    expect(stored.consentId).toBe(out.consent.consentId);
    const sent = JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.GetPacket(ctx, ROUTE, '1'))) as { status: string; packetHash: string };
    expect(sent).toMatchObject({ status: 'sent', packetHash: out.sent.packetHash });
    expect((await t.routeOn(t.a)).nextSendSequence).toBe(2);
  });

  it('sends the same packet SendPacket sends for that consent: received and applied on the destination', async () => {
    const out = await grantAndSend(grantJson());
    const received = await t.receive(out.sent.packet, t.proof(await t.packetCommitment(1)));
    expect(received).toMatchObject({ outcome: 'success', sequence: 1 });
    expect((received.ack as { result: { consentId: string } }).result).toMatchObject({ consentId: out.consent.consentId });
  });

  it('stores nothing when the send is refused (route paused): ROUTE_PAUSED', async () => {
    await t.govern(t.a, { kind: 'pause-route', routeId: ROUTE });
    const signed = grantJson();
    await expectRejected(t.a.ledger, 'ROUTE_PAUSED', () => grantAndSend(signed));
  });

  it('sends nothing when the grant is refused (signed by a key that is neither the patient nor an authorised guardian): GUARDIAN_NOT_AUTHORIZED', async () => {
    const signed = JSON.stringify(signedGrant('chain-a', patient, terms({ period: { start: t.now, end: t.now + 30 * DAY } }), newKey(), t.now));
    await expectRejected(t.a.ledger, 'GUARDIAN_NOT_AUTHORIZED', () => grantAndSend(signed));
  });

  it('takes only routeId and timeoutAfterMs in argsJson: a payload or consentId is INVALID_ARGUMENT', async () => {
    const signed = grantJson();
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () => grantAndSend(signed, { routeId: ROUTE, consentId: 'cs_x' }));
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () => grantAndSend(signed, { routeId: ROUTE, payload: 1 }));
  });

  it('refuses a replayed grant message (its nonce is used) and sends nothing: the grant is the one of the first transaction', async () => {
    const signed = grantJson();
    await grantAndSend(signed);
    const code = await grantAndSend(signed).then(
      () => 'accepted',
      (e: { code?: string }) => e.code,
    );
    expect(code).not.toBe('accepted');
    expect((await t.routeOn(t.a)).nextSendSequence).toBe(2);
  });
});

describe('a route keeps its send state under its own key', () => {
  /** Runs `fn` and returns the state keys its transaction read. */
  async function readsOf(ledger: TwoChains['a']['ledger'], at: { identity: TwoChains['a']['user']; timeMs: number }, fn: (ctx: Context) => Promise<string>): Promise<string[]> {
    const reads: string[] = [];
    await ledger.invoke(at, (ctx) => {
      const get = ctx.stub.getState.bind(ctx.stub);
      ctx.stub.getState = async (k: string) => {
        reads.push(k);
        return get(k);
      };
      return fn(ctx);
    });
    return reads;
  }
  const isSendState = (k: string) => k.includes(KeyTypes.RouteSend);

  it('an acknowledgement and a receive never read the send state that every send writes', async () => {
    const t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    const p1 = await t.sendPing({ n: 1 });
    const p2 = await t.sendPing({ n: 2 });
    const receiveReads = await readsOf(t.b.ledger, { identity: t.b.user, timeMs: t.tick() }, (ctx) =>
      t.cc.ReceivePacket(ctx, JSON.stringify(p1), JSON.stringify(t.proof(Buffer.alloc(0)))).catch(() => ''),
    );
    const received = await t.receive(p1, t.proof(await t.packetCommitment(1)));
    const ackProof = { ...signatureSet(firstOfEach(t.b.chain), await t.ackCommitment(1)), epoch: 1, links: [] };
    const ackReads = await readsOf(t.a.ledger, { identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.AcknowledgePacket(ctx, JSON.stringify(received.ack), JSON.stringify(ackProof)));
    const sendReads = await readsOf(t.a.ledger, { identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.SendPacket(ctx, 'chain-b', 'ping', '{"payload":3}'));
    expect(sendReads.some(isSendState)).toBe(true);
    expect(ackReads.length).toBeGreaterThan(0);
    expect(ackReads.filter(isSendState)).toEqual([]);
    expect(receiveReads.filter(isSendState)).toEqual([]);
    expect(p2.sequence).toBe(2);
  });

  it('GetRoute and ListRoutes show the send state; a route written before the split reads as it was', async () => {
    const t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    const before = await t.routeOn(t.a);
    expect(before.nextSendSequence).toBe(1);
    // Both sends in one rate window: start at the next window's first millisecond (the harness
    // clock starts at the wall clock, so two sends a second apart could straddle a boundary).
    const { windowMs } = (before as { rateLimit: { windowMs: number } }).rateLimit;
    t.tick(windowMs - (t.now % windowMs));
    await t.sendPing();
    await t.sendPing();
    const after = await t.routeOn(t.a);
    expect(after).toMatchObject({ ...before, nextSendSequence: 3, sendWindow: { count: 2, start: expect.any(Number) }, updatedAtMs: expect.any(Number) });
    const listed = JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => t.cc.ListRoutes(ctx))) as Array<{ routeId: string; nextSendSequence: number }>;
    expect(listed.find((r) => r.routeId === ROUTE)?.nextSendSequence).toBe(3);
    // Governance rewrites the record; the send state stays the truth for the next send.
    await t.govern(t.a, { kind: 'update-route', routeId: ROUTE, packetTypes: ['consent.grant', 'consent.revoke', 'ping'], rateLimit: { maxPackets: 50, windowMs: 60_000 } });
    expect((await t.sendPing()).sequence).toBe(3);
  });
});
