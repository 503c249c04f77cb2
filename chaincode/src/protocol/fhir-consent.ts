/**
 * FHIR Consent <-> the consent language (CONSENT.md "Consent language (v2)", FHIR mapping).
 * Import reads an R5 Consent (or an R4 one whose rules carry explicit permit/deny types) into
 * a canonical ConsentPolicy; every element is either enforced, listed as not carried (document
 * metadata that does not change a decision, returned so the patient sees it), or refused with
 * the element's path. A deny is never dropped: an element that could restrict access and
 * cannot be enforced is refused. Export writes an R5 Consent that imports back to the same
 * policy.
 *
 * Errors: FHIR_CONSENT_INVALID (not a Consent, not FHIR, malformed values),
 * FHIR_ELEMENT_UNSUPPORTED (a valid element or code medbridge cannot enforce), and the
 * parser's CONSENT_POLICY_INVALID / CONSENT_POLICY_TOO_LARGE. Pure and bundle-safe.
 */
import { fail } from '../errors';
import { CONSENT_POLICY_FORMAT, opposite, type ActorCriterion, type Coding, type ConsentPolicy, type Decision, type Provision } from './consent-policy/model';
import { parseConsentPolicy } from './consent-policy/parse';
import {
  CONFIDENTIALITY_SYSTEM,
  CONSENT_ACTION_SYSTEM,
  isConfidentiality,
  isPolicyAction,
  isPurposeOfUse,
  isRecordResourceType,
  isRequesterRole,
  isSensitivity,
  PolicyFormats,
  PolicyLimits,
  PURPOSE_OF_USE_SYSTEM,
  RESOURCE_TYPE_SYSTEM,
  SENSITIVITY_SYSTEM,
  type PolicyAction,
} from './consent-policy/vocabulary';
import { formatFhirPeriod, parseFhirPeriod } from './fhir-datetime';

/** Code and identifier systems medbridge reads and writes in FHIR resources. */
export const FhirSystems = {
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  purposeOfUse: PURPOSE_OF_USE_SYSTEM,
  confidentiality: CONFIDENTIALITY_SYSTEM,
  sensitivity: SENSITIVITY_SYSTEM,
  consentAction: CONSENT_ACTION_SYSTEM,
  resourceType: RESOURCE_TYPE_SYSTEM,
  /** medbridge's own: requester roles, MSP ids, pseudonymous practitioner and care-team ids, record ids. */
  requesterRole: 'urn:medbridge:requester-role',
  mspId: 'urn:medbridge:msp-id',
  practitioner: 'urn:medbridge:practitioner',
  careTeam: 'urn:medbridge:care-team',
  recordId: 'urn:medbridge:record-id',
  /** Extension on Consent.provision: a policy (valueString) a request must be made under. */
  provisionPolicyExtension: 'urn:medbridge:fhir:consent-provision-policy',
} as const;

/** Older URIs of the same code systems, as found in published examples, read as the current ones. */
const SYSTEM_ALIASES: Readonly<Record<string, string>> = {
  'http://hl7.org/fhir/v3/ActReason': PURPOSE_OF_USE_SYSTEM,
  'http://hl7.org/fhir/v3/ParticipationType': FhirSystems.participationType,
  'http://hl7.org/fhir/v3/Confidentiality': CONFIDENTIALITY_SYSTEM,
  'http://hl7.org/fhir/v3/ActCode': SENSITIVITY_SYSTEM,
  // the value set of the sensitivity codes, used as a system by the HL7 notSecLabel example
  'http://terminology.hl7.org/ValueSet/v3-InformationSensitivityPolicy': SENSITIVITY_SYSTEM,
};

export type FhirVersion = 'R4' | 'R5';

/** How medbridge treats a FHIR Consent element. */
export type ElementHandling = 'enforced' | 'not-carried' | 'refused';

/**
 * The mapping table, element -> handling and why (CONSENT.md reproduces it). `not-carried`
 * elements describe the consent document and change no decision; they are listed back to the
 * caller. An element not in the table is not a FHIR element and is refused.
 */
export const FHIR_CONSENT_ELEMENTS: Readonly<Record<FhirVersion, Readonly<Record<string, readonly [ElementHandling, string]>>>> = {
  R5: {
    'Consent.resourceType': ['enforced', 'must be Consent'],
    'Consent.id': ['not-carried', 'the medbridge consent id is the hash of the signed grant'],
    'Consent.meta': ['not-carried', 'resource metadata'],
    'Consent.implicitRules': ['refused', 'rules that change the meaning of the resource cannot be evaluated'],
    'Consent.language': ['not-carried', 'language of the narrative'],
    'Consent.text': ['not-carried', 'narrative: what the patient reads; the policy is what is enforced'],
    'Consent.contained': ['refused', 'contained resources are not resolved'],
    'Consent.extension': ['refused', 'unknown extensions could change the meaning'],
    'Consent.modifierExtension': ['refused', 'modifier extensions change the meaning'],
    'Consent.identifier': ['not-carried', 'business identifier of the document'],
    'Consent.status': ['enforced', 'must be active'],
    'Consent.category': ['not-carried', 'kind of consent document'],
    'Consent.subject': ['not-carried', 'the patient is the signer of the medbridge consent; no personal data is carried'],
    'Consent.date': ['not-carried', 'when the document was written'],
    'Consent.period': ['enforced', 'policy.period: outside it every request is denied'],
    'Consent.grantor': ['not-carried', 'the grantor is the signer (patient or guardian)'],
    'Consent.grantee': ['refused', 'who receives rights is stated by provision actors; a grantee list would be ignored by the evaluator'],
    'Consent.manager': ['not-carried', 'who manages the document'],
    'Consent.controller': ['not-carried', "who enforces the consent: the export names a private consent's keeper here; an import never reads the keeper from the document, it is chosen when signing (`--keeper`)"],
    'Consent.sourceAttachment': ['not-carried', 'the source document'],
    'Consent.sourceReference': ['not-carried', 'the source document'],
    'Consent.regulatoryBasis': ['not-carried', 'the law the consent is made under'],
    'Consent.policyBasis': ['refused', 'a computable base policy medbridge cannot evaluate; restrict a provision to a policy with the provision policy extension'],
    'Consent.policyText': ['not-carried', 'human-readable policy text'],
    'Consent.verification': ['not-carried', "medbridge's verification is the patient's signature"],
    'Consent.decision': ['enforced', 'policy.decision (required: a base decision is never guessed)'],
    'Consent.provision': ['enforced', 'policy.provisions'],
    'Consent.provision.id': ['not-carried', 'element id'],
    'Consent.provision.extension': ['enforced', `only ${FhirSystems.provisionPolicyExtension} (provision policies); any other is refused`],
    'Consent.provision.modifierExtension': ['refused', 'modifier extensions change the meaning'],
    'Consent.provision.period': ['enforced', 'provision period (access time)'],
    'Consent.provision.actor': ['enforced', 'actors: role PRCP/IRCP/none = recipient, CST = custodian, AUT = author, a medbridge requester role; reference Organization, Practitioner or CareTeam'],
    'Consent.provision.action': ['enforced', 'actions (consentaction codes)'],
    'Consent.provision.securityLabel': ['enforced', 'security labels (v3 Confidentiality, v3 ActCode sensitivity)'],
    'Consent.provision.purpose': ['enforced', 'purposes (v3 ActReason PurposeOfUse, with its hierarchy)'],
    'Consent.provision.documentType': ['enforced', 'document classes (system and code)'],
    'Consent.provision.resourceType': ['enforced', 'resource types'],
    'Consent.provision.code': ['refused', 'medbridge sees record metadata, not the codes inside a record'],
    'Consent.provision.dataPeriod': ['enforced', 'data period (the record data date)'],
    'Consent.provision.data': ['enforced', 'records (meaning instance only: medbridge holds no links between records)'],
    'Consent.provision.expression': ['refused', 'expressions (FHIRPath, CQL) are not evaluated'],
    'Consent.provision.provision': ['enforced', 'nested provisions'],
  },
  R4: {
    'Consent.resourceType': ['enforced', 'must be Consent'],
    'Consent.id': ['not-carried', 'the medbridge consent id is the hash of the signed grant'],
    'Consent.meta': ['not-carried', 'resource metadata'],
    'Consent.implicitRules': ['refused', 'rules that change the meaning of the resource cannot be evaluated'],
    'Consent.language': ['not-carried', 'language of the narrative'],
    'Consent.text': ['not-carried', 'narrative'],
    'Consent.contained': ['refused', 'contained resources are not resolved'],
    'Consent.extension': ['refused', 'unknown extensions could change the meaning'],
    'Consent.modifierExtension': ['refused', 'modifier extensions change the meaning'],
    'Consent.identifier': ['not-carried', 'business identifier of the document'],
    'Consent.status': ['enforced', 'must be active'],
    'Consent.scope': ['enforced', 'must be patient-privacy'],
    'Consent.category': ['not-carried', 'kind of consent document'],
    'Consent.patient': ['not-carried', 'the patient is the signer; no personal data is carried'],
    'Consent.dateTime': ['not-carried', 'when the document was written'],
    'Consent.performer': ['not-carried', 'the grantor is the signer'],
    'Consent.organization': ['not-carried', 'the custodian of the document'],
    'Consent.sourceAttachment': ['not-carried', 'the source document'],
    'Consent.sourceReference': ['not-carried', 'the source document'],
    'Consent.policy': ['refused', 'a computable base policy medbridge cannot evaluate'],
    'Consent.policyRule': ['not-carried', 'opt-in / opt-out label; the decision is read from provision.type'],
    'Consent.verification': ['not-carried', "medbridge's verification is the patient's signature"],
    'Consent.provision': ['enforced', 'the root rule: its type is required'],
    'Consent.provision.id': ['not-carried', 'element id'],
    'Consent.provision.extension': ['enforced', `only ${FhirSystems.provisionPolicyExtension}`],
    'Consent.provision.modifierExtension': ['refused', 'modifier extensions change the meaning'],
    'Consent.provision.type': ['enforced', 'required on the root rule; a nested rule must negate its parent'],
    'Consent.provision.period': ['enforced', 'provision period'],
    'Consent.provision.actor': ['enforced', 'actors, as in R5'],
    'Consent.provision.action': ['enforced', 'actions'],
    'Consent.provision.securityLabel': ['enforced', 'security labels'],
    'Consent.provision.purpose': ['enforced', 'purposes'],
    'Consent.provision.class': ['enforced', 'resource types (system resource-types) or document classes'],
    'Consent.provision.code': ['refused', 'medbridge sees record metadata, not the codes inside a record'],
    'Consent.provision.dataPeriod': ['enforced', 'data period'],
    'Consent.provision.data': ['enforced', 'records (meaning instance only)'],
    'Consent.provision.provision': ['enforced', 'nested rules'],
  },
};

export interface FhirConsentImport {
  version: FhirVersion;
  /** The canonical policy, ready to be signed. */
  policy: ConsentPolicy;
  /** Paths of the elements present in the resource that are not part of the policy. */
  notCarried: string[];
}

interface Ctx {
  version: FhirVersion;
  notCarried: string[];
}

type Obj = Record<string, unknown>;

const R4_MARKERS = ['scope', 'patient', 'dateTime', 'performer', 'organization', 'policy', 'policyRule'];
const R5_MARKERS = ['decision', 'subject', 'date', 'grantor', 'grantee', 'manager', 'controller', 'regulatoryBasis', 'policyBasis', 'policyText', 'period'];

/**
 * Imports a FHIR Consent resource (parsed JSON) into the consent language. The version is
 * detected from the elements present unless given.
 *
 * @example const { policy, notCarried } = importFhirConsent(JSON.parse(text));
 */
export function importFhirConsent(resource: unknown, options: { version?: FhirVersion } = {}): FhirConsentImport {
  const o = asObj(resource, 'Consent');
  if (o.resourceType !== 'Consent') fail('FHIR_CONSENT_INVALID', `resourceType must be "Consent", got ${JSON.stringify(o.resourceType)}`);
  const version = options.version ?? detectVersion(o);
  const ctx: Ctx = { version, notCarried: [] };
  const root = elements(o, 'Consent', ctx, 'Consent');
  requireActive(root.status);
  const policy = version === 'R5' ? importR5(root, ctx) : importR4(root, ctx);
  return { version, policy: parseConsentPolicy(policy, { order: 'normalize' }), notCarried: ctx.notCarried };
}

const DAY_MS = 86_400_000;

/**
 * An imported policy made bounded for signing: a consent must be in force for a bounded period,
 * and a FHIR Consent may state neither bound. A missing start is `now` (or the end, if that is
 * earlier); a missing end is `days` after the start (or after `now`, if the start is past).
 * Returns the policy with its period, and which bounds were set here, for the patient to be told.
 *
 * @example boundImportedPeriod(policy, { now: Date.UTC(2026, 11, 1), days: 365 }) // { policy, periodFilled: ['start', 'end'] }
 */
export function boundImportedPeriod(policy: ConsentPolicy, opts: { now: number; days: number }): { policy: ConsentPolicy; periodFilled: Array<'start' | 'end'> } {
  const period = { ...(policy.period ?? {}) };
  const periodFilled: Array<'start' | 'end'> = [];
  if (period.start === undefined) {
    period.start = Math.min(opts.now, period.end ?? opts.now);
    periodFilled.push('start');
  }
  if (period.end === undefined) {
    period.end = Math.max(period.start, opts.now) + Math.round(opts.days * DAY_MS);
    periodFilled.push('end');
  }
  return { policy: parseConsentPolicy({ ...policy, period }, { order: 'normalize' }), periodFilled };
}

/**
 * The FHIR version of a Consent resource by the elements present, as importFhirConsent reads it:
 * R4 when it has R4-only elements, else R5. A resource mixing both is refused
 * (FHIR_CONSENT_INVALID), as is one that is not a JSON object.
 *
 * @example detectFhirVersion({ resourceType: 'Consent', scope: {}, provision: {} }) // 'R4'
 */
export function detectFhirVersion(resource: unknown): FhirVersion {
  return detectVersion(asObj(resource, 'Consent'));
}

function detectVersion(o: Obj): FhirVersion {
  const r4 = R4_MARKERS.filter((k) => k in o).concat(o.provision !== undefined && !Array.isArray(o.provision) ? ['provision (one rule)'] : []);
  const r5 = R5_MARKERS.filter((k) => k in o).concat(Array.isArray(o.provision) ? ['provision (a list)'] : []);
  if (r4.length > 0 && r5.length > 0) {
    fail('FHIR_CONSENT_INVALID', `Consent mixes R4 elements (${r4.join(', ')}) with R5 elements (${r5.join(', ')})`);
  }
  return r4.length > 0 ? 'R4' : 'R5';
}

function requireActive(status: unknown): void {
  if (status === undefined) fail('FHIR_CONSENT_INVALID', 'Consent.status is required');
  if (status !== 'active') fail('FHIR_ELEMENT_UNSUPPORTED', `Consent.status is ${JSON.stringify(status)}: only an active consent can be signed`);
}

// ---------------------------------------------------------------------------------------
// R5

function importR5(c: Obj, ctx: Ctx): ConsentPolicy {
  if (c.decision === undefined) fail('FHIR_CONSENT_INVALID', 'Consent.decision is missing: medbridge never guesses a base decision');
  const decision = decisionValue(c.decision, 'Consent.decision');
  const policy: ConsentPolicy = { format: CONSENT_POLICY_FORMAT, decision };
  if (c.period !== undefined) policy.period = parseFhirPeriod(c.period, 'Consent.period');
  if (c.provision !== undefined) {
    policy.provisions = list(c.provision, 'Consent.provision').map((p, i) => importProvision(p, `Consent.provision[${i}]`, decision, 1, ctx));
  }
  return policy;
}

// ---------------------------------------------------------------------------------------
// R4: the root rule's type is the decision of its own criteria; nested rules must negate

const R4_CRITERIA = ['period', 'actor', 'action', 'securityLabel', 'purpose', 'class', 'code', 'dataPeriod', 'data', 'extension'];

function importR4(c: Obj, ctx: Ctx): ConsentPolicy {
  const scope = codings(c.scope, 'Consent.scope');
  if (!scope.some((s) => s.system === 'http://terminology.hl7.org/CodeSystem/consentscope' && s.code === 'patient-privacy')) {
    fail('FHIR_ELEMENT_UNSUPPORTED', 'Consent.scope must be patient-privacy: only privacy consents are access rules');
  }
  if (c.provision === undefined) fail('FHIR_CONSENT_INVALID', 'Consent.provision is missing: an R4 consent states its rule there');
  const root = asObj(c.provision, 'Consent.provision');
  if (root.type === undefined) {
    fail('FHIR_ELEMENT_UNSUPPORTED', 'Consent.provision.type is missing: an R4 rule without permit/deny is ambiguous and a deny is never guessed');
  }
  const type = decisionValue(root.type, 'Consent.provision.type');
  const hasCriteria = R4_CRITERIA.some((k) => root[k] !== undefined);
  if (hasCriteria) {
    // the root rule is one provision under the opposite base decision
    return { format: CONSENT_POLICY_FORMAT, decision: opposite(type), provisions: [importProvision(root, 'Consent.provision', opposite(type), 1, ctx)] };
  }
  const policy: ConsentPolicy = { format: CONSENT_POLICY_FORMAT, decision: type };
  const rest = elements(root, 'Consent.provision', ctx, 'Consent.provision');
  if (rest.provision !== undefined) {
    policy.provisions = list(rest.provision, 'Consent.provision.provision').map((p, i) => importProvision(p, `Consent.provision.provision[${i}]`, type, 1, ctx));
  }
  return policy;
}

// ---------------------------------------------------------------------------------------
// provisions (both versions)

/** A provision under a parent whose decision is `parent`; its own decision is the opposite. */
function importProvision(v: unknown, path: string, parent: Decision, depth: number, ctx: Ctx): Provision {
  if (depth > PolicyLimits.maxDepth) fail('CONSENT_POLICY_TOO_LARGE', `${path} nests deeper than ${PolicyLimits.maxDepth} levels`);
  const own = opposite(parent);
  const o = elements(v, path, ctx, 'Consent.provision');
  if (ctx.version === 'R4') {
    if (o.type === undefined) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.type is missing: a nested R4 rule must say permit or deny`);
    if (decisionValue(o.type, `${path}.type`) !== own) {
      fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.type is ${String(o.type)} under a ${parent}: a medbridge provision always negates its parent`);
    }
  }
  const p: Provision = {};
  if (o.period !== undefined) p.period = parseFhirPeriod(o.period, `${path}.period`);
  if (o.actor !== undefined) p.actors = list(o.actor, `${path}.actor`).map((a, i) => importActor(a, `${path}.actor[${i}]`, own, ctx));
  if (o.action !== undefined) p.actions = list(o.action, `${path}.action`).map((a, i) => importAction(a, `${path}.action[${i}]`, ctx));
  if (o.securityLabel !== undefined) p.securityLabels = list(o.securityLabel, `${path}.securityLabel`).map((l, i) => importLabel(l, `${path}.securityLabel[${i}]`, ctx));
  if (o.purpose !== undefined) p.purposes = list(o.purpose, `${path}.purpose`).map((x, i) => importPurpose(x, `${path}.purpose[${i}]`, ctx));
  if (o.resourceType !== undefined) p.resourceTypes = list(o.resourceType, `${path}.resourceType`).map((x, i) => importResourceType(coding(x, `${path}.resourceType[${i}]`, ctx), `${path}.resourceType[${i}]`));
  if (o.documentType !== undefined) p.documentClasses = list(o.documentType, `${path}.documentType`).map((x, i) => importDocumentClass(coding(x, `${path}.documentType[${i}]`, ctx), `${path}.documentType[${i}]`));
  if (o.class !== undefined) {
    list(o.class, `${path}.class`).forEach((x, i) => {
      const c = coding(x, `${path}.class[${i}]`, ctx);
      if (c.system === RESOURCE_TYPE_SYSTEM) (p.resourceTypes ??= []).push(importResourceType(c, `${path}.class[${i}]`));
      else (p.documentClasses ??= []).push(importDocumentClass(c, `${path}.class[${i}]`));
    });
  }
  if (o.dataPeriod !== undefined) p.dataPeriod = parseFhirPeriod(o.dataPeriod, `${path}.dataPeriod`);
  if (o.data !== undefined) p.records = list(o.data, `${path}.data`).map((d, i) => importData(d, `${path}.data[${i}]`, ctx));
  if (o.extension !== undefined) p.policies = list(o.extension, `${path}.extension`).map((e, i) => importPolicyExtension(e, `${path}.extension[${i}]`));
  if (o.provision !== undefined) {
    p.provisions = list(o.provision, `${path}.provision`).map((c, i) => importProvision(c, `${path}.provision[${i}]`, own, depth + 1, ctx));
  }
  return p;
}

function importActor(v: unknown, path: string, decision: Decision, ctx: Ctx): ActorCriterion {
  const o = fields(v, path, ctx, { role: 'use', reference: 'use', id: 'note' });
  let participation: 'recipient' | 'custodian' | 'author' = 'recipient';
  let role: string | undefined;
  let participationCode: string | undefined;
  if (o.role !== undefined) {
    const c = single(codeable(o.role, `${path}.role`, ctx), `${path}.role`);
    if (c.system === FhirSystems.participationType && (c.code === 'PRCP' || c.code === 'IRCP')) participationCode = c.code;
    else if (c.system === FhirSystems.participationType && c.code === 'CST') participation = 'custodian';
    else if (c.system === FhirSystems.participationType && c.code === 'AUT') participation = 'author';
    else if (c.system === FhirSystems.requesterRole && isRequesterRole(c.code)) role = c.code;
    else fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.role ${c.system}#${c.code} is not a role medbridge enforces (PRCP, IRCP, CST, AUT, or ${FhirSystems.requesterRole})`);
  }
  const who = o.reference === undefined ? null : importReference(o.reference, `${path}.reference`, ctx);
  if (participation !== 'recipient') {
    if (who?.kind !== 'org') fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.reference: a ${participation === 'custodian' ? 'CST' : 'AUT'} actor must be an Organization`);
    return { participation, org: who.id };
  }
  if (who === null && role === undefined) {
    fail('FHIR_ELEMENT_UNSUPPORTED', `${path} names no one: ${participationCode ?? 'an actor'} without a reference would match every requester`);
  }
  const a: ActorCriterion = { participation: 'recipient' };
  if (who?.kind === 'org') a.org = who.id;
  if (who?.kind === 'practitioner' || who?.kind === 'careTeam') {
    if (who.org !== undefined) a.org = who.org;
    if (who.kind === 'practitioner') a.practitioner = who.id;
    else a.careTeam = who.id;
    if (who.org === undefined && decision === 'permit') {
      fail(
        'FHIR_ELEMENT_UNSUPPORTED',
        `${path}.reference permits a ${who.kind === 'practitioner' ? 'Practitioner' : 'CareTeam'} without naming its Organization (identifier system ${who.kind === 'practitioner' ? FhirSystems.practitioner : FhirSystems.careTeam}, value ORG/ID)`,
      );
    }
  }
  if (role !== undefined) a.role = role;
  return a;
}

type Who = { kind: 'org'; id: string } | { kind: 'practitioner' | 'careTeam'; id: string; org?: string };

const REFERENCE_KINDS: Readonly<Record<string, 'org' | 'practitioner' | 'careTeam'>> = { Organization: 'org', Practitioner: 'practitioner', CareTeam: 'careTeam' };
const IDENTIFIER_KINDS: Readonly<Record<string, 'org' | 'practitioner' | 'careTeam'>> = {
  [FhirSystems.mspId]: 'org',
  [FhirSystems.practitioner]: 'practitioner',
  [FhirSystems.careTeam]: 'careTeam',
};
const KIND_TYPES = { org: 'Organization', practitioner: 'Practitioner', careTeam: 'CareTeam' } as const;

/** An actor reference: `Organization|Practitioner|CareTeam/<id>`, or an identifier in a medbridge system. */
function importReference(v: unknown, path: string, ctx: Ctx): Who {
  const o = fields(v, path, ctx, { reference: 'use', type: 'use', identifier: 'use', display: 'note', id: 'note' });
  if ((o.reference === undefined) === (o.identifier === undefined)) {
    fail('FHIR_ELEMENT_UNSUPPORTED', `${path} must carry exactly one of reference and identifier`);
  }
  let kind: 'org' | 'practitioner' | 'careTeam';
  let value: string;
  if (o.reference !== undefined) {
    const m = typeof o.reference === 'string' ? /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(o.reference) : null;
    if (m === null) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.reference must be a relative literal reference TYPE/ID (no URL, no contained resource)`);
    const k = own(REFERENCE_KINDS, m[1] as string);
    if (k === undefined) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.reference: a ${m[1]} is not an actor medbridge can identify (Organization, Practitioner or CareTeam)`);
    kind = k;
    value = m[2] as string;
  } else {
    const id = fields(o.identifier, `${path}.identifier`, ctx, { system: 'use', value: 'use', use: 'note', id: 'note' });
    const k = typeof id.system === 'string' ? own(IDENTIFIER_KINDS, id.system) : undefined;
    if (k === undefined) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.identifier.system must be one of ${Object.keys(IDENTIFIER_KINDS).join(', ')}`);
    if (typeof id.value !== 'string') fail('FHIR_CONSENT_INVALID', `${path}.identifier.value must be a string`);
    kind = k;
    value = id.value;
  }
  if (o.type !== undefined && o.type !== KIND_TYPES[kind]) fail('FHIR_CONSENT_INVALID', `${path}.type ${String(o.type)} disagrees with the reference`);
  if (kind === 'org') {
    if (!PolicyFormats.mspId.test(value)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}: ${JSON.stringify(value)} is not an MSP id`);
    return { kind, id: value };
  }
  const slash = value.indexOf('/');
  const [org, id] = slash < 0 ? [undefined, value] : [value.slice(0, slash), value.slice(slash + 1)];
  if (org !== undefined && !PolicyFormats.mspId.test(org)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}: ${JSON.stringify(org)} is not an MSP id`);
  if (!PolicyFormats.localId.test(id)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}: ${JSON.stringify(id)} is not a pseudonymous id (${PolicyFormats.localId.source})`);
  return org === undefined ? { kind, id } : { kind, id, org };
}

function importAction(v: unknown, path: string, ctx: Ctx): PolicyAction {
  const c = single(codeable(v, path, ctx), path);
  if (c.system !== CONSENT_ACTION_SYSTEM || !isPolicyAction(c.code)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} ${c.system}#${c.code} is not a consentaction code`);
  return c.code;
}

function importLabel(v: unknown, path: string, ctx: Ctx): string {
  const c = coding(v, path, ctx);
  if (c.system === CONFIDENTIALITY_SYSTEM && isConfidentiality(c.code)) return c.code;
  if (c.system === SENSITIVITY_SYSTEM && isSensitivity(c.code)) return c.code;
  return fail('FHIR_ELEMENT_UNSUPPORTED', `${path} ${c.system}#${c.code} is not a security label medbridge enforces`);
}

function importPurpose(v: unknown, path: string, ctx: Ctx): string {
  const c = coding(v, path, ctx);
  if (c.system !== PURPOSE_OF_USE_SYSTEM || !isPurposeOfUse(c.code)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} ${c.system}#${c.code} is not a purpose of use medbridge knows`);
  return c.code;
}

function importResourceType(c: Coding, path: string): string {
  if (c.system !== RESOURCE_TYPE_SYSTEM || !isRecordResourceType(c.code)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} ${c.system}#${c.code} is not a resource type of patient records`);
  return c.code;
}

function importDocumentClass(c: Coding, path: string): Coding {
  if (!PolicyFormats.system.test(c.system) || !PolicyFormats.code.test(c.code)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} is not a coding medbridge can store`);
  return c;
}

function importData(v: unknown, path: string, ctx: Ctx): string {
  const o = fields(v, path, ctx, { meaning: 'use', reference: 'use', id: 'note' });
  if (o.meaning !== 'instance') {
    fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.meaning is ${JSON.stringify(o.meaning)}: medbridge holds no links between records, only "instance" can be enforced`);
  }
  const r = fields(o.reference, `${path}.reference`, ctx, { reference: 'use', type: 'use', identifier: 'use', display: 'note', id: 'note' });
  if ((r.reference === undefined) === (r.identifier === undefined)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.reference must carry exactly one of reference and identifier`);
  let id: string;
  if (r.reference !== undefined) {
    const m = typeof r.reference === 'string' ? /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(r.reference) : null;
    if (m === null || !isRecordResourceType(m[1])) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.reference.reference must be TYPE/ID of a patient record`);
    if (r.type !== undefined && r.type !== m[1]) fail('FHIR_CONSENT_INVALID', `${path}.reference.type disagrees with the reference`);
    id = m[2] as string;
  } else {
    const i = fields(r.identifier, `${path}.reference.identifier`, ctx, { system: 'use', value: 'use', use: 'note', id: 'note' });
    if (i.system !== FhirSystems.recordId) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.reference.identifier.system must be ${FhirSystems.recordId}`);
    if (typeof i.value !== 'string') fail('FHIR_CONSENT_INVALID', `${path}.reference.identifier.value must be a string`);
    id = i.value;
  }
  if (!PolicyFormats.recordId.test(id)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}: ${JSON.stringify(id)} is not a medbridge record id`);
  return id;
}

function importPolicyExtension(v: unknown, path: string): string {
  const o = asObj(v, path);
  if (o.url !== FhirSystems.provisionPolicyExtension) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} ${JSON.stringify(o.url)} is an extension medbridge does not know`);
  for (const k of Object.keys(o)) if (k !== 'url' && k !== 'valueString') fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.${k}: the policy extension carries valueString only`);
  if (typeof o.valueString !== 'string' || !PolicyFormats.policy.test(o.valueString)) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.valueString is not a policy URI or id`);
  return o.valueString;
}

// ---------------------------------------------------------------------------------------
// FHIR datatypes and the element walk

/** The elements of a Consent or a provision by the mapping table: refused ones fail, not-carried ones are listed. */
function elements(v: unknown, path: string, ctx: Ctx, element: string): Obj {
  const o = asObj(v, path);
  const table = FHIR_CONSENT_ELEMENTS[ctx.version];
  for (const k of Object.keys(o)) {
    if (k.startsWith('_')) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.${k}: extensions on primitive values are not supported`);
    const entry = own(table, `${element}.${k}`);
    if (entry === undefined) fail('FHIR_CONSENT_INVALID', `${path}.${k} is not an element of a FHIR ${ctx.version} ${element}`);
    if (entry[0] === 'refused') fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.${k}: ${entry[1]}`);
    if (entry[0] === 'not-carried') ctx.notCarried.push(`${path}.${k}`);
  }
  return o;
}

/** The fields of a datatype: 'use' ones are returned, 'note' ones listed as not carried, others refused. */
function fields(v: unknown, path: string, ctx: Ctx, allowed: Readonly<Record<string, 'use' | 'note'>>): Obj {
  const o = asObj(v, path);
  for (const k of Object.keys(o)) {
    const how = Object.prototype.hasOwnProperty.call(allowed, k) ? allowed[k] : undefined;
    if (how === undefined) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.${k} is not supported here`);
    if (how === 'note') ctx.notCarried.push(`${path}.${k}`);
  }
  return o;
}

function coding(v: unknown, path: string, ctx: Ctx): Coding {
  const o = fields(v, path, ctx, { system: 'use', code: 'use', display: 'note', version: 'note', userSelected: 'note', id: 'note' });
  if (typeof o.system !== 'string' || o.system.length === 0) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.system is required: a code without its system is ambiguous`);
  if (typeof o.code !== 'string' || o.code.length === 0) fail('FHIR_ELEMENT_UNSUPPORTED', `${path}.code is required`);
  return { system: own(SYSTEM_ALIASES, o.system) ?? o.system, code: o.code };
}

function codeable(v: unknown, path: string, ctx: Ctx): Coding[] {
  const o = fields(v, path, ctx, { coding: 'use', text: 'note', id: 'note' });
  if (o.coding === undefined) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} has no coding: text alone cannot be evaluated`);
  return list(o.coding, `${path}.coding`).map((c, i) => coding(c, `${path}.coding[${i}]`, ctx));
}

/** One concept: several codings of one CodeableConcept must not disagree, so exactly one is accepted. */
function single(cs: Coding[], path: string): Coding {
  if (cs.length !== 1) fail('FHIR_ELEMENT_UNSUPPORTED', `${path} must carry exactly one coding`);
  return cs[0] as Coding;
}

function codings(v: unknown, path: string): Coding[] {
  const o = asObj(v, path);
  if (!Array.isArray(o.coding)) return [];
  return o.coding.filter((c): c is Obj => typeof c === 'object' && c !== null).map((c) => ({ system: String(c.system), code: String(c.code) }));
}

function decisionValue(v: unknown, path: string): Decision {
  if (v !== 'permit' && v !== 'deny') fail('FHIR_CONSENT_INVALID', `${path} must be "permit" or "deny"`);
  return v;
}

/** A table lookup that never returns an inherited member (`constructor`, `__proto__`). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

function asObj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('FHIR_CONSENT_INVALID', `${path} must be a JSON object`);
  return v as Obj;
}

function list(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail('FHIR_CONSENT_INVALID', `${path} must be a JSON array`);
  if (v.length === 0) fail('FHIR_CONSENT_INVALID', `${path} is empty (FHIR JSON leaves empty arrays out)`);
  if (v.length > PolicyLimits.maxListEntries) fail('CONSENT_POLICY_TOO_LARGE', `${path} has more than ${PolicyLimits.maxListEntries} entries`);
  return v;
}

// ---------------------------------------------------------------------------------------
// export

export type FhirJson = { [key: string]: FhirJsonValue };
type FhirJsonValue = string | number | boolean | FhirJson | FhirJsonValue[];

/**
 * Writes a policy as a FHIR R5 Consent (status active); with `keeper`, the org that keeps it
 * privately as Consent.controller. importFhirConsent reads it back to the same policy.
 *
 * @example JSON.stringify(exportFhirConsent(policy), null, 2)
 */
export function exportFhirConsent(input: ConsentPolicy, opts: { keeper?: string } = {}): FhirJson {
  const policy = parseConsentPolicy(input, { order: 'normalize' });
  const out: FhirJson = { resourceType: 'Consent', status: 'active', decision: policy.decision };
  // R5 Consent.controller, "Consent Enforcer": the org that keeps a private consent and alone enforces it.
  if (opts.keeper !== undefined) out.controller = [orgReference(opts.keeper)];
  if (policy.period !== undefined) out.period = formatFhirPeriod(policy.period);
  if (policy.provisions !== undefined) out.provision = policy.provisions.map(exportProvision);
  return out;
}

function exportProvision(p: Provision): FhirJson {
  const out: FhirJson = {};
  if (p.policies !== undefined) out.extension = p.policies.map((valueString) => ({ url: FhirSystems.provisionPolicyExtension, valueString }));
  if (p.period !== undefined) out.period = formatFhirPeriod(p.period);
  if (p.actors !== undefined) out.actor = p.actors.map(exportActor);
  if (p.actions !== undefined) out.action = p.actions.map((code) => ({ coding: [{ system: CONSENT_ACTION_SYSTEM, code }] }));
  if (p.securityLabels !== undefined) {
    out.securityLabel = p.securityLabels.map((code) => ({ system: isConfidentiality(code) ? CONFIDENTIALITY_SYSTEM : SENSITIVITY_SYSTEM, code }));
  }
  if (p.purposes !== undefined) out.purpose = p.purposes.map((code) => ({ system: PURPOSE_OF_USE_SYSTEM, code }));
  if (p.documentClasses !== undefined) out.documentType = p.documentClasses.map((c) => ({ system: c.system, code: c.code }));
  if (p.resourceTypes !== undefined) out.resourceType = p.resourceTypes.map((code) => ({ system: RESOURCE_TYPE_SYSTEM, code }));
  if (p.dataPeriod !== undefined) out.dataPeriod = formatFhirPeriod(p.dataPeriod);
  if (p.records !== undefined) out.data = p.records.map((value) => ({ meaning: 'instance', reference: { identifier: { system: FhirSystems.recordId, value } } }));
  if (p.provisions !== undefined) out.provision = p.provisions.map(exportProvision);
  return out;
}

function exportActor(a: ActorCriterion): FhirJson {
  const participation = (code: string): FhirJson => ({ coding: [{ system: FhirSystems.participationType, code }] });
  if (a.participation === 'custodian') return { role: participation('CST'), reference: orgReference(a.org) };
  if (a.participation === 'author') return { role: participation('AUT'), reference: orgReference(a.org) };
  const out: FhirJson = { role: a.role !== undefined ? { coding: [{ system: FhirSystems.requesterRole, code: a.role }] } : participation('PRCP') };
  const scoped = (id: string): string => (a.org === undefined ? id : `${a.org}/${id}`);
  if (a.practitioner !== undefined) out.reference = { type: 'Practitioner', identifier: { system: FhirSystems.practitioner, value: scoped(a.practitioner) } };
  else if (a.careTeam !== undefined) out.reference = { type: 'CareTeam', identifier: { system: FhirSystems.careTeam, value: scoped(a.careTeam) } };
  else if (a.org !== undefined) out.reference = orgReference(a.org);
  return out;
}

/** `Organization/<id>` when the MSP id is a valid FHIR id, else a logical reference by MSP id. */
function orgReference(org: string): FhirJson {
  return /^[A-Za-z0-9\-.]{1,64}$/.test(org) ? { reference: `Organization/${org}` } : { type: 'Organization', identifier: { system: FhirSystems.mspId, value: org } };
}
