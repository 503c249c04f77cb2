/**
 * JSON Schemas of the API: Fastify validates every request against them (bad input is a 400
 * INVALID_ARGUMENT before any handler runs) and @fastify/swagger publishes them as the
 * OpenAPI 3.1 document. Signed patient messages are checked here only for their envelope;
 * their content is checked byte for byte by the chaincode's protocol module.
 */
import { Formats, PURPOSES_OF_USE } from '@medbridge/chaincode';

const pattern = (re: RegExp) => re.source;

/** OpenAPI security requirements: who may call a route (auth.ts checks it). */
export const Security: Record<'hospital' | 'patientOrHospital', Array<Record<string, string[]>>> = {
  hospital: [{ hospitalTls: [] }],
  patientOrHospital: [{ patientSignature: [] }, { hospitalTls: [] }],
};

export const PatientId = { type: 'string', pattern: pattern(Formats.patientId), description: "'pt_' + sha256 of the patient's public key" } as const;
export const ConsentId = { type: 'string', pattern: pattern(Formats.consentId) } as const;
export const RecordId = { type: 'string', pattern: pattern(Formats.recordId) } as const;
export const MspId = { type: 'string', pattern: pattern(Formats.mspId) } as const;
export const Purpose = { type: 'string', enum: [...PURPOSES_OF_USE] } as const;
const Base64 = { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[A-Za-z0-9+/]+={0,2}$' } as const;

export const ErrorResponse = {
  $id: 'Error',
  type: 'object',
  description: "A refusal: the chaincode's (or the gateway's) stable code and a message that says what to do",
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, txId: { type: 'string' } },
} as const;

/** The 4xx/5xx answers every route may give. */
export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  422: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
} as const;

/** A patient message signed on the patient's device (chaincode/CONSENT.md "Signed-message formats"). */
export const SignedPatientMessage = {
  type: 'object',
  required: ['message', 'publicKey', 'signature'],
  additionalProperties: false,
  properties: {
    message: {
      type: 'object',
      required: ['domain', 'kind', 'channel', 'patientId', 'signer', 'nonce', 'issuedAt'],
      properties: { kind: { type: 'string' }, patientId: PatientId },
    },
    publicKey: Base64,
    signature: Base64,
  },
} as const;

/** A patient.rotate-key envelope: the current key's signature plus the new key's proof of possession. */
export const SignedKeyRotation = {
  type: 'object',
  required: ['message', 'publicKey', 'signature', 'newKeySignature'],
  additionalProperties: false,
  properties: {
    message: {
      type: 'object',
      required: ['domain', 'kind', 'channel', 'patientId', 'signer', 'nonce', 'issuedAt', 'newPublicKey'],
      properties: { kind: { type: 'string', const: 'patient.rotate-key' }, patientId: PatientId, newPublicKey: Base64 },
    },
    publicKey: Base64,
    signature: Base64,
    newKeySignature: { ...Base64, description: "the NEW key's P1363 signature over the same canonical bytes" },
  },
} as const;

export const Page = {
  type: 'object',
  properties: {
    pageSize: { type: 'integer', minimum: 1, maximum: 200 },
    bookmark: { type: 'string', maxLength: 1024 },
  },
  additionalProperties: false,
} as const;

/** A transaction's result with its id. */
export function committed(result: object) {
  return { type: 'object', required: ['txId', 'result'], properties: { txId: { type: 'string' }, blockNumber: { type: 'string' }, result } } as const;
}

export const AnyObject = { type: 'object', additionalProperties: true } as const;

export const RegisterPatientBody = {
  type: 'object',
  required: ['publicKey'],
  additionalProperties: false,
  properties: {
    publicKey: { ...Base64, description: 'base64 SPKI DER of the P-256 key (uncompressed point)' },
    publicly: {
      type: 'boolean',
      default: false,
      description:
        "false (default): the patient is registered in this hospital's own collection only; no other member reads who the patient is or which records exist (chaincode/CONSENT.md \"Private patients and anchors\"). true: on the public ledger, where every member of the chain reads the id and the key",
    },
  },
} as const;

export const AnchorRecordBody = {
  type: 'object',
  required: ['recordId', 'patientId', 'category', 'hash'],
  additionalProperties: false,
  properties: {
    recordId: RecordId,
    patientId: PatientId,
    category: { type: 'string', pattern: pattern(Formats.category), description: 'FHIR R4 resource type' },
    hash: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'salted SHA-256 of the content (hex)' },
    metadata: { $ref: 'RecordLabels#' },
  },
} as const;

/**
 * Consent v2 metadata of a record (chaincode/CONSENT.md "Record metadata"): the shape here, the
 * vocabulary (labels, code systems) in the chaincode, which refuses an unknown code.
 */
export const RecordLabelsSchema = {
  $id: 'RecordLabels',
  type: 'object',
  required: ['securityLabels', 'dataDate', 'authorOrg'],
  additionalProperties: false,
  description: 'what consent v2 decisions read about a record; absent: a label-less record (no labels, data date = anchoring time, author = custodian)',
  properties: {
    securityLabels: { type: 'array', maxItems: 32, items: { type: 'string', pattern: '^[A-Z]{1,16}$' }, description: 'confidentiality (U L M N R V, at most one) and sensitivity codes (PSY, HIV, SUD...)' },
    dataDate: { type: 'integer', description: 'when the data was produced (ms since the epoch)' },
    authorOrg: { type: 'string', pattern: pattern(Formats.mspId) },
    documentClasses: {
      type: 'array',
      maxItems: 32,
      items: { type: 'object', required: ['system', 'code'], additionalProperties: false, properties: { system: { type: 'string', maxLength: 300 }, code: { type: 'string', maxLength: 128 } } },
    },
  },
} as const;

export const AmendRecordBody = {
  type: 'object',
  required: ['hash', 'expectedVersion'],
  additionalProperties: false,
  properties: { hash: { type: 'string', pattern: '^[0-9a-f]{64}$' }, expectedVersion: { type: 'integer', minimum: 1 }, metadata: { $ref: 'RecordLabels#' } },
} as const;

export const AccessQuery = {
  type: 'object',
  required: ['recordId', 'purpose'],
  additionalProperties: false,
  properties: { recordId: RecordId, purpose: Purpose, grantee: { ...MspId, description: "default: the caller's org" } },
} as const;

export const BreakGlassBody = {
  type: 'object',
  required: ['patientId', 'reason'],
  additionalProperties: false,
  properties: {
    patientId: PatientId,
    recordId: RecordId,
    custodian: { ...MspId, description: "the org whose records it opens and which keeps the emergency private (default this server's org; with recordId, absent or the record's custodian)" },
    reason: { type: 'string', minLength: 1, maxLength: 256, description: 'a code or reference, never clinical text about the patient' },
    durationMinutes: { type: 'integer', minimum: 1, maximum: 1440 },
  },
} as const;

/** A page of a patient's record heads (GET /v1/patients/{patientId}/records): who holds what, no content. */
export const PatientRecordsPage = {
  type: 'object',
  required: ['items', 'bookmark'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['recordId', 'category', 'custodian', 'version', 'anchoredAt', 'updatedAt'],
        properties: {
          recordId: { type: 'string' },
          category: { type: 'string', description: 'FHIR R4 resource type' },
          custodian: { type: 'string', description: 'MSP id of the org that holds the record off chain' },
          version: { type: 'integer' },
          anchoredAt: { type: 'integer', description: 'when version 1 was anchored (ms since the epoch, transaction time)' },
          updatedAt: { type: 'integer', description: 'when the head version was anchored' },
        },
      },
    },
    bookmark: { type: 'string', description: "'' on the last page" },
  },
} as const;

/** Which custodian to fetch a record from, and why (GET /v1/records/{recordId}/content). */
export const RecordContentQuery = {
  type: 'object',
  required: ['from', 'purpose'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$', description: 'the custodian org: its name or MSP id, e.g. HospitalA' },
    purpose: Purpose,
    consentId: ConsentId,
  },
} as const;

export interface PageQuery {
  pageSize?: number;
  bookmark?: string;
}

/** `format=fhir`: the same answer as FHIR R5 JSON (`application/fhir+json`); `json` (default): this API's own. */
export const FhirFormat = { type: 'string', enum: ['json', 'fhir'] } as const;
export const FHIR_JSON = 'application/fhir+json';
