/**
 * Records: the hospital anchors version 1 of a record it holds off chain, and amends it
 * (custodian only, from the current version); only the salted hash reaches the ledger. A
 * grantee's system fetches a record's content from its custodian through this server, which
 * asks the custodian's record exchange with the org's own TLS identity (the custodian's
 * exchange decides and logs on chain) and verifies the bytes against the anchor.
 */
import type { FastifyInstance } from 'fastify';
import type { AnchorRecordArgs, RecordLabels } from '@medbridge/chaincode';
import { RecordAnchors } from '../../records/anchors';
import { hospitalOf } from '../auth';
import { ApiError } from '../errors';
import { AmendRecordBody, AnchorRecordBody, AnyObject, committed, errorResponses, RecordContentQuery, RecordId, Security } from '../schemas';
import type { ApiContext } from '../context';

/** Response headers of a fetched record: what the content alone does not say. */
export const RECORD_HEADERS = {
  version: 'x-medbridge-record-version',
  hash: 'x-medbridge-record-hash',
  channel: 'x-medbridge-record-channel',
  custodian: 'x-medbridge-custodian',
  anchorSource: 'x-medbridge-anchor-source',
  consentId: 'x-medbridge-consent-id',
  accessTxId: 'x-medbridge-access-tx-id',
} as const;

/** A media type as a header may carry it; anything else from a custodian is sent as bytes. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const recordParams = { type: 'object', required: ['recordId'], properties: { recordId: RecordId } } as const;

export function registerRecordRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: AnchorRecordArgs }>(
    '/records',
    {
      schema: { tags: ['records'], summary: 'anchor version 1 of a record this hospital holds (in its own collection when it registered the patient privately)', security: Security.hospital, body: AnchorRecordBody, response: { 201: committed(AnyObject), ...errorResponses } },
      config: { auth: { hospital: ['member', 'clinician'] } },
    },
    async (req, reply) => {
      const res = await new RecordAnchors(ctx.chaincode).anchor(req.body);
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );

  app.post<{ Params: { recordId: string }; Body: { hash: string; expectedVersion: number; metadata?: RecordLabels } }>(
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
      const res = await new RecordAnchors(ctx.chaincode).amend(req.params.recordId, req.body.hash, req.body.expectedVersion, req.body.metadata);
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );

  app.get<{ Params: { recordId: string }; Querystring: { from: string; purpose: string; consentId?: string } }>(
    '/records/:recordId/content',
    {
      schema: {
        tags: ['records'],
        summary: "a record's content, fetched from its custodian for this org and verified against its anchor",
        description: `The server asks the custodian's record exchange over mutual TLS with this org's TLS identity; the custodian's LogAccess decides and logs the access on its chain. The answer is the record's bytes (its own content type) after the salted hash was checked against the anchor (this org's ledger, or the attestation of the record chain's nodes). Headers: ${Object.values(RECORD_HEADERS).join(', ')}. A refusal by the custodian is 403 ACCESS_DENIED with the access-log transaction in txId.`,
        security: Security.hospital,
        params: recordParams,
        querystring: RecordContentQuery,
        response: { 200: { description: "the record's bytes, verified, in its own content type", type: 'string', format: 'binary' }, 502: { $ref: 'Error#' }, ...errorResponses },
      },
      config: { auth: { hospital: ['member', 'clinician'] } },
    },
    async (req, reply) => {
      const caller = hospitalOf(req);
      if (!ctx.records) throw new ApiError(503, 'UNAVAILABLE', 'this server has no record exchange client configured');
      const r = await ctx.records.fetch({ from: req.query.from, recordId: req.params.recordId, purpose: req.query.purpose, ...(req.query.consentId ? { consentId: req.query.consentId } : {}) });
      req.log.info({ recordId: r.recordId, version: r.version, custodian: r.custodian, txId: r.txId, requestId: r.requestId, caller: caller.id }, 'record fetched');
      return reply
        .status(200)
        .header('content-type', MEDIA_TYPE.test(r.contentType) ? r.contentType : 'application/octet-stream')
        // A patient's record: no shared cache keeps it.
        .header('cache-control', 'no-store')
        .header(RECORD_HEADERS.version, String(r.version))
        .header(RECORD_HEADERS.hash, r.hash)
        .header(RECORD_HEADERS.channel, r.channel)
        .header(RECORD_HEADERS.custodian, r.custodian)
        .header(RECORD_HEADERS.anchorSource, r.anchorSource)
        .header(RECORD_HEADERS.consentId, r.consentId ?? '')
        .header(RECORD_HEADERS.accessTxId, r.txId)
        .send(r.content);
    },
  );

  app.get<{ Params: { recordId: string } }>(
    '/records/:recordId/labels',
    {
      schema: {
        tags: ['records'],
        summary: "the consent metadata of a record this hospital holds (private to the custodian; 409 NOT_CUSTODIAN for any other hospital)",
        security: Security.hospital,
        params: recordParams,
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any' } },
    },
    (req) => ctx.chaincode.consent.getRecordLabels(req.params.recordId),
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
