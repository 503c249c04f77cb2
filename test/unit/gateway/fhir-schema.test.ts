/**
 * What medbridge writes as FHIR validates against the official R5 JSON schema (HL7's
 * hl7.fhir.r5.core 5.0.0, openapi/fhir.schema.json; gateway/src/services/fhir-schema.ts):
 * every Consent exported from the HL7 examples after import, through the protocol module and
 * through the gateway's export; the AuditEvent Bundle of an access log with permits, denies and
 * break-glass entries made by the Consent contract; and resources broken on purpose are
 * rejected with their element path, so the check can fail.
 *
 * One schema compile per test file (a few seconds): the validator is shared by every test here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsentWithStatus } from '../../../chaincode/src/api';
import type { ConsentPolicy } from '../../../chaincode/src/protocol/consent-policy/model';
import { exportFhirConsent, importFhirConsent } from '../../../chaincode/src/protocol/fhir-consent';
import { accessLogToAuditBundle, isBreakGlass, type AuditableAccessEntry } from '../../../chaincode/src/protocol/fhir-audit-event';
import { buildConsentPolicyGrant, signPatientMessage } from '../../../chaincode/src/protocol/patient-messages';
import { accessLogToFhir, consentToFhir, prepareConsentImport } from '../../../gateway/src/services/consent-fhir';
import { FHIR_R5_SCHEMA, fhirSchemaAvailable, formatFhirSchemaErrors, validateFhirResource } from '../../../gateway/src/services/fhir-schema';
import { breakGlassTx, DAY, header, HOUR, json, logAccessAsTx, logAccessTx, reviewEmergencyTx, T0, usePatientChannel } from '../consent/support';
import { errorOf } from '../consent-policy/support';

const EXAMPLES = join(__dirname, '../../fixtures/fhir-consent-examples');
type Json = Record<string, any>;
const example = (version: string, name: string): Json => JSON.parse(readFileSync(join(EXAMPLES, version, `consent-example-${name}.json`), 'utf8')) as Json;

/** Asserts that a resource is valid, showing the schema's errors when it is not. */
function expectValid(resource: unknown): void {
  const r = validateFhirResource(resource);
  expect(formatFhirSchemaErrors(r.errors)).toBe('');
  expect(r.valid).toBe(true);
}

/** The HL7 R5 examples that import as published. */
const IMPORTED_R5 = ['basic', 'Emergency', 'No-Emergency', 'notAuthor', 'notOrg', 'notSecLabel', 'notThem', 'notTime', 'OrgToOrg', 'Out', 'pkb', 'smartonfhir'];

/** The examples the importer refuses, in the forms its tests make importable (test/unit/consent-policy/fhir-examples.test.ts). */
const ADAPTED: Array<[string, () => Json]> = [
  [
    'r5 notThis, data meaning instance',
    () => {
      const r = example('r5', 'notThis');
      r.provision[0].data[0].meaning = 'instance';
      return r;
    },
  ],
  [
    'r5 notLabs, class written as documentType',
    () => {
      const r = example('r5', 'notLabs');
      r.provision[0].documentType = r.provision[0].class;
      delete r.provision[0].class;
      return r;
    },
  ],
  [
    'r5 grantor, Practitioner scoped to her org',
    () => {
      const r = example('r5', 'grantor');
      delete r.grantee;
      r.provision[0].actor[1].reference = { identifier: { system: 'urn:medbridge:practitioner', value: 'f201/f007' } };
      return r;
    },
  ],
  [
    'r5 Emergency as its narrative says',
    () => {
      const r = example('r5', 'Emergency');
      r.provision = [{ actor: r.provision[0].actor, purpose: r.provision[0].provision[0].purpose }];
      return r;
    },
  ],
  ['r4 notOrg', () => example('r4', 'notOrg')],
  [
    'r4 notThis, explicit deny, data meaning instance',
    () => {
      const r = example('r4', 'notThis');
      r.provision.type = 'deny';
      r.provision.data[0].meaning = 'instance';
      return r;
    },
  ],
];

/** Every element and branch of the export: actors of each kind, both label systems, an MSP id that is no FHIR id, depth 3. */
const EVERY_ELEMENT: ConsentPolicy = {
  format: 'medbridge/consent-policy/v2',
  decision: 'deny',
  period: { start: T0, end: T0 + 30 * DAY },
  provisions: [
    {
      actors: [
        { participation: 'recipient', org: 'HospitalBMSP', role: 'clinician' },
        { participation: 'recipient', org: 'HospitalBMSP', practitioner: 'dr-7' },
        { participation: 'recipient', org: 'Hospital_C', careTeam: 'ct-dr-x' },
        { participation: 'custodian', org: 'HospitalAMSP' },
        { participation: 'author', org: 'HospitalAMSP' },
      ],
      actions: ['access'],
      purposes: ['TREAT', 'HRESCH'],
      resourceTypes: ['Observation'],
      documentClasses: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }],
      dataPeriod: { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 11, 31, 23, 59, 59) },
      period: { start: T0, end: T0 + DAY },
      policies: ['urn:oid:2.16.840.1.113883.3.1'],
      provisions: [
        { securityLabels: ['PSY', 'R'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }] },
        { records: ['obs-1', 'urn:rec:2'] },
      ],
    },
  ],
} as ConsentPolicy;

/** A stored consent as the gateway reads it (ids only). */
const stored = (policy: ConsentPolicy, effectiveStatus = 'active', keeper?: string): ConsentWithStatus =>
  ({
    consentId: `cs_${'a'.repeat(64)}`,
    patientId: `pt_${'b'.repeat(64)}`,
    format: 'medbridge/consent-policy/v2',
    policy,
    effectiveStatus,
    grant: { message: keeper === undefined ? {} : { keeper } },
  }) as unknown as ConsentWithStatus;

describe('the FHIR R5 schema validator', () => {
  it('reads the schema from HL7\'s FHIR core package 5.0.0, installed here', () => {
    expect(fhirSchemaAvailable()).toBe(true);
    // the package's own package.json names HL7's canonical and the R5 release
    const pkg = JSON.parse(readFileSync(require.resolve('hl7.fhir.r5.core/package.json'), 'utf8')) as Json;
    expect(pkg).toMatchObject({ name: FHIR_R5_SCHEMA.package, version: '5.0.0', canonical: 'http://hl7.org/fhir', url: 'http://hl7.org/fhir/R5/', fhirVersions: ['5.0.0'], author: 'HL7 Inc' });
    const schema = JSON.parse(readFileSync(require.resolve(`hl7.fhir.r5.core/${FHIR_R5_SCHEMA.file}`), 'utf8')) as Json;
    expect(schema.$schema).toBe('http://json-schema.org/draft-06/schema#');
    expect(schema.definitions).toHaveProperty('Consent');
    expect(schema.definitions).toHaveProperty('AuditEvent');
  });

  it('rejects a resource broken on purpose, naming each element that is wrong', () => {
    const r = validateFhirResource({
      resourceType: 'Consent',
      status: 'active',
      decision: 'permit',
      period: { start: '2026-13-01' },
      provision: [{ class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }], purpose: { system: 'x', code: 'TREAT' } }],
    });
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual([
      { path: 'Consent.period.start', pointer: '/period/start', message: 'is not a valid FHIR dateTime' },
      { path: 'Consent.provision[0].class', pointer: '/provision/0/class', message: 'is not an element here in FHIR R5' },
      { path: 'Consent.provision[0].purpose', pointer: '/provision/0/purpose', message: 'must be array' },
    ]);
  });

  it('rejects an R4-shaped Consent (one provision object, R4 elements) as R5', () => {
    const r = validateFhirResource(example('r4', 'notOrg'));
    expect(r.valid).toBe(false);
    expect(r.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['Consent.provision', 'Consent.scope', 'Consent.patient']));
  });

  it('reports an AuditEvent inside a Bundle by its own definition, not once per resource type', () => {
    const r = validateFhirResource({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'AuditEvent', code: { text: 'x' }, agent: [{ who: { display: 'a' } }], source: { observer: { display: 'b' } }, recorded: '2026-01-01T00:00:00Z' } },
        { resource: { resourceType: 'AuditEvent', code: { text: 'x' }, agent: [{ who: { display: 'a' } }], recorded: 'yesterday', outcome: { code: 'ok' } } },
      ],
    });
    expect(r.errors).toEqual([
      { path: 'Bundle.entry[1].resource.outcome.code', pointer: '/entry/1/resource/outcome/code', message: 'must be object' },
      { path: 'Bundle.entry[1].resource.recorded', pointer: '/entry/1/resource/recorded', message: 'is not a valid FHIR instant' },
      { path: 'Bundle.entry[1].resource.source', pointer: '/entry/1/resource/source', message: 'is required' },
    ]);
  });

  it('rejects what is not a resource, or not an R5 one', () => {
    expect(validateFhirResource([]).errors).toEqual([{ path: 'Resource', pointer: '', message: 'is not a FHIR resource (a JSON object with a resourceType)' }]);
    expect(validateFhirResource({ resourceType: 'Contract2' }).errors).toEqual([{ path: 'Contract2', pointer: '', message: 'resourceType "Contract2" is not an R5 resource type' }]);
  });

  it('checks structure, not code values: decision "perm" passes the schema (the importer refuses it)', () => {
    expect(validateFhirResource({ resourceType: 'Consent', status: 'active', decision: 'perm' }).valid).toBe(true);
  });

  it('agrees with the importer on the published HL7 R5 examples: all valid but notLabs, which carries the R4 element class', () => {
    for (const name of [...IMPORTED_R5, 'CDA', 'grantor', 'notThis']) expectValid(example('r5', name));
    expect(validateFhirResource(example('r5', 'notLabs')).errors).toEqual([{ path: 'Consent.provision[0].class', pointer: '/provision/0/class', message: 'is not an element here in FHIR R5' }]);
  });
});

describe('Consent export validates against the R5 schema', () => {
  it.each(IMPORTED_R5)('HL7 r5 %s: imported, exported by the protocol module and by the gateway (active and inactive)', (name) => {
    const { policy } = importFhirConsent(example('r5', name));
    const fhir = exportFhirConsent(policy);
    expectValid(fhir);
    expect(importFhirConsent(fhir).policy).toEqual(policy);
    const prepared = prepareConsentImport(example('r5', name), { now: T0, days: 30 }).policy;
    expectValid(consentToFhir(stored(prepared)));
    expectValid(consentToFhir(stored(prepared, 'revoked')));
  });

  it.each(ADAPTED)('HL7 %s: imported and exported', (_name, make) => {
    const { policy } = importFhirConsent(make());
    expectValid(exportFhirConsent(policy));
    expectValid(consentToFhir(stored(prepareConsentImport(make(), { now: T0, days: 30 }).policy)));
  });

  it('a policy using every element the export writes, three levels deep', () => {
    const fhir = exportFhirConsent(EVERY_ELEMENT);
    expectValid(fhir);
    expectValid(consentToFhir(stored(EVERY_ELEMENT)));
    // A private consent names its keeper as Consent.controller (an MSP id a FHIR id can hold, and one it cannot).
    for (const keeper of ['HospitalAMSP', 'Hospital_A.MSP']) expectValid(consentToFhir(stored(EVERY_ELEMENT, 'active', keeper)));
    expect(exportFhirConsent(importFhirConsent(fhir).policy)).toEqual(fhir);
  });
});

describe('the access log as an AuditEvent Bundle validates against the R5 schema', () => {
  const fx = usePatientChannel(['HospitalAMSP', 'HospitalBMSP', 'HospitalCMSP'], async () => {
    const H = '4'.repeat(64);
    const meta = { securityLabels: ['PSY'], dataDate: T0 - 100 * DAY, authorOrg: 'HospitalAMSP' };
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'psy-1', fx.patient.patientId, 'Observation', H, json(meta)));
    await fx.call(fx.o.userA, T0, (c, ctx) => c.AnchorRecordWithMetadata(ctx, 'obs-1', fx.patient.patientId, 'Observation', H, json({ ...meta, securityLabels: [] })));
  });

  it('permit, deny and break-glass entries made by the Consent contract, one AuditEvent each', async () => {
    const nested = {
      format: 'medbridge/consent-policy/v2',
      decision: 'permit',
      period: { start: T0, end: T0 + 30 * DAY },
      provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP', careTeam: 'ct-dr-x' }] }] }],
    };
    const grant = signPatientMessage(buildConsentPolicyGrant(header('chain-a', fx.patient), nested), fx.patient.privateKey);
    await fx.call(fx.o.userA, T0, (c, ctx) => c.GrantConsent(ctx, json(grant)));
    const at = T0 + HOUR;
    await fx.call(fx.o.userA, at, (c, ctx) => logAccessTx('HospitalBMSP', 'psy-1', 'TREAT', 'rq-1')(c, ctx));
    const drX = { org: 'HospitalBMSP', role: 'clinician', careTeam: 'ct-dr-x' };
    await fx.call(fx.o.userA, at + 1, (c, ctx) => logAccessAsTx(drX, 'psy-1', 'TREAT', 'rq-2')(c, ctx));
    await fx.call(fx.o.userA, at + 2, (c, ctx) => logAccessTx('HospitalBMSP', 'obs-1', 'TREAT', '')(c, ctx));
    await fx.call(fx.o.userA, at + 3, (c, ctx) => logAccessTx('HospitalCMSP', 'psy-1', 'TREAT', 'rq-3')(c, ctx));
    const e = await fx.call<{ emergencyId: string }>(
      fx.o.clinicianC,
      at + 4,
      (c, ctx) => breakGlassTx(fx.patient.patientId, 'psy-1', '', 'unconscious in emergency room')(c, ctx),
      'HospitalAMSP',
    );
    await fx.call(fx.o.userA, at + 5, (c, ctx) => logAccessTx('HospitalCMSP', 'psy-1', 'ETREAT', 'rq-4')(c, ctx));
    await fx.call(fx.o.officerA, at + 6, (c, ctx) => reviewEmergencyTx(e.emergencyId, 'HospitalAMSP', 'justified')(c, ctx));
    const log = await fx.call<{ items: AuditableAccessEntry[] }>(fx.o.userA, at + 7, (c, ctx) => c.ListAccessLog(ctx, fx.patient.patientId, '', ''));

    // the log holds what the test is about: denies by provision, permits by a provision and by
    // the base decision, and break-glass opened, used over the deny and reviewed
    expect(log.items.map((i) => [i.kind, i.allowed, i.reason, i.provisionPath ?? null, isBreakGlass(i)])).toEqual([
      ['access', false, 'consent-denied', [0], false],
      ['access', true, 'consent', [0, 0], false],
      ['access', true, 'consent', [], false],
      ['access', false, 'consent-denied', [0], false],
      ['emergency-opened', true, expect.any(String), null, true],
      ['access', true, 'emergency', null, true],
      ['emergency-reviewed', true, expect.any(String), null, true],
    ]);
    const bundle = accessLogToFhir(log.items as Parameters<typeof accessLogToFhir>[0]);
    expectValid(bundle);
    expect(bundle.entry).toHaveLength(log.items.length);
    for (const entry of bundle.entry as Json[]) expectValid(entry.resource);
  });

  it('entries the contract rarely writes: no record, no consent, the requester as its own logger, a transaction id that is no FHIR id', () => {
    const base: AuditableAccessEntry = {
      kind: 'access',
      patientId: `pt_${'b'.repeat(64)}`,
      recordId: null,
      requester: 'HospitalAMSP',
      purpose: 'BTG',
      allowed: false,
      reason: 'no-consent',
      consentId: null,
      emergencyId: `em_${'c'.repeat(64)}`,
      review: null,
      loggedBy: 'HospitalAMSP',
      requestId: null,
      time: T0,
      txId: 'tx_with_underscores',
    };
    expectValid(accessLogToAuditBundle([base, { ...base, kind: 'emergency-reviewed', review: 'unjustified', emergencyId: `em_${'d'.repeat(64)}`, provisionPath: null }]));
    expectValid(accessLogToAuditBundle([]));
  });
});

describe('consent import validates an R5 file against the schema first', () => {
  const prepare = (resource: unknown) => prepareConsentImport(resource, { now: T0, days: 30 });

  it('says which schema validated an R5 file', () => {
    expect(prepare(example('r5', 'notSecLabel')).schema).toBe('hl7.fhir.r5.core 5.0.0');
  });

  it('refuses what the mapping would not read but the schema rejects, with the schema\'s element paths', () => {
    const resource = example('r5', 'notSecLabel');
    resource.id = 'not an id!';
    resource.meta = { lastUpdated: 'yesterday' };
    expect(errorOf(() => prepare(resource))).toBe(
      'FHIR_CONSENT_INVALID: not a valid FHIR R5 Consent by the official R5 JSON schema (hl7.fhir.r5.core 5.0.0): Consent.id: is not a valid FHIR id; Consent.meta.lastUpdated: is not a valid FHIR instant',
    );
  });

  it('refuses notLabs at its R4 element before the mapping reads it, with the code the mapping gives it', () => {
    expect(errorOf(() => prepare(example('r5', 'notLabs')))).toMatch(/^FHIR_CONSENT_INVALID: not a valid FHIR R5 Consent .*: Consent\.provision\[0\]\.class: is not an element here in FHIR R5$/);
  });

  it('names at most ten errors and counts the rest', () => {
    const resource = example('r5', 'notSecLabel');
    resource.provision[0].securityLabel = Array.from({ length: 12 }, () => ({ system: 'a b', code: 'HIV' }));
    expect(errorOf(() => prepare(resource))).toMatch(/^FHIR_CONSENT_INVALID: .*securityLabel\[9\]\.system: is not a valid FHIR uri \(and 2 more\)$/);
  });

  it('keeps R4 input on its own path (no R4 schema here), and refusals that are not schema errors as they were', () => {
    expect(prepare(example('r4', 'notOrg'))).toMatchObject({ version: 'R4', schema: null });
    expect(errorOf(() => prepare(example('r5', 'notThis')))).toMatch(/^FHIR_ELEMENT_UNSUPPORTED: Consent\.provision\[0\]\.data\[0\]\.meaning/);
    expect(errorOf(() => prepare(example('r5-draft', 'Emergency')))).toMatch(/^FHIR_CONSENT_INVALID: Consent mixes R4 elements/);
    expect(errorOf(() => prepare({ resourceType: 'Patient' }))).toBe('FHIR_CONSENT_INVALID: resourceType must be "Consent", got "Patient"');
  });
});
