/**
 * Enrolment codes (gateway/API.md "Enrolment"): a code is redeemed once, an expired or unknown
 * one is refused with its own code, codes survive a restart (the file in the data folder), the
 * file never holds a code, and redeeming registers the key the device proves it holds.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { exportPublicKey, patientIdOf } from '@medbridge/chaincode';
import { parseServeConfig } from '../../../gateway/src/api/config';
import { EnrolmentCode, EnrolmentStore, normaliseCode } from '../../../gateway/src/api/enrolments';
import { ApiError } from '../../../gateway/src/api/errors';
import { signRequest } from '../../../gateway/src/api/request-signing';
import { buildApi } from '../../../gateway/src/api/server';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { silentLogger } from '../../../gateway/src/logger';

const NOW = 1_760_000_000_000;
const MIN = 60_000;

function codeOf(f: () => void): string {
  try {
    f();
  } catch (e) {
    return (e as ApiError).code;
  }
  return 'none';
}

describe('enrolment codes', () => {
  it('issues codes a person can read back (groups of four, no I, L, O, U) and accepts them typed loosely', () => {
    const store = new EnrolmentStore();
    const { code, expiresAt } = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    expect(code).toMatch(EnrolmentCode);
    expect(expiresAt).toBe(NOW + 15 * MIN);
    expect(normaliseCode(code.toLowerCase().replace(/-/g, ' '))).toBe(code);
  });

  it('redeems a code once; a second use is ENROLMENT_USED', () => {
    const store = new EnrolmentStore();
    const { code } = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    expect(codeOf(() => store.redeem(code, 'pt_a', NOW + MIN))).toBe('none');
    expect(codeOf(() => store.redeem(code, 'pt_b', NOW + 2 * MIN))).toBe('ENROLMENT_USED');
    expect(store.pending(NOW + 2 * MIN)).toBe(0);
  });

  it('refuses an expired code (ENROLMENT_EXPIRED) and an unknown one (ENROLMENT_UNKNOWN)', () => {
    const store = new EnrolmentStore();
    const { code } = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    expect(codeOf(() => store.redeem(code, 'pt_a', NOW + 15 * MIN))).toBe('ENROLMENT_EXPIRED');
    expect(codeOf(() => store.redeem('AAAA-BBBB-CCCC', 'pt_a', NOW))).toBe('ENROLMENT_UNKNOWN');
    expect(store.pending(NOW)).toBe(1);
  });

  it('gives a code back when the registration it allowed failed', () => {
    const store = new EnrolmentStore();
    const { code } = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    store.redeem(code, 'pt_a', NOW);
    store.release(code);
    expect(codeOf(() => store.redeem(code, 'pt_a', NOW))).toBe('none');
  });

  it('keeps codes across a restart in its file, which holds only their hashes', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'medbridge-enrol-')), 'serve', 'enrolments.json');
    const first = new EnrolmentStore(file);
    const a = first.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    const b = first.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    first.redeem(a.code, 'pt_a', NOW);
    expect(readFileSync(file, 'utf8')).not.toContain(a.code);
    const restarted = new EnrolmentStore(file);
    expect(codeOf(() => restarted.redeem(a.code, 'pt_a', NOW + MIN))).toBe('ENROLMENT_USED');
    expect(codeOf(() => restarted.redeem(b.code, 'pt_b', NOW + MIN))).toBe('none');
  });
});

describe('POST /v1/enrolments/{code}', () => {
  let app: FastifyInstance;
  let base: string;
  const registered: string[] = [];
  const store = new EnrolmentStore();
  const chaincode = {
    channel: 'chain-a',
    mspId: 'HospitalAMSP',
    chainId: () => Promise.resolve('chain-a'),
    governance: { getMembers: () => Promise.resolve({ chainId: 'chain-a', members: ['HospitalAMSP', 'HospitalCMSP'] }) },
    system: { ping: () => Promise.resolve({ channel: 'chain-a' }) },
    consent: {
      registerPatient: (publicKey: string) => {
        registered.push(`public ${patientIdOf(publicKey)}`);
        return Promise.resolve({ txId: 'tx1', blockNumber: 7n, result: { patientId: patientIdOf(publicKey), publicKey, registeredBy: ['HospitalAMSP'] } });
      },
      registerPatientPrivately: (publicKey: string) => {
        registered.push(`private ${patientIdOf(publicKey)}`);
        return Promise.resolve({ txId: 'tx2', blockNumber: 8n, result: { patientId: patientIdOf(publicKey), publicKey, registeredBy: ['HospitalAMSP'] } });
      },
      getPatient: () => Promise.reject(new Error('PATIENT_NOT_REGISTERED: no patient')),
    },
    crossChain: {
      listRemoteChains: () => Promise.resolve([{ chainId: 'chain-b', orgs: [{ mspId: 'HospitalBMSP' }] }]),
      listRoutes: () => Promise.resolve([{ routeId: 'a-b', counterparty: 'chain-b', status: 'open', packetTypes: ['consent.sealed'] }]),
    },
  } as unknown as Chaincode;
  const device = () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { privateKey, publicKey: exportPublicKey(privateKey) };
  };
  const redeem = async (code: string, d: ReturnType<typeof device>, signer = d, nonce = `enrol-${Math.random().toString(36).slice(2)}-nonce`) => {
    const path = `/v1/enrolments/${code}`;
    const payload = JSON.stringify({ publicKey: d.publicKey });
    const headers = signRequest({ method: 'POST', path, body: payload }, signer.privateKey, { timestamp: NOW, nonce });
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: payload });
    return { status: res.status, body: (await res.json()) as { code?: string; result?: { patientId: string } } };
  };

  beforeAll(async () => {
    const config = parseServeConfig({ org: 'HospitalA', logLevel: 'silent' }, '/');
    app = await buildApi({ config, chaincode, logger: silentLogger, clock: () => NOW, enrolments: store });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('registers the key of the device that signs with it, privately at this hospital, once per code', async () => {
    const { code } = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    const alice = device();
    const ok = await redeem(code, alice);
    expect(ok.status).toBe(201);
    expect(ok.body.result?.patientId).toBe(patientIdOf(alice.publicKey));
    const again = await redeem(code, device());
    expect([again.status, again.body.code]).toEqual([409, 'ENROLMENT_USED']);
    expect(registered).toEqual([`private ${patientIdOf(alice.publicKey)}`]);
  });

  it('refuses an unknown code (404), an expired one (410) and a key the signer does not hold (403), registering nothing', async () => {
    registered.splice(0);
    const unknown = await redeem('AAAA-BBBB-CCCC', device());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'ENROLMENT_UNKNOWN']);
    const old = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: MIN, now: NOW - 2 * MIN });
    const expired = await redeem(old.code, device());
    expect([expired.status, expired.body.code]).toEqual([410, 'ENROLMENT_EXPIRED']);
    const fresh = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * MIN, now: NOW });
    const forged = await redeem(fresh.code, device(), device());
    expect([forged.status, forged.body.code]).toEqual([403, 'UNAUTHORIZED']);
    expect(registered).toEqual([]);
    expect(store.pending(NOW)).toBe(1);
  });

  it('issues codes to hospital systems only (no client certificate: 401 UNAUTHORIZED)', async () => {
    const res = await fetch(`${base}/v1/enrolments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it("tells a device the chain id its messages are bound to, the chain's member orgs and the chains it carries consents to", async () => {
    const res = await fetch(`${base}/v1/hospital`);
    expect(await res.json()).toEqual({
      mspId: 'HospitalAMSP',
      channel: 'chain-a',
      chainId: 'chain-a',
      members: ['HospitalAMSP', 'HospitalCMSP'],
      chains: [{ chainId: 'chain-b', orgs: ['HospitalBMSP'], packetTypes: ['consent.sealed'] }],
    });
  });
});
