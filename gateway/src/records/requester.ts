/**
 * The requesting hospital's side: ask a custodian for a record over mutual TLS, then
 * check the salted hash before anything is kept. The custodian must present a
 * certificate from its own org's TLS CA; a record whose salt and bytes do not hash to
 * the anchor is refused (RECORD_HASH_MISMATCH) and never returned.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { recordHash, type RemoteView } from '@medbridge/chaincode';
import { ClientError } from '../errors';
import type { FetchAnswer, FetchRequest } from './custodian';
import { verifyAnchorAttestation } from './anchor-attestation';
import { matchesAnchor } from './hashing';
import { orgOfCertificate, type OrgTlsIdentity, type TrustedOrg } from './org-tls';

export interface FetchedRecord {
  recordId: string;
  version: number;
  channel: string;
  patientId: string;
  category: string;
  contentType: string;
  content: Buffer;
  hash: string;
  /**
   * `ledger`: the requester read the anchor itself; `attestation`: a threshold of the record
   * chain's nodes attested it, checked against that chain's list as registered on the
   * requester's own chain; `custodian`: the anchor LogAccess returned (no other check was asked for).
   */
  anchorSource: 'ledger' | 'attestation' | 'custodian';
  /** With `attestation`: the chain whose nodes attested the anchor. */
  attestedBy?: string;
  consentId: string | null;
  reason: string;
  requestId: string;
  /** The LogAccess transaction that decided and logged this access. */
  txId: string;
  custodian: string;
}

export interface FetchOptions {
  url: string;
  /** The org expected to answer (its TLS CA must have issued the server certificate). */
  custodian: TrustedOrg;
  identity: OrgTlsIdentity;
  request: FetchRequest;
  /**
   * Reads the anchor on the record's channel itself and says whether the hash matches;
   * `undefined` when the requester is not a member of that channel and cannot read it.
   */
  verifyOnLedger?: (channel: string, recordId: string, hash: string, version: number) => Promise<boolean | undefined>;
  /**
   * Remote chains as the requester's OWN chain registered them (anchor-attestation.ts
   * readTrustedChains). When given, a record whose anchor the requester cannot read on its
   * own ledger is accepted only with a valid attestation by one of these chains' nodes.
   */
  trustedChains?: readonly RemoteView[];
  /** Clock for certificate validity in attestation checks (default Date.now). */
  nowMs?: () => number;
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** Where and as whom a request to a custodian's record exchange goes. */
export type ExchangePeer = Pick<FetchOptions, 'url' | 'custodian' | 'identity' | 'timeoutMs'>;

function post(opts: FetchOptions): Promise<HttpAnswer> {
  const knownEpochs = opts.trustedChains?.length ? Object.fromEntries(opts.trustedChains.map((v) => [v.trust.chainId, v.list.epoch])) : undefined;
  return postJson(opts, '/v1/records/fetch', { ...opts.request, ...(knownEpochs ? { knownEpochs } : {}) });
}

/** POSTs JSON to a custodian's record exchange over mutual TLS; the server must present the custodian org's TLS certificate. */
export function postJson(opts: ExchangePeer, path: string, payload: unknown): Promise<HttpAnswer> {
  const url = new URL(path, opts.url);
  const body = JSON.stringify(payload);
  return new Promise((resolvePost, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        cert: opts.identity.cert,
        key: opts.identity.key,
        ca: [opts.custodian.caPem],
        minVersion: 'TLSv1.2',
        // The server is identified by its org's TLS CA, not by a host name.
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          orgOfCertificate(cert.raw, [opts.custodian])
            ? undefined
            : new Error(`the server's certificate was not issued by ${opts.custodian.mspId}'s TLS CA`),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: opts.timeoutMs ?? 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolvePost({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch {
            resolvePost({ status: res.statusCode ?? 0, body: { message: text } });
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${opts.url}`), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => {
      const code = (e as { code?: string }).code;
      reject(
        new ClientError('UNAVAILABLE', 'unavailable', `record exchange of ${opts.custodian.mspId} at ${opts.url}: ${e.message}`, {
          hint: code === 'ECONNREFUSED' ? `is \`medbridge records serve --org ${opts.custodian.org}\` running?` : undefined,
          cause: e,
        }),
      );
    });
    req.end(body);
  });
}

/** Fetches, verifies and returns a record; throws on refusal or on a hash mismatch. */
export async function fetchRecord(opts: FetchOptions): Promise<FetchedRecord> {
  const { status, body } = await post(opts);
  const custodian = opts.custodian.mspId;
  if (status === 403 && (body as { allowed?: unknown }).allowed === false) {
    const refused = body as Extract<FetchAnswer, { allowed: false }>;
    throw new ClientError('ACCESS_DENIED', 'rejected', `${custodian} refused ${refused.recordId}: ${refused.reason} (logged on chain in tx ${refused.txId})`, {
      txId: refused.txId,
    });
  }
  if (status !== 200) {
    const e = body as { code?: string; message?: string; hint?: string };
    // A custodian that cannot decide now (its peer or chaincode down: 503, its deadline: 504) has
    // refused nothing: the requester may try again, as after an unreachable exchange.
    const code =
      e.code === 'RECORD_NOT_FOUND' || e.code === 'NOT_FOUND'
        ? 'RECORD_NOT_FOUND'
        : e.code === 'RECORD_ERASED'
          ? 'RECORD_ERASED'
          : status === 503
            ? 'UNAVAILABLE'
            : status === 504
              ? 'TIMEOUT'
              : 'RECORD_REFUSED';
    const kind = status === 503 || status === 504 ? 'unavailable' : 'rejected';
    throw new ClientError(code, kind, `${custodian} answered ${status}: ${e.code ?? ''} ${e.message ?? ''}`.trim(), { hint: e.hint });
  }
  const a = body as Extract<FetchAnswer, { allowed: true }>;
  if (a.recordId !== opts.request.recordId) {
    throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `asked for ${opts.request.recordId}, ${custodian} sent ${String(a.recordId)}`);
  }
  const content = Buffer.from(a.content, 'base64');
  const salt = Buffer.from(a.salt, 'base64');
  if (!matchesAnchor(content, salt, a.anchorHash)) {
    throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `record ${a.recordId} from ${custodian} does not hash to its anchor; refused`, {
      txId: a.txId,
    });
  }
  const hash = recordHash(salt, content);
  let anchorSource: FetchedRecord['anchorSource'] = 'custodian';
  const onLedger = opts.verifyOnLedger ? await opts.verifyOnLedger(a.channel, a.recordId, hash, a.version) : undefined;
  if (onLedger !== undefined) {
    if (!onLedger) {
      throw new ClientError('RECORD_HASH_MISMATCH', 'rejected', `record ${a.recordId} v${a.version} does not match the anchor on ${a.channel}; refused`, {
        txId: a.txId,
      });
    }
    anchorSource = 'ledger';
  }
  let attestedBy: string | undefined;
  if (onLedger === undefined && opts.trustedChains) {
    const view = verifyAnchorAttestation(a.attestation, opts.trustedChains, { recordId: a.recordId, version: a.version, hash }, (opts.nowMs ?? Date.now)());
    anchorSource = 'attestation';
    attestedBy = view.trust.chainId;
  }
  return {
    recordId: a.recordId,
    version: a.version,
    channel: a.channel,
    patientId: a.patientId,
    category: a.category,
    contentType: a.contentType,
    content,
    hash,
    anchorSource,
    ...(attestedBy ? { attestedBy } : {}),
    consentId: a.consentId,
    reason: a.reason,
    requestId: a.requestId,
    txId: a.txId,
    custodian,
  };
}

/** Which sealed consent to ask a custodian for: an arrival on the grantee's chain names all three. */
export interface SealedConsentAsk {
  sourceChain: string;
  ref: string;
  digest: string;
}

/**
 * Asks a custodian's record exchange for the bytes of a sealed consent (chaincode/CONSENT.md
 * "Sealed consent shares") and returns them only if they hash to the digest the packet
 * carried (SEALED_DIGEST_MISMATCH otherwise). ACCESS_DENIED when the consent is not for this
 * org, NOT_FOUND when the custodian keeps nothing under that reference.
 */
export async function fetchSealedConsent(peer: ExchangePeer, ask: SealedConsentAsk): Promise<string> {
  const { status, body } = await postJson(peer, '/v1/consents/sealed', { sourceChain: ask.sourceChain, ref: ask.ref });
  const custodian = peer.custodian.mspId;
  if (status !== 200) {
    const e = body as { code?: string; message?: string };
    const code = e.code === 'ACCESS_DENIED' || e.code === 'NOT_FOUND' ? e.code : status === 503 ? 'UNAVAILABLE' : 'RECORD_REFUSED';
    throw new ClientError(code, status === 503 ? 'unavailable' : 'rejected', `${custodian} answered ${status}: ${e.code ?? ''} ${e.message ?? ''}`.trim());
  }
  const sealed = (body as { sealed?: unknown }).sealed;
  if (typeof sealed !== 'string') throw new ClientError('RECORD_REFUSED', 'rejected', `${custodian} answered without a sealed consent`);
  const digest = createHash('sha256').update(sealed, 'utf8').digest('hex');
  if (digest !== ask.digest) {
    throw new ClientError('SEALED_DIGEST_MISMATCH', 'rejected', `the sealed consent ${ask.ref} from ${custodian} hashes to ${digest}, not to the digest ${ask.digest} its packet carried; refused`);
  }
  return sealed;
}
