/** The relay's local HTTP endpoint: GET /metrics (Prometheus text) and GET /healthz. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Relay } from './relay';

export interface RelayHttp {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 only. /healthz: 200 while the event stream is up, 503 otherwise. */
export async function startRelayHttp(relays: Relay[], port = 0, host = '127.0.0.1'): Promise<RelayHttp> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/metrics') {
        const first = relays[0];
        const text = first ? await first.metrics.registry.metrics() : '';
        res.writeHead(200, { 'content-type': first?.metrics.registry.contentType ?? 'text/plain' });
        res.end(text);
        return;
      }
      if (req.method === 'GET' && req.url === '/healthz') {
        const statuses = relays.map((r) => r.status());
        const ok = statuses.every((s) => s.streaming);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok, relays: statuses }));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
