/**
 * `GET /v1/events`: Server-Sent Events of the chaincode's ConsentGranted, ConsentRevoked,
 * AccessLogged, EmergencyOpened and PatientKeyRotated events on this chain, as they commit (`event:` the name,
 * `id:` the transaction id, `data:` the payload). `?names=` narrows the stream. A comment
 * line every 15 s keeps proxies from closing an idle stream.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';
import { STREAMED_EVENTS, type StreamedEvent } from '../event-hub';
import { errorResponses, Security } from '../schemas';
import type { ApiContext } from '../context';

const KEEPALIVE_MS = 15_000;

export function registerEventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Shutdown ends open streams, so that closing waits only for ordinary requests.
  const open = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of [...open]) end();
    done();
  });

  app.get<{ Querystring: { names?: string[] } }>(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Server-Sent Events: consent granted or revoked, access logged, emergency opened',
        security: Security.hospital,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { names: { type: 'array', items: { type: 'string', enum: [...STREAMED_EVENTS] }, description: 'only these events (repeat or comma-free list)' } },
        },
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'an event stream' }, ...errorResponses },
      },
      config: { auth: { hospital: 'any' } },
    },
    (req, reply) => {
      const hub = ctx.events;
      if (!hub) throw new ApiError(503, 'UNAVAILABLE', 'the event stream is not running on this server');
      const wanted = new Set<string>(req.query.names ?? STREAMED_EVENTS);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(': medbridge events\n\n');
      const send = (e: StreamedEvent) => {
        if (!wanted.has(e.name)) return;
        res.write(`event: ${e.name}\nid: ${e.txId}\ndata: ${JSON.stringify({ ...e.payload, blockNumber: e.blockNumber.toString() })}\n\n`);
      };
      const unsubscribe = hub.subscribe(send);
      ctx.metrics.streams.inc();
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      const end = () => {
        if (!open.delete(end)) return;
        clearInterval(keepalive);
        unsubscribe();
        ctx.metrics.streams.dec();
        if (!res.writableEnded) res.end();
      };
      open.add(end);
      res.on('close', end);
    },
  );
}
