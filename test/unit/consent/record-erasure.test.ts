/**
 * Erasure of a record (GDPR art. 17; CONSENT.md "Erasure"): only the record's custodian erases,
 * on the patient's (or guardian's) signed record.erase or on a request its privacy officer
 * verified; the anchor then keeps only that it was erased, when, by whom and how many versions
 * it had, and every path that reads the record answers RECORD_ERASED. Refusals write nothing.
 */
import type { ErasedRecord, RecordAnchor } from '../../../chaincode/src/rules/record-rules';
import { eraseRecord, ERASURE_REASONS, liveRecord } from '../../../chaincode/src/rules/record-rules';
import { buildRecordErasure, checkMessage, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import type { FakeLedger } from '../support/fake-ledger';
import {
  channel,
  consentCaller,
  expectCode,
  expectCodeSync,
  expectRejected,
  header,
  json,
  newKey,
  orgs,
  signedDelegation,
  signedGrant,
  T0,
  terms,
  type KeyHolder,
  type Orgs,
  breakGlassTx,
  logAccessAsTx,
  logAccessTx,
  reviewEmergencyTx,
} from './support';

const CHAIN = 'chain-a';
const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const META = { securityLabels: ['PSY'], dataDate: Date.UTC(2024, 2, 1), authorOrg: 'HospitalAMSP' };

function signedErasure(patient: KeyHolder, recordId: string, signer: KeyHolder = patient, issuedAt = T0) {
  return json(signPatientMessage(buildRecordErasure(header(CHAIN, patient, signer, issuedAt), recordId), signer.privateKey));
}

describe('record erasure', () => {
  let o: Orgs;
  let ledger: FakeLedger;
  let call: ReturnType<typeof consentCaller>;
  let patient: KeyHolder;

  beforeAll(async () => {
    o = await orgs();
  });

  beforeEach(async () => {
    ledger = await channel(CHAIN, ['HospitalAMSP', 'HospitalBMSP', 'HospitalCMSP'], o.adminA);
    call = consentCaller(ledger);
    patient = newKey();
    await call(o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, patient.publicKey));
    await call(o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'psy-1', patient.patientId, 'Observation', H1, json(META)));
    await call(o.userA, T0 + 1, (c, ctx) => c.AmendRecord(ctx, 'psy-1', H2, '1'));
  });

  /** Every state key and value that mentions the record, as text. */
  function stateAbout(recordId: string): Array<[string, string]> {
    return [...ledger.snapshot().entries()].filter(([k, v]) => k.includes(recordId) || v.includes(recordId));
  }

  it('erases on the patient-signed request: the anchor keeps only erased, when, by whom and the version count', async () => {
    const erased = await call<ErasedRecord>(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1')));
    expect(erased).toEqual({ recordId: 'psy-1', erased: true, erasedAt: T0 + 10, erasedBy: 'HospitalAMSP', versions: 2, txId: erased.txId });
    const about = stateAbout('psy-1');
    // Left: the marker under the record key; gone: both versions, their hashes and labels, the patient index.
    expect(about).toHaveLength(1);
    expect(JSON.parse(about[0]?.[1] ?? '{}')).toEqual(erased);
    const all = [...ledger.snapshot().values()].join('\n');
    expect(all).not.toContain(H1);
    expect(all).not.toContain(H2);
    expect(all).not.toContain('PSY');
    expect(await call(o.userC, T0 + 11, (c, ctx) => c.GetRecordErasure(ctx, 'psy-1'))).toEqual(erased);
    const event = ledger.events[ledger.events.length - 1];
    expect(event?.name).toBe('RecordErased');
    expect(event?.payload).toEqual({ recordId: 'psy-1', erasedBy: 'HospitalAMSP', versions: 2, basis: 'patient-signed', reasonCode: null, txId: erased.txId });
  });

  it('answers RECORD_ERASED on every path that reads the record after erasure, and refuses amendments and a new anchor of the id', async () => {
    await call(o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant(CHAIN, patient, terms({ scope: { recordIds: ['psy-1'], categories: [] } })))));
    const before = await call<{ allowed: boolean }>(o.userB, T0 + 5, (c, ctx) => c.CheckAccess(ctx, 'HospitalBMSP', 'psy-1', 'TREAT'));
    expect(before.allowed).toBe(true);
    await call(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1')));
    const requester = json({ org: 'HospitalBMSP' });
    const refused: Array<[typeof o.userA, Parameters<typeof call>[2]]> = [
      [o.userB, (c, ctx) => c.GetRecord(ctx, 'psy-1')],
      [o.userB, (c, ctx) => c.GetRecordHistory(ctx, 'psy-1', '', '')],
      [o.userB, (c, ctx) => c.VerifyRecordHash(ctx, 'psy-1', H2, '')],
      [o.userB, (c, ctx) => c.CheckAccess(ctx, 'HospitalBMSP', 'psy-1', 'TREAT')],
      [o.userB, (c, ctx) => c.CheckAccessAs(ctx, requester, 'psy-1', 'TREAT')],
      [o.userA, (c, ctx) => logAccessTx('HospitalBMSP', 'psy-1', 'TREAT', '')(c, ctx)],
      [o.userA, (c, ctx) => logAccessAsTx(JSON.parse(requester) as Record<string, unknown>, 'psy-1', 'TREAT', '')(c, ctx)],
      [o.userA, (c, ctx) => c.AmendRecord(ctx, 'psy-1', H1, '2')],
      [o.userA, (c, ctx) => c.AmendRecordWithMetadata(ctx, 'psy-1', H1, '2', json(META))],
      [o.userA, (c, ctx) => c.AnchorRecord(ctx, 'psy-1', patient.patientId, 'Observation', H1)],
      [o.clinicianA, (c, ctx) => breakGlassTx(patient.patientId, 'psy-1', '', 'unconscious on arrival')(c, ctx)],
    ];
    for (const [who, fn] of refused) await expectRejected(ledger, () => call(who, T0 + 20, fn), 'RECORD_ERASED');
  });

  it("drops the record from the patient's record list and keeps the access log readable", async () => {
    await call(o.userA, T0 + 2, (c, ctx) => c.AnchorRecord(ctx, 'obs-2', patient.patientId, 'Observation', H1));
    await call(o.userA, T0 + 3, (c, ctx) => logAccessTx('HospitalBMSP', 'psy-1', 'TREAT', '')(c, ctx));
    await call(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1')));
    const list = await call<{ items: RecordAnchor[] }>(o.userA, T0 + 11, (c, ctx) => c.ListRecordsByPatient(ctx, patient.patientId, '', ''));
    expect(list.items.map((r) => r.recordId)).toEqual(['obs-2']);
    const log = await call<{ items: Array<{ recordId: string }> }>(o.userA, T0 + 11, (c, ctx) => c.ListAccessLog(ctx, patient.patientId, '', ''));
    expect(log.items.map((e) => e.recordId)).toEqual(['psy-1']);
  });

  it('still lets the custodian review a break-glass opened on the record before it was erased', async () => {
    // Opened privately at the custodian's peers (HospitalA's), which hold the emergency.
    const e = await call<{ emergencyId: string }>(o.clinicianC, T0 + 5, (c, ctx) => breakGlassTx(patient.patientId, 'psy-1', '', 'unconscious on arrival')(c, ctx), 'HospitalAMSP');
    await call(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1')));
    const reviewed = await call<{ review: { status: string } }>(o.officerA, T0 + 20, (c, ctx) => reviewEmergencyTx(e.emergencyId, 'HospitalAMSP', 'justified')(c, ctx));
    expect(reviewed.review.status).toBe('justified');
  });

  it('erases on a guardian-signed request as on the patient-signed one', async () => {
    const guardian = newKey();
    await call(o.userA, T0, (c, ctx) => c.AuthoriseGuardian(ctx, json(signedDelegation(CHAIN, patient, guardian))));
    const erased = await call<ErasedRecord>(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1', guardian)));
    expect(erased.erased).toBe(true);
  });

  it('answers NOT_FOUND for the erasure marker of a record that is not erased', async () => {
    await expectRejected(ledger, () => call(o.userC, T0 + 10, (c, ctx) => c.GetRecordErasure(ctx, 'psy-1')), 'NOT_FOUND');
  });

  it('refuses an erasure submitted by an org that is not the custodian, and writes nothing', async () => {
    await expectRejected(ledger, () => call(o.userC, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1'))), 'NOT_CUSTODIAN');
  });

  it("refuses a request signed by another patient than the record's, and writes nothing", async () => {
    const other = newKey();
    await call(o.userA, T0, (c, ctx) => c.RegisterPatient(ctx, other.publicKey));
    await expectRejected(ledger, () => call(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(other, 'psy-1'))), 'UNAUTHORIZED');
  });

  it('refuses a replayed request (NONCE_REPLAYED) and a second erasure (RECORD_ERASED), writing nothing', async () => {
    const request = signedErasure(patient, 'psy-1');
    await call(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, request));
    await expectRejected(ledger, () => call(o.userA, T0 + 11, (c, ctx) => c.EraseRecord(ctx, request)), 'NONCE_REPLAYED');
    await expectRejected(ledger, () => call(o.userA, T0 + 12, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1'))), 'RECORD_ERASED');
    await expectRejected(ledger, () => call(o.officerA, T0 + 13, (c, ctx) => c.EraseRecordOnVerifiedRequest(ctx, 'psy-1', 'patient-written')), 'RECORD_ERASED');
  });

  it('refuses an erasure of a record that was never anchored (NOT_FOUND) and a stale request (MESSAGE_STALE)', async () => {
    await expectRejected(ledger, () => call(o.userA, T0 + 10, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'nope-1'))), 'NOT_FOUND');
    await expectRejected(ledger, () => call(o.userA, T0 + 30 * 86_400_000, (c, ctx) => c.EraseRecord(ctx, signedErasure(patient, 'psy-1'))), 'MESSAGE_STALE');
  });

  it("erases on a verified request recorded by the custodian's privacy officer with a reason code", async () => {
    const erased = await call<ErasedRecord>(o.officerA, T0 + 10, (c, ctx) => c.EraseRecordOnVerifiedRequest(ctx, 'psy-1', 'patient-in-person'));
    expect(erased).toMatchObject({ erased: true, erasedBy: 'HospitalAMSP', versions: 2 });
    expect(ledger.events[ledger.events.length - 1]?.payload).toMatchObject({ basis: 'verified-request', reasonCode: 'patient-in-person' });
    await expectRejected(ledger, () => call(o.userB, T0 + 11, (c, ctx) => c.GetRecord(ctx, 'psy-1')), 'RECORD_ERASED');
  });

  it('refuses a verified request from a plain member (FORBIDDEN_ROLE), another org (NOT_CUSTODIAN) or with a reason that is not a code (INVALID_ARGUMENT)', async () => {
    await expectRejected(ledger, () => call(o.userA, T0 + 10, (c, ctx) => c.EraseRecordOnVerifiedRequest(ctx, 'psy-1', 'patient-in-person')), 'FORBIDDEN_ROLE');
    await expectRejected(ledger, () => call(o.officerC, T0 + 10, (c, ctx) => c.EraseRecordOnVerifiedRequest(ctx, 'psy-1', 'patient-in-person')), 'NOT_CUSTODIAN');
    await expectRejected(ledger, () => call(o.officerA, T0 + 10, (c, ctx) => c.EraseRecordOnVerifiedRequest(ctx, 'psy-1', 'asked by Jane Doe on the phone')), 'INVALID_ARGUMENT');
  });
});

describe('erasure rules (pure)', () => {
  const head: RecordAnchor = { recordId: 'r-1', patientId: `pt_${'a'.repeat(64)}`, custodian: 'HospitalAMSP', category: 'Observation', hash: H1, version: 3, createdAt: 1, updatedAt: 2, txId: 't1' };

  it('is deterministic: the same inputs give the same marker', () => {
    const req = { basis: 'verified-request' as const, recordId: 'r-1', reasonCode: ERASURE_REASONS[0] };
    expect(eraseRecord(head, req, 'HospitalAMSP', 5, 't2')).toEqual(eraseRecord(head, req, 'HospitalAMSP', 5, 't2'));
    expect(eraseRecord(head, req, 'HospitalAMSP', 5, 't2')).toEqual({ recordId: 'r-1', erased: true, erasedAt: 5, erasedBy: 'HospitalAMSP', versions: 3, txId: 't2' });
  });

  it('reads an erased record as RECORD_ERASED and a live one as itself', () => {
    const marker = eraseRecord(head, { basis: 'patient-signed', recordId: 'r-1', patientId: head.patientId }, 'HospitalAMSP', 5, 't2');
    expect(liveRecord(head)).toBe(head);
    expect(liveRecord(undefined)).toBeUndefined();
    expectCodeSync(() => liveRecord(marker), 'RECORD_ERASED');
  });

  it('checks a record.erase message: a malformed record id or an extra field is INVALID_ARGUMENT', async () => {
    const p = newKey();
    const m = buildRecordErasure(header(CHAIN, p), 'r-1');
    expectCodeSync(() => checkMessage({ ...m, recordId: 'bad id' }), 'INVALID_ARGUMENT');
    expectCodeSync(() => checkMessage({ ...m, reason: 'x' }), 'INVALID_ARGUMENT');
    await expectCode(Promise.resolve().then(() => buildRecordErasure(header(CHAIN, p), '')), 'INVALID_ARGUMENT');
  });
});
