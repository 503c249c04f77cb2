/**
 * Record anchors: a salted hash per record version, a chain of versions where each
 * version names the hash of the one before, and only the custodian org may write.
 */
import { fail } from '../errors';
import { canonicalHash } from '../protocol/canonical-json';
import type { Coding } from '../protocol/consent-policy/model';
import { compareCodings, compareStrings } from '../protocol/consent-policy/parse';
import { isConfidentiality, isRecordResourceType, isSecurityLabel, PolicyFormats, PolicyLimits } from '../protocol/consent-policy/vocabulary';
import { asObject } from '../protocol/fields';
import { Formats } from '../protocol/patient-messages';
import { RECORD_HASH_FORMAT } from '../protocol/record-hash';
import type { RecordMetadata } from './consent-policy';

/**
 * What the custodian states about a record for consent v2 decisions (CONSENT.md "Record
 * metadata"): set when anchoring, carried by every version, changed only with an amendment.
 * The resource type is the anchor's category. Lists are sorted and without duplicates.
 */
export interface RecordLabels {
  /** At most one confidentiality code (none = N) and any sensitivity codes (PSY, HIV, ...). */
  securityLabels: string[];
  /** When the record's data was produced (ms since the epoch). */
  dataDate: number;
  /** MSP id of the org that authored the record (may differ from the custodian). */
  authorOrg: string;
  /** Document classes the custodian assigns (LOINC document types, categories...). */
  documentClasses: Coding[];
}

/** The head of a record's version chain. */
export interface RecordAnchor {
  recordId: string;
  patientId: string;
  /** MSP id of the org that holds the record off chain and alone may amend it. */
  custodian: string;
  /** FHIR R4 resource type, e.g. Observation. */
  category: string;
  /** Salted SHA-256 of the current version, hex. */
  hash: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  txId: string;
  /** Consent v2 metadata of the head version, public (AnchorRecordWithMetadata); absent on records anchored without it. */
  metadata?: RecordLabels;
  /** Consent v2 metadata kept private by the custodian (CONSENT.md "Private record metadata"): which version's, and its hash. */
  labels?: PrivateLabelsRef;
}

/**
 * Where a record's private metadata is: the custodian's implicit collection under (recordId,
 * `version`), a value whose SHA-256 is `hash` (hex; Fabric's hash of the value bytes, which every
 * peer of the channel can read). A version amended without new metadata keeps the ref it had.
 */
export interface PrivateLabelsRef {
  version: number;
  hash: string;
}

/** The private value: the metadata of one version and the custodian's random salt (hex, 32 bytes). */
export interface PrivateRecordLabels {
  recordId: string;
  version: number;
  metadata: RecordLabels;
  salt: string;
}

/** One entry of the full history; `previous` is canonicalHash of the entry before (null for v1). */
export interface RecordVersion {
  recordId: string;
  version: number;
  hash: string;
  patientId: string;
  custodian: string;
  category: string;
  time: number;
  txId: string;
  previous: string | null;
  /** The version's consent v2 metadata; absent on versions anchored without it. */
  metadata?: RecordLabels;
  /** Where the version's private metadata is (RecordAnchor.labels). */
  labels?: PrivateLabelsRef;
}

export interface AnchorInput {
  recordId: string;
  patientId: string;
  category: string;
  hash: string;
  /** Parsed with parseRecordLabels; absent for a record anchored without metadata. */
  metadata?: RecordLabels;
  /** The private metadata of version 1 (never with `metadata`). */
  labels?: PrivateLabelsRef;
}

export function validateAnchorInput(i: AnchorInput): void {
  if (!Formats.recordId.test(i.recordId)) fail('INVALID_ARGUMENT', `recordId is malformed (expected ${Formats.recordId.source})`);
  if (!Formats.patientId.test(i.patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
  if (!Formats.category.test(i.category)) fail('INVALID_ARGUMENT', 'category must be a FHIR resource type such as Observation');
  if (i.metadata !== undefined && i.labels !== undefined) fail('INVALID_ARGUMENT', 'a record has public or private metadata, not both');
  if (i.metadata !== undefined || i.labels !== undefined) requireRecordResourceType(i.category);
  validateHash(i.hash);
}

function requireRecordResourceType(category: string): void {
  if (!isRecordResourceType(category)) {
    fail('INVALID_ARGUMENT', `category ${category} is not a FHIR resource type that holds patient records; a record with metadata must name one`);
  }
}

const LABEL_FIELDS = ['securityLabels', 'dataDate', 'authorOrg', 'documentClasses'] as const;

/**
 * Parses the metadata a custodian states for a record (untrusted JSON): `securityLabels`
 * (codes of the consent vocabulary, at most one confidentiality code), `dataDate` (ms since
 * the epoch), `authorOrg` (MSP id), `documentClasses` (optional, [{system, code}]). Lists
 * come back sorted; a duplicate or an unknown code is INVALID_ARGUMENT, never dropped.
 *
 * @example parseRecordLabels({ securityLabels: ['PSY', 'R'], dataDate: Date.UTC(2024, 2, 1), authorOrg: 'HospitalAMSP' })
 */
export function parseRecordLabels(input: unknown): RecordLabels {
  const o = asObject(input, 'INVALID_ARGUMENT', 'metadata', LABEL_FIELDS);
  const labels = o.securityLabels;
  if (!Array.isArray(labels)) fail('INVALID_ARGUMENT', 'metadata.securityLabels must be an array (empty for none)');
  if (labels.length > PolicyLimits.maxListEntries) fail('INVALID_ARGUMENT', `metadata.securityLabels has more than ${PolicyLimits.maxListEntries} codes`);
  for (const l of labels) {
    if (!isSecurityLabel(l)) fail('INVALID_ARGUMENT', `metadata.securityLabels holds ${JSON.stringify(l)}, not a confidentiality or sensitivity code medbridge knows`);
  }
  const securityLabels = [...(labels as string[])].sort(compareStrings);
  if (new Set(securityLabels).size !== securityLabels.length) fail('INVALID_ARGUMENT', 'metadata.securityLabels has duplicates');
  if (securityLabels.filter(isConfidentiality).length > 1) fail('INVALID_ARGUMENT', 'metadata.securityLabels holds more than one confidentiality code');
  const dataDate = o.dataDate;
  if (typeof dataDate !== 'number' || !Number.isSafeInteger(dataDate) || dataDate < PolicyLimits.minTime || dataDate > PolicyLimits.maxTime) {
    fail('INVALID_ARGUMENT', 'metadata.dataDate must be an integer number of milliseconds since the epoch, from year 1900 to 9999');
  }
  if (typeof o.authorOrg !== 'string' || !PolicyFormats.mspId.test(o.authorOrg)) fail('INVALID_ARGUMENT', 'metadata.authorOrg must be an MSP id');
  const classes = o.documentClasses ?? [];
  if (!Array.isArray(classes)) fail('INVALID_ARGUMENT', 'metadata.documentClasses must be an array');
  if (classes.length > PolicyLimits.maxListEntries) fail('INVALID_ARGUMENT', `metadata.documentClasses has more than ${PolicyLimits.maxListEntries} codings`);
  const documentClasses = (classes as unknown[]).map((c, i) => {
    const what = `metadata.documentClasses[${i}]`;
    const co = asObject(c, 'INVALID_ARGUMENT', what, ['system', 'code']);
    if (typeof co.system !== 'string' || !PolicyFormats.system.test(co.system)) fail('INVALID_ARGUMENT', `${what}.system must be a code system URI`);
    if (typeof co.code !== 'string' || !PolicyFormats.code.test(co.code)) fail('INVALID_ARGUMENT', `${what}.code is malformed`);
    return { system: co.system, code: co.code };
  });
  documentClasses.sort(compareCodings);
  for (let i = 1; i < documentClasses.length; i++) {
    if (compareCodings(documentClasses[i - 1] as Coding, documentClasses[i] as Coding) === 0) fail('INVALID_ARGUMENT', 'metadata.documentClasses has duplicates');
  }
  return { securityLabels, dataDate, authorOrg: o.authorOrg, documentClasses };
}

/**
 * The record as the consent evaluator sees it. A record anchored without metadata (every
 * anchor made before metadata existed) is read as: no security labels (confidentiality N, no
 * sensitivity code), data date = when version 1 was anchored, author = its custodian, no
 * document classes. So a provision on a label (deny PSY) never matches it: labelling is the
 * custodian's duty, and an unlabelled record is an ordinary one. A record whose metadata is
 * private is decided only with that metadata (`privateLabels`, read at the custodian and checked
 * against the anchor's hash), never as an unlabelled one: without it, NOT_CUSTODIAN.
 */
export function recordMetadataOf(a: RecordAnchor, privateLabels?: RecordLabels): RecordMetadata {
  if (a.labels !== undefined && privateLabels === undefined) {
    fail('NOT_CUSTODIAN', `the metadata of ${a.recordId} is private to ${a.custodian}, its custodian, which alone decides on it`);
  }
  const m = a.labels !== undefined ? privateLabels : a.metadata;
  return {
    recordId: a.recordId,
    resourceType: a.category,
    securityLabels: m ? [...m.securityLabels] : [],
    dataDate: m ? m.dataDate : a.createdAt,
    authorOrg: m ? m.authorOrg : a.custodian,
    custodian: a.custodian,
    documentClasses: m ? m.documentClasses.map((c) => ({ ...c })) : [],
  };
}

export function validateHash(hash: string): void {
  if (!RECORD_HASH_FORMAT.test(hash)) fail('INVALID_ARGUMENT', 'hash must be a salted SHA-256, 64 lowercase hex characters');
}

/** Version 1 of a new record, anchored by `custodian`. */
export function anchorRecord(
  existing: StoredRecordState | undefined,
  input: AnchorInput,
  custodian: string,
  now: number,
  txId: string,
): { anchor: RecordAnchor; version: RecordVersion } {
  validateAnchorInput(input);
  // An erased record's id is never anchored again (RECORD_ERASED), so no new content links to it.
  if (liveRecord(existing)) fail('ALREADY_EXISTS', `record ${input.recordId} is already anchored; amend it instead`);
  const { metadata, labels, ...fields } = input;
  const anchor: RecordAnchor = { ...fields, custodian, version: 1, createdAt: now, updatedAt: now, txId };
  if (metadata !== undefined) anchor.metadata = metadata;
  if (labels !== undefined) anchor.labels = labels;
  return { anchor, version: versionOf(anchor, null) };
}

/**
 * The next version of a record. `expectedVersion` is the version the caller amends
 * (optimistic concurrency); `head` and `headVersion` are the stored head and its entry.
 */
export function amendRecord(
  head: RecordAnchor,
  headVersion: RecordVersion,
  input: { hash: string; expectedVersion: number; metadata?: RecordLabels; labels?: PrivateLabelsRef },
  callerOrg: string,
  now: number,
  txId: string,
): { anchor: RecordAnchor; version: RecordVersion } {
  validateHash(input.hash);
  if (callerOrg !== head.custodian) fail('NOT_CUSTODIAN', `only ${head.custodian}, the custodian, may amend ${head.recordId}`);
  if (input.expectedVersion !== head.version) {
    fail('STALE_VERSION', `record ${head.recordId} is at version ${head.version}, not ${input.expectedVersion}; reload and retry`);
  }
  if (headVersion.version !== head.version || headVersion.hash !== head.hash) {
    fail('RECORD_HASH_MISMATCH', `stored history of ${head.recordId} does not match its head`);
  }
  if (input.hash === head.hash) fail('INVALID_ARGUMENT', 'an amendment must change the record hash');
  if (input.metadata !== undefined && input.labels !== undefined) fail('INVALID_ARGUMENT', 'a version has public or private metadata, not both');
  if (input.metadata !== undefined || input.labels !== undefined) requireRecordResourceType(head.category);
  const anchor: RecordAnchor = { ...head, hash: input.hash, version: head.version + 1, updatedAt: now, txId };
  // New metadata (public or private) replaces the head's; without it the version keeps the head's (if any).
  if (input.metadata !== undefined) {
    anchor.metadata = input.metadata;
    delete anchor.labels;
  }
  if (input.labels !== undefined) {
    anchor.labels = input.labels;
    delete anchor.metadata;
  }
  return { anchor, version: versionOf(anchor, canonicalHash(headVersion)) };
}

function versionOf(a: RecordAnchor, previous: string | null): RecordVersion {
  const v: RecordVersion = {
    recordId: a.recordId,
    version: a.version,
    hash: a.hash,
    patientId: a.patientId,
    custodian: a.custodian,
    category: a.category,
    time: a.updatedAt,
    txId: a.txId,
    previous,
  };
  if (a.metadata !== undefined) v.metadata = a.metadata;
  if (a.labels !== undefined) v.labels = a.labels;
  return v;
}

/** Checks a full history: versions 1..n in order, each linked to the hash of the one before. */
export function verifyVersionChain(versions: RecordVersion[]): void {
  let prev: RecordVersion | undefined;
  versions.forEach((v, i) => {
    if (v.version !== i + 1) fail('RECORD_HASH_MISMATCH', `history of ${v.recordId} has version ${v.version} at position ${i + 1}`);
    const expected = prev ? canonicalHash(prev) : null;
    if (v.previous !== expected) fail('RECORD_HASH_MISMATCH', `version ${v.version} of ${v.recordId} does not link to version ${i}`);
    prev = v;
  });
}

/** Whether a candidate salted hash is the anchored one (exact lowercase hex). */
export function hashMatches(anchored: { hash: string }, candidate: string): boolean {
  return RECORD_HASH_FORMAT.test(candidate) && anchored.hash === candidate;
}

// ---------------------------------------------------------------------------------------
// erasure (GDPR art. 17; CONSENT.md "Erasure")

/**
 * Why a custodian erases without a patient-signed request: a request its staff verified
 * out of band. Codes only, never free text, so nothing personal reaches the ledger.
 */
export const ERASURE_REASONS = ['patient-in-person', 'patient-written', 'legal-representative', 'court-order', 'supervisory-authority'] as const;
export type ErasureReason = (typeof ERASURE_REASONS)[number];

/**
 * What stays in state under an erased record's key: that it was erased, when, by which org
 * (its custodian) and how many versions it had. No hash, no patient, no category, no labels.
 */
export interface ErasedRecord {
  recordId: string;
  erased: true;
  erasedAt: number;
  erasedBy: string;
  versions: number;
  txId: string;
}

/** A record's key holds its live head or, once erased, the erasure marker. */
export type StoredRecordState = RecordAnchor | ErasedRecord;

/** The basis of an erasure: the patient's (or guardian's) signed request, or a verified request. */
export type ErasureRequest = { basis: 'patient-signed'; recordId: string; patientId: string } | { basis: 'verified-request'; recordId: string; reasonCode: string };

export function isErased(s: StoredRecordState): s is ErasedRecord {
  return (s as ErasedRecord).erased === true;
}

/** The live head, undefined when nothing is anchored, RECORD_ERASED when the record was erased. */
export function liveRecord(s: StoredRecordState | undefined): RecordAnchor | undefined {
  if (s !== undefined && isErased(s)) {
    fail('RECORD_ERASED', `record ${s.recordId} was erased by its custodian ${s.erasedBy} at ${new Date(s.erasedAt).toISOString()}; its content no longer exists`);
  }
  return s;
}

/** The org that holds (or held, until it erased it) a record. */
export function custodianOf(s: StoredRecordState): string {
  return isErased(s) ? s.erasedBy : s.custodian;
}

export function parseErasureReason(code: string): ErasureReason {
  if (!(ERASURE_REASONS as readonly string[]).includes(code)) fail('INVALID_ARGUMENT', `reasonCode must be one of ${ERASURE_REASONS.join(', ')}`);
  return code as ErasureReason;
}

/**
 * Erases a record: only its custodian, only once, and for a patient-signed request only the
 * record's own patient (or their guardian, checked by the caller). Returns the marker that
 * replaces the head; the caller deletes every version and the patient index with it.
 */
export function eraseRecord(stored: StoredRecordState | undefined, request: ErasureRequest, callerOrg: string, now: number, txId: string): ErasedRecord {
  if (!Formats.recordId.test(request.recordId)) fail('INVALID_ARGUMENT', 'recordId is malformed');
  if (request.basis === 'verified-request') parseErasureReason(request.reasonCode);
  if (stored === undefined) fail('NOT_FOUND', `record ${request.recordId} does not exist`);
  if (isErased(stored)) fail('RECORD_ERASED', `record ${stored.recordId} is already erased (by ${stored.erasedBy} at ${new Date(stored.erasedAt).toISOString()})`);
  if (callerOrg !== stored.custodian) fail('NOT_CUSTODIAN', `only ${stored.custodian}, the custodian, may erase ${stored.recordId}`);
  if (request.basis === 'patient-signed' && request.patientId !== stored.patientId) {
    fail('UNAUTHORIZED', `the erasure request is signed for another patient than the one record ${stored.recordId} belongs to`);
  }
  return { recordId: stored.recordId, erased: true, erasedAt: now, erasedBy: callerOrg, versions: stored.version, txId };
}
