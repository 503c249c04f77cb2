/**
 * The API's glue without a network (a loopback listener, a stand-in chaincode): the OpenAPI document
 * is generated from the routes, bad input is a 4xx `{code, message}` and never reaches the
 * chaincode, hospital routes need a client certificate, and a patient-signed registration
 * proves the key it registers.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { exportFhirConsent, exportPublicKey, parseConsentPolicy, patientIdOf } from '@medbridge/chaincode';
import { parseServeConfig } from '../../../gateway/src/api/config';
import { signRequest } from '../../../gateway/src/api/request-signing';
import { buildApi } from '../../../gateway/src/api/server';
import { ClientError } from '../../../gateway/src/errors';
import { keyFromPrivate } from '../../../gateway/src/services/patient-keys';
import { PatientSigner } from '../../../gateway/src/services/patient-signer';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { silentLogger } from '../../../gateway/src/logger';

const NOW = 1_760_000_000_000;
const DAY = 86_400_000;

// What the stand-in chaincode holds for the FHIR routes: one patient's consent v2 and v1, and two log entries.
const { privateKey: patientKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PATIENT = patientIdOf(exportPublicKey(patientKey));
const { privateKey: otherKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const POLICY_ID = `cs_${'a'.repeat(64)}`;
const V1_ID = `cs_${'c'.repeat(64)}`;
const STORED = new Map<string, unknown>([
  [
    POLICY_ID,
    {
      consentId: POLICY_ID,
      patientId: PATIENT,
      format: 'medbridge/consent-policy/v2',
      policy: { format: 'medbridge/consent-policy/v2', decision: 'permit', period: { start: NOW, end: NOW + DAY }, provisions: [{ securityLabels: ['PSY'] }] },
      effectiveStatus: 'active',
      grant: { message: { keeper: 'HospitalAMSP' } },
    },
  ],
  [V1_ID, { consentId: V1_ID, patientId: PATIENT, grantee: 'HospitalBMSP', terms: {}, effectiveStatus: 'active', grant: { message: {} } }],
]);
const LOG = [true, false].map((allowed, i) => ({
  kind: 'access',
  patientId: PATIENT,
  recordId: 'psy-1',
  requester: 'HospitalBMSP',
  purpose: 'TREAT',
  allowed,
  reason: allowed ? 'consent' : 'consent-denied',
  consentId: POLICY_ID,
  provisionPath: allowed ? [] : [0],
  emergencyId: null,
  review: null,
  loggedBy: 'HospitalAMSP',
  requestId: null,
  txId: `t${i}`,
  time: NOW - (2 - i) * 1000,
}));

function fakeChaincode(calls: string[]): Chaincode {
  const registered = new Map<string, string>([patientKey, otherKey].map((k) => [patientIdOf(exportPublicKey(k)), exportPublicKey(k)]));
  return {
    channel: 'chain-a',
    chainId: () => Promise.resolve('chain-a'),
    system: { ping: () => Promise.resolve({ channel: 'chain-a' }) },
    governance: { getMembers: () => Promise.resolve({ members: ['HospitalAMSP', 'HospitalCMSP'] }) },
    // The peer does not answer a read of the routes: where a consent went cannot be read.
    crossChain: { listRoutes: () => Promise.reject(new ClientError('UNAVAILABLE', 'unavailable', 'peer0.hospitala: connection refused')) },
    consent: {
      registerPatient: (publicKey: string) => {
        calls.push('registerPatient');
        registered.set(patientIdOf(publicKey), publicKey);
        return Promise.resolve({ txId: 'tx1', blockNumber: 7n, result: { patientId: patientIdOf(publicKey), publicKey } });
      },
      registerPatientPrivately: (publicKey: string) => {
        calls.push('registerPatientPrivately');
        registered.set(patientIdOf(publicKey), publicKey);
        return Promise.resolve({ txId: 'tx0', blockNumber: 6n, result: { patientId: patientIdOf(publicKey), publicKey } });
      },
      getPatient: (id: string) => {
        const publicKey = registered.get(id);
        return publicKey ? Promise.resolve({ patientId: id, publicKey }) : Promise.reject(Object.assign(new Error(`NOT_FOUND: patient ${id}`), {}));
      },
      grantConsent: () => {
        calls.push('grantConsent');
        return Promise.reject(new Error('not expected'));
      },
      findConsent: (id: string) => {
        calls.push('findConsent');
        const consent = STORED.get(id);
        return consent ? Promise.resolve(consent) : Promise.reject(new ClientError('NOT_FOUND', 'rejected', `consent ${id} does not exist`));
      },
      revokeConsent: () => {
        calls.push('revokeConsent');
        return Promise.resolve({ txId: 'tx9', blockNumber: 9n, result: { consentId: V1_ID, status: 'revoked' } });
      },
      listAccessLogSigned: (_signed: unknown, page: { pageSize?: number; bookmark?: string }) => {
        calls.push(`listAccessLogSigned ${page.pageSize ?? ''} ${page.bookmark ?? ''}`);
        const from = Number(page.bookmark || '0');
        const size = page.pageSize ?? 100;
        const items = LOG.slice(from, from + size);
        return Promise.resolve({ items, bookmark: from + size < LOG.length ? String(from + size) : '' });
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
    return { statusCode: res.status, type: res.headers.get('content-type'), json: <T = unknown>() => JSON.parse(text) as T };
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

  // A request the patient's device signs (gateway/API.md "Patient requests"), path with its query.
  const asPatient = (method: string, url: string, payload = '') => {
    const headers = signRequest({ method, path: url, body: payload }, patientKey, { timestamp: NOW, nonce: `fhir-${Math.random().toString(36).slice(2)}-nonce`, patientId: PATIENT });
    return inject({ method, url, headers: payload === '' ? headers : { ...headers, 'content-type': 'application/json' }, ...(payload === '' ? {} : { payload }) });
  };

  it("gives a patient their consent v2 as a FHIR R5 Consent (format=fhir); a v1 consent and an unknown format are 400, another's 403", async () => {
    const fhir = await asPatient('GET', `/v1/consents/${POLICY_ID}?format=fhir`);
    expect([fhir.statusCode, fhir.type]).toEqual([200, 'application/fhir+json; charset=utf-8']);
    expect(fhir.json()).toMatchObject({
      resourceType: 'Consent',
      status: 'active',
      decision: 'permit',
      identifier: [{ value: POLICY_ID }],
      subject: { identifier: { value: PATIENT } },
      controller: [{ reference: 'Organization/HospitalAMSP' }],
    });
    const plain = await asPatient('GET', `/v1/consents/${POLICY_ID}`);
    expect([plain.statusCode, plain.json<{ consentId: string }>().consentId]).toEqual([200, POLICY_ID]);
    const v1 = await asPatient('GET', `/v1/consents/${V1_ID}?format=fhir`);
    expect([v1.statusCode, v1.json<{ code: string }>().code]).toEqual([400, 'INVALID_ARGUMENT']);
    const xml = await asPatient('GET', `/v1/consents/${POLICY_ID}?format=xml`);
    expect([xml.statusCode, xml.json<{ code: string }>().code]).toEqual([400, 'INVALID_ARGUMENT']);
    // Another patient's device signs its own requests: it reads no one else's consent.
    const url = `/v1/consents/${POLICY_ID}?format=fhir`;
    const other = signRequest({ method: 'GET', path: url, body: '' }, otherKey, { timestamp: NOW, nonce: 'fhir-other-patient-nonce' });
    const refused = await inject({ method: 'GET', url, headers: other });
    expect([refused.statusCode, refused.json<{ code: string }>().code]).toEqual([403, 'UNAUTHORIZED']);
  });

  it('keeps a committed revocation when it cannot read where the consent went: 201, carried null, the error said', async () => {
    const revocation = JSON.stringify(new PatientSigner('chain-a', () => NOW).revocation(keyFromPrivate(patientKey), PATIENT, V1_ID));
    const res = await asPatient('POST', `/v1/consents/${V1_ID}/revocation`, revocation);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ txId: 'tx9', result: { status: 'revoked' }, carried: null, carryError: { code: 'UNAVAILABLE' } });
    expect(calls).toEqual(['revokeConsent', 'findConsent']);
  });

  it("gives the patient's signed log read as a FHIR Bundle of AuditEvents, page by page with a next link (format=fhir)", async () => {
    // The device's signed read, as the app makes it (the stand-in chaincode does not verify it; the real one does).
    const signed = JSON.stringify(new PatientSigner('chain-a', () => NOW).accessLogRead(keyFromPrivate(patientKey), PATIENT));
    const first = await asPatient('POST', `/v1/patients/${PATIENT}/access-log/read?format=fhir&pageSize=1`, signed);
    expect([first.statusCode, first.type]).toEqual([200, 'application/fhir+json; charset=utf-8']);
    const bundle = first.json<{ resourceType: string; type: string; entry: Array<{ resource: { resourceType: string; outcome: { code: { code: string } } } }>; link: Array<{ relation: string; url: string }> }>();
    expect([bundle.resourceType, bundle.type]).toEqual(['Bundle', 'collection']);
    expect(bundle.entry.map((e) => [e.resource.resourceType, e.resource.outcome.code.code])).toEqual([['AuditEvent', '0']]);
    expect(bundle.link).toEqual([{ relation: 'next', url: `/v1/patients/${PATIENT}/access-log/read?format=fhir&pageSize=1&bookmark=1` }]);
    const last = await asPatient('POST', bundle.link[0]!.url, signed);
    const rest = last.json<{ entry: Array<{ resource: { outcome: { code: { code: string } } } }>; link?: unknown }>();
    expect(rest.entry.map((e) => e.resource.outcome.code.code)).toEqual(['4']);
    expect(rest.link).toBeUndefined();
    // Without format the answer is this API's own page.
    const own = await asPatient('POST', `/v1/patients/${PATIENT}/access-log/read`, signed);
    expect(own.json<{ items: unknown[]; bookmark: string }>()).toEqual({ items: LOG, bookmark: '' });
    expect(calls.filter((c) => c.startsWith('listAccessLogSigned'))).toEqual(['listAccessLogSigned 1 ', 'listAccessLogSigned 1 1', 'listAccessLogSigned  ']);
  });

  it('checks a FHIR Consent as the consent v2 a patient would sign, and signs nothing: policy, words, bounds filled, whom it can permit', async () => {
    const policy = (org: string) => ({
      format: 'medbridge/consent-policy/v2',
      decision: 'deny',
      provisions: [{ actors: [{ participation: 'recipient', org }], actions: ['access'], purposes: ['HRESCH'], provisions: [{ securityLabels: ['PSY'] }] }],
    });
    const body = (org: string) => JSON.stringify({ ...exportFhirConsent(parseConsentPolicy(policy(org), { order: 'normalize' })), id: 'doc-1' });
    const here = await asPatient('POST', '/v1/consents/fhir-check?days=30', body('HospitalCMSP'));
    expect(here.statusCode).toBe(200);
    expect(here.json()).toMatchObject({
      version: 'R5',
      policy: { ...policy('HospitalCMSP'), period: { start: NOW, end: NOW + 30 * DAY } },
      periodFilled: ['start', 'end'],
      notCarried: ['Consent.id'],
      grantees: ['HospitalCMSP'],
      keptPrivatelyByDefault: true,
      schema: 'hl7.fhir.r5.core 5.0.0',
    });
    expect(here.json<{ summary: string[] }>().summary).toEqual([expect.stringMatching(/^deny every request, in force /), '  [0] permit: by HospitalCMSP, to access, for HRESCH (and their sub-purposes), except:', expect.stringMatching(/^ {4}\[0, 0\] deny: records labelled PSY$/)]);
    // An org of another chain: the clients record it publicly by default (it crosses as a consent packet).
    expect((await asPatient('POST', '/v1/consents/fhir-check', body('HospitalBMSP'))).json()).toMatchObject({ grantees: ['HospitalBMSP'], keptPrivatelyByDefault: false });
    // What it cannot enforce is refused with the element path; what is not FHIR, by the R5 schema.
    const related = JSON.stringify({ resourceType: 'Consent', status: 'active', decision: 'permit', provision: [{ data: [{ meaning: 'related', reference: { reference: 'Observation/1' } }] }] });
    const refused = await asPatient('POST', '/v1/consents/fhir-check', related);
    expect([refused.statusCode, refused.json<{ code: string }>().code]).toEqual([400, 'FHIR_ELEMENT_UNSUPPORTED']);
    expect(refused.json<{ message: string }>().message).toMatch(/^Consent\.provision\[0\]\.data\[0\]\.meaning/);
    const notFhir = await asPatient('POST', '/v1/consents/fhir-check', JSON.stringify({ resourceType: 'Consent', status: 'active', decision: 'permit', provision: [{ colour: 'blue' }] }));
    expect([notFhir.statusCode, notFhir.json<{ code: string }>().code]).toEqual([400, 'FHIR_CONSENT_INVALID']);
    expect(notFhir.json<{ message: string }>().message).toMatch(/Consent\.provision\[0\]\.colour/);
    const days = await asPatient('POST', '/v1/consents/fhir-check?days=0', body('HospitalCMSP'));
    expect([days.statusCode, days.json<{ code: string }>().code]).toEqual([400, 'INVALID_ARGUMENT']);
    // Nothing was signed or submitted.
    expect(calls).toEqual([]);
  });

  it('registers a patient whose device signs the request with the key it registers (privately unless asked publicly); another key is refused', async () => {
    const payload = JSON.stringify({ publicKey });
    const headers = signRequest({ method: 'POST', path: '/v1/patients', body: payload }, privateKey, { timestamp: NOW, nonce: 'register-nonce-0001' });
    const ok = await inject({ method: 'POST', url: '/v1/patients', headers: { ...headers, 'content-type': 'application/json' }, payload });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ txId: 'tx0', blockNumber: '6', result: { patientId: patientIdOf(publicKey), publicKey } });
    const publicPayload = JSON.stringify({ publicKey, publicly: true });
    const publicHeaders = signRequest({ method: 'POST', path: '/v1/patients', body: publicPayload }, privateKey, { timestamp: NOW, nonce: 'register-nonce-0003' });
    const publicOk = await inject({ method: 'POST', url: '/v1/patients', headers: { ...publicHeaders, 'content-type': 'application/json' }, payload: publicPayload });
    expect(publicOk.json()).toEqual({ txId: 'tx1', blockNumber: '7', result: { patientId: patientIdOf(publicKey), publicKey } });

    const other = exportPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const body = JSON.stringify({ publicKey: other });
    const forged = signRequest({ method: 'POST', path: '/v1/patients', body }, privateKey, { timestamp: NOW, nonce: 'register-nonce-0002' });
    const res = await inject({ method: 'POST', url: '/v1/patients', headers: { ...forged, 'content-type': 'application/json' }, payload: body });
    expect([res.statusCode, res.json<{ code: string }>().code]).toEqual([403, 'UNAUTHORIZED']);
    expect(calls).toEqual(['registerPatientPrivately', 'registerPatient']);
  });
});
