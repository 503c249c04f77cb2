/**
 * The signer service: one per verification node, beside its peer, reached by the org's relay
 * over mutual TLS (client certificates from the org's TLS CA only). Requests name what to sign,
 * never bytes:
 *   POST /v1/sign/packet      {"routeId": "...", "sequence": N, "version"?: 1 | 2}
 *   POST /v1/sign/ack         {"routeId": "...", "sequence": N, "version"?: 1 | 2}
 *   POST /v1/sign/epoch-link  {"toEpoch": N, "version"?: 1 | 2}
 * `version` is the scheme version to sign in (chaincode/BLS.md); without it, version 1.
 *   GET  /health
 * Answers {"nodeId": "...", "signature": "<base64>"}. A refusal is {"code", "error"}: 400
 * INVALID_ARGUMENT (bad JSON or not the route's object), 404 NOT_FOUND, 405 INVALID_ARGUMENT,
 * 413 INVALID_ARGUMENT (body over 4 KiB), 422 SIGNER_REFUSED (the own peer's message is not what
 * was asked), 502 UNAVAILABLE (the own peer could not answer); a head over the limits is 431 and a
 * client too slow 408 (http-limits.ts). A client without a certificate of the accepted CA fails
 * the TLS handshake. Nothing is read from the peer for a refused request.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { applyLimits, BodyTooLarge, httpLimits, readBody, serverOptionsOf, type HttpLimits } from '../http-limits';
import { BlsSigner, SignerRefusal } from './bls-signer';

export interface SignerTls {
  /** PEM: this service's TLS certificate and key, and the CA whose client certificates are accepted. */
  cert: string;
  key: string;
  clientCa: string;
}

const Version = z.union([z.literal(1), z.literal(2)]).optional();
const Route = z.object({ routeId: z.string().min(1).max(128), sequence: z.number().int().min(1), version: Version }).strict();
const Link = z.object({ toEpoch: z.number().int().min(2), version: Version }).strict();

/** Largest request body: a request names what to sign, it never carries bytes. */
const MAX_BODY = 4096;

/** The request handler on its own, so it can be tested without TLS. */
export async function handle(signer: BlsSigner, method: string, path: string, body: string): Promise<{ status: number; json: unknown }> {
  if (method === 'GET' && path === '/health') return { status: 200, json: { ok: true, nodeId: signer.nodeId } };
  if (method !== 'POST') return { status: 405, json: { code: 'INVALID_ARGUMENT', error: 'method not allowed' } };
  try {
    const input: unknown = body === '' ? {} : JSON.parse(body);
    switch (path) {
      case '/v1/sign/packet': {
        const r = Route.parse(input);
        return { status: 200, json: await signer.signPacket(r.routeId, r.sequence, r.version) };
      }
      case '/v1/sign/ack': {
        const r = Route.parse(input);
        return { status: 200, json: await signer.signAck(r.routeId, r.sequence, r.version) };
      }
      case '/v1/sign/epoch-link': {
        const l = Link.parse(input);
        return { status: 200, json: await signer.signEpochLink(l.toEpoch, l.version) };
      }
      default:
        return { status: 404, json: { code: 'NOT_FOUND', error: `no route ${path}` } };
    }
  } catch (e) {
    if (e instanceof SignerRefusal) return { status: 422, json: { code: 'SIGNER_REFUSED', error: e.message } };
    if (e instanceof z.ZodError || e instanceof SyntaxError) return { status: 400, json: { code: 'INVALID_ARGUMENT', error: 'request must be the JSON object documented for this route' } };
    return { status: 502, json: { code: 'UNAVAILABLE', error: `the own peer could not answer: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

function reply(res: ServerResponse, status: number, json: unknown, close = false): void {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}

/** Listens on host:port (TLS, client certificates of tls.clientCa only); `limits`: header size and timeouts. */
export function startSignerServer(signer: BlsSigner, tls: SignerTls, port: number, host = '127.0.0.1', limits: Partial<HttpLimits> = {}): Server {
  const l = httpLimits(limits);
  const server = createServer(
    { ...serverOptionsOf(l), cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        let body: string;
        try {
          body = (await readBody(req, MAX_BODY)).toString('utf8');
        } catch (e) {
          if (e instanceof BodyTooLarge) reply(res, 413, { code: 'INVALID_ARGUMENT', error: e.message }, true);
          else req.destroy();
          return;
        }
        const { status, json } = await handle(signer, req.method ?? '', req.url ?? '', body);
        reply(res, status, json);
      })();
    },
  );
  applyLimits(server, l);
  server.listen(port, host);
  return server;
}
