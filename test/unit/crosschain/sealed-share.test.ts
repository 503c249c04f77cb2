/**
 * Sealed consent shares (CONSENT.md "Sealed consent shares"): a private consent kept by
 * HospitalA on chain-a reaches HospitalB on chain-b while neither ledger holds anything of it
 * in public state: SealConsent (private, HospitalA) -> SendPacket consent.sealed (public: the
 * digest only) -> ReceivePacket (public: the arrival) -> GetSealedConsent at the custodian
 * (released to the grantee only) -> DeliverSealedConsent (private, HospitalB).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import { buildConsentGrant, buildConsentRevocation, consentIdOf, signPatientMessage, type ConsentTerms } from '../../../chaincode/src/protocol/patient-messages';
import type { Packet } from '../../../chaincode/src/protocol/packet';
import { openSealedResult } from '../../../chaincode/src/protocol/sealed-result';
import type { FakeIdentity, FakeLedger } from '../support/fake-ledger';
import { DAY, header, newKey, signedGrant, terms, type KeyHolder } from '../consent/support';
import { expectRejected, ROUTE, TwoChains } from './harness';

const consent = new ConsentContract();
const A = 'HospitalAMSP';
const B = 'HospitalBMSP';

interface Shared {
  ref: string;
  digest: string;
  type: string;
  destChain: string;
  consentId: string;
}

describe('sealed consent shares', () => {
  let t: TwoChains;
  let patient: KeyHolder;
  let hospitalD: FakeIdentity;

  beforeEach(async () => {
    t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    patient = newKey();
    await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => consent.RegisterPatient(ctx, patient.publicKey));
    hospitalD = { mspId: 'HospitalDMSP', certPem: (await t.b.chain.orgs[1]!.client('clerk.d')).certPem };
  });

  /** A private transaction as the gateway sends it: the request in the transient map with a fresh salt; the sealed result opened. */
  async function privately<T>(ledger: FakeLedger, identity: FakeIdentity, fn: (ctx: Context) => Promise<string>, request: Record<string, unknown>): Promise<T> {
    const salt = randomBytes(32);
    const transient = { request: Buffer.from(canonicalize({ ...request, salt: salt.toString('hex') })) };
    let txId = '';
    const out = await ledger.invoke({ identity, timeMs: t.tick(), transient }, async (ctx) => {
      txId = ctx.stub.getTxID();
      return fn(ctx);
    });
    return JSON.parse(openSealedResult(salt, txId, JSON.parse(out))) as T;
  }

  const keptGrant = (overrides: Partial<ConsentTerms> = {}) =>
    signPatientMessage(
      buildConsentGrant(header('chain-a', patient, patient, t.now), terms({ grantee: B, period: { start: t.now, end: t.now + 30 * DAY }, ...overrides }), A),
      patient.privateKey,
    );
  const grantPrivately = async (signed = keptGrant()) => {
    await privately(t.a.ledger, t.a.user, (ctx) => consent.GrantConsentPrivately(ctx), { signedGrant: signed });
    return consentIdOf(signed.message);
  };
  const revokePrivately = (consentId: string) =>
    privately(t.a.ledger, t.a.user, (ctx) => consent.RevokeConsentPrivately(ctx), {
      signedRevocation: signPatientMessage(buildConsentRevocation(header('chain-a', patient, patient, t.now), consentId), patient.privateKey),
      keeper: A,
    });
  const seal = (consentId: string, destChain = 'chain-b') => privately<Shared>(t.a.ledger, t.a.user, (ctx) => consent.SealConsent(ctx), { consentId, destChain });
  const send = async (args: object): Promise<Packet> =>
    (JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.SendPacket(ctx, 'chain-b', 'consent.sealed', JSON.stringify({ routeId: ROUTE, ...args })))) as { packet: Packet })
      .packet;
  const arrive = async (packet: Packet) => t.receive(packet, t.proof(await t.packetCommitment(packet.sequence)));
  const release = (ref: string, requester = B) => t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => consent.GetSealedConsent(ctx, ref, requester));
  const deliver = (sealed: string, identity: FakeIdentity = t.b.user) =>
    privately<Record<string, unknown>>(t.b.ledger, identity, (ctx) => consent.DeliverSealedConsent(ctx), { sealed });
  const checkOnB = (consentId: string, identity: FakeIdentity = t.b.user) =>
    t.b.ledger.invoke({ identity, timeMs: t.now }, async (ctx) => JSON.parse(await consent.CheckRemoteConsent(ctx, 'chain-a', consentId, 'TREAT')) as { allowed: boolean; status: string; reason: string });
  /** Every public value and key of a ledger, as one text. */
  const publicText = (ledger: FakeLedger) => [...ledger.snapshot()].map(([k, v]) => `${k}=${String(v)}`).join('\n');

  /** Grant privately, seal, send, receive: the sealed bytes the custodian releases to B. */
  async function shareToB(): Promise<{ consentId: string; shared: Shared; packet: Packet; sealed: string }> {
    const consentId = await grantPrivately();
    const shared = await seal(consentId);
    const packet = await send({ ref: shared.ref });
    const received = await arrive(packet);
    expect(received).toMatchObject({ outcome: 'success' });
    return { consentId, shared, packet, sealed: await release(shared.ref) };
  }

  it('carries a private consent to its grantee with nothing of it in public state on either chain', async () => {
    const aBefore = t.a.ledger.snapshot();
    const consentId = await grantPrivately();
    const shared = await seal(consentId);
    // Sealing writes nothing public; the sealed value is in HospitalA's collection, and its digest is Fabric's hash of it.
    expect(t.a.ledger.snapshot()).toEqual(aBefore);
    expect(shared).toMatchObject({ type: 'consent.grant', destChain: 'chain-b', consentId });
    const stored = [...(t.a.ledger.privateState.get(`_implicit_org_${A}`)?.values() ?? [])].find((v) => createHash('sha256').update(v).digest('hex') === shared.digest);
    expect(stored).toBeDefined();

    const packet = await send({ ref: shared.ref });
    expect(packet.payload).toEqual({ format: 'medbridge/sealed-consent-ref/v1', custodian: A, ref: shared.ref, digest: shared.digest });
    const received = await arrive(packet);
    expect(received).toMatchObject({ outcome: 'success', ack: { result: { digest: shared.digest, status: 'arrived' } } });

    const sealed = await release(shared.ref);
    expect(createHash('sha256').update(sealed, 'utf8').digest('hex')).toBe(shared.digest);
    const bBefore = t.b.ledger.snapshot();
    const delivered = await deliver(sealed);
    expect(delivered).toEqual({ consentId, grantee: B, sourceChain: 'chain-a', status: 'active', version: 1 });
    // Delivering writes nothing public on chain-b: the mirror and the delivered mark are in HospitalB's collection.
    expect(t.b.ledger.snapshot()).toEqual(bBefore);
    expect(await checkOnB(consentId)).toMatchObject({ allowed: true, status: 'active' });
    const arrivals = JSON.parse(await t.b.ledger.invoke({ identity: t.b.user, timeMs: t.now }, (ctx) => consent.ListSealedArrivals(ctx, 'chain-a', '10', ''))) as { items: Array<{ delivered: boolean; digest: string }> };
    expect(arrivals.items).toEqual([expect.objectContaining({ digest: shared.digest, delivered: true })]);

    // chain-b's public state names nothing of it: not the consent, the patient, their key or the purpose.
    // chain-a's names neither the consent nor its purpose (the patient's registration is public there: CONSENT.md "Who can see what").
    const secrets = [consentId, patient.patientId, patient.publicKey, 'TREAT'];
    expect(secrets.filter((x) => publicText(t.b.ledger).includes(x))).toEqual([]);
    expect(secrets.filter((x) => publicText(t.a.ledger).includes(x))).toEqual([patient.patientId, patient.publicKey]);
  });

  it('releases the sealed bytes to a grantee only: another org of the destination is ACCESS_DENIED, an unknown reference NOT_FOUND', async () => {
    const consentId = await grantPrivately();
    const shared = await seal(consentId);
    await expect(release(shared.ref, 'HospitalDMSP')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(release('0'.repeat(64))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(release(shared.ref, 'not an msp')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses deliveries that do not match an arrival, are for another org, or repeat one, and changes nothing', async () => {
    const { consentId, sealed, shared } = await shareToB();
    const parsed = JSON.parse(sealed) as Record<string, unknown>;
    // Re-encoded (not the exact bytes sealed): INVALID_ARGUMENT.
    await expectRejected(t.b.ledger, 'INVALID_ARGUMENT', () => deliver(JSON.stringify(parsed, null, 1)));
    // Another salt: other bytes, whose digest never arrived.
    await expectRejected(t.b.ledger, 'NOT_FOUND', () => deliver(canonicalize({ ...parsed, salt: 'a'.repeat(64) })));
    // HospitalD is a member of chain-b but not the grantee.
    await expectRejected(t.b.ledger, 'WRONG_DESTINATION', () => deliver(sealed, hospitalD));
    expect(await deliver(sealed)).toMatchObject({ consentId, status: 'active' });
    await expectRejected(t.b.ledger, 'STALE_VERSION', () => deliver(sealed));
    // A sealed consent names its destination: one for chain-b is not delivered on chain-a.
    await expectRejected(t.a.ledger, 'WRONG_DESTINATION', () => privately(t.a.ledger, t.a.user, (ctx) => consent.DeliverSealedConsent(ctx), { sealed }));
    expect(shared.type).toBe('consent.grant');
  });

  it('refuses to seal what this org does not keep privately, or for its own chain, and to send a reference it did not seal', async () => {
    const publicGrant = signedGrant('chain-a', patient, terms({ grantee: B, period: { start: t.now, end: t.now + 30 * DAY } }), patient, t.now);
    await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => consent.GrantConsent(ctx, JSON.stringify(publicGrant)));
    await expectRejected(t.a.ledger, 'NOT_FOUND', () => seal(consentIdOf(publicGrant.message)));
    const consentId = await grantPrivately();
    await expectRejected(t.a.ledger, 'WRONG_DESTINATION', () => seal(consentId, 'chain-a'));
    await expectRejected(t.a.ledger, 'NOT_FOUND', () => send({ ref: 'f'.repeat(64) }));
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () => send({ consentId }));
    const shared = await seal(consentId);
    // A consent.grant packet does not take a reference, and a sealed packet takes nothing else.
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () =>
      t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.SendPacket(ctx, 'chain-b', 'consent.grant', JSON.stringify({ routeId: ROUTE, consentId, ref: shared.ref }))),
    );
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () => send({ ref: shared.ref, payload: 1 }));
  });

  it('carries the revocation the same way, and a revocation delivered first makes the late grant stale', async () => {
    const { consentId, sealed: grantSealed } = await shareToB();
    await revokePrivately(consentId);
    const revoked = await seal(consentId);
    expect(revoked.type).toBe('consent.revoke');
    await arrive(await send({ ref: revoked.ref }));
    const revocationSealed = await release(revoked.ref);
    expect(await deliver(revocationSealed)).toMatchObject({ consentId, status: 'revoked', version: 2 });
    expect(await checkOnB(consentId)).toMatchObject({ allowed: false, status: 'revoked' });
    await expectRejected(t.b.ledger, 'STALE_VERSION', () => deliver(grantSealed));
  });

  it('indexes each seal under its consent at the keeper only: chain, grant or revocation, reference, oldest first', async () => {
    const { consentId, shared: granted } = await shareToB();
    await revokePrivately(consentId);
    const revoked = await seal(consentId);
    const listed = JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => consent.ListConsentSeals(ctx, consentId))) as { keeper: string; items: Array<Record<string, unknown>> };
    expect(listed.keeper).toBe(A);
    expect(listed.items.map((s) => [s.destChain, s.type, s.ref])).toEqual([
      ['chain-b', 'consent.grant', granted.ref],
      ['chain-b', 'consent.revoke', revoked.ref],
    ]);
    expect(listed.items.every((s) => s.consentId === consentId && typeof s.sealedAt === 'number' && !('salt' in s))).toBe(true);
    // Another org of chain-a does not keep the consent: NOT_FOUND, from its own peer's collection.
    const other = t.a.chain.orgs[1]!;
    const otherUser = { mspId: other.mspId, certPem: (await other.client('clerk.other')).certPem };
    await expectRejected(t.a.ledger, 'NOT_FOUND', () => t.a.ledger.invoke({ identity: otherUser, timeMs: t.now }, (ctx) => consent.ListConsentSeals(ctx, consentId)));
    await expectRejected(t.a.ledger, 'INVALID_ARGUMENT', () => t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => consent.ListConsentSeals(ctx, 'not a consent')));
  });

  it('keeps each grantee\'s copy in its own collection: another org of chain-b reads no sealed mirror', async () => {
    const { consentId, sealed } = await shareToB();
    await deliver(sealed);
    await expect(checkOnB(consentId, hospitalD)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
