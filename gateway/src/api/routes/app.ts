/**
 * The patient app (gateway/APP.md) at /app/: the static files `make build` bundles into
 * gateway/app/dist, served with a content security policy that lets the page talk to this
 * server only. The app is a client of the same API as every other client.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { reachableChains } from '../../services/crosschain-service';
import type { ApiContext } from '../context';

/** gateway/app/dist beside the compiled gateway (gateway/dist/api/routes -> gateway/app/dist). */
export const DEFAULT_APP_DIR = resolve(__dirname, '..', '..', '..', 'app', 'dist');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export async function registerAppRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  // What a patient's device needs to know before it signs: the chain id messages are bound to, the
  // orgs of this chain (a consent for one of them is kept privately at this hospital), and the
  // chains it can carry a consent to with their orgs (a consent for one of those is kept here too
  // and shared sealed with the grantee's chain: chaincode/CONSENT.md "Sealed consent shares").
  app.get(
    '/v1/hospital',
    {
      schema: {
        tags: ['patients'],
        summary: "the hospital this server speaks for: its MSP id, its channel, the chain id patient messages are bound to, the chain's member orgs and the chains it carries consents to",
        description: '`chains`: each remote chain registered here with an open route from this chain, its orgs (MSP ids, as registered here) and the packet types its open routes carry.',
        response: {
          200: {
            type: 'object',
            properties: {
              mspId: { type: 'string' },
              channel: { type: 'string' },
              chainId: { type: 'string' },
              members: { type: 'array', items: { type: 'string' } },
              chains: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { chainId: { type: 'string' }, orgs: { type: 'array', items: { type: 'string' } }, packetTypes: { type: 'array', items: { type: 'string' } } },
                },
              },
            },
          },
        },
      },
    },
    async () => {
      // Read each time: governance can add a member, a chain or a route; the chain id never changes.
      const [{ chainId, members }, chains] = await Promise.all([ctx.chaincode.governance.getMembers(), reachableChains(ctx.chaincode)]);
      return { mspId: ctx.chaincode.mspId, channel: ctx.chaincode.channel, chainId, members, chains };
    },
  );
  const root = ctx.config.appDir ?? DEFAULT_APP_DIR;
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ appDir: root }, 'patient app not built (make build): /app/ is not served');
    return;
  }
  app.get('/app', { schema: { hide: true } }, (_req, reply) => reply.redirect('/app/', 301));
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    decorateReply: false,
    index: ['index.html'],
    setHeaders: (res) => {
      res.setHeader('content-security-policy', CSP);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('cache-control', 'no-cache');
    },
  });
}
