import { consentIdOf, verifyPatientMessage, type ConsentTerms } from '../../../chaincode/src/protocol/patient-messages';
import {
  actionCovered,
  consentStatusAt,
  grantConsent,
  MAX_CONSENT_PERIOD_MS,
  purposeCovered,
  revokeConsent,
  scopeCovers,
  validateGrantTerms,
  type SignedBy,
} from '../../../chaincode/src/rules/consent-rules';
import { DAY, expectCodeSync, newKey, signedGrant, signedRevocation, T0, terms } from './support';

const CH = 'chain-a';
const bySelf = (k: { keyId: string }): SignedBy => ({ keyId: k.keyId, authority: 'patient', delegation: null });

describe('consent terms', () => {
  it('accepts read access for treatment on a category for 30 days', () => {
    expect(() => validateGrantTerms(terms(), T0)).not.toThrow();
  });

  const bad: Array<[string, Partial<ConsentTerms>, string]> = [
    ['no action', { actions: [] }, 'INVALID_ARGUMENT'],
    ['an action other than read', { actions: ['write'] }, 'INVALID_ARGUMENT'],
    ['a duplicated action', { actions: ['read', 'read'] }, 'INVALID_ARGUMENT'],
    ['no purpose', { purposes: [] }, 'INVALID_ARGUMENT'],
    ['a purpose outside PurposeOfUse', { purposes: ['MARKETING'] }, 'INVALID_ARGUMENT'],
    ['a duplicated purpose', { purposes: ['TREAT', 'TREAT'] }, 'INVALID_ARGUMENT'],
    ['an empty scope', { scope: { recordIds: [], categories: [] } }, 'INVALID_ARGUMENT'],
    ['a duplicated record id', { scope: { recordIds: ['r1', 'r1'], categories: [] } }, 'INVALID_ARGUMENT'],
    ['an end before the start', { period: { start: T0 + DAY, end: T0 } }, 'INVALID_ARGUMENT'],
    ['a period longer than 5 years', { period: { start: T0, end: T0 + MAX_CONSENT_PERIOD_MS + 1 } }, 'INVALID_ARGUMENT'],
    ['a period that already ended', { period: { start: T0 - 2 * DAY, end: T0 } }, 'CONSENT_EXPIRED'],
  ];
  it.each(bad)('refuses %s', (_name, o, code) => {
    expectCodeSync(() => validateGrantTerms(terms(o), T0), code as 'INVALID_ARGUMENT');
  });
});

describe('consent lifecycle', () => {
  const patient = newKey();
  const grant = () => verifyPatientMessage(signedGrant(CH, patient), { channel: CH, kinds: ['consent.grant'] });

  it('creates an active consent at version 1 whose id is the hash of the signed grant', () => {
    const g = grant();
    const c = grantConsent(g, bySelf(patient), T0, 'tx1');
    expect(c).toMatchObject({ consentId: consentIdOf(g.message), status: 'active', version: 1, grantee: 'HospitalBMSP', chainId: CH, revocation: null });
  });

  it('refuses a grant whose terms are invalid at the transaction time', () => {
    expectCodeSync(() => grantConsent(grant(), bySelf(patient), T0 + 30 * DAY, 'tx1'), 'CONSENT_EXPIRED');
  });

  it('revokes a consent, bumping its version', () => {
    const c = grantConsent(grant(), bySelf(patient), T0, 'tx1');
    const r = verifyPatientMessage(signedRevocation(CH, patient, c.consentId), { channel: CH, kinds: ['consent.revoke'] });
    const revoked = revokeConsent(c, r, bySelf(patient), T0 + 1, 'tx2');
    expect(revoked).toMatchObject({ status: 'revoked', version: 2 });
    expect(revoked.revocation).toMatchObject({ revokedAt: T0 + 1, txId: 'tx2' });
  });

  it('refuses to revoke a consent twice', () => {
    const c = grantConsent(grant(), bySelf(patient), T0, 'tx1');
    const rev = () => verifyPatientMessage(signedRevocation(CH, patient, c.consentId), { channel: CH, kinds: ['consent.revoke'] });
    const revoked = revokeConsent(c, rev(), bySelf(patient), T0 + 1, 'tx2');
    expectCodeSync(() => revokeConsent(revoked, rev(), bySelf(patient), T0 + 2, 'tx3'), 'CONSENT_NOT_ACTIVE');
  });

  it("refuses a revocation signed for another patient's consent", () => {
    const other = newKey();
    const c = grantConsent(grant(), bySelf(patient), T0, 'tx1');
    const r = verifyPatientMessage(signedRevocation(CH, other, c.consentId), { channel: CH, kinds: ['consent.revoke'] });
    expectCodeSync(() => revokeConsent(c, r, bySelf(other), T0 + 1, 'tx2'), 'UNAUTHORIZED');
  });

  it('is pending before the period, active inside it, expired from its end, revoked once revoked', () => {
    const t = terms({ period: { start: T0 + DAY, end: T0 + 2 * DAY } });
    expect(consentStatusAt({ status: 'active', terms: t }, T0)).toBe('pending');
    expect(consentStatusAt({ status: 'active', terms: t }, T0 + DAY)).toBe('active');
    expect(consentStatusAt({ status: 'active', terms: t }, T0 + 2 * DAY - 1)).toBe('active');
    expect(consentStatusAt({ status: 'active', terms: t }, T0 + 2 * DAY)).toBe('expired');
    expect(consentStatusAt({ status: 'revoked', terms: t }, T0 + DAY)).toBe('revoked');
  });

  it('covers a record by id or by category, and only listed purposes and actions', () => {
    const t = terms({ scope: { recordIds: ['r-7'], categories: ['Observation'] } });
    expect(scopeCovers(t, { recordId: 'r-7', category: 'Condition' })).toBe(true);
    expect(scopeCovers(t, { recordId: 'r-8', category: 'Observation' })).toBe(true);
    expect(scopeCovers(t, { recordId: 'r-8', category: 'Condition' })).toBe(false);
    expect(purposeCovered(t, 'TREAT')).toBe(true);
    expect(purposeCovered(t, 'HRESCH')).toBe(false);
    expect(actionCovered(t, 'read')).toBe(true);
    expect(actionCovered(t, 'write')).toBe(false);
  });
});
