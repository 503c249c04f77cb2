/**
 * Bad input at the record exchange (records/server.ts), started standalone with throw-away PKI and
 * a stand-in custodian: malformed, oversized, slow and unauthenticated requests each get a clear
 * refusal (or a failed TLS handshake), the custodian is never asked (no ledger call, no access
 * logged, nothing released), and the server still answers a good request afterwards.
 */
import Database from 'better-sqlite3';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FabricClient } from '../../../gateway/src/fabric/client';
import { Custodian } from '../../../gateway/src/records/custodian';
import { RecordStore } from '../../../gateway/src/records/store';
import type { FetchAnswer, FetchRequest } from '../../../gateway/src/records/custodian';
import { recordFor } from '../records/store-records';
import type { TrustedOrg } from '../../../gateway/src/records/org-tls';
import { FetchRequestSchema, startRecordServer, type RunningRecordServer } from '../../../gateway/src/records/server';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';
import { bigHead, exchange, handshake, post, silentTcp, slowBody, slowHead, TEST_LIMITS, type Target } from './support';

const FETCH = '/v1/records/fetch';
let server: RunningRecordServer;
let custodianTls: TestOrg;
let requester: Issued;
let stranger: Issued;
let good: Target;
let trusted: TrustedOrg[];
let serverCert: Issued;
const asked: Array<{ requester: string; req: FetchRequest }> = [];

beforeAll(async () => {
  custodianTls = await createOrg('HospitalAMSP-TLS');
  const requesterTls = await createOrg('HospitalBMSP-TLS');
  serverCert = await custodianTls.peer('localhost');
  requester = await requesterTls.client('gateway');
  stranger = await (await createOrg('Elsewhere-TLS')).client('gateway');
  trusted = [
    { mspId: 'HospitalAMSP', org: 'HospitalA', caPem: custodianTls.ca.certPem, ca: new X509Certificate(custodianTls.ca.certPem) },
    { mspId: 'HospitalBMSP', org: 'HospitalB', caPem: requesterTls.ca.certPem, ca: new X509Certificate(requesterTls.ca.certPem) },
  ];
  server = await startRecordServer({
    custodian: {
      answer: (mspId: string, req: FetchRequest): Promise<FetchAnswer> => {
        asked.push({ requester: mspId, req });
        return Promise.resolve({ allowed: false, reason: 'NO_CONSENT', requestId: 'rq-1', txId: 'tx-1', recordId: req.recordId });
      },
      releaseSealedConsent: () => Promise.reject(new Error('no sealed consent is asked for in these tests')),
    },
    identity: { mspId: 'HospitalAMSP', cert: Buffer.from(serverCert.certPem), key: Buffer.from(serverCert.keyPem) },
    trusted,
    limits: TEST_LIMITS,
  });
  good = { port: server.port, tls: { ca: custodianTls.ca.certPem, cert: requester.certPem, key: requester.keyPem } };
});

afterAll(() => server.close());

/** A good request is still answered (by the custodian: a refusal logged on chain, here the stand-in's). */
async function expectStillServing(): Promise<void> {
  const before = asked.length;
  const res = await exchange(good, [post(FETCH, JSON.stringify({ recordId: 'rec-0000000000000001', purpose: 'TREAT' }))]);
  expect([res.status, (res.json as { reason?: string } | undefined)?.reason]).toEqual([403, 'NO_CONSENT']);
  expect(asked.length).toBe(before + 1);
}

describe('record exchange: bad input', () => {
  it('refuses bad JSON, wrong types, unknown fields and non-objects with 400 INVALID_ARGUMENT, without asking the custodian', async () => {
    const bodies = [
      '{"recordId":',
      '{"recordId": 7, "purpose": "TREAT"}',
      '{"recordId": "rec-0000000000000001", "purpose": "treat me"}',
      '{"recordId": "rec-0000000000000001", "purpose": "TREAT", "requester": "HospitalAMSP"}',
      'null',
      '[]',
      '"rec-0000000000000001"',
      '',
    ];
    for (const body of bodies) {
      const res = await exchange(good, [post(FETCH, body)]);
      expect([body, res.status, res.json?.code]).toEqual([body, 400, 'INVALID_ARGUMENT']);
    }
    const garbage = await exchange(good, ['\u0000\u0001 this is not HTTP\r\n\r\n']);
    expect([garbage.status, garbage.json?.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(asked).toEqual([]);
    await expectStillServing();
  });

  it('answers any JSON value that is not a fetch request 400 INVALID_ARGUMENT, and never asks the custodian for it', async () => {
    const before = asked.length;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
        fc.pre(!FetchRequestSchema.safeParse(value).success);
        const res = await exchange(good, [post(FETCH, JSON.stringify(value))]);
        expect([res.status, res.json?.code]).toEqual([400, 'INVALID_ARGUMENT']);
      }),
      { numRuns: 40, seed: 18 },
    );
    expect(asked.length).toBe(before);
    await expectStillServing();
  });

  it('refuses a body over 16 KiB with 413 (declared or streamed) and a head over 8 KiB with 431', async () => {
    const before = asked.length;
    const declared = await exchange(good, [`POST ${FETCH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"recordId":`]);
    expect([declared.status, declared.json?.code]).toEqual([413, 'INVALID_ARGUMENT']);
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    const streamed = await exchange(good, [
      `POST ${FETCH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      chunk(`{"recordId":"${'r'.repeat(10_000)}`),
      chunk(`${'r'.repeat(10_000)}"}`),
      '0\r\n\r\n',
    ]);
    expect([streamed.status, streamed.json?.code]).toEqual([413, 'INVALID_ARGUMENT']);
    const head = await exchange(good, [bigHead(FETCH, 10_000)]);
    expect([head.status, head.json?.code]).toEqual([431, 'INVALID_ARGUMENT']);
    expect(asked.length).toBe(before);
    await expectStillServing();
  });

  it('closes a slow client: a head sent byte by byte (408), a body that never ends (408), a TLS handshake never started', async () => {
    const before = asked.length;
    const [head, body, silent] = await Promise.all([slowHead(good, 50, 10_000), slowBody(good, FETCH, 100, 10_000), silentTcp(server.port, 10_000)]);
    expect([head.status, head.json?.code]).toEqual([408, 'TIMEOUT']);
    expect(head.closedAfterMs).toBeLessThan(3_000);
    expect([body.status, body.json?.code]).toEqual([408, 'TIMEOUT']);
    expect(body.closedAfterMs).toBeLessThan(4_000);
    expect(silent).toBeLessThan(3_000);
    expect(asked.length).toBe(before);
    await expectStillServing();
  });

  it('refuses a client without a certificate, or with one no trusted org issued, at the TLS handshake', async () => {
    const before = asked.length;
    const none = await handshake({ port: server.port, tls: { ca: custodianTls.ca.certPem } });
    const foreign = await handshake({ port: server.port, tls: { ca: custodianTls.ca.certPem, cert: stranger.certPem, key: stranger.keyPem } });
    expect(none).not.toBe('answered');
    expect(foreign).not.toBe('answered');
    expect([none, foreign]).toEqual([expect.stringMatching(/CERTIFICATE_REQUIRED|ECONNRESET|closed/), expect.stringMatching(/UNKNOWN_CA|ECONNRESET|closed/)]);
    expect(asked.length).toBe(before);
    await expectStillServing();
  });
});

describe('record exchange: a stored copy that changed on disk', () => {
  it('answers 500 RECORD_CORRUPT and releases nothing, before any ledger call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medbridge-corrupt-'));
    const file = join(dir, 'HospitalAMSP.sqlite');
    const store = new RecordStore(file);
    const record = recordFor(42, 1);
    store.put(record);
    // Bit rot under SQLite: the content changes, the row's checksum does not.
    const raw = new Database(file);
    raw.prepare('UPDATE records SET content = ? WHERE record_id = ?').run(Buffer.from('{"resourceType":"Tampered"}'), record.recordId);
    raw.close();
    const ledgerCalls: string[] = [];
    // Any use of the Fabric client would be a ledger call: none may happen.
    const client = new Proxy({}, { get: (_t, name) => (ledgerCalls.push(String(name)), undefined) }) as unknown as FabricClient;
    const exchangeServer = await startRecordServer({
      custodian: new Custodian(client, store),
      identity: { mspId: 'HospitalAMSP', cert: Buffer.from(serverCert.certPem), key: Buffer.from(serverCert.keyPem) },
      trusted,
      limits: TEST_LIMITS,
    });
    try {
      const res = await exchange({ ...good, port: exchangeServer.port }, [post(FETCH, JSON.stringify({ recordId: record.recordId, purpose: 'TREAT' }))]);
      expect([res.status, res.json?.code]).toEqual([500, 'RECORD_CORRUPT']);
      expect(res.text).not.toContain('Tampered');
      expect(res.text).not.toContain(record.salt.toString('base64'));
      expect(ledgerCalls).toEqual([]);
    } finally {
      await exchangeServer.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
