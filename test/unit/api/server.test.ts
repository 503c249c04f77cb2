/**
 * The API's glue without a network (a loopback listener, a stand-in chaincode): the OpenAPI document
 * is generated from the routes, bad input is a 4xx `{code, message}` and never reaches the
 * chaincode, hospital routes need a client certificate, and a patient-signed registration
 * proves the key it registers.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { exportPublicKey, patientIdOf } from '@medbridge/chaincode';
import { parseServeConfig } from '../../../gateway/src/api/config';
import { signRequest } from '../../../gateway/src/api/request-signing';
import { buildApi } from '../../../gateway/src/api/server';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { silentLogger } from '../../../gateway/src/logger';

const NOW = 1_760_000_000_000;

function fakeChaincode(calls: string[]): Chaincode {
  const registered = new Map<string, string>();
  return {
    channel: 'chain-a',
    chainId: () => Promise.resolve('chain-a'),
    system: { ping: () => Promise.resolve({ channel: 'chain-a' }) },
    consent: {
      registerPatient: (publicKey: string) => {
        calls.push('registerPatient');
        registered.set(patientIdOf(publicKey), publicKey);
        return Promise.resolve({ txId: 'tx1', blockNumber: 7n, result: { patientId: patientIdOf(publicKey), publicKey } });
      },
      getPatient: (id: string) => {
        const publicKey = registered.get(id);
        return publicKey ? Promise.resolve({ patientId: id, publicKey }) : Promise.reject(Object.assign(new Error(`NOT_FOUND: patient ${id}`), {}));
      },
      grantConsent: () => {
        calls.push('grantConsent');
        return Promise.reject(new Error('not expected'));
      },
    },
  } as unknown as Chaincode;
}

describe('API server', () => {
  const calls: string[] = [];
  let app: FastifyInstance;
  let base: string;
  /** One HTTP exchange over loopback (light-my-request's ESM cookie module does not load under jest). */
  const inject = async (o: { method?: string; url: string; headers?: Record<string, string>; payload?: string }) => {
    const res = await fetch(`${base}${o.url}`, { method: o.method ?? 'GET', headers: o.headers, body: o.payload });
    const text = await res.text();
    return { statusCode: res.status, json: <T = unknown>() => JSON.parse(text) as T };
  };
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKey = exportPublicKey(privateKey);

  beforeAll(async () => {
    const config = parseServeConfig({ org: 'HospitalA', logLevel: 'silent', bodyLimitBytes: 2048 }, '/');
    app = await buildApi({ config, chaincode: fakeChaincode(calls), logger: silentLogger, clock: () => NOW });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(() => app.close());
  beforeEach(() => calls.splice(0));

  it('publishes an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json<{ openapi: string; paths: Record<string, unknown>; components: { securitySchemes: Record<string, { type: string }> } }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/patients', '/v1/consents', '/v1/consents/{consentId}/records', '/v1/events', '/healthz', '/readyz', '/metrics']));
    expect(doc.components.securitySchemes.hospitalTls?.type).toBe('mutualTLS');
  });

  it('answers liveness and readiness', async () => {
    expect((await inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', channel: 'chain-a' });
  });

  it('refuses a body that is not JSON, does not match the schema or is too large with 4xx INVALID_ARGUMENT', async () => {
    const post = (payload: string) => inject({ method: 'POST', url: '/v1/consents', headers: { 'content-type': 'application/json' }, payload });
    const broken = await post('{"message":');
    expect([broken.statusCode, broken.json<{ code: string }>().code]).toEqual([400, 'INVALID_ARGUMENT']);
    const shape = await post(JSON.stringify({ message: 1, publicKey: 'AA==', signature: 'AA==' }));
    expect([shape.statusCode, shape.json<{ code: string }>().code]).toEqual([400, 'INVALID_ARGUMENT']);
    const large = await post(JSON.stringify({ pad: 'x'.repeat(4096) }));
    expect([large.statusCode, large.json<{ code: string }>().code]).toEqual([413, 'INVALID_ARGUMENT']);
    const text = await inject({ method: 'POST', url: '/v1/consents', headers: { 'content-type': 'application/xml' }, payload: '<grant/>' });
    expect([text.statusCode, text.json<{ code: string }>().code]).toEqual([415, 'INVALID_ARGUMENT']);
    expect(calls).toEqual([]);
  });

  it('refuses a hospital route without a client certificate (UNAUTHORIZED) and an unknown route (NOT_FOUND)', async () => {
    const res = await inject({ method: 'GET', url: '/v1/records/r1' });
    expect([res.statusCode, res.json<{ code: string }>().code]).toEqual([401, 'UNAUTHORIZED']);
    const none = await inject({ method: 'GET', url: '/v1/nothing' });
    expect([none.statusCode, none.json<{ code: string }>().code]).toEqual([404, 'NOT_FOUND']);
  });

  it('registers a patient whose device signs the request with the key it registers; another key is refused', async () => {
    const payload = JSON.stringify({ publicKey });
    const headers = signRequest({ method: 'POST', path: '/v1/patients', body: payload }, privateKey, { timestamp: NOW, nonce: 'register-nonce-0001' });
    const ok = await inject({ method: 'POST', url: '/v1/patients', headers: { ...headers, 'content-type': 'application/json' }, payload });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ txId: 'tx1', blockNumber: '7', result: { patientId: patientIdOf(publicKey), publicKey } });

    const other = exportPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const body = JSON.stringify({ publicKey: other });
    const forged = signRequest({ method: 'POST', path: '/v1/patients', body }, privateKey, { timestamp: NOW, nonce: 'register-nonce-0002' });
    const res = await inject({ method: 'POST', url: '/v1/patients', headers: { ...forged, 'content-type': 'application/json' }, payload: body });
    expect([res.statusCode, res.json<{ code: string }>().code]).toEqual([403, 'UNAUTHORIZED']);
    expect(calls).toEqual(['registerPatient']);
  });
});
