/**
 * The patient app as a person uses it, in a real headless Chromium (Debian's chromium driven by
 * playwright-core; no browser download) against the embedded network:
 *
 *   the browser makes the patient's key; HospitalA's EHR issues an enrolment code and the app
 *   redeems it (HospitalA registers the patient privately, the default); HospitalA stores and
 *   anchors a record (privately), which the app lists with its custodian; in the app the patient
 *   grants HospitalB (reading the plain-language summary first): the consent is kept at HospitalA
 *   and shared sealed with chain-b (relay), where HospitalB's server fetches and delivers it;
 *   HospitalB's EHR fetches the record through HospitalB's API (which asks HospitalA's record
 *   exchange over mutual TLS and verifies the private anchor by attestation); the patient revokes
 *   in the app; the revocation follows sealed; HospitalB's next fetch is refused; the app's timeline shows the access and the
 *   refusal; the patient shares with HospitalC, kept privately by HospitalA: plainly, "everything
 *   except" psychiatry, and from a FHIR Consent file read in the browser (a file it cannot
 *   enforce refused by element path); the patient replaces the key and keeps the patient id and consents; the patient
 *   signs a pseudonym link between this id and their id on chain-b (that id's key from its
 *   backup file), which HospitalB verifies.
 *
 * A screenshot of each step is written to test/e2e/output/ (git-ignored).
 */
import { createCipheriv, generateKeyPairSync, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSENT_POLICY_FORMAT, exportFhirConsent, importFhirConsent, parseConsentPolicy, patientIdOf } from '@medbridge/chaincode';
import { parseServeConfig } from '../../gateway/src/api/config';
import { startApi, type RunningApi } from '../../gateway/src/api/serve';
import { config, gatewayDataDir } from '../../gateway/src/config';
import { startService, type Service } from '../../gateway/src/demo/processes';
import { FabricClient } from '../../gateway/src/fabric/client';
import { Chaincode } from '../../gateway/src/fabric/contracts';
import { loadProfile, type Profile } from '../../gateway/src/fabric/profile';
import { silentLogger } from '../../gateway/src/logger';
import { Custodian } from '../../gateway/src/records/custodian';
import { storeFileOf } from '../../gateway/src/records/endpoints';
import { RecordStore } from '../../gateway/src/records/store';
import { ConsentService } from '../../gateway/src/services/consent-service';
import { validateFhirResource } from '../../gateway/src/services/fhir-schema';
import { CrossChainAdmin } from '../../gateway/src/services/crosschain-admin';
import { PseudonymLinkVerifier } from '../../gateway/src/services/pseudonym-links';
import { buildGateway } from '../integration/cli-harness';
import { waitFor } from '../integration/support/polling';

const A = 'chain-a';
const B = 'chain-b';
const ROUTE = 'consent-a-b';
const CHROMIUM = process.env.MEDBRIDGE_CHROMIUM ?? '/usr/bin/chromium';
const OUT = join(__dirname, 'output');
const UI_MS = 60_000;

interface EhrAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: any;
}

/** A hospital's EHR: a mutual-TLS call to its own org's API with the org's user identity. */
function ehrCall(api: RunningApi, p: Profile, path: string, body?: unknown): Promise<EhrAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, api.url),
      {
        method: body === undefined ? 'GET' : 'POST',
        ca: readFileSync(p.peers[0]!.tlsRootCert, 'utf8'),
        servername: 'localhost',
        cert: readFileSync(p.identities.user.certificate, 'utf8'),
        key: readFileSync(p.identities.user.privateKey, 'utf8'),
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const json = (res.headers['content-type'] ?? '').startsWith('application/json');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: json ? JSON.parse(raw.toString('utf8')) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The API of an org on its channel, with its peer's TLS server certificate. */
function serveConfig(org: string, channel: string, p: Profile, dataDir: string) {
  const dir = dirname(p.peers[0]!.tlsRootCert);
  return parseServeConfig(
    { org, channel, listen: { host: '127.0.0.1', port: 0 }, tls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') }, dataDir, logLevel: 'silent' },
    '/',
  );
}

describe('patient app in a real browser', () => {
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const hospitalAProfile = loadProfile('HospitalA');
  const hospitalBProfile = loadProfile('HospitalB');
  const services: Service[] = [];
  const clients: FabricClient[] = [];
  const admin = new CrossChainAdmin();
  let api: RunningApi;
  /** HospitalB's own API, which its EHR fetches records through. */
  let apiB: RunningApi;
  let browser: Browser;
  let page: Page;
  let store: RecordStore;
  let shot = 0;

  const snap = async (name: string) => {
    shot += 1;
    await page.screenshot({ path: join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  const notice = () => page.getByRole('status');

  beforeAll(async () => {
    buildGateway();
    mkdirSync(OUT, { recursive: true });
    await admin.ensureRoute(A, B, ROUTE, ['consent.grant', 'consent.revoke', 'consent.sealed', 'ping']);
    const logDir = mkdtempSync(join(tmpdir(), 'medbridge-e2e-'));
    services.push(await startService('relay', ['relay', 'start', '--from', A, '--to', B, '--both', '--port', '0', '--routes', ROUTE], join(logDir, 'relay.log')));
    services.push(await startService('records', ['records', 'serve', '--org', 'HospitalA'], join(logDir, 'records.log')));
    api = await startApi(serveConfig('HospitalA', A, hospitalAProfile, join(logDir, 'serve-a')), silentLogger);
    // HospitalB's server receives the consents shared sealed with HospitalB (every second here).
    apiB = await startApi({ ...serveConfig('HospitalB', B, hospitalBProfile, join(logDir, 'serve-b')), sealedReceiveIntervalMs: 1_000 }, silentLogger);
    clients.push(FabricClient.open('HospitalB'));
    store = new RecordStore(storeFileOf(gatewayDataDir(config(), hospitalAProfile.network), hospitalAProfile.mspId));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // A phone-sized screen; the server's certificate is the org's TLS CA's, which this browser does not know.
    const context = await browser.newContext({ viewport: { width: 412, height: 860 }, ignoreHTTPSErrors: true });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await apiB?.close();
    store?.close();
    for (const s of services.reverse()) await s.stop();
    admin.close();
    for (const c of clients) c.close();
  });

  it('makes a key, enrols, grants HospitalB, HospitalB reads, revokes, HospitalB is refused, and the timeline shows both', async () => {
    const origin = api.url.replace('127.0.0.1', 'localhost');
    // 1. The key is made in the browser (WebCrypto, non-extractable, IndexedDB) with its backup.
    await page.goto(`${origin}/app/`);
    await expect(page.evaluate('window.isSecureContext')).resolves.toBe(true);
    await page.getByRole('heading', { name: 'Create my key' }).waitFor();
    await snap('welcome');
    await page.getByLabel(/Backup passphrase/).fill('correct horse battery staple');
    await page.getByLabel('Passphrase again').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Create my key' }).click();
    await page.getByRole('link', { name: 'Download my key backup' }).waitFor({ timeout: UI_MS });
    const patientId = (await page.getByTestId('patient-id').textContent())!.trim();
    expect(patientId).toMatch(/^pt_[0-9a-f]{64}$/);
    // The private key as IndexedDB holds it (page script: the DOM's types are not this file's).
    const extractable = await page.evaluate(`new Promise((resolve, reject) => {
      const open = indexedDB.open('medbridge-patient');
      open.onsuccess = () => {
        const get = open.result.transaction('keys').objectStore('keys').get('patient');
        get.onsuccess = () => resolve(get.result.privateKey.extractable);
      };
      open.onerror = () => reject(open.error);
    })`);
    expect(extractable).toBe(false);
    await snap('key-created');

    // 2. HospitalA's EHR issues a one-time code; the app redeems it from the enrolment link.
    const issued = await ehrCall(api, hospitalAProfile, '/v1/enrolments', { ttlMinutes: 10 });
    expect(issued.status).toBe(201);
    await page.goto(`${origin}/app/#enrol=${issued.body.code as string}`);
    await page.reload();
    await expect(page.getByLabel('Enrolment code').inputValue()).resolves.toBe(issued.body.code);
    await snap('enrol');
    await page.getByRole('button', { name: 'Enrol with this code' }).click();
    await page.getByText('Enrolled at HospitalAMSP').waitFor({ timeout: UI_MS });
    await page.getByText('HospitalAMSP keeps your records').waitFor({ timeout: UI_MS });
    await snap('enrolled-records');

    // 3. HospitalA stores a record of the patient off chain and anchors it on chain-a.
    const hospitalA = FabricClient.open('HospitalA');
    clients.push(hospitalA);
    const fhir = Buffer.from(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' }, valueQuantity: { value: 118, unit: 'mmHg' }, run }));
    // Its labels stay private to HospitalA (chaincode/CONSENT.md "Private record metadata").
    const metadata = { securityLabels: ['R'], dataDate: Date.UTC(2026, 10, 2), authorOrg: 'HospitalAMSP', documentClasses: [] };
    const anchor = await new Custodian(hospitalA, store).put({ channel: A, patientId, category: 'Observation', content: fhir, metadata });
    // The app lists it under "My records" with the org that holds it, and the labels HospitalA
    // keeps for it, read with a records.read signed on the device.
    await page.getByRole('button', { name: 'Refresh' }).click();
    const recordCard = page.locator(`li.record[data-record="${anchor.recordId}"]`);
    await recordCard.getByText('Held by HospitalAMSP; version 1').waitFor({ timeout: UI_MS });
    await expect(recordCard.textContent()).resolves.toContain('measurements and test results (Observation)');
    await recordCard.getByText('Labels: restricted (R); data from 2 November 2026').waitFor({ timeout: UI_MS });
    await snap('my-records');

    // 4. The patient grants HospitalB in the app, reading the summary before signing.
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByLabel(/Organisation/).fill('HospitalBMSP');
    await page.getByLabel('Purpose').selectOption('TREAT');
    await page.getByLabel(/or these records/).fill(anchor.recordId);
    await page.getByLabel('For how many days').fill('30');
    // HospitalA registered the patient privately (the enrolment's default), so every consent is kept
    // at HospitalA: no box to untick. HospitalB is on chain-b (from GET /v1/hospital's chains): the
    // consent is shared sealed with chain-b, and the app says who can read it there.
    await expect(page.getByLabel(/Keep this consent private/).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Review' }).click();
    await expect(page.getByTestId('grant-public').count()).resolves.toBe(0);
    await expect(page.getByTestId('grant-keeper').textContent()).resolves.toBe(
      'Kept privately by HospitalAMSP and shared sealed with chain-b (only HospitalBMSP can read it there, fetched from HospitalAMSP): no other member of either chain can read it; it covers only the records HospitalAMSP holds.',
    );
    await expect(page.getByTestId('grant-summary').textContent()).resolves.toMatch(new RegExp(`^HospitalBMSP may read record ${anchor.recordId}, only for your treatment, .* \\(30 days\\)`));
    await snap('grant-summary');
    await page.getByRole('button', { name: 'Sign and share' }).click();
    await page.getByText(/^Shared: consent cs_.* is active, and on its way to chain-b\.$/).waitFor({ timeout: UI_MS });
    const card = page.locator('li.card', { hasText: 'HospitalBMSP' });
    await card.locator('.badge', { hasText: 'Active' }).waitFor({ timeout: UI_MS });
    await card.getByText(/^Kept privately by HospitalAMSP/).waitFor({ timeout: UI_MS });
    const consentId = (await card.getAttribute('data-consent'))!;
    expect(consentId).toMatch(/^cs_[0-9a-f]{64}$/);
    await snap('consent-active');

    // 5. The sealed share crosses (relay): chain-b records only its arrival; HospitalB's own server
    //    fetches the consent from HospitalA's record exchange and delivers it to HospitalB's collection.
    const ccA0 = new Chaincode(hospitalA, A).consent;
    await expect(ccA0.getConsent(consentId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ccA0.listConsentSeals(consentId)).resolves.toMatchObject({ keeper: 'HospitalAMSP', items: [{ destChain: B, type: 'consent.grant' }] });
    const mirrorB = new ConsentService(new Chaincode(clients[0]!, B));
    await waitFor('HospitalB delivered the sealed consent', async () => (await mirrorB.checkRemoteConsent(A, consentId, 'TREAT')).allowed, UI_MS);
    // The app shows it there, from chain-b's acknowledgement of the arrival verified on chain-a.
    await waitFor(
      'the app shows the consent active on chain-b',
      async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return (await card.getByText(/On chain-b: Active \(shared sealed/).count()) > 0;
      },
      UI_MS,
    );
    await snap('consent-on-chain-b');

    // 6. HospitalB's EHR fetches the record through HospitalB's API (mutual TLS with HospitalB's
    //    identity); HospitalB's server asks HospitalA's record exchange and verifies the private
    //    anchor by chain-a's attestation.
    const fetchAsB = () => ehrCall(apiB, hospitalBProfile, `/v1/records/${anchor.recordId}/content?from=HospitalA&purpose=TREAT&consentId=${consentId}`);
    const got = await fetchAsB();
    expect(got.status).toBe(200);
    expect(got.raw.equals(fhir)).toBe(true);
    expect(got.headers['content-type']).toBe('application/fhir+json');
    expect(got.headers).toMatchObject({ 'x-medbridge-custodian': 'HospitalAMSP', 'x-medbridge-record-version': '1', 'x-medbridge-anchor-source': 'attestation', 'x-medbridge-consent-id': consentId });

    // 7. The patient revokes in the app; HospitalA carries the revocation sealed to chain-b, where
    //    HospitalB's server delivers it.
    await page.getByRole('button', { name: 'My consents' }).click();
    await card.getByRole('button', { name: 'Revoke consent for HospitalBMSP' }).click();
    await snap('revoke-confirm');
    await card.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByText(/The revocation is on its way to chain-b\.$/).waitFor({ timeout: UI_MS });
    await card.locator('.badge', { hasText: 'Revoked' }).waitFor({ timeout: UI_MS });
    await snap('consent-revoked');
    await waitFor('chain-b sees the revocation', async () => (await mirrorB.checkRemoteConsent(A, consentId, 'TREAT')).status === 'revoked', UI_MS);
    await expect(ccA0.listConsentSeals(consentId)).resolves.toMatchObject({ items: [{ type: 'consent.grant' }, { destChain: B, type: 'consent.revoke' }] });

    // 8. HospitalB's next fetch is refused.
    const refusal = await fetchAsB();
    expect([refusal.status, refusal.body?.code]).toEqual([403, 'ACCESS_DENIED']);
    expect(refusal.body.message).toMatch(/consent-revoked/);
    expect(refusal.body.txId).toMatch(/^[0-9a-f]{64}$/);

    // 9. The app's timeline shows the access and the refusal, the refusal highlighted.
    await page.getByRole('button', { name: 'Access log' }).click();
    const refused = page.locator('li.event.refused', { hasText: 'HospitalBMSP was refused' });
    await refused.first().waitFor({ timeout: UI_MS });
    await expect(page.locator('li.event.allowed', { hasText: `HospitalBMSP read record ${anchor.recordId}` }).count()).resolves.toBe(1);
    await snap('timeline');
    await expect(notice().textContent()).resolves.toMatch(/entries in your access log/);

    // 9b. The patient shares with HospitalC, privately by default, kept by HospitalA (chaincode/CONSENT.md
    //     "Private consents"): HospitalA's peer decides with it, HospitalC's own peer cannot see it
    //     (NOT_CUSTODIAN), and the revocation in the app goes to HospitalA privately too.
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByLabel(/Organisation/).fill('HospitalCMSP');
    await page.getByLabel('Purpose').selectOption('TREAT');
    await page.getByLabel(/or these records/).fill(anchor.recordId);
    // HospitalC is on chain-a: kept at HospitalA, and carried nowhere.
    await page.getByRole('button', { name: 'Review' }).click();
    await expect(page.getByTestId('grant-keeper').textContent()).resolves.toBe('Kept privately by HospitalAMSP: no other member of the chain can read it; it covers only the records HospitalAMSP holds.');
    await page.getByRole('button', { name: 'Sign and share' }).click();
    await page.getByText(/^Shared: consent cs_/).waitFor({ timeout: UI_MS });
    const kept = page.locator('li.card', { hasText: 'HospitalCMSP' });
    await kept.getByText('Kept privately by HospitalAMSP').waitFor({ timeout: UI_MS });
    await kept.locator('.badge', { hasText: 'Active' }).waitFor({ timeout: UI_MS });
    await snap('consent-private');
    const keptId = (await kept.getAttribute('data-consent'))!;
    await expect(new Chaincode(hospitalA, A).consent.getPrivateConsent(keptId)).resolves.toMatchObject({ grant: { message: { keeper: 'HospitalAMSP' } } });
    await expect(new Chaincode(hospitalA, A).consent.checkAccess('HospitalCMSP', anchor.recordId, 'TREAT')).resolves.toMatchObject({ allowed: true, consentId: keptId });
    await expect(new Chaincode(hospitalA, A).consent.getConsent(keptId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await kept.getByRole('button', { name: 'Revoke consent for HospitalCMSP' }).click();
    await kept.getByRole('button', { name: 'Yes, revoke' }).click();
    await kept.locator('.badge', { hasText: 'Revoked' }).waitFor({ timeout: UI_MS });
    await expect(new Chaincode(hospitalA, A).consent.checkAccess('HospitalCMSP', anchor.recordId, 'TREAT')).resolves.toMatchObject({ allowed: false, reason: 'consent-revoked' });

    // 9c. "Everything except": HospitalC may read the patient's measurements, except records
    //     labelled psychiatry. The app signs it as a consent v2 (deny; permit HospitalC; deny PSY),
    //     kept by HospitalA, which decides on the labels it keeps privately.
    const psy = await new Custodian(hospitalA, store).put({
      channel: A,
      patientId,
      category: 'Observation',
      content: Buffer.from(JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'PHQ-9 score' }, valueInteger: 7, run })),
      metadata: { securityLabels: ['PSY'], dataDate: Date.UTC(2026, 10, 3), authorOrg: 'HospitalAMSP', documentClasses: [] },
    });
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByLabel(/Organisation/).fill('HospitalCMSP');
    await page.getByLabel('Purpose').selectOption('TREAT');
    await page.getByLabel('measurements and test results').check();
    await page.getByLabel('psychiatry (PSY)', { exact: true }).check();
    await page.getByRole('button', { name: 'Review' }).click();
    await expect(page.getByTestId('grant-summary').textContent()).resolves.toMatch(/^HospitalCMSP may read your measurements and test results \(Observation\), only for your treatment, .* Records labelled psychiatry \(PSY\) stay closed to them, even those named above\.$/);
    await page.getByRole('button', { name: 'Sign and share' }).click();
    await page.getByText(/^Shared: consent cs_/).waitFor({ timeout: UI_MS });
    const except = page.locator('li.card', { hasText: 'except records labelled psychiatry (PSY)' });
    await except.locator('.badge', { hasText: 'Active' }).waitFor({ timeout: UI_MS });
    await expect(except.textContent()).resolves.toContain('Nobody may read your records from');
    await expect(except.textContent()).resolves.toContain('Kept privately by HospitalAMSP');
    await snap('consent-except');
    const exceptId = (await except.getAttribute('data-consent'))!;
    const ccA = new Chaincode(hospitalA, A).consent;
    await expect(ccA.checkAccess('HospitalCMSP', anchor.recordId, 'TREAT')).resolves.toMatchObject({ allowed: true, consentId: exceptId, provisionPath: [0] });
    await expect(ccA.checkAccess('HospitalCMSP', psy.recordId, 'TREAT')).resolves.toMatchObject({ allowed: false, reason: 'consent-denied', consentId: exceptId, provisionPath: [0, 0] });
    await expect(ccA.checkAccess('HospitalCMSP', anchor.recordId, 'HRESCH')).resolves.toMatchObject({ allowed: false });

    // 9d. A FHIR Consent file, read in the browser with the protocol module: HL7's notThis is
    //     refused with its element path and nothing is signed; a file that lets HospitalC use the
    //     patient's records for research, except psychiatry, is shown in words, kept by HospitalA
    //     by default, and decides on HospitalA's peer.
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByLabel('FHIR Consent file').setInputFiles(join(__dirname, '../fixtures/fhir-consent-examples/r5/consent-example-notThis.json'));
    await page.getByText(/^FHIR_ELEMENT_UNSUPPORTED: .*Consent\.provision\[0\]\.data\[0\]\.meaning/).waitFor({ timeout: UI_MS });
    await expect(page.getByTestId('fhir-summary').count()).resolves.toBe(0);
    const research = parseConsentPolicy(
      { format: CONSENT_POLICY_FORMAT, decision: 'deny', provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalCMSP' }], actions: ['access'], purposes: ['HRESCH'], provisions: [{ securityLabels: ['PSY'] }] }] },
      { order: 'normalize' },
    );
    const fhirFile = join(mkdtempSync(join(tmpdir(), 'medbridge-e2e-fhir-')), 'research-consent.json');
    writeFileSync(fhirFile, JSON.stringify({ ...exportFhirConsent(research), id: `research-${run}` }));
    await page.getByLabel('FHIR Consent file').setInputFiles(fhirFile);
    await expect(page.getByTestId('fhir-summary').textContent()).resolves.toMatch(/^Nobody may read your records from .+ until .+; but HospitalCMSP may read your records, for research, except records labelled psychiatry \(PSY\)\.$/);
    await expect(page.getByTestId('fhir-period').textContent()).resolves.toBe('The file gives no start date: it starts now; and no end date: it ends after the 30 days you chose.');
    await expect(page.getByTestId('fhir-not-carried').textContent()).resolves.toContain('Consent.id');
    await expect(page.getByTestId('grant-keeper').textContent()).resolves.toMatch(/^Kept privately by HospitalAMSP: no other member of the chain can read it/);
    await snap('consent-fhir-file');
    await page.getByRole('button', { name: 'Sign and share' }).click();
    await page.getByText(/^Shared: consent cs_/).waitFor({ timeout: UI_MS });
    const fromFile = page.locator('li.card', { hasText: 'for research, except records labelled psychiatry (PSY)' });
    await fromFile.locator('.badge', { hasText: 'Active' }).waitFor({ timeout: UI_MS });
    const fileId = (await fromFile.getAttribute('data-consent'))!;
    await expect(ccA.getPrivateConsent(fileId)).resolves.toMatchObject({ grant: { message: { keeper: 'HospitalAMSP' } } });
    await expect(ccA.checkAccess('HospitalCMSP', anchor.recordId, 'HRESCH')).resolves.toMatchObject({ allowed: true, consentId: fileId, provisionPath: [0] });
    await expect(ccA.checkAccess('HospitalCMSP', psy.recordId, 'HRESCH')).resolves.toMatchObject({ allowed: false, reason: 'consent-denied', consentId: fileId, provisionPath: [0, 0] });
    // And back out: the patient saves it as a FHIR R5 Consent (valid by the official R5 schema), naming
    // its keeper as controller, which imports back to the policy HospitalA keeps.
    await fromFile.getByRole('button', { name: 'FHIR file of the consent for HospitalCMSP' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), fromFile.getByRole('link', { name: 'Download as FHIR R5 Consent' }).click()]);
    expect(download.suggestedFilename()).toBe(`consent-${fileId.slice(3, 15)}.fhir.json`);
    const saved = JSON.parse(readFileSync(await download.path(), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ resourceType: 'Consent', status: 'active', decision: 'deny', controller: [{ reference: 'Organization/HospitalAMSP' }] });
    expect(validateFhirResource(saved)).toEqual({ valid: true, errors: [] });
    const keptFromFile = await ccA.getPrivateConsent(fileId);
    expect(importFhirConsent(saved).policy).toEqual((keptFromFile as unknown as { policy: unknown }).policy);

    // 10. The patient replaces the key: same patient id, the consents still read with the new key.
    await page.getByRole('button', { name: 'Backup', exact: true }).click();
    await page.getByLabel(/Passphrase for the new backup/).fill('a new passphrase for the new key');
    await page.getByLabel('New passphrase again').fill('a new passphrase for the new key');
    await page.getByRole('button', { name: 'Replace my key' }).click();
    await page.getByText(/^Your key was replaced/).waitFor({ timeout: UI_MS });
    await snap('key-replaced');
    await page.getByRole('button', { name: 'My consents' }).click();
    await card.locator('.badge', { hasText: 'Revoked' }).waitFor({ timeout: UI_MS });
    await expect(new Chaincode(hospitalA, A).consent.getPatient(patientId)).resolves.toMatchObject({ patientId });

    // 11. The same person enrolled at HospitalB with another key (another id on chain-b; its
    //     backup made by HospitalB's app, here in the app's file format). In this app the patient
    //     signs a link of the two ids for HospitalB: this browser's key and the other key, opened
    //     from its backup for the one signature. HospitalB checks it against chain-b.
    const otherPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherPublicKey = otherPair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const otherId = patientIdOf(otherPublicKey);
    const hospitalBChain = new Chaincode(clients[0]!, B);
    await hospitalBChain.consent.registerPatient(otherPublicKey);
    const otherPass = 'the passphrase of my chain-b key';
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', pbkdf2Sync(otherPass, salt, 600_000, 32, 'sha256'), iv);
    cipher.setAAD(Buffer.from(otherId));
    const pkcs8 = otherPair.privateKey.export({ type: 'pkcs8', format: 'der' });
    const ciphertext = Buffer.concat([cipher.update(pkcs8), cipher.final(), cipher.getAuthTag()]);
    const backupFile = join(mkdtempSync(join(tmpdir(), 'medbridge-e2e-link-')), 'chain-b-key-backup.json');
    writeFileSync(
      backupFile,
      JSON.stringify({
        format: 'medbridge/key-backup/v1',
        patientId: otherId,
        publicKey: otherPublicKey,
        kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: 600_000, salt: salt.toString('base64') },
        cipher: { name: 'AES-GCM', iv: iv.toString('base64') },
        ciphertext: ciphertext.toString('base64'),
        createdAt: Date.now(),
      }),
      { mode: 0o600 },
    );
    await page.getByRole('button', { name: 'My other ids' }).click();
    await page.getByLabel('Backup file of your other id').setInputFiles(backupFile);
    // A wrong passphrase opens nothing and signs nothing.
    await page.getByLabel('Its passphrase').fill('not the passphrase of that key');
    await page.getByLabel('Chain of that id').fill(B);
    await page.getByLabel(/Only for this organisation/).fill('HospitalBMSP');
    await page.getByLabel(/Valid for days/).fill('7');
    await page.getByRole('button', { name: 'Sign the link' }).click();
    await page.getByText('the passphrase does not open this backup').waitFor({ timeout: UI_MS });
    await expect(page.getByTestId('link-json').count()).resolves.toBe(0);
    await page.getByLabel('Its passphrase').fill(otherPass);
    await page.getByRole('button', { name: 'Sign the link' }).click();
    await page.getByText(/^Link made: your ids on chain-a and chain-b, valid 7 days for HospitalBMSP/).waitFor({ timeout: UI_MS });
    await snap('pseudonym-link');
    const signedLink = JSON.parse((await page.getByTestId('link-json').textContent())!) as unknown;
    const verdict = await new PseudonymLinkVerifier('HospitalBMSP', (chainId) => (chainId === B ? hospitalBChain : undefined)).verify(signedLink, Date.now());
    expect(verdict.pseudonyms).toEqual([
      { chainId: A, patientId, ledger: 'not-checked' },
      { chainId: B, patientId: otherId, ledger: 'current-key' },
    ]);
    // The chain-a id signed with the key this browser holds now (the replaced one), its current key there.
    const nowOnA = await new Chaincode(hospitalA, A).consent.getPatient(patientId);
    expect(verdict.link.pseudonyms[0]!.publicKey).toBe(nowOnA.publicKey);
    // Bound to HospitalB: another org's verifier refuses it.
    await expect(new PseudonymLinkVerifier('HospitalCMSP', () => undefined).verify(signedLink, Date.now())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
