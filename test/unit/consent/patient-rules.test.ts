import { buildGuardianDelegation, signPatientMessage, verifyPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import {
  authoriseGuardian,
  checkFreshness,
  guardianActiveAt,
  MAX_CLOCK_SKEW_MS,
  MAX_MESSAGE_AGE_MS,
  registerPatient,
  requireRegisteredBy,
  revokeGuardian,
  signerAuthority,
  type Guardian,
} from '../../../chaincode/src/rules/patient-rules';
import {
  DAY,
  expectCodeSync,
  newKey,
  signedDelegation,
  signedGrant,
  signedGuardianRevocation,
  T0,
} from './support';

const CH = 'chain-a';
const verifyDelegation = (s: unknown) => verifyPatientMessage(s, { channel: CH, kinds: ['guardian.authorise'] });
const verifyGuardianRevocation = (s: unknown) => verifyPatientMessage(s, { channel: CH, kinds: ['guardian.revoke'] });
const verifyGrant = (s: unknown) => verifyPatientMessage(s, { channel: CH, kinds: ['consent.grant'] });

describe('patient registration', () => {
  const patient = newKey();

  it('registers a patient at a custodian org under the id derived from the key', () => {
    const p = registerPatient(undefined, patient.publicKey, 'HospitalAMSP', T0);
    expect(p).toEqual({ patientId: patient.patientId, publicKey: patient.publicKey, registeredBy: ['HospitalAMSP'], registeredAt: T0, updatedAt: T0 });
  });

  it('lets another hospital of the channel register the same patient', () => {
    const p = registerPatient(registerPatient(undefined, patient.publicKey, 'HospitalCMSP', T0), patient.publicKey, 'HospitalAMSP', T0 + 1);
    expect(p.registeredBy).toEqual(['HospitalAMSP', 'HospitalCMSP']);
    expect(p.registeredAt).toBe(T0);
  });

  it('refuses a second registration by the same org', () => {
    const p = registerPatient(undefined, patient.publicKey, 'HospitalAMSP', T0);
    expectCodeSync(() => registerPatient(p, patient.publicKey, 'HospitalAMSP', T0), 'ALREADY_EXISTS');
  });

  it('refuses a key that is not P-256', () => {
    expectCodeSync(() => registerPatient(undefined, 'AAAA', 'HospitalAMSP', T0), 'INVALID_ARGUMENT');
  });

  it('lets only a registering org act as custodian', () => {
    const p = registerPatient(undefined, patient.publicKey, 'HospitalAMSP', T0);
    expect(requireRegisteredBy(p, p.patientId, 'HospitalAMSP')).toBe(p);
    expectCodeSync(() => requireRegisteredBy(p, p.patientId, 'HospitalCMSP'), 'PATIENT_NOT_REGISTERED');
    expectCodeSync(() => requireRegisteredBy(undefined, p.patientId, 'HospitalAMSP'), 'PATIENT_NOT_REGISTERED');
  });
});

describe('message freshness', () => {
  it('accepts a message within clock skew ahead and within the age limit behind', () => {
    expect(() => checkFreshness(T0 + MAX_CLOCK_SKEW_MS, T0)).not.toThrow();
    expect(() => checkFreshness(T0 - MAX_MESSAGE_AGE_MS, T0)).not.toThrow();
  });

  it('refuses a message from the future or older than the age limit', () => {
    expectCodeSync(() => checkFreshness(T0 + MAX_CLOCK_SKEW_MS + 1, T0), 'MESSAGE_STALE');
    expectCodeSync(() => checkFreshness(T0 - MAX_MESSAGE_AGE_MS - 1, T0), 'MESSAGE_STALE');
    expectCodeSync(() => checkFreshness(T0 - 10 * 60_000, T0, 5 * 60_000), 'MESSAGE_STALE');
  });
});

describe('guardian authority', () => {
  const patient = newKey();
  const guardianKey = newKey();
  const delegation = () => verifyDelegation(signedDelegation(CH, patient, guardianKey, T0 + 100 * DAY));
  const active = (): Guardian => authoriseGuardian(undefined, delegation(), T0, 'tx1');

  it("authorises a guardian from the patient's own signed delegation", () => {
    const g = active();
    expect(g).toMatchObject({ patientId: patient.patientId, guardianId: guardianKey.keyId, status: 'active', notAfter: T0 + 100 * DAY });
    expect(guardianActiveAt(g, T0 + 100 * DAY - 1)).toBe(true);
    expect(guardianActiveAt(g, T0 + 100 * DAY)).toBe(false);
  });

  /** A delegation of `third` for the patient, signed by the guardian's key instead of the patient's. */
  const delegationByGuardian = () =>
    verifyDelegation(
      signPatientMessage(
        buildGuardianDelegation(
          { channel: CH, patientId: patient.patientId, signer: guardianKey.keyId, nonce: 'nonce-guardian-000001', issuedAt: T0 },
          { publicKey: newKey().publicKey, notAfter: T0 + DAY },
        ),
        guardianKey.privateKey,
      ),
    );

  it('refuses a delegation signed by anyone but the patient', () => {
    expectCodeSync(() => authoriseGuardian(undefined, delegationByGuardian(), T0, 'tx'), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses the patient as their own guardian, a past end, and a second active delegation', () => {
    expectCodeSync(() => authoriseGuardian(undefined, verifyDelegation(signedDelegation(CH, patient, patient)), T0, 'tx'), 'INVALID_ARGUMENT');
    expectCodeSync(() => authoriseGuardian(undefined, verifyDelegation(signedDelegation(CH, patient, guardianKey, T0)), T0, 'tx'), 'INVALID_ARGUMENT');
    expectCodeSync(() => authoriseGuardian(active(), delegation(), T0, 'tx'), 'ALREADY_EXISTS');
  });

  it('re-authorises a guardian after a revocation', () => {
    const revoked = revokeGuardian(active(), verifyGuardianRevocation(signedGuardianRevocation(CH, patient, guardianKey)), T0 + 1, 'tx2');
    expect(authoriseGuardian(revoked, delegation(), T0 + 2, 'tx3').status).toBe('active');
  });

  it('revokes a guardian only from the patient and only once', () => {
    const g = active();
    const revoked = revokeGuardian(g, verifyGuardianRevocation(signedGuardianRevocation(CH, patient, guardianKey)), T0 + 1, 'tx2');
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: T0 + 1, revokedTxId: 'tx2' });
    expectCodeSync(
      () => revokeGuardian(revoked, verifyGuardianRevocation(signedGuardianRevocation(CH, patient, guardianKey)), T0 + 2, 'tx3'),
      'GUARDIAN_NOT_AUTHORIZED',
    );
    expectCodeSync(
      () => revokeGuardian(g, verifyGuardianRevocation(signedGuardianRevocation(CH, patient, guardianKey, guardianKey)), T0 + 2, 'tx3'),
      'GUARDIAN_NOT_AUTHORIZED',
    );
    expectCodeSync(
      () => revokeGuardian(undefined, verifyGuardianRevocation(signedGuardianRevocation(CH, patient, guardianKey)), T0 + 2, 'tx3'),
      'NOT_FOUND',
    );
  });

  it('gives the patient key patient authority and an active guardian guardian authority', () => {
    expect(signerAuthority(verifyGrant(signedGrant(CH, patient)), undefined, T0)).toBe('patient');
    expect(signerAuthority(verifyGrant(signedGrant(CH, patient, undefined, guardianKey)), active(), T0)).toBe('guardian');
  });

  it('refuses a grant signed by a revoked guardian', () => {
    const revoked = revokeGuardian(active(), verifyGuardianRevocation(signedGuardianRevocation(CH, patient, guardianKey)), T0, 'tx2');
    expectCodeSync(() => signerAuthority(verifyGrant(signedGrant(CH, patient, undefined, guardianKey)), revoked, T0 + 1), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses a grant signed by a guardian whose delegation ended', () => {
    expectCodeSync(() => signerAuthority(verifyGrant(signedGrant(CH, patient, undefined, guardianKey)), active(), T0 + 100 * DAY), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses a grant signed by a key that was never delegated', () => {
    expectCodeSync(() => signerAuthority(verifyGrant(signedGrant(CH, patient, undefined, newKey())), undefined, T0), 'GUARDIAN_NOT_AUTHORIZED');
    expectCodeSync(() => signerAuthority(verifyGrant(signedGrant(CH, patient, undefined, newKey())), active(), T0), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses a guardian signing a guardian delegation (delegation stays with the patient)', () => {
    expectCodeSync(() => signerAuthority(delegationByGuardian(), active(), T0), 'GUARDIAN_NOT_AUTHORIZED');
  });
});
