import { amendRecord, anchorRecord, hashMatches, verifyVersionChain, type RecordVersion } from '../../../chaincode/src/rules/record-rules';
import { expectCodeSync, newKey, T0 } from './support';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const H3 = 'c'.repeat(64);

describe('record anchors', () => {
  const patientId = newKey().patientId;
  const input = { recordId: 'obs-0001', patientId, category: 'Observation', hash: H1 };
  const v1 = () => anchorRecord(undefined, input, 'HospitalAMSP', T0, 'tx1');

  it('anchors version 1 with the custodian, the transaction time and no previous link', () => {
    const { anchor, version } = v1();
    expect(anchor).toEqual({ ...input, custodian: 'HospitalAMSP', version: 1, createdAt: T0, updatedAt: T0, txId: 'tx1' });
    expect(version).toMatchObject({ version: 1, hash: H1, previous: null, time: T0 });
  });

  it('refuses to anchor a record id twice', () => {
    expectCodeSync(() => anchorRecord(v1().anchor, input, 'HospitalAMSP', T0, 'tx2'), 'ALREADY_EXISTS');
  });

  it('refuses a hash that is not 64 lowercase hex, a category that is not a FHIR type, a malformed id', () => {
    expectCodeSync(() => anchorRecord(undefined, { ...input, hash: H1.toUpperCase() }, 'HospitalAMSP', T0, 'tx'), 'INVALID_ARGUMENT');
    expectCodeSync(() => anchorRecord(undefined, { ...input, hash: 'abc' }, 'HospitalAMSP', T0, 'tx'), 'INVALID_ARGUMENT');
    expectCodeSync(() => anchorRecord(undefined, { ...input, category: 'blood test' }, 'HospitalAMSP', T0, 'tx'), 'INVALID_ARGUMENT');
    expectCodeSync(() => anchorRecord(undefined, { ...input, recordId: 'has space' }, 'HospitalAMSP', T0, 'tx'), 'INVALID_ARGUMENT');
    expectCodeSync(() => anchorRecord(undefined, { ...input, patientId: 'jane-doe' }, 'HospitalAMSP', T0, 'tx'), 'INVALID_ARGUMENT');
  });

  it('amends into version 2 linked to the hash of version 1', () => {
    const first = v1();
    const second = amendRecord(first.anchor, first.version, { hash: H2, expectedVersion: 1 }, 'HospitalAMSP', T0 + 5, 'tx2');
    expect(second.anchor).toMatchObject({ version: 2, hash: H2, createdAt: T0, updatedAt: T0 + 5, txId: 'tx2' });
    expect(() => verifyVersionChain([first.version, second.version])).not.toThrow();
  });

  it('refuses an amendment by an org that is not the custodian', () => {
    const first = v1();
    expectCodeSync(() => amendRecord(first.anchor, first.version, { hash: H2, expectedVersion: 1 }, 'HospitalCMSP', T0, 'tx'), 'NOT_CUSTODIAN');
  });

  it('refuses an amendment from a stale version and one that does not change the hash', () => {
    const first = v1();
    expectCodeSync(() => amendRecord(first.anchor, first.version, { hash: H2, expectedVersion: 0 }, 'HospitalAMSP', T0, 'tx'), 'STALE_VERSION');
    expectCodeSync(() => amendRecord(first.anchor, first.version, { hash: H1, expectedVersion: 1 }, 'HospitalAMSP', T0, 'tx'), 'INVALID_ARGUMENT');
  });

  it('refuses to amend when the stored history does not match the head', () => {
    const first = v1();
    expectCodeSync(
      () => amendRecord(first.anchor, { ...first.version, hash: H3 }, { hash: H2, expectedVersion: 1 }, 'HospitalAMSP', T0, 'tx'),
      'RECORD_HASH_MISMATCH',
    );
  });

  it('detects a tampered version in the history', () => {
    const first = v1();
    const second = amendRecord(first.anchor, first.version, { hash: H2, expectedVersion: 1 }, 'HospitalAMSP', T0 + 5, 'tx2');
    const third = amendRecord(second.anchor, second.version, { hash: H3, expectedVersion: 2 }, 'HospitalAMSP', T0 + 9, 'tx3');
    const tampered: RecordVersion = { ...second.version, hash: H1.replace('a', 'f') };
    expectCodeSync(() => verifyVersionChain([first.version, tampered, third.version]), 'RECORD_HASH_MISMATCH');
    expectCodeSync(() => verifyVersionChain([first.version, third.version]), 'RECORD_HASH_MISMATCH');
    expect(() => verifyVersionChain([first.version, second.version, third.version])).not.toThrow();
  });

  it('matches a salted hash exactly and nothing else', () => {
    expect(hashMatches({ hash: H1 }, H1)).toBe(true);
    expect(hashMatches({ hash: H1 }, H2)).toBe(false);
    expect(hashMatches({ hash: H1 }, H1.toUpperCase())).toBe(false);
  });
});
