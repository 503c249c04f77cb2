/**
 * Enrolment (gateway/API.md "Enrolment"): the hospital issues a one-time code; the patient's
 * device redeems it with the public key it generated, signing the request with that key. The
 * code is spent before the registration is submitted and given back if the registration fails.
 * The key is registered privately at this hospital unless the request asks for `publicly`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { patientIdOf } from '@medbridge/chaincode';
import { hospitalOf } from '../auth';
import { ApiError, asClientError } from '../errors';
import { EnrolmentCode, normaliseCode } from '../enrolments';
import { AnyObject, errorResponses, RegisterPatientBody, Security } from '../schemas';
import type { ApiContext } from '../context';

const DEFAULT_TTL_MINUTES = 15;

const IssueBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ttlMinutes: { type: 'integer', minimum: 1, maximum: 10_080, description: `how long the code may be redeemed (default ${DEFAULT_TTL_MINUTES})` } },
} as const;

const Issued = {
  type: 'object',
  required: ['code', 'expiresAt', 'url'],
  properties: {
    code: { type: 'string', pattern: EnrolmentCode.source, description: 'one-time code to show the patient' },
    issuedAt: { type: 'integer' },
    expiresAt: { type: 'integer', description: 'ms since the epoch' },
    url: { type: 'string', description: "the patient app's enrolment address with the code" },
  },
} as const;

const codeParams = { type: 'object', required: ['code'], properties: { code: { type: 'string', minLength: 12, maxLength: 16, pattern: '^[0-9A-Za-z-]+$' } } } as const;

function patientOfBody(req: FastifyRequest): string {
  try {
    return patientIdOf((req.body as { publicKey: string }).publicKey);
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'publicKey must be base64');
  }
}

export function registerEnrolmentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { ttlMinutes?: number } }>(
    '/enrolments',
    {
      schema: {
        tags: ['patients'],
        summary: 'issue a one-time enrolment code for a patient to redeem in the patient app',
        security: Security.hospital,
        body: IssueBody,
        response: { 201: Issued, ...errorResponses },
      },
      config: { auth: { hospital: ['member', 'clinician'] } },
    },
    async (req, reply) => {
      const hospital = hospitalOf(req);
      const issued = ctx.enrolments.issue({ issuedBy: hospital.mspId, ttlMs: (req.body?.ttlMinutes ?? DEFAULT_TTL_MINUTES) * 60_000, now: ctx.clock() });
      req.log.info({ issuedBy: hospital.mspId, expiresAt: issued.expiresAt }, 'enrolment code issued');
      const origin = `${req.protocol}://${req.host}`;
      return reply.status(201).send({ ...issued, url: `${origin}/app/#enrol=${issued.code}` });
    },
  );

  app.post<{ Params: { code: string }; Body: { publicKey: string; publicly?: boolean } }>(
    '/enrolments/:code',
    {
      schema: {
        tags: ['patients'],
        summary: "redeem an enrolment code: register the device's public key (privately at this hospital unless `publicly`), the request signed with that key",
        description: 'A code is redeemed once: unknown 404 ENROLMENT_UNKNOWN, used 409 ENROLMENT_USED, expired 410 ENROLMENT_EXPIRED.',
        security: [{ patientSignature: [] }],
        params: codeParams,
        body: RegisterPatientBody,
        response: { 201: AnyObject, 410: { $ref: 'Error#' }, ...errorResponses },
      },
      config: { auth: { patient: patientOfBody, patientKey: (req) => (req.body as { publicKey: string }).publicKey } },
    },
    async (req, reply) => {
      const code = normaliseCode(req.params.code);
      const patientId = patientOfBody(req);
      ctx.enrolments.redeem(code, patientId, ctx.clock());
      try {
        const res = await ctx.consents.registerPatient(req.body, { privately: req.body.publicly !== true });
        return await reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
      } catch (e) {
        const err = asClientError(e);
        // Already registered (this hospital enrolled the key before): the code did its work.
        if (err.code !== 'ALREADY_EXISTS') ctx.enrolments.release(code);
        throw err;
      }
    },
  );
}
