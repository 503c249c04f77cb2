/**
 * `make demo`: the medbridge story on the embedded network, each step printed with its
 * duration; exits non-zero as soon as a step does not behave as told.
 *
 *   patient P registers at HospitalA (chain-a) and HospitalA anchors a FHIR record;
 *   P grants HospitalB read access for treatment for 30 days, kept privately by HospitalA; the
 *   grant crosses to chain-b sealed (a packet with its digest and proof; HospitalB fetches the
 *   sealed consent from HospitalA's exchange and keeps it privately); HospitalB fetches the
 *   record from HospitalA and verifies it; P revokes; the revocation crosses the same way;
 *   HospitalB's next fetch is refused; P reads the access log that shows both the access and
 *   the refusal.
 *
 * The relays and HospitalA's record exchange run as real `medbridge` processes, started
 * here and stopped at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { config, gatewayDataDir } from '../config';
import { ClientError, toClientError } from '../errors';
import { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { loadProfile } from '../fabric/profile';
import { Custodian } from '../records/custodian';
import { readTrustedChains } from '../records/anchor-attestation';
import { readEndpoint, storeFileOf } from '../records/endpoints';
import { tlsIdentityOf, trustedOrgs } from '../records/org-tls';
import { RecordFetcher } from '../records/record-fetcher';
import { fetchRecord, type FetchedRecord } from '../records/requester';
import { SealedConsentReceiver } from '../records/sealed-receiver';
import { RecordStore } from '../records/store';
import { ConsentService } from '../services/consent-service';
import { CrossChainAdmin } from '../services/crosschain-admin';
import { IncentiveService, SettlementWatcher, ValueGovernance, type Escrow } from '../services/incentive-service';
import { generatePatientKey, saveNewKey } from '../services/patient-keys';
import { ReceiptWatcher } from '../services/receipt-watcher';
import { startService, type Service } from './processes';

const ROUTE = 'consent-a-b';
const A = 'chain-a';
const B = 'chain-b';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

class StoryFailed extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StoryFailed(message);
}

let stepNo = 0;
async function step<T>(title: string, run: () => Promise<T>, describe: (r: T) => string | string[]): Promise<T> {
  stepNo += 1;
  const started = Date.now();
  process.stdout.write(`${bold(`${String(stepNo).padStart(2)}. ${title}`)}\n`);
  try {
    const r = await run();
    const ms = Date.now() - started;
    const lines = describe(r);
    for (const l of Array.isArray(lines) ? lines : [lines]) process.stdout.write(`      ${l}\n`);
    process.stdout.write(`      ok (${ms} ms)\n`);
    return r;
  } catch (e) {
    const ms = Date.now() - started;
    const why = e instanceof StoryFailed ? e.message : `${toClientError(e).code}: ${toClientError(e).message}`;
    process.stdout.write(`      FAILED after ${ms} ms: ${why}\n`);
    throw e;
  }
}

async function main(): Promise<number> {
  const cfg = config();
  const services: Service[] = [];
  const clients: FabricClient[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'medbridge-demo-'));
  // The same state folder the `records serve` it starts uses: the one of HospitalA's network.
  const dataDir = gatewayDataDir(cfg, loadProfile('HospitalA').network);
  const logDir = join(dataDir, 'demo-logs');
  const open = (org: string) => {
    const c = FabricClient.open(org);
    clients.push(c);
    return c;
  };
  const admin = new CrossChainAdmin();
  let watcher: ReceiptWatcher | undefined;
  let settlements: SettlementWatcher | undefined;
  const valueGov = new ValueGovernance(A);
  let store: RecordStore | undefined;
  const started = Date.now();
  try {
    const hospitalA = open('HospitalA');
    const hospitalB = open('HospitalB');
    const consentA = new ConsentService(new Chaincode(hospitalA, A));
    const mirrorB = new ConsentService(new Chaincode(hospitalB, B));

    await step('cross-chain route chain-a <-> chain-b (node lists, mutual trust, route; each by its own governance)', () => admin.ensureRoute(A, B, ROUTE, ['consent.grant', 'consent.revoke', 'consent.sealed', 'ping']), (r) =>
      r.steps.length === 0 ? 'already in place' : r.steps,
    );

    await step('relays start (chain-a -> chain-b and back) and HospitalA serves its records over mutual TLS', async () => {
      const relay = await startService('relay', ['relay', 'start', '--from', A, '--to', B, '--both', '--port', '0', '--routes', ROUTE], join(logDir, 'relay.log'));
      services.push(relay);
      const records = await startService('records', ['records', 'serve', '--org', 'HospitalA'], join(logDir, 'records-hospitala.log'));
      services.push(records);
      return { relay: relay.status, records: records.status };
    }, (r) => [`relay metrics ${String(r.relay.metrics)}`, `HospitalA record exchange ${String(r.records.url)}`]);

    watcher = new ReceiptWatcher(new Chaincode(hospitalB, B));
    await watcher.start();
    settlements = new SettlementWatcher(new Chaincode(hospitalA, A));
    await settlements.start();

    // Value transfer (chaincode/INCENTIVES.md): the sender's fee is escrowed on chain-a and
    // split, when the acknowledgement returns, between chain-a's staked signers of the proof
    // and the relayer's org.
    const valueA = new IncentiveService(new Chaincode(hospitalA, A));
    const setup = await step('value transfer on chain-a: orgs funded, every verification node staked, safe parameters (each by every member admin)', () => valueGov.ensureValueTransfer(), (r) => [
      ...(r.steps.length === 0 ? ['already in place'] : r.steps),
      `fee per packet ${r.params.minFee}: ${r.params.signerShareBps / 100} % to the staked signers, the rest to the relayer's org`,
    ]);
    const watched = [`org:${hospitalA.mspId}`, ...valueGov.members.flatMap((p) => p.peers.map((x) => `node:${x.name}`)), ...valueGov.members.filter((p) => p.mspId !== hospitalA.mspId).map((p) => `org:${p.mspId}`), 'treasury'];
    const balances = async (): Promise<Map<string, number>> => new Map(await Promise.all(watched.map(async (id) => [id, (await valueA.balance(id)).balance] as const)));
    const before = await step('balances on chain-a before the share (sender org, signer nodes, relayer org, treasury)', balances, (m) => [...m].map(([id, b]) => `${id.padEnd(44)} ${b}`));

    const patient = await step('patient P creates a key on their own device and registers at HospitalA, privately (no other member of chain-a reads who P is)', async () => {
      const key = generatePatientKey();
      const file = saveNewKey(key, { dir: workDir });
      const res = await consentA.registerPatient(key, { privately: true });
      return { key, file, txId: res.txId };
    }, (r) => [`patientId ${r.key.patientId}`, `key file ${r.file} (0600)`, `tx ${r.txId}`]);

    store = new RecordStore(storeFileOf(dataDir, hospitalA.mspId));
    const fhir = Buffer.from(
      JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'Blood pressure' }, valueQuantity: { value: 120, unit: 'mmHg' } }),
    );
    // Its consent metadata (confidentiality N, LOINC blood pressure panel, when it was measured) stays private to HospitalA.
    const metadata = { securityLabels: ['N'], dataDate: Date.UTC(2026, 10, 30, 8, 17, 23), authorOrg: hospitalA.mspId, documentClasses: [{ system: 'http://loinc.org', code: '85354-9' }] };
    const anchor = await step('HospitalA stores P\'s FHIR Observation off chain and anchors its salted SHA-256 on chain-a, privately: the anchor and its labels are in HospitalA\'s collection, chain-a holds their hashes', () =>
      new Custodian(hospitalA, store as RecordStore).put({ channel: A, patientId: patient.key.patientId, category: 'Observation', content: fhir, metadata, privately: true }),
    (r) => [`record ${r.recordId} v${r.version}`, `anchor ${r.hash}`, `tx ${r.txId}`]);

    const grant = await step('P signs a consent, kept privately by HospitalA: HospitalB may read this record for treatment (TREAT) for 30 days', () =>
      consentA.grant(patient.key, patient.key.patientId, { grantee: hospitalB.mspId, recordIds: [anchor.recordId], purposes: ['TREAT'], days: 30 }, hospitalA.mspId),
    (r) => [`consent ${r.consentId} kept by ${hospitalA.mspId}`, `tx ${r.txId}`]);

    // HospitalB's side of a sealed share: it asks HospitalA's record exchange for what arrived, and delivers it to its own collection.
    const receiverB = new SealedConsentReceiver(new Chaincode(hospitalB, B), new RecordFetcher(hospitalB, { exchangeUrl: (p) => readEndpoint(dataDir, p.mspId)?.url }));
    const crossSealed = async (type: 'consent.grant' | 'consent.revoke') => {
      const sent = await consentA.shareSealed(grant.consentId, B, ROUTE);
      expect(sent.sealed.result.type === type, `HospitalA sealed a ${sent.sealed.result.type}, not a ${type}`);
      const arrival = await watcher!.waitFor(sent.sent.result.routeId, sent.sent.result.sequence);
      expect(arrival.outcome === 'success', `chain-b answered the sealed packet with ${arrival.outcome}`);
      const outcomes = await receiverB.receivePending(A);
      const mine = outcomes.find((o) => o.digest === sent.sealed.result.digest);
      expect(mine?.outcome === 'delivered', `HospitalB did not deliver the sealed consent: ${JSON.stringify(mine ?? outcomes)}`);
      return { sent, arrival, delivered: mine as Extract<typeof mine, { outcome: 'delivered' }> };
    };

    const grantShare = await step('the grant crosses from chain-a to chain-b sealed: HospitalA seals it privately, a packet carries only its digest (relay), HospitalB gets it from HospitalA\'s exchange and keeps it privately', async () => {
      const crossed = await crossSealed('consent.grant');
      const check = await mirrorB.checkRemoteConsent(A, grant.consentId, 'TREAT');
      expect(check.allowed, `chain-b does not see the consent as usable: ${check.reason}`);
      return { ...crossed, check };
    }, (r) => [
      `sealed ${r.sent.sealed.result.digest.slice(0, 16)}… in tx ${r.sent.sealed.txId} (private to HospitalA); packet ${r.sent.sent.result.routeId}/${r.sent.sent.result.sequence}, arrived on chain-b in tx ${r.arrival.txId} (${r.arrival.signers.length} signers of chain-a in the proof)`,
      `HospitalB delivered it privately in tx ${r.delivered.txId}; chain-b: consent ${r.check.status}, usable for TREAT`,
    ]);

    await step('the grant\'s acknowledgement returns to chain-a: the fee is split; balances after the share', async () => {
      const { routeId, sequence } = grantShare.sent.sent.result;
      await settlements!.waitFor(routeId, sequence);
      const escrow = await valueA.escrow(routeId, sequence);
      expect(escrow?.status === 'paid', `the grant's fee escrow is ${escrow?.status ?? 'missing'}, not paid`);
      const payouts = escrow.payouts ?? [];
      expect(payouts.reduce((s, p) => s + p.amount, 0) === escrow.amount, 'the payouts do not add up to the fee');
      expect(escrow.amount === setup.params.minFee, `the fee held was ${escrow.amount}, not ${setup.params.minFee}`);
      const after = await balances();
      return { escrow, after };
    }, (r: { escrow: Escrow; after: Map<string, number> }) => [
      `fee ${r.escrow.amount} paid: ${(r.escrow.payouts ?? []).map((p) => `${p.account} +${p.amount}`).join(', ')}`,
      ...[...r.after].map(([id, b]) => {
        const d = b - (before.get(id) ?? 0);
        return `${id.padEnd(44)} ${String(before.get(id) ?? 0).padStart(12)} -> ${String(b).padStart(12)}  ${d === 0 ? '' : d > 0 ? `+${d}` : String(d)}`;
      }),
    ]);

    const requester = loadProfile('HospitalB');
    const custodianProfile = loadProfile('HospitalA');
    const custodianTrust = trustedOrgs([custodianProfile])[0];
    expect(custodianTrust, 'HospitalA profile has no TLS section');
    const endpoint = readEndpoint(dataDir, custodianProfile.mspId);
    expect(endpoint, 'HospitalA record exchange did not publish its endpoint');
    // HospitalB cannot read chain-a: it checks the anchor through chain-a's verification nodes'
    // attestation, against chain-a's list as registered on its own chain-b.
    const trustedChains = await readTrustedChains(hospitalB, requester.channels, [A]);
    expect(trustedChains.length === 1, 'chain-b has not registered chain-a');
    const fetch = (): Promise<FetchedRecord> =>
      fetchRecord({
        url: endpoint.url,
        custodian: custodianTrust,
        identity: tlsIdentityOf(requester),
        trustedChains,
        request: { recordId: anchor.recordId, purpose: 'TREAT', consentId: grant.consentId },
      });

    await step('HospitalB fetches the record from HospitalA (mutual TLS); HospitalA checks consent and logs on chain; HospitalB verifies the hash', async () => {
      const got = await fetch();
      expect(got.content.equals(fhir), 'the fetched bytes differ from the record');
      expect(got.hash === anchor.hash, 'the fetched record does not hash to the anchor');
      expect(got.anchorSource === 'attestation', `the anchor was checked against ${got.anchorSource}, not chain-a's attestation`);
      return got;
    }, (r) => [`received ${r.content.length} bytes, salted hash ${r.hash} = anchor (checked against: ${r.anchorSource})`, `allowed by ${r.reason} ${r.consentId ?? ''}; access logged in tx ${r.txId}`]);

    await step('P revokes the consent (signed with P\'s key) at HospitalA, which keeps it; effective on chain-a at once', async () => {
      const res = await consentA.revoke(patient.key, patient.key.patientId, grant.consentId, hospitalA.mspId);
      const check = await consentA.checkAccess(hospitalB.mspId, anchor.recordId, 'TREAT');
      expect(!check.allowed, 'chain-a still allows HospitalB after the revocation');
      return res;
    }, (r) => `tx ${r.txId}`);

    await step('the revocation crosses from chain-a to chain-b sealed, as the grant did', async () => {
      const crossed = await crossSealed('consent.revoke');
      const check = await mirrorB.checkRemoteConsent(A, grant.consentId, 'TREAT');
      expect(!check.allowed && check.status === 'revoked', `chain-b still sees the consent as ${check.status}`);
      return { ...crossed, check };
    }, (r) => [`packet ${r.sent.sent.result.routeId}/${r.sent.sent.result.sequence} arrived on chain-b in tx ${r.arrival.txId}; HospitalB delivered it in tx ${r.delivered.txId}`, `chain-b: consent ${r.check.status}`]);

    await step('HospitalB asks again: refused, and the refusal is logged on chain', async () => {
      try {
        await fetch();
      } catch (e) {
        const err = toClientError(e);
        expect(err.code === 'ACCESS_DENIED', `expected ACCESS_DENIED, got ${err.code}: ${err.message}`);
        return err;
      }
      throw new StoryFailed('HospitalB received the record after the revocation');
    }, (e: ClientError) => [`${e.code}: ${e.message}`]);

    await step('P keeps a second consent private at HospitalA: HospitalB may read this record for research (HRESCH); only HospitalA holds it and decides on it', async () => {
      const kept = await consentA.grant(patient.key, patient.key.patientId, { grantee: hospitalB.mspId, recordIds: [anchor.recordId], purposes: ['HRESCH'], days: 30 }, hospitalA.mspId);
      const check = await consentA.checkAccess(hospitalB.mspId, anchor.recordId, 'HRESCH');
      expect(check.allowed && check.consentId === kept.consentId, `HospitalA does not decide with the private consent: ${check.reason}`);
      return { kept, check };
    }, (r) => [`private consent ${r.kept.consentId} kept by ${hospitalA.mspId}, tx ${r.kept.txId}`, `HospitalA decides for HRESCH: allowed by ${r.check.consentId ?? ''}`]);

    await step('P reads their access log with their own signature', async () => {
      const entries = await consentA.accessLog(patient.key.patientId, patient.key);
      const mine = entries.filter((e) => e.kind === 'access' && e.recordId === anchor.recordId && e.requester === hospitalB.mspId);
      expect(mine.some((e) => e.allowed), 'the log does not show the granted access');
      expect(mine.some((e) => !e.allowed), 'the log does not show the refusal');
      return mine;
    }, (rows) => rows.map((e) => `${new Date(e.time).toISOString()}  ${e.requester}  ${e.allowed ? 'ALLOWED' : 'REFUSED'}  (${e.reason})  tx ${e.txId.slice(0, 16)}…`));

    process.stdout.write(`\n${bold('demo complete')}: every step behaved as told (${((Date.now() - started) / 1000).toFixed(1)} s). Logs of the services: ${logDir}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof StoryFailed)) {
      const err = toClientError(e);
      if (err.hint) process.stdout.write(`      next: ${err.hint}\n`);
    }
    process.stdout.write(`\ndemo FAILED. Logs of the services: ${logDir}\n`);
    return 1;
  } finally {
    await watcher?.close();
    await settlements?.close();
    valueGov.close();
    store?.close();
    for (const s of services.reverse()) await s.stop();
    admin.close();
    for (const c of clients) c.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

void main().then((code) => {
  process.exitCode = code;
});
