/**
 * The limits every network-facing HTTP(S) server of the gateway applies (record exchange, BLS
 * signer, relay health/metrics; the API hands the same values to Fastify): how large a request
 * head may be, how long a client may take to send it and the whole request, how long an idle
 * connection or a TLS handshake may stay open, and the refusal a client gets when the HTTP parser
 * gives up on its request. A slow client (headers sent byte by byte) is cut off after
 * headersTimeoutMs, checked every checkIntervalMs (Node's own check runs every 30 s).
 *
 * Refusals are JSON `{code, message}` with a stable code: 400 INVALID_ARGUMENT (malformed),
 * 408 TIMEOUT (too slow), 413 INVALID_ARGUMENT (body too large), 431 INVALID_ARGUMENT (head too
 * large); the connection is closed after each.
 */
import type { IncomingMessage, Server as HttpServer, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';

export interface HttpLimits {
  /** Largest request head (request line and headers), bytes; larger: 431. */
  maxHeaderBytes: number;
  /** The head must have arrived within this; else 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this (the answer is not counted). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** TLS servers: a handshake not finished within this is dropped. */
  handshakeTimeoutMs: number;
  /** How often the server looks for requests past their timeouts. */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = {
  maxHeaderBytes: 8_192,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  checkIntervalMs: 1_000,
};

export function httpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  return { ...DEFAULT_HTTP_LIMITS, ...overrides };
}

/** Options for node:http / node:https createServer (handshakeTimeout is TLS's; plain HTTP ignores it). */
export function serverOptionsOf(l: HttpLimits): ServerOptions & { handshakeTimeout: number } {
  return {
    maxHeaderSize: l.maxHeaderBytes,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: l.checkIntervalMs,
    handshakeTimeout: l.handshakeTimeoutMs,
  };
}

/** A response written on the raw socket, for requests the HTTP parser refused. */
function rawResponse(status: number, reason: string, body: { code: string; message: string }): string {
  const text = JSON.stringify(body);
  return [`HTTP/1.1 ${status} ${reason}`, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(text)}`, 'Connection: close', '', text].join('\r\n');
}

/** The refusal for a request the parser gave up on (Node's 'clientError'), then the connection is closed. */
export function refusalOf(err: Error & { code?: string }, l: HttpLimits): string | undefined {
  // A TLS failure (handshake timed out or refused) has no HTTP to answer in: just close.
  if (err.code?.startsWith('ERR_TLS') || err.code?.startsWith('ERR_SSL')) return undefined;
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return rawResponse(431, 'Request Header Fields Too Large', { code: 'INVALID_ARGUMENT', message: `request head larger than ${l.maxHeaderBytes} bytes` });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return rawResponse(408, 'Request Timeout', { code: 'TIMEOUT', message: `request not received within ${l.headersTimeoutMs} ms (head) / ${l.requestTimeoutMs} ms (whole)` });
    default:
      return rawResponse(400, 'Bad Request', { code: 'INVALID_ARGUMENT', message: 'malformed HTTP request' });
  }
}

/** Answers a refused request on its socket (when nothing was written on it yet) and closes it. */
export function refuseClientError(err: Error & { code?: string }, socket: Duplex, l: HttpLimits): void {
  const answer = refusalOf(err, l);
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (answer && socket.writable && !pending?.headersSent) {
    socket.end(answer, () => socket.destroy());
    // A client that does not read the refusal does not keep the connection either.
    setTimeout(() => socket.destroy(), 1_000).unref();
    return;
  }
  socket.destroy();
}

/** Applies what createServer options cannot carry, and the refusal of requests the parser gives up on. */
export function applyLimits(server: HttpServer, l: HttpLimits): void {
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => refuseClientError(err, socket, l));
}

/** A request body over its limit: answer 413 and close the connection. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/**
 * Reads a request body of at most `maxBytes` (refused from Content-Length before reading when it
 * says more): BodyTooLarge otherwise.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) throw new BodyTooLarge(maxBytes);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
