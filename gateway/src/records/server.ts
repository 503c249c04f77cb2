/**
 * The custodian's record exchange endpoint: HTTPS with mutual TLS. The requester's org is
 * the org whose TLS CA issued its client certificate; requests are answered by
 * Custodian.answer (chaincode decides and logs).
 *
 *   POST /v1/records/fetch  {"recordId": "...", "purpose": "TREAT", "consentId"?: "cs_..."}
 *     200 {allowed: true, content, salt, anchorHash, version, ...}
 *     403 {allowed: false, reason, txId}          (refusal, logged on chain)
 *     410 {code: 'RECORD_ERASED', message}         (the record was erased on request; CONSENT.md "Erasure")
 *   POST /v1/consents/sealed {"sourceChain": "...", "ref": "<64 hex>"}
 *     200 {sealed}                                 (the exact bytes of a sealed consent for the requester's org; CONSENT.md "Sealed consent shares")
 *     403 {code: 'ACCESS_DENIED', message}         (the consent is for another org)
 *   GET  /healthz           200 {"ok": true, "org": "<mspId>"}
 *
 * Refused before the custodian is asked (gateway/CLI.md "Records"): no client certificate or one
 * no trusted org issued (the TLS handshake fails), a head over the limits (431), a body over
 * 16 KiB (413), a client too slow (408), bad JSON or a body not of the schema (400), all as
 * `{code, message}` (http-limits.ts).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Formats } from '@medbridge/chaincode';
import { toClientError } from '../errors';
import { applyLimits, BodyTooLarge, httpLimits, readBody, serverOptionsOf, type HttpLimits } from '../http-limits';
import { silentLogger } from '../logger';
import type { Custodian } from './custodian';
import { orgOfPeer, type OrgTlsIdentity, type TrustedOrg } from './org-tls';

const MAX_BODY = 16 * 1024;

export const FetchRequestSchema = z
  .object({
    recordId: z.string().regex(Formats.recordId),
    purpose: z.string().regex(/^[A-Z]{2,16}$/),
    consentId: z.string().regex(Formats.consentId).optional(),
    /** Epochs of remote lists the requester's chain knows, for the anchor attestation's links. */
    knownEpochs: z.record(z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/), z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)).optional(),
  })
  .strict();

export const SealedConsentRequestSchema = z
  .object({
    sourceChain: z.string().regex(Formats.chainId),
    ref: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export interface RecordServerOptions {
  /** Decides, logs and releases (Custodian; tests may pass their own). */
  custodian: Pick<Custodian, 'answer' | 'releaseSealedConsent'>;
  identity: OrgTlsIdentity;
  trusted: TrustedOrg[];
  host?: string;
  port?: number;
  logger?: Logger;
  /** Header size and timeouts (default: DEFAULT_HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
}

export interface RunningRecordServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

export async function startRecordServer(opts: RecordServerOptions): Promise<RunningRecordServer> {
  const log = opts.logger ?? silentLogger;
  const host = opts.host ?? '127.0.0.1';
  const limits = httpLimits(opts.limits);
  const server = createServer(
    {
      ...serverOptionsOf(limits),
      cert: opts.identity.cert,
      key: opts.identity.key,
      ca: opts.trusted.map((t) => t.caPem),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  applyLimits(server, limits);
  // No certificate, or one no trusted org issued: the handshake fails; logged without the certificate.
  server.on('tlsClientError', (err: Error & { code?: string }) => log.info({ code: err.code }, 'TLS handshake refused'));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const requester = orgOfPeer(socket.getPeerCertificate(), opts.trusted);
    if (!requester) {
      log.warn({ path: req.url }, 'request with a certificate of no known org');
      send(res, 403, { code: 'UNAUTHORIZED', message: 'client certificate is not from a known org' });
      return;
    }
    try {
      if (req.method === 'GET' && req.url === '/healthz') {
        send(res, 200, { ok: true, org: opts.identity.mspId });
        return;
      }
      const route = req.method === 'POST' && (req.url === '/v1/records/fetch' || req.url === '/v1/consents/sealed') ? req.url : undefined;
      if (route === undefined) {
        send(res, 404, { code: 'NOT_FOUND', message: `no route ${req.method ?? ''} ${req.url ?? ''}` });
        return;
      }
      let parsedBody: unknown;
      try {
        parsedBody = JSON.parse((await readBody(req, MAX_BODY)).toString('utf8'));
      } catch (e) {
        if (e instanceof BodyTooLarge) {
          // Not read further: the connection closes after the answer.
          send(res, 413, { code: 'INVALID_ARGUMENT', message: e.message }, true);
          return;
        }
        send(res, 400, { code: 'INVALID_ARGUMENT', message: `body must be JSON: ${(e as Error).message}` });
        return;
      }
      if (route === '/v1/consents/sealed') {
        const asked = SealedConsentRequestSchema.safeParse(parsedBody);
        if (!asked.success) {
          send(res, 400, { code: 'INVALID_ARGUMENT', message: asked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
          return;
        }
        send(res, 200, await opts.custodian.releaseSealedConsent(requester.mspId, asked.data));
        return;
      }
      const parsed = FetchRequestSchema.safeParse(parsedBody);
      if (!parsed.success) {
        send(res, 400, { code: 'INVALID_ARGUMENT', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
        return;
      }
      const answer = await opts.custodian.answer(requester.mspId, parsed.data);
      send(res, answer.allowed ? 200 : 403, answer);
    } catch (e) {
      const err = toClientError(e);
      log.warn({ requester: requester.mspId, code: err.code }, 'record request failed');
      const status =
        err.code === 'RECORD_NOT_FOUND' || err.code === 'NOT_FOUND'
          ? 404
          : err.code === 'RECORD_ERASED'
            ? 410
            : err.code === 'ACCESS_DENIED'
              ? 403
              : err.kind === 'unavailable'
                ? 503
                : err.kind === 'rejected'
                  ? 409
                  : 500;
      send(res, status, err.toJSON());
    }
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;
  log.info({ url, org: opts.identity.mspId }, 'record exchange listening');
  return {
    server,
    url,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
