/**
 * Consent v2 on the real network (chain-a: HospitalA custodian, HospitalC requester), driven
 * through the CLI as a hospital would: records anchored with security labels, a FHIR R5 Consent
 * file imported, shown, signed by the patient's key and granted; the nested consent "permit
 * all, deny PSY, except for Dr X's care team" enforced by the peers, the provision path in the
 * access log; the consent exported as FHIR R5 and the log as an AuditEvent Bundle.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFhirConsent, importFhirConsent, type ConsentPolicy } from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode, type ConsentClient } from '../../gateway/src/fabric/contracts';
import { buildGateway, cli, ok, REPO, testEnv } from './cli-harness';

const run = Date.now().toString(36);
const EXAMPLES = join(REPO, 'test', 'fixtures', 'fhir-consent-examples', 'r5');
/** Permit all, deny PSY, except for Dr X's care team (ct-dr-x of HospitalC). No period: the import sets one. */
const NESTED: ConsentPolicy = {
  format: 'medbridge/consent-policy/v2',
  decision: 'permit',
  provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP', careTeam: 'ct-dr-x' }] }] }],
};

describe('consent v2 on chain-a through the CLI', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-consent-v2-'));
  const psyRecord = `psy-${run}`;
  const plainRecord = `obs-${run}`;
  let a: FabricClient;
  let consentA: ConsentClient;
  let patientId: string;
  let keyFile: string;
  let consentId: string;

  beforeAll(async () => {
    buildGateway();
    a = FabricClient.open('HospitalA');
    consentA = new Chaincode(a, 'chain-a').consent;
    const k = await ok<{ patientId: string; keyFile: string }>(env, 'patient', 'keygen');
    patientId = k.patientId;
    keyFile = k.keyFile;
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', keyFile, '--public');
  });

  afterAll(() => a?.close());

  it('anchors a PSY-labelled record with its metadata and an ordinary one', async () => {
    writeFileSync(join(files, 'psy.json'), '{"resourceType":"Observation","status":"final"}');
    writeFileSync(join(files, 'obs.json'), '{"resourceType":"Observation","status":"final","id":"2"}');
    await ok(env, 'record', 'anchor', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'psy.json'), '--record-id', psyRecord, '--labels', 'PSY,R', '--data-date', '2024-03-01');
    await ok(env, 'record', 'anchor', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'obs.json'), '--record-id', plainRecord, '--labels', '', '--data-date', '2024-03-02');
    // The labels are private to HospitalA (CONSENT.md "Private record metadata"): HospitalC's peer
    // holds the anchor, which names them by their hash only; HospitalA reads them on its own peer.
    const seenByC = await ok<Record<string, unknown>>(env, 'record', 'show', psyRecord, '--org', 'HospitalC', '--channel', 'chain-a');
    expect(seenByC).toMatchObject({ custodian: 'HospitalAMSP', labels: { version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(seenByC.metadata).toBeUndefined();
    expect(await ok(env, 'record', 'labels', psyRecord, '--org', 'HospitalA')).toMatchObject({
      private: true,
      metadata: { securityLabels: ['PSY', 'R'], dataDate: Date.UTC(2024, 2, 1), authorOrg: 'HospitalAMSP', documentClasses: [] },
    });
    const refused = await cli(env, 'record', 'labels', psyRecord, '--org', 'HospitalC', '--channel', 'chain-a');
    expect(refused.json.error.code).toBe('NOT_CUSTODIAN');
    // The patient reads them at HospitalA with a records.read signed by their own key.
    const own = await ok<Array<{ recordId: string; private: boolean; labels: string }>>(env, 'patient', 'labels', '--org', 'HospitalA', '--key', keyFile);
    expect(own.filter((r) => [psyRecord, plainRecord].includes(r.recordId)).map((r) => [r.recordId, r.private, r.labels])).toEqual(
      [
        [psyRecord, true, 'PSY,R'],
        [plainRecord, true, ''],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
  });

  it('refuses an HL7 example it cannot enforce, naming the element, and signs nothing', async () => {
    const r = await cli(env, 'consent', 'import', join(EXAMPLES, 'consent-example-notThis.json'), '--org', 'HospitalA', '--key', keyFile);
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('FHIR_ELEMENT_UNSUPPORTED');
    expect(r.json.error.message).toMatch(/Consent\.provision\[0\]\.data\[0\]\.meaning/);
  });

  it('shows what the patient would sign for an HL7 example (--dry-run)', async () => {
    const r = await ok(env, 'consent', 'import', join(EXAMPLES, 'consent-example-notSecLabel.json'), '--org', 'HospitalA', '--key', keyFile, '--dry-run');
    expect(r).toMatchObject({ version: 'R5', periodFilled: ['start', 'end'], policy: { decision: 'permit' } });
    expect(r.summary[1]).toMatch(/\[0\] deny: .*records labelled/);
  });

  it('imports the nested consent from a FHIR R5 file: the patient signs it and HospitalA carries it', async () => {
    const file = join(files, 'nested-consent.json');
    writeFileSync(file, JSON.stringify(exportFhirConsent(NESTED), null, 2));
    const r = await ok<{ consentId: string; grantees: string[]; effectiveStatus: string; summary: string[] }>(env, 'consent', 'import', file, '--org', 'HospitalA', '--key', keyFile, '--days', '30');
    expect(r).toMatchObject({ grantees: ['*'], effectiveStatus: 'active' });
    expect(r.summary).toEqual([expect.stringMatching(/^permit every request/), '  [0] deny: records labelled PSY, except:', '    [0, 0] permit: by HospitalCMSP care team ct-dr-x']);
    consentId = r.consentId;
    expect(await consentA.getConsent(consentId)).toMatchObject({ format: 'medbridge/consent-policy/v2', patientId, grantSignedBy: { authority: 'patient' } });
  });

  it("enforces it on the peers: ordinary record permit [], PSY deny [0], PSY for Dr X's care team permit [0, 0]", async () => {
    expect(await consentA.checkAccess('HospitalCMSP', plainRecord, 'TREAT')).toEqual({ allowed: true, reason: 'consent', consentId, emergencyId: null, provisionPath: [] });
    expect(await consentA.checkAccess('HospitalCMSP', psyRecord, 'TREAT')).toEqual({ allowed: false, reason: 'consent-denied', consentId, emergencyId: null, provisionPath: [0] });
    const drX = { org: 'HospitalCMSP', role: 'clinician', practitioner: null, careTeam: 'ct-dr-x', policy: null };
    expect(await consentA.checkAccessAs(drX, psyRecord, 'TREAT')).toEqual({ allowed: true, reason: 'consent', consentId, emergencyId: null, provisionPath: [0, 0] });
    expect(await consentA.checkAccessAs({ ...drX, careTeam: 'ct-other' }, psyRecord, 'TREAT')).toMatchObject({ allowed: false, provisionPath: [0] });
  });

  it('logs both decisions with their provision path, and the patient reads them in their own log', async () => {
    const denied = await consentA.logAccess('HospitalCMSP', psyRecord, 'TREAT', `rq-${run}-1`);
    expect(denied.result).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
    const drX = { org: 'HospitalCMSP', role: 'clinician', practitioner: null, careTeam: 'ct-dr-x', policy: null };
    const granted = await consentA.logAccessAs(drX, psyRecord, 'TREAT', `rq-${run}-2`);
    expect(granted.result).toMatchObject({ allowed: true, reason: 'consent', provisionPath: [0, 0] });
    const log = await ok<Array<Record<string, unknown>>>(env, 'access', 'log', patientId, '--org', 'HospitalA', '--key', keyFile);
    expect(log.map((e) => [e.allowed, e.provisionPath])).toEqual([
      [false, [0]],
      [true, [0, 0]],
    ]);
    expect(log[1]).toMatchObject({ requesterDetail: { role: 'clinician', careTeam: 'ct-dr-x' } });
  });

  it('exports the consent as FHIR R5 that imports back to the signed policy', async () => {
    const fhir = await ok<Record<string, unknown>>(env, 'consent', 'export', consentId, '--org', 'HospitalC', '--channel', 'chain-a');
    expect(fhir).toMatchObject({ resourceType: 'Consent', status: 'active', decision: 'permit', identifier: [{ value: consentId }] });
    const stored = await consentA.getConsent(consentId);
    expect(importFhirConsent(fhir).policy).toEqual((stored as { policy: ConsentPolicy }).policy);
  });

  it('exports the access log as a FHIR Bundle of AuditEvents, one per decision, the provision path on each', async () => {
    const bundle = await ok<{ resourceType: string; entry: Array<{ resource: Record<string, unknown> }> }>(
      env,
      'log',
      'export',
      '--patient',
      patientId,
      '--key',
      keyFile,
      '--format',
      'fhir',
      '--org',
      'HospitalA',
    );
    expect(bundle.resourceType).toBe('Bundle');
    const events = bundle.entry.map((e) => e.resource);
    expect(events).toHaveLength(2);
    expect(events.map((e) => (e.outcome as { code: { code: string } }).code.code)).toEqual(['4', '0']);
    expect(JSON.stringify(events[0])).toContain('"[0]"');
    expect(JSON.stringify(events[1])).toContain('"[0,0]"');
  });
});
