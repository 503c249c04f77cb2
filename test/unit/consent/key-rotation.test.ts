/**
 * Key rotation (CONSENT.md "Key rotation"): the patient.rotate-key message and its proof of
 * possession, the pure rule, the contract on the fake ledger, and consent packets that carry
 * the rotations so another chain still knows every key of the patient.
 */
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import { buildKeyRotation, consentIdOf, signKeyRotation, signPatientMessage, verifyPatientMessage, type SignedKeyRotation } from '../../../chaincode/src/protocol/patient-messages';
import { grantConsent, revokeConsent, type SignedBy } from '../../../chaincode/src/rules/consent-rules';
import { asPatientSigner, MAX_KEY_ROTATIONS, patientKeyIds, registerPatient, rotatePatientKey, type NewKeyFacts, type Patient } from '../../../chaincode/src/rules/patient-rules';
import { consentPacketOf, verifyConsentPacket } from '../../../chaincode/src/rules/remote-consent-rules';
import { sign } from 'node:crypto';
import {
  DAY,
  expectCodeSync,
  expectRejected,
  header,
  json,
  newKey,
  signedDelegation,
  signedGrant,
  signedRevocation,
  T0,
  terms,
  usePatientChannel,
  type KeyHolder,
} from './support';

const CH = 'chain-a';
const NO_FACTS: NewKeyFacts = { ownerPatientId: null, guardianOfPatient: false };

/** A rotation of `patient` signed by `current`, proving possession of `next`. */
function rotation(patient: KeyHolder, current: KeyHolder, next: KeyHolder, issuedAt = T0, chain = CH): SignedKeyRotation {
  return signKeyRotation(buildKeyRotation(header(chain, patient, current, issuedAt), next.publicKey), current.privateKey, next.privateKey);
}
const verifyRotation = (s: unknown) => verifyPatientMessage(s, { channel: CH, kinds: ['patient.rotate-key'] });

describe('patient.rotate-key message', () => {
  const patient = newKey();
  const next = newKey();

  it('verifies a rotation signed by the current key with the new key proving possession', () => {
    const v = verifyRotation(JSON.parse(JSON.stringify(rotation(patient, patient, next))));
    expect(v.message).toMatchObject({ kind: 'patient.rotate-key', patientId: patient.patientId, signer: patient.keyId, newPublicKey: next.publicKey });
    expect(v.signedByPatient).toBe(true);
  });

  it('signs the same canonical bytes with both keys', () => {
    const r = rotation(patient, patient, next);
    const again = sign('sha256', canonicalBytes(r.message), { key: next.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(again).toHaveLength(64);
    expect(r.newKeySignature).not.toBe(r.signature);
  });

  it('refuses a rotation whose new-key signature is made by another key (no proof of possession)', () => {
    const r = rotation(patient, patient, next);
    const forged = signKeyRotation(r.message, patient.privateKey, newKey().privateKey);
    expectCodeSync(() => verifyRotation(forged), 'PATIENT_SIGNATURE_INVALID');
  });

  it('refuses a rotation without newKeySignature, and newKeySignature on any other kind', () => {
    const { newKeySignature: _dropped, ...bare } = rotation(patient, patient, next);
    expectCodeSync(() => verifyRotation(bare), 'INVALID_ARGUMENT');
    const grant = signedGrant(CH, patient);
    expectCodeSync(() => verifyPatientMessage({ ...grant, newKeySignature: rotation(patient, patient, next).newKeySignature }, { channel: CH, kinds: ['consent.grant'] }), 'INVALID_ARGUMENT');
  });

  it('refuses a rotation onto the signing key itself and a new key that is not uncompressed P-256', () => {
    const same = signKeyRotation(buildKeyRotation(header(CH, patient), patient.publicKey), patient.privateKey, patient.privateKey);
    expectCodeSync(() => verifyRotation(same), 'INVALID_ARGUMENT');
    expectCodeSync(() => buildKeyRotation(header(CH, patient), ''), 'INVALID_ARGUMENT');
    const bad = signPatientMessage(buildKeyRotation(header(CH, patient), 'AAAA'), patient.privateKey);
    expectCodeSync(() => verifyRotation({ ...bad, newKeySignature: 'A'.repeat(88) }), 'INVALID_ARGUMENT');
  });

  it('binds a rotation to its chain', () => {
    expectCodeSync(() => verifyRotation(rotation(patient, patient, next, T0, 'chain-b')), 'WRONG_CHANNEL');
  });
});

describe('rotatePatientKey rule', () => {
  const patient = newKey();
  const registered = (): Patient => registerPatient(undefined, patient.publicKey, 'HospitalAMSP', T0);
  const rotate = (p: Patient, current: KeyHolder, next: KeyHolder, facts = NO_FACTS) =>
    rotatePatientKey(p, asPatientSigner(verifyRotation(rotation(patient, current, next)), p), facts, T0 + 1, 'tx-rot');

  it('keeps the patient id, makes the new key current and keeps the retired key in the history', () => {
    const next = newKey();
    const p = rotate(registered(), patient, next);
    expect(p.patientId).toBe(patient.patientId);
    expect(p.publicKey).toBe(next.publicKey);
    expect(p.registeredBy).toEqual(['HospitalAMSP']);
    expect(p.keyRotations).toEqual([expect.objectContaining({ retiredKeyId: patient.keyId, keyId: next.keyId, rotatedAt: T0 + 1, txId: 'tx-rot' })]);
    expect(patientKeyIds(p)).toEqual([patient.keyId, next.keyId]);
  });

  it('refuses a rotation signed by a retired key', () => {
    const next = newKey();
    const p = rotate(registered(), patient, next);
    expectCodeSync(() => rotate(p, patient, newKey()), 'PATIENT_KEY_RETIRED');
  });

  it('refuses a rotation signed by any key but the current one (a guardian included)', () => {
    const guardian = newKey();
    expectCodeSync(() => rotate(registered(), guardian, newKey()), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses a new key that another patient holds, that the patient held before, or that is a guardian key', () => {
    const next = newKey();
    expectCodeSync(() => rotate(registered(), patient, next, { ownerPatientId: newKey().patientId, guardianOfPatient: false }), 'PATIENT_KEY_IN_USE');
    expectCodeSync(() => rotate(registered(), patient, next, { ownerPatientId: null, guardianOfPatient: true }), 'PATIENT_KEY_IN_USE');
    const p = rotate(registered(), patient, next);
    expectCodeSync(() => rotatePatientKey(p, asPatientSigner(verifyRotation(rotation(patient, next, patient)), p), NO_FACTS, T0 + 2, 'tx'), 'PATIENT_KEY_IN_USE');
  });

  it(`stops after ${MAX_KEY_ROTATIONS} rotations`, () => {
    let p = registered();
    let current = patient;
    for (let i = 0; i < MAX_KEY_ROTATIONS; i += 1) {
      const next = newKey();
      p = rotate(p, current, next);
      current = next;
    }
    expectCodeSync(() => rotate(p, current, newKey()), 'PATIENT_KEY_ROTATION_LIMIT');
  });
});

describe('RotatePatientKey on the fake ledger', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalCMSP']);
  let next: KeyHolder;
  beforeEach(() => {
    next = newKey();
  });

  const rotate = (r: SignedKeyRotation, at = T0 + 1) => fx.call<Patient>(fx.o.userA, at, (c, ctx) => c.RotatePatientKey(ctx, json(r)));

  it('rotates, emits PatientKeyRotated with ids only, and the patient keeps its id', async () => {
    const p = await rotate(rotation(fx.patient, fx.patient, next));
    expect(p.patientId).toBe(fx.patient.patientId);
    expect(p.publicKey).toBe(next.publicKey);
    const event = fx.ledger.events[fx.ledger.events.length - 1];
    expect(event?.name).toBe('PatientKeyRotated');
    expect(Object.keys(event?.payload as object).sort()).toEqual(['keyId', 'patientId', 'retiredKeyId', 'txId']);
    const stored = await fx.call<Patient>(fx.o.userC, T0 + 2, (c, ctx) => c.GetPatient(ctx, fx.patient.patientId));
    expect(stored.publicKey).toBe(next.publicKey);
  });

  it('keeps consents: one granted by the old key is revoked by the new key; the old key signs nothing any more', async () => {
    const grant = signedGrant(CH, fx.patient);
    await fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(grant)));
    await rotate(rotation(fx.patient, fx.patient, next));
    const consentId = consentIdOf(grant.message);
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 2, (c, ctx) => c.RevokeConsent(ctx, json(signedRevocation(CH, fx.patient, consentId, fx.patient, T0 + 2)))), 'PATIENT_KEY_RETIRED');
    await expectRejected(fx.ledger, () => fx.call(fx.o.userA, T0 + 2, (c, ctx) => c.GrantConsent(ctx, json(signedGrant(CH, fx.patient, terms(), fx.patient, T0 + 2)))), 'PATIENT_KEY_RETIRED');
    const revoked = await fx.call(fx.o.userA, T0 + 3, (c, ctx) => c.RevokeConsent(ctx, json(signedRevocation(CH, fx.patient, consentId, next, T0 + 3))));
    expect(revoked).toMatchObject({ consentId, status: 'revoked', grant: { message: { signer: fx.patient.keyId } } });
    const granted = await fx.call(fx.o.userA, T0 + 4, (c, ctx) => c.GrantConsent(ctx, json(signedGrant(CH, fx.patient, terms({ purposes: ['HOPERAT'] }), next, T0 + 4))));
    expect(granted).toMatchObject({ grantSignedBy: { keyId: next.keyId, authority: 'patient' } });
  });

  it('refuses a replayed nonce, a stale rotation, a guardian-signed one and a replay of an applied one, leaving state unchanged', async () => {
    const grant = signedGrant(CH, fx.patient);
    await fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(grant)));
    const sameNonce = signKeyRotation(buildKeyRotation({ ...header(CH, fx.patient), nonce: grant.message.nonce }, next.publicKey), fx.patient.privateKey, next.privateKey);
    await expectRejected(fx.ledger, () => rotate(sameNonce), 'NONCE_REPLAYED');
    await expectRejected(fx.ledger, () => rotate(rotation(fx.patient, fx.patient, next, T0 - 8 * DAY)), 'MESSAGE_STALE');
    const guardian = newKey();
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation(CH, fx.patient, guardian))));
    await expectRejected(fx.ledger, () => rotate(rotation(fx.patient, guardian, next)), 'GUARDIAN_NOT_AUTHORIZED');
    const r = rotation(fx.patient, fx.patient, next);
    await rotate(r);
    await expectRejected(fx.ledger, () => rotate(r, T0 + 2), 'PATIENT_KEY_RETIRED');
  });

  it('refuses a new key registered or rotated to by another patient, and a guardian key of the patient', async () => {
    const other = newKey();
    await fx.call(fx.o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, other.publicKey));
    await expectRejected(fx.ledger, () => rotate(rotation(fx.patient, fx.patient, other)), 'PATIENT_KEY_IN_USE');
    await rotate(rotation(other, other, next));
    await expectRejected(fx.ledger, () => rotate(rotation(fx.patient, fx.patient, next)), 'PATIENT_KEY_IN_USE');
    const guardian = newKey();
    await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation(CH, fx.patient, guardian))));
    await expectRejected(fx.ledger, () => rotate(rotation(fx.patient, fx.patient, guardian), T0 + 2), 'PATIENT_KEY_IN_USE');
  });

  it('registers the patient at another hospital with the new key, and refuses the retired key', async () => {
    await rotate(rotation(fx.patient, fx.patient, next));
    const atC = await fx.call<Patient>(fx.o.userC, T0 + 2, (c, ctx) => c.RegisterPatient(ctx, next.publicKey));
    expect(atC).toMatchObject({ patientId: fx.patient.patientId, registeredBy: ['HospitalAMSP', 'HospitalCMSP'] });
    await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0 + 2, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey)), 'PATIENT_KEY_RETIRED');
  });
});

describe('consent packets after a key rotation', () => {
  const patient = newKey();
  const next = newKey();
  const self = (k: KeyHolder): SignedBy => ({ keyId: k.keyId, authority: 'patient', delegation: null });
  const r = rotation(patient, patient, next);
  const grant = grantConsent(verifyPatientMessage(signedGrant(CH, patient), { channel: CH, kinds: ['consent.grant'] }), self(patient), T0, 'tx-g');
  const revoked = revokeConsent(
    grant,
    verifyPatientMessage(signedRevocation(CH, patient, grant.consentId, next, T0 + 2), { channel: CH, kinds: ['consent.revoke'] }),
    self(next),
    T0 + 2,
    'tx-r',
  );
  const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

  it('carries no keyRotations for a patient who never rotated (the payload is unchanged)', () => {
    expect(Object.keys(consentPacketOf(grant, patient.publicKey).payload)).not.toContain('keyRotations');
  });

  it('verifies a revocation signed by the new key when the packet carries the rotation from the id key', () => {
    const { type, payload } = consentPacketOf(revoked, patient.publicKey, [r]);
    expect(verifyConsentPacket(CH, type, roundTrip(payload)).status).toBe('revoked');
    const without = consentPacketOf(revoked, patient.publicKey);
    expectCodeSync(() => verifyConsentPacket(CH, without.type, roundTrip(without.payload)), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses a rotation chain that does not start at the id key or names another patient', () => {
    const stranger = newKey();
    const elsewhere = rotation(patient, stranger, next);
    const { type, payload } = consentPacketOf(revoked, patient.publicKey, [elsewhere]);
    expectCodeSync(() => verifyConsentPacket(CH, type, roundTrip(payload)), 'PATIENT_SIGNATURE_INVALID');
    const forOther = rotation(stranger, stranger, next);
    const p2 = consentPacketOf(revoked, patient.publicKey, [forOther]);
    expectCodeSync(() => verifyConsentPacket(CH, p2.type, roundTrip(p2.payload)), 'PATIENT_SIGNATURE_INVALID');
    expectCodeSync(() => verifyConsentPacket(CH, type, { ...(roundTrip(payload) as object), keyRotations: [] }), 'INVALID_ARGUMENT');
  });
});
