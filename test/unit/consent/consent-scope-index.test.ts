/**
 * Access decisions read consents by scope (CONSENT.md "Rules"): the decision over the consents
 * covering the record (plus at most one other) is the decision over all of the pair's consents,
 * for every reason checkAccess can give; a pair whose consents predate the scope index is read
 * whole, and its next grant indexes every earlier consent too.
 */
import type { ConsentTerms } from '../../../chaincode/src/protocol/patient-messages';
import { key, KeyTypes } from '../../../chaincode/src/state/keys';
import { DAY, json, signedGrant, signedRevocation, T0, terms, usePatientChannel } from './support';

const H = '3'.repeat(64);

describe('Consent decisions through the scope index', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalCMSP'], async () => {
    for (const [id, category] of [['obs-1', 'Observation'], ['obs-2', 'Observation'], ['img-1', 'ImagingStudy'], ['lab-1', 'DiagnosticReport'], ['med-1', 'MedicationStatement']]) {
      await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecord(ctx, id!, fx.patient.patientId, category!, H));
    }
  });

  const grant = async (t: Partial<ConsentTerms>): Promise<string> =>
    (await fx.call<{ consentId: string }>(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(signedGrant('chain-a', fx.patient, terms(t)))))).consentId;
  const revoke = (consentId: string) => fx.call(fx.o.userA, T0 + 1, (c, ctx) => c.RevokeConsent(ctx, json(signedRevocation('chain-a', fx.patient, consentId, fx.patient, T0 + 1))));
  const check = (grantee: string, recordId: string, purpose: string, at: number) =>
    fx.call(fx.o.userA, at, (c, ctx) => c.CheckAccess(ctx, grantee, recordId, purpose));

  /** State keys of one type, as the fake ledger holds them. */
  const keysOf = (type: string): string[] => [...fx.ledger.state.keys()].filter((k) => k.startsWith(`\u0000${type}\u0000`));

  /** Every (grantee, record, purpose, time) a test asks about, with every reason covered below. */
  async function decisions(): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const grantee of ['HospitalBMSP', 'HospitalCMSP', 'HospitalAMSP', 'HospitalDMSP']) {
      for (const recordId of ['obs-1', 'obs-2', 'img-1', 'lab-1', 'med-1']) {
        for (const purpose of ['TREAT', 'HRESCH', 'ETREAT']) {
          for (const at of [T0 + 1000, T0 + 20 * DAY, T0 + 45 * DAY]) out.push({ grantee, recordId, purpose, at, d: await check(grantee, recordId, purpose, at) });
        }
      }
    }
    return out;
  }

  async function grantMix(): Promise<void> {
    await grant({ scope: { recordIds: ['obs-1'], categories: [] } });
    await grant({ scope: { recordIds: [], categories: ['ImagingStudy'] }, purposes: ['HRESCH'] });
    await grant({ scope: { recordIds: ['lab-1'], categories: ['Observation'] }, period: { start: T0 + 10 * DAY, end: T0 + 30 * DAY } });
    await revoke(await grant({ scope: { recordIds: ['med-1'], categories: [] } }));
    await grant({ grantee: 'HospitalCMSP', scope: { recordIds: ['obs-2'], categories: [] } });
  }

  it('decides every case exactly as reading all of the pair\u2019s consents does', async () => {
    await grantMix();
    const indexed = await decisions();
    const reasons = new Set(indexed.map((x) => (x as { d: { reason: string } }).d.reason));
    expect([...reasons].sort()).toEqual(
      ['consent', 'consent-expired', 'consent-not-yet-valid', 'consent-revoked', 'custodian', 'no-consent', 'out-of-scope', 'purpose-not-covered'].sort(),
    );
    // Without the pairs' markers the contract reads every consent of the pair, as before the index.
    for (const k of keysOf(KeyTypes.ConsentScopesIndexed)) fx.ledger.state.delete(k);
    expect(await decisions()).toEqual(indexed);
  });

  it('indexes a consent under every record id and category of its scope, once', async () => {
    const id = await grant({ scope: { recordIds: ['obs-1', 'lab-1'], categories: ['Observation', 'ImagingStudy'] } });
    const scopes = keysOf(KeyTypes.ConsentByScope).map((k) => k.split('\u0000').slice(2, -1));
    expect(scopes).toEqual(
      ['category:ImagingStudy', 'category:Observation', 'record:lab-1', 'record:obs-1'].map((s) => ['HospitalBMSP', fx.patient.patientId, s, id]),
    );
    expect(keysOf(KeyTypes.ConsentScopesIndexed)).toHaveLength(1);
  });

  it('keeps deciding for consents stored before the scope index, and indexes them with the pair\u2019s next grant', async () => {
    await grantMix();
    const before = await decisions();
    // The state as a chaincode without the scope index left it.
    for (const k of [...keysOf(KeyTypes.ConsentByScope), ...keysOf(KeyTypes.ConsentScopesIndexed)]) fx.ledger.state.delete(k);
    expect(await decisions()).toEqual(before);
    // A new grant for another record: the pair's earlier consents are indexed with it.
    await grant({ scope: { recordIds: ['img-1'], categories: [] }, purposes: ['PATRQT'] });
    const marker = key({ createCompositeKey: (t: string, a: string[]) => `\u0000${t}\u0000${a.map((x) => `${x}\u0000`).join('')}` } as never, KeyTypes.ConsentScopesIndexed, 'HospitalBMSP', fx.patient.patientId);
    expect(fx.ledger.state.has(marker)).toBe(true);
    // obs-1; lab-1 and Observation; med-1 (revoked); ImagingStudy; img-1 (the new one).
    expect(keysOf(KeyTypes.ConsentByScope).filter((k) => k.includes('HospitalBMSP'))).toHaveLength(6);
    expect(await decisions()).toEqual(before);
  });
});
