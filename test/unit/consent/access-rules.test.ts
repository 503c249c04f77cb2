import { verifyPatientMessage, type ConsentTerms } from '../../../chaincode/src/protocol/patient-messages';
import {
  checkAccess,
  EMERGENCY_MAX_MS,
  emergencyActiveAt,
  openEmergency,
  reviewEmergency,
  type AccessQuery,
  type Emergency,
} from '../../../chaincode/src/rules/access-rules';
import { grantConsent, revokeConsent, type Consent } from '../../../chaincode/src/rules/consent-rules';
import { DAY, expectCodeSync, HOUR, newKey, signedGrant, signedRevocation, T0, terms } from './support';

const CH = 'chain-a';
const patient = newKey();
const record = { recordId: 'obs-1', patientId: patient.patientId, custodian: 'HospitalAMSP', category: 'Observation' };

function consent(o: Partial<ConsentTerms> = {}, p = patient): Consent {
  const v = verifyPatientMessage(signedGrant(CH, p, terms(o)), { channel: CH, kinds: ['consent.grant'] });
  return grantConsent(v, { keyId: p.keyId, authority: 'patient', delegation: null }, T0, 'tx-grant');
}

function revoked(c: Consent): Consent {
  const v = verifyPatientMessage(signedRevocation(CH, patient, c.consentId), { channel: CH, kinds: ['consent.revoke'] });
  return revokeConsent(c, v, { keyId: patient.keyId, authority: 'patient', delegation: null }, T0 + HOUR, 'tx-rev');
}

const opener = { org: 'HospitalCMSP', id: 'dr-c', role: 'clinician' as const };
function emergency(recordId: string | null = null, at = T0, durationMs: number | null = null): Emergency {
  return openEmergency({ patientId: patient.patientId, recordId, custodian: 'HospitalAMSP', reason: 'unconscious patient in ER', durationMs }, opener, [], at, `tx-em-${at}`);
}

function q(o: Partial<AccessQuery>): AccessQuery {
  return { grantee: 'HospitalBMSP', record, purpose: 'TREAT', action: 'read', at: T0 + DAY, consents: [], emergencies: [], ...o };
}

describe('checkAccess', () => {
  it('lets the custodian read its own record without a consent', () => {
    expect(checkAccess(q({ grantee: 'HospitalAMSP' }))).toEqual({ allowed: true, reason: 'custodian', consentId: null, emergencyId: null });
  });

  it('allows a grantee with an active consent covering the category, purpose and action', () => {
    const c = consent();
    expect(checkAccess(q({ consents: [c] }))).toEqual({ allowed: true, reason: 'consent', consentId: c.consentId, emergencyId: null });
  });

  it('allows by record id when the category is not in scope', () => {
    const c = consent({ scope: { recordIds: ['obs-1'], categories: [] } });
    expect(checkAccess(q({ consents: [c] })).allowed).toBe(true);
  });

  it('refuses without any consent', () => {
    expect(checkAccess(q({}))).toMatchObject({ allowed: false, reason: 'no-consent' });
  });

  it("ignores another grantee's consent and another patient's consent", () => {
    expect(checkAccess(q({ consents: [consent({ grantee: 'HospitalCMSP' })] }))).toMatchObject({ allowed: false, reason: 'no-consent' });
    expect(checkAccess(q({ consents: [consent({}, newKey())] }))).toMatchObject({ allowed: false, reason: 'no-consent' });
  });

  it('refuses a record outside the scope', () => {
    expect(checkAccess(q({ consents: [consent({ scope: { recordIds: ['obs-2'], categories: ['Condition'] } })] }))).toMatchObject({
      allowed: false,
      reason: 'out-of-scope',
    });
  });

  it('refuses a purpose the consent does not list', () => {
    expect(checkAccess(q({ purpose: 'HRESCH', consents: [consent()] }))).toMatchObject({ allowed: false, reason: 'purpose-not-covered' });
  });

  it('refuses after revocation', () => {
    expect(checkAccess(q({ consents: [revoked(consent())] }))).toMatchObject({ allowed: false, reason: 'consent-revoked' });
  });

  it('refuses from the end of the period on, and before its start', () => {
    const c = consent({ period: { start: T0 + DAY, end: T0 + 2 * DAY } });
    expect(checkAccess(q({ consents: [c], at: T0 + 2 * DAY }))).toMatchObject({ allowed: false, reason: 'consent-expired' });
    expect(checkAccess(q({ consents: [c], at: T0 + DAY - 1 }))).toMatchObject({ allowed: false, reason: 'consent-not-yet-valid' });
    expect(checkAccess(q({ consents: [c], at: T0 + DAY })).allowed).toBe(true);
  });

  it('allows through any one active consent when another is revoked', () => {
    const a = revoked(consent());
    const b = consent({ purposes: ['TREAT', 'HRESCH'] });
    expect(checkAccess(q({ consents: [a, b] }))).toMatchObject({ allowed: true, consentId: b.consentId });
  });

  it('refuses an unknown purpose or action as bad input', () => {
    expectCodeSync(() => checkAccess(q({ purpose: 'MARKETING' })), 'INVALID_ARGUMENT');
    expectCodeSync(() => checkAccess(q({ action: 'write' })), 'INVALID_ARGUMENT');
  });

  it('allows the emergency org for ETREAT while the emergency is open', () => {
    const e = emergency();
    expect(checkAccess(q({ grantee: 'HospitalCMSP', purpose: 'ETREAT', emergencies: [e], at: T0 + HOUR }))).toEqual({
      allowed: true,
      reason: 'emergency',
      consentId: null,
      emergencyId: e.emergencyId,
    });
  });

  it('does not extend an emergency to other purposes, other orgs or other records', () => {
    const e = emergency('obs-2');
    const all = emergency();
    expect(checkAccess(q({ grantee: 'HospitalCMSP', purpose: 'TREAT', emergencies: [all], at: T0 + HOUR })).allowed).toBe(false);
    expect(checkAccess(q({ grantee: 'HospitalBMSP', purpose: 'ETREAT', emergencies: [all], at: T0 + HOUR })).allowed).toBe(false);
    expect(checkAccess(q({ grantee: 'HospitalCMSP', purpose: 'ETREAT', emergencies: [e], at: T0 + HOUR })).allowed).toBe(false);
  });

  it('refuses once the emergency has expired', () => {
    const e = emergency();
    expect(checkAccess(q({ grantee: 'HospitalCMSP', purpose: 'ETREAT', emergencies: [e], at: e.expiresAt }))).toMatchObject({
      allowed: false,
      reason: 'emergency-expired',
    });
  });
});

describe('break-glass', () => {
  it('opens for 4 hours by default, flagged pending review', () => {
    const e = emergency();
    expect(e).toMatchObject({ emergencyId: `em_tx-em-${T0}`, expiresAt: T0 + 4 * HOUR, org: 'HospitalCMSP', review: { status: 'pending' } });
    expect(emergencyActiveAt(e, T0)).toBe(true);
    expect(emergencyActiveAt(e, T0 + 4 * HOUR)).toBe(false);
  });

  it('allows at most 24 hours', () => {
    expect(emergency(null, T0, EMERGENCY_MAX_MS).expiresAt).toBe(T0 + EMERGENCY_MAX_MS);
    expectCodeSync(() => emergency(null, T0, EMERGENCY_MAX_MS + 1), 'EMERGENCY_LIMIT');
    expectCodeSync(() => emergency(null, T0, 0), 'EMERGENCY_LIMIT');
  });

  it('needs a reason of 10 to 500 characters', () => {
    const open = (reason: string) => openEmergency({ patientId: patient.patientId, recordId: null, custodian: 'HospitalAMSP', reason, durationMs: null }, opener, [], T0, 'tx');
    expectCodeSync(() => open('   short  '), 'INVALID_ARGUMENT');
    expectCodeSync(() => open('x'.repeat(501)), 'INVALID_ARGUMENT');
    expect(open('cardiac arrest').reason).toBe('cardiac arrest');
  });

  it('refuses a second emergency of the same org covering the same record while one is open', () => {
    const first = emergency();
    const again = (recordId: string | null, at: number) =>
      openEmergency({ patientId: patient.patientId, recordId, custodian: 'HospitalAMSP', reason: 'still in the ER room', durationMs: null }, opener, [first], at, 'tx2');
    expectCodeSync(() => again(null, T0 + HOUR), 'EMERGENCY_LIMIT');
    expectCodeSync(() => again('obs-1', T0 + HOUR), 'EMERGENCY_LIMIT');
    expect(again(null, first.expiresAt).expiresAt).toBe(first.expiresAt + 4 * HOUR);
  });

  it('records one review by someone other than the opener', () => {
    const e = emergency();
    const r = reviewEmergency(e, { org: 'HospitalCMSP', id: 'po-c' }, 'justified', T0 + DAY);
    expect(r.review).toEqual({ status: 'justified', reviewer: 'po-c', reviewerOrg: 'HospitalCMSP', reviewedAt: T0 + DAY });
    expectCodeSync(() => reviewEmergency(r, { org: 'HospitalCMSP', id: 'po-c' }, 'unjustified', T0 + DAY), 'ALREADY_REVIEWED');
    expectCodeSync(() => reviewEmergency(e, { org: 'HospitalCMSP', id: 'dr-c' }, 'justified', T0 + DAY), 'FORBIDDEN_ROLE');
    expectCodeSync(() => reviewEmergency(e, { org: 'HospitalCMSP', id: 'po-c' }, 'fine', T0 + DAY), 'INVALID_ARGUMENT');
  });
});
