/**
 * Raw clients for the edge tests of the network-facing servers: bytes as a misbehaving client
 * would send them (over TCP or TLS), a slow client that sends its head byte by byte, and a TCP
 * client that never starts its TLS handshake. Each waits on the server's answer or its closing
 * the connection, with a deadline; none sleeps.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** Where a server listens, and (for TLS) what a client presents. */
export interface Target {
  port: number;
  tls?: { ca: string; cert?: string; key?: string; servername?: string };
}

export interface RawAnswer {
  /** Status of the first response (0 when the server closed without answering). */
  status: number;
  /** Body of the first response parsed as JSON, when it is JSON. */
  json?: { code?: string; message?: string; error?: string };
  /** Everything received. */
  text: string;
  /** Milliseconds from the first byte sent until the server closed the connection. */
  closedAfterMs: number;
}

function open(target: Target): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    if (!target.tls) {
      const s = tcpConnect(target.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
      return;
    }
    const s = tlsConnect({ port: target.port, host: '127.0.0.1', servername: target.tls.servername ?? 'localhost', ca: target.tls.ca, cert: target.tls.cert, key: target.tls.key }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
}

/** The body of a chunked response. */
function dechunk(raw: string): string {
  let out = '';
  let rest = raw;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

function parse(text: string, closedAfterMs: number): RawAnswer {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const raw = rest.join('\r\n\r\n');
  const body = /^transfer-encoding: chunked$/im.test(head) ? dechunk(raw) : raw;
  let json: RawAnswer['json'];
  try {
    json = JSON.parse(body) as RawAnswer['json'];
  } catch {
    json = undefined;
  }
  return { status, json, text, closedAfterMs };
}

/**
 * Sends `parts` (one write each, `gapMs` apart; the writes stop once the server closed) and
 * collects the answer until the server closes the connection. Rejects after `deadlineMs`.
 */
export async function exchange(target: Target, parts: Array<string | Buffer>, opts: { gapMs?: number; deadlineMs?: number } = {}): Promise<RawAnswer> {
  const socket = await open(target);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${opts.deadlineMs ?? 15_000} ms`));
    }, opts.deadlineMs ?? 15_000);
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(deadline);
      if (timer) clearTimeout(timer);
      resolve(parse(Buffer.concat(chunks).toString('utf8'), Date.now() - started));
    });
    const queue = [...parts];
    const next = () => {
      const part = queue.shift();
      if (part === undefined || closed) return;
      socket.write(part);
      if (queue.length > 0) timer = setTimeout(next, opts.gapMs ?? 0);
    };
    next();
  });
}

/** A slow client: a request head sent one byte every `gapMs`, never finished within the test. */
export function slowHead(target: Target, gapMs: number, deadlineMs: number): Promise<RawAnswer> {
  const head = `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(2_000)}`;
  return exchange(target, head.split(''), { gapMs, deadlineMs });
}

/** A slow body: a whole head announcing 64 bytes, then a byte every `gapMs`. */
export function slowBody(target: Target, path: string, gapMs: number, deadlineMs: number): Promise<RawAnswer> {
  const head = `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n`;
  return exchange(target, [head, ...'{"recordId":'.split(''), ...'x'.repeat(60).split('')], { gapMs, deadlineMs });
}

/** A TCP client that connects to a TLS port and never says a word: the server must drop it. */
export async function silentTcp(port: number, deadlineMs: number): Promise<number> {
  const socket = await open({ port });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept a silent connection open for ${deadlineMs} ms`));
    }, deadlineMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve(Date.now() - started);
    });
  });
}

/** A TLS client presenting `tls` (or no certificate): resolves with what failed, or 'connected'. */
export async function handshake(target: Target): Promise<string> {
  try {
    const s = await open(target);
    // TLS 1.3: the server's refusal of a client certificate arrives after the client's handshake ends.
    return await new Promise<string>((resolve) => {
      s.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
      s.on('close', () => resolve('closed'));
      s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      s.on('data', () => resolve('answered'));
    });
  } catch (e) {
    return (e as Error & { code?: string }).code ?? (e as Error).message;
  }
}

/** A request head of `bytes` bytes (one big header). */
export function bigHead(path: string, bytes: number): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(bytes)}\r\n\r\n`;
}

/** A whole POST with a JSON (or any) body. */
export function post(path: string, body: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`;
}

/** The same limits in every edge test: short, so each slow client is cut off in about a second. */
export const TEST_LIMITS = { headersTimeoutMs: 800, requestTimeoutMs: 1_500, handshakeTimeoutMs: 800, checkIntervalMs: 100, keepAliveTimeoutMs: 1_000 };
