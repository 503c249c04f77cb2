import { buildConsentGrant, consentIdOf, signPatientMessage, verifyPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { grantConsent, revokeConsent, type Consent, type SignedBy } from '../../../chaincode/src/rules/consent-rules';
import {
  applyConsentPacketRule,
  consentPacketOf,
  verifyConsentPacket,
  type ConsentPacketPayload,
} from '../../../chaincode/src/rules/remote-consent-rules';
import { DAY, expectCodeSync, header, newKey, signedDelegation, signedGrant, signedRevocation, T0, terms, type KeyHolder } from './support';

const HOME = 'chain-a';
const DEST_MEMBERS = ['HospitalBMSP', 'HospitalCMSP'];
const patient = newKey();
const self: SignedBy = { keyId: patient.keyId, authority: 'patient', delegation: null };

function granted(signer: KeyHolder = patient, signedBy: SignedBy = self): Consent {
  const v = verifyPatientMessage(signedGrant(HOME, patient, terms(), signer), { channel: HOME, kinds: ['consent.grant'] });
  return grantConsent(v, signedBy, T0, 'tx-grant');
}
function revokedOf(c: Consent): Consent {
  const v = verifyPatientMessage(signedRevocation(HOME, patient, c.consentId), { channel: HOME, kinds: ['consent.revoke'] });
  return revokeConsent(c, v, self, T0 + 1, 'tx-rev');
}
const packet = (c: Consent) => consentPacketOf(c, patient.publicKey);
const roundTrip = (p: ConsentPacketPayload): unknown => JSON.parse(JSON.stringify(p));

describe('consent packets', () => {
  it('carries an active consent as consent.grant at version 1 and a revoked one as consent.revoke at version 2', () => {
    const c = granted();
    expect(packet(c)).toMatchObject({ type: 'consent.grant', payload: { version: 1, status: 'active', homeChain: HOME, revocation: null } });
    expect(packet(revokedOf(c))).toMatchObject({ type: 'consent.revoke', payload: { version: 2, status: 'revoked' } });
  });

  it("verifies a grant packet by re-checking the patient's own signature", () => {
    const { type, payload } = packet(granted());
    expect(verifyConsentPacket(HOME, type, roundTrip(payload)).consentId).toBe(payload.consentId);
  });

  it('verifies a revocation packet with both signatures', () => {
    const { type, payload } = packet(revokedOf(granted()));
    expect(verifyConsentPacket(HOME, type, roundTrip(payload)).status).toBe('revoked');
  });

  it('verifies a guardian-signed grant with the patient-signed delegation', () => {
    const guardian = newKey();
    const delegation = signedDelegation(HOME, patient, guardian, T0 + 10 * DAY);
    const c = granted(guardian, { keyId: guardian.keyId, authority: 'guardian', delegation });
    const { type, payload } = packet(c);
    expect(() => verifyConsentPacket(HOME, type, roundTrip(payload))).not.toThrow();
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, grantDelegation: null }), 'GUARDIAN_NOT_AUTHORIZED');
    const forOther = signedDelegation(HOME, patient, newKey(), T0 + 10 * DAY);
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, grantDelegation: forOther }), 'GUARDIAN_NOT_AUTHORIZED');
    const ended = signedDelegation(HOME, patient, guardian, T0);
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, grantDelegation: ended }), 'GUARDIAN_NOT_AUTHORIZED');
  });

  it('refuses a packet type outside the consent allowlist', () => {
    const { payload } = packet(granted());
    expectCodeSync(() => verifyConsentPacket(HOME, 'consent.update', payload), 'PACKET_TYPE_NOT_ALLOWED');
  });

  it('refuses a packet from a chain that is not the home chain of the grant', () => {
    const { type, payload } = packet(granted());
    expectCodeSync(() => verifyConsentPacket('chain-x', type, payload), 'WRONG_CHANNEL');
    expectCodeSync(() => verifyConsentPacket('chain-x', type, { ...payload, homeChain: 'chain-x' }), 'WRONG_CHANNEL');
  });

  it('refuses a forged grant signature', () => {
    const { type, payload } = packet(granted());
    const mallory = newKey();
    const forged = signedGrant(HOME, patient, terms(), mallory);
    expectCodeSync(
      () => verifyConsentPacket(HOME, type, { ...payload, grant: { ...payload.grant, signature: forged.signature } }),
      'PATIENT_SIGNATURE_INVALID',
    );
  });

  it('refuses terms that differ from the signed grant, and a consent id that is not the grant hash', () => {
    const { type, payload } = packet(granted());
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, terms: terms({ grantee: 'HospitalCMSP' }) }), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, consentId: `cs_${'0'.repeat(64)}` }), 'INVALID_ARGUMENT');
  });

  it('refuses a grant the patient kept privately at one org: a private consent never crosses chains, even with a valid signature', () => {
    const { type, payload } = packet(granted());
    const kept = signPatientMessage(buildConsentGrant(header(HOME, patient), terms(), 'HospitalAMSP'), patient.privateKey);
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, grant: kept, consentId: consentIdOf(kept.message), terms: kept.message.terms }), 'INVALID_ARGUMENT');
    // The same packet with the public grant is accepted: the keeper alone is refused.
    expect(verifyConsentPacket(HOME, type, roundTrip(payload)).consentId).toBe(payload.consentId);
  });

  it('refuses a patient key that does not derive the patient id', () => {
    const { type, payload } = packet(granted());
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, patientPublicKey: newKey().publicKey }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('refuses a grant packet that claims a revocation, and a revoke packet without one', () => {
    const g = packet(granted());
    const r = packet(revokedOf(granted()));
    expectCodeSync(() => verifyConsentPacket(HOME, 'consent.grant', r.payload), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, 'consent.revoke', g.payload), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, 'consent.grant', { ...g.payload, version: 3 }), 'INVALID_ARGUMENT');
  });

  it('refuses a revocation that names another consent', () => {
    const r = packet(revokedOf(granted()));
    const other = granted();
    const wrong = signedRevocation(HOME, patient, other.consentId);
    expectCodeSync(() => verifyConsentPacket(HOME, 'consent.revoke', { ...r.payload, revocation: wrong }), 'INVALID_ARGUMENT');
  });

  it('refuses missing and unknown payload fields', () => {
    const { type, payload } = packet(granted());
    const { grant: _g, ...noGrant } = payload;
    expectCodeSync(() => verifyConsentPacket(HOME, type, noGrant), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, type, { ...payload, relayNote: 'trust me' }), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyConsentPacket(HOME, type, null), 'INVALID_ARGUMENT');
  });
});

describe('remote consent mirror', () => {
  const c = granted();
  const g = packet(c);
  const r = packet(revokedOf(c));

  it('stores a first grant and then its revocation', () => {
    const m1 = applyConsentPacketRule(undefined, HOME, 'consent.grant', g.payload, DEST_MEMBERS, T0 + 2, 'tx1');
    expect(m1).toMatchObject({ version: 1, status: 'active', grantee: 'HospitalBMSP', sourceChain: HOME });
    const m2 = applyConsentPacketRule(m1, HOME, 'consent.revoke', r.payload, DEST_MEMBERS, T0 + 3, 'tx2');
    expect(m2).toMatchObject({ version: 2, status: 'revoked' });
  });

  it('refuses a grant replayed after its revocation', () => {
    const m2 = applyConsentPacketRule(undefined, HOME, 'consent.revoke', r.payload, DEST_MEMBERS, T0 + 3, 'tx2');
    expectCodeSync(() => applyConsentPacketRule(m2, HOME, 'consent.grant', g.payload, DEST_MEMBERS, T0 + 4, 'tx3'), 'STALE_VERSION');
  });

  it('refuses the same version twice', () => {
    const m1 = applyConsentPacketRule(undefined, HOME, 'consent.grant', g.payload, DEST_MEMBERS, T0 + 2, 'tx1');
    expectCodeSync(() => applyConsentPacketRule(m1, HOME, 'consent.grant', g.payload, DEST_MEMBERS, T0 + 3, 'tx2'), 'STALE_VERSION');
  });

  it('refuses a consent for a grantee that is not a member of this chain', () => {
    expectCodeSync(() => applyConsentPacketRule(undefined, HOME, 'consent.grant', g.payload, ['HospitalCMSP'], T0, 'tx'), 'WRONG_DESTINATION');
  });

  it('refuses a grant that has already expired, but applies its revocation', () => {
    const end = g.payload.terms.period.end;
    expectCodeSync(() => applyConsentPacketRule(undefined, HOME, 'consent.grant', g.payload, DEST_MEMBERS, end, 'tx'), 'CONSENT_EXPIRED');
    expect(applyConsentPacketRule(undefined, HOME, 'consent.revoke', r.payload, DEST_MEMBERS, end, 'tx').status).toBe('revoked');
  });
});
