/**
 * `make bench-api`: load on the hospital gateway API (`medbridge serve`) on the embedded network,
 * loopback only. HospitalA's server on chain-a, called with mutual TLS as its EHR (the org's user
 * certificate) and as a patient's device, with autocannon, one endpoint class at a time for a
 * bounded time each:
 *
 *  - read:    GET /v1/records/{recordId}                        (an evaluate on the peer)
 *  - access:  GET /v1/access?recordId&purpose&grantee           (the chaincode's access decision)
 *  - submit:  POST /v1/consents, each a fresh consent.grant signed by the patient's key and sent
 *             as a patient-signed request (a transaction committed on chain-a per request)
 *
 *   node gateway/dist/bench/api-load.js [--seconds 20] [--connections 10] [--name api-load]
 *
 * Writes test/bench/results/<name>.json (requests/s, latency percentiles and status counts per
 * class). Exits non-zero when any response was a 5xx (or the server could not be reached), so a
 * server fault fails the run; a 4xx would be a bug of this driver and fails it too.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildConsentGrant, consentIdOf, recordHash, signPatientMessage } from '@medbridge/chaincode';
import { parseServeConfig } from '../api/config';
import { signRequest } from '../api/request-signing';
import { startApi, type RunningApi } from '../api/serve';
import { REPO_ROOT } from '../config';
import { loadProfile } from '../fabric/profile';
import { sourceCommit } from '../source-commit';
import { createLogger } from '../logger';
import { generatePatientKey, type PatientKey } from '../services/patient-keys';

const CHANNEL = 'chain-a';
const OUT = process.env.BENCH_OUT ?? join(REPO_ROOT, 'test', 'bench', 'results');

interface ClassResult {
  endpoint: string;
  durationS: number;
  connections: number;
  requests: number;
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  status: Record<string, number>;
  errors: number;
  timeouts: number;
}

interface Tls {
  cert: string;
  key: string;
  ca: string;
}

/** One endpoint class under load for `seconds`; the request (path, body, headers) may be built per request. */
async function load(
  api: RunningApi,
  tls: Tls,
  o: { endpoint: string; seconds: number; connections: number; request: () => { method: 'GET' | 'POST'; path: string; body?: string; headers?: Record<string, string> } },
): Promise<ClassResult> {
  const first = o.request();
  const result = await autocannon({
    url: api.url,
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    servername: 'localhost',
    tlsOptions: { cert: tls.cert, key: tls.key, ca: tls.ca },
    requests: [
      {
        method: first.method,
        path: first.path,
        setupRequest: (req) => {
          const r = o.request();
          return { ...req, method: r.method, path: r.path, ...(r.body === undefined ? {} : { body: r.body }), headers: { ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers } };
        },
      },
    ],
  });
  const status: Record<string, number> = {};
  for (const [code, s] of Object.entries((result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats)) status[code] = s.count;
  return {
    endpoint: o.endpoint,
    durationS: result.duration,
    connections: o.connections,
    requests: result.requests.total,
    requestsPerSec: Math.round(result.requests.average * 10) / 10,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    status,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

const nonce = () => randomBytes(18).toString('base64url');


async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: process.env.BENCH_API_SECONDS ?? '20' }, connections: { type: 'string', default: '10' }, name: { type: 'string', default: 'api-load' } },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const log = createLogger({ name: 'bench-api', level: 'warn' });
  const profile = loadProfile('HospitalA');
  const peerTlsDir = dirname(profile.peers[0]!.tlsRootCert);
  const tls: Tls = {
    cert: readFileSync(profile.identities.user.certificate, 'utf8'),
    key: readFileSync(profile.identities.user.privateKey, 'utf8'),
    ca: readFileSync(profile.peers[0]!.tlsRootCert, 'utf8'),
  };
  // The API serves with the peer's TLS pair (SAN localhost, the org's TLS CA), as in the tests.
  const cfg = parseServeConfig(
    { org: profile.org, channel: CHANNEL, listen: { host: '127.0.0.1', port: 0 }, tls: { cert: join(peerTlsDir, 'server.crt'), key: join(peerTlsDir, 'server.key') }, logLevel: 'warn' },
    '/',
  );
  const api = await startApi(cfg, log);
  try {
    // Set-up through the same API: a patient, a record, a consent for HospitalCMSP.
    const patient: PatientKey = generatePatientKey();
    const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const recordId = `bench-api-${run}`;
    const call = async (method: 'GET' | 'POST', path: string, body: unknown): Promise<unknown> => {
      const res = await fetchTls(api.url, tls, method, path, JSON.stringify(body));
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
      return JSON.parse(res.text) as unknown;
    };
    const chainId = ((await fetchTls(api.url, tls, 'GET', '/v1/crosschain/status')).json as { chainId: string }).chainId;
    await call('POST', '/v1/patients', { publicKey: patient.publicKey });
    await call('POST', '/v1/records', { recordId, patientId: patient.patientId, category: 'Observation', hash: recordHash(randomBytes(32), Buffer.from(recordId)) });
    const grantOf = () => {
      const now = Date.now();
      return signPatientMessage(
        buildConsentGrant(
          { channel: chainId, patientId: patient.patientId, signer: patient.keyId, nonce: nonce(), issuedAt: now },
          { grantee: 'HospitalCMSP', scope: { recordIds: [recordId], categories: [] }, actions: ['read'], purposes: ['TREAT'], period: { start: now - 1_000, end: now + 86_400_000 } },
        ),
        patient.privateKey,
      );
    };
    await call('POST', '/v1/consents', grantOf());

    const classes: Record<string, ClassResult> = {};
    classes.read = await load(api, tls, { endpoint: 'GET /v1/records/{recordId}', seconds, connections, request: () => ({ method: 'GET', path: `/v1/records/${recordId}` }) });
    classes.access = await load(api, tls, {
      endpoint: 'GET /v1/access',
      seconds,
      connections,
      request: () => ({ method: 'GET', path: `/v1/access?recordId=${recordId}&purpose=TREAT&grantee=HospitalCMSP` }),
    });
    const granted = new Set<string>();
    classes.submit = await load(api, tls, {
      endpoint: 'POST /v1/consents (patient-signed)',
      seconds,
      connections,
      request: () => {
        const grant = grantOf();
        granted.add(consentIdOf(grant.message));
        const body = JSON.stringify(grant);
        const headers = signRequest({ method: 'POST', path: '/v1/consents', body }, patient.privateKey, { timestamp: Date.now(), nonce: nonce() });
        return { method: 'POST', path: '/v1/consents', body, headers };
      },
    });

    const out = {
      command: process.env.BENCH_COMMAND ?? 'make bench-api',
      date: new Date().toISOString(),
      commit: sourceCommit(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model.split(' ').slice(0, 2).join(' '), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: Math.round(loadavg()[0]! * 100) / 100 },
      network: 'embedded net1, native or docker runtime as started; loopback only',
      classes,
    };
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `${values.name}.json`), `${JSON.stringify(out, null, 2)}\n`);
    const faults = Object.entries(classes).flatMap(([k, c]) =>
      Object.entries(c.status)
        .filter(([code]) => !code.startsWith('2'))
        .map(([code, n]) => `${k}: ${n} × ${code}`)
        .concat(c.errors + c.timeouts > 0 ? [`${k}: ${c.errors} errors, ${c.timeouts} timeouts`] : []),
    );
    for (const [k, c] of Object.entries(classes)) {
      process.stdout.write(`${k.padEnd(7)} ${c.endpoint.padEnd(36)} ${String(c.requestsPerSec).padStart(8)} req/s  p50 ${c.latencyMs.p50} ms  p99 ${c.latencyMs.p99} ms  ${JSON.stringify(c.status)}\n`);
    }
    if (faults.length > 0) {
      process.stderr.write(`bench-api: responses other than 2xx (a 5xx is a server fault): ${faults.join('; ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await api.close();
  }
}

/** One HTTPS exchange as the EHR (set-up calls). */
async function fetchTls(url: string, tls: Tls, method: string, path: string, body?: string): Promise<{ status: number; text: string; json: unknown }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method, ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost', agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench-api: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);

