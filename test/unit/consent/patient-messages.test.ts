import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { canonicalBytes } from '../../../chaincode/src/protocol/canonical-json';
import {
  buildConsentGrant,
  buildConsentRevocation,
  consentIdOf,
  exportPublicKey,
  importPatientPublicKey,
  PATIENT_MESSAGE_DOMAIN,
  patientIdOf,
  signPatientMessage,
  verifyPatientMessage,
} from '../../../chaincode/src/protocol/patient-messages';
import { recordHash } from '../../../chaincode/src/protocol/record-hash';
import { expectCodeSync, header, newKey, signedGrant, signedDelegation, T0, terms } from './support';

const grantKinds = ['consent.grant'] as const;

describe('patient-signed messages', () => {
  const patient = newKey();

  it('derives patientId as pt_ + sha256 of the SPKI DER of the patient key', () => {
    const der = Buffer.from(patient.publicKey, 'base64');
    expect(patientIdOf(patient.publicKey)).toBe(`pt_${createHash('sha256').update(der).digest('hex')}`);
  });

  it('verifies a grant signed by the patient over the canonical bytes of the message', () => {
    const s = signedGrant('chain-a', patient);
    const v = verifyPatientMessage(JSON.parse(JSON.stringify(s)), { channel: 'chain-a', kinds: grantKinds });
    expect(v.signedByPatient).toBe(true);
    expect(v.signerKeyId).toBe(patient.keyId);
    expect(v.message.domain).toBe(PATIENT_MESSAGE_DOMAIN);
    // the documented bytes: an independent ECDSA verification over canonicalBytes(message)
    expect(Buffer.from(s.signature, 'base64')).toHaveLength(64);
  });

  it('accepts a signature produced by any P-256 signer over canonicalBytes(message) in P1363 form', () => {
    const m = buildConsentGrant(header('chain-a', patient), terms());
    const sig = sign('sha256', canonicalBytes(m), { key: patient.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
    expect(() => verifyPatientMessage({ message: m, publicKey: patient.publicKey, signature: sig }, { channel: 'chain-a', kinds: grantKinds })).not.toThrow();
  });

  it('rejects a forged signature (another key signed, the patient key enclosed)', () => {
    const mallory = newKey();
    const m = buildConsentGrant(header('chain-a', patient), terms());
    const forged = { ...signPatientMessage(m, mallory.privateKey), publicKey: patient.publicKey };
    expectCodeSync(() => verifyPatientMessage(forged, { channel: 'chain-a', kinds: grantKinds }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a message whose terms were changed after signing', () => {
    const s = signedGrant('chain-a', patient);
    const tampered = { ...s, message: { ...s.message, terms: { ...s.message.terms, grantee: 'HospitalCMSP' } } };
    expectCodeSync(() => verifyPatientMessage(tampered, { channel: 'chain-a', kinds: grantKinds }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a DER-encoded signature (only IEEE P1363 is accepted)', () => {
    const s = signedGrant('chain-a', patient);
    const der = sign('sha256', canonicalBytes(s.message), patient.privateKey).toString('base64');
    expectCodeSync(() => verifyPatientMessage({ ...s, signature: der }, { channel: 'chain-a', kinds: grantKinds }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a message whose signer field is not the enclosed key', () => {
    const other = newKey();
    const s = signedGrant('chain-a', patient);
    expectCodeSync(() => verifyPatientMessage({ ...s, publicKey: other.publicKey }, { channel: 'chain-a', kinds: grantKinds }), 'PATIENT_SIGNATURE_INVALID');
  });

  it('rejects a genuine message bound to another channel with WRONG_CHANNEL', () => {
    const s = signedGrant('chain-b', patient);
    expectCodeSync(() => verifyPatientMessage(s, { channel: 'chain-a', kinds: grantKinds }), 'WRONG_CHANNEL');
  });

  it('rejects a message of a kind the caller does not accept', () => {
    const s = signedDelegation('chain-a', patient, newKey());
    expectCodeSync(() => verifyPatientMessage(s, { channel: 'chain-a', kinds: grantKinds }), 'INVALID_ARGUMENT');
  });

  it('rejects unknown fields, missing fields, another domain and malformed ids', () => {
    const s = signedGrant('chain-a', patient);
    const opts = { channel: 'chain-a', kinds: grantKinds };
    expectCodeSync(() => verifyPatientMessage({ ...s, message: { ...s.message, extra: 1 } }, opts), 'INVALID_ARGUMENT');
    const { nonce: _n, ...noNonce } = s.message;
    expectCodeSync(() => verifyPatientMessage({ ...s, message: noNonce }, opts), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPatientMessage({ ...s, message: { ...s.message, domain: 'other/v1' } }, opts), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPatientMessage({ ...s, message: { ...s.message, nonce: 'short' } }, opts), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPatientMessage({ ...s, message: { ...s.message, patientId: 'alice' } }, opts), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPatientMessage({ ...s, extra: true }, opts), 'INVALID_ARGUMENT');
    expectCodeSync(() => verifyPatientMessage('not an object', opts), 'INVALID_ARGUMENT');
  });

  it('rejects keys that are not uncompressed P-256 SPKI', () => {
    const ed = exportPublicKey(generateKeyPairSync('ed25519').privateKey);
    const p384 = exportPublicKey(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey);
    const uncompressed = Buffer.from(newKey().publicKey, 'base64');
    const point = uncompressed.subarray(uncompressed.length - 65);
    const y = point.subarray(33);
    const compressed = Buffer.concat([
      Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
      Buffer.from([(y[31] ?? 0) % 2 === 0 ? 2 : 3]),
      point.subarray(1, 33),
    ]);
    expectCodeSync(() => importPatientPublicKey(ed), 'INVALID_ARGUMENT');
    expectCodeSync(() => importPatientPublicKey(p384), 'INVALID_ARGUMENT');
    expectCodeSync(() => importPatientPublicKey('bm90IGEga2V5'), 'INVALID_ARGUMENT');
    expectCodeSync(() => importPatientPublicKey('not base64!'), 'INVALID_ARGUMENT');
    expectCodeSync(() => importPatientPublicKey(compressed.toString('base64')), 'INVALID_ARGUMENT');
    expect(importPatientPublicKey(uncompressed.toString('base64')).asymmetricKeyType).toBe('ec');
  });

  it('gives a grant a consent id that is the hash of its canonical message', () => {
    const s = signedGrant('chain-a', patient);
    expect(consentIdOf(s.message)).toBe(`cs_${createHash('sha256').update(canonicalBytes(s.message)).digest('hex')}`);
    expect(consentIdOf(signedGrant('chain-a', patient).message)).not.toBe(consentIdOf(s.message));
  });

  it('signs the keeper of a private consent: part of the message and of the consent id; only on grants, only an MSP id', () => {
    const h = header('chain-a', patient);
    const kept = buildConsentGrant(h, terms(), 'HospitalAMSP');
    const open = buildConsentGrant(h, terms());
    expect(kept.keeper).toBe('HospitalAMSP');
    expect('keeper' in open).toBe(false);
    expect(consentIdOf(kept)).not.toBe(consentIdOf(open));
    const signed = signPatientMessage(kept, patient.privateKey);
    expect(verifyPatientMessage(signed, { channel: 'chain-a', kinds: grantKinds }).message.keeper).toBe('HospitalAMSP');
    // Moving it to another keeper breaks the signature.
    expectCodeSync(() => verifyPatientMessage({ ...signed, message: { ...kept, keeper: 'HospitalCMSP' } }, { channel: 'chain-a', kinds: grantKinds }), 'PATIENT_SIGNATURE_INVALID');
    expectCodeSync(() => buildConsentGrant(h, terms(), 'not an msp id!'), 'INVALID_ARGUMENT');
    // A revocation has no keeper field, even signed.
    const revocation = { ...buildConsentRevocation(h, `cs_${'0'.repeat(64)}`), keeper: 'HospitalAMSP' };
    expectCodeSync(() => verifyPatientMessage(signPatientMessage(revocation as never, patient.privateKey), { channel: 'chain-a', kinds: ['consent.revoke'] }), 'INVALID_ARGUMENT');
  });

  it('rejects a builder input with malformed terms before anything is signed', () => {
    expectCodeSync(() => buildConsentGrant(header('chain-a', patient), terms({ grantee: 'not an msp id!' })), 'INVALID_ARGUMENT');
    expectCodeSync(() => buildConsentGrant(header('chain-a', patient, patient, -1), terms()), 'INVALID_ARGUMENT');
    expectCodeSync(
      () => buildConsentGrant(header('chain-a', patient), terms({ scope: { recordIds: [], categories: ['observation'] } })),
      'INVALID_ARGUMENT',
    );
    expect(buildConsentGrant(header('chain-a', patient, patient, T0), terms()).issuedAt).toBe(T0);
  });

  it('hashes a record as sha256(salt || content) and refuses short salts', () => {
    const salt = Buffer.alloc(32, 7);
    const content = Buffer.from('{"resourceType":"Observation"}');
    expect(recordHash(salt, content)).toBe(createHash('sha256').update(Buffer.concat([salt, content])).digest('hex'));
    expectCodeSync(() => recordHash(Buffer.alloc(8), content), 'INVALID_ARGUMENT');
  });
});
