/**
 * Patient-signed requests (gateway/src/api/request-signing.ts): a request verifies against
 * the patient's registered key only, for the patient it is about, once, and only while fresh.
 * Each refusal has its exact code and HTTP status.
 */
import { generateKeyPairSync } from 'node:crypto';
import { exportPublicKey, patientIdOf } from '@medbridge/chaincode';
import { ApiError } from '../../../gateway/src/api/errors';
import { NonceWindow, REQUEST_HEADERS, requestForm, signRequest, verifySignedRequest, API_REQUEST_DOMAIN } from '../../../gateway/src/api/request-signing';

const NOW = 1_760_000_000_000;
const SKEW = 60_000;

function patient() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKey = exportPublicKey(privateKey);
  return { privateKey, publicKey, patientId: patientIdOf(publicKey) };
}

const alice = patient();
const bob = patient();
const registry = new Map([
  [alice.patientId, alice.publicKey],
  [bob.patientId, bob.publicKey],
]);
const publicKeyOf = (id: string) => {
  const key = registry.get(id);
  return key ? Promise.resolve(key) : Promise.reject(new ApiError(401, 'PATIENT_NOT_REGISTERED', id));
};

const path = (id: string) => `/v1/patients/${id}/consents?pageSize=10`;
let counter = 0;
const freshNonce = () => `nonce-${String(counter++).padStart(12, '0')}`;

function signed(who = alice, opts: { path?: string; body?: string; timestamp?: number; nonce?: string } = {}) {
  const req = { method: 'GET', path: opts.path ?? path(who.patientId), body: opts.body ?? '' };
  const headers = signRequest(req, who.privateKey, { timestamp: opts.timestamp ?? NOW, nonce: opts.nonce ?? freshNonce() });
  return { ...req, headers: headers as Record<string, string> };
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { code: e.code, status: e.status };
  }
}

describe('patient-signed requests', () => {
  let nonces: NonceWindow;
  const verify = (req: ReturnType<typeof signed>, expectedPatient: string | undefined = alice.patientId, now = NOW) =>
    verifySignedRequest(req, { expectedPatient, publicKeyOf, now, maxSkewMs: SKEW, nonces });

  beforeEach(() => {
    nonces = new NonceWindow(SKEW);
  });

  it('signs the canonical request form and verifies against the registered key', async () => {
    const req = signed();
    expect(await verify(req)).toBe(alice.patientId);
    const form = requestForm(req, alice.patientId, NOW, req.headers[REQUEST_HEADERS.nonce]!);
    expect(form).toMatchObject({ domain: API_REQUEST_DOMAIN, method: 'GET', path: path(alice.patientId), timestamp: NOW });
    expect(form.bodyHash).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('accepts a request signed up to the skew bound on either side of the server clock', async () => {
    expect(await verify(signed(alice, { timestamp: NOW - SKEW }))).toBe(alice.patientId);
    expect(await verify(signed(alice, { timestamp: NOW + SKEW }))).toBe(alice.patientId);
  });

  it('refuses a signature by another key than the registered one (PATIENT_SIGNATURE_INVALID, 401)', async () => {
    // Bob signs, but claims to be Alice: the signature is checked against Alice's key.
    const req = signed(bob, { path: path(alice.patientId) });
    req.headers[REQUEST_HEADERS.patient] = alice.patientId;
    expect(await refusal(verify(req))).toEqual({ code: 'PATIENT_SIGNATURE_INVALID', status: 401 });
  });

  it('refuses a request whose body, path or method changed after signing (PATIENT_SIGNATURE_INVALID)', async () => {
    const body = signed(alice, { body: '{"a":1}' });
    expect(await refusal(verify({ ...body, body: '{"a":2}' }))).toEqual({ code: 'PATIENT_SIGNATURE_INVALID', status: 401 });
    const p = signed();
    expect(await refusal(verify({ ...p, path: `${p.path}&pageSize=200` }))).toEqual({ code: 'PATIENT_SIGNATURE_INVALID', status: 401 });
    const m = signed();
    expect(await refusal(verify({ ...m, method: 'DELETE' }))).toEqual({ code: 'PATIENT_SIGNATURE_INVALID', status: 401 });
  });

  it('refuses a signature that is not 64 bytes of canonical base64 (PATIENT_SIGNATURE_INVALID)', async () => {
    const req = signed();
    req.headers[REQUEST_HEADERS.signature] = Buffer.alloc(70).toString('base64');
    expect(await refusal(verify(req))).toEqual({ code: 'PATIENT_SIGNATURE_INVALID', status: 401 });
  });

  it('refuses a replayed request inside the window (NONCE_REPLAYED), and the first one stays accepted', async () => {
    const req = signed();
    expect(await verify(req)).toBe(alice.patientId);
    expect(await refusal(verify(req, alice.patientId, NOW + 1_000))).toEqual({ code: 'NONCE_REPLAYED', status: 401 });
    expect(nonces.size).toBe(1);
  });

  it('keeps nonces per patient: the same nonce from another patient is not a replay', async () => {
    expect(await verify(signed(alice, { nonce: 'shared-nonce-0000001' }))).toBe(alice.patientId);
    expect(await verify(signed(bob, { nonce: 'shared-nonce-0000001' }), bob.patientId)).toBe(bob.patientId);
  });

  it('does not spend a nonce on a request whose signature fails', async () => {
    const good = signed();
    const forged = { ...good, body: 'changed' };
    expect(await refusal(verify(forged))).toEqual({ code: 'PATIENT_SIGNATURE_INVALID', status: 401 });
    expect(nonces.size).toBe(0);
    expect(await verify(good)).toBe(alice.patientId);
  });

  it('refuses an expired request and one from the future beyond the skew (MESSAGE_STALE, 401)', async () => {
    expect(await refusal(verify(signed(alice, { timestamp: NOW - SKEW - 1 })))).toEqual({ code: 'MESSAGE_STALE', status: 401 });
    expect(await refusal(verify(signed(alice, { timestamp: NOW + SKEW + 1 })))).toEqual({ code: 'MESSAGE_STALE', status: 401 });
    expect(nonces.size).toBe(0);
  });

  it("refuses a valid request of one patient for another patient's data (UNAUTHORIZED, 403)", async () => {
    const req = signed(bob, { path: path(alice.patientId) });
    expect(await refusal(verify(req, alice.patientId))).toEqual({ code: 'UNAUTHORIZED', status: 403 });
  });

  it('refuses a patient that is not registered (PATIENT_NOT_REGISTERED)', async () => {
    const stranger = patient();
    expect(await refusal(verify(signed(stranger), stranger.patientId))).toEqual({ code: 'PATIENT_NOT_REGISTERED', status: 401 });
  });

  it('refuses missing headers (UNAUTHORIZED, 401) and malformed ones (INVALID_ARGUMENT, 400)', async () => {
    const req = signed();
    const noNonce = { ...req, headers: { ...req.headers } };
    delete noNonce.headers[REQUEST_HEADERS.nonce];
    expect(await refusal(verify(noNonce))).toEqual({ code: 'UNAUTHORIZED', status: 401 });
    expect(await refusal(verify({ ...req, headers: { ...req.headers, [REQUEST_HEADERS.nonce]: 'short' } }))).toEqual({ code: 'INVALID_ARGUMENT', status: 400 });
    expect(await refusal(verify({ ...req, headers: { ...req.headers, [REQUEST_HEADERS.timestamp]: 'yesterday' } }))).toEqual({ code: 'INVALID_ARGUMENT', status: 400 });
    expect(await refusal(verify({ ...req, headers: { ...req.headers, [REQUEST_HEADERS.patient]: 'pt_nothex' } }))).toEqual({ code: 'INVALID_ARGUMENT', status: 400 });
  });

  it('forgets a nonce once its request could no longer pass the timestamp check', () => {
    const window = new NonceWindow(SKEW);
    expect(window.use(alice.patientId, 'n-0000000000000001', NOW, NOW)).toBe(true);
    expect(window.use(alice.patientId, 'n-0000000000000001', NOW, NOW + SKEW)).toBe(false);
    expect(window.use(alice.patientId, 'n-0000000000000002', NOW + 2 * SKEW, NOW + 2 * SKEW)).toBe(true);
    expect(window.size).toBe(1);
  });
});
