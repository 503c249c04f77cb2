/**
 * Erasure end to end on the real network (CONSENT.md "Erasure"): HospitalA anchors a labelled
 * record, HospitalB fetches it under the patient's consent; the patient signs a record.erase on
 * their own device, HospitalA erases; then the fetch and the access check answer RECORD_ERASED,
 * the anchor on chain-a holds no hash, and neither the store file nor its -wal file holds a byte
 * of the content or the salt. A second record erased on the ledger only (a crash before the
 * deletion) is repaired by `records check`; a third is erased on a verified request.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { toClientError } from '../../gateway/src/errors';
import { RecordStore } from '../../gateway/src/records/store';
import { buildGateway, cli, ok, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { waitFor } from './support/polling';

describe('erasure of a record (GDPR art. 17)', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-erasure-it-'));
  const run = Date.now().toString(36);
  const ids = { asked: `rec-er1-${run}`, crashed: `rec-er2-${run}`, verified: `rec-er3-${run}` };
  const contentOf = (id: string) => JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: `psychiatric note ${id} ${'x'.repeat(64)}` } });
  let server: Running<{ url: string }> | undefined;
  let patientId: string;
  let storeFile: string;
  const salts = new Map<string, Buffer>();
  let hospitalC: FabricClient;

  /** Whether the store file or its -wal holds the content or the salt of `id`. */
  const storeHolds = (id: string): boolean =>
    [storeFile, `${storeFile}-wal`].some((f) => {
      if (!existsSync(f)) return false;
      const bytes = readFileSync(f);
      return bytes.includes(Buffer.from(contentOf(id))) || bytes.includes(salts.get(id) as Buffer);
    });

  beforeAll(async () => {
    buildGateway();
    hospitalC = FabricClient.open('HospitalC');
    patientId = (await ok<{ patientId: string }>(env, 'patient', 'keygen')).patientId;
    await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', patientId, '--public');
    for (const id of Object.values(ids)) {
      writeFileSync(join(files, `${id}.json`), contentOf(id));
      await ok(env, 'records', 'put', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, `${id}.json`), '--record-id', id, '--labels', 'PSY', '--data-date', '2024-03-01');
    }
    storeFile = (await ok<{ store: string }>(env, 'records', 'check', '--org', 'HospitalA', '--offline')).store;
    const store = new RecordStore(storeFile, { readonly: true });
    try {
      for (const id of Object.values(ids)) salts.set(id, store.mustGet(id).salt);
    } finally {
      store.close();
    }
    await ok(env, 'consent', 'grant', '--org', 'HospitalA', '--key', patientId, '--grantee', 'HospitalBMSP', '--records', ids.asked, '--purpose', 'TREAT', '--days', '1');
    server = await startDaemon(env, 'records', 'serve', '--org', 'HospitalA', '--port', '0');
  });

  afterAll(async () => {
    if (server) await stop(server.child);
    hospitalC?.close();
  });

  const fetchAsB = (id: string) => cli(env, 'records', 'fetch', id, '--org', 'HospitalB', '--from', 'HospitalA', '--purpose', 'TREAT');
  const codeOf = (p: Promise<unknown>) => p.then(() => 'none', (e: unknown) => toClientError(e).code);

  it("erases on the patient's signed request: fetch and access check answer RECORD_ERASED, no hash on chain, no byte in the store", async () => {
    expect((await fetchAsB(ids.asked)).code).toBe(0);
    expect(storeHolds(ids.asked)).toBe(true);

    // Signed on the patient's side: the envelope carries the signature, never the key.
    const request = join(files, 'erase.json');
    await ok(env, 'patient', 'request-erasure', ids.asked, '--key', patientId, '--channel', 'chain-a', '--out', request);
    expect(readFileSync(request, 'utf8')).not.toContain('PRIVATE KEY');
    const erased = await ok<{ versions: number; walTruncated: boolean; anchor: Record<string, unknown>; txId: string }>(env, 'records', 'erase', ids.asked, '--org', 'HospitalA', '--request', request);
    expect(erased).toMatchObject({ recordId: ids.asked, versions: 1, walTruncated: true, anchor: { erased: true, erasedBy: 'HospitalAMSP', versions: 1 } });
    // Its private labels were purged from HospitalA's collection (PurgePrivateData): the chaincode
    // finds no hash of them left on HospitalA's peer.
    expect(erased).toMatchObject({ labels: { purgedVersions: [1] } });
    const purgedAgain = await cli(env, 'record', 'purge-labels', ids.asked, '--org', 'HospitalA');
    expect([purgedAgain.code, purgedAgain.json.error.code]).toEqual([3, 'NOT_FOUND']);

    const fetched = await fetchAsB(ids.asked);
    expect([fetched.code, fetched.json.error.code]).toEqual([3, 'RECORD_ERASED']);
    const check = await cli(env, 'access', 'check', '--org', 'HospitalA', '--grantee', 'HospitalBMSP', '--record', ids.asked, '--purpose', 'TREAT');
    expect([check.code, check.json.error.code]).toEqual([3, 'RECORD_ERASED']);

    // As another member of chain-a reads it: the marker only, and every read of the anchor refused.
    const cc = new Chaincode(hospitalC, 'chain-a');
    const marker = await waitFor('HospitalC holds the erasure marker', () => cc.consent.getRecordErasure(ids.asked), 15_000);
    expect(Object.keys(marker).sort()).toEqual(['erased', 'erasedAt', 'erasedBy', 'recordId', 'txId', 'versions']);
    expect(await codeOf(cc.consent.getRecord(ids.asked))).toBe('RECORD_ERASED');
    expect(await codeOf(cc.consent.getRecordHistory(ids.asked))).toBe('RECORD_ERASED');
    const listed = await cc.consent.listRecordsByPatient(patientId);
    expect(listed.items.map((r) => r.recordId)).not.toContain(ids.asked);

    expect(storeHolds(ids.asked)).toBe(false);
    // The same request again is a replay.
    const again = await cli(env, 'records', 'erase', ids.asked, '--org', 'HospitalA', '--request', request);
    expect([again.code, again.json.error.code]).toEqual([3, 'NONCE_REPLAYED']);
  });

  it('finishes an erasure cut short after the ledger write: records check deletes the rows whose anchor is erased', async () => {
    const request = join(files, 'erase-crashed.json');
    await ok(env, 'patient', 'request-erasure', ids.crashed, '--key', patientId, '--channel', 'chain-a', '--out', request);
    const hospitalA = FabricClient.open('HospitalA');
    try {
      // Only the ledger half, as if the custodian stopped before deleting.
      await new Chaincode(hospitalA, 'chain-a').consent.eraseRecord(JSON.parse(readFileSync(request, 'utf8')));
    } finally {
      hospitalA.close();
    }
    expect(storeHolds(ids.crashed)).toBe(true);
    const checked = await ok<{ ok: boolean; erasedRepaired: string[] }>(env, 'records', 'check', '--org', 'HospitalA');
    expect(checked).toMatchObject({ ok: true, erasedRepaired: [ids.crashed] });
    expect(storeHolds(ids.crashed)).toBe(false);
    // The repair purged the labels the cut-short erasure left.
    const purged = await cli(env, 'record', 'purge-labels', ids.crashed, '--org', 'HospitalA');
    expect([purged.code, purged.json.error.code]).toEqual([3, 'NOT_FOUND']);
    const fetched = await fetchAsB(ids.crashed);
    expect([fetched.code, fetched.json.error.code]).toEqual([3, 'RECORD_ERASED']);
  });

  it('erases on a request the custodian verified, stated as a reason code; refuses free text', async () => {
    const text = await cli(env, 'records', 'erase', ids.verified, '--org', 'HospitalA', '--identity', 'admin', '--reason', 'phoned in');
    expect([text.code, text.json.error.code]).toEqual([3, 'INVALID_ARGUMENT']);
    expect(storeHolds(ids.verified)).toBe(true);
    const erased = await ok(env, 'records', 'erase', ids.verified, '--org', 'HospitalA', '--identity', 'admin', '--reason', 'patient-in-person');
    expect(erased).toMatchObject({ recordId: ids.verified, anchor: { erased: true, erasedBy: 'HospitalAMSP' } });
    expect(storeHolds(ids.verified)).toBe(false);
  });
});
