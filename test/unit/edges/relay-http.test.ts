/**
 * Bad input at the relay's health and metrics endpoint (relay/http.ts), with stand-in relays:
 * it answers GET /healthz and /metrics only; other methods, bodies, unknown paths, large heads,
 * garbage and slow clients get a clear refusal, and it still answers afterwards.
 */
import { once } from 'node:events';
import { Counter, Registry } from 'prom-client';
import { startRelayHttp, type ObservedRelay, type RelayHttp } from '../../../gateway/src/relay/http';
import type { RelayMetrics } from '../../../gateway/src/relay/metrics';
import { bigHead, exchange, post, slowHead, TEST_LIMITS, type Target } from './support';

let http: RelayHttp;
let target: Target;
let statusReads = 0;

beforeAll(async () => {
  const registry = new Registry();
  new Counter({ name: 'medbridge_relay_packets_relayed_total', help: 'packets', registers: [registry] }).inc(3);
  const relay = {
    status: () => {
      statusReads += 1;
      return { streaming: true };
    },
    metrics: { registry } as unknown as RelayMetrics,
  } as unknown as ObservedRelay;
  http = await startRelayHttp([relay], 0, '127.0.0.1', TEST_LIMITS);
  target = { port: Number(new URL(http.url).port) };
});

afterAll(() => http.close());

async function expectStillAnswering(): Promise<void> {
  const health = await exchange(target, ['GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']);
  expect([health.status, (health.json as { ok?: boolean }).ok]).toEqual([200, true]);
  const metrics = await exchange(target, ['GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']);
  expect(metrics.status).toBe(200);
  expect(metrics.text).toContain('medbridge_relay_packets_relayed_total 3');
}

describe('relay health and metrics endpoint: bad input', () => {
  it('refuses other methods (405), bodies (413) and unknown paths (404) with a code, reading no relay state', async () => {
    const before = statusReads;
    const postRes = await exchange(target, [post('/healthz', '{"ok": false}')]);
    expect([postRes.status, postRes.json?.code]).toEqual([405, 'INVALID_ARGUMENT']);
    const withBody = await exchange(target, ['GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello']);
    expect([withBody.status, withBody.json?.code]).toEqual([413, 'INVALID_ARGUMENT']);
    const unknown = await exchange(target, ['GET /metrics/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']);
    expect([unknown.status, unknown.json?.code]).toEqual([404, 'NOT_FOUND']);
    const query = await exchange(target, ['GET /healthz?verbose=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n']);
    expect([query.status, query.json?.code]).toEqual([404, 'NOT_FOUND']);
    expect(statusReads).toBe(before);
    await expectStillAnswering();
  });

  it('refuses a head over 8 KiB (431) and garbage (400), and closes a client sending its head byte by byte (408)', async () => {
    const head = await exchange(target, [bigHead('/metrics', 10_000)]);
    expect([head.status, head.json?.code]).toEqual([431, 'INVALID_ARGUMENT']);
    const garbage = await exchange(target, ['\u0000\u0001\u0002\r\n\r\n']);
    expect([garbage.status, garbage.json?.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const slow = await slowHead(target, 50, 10_000);
    expect([slow.status, slow.json?.code]).toEqual([408, 'TIMEOUT']);
    expect(slow.closedAfterMs).toBeLessThan(3_000);
    await expectStillAnswering();
  });

  it('stops at once even while a client holds a connection open', async () => {
    const extra = await startRelayHttp([], 0, '127.0.0.1', { ...TEST_LIMITS, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 });
    const connected = once(extra.server, 'connection');
    const held = slowHead({ port: Number(new URL(extra.url).port) }, 200, 10_000);
    await connected;
    const started = Date.now();
    await extra.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await held).status).toBe(0);
  });
});
