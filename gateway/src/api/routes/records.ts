/**
 * Record anchors: the hospital anchors version 1 of a record it holds off chain, and amends
 * it (custodian only, from the current version). Only the salted hash reaches the ledger.
 */
import type { FastifyInstance } from 'fastify';
import type { AnchorRecordArgs } from '@medbridge/chaincode';
import { AmendRecordBody, AnchorRecordBody, AnyObject, committed, errorResponses, RecordId, Security } from '../schemas';
import type { ApiContext } from '../context';

const recordParams = { type: 'object', required: ['recordId'], properties: { recordId: RecordId } } as const;

export function registerRecordRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: AnchorRecordArgs }>(
    '/records',
    {
      schema: { tags: ['records'], summary: 'anchor version 1 of a record this hospital holds', security: Security.hospital, body: AnchorRecordBody, response: { 201: committed(AnyObject), ...errorResponses } },
      config: { auth: { hospital: ['member', 'clinician'] } },
    },
    async (req, reply) => {
      const res = await ctx.chaincode.consent.anchorRecord(req.body);
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );

  app.post<{ Params: { recordId: string }; Body: { hash: string; expectedVersion: number } }>(
    '/records/:recordId/versions',
    {
      schema: {
        tags: ['records'],
        summary: 'anchor the next version of a record (custodian only, from the current version)',
        security: Security.hospital,
        params: recordParams,
        body: AmendRecordBody,
        response: { 201: committed(AnyObject), ...errorResponses },
      },
      config: { auth: { hospital: ['member', 'clinician'] } },
    },
    async (req, reply) => {
      const res = await ctx.chaincode.consent.amendRecord(req.params.recordId, req.body.hash, req.body.expectedVersion);
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );

  app.get<{ Params: { recordId: string } }>(
    '/records/:recordId',
    {
      schema: { tags: ['records'], summary: "a record's anchor (head version)", security: Security.hospital, params: recordParams, response: { 200: AnyObject, ...errorResponses } },
      config: { auth: { hospital: 'any' } },
    },
    (req) => ctx.chaincode.consent.getRecord(req.params.recordId),
  );
}
