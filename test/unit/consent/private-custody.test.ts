/**
 * Private patients and anchors (CONSENT.md "Private patients and anchors"): a patient registered
 * privately at their custodian, and the anchors of their records, live in the custodian's
 * implicit collection only. Nothing public is written, and what the custodian then does for them
 * (keep a consent, decide and log an access, read the log) reads no public key that names the
 * patient or the record.
 */
import { createHash } from 'node:crypto';
import { buildConsentGrant, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { canonicalize } from '../../../chaincode/src/protocol/canonical-json';
import { CrossChainContract } from '../../../chaincode/src/contracts/crosschain-contract';
import {
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
