/**
 * Errors on the wire: every refusal is `{code, message}` (plus `hint` / `txId` when there is
 * one) with a 4xx status; codes are the chaincode's own (errors.ts carries them out of
 * Fabric's endorsement errors) or the gateway's. Only a fault of the server or its network
 * is a 5xx. The status of each code is decided here, once.
 */
import { MedbridgeError } from '@medbridge/chaincode';
import { ClientError, toClientError, type Code } from '../errors';

/** A refusal decided by the API itself (authentication, request shape), with its status. */
export class ApiError extends ClientError {
  constructor(
    readonly status: number,
    code: Code,
    message: string,
  ) {
    super(code, status >= 500 ? 'other' : 'rejected', message);
    this.name = 'ApiError';
  }
}

const STATUS_OF_CODE: Partial<Record<Code, number>> = {
  INVALID_ARGUMENT: 400,
  USAGE: 400,
  WRONG_CHANNEL: 400,
  MESSAGE_STALE: 400,
  CLOCK_SKEW: 400,
  UNAUTHORIZED: 401,
  PATIENT_SIGNATURE_INVALID: 401,
  FORBIDDEN_ROLE: 403,
  PERMISSION_DENIED: 403,
  ACCESS_DENIED: 403,
  NOT_CUSTODIAN: 403,
  GUARDIAN_NOT_AUTHORIZED: 403,
  PATIENT_KEY_RETIRED: 403,
  NOT_A_MEMBER: 403,
  CONSENT_NOT_ACTIVE: 403,
  CONSENT_EXPIRED: 403,
  NOT_FOUND: 404,
  PATIENT_NOT_REGISTERED: 404,
  RECORD_NOT_FOUND: 404,
  RECORD_ERASED: 410,
  PROPOSAL_NOT_FOUND: 404,
  UNKNOWN_CHAIN: 404,
  ALREADY_EXISTS: 409,
  NONCE_REPLAYED: 409,
  STALE_VERSION: 409,
  ALREADY_REVIEWED: 409,
  ALREADY_APPROVED: 409,
  PATIENT_KEY_IN_USE: 409,
  PATIENT_KEY_ROTATION_LIMIT: 409,
  COMMIT_FAILED: 409,
  EMERGENCY_LIMIT: 429,
  RATE_LIMITED: 429,
  RECORD_HASH_MISMATCH: 502,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

/** The HTTP status of an error: its own (ApiError), else by code; other chaincode refusals are 422. */
export function httpStatus(err: ClientError): number {
  if (err instanceof ApiError) return err.status;
  const byCode = STATUS_OF_CODE[err.code];
  if (byCode !== undefined) return byCode;
  if (err.kind === 'unavailable') return 503;
  if (err.kind === 'other') return 500;
  return 422;
}

/** The JSON body of an error response. */
export function errorBody(err: ClientError): { code: string; message: string; hint?: string; txId?: string } {
  return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(err.txId ? { txId: err.txId } : {}) };
}

/** Anything thrown in a handler as a ClientError (the chaincode's code when there is one). */
export function asClientError(e: unknown): ClientError {
  // The chaincode's protocol module throws MedbridgeError for a bad message checked before
  // any Fabric call: that is bad input too, with the chaincode's code.
  if (e instanceof MedbridgeError) return new ApiError(STATUS_OF_CODE[e.code] ?? 400, e.code, e.detail);
  return toClientError(e);
}
