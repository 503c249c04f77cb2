/**
 * The hospital gateway API (`medbridge serve`, gateway/API.md): a Fastify server over the
 * gateway's services and the typed chaincode client. Every route declares its schema (the
 * OpenAPI 3.1 document at /openapi.json and the reference page at /docs are generated from
 * them) and who may call it (auth.ts). Bad input is a 4xx `{code, message}`, never a 500.
 *
 * @example
 *   const app = await buildApi({ chaincode, config, logger });
 *   await app.listen({ host: '127.0.0.1', port: 8443 });
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import fastify, { LogController, type FastifyError, type FastifyHttpOptions, type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import { ClientError } from '../errors';
import { httpLimits, refuseClientError, serverOptionsOf } from '../http-limits';
import type { ApiContext } from './context';
import type { Chaincode } from '../fabric/contracts';
import { ConsentService } from '../services/consent-service';
import { CrossChainService } from '../services/crosschain-service';
import { authenticate } from './auth';
import type { ClientCertificates } from './client-identity';
import type { ServeConfig } from './config';
import { ApiError, asClientError, errorBody, httpStatus } from './errors';
import type { EventHub } from './event-hub';
import type { RecordFetch } from '../records/record-fetcher';
import { ApiMetrics } from './metrics';
import { NonceWindow, REQUEST_HEADERS } from './request-signing';
import { registerHealthRoutes } from './routes/health';
import { registerPatientRoutes } from './routes/patients';
import { registerRecordRoutes } from './routes/records';
import { registerConsentRoutes } from './routes/consents';
import { registerAccessRoutes } from './routes/access';
import { registerCrossChainRoutes } from './routes/crosschain';
import { registerEventRoutes } from './routes/events';
import { registerEnrolmentRoutes } from './routes/enrolments';
import { registerAppRoutes } from './routes/app';
import { EnrolmentStore } from './enrolments';
import { ErrorResponse, FHIR_JSON, RecordLabelsSchema } from './schemas';

export type { ApiContext } from './context';

export interface ApiOptions {
  config: ServeConfig;
  /** The org's identity on its channel: every transaction but break-glass. */
  chaincode: Chaincode;
  /** A clinician identity of the same org, for break-glass. */
  clinician?: Chaincode;
  /** Mutual TLS: the org's CA certificates and the server's own certificate and key. */
  tls?: { certificates: ClientCertificates; cert: string; key: string };
  events?: EventHub;
  /** Fetches records from custodians for this org (GET /v1/records/{recordId}/content). */
  records?: RecordFetch;
  logger: Logger;
  clock?: () => number;
  metrics?: ApiMetrics;
  /** One-time enrolment codes; default: kept in memory only (startApi keeps them in dataDir). */
  enrolments?: EnrolmentStore;
}

/** What every route module gets. */

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const clock = opts.clock ?? Date.now;
  const metrics = opts.metrics ?? new ApiMetrics();
  // Heads, slow clients and handshakes are bounded (http-limits.ts); a request the HTTP parser
  // gives up on is answered 400/408/431 with a JSON code, like every other refusal.
  const limits = httpLimits(opts.config.limits);
  const serverOptions: FastifyServerOptions = {
    loggerInstance: opts.logger,
    bodyLimit: opts.config.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => refuseClientError(err, socket, limits),
    // Fastify finishes in-flight requests on close and answers new ones 503; idle keep-alive
    // connections are closed at once so shutdown does not wait for them.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestIdHeader: false,
    // One line per request from the onResponse hook below: route pattern and status, no URL
    // (it holds ids a log does not need), headers or body.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  };
  const app = (
    opts.tls
      ? fastify({
          ...serverOptions,
          // The TLS layer asks for a client certificate and checks it against the org's CAs but
          // lets the request through either way: auth.ts refuses with a JSON code, per route.
          https: { ...serverOptionsOf(limits), cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.certificates.caPems, requestCert: true, rejectUnauthorized: false },
        } as FastifyHttpsOptions<HttpsServer>)
      : fastify({ ...serverOptions, http: serverOptionsOf(limits) } as FastifyHttpOptions<HttpServer>)
  ) as unknown as FastifyInstance;

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  // JSON bodies (FHIR's media type too): kept as received (a patient signature covers the exact
  // bytes), then parsed by Fastify's own parser (prototype-poisoning protection included).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(['application/json', FHIR_JSON], { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    void parseJson(req, (body as Buffer).toString('utf8'), done);
  });

  app.addSchema(ErrorResponse);
  app.addSchema(RecordLabelsSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'medbridge hospital gateway API',
        version: '1.0.0',
        description: 'Patient-owned consent and record sharing, for a hospital\'s systems and its patients\' devices. Reference: gateway/API.md.',
      },
      components: {
        securitySchemes: {
          // OpenAPI 3.1's mutualTLS scheme; the swagger plugin's types predate it.
          hospitalTls: { type: 'mutualTLS', description: "a client certificate issued by the org's Fabric CA; role from medbridge.role or the NodeOU" } as unknown as { type: 'http'; scheme: string },
          patientSignature: {
            type: 'apiKey',
            in: 'header',
            name: REQUEST_HEADERS.signature,
            description: `the patient's P-256 signature over the request form, with ${REQUEST_HEADERS.patient}, ${REQUEST_HEADERS.timestamp} and ${REQUEST_HEADERS.nonce}`,
          },
        },
      },
    },
    // Route schemas refer to shared ones by `Error#`; the document names them as components.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false }, staticCSP: true });

  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.observe(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    req.log.info({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const err = toApiError(error);
    const status = httpStatus(err);
    if (status >= 500) req.log.error({ code: err.code, err: error }, 'request failed');
    else req.log.info({ code: err.code, status }, 'request refused');
    void reply.status(status).send(errorBody(err));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0] ?? ''}` });
  });

  const nonces = new NonceWindow(opts.config.requestSigning.maxSkewMs);
  app.addHook(
    'preHandler',
    authenticate({
      certificates: opts.tls?.certificates,
      nonces,
      maxSkewMs: opts.config.requestSigning.maxSkewMs,
      clock,
      registeredKey: async (patientId) => {
        try {
          return (await opts.chaincode.consent.getPatient(patientId)).publicKey;
        } catch (e) {
          const err = asClientError(e);
          if (err.code === 'NOT_FOUND' || err.code === 'PATIENT_NOT_REGISTERED') {
            throw new ApiError(401, 'PATIENT_NOT_REGISTERED', `patient ${patientId} is not registered on ${opts.chaincode.channel}`);
          }
          throw err;
        }
      },
    }),
  );

  const ctx: ApiContext = {
    config: opts.config,
    chaincode: opts.chaincode,
    clinician: opts.clinician,
    consents: new ConsentService(opts.chaincode, await opts.chaincode.chainId().catch(() => opts.chaincode.channel)),
    crossChain: new CrossChainService(opts.chaincode),
    events: opts.events,
    records: opts.records,
    metrics,
    enrolments: opts.enrolments ?? new EnrolmentStore(),
    clock,
    closing: () => closing,
  };
  registerHealthRoutes(app, ctx);
  await app.register(
    (v1: FastifyInstance, _o: unknown, done: () => void) => {
      registerPatientRoutes(v1, ctx);
      registerRecordRoutes(v1, ctx);
      registerConsentRoutes(v1, ctx);
      registerAccessRoutes(v1, ctx);
      registerCrossChainRoutes(v1, ctx);
      registerEventRoutes(v1, ctx);
      registerEnrolmentRoutes(v1, ctx);
      done();
    },
    { prefix: '/v1' },
  );
  await registerAppRoutes(app, ctx);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}

/** Fastify's own refusals (validation, body size, content type, bad JSON) as 4xx INVALID_ARGUMENT. */
function toApiError(error: FastifyError) {
  if (error.validation) {
    return new ApiError(400, 'INVALID_ARGUMENT', `${error.validationContext ?? 'request'} ${error.message.replace(/^(body|params|querystring|headers)\/?/, '')}`.trim());
  }
  // Fastify's parser and router errors carry a 4xx statusCode (a JSON SyntaxError has no code).
  if (!(error instanceof ClientError) && typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiError(error.statusCode, 'INVALID_ARGUMENT', error.message);
  }
  return asClientError(error);
}
