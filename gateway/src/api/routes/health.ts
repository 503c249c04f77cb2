/**
 * Liveness (`/healthz`: the process answers), readiness (`/readyz`: the gateway reaches its
 * peer and the chaincode answers, checked at most once a second) and Prometheus `/metrics`.
 */
import type { FastifyInstance } from 'fastify';
import { asClientError } from '../errors';
import type { ApiContext } from '../context';

const READY_CACHE_MS = 1_000;

export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  let last: { at: number; ready: boolean; detail: string } | undefined;

  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'liveness: the process answers', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'readiness: connected to the peer and the chaincode answers',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, channel: { type: 'string' } } },
          503: { type: 'object', properties: { status: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
    async (_req, reply) => {
      if (ctx.closing()) return reply.status(503).send({ status: 'closing', code: 'UNAVAILABLE', message: 'the server is shutting down' });
      const now = Date.now();
      if (!last || now - last.at > READY_CACHE_MS) {
        try {
          await ctx.chaincode.system.ping();
          last = { at: now, ready: true, detail: '' };
        } catch (e) {
          last = { at: now, ready: false, detail: asClientError(e).message };
        }
      }
      if (last.ready) return { status: 'ready', channel: ctx.chaincode.channel };
      return reply.status(503).send({ status: 'not ready', code: 'UNAVAILABLE', message: last.detail });
    },
  );

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_req, reply) => {
    const text = await ctx.metrics.text();
    return reply.type(ctx.metrics.contentType).send(text);
  });
}
