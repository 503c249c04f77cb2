/**
 * Consents and guardians: the server submits messages the patient (or a guardian) signed on
 * their own device; the chaincode verifies them (signature, channel, nonce, freshness), so a
 * hospital or this server can carry a patient's decision but never make one. Plus the
 * grantee's view: the records a consent covers.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  consentIdOf,
  permittedRecipientOrgs,
  reachOutside,
  type ConsentGrantMessage,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type GuardianDelegationMessage,
  type GuardianRevocationMessage,
  type RecordAnchor,
  type SignedPatientMessage,
  isPolicyConsent,
} from '@medbridge/chaincode';
import { orAbsent } from '../../fabric/contracts';
import { consentToFhir, prepareConsentImport } from '../../services/consent-fhir';
import type { CarryOutcome } from '../../services/consent-service';
import { reachableChains } from '../../services/crosschain-service';
import { hospitalOf } from '../auth';
import { ApiError, asClientError } from '../errors';
import { AnyObject, committed, ConsentId, errorResponses, FHIR_JSON, FhirFormat, MspId, SignedPatientMessage as SignedSchema, Security } from '../schemas';
import type { ApiContext } from '../context';

/** The patient a signed message in the body speaks for. */
const signedPatient = (req: FastifyRequest) => (req.body as SignedPatientMessage).message.patientId;
const consentParams = { type: 'object', required: ['consentId'], properties: { consentId: ConsentId } } as const;
/** A FHIR Consent resource: the mapping and the R5 schema check the rest of it. */
const FhirConsentBody = { type: 'object', required: ['resourceType'], properties: { resourceType: { const: 'Consent' } }, additionalProperties: true } as const;

function expectKind(signed: SignedPatientMessage, ...kinds: string[]): void {
  if (!kinds.includes(signed.message.kind)) throw new ApiError(400, 'INVALID_ARGUMENT', `expected a ${kinds.join(' or ')} message, got ${signed.message.kind}`);
}

export function registerConsentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const submitted = <T>(res: { txId: string; blockNumber: bigint; result: T }) => ({ txId: res.txId, blockNumber: res.blockNumber.toString(), result: res.result });

  app.post<{ Body: SignedPatientMessage<ConsentGrantMessage> | SignedPatientMessage<ConsentPolicyGrantMessage> }>(
    '/consents',
    {
      schema: {
        tags: ['consents'],
        summary: 'submit a consent.grant (v1 terms) or consent.grant-policy (consent v2) signed on the patient\'s device',
        security: Security.patientOrHospital,
        body: SignedSchema,
        response: { 201: { type: 'object', properties: { consentId: ConsentId, txId: { type: 'string' }, blockNumber: { type: 'string' }, result: AnyObject } }, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: signedPatient } },
    },
    async (req, reply) => {
      expectKind(req.body, 'consent.grant', 'consent.grant-policy');
      const res = await ctx.chaincode.consent.grantConsent(req.body);
      return reply.status(201).send({ consentId: consentIdOf(req.body.message), ...submitted(res) });
    },
  );

  app.post<{ Params: { consentId: string }; Querystring: { keeper?: string }; Body: SignedPatientMessage<ConsentRevocationMessage> }>(
    '/consents/:consentId/revocation',
    {
      schema: {
        tags: ['consents'],
        summary: 'submit a consent.revoke signed on the patient\'s device; the revocation then follows the consent to every chain it was carried to',
        description:
          'For a private consent, `keeper` names the org that keeps it: the revocation goes to its peers only. Once it committed, this hospital carries the revocation to every chain the consent was carried to (its consent packets sent from this chain, or, for a consent it keeps, its sealed shares): `carried` has one entry per chain, its packet\'s `sequence`, or the `error` that chain\'s send met (the revocation itself stands; `POST /v1/consents/{id}/shares` sends it again); `carried: null` with `carryError` when the chains it reached could not be read. A relay delivers each packet.',
        security: Security.patientOrHospital,
        params: consentParams,
        querystring: { type: 'object', additionalProperties: false, properties: { keeper: MspId } },
        body: SignedSchema,
        response: {
          201: {
            type: 'object',
            properties: { txId: { type: 'string' }, blockNumber: { type: 'string' }, result: AnyObject, carried: { type: ['array', 'null'], items: AnyObject }, carryError: AnyObject },
          },
          ...errorResponses,
        },
      },
      config: { auth: { hospital: 'any', patient: signedPatient } },
    },
    async (req, reply) => {
      expectKind(req.body, 'consent.revoke');
      if (req.body.message.consentId !== req.params.consentId) throw new ApiError(400, 'INVALID_ARGUMENT', 'the signed revocation names another consent than the path');
      const keeper = req.query.keeper;
      const cc = ctx.chaincode.consent;
      const revoked = submitted(await (keeper === undefined ? cc.revokeConsent(req.body) : cc.revokeConsentPrivately(req.body, keeper)));
      // A consent kept at another org is carried by that org's gateway, which can read its seals.
      // The revocation stands whatever the carrying meets: a chain's failure is in `carried`, and a
      // failure to read where the consent went (a peer down) is `carried: null` with its error.
      let carried: CarryOutcome[] | null = [];
      let carryError: { code: string; message: string } | undefined;
      if (keeper === undefined || keeper === ctx.chaincode.mspId) {
        try {
          carried = await ctx.consents.carryToEveryChain(req.params.consentId);
        } catch (e) {
          const err = asClientError(e);
          carried = null;
          carryError = { code: err.code, message: err.message };
        }
      }
      for (const c of carried ?? []) if ('error' in c) req.log.warn({ consentId: req.params.consentId, chainId: c.chainId, code: c.error.code }, 'revocation not carried to a chain');
      if (carryError) req.log.warn({ consentId: req.params.consentId, code: carryError.code }, 'revocation not carried: the chains the consent reached could not be read');
      return reply.status(201).send({ ...revoked, carried, ...(carryError ? { carryError } : {}) });
    },
  );

  app.post<{ Params: { consentId: string }; Body: { chainId: string } }>(
    '/consents/:consentId/shares',
    {
      schema: {
        tags: ['consents'],
        summary: "carry a consent's current state to its grantee's chain (a consent this hospital keeps is shared sealed)",
        description:
          "A public consent goes as a consent packet (its grant, or its revocation once revoked); a consent this hospital keeps privately is sealed at this hospital and its consent.sealed packet carries only a digest (chaincode/CONSENT.md \"Sealed consent shares\"); the grantee's gateway fetches the consent from this hospital's record exchange. A relay delivers the packet. `chainId` must be a chain this hospital carries consents to (`chains` of `GET /v1/hospital`) with an org the consent can permit (422 WRONG_DESTINATION otherwise). A patient may share only their own consent (403 UNAUTHORIZED).",
        security: Security.patientOrHospital,
        params: consentParams,
        body: { type: 'object', required: ['chainId'], additionalProperties: false, properties: { chainId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } } },
        response: {
          201: { type: 'object', properties: { consentId: ConsentId, chainId: { type: 'string' }, routeId: { type: 'string' }, sequence: { type: 'integer' }, sealed: { type: 'boolean' }, txId: { type: 'string' } } },
          ...errorResponses,
        },
      },
      config: { auth: { hospital: ['member', 'clinician'], patient: true } },
    },
    async (req, reply) => {
      const consent = await ctx.chaincode.consent.findConsent(req.params.consentId);
      if (req.caller?.kind === 'patient' && req.caller.patientId !== consent.patientId) {
        throw new ApiError(403, 'UNAUTHORIZED', 'a patient shares only their own consents');
      }
      const chain = (await reachableChains(ctx.chaincode)).find((c) => c.chainId === req.body.chainId);
      if (!chain) throw new ApiError(422, 'WRONG_DESTINATION', `this hospital carries no consents to ${req.body.chainId}: no open route to a chain registered here`);
      const reach = isPolicyConsent(consent) ? permittedRecipientOrgs(consent.policy) : { any: false as const, orgs: [consent.grantee] };
      if (!reach.any && !reach.orgs.some((o) => chain.orgs.includes(o))) {
        throw new ApiError(422, 'WRONG_DESTINATION', `no org this consent can permit (${reach.orgs.join(', ')}) is an org of ${chain.chainId} (${chain.orgs.join(', ')})`);
      }
      const { sent, sealed } = await ctx.consents.shareAny(consent.consentId, chain.chainId);
      req.log.info({ consentId: consent.consentId, chainId: chain.chainId, sequence: sent.result.sequence, sealed: sealed !== null }, 'consent carried');
      return reply.status(201).send({ consentId: consent.consentId, chainId: chain.chainId, routeId: sent.result.routeId, sequence: sent.result.sequence, sealed: sealed !== null, txId: sent.txId });
    },
  );

  app.post<{ Querystring: { days?: number }; Body: unknown }>(
    '/consents/fhir-check',
    {
      schema: {
        tags: ['consents'],
        summary: 'a FHIR R4 or R5 Consent as the consent v2 a patient would sign, checked; signs and writes nothing',
        description:
          "The body is a FHIR Consent (`application/json` or `application/fhir+json`), mapped as `consent import` and the patient app map it: an R5 resource is first validated against the official R5 JSON schema (`FHIR_CONSENT_INVALID` with the schema's element paths; the schema is compiled once per process, at its first check, and that request waits for it), then every element is enforced, not carried, or refused with its element path (`FHIR_ELEMENT_UNSUPPORTED`, `FHIR_CONSENT_INVALID`, `CONSENT_POLICY_INVALID`); a deny is never dropped. A period bound the resource does not state is set from now and `days` (default 365). The answer: the canonical policy, its words, the elements not carried, the bounds filled, the orgs it can permit (`grantees`, `[\"*\"]` for every org), and whether the clients keep it privately at this hospital by default (every such org a member of this chain). A hospital's systems check a document here before asking a patient to sign; the patient's device maps the file itself and signs what it shows (`POST /v1/consents`).",
        security: Security.patientOrHospital,
        querystring: { type: 'object', additionalProperties: false, properties: { days: { type: 'integer', minimum: 1, maximum: 1825 } } },
        body: FhirConsentBody,
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: true } },
    },
    async (req) => {
      const prepared = prepareConsentImport(req.body, { now: ctx.clock(), days: req.query.days ?? 365 });
      const reach = permittedRecipientOrgs(prepared.policy);
      const outside = reachOutside(reach, (await ctx.chaincode.governance.getMembers()).members);
      return {
        ...prepared,
        grantees: reach.any ? ['*'] : reach.orgs,
        keptPrivatelyByDefault: !outside.any && outside.orgs.length === 0,
      };
    },
  );

  app.get<{ Params: { consentId: string }; Querystring: { format?: 'json' | 'fhir' } }>(
    '/consents/:consentId',
    {
      schema: {
        tags: ['consents'],
        summary: 'a consent with its effective status: public, or a private consent this hospital keeps',
        description:
          '`format=fhir`: a consent v2 as a FHIR R5 Consent (`application/fhir+json`; `inactive` once revoked or ended, a private one naming its keeper as `controller`); a v1 consent has no policy to export (`400 INVALID_ARGUMENT`).',
        security: Security.patientOrHospital,
        params: consentParams,
        querystring: { type: 'object', additionalProperties: false, properties: { format: FhirFormat } },
        response: { 200: AnyObject, ...errorResponses },
      },
      config: { auth: { hospital: 'any', patient: true } },
    },
    async (req, reply) => {
      const consent = await ctx.chaincode.consent.findConsent(req.params.consentId);
      if (req.caller?.kind === 'patient' && req.caller.patientId !== consent.patientId) {
        throw new ApiError(403, 'UNAUTHORIZED', 'a patient reads only their own consents');
      }
      if (req.query.format !== 'fhir') return consent;
      return reply.type(FHIR_JSON).send(consentToFhir(consent));
    },
  );

  app.get<{ Params: { consentId: string } }>(
    '/consents/:consentId/records',
    {
      schema: {
        tags: ['consents', 'records'],
        summary: 'the records a consent covers, for its grantee',
        description:
          'Records named by the consent, with their anchors (those anchored on this chain), and the categories it covers: every record of the patient in those FHIR resource types, as anchored by their custodians.',
        security: Security.hospital,
        params: consentParams,
        response: {
          200: {
            type: 'object',
            properties: {
              consentId: ConsentId,
              patientId: { type: 'string' },
              effectiveStatus: { type: 'string' },
              purposes: { type: 'array', items: { type: 'string' } },
              period: AnyObject,
              records: { type: 'array', items: AnyObject },
              categories: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
      config: { auth: { hospital: 'any' } },
    },
    async (req) => {
      const caller = hospitalOf(req);
      const consent = await ctx.chaincode.consent.getConsent(req.params.consentId);
      if (isPolicyConsent(consent)) {
        throw new ApiError(422, 'INVALID_ARGUMENT', `consent ${consent.consentId} is a consent v2 policy: it names no record scope; ask for an access decision per record`);
      }
      if (consent.grantee !== caller.mspId) {
        throw new ApiError(403, 'ACCESS_DENIED', `consent ${consent.consentId} is granted to ${consent.grantee}, not to ${caller.mspId}`);
      }
      const records: Array<{ recordId: string; anchor: RecordAnchor | null }> = [];
      for (const recordId of [...consent.terms.scope.recordIds].sort()) {
        const anchor = await orAbsent(ctx.chaincode.consent.getRecord(recordId));
        records.push({ recordId, anchor: anchor && anchor.patientId === consent.patientId ? anchor : null });
      }
      return {
        consentId: consent.consentId,
        patientId: consent.patientId,
        effectiveStatus: consent.effectiveStatus,
        purposes: consent.terms.purposes,
        period: consent.terms.period,
        records,
        categories: [...consent.terms.scope.categories].sort(),
      };
    },
  );

  app.post<{ Body: SignedPatientMessage<GuardianDelegationMessage> }>(
    '/guardians',
    {
      schema: { tags: ['guardians'], summary: 'submit a guardian.authorise signed by the patient', security: Security.patientOrHospital, body: SignedSchema, response: { 201: committed(AnyObject), ...errorResponses } },
      config: { auth: { hospital: 'any', patient: signedPatient } },
    },
    async (req, reply) => {
      expectKind(req.body, 'guardian.authorise');
      return reply.status(201).send(submitted(await ctx.consents.submitDelegation(req.body)));
    },
  );

  app.post<{ Body: SignedPatientMessage<GuardianRevocationMessage> }>(
    '/guardians/revocation',
    {
      schema: { tags: ['guardians'], summary: 'submit a guardian.revoke signed by the patient', security: Security.patientOrHospital, body: SignedSchema, response: { 201: committed(AnyObject), ...errorResponses } },
      config: { auth: { hospital: 'any', patient: signedPatient } },
    },
    async (req, reply) => {
      expectKind(req.body, 'guardian.revoke');
      return reply.status(201).send(submitted(await ctx.consents.submitGuardianRevocation(req.body)));
    },
  );
}
