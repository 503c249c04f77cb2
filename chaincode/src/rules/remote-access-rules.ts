/**
 * The access decision on the grantee's chain under a consent mirrored from another chain
 * (CONSENT.md "Consent v2 across chains", decision on the destination): the home chain's rule
 * (access-rules checkAccess) over that one mirror, with the record as its custodian describes
 * it. Pure.
 */
import { fail } from '../errors';
import { checkAccess, parseRequester, type AccessDecision, type Requester } from './access-rules';
import { consentStatusAt, type ConsentStatus } from './consent-rules';
import { validateRecordMetadata, type RecordMetadata } from './consent-policy';
import { isRemotePolicyConsent, type StoredRemoteConsent } from './remote-consent-rules';


/**
 * One access question on the destination (`CheckRemoteAccess`): who asks (as CheckAccessAs
 * states a requester), why, and the record as its custodian describes it (CONSENT.md "Record
 * metadata"): the destination holds no anchor of it, so the facts come with the question.
 */
export interface RemoteAccessRequest {
  requester: Requester;
  purpose: string;
  record: RecordMetadata;
}

/** The destination's decision: the home chain's decision shape, with the mirror's status. */
export type RemoteAccessDecision = AccessDecision & {
  status: ConsentStatus;
  sourceChain: string;
  version: number;
};

/**
 * Decides a request on the destination under one mirrored consent, at `now`, with the home
 * chain's rule (access-rules checkAccess) over that consent alone: v2 by evaluateConsentPolicy
 * with its provision path (consent / consent-denied / out-of-scope), v1 by its terms (the
 * record's resource type standing for its category). No emergencies: break-glass is opened on
 * the home chain. Pure.
 */
export function decideRemoteAccess(m: StoredRemoteConsent, q: RemoteAccessRequest, now: number): RemoteAccessDecision {
  validateRecordMetadata(q.record);
  const record = { recordId: q.record.recordId, patientId: m.patientId, custodian: q.record.custodian, category: q.record.resourceType };
  const base = { grantee: q.requester.org, record, purpose: q.purpose, action: 'read', at: now, emergencies: [] };
  const d = isRemotePolicyConsent(m)
    ? checkAccess({ ...base, consents: [], policyConsents: [m], requester: q.requester, recordMetadata: q.record })
    : checkAccess({ ...base, consents: [m] });
  return { ...d, status: consentStatusAt(m, now), sourceChain: m.sourceChain, version: m.version };
}

const REMOTE_REQUEST_FIELDS = ['requester', 'purpose', 'record'];
const RECORD_FACT_FIELDS = ['recordId', 'resourceType', 'securityLabels', 'dataDate', 'authorOrg', 'custodian', 'documentClasses'];

/**
 * A RemoteAccessRequest from JSON: exact fields (INVALID_ARGUMENT names an unknown or missing
 * one); `record.documentClasses` may be left out (none). Vocabulary and formats are checked
 * by the decision.
 */
export function parseRemoteAccessRequest(input: unknown): RemoteAccessRequest {
  const o = exactObject(input, 'remote access request', REMOTE_REQUEST_FIELDS, []);
  if (typeof o.purpose !== 'string') fail('INVALID_ARGUMENT', 'remote access request purpose must be a string');
  const r = exactObject(o.record, 'record', RECORD_FACT_FIELDS.filter((f) => f !== 'documentClasses'), ['documentClasses']);
  const strings = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail('INVALID_ARGUMENT', `record.${what} must be a list of strings`);
    return [...(v as string[])].sort();
  };
  for (const f of ['recordId', 'resourceType', 'authorOrg', 'custodian']) if (typeof r[f] !== 'string') fail('INVALID_ARGUMENT', `record.${f} must be a string`);
  if (typeof r.dataDate !== 'number') fail('INVALID_ARGUMENT', 'record.dataDate must be ms since the epoch');
  const classes = r.documentClasses ?? [];
  if (!Array.isArray(classes)) fail('INVALID_ARGUMENT', 'record.documentClasses must be a list of {system, code}');
  const documentClasses = (classes as unknown[]).map((c) => {
    const x = exactObject(c, 'record.documentClasses entry', ['system', 'code'], []);
    if (typeof x.system !== 'string' || typeof x.code !== 'string') fail('INVALID_ARGUMENT', 'record.documentClasses entries are {system, code} strings');
    return { system: x.system, code: x.code };
  });
  return {
    requester: parseRequester(o.requester),
    purpose: o.purpose,
    record: {
      recordId: r.recordId as string,
      resourceType: r.resourceType as string,
      securityLabels: strings(r.securityLabels, 'securityLabels'),
      dataDate: r.dataDate,
      authorOrg: r.authorOrg as string,
      custodian: r.custodian as string,
      documentClasses,
    },
  };
}

function exactObject(v: unknown, what: string, required: string[], optional: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('INVALID_ARGUMENT', `${what} must be an object`);
  const o = v as Record<string, unknown>;
  for (const f of required) if (o[f] === undefined) fail('INVALID_ARGUMENT', `${what} is missing ${f}`);
  for (const f of Object.keys(o)) if (!required.includes(f) && !optional.includes(f)) fail('INVALID_ARGUMENT', `${what} has an unknown field ${f}`);
  return o;
}
