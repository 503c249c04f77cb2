/**
 * Off-chain record exchange on the real network, driven through the CLI: HospitalA stores
 * and anchors a record and serves it over mutual TLS; HospitalB fetches it under the
 * patient's consent and verifies the salted hash; after the patient revokes, the next
 * fetch is refused; both decisions are in the patient's access log on chain-a.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGateway, cli, ok, startDaemon, stop, testEnv, type Running } from './cli-harness';

describe('record exchange between hospitals', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-records-it-'));
  const recordId = `rec-it-${Date.now().toString(36)}`;
  const fhir = JSON.stringify({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'HbA1c' } });
  let server: Running<{ url: string }> | undefined;
  let patientId: string;
  let anchorHash: string;

  beforeAll(async () => {
    buildGateway();
    writeFileSync(join(files, 'report.json'), fhir);
    patientId = (await ok<{ patientId: string }>(env, 'patient', 'keygen')).patientId;
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', patientId, '--public');
    const put = await ok<{ recordId: string; hash: string; version: number }>(
      env, 'records', 'put', '--org', 'HospitalA', '--patient', patientId, '--category', 'DiagnosticReport', '--file', join(files, 'report.json'), '--record-id', recordId,
    );
    expect(put).toMatchObject({ recordId, version: 1 });
    anchorHash = put.hash;
    server = await startDaemon(env, 'records', 'serve', '--org', 'HospitalA', '--port', '0');
  });

  afterAll(async () => {
    if (server) await stop(server.child);
  });

  /** Runs last: it stops the exchange to restore the store. */
  const backupAndRestore = async () => {
    const backup = join(files, 'HospitalAMSP.backup.sqlite');
    const made = await ok<{ file: string; versions: number; sha256: string }>(env, 'records', 'backup', '--org', 'HospitalA', '--out', backup);
    expect(made.file).toBe(backup);
    expect(made.versions).toBeGreaterThanOrEqual(1);
    // Not while `records serve` has the store open.
    const inUse = await cli(env, 'records', 'restore', '--org', 'HospitalA', '--from', backup);
    expect([inUse.code, inUse.json.error.code]).toEqual([2, 'STORE_IN_USE']);
    await stop(server!.child);
    server = undefined;
    const restored = await ok<{ previous: string; versions: number }>(env, 'records', 'restore', '--org', 'HospitalA', '--from', backup);
    expect(restored.versions).toBe(made.versions);
    expect(restored.previous).toMatch(/HospitalAMSP\.sqlite\.before-restore-/);
    expect(await ok(env, 'records', 'check', '--org', 'HospitalA')).toMatchObject({ ok: true, versions: made.versions });
    // The restored copy still matches its anchor on chain.
    expect(await ok(env, 'record', 'verify', recordId, '--org', 'HospitalA')).toMatchObject({ match: true, hash: anchorHash });
  };

  const fetchAs = (org: string, purpose = 'TREAT', out?: string) =>
    cli(env, 'records', 'fetch', recordId, '--org', org, '--from', 'HospitalA', '--purpose', purpose, ...(out ? ['--out', out] : []));

  it('refuses a hospital without consent, and logs the refusal on chain', async () => {
    const r = await fetchAs('HospitalB');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('ACCESS_DENIED');
    expect(r.json.error.message).toMatch(/: no-consent /);
    expect(r.json.error.txId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hands a consented record to HospitalB, which checks the salted hash against the anchor', async () => {
    const grant = await ok<{ consentId: string }>(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalBMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '1');
    const out = join(files, 'fetched-b.json');
    const r = await fetchAs('HospitalB', 'TREAT', out);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ recordId, version: 1, verified: true, hash: anchorHash, consentId: grant.consentId, custodian: 'HospitalAMSP', reason: 'consent' });
    // HospitalB is not on chain-a: when chain-b registered chain-a, it checks chain-a's nodes'
    // attestation of the anchor (records-anchor.test.ts); otherwise the anchor LogAccess read.
    const remotes = await ok<Array<{ chainId: string }>>(env, 'remote', 'list', '--org', 'HospitalB', '--channel', 'chain-b');
    const registered = remotes.some((x) => x.chainId === 'chain-a');
    expect(r.json.anchorSource).toBe(registered ? 'attestation' : 'custodian');
    expect(readFileSync(out, 'utf8')).toBe(fhir);
  });

  it('lets a requester that is a member of the record\'s chain check the anchor on its own ledger', async () => {
    await ok(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalCMSP', '--records', recordId, '--purpose', 'TREAT', '--days', '1');
    const r = await fetchAs('HospitalC');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ verified: true, anchorSource: 'ledger', hash: anchorHash, content: fhir });
  });

  it('refuses a purpose the consent does not cover', async () => {
    const r = await fetchAs('HospitalB', 'HRESCH');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('ACCESS_DENIED');
  });

  it('refuses HospitalB after the patient revokes, and the patient\'s log shows the access and the refusals', async () => {
    const consents = await ok<{ items: Array<{ consentId: string; grantee: string; effectiveStatus: string }> }>(env, 'consent', 'list', patientId, '--org', 'HospitalA');
    const forB = consents.items.find((c) => c.grantee === 'HospitalBMSP');
    expect(forB?.effectiveStatus).toBe('active');
    const revoked = await ok<{ status: string }>(env, 'consent', 'revoke', forB!.consentId, '--org', 'HospitalA', '--key', patientId);
    expect(revoked.status).toBe('revoked');

    const r = await fetchAs('HospitalB');
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('ACCESS_DENIED');
    expect(r.json.error.message).toMatch(/revoked/);

    const log = await ok<Array<{ kind: string; requester: string; recordId: string; allowed: boolean; reason: string; purpose: string; txId: string }>>(env, 'access', 'log', patientId, '--org', 'HospitalA', '--key', patientId);
    const b = log.filter((e) => e.kind === 'access' && e.requester === 'HospitalBMSP' && e.recordId === recordId);
    expect(b.map((e) => [e.allowed, e.purpose])).toEqual([
      [false, 'TREAT'],
      [true, 'TREAT'],
      [false, 'HRESCH'],
      [false, 'TREAT'],
    ]);
    expect(b[3]?.txId).toBe(r.json.error.txId);
    expect(b[3]?.reason).toMatch(/revoked/);
  });

  it('backs the store up while it serves, refuses a restore while it serves, and a restored store matches the anchor', backupAndRestore);
});
