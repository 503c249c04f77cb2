/**
 * Registering a patient's public key is open to any member org (the key is public). It must
 * not make the registering org a reader of another custodian's records or access log, nor a
 * reviewer of another org's emergency on them.
 */
import { logEntryVisibleTo, mayReviewEmergency } from '../../../chaincode/src/rules/access-rules';
import { breakGlassTx, expectRejected, HOUR, json, logAccessTx, reviewEmergencyTx, signedGrant, T0, terms, usePatientChannel } from '../consent/support';

const REC = 'obs-0001';
const H1 = '1'.repeat(64);

interface Page {
  items: Array<Record<string, unknown>>;
  bookmark: string;
}

describe('a second org registering a patient gains no read rights over another custodian', () => {
  // chain-a with three member hospitals: A is the patient's custodian, B shares by consent,
  // C is the would-be reader that registers the patient's public key at itself.
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalBMSP', 'HospitalCMSP'], async () => {
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, REC, fx.patient.patientId, 'Observation', H1));
    await fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', fx.patient, terms({ grantee: 'HospitalBMSP' })))));
    await fx.call(fx.o.userA, T0 + 2, (c, ctx) => logAccessTx('HospitalBMSP', REC, 'TREAT', 'req-1')(c, ctx));
    await fx.call(fx.o.clinicianA, T0 + 3, (c, ctx) => breakGlassTx(fx.patient.patientId, REC, '', 'unconscious in emergency room')(c, ctx));
  });

  it("shows the registering org none of the custodian's log entries", async () => {
    const custodianView = await fx.call<Page>(fx.o.userA, T0 + HOUR, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', ''));
    expect(custodianView.items.map((e) => [e.kind, e.requester])).toEqual([
      ['access', 'HospitalBMSP'],
      ['emergency-opened', 'HospitalAMSP'],
    ]);

    // The attack: HospitalC registers the patient's public key at itself, then reads the log.
    const registered = await fx.call(fx.o.userC, T0 + HOUR, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
    expect(registered).toMatchObject({ registeredBy: ['HospitalAMSP', 'HospitalCMSP'] });
    const before = fx.ledger.snapshot();
    const attackerView = await fx.call<Page>(fx.o.userC, T0 + HOUR, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', ''));
    expect(attackerView.items).toEqual([]);
    expect(fx.ledger.snapshot()).toEqual(before);

    // Nor does it read the record: the access decision for HospitalC is still no consent.
    const decision = await fx.call(fx.o.userC, T0 + HOUR, (c, ctx) => c.CheckAccess(ctx, 'HospitalCMSP', REC, 'TREAT'));
    expect(decision).toMatchObject({ allowed: false, reason: 'no-consent' });
    await expectRejected(fx.ledger, () => fx.call(fx.o.userC, T0 + HOUR, (c, ctx) => logAccessTx('HospitalCMSP', REC, 'TREAT', 'req-2')(c, ctx)), 'NOT_CUSTODIAN');
  });

  it("refuses the registering org as reviewer of the custodian's emergency (UNAUTHORIZED), changing nothing", async () => {
    await fx.call(fx.o.userC, T0 + HOUR, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
    const [emergency] = (await fx.call<Page>(fx.o.officerA, T0 + HOUR, (c, ctx) => c.ListEmergencies(ctx, '', '', ''))).items;
    // HospitalC's officer sends the review to the custodian's peers, where the emergency is.
    await expectRejected(
      fx.ledger,
      () => fx.call(fx.o.officerC, T0 + HOUR, (c, ctx) => reviewEmergencyTx(emergency!.emergencyId as string, 'HospitalAMSP', 'unjustified')(c, ctx), 'HospitalAMSP'),
      'UNAUTHORIZED',
    );
    const reviewed = await fx.call(fx.o.officerA, T0 + HOUR, (c, ctx) => reviewEmergencyTx(emergency!.emergencyId as string, 'HospitalAMSP', 'justified')(c, ctx));
    expect(reviewed).toMatchObject({ review: { status: 'justified', reviewerOrg: 'HospitalAMSP' } });
  });

  it('shows an org its own entries and those about the records it holds once it anchors one', async () => {
    await fx.call(fx.o.userC, T0 + HOUR, (c, ctx) => c.RegisterPatient(ctx, fx.patient.publicKey));
    await fx.call(fx.o.userC, T0 + HOUR, (c, ctx) => c.AnchorRecord(ctx, 'obs-c-1', fx.patient.patientId, 'Observation', H1));
    await fx.call(fx.o.userC, T0 + HOUR + 1, (c, ctx) => logAccessTx('HospitalBMSP', 'obs-c-1', 'TREAT', 'req-3')(c, ctx));
    const view = await fx.call<Page>(fx.o.userC, T0 + 2 * HOUR, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', ''));
    expect(view.items.map((e) => [e.recordId, e.loggedBy])).toEqual([['obs-c-1', 'HospitalCMSP']]);
  });
});

describe('access-log visibility rule', () => {
  const entry = (requester: string, loggedBy: string, recordId: string | null) => ({ requester, loggedBy, recordId });
  const none = { recordCustodian: null, holdsRecordOfPatient: false };

  it('shows an entry to its parties and to the custodian of its record, to nobody else', () => {
    expect(logEntryVisibleTo(entry('B', 'A', 'r1'), 'B', { recordCustodian: 'A', holdsRecordOfPatient: false })).toBe(true);
    expect(logEntryVisibleTo(entry('B', 'A', 'r1'), 'A', { recordCustodian: 'A', holdsRecordOfPatient: true })).toBe(true);
    expect(logEntryVisibleTo(entry('B', 'A', 'r1'), 'C', { recordCustodian: 'A', holdsRecordOfPatient: true })).toBe(false);
    expect(logEntryVisibleTo(entry('B', 'B', null), 'C', none)).toBe(false);
    expect(logEntryVisibleTo(entry('B', 'B', null), 'C', { recordCustodian: null, holdsRecordOfPatient: true })).toBe(true);
  });

  it('lets the opener or a custodian of what an emergency opened review it', () => {
    expect(mayReviewEmergency({ org: 'B', recordId: 'r1' }, 'B', none)).toBe(true);
    expect(mayReviewEmergency({ org: 'B', recordId: 'r1' }, 'A', { recordCustodian: 'A', holdsRecordOfPatient: true })).toBe(true);
    expect(mayReviewEmergency({ org: 'B', recordId: 'r1' }, 'C', { recordCustodian: 'A', holdsRecordOfPatient: true })).toBe(false);
    expect(mayReviewEmergency({ org: 'B', recordId: null }, 'C', none)).toBe(false);
    // A private emergency names its one custodian: it and the opener review, nobody else.
    expect(mayReviewEmergency({ org: 'B', recordId: null, custodian: 'A' }, 'A', none)).toBe(true);
    expect(mayReviewEmergency({ org: 'B', recordId: null, custodian: 'A' }, 'C', { recordCustodian: 'C', holdsRecordOfPatient: true })).toBe(false);
  });
});

