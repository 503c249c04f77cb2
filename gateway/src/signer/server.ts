/**
 * The signer service: one per verification node, beside its peer, reached by the org's relay
 * over mutual TLS (client certificates from the org's TLS CA only). Requests name what to sign,
 * never bytes:
 *   POST /v1/sign/packet      {"routeId": "...", "sequence": N, "version"?: 1 | 2}
 *   POST /v1/sign/ack         {"routeId": "...", "sequence": N, "version"?: 1 | 2}
 *   POST /v1/sign/epoch-link  {"toEpoch": N, "version"?: 1 | 2}
 * `version` is the scheme version to sign in (chaincode/BLS.md); without it, version 1.
 *   GET  /health
 * Answers {"nodeId": "...", "signature": "<base64>"}; 422 with {"error"} when the signer refuses.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
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

/** The request handler on its own, so it can be tested without TLS. */
export async function handle(signer: BlsSigner, method: string, path: string, body: string): Promise<{ status: number; json: unknown }> {
  if (method === 'GET' && path === '/health') return { status: 200, json: { ok: true, nodeId: signer.nodeId } };
  if (method !== 'POST') return { status: 405, json: { error: 'method not allowed' } };
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
        return { status: 404, json: { error: `no route ${path}` } };
    }
  } catch (e) {
    if (e instanceof SignerRefusal) return { status: 422, json: { error: e.message } };
    if (e instanceof z.ZodError || e instanceof SyntaxError) return { status: 400, json: { error: 'request must be the JSON object documented for this route' } };
    return { status: 502, json: { error: `the own peer could not answer: ${e instanceof Error ? e.message : String(e)}` } };
  }
}

export function startSignerServer(signer: BlsSigner, tls: SignerTls, port: number, host = '127.0.0.1'): Server {
  const server = createServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 4096) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      void handle(signer, req.method ?? '', req.url ?? '', Buffer.concat(chunks).toString('utf8')).then(({ status, json }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      });
    });
  });
  server.listen(port, host);
  return server;
}
