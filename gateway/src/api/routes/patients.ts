/**
 * Patients: registration from a public key alone (the hospital enrols it, or the patient's
 * device proves the key by signing the request with it), the patient record, the patient's
 * consents, and the access log (the patient's own signed read, or the custodian's view).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessLogReadMessage, RecordsReadMessage, SignedKeyRotation, SignedPatientMessage } from '@medbridge/chaincode';
import { patientIdOf } from '@medbridge/chaincode';
import { consentsOnEveryChain, keptConsentsOnEveryChain } from '../../services/consent-reach';
import { accessLogToFhir } from '../../services/consent-fhir';
import { hospitalOf } from '../auth';
import { ApiError } from '../errors';
import {
  AnyObject,
  committed,
  errorResponses,
  FHIR_JSON,
  FhirFormat,
  Page,
  PatientId,
  PatientRecordsPage,
  RegisterPatientBody,
  SignedKeyRotation as SignedKeyRotationSchema,
  SignedPatientMessage as SignedSchema,
  type PageQuery,
  Security,
} from '../schemas';
import type { ApiContext } from '../context';

type PatientParams = { Params: { patientId: string } };
const patientParam = (req: FastifyRequest) => (req.params as { patientId: string }).patientId;
const patientParams = { type: 'object', required: ['patientId'], properties: { patientId: PatientId } } as const;

export function registerPatientRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { publicKey: string; publicly?: boolean } }>(
    '/patients',
    {
      schema: {
        tags: ['patients'],
        summary: "register a patient from the public key alone (the private key never leaves the patient's device)",
        description:
          "A hospital system enrols the key, or the device signs the request with the key it registers. Privately at this hospital by default (its implicit collection: records anchored for the patient, their consents, guardians and log then stay there too); `publicly: true` registers on the public ledger.",
        security: Security.patientOrHospital,
        body: RegisterPatientBody,
        response: { 201: committed(AnyObject), ...errorResponses },
      },
      config: {
        auth: {
          hospital: 'any',
          patient: (req) => patientIdOfBody(req),
          patientKey: (req) => (req.body as { publicKey: string }).publicKey,
        },
      },
    },
    async (req, reply) => {
      const res = await ctx.consents.registerPatient(req.body, { privately: req.body.publicly !== true });
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );

  app.post<PatientParams & { Body: SignedKeyRotation }>(
    '/patients/:patientId/key-rotation',
    {
      schema: {
        tags: ['patients'],
        summary: "replace the patient's key: a patient.rotate-key signed by the current key and the new one",
        description:
          'The patient id, consents and guardians stay; the retired key signs nothing any more. A patient-signed request must be signed with the current (old) key; a hospital system may carry the envelope too.',
        security: Security.patientOrHospital,
        params: patientParams,
        body: SignedKeyRotationSchema,
        response: { 201: committed(AnyObject), ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    async (req, reply) => {
      if (req.body.message.patientId !== req.params.patientId) {
        throw new ApiError(400, 'INVALID_ARGUMENT', 'the signed rotation is for another patient than the path names');
      }
      const res = await ctx.consents.submitKeyRotation(req.body);
      return reply.status(201).send({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });
    },
  );

  app.get<PatientParams>(
    '/patients/:patientId',
    {
      schema: { tags: ['patients'], summary: 'a registered patient (id, key, custodians)', security: Security.patientOrHospital, params: patientParams, response: { 200: AnyObject, ...errorResponses } },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    (req) => ctx.consents.getPatient(req.params.patientId),
  );

  app.get<PatientParams & { Querystring: PageQuery & { allChains?: boolean } }>(
    '/patients/:patientId/consents',
    {
      schema: {
        tags: ['patients', 'consents'],
        summary: "the patient's consents on this chain with their effective status, a page at a time; allChains=true adds each one's state on every chain it was carried to",
        description:
          "With allChains=true each consent has `chains`: per destination chain, the latest packet this chain sent for it (delivery sent, acknowledged, failed or timed out) and the mirror's status and version there as of the destination's acknowledgement, with its effective status now. What happened there without a packet (a packet in flight, the destination's own governance) is not visible from this hospital's gateway.",
        security: Security.patientOrHospital,
        params: patientParams,
        querystring: { ...Page, properties: { ...Page.properties, allChains: { type: 'boolean', default: false } } },
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    (req) => {
      const { allChains, ...page } = req.query;
      if (allChains === true) return consentsOnEveryChain(ctx.chaincode, req.params.patientId, page, ctx.clock());
      return ctx.chaincode.consent.listConsentsByPatient(req.params.patientId, page);
    },
  );

  app.get<PatientParams & { Querystring: { allChains?: boolean } }>(
    '/patients/:patientId/consents/private',
    {
      schema: {
        tags: ['patients', 'consents'],
        summary: "the patient's private consents this hospital keeps (chaincode/CONSENT.md \"Private consents\"), with their effective status; allChains=true adds where each was shared sealed",
        description:
          "Read from this hospital's own peer: a private consent is in its keeper's implicit collection only, so another hospital's gateway lists its own. With allChains=true each consent has `chains`, as on `/consents?allChains=true`, for its sealed shares (this hospital's own index of seals ties each consent.sealed packet to its consent): `sealed.carries` grant or revocation, `sealed.arrived` once the destination acknowledged the arrival, and `effectiveStatus` the state of the grantee's copy once the grantee fetched it.",
        security: Security.patientOrHospital,
        params: patientParams,
        querystring: { type: 'object', additionalProperties: false, properties: { allChains: { type: 'boolean', default: false } } },
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    (req) =>
      req.query.allChains === true ? keptConsentsOnEveryChain(ctx.chaincode, req.params.patientId, ctx.clock()) : ctx.chaincode.consent.listPrivateConsents(req.params.patientId),
  );

  app.get<PatientParams & { Querystring: PageQuery }>(
    '/patients/:patientId/records',
    {
      schema: {
        tags: ['patients', 'records'],
        summary: "the patient's records anchored on this chain and who holds each, a page at a time (no content)",
        description: 'Each item is the head of a record: recordId, category (FHIR resource type), custodian (the org that holds it off chain), version, anchoredAt (version 1) and updatedAt (the head version). In custodian then record-id order.',
        security: Security.patientOrHospital,
        params: patientParams,
        querystring: Page,
        response: { 200: PatientRecordsPage, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    async (req) => {
      const page = await ctx.chaincode.consent.listRecordsByPatient(req.params.patientId, req.query);
      return {
        items: page.items.map((r) => ({ recordId: r.recordId, category: r.category, custodian: r.custodian, version: r.version, anchoredAt: r.createdAt, updatedAt: r.updatedAt })),
        bookmark: page.bookmark,
      };
    },
  );

  app.get<PatientParams & { Querystring: PageQuery }>(
    '/patients/:patientId/access-log',
    {
      schema: {
        tags: ['patients', 'access'],
        summary: "the patient's access log as this hospital (a custodian) may see it",
        security: Security.hospital,
        params: patientParams,
        querystring: Page,
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any' } },
    },
    (req) => {
      hospitalOf(req);
      return ctx.chaincode.consent.listAccessLog(req.params.patientId, req.query);
    },
  );

  app.post<PatientParams & { Body: SignedPatientMessage<AccessLogReadMessage>; Querystring: PageQuery & { format?: 'json' | 'fhir' } }>(
    '/patients/:patientId/access-log/read',
    {
      schema: {
        tags: ['patients', 'access'],
        summary: "the patient's own read of the whole access log, with an access-log.read message signed on the device",
        description:
          '`format=fhir`: the page as a FHIR R5 Bundle of AuditEvents (`application/fhir+json`), one per decision, permit and deny alike, with the provision path and the break-glass flag; a `next` link carries the bookmark of the next page (POST it again with a fresh signed read).',
        security: Security.patientOrHospital,
        params: patientParams,
        querystring: { ...Page, properties: { ...Page.properties, format: FhirFormat } },
        body: SignedSchema,
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    async (req, reply) => {
      requirePathPatient(req.body, req.params.patientId);
      const { format, ...page } = req.query;
      const log = await ctx.chaincode.consent.listAccessLogSigned(req.body, page);
      if (format !== 'fhir') return log;
      const bundle = accessLogToFhir(log.items);
      if (log.bookmark !== '') {
        const next = new URLSearchParams({ format: 'fhir', ...(page.pageSize === undefined ? {} : { pageSize: String(page.pageSize) }), bookmark: log.bookmark });
        bundle.link = [{ relation: 'next', url: `/v1/patients/${req.params.patientId}/access-log/read?${next.toString()}` }];
      }
      return reply.type(FHIR_JSON).send(bundle);
    },
  );

  app.post<PatientParams & { Body: SignedPatientMessage<RecordsReadMessage> }>(
    '/patients/:patientId/records/labels/read',
    {
      schema: {
        tags: ['patients', 'records'],
        summary: "the patient's own read of the consent labels of their records this hospital holds (private to it), with a records.read message signed on the device",
        security: Security.patientOrHospital,
        params: patientParams,
        body: SignedSchema,
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: patientParam } },
    },
    (req) => {
      requirePathPatient(req.body, req.params.patientId);
      return ctx.chaincode.consent.listRecordLabelsSigned(req.body);
    },
  );
}

/** A signed read names the patient of the path (the chaincode checks the signature and the key). */
function requirePathPatient(signed: SignedPatientMessage, patientId: string): void {
  if (signed.message.patientId !== patientId) {
    throw new ApiError(400, 'INVALID_ARGUMENT', `the signed ${signed.message.kind} is for another patient than the path names`);
  }
}

function patientIdOfBody(req: FastifyRequest): string | undefined {
  try {
    return patientIdOf((req.body as { publicKey: string }).publicKey);
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'publicKey must be base64');
  }
}
