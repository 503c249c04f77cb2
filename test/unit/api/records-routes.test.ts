/**
 * The API's record routes without a network (a loopback TLS listener with throw-away PKI, a
 * stand-in chaincode and record fetcher): a grantee's system gets a record's verified bytes
 * through its own org's server, and every refusal is a 4xx with its code (the custodian's
 * refusal is 403 ACCESS_DENIED with its access-log transaction); a patient lists the records
 * anchored for them and who holds each, with a request signed on their device.
 */
import { generateKeyPairSync } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { exportPublicKey, patientIdOf, type RecordAnchor } from '@medbridge/chaincode';
import { ClientCertificates } from '../../../gateway/src/api/client-identity';
import { parseServeConfig } from '../../../gateway/src/api/config';
import { signRequest } from '../../../gateway/src/api/request-signing';
import { buildApi } from '../../../gateway/src/api/server';
import { ClientError } from '../../../gateway/src/errors';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { silentLogger } from '../../../gateway/src/logger';
import type { RecordFetch, RecordFetchRequest } from '../../../gateway/src/records/record-fetcher';
import type { FetchedRecord } from '../../../gateway/src/records/requester';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';

/** The server's clock: now, so that the certificates issued for the test are valid. */
const NOW = Date.now();
const RECORD = 'obs-0001';
const CONSENT = `cs_${'c'.repeat(64)}`;
const CONTENT = Buffer.from('{"resourceType":"Observation","status":"final"}');

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKey = exportPublicKey(privateKey);
const patientId = patientIdOf(publicKey);

function anchor(recordId: string, custodian: string, category: string, version: number): RecordAnchor {
  return { recordId, patientId, custodian, category, hash: 'a'.repeat(64), version, createdAt: NOW - 2000, updatedAt: NOW - 1000, txId: 't'.repeat(64) };
}

function fakeChaincode(): Chaincode {
  return {
    channel: 'chain-b',
    chainId: () => Promise.resolve('chain-b'),
    consent: {
      getPatient: (id: string) => (id === patientId ? Promise.resolve({ patientId, publicKey }) : Promise.reject(new Error(`NOT_FOUND: patient ${id}`))),
      listRecordsByPatient: (id: string, page: { pageSize?: number; bookmark?: string }) =>
        Promise.resolve({
          items: id === patientId ? [anchor('cond-0001', 'HospitalBMSP', 'Condition', 1), anchor(RECORD, 'HospitalBMSP', 'Observation', 3)] : [],
          bookmark: page.pageSize === 2 ? 'next' : '',
        }),
    },
  } as unknown as Chaincode;
}

/** What the custodian's exchange does, by record id. */
class FakeFetcher implements RecordFetch {
  readonly asked: RecordFetchRequest[] = [];
  fetch(req: RecordFetchRequest): Promise<FetchedRecord> {
    this.asked.push(req);
    const refusal: Record<string, ClientError> = {
      'obs-revoked': new ClientError('ACCESS_DENIED', 'rejected', 'HospitalAMSP refused obs-revoked: consent-revoked (logged on chain in tx 1f)', { txId: '1f'.repeat(32) }),
      'obs-missing': new ClientError('RECORD_NOT_FOUND', 'rejected', 'HospitalAMSP answered 404: RECORD_NOT_FOUND record obs-missing is not held by HospitalAMSP'),
      'obs-tampered': new ClientError('RECORD_HASH_MISMATCH', 'rejected', 'record obs-tampered from HospitalAMSP does not hash to its anchor; refused'),
      'obs-odd': new ClientError('RECORD_REFUSED', 'rejected', 'HospitalAMSP answered 400: INVALID_ARGUMENT purpose'),
      'obs-down': new ClientError('UNAVAILABLE', 'unavailable', 'record exchange of HospitalAMSP at https://127.0.0.1:1: connect ECONNREFUSED'),
    };
    if (req.from === 'HospitalZ') return Promise.reject(new ClientError('NOT_FOUND', 'rejected', 'no org HospitalZ in this network (no connection profile)'));
    const e = refusal[req.recordId];
    if (e) return Promise.reject(e);
    return Promise.resolve({
      recordId: req.recordId,
      version: 2,
      channel: 'chain-a',
      patientId,
      category: 'Observation',
      contentType: req.recordId === 'obs-odd-type' ? 'text/html\r\nset-cookie: x=1' : 'application/fhir+json',
      content: CONTENT,
      hash: 'b'.repeat(64),
      anchorSource: 'attestation',
      attestedBy: 'chain-a',
      consentId: CONSENT,
      reason: 'consent',
      requestId: 'rq-1',
      txId: 'e'.repeat(64),
      custodian: 'HospitalAMSP',
    });
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: { code?: string; message?: string; txId?: string; items?: unknown[]; bookmark?: string };
}

describe('API record routes', () => {
  let hospitalB: TestOrg;
  let hospitalC: TestOrg;
  let app: FastifyInstance;
  let base: string;
  let serverCa: string;
  let member: Issued;
  const fetcher = new FakeFetcher();

  beforeAll(async () => {
    hospitalB = await createOrg('HospitalBMSP');
    hospitalC = await createOrg('HospitalCMSP');
    const server = await hospitalB.peer('localhost');
    serverCa = hospitalB.ca.certPem;
    member = await hospitalB.client('ehr');
    const config = parseServeConfig({ org: 'HospitalB', logLevel: 'silent' }, '/');
    app = await buildApi({
      config,
      chaincode: fakeChaincode(),
      tls: { certificates: new ClientCertificates('HospitalBMSP', [hospitalB.ca.certPem]), cert: server.certPem, key: server.keyPem },
      records: fetcher,
      logger: silentLogger,
      clock: () => NOW,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(() => app.close());
  beforeEach(() => fetcher.asked.splice(0));

  function get(path: string, o: { client?: Issued; headers?: Record<string, string> } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        new URL(path, base),
        { method: 'GET', ca: serverCa, checkServerIdentity: () => undefined, agent: false, headers: o.headers ?? {}, ...(o.client ? { cert: o.client.certPem, key: o.client.keyPem } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            const json = (res.headers['content-type'] ?? '').startsWith('application/json');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: json ? (JSON.parse(raw.toString('utf8')) as Answer['body']) : {} });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
  const content = (recordId: string, query = `from=HospitalA&purpose=TREAT&consentId=${CONSENT}`) => `/v1/records/${recordId}/content?${query}`;
  const codeOf = (a: Answer) => [a.status, a.body.code];

  describe('GET /v1/records/{recordId}/content', () => {
    it("answers the custodian's record bytes, verified, with what the content alone does not say in headers", async () => {
      const a = await get(content(RECORD), { client: member });
      expect(a.status).toBe(200);
      expect(a.raw.equals(CONTENT)).toBe(true);
      expect(a.headers).toMatchObject({
        'content-type': 'application/fhir+json',
        'cache-control': 'no-store',
        'x-medbridge-record-version': '2',
        'x-medbridge-record-hash': 'b'.repeat(64),
        'x-medbridge-record-channel': 'chain-a',
        'x-medbridge-custodian': 'HospitalAMSP',
        'x-medbridge-anchor-source': 'attestation',
        'x-medbridge-consent-id': CONSENT,
        'x-medbridge-access-tx-id': 'e'.repeat(64),
      });
      expect(fetcher.asked).toEqual([{ from: 'HospitalA', recordId: RECORD, purpose: 'TREAT', consentId: CONSENT }]);
    });

    it("sends a custodian's content type that is not a media type as application/octet-stream", async () => {
      const a = await get(content('obs-odd-type'), { client: member });
      expect([a.status, a.headers['content-type'], a.headers['set-cookie']]).toEqual([200, 'application/octet-stream', undefined]);
    });

    it('lets a clinician fetch too, without naming a consent', async () => {
      const a = await get(content(RECORD, 'from=HospitalAMSP&purpose=TREAT'), { client: await hospitalB.client('dr', { attributes: { 'medbridge.role': 'clinician' } }) });
      expect(a.status).toBe(200);
      expect(fetcher.asked).toEqual([{ from: 'HospitalAMSP', recordId: RECORD, purpose: 'TREAT' }]);
    });

    it("refuses with the custodian's refusal: 403 ACCESS_DENIED and the transaction that logged it", async () => {
      const a = await get(content('obs-revoked'), { client: member });
      expect(codeOf(a)).toEqual([403, 'ACCESS_DENIED']);
      expect(a.body.message).toMatch(/consent-revoked/);
      expect(a.body.txId).toBe('1f'.repeat(32));
    });

    it('refuses a record the custodian does not hold (404 RECORD_NOT_FOUND) and an org the network does not have (404 NOT_FOUND)', async () => {
      expect(codeOf(await get(content('obs-missing'), { client: member }))).toEqual([404, 'RECORD_NOT_FOUND']);
      expect(codeOf(await get(content(RECORD, 'from=HospitalZ&purpose=TREAT'), { client: member }))).toEqual([404, 'NOT_FOUND']);
    });

    it("passes on another refusal of the custodian's exchange as 422 RECORD_REFUSED", async () => {
      expect(codeOf(await get(content('obs-odd'), { client: member }))).toEqual([422, 'RECORD_REFUSED']);
    });

    it('answers a record that does not match its anchor with 502 RECORD_HASH_MISMATCH (the custodian sent it), and an exchange that is down with 503 UNAVAILABLE', async () => {
      expect(codeOf(await get(content('obs-tampered'), { client: member }))).toEqual([502, 'RECORD_HASH_MISMATCH']);
      expect(codeOf(await get(content('obs-down'), { client: member }))).toEqual([503, 'UNAVAILABLE']);
    });

    it('refuses a query without a custodian or purpose, an unknown purpose, a path as custodian and a malformed record id with 400 INVALID_ARGUMENT, asking nobody', async () => {
      for (const query of ['purpose=TREAT', 'from=HospitalA', 'from=HospitalA&purpose=GOSSIP', 'from=..%2Fx.json&purpose=TREAT', 'from=HospitalA&purpose=TREAT&consentId=cs_1', 'from=HospitalA&purpose=TREAT&extra=1']) {
        expect([query, ...codeOf(await get(content(RECORD, query), { client: member }))]).toEqual([query, 400, 'INVALID_ARGUMENT']);
      }
      expect(codeOf(await get(content('bad%20id'), { client: member }))).toEqual([400, 'INVALID_ARGUMENT']);
      expect(fetcher.asked).toEqual([]);
    });

    it("refuses a caller without a certificate, another org's certificate (401 UNAUTHORIZED) and a role that may not fetch (403 FORBIDDEN_ROLE), asking nobody", async () => {
      expect(codeOf(await get(content(RECORD)))).toEqual([401, 'UNAUTHORIZED']);
      expect(codeOf(await get(content(RECORD), { client: await hospitalC.client('ehr') }))).toEqual([401, 'UNAUTHORIZED']);
      const officer = await hospitalB.client('po', { attributes: { 'medbridge.role': 'privacy-officer' } });
      expect(codeOf(await get(content(RECORD), { client: officer }))).toEqual([403, 'FORBIDDEN_ROLE']);
      expect(fetcher.asked).toEqual([]);
    });

    it('refuses a patient-signed request: the route is for hospital systems', async () => {
      const path = content(RECORD);
      const headers = signRequest({ method: 'GET', path, body: '' }, privateKey, { timestamp: NOW, nonce: 'content-nonce-0001' });
      expect(codeOf(await get(path, { headers }))).toEqual([401, 'UNAUTHORIZED']);
      expect(fetcher.asked).toEqual([]);
    });
  });

  describe('GET /v1/patients/{patientId}/records', () => {
    const path = (id: string, q = '') => `/v1/patients/${id}/records${q}`;

    it('lists the patient\'s records and who holds each, for the patient\'s own signed request, without hashes or content', async () => {
      const p = path(patientId);
      const headers = signRequest({ method: 'GET', path: p, body: '' }, privateKey, { timestamp: NOW, nonce: 'records-nonce-0001' });
      const a = await get(p, { headers });
      expect(a.status).toBe(200);
      expect(a.body).toEqual({
        items: [
          { recordId: 'cond-0001', category: 'Condition', custodian: 'HospitalBMSP', version: 1, anchoredAt: NOW - 2000, updatedAt: NOW - 1000 },
          { recordId: RECORD, category: 'Observation', custodian: 'HospitalBMSP', version: 3, anchoredAt: NOW - 2000, updatedAt: NOW - 1000 },
        ],
        bookmark: '',
      });
    });

    it('lists them for a hospital system of the org, a page at a time', async () => {
      const a = await get(path(patientId, '?pageSize=2'), { client: member });
      expect([a.status, a.body.items?.length, a.body.bookmark]).toEqual([200, 2, 'next']);
    });

    it("refuses another patient's signature (403 UNAUTHORIZED), a replayed request (401 NONCE_REPLAYED) and a malformed page (400 INVALID_ARGUMENT)", async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const p = path(patientId);
      const forged = signRequest({ method: 'GET', path: p, body: '' }, other, { timestamp: NOW, nonce: 'records-nonce-0002' });
      expect(codeOf(await get(p, { headers: forged }))).toEqual([403, 'UNAUTHORIZED']);
      const once = signRequest({ method: 'GET', path: p, body: '' }, privateKey, { timestamp: NOW, nonce: 'records-nonce-0003' });
      expect((await get(p, { headers: once })).status).toBe(200);
      expect(codeOf(await get(p, { headers: once }))).toEqual([401, 'NONCE_REPLAYED']);
      expect(codeOf(await get(path(patientId, '?pageSize=0'), { client: member }))).toEqual([400, 'INVALID_ARGUMENT']);
    });
  });
});
