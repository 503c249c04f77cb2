/**
 * The app's client of the hospital gateway API (gateway/API.md): every call is signed on this
 * device with the patient's key (the request form), and every consent, revocation, delegation
 * and log read is a patient message built by the protocol module and signed here. The server
 * only carries them.
 */
import {
  buildAccessLogRead,
  buildRecordsRead,
  buildConsentGrant,
  buildConsentPolicyGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildKeyRotation,
  canonicalBytes,
  type AccessLogEntry,
  type ConsentPolicy,
  type ConsentTerms,
  type RecordLabels,
  type HeaderInput,
  type PatientMessage,
  type SignedPatientMessage,
} from '@medbridge/chaincode';
import { newNonce, sha256HexOf } from './bytes';
import type { DeviceKey } from './keys';
import { signBytes } from './keys';
import { requestForm } from './request-form';

export interface Hospital {
  mspId: string;
  channel: string;
  chainId: string;
  /** The orgs of this hospital's chain: a consent for one of them can stay private here. */
  members: string[];
  /** The chains this hospital carries consents to, with their orgs: a grantee there gets a sealed share. */
  chains: Array<{ chainId: string; orgs: string[] }>;
}

export interface ConsentView {
  consentId: string;
  chainId: string;
  /** A v1 consent's grantee (null for a consent v2). */
  grantee: string | null;
  /** A v1 consent's terms (absent on a consent v2, which has `policy`). */
  terms?: ConsentTerms;
  /** Consent v2: the orgs its permits can reach, or ['*'] for every org. */
  grantees?: string[];
  /** Consent v2: the signed policy (chaincode/CONSENT.md "Consent language (v2)"). */
  policy?: ConsentPolicy;
  status: string;
  effectiveStatus: string;
  grantedAt: number;
  revocation: { revokedAt: number } | null;
  /** A private consent: the hospital that keeps it (chaincode/CONSENT.md "Private consents"); absent for a public one. */
  keeper?: string;
  /** Where the consent was carried (allChains=true): each chain's state as its acknowledgement told. */
  chains?: Array<{ chainId: string; delivery: string; effectiveStatus: string | null; error: string | null; sealed: { carries: 'grant' | 'revocation'; arrived: boolean } | null }>;
}

export interface PatientView {
  patientId: string;
  publicKey: string;
  registeredBy: string[];
  registeredAt: number;
  /** Registered privately at this hospital (its own collection): every consent is then kept here. */
  heldPrivately?: true;
}

/** A record of the patient anchored on the hospital's chain: who holds it, no content. */
export interface RecordView {
  recordId: string;
  category: string;
  custodian: string;
  version: number;
  anchoredAt: number;
  updatedAt: number;
}

/** A refusal of the server: its stable code and message. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const encoder = new TextEncoder();

async function call<T>(method: string, path: string, body: unknown, key?: DeviceKey): Promise<T> {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = raw === '' ? {} : { 'content-type': 'application/json' };
  if (key) {
    const timestamp = Date.now();
    const nonce = newNonce();
    const form = requestForm(method, path, await sha256HexOf(encoder.encode(raw)), key.patientId, timestamp, nonce);
    headers['x-medbridge-patient'] = key.patientId;
    headers['x-medbridge-timestamp'] = String(timestamp);
    headers['x-medbridge-nonce'] = nonce;
    headers['x-medbridge-signature'] = await signBytes(key, canonicalBytes(form));
  }
  const res = await fetch(path, { method, headers, ...(raw === '' ? {} : { body: raw }) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { code: 'UNAVAILABLE', message: text.slice(0, 200) || res.statusText };
  }
  if (!res.ok) {
    const e = json as { code?: string; message?: string };
    throw new ApiRefusal(res.status, e.code ?? 'UNAVAILABLE', e.message ?? res.statusText);
  }
  return json as T;
}

async function signMessage<M extends PatientMessage>(message: M, key: DeviceKey): Promise<SignedPatientMessage<M>> {
  return { message, publicKey: key.publicKey, signature: await signBytes(key, canonicalBytes(message)) };
}

function header(h: Hospital, key: DeviceKey): HeaderInput {
  return { channel: h.chainId, patientId: key.patientId, signer: key.keyId, nonce: newNonce(), issuedAt: Date.now() };
}

export const api = {
  hospital: () => call<Hospital>('GET', '/v1/hospital', undefined),

  enrol: (code: string, key: DeviceKey) =>
    call<{ txId: string; result: PatientView }>('POST', `/v1/enrolments/${encodeURIComponent(code)}`, { publicKey: key.publicKey }, key),

  patient: (key: DeviceKey) => call<PatientView>('GET', `/v1/patients/${key.patientId}`, undefined, key),

  records: (key: DeviceKey) => call<{ items: RecordView[]; bookmark: string }>('GET', `/v1/patients/${key.patientId}/records?pageSize=200`, undefined, key),

  consents: (key: DeviceKey) => call<{ items: ConsentView[] }>('GET', `/v1/patients/${key.patientId}/consents?pageSize=200&allChains=true`, undefined, key),

  /** A consent v2 as a FHIR R5 Consent (the API's `format=fhir`; a private one names its keeper as `controller`). */
  consentAsFhir: (key: DeviceKey, consentId: string) => call<Record<string, unknown>>('GET', `/v1/consents/${consentId}?format=fhir`, undefined, key),

  /** The private consents this hospital keeps for the patient (read on its own peer). */
  async privateConsents(key: DeviceKey): Promise<ConsentView[]> {
    const r = await call<{ keeper: string; items: ConsentView[] }>('GET', `/v1/patients/${key.patientId}/consents/private?allChains=true`, undefined, key);
    return r.items.map((c) => ({ ...c, keeper: r.keeper }));
  },

  /** Signs and submits a grant; with `keeper`, a private consent that hospital keeps (the keeper is part of what is signed). */
  async grant(h: Hospital, key: DeviceKey, terms: ConsentTerms, keeper?: string) {
    const signed = await signMessage(buildConsentGrant(header(h, key), terms, keeper), key);
    return call<{ consentId: string; txId: string; result: ConsentView }>('POST', '/v1/consents', signed, key);
  },

  /** Signs and submits a consent v2 policy (a grant with exceptions); with `keeper`, kept privately there. */
  async grantPolicy(h: Hospital, key: DeviceKey, policy: ConsentPolicy, keeper?: string) {
    const signed = await signMessage(buildConsentPolicyGrant(header(h, key), policy, keeper), key);
    return call<{ consentId: string; txId: string; result: ConsentView }>('POST', '/v1/consents', signed, key);
  },

  /** Signs and submits a revocation: of a private consent at its keeper when `keeper` is given. */
  async revoke(h: Hospital, key: DeviceKey, consentId: string, keeper?: string) {
    const signed = await signMessage(buildConsentRevocation(header(h, key), consentId), key);
    const at = keeper === undefined ? '' : `?keeper=${encodeURIComponent(keeper)}`;
    return call<{ txId: string; result: ConsentView; carried: Array<{ chainId: string; sequence?: number; error?: { code: string; message: string } }> | null; carryError?: { code: string; message: string } }>(
      'POST',
      `/v1/consents/${consentId}/revocation${at}`,
      signed,
      key,
    );
  },

  /** Asks the hospital to carry a consent to its grantee's chain (sealed when the hospital keeps it); the request is signed on this device. */
  share: (key: DeviceKey, consentId: string, chainId: string) =>
    call<{ consentId: string; chainId: string; sequence: number; sealed: boolean }>('POST', `/v1/consents/${consentId}/shares`, { chainId }, key),

  async delegate(h: Hospital, key: DeviceKey, guardian: { publicKey: string; notAfter: number }) {
    const signed = await signMessage(buildGuardianDelegation(header(h, key), guardian), key);
    return call<{ txId: string; result: unknown }>('POST', '/v1/guardians', signed, key);
  },

  /** Replaces the key: the rotation signed by the current key, with the next key's proof of possession. */
  async rotate(h: Hospital, current: DeviceKey, next: DeviceKey) {
    const message = buildKeyRotation(header(h, current), next.publicKey);
    const signed = await signMessage(message, current);
    const newKeySignature = await signBytes(next, canonicalBytes(message));
    return call<{ txId: string; result: unknown }>('POST', `/v1/patients/${current.patientId}/key-rotation`, { ...signed, newKeySignature }, current);
  },

  /** The labels of the patient's records this hospital holds (private to it), with a records.read signed here. */
  async recordLabels(h: Hospital, key: DeviceKey) {
    const signed = await signMessage(buildRecordsRead(header(h, key)), key);
    return call<{ custodian: string; items: Array<{ recordId: string; private: boolean; metadata: RecordLabels | null }> }>('POST', `/v1/patients/${key.patientId}/records/labels/read`, signed, key);
  },

  async accessLog(h: Hospital, key: DeviceKey) {
    const signed = await signMessage(buildAccessLogRead(header(h, key)), key);
    return call<{ items: AccessLogEntry[] }>('POST', `/v1/patients/${key.patientId}/access-log/read?pageSize=200`, signed, key);
  },
};
