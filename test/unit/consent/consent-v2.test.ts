/**
 * Consent v2 in the Consent contract (CONSENT.md "Consent language (v2)", wiring): patient- and
 * guardian-signed policy grants, refusals at grant time, decisions by evaluateConsentPolicy
 * against the record's metadata and the requester, the provision path in the access log, the
 * grantee index, and v1 consents deciding as before beside them.
 */
import { buildConsentPolicyGrant, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { key, KeyTypes } from '../../../chaincode/src/state/keys';
import { buildConsentPacket } from '../../../chaincode/src/contracts/consent-bridge';
import {
  DAY,
  expectCode,
  expectRejected,
  header,
  HOUR,
  json,
  newKey,
  signedDelegation,
  signedGrant,
  signedRevocation,
  T0,
  terms,
  usePatientChannel,
  type KeyHolder,
  breakGlassTx,
  logAccessAsTx,
  logAccessTx,
} from './support';

const H = '4'.repeat(64);
const PERIOD = { start: T0, end: T0 + 30 * DAY };
const FORMAT = 'medbridge/consent-policy/v2';
/** Permit all, deny PSY, except for Dr X's care team at HospitalB. */
const NESTED = {
  format: FORMAT,
  decision: 'permit',
  period: PERIOD,
  provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }] }],
};
const PSY = { securityLabels: ['PSY'], dataDate: T0 - 100 * DAY, authorOrg: 'HospitalAMSP' };

type Decision = { allowed: boolean; reason: string; consentId: string | null; emergencyId: string | null; provisionPath?: number[] };

describe('consent v2 in the Consent contract', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalBMSP', 'HospitalCMSP'], async () => {
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'psy-1', fx.patient.patientId, 'Observation', H, json(PSY)));
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'obs-1', fx.patient.patientId, 'Observation', H, json({ ...PSY, securityLabels: [] })));
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, 'old-1', fx.patient.patientId, 'Observation', H));
  });

  const policyGrant = (policy: unknown, signer: KeyHolder = fx.patient) => signPatientMessage(buildConsentPolicyGrant(header('chain-a', fx.patient, signer), policy), signer.privateKey);
  const grant = async (policy: unknown, signer: KeyHolder = fx.patient) =>
    fx.call<{ consentId: string; grantees: string[]; effectiveStatus: string }>(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(policyGrant(policy, signer))));
  const checkAs = (requester: Record<string, string>, recordId: string, purpose = 'TREAT', at = T0 + HOUR) =>
    fx.call<Decision>(fx.o.userC, at, (c, ctx) => c.CheckAccessAs(ctx, json(requester), recordId, purpose));
  const check = (grantee: string, recordId: string, purpose = 'TREAT', at = T0 + HOUR) => fx.call<Decision>(fx.o.userC, at, (c, ctx) => c.CheckAccess(ctx, grantee, recordId, purpose));
  const indexKeys = () => [...fx.ledger.snapshot().keys()].filter((k) => k.includes(KeyTypes.PolicyConsentByPatient));

  describe('granting', () => {
    it('stores a patient-signed policy, indexed once under its patient, with one event naming no single grantee', async () => {
      const c = await grant(NESTED);
      expect(c).toMatchObject({ format: FORMAT, grantees: ['*'], status: 'active', effectiveStatus: 'active', version: 1, policy: NESTED });
      expect(indexKeys()).toHaveLength(1);
      expect(fx.ledger.events.at(-1)).toMatchObject({ name: 'ConsentGranted' });
      expect(fx.ledger.events.at(-1)?.payload).toMatchObject({ consentId: c.consentId, grantee: null, grantees: ['*'], periodEnd: PERIOD.end });
    });

    it('decides a policy that permits named orgs for those orgs only; its index names the patient, not them', async () => {
      const c = await grant({ format: FORMAT, decision: 'deny', period: PERIOD, provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP' }], purposes: ['TREAT'] }] });
      expect(c.grantees).toEqual(['HospitalBMSP']);
      await fx.ledger.invoke({ identity: fx.o.userC, timeMs: T0 }, async (ctx) => {
        expect(indexKeys()).toEqual([key(ctx.stub, KeyTypes.PolicyConsentByPatient, fx.patient.patientId, c.consentId)]);
        return '';
      });
      expect(await check('HospitalBMSP', 'obs-1')).toEqual({ allowed: true, reason: 'consent', consentId: c.consentId, emergencyId: null, provisionPath: [0] });
      expect(await check('HospitalBMSP', 'obs-1', 'HRESCH')).toEqual({ allowed: false, reason: 'out-of-scope', consentId: null, emergencyId: null });
      expect(await check('HospitalCMSP', 'obs-1')).toEqual({ allowed: false, reason: 'no-consent', consentId: null, emergencyId: null });
    });

    it('lets an authorised guardian sign a policy for the patient', async () => {
      const guardian = newKey();
      await fx.call(fx.o.userA, T0, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation('chain-a', fx.patient, guardian))));
      const c = await grant(NESTED, guardian);
      expect(c).toMatchObject({ grantSignedBy: { authority: 'guardian', keyId: guardian.keyId } });
    });

    it('refuses what the engine cannot enforce with CONSENT_POLICY_INVALID naming the element, and changes nothing', async () => {
      const signed = policyGrant(NESTED);
      const unknownField = { ...signed, message: { ...signed.message, policy: { ...NESTED, provisions: [{ securityLabels: ['PSY'], code: 'x' }] } } };
      const resigned = (policy: unknown) => signPatientMessage({ ...policyGrant(NESTED).message, policy } as never, fx.patient.privateKey);
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(resigned({ ...NESTED, provisions: [{ securityLabels: ['PSY'], code: 'x' }] })))), 'CONSENT_POLICY_INVALID');
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(resigned({ ...NESTED, provisions: [{ securityLabels: ['PSY', 'ETH'] }] })))), 'CONSENT_POLICY_INVALID');
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(resigned({ ...NESTED, provisions: [{ securityLabels: ['PSYCH'] }] })))), 'CONSENT_POLICY_INVALID');
      // A signature over other bytes than those sent is refused before the policy is read.
      await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(unknownField))), 'PATIENT_SIGNATURE_INVALID');
      await expect(fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(resigned({ ...NESTED, provisions: [{ securityLabels: ['PSYCH'] }] }))))).rejects.toThrow(
        /policy\.provisions\[0\]\.securityLabels/,
      );
    });

    it('refuses a policy that permits nobody, one without a bounded period and one already ended', async () => {
      await expectRejected(fx.ledger, () => grant({ format: FORMAT, decision: 'deny', period: PERIOD }), 'CONSENT_POLICY_INVALID');
      await expectRejected(fx.ledger, () => grant({ format: FORMAT, decision: 'permit', period: { start: T0 } }), 'INVALID_ARGUMENT');
      await expectRejected(fx.ledger, () => grant({ format: FORMAT, decision: 'permit', period: { start: T0 - 10 * DAY, end: T0 - DAY } }), 'CONSENT_EXPIRED');
    });

    it('carries a consent v2 across chains as a v2 payload holding the signed policy', async () => {
      const c = await grant(NESTED);
      const built = await fx.ledger.invoke({ identity: fx.o.userA, timeMs: T0 + 1 }, async (ctx) => JSON.stringify(await buildConsentPacket(ctx, c.consentId)));
      const p = JSON.parse(built) as { type: string; payload: { format: string; consentId: string; grant: { message: { kind: string; policy: unknown } } } };
      expect(p.type).toBe('consent.grant');
      expect(p.payload).toMatchObject({ format: 'medbridge/consent-packet/v2', consentId: c.consentId, grant: { message: { kind: 'consent.grant-policy', policy: NESTED } } });
      expect(p.payload).not.toHaveProperty('terms');
    });
  });

  describe('deciding', () => {
    it('decides the nested consent: an ordinary record permit [], a PSY record deny [0], and permit [0, 0] for the care team', async () => {
      const c = await grant(NESTED);
      expect(await check('HospitalBMSP', 'obs-1')).toEqual({ allowed: true, reason: 'consent', consentId: c.consentId, emergencyId: null, provisionPath: [] });
      expect(await check('HospitalBMSP', 'psy-1')).toEqual({ allowed: false, reason: 'consent-denied', consentId: c.consentId, emergencyId: null, provisionPath: [0] });
      expect(await checkAs({ org: 'HospitalBMSP', careTeam: 'ct-dr-x' }, 'psy-1')).toEqual({ allowed: true, reason: 'consent', consentId: c.consentId, emergencyId: null, provisionPath: [0, 0] });
      expect(await checkAs({ org: 'HospitalCMSP', careTeam: 'ct-dr-x' }, 'psy-1')).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
    });

    it('logs the deciding provision path and what the requester stated, granted and refused alike', async () => {
      const c = await grant(NESTED);
      const denied = await fx.call<Decision>(fx.o.userA, T0 + HOUR, (cc, ctx) => logAccessTx('HospitalBMSP', 'psy-1', 'TREAT', 'rq-1')(cc, ctx));
      expect(denied).toMatchObject({ allowed: false, reason: 'consent-denied', consentId: c.consentId, provisionPath: [0] });
      const granted = await fx.call<Decision>(fx.o.userA, T0 + HOUR + 1, (cc, ctx) =>
        logAccessAsTx({ org: 'HospitalBMSP', role: 'clinician', careTeam: 'ct-dr-x' }, 'psy-1', 'TREAT', 'rq-2')(cc, ctx),
      );
      expect(granted).toMatchObject({ allowed: true, reason: 'consent', provisionPath: [0, 0] });
      const log = await fx.call<{ items: Array<Record<string, unknown>> }>(fx.o.userA, T0 + 2 * HOUR, (cc, ctx) => cc.ListAccessLog(ctx, fx.patient.patientId, '', ''));
      expect(log.items.map((e) => [e.allowed, e.provisionPath, e.requesterDetail])).toEqual([
        [false, [0], undefined],
        [true, [0, 0], { role: 'clinician', practitioner: null, careTeam: 'ct-dr-x', policy: null }],
      ]);
    });

    it('lets an explicit deny of a consent v2 win over a v1 consent that covers the record', async () => {
      const v1 = await fx.call<{ consentId: string }>(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', fx.patient, terms()))));
      expect(await check('HospitalBMSP', 'psy-1')).toMatchObject({ allowed: true, reason: 'consent', consentId: v1.consentId });
      const v2 = await grant(NESTED);
      expect(await check('HospitalBMSP', 'psy-1')).toMatchObject({ allowed: false, reason: 'consent-denied', consentId: v2.consentId, provisionPath: [0] });
      expect(await check('HospitalBMSP', 'obs-1')).toEqual({ allowed: true, reason: 'consent', consentId: v1.consentId, emergencyId: null });
    });

    it('lets break-glass override an explicit deny, for emergency treatment only', async () => {
      await grant(NESTED);
      // Opened privately at the custodian (HospitalA), which alone holds emergencies and decides on them.
      const e = await fx.call<{ emergencyId: string }>(
        fx.o.clinicianC,
        T0,
        (c, ctx) => breakGlassTx(fx.patient.patientId, 'psy-1', '', 'unconscious in emergency room')(c, ctx),
        'HospitalAMSP',
      );
      const atCustodian = (purpose: string) => fx.call<Decision>(fx.o.userA, T0 + HOUR, (c, ctx) => c.CheckAccess(ctx, 'HospitalCMSP', 'psy-1', purpose));
      expect(await atCustodian('ETREAT')).toEqual({ allowed: true, reason: 'emergency', consentId: null, emergencyId: e.emergencyId });
      expect(await atCustodian('HOPERAT')).toMatchObject({ allowed: false, reason: 'consent-denied' });
      // Asked on HospitalC's own peer, the deny stands and the emergency is not there: the custodian decides.
      await expectCode(check('HospitalCMSP', 'psy-1', 'ETREAT'), 'NOT_CUSTODIAN');
    });

    it('covers child purposes through a parent purpose (permit TREAT covers ETREAT)', async () => {
      await grant({ format: FORMAT, decision: 'deny', period: PERIOD, provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP' }], purposes: ['TREAT'] }] });
      expect(await check('HospitalBMSP', 'obs-1', 'ETREAT')).toMatchObject({ allowed: true, provisionPath: [0] });
      expect(await check('HospitalBMSP', 'obs-1', 'CLINTRCH')).toMatchObject({ allowed: false, reason: 'out-of-scope' });
    });

    it('reads a label-less record as an ordinary one: a deny on PSY does not match it', async () => {
      const c = await grant(NESTED);
      expect(await check('HospitalBMSP', 'old-1')).toEqual({ allowed: true, reason: 'consent', consentId: c.consentId, emergencyId: null, provisionPath: [] });
    });

    it('refuses after revocation, outside the period and before it starts, with the v1 reasons', async () => {
      const c = await grant(NESTED);
      expect(await check('HospitalBMSP', 'obs-1', 'TREAT', T0 + 31 * DAY)).toMatchObject({ allowed: false, reason: 'consent-expired' });
      await fx.call(fx.o.userA, T0 + 1, (cc, ctx) => cc.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, c.consentId, fx.patient, T0 + 1))));
      expect(await check('HospitalBMSP', 'obs-1')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
      const later = await grant({ ...NESTED, period: { start: T0 + 2 * DAY, end: T0 + 3 * DAY } });
      expect(await check('HospitalBMSP', 'obs-1')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
      expect(later.effectiveStatus).toBe('pending');
    });

    it('refuses a malformed requester with INVALID_ARGUMENT', async () => {
      await grant(NESTED);
      await expectCode(checkAs({ org: 'HospitalBMSP', role: 'surgeon' }, 'obs-1'), 'INVALID_ARGUMENT');
      await expectCode(checkAs({ org: 'HospitalBMSP', team: 'x' }, 'obs-1'), 'INVALID_ARGUMENT');
    });

    it('lists and shows consents v1 and v2 side by side', async () => {
      await fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', fx.patient, terms()))));
      const v2 = await grant(NESTED);
      const page = await fx.call<{ items: Array<{ consentId: string; effectiveStatus: string }> }>(fx.o.userA, T0 + 1, (c, ctx) => c.ListConsentsByPatient(ctx, fx.patient.patientId, '', ''));
      expect(page.items).toHaveLength(2);
      expect(await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.GetConsent(ctx, v2.consentId))).toMatchObject({ format: FORMAT, effectiveStatus: 'active' });
    });
  });
});
