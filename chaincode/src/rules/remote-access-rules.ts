/**
 * The access decision on the grantee's chain under a consent mirrored from another chain
 * (CONSENT.md "Consent v2 across chains", decision on the destination): the home chain's rule
 * (access-rules checkAccess) over that one mirror, with the record as its custodian describes
 * it. Pure.
 */
import { fail } from '../errors';
import { asObject, reqArray, reqInt, reqString } from '../protocol/fields';
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
/** Bounds of the lists in a record's facts (the record metadata rules bound their contents). */
const MAX_FACT_ENTRIES = 64;

/**
 * A RemoteAccessRequest from JSON: exact fields (INVALID_ARGUMENT names an unknown or missing
 * one); `record.documentClasses` may be left out (none). Vocabulary and formats are checked
 * by the decision.
 */
export function parseRemoteAccessRequest(input: unknown): RemoteAccessRequest {
  const C = 'INVALID_ARGUMENT' as const;
  const o = asObject(input, C, 'remote access request', REMOTE_REQUEST_FIELDS);
  const r = asObject(o.record, C, 'record', RECORD_FACT_FIELDS);
  const strings = (k: string): string[] => {
    const v = reqArray(r, k, C, 'record', MAX_FACT_ENTRIES, 0);
    if (v.some((x) => typeof x !== 'string')) fail(C, `record.${k} must be a list of strings`);
    return [...(v as string[])].sort();
  };
  const classes = r.documentClasses === undefined ? [] : reqArray(r, 'documentClasses', C, 'record', MAX_FACT_ENTRIES, 0);
  const documentClasses = classes.map((c) => {
    const x = asObject(c, C, 'record.documentClasses entry', ['system', 'code']);
    return { system: reqString(x, 'system', C, 'record.documentClasses entry'), code: reqString(x, 'code', C, 'record.documentClasses entry') };
  });
  return {
    requester: parseRequester(o.requester),
    purpose: reqString(o, 'purpose', C, 'remote access request'),
    record: {
      recordId: reqString(r, 'recordId', C, 'record'),
      resourceType: reqString(r, 'resourceType', C, 'record'),
      securityLabels: strings('securityLabels'),
      dataDate: reqInt(r, 'dataDate', C, 'record', 0),
      authorOrg: reqString(r, 'authorOrg', C, 'record'),
      custodian: reqString(r, 'custodian', C, 'record'),
      documentClasses,
    },
  };
}
