/**
 * Cross-chain status as this org's chain sees it: its chain id, the remote chains it trusts,
 * its routes, and each packet sent (a consent carried to another chain) with its status.
 */
import type { FastifyInstance } from 'fastify';
import { AnyObject, errorResponses, Security } from '../schemas';
import type { ApiContext } from '../context';


export function registerCrossChainRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/crosschain/status',
    {
      schema: {
        tags: ['crosschain'],
        summary: "this chain's id, the remote chains it trusts and its routes",
        security: Security.hospital,
        response: { 200: { type: 'object', properties: { chainId: { type: 'string' }, remoteChains: { type: 'array', items: AnyObject }, routes: { type: 'array', items: AnyObject } } }, ...errorResponses },
      },
      config: { auth: { hospital: 'any' } },
    },
    async () => {
      const [chainId, remoteChains, routes] = await Promise.all([ctx.chaincode.chainId(), ctx.crossChain.remoteChains(), ctx.crossChain.routes()]);
      return { chainId, remoteChains, routes };
    },
  );

  app.get<{ Params: { routeId: string; sequence: number } }>(
    '/crosschain/routes/:routeId/packets/:sequence',
    {
      schema: {
        tags: ['crosschain'],
        summary: 'a packet sent from this chain, with its status (sent, acknowledged, timed out)',
        security: Security.hospital,
        params: {
          type: 'object',
          required: ['routeId', 'sequence'],
          properties: { routeId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }, sequence: { type: 'integer', minimum: 1 } },
        },
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any' } },
    },
    (req) => ctx.crossChain.sent(req.params.routeId, req.params.sequence),
  );
}
