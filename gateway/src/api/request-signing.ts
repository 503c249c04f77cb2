/**
 * Patient-signed HTTP requests: how a patient's own device authenticates to a hospital's
 * gateway without the server ever holding the patient's key (gateway/API.md "Patient
 * requests"). The device signs a request form, the canonical JSON of
 *
 *   { domain: 'medbridge/api-request/v1', method, path, bodyHash, timestamp, nonce, patientId }
 *
 * (path with its query string, bodyHash = sha256 hex of the raw body bytes, '' body included)
 * with the patient's P-256 key, exactly like the chaincode's patient messages: the bytes are
 * the protocol module's canonicalBytes, the key is imported by its importPatientPublicKey
 * (uncompressed SPKI DER only), the signature is ECDSA P-256 SHA-256 in IEEE P1363 form.
 * It travels in four headers (REQUEST_HEADERS).
 *
 * The server checks, in order: headers present and well formed; the patient the request is
 * for (the route's) is the one who signed; the timestamp within maxSkewMs of the server clock
 * (MESSAGE_STALE); the signature against the patient's current key as registered on chain
 * (after a key rotation, the new key; PATIENT_SIGNATURE_INVALID); the nonce not seen for that patient within the window
 * (NONCE_REPLAYED). A nonce is remembered only once its signature verified, so nobody
 * but the patient can spend it.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalBytes, exportPublicKey, Formats, importPatientPublicKey, patientIdOf } from '@medbridge/chaincode';
import { ApiError } from './errors';

export const API_REQUEST_DOMAIN = 'medbridge/api-request/v1';

/** The headers a signed request carries (lower case, as Node presents them). */
export const REQUEST_HEADERS = {
  patient: 'x-medbridge-patient',
  timestamp: 'x-medbridge-timestamp',
  nonce: 'x-medbridge-nonce',
  signature: 'x-medbridge-signature',
} as const;

/** The signed form of one request. */
export interface RequestForm {
  domain: typeof API_REQUEST_DOMAIN;
  method: string;
  path: string;
  bodyHash: string;
  timestamp: number;
  nonce: string;
  patientId: string;
}

export interface RequestInput {
  method: string;
  /** The path with its query string, as sent (`/v1/patients/pt_.../consents?pageSize=10`). */
  path: string;
  /** The raw body bytes ('' for none). */
  body: Buffer | string;
}

export function bodyHashOf(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function requestForm(req: RequestInput, patientId: string, timestamp: number, nonce: string): RequestForm {
  return { domain: API_REQUEST_DOMAIN, method: req.method.toUpperCase(), path: req.path, bodyHash: bodyHashOf(req.body), timestamp, nonce, patientId };
}

/**
 * The headers that sign `req` as the patient whose key is `privateKey` (a device or a test;
 * never the server).
 *
 * @example
 *   const headers = signRequest({ method: 'GET', path: `/v1/patients/${id}/consents`, body: '' }, key, { nonce, timestamp: Date.now() });
 */
export function signRequest(
  req: RequestInput,
  privateKey: KeyObject,
  opts: { timestamp: number; nonce: string; /** After a key rotation the id no longer derives from the key: name it. */ patientId?: string },
): Record<string, string> {
  const patientId = opts.patientId ?? patientIdOf(exportPublicKey(privateKey));
  const form = requestForm(req, patientId, opts.timestamp, opts.nonce);
  const signature = sign('sha256', canonicalBytes(form), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
  return {
    [REQUEST_HEADERS.patient]: patientId,
    [REQUEST_HEADERS.timestamp]: String(opts.timestamp),
    [REQUEST_HEADERS.nonce]: opts.nonce,
    [REQUEST_HEADERS.signature]: signature,
  };
}

/**
 * Nonces seen per patient, each kept until its request could no longer pass the timestamp
 * check (timestamp + maxSkewMs): a replay inside that window is refused, one after it is
 * stale anyway. Memory is bounded by the requests of one window.
 */
export class NonceWindow {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly maxSkewMs: number) {}

  /** Records the nonce; false when it was already used inside the window. */
  use(patientId: string, nonce: string, timestamp: number, now: number): boolean {
    this.sweep(now);
    const key = `${patientId}/${nonce}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, timestamp + this.maxSkewMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 1_000) return;
    this.lastSweep = now;
    for (const [k, until] of this.seen) if (until < now) this.seen.delete(k);
  }
}

export interface VerifyRequestOptions {
  /** The patient the route is for (path parameter), when it names one. */
  expectedPatient?: string;
  /** The patient's registered public key (base64 SPKI DER), read on chain. */
  publicKeyOf: (patientId: string) => Promise<string>;
  now: number;
  maxSkewMs: number;
  nonces: NonceWindow;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Whether a request carries a patient signature at all (any of its headers). */
export function hasPatientSignature(headers: Headers): boolean {
  return Object.values(REQUEST_HEADERS).some((h) => header(headers, h) !== undefined);
}

/** Verifies a signed request (order in the module comment); returns the patient id; throws ApiError. */
export async function verifySignedRequest(req: RequestInput & { headers: Headers }, opts: VerifyRequestOptions): Promise<string> {
  const patientId = header(req.headers, REQUEST_HEADERS.patient);
  const timestampText = header(req.headers, REQUEST_HEADERS.timestamp);
  const nonce = header(req.headers, REQUEST_HEADERS.nonce);
  const signatureText = header(req.headers, REQUEST_HEADERS.signature);
  if (patientId === undefined || timestampText === undefined || nonce === undefined || signatureText === undefined) {
    throw new ApiError(401, 'UNAUTHORIZED', `a patient request carries the headers ${Object.values(REQUEST_HEADERS).join(', ')}`);
  }
  if (!Formats.patientId.test(patientId)) throw new ApiError(400, 'INVALID_ARGUMENT', `${REQUEST_HEADERS.patient} is not a patient id`);
  if (!Formats.nonce.test(nonce)) throw new ApiError(400, 'INVALID_ARGUMENT', `${REQUEST_HEADERS.nonce} must be 16 to 128 characters of [A-Za-z0-9_-]`);
  if (!/^\d{1,16}$/.test(timestampText)) throw new ApiError(400, 'INVALID_ARGUMENT', `${REQUEST_HEADERS.timestamp} must be milliseconds since the epoch`);
  const signature = Buffer.from(signatureText, 'base64');
  if (signature.length !== 64 || signature.toString('base64') !== signatureText) {
    throw new ApiError(401, 'PATIENT_SIGNATURE_INVALID', `${REQUEST_HEADERS.signature} must be a base64 64-byte P1363 signature`);
  }
  if (opts.expectedPatient !== undefined && opts.expectedPatient !== patientId) {
    throw new ApiError(403, 'UNAUTHORIZED', `the request is signed by patient ${patientId}, not by ${opts.expectedPatient} whose data it asks for`);
  }
  const timestamp = Number(timestampText);
  if (Math.abs(opts.now - timestamp) > opts.maxSkewMs) {
    throw new ApiError(401, 'MESSAGE_STALE', `the request was signed at ${timestamp}, more than ${opts.maxSkewMs} ms from the server time ${opts.now}; sign it again`);
  }
  // The patient's current key as the chain holds it: the one the id derives from, or the key
  // a rotation made current (a retired key's signature does not verify against it).
  const publicKey = await opts.publicKeyOf(patientId);
  const key = importPatientPublicKey(publicKey);
  const form = requestForm(req, patientId, timestamp, nonce);
  let ok = false;
  try {
    ok = verify('sha256', canonicalBytes(form), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ApiError(401, 'PATIENT_SIGNATURE_INVALID', `the request signature does not verify with the registered key of ${patientId}`);
  if (!opts.nonces.use(patientId, nonce, timestamp, opts.now)) {
    throw new ApiError(401, 'NONCE_REPLAYED', `nonce ${nonce} was already used by ${patientId}; sign each request with a fresh nonce`);
  }
  return patientId;
}
