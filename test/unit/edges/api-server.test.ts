/**
 * Bad input at the hospital API (api/server.ts) over mutual TLS, with throw-away PKI and a
 * stand-in chaincode: heads over the limit, garbage, slow clients and callers without a
 * certificate of the org's CA get a clear refusal, the chaincode is never called for them, and
 * the server still answers a good request afterwards. (Bad and oversized bodies: api/server.test.ts.)
 */
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { exportPublicKey, patientIdOf } from '@medbridge/chaincode';
import { ClientCertificates } from '../../../gateway/src/api/client-identity';
import { parseServeConfig } from '../../../gateway/src/api/config';
import { buildApi } from '../../../gateway/src/api/server';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { silentLogger } from '../../../gateway/src/logger';
import { createOrg, type Issued, type TestOrg } from '../../fixtures/pki';
import { bigHead, exchange, post, silentTcp, slowBody, slowHead, TEST_LIMITS, type Target } from './support';

const patientId = patientIdOf(exportPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
const PATIENT = `/v1/patients/${patientId}`;
const calls: string[] = [];
let app: FastifyInstance;
let hospitalA: TestOrg;
let stranger: Issued;
let good: Target;

function fakeChaincode(): Chaincode {
  return {
    channel: 'chain-a',
    chainId: () => Promise.resolve('chain-a'),
    system: { ping: () => Promise.resolve({ channel: 'chain-a' }) },
    consent: {
      getPatient: (id: string) => {
        calls.push('getPatient');
        return Promise.reject(new Error(`NOT_FOUND: patient ${id}`));
      },
    },
  } as unknown as Chaincode;
}

beforeAll(async () => {
  hospitalA = await createOrg('HospitalAMSP');
  const server = await hospitalA.peer('localhost');
  const clerk = await hospitalA.client('clerk');
  stranger = await (await createOrg('HospitalBMSP')).client('clerk');
  const config = parseServeConfig({ org: 'HospitalA', logLevel: 'silent', bodyLimitBytes: 2048, limits: TEST_LIMITS }, '/');
  app = await buildApi({
    config,
    chaincode: fakeChaincode(),
    tls: { certificates: new ClientCertificates('HospitalAMSP', [hospitalA.ca.certPem]), cert: server.certPem, key: server.keyPem },
    logger: silentLogger,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  good = { port: (app.server.address() as AddressInfo).port, tls: { ca: hospitalA.ca.certPem, cert: clerk.certPem, key: clerk.keyPem } };
});

afterAll(() => app.close());

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;

/** A hospital system of the org is still served: its request reaches the chaincode. */
async function expectStillServing(): Promise<void> {
  const before = calls.length;
  const res = await exchange(good, [get(PATIENT)]);
  expect([res.status, res.json?.code]).toEqual([404, 'NOT_FOUND']);
  expect(calls.length).toBe(before + 1);
}

describe('hospital API: bad input at the edge', () => {
  it('refuses a caller without a certificate, or with another org\'s, with 401 UNAUTHORIZED and calls nothing', async () => {
    const none = await exchange({ port: good.port, tls: { ca: hospitalA.ca.certPem } }, [get(PATIENT)]);
    const foreign = await exchange({ port: good.port, tls: { ca: hospitalA.ca.certPem, cert: stranger.certPem, key: stranger.keyPem } }, [get(PATIENT)]);
    expect([none.status, none.json?.code, foreign.status, foreign.json?.code]).toEqual([401, 'UNAUTHORIZED', 401, 'UNAUTHORIZED']);
    expect(calls).toEqual([]);
    await expectStillServing();
  });

  it('refuses a head over the limit (431), garbage (400) and a body over bodyLimitBytes (413), with a code', async () => {
    const before = calls.length;
    const head = await exchange(good, [bigHead(PATIENT, 10_000)]);
    expect([head.status, head.json?.code]).toEqual([431, 'INVALID_ARGUMENT']);
    const garbage = await exchange(good, ['\u0000 not HTTP\r\n\r\n']);
    expect([garbage.status, garbage.json?.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const big = await exchange(good, [post('/v1/consents', JSON.stringify({ pad: 'x'.repeat(4_000) }))]);
    expect([big.status, big.json?.code]).toEqual([413, 'INVALID_ARGUMENT']);
    expect(calls.length).toBe(before);
    await expectStillServing();
  });

  it('closes a slow client: a head sent byte by byte (408), a body that never ends (408), a TLS handshake never started', async () => {
    const before = calls.length;
    const [head, body, silent] = await Promise.all([slowHead(good, 50, 10_000), slowBody(good, '/v1/consents', 100, 10_000), silentTcp(good.port, 10_000)]);
    expect([head.status, head.json?.code, body.status, body.json?.code]).toEqual([408, 'TIMEOUT', 408, 'TIMEOUT']);
    expect(Math.max(head.closedAfterMs, body.closedAfterMs, silent)).toBeLessThan(4_000);
    expect(calls.length).toBe(before);
    await expectStillServing();
  });

  it('applies the configured limits to its server', () => {
    expect([app.server.headersTimeout, app.server.requestTimeout, app.server.keepAliveTimeout]).toEqual([
      TEST_LIMITS.headersTimeoutMs,
      TEST_LIMITS.requestTimeoutMs,
      TEST_LIMITS.keepAliveTimeoutMs,
    ]);
  });
});
