/**
 * Private patients and anchors (CONSENT.md "Private patients and anchors"): a patient registered
 * privately at their custodian, and the anchors of their records, live in the custodian's
 * implicit collection only. Nothing public is written, and what the custodian then does for them
 * (keep a consent, decide and log an access, read the log) reads no public key that names the
 * patient or the record.
 */
import { createHash } from 'node:crypto';
import { buildConsentGrant, buildConsentRevocation, buildGuardianRevocation, buildKeyRotation, buildRecordErasure, buildRecordsRead, consentIdOf, exportPublicKey, signKeyRotation, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import { CrossChainContract } from '../../../chaincode/src/contracts/crosschain-contract';
import {
  breakGlassTx,
  channel,
  consentCaller,
  DAY,
  expectRejected,
  grantPrivatelyTx,
  header,
  HOUR,
  logAccessTx,
  newKey,
  orgs,
  privately,
  signedDelegation,
  signedGrant,
  signedRead,
  T0,
  terms,
  type KeyHolder,
  type Orgs,
} from './support';
import type { FakeLedger } from '../support/fake-ledger';
import { TwoChains } from '../crosschain/harness';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { randomBytes } from 'node:crypto';
import { openSealedResult } from '../../../chaincode/src/protocol/sealed-result';

const A = 'HospitalAMSP';
const H1 = '1'.repeat(64);
const LABELS = { securityLabels: ['N'], dataDate: T0 - DAY, authorOrg: A, documentClasses: [{ system: 'http://loinc.org', code: '85354-9' }] };


describe('private patients and anchors', () => {
  let o: Orgs;
  let ledger: FakeLedger;
  let call: ReturnType<typeof consentCaller>;
  let patient: KeyHolder;

  beforeEach(async () => {
    o = await orgs();
    ledger = await channel('chain-a', [A, 'HospitalBMSP', 'HospitalCMSP'], o.userA);
    call = consentCaller(ledger);
    patient = newKey();
  });

  const register = () => call(o.userA, T0, privately('RegisterPatientPrivately', { publicKey: patient.publicKey }));
  const anchor = (recordId = 'rec-0000000000000001', metadata: unknown = LABELS, caller = o.userA) =>
    call(caller, T0, privately('AnchorRecordPrivately', { recordId, patientId: patient.patientId, category: 'Observation', hash: H1, metadata }));
  const keptGrant = () => signPatientMessage(buildConsentGrant(header('chain-a', patient), terms({ scope: { recordIds: [], categories: ['Observation'] } }), A), patient.privateKey);
  const publicText = () => [...ledger.snapshot()].map(([k, v]) => `${k}=${String(v)}`).join('\n');

  it('registers a patient in the custodian\'s collection only: nothing public, the patient readable by the custodian alone', async () => {
    const before = ledger.snapshot();
    expect(await register()).toMatchObject({ patientId: patient.patientId, publicKey: patient.publicKey, registeredBy: [A] });
    expect(ledger.snapshot()).toEqual(before);
    expect(ledger.events.at(-1)).toMatchObject({ name: 'PatientRegisteredPrivately', payload: { txId: expect.any(String) } });
    expect(Object.keys(ledger.events.at(-1)?.payload as object)).toEqual(['txId']);
    const stored = [...(ledger.privateState.get(`_implicit_org_${A}`)?.values() ?? [])].map((b) => JSON.parse(b.toString('utf8')) as Record<string, unknown>);
    expect(stored).toEqual([expect.objectContaining({ patientId: patient.patientId, salt: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect(await call(o.userA, T0, (c, ctx) => c.GetPatient(ctx, patient.patientId))).toMatchObject({ patientId: patient.patientId });
    await expect(call(o.userC, T0, (c, ctx) => c.GetPatient(ctx, patient.patientId))).rejects.toMatchObject({ code: 'PATIENT_NOT_REGISTERED' });
    await expectRejected(ledger, () => register(), 'ALREADY_EXISTS');
    await expectRejected(ledger, () => call(o.userA, T0, privately('RegisterPatientPrivately', { publicKey: 'not a key' })), 'INVALID_ARGUMENT');
  });

  it('anchors a record of a privately registered patient privately, with its metadata, and refuses anything else with nothing written', async () => {
    await expectRejected(ledger, () => anchor(), 'PATIENT_NOT_REGISTERED');
    await register();
    const before = ledger.snapshot();
    const head = await anchor();
    expect(head).toMatchObject({ recordId: 'rec-0000000000000001', patientId: patient.patientId, custodian: A, version: 1, hash: H1, labels: { version: 1 } });
    expect(ledger.snapshot()).toEqual(before);
    expect(await call(o.userA, T0, (c, ctx) => c.GetRecord(ctx, 'rec-0000000000000001'))).toEqual(head);
    expect(await call(o.userA, T0, (c, ctx) => c.GetRecordLabels(ctx, 'rec-0000000000000001'))).toMatchObject({ private: true, labelledVersion: 1, metadata: LABELS });
    expect(await call(o.userA, T0, (c, ctx) => c.VerifyRecordHash(ctx, 'rec-0000000000000001', H1, ''))).toMatchObject({ match: true });
    await expect(call(o.userC, T0, (c, ctx) => c.GetRecord(ctx, 'rec-0000000000000001'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expectRejected(ledger, () => anchor(), 'ALREADY_EXISTS');
    await expectRejected(ledger, () => anchor('rec-0000000000000002', { securityLabels: ['NOT-A-LABEL'] }), 'INVALID_ARGUMENT');
    await expectRejected(ledger, () => call(o.userA, T0, privately('AnchorRecordPrivately', { recordId: 'rec-0000000000000003', patientId: patient.patientId, category: 'Observation', hash: 'xyz', metadata: null })), 'INVALID_ARGUMENT');
    // Registered privately at A only: C anchors nothing for the patient.
    await expectRejected(ledger, () => anchor('rec-0000000000000004', null, o.userC), 'PATIENT_NOT_REGISTERED');
    // A publicly registered patient's records are anchored publicly (AnchorRecord), not here.
    const other = newKey();
    await call(o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, other.publicKey));
    await expectRejected(
      ledger,
      () => call(o.userA, T0, privately('AnchorRecordPrivately', { recordId: 'rec-0000000000000005', patientId: other.patientId, category: 'Observation', hash: H1, metadata: null })),
      'PATIENT_NOT_REGISTERED',
    );
  });

  it('amends a private record privately: the next version, its metadata replaced, the chain of versions kept; stale or foreign amendments refused', async () => {
    await register();
    await anchor();
    const before = ledger.snapshot();
    const PSY = { ...LABELS, securityLabels: ['PSY', 'R'] };
    const next = await call(o.userA, T0 + HOUR, privately('AmendRecordPrivately', { recordId: 'rec-0000000000000001', hash: '2'.repeat(64), expectedVersion: 1, metadata: PSY }));
    expect(next).toMatchObject({ version: 2, hash: '2'.repeat(64), labels: { version: 2 } });
    expect(ledger.snapshot()).toEqual(before);
    expect(await call(o.userA, T0 + HOUR, (c, ctx) => c.GetRecordLabels(ctx, 'rec-0000000000000001'))).toMatchObject({ version: 2, labelledVersion: 2, metadata: PSY });
    expect(await call(o.userA, T0 + HOUR, (c, ctx) => c.VerifyRecordHash(ctx, 'rec-0000000000000001', H1, '1'))).toMatchObject({ match: true, headVersion: 2 });
    // Without metadata the labels stay.
    expect(await call(o.userA, T0 + 2 * HOUR, privately('AmendRecordPrivately', { recordId: 'rec-0000000000000001', hash: '3'.repeat(64), expectedVersion: 2, metadata: null }))).toMatchObject({ version: 3, labels: { version: 2 } });
    await expectRejected(ledger, () => call(o.userA, T0 + 2 * HOUR, privately('AmendRecordPrivately', { recordId: 'rec-0000000000000001', hash: '4'.repeat(64), expectedVersion: 2, metadata: PSY })), 'STALE_VERSION');
    await expectRejected(ledger, () => call(o.userC, T0 + 2 * HOUR, privately('AmendRecordPrivately', { recordId: 'rec-0000000000000001', hash: '4'.repeat(64), expectedVersion: 3, metadata: null })), 'NOT_FOUND');
    await expectRejected(ledger, () => call(o.userA, T0 + 2 * HOUR, privately('AmendRecordPrivately', { recordId: 'rec-0000000000000001', hash: '3'.repeat(64), expectedVersion: 3, metadata: null })), 'INVALID_ARGUMENT');
    // The custodian's reads of the patient's records: the list, the history, the patient's own signed read of the labels.
    await anchor('rec-0000000000000002', null);
    const listed = await call<{ items: Array<{ recordId: string; version: number }>; bookmark: string }>(o.userA, T0, (c, ctx) => c.ListRecordsByPatient(ctx, patient.patientId, '10', ''));
    expect(listed.items.map((r) => [r.recordId, r.version])).toEqual([
      ['rec-0000000000000001', 3],
      ['rec-0000000000000002', 1],
    ]);
    expect(await call(o.userC, T0, (c, ctx) => c.ListRecordsByPatient(ctx, patient.patientId, '10', ''))).toEqual({ items: [], bookmark: '' });
    const history = await call<{ items: Array<{ version: number; hash: string }> }>(o.userA, T0, (c, ctx) => c.GetRecordHistory(ctx, 'rec-0000000000000001', '10', ''));
    expect(history.items.map((v) => [v.version, v.hash])).toEqual([
      [1, H1],
      [2, '2'.repeat(64)],
      [3, '3'.repeat(64)],
    ]);
    const read = signPatientMessage(buildRecordsRead(header('chain-a', patient, patient, T0 + 2 * HOUR)), patient.privateKey);
    const labels = await call<{ items: Array<{ recordId: string; metadata: unknown }> }>(o.userA, T0 + 2 * HOUR, (c, ctx) => c.ListRecordLabelsSigned(ctx, JSON.stringify(read)));
    expect(labels.items).toEqual([
      expect.objectContaining({ recordId: 'rec-0000000000000001', private: true, metadata: PSY }),
      expect.objectContaining({ recordId: 'rec-0000000000000002', metadata: null }),
    ]);
  });

  it('keeps the patient\'s consent, decides and logs an access reading no public key that names the patient or the record', async () => {
    await register();
    await anchor();
    // A public grant cannot be made for a private patient: no public registration reads them.
    await expectRejected(ledger, () => call(o.userA, T0, (c, ctx) => c.GrantConsent(ctx, JSON.stringify(signedGrant('chain-a', patient)))), 'PATIENT_NOT_REGISTERED');
    const signed = keptGrant();
    const kept = await call<{ consentId: string }>(o.userA, T0, grantPrivatelyTx(signed));
    await expectRejected(ledger, () => call(o.userA, T0, grantPrivatelyTx(signed)), 'NONCE_REPLAYED');
    const before = ledger.snapshot();
    ledger.recordReads = true;
    const d = await call<{ allowed: boolean; consentId: string }>(o.userA, T0 + HOUR, logAccessTx('HospitalBMSP', 'rec-0000000000000001', 'TREAT'));
    const reads = ledger.lastReads;
    ledger.recordReads = false;
    expect(d).toMatchObject({ allowed: true, consentId: kept.consentId });
    expect(ledger.snapshot()).toEqual(before);
    // Every public key it read is the member set's; everything else is a private key's hash.
    expect(reads.filter((r) => !r.startsWith('private '))).toEqual([expect.stringContaining('mb.members')]);
    expect(reads.join('\n')).not.toContain(patient.patientId);
    expect(reads.join('\n')).not.toContain('rec-0000000000000001');
    expect(publicText()).not.toContain(patient.patientId);
    // The patient reads their log through A with their own signature.
    const log = await call<{ items: Array<{ requester: string; allowed: boolean }> }>(o.userA, T0 + HOUR, (c, ctx) => c.ListAccessLogSigned(ctx, JSON.stringify(signedRead('chain-a', patient, patient, T0 + HOUR)), '10', ''));
    expect(log.items).toEqual([expect.objectContaining({ requester: 'HospitalBMSP', allowed: true })]);
    // The custodian's staff read it too (it registered the patient, privately); another org is refused.
    expect(await call(o.userA, T0 + HOUR, (c, ctx) => c.ListAccessLog(ctx, patient.patientId, '10', ''))).toMatchObject({ items: [expect.objectContaining({ requester: 'HospitalBMSP' })] });
    await expect(call(o.userC, T0 + HOUR, (c, ctx) => c.ListAccessLog(ctx, patient.patientId, '10', ''))).rejects.toMatchObject({ code: 'PATIENT_NOT_REGISTERED' });
  });
});

describe('private patients and anchors: emergencies and erasure', () => {
  let o: Orgs;
  let ledger: FakeLedger;
  let call: ReturnType<typeof consentCaller>;
  let patient: KeyHolder;
  const REC = 'rec-00000000000000e1';

  beforeEach(async () => {
    o = await orgs();
    ledger = await channel('chain-a', [A, 'HospitalBMSP', 'HospitalCMSP'], o.userA);
    call = consentCaller(ledger);
    patient = newKey();
    await call(o.userA, T0, privately('RegisterPatientPrivately', { publicKey: patient.publicKey }));
    await call(o.userA, T0, privately('AnchorRecordPrivately', { recordId: REC, patientId: patient.patientId, category: 'Observation', hash: H1, metadata: LABELS }));
  });

  const erasure = (signer = patient, issuedAt = T0 + HOUR) => signPatientMessage(buildRecordErasure(header('chain-a', patient, signer, issuedAt), REC), signer.privateKey);

  it('opens an emergency on a private patient\'s record at the custodian, and ETREAT is then allowed there, reading nothing public but the member set', async () => {
    const e = await call<{ custodian: string; org: string }>(o.clinicianC, T0, breakGlassTx(patient.patientId, REC, A, 'unconscious on arrival'), A);
    expect(e).toMatchObject({ custodian: A, org: 'HospitalCMSP' });
    // Every record of the patient the custodian holds (its private index says which).
    await call(o.clinicianC, T0, breakGlassTx(patient.patientId, '', A, 'second look'), A);
    ledger.recordReads = true;
    const d = await call<{ allowed: boolean; reason: string }>(o.userA, T0 + HOUR, logAccessTx('HospitalCMSP', REC, 'ETREAT'));
    const reads = ledger.lastReads;
    ledger.recordReads = false;
    expect(d).toMatchObject({ allowed: true, reason: 'emergency' });
    expect(reads.filter((r) => !r.startsWith('private '))).toEqual([expect.stringContaining('mb.members')]);
    // Another org's patient id is not registered there: refused before anything is opened.
    await expectRejected(ledger, () => call(o.clinicianC, T0, breakGlassTx(newKey().patientId, '', A, 'x'), A), 'PATIENT_NOT_REGISTERED');
  });

  it('erases a private record on the patient\'s signed request: the versions and metadata purged, RECORD_ERASED from then on, nothing public', async () => {
    const before = ledger.snapshot();
    const erased = await call<{ erased: boolean; versions: number; purgedLabelVersions: number[] }>(o.userA, T0 + HOUR, privately('EraseRecordPrivately', { signedErasure: erasure() }));
    expect(erased).toMatchObject({ recordId: REC, erased: true, erasedBy: A, versions: 1, purgedLabelVersions: [1] });
    expect(ledger.snapshot()).toEqual(before);
    const values = [...(ledger.privateState.get(`_implicit_org_${A}`)?.values() ?? [])].map((b) => b.toString('utf8'));
    // No value left holds the record's hash or its labels; the marker says only that it was erased.
    expect(values.filter((v) => v.includes(H1) || v.includes('85354-9'))).toEqual([]);
    expect(values.filter((v) => v.includes(REC))).toEqual([expect.stringContaining('"erased":true')]);
    await expect(call(o.userA, T0 + HOUR, (c, ctx) => c.GetRecord(ctx, REC))).rejects.toMatchObject({ code: 'RECORD_ERASED' });
    await expect(call(o.userA, T0 + HOUR, logAccessTx('HospitalBMSP', REC, 'TREAT'))).rejects.toMatchObject({ code: 'RECORD_ERASED' });
    expect(await call(o.userA, T0 + HOUR, (c, ctx) => c.IsRecordHeldPrivately(ctx, REC))).toEqual({ recordId: REC, heldPrivately: true, erased: true });
    // Again, or replayed: refused with nothing written.
    await expectRejected(ledger, () => call(o.userA, T0 + HOUR, privately('EraseRecordPrivately', { signedErasure: erasure() })), 'RECORD_ERASED');
  });

  it('refuses an erasure by another org, of another patient, or on a verified request without a reviewer, and erases on a verified request by one', async () => {
    await expectRejected(ledger, () => call(o.userC, T0 + HOUR, privately('EraseRecordPrivately', { signedErasure: erasure() })), 'PATIENT_NOT_REGISTERED');
    const stranger = newKey();
    await expectRejected(ledger, () => call(o.userA, T0 + HOUR, privately('EraseRecordPrivately', { signedErasure: erasure(stranger) })), 'GUARDIAN_NOT_AUTHORIZED');
    await expectRejected(ledger, () => call(o.userA, T0 + HOUR, privately('EraseRecordPrivatelyOnVerifiedRequest', { recordId: REC, reasonCode: 'patient-written' })), 'FORBIDDEN_ROLE');
    const erased = await call(o.officerA, T0 + HOUR, privately('EraseRecordPrivatelyOnVerifiedRequest', { recordId: REC, reasonCode: 'patient-written' }));
    expect(erased).toMatchObject({ recordId: REC, erased: true, erasedBy: A });
  });
});

describe('private patients: guardians and key rotation', () => {
  let o: Orgs;
  let ledger: FakeLedger;
  let call: ReturnType<typeof consentCaller>;
  let patient: KeyHolder;
  let guardian: KeyHolder;

  beforeEach(async () => {
    o = await orgs();
    ledger = await channel('chain-a', [A, 'HospitalBMSP', 'HospitalCMSP'], o.userA);
    call = consentCaller(ledger);
    patient = newKey();
    guardian = newKey();
    await call(o.userA, T0, privately('RegisterPatientPrivately', { publicKey: patient.publicKey }));
  });

  const keptBy = (signer: KeyHolder, issuedAt = T0) => signPatientMessage(buildConsentGrant(header('chain-a', patient, signer, issuedAt), terms(), A), signer.privateKey);

  it('authorises a guardian privately, who then signs the patient\'s private grants at that org, until revoked; nothing public', async () => {
    const before = ledger.snapshot();
    // Before the delegation the guardian signs nothing for the patient.
    await expectRejected(ledger, () => call(o.userA, T0, grantPrivatelyTx(keptBy(guardian))), 'GUARDIAN_NOT_AUTHORIZED');
    const g = await call(o.userA, T0, privately('AuthoriseGuardianPrivately', { signedDelegation: signedDelegation('chain-a', patient, guardian) }));
    expect(g).toMatchObject({ patientId: patient.patientId, guardianId: guardian.keyId, status: 'active' });
    expect(await call(o.userA, T0, (c, ctx) => c.GetGuardian(ctx, patient.patientId, guardian.keyId))).toMatchObject({ active: true });
    const kept = await call<{ consentId: string; grantSignedBy: { authority: string; keyId: string } }>(o.userA, T0, grantPrivatelyTx(keptBy(guardian)));
    expect(kept.grantSignedBy).toMatchObject({ authority: 'guardian', keyId: guardian.keyId });
    const revocation = signPatientMessage(buildGuardianRevocation(header('chain-a', patient, patient, T0 + HOUR), guardian.keyId), patient.privateKey);
    expect(await call(o.userA, T0 + HOUR, privately('RevokeGuardianPrivately', { signedRevocation: revocation }))).toMatchObject({ status: 'revoked' });
    await expectRejected(ledger, () => call(o.userA, T0 + HOUR, grantPrivatelyTx(keptBy(guardian, T0 + HOUR))), 'GUARDIAN_NOT_AUTHORIZED');
    expect(ledger.snapshot()).toEqual(before);
    // The public transactions do not serve a private patient, nor the private ones a public patient.
    await expectRejected(ledger, () => call(o.userA, T0, (c, ctx) => c.AuthoriseGuardian(ctx, JSON.stringify(signedDelegation('chain-a', patient, guardian)))), 'PATIENT_NOT_REGISTERED');
    const other = newKey();
    await call(o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, other.publicKey));
    await expectRejected(ledger, () => call(o.userA, T0, privately('AuthoriseGuardianPrivately', { signedDelegation: signedDelegation('chain-a', other, guardian) })), 'PATIENT_NOT_REGISTERED');
  });

  it('rotates a private patient\'s key: the old key signs nothing more, the new one signs, the id stays; nothing public', async () => {
    const before = ledger.snapshot();
    const next = newKey();
    const rotation = signKeyRotation(buildKeyRotation(header('chain-a', patient, patient, T0), exportPublicKey(next.privateKey)), patient.privateKey, next.privateKey);
    const rotated = await call<{ patientId: string; publicKey: string }>(o.userA, T0, privately('RotatePatientKeyPrivately', { signedRotation: rotation }));
    expect(rotated).toMatchObject({ patientId: patient.patientId, publicKey: next.publicKey });
    expect(ledger.snapshot()).toEqual(before);
    await expectRejected(ledger, () => call(o.userA, T0 + HOUR, grantPrivatelyTx(keptBy(patient, T0 + HOUR))), 'PATIENT_KEY_RETIRED');
    const withNew = signPatientMessage(buildConsentGrant(header('chain-a', patient, next, T0 + HOUR), terms(), A), next.privateKey);
    expect(await call(o.userA, T0 + HOUR, grantPrivatelyTx(withNew))).toMatchObject({ consentId: consentIdOf(withNew.message) });
    // The new key cannot register as a patient of its own at that org.
    await expectRejected(ledger, () => call(o.userA, T0, privately('RegisterPatientPrivately', { publicKey: next.publicKey })), 'ALREADY_EXISTS');
    // The revocation of a kept consent by the new key works too.
    const rev = signPatientMessage(buildConsentRevocation(header('chain-a', patient, next, T0 + 2 * HOUR), consentIdOf(withNew.message)), next.privateKey);
    expect(await call(o.userA, T0 + 2 * HOUR, privately('RevokeConsentPrivately', { signedRevocation: rev, keeper: A }))).toMatchObject({ status: 'revoked' });
  });
});

describe('private anchor attestation', () => {
  it('lets every peer of the chain state the hash of a private version, which is the hash of the bytes the custodian holds', async () => {
    const t = await TwoChains.create({ peersPerOrg: 1 });
    await t.setup();
    const consent = new ConsentContract();
    const cc = new CrossChainContract();
    const patient = newKey();
    const privateInvoke = async (fn: (ctx: Parameters<ConsentContract['RegisterPatientPrivately']>[0]) => Promise<string>, request: Record<string, unknown>) => {
      const salt = randomBytes(32);
      let txId = '';
      const out = await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.tick(), transient: { request: Buffer.from(canonicalize({ ...request, salt: salt.toString('hex') })) } }, (ctx) => {
        txId = ctx.stub.getTxID();
        return fn(ctx);
      });
      return JSON.parse(openSealedResult(salt, txId, JSON.parse(out))) as unknown;
    };
    await privateInvoke((ctx) => consent.RegisterPatientPrivately(ctx), { publicKey: patient.publicKey });
    await privateInvoke((ctx) => consent.AnchorRecordPrivately(ctx), { recordId: 'rec-00000000000000aa', patientId: patient.patientId, category: 'Observation', hash: H1, metadata: null });
    const bytes = await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => consent.GetPrivateRecordVersion(ctx, 'rec-00000000000000aa', '1'));
    expect(JSON.parse(bytes)).toMatchObject({ recordId: 'rec-00000000000000aa', version: 1, hash: H1 });
    const stated = async (peerMsp: string) =>
      JSON.parse(await t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now, peerMsp }, (ctx) => cc.GetPrivateRecordAnchorAttestation(ctx, 'rec-00000000000000aa', '1', A))) as Record<string, unknown>;
    const atA = await stated(A);
    const atC = await stated('HospitalCMSP');
    expect(atA).toEqual(atC);
    expect(atA).toMatchObject({ domain: 'medbridge/private-record-anchor/v1', chainId: 'chain-a', recordId: 'rec-00000000000000aa', version: 1, custodian: A, versionDigest: createHash('sha256').update(bytes, 'utf8').digest('hex') });
    await expect(stated('HospitalCMSP').then(() => t.a.ledger.invoke({ identity: t.a.user, timeMs: t.now }, (ctx) => cc.GetPrivateRecordAnchorAttestation(ctx, 'rec-00000000000000aa', '2', A)))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
