import { applyConsentPacket, buildConsentPacket } from '../../../chaincode/src/contracts/consent-bridge';
import type { Json } from '../../../chaincode/src/protocol/canonical-json';
import type { FakeLedger } from '../support/fake-ledger';
import {
  channel,
  consentCaller,
  DAY,
  expectRejected,
  HOUR,
  json,
  newKey,
  orgs,
  signedGrant,
  signedRevocation,
  T0,
  terms,
  type KeyHolder,
  type Orgs,
} from './support';

interface Packet {
  type: 'consent.grant' | 'consent.revoke';
  payload: Json;
}

describe('consent bridge between chain-a (home) and chain-b (grantee)', () => {
  let o: Orgs;
  let a: FakeLedger;
  let b: FakeLedger;
  let patient: KeyHolder;
  let consentId: string;

  beforeAll(async () => {
    o = await orgs();
  });

  beforeEach(async () => {
    a = await channel('chain-a', ['HospitalAMSP', 'HospitalCMSP'], o.adminA);
    b = await channel('chain-b', ['HospitalBMSP', 'HospitalCMSP'], o.adminA);
    patient = newKey();
    const callA = consentCaller(a);
    await callA(o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, patient.publicKey));
    const granted = await callA(o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', patient, terms({ grantee: 'HospitalBMSP' })))));
    consentId = granted.consentId as string;
  });

  const build = (at = T0 + 1): Promise<Packet> => a.invoke({ identity: o.userA, timeMs: at }, (ctx) => buildConsentPacket(ctx, consentId));
  const apply = (p: { type: string; payload: unknown }, at = T0 + 2, source = 'chain-a', ledger = b) =>
    ledger.invoke({ identity: o.userB, timeMs: at }, (ctx) => applyConsentPacket(ctx, source, p.type, p.payload as Json));
  const revokeOnA = () =>
    consentCaller(a)(o.userA, T0 + HOUR, (c, ctx) => c.RevokeConsent(ctx, json(signedRevocation('chain-a', patient, consentId))));
  const checkOnB = (at: number) =>
    consentCaller(b)(o.userB, at, (c, ctx) => c.CheckRemoteConsent(ctx, 'chain-a', consentId, 'TREAT'));

  it('builds the grant packet from home state with the patient-signed grant and key', async () => {
    const p = await build();
    expect(p.type).toBe('consent.grant');
    expect(p.payload).toMatchObject({ consentId, version: 1, status: 'active', homeChain: 'chain-a', patientId: patient.patientId, patientPublicKey: patient.publicKey });
  });

  it('applies a grant on the destination, writes no event, and lists it for the grantee', async () => {
    const result = await apply(await build());
    expect(result).toEqual({ consentId, grantee: 'HospitalBMSP', sourceChain: 'chain-a', status: 'active', version: 1 });
    expect(b.events).toEqual([]);
    expect(await checkOnB(T0 + 3)).toMatchObject({ allowed: true, reason: 'consent', status: 'active', version: 1 });
    const list = await consentCaller(b)<{ items: Array<Record<string, unknown>> }>(o.userB, T0 + 3, (c, ctx) => c.ListRemoteConsents(ctx, 'HospitalBMSP', '', ''));
    expect(list.items.map((m) => [m.consentId, m.effectiveStatus])).toEqual([[consentId, 'active']]);
  });

  it('carries a revocation at a higher version; the mirror then refuses', async () => {
    await apply(await build());
    await revokeOnA();
    const p = await build(T0 + 2 * HOUR);
    expect(p).toMatchObject({ type: 'consent.revoke', payload: { version: 2, status: 'revoked' } });
    expect(await apply(p, T0 + 3 * HOUR)).toMatchObject({ status: 'revoked', version: 2 });
    expect(await checkOnB(T0 + 3 * HOUR)).toMatchObject({ allowed: false, reason: 'consent-revoked' });
  });

  it('rejects a grant replayed after its revocation and changes nothing', async () => {
    const grantPacket = await build();
    await apply(grantPacket);
    await revokeOnA();
    await apply(await build(T0 + 2 * HOUR), T0 + 3 * HOUR);
    await expectRejected(b, () => apply(grantPacket, T0 + 4 * HOUR), 'STALE_VERSION');
  });

  it('applies a revocation that overtakes its grant, and then refuses the late grant', async () => {
    const grantPacket = await build();
    await revokeOnA();
    await apply(await build(T0 + 2 * HOUR), T0 + 3 * HOUR);
    await expectRejected(b, () => apply(grantPacket, T0 + 4 * HOUR), 'STALE_VERSION');
  });

  it('rejects a payload whose terms were changed in transit', async () => {
    const p = await build();
    const payload = { ...(p.payload as Record<string, Json>), terms: terms({ grantee: 'HospitalBMSP', purposes: ['TREAT', 'HRESCH'] }) as unknown as Json };
    await expectRejected(b, () => apply({ type: p.type, payload }), 'INVALID_ARGUMENT');
  });

  it('rejects a grant whose patient signature was forged', async () => {
    const p = await build();
    const pl = p.payload as Record<string, Record<string, Json>>;
    const forged = signedGrant('chain-a', patient, terms(), newKey());
    const payload = { ...pl, grant: { ...pl.grant, signature: forged.signature } };
    await expectRejected(b, () => apply({ type: p.type, payload }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a packet claimed to come from another chain than the grant was signed for', async () => {
    await expectRejected(b, async () => apply(await build(), T0 + 2, 'chain-c'), 'WRONG_CHANNEL');
  });

  it('rejects a consent packet applied on its own home chain', async () => {
    await expectRejected(a, async () => apply(await build(), T0 + 2, 'chain-a', a), 'WRONG_CHANNEL');
  });

  it('rejects a grant that expired before it arrived', async () => {
    await expectRejected(b, async () => apply(await build(), T0 + 30 * DAY), 'CONSENT_EXPIRED');
  });

  it('rejects a packet type outside the consent allowlist', async () => {
    const p = await build();
    await expectRejected(b, () => apply({ type: 'record.read', payload: p.payload }), 'PACKET_TYPE_NOT_ALLOWED');
  });

  it('refuses to build a packet for an unknown consent', async () => {
    await expectRejected(a, () => a.invoke({ identity: o.userA, timeMs: T0 }, (ctx) => buildConsentPacket(ctx, `cs_${'0'.repeat(64)}`)), 'NOT_FOUND');
  });
});
