/**
 * The hospital gateway API (`medbridge serve`, gateway/API.md) on the real network: HospitalA's
 * and HospitalC's servers on chain-a, called as their EHR systems (mutual TLS with the org's
 * Fabric identities) and as a patient's device (requests signed with the patient's key, which
 * only the test holds, as an offline device would).
 *
 *  - register a patient from its public key, anchor a record, submit a grant signed on the
 *    device, check access, list the records the consent covers as its grantee, read the log
 *    as the patient and as the custodian, open break-glass as a clinician;
 *  - the event stream delivers ConsentGranted;
 *  - refusals keep the ledger as it was and carry exact codes: bad signature, replayed
 *    request, wrong org certificate, malformed body, no credentials, oversized body;
 *  - OpenAPI 3.1 document, reference page, liveness, readiness, metrics; shutdown finishes a
 *    request in flight;
 *  - a key rotation through the API keeps the patient id and consents, refuses the old key, lets
 *    the new key revoke, and chain-b follows it: the revocation signed by the new key is carried
 *    there with the rotation, and ?allChains=true shows the mirror's state from the acks;
 *  - a patient registered the default way is private: HospitalC's server finds neither them nor
 *    their record; a consent kept at HospitalA goes to chain-b sealed when the patient's device asks
 *    (POST /v1/consents/{id}/shares), and its revocation follows by itself;
 *  - every endpoint refuses a bad signature, a replayed or expired request, another org's
 *    certificate, a malformed and an oversized body with its exact status and code, never a 5xx.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import {
  buildAccessLogRead,
  buildConsentGrant,
  buildConsentRevocation,
  buildKeyRotation,
  consentIdOf,
  exportPublicKey,
  keyIdOf,
  patientIdOf,
  recordHash,
  signKeyRotation,
  signPatientMessage,
  type PacketType,
  type VerificationNodeList,
} from '@medbridge/chaincode';
import { parseServeConfig } from '../../gateway/src/api/config';
import { signRequest } from '../../gateway/src/api/request-signing';
import { startApi, type RunningApi } from '../../gateway/src/api/serve';
import { loadProfile, type Profile } from '../../gateway/src/fabric/profile';
import { silentLogger } from '../../gateway/src/logger';
import { readFileSync } from 'node:fs';
import { Connections, firstPem, govern, nodeListOf, remoteChainOf, trustOf, type Chain } from './support/chain-ops';
import { issuedClientProfile } from './support/identities';
import { waitFor } from './support/polling';
import { deliver } from './support/proofs';

const CHANNEL = 'chain-a';
const WAIT_MS = 60_000;

interface Tls {
  cert: string;
  key: string;
}

interface Reply {
  status: number;
  body: any;
  text: string;
}

interface Call {
  method?: string;
  body?: unknown;
  /** Raw body text, sent as it is. */
  raw?: string;
  as?: Tls;
  headers?: Record<string, string>;
}

/** The peer's TLS certificate and key serve the API in the test (SAN localhost, the org's TLS CA). */
function serverTls(p: Profile): Tls & { ca: string } {
  const dir = dirname(p.peers[0]!.tlsRootCert);
  return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: readFileSync(p.peers[0]!.tlsRootCert, 'utf8') };
}

function userTls(p: Profile): Tls {
  return { cert: readFileSync(p.identities.user.certificate, 'utf8'), key: readFileSync(p.identities.user.privateKey, 'utf8') };
}

class Client {
  constructor(
    readonly api: RunningApi,
    private readonly ca: string,
  ) {}

  call(path: string, c: Call = {}): Promise<Reply> {
    const url = new URL(path, this.api.url);
    const payload = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method: c.method ?? (payload === undefined ? 'GET' : 'POST'),
          ca: this.ca,
          servername: 'localhost',
          ...(c.as ? { cert: c.as.cert, key: c.as.key } : {}),
          headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...c.headers },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body, text });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A request signed by the patient's key (headers from signRequest over exactly these bytes). */
  signed(path: string, key: KeyObject, c: Call & { nonce?: string; timestamp?: number } = {}): Promise<Reply> {
    const raw = c.raw ?? (c.body === undefined ? '' : JSON.stringify(c.body));
    const method = c.method ?? (raw === '' ? 'GET' : 'POST');
    const headers = signRequest({ method, path, body: raw }, key, { timestamp: c.timestamp ?? Date.now(), nonce: c.nonce ?? nonce() });
    return this.call(path, { ...c, method, ...(raw === '' ? {} : { raw }), headers: { ...headers, ...c.headers } });
  }

  /** Opens the event stream; resolves once the server has answered with its first line. */
  events(as: Tls, query = ''): Promise<{ events: Array<{ event: string; data: any }>; close: () => void }> {
    return new Promise((resolve, reject) => {
      const events: Array<{ event: string; data: any }> = [];
      let buffer = '';
      const req = httpsRequest(new URL(`/v1/events${query}`, this.api.url), { ca: this.ca, servername: 'localhost', cert: as.cert, key: as.key, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`event stream answered ${res.statusCode}`));
        res.setEncoding('utf8');
        let opened = false;
        res.on('data', (d: string) => {
          buffer += d;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
          if (!opened) {
            opened = true;
            resolve({ events, close: () => req.destroy() });
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (e) => (events.length === 0 ? reject(e) : undefined));
      req.end();
    });
  }
}

const nonce = () => randomBytes(18).toString('base64url');

/**
 * A clinician of the org (Fabric CA attribute medbridge.role=clinician, OU=client) issued now by
 * the org's own CA (support/identities.ts), and a copy of the org's profile whose user identity
 * it is. Its authority key identifier is the CA's own subject key identifier, which TLS stacks
 * (OpenSSL) match the issuer by.
 */
async function clinicianOf(p: Profile, cn: string): Promise<{ tls: Tls; profileFile: string }> {
  const { issued, file } = await issuedClientProfile(p, cn, { 'medbridge.role': 'clinician' });
  return { tls: { cert: issued.certPem, key: issued.keyPem }, profileFile: file };
}

function newPatient() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKey = exportPublicKey(privateKey);
  return { privateKey, publicKey, patientId: patientIdOf(publicKey), keyId: keyIdOf(publicKey) };
}

/** The verification node list of a chain: its member orgs' first two peers. */
function listFor(chain: Chain, epoch: number): VerificationNodeList {
  return {
    chainId: chain.channel,
    epoch,
    rule: { kind: 'all' },
    subgroups: chain.orgs.map((p) => ({
      id: `sg-${p.mspId}`,
      mspId: p.mspId,
      threshold: 1,
      nodes: [0, 1].map((i) => ({ nodeId: p.peers[i]!.name, mspId: p.mspId, certPem: firstPem(join(dirname(dirname(p.peers[i]!.tlsRootCert)), 'msp', 'signcerts')) })),
    })),
  };
}

/** chain-a and chain-b trust each other (lists set and registered if not yet) and `routeId` carries consents both ways. */
async function consentRoute(a: Chain, b: Chain, routeId: string, packetTypes: PacketType[] = ['consent.grant', 'consent.revoke']): Promise<void> {
  for (const c of [a, b]) if (((await nodeListOf(c))?.epoch ?? 0) === 0) await govern(c, { kind: 'set-node-list', list: listFor(c, 1) });
  for (const [on, remote] of [[b, a], [a, b]] as const) {
    const { list } = await remote.cc.crossChain.getNodeList();
    if (((await remoteChainOf(on, remote.channel))?.epoch ?? 0) < list.epoch) {
      await govern(on, { kind: 'register-remote', chainId: remote.channel, orgs: trustOf(remote), nodeList: list, schemes: ['fabric-endorsement'] });
    }
  }
  for (const [c, counterparty] of [[a, 'chain-b'], [b, 'chain-a']] as const) {
    await govern(c, { kind: 'open-route', routeId, counterparty, packetTypes, rateLimit: { maxPackets: 100, windowMs: 60_000 } });
  }
}

async function serve(org: Profile, extra: Record<string, unknown> = {}): Promise<{ api: RunningApi; client: Client }> {
  const tls = serverTls(org);
  const cfg = parseServeConfig({ org: org.org, channel: CHANNEL, listen: { host: '127.0.0.1', port: 0 }, tls: { cert: tls.cert, key: tls.key }, logLevel: 'silent', ...extra }, '/');
  const api = await startApi(cfg, silentLogger);
  return { api, client: new Client(api, tls.ca) };
}

describe('hospital gateway API', () => {
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const hospitalA = loadProfile('HospitalA');
  const hospitalC = loadProfile('HospitalC');
  const ehrA = userTls(hospitalA);
  const ehrC = userTls(hospitalC);
  const alice = newPatient();
  const mallory = newPatient();
  const recordId = `api-${run}-obs1`;
  let a: { api: RunningApi; client: Client };
  let c: { api: RunningApi; client: Client };
  let chainId: string;
  let clinician: Tls;
  let consentId: string;

  const consentsOf = async (patientId: string) => (await a.client.call(`/v1/patients/${patientId}/consents`, { as: ehrA })).body.items as Array<{ consentId: string }>;

  beforeAll(async () => {
    // A clinician of HospitalA issued now by its own CA: the server submits break-glass with it.
    const dr = await clinicianOf(hospitalA, `dr-api-${run}`);
    clinician = dr.tls;
    a = await serve(hospitalA, { clinicianProfile: dr.profileFile });
    c = await serve(hospitalC);
    const status = await a.client.call('/v1/crosschain/status', { as: ehrA });
    expect(status.status).toBe(200);
    chainId = status.body.chainId as string;
  });

  afterAll(async () => {
    await a?.api.close();
    await c?.api.close();
  });

  it('publishes its OpenAPI 3.1 document and the reference page generated from it', async () => {
    const doc = await a.client.call('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/patients', '/v1/consents', '/v1/access', '/v1/events', '/v1/emergencies', '/readyz']));
    expect(doc.body.components.securitySchemes.hospitalTls.type).toBe('mutualTLS');
    const page = await a.client.call('/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/swagger-ui/i);
  });

  it('answers liveness, readiness (the peer answers) and Prometheus metrics', async () => {
    expect((await a.client.call('/healthz')).body).toEqual({ status: 'ok' });
    expect((await a.client.call('/readyz')).body).toEqual({ status: 'ready', channel: CHANNEL });
    const metrics = await a.client.call('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/medbridge_api_request_duration_seconds_count\{method="GET",route="\/readyz",status="2xx"\}/);
  });

  it('registers a patient from the public key alone, the device proving the key by signing the request', async () => {
    // Publicly, as asked: the tests below read Alice's public consents, records and log (a patient
    // registered the default way, privately, is the test "keeps a patient private by default").
    const res = await a.client.signed('/v1/patients', alice.privateKey, { body: { publicKey: alice.publicKey, publicly: true } });
    expect(res.status).toBe(201);
    expect(res.body.result).toMatchObject({ patientId: alice.patientId, publicKey: alice.publicKey, registeredBy: ['HospitalAMSP'] });
    // The hospital enrols another patient with its own certificate.
    const byHospital = await a.client.call('/v1/patients', { body: { publicKey: mallory.publicKey, publicly: true }, as: ehrA });
    expect(byHospital.status).toBe(201);
    const read = await a.client.signed(`/v1/patients/${alice.patientId}`, alice.privateKey);
    expect(read.body).toMatchObject({ patientId: alice.patientId });
  });

  it('anchors and amends a record as the custodian (hospital certificate)', async () => {
    const hash = recordHash(Buffer.alloc(32, 1), Buffer.from(`{"resourceType":"Observation","id":"${recordId}"}`));
    const res = await a.client.call('/v1/records', { body: { recordId, patientId: alice.patientId, category: 'Observation', hash }, as: ehrA });
    expect(res.status).toBe(201);
    expect(res.body.result).toMatchObject({ recordId, custodian: 'HospitalAMSP', version: 1 });
    const hash2 = recordHash(Buffer.alloc(32, 2), Buffer.from(`{"resourceType":"Observation","id":"${recordId}","v":2}`));
    const amended = await a.client.call(`/v1/records/${recordId}/versions`, { body: { hash: hash2, expectedVersion: 1 }, as: ehrA });
    expect(amended.status).toBe(201);
    expect(amended.body.result).toMatchObject({ version: 2 });
    const stale = await a.client.call(`/v1/records/${recordId}/versions`, { body: { hash: hash2, expectedVersion: 1 }, as: ehrA });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('STALE_VERSION');
    // The patient sees the record and who holds it (no content, no hash).
    const mine = await a.client.signed(`/v1/patients/${alice.patientId}/records`, alice.privateKey);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({ items: [{ recordId, category: 'Observation', custodian: 'HospitalAMSP', version: 2, anchoredAt: expect.any(Number), updatedAt: expect.any(Number) }], bookmark: '' });
  });

  it('submits a grant signed on the device; the event stream delivers ConsentGranted; the grantee sees what it covers', async () => {
    const stream = await a.client.events(ehrA, '?names=ConsentGranted');
    try {
      const now = Date.now();
      const grant = buildConsentGrant(
        { channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: now },
        { grantee: 'HospitalCMSP', scope: { recordIds: [recordId], categories: [] }, actions: ['read'], purposes: ['TREAT'], period: { start: now - 1_000, end: now + 86_400_000 } },
      );
      const signed = signPatientMessage(grant, alice.privateKey);
      const res = await a.client.signed('/v1/consents', alice.privateKey, { body: signed });
      expect(res.status).toBe(201);
      consentId = consentIdOf(grant);
      expect(res.body).toMatchObject({ consentId, result: { consentId, grantee: 'HospitalCMSP', effectiveStatus: 'active' } });
      const event = await waitFor('ConsentGranted on the event stream', () => stream.events.find((e) => e.event === 'ConsentGranted' && e.data.consentId === consentId), WAIT_MS);
      expect(event.data).toMatchObject({ patientId: alice.patientId, grantee: 'HospitalCMSP', status: 'active' });
    } finally {
      stream.close();
    }

    const access = await a.client.call(`/v1/access?grantee=HospitalCMSP&recordId=${recordId}&purpose=TREAT`, { as: ehrA });
    expect(access.body).toMatchObject({ allowed: true, consentId });
    const research = await c.client.call(`/v1/access?recordId=${recordId}&purpose=HRESCH`, { as: ehrC });
    expect(research.body).toMatchObject({ allowed: false });

    const covered = await c.client.call(`/v1/consents/${consentId}/records`, { as: ehrC });
    expect(covered.status).toBe(200);
    expect(covered.body).toMatchObject({ consentId, effectiveStatus: 'active', purposes: ['TREAT'], records: [{ recordId, anchor: { custodian: 'HospitalAMSP', version: 2 } }] });
    // Only the grantee lists them.
    const notGrantee = await a.client.call(`/v1/consents/${consentId}/records`, { as: ehrA });
    expect(notGrantee.status).toBe(403);
    expect(notGrantee.body.code).toBe('ACCESS_DENIED');
  });

  it('reads the access log as the patient (signed access-log.read) and as the custodian', async () => {
    const read = signPatientMessage(buildAccessLogRead({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }), alice.privateKey);
    const own = await a.client.signed(`/v1/patients/${alice.patientId}/access-log/read`, alice.privateKey, { body: read });
    expect(own.status).toBe(200);
    expect(Array.isArray(own.body.items)).toBe(true);
    const custodian = await a.client.call(`/v1/patients/${alice.patientId}/access-log`, { as: ehrA });
    expect(custodian.status).toBe(200);
    expect(Array.isArray(custodian.body.items)).toBe(true);
  });

  it('refuses a request signed by another key, and the ledger keeps its consents (PATIENT_SIGNATURE_INVALID)', async () => {
    const before = await consentsOf(alice.patientId);
    const now = Date.now();
    const grant = signPatientMessage(
      buildConsentGrant(
        { channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: now },
        { grantee: 'HospitalCMSP', scope: { recordIds: [], categories: ['Observation'] }, actions: ['read'], purposes: ['HRESCH'], period: { start: now, end: now + 86_400_000 } },
      ),
      alice.privateKey,
    );
    // Mallory signs the request but names Alice: checked against Alice's registered key.
    const raw = JSON.stringify(grant);
    const headers = signRequest({ method: 'POST', path: '/v1/consents', body: raw }, mallory.privateKey, { timestamp: Date.now(), nonce: nonce() });
    const forged = await a.client.call('/v1/consents', { raw, headers: { ...headers, 'x-medbridge-patient': alice.patientId } });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('PATIENT_SIGNATURE_INVALID');
    // A grant whose own signature was tampered with is refused by the chaincode with its code.
    const tampered = { ...grant, message: { ...grant.message, terms: { ...grant.message.terms, purposes: ['TREAT'] } } };
    const bad = await a.client.call('/v1/consents', { body: tampered, as: ehrA });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('PATIENT_SIGNATURE_INVALID');
    // Mallory's valid request for Alice's consents: another patient's data.
    const other = await a.client.signed(`/v1/patients/${alice.patientId}/consents`, mallory.privateKey);
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('UNAUTHORIZED');
    expect(await consentsOf(alice.patientId)).toEqual(before);
  });

  it('refuses a replayed request (NONCE_REPLAYED) and an expired one (MESSAGE_STALE); the revocation is not applied', async () => {
    const revoke = signPatientMessage(buildConsentRevocation({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }, consentId), alice.privateKey);
    const raw = JSON.stringify(revoke);
    const path = `/v1/consents/${consentId}/revocation`;
    const expired = await a.client.signed(path, alice.privateKey, { raw, timestamp: Date.now() - 10 * 60_000 });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('MESSAGE_STALE');
    expect((await a.client.call(`/v1/consents/${consentId}`, { as: ehrA })).body.effectiveStatus).toBe('active');

    const reads = `/v1/patients/${alice.patientId}/consents`;
    const getHeaders = signRequest({ method: 'GET', path: reads, body: '' }, alice.privateKey, { timestamp: Date.now(), nonce: nonce() });
    expect((await a.client.call(reads, { headers: getHeaders })).status).toBe(200);
    const replay = await a.client.call(reads, { headers: getHeaders });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('NONCE_REPLAYED');
  });

  it("refuses another org's certificate and a request without credentials (UNAUTHORIZED); nothing is anchored", async () => {
    const other = `api-${run}-other`;
    const hash = recordHash(Buffer.alloc(32, 3), Buffer.from('{}'));
    const wrongOrg = await a.client.call('/v1/records', { body: { recordId: other, patientId: alice.patientId, category: 'Observation', hash }, as: ehrC });
    expect(wrongOrg.status).toBe(401);
    expect(wrongOrg.body.code).toBe('UNAUTHORIZED');
    expect(wrongOrg.body.message).toMatch(/not issued by the HospitalAMSP CA/);
    const anonymous = await a.client.call('/v1/records', { body: { recordId: other, patientId: alice.patientId, category: 'Observation', hash } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHORIZED');
    const read = await a.client.call(`/v1/records/${other}`, { as: ehrA });
    expect(read.status).toBe(404);
    expect(read.body.code).toBe('NOT_FOUND');
  });

  it('refuses malformed bodies with 4xx INVALID_ARGUMENT, never a 500', async () => {
    const before = await consentsOf(alice.patientId);
    const notJson = await a.client.call('/v1/consents', { raw: '{"message":', as: ehrA });
    expect([notJson.status, notJson.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const wrongShape = await a.client.call('/v1/consents', { body: { message: 'grant', publicKey: 'x', signature: 'y' }, as: ehrA });
    expect([wrongShape.status, wrongShape.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const extraField = await a.client.call('/v1/patients', { body: { publicKey: alice.publicKey, name: 'Alice' }, as: ehrA });
    expect([extraField.status, extraField.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const badKey = await a.client.call('/v1/patients', { body: { publicKey: 'AAAA' }, as: ehrA });
    expect([badKey.status, badKey.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const badPurpose = await a.client.call(`/v1/access?recordId=${recordId}&purpose=FUN`, { as: ehrA });
    expect([badPurpose.status, badPurpose.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const huge = await a.client.call('/v1/consents', { raw: JSON.stringify({ message: 'x'.repeat(100_000) }), as: ehrA });
    expect([huge.status, huge.body.code]).toEqual([413, 'INVALID_ARGUMENT']);
    expect(await consentsOf(alice.patientId)).toEqual(before);
  });

  it('opens break-glass for a clinician certificate only (FORBIDDEN_ROLE for a member)', async () => {
    const body = { patientId: alice.patientId, recordId, reason: 'ED-TRIAGE-API', durationMinutes: 30 };
    const member = await a.client.call('/v1/emergencies', { body, as: ehrA });
    expect([member.status, member.body.code]).toEqual([403, 'FORBIDDEN_ROLE']);
    const res = await a.client.call('/v1/emergencies', { body, as: clinician });
    expect({ status: res.status, code: res.body.code, message: res.body.message }).toEqual({ status: 201, code: undefined, message: undefined });
    expect(res.body.result).toMatchObject({ org: 'HospitalAMSP', openedByRole: 'clinician', recordId });
    // The patient reads the log as FHIR R5 AuditEvents: the break-glass is one, flagged as such.
    const read = signPatientMessage(buildAccessLogRead({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }), alice.privateKey);
    const own = await a.client.signed(`/v1/patients/${alice.patientId}/access-log/read`, alice.privateKey, { body: read });
    const fhir = await a.client.signed(`/v1/patients/${alice.patientId}/access-log/read?format=fhir`, alice.privateKey, { body: read });
    expect([fhir.status, fhir.body.resourceType, fhir.body.type]).toEqual([200, 'Bundle', 'collection']);
    const events = (fhir.body.entry as Array<{ resource: { resourceType: string } }>).map((e) => e.resource);
    expect(events).toHaveLength((own.body.items as unknown[]).length);
    expect(events.every((e) => e.resourceType === 'AuditEvent')).toBe(true);
    expect(JSON.stringify(events)).toContain(res.body.result.emergencyId as string);
    // A v1 consent has terms, not a policy: no FHIR Consent for it.
    const v1 = await a.client.call(`/v1/consents/${consentId}?format=fhir`, { as: ehrA });
    expect([v1.status, v1.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it("checks a FHIR Consent for the hospital's EHR before a patient signs it, and writes nothing", async () => {
    const example = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'fhir-consent-examples', 'r5', `consent-example-${name}.json`), 'utf8');
    const fhirJson = { 'content-type': 'application/fhir+json' };
    const ok = await a.client.call('/v1/consents/fhir-check?days=30', { raw: example('notSecLabel'), headers: fhirJson, as: ehrA });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ version: 'R5', schema: 'hl7.fhir.r5.core 5.0.0', periodFilled: ['start', 'end'], grantees: ['*'], keptPrivatelyByDefault: false, policy: { decision: 'permit' } });
    expect((ok.body.summary as string[])[1]).toMatch(/^ {2}\[0\] deny: .*records labelled/);
    const refused = await a.client.call('/v1/consents/fhir-check', { raw: example('notThis'), headers: fhirJson, as: ehrA });
    expect([refused.status, refused.body.code]).toEqual([400, 'FHIR_ELEMENT_UNSUPPORTED']);
    expect(refused.body.message).toMatch(/Consent\.provision\[0\]\.data\[0\]\.meaning/);
  });

  it('rotates a key through the API: the id and consents stay, the old key is refused, the new key revokes, and chain-b follows', async () => {
    const connections = new Connections();
    try {
      const xa = connections.chain('chain-a', ['HospitalA', 'HospitalC']);
      const xb = connections.chain('chain-b', ['HospitalB', 'HospitalC']);
      const route = `api-consents-${run}`;
      await consentRoute(xa, xb, route);
      const bob = newPatient();
      const bobNext = newPatient();
      expect((await a.client.call('/v1/patients', { body: { publicKey: bob.publicKey, publicly: true }, as: ehrA })).status).toBe(201);
      const now = Date.now();
      const grant = signPatientMessage(
        buildConsentGrant(
          { channel: chainId, patientId: bob.patientId, signer: bob.keyId, nonce: nonce(), issuedAt: now },
          { grantee: 'HospitalBMSP', scope: { recordIds: [], categories: ['Observation'] }, actions: ['read'], purposes: ['TREAT'], period: { start: now - 1_000, end: now + 86_400_000 } },
        ),
        bob.privateKey,
      );
      const bobConsent = consentIdOf(grant.message);
      expect((await a.client.signed('/v1/consents', bob.privateKey, { body: grant })).status).toBe(201);
      const { result: sentGrant } = await xa.cc.crossChain.sendPacket('chain-b', 'consent.grant', { routeId: route, consentId: bobConsent });
      await deliver(xa, xb, route, sentGrant.packet);

      const everywhere = async () => {
        const res = await a.client.call(`/v1/patients/${bob.patientId}/consents?allChains=true`, { as: ehrA });
        expect(res.status).toBe(200);
        return (res.body.items as Array<{ consentId: string; chains: unknown[] }>).find((i) => i.consentId === bobConsent)!.chains;
      };
      expect(await everywhere()).toEqual([expect.objectContaining({ chainId: 'chain-b', routeId: route, delivery: 'acknowledged', mirror: { status: 'active', version: 1 }, effectiveStatus: 'active' })]);

      // The device signs the rotation with the old key and the new one, and the request with the old key.
      const rotation = signKeyRotation(
        buildKeyRotation({ channel: chainId, patientId: bob.patientId, signer: bob.keyId, nonce: nonce(), issuedAt: Date.now() }, bobNext.publicKey),
        bob.privateKey,
        bobNext.privateKey,
      );
      const rotated = await a.client.signed(`/v1/patients/${bob.patientId}/key-rotation`, bob.privateKey, { body: rotation });
      expect(rotated.status).toBe(201);
      expect(rotated.body.result).toMatchObject({ patientId: bob.patientId, publicKey: bobNext.publicKey, keyRotations: [{ retiredKeyId: bob.keyId, keyId: bobNext.keyId }] });

      // The old key: its requests no longer verify, its messages are refused, a replay of the rotation too.
      const oldRequest = await a.client.signed(`/v1/patients/${bob.patientId}/consents`, bob.privateKey);
      expect([oldRequest.status, oldRequest.body.code]).toEqual([401, 'PATIENT_SIGNATURE_INVALID']);
      const replay = await a.client.call(`/v1/patients/${bob.patientId}/key-rotation`, { body: rotation, as: ehrA });
      expect([replay.status, replay.body.code]).toEqual([403, 'PATIENT_KEY_RETIRED']);
      const oldRevocation = signPatientMessage(buildConsentRevocation({ channel: chainId, patientId: bob.patientId, signer: bob.keyId, nonce: nonce(), issuedAt: Date.now() }, bobConsent), bob.privateKey);
      const refused = await a.client.call(`/v1/consents/${bobConsent}/revocation`, { body: oldRevocation, as: ehrA });
      expect([refused.status, refused.body.code]).toEqual([403, 'PATIENT_KEY_RETIRED']);
      const taken = signKeyRotation(
        buildKeyRotation({ channel: chainId, patientId: bob.patientId, signer: bobNext.keyId, nonce: nonce(), issuedAt: Date.now() }, alice.publicKey),
        bobNext.privateKey,
        alice.privateKey,
      );
      const inUse = await a.client.call(`/v1/patients/${bob.patientId}/key-rotation`, { body: taken, as: ehrA });
      expect([inUse.status, inUse.body.code]).toEqual([409, 'PATIENT_KEY_IN_USE']);

      // The new key: requests name the patient id; it revokes the consent the old key granted.
      const path = `/v1/patients/${bob.patientId}/consents`;
      const headers = signRequest({ method: 'GET', path, body: '' }, bobNext.privateKey, { timestamp: Date.now(), nonce: nonce(), patientId: bob.patientId });
      const own = await a.client.call(path, { headers });
      expect(own.status).toBe(200);
      const revocation = signPatientMessage(buildConsentRevocation({ channel: chainId, patientId: bob.patientId, signer: bobNext.keyId, nonce: nonce(), issuedAt: Date.now() }, bobConsent), bobNext.privateKey);
      const revokePath = `/v1/consents/${bobConsent}/revocation`;
      const raw = JSON.stringify(revocation);
      const revokeHeaders = signRequest({ method: 'POST', path: revokePath, body: raw }, bobNext.privateKey, { timestamp: Date.now(), nonce: nonce(), patientId: bob.patientId });
      const revoked = await a.client.call(revokePath, { raw, headers: revokeHeaders });
      expect(revoked.status).toBe(201);
      expect(revoked.body.result).toMatchObject({ consentId: bobConsent, status: 'revoked', grant: { message: { signer: bob.keyId } } });
      // The server carried the revocation to chain-b, where the grant went: the test relays it.
      expect(revoked.body.carried).toEqual([{ chainId: 'chain-b', sequence: expect.any(Number), sealed: false }]);

      // chain-b verifies the revocation through the rotation the packet carries.
      const sentRevoke = await xa.cc.crossChain.getPacket(route, revoked.body.carried[0].sequence as number);
      expect(sentRevoke.packet.type).toBe('consent.revoke');
      expect((sentRevoke.packet.payload as { keyRotations?: unknown[] }).keyRotations).toHaveLength(1);
      await deliver(xa, xb, route, sentRevoke.packet);
      expect(await xb.cc.consent.checkRemoteConsent('chain-a', bobConsent, 'TREAT')).toMatchObject({ allowed: false, status: 'revoked', version: 2 });
      expect(await everywhere()).toEqual([expect.objectContaining({ chainId: 'chain-b', packetType: 'consent.revoke', delivery: 'acknowledged', mirror: { status: 'revoked', version: 2 }, effectiveStatus: 'revoked' })]);
    } finally {
      connections.close();
    }
  });

  it('keeps a patient private by default: registration, anchor and a kept consent shared sealed with chain-b, its revocation following; another org reads none of it', async () => {
    const connections = new Connections();
    try {
      const xa = connections.chain('chain-a', ['HospitalA', 'HospitalC']);
      const xb = connections.chain('chain-b', ['HospitalB', 'HospitalC']);
      const route = `api-sealed-${run}`;
      await consentRoute(xa, xb, route, ['consent.grant', 'consent.revoke', 'consent.sealed']);
      const carol = newPatient();
      const carolRecord = `api-${run}-carol`;

      // Registered and anchored the default way: HospitalA's collection only.
      const registered = await a.client.signed('/v1/patients', carol.privateKey, { body: { publicKey: carol.publicKey } });
      expect(registered.status).toBe(201);
      expect((await a.client.signed(`/v1/patients/${carol.patientId}`, carol.privateKey)).body).toMatchObject({ patientId: carol.patientId, heldPrivately: true });
      const elsewhere = await c.client.call(`/v1/patients/${carol.patientId}`, { as: ehrC });
      expect([elsewhere.status, elsewhere.body.code]).toEqual([404, 'PATIENT_NOT_REGISTERED']);
      // One registration per org: asking again, publicly or not, is ALREADY_EXISTS (never a second, public copy).
      const again = await a.client.call('/v1/patients', { body: { publicKey: carol.publicKey, publicly: true }, as: ehrA });
      expect([again.status, again.body.code]).toEqual([409, 'ALREADY_EXISTS']);
      const hash = recordHash(Buffer.alloc(32, 7), Buffer.from(`{"resourceType":"Observation","id":"${carolRecord}"}`));
      expect((await a.client.call('/v1/records', { body: { recordId: carolRecord, patientId: carol.patientId, category: 'Observation', hash }, as: ehrA })).status).toBe(201);
      expect((await c.client.call(`/v1/records/${carolRecord}`, { as: ehrC })).status).toBe(404);
      const mine = await a.client.signed(`/v1/patients/${carol.patientId}/records`, carol.privateKey);
      expect(mine.body.items).toEqual([expect.objectContaining({ recordId: carolRecord, custodian: 'HospitalAMSP', version: 1 })]);

      // The hospital says where it carries consents: chain-b, with HospitalB.
      const hospital = await a.client.call('/v1/hospital');
      expect(hospital.body.chains).toEqual(expect.arrayContaining([expect.objectContaining({ chainId: 'chain-b', orgs: expect.arrayContaining(['HospitalBMSP']), packetTypes: expect.arrayContaining(['consent.sealed']) })]));

      // A consent kept at HospitalA for HospitalB, which the patient's device asks HospitalA to carry to chain-b.
      const now = Date.now();
      const grant = signPatientMessage(
        buildConsentGrant(
          { channel: chainId, patientId: carol.patientId, signer: carol.keyId, nonce: nonce(), issuedAt: now },
          { grantee: 'HospitalBMSP', scope: { recordIds: [carolRecord], categories: [] }, actions: ['read'], purposes: ['TREAT'], period: { start: now - 1_000, end: now + 86_400_000 } },
          'HospitalAMSP',
        ),
        carol.privateKey,
      );
      const kept = consentIdOf(grant.message);
      expect((await a.client.signed('/v1/consents', carol.privateKey, { body: grant })).status).toBe(201);
      // Only the patient the consent is for may ask, only for a chain where it can permit someone.
      const notHers = await a.client.signed(`/v1/consents/${kept}/shares`, mallory.privateKey, { body: { chainId: 'chain-b' } });
      expect([notHers.status, notHers.body.code]).toEqual([403, 'UNAUTHORIZED']);
      const nowhere = await a.client.signed(`/v1/consents/${kept}/shares`, carol.privateKey, { body: { chainId: 'chain-z' } });
      expect([nowhere.status, nowhere.body.code]).toEqual([422, 'WRONG_DESTINATION']);
      const shared = await a.client.signed(`/v1/consents/${kept}/shares`, carol.privateKey, { body: { chainId: 'chain-b' } });
      expect(shared.status).toBe(201);
      expect(shared.body).toMatchObject({ consentId: kept, chainId: 'chain-b', sealed: true, sequence: expect.any(Number) });
      const packet = (await xa.cc.crossChain.getPacket(shared.body.routeId as string, shared.body.sequence as number)).packet;
      expect(packet.type).toBe('consent.sealed');
      expect(JSON.stringify(packet)).not.toContain(kept);
      await deliver(xa, xb, shared.body.routeId as string, packet);

      const onEveryChain = async () => {
        const res = await a.client.signed(`/v1/patients/${carol.patientId}/consents/private?allChains=true`, carol.privateKey);
        expect(res.status).toBe(200);
        return (res.body.items as Array<{ consentId: string; chains: unknown[] }>).find((i) => i.consentId === kept)!.chains;
      };
      expect(await onEveryChain()).toEqual([
        expect.objectContaining({ chainId: 'chain-b', packetType: 'consent.sealed', delivery: 'acknowledged', mirror: null, effectiveStatus: 'active', sealed: { carries: 'grant', arrived: true } }),
      ]);

      // The revocation, kept at HospitalA, follows to chain-b by itself.
      const revocation = signPatientMessage(buildConsentRevocation({ channel: chainId, patientId: carol.patientId, signer: carol.keyId, nonce: nonce(), issuedAt: Date.now() }, kept), carol.privateKey);
      const revoked = await a.client.signed(`/v1/consents/${kept}/revocation?keeper=HospitalAMSP`, carol.privateKey, { body: revocation });
      expect(revoked.status).toBe(201);
      expect(revoked.body.carried).toEqual([{ chainId: 'chain-b', sequence: expect.any(Number), sealed: true }]);
      await deliver(xa, xb, shared.body.routeId as string, (await xa.cc.crossChain.getPacket(shared.body.routeId as string, revoked.body.carried[0].sequence as number)).packet);
      expect(await onEveryChain()).toEqual([expect.objectContaining({ chainId: 'chain-b', effectiveStatus: 'revoked', sealed: { carries: 'revocation', arrived: true } })]);
    } finally {
      connections.close();
    }
  });

  describe('refusals on every endpoint, with exact codes and never a 5xx', () => {
    type Route = { method: 'GET' | 'POST'; path: () => string; body?: () => unknown; patient?: boolean };
    const someConsent = () => consentId;
    const routes: Route[] = [
      { method: 'POST', path: () => '/v1/patients', body: () => ({ publicKey: alice.publicKey }), patient: true },
      { method: 'GET', path: () => `/v1/patients/${alice.patientId}`, patient: true },
      { method: 'GET', path: () => `/v1/patients/${alice.patientId}/consents`, patient: true },
      { method: 'GET', path: () => `/v1/patients/${alice.patientId}/consents?allChains=true`, patient: true },
      { method: 'GET', path: () => `/v1/patients/${alice.patientId}/access-log` },
      { method: 'GET', path: () => `/v1/patients/${alice.patientId}/records`, patient: true },
      {
        method: 'POST',
        path: () => `/v1/patients/${alice.patientId}/access-log/read`,
        body: () => signPatientMessage(buildAccessLogRead({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }), alice.privateKey),
        patient: true,
      },
      {
        method: 'POST',
        path: () => `/v1/patients/${alice.patientId}/key-rotation`,
        // A rotation onto mallory's key: refused by the chaincode (PATIENT_KEY_IN_USE) if it ever got there.
        body: () => signKeyRotation(buildKeyRotation({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }, mallory.publicKey), alice.privateKey, mallory.privateKey),
        patient: true,
      },
      { method: 'POST', path: () => '/v1/records', body: () => ({ recordId: `api-${run}-never`, patientId: alice.patientId, category: 'Observation', hash: 'ab'.repeat(32) }) },
      { method: 'POST', path: () => `/v1/records/${recordId}/versions`, body: () => ({ hash: 'cd'.repeat(32), expectedVersion: 1 }) },
      { method: 'GET', path: () => `/v1/records/${recordId}` },
      { method: 'GET', path: () => `/v1/records/${recordId}/content?from=HospitalA&purpose=TREAT` },
      // A grant already granted (ALREADY_EXISTS) would be the only effect of passing authentication.
      { method: 'POST', path: () => '/v1/consents', body: () => ({ ...signPatientMessage(buildConsentRevocation({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }, someConsent()), alice.privateKey) }), patient: true },
      {
        method: 'POST',
        path: () => `/v1/consents/${someConsent()}/revocation`,
        body: () => signPatientMessage(buildAccessLogRead({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }), alice.privateKey),
        patient: true,
      },
      { method: 'GET', path: () => `/v1/consents/${someConsent()}`, patient: true },
      // A chain this hospital does not reach (WRONG_DESTINATION) would be the only effect of passing authentication.
      { method: 'POST', path: () => `/v1/consents/${someConsent()}/shares`, body: () => ({ chainId: 'chain-z' }), patient: true },
      { method: 'GET', path: () => `/v1/patients/${alice.patientId}/consents/private?allChains=true`, patient: true },
      { method: 'POST', path: () => '/v1/consents/fhir-check', body: () => ({ resourceType: 'Consent', status: 'active', decision: 'permit' }), patient: true },
      { method: 'GET', path: () => `/v1/consents/${someConsent()}/records` },
      { method: 'POST', path: () => '/v1/guardians', body: () => signPatientMessage(buildAccessLogRead({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }), alice.privateKey), patient: true },
      { method: 'POST', path: () => '/v1/guardians/revocation', body: () => signPatientMessage(buildAccessLogRead({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }), alice.privateKey), patient: true },
      { method: 'GET', path: () => `/v1/access?recordId=${recordId}&purpose=TREAT` },
      { method: 'POST', path: () => '/v1/emergencies', body: () => ({ patientId: alice.patientId, recordId, reason: 'ED-TRIAGE-API' }) },
      { method: 'GET', path: () => '/v1/crosschain/status' },
      { method: 'GET', path: () => '/v1/crosschain/routes/no-such-route/packets/1' },
      { method: 'GET', path: () => '/v1/events' },
    ];
    const label = (r: Route) => `${r.method} ${r.path().replace(/pt_[0-9a-f]{64}/, '{patientId}').replace(/cs_[0-9a-f]{64}/, '{consentId}').replace(/\?.*/, '')}${r.path().includes('allChains') ? '?allChains' : ''}`;
    const bodyOf = (r: Route) => (r.body ? JSON.stringify(r.body()) : '');
    const outcome = (res: Reply) => [res.status, res.body.code];

    it('refuses another org\'s certificate and no credentials: 401 UNAUTHORIZED on every endpoint', async () => {
      for (const r of routes) {
        const raw = bodyOf(r);
        const wrongOrg = await a.client.call(r.path(), { method: r.method, ...(raw ? { raw } : {}), as: ehrC });
        expect([label(r), ...outcome(wrongOrg)]).toEqual([label(r), 401, 'UNAUTHORIZED']);
        const none = await a.client.call(r.path(), { method: r.method, ...(raw ? { raw } : {}) });
        expect([label(r), ...outcome(none)]).toEqual([label(r), 401, 'UNAUTHORIZED']);
      }
    });

    it('refuses a malformed and an oversized body: 400 and 413 INVALID_ARGUMENT on every endpoint that takes one', async () => {
      for (const r of routes.filter((x) => x.method === 'POST')) {
        const malformed = await a.client.call(r.path(), { raw: '{"message":', as: ehrA });
        expect([label(r), ...outcome(malformed)]).toEqual([label(r), 400, 'INVALID_ARGUMENT']);
        const wrongShape = await a.client.call(r.path(), { body: { unexpected: true }, as: ehrA });
        expect([label(r), ...outcome(wrongShape)]).toEqual([label(r), 400, 'INVALID_ARGUMENT']);
        const oversized = await a.client.call(r.path(), { raw: JSON.stringify({ pad: 'x'.repeat(100_000) }), as: ehrA });
        expect([label(r), ...outcome(oversized)]).toEqual([label(r), 413, 'INVALID_ARGUMENT']);
      }
    });

    it('refuses, on every endpoint a patient may call, a bad signature, an expired and a replayed request (401, exact codes)', async () => {
      for (const r of routes.filter((x) => x.patient)) {
        const path = r.path();
        const raw = bodyOf(r);
        // Mallory's key signs a request that names Alice.
        const forgedHeaders = signRequest({ method: r.method, path, body: raw }, mallory.privateKey, { timestamp: Date.now(), nonce: nonce(), patientId: alice.patientId });
        const forged = await a.client.call(path, { method: r.method, ...(raw ? { raw } : {}), headers: forgedHeaders });
        expect([label(r), ...outcome(forged)]).toEqual([label(r), 401, 'PATIENT_SIGNATURE_INVALID']);
        const expired = await a.client.signed(path, alice.privateKey, { method: r.method, ...(raw ? { raw } : {}), timestamp: Date.now() - 10 * 60_000 });
        expect([label(r), ...outcome(expired)]).toEqual([label(r), 401, 'MESSAGE_STALE']);
        const headers = signRequest({ method: r.method, path, body: raw }, alice.privateKey, { timestamp: Date.now(), nonce: nonce() });
        const first = await a.client.call(path, { method: r.method, ...(raw ? { raw } : {}), headers });
        expect([label(r), first.status < 500, first.body.code === 'NONCE_REPLAYED']).toEqual([label(r), true, false]);
        const replayed = await a.client.call(path, { method: r.method, ...(raw ? { raw } : {}), headers });
        expect([label(r), ...outcome(replayed)]).toEqual([label(r), 401, 'NONCE_REPLAYED']);
      }
    });
  });

  it('finishes a request in flight when it shuts down', async () => {
    const late = await serve(hospitalA);
    const arrived = new Promise<void>((resolve) => late.api.app.server.once('request', () => resolve()));
    const revoke = signPatientMessage(buildConsentRevocation({ channel: chainId, patientId: alice.patientId, signer: alice.keyId, nonce: nonce(), issuedAt: Date.now() }, consentId), alice.privateKey);
    const inFlight = late.client.signed(`/v1/consents/${consentId}/revocation`, alice.privateKey, { body: revoke });
    await arrived;
    await late.api.close();
    const res = await inFlight;
    expect(res.status).toBe(201);
    expect(res.body.result).toMatchObject({ consentId, status: 'revoked' });
    expect((await a.client.call(`/v1/consents/${consentId}`, { as: ehrA })).body.effectiveStatus).toBe('revoked');
  });
});
