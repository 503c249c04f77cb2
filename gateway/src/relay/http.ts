/**
 * The relay's local HTTP endpoint: GET /metrics (Prometheus text) and GET /healthz. It reads
 * nothing from a request but its method and path: any other method is 405, a request with a
 * body 413, an unknown path 404, each `{code, message}` and the connection closed after a
 * refusal; heads and slow clients are bounded by http-limits.ts.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyLimits, httpLimits, serverOptionsOf, type HttpLimits } from '../http-limits';
import type { Relay } from './relay';

export interface RelayHttp {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  const text = JSON.stringify({ code, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
}

/** What the endpoint reads of a relay (tests pass stand-ins). */
export type ObservedRelay = Pick<Relay, 'status' | 'metrics'>;

/** Listens on 127.0.0.1 only. /healthz: 200 while the event stream is up, 503 otherwise. */
export async function startRelayHttp(relays: ObservedRelay[], port = 0, host = '127.0.0.1', limits: Partial<HttpLimits> = {}): Promise<RelayHttp> {
  const l = httpLimits(limits);
  const server = createServer(serverOptionsOf(l), (req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        refuse(res, 405, 'INVALID_ARGUMENT', `${req.method ?? ''} is not served here: GET /metrics or /healthz`);
        return;
      }
      const length = Number(req.headers['content-length'] ?? 0);
      if (req.headers['transfer-encoding'] !== undefined || !Number.isFinite(length) || length > 0) {
        refuse(res, 413, 'INVALID_ARGUMENT', 'a request here carries no body');
        return;
      }
      if (req.url === '/metrics') {
        const first = relays[0];
        const text = first ? await first.metrics.registry.metrics() : '';
        res.writeHead(200, { 'content-type': first?.metrics.registry.contentType ?? 'text/plain' });
        res.end(text);
        return;
      }
      if (req.url === '/healthz') {
        const statuses = relays.map((r) => r.status());
        const ok = statuses.every((s) => s.streaming);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok, relays: statuses }));
        return;
      }
      refuse(res, 404, 'NOT_FOUND', 'not found: GET /metrics or /healthz');
    })().catch((e: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'INTERNAL', e instanceof Error ? e.message : String(e));
      else res.destroy();
    });
  });
  applyLimits(server, l);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        // A client that holds a connection open (or sends slowly) does not hold up the relay's stop.
        server.closeAllConnections();
      }),
  };
}
