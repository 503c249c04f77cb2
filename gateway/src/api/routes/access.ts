/**
 * Access decisions and emergency access: the decision for a grantee, record and purpose now
 * (nothing logged), and break-glass, which only a clinician of the org may open: the caller's
 * certificate must carry the clinician role, and the transaction is submitted with the
 * clinician identity the server is configured with (the chaincode checks that role again).
 */
import type { FastifyInstance } from 'fastify';
import type { BreakGlassArgs } from '@medbridge/chaincode';
import { hospitalOf } from '../auth';
import { ApiError } from '../errors';
import { AccessQuery, AnyObject, BreakGlassBody, committed, errorResponses, Security } from '../schemas';
import type { ApiContext } from '../context';


export function registerAccessRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { recordId: string; purpose: string; grantee?: string } }>(
    '/access',
    {
      schema: {
        tags: ['access'],
        summary: 'the access decision for a grantee (default: this org), a record and a purpose, now; nothing is logged',
        security: Security.hospital,
        querystring: AccessQuery,
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any' } },
    },
    (req) => {
      const grantee = req.query.grantee ?? hospitalOf(req).mspId;
      return ctx.chaincode.consent.checkAccess(grantee, req.query.recordId, req.query.purpose);
    },
  );

  app.post<{ Body: BreakGlassArgs }>(
    '/emergencies',
    {
      schema: {
        tags: ['access'],
        summary: 'break-glass: a clinician opens time-limited emergency access to a patient\'s record (or all records)',
        security: Security.hospital,
        body: BreakGlassBody,
        response: { 201: committed(AnyObject), ...errorResponses },
      },
      config: { auth: { hospital: ['clinician'] } },
    },
    async (req, reply) => {
      if (!ctx.clinician) {
        throw new ApiError(403, 'FORBIDDEN_ROLE', 'this server has no clinician identity (clinicianProfile) to open emergency access with');
      }
      const res = await ctx.clinician.consent.breakGlass(req.body);
      req.log.info({ emergencyId: res.result.emergencyId, txId: res.txId, clinician: hospitalOf(req).id }, 'emergency access opened');
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );
}
