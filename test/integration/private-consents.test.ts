/**
 * Private consents on the real network (chaincode/CONSENT.md "Private consents"), through the
 * CLI as a hospital runs it: the patient imports the nested FHIR consent "permit all, deny PSY,
 * except for Dr X's care team" naming HospitalA as its keeper; HospitalA's peers alone endorse
 * it and hold it; they enforce it for HospitalA's records; HospitalC (the requester here, and a
 * member of chain-a) reads nothing of it from its own ledger: no block of chain-a holds the
 * consent id, the policy or the grant, and its own peer answers NOT_CUSTODIAN instead of a
 * refusal it cannot make. The patient revokes it at HospitalA, privately as well.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFhirConsent, type ConsentPolicy } from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode, type ConsentClient } from '../../gateway/src/fabric/contracts';
import { toClientError } from '../../gateway/src/errors';
import { buildGateway, cli, ok, testEnv } from './cli-harness';

const run = Date.now().toString(36);
const NESTED: ConsentPolicy = {
  format: 'medbridge/consent-policy/v2',
  decision: 'permit',
  provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP', careTeam: 'ct-dr-x' }] }] }],
};
const DR_X = { org: 'HospitalCMSP', role: 'clinician', practitioner: null, careTeam: 'ct-dr-x', policy: null };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return toClientError(e).code;
  }
}

describe('private consents on chain-a through the CLI', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-private-consents-'));
  const psyRecord = `psy-${run}`;
  const plainRecord = `obs-${run}`;
  let a: FabricClient;
  let c: FabricClient;
  let consentA: ConsentClient;
  let consentC: ConsentClient;
  let patientId: string;
  let keyFile: string;
  let consentId: string;
  let from: number;

  beforeAll(async () => {
    buildGateway();
    a = FabricClient.open('HospitalA');
    c = FabricClient.open('HospitalC');
    consentA = new Chaincode(a, 'chain-a').consent;
    consentC = new Chaincode(c, 'chain-a').consent;
    const k = await ok<{ patientId: string; keyFile: string }>(env, 'patient', 'keygen');
    patientId = k.patientId;
    keyFile = k.keyFile;
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', keyFile, '--public');
    writeFileSync(join(files, 'psy.json'), '{"resourceType":"Observation","status":"final"}');
    writeFileSync(join(files, 'obs.json'), '{"resourceType":"Observation","status":"final","id":"2"}');
    await ok(env, 'record', 'anchor', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'psy.json'), '--record-id', psyRecord, '--labels', 'PSY,R', '--data-date', '2024-03-01');
    await ok(env, 'record', 'anchor', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, 'obs.json'), '--record-id', plainRecord, '--labels', '', '--data-date', '2024-03-02');
    from = await c.height('chain-a');
  });

  afterAll(() => {
    a?.close();
    c?.close();
  });

  it('imports the nested FHIR consent kept by HospitalA: the patient signs it, HospitalA holds it', async () => {
    const file = join(files, 'nested-consent.json');
    writeFileSync(file, JSON.stringify(exportFhirConsent(NESTED), null, 2));
    const r = await ok<{ consentId: string; grantees: string[]; effectiveStatus: string }>(env, 'consent', 'import', file, '--org', 'HospitalA', '--key', keyFile, '--days', '30', '--keeper', 'HospitalAMSP');
    expect(r).toMatchObject({ grantees: ['*'], effectiveStatus: 'active' });
    consentId = r.consentId;
    expect(await consentA.getPrivateConsent(consentId)).toMatchObject({ consentId, patientId, format: 'medbridge/consent-policy/v2', grant: { message: { keeper: 'HospitalAMSP' } } });
    const listed = await ok<{ keeper: string; items: Array<{ consentId: string }> }>(env, 'consent', 'list', patientId, '--private', '--org', 'HospitalA');
    expect({ keeper: listed.keeper, ids: listed.items.map((x) => x.consentId) }).toEqual({ keeper: 'HospitalAMSP', ids: [consentId] });
    // Its FHIR export, by the keeper, names the keeper as the consent's enforcer (Consent.controller).
    const fhir = await ok<Record<string, unknown>>(env, 'consent', 'export', consentId, '--org', 'HospitalA');
    expect(fhir).toMatchObject({ resourceType: 'Consent', decision: 'permit', controller: [{ reference: 'Organization/HospitalAMSP' }], identifier: [{ value: consentId }] });
    // Not in public state, and not on HospitalC's peer.
    expect(await codeOf(consentA.getConsent(consentId))).toBe('NOT_FOUND');
    expect(await codeOf(consentC.getPrivateConsent(consentId))).toBe('NOT_FOUND');
    expect((await consentC.listPrivateConsents(patientId)).items).toEqual([]);
  });

  it("is enforced by HospitalA's peers for its records: ordinary permit [], PSY deny [0], PSY for Dr X's care team permit [0, 0]", async () => {
    expect(await consentA.checkAccess('HospitalCMSP', plainRecord, 'TREAT')).toEqual({ allowed: true, reason: 'consent', consentId, emergencyId: null, provisionPath: [] });
    expect(await consentA.checkAccess('HospitalCMSP', psyRecord, 'TREAT')).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
    expect(await consentA.checkAccessAs(DR_X, psyRecord, 'TREAT')).toMatchObject({ allowed: true, consentId, provisionPath: [0, 0] });
    const logged = await consentA.logAccessAs(DR_X, psyRecord, 'TREAT', `rq-${run}-1`);
    expect(logged.result).toMatchObject({ allowed: true, reason: 'consent', consentId, provisionPath: [0, 0] });
  });

  it("makes HospitalC's own peer answer NOT_CUSTODIAN: it cannot see the consent, so it does not refuse", async () => {
    expect(await codeOf(consentC.checkAccess('HospitalCMSP', plainRecord, 'TREAT'))).toBe('NOT_CUSTODIAN');
  });

  it("leaves nothing of the consent in chain-a's blocks as HospitalC reads them", async () => {
    const blocks = await c.blocks('chain-a', from);
    // The scan sees the grant's transaction: its event names it and nothing else.
    expect(blocks.length).toBeGreaterThan(0);
    const holds = (s: string): boolean => blocks.some((b) => Buffer.from(b).includes(Buffer.from(s, 'utf8')));
    expect(holds('ConsentGrantedPrivately')).toBe(true);
    const traces = [consentId, 'ct-dr-x', 'medbridge/consent-policy/v2', '"keeper"', '"grantees"', 'consent.grant-policy'];
    expect(traces.filter(holds)).toEqual([]);
  });

  it('is revoked by the patient at HospitalA, privately; later decisions refuse', async () => {
    const r = await ok<{ status: string; effectiveStatus: string }>(env, 'consent', 'revoke', consentId, '--org', 'HospitalA', '--key', keyFile, '--keeper', 'HospitalAMSP');
    expect(r).toMatchObject({ status: 'revoked', effectiveStatus: 'revoked' });
    expect(await consentA.checkAccess('HospitalCMSP', plainRecord, 'TREAT')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    // Without --keeper the CLI finds the consent HospitalA keeps and asks there: already revoked.
    const again = await cli(env, 'consent', 'revoke', consentId, '--org', 'HospitalA', '--key', keyFile);
    expect(again.json.error.code).toBe('CONSENT_NOT_ACTIVE');
    // The public path neither holds it nor revokes it: a signed revocation submitted without a keeper.
    const envelope = join(files, 'revocation.json');
    await ok(env, 'consent', 'revoke', consentId, '--org', 'HospitalA', '--key', keyFile, '--sign-only', envelope);
    const publicRevoke = await cli(env, 'submit', envelope, '--org', 'HospitalA');
    expect(publicRevoke.json.error.code).toBe('NOT_FOUND');
  });
});
