/**
 * The request-signing form of gateway/API.md "Authentication" as the device builds it. The
 * bytes signed are the protocol module's canonicalBytes of this object; a unit test holds it
 * equal to the server's requestForm (gateway/src/api/request-signing.ts) for the same request.
 */
export const API_REQUEST_DOMAIN = 'medbridge/api-request/v1';

export interface RequestForm {
  domain: typeof API_REQUEST_DOMAIN;
  method: string;
  path: string;
  bodyHash: string;
  timestamp: number;
  nonce: string;
  patientId: string;
}

/** `path` with its query string as sent; `bodyHash` = sha256 hex of the raw body ('' hashed for none). */
export function requestForm(method: string, path: string, bodyHash: string, patientId: string, timestamp: number, nonce: string): RequestForm {
  return { domain: API_REQUEST_DOMAIN, method: method.toUpperCase(), path, bodyHash, timestamp, nonce, patientId };
}
