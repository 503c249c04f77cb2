/**
 * Access decisions read consents by (patient, record) (CONSENT.md "Rules"): the consents of every
 * grantee whose scope names the record, and the patient's consents v2. So what a decision reads
 * does not depend on who asks: a logged decision's read set is the same for every requester. The
 * decision is checkAccess over all of the pair's consents, except that a pair whose consents
 * cover other records only is refused `no-consent` (no consent covers the record), never
 * `out-of-scope`, which would need the pair's other consents read by the grantee's name. A patient
 * whose consents predate the index is read whole, and the patient's next grant indexes them all.
 */
import { checkAccess } from '../../../chaincode/src/rules/access-rules';
import { isPolicyConsent, type Consent, type StoredConsent } from '../../../chaincode/src/rules/consent-rules';
import type { RecordAnchor } from '../../../chaincode/src/rules/record-rules';
import type { ConsentTerms } from '../../../chaincode/src/protocol/patient-messages';
import { KeyTypes } from '../../../chaincode/src/state/keys';
import { DAY, json, logAccessTx, signedGrant, signedRevocation, T0, terms, usePatientChannel } from './support';

const H = '3'.repeat(64);
const RECORDS = [
  ['obs-1', 'Observation'],
  ['obs-2', 'Observation'],
  ['img-1', 'ImagingStudy'],
  ['lab-1', 'DiagnosticReport'],
  ['med-1', 'MedicationStatement'],
] as const;

describe('Consent decisions through the (patient, scope) index', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalCMSP'], async () => {
    for (const [id, category] of RECORDS) await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, id, fx.patient.patientId, category, H));
  });

  const grant = async (t: Partial<ConsentTerms>): Promise<string> =>
    (await fx.call<{ consentId: string }>(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', fx.patient, terms(t)))))).consentId;
  const revoke = (consentId: string) => fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, consentId, fx.patient, T0 + 1))));
  const check = (grantee: string, recordId: string, purpose: string, at: number) => fx.call(fx.o.userA, at, (c, ctx) => c.CheckAccess(ctx, grantee, recordId, purpose));

  /** State keys of one type, as the fake ledger holds them, split into their attributes. */
  const keysOf = (type: string): string[][] =>
    [...fx.ledger.state.keys()].filter((k) => k.startsWith(`\u0000${type}\u0000`)).map((k) => k.split('\u0000').slice(2, -1));
  const dropKeysOf = (...types: string[]): void => {
    for (const k of [...fx.ledger.state.keys()]) if (types.some((t) => k.startsWith(`\u0000${t}\u0000`))) fx.ledger.state.delete(k);
  };
  const stateOf = <T>(type: string): T[] =>
    [...fx.ledger.state.entries()].filter(([k]) => k.startsWith(`\u0000${type}\u0000`)).map(([, v]) => JSON.parse(v.toString('utf8')) as T);

  const GRANTEES = ['HospitalBMSP', 'HospitalCMSP', 'HospitalAMSP', 'HospitalDMSP'];
  const asks = (): Array<{ grantee: string; recordId: string; purpose: string; at: number }> =>
    GRANTEES.flatMap((grantee) =>
      RECORDS.flatMap(([recordId]) => ['TREAT', 'HRESCH', 'ETREAT'].flatMap((purpose) => [T0 + 1000, T0 + 20 * DAY, T0 + 45 * DAY].map((at) => ({ grantee, recordId, purpose, at })))),
    );

  /** Every (grantee, record, purpose, time) a test asks about, decided by the contract. */
  async function decisions(): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const a of asks()) out.push({ ...a, d: await check(a.grantee, a.recordId, a.purpose, a.at) });
    return out;
  }

  async function grantMix(): Promise<void> {
    await grant({ scope: { recordIds: ['obs-1'], categories: [] } });
    await grant({ scope: { recordIds: [], categories: ['ImagingStudy'] }, purposes: ['HRESCH'] });
    await grant({ scope: { recordIds: ['lab-1'], categories: ['Observation'] }, period: { start: T0 + 10 * DAY, end: T0 + 30 * DAY } });
    await revoke(await grant({ scope: { recordIds: ['med-1'], categories: [] } }));
    await grant({ grantee: 'HospitalCMSP', scope: { recordIds: ['obs-2'], categories: [] } });
  }

  it("decides every case as checkAccess over all of the pair's consents, a pair covering other records only being no-consent", async () => {
    await grantMix();
    const got = await decisions();
    // The rule over every consent of the patient in state (the pair's are those it keeps).
    const all = stateOf<StoredConsent>(KeyTypes.Consent).filter((c): c is Consent => !isPolicyConsent(c));
    const anchors = new Map(stateOf<RecordAnchor>(KeyTypes.Record).map((r) => [r.recordId, r]));
    const expected = asks().map((a) => {
      const d = checkAccess({ grantee: a.grantee, record: anchors.get(a.recordId)!, purpose: a.purpose, action: 'read', at: a.at, consents: all, emergencies: [] });
      return { ...a, d: d.reason === 'out-of-scope' ? { ...d, reason: 'no-consent' } : d };
    });
    expect(got).toEqual(expected);
    const reasons = new Set(got.map((x) => (x as { d: { reason: string } }).d.reason));
    expect([...reasons].sort()).toEqual(['consent', 'consent-expired', 'consent-not-yet-valid', 'consent-revoked', 'custodian', 'no-consent', 'purpose-not-covered'].sort());
    // HospitalC holds a consent of this patient for obs-2 only: read over the pair's consents that is
    // out-of-scope; no consent covers obs-1 for HospitalC, so the contract says no-consent.
    const obs1 = anchors.get('obs-1')!;
    expect(checkAccess({ grantee: 'HospitalCMSP', record: obs1, purpose: 'TREAT', action: 'read', at: T0 + 1000, consents: all, emergencies: [] }).reason).toBe('out-of-scope');
    expect(await check('HospitalCMSP', 'obs-1', 'TREAT', T0 + 1000)).toMatchObject({ allowed: false, reason: 'no-consent' });
  });

  it('indexes a consent under the patient and every record id and category of its scope, once, whatever its grantee', async () => {
    const b = await grant({ scope: { recordIds: ['obs-1', 'lab-1'], categories: ['Observation', 'ImagingStudy'] } });
    const c = await grant({ grantee: 'HospitalCMSP', scope: { recordIds: ['obs-1'], categories: [] } });
    const p = fx.patient.patientId;
    const byKey = (x: string[], y: string[]) => x.join('/').localeCompare(y.join('/'));
    expect(keysOf(KeyTypes.ConsentByPatientScope).sort(byKey)).toEqual(
      [
        [p, 'category:ImagingStudy', b],
        [p, 'category:Observation', b],
        [p, 'record:lab-1', b],
        [p, 'record:obs-1', b],
        [p, 'record:obs-1', c],
      ].sort(byKey),
    );
    // No key of public state names a grantee beside the patient (the consent itself does, in its value).
    expect([...fx.ledger.state.keys()].filter((k) => k.includes('HospitalBMSP') || k.includes('HospitalCMSP'))).toEqual([]);
    expect(keysOf(KeyTypes.PatientConsentsIndexed)).toEqual([[p]]);
  });

  it('reads the same keys for a logged decision whoever asks: a grantee, another grantee, an org without consent', async () => {
    await grantMix();
    await grant({ grantee: 'HospitalCMSP', scope: { recordIds: ['obs-1'], categories: [] } });
    fx.ledger.recordReads = true;
    const readsFor = async (grantee: string) => {
      const d = await fx.call<{ allowed: boolean; reason: string }>(fx.o.userA, T0 + 1000, (c, ctx) => logAccessTx(grantee, 'obs-1', 'TREAT', `rq-${grantee}`)(c, ctx));
      return { d, reads: fx.ledger.lastReads };
    };
    const b = await readsFor('HospitalBMSP');
    const c = await readsFor('HospitalCMSP');
    const d = await readsFor('HospitalDMSP');
    expect([b.d, c.d, d.d].map((x) => [x.allowed, x.reason])).toEqual([
      [true, 'consent'],
      [true, 'consent'],
      [false, 'no-consent'],
    ]);
    expect(b.reads.length).toBeGreaterThan(0);
    expect(c.reads).toEqual(b.reads);
    expect(d.reads).toEqual(b.reads);
    expect(b.reads.filter((r) => /Hospital[BCD]MSP/.test(r))).toEqual([]);
    // It reads the consents covering obs-1, both grantees' (obs-1 for each, Observation for HospitalB), not the patient's others.
    const consentReads = b.reads.filter((r) => r.startsWith(`read \u0000${KeyTypes.Consent}\u0000`));
    expect(consentReads).toHaveLength(3);
  });

  it('keeps deciding for consents stored before the index, and indexes them all with the patient\u2019s next grant', async () => {
    await grantMix();
    const before = await decisions();
    // The state as a chaincode without the index left it.
    dropKeysOf(KeyTypes.ConsentByPatientScope, KeyTypes.PatientConsentsIndexed);
    expect(await decisions()).toEqual(before);
    // A new grant (its purpose asked about nowhere): every earlier consent of the patient, of every grantee, is indexed with it.
    await grant({ scope: { recordIds: ['img-1'], categories: [] }, purposes: ['PATRQT'] });
    expect(keysOf(KeyTypes.PatientConsentsIndexed)).toEqual([[fx.patient.patientId]]);
    // obs-1; ImagingStudy; lab-1 and Observation; med-1 (revoked); obs-2 (HospitalC); img-1 (the new one).
    expect(keysOf(KeyTypes.ConsentByPatientScope)).toHaveLength(7);
    expect(await decisions()).toEqual(before);
  });
});
