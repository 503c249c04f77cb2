/**
 * FHIR import refusals element by element, R5 export and round trips, FHIR dates, and the
 * access log as AuditEvents.
 */
import { CONSENT_POLICY_FORMAT, parseConsentPolicy, type ConsentPolicy } from '../../../chaincode/src/protocol/consent-policy';
import { accessLogEntryToAuditEvent, accessLogToAuditBundle, type AuditableAccessEntry } from '../../../chaincode/src/protocol/fhir-audit-event';
import { exportFhirConsent, FHIR_CONSENT_ELEMENTS, importFhirConsent } from '../../../chaincode/src/protocol/fhir-consent';
import { formatFhirPeriod, parseFhirDateTime, parseFhirPeriod } from '../../../chaincode/src/protocol/fhir-datetime';
import type { AccessLogEntry } from '../../../chaincode/src/contracts/consent-contract';
import { errorOf, policy, T0 } from './support';

const PT = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

/** A minimal valid R5 Consent with one provision; `provision` fields are merged in. */
function r5(provision: Record<string, unknown> = { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }, top: Record<string, unknown> = {}) {
  return { resourceType: 'Consent', status: 'active', decision: 'deny', provision: [provision], ...top };
}

/** A policy that uses every element of the language (in canonical order). */
const everything: ConsentPolicy = parseConsentPolicy(
  {
  format: CONSENT_POLICY_FORMAT,
  decision: 'deny',
  period: { start: T0, end: T0 + 365 * 86_400_000 },
  provisions: [
    {
      period: { start: T0 },
      actors: [
        { participation: 'author', org: 'LabMSP' },
        { participation: 'custodian', org: 'HospitalAMSP' },
        { participation: 'recipient', org: 'HospitalBMSP' },
        { participation: 'recipient', org: 'HospitalBMSP', role: 'clinician', careTeam: 'ct-7' },
        { participation: 'recipient', org: 'Org_With_Underscore', practitioner: 'dr-x' },
        { participation: 'recipient', role: 'clinician' },
      ],
      actions: ['access', 'disclose'],
      purposes: ['HRESCH', 'TREAT'],
      securityLabels: ['PSY', 'R'],
      resourceTypes: ['DiagnosticReport', 'Observation'],
      documentClasses: [{ system: 'http://loinc.org', code: '11502-2' }],
      dataPeriod: { end: Date.UTC(2025, 0, 1) },
      records: ['obs-1', 'rec:2024:7'],
      policies: ['https://irb.example.org/studies/42', 'study-42'],
      provisions: [
        { securityLabels: ['HIV'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', practitioner: 'dr-y' }] }] },
        { actors: [{ participation: 'recipient', practitioner: 'ex-spouse' }] },
      ],
    },
    { purposes: ['PUBHLTH'] },
  ],
  },
  { order: 'normalize' },
);

describe('importFhirConsent refuses, naming the element', () => {
  const cases: [string, unknown, string, string][] = [
    ['another resource', { resourceType: 'Patient' }, 'FHIR_CONSENT_INVALID', 'resourceType must be "Consent"'],
    ['a draft consent', r5(undefined, { status: 'draft' }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.status is "draft"'],
    ['a missing decision', { resourceType: 'Consent', status: 'active', provision: [{}] }, 'FHIR_CONSENT_INVALID', 'Consent.decision is missing'],
    ['implicit rules', r5(undefined, { implicitRules: 'http://x' }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.implicitRules'],
    ['contained resources', r5(undefined, { contained: [{ resourceType: 'Organization' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.contained'],
    ['a modifier extension', r5({ modifierExtension: [{ url: 'x' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].modifierExtension'],
    ['an unknown extension', r5({ extension: [{ url: 'http://example.org/x', valueString: 'y' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].extension[0] "http://example.org/x"'],
    ['a primitive extension', r5(undefined, { _status: { extension: [] } }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent._status'],
    ['a policy basis', r5(undefined, { policyBasis: { url: 'http://x' } }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.policyBasis'],
    ['a grantee', r5(undefined, { grantee: [{ reference: 'Organization/B' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.grantee'],
    ['a code criterion', r5({ code: [{ coding: [{ system: 'http://loinc.org', code: '1' }] }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].code'],
    ['an expression', r5({ expression: { language: 'text/fhirpath', expression: 'true' } }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].expression'],
    ['an element of no FHIR version', r5({ foo: 1 }), 'FHIR_CONSENT_INVALID', 'Consent.provision[0].foo is not an element'],
    ['an R4 provision type in R5', r5({ type: 'permit' }), 'FHIR_CONSENT_INVALID', 'Consent.provision[0].type is not an element of a FHIR R5'],
    ['an unknown purpose', r5({ purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'NOPE' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].purpose[0]'],
    ['a purpose without system', r5({ purpose: [{ code: 'TREAT' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].purpose[0].system is required'],
    ['an unknown security label', r5({ securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'XYZ' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'securityLabel[0]'],
    ['an action of two codings', r5({ action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access' }, { system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'use' }] }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].action[0] must carry exactly one coding'],
    ['an action in text only', r5({ action: [{ text: 'read it' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'action[0] has no coding'],
    ['an actor role medbridge does not know', r5({ actor: [{ role: { coding: [{ system: PT, code: 'INF' }] }, reference: { reference: 'Organization/B' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].actor[0].role'],
    ['a Patient actor', r5({ actor: [{ reference: { reference: 'Patient/p1' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].actor[0].reference.reference: a Patient'],
    ['an absolute actor reference', r5({ actor: [{ reference: { reference: 'https://x.org/Organization/B' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'actor[0].reference.reference must be a relative literal'],
    ['a recipient naming no one', r5({ actor: [{ role: { coding: [{ system: PT, code: 'PRCP' }] } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].actor[0] names no one'],
    ['a custodian that is a Practitioner', r5({ actor: [{ role: { coding: [{ system: PT, code: 'CST' }] }, reference: { reference: 'Practitioner/x' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'must be an Organization'],
    ['a permit for a practitioner of no org', r5({ actor: [{ reference: { reference: 'Practitioner/dr-x' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'permits a Practitioner without naming its Organization'],
    ['data related to a record', r5({ data: [{ meaning: 'dependents', reference: { reference: 'ServiceRequest/o1' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision[0].data[0].meaning is "dependents"'],
    ['a malformed date', r5({ period: { start: '2024-13-01' } }), 'FHIR_CONSENT_INVALID', 'Consent.provision[0].period.start has no month 13'],
    ['a dateTime without time zone', r5({ period: { start: '2024-01-01T10:00:00' } }), 'FHIR_CONSENT_INVALID', 'is not a FHIR date or dateTime'],
    ['a period ending before it starts', r5({ period: { start: '2024-02-01', end: '2024-01-01' } }), 'FHIR_CONSENT_INVALID', 'Consent.provision[0].period ends before it starts'],
    ['an empty array', r5({ actor: [] }), 'FHIR_CONSENT_INVALID', 'Consent.provision[0].actor is empty'],
    ['an inherited member name as a reference type', r5({ actor: [{ reference: { reference: 'constructor/x' } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'a constructor is not an actor'],
    ['an inherited member name as an identifier system', r5({ actor: [{ reference: { identifier: { system: 'constructor', value: 'x' } } }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'identifier.system must be one of'],
    ['an inherited member name as a code system', r5({ purpose: [{ system: 'constructor', code: 'TREAT' }] }), 'FHIR_ELEMENT_UNSUPPORTED', 'purpose[0] constructor#TREAT'],
    ['an inherited member name as an element', r5({ constructor: 1 }), 'FHIR_CONSENT_INVALID', 'Consent.provision[0].constructor is not an element'],
    ['an R4 consent mixed with R5', { ...r5(), scope: { coding: [] } }, 'FHIR_CONSENT_INVALID', 'mixes R4 elements (scope)'],
  ];
  it.each(cases)('%s', (_name, input, code, fragment) => {
    const message = errorOf(() => importFhirConsent(input));
    expect(message.startsWith(`${code}: `)).toBe(true);
    expect(message).toContain(fragment);
  });

  it('refuses nesting deeper than the language allows before walking further', () => {
    let p: Record<string, unknown> = { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] };
    for (let i = 0; i < 2000; i++) p = { provision: [p] };
    expect(errorOf(() => importFhirConsent(r5(p)))).toMatch(/^CONSENT_POLICY_TOO_LARGE: Consent\.provision\[0\](\.provision\[0\]){5} nests deeper than 5 levels/);
  });

  it('refuses an R4 nested rule that does not negate its parent', () => {
    const r4 = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      provision: { type: 'permit', provision: [{ type: 'permit', securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] }] },
    };
    expect(errorOf(() => importFhirConsent(r4))).toBe('FHIR_ELEMENT_UNSUPPORTED: Consent.provision.provision[0].type is permit under a permit: a medbridge provision always negates its parent');
    r4.provision.provision[0]!.type = 'deny';
    expect(importFhirConsent(r4).policy).toEqual(parseConsentPolicy(policy('permit', [{ securityLabels: ['PSY'] }])));
  });

  it('refuses an R4 consent whose scope is not patient privacy', () => {
    const r4 = { resourceType: 'Consent', status: 'active', scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] }, provision: { type: 'deny' } };
    expect(errorOf(() => importFhirConsent(r4))).toMatch(/^FHIR_ELEMENT_UNSUPPORTED: Consent\.scope must be patient-privacy/);
  });

  it('reads older system URIs of the same code systems', () => {
    const { policy: p } = importFhirConsent(r5({ purpose: [{ system: 'http://hl7.org/fhir/v3/ActReason', code: 'ETREAT' }] }));
    expect(p.provisions![0]!.purposes).toEqual(['ETREAT']);
  });

  it('has a handling for every element it accepts, and a reason for each', () => {
    for (const table of Object.values(FHIR_CONSENT_ELEMENTS)) {
      for (const [element, [handling, why]] of Object.entries(table)) {
        expect(element).toMatch(/^Consent(\.provision)?\.[A-Za-z]+$/);
        expect(['enforced', 'not-carried', 'refused']).toContain(handling);
        expect(why.length).toBeGreaterThan(5);
      }
    }
  });
});

describe('exportFhirConsent', () => {
  it('writes an R5 Consent that imports back to the same policy, every element included', () => {
    const fhir = exportFhirConsent(everything);
    expect(fhir).toMatchObject({ resourceType: 'Consent', status: 'active', decision: 'deny' });
    const back = importFhirConsent(JSON.parse(JSON.stringify(fhir)));
    expect(back.version).toBe('R5');
    expect(back.policy).toEqual(everything);
    expect(back.notCarried).toEqual([]);
  });

  it('writes periods with the end as the last millisecond included', () => {
    const fhir = exportFhirConsent(parseConsentPolicy(policy('deny', undefined, { period: { start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) } })));
    expect(fhir.period).toEqual({ start: '2024-01-01T00:00:00.000Z', end: '2024-12-31T23:59:59.999Z' });
  });

  it('names actors by literal reference where FHIR ids allow, by medbridge identifier otherwise', () => {
    const fhir = exportFhirConsent(everything) as any;
    const actors = fhir.provision[0].actor;
    expect(actors).toContainEqual({ role: { coding: [{ system: PT, code: 'CST' }] }, reference: { reference: 'Organization/HospitalAMSP' } });
    expect(actors).toContainEqual({
      role: { coding: [{ system: PT, code: 'PRCP' }] },
      reference: { type: 'Practitioner', identifier: { system: 'urn:medbridge:practitioner', value: 'Org_With_Underscore/dr-x' } },
    });
    expect(actors).toContainEqual({ role: { coding: [{ system: 'urn:medbridge:requester-role', code: 'clinician' }] } });
  });

  it('refuses to export what is not a valid policy', () => {
    expect(errorOf(() => exportFhirConsent({ format: CONSENT_POLICY_FORMAT, decision: 'maybe' } as never))).toMatch(/^CONSENT_POLICY_INVALID: policy\.decision/);
  });
});

describe('FHIR dates', () => {
  it('reads each precision as the interval it stands for', () => {
    expect(parseFhirDateTime('2015', 'd')).toEqual({ start: Date.UTC(2015, 0, 1), end: Date.UTC(2016, 0, 1) });
    expect(parseFhirDateTime('2015-02', 'd')).toEqual({ start: Date.UTC(2015, 1, 1), end: Date.UTC(2015, 2, 1) });
    expect(parseFhirDateTime('2016-02-29', 'd')).toEqual({ start: Date.UTC(2016, 1, 29), end: Date.UTC(2016, 2, 1) });
    expect(parseFhirDateTime('2016-06-23T17:02:33+10:00', 'd')).toEqual({ start: Date.UTC(2016, 5, 23, 7, 2, 33), end: Date.UTC(2016, 5, 23, 7, 2, 34) });
    expect(parseFhirDateTime('2016-06-23T07:02:33.5Z', 'd')).toEqual({ start: Date.UTC(2016, 5, 23, 7, 2, 33, 500), end: Date.UTC(2016, 5, 23, 7, 2, 33, 600) });
    expect(parseFhirDateTime('2016-06-23T07:02:33.123000Z', 'd')).toEqual({ start: Date.UTC(2016, 5, 23, 7, 2, 33, 123), end: Date.UTC(2016, 5, 23, 7, 2, 33, 124) });
  });

  it('refuses what it cannot represent, with the element named', () => {
    expect(errorOf(() => parseFhirDateTime('2015-02-29', 'x.start'))).toBe('FHIR_CONSENT_INVALID: x.start has no day 29 in 2015-02');
    expect(errorOf(() => parseFhirDateTime('1899-12-31', 'x.start'))).toMatch(/^FHIR_ELEMENT_UNSUPPORTED: x\.start: medbridge represents dates from the year 1900/);
    expect(errorOf(() => parseFhirDateTime('2016-12-31T23:59:60Z', 'x'))).toMatch(/^FHIR_ELEMENT_UNSUPPORTED: x: a leap second/);
    expect(errorOf(() => parseFhirDateTime('2016-12-31T23:59:59.1234Z', 'x'))).toMatch(/^FHIR_ELEMENT_UNSUPPORTED: x is more precise than a millisecond/);
    expect(errorOf(() => parseFhirDateTime(20160101, 'x'))).toMatch(/^FHIR_CONSENT_INVALID: x must be a FHIR dateTime string/);
  });

  it('round-trips a half-open period through a FHIR Period', () => {
    const p = { start: T0, end: T0 + 1234 };
    expect(parseFhirPeriod(formatFhirPeriod(p), 'p')).toEqual(p);
  });
});

describe('AuditEvent export of the access log', () => {
  const base: AuditableAccessEntry = {
    kind: 'access',
    patientId: `pt_${'a'.repeat(64)}`,
    recordId: 'obs-1',
    requester: 'HospitalBMSP',
    purpose: 'TREAT',
    allowed: true,
    reason: 'consent',
    consentId: `cs_${'b'.repeat(64)}`,
    emergencyId: null,
    review: null,
    loggedBy: 'HospitalAMSP',
    requestId: 'req-1',
    time: T0,
    txId: 'c'.repeat(64),
    provisionPath: [0, 1],
  };

  it('writes a permitted access with its purpose, provision path, parties and record', () => {
    const ev = accessLogEntryToAuditEvent(base) as any;
    expect(ev).toMatchObject({
      resourceType: 'AuditEvent',
      id: base.txId,
      action: 'R',
      recorded: '2026-01-15T09:00:00.000Z',
      outcome: { code: { code: '0' }, detail: [{ coding: [{ system: 'urn:medbridge:access-reason', code: 'consent' }] }] },
      authorization: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
      patient: { identifier: { system: 'urn:medbridge:patient-id', value: base.patientId } },
    });
    expect(ev.agent).toEqual([
      { type: { coding: [{ system: PT, code: 'IRCP', display: 'information recipient' }] }, who: { type: 'Organization', identifier: { system: 'urn:medbridge:msp-id', value: 'HospitalBMSP' } }, requestor: true },
      { type: { coding: [{ system: PT, code: 'CST', display: 'custodian' }] }, who: { type: 'Organization', identifier: { system: 'urn:medbridge:msp-id', value: 'HospitalAMSP' } }, requestor: false },
    ]);
    expect(ev.entity[0].what).toEqual({ identifier: { system: 'urn:medbridge:record-id', value: 'obs-1' } });
    expect(ev.entity[0].detail).toEqual([{ type: { coding: [{ system: 'urn:medbridge:audit-detail', code: 'request-id' }] }, valueString: 'req-1' }]);
    expect(ev.entity[1].detail).toEqual([{ type: { coding: [{ system: 'urn:medbridge:audit-detail', code: 'provision-path' }] }, valueString: '[0,1]' }]);
  });

  it('writes a refusal as a minor failure with its reason, and no break-glass flag', () => {
    const ev = accessLogEntryToAuditEvent({ ...base, allowed: false, reason: 'no-consent', consentId: null, provisionPath: null }) as any;
    expect(ev.outcome.code).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/audit-event-outcome', code: '4', display: 'Minor failure' });
    expect(ev.outcome.detail[0].coding[0].code).toBe('no-consent');
    expect(ev.authorization).toHaveLength(1);
    expect(ev.entity).toHaveLength(1);
  });

  it('flags break-glass with the BTG purpose of use, on the emergency and on reads under it', () => {
    const opened = accessLogEntryToAuditEvent({ ...base, kind: 'emergency-opened', purpose: 'ETREAT', reason: 'emergency', consentId: null, provisionPath: undefined, emergencyId: `em_${'d'.repeat(64)}`, review: 'pending', loggedBy: 'HospitalBMSP', recordId: null, requestId: null }) as any;
    expect(opened.code.coding[0]).toEqual({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110127', display: 'Emergency Override Started' });
    expect(opened.authorization.map((a: any) => a.coding[0].code)).toEqual(['ETREAT', 'BTG']);
    expect(opened.agent).toHaveLength(1);
    expect(opened.entity).toEqual([
      {
        what: { identifier: { system: 'urn:medbridge:emergency-id', value: `em_${'d'.repeat(64)}` } },
        role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '13', display: 'Security Resource' }] },
        detail: [{ type: { coding: [{ system: 'urn:medbridge:audit-detail', code: 'review' }] }, valueString: 'pending' }],
      },
    ]);
    const read = accessLogEntryToAuditEvent({ ...base, purpose: 'ETREAT', reason: 'emergency', consentId: null, provisionPath: null, emergencyId: 'em_x' }) as any;
    expect(read.authorization.map((a: any) => a.coding[0].code)).toEqual(['ETREAT', 'BTG']);
  });

  it('writes the log as a collection Bundle, one AuditEvent per entry in log order, permit and deny alike', () => {
    const bundle = accessLogToAuditBundle([base, { ...base, allowed: false, reason: 'purpose-not-covered', txId: 'e'.repeat(64) }]) as any;
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('collection');
    expect(bundle.entry.map((e: any) => [e.resource.id, e.resource.outcome.code.code])).toEqual([
      ['c'.repeat(64), '0'],
      ['e'.repeat(64), '4'],
    ]);
  });

  it("reads the chaincode's access-log entries as they are stored", () => {
    const stored: AccessLogEntry = { ...base, provisionPath: undefined } as AccessLogEntry;
    const entry: AuditableAccessEntry = stored;
    expect((accessLogEntryToAuditEvent(entry) as any).entity).toHaveLength(2);
  });
});
