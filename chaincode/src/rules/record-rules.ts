/**
 * Record anchors: a salted hash per record version, a chain of versions where each
 * version names the hash of the one before, and only the custodian org may write.
 */
import { fail } from '../errors';
import { canonicalHash } from '../protocol/canonical-json';
import { Formats } from '../protocol/patient-messages';
import { RECORD_HASH_FORMAT } from '../protocol/record-hash';

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
}

export interface AnchorInput {
  recordId: string;
  patientId: string;
  category: string;
  hash: string;
}

export function validateAnchorInput(i: AnchorInput): void {
  if (!Formats.recordId.test(i.recordId)) fail('INVALID_ARGUMENT', `recordId is malformed (expected ${Formats.recordId.source})`);
  if (!Formats.patientId.test(i.patientId)) fail('INVALID_ARGUMENT', 'patientId is malformed');
  if (!Formats.category.test(i.category)) fail('INVALID_ARGUMENT', 'category must be a FHIR resource type such as Observation');
  validateHash(i.hash);
}

export function validateHash(hash: string): void {
  if (!RECORD_HASH_FORMAT.test(hash)) fail('INVALID_ARGUMENT', 'hash must be a salted SHA-256, 64 lowercase hex characters');
}

/** Version 1 of a new record, anchored by `custodian`. */
export function anchorRecord(
  existing: RecordAnchor | undefined,
  input: AnchorInput,
  custodian: string,
  now: number,
  txId: string,
): { anchor: RecordAnchor; version: RecordVersion } {
  validateAnchorInput(input);
  if (existing) fail('ALREADY_EXISTS', `record ${input.recordId} is already anchored; amend it instead`);
  const anchor: RecordAnchor = { ...input, custodian, version: 1, createdAt: now, updatedAt: now, txId };
  return { anchor, version: versionOf(anchor, null) };
}

/**
 * The next version of a record. `expectedVersion` is the version the caller amends
 * (optimistic concurrency); `head` and `headVersion` are the stored head and its entry.
 */
export function amendRecord(
  head: RecordAnchor,
  headVersion: RecordVersion,
  input: { hash: string; expectedVersion: number },
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
  const anchor: RecordAnchor = { ...head, hash: input.hash, version: head.version + 1, updatedAt: now, txId };
  return { anchor, version: versionOf(anchor, canonicalHash(headVersion)) };
}

function versionOf(a: RecordAnchor, previous: string | null): RecordVersion {
  return {
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
