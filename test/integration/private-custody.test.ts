/**
 * A private patient end to end on the real network, through the CLI as hospitals run it
 * (chaincode/CONSENT.md "Private patients and anchors", "Sealed consent shares"): HospitalA
 * registers the patient privately and stores two records (one labelled PSY), anchored privately;
 * the patient imports the nested FHIR consent "permit all, deny PSY, except Dr X's care team at
 * HospitalC", kept by HospitalA and shared sealed with chain-b (net1: chain-a = HospitalA +
 * HospitalC, chain-b = HospitalB + HospitalC). A relay carries the digest; HospitalB and HospitalC
 * each receive their own copy from HospitalA's record exchange. The nested consent is then
 * enforced on chain-a by HospitalA and on chain-b by each grantee's own peer, with the same
 * provision paths; HospitalB fetches the general record (checked by chain-a's attestation of the
 * private anchor) and is refused the PSY one. The revocation crosses the same way; the patient
 * erases a record. HospitalC, a member of both chains, finds none of the patient's id or key, the
 * record ids, the consent id or the care team in any block either chain added meanwhile.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFhirConsent, type ConsentPolicy, type RemoteAccessDecision, type RemoteAccessRequest, type Requester } from '@medbridge/chaincode';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode, orAbsent } from '../../gateway/src/fabric/contracts';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import { buildGateway, cli, ok, startDaemon, stop, testEnv, type Running } from './cli-harness';
import { waitFor } from './support/polling';
import { startTestRelay, type TestRelay } from './support/test-relay';

const run = Date.now().toString(36);
const ROUTE = `route-sealed-${run}`;
const WAIT_MS = 240_000;
const NESTED: ConsentPolicy = {
  format: 'medbridge/consent-policy/v2',
  decision: 'permit',
  provisions: [{ securityLabels: ['PSY'], provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP', careTeam: 'ct-dr-x' }] }] }],
};
const org = (mspId: string): Requester => ({ org: mspId, role: null, practitioner: null, careTeam: null, policy: null });
const drX: Requester = { ...org('HospitalCMSP'), role: 'clinician', careTeam: 'ct-dr-x' };

interface Shared {
  consentId: string;
  keeper: string;
  packet: { routeId: string; sequence: number; sealed: { digest: string; ref: string } | null };
}

describe('a private patient across chains (CLI, real peers)', () => {
  const env = testEnv();
  const files = mkdtempSync(join(tmpdir(), 'medbridge-private-custody-'));
  const psyRecord = `psy-p-${run}`;
  const plainRecord = `obs-p-${run}`;
  let hospitalA: FabricClient;
  let hospitalB: FabricClient;
  let hospitalC: FabricClient;
  let server: Running<{ url: string }> | undefined;
  let testRelay: TestRelay | undefined;
  let patientId: string;
  let keyFile: string;
  let publicKey: string;
  let consentId: string;
  let from: { a: number; b: number };
  const facts = new Map<string, RemoteAccessRequest['record']>();

  beforeAll(async () => {
    buildGateway();
    const admin = new CrossChainAdmin();
    try {
      await admin.ensureRoute('chain-a', 'chain-b', ROUTE, ['consent.grant', 'consent.revoke', 'consent.sealed']);
    } finally {
      admin.close();
    }
    hospitalA = FabricClient.open('HospitalA');
    hospitalB = FabricClient.open('HospitalB');
    hospitalC = FabricClient.open('HospitalC');
    from = { a: await hospitalC.height('chain-a'), b: await hospitalC.height('chain-b') };
    testRelay = startTestRelay([ROUTE], files, { startBlock: BigInt(from.a) });
    server = await startDaemon(env, 'records', 'serve', '--org', 'HospitalA', '--port', '0');
  });

  afterAll(async () => {
    await testRelay?.stop();
    if (server) await stop(server.child);
    hospitalA?.close();
    hospitalB?.close();
    hospitalC?.close();
    rmSync(files, { recursive: true, force: true });
  });

  /** The grantee's own decision on chain-b, on its own peer, under the copy it delivered. */
  const ask = (client: FabricClient, requester: Requester, recordId: string): Promise<RemoteAccessDecision> =>
    new Chaincode(client, 'chain-b').consent.checkRemoteAccess('chain-a', consentId, { requester, purpose: 'TREAT', record: facts.get(recordId)! });

  /** `consent receive` as `org` until the sealed consent with `digest` is delivered there. */
  const receiveAs = (orgName: string, digest: string) =>
    waitFor(
      `${orgName} receives ${digest} (relay: ${String(testRelay?.relay.status().waitingFor)})`,
      async () => {
        const r = await ok<{ items: Array<{ digest: string; outcome: string }> }>(env, 'consent', 'receive', '--org', orgName, '--channel', 'chain-b', '--from', 'chain-a');
        return r.items.find((i) => i.digest === digest && i.outcome === 'delivered');
      },
      WAIT_MS,
      1000,
    );

  it('registers the patient privately at HospitalA: HospitalA reads them, HospitalC\'s peer does not', async () => {
    const k = await ok<{ patientId: string; keyFile: string; publicKey: string }>(env, 'patient', 'keygen');
    ({ patientId, keyFile, publicKey } = k);
    expect(await ok(env, 'patient', 'register', '--org', 'HospitalA', '--key', keyFile)).toMatchObject({ patientId, private: true });
    expect(await ok(env, 'patient', 'show', patientId, '--org', 'HospitalA')).toMatchObject({ patientId, publicKey, heldPrivately: true });
    const atC = await cli(env, 'patient', 'show', patientId, '--org', 'HospitalC', '--channel', 'chain-a');
    expect([atC.code, atC.json.error.code]).toEqual([3, 'PATIENT_NOT_REGISTERED']);
  });

  it('stores two records, anchored privately (the patient is private): HospitalA reads the anchors and labels, HospitalC\'s peer finds no record', async () => {
    writeFileSync(join(files, 'psy.json'), '{"resourceType":"Observation","status":"final","id":"p"}');
    writeFileSync(join(files, 'obs.json'), '{"resourceType":"Observation","status":"final","id":"o"}');
    for (const [recordId, file, labels] of [
      [psyRecord, 'psy.json', 'PSY,R'],
      [plainRecord, 'obs.json', 'N'],
    ] as const) {
      await ok(env, 'records', 'put', '--org', 'HospitalA', '--patient', patientId, '--category', 'Observation', '--file', join(files, file), '--record-id', recordId, '--labels', labels, '--data-date', '2025-06-01');
      const held = await new Chaincode(hospitalA, 'chain-a').consent.isRecordHeldPrivately(recordId);
      expect(held).toEqual({ recordId, heldPrivately: true, erased: false });
      const anchor = await ok<{ custodian: string; category: string }>(env, 'record', 'show', recordId, '--org', 'HospitalA');
      const labelled = await ok<{ metadata: { securityLabels: string[]; dataDate: number; authorOrg: string; documentClasses: [] } }>(env, 'record', 'labels', recordId, '--org', 'HospitalA');
      facts.set(recordId, { recordId, resourceType: anchor.category, custodian: anchor.custodian, ...labelled.metadata });
      const atC = await cli(env, 'record', 'show', recordId, '--org', 'HospitalC', '--channel', 'chain-a');
      expect([atC.code, atC.json.error.code]).toEqual([3, 'NOT_FOUND']);
    }
  });

  it('imports the nested consent kept by HospitalA and shares it sealed; HospitalB and HospitalC each receive their own copy', async () => {
    const file = join(files, 'nested.json');
    writeFileSync(file, JSON.stringify(exportFhirConsent(NESTED), null, 2));
    const shared = await ok<Shared>(env, 'consent', 'import', file, '--org', 'HospitalA', '--key', keyFile, '--days', '30', '--share', 'chain-b', '--route', ROUTE);
    expect(shared).toMatchObject({ keeper: 'HospitalAMSP', packet: { routeId: ROUTE, sealed: { digest: expect.stringMatching(/^[0-9a-f]{64}$/) } } });
    consentId = shared.consentId;
    const digest = shared.packet.sealed!.digest;
    await receiveAs('HospitalB', digest);
    await receiveAs('HospitalC', digest);
    const listed = await new Chaincode(hospitalB, 'chain-b').consent.listSealedRemoteConsents();
    expect(listed.items.find((m) => m.consentId === consentId)).toMatchObject({ sourceChain: 'chain-a', patientId, effectiveStatus: 'active' });
  });

  it('enforces the nested consent on chain-a (HospitalA) and on chain-b (each grantee), with the same provision paths', async () => {
    const home = new Chaincode(hospitalA, 'chain-a').consent;
    expect(await home.checkAccessAs(org('HospitalBMSP'), plainRecord, 'TREAT')).toMatchObject({ allowed: true, provisionPath: [] });
    expect(await home.checkAccessAs(org('HospitalBMSP'), psyRecord, 'TREAT')).toMatchObject({ allowed: false, provisionPath: [0] });
    expect(await home.checkAccessAs(drX, psyRecord, 'TREAT')).toMatchObject({ allowed: true, provisionPath: [0, 0] });
    expect(await ask(hospitalB, org('HospitalBMSP'), plainRecord)).toMatchObject({ allowed: true, consentId, provisionPath: [] });
    expect(await ask(hospitalB, org('HospitalBMSP'), psyRecord)).toMatchObject({ allowed: false, reason: 'consent-denied', provisionPath: [0] });
    expect(await ask(hospitalC, drX, psyRecord)).toMatchObject({ allowed: true, consentId, provisionPath: [0, 0] });
  });

  it("lets HospitalB fetch the general record, checked by chain-a's attestation of the private anchor, and refuses the PSY one", async () => {
    const got = await cli(env, 'records', 'fetch', plainRecord, '--org', 'HospitalB', '--from', 'HospitalA', '--purpose', 'TREAT', '--consent', consentId);
    expect(got.code).toBe(0);
    expect(got.json).toMatchObject({ recordId: plainRecord, verified: true, anchorSource: 'attestation', attestedBy: 'chain-a', content: readFileSync(join(files, 'obs.json'), 'utf8') });
    const psy = await cli(env, 'records', 'fetch', psyRecord, '--org', 'HospitalB', '--from', 'HospitalA', '--purpose', 'TREAT');
    expect([psy.code, psy.json.error.code]).toEqual([3, 'ACCESS_DENIED']);
  });

  it('carries the revocation sealed as well: each grantee\'s copy is revoked once it receives it', async () => {
    const revoked = await ok<{ status: string; packet: Shared['packet'] }>(env, 'consent', 'revoke', consentId, '--org', 'HospitalA', '--key', keyFile, '--share', 'chain-b', '--route', ROUTE);
    expect(revoked).toMatchObject({ status: 'revoked', packet: { sealed: { digest: expect.any(String) } } });
    await receiveAs('HospitalB', revoked.packet.sealed!.digest);
    expect(await ask(hospitalB, org('HospitalBMSP'), plainRecord)).toMatchObject({ allowed: false, reason: 'consent-revoked', version: 2 });
    // HospitalC has not received the revocation yet: its copy still says what it was told (each grantee delivers its own).
    expect((await orAbsent(ask(hospitalC, drX, psyRecord)))?.version).toBe(1);
    await receiveAs('HospitalC', revoked.packet.sealed!.digest);
    expect(await ask(hospitalC, drX, psyRecord)).toMatchObject({ allowed: false, reason: 'consent-revoked' });
  });

  it("erases the general record on the patient's signed request: RECORD_ERASED from then on", async () => {
    const request = join(files, 'erase.json');
    await ok(env, 'patient', 'request-erasure', plainRecord, '--key', keyFile, '--channel', 'chain-a', '--out', request);
    const erased = await ok(env, 'records', 'erase', plainRecord, '--org', 'HospitalA', '--request', request);
    expect(erased).toMatchObject({ recordId: plainRecord, anchor: { erased: true, erasedBy: 'HospitalAMSP' }, labels: { purgedVersions: [1] } });
    const shown = await cli(env, 'record', 'show', plainRecord, '--org', 'HospitalA');
    expect([shown.code, shown.json.error.code]).toEqual([3, 'RECORD_ERASED']);
  });

  it('leaves HospitalC, a member of both chains, none of the patient, their key, the records, the consent or the care team in any new block', async () => {
    const blocks = { a: await hospitalC.blocks('chain-a', from.a), b: await hospitalC.blocks('chain-b', from.b) };
    expect(blocks.a.length).toBeGreaterThan(0);
    expect(blocks.b.length).toBeGreaterThan(0);
    const traces = { patientId, publicKey, psyRecord, plainRecord, consentId, careTeam: 'ct-dr-x' };
    const found = (chain: 'a' | 'b') => Object.entries(traces).flatMap(([what, s]) => (blocks[chain].some((b) => Buffer.from(b).includes(Buffer.from(s, 'utf8'))) ? [what] : []));
    expect({ a: found('a'), b: found('b') }).toEqual({ a: [], b: [] });
  });
});
