/**
 * FHIR in and out around the CLI (gateway/src/services/consent-fhir.ts): an HL7 Consent example
 * prepared for signing with its period and its words, refusals naming the element, a stored
 * consent v2 exported as R5 and imported back to the same policy, and the access log as an
 * AuditEvent Bundle.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importFhirConsent } from '../../../chaincode/src/protocol/fhir-consent';
import type { ConsentWithStatus } from '../../../chaincode/src/api';
import { accessLogToFhir, consentToFhir, describePolicy, prepareConsentImport } from '../../../gateway/src/services/consent-fhir';
import { expectCodeSync } from '../support/codes';

const EXAMPLES = join(__dirname, '../../fixtures/fhir-consent-examples');
const example = (version: string, name: string): unknown => JSON.parse(readFileSync(join(EXAMPLES, version, `consent-example-${name}.json`), 'utf8'));
const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;

describe('consent FHIR import, export and audit export', () => {
  it('prepares the HL7 notSecLabel example for signing: its deny kept, a period set and said, the document elements listed', () => {
    const p = prepareConsentImport(example('r5', 'notSecLabel'), { now: NOW, days: 30 });
    expect(p.version).toBe('R5');
    expect(p.policy.decision).toBe('permit');
    expect(p.policy.provisions?.[0]?.securityLabels).toBeDefined();
    expect(p.policy.period).toEqual({ start: NOW, end: NOW + 30 * DAY });
    expect(p.periodFilled).toEqual(['start', 'end']);
    expect(p.notCarried).toEqual(expect.arrayContaining(['Consent.subject', 'Consent.text']));
    expect(p.summary[0]).toMatch(/^permit every request, in force from 2026-12-01/);
    expect(p.summary[1]).toMatch(/^ {2}\[0\] deny: .*records labelled/);
  });

  it('refuses an example it cannot enforce, naming the element (notThis: data.meaning related)', () => {
    expectCodeSync(() => prepareConsentImport(example('r5', 'notThis'), { now: NOW, days: 30 }), 'FHIR_ELEMENT_UNSUPPORTED');
    expect(() => prepareConsentImport(example('r5', 'notThis'), { now: NOW, days: 30 })).toThrow(/Consent\.provision\[0\]\.data\[0\]\.meaning/);
  });

  it('describes the nested consent with each provision under its parent, by path', () => {
    const lines = describePolicy({
      format: 'medbridge/consent-policy/v2',
      decision: 'permit',
      period: { start: NOW, end: NOW + DAY },
      provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }] }],
    });
    expect(lines).toEqual([
      'permit every request, in force from 2026-12-01T00:00:00.000Z until 2026-12-02T00:00:00.000Z, except:',
      '  [0] deny: records labelled PSY, except:',
      '    [0, 0] permit: by HospitalBMSP care team ct-dr-x',
    ]);
  });

  it('exports a stored consent v2 as R5 with its ids, inactive once revoked, and imports back to the same policy', () => {
    const policy = prepareConsentImport(example('r5', 'notOrg'), { now: NOW, days: 30 }).policy;
    const consent = { consentId: `cs_${'a'.repeat(64)}`, patientId: `pt_${'b'.repeat(64)}`, format: 'medbridge/consent-policy/v2', policy, effectiveStatus: 'active', grant: { message: {} } } as unknown as ConsentWithStatus;
    const fhir = consentToFhir(consent);
    expect(fhir).toMatchObject({ resourceType: 'Consent', status: 'active', identifier: [{ value: consent.consentId }], subject: { identifier: { value: consent.patientId } } });
    expect(fhir.controller).toBeUndefined();
    expect(importFhirConsent(fhir).policy).toEqual(policy);
    expect(consentToFhir({ ...consent, effectiveStatus: 'revoked' } as ConsentWithStatus).status).toBe('inactive');
  });

  it('names the keeper of a private consent as Consent.controller, which an import reports and never signs as a keeper', () => {
    const policy = prepareConsentImport(example('r5', 'notOrg'), { now: NOW, days: 30 }).policy;
    const kept = { consentId: `cs_${'a'.repeat(64)}`, patientId: `pt_${'b'.repeat(64)}`, format: 'medbridge/consent-policy/v2', policy, effectiveStatus: 'active', grant: { message: { keeper: 'HospitalAMSP' } } } as unknown as ConsentWithStatus;
    const fhir = consentToFhir(kept);
    expect(fhir.controller).toEqual([{ reference: 'Organization/HospitalAMSP' }]);
    const back = importFhirConsent(fhir);
    expect(back.policy).toEqual(policy);
    expect(back.notCarried).toContain('Consent.controller');
  });

  it('refuses to export a v1 consent (it has terms, not a policy)', () => {
    const v1 = { consentId: `cs_${'a'.repeat(64)}`, grantee: 'HospitalBMSP', terms: {}, effectiveStatus: 'active' } as unknown as ConsentWithStatus;
    expect(() => consentToFhir(v1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/v1 consent/) as unknown }) as Error);
  });

  it('exports the access log as a Bundle with one AuditEvent per decision, the provision path on the consent entity', () => {
    const base = { kind: 'access' as const, patientId: `pt_${'b'.repeat(64)}`, recordId: 'psy-1', requester: 'HospitalBMSP', purpose: 'TREAT', emergencyId: null, review: null, loggedBy: 'HospitalAMSP', requestId: null, time: NOW };
    const bundle = accessLogToFhir([
      { ...base, allowed: false, reason: 'consent-denied', consentId: `cs_${'a'.repeat(64)}`, txId: 't1', provisionPath: [0] },
      { ...base, allowed: true, reason: 'consent', consentId: `cs_${'a'.repeat(64)}`, txId: 't2', provisionPath: [0, 0] },
    ]);
    const events = (bundle.entry as Array<{ resource: { outcome: { code: { code: string } }; entity: Array<{ detail?: Array<{ valueString: string }> }> } }>).map((e) => e.resource);
    expect(events.map((e) => e.outcome.code.code)).toEqual(['4', '0']);
    expect(JSON.stringify(events[1])).toContain('[0,0]');
  });
});
