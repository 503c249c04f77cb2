/**
 * Who may call a route, declared once per route (`config.auth`) and checked before its
 * handler (after the body is parsed and validated, so a patient signature can cover it):
 *
 *  - `hospital`: a system of the server's org by mutual TLS (client-identity.ts), optionally
 *    only with some roles;
 *  - `patient`: the patient's own signature on the request (request-signing.ts); the route
 *    names the patient the request must come from (its path parameter, or the patient of the
 *    signed message in its body);
 *
 * A route may accept both. A request that carries the patient headers is judged as a patient
 * request; otherwise by its client certificate.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import type { Role } from '@medbridge/chaincode';
import type { ClientCertificates, HospitalCaller } from './client-identity';
import { ApiError } from './errors';
import { hasPatientSignature, verifySignedRequest, type NonceWindow } from './request-signing';

export type Caller = { kind: 'hospital'; hospital: HospitalCaller } | { kind: 'patient'; patientId: string };

export interface RouteAuth {
  /** Hospital systems may call it: any role of the org, or only these. */
  hospital?: 'any' | readonly Role[];
  /**
   * Patients may call it, for the patient this returns (from params or body); `true` when
   * any registered patient may (the handler then scopes by the caller).
   */
  patient?: ((req: FastifyRequest) => string | undefined) | true;
  /** The patient's key to verify against, when it is not registered yet (registration). */
  patientKey?: (req: FastifyRequest) => string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes as received (what a patient signature covers). */
    rawBody?: Buffer;
    caller?: Caller;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

export interface AuthDeps {
  certificates?: ClientCertificates;
  nonces: NonceWindow;
  maxSkewMs: number;
  clock: () => number;
  /** The registered key of a patient (on chain). */
  registeredKey: (patientId: string) => Promise<string>;
}

/** The preHandler hook that authenticates every route that declares `config.auth`. */
export function authenticate(deps: AuthDeps) {
  return async function authHook(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const auth = req.routeOptions.config.auth;
    if (!auth) return;
    if (auth.patient && hasPatientSignature(req.headers)) {
      const expected = auth.patient === true ? undefined : auth.patient(req);
      const key = auth.patientKey?.(req);
      const patientId = await verifySignedRequest(
        { method: req.method, path: req.url, body: req.rawBody ?? '', headers: req.headers },
        {
          expectedPatient: expected,
          publicKeyOf: key === undefined ? deps.registeredKey : () => Promise.resolve(key),
          now: deps.clock(),
          maxSkewMs: deps.maxSkewMs,
          nonces: deps.nonces,
        },
      );
      req.caller = { kind: 'patient', patientId };
      return;
    }
    if (!auth.hospital) {
      throw new ApiError(401, 'UNAUTHORIZED', 'this route takes a patient-signed request (gateway/API.md "Patient requests")');
    }
    if (!deps.certificates) {
      throw new ApiError(401, 'UNAUTHORIZED', 'this server runs without TLS, so it cannot authenticate hospital systems; configure tls');
    }
    const hospital = deps.certificates.callerOf(req.raw.socket as TLSSocket, deps.clock());
    const roles = auth.hospital;
    if (roles !== 'any' && !roles.includes(hospital.role) && !(hospital.role === 'admin' && roles.includes('member'))) {
      throw new ApiError(403, 'FORBIDDEN_ROLE', `role ${hospital.role} of ${hospital.mspId} may not call this; needs ${roles.join(' or ')}`);
    }
    req.caller = { kind: 'hospital', hospital };
  };
}

/** The hospital caller of a request (routes that accept only hospitals). */
export function hospitalOf(req: FastifyRequest): HospitalCaller {
  if (req.caller?.kind !== 'hospital') throw new ApiError(401, 'UNAUTHORIZED', 'a hospital client certificate is required');
  return req.caller.hospital;
}
