/**
 * A consent v2 across chains (CONSENT.md "Consents across chains", v2): the packet payload v2
 * (the patient-signed policy, re-verified on the destination as v1, with key rotations and
 * guardians), v1 payloads unchanged beside it, the destination's mirror and its grantees, and
 * the destination's decision (CheckRemoteAccess) with the home chain's evaluator and its
 * provision path. Pure rules first, then the contracts on two fake ledgers.
 */
import { applyConsentPacket, buildConsentPacket, requireCarriable } from '../../../chaincode/src/contracts/consent-bridge';
import { canonicalize, type Json } from '../../../chaincode/src/protocol/canonical-json';
import {
  buildConsentPolicyGrant,
  buildKeyRotation,
  signKeyRotation,
  signPatientMessage,
  verifyPatientMessage,
  type SignedKeyRotation,
} from '../../../chaincode/src/protocol/patient-messages';
import { orgRequester } from '../../../chaincode/src/rules/access-rules';
import { grantConsent, grantPolicyConsent, revokeConsent, type PolicyConsent, type SignedBy } from '../../../chaincode/src/rules/consent-rules';
import type { RecordMetadata } from '../../../chaincode/src/rules/consent-policy';
import { idPublicKeyOf, registerPatient } from '../../../chaincode/src/rules/patient-rules';
import {
  applyConsentPacketRule,
  consentPacketOf,
  CONSENT_PACKET_V2,
  policyConsentPacketOf,
  requireEnforceableAt,
  verifyConsentPacket,
  type PolicyConsentPacketPayload,
  type RemotePolicyConsent,
} from '../../../chaincode/src/rules/remote-consent-rules';
import { decideRemoteAccess, parseRemoteAccessRequest } from '../../../chaincode/src/rules/remote-access-rules';
import type { FakeLedger } from '../support/fake-ledger';
import { expectRejected as expectRejectedOn, ROUTE, TwoChains } from '../crosschain/harness';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import {
  channel,
  consentCaller,
  DAY,
  expectCodeSync,
  expectRejected,
  header,
  HOUR,
  json,
  newKey,
  orgs,
  signedDelegation,
  signedGrant,
  signedRevocation,
  T0,
  terms,
  type KeyHolder,
  type Orgs,
} from './support';

const HOME = 'chain-a';
const DEST_MEMBERS = ['HospitalBMSP', 'HospitalCMSP'];
const FORMAT = 'medbridge/consent-policy/v2';
const PERIOD = { start: T0, end: T0 + 30 * DAY };
/** Permit all, deny PSY, except for Dr X's care team at HospitalB. */
const NESTED = {
  format: FORMAT,
  decision: 'permit',
  period: PERIOD,
  provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }] }],
};
/** Permits HospitalC only. */
const ONLY_C = { format: FORMAT, decision: 'deny', period: PERIOD, provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP' }] }] };

const patient = newKey();
const self: SignedBy = { keyId: patient.keyId, authority: 'patient', delegation: null };

const signedPolicy = (policy: unknown, signer: KeyHolder = patient, p: KeyHolder = patient) => signPatientMessage(buildConsentPolicyGrant(header(HOME, p, signer), policy), signer.privateKey);
function grantedPolicy(policy: unknown = NESTED, signer: KeyHolder = patient, signedBy: SignedBy = self): PolicyConsent {
  const v = verifyPatientMessage(signedPolicy(policy, signer), { channel: HOME, kinds: ['consent.grant-policy'] });
  return grantPolicyConsent(v, signedBy, T0, 'tx-grant');
}
function revokedOf(c: PolicyConsent): PolicyConsent {
  const v = verifyPatientMessage(signedRevocation(HOME, patient, c.consentId), { channel: HOME, kinds: ['consent.revoke'] });
  return revokeConsent(c, v, self, T0 + 1, 'tx-rev');
}
const packet = (c: PolicyConsent, rotations: SignedKeyRotation[] = []) => policyConsentPacketOf(c, patient.publicKey, rotations);
const roundTrip = (p: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(p)) as Record<string, unknown>;

const record = (labels: string[] = [], recordId = 'rec-obs-1'): RecordMetadata => ({
  recordId,
  resourceType: 'Observation',
  securityLabels: labels,
  dataDate: T0 - 100 * DAY,
  authorOrg: 'HospitalAMSP',
  custodian: 'HospitalAMSP',
  documentClasses: [],
});
const drX = { org: 'HospitalBMSP', role: null, practitioner: null, careTeam: 'ct-dr-x', policy: null };

describe('consent v2 packets', () => {
  it('carries an active consent v2 as consent.grant with format v2 and the signed policy once, a revoked one as consent.revoke', () => {
    const c = grantedPolicy();
    const g = packet(c);
    expect(g).toMatchObject({ type: 'consent.grant', payload: { format: CONSENT_PACKET_V2, version: 1, status: 'active', homeChain: HOME, revocation: null } });
    expect(g.payload.grant.message.policy).toEqual(NESTED);
    expect(Object.keys(g.payload).sort()).toEqual(
      ['consentId', 'format', 'grant', 'grantDelegation', 'homeChain', 'patientId', 'patientPublicKey', 'revocation', 'revocationDelegation', 'status', 'version'].sort(),
    );
    expect(packet(revokedOf(c))).toMatchObject({ type: 'consent.revoke', payload: { version: 2, status: 'revoked' } });
  });

  it('round-trips: the destination re-verifies the grant and the revocation from their JSON', () => {
    const c = grantedPolicy();
    const g = packet(c);
    expect(verifyConsentPacket(HOME, g.type, roundTrip(g.payload))).toEqual(roundTrip(g.payload));
    const r = packet(revokedOf(c));
    expect(verifyConsentPacket(HOME, r.type, roundTrip(r.payload)).status).toBe('revoked');
  });

  it('refuses a forged patient signature, and a policy changed in transit', () => {
    const g = packet(grantedPolicy());
    const forged = signedPolicy(NESTED, newKey(), patient);
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, { ...roundTrip(g.payload), grant: { ...g.payload.grant, signature: forged.signature } }), 'PATIENT_SIGNATURE_INVALID');
    const widened = { ...NESTED, provisions: [] as unknown[] };
    const tampered = { ...g.payload.grant, message: { ...g.payload.grant.message, policy: widened } };
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, { ...roundTrip(g.payload), grant: tampered }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('refuses a v1 grant message in a v2 payload, terms in a v2 payload, and an unknown format', () => {
    const g = packet(grantedPolicy());
    const v1 = signedGrant(HOME, patient, terms());
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, { ...roundTrip(g.payload), grant: v1 }), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, { ...roundTrip(g.payload), terms: terms() }), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, { ...roundTrip(g.payload), format: 'medbridge/consent-packet/v3' }), 'INVALID_ARGUMENT');
  });

  it('verifies a guardian-signed policy with the patient-signed delegation, and refuses it without', () => {
    const guardian = newKey();
    const delegation = signedDelegation(HOME, patient, guardian, T0 + 10 * DAY);
    const g = packet(grantedPolicy(NESTED, guardian, { keyId: guardian.keyId, authority: 'guardian', delegation }));
    expect(g.payload.grantDelegation).toEqual(delegation);
    expect(() => verifyConsentPacket(HOME, g.type, roundTrip(g.payload))).not.toThrow();
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, { ...roundTrip(g.payload), grantDelegation: null }), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('verifies a policy signed with a rotated key through the carried rotations, and refuses it without them', () => {
    const next = newKey();
    const rotation = signKeyRotation(buildKeyRotation(header(HOME, patient), next.publicKey), patient.privateKey, next.privateKey);
    const v = verifyPatientMessage(signedPolicy(NESTED, next, patient), { channel: HOME, kinds: ['consent.grant-policy'] });
    const c = grantPolicyConsent(v, { keyId: next.keyId, authority: 'patient', delegation: null }, T0, 'tx');
    const g = packet(c, [rotation]);
    expect(() => verifyConsentPacket(HOME, g.type, roundTrip(g.payload))).not.toThrow();
    const { keyRotations: _r, ...without } = roundTrip(g.payload);
    expectCodeSync(() => verifyConsentPacket(HOME, g.type, without), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('leaves v1 payloads as they were: no format field, the same fields, and a v1 payload with a format is refused', () => {
    const v = verifyPatientMessage(signedGrant(HOME, patient, terms()), { channel: HOME, kinds: ['consent.grant'] });
    const p = consentPacketOf(grantConsent(v, self, T0, 'tx'), patient.publicKey);
    expect(Object.keys(p.payload).sort()).toEqual(
      ['consentId', 'grant', 'grantDelegation', 'homeChain', 'patientId', 'patientPublicKey', 'revocation', 'revocationDelegation', 'status', 'terms', 'version'].sort(),
    );
    expect(verifyConsentPacket(HOME, p.type, roundTrip(p.payload))).toEqual(roundTrip(p.payload));
    expectCodeSync(() => verifyConsentPacket(HOME, p.type, { ...roundTrip(p.payload), format: CONSENT_PACKET_V2 }), 'INVALID_ARGUMENT');
  });

  it('refuses at send time a policy that permits no org of the destination (WRONG_DESTINATION) or an unregistered destination (UNKNOWN_CHAIN)', () => {
    expect(() => requireEnforceableAt(grantedPolicy().policy, 'cs_1', 'chain-b', ['HospitalBMSP'])).not.toThrow();
    expectCodeSync(() => requireEnforceableAt(grantedPolicy(ONLY_C).policy, 'cs_1', 'chain-b', ['HospitalBMSP', 'HospitalDMSP']), 'WRONG_DESTINATION');
    expectCodeSync(() => requireEnforceableAt(grantedPolicy().policy, 'cs_1', 'chain-b', undefined), 'UNKNOWN_CHAIN');
  });

  it('refuses at grant time a consent v2 whose packet would not fit, as v1 (PROOF_TOO_LARGE)', () => {
    const c = grantedPolicy();
    const p = registerPatient(undefined, patient.publicKey, 'HospitalAMSP', T0);
    expect(idPublicKeyOf(p)).toBe(patient.publicKey);
    expect(() => requireCarriable(c, p)).not.toThrow();
    // Synthetic: the parser's bounds keep a real policy far below the packet limit.
    const huge = { ...c, grant: { ...c.grant, message: { ...c.grant.message, policy: { ...c.policy, note: 'x'.repeat(30_000) } } } } as unknown as PolicyConsent;
    expectCodeSync(() => requireCarriable(huge, p), 'PROOF_TOO_LARGE');
  });
});

describe('consent v2 mirror on the destination', () => {
  const c = grantedPolicy();
  const g = packet(c);
  const r = packet(revokedOf(c));
  const apply = (type: 'consent.grant' | 'consent.revoke', p: PolicyConsentPacketPayload, existing?: RemotePolicyConsent, members = DEST_MEMBERS, now = T0 + 2) =>
    applyConsentPacketRule(existing, HOME, type, p, members, now, 'tx') as RemotePolicyConsent;

  it('mirrors the signed policy with the members it can permit as grantees, then its revocation', () => {
    const m1 = apply('consent.grant', g.payload);
    expect(m1).toMatchObject({ format: FORMAT, version: 1, status: 'active', grantees: DEST_MEMBERS, policy: NESTED, sourceChain: HOME, patientId: patient.patientId });
    expect(m1).not.toHaveProperty('grantee');
    const m2 = apply('consent.revoke', r.payload, m1);
    expect(m2).toMatchObject({ version: 2, status: 'revoked' });
  });

  it('names only the members a policy can permit, and refuses one that permits none of them', () => {
    const only = packet(grantedPolicy(ONLY_C));
    expect(apply('consent.grant', only.payload).grantees).toEqual(['HospitalCMSP']);
    expectCodeSync(() => apply('consent.grant', only.payload, undefined, ['HospitalBMSP']), 'WRONG_DESTINATION');
  });

  it('refuses a replay after the revocation (STALE_VERSION) and a grant that expired on the way (CONSENT_EXPIRED)', () => {
    const m2 = apply('consent.revoke', r.payload);
    expectCodeSync(() => apply('consent.grant', g.payload, m2), 'STALE_VERSION');
    expectCodeSync(() => apply('consent.grant', g.payload, undefined, DEST_MEMBERS, PERIOD.end), 'CONSENT_EXPIRED');
  });
});

describe('the destination decides with the home evaluator', () => {
  const c = grantedPolicy();
  const mirror = applyConsentPacketRule(undefined, HOME, 'consent.grant', packet(c).payload, DEST_MEMBERS, T0 + 2, 'tx');
  const at = T0 + HOUR;

  it("permits a general record [], denies a PSY record [0], and permits it for Dr X's care team [0, 0]", () => {
    const base = { consentId: c.consentId, emergencyId: null, status: 'active', sourceChain: HOME, version: 1 };
    expect(decideRemoteAccess(mirror, { requester: orgRequester('HospitalBMSP'), purpose: 'TREAT', record: record() }, at)).toEqual({ ...base, allowed: true, reason: 'consent', provisionPath: [] });
    expect(decideRemoteAccess(mirror, { requester: orgRequester('HospitalBMSP'), purpose: 'TREAT', record: record(['PSY']) }, at)).toEqual({
      ...base,
      allowed: false,
      reason: 'consent-denied',
      provisionPath: [0],
    });
    expect(decideRemoteAccess(mirror, { requester: drX, purpose: 'TREAT', record: record(['PSY']) }, at)).toEqual({ ...base, allowed: true, reason: 'consent', provisionPath: [0, 0] });
    expect(decideRemoteAccess(mirror, { requester: { ...drX, org: 'HospitalCMSP' }, purpose: 'TREAT', record: record(['PSY']) }, at)).toMatchObject({ allowed: false, provisionPath: [0] });
  });

  it('denies everything once revoked, and outside the period', () => {
    const revoked = applyConsentPacketRule(mirror, HOME, 'consent.revoke', packet(revokedOf(c)).payload, DEST_MEMBERS, T0 + 3, 'tx');
    expect(decideRemoteAccess(revoked, { requester: drX, purpose: 'TREAT', record: record() }, at)).toMatchObject({ allowed: false, reason: 'consent-revoked', status: 'revoked' });
    expect(decideRemoteAccess(mirror, { requester: drX, purpose: 'TREAT', record: record() }, PERIOD.end)).toMatchObject({ allowed: false, reason: 'consent-expired', status: 'expired' });
  });

  it('decides a v1 mirror by its terms, the resource type standing for the category', () => {
    const v = verifyPatientMessage(signedGrant(HOME, patient, terms({ grantee: 'HospitalBMSP', period: PERIOD })), { channel: HOME, kinds: ['consent.grant'] });
    const v1 = applyConsentPacketRule(undefined, HOME, 'consent.grant', consentPacketOf(grantConsent(v, self, T0, 'tx'), patient.publicKey).payload, DEST_MEMBERS, T0 + 2, 'tx');
    expect(decideRemoteAccess(v1, { requester: orgRequester('HospitalBMSP'), purpose: 'TREAT', record: record() }, at)).toMatchObject({ allowed: true, reason: 'consent', status: 'active' });
    expect(decideRemoteAccess(v1, { requester: orgRequester('HospitalCMSP'), purpose: 'TREAT', record: record() }, at)).toMatchObject({ allowed: false, reason: 'no-consent' });
  });

  it('parses the request exactly and refuses malformed record facts (INVALID_ARGUMENT)', () => {
    const q = parseRemoteAccessRequest(JSON.parse(json({ requester: { org: 'HospitalBMSP', careTeam: 'ct-dr-x' }, purpose: 'TREAT', record: { ...record(['R', 'PSY']) } })));
    expect(q).toEqual({ requester: drX, purpose: 'TREAT', record: record(['PSY', 'R']) });
    const { documentClasses: _d, ...noClasses } = record();
    expect(parseRemoteAccessRequest({ requester: { org: 'HospitalBMSP' }, purpose: 'TREAT', record: noClasses }).record.documentClasses).toEqual([]);
    expectCodeSync(() => parseRemoteAccessRequest({ requester: { org: 'HospitalBMSP' }, purpose: 'TREAT', record: { ...record(), hash: 'x' } }), 'INVALID_ARGUMENT');
    expectCodeSync(() => parseRemoteAccessRequest({ requester: { org: 'HospitalBMSP' }, purpose: 'TREAT' }), 'INVALID_ARGUMENT');
    expectCodeSync(() => decideRemoteAccess(mirror, { requester: drX, purpose: 'TREAT', record: record(['NOPE']) }, at), 'INVALID_ARGUMENT');
  });
});

describe('consent v2 bridge between chain-a (home) and chain-b (grantee) contracts', () => {
  let o: Orgs;
  let a: FakeLedger;
  let b: FakeLedger;
  let p: KeyHolder;
  let consentId: string;

  beforeAll(async () => {
    o = await orgs();
  });

  beforeEach(async () => {
    a = await channel('chain-a', ['HospitalAMSP', 'HospitalCMSP'], o.adminA);
    b = await channel('chain-b', ['HospitalBMSP', 'HospitalCMSP'], o.adminA);
    p = newKey();
    const callA = consentCaller(a);
    await callA(o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, p.publicKey));
    const signed = signPatientMessage(buildConsentPolicyGrant(header('chain-a', p), NESTED), p.privateKey);
    consentId = (await callA(o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signed)))).consentId as string;
  });

  const build = (at = T0 + 1) => a.invoke({ identity: o.userA, timeMs: at }, (ctx) => buildConsentPacket(ctx, consentId));
  const apply = (pk: { type: string; payload: Json }, at = T0 + 2) => b.invoke({ identity: o.userB, timeMs: at }, (ctx) => applyConsentPacket(ctx, 'chain-a', pk.type, pk.payload));
  const access = (requester: object, labels: string[], at = T0 + HOUR) =>
    consentCaller(b)(o.userB, at, (c, ctx) => c.CheckRemoteAccess(ctx, 'chain-a', consentId, json({ requester, purpose: 'TREAT', record: record(labels) })));

  it('applies the grant, lists it for each grantee it can permit there, and decides per record and requester', async () => {
    expect(await apply(await build())).toEqual({ consentId, grantees: ['HospitalBMSP', 'HospitalCMSP'], sourceChain: 'chain-a', status: 'active', version: 1 });
    expect(b.events).toEqual([]);
    for (const grantee of ['HospitalBMSP', 'HospitalCMSP']) {
      const list = await consentCaller(b)<{ items: Array<Record<string, unknown>> }>(o.userB, T0 + 3, (c, ctx) => c.ListRemoteConsents(ctx, grantee, '', ''));
      expect(list.items.map((m) => [m.consentId, m.effectiveStatus, canonicalize(m.policy as Json)])).toEqual([[consentId, 'active', canonicalize(NESTED)]]);
    }
    expect(await access({ org: 'HospitalBMSP' }, [])).toMatchObject({ allowed: true, reason: 'consent', provisionPath: [] });
    expect(await access({ org: 'HospitalBMSP' }, ['PSY'])).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
    expect(await access({ org: 'HospitalBMSP', careTeam: 'ct-dr-x' }, ['PSY'])).toMatchObject({ allowed: true, reason: 'consent', provisionPath: [0, 0] });
  });

  it('carries the revocation: every request is then denied there', async () => {
    await apply(await build());
    await consentCaller(a)(o.userA, T0 + HOUR, (c, ctx) => c.RevokeConsent(ctx, json(signedRevocation('chain-a', p, consentId))));
    const revoke = await build(T0 + 2 * HOUR);
    expect(revoke.type).toBe('consent.revoke');
    expect(await apply(revoke, T0 + 3 * HOUR)).toMatchObject({ status: 'revoked', version: 2 });
    for (const [requester, labels] of [[{ org: 'HospitalBMSP' }, []], [{ org: 'HospitalBMSP', careTeam: 'ct-dr-x' }, ['PSY']]] as const) {
      expect(await access(requester, [...labels], T0 + 4 * HOUR)).toMatchObject({ allowed: false, reason: 'consent-revoked', status: 'revoked' });
    }
  });

  it('refuses the purpose-only check on a consent v2 mirror (INVALID_ARGUMENT): it decides per record', async () => {
    await apply(await build());
    await expectRejected(b, () => consentCaller(b)(o.userB, T0 + HOUR, (c, ctx) => c.CheckRemoteConsent(ctx, 'chain-a', consentId, 'TREAT')), 'INVALID_ARGUMENT');
  });

  it('refuses a v2 packet whose signature was forged, and writes nothing', async () => {
    const pk = await build();
    const pl = pk.payload as Record<string, Record<string, Json>>;
    const forged = signPatientMessage(buildConsentPolicyGrant(header('chain-a', p), NESTED), newKey().privateKey);
    await expectRejected(b, () => apply({ type: pk.type, payload: { ...pl, grant: { ...pl.grant, signature: forged.signature } } }), 'PATIENT_SIGNATURE_INVALID');
    await expectRejected(b, () => access({ org: 'HospitalBMSP' }, []), 'NOT_FOUND');
  });
});

describe('CrossChain:GrantAndSend and SendPacket with a consent v2', () => {
  let t: TwoChains;
  let p: KeyHolder;
  const consentContract = new ConsentContract();

  beforeEach(async () => {
    t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    p = newKey();
    await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => consentContract.RegisterPatient(ctx, p.publicKey));
  });

  const policyJson = (policy: object) => {
    const period = { start: t.now - HOUR, end: t.now + 30 * DAY };
    return JSON.stringify(signPatientMessage(buildConsentPolicyGrant(header('chain-a', p, p, t.now), { ...policy, period }), p.privateKey));
  };
  const grantAndSend = async (signed: string) =>
    JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.GrantAndSend(ctx, signed, 'chain-b', JSON.stringify({ routeId: ROUTE })))) as {
      consent: { consentId: string };
      sent: { packet: { sequence: number; type: string; payload: { format?: string } } };
    };

  it('sends the grant with its v2 payload in one transaction; chain-b applies it and decides with it', async () => {
    const out = await grantAndSend(policyJson(NESTED));
    expect(out.sent.packet).toMatchObject({ type: 'consent.grant', payload: { format: CONSENT_PACKET_V2 } });
    const received = await t.receive(out.sent.packet, t.proof(await t.packetCommitment(1)));
    expect(received).toMatchObject({ outcome: 'success', ack: { result: { consentId: out.consent.consentId, grantees: ['HospitalBMSP', 'HospitalDMSP'] } } });
    const decided = JSON.parse(
      await t.b.ledger.invoke({ identity: t.b.user, timeMs: t.tick() }, (ctx) =>
        consentContract.CheckRemoteAccess(ctx, 'chain-a', out.consent.consentId, json({ requester: { org: 'HospitalBMSP' }, purpose: 'TREAT', record: record(['PSY']) })),
      ),
    ) as Record<string, unknown>;
    expect(decided).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
  });

  it('stores and sends nothing for a policy that permits no org of chain-b (WRONG_DESTINATION), by GrantAndSend or SendPacket', async () => {
    await expectRejectedOn(t.a.ledger, 'WRONG_DESTINATION', () => grantAndSend(policyJson(ONLY_C)));
    const granted = JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => consentContract.GrantConsent(ctx, policyJson(ONLY_C)))) as { consentId: string };
    await expectRejectedOn(t.a.ledger, 'WRONG_DESTINATION', () =>
      t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick() }, (ctx) => t.cc.SendPacket(ctx, 'chain-b', 'consent.grant', JSON.stringify({ routeId: ROUTE, consentId: granted.consentId }))),
    );
    expect((await t.routeOn(t.a)).nextSendSequence).toBe(1);
  });
});
