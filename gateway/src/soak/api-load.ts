/**
 * The hospital API under the soak's load: HospitalB's `medbridge serve` (gateway/API.md) runs as
 * a process the soak kills (api-kill) and starts again, and part of the load goes through it by
 * the production client paths:
 *
 *  - HospitalB's record reads: GET /v1/records/{recordId}/content with the org's TLS identity
 *    (the API asks HospitalA's record exchange, which logs the access on chain-a);
 *  - patients of chain-b on their own device: a consent.grant signed with the patient's key and
 *    POSTed to /v1/consents as a patient-signed request, read back (GET /v1/consents/{id}) and
 *    revoked (POST /v1/consents/{id}/revocation, signed the same way).
 *
 * Every call is recorded as the client saw it (status, error code, time, whether the API was
 * down meanwhile); a grant whose attempt got no answer is sent again as the same signed message,
 * as the patient app does, so the ledger must hold it once whatever the answers were.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { consentIdOf } from '@medbridge/chaincode';
import { signRequest } from '../api/request-signing';
import { ClientError, type Code } from '../errors';
import { RECORD_HEADERS } from '../api/routes/records';
import { sleep } from '../relay/backoff';
import type { PatientSigner } from '../services/patient-signer';
import type { PatientKey } from '../services/patient-keys';
import type { ApiCallObservation, ApiGrantObservation } from './history';
import type { RateGate } from './load';

export interface ApiTls {
  /** The org's user certificate and key (hospital-authenticated routes). */
  cert: string;
  key: string;
  /** The CA of the API's server certificate. */
  ca: string;
}

/** Whether the API process is up, and how many times it was killed (a call spanning a kill saw it down). */
export class ApiState {
  down = false;
  kills = 0;
  inFlight = 0;
  constructor(readonly url: () => string | undefined) {}
}

export interface ApiAnswer {
  status?: number;
  code?: string;
  transport?: string;
  headers: Record<string, string | string[] | undefined>;
  json?: unknown;
}

const nonce = () => randomBytes(18).toString('base64url');

/** One HTTPS request to the API, bounded by `boundMs`; recorded in `calls`. */
export async function apiCall(
  api: ApiState,
  calls: ApiCallObservation[],
  boundMs: number,
  o: { op: ApiCallObservation['op']; method: 'GET' | 'POST'; path: string; body?: string; tls: ApiTls; patient?: PatientKey },
): Promise<ApiAnswer> {
  const t0 = Date.now();
  const kills = api.kills;
  const downAtStart = api.down;
  const base = api.url();
  api.inFlight += 1;
  const answer = await new Promise<ApiAnswer>((resolve) => {
    if (!base) {
      resolve({ transport: 'NOT_STARTED', headers: {} });
      return;
    }
    const body = o.body ?? '';
    const headers: Record<string, string> = { ...(o.body === undefined ? {} : { 'content-type': 'application/json' }) };
    if (o.patient) Object.assign(headers, signRequest({ method: o.method, path: o.path, body }, o.patient.privateKey, { timestamp: Date.now(), nonce: nonce() }));
    const req = request(
      new URL(o.path, base),
      { method: o.method, ca: o.tls.ca, ...(o.patient ? {} : { cert: o.tls.cert, key: o.tls.key }), servername: 'localhost', agent: false, headers, timeout: boundMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ transport: e.code ?? 'ERROR', headers: {} }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const code = res.statusCode !== undefined && res.statusCode >= 300 && json && typeof (json as { code?: unknown }).code === 'string' ? (json as { code: string }).code : undefined;
          resolve({ ...(res.statusCode === undefined ? {} : { status: res.statusCode }), ...(code ? { code } : {}), headers: res.headers, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('bound passed'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ transport: e.code ?? 'ERROR', headers: {} }));
    req.end(o.body);
  });
  api.inFlight -= 1;
  calls.push({
    op: o.op,
    ...(answer.status === undefined ? {} : { status: answer.status }),
    ...(answer.code ? { code: answer.code } : {}),
    ...(answer.transport ? { transport: answer.transport } : {}),
    ms: Date.now() - t0,
    apiDown: downAtStart || api.down || api.kills !== kills,
  });
  return answer;
}

/** HospitalB's record read through its API: the access-log transaction the custodian answered with. */
export async function fetchThroughApi(api: ApiState, calls: ApiCallObservation[], boundMs: number, tls: ApiTls, recordId: string, consentId: string): Promise<{ txId: string }> {
  const a = await apiCall(api, calls, boundMs, { op: 'fetch', method: 'GET', path: `/v1/records/${recordId}/content?from=HospitalA&purpose=TREAT&consentId=${consentId}`, tls });
  const txId = a.headers[RECORD_HEADERS.accessTxId];
  if (a.status === 200 && typeof txId === 'string' && txId !== '') return { txId };
  const message = `through HospitalB's API: ${a.status ?? a.transport ?? '?'} ${a.code ?? ''}`.trim();
  if (a.status === undefined) throw new ClientError('UNAVAILABLE', 'unavailable', message);
  throw new ClientError((a.code ?? 'INTERNAL') as Code, a.status < 500 ? 'rejected' : 'other', message);
}

export interface ApiPatient {
  patient: PatientKey;
  signer: PatientSigner;
  grantee: string;
}

/** Codes with which a retry of a grant finds the earlier attempt's grant on the ledger. */
const ALREADY_THERE = new Set(['ALREADY_EXISTS', 'NONCE_REPLAYED']);

/**
 * One patient's cycles on its device until `done()`: grant (patient-signed, retried as the same
 * message while unanswered), read it back, revoke (retried likewise), at the gate's pace.
 */
export async function runApiPatient(
  p: ApiPatient,
  api: ApiState,
  out: { calls: ApiCallObservation[]; grants: ApiGrantObservation[] },
  o: { boundMs: number; tls: ApiTls; gate: RateGate; done: () => boolean },
): Promise<void> {
  const call = (x: Parameters<typeof apiCall>[3]) => apiCall(api, out.calls, o.boundMs, x);
  while (!o.done()) {
    await o.gate.take();
    const signed = p.signer.grant(p.patient, p.patient.patientId, { grantee: p.grantee, categories: ['Observation'], purposes: ['TREAT'], days: 30 });
    const g: ApiGrantObservation = { consentId: consentIdOf(signed.message), outcome: 'unknown' };
    out.grants.push(g);
    const body = JSON.stringify(signed);
    let unanswered = false;
    for (let attempt = 0; attempt < 10 && g.outcome === 'unknown'; attempt++) {
      const a = await call({ op: 'grant', method: 'POST', path: '/v1/consents', body, tls: o.tls, patient: p.patient });
      if (a.status === 201) {
        g.outcome = 'acknowledged';
        const txId = (a.json as { txId?: unknown } | undefined)?.txId;
        if (typeof txId === 'string') g.txId = txId;
      } else if (a.status !== undefined && a.status < 500) {
        // A refusal: definitive only if no attempt before went unanswered.
        g.outcome = unanswered && a.code !== undefined && ALREADY_THERE.has(a.code) ? 'exists' : unanswered ? 'unknown' : 'refused';
        break;
      } else {
        unanswered = true;
        await sleep(1000 * (attempt + 1));
      }
    }
    if (g.outcome !== 'acknowledged' && g.outcome !== 'exists') continue;

    await call({ op: 'read-consent', method: 'GET', path: `/v1/consents/${g.consentId}`, tls: o.tls });

    const revocation = JSON.stringify(p.signer.revocation(p.patient, p.patient.patientId, g.consentId));
    for (let attempt = 0; attempt < 10; attempt++) {
      const a = await call({ op: 'revoke', method: 'POST', path: `/v1/consents/${g.consentId}/revocation`, body: revocation, tls: o.tls, patient: p.patient });
      if (a.status === 201) {
        g.revoked = true;
        break;
      }
      if (a.status !== undefined && a.status < 500) break;
      await sleep(1000 * (attempt + 1));
    }
  }
}
