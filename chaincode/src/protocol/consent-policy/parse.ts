/**
 * The strict parser of the consent language: untrusted JSON in, a ConsentPolicy out, or a
 * coded error naming the element. Nothing is ignored: an unknown field, an unknown code, an
 * empty criterion, a list out of canonical order or a limit exceeded is refused, so what a
 * patient signs is exactly what the evaluator enforces.
 *
 * Errors: CONSENT_POLICY_INVALID (shape, vocabulary, order), CONSENT_POLICY_TOO_LARGE (depth,
 * provision count, list length, size). Pure and bundle-safe (no node APIs).
 */
import { fail } from '../../errors';
import { asObject } from '../fields';
import {
  CONSENT_POLICY_FORMAT,
  opposite,
  type ActorCriterion,
  type Coding,
  type ConsentPolicy,
  type Decision,
  type Period,
  type Provision,
} from './model';
import {
  isPolicyAction,
  isPurposeOfUse,
  isRecordResourceType,
  isRequesterRole,
  isSecurityLabel,
  PolicyFormats,
  PolicyLimits,
  type PolicyAction,
} from './vocabulary';

const INVALID = 'CONSENT_POLICY_INVALID';

export interface ParseOptions {
  /**
   * 'strict' (the default): criterion lists must already be in canonical order, as in a
   * signed policy. 'normalize': lists are sorted and de-duplicated (a builder's input).
   */
  order?: 'strict' | 'normalize';
}

interface Ctx {
  provisions: number;
  normalize: boolean;
}
const TOO_LARGE = 'CONSENT_POLICY_TOO_LARGE';

const POLICY_FIELDS = ['format', 'decision', 'period', 'provisions'] as const;
const PROVISION_FIELDS = [
  'period',
  'actors',
  'actions',
  'purposes',
  'securityLabels',
  'resourceTypes',
  'documentClasses',
  'dataPeriod',
  'records',
  'policies',
  'provisions',
] as const;

/**
 * Parses and validates a consent policy. Returns a fresh copy holding only the policy's own
 * fields (no reference into `input` survives).
 *
 * @example parseConsentPolicy({ format: 'medbridge/consent-policy/v2', decision: 'deny',
 *   provisions: [{ actors: [{ participation: 'recipient', org: 'HospitalBMSP' }], purposes: ['TREAT'] }] })
 */
export function parseConsentPolicy(input: unknown, options: ParseOptions = {}): ConsentPolicy {
  const ctx: Ctx = { provisions: 0, normalize: options.order === 'normalize' };
  const o = asObject(input, INVALID, 'policy', POLICY_FIELDS);
  if (o.format !== CONSENT_POLICY_FORMAT) fail(INVALID, `policy.format must be "${CONSENT_POLICY_FORMAT}"`);
  const decision = parseDecision(o.decision, 'policy.decision');
  const policy: ConsentPolicy = { format: CONSENT_POLICY_FORMAT, decision };
  if (o.period !== undefined) policy.period = parsePeriod(o.period, 'policy.period');
  if (o.provisions !== undefined) policy.provisions = parseProvisions(o.provisions, 'policy.provisions', decision, 1, ctx);
  // Every string of a valid policy is ASCII and every number a safe integer, so the length of
  // JSON.stringify is the byte length of the policy's canonical JSON (only key order differs).
  const size = JSON.stringify(policy).length;
  if (size > PolicyLimits.maxBytes) fail(TOO_LARGE, `policy is ${size} bytes as canonical JSON, more than ${PolicyLimits.maxBytes}`);
  return policy;
}

function parseDecision(v: unknown, what: string): Decision {
  if (v !== 'permit' && v !== 'deny') fail(INVALID, `${what} must be "permit" or "deny"`);
  return v;
}

function parsePeriod(v: unknown, what: string): Period {
  const o = asObject(v, INVALID, what, ['start', 'end']);
  if (o.start === undefined && o.end === undefined) fail(INVALID, `${what} must have a start, an end or both`);
  const p: Period = {};
  if (o.start !== undefined) p.start = time(o.start, `${what}.start`);
  if (o.end !== undefined) p.end = time(o.end, `${what}.end`);
  if (p.start !== undefined && p.end !== undefined && p.start >= p.end) fail(INVALID, `${what}.end must be after ${what}.start`);
  return p;
}

function time(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < PolicyLimits.minTime || v > PolicyLimits.maxTime) {
    fail(INVALID, `${what} must be an integer number of milliseconds since the epoch, from year 1900 to 9999`);
  }
  return v;
}

/** The provisions under a parent whose decision is `parent`: each has the opposite decision. */
function parseProvisions(v: unknown, what: string, parent: Decision, depth: number, ctx: Ctx): Provision[] {
  if (depth > PolicyLimits.maxDepth) fail(TOO_LARGE, `${what} nests deeper than ${PolicyLimits.maxDepth} levels`);
  const list = nonEmptyList(v, what);
  return list.map((p, i) => {
    ctx.provisions += 1;
    if (ctx.provisions > PolicyLimits.maxProvisions) fail(TOO_LARGE, `policy has more than ${PolicyLimits.maxProvisions} provisions`);
    return parseProvision(p, `${what}[${i}]`, opposite(parent), depth, ctx);
  });
}

function parseProvision(v: unknown, what: string, decision: Decision, depth: number, ctx: Ctx): Provision {
  const o = asObject(v, INVALID, what, PROVISION_FIELDS);
  const p: Provision = {};
  if (o.period !== undefined) p.period = parsePeriod(o.period, `${what}.period`);
  if (o.actors !== undefined) p.actors = sortedList(ctx, o.actors, `${what}.actors`, (a, w) => parseActor(a, w, decision), compareActors);
  if (o.actions !== undefined) p.actions = sortedList(ctx, o.actions, `${what}.actions`, (a, w) => code(a, w, isPolicyAction, 'a FHIR consentaction code') as PolicyAction, compareStrings);
  if (o.purposes !== undefined) p.purposes = sortedList(ctx, o.purposes, `${what}.purposes`, (a, w) => code(a, w, isPurposeOfUse, 'an HL7 v3 PurposeOfUse code medbridge knows'), compareStrings);
  if (o.securityLabels !== undefined) {
    p.securityLabels = sortedList(ctx, o.securityLabels, `${what}.securityLabels`, (a, w) => code(a, w, isSecurityLabel, 'a confidentiality or sensitivity code medbridge knows'), compareStrings);
  }
  if (o.resourceTypes !== undefined) {
    p.resourceTypes = sortedList(ctx, o.resourceTypes, `${what}.resourceTypes`, (a, w) => code(a, w, isRecordResourceType, 'a FHIR resource type that holds patient records'), compareStrings);
  }
  if (o.documentClasses !== undefined) p.documentClasses = sortedList(ctx, o.documentClasses, `${what}.documentClasses`, parseCoding, compareCodings);
  if (o.dataPeriod !== undefined) p.dataPeriod = parsePeriod(o.dataPeriod, `${what}.dataPeriod`);
  if (o.records !== undefined) p.records = sortedList(ctx, o.records, `${what}.records`, (a, w) => format(a, w, PolicyFormats.recordId), compareStrings);
  if (o.policies !== undefined) p.policies = sortedList(ctx, o.policies, `${what}.policies`, (a, w) => format(a, w, PolicyFormats.policy), compareStrings);
  if (o.provisions !== undefined) p.provisions = parseProvisions(o.provisions, `${what}.provisions`, decision, depth + 1, ctx);
  return p;
}

function parseActor(v: unknown, what: string, decision: Decision): ActorCriterion {
  const participation = asObject(v, INVALID, what).participation;
  if (participation === 'custodian' || participation === 'author') {
    const o = asObject(v, INVALID, what, ['participation', 'org']);
    if (o.org === undefined) fail(INVALID, `${what} (${participation}) must name an org`);
    return { participation, org: format(o.org, `${what}.org`, PolicyFormats.mspId) };
  }
  if (participation !== 'recipient') fail(INVALID, `${what}.participation must be "recipient", "custodian" or "author"`);
  const o = asObject(v, INVALID, what, ['participation', 'org', 'role', 'practitioner', 'careTeam']);
  const a: ActorCriterion = { participation: 'recipient' };
  if (o.org !== undefined) a.org = format(o.org, `${what}.org`, PolicyFormats.mspId);
  if (o.role !== undefined) a.role = code(o.role, `${what}.role`, isRequesterRole, 'a requester role (admin, clinician, member, privacy-officer)');
  if (o.practitioner !== undefined) a.practitioner = format(o.practitioner, `${what}.practitioner`, PolicyFormats.localId);
  if (o.careTeam !== undefined) a.careTeam = format(o.careTeam, `${what}.careTeam`, PolicyFormats.localId);
  if (a.org === undefined && a.role === undefined && a.practitioner === undefined && a.careTeam === undefined) {
    fail(INVALID, `${what} must name an org, a role, a practitioner or a care team`);
  }
  if (a.practitioner !== undefined && a.careTeam !== undefined) fail(INVALID, `${what} names both a practitioner and a care team: use two actors`);
  // Practitioner and care-team ids are pseudonyms chosen by their org: unqualified, any org
  // could claim one. A deny may match broadly (it only denies more); a permit may not.
  if ((a.practitioner !== undefined || a.careTeam !== undefined) && a.org === undefined && decision === 'permit') {
    fail(INVALID, `${what} permits a practitioner or care team without naming its org`);
  }
  return a;
}

function parseCoding(v: unknown, what: string): Coding {
  const o = asObject(v, INVALID, what, ['system', 'code']);
  return { system: format(o.system, `${what}.system`, PolicyFormats.system), code: format(o.code, `${what}.code`, PolicyFormats.code) };
}

// ---------------------------------------------------------------------------------------
// lists: non-empty, bounded, in canonical order without duplicates

function nonEmptyList(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(INVALID, `${what} must be an array`);
  if (v.length === 0) fail(INVALID, `${what} is empty: leave a criterion out to not constrain it`);
  if (v.length > PolicyLimits.maxListEntries) fail(TOO_LARGE, `${what} has more than ${PolicyLimits.maxListEntries} entries`);
  return v;
}

function sortedList<T>(ctx: Ctx, v: unknown, what: string, parse: (x: unknown, what: string) => T, compare: (a: T, b: T) => number): T[] {
  const out = nonEmptyList(v, what).map((x, i) => parse(x, `${what}[${i}]`));
  if (ctx.normalize) return canonicalList(out, compare);
  for (let i = 1; i < out.length; i++) {
    if (compare(out[i - 1] as T, out[i] as T) >= 0) fail(INVALID, `${what} must be sorted and free of duplicates (normalizeConsentPolicy puts it in canonical order)`);
  }
  return out;
}

function code(v: unknown, what: string, known: (c: unknown) => boolean, expected: string): string {
  if (!known(v)) fail(INVALID, `${what} must be ${expected}, got ${describe(v)}`);
  return v as string;
}

function format(v: unknown, what: string, re: RegExp): string {
  if (typeof v !== 'string' || !re.test(v)) fail(INVALID, `${what} is malformed (expected ${re.source})`);
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

// ---------------------------------------------------------------------------------------
// canonical order and normalisation

/** String order by UTF-16 code unit, the order canonical JSON sorts keys by. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareCodings(a: Coding, b: Coding): number {
  return compareStrings(a.system, b.system) || compareStrings(a.code, b.code);
}

const ACTOR_FIELDS = ['participation', 'org', 'role', 'practitioner', 'careTeam'] as const;

export function compareActors(a: ActorCriterion, b: ActorCriterion): number {
  for (const f of ACTOR_FIELDS) {
    const x = (a as Record<string, string | undefined>)[f];
    const y = (b as Record<string, string | undefined>)[f];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return compareStrings(x, y);
  }
  return 0;
}

/**
 * The policy in canonical order: every criterion list sorted and without duplicates
 * (provisions keep their order: it decides which path is reported). Meaning is unchanged.
 * Run it before signing; parseConsentPolicy refuses a policy that is not in this form.
 */
export function normalizeConsentPolicy(p: ConsentPolicy): ConsentPolicy {
  const out: ConsentPolicy = { format: p.format, decision: p.decision };
  if (p.period !== undefined) out.period = { ...p.period };
  if (p.provisions !== undefined) out.provisions = p.provisions.map(normalizeProvision);
  return out;
}

function normalizeProvision(p: Provision): Provision {
  const out: Provision = {};
  if (p.period !== undefined) out.period = { ...p.period };
  if (p.actors !== undefined) out.actors = canonicalList(p.actors.map((a) => ({ ...a })), compareActors);
  if (p.actions !== undefined) out.actions = canonicalList([...p.actions], compareStrings);
  if (p.purposes !== undefined) out.purposes = canonicalList([...p.purposes], compareStrings);
  if (p.securityLabels !== undefined) out.securityLabels = canonicalList([...p.securityLabels], compareStrings);
  if (p.resourceTypes !== undefined) out.resourceTypes = canonicalList([...p.resourceTypes], compareStrings);
  if (p.documentClasses !== undefined) out.documentClasses = canonicalList(p.documentClasses.map((c) => ({ system: c.system, code: c.code })), compareCodings);
  if (p.dataPeriod !== undefined) out.dataPeriod = { ...p.dataPeriod };
  if (p.records !== undefined) out.records = canonicalList([...p.records], compareStrings);
  if (p.policies !== undefined) out.policies = canonicalList([...p.policies], compareStrings);
  if (p.provisions !== undefined) out.provisions = p.provisions.map(normalizeProvision);
  return out;
}

function canonicalList<T>(list: T[], compare: (a: T, b: T) => number): T[] {
  list.sort(compare);
  return list.filter((x, i) => i === 0 || compare(list[i - 1] as T, x) !== 0);
}
