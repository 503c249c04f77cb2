/**
 * The consent language (v2) as data types, after HL7 FHIR R5 Consent: a base `decision` and
 * nested `provisions`, each an exception with the decision opposite to its parent's.
 * CONSENT.md "Consent language (v2)" is the specification; parse.ts is its validator and
 * rules/consent-policy.ts its evaluator.
 *
 * One meaning, one encoding: a criterion that constrains nothing is absent (never an empty
 * list), lists are sorted and without duplicates (normalizeConsentPolicy), and times are
 * integer milliseconds since the epoch in half-open periods [start, end).
 */
import type { Participation, PolicyAction } from './vocabulary';

export const CONSENT_POLICY_FORMAT = 'medbridge/consent-policy/v2';

export type Decision = 'permit' | 'deny';

/** [start, end) in ms since the epoch; a missing bound is open. At least one bound is set. */
export interface Period {
  start?: number;
  end?: number;
}

/**
 * Who a provision is about. `recipient`: the requester, matched on every field present (org,
 * role, practitioner or care team; a practitioner or care team is named within its org,
 * except in a provision whose effect is deny, where a broader match only denies more).
 * `custodian` / `author`: the org holding / having authored the record.
 */
export type ActorCriterion =
  | { participation: 'recipient'; org?: string; role?: string; practitioner?: string; careTeam?: string }
  | { participation: 'custodian'; org: string }
  | { participation: 'author'; org: string };

/** A code from a code system named by URI (document classes: LOINC document types, categories...). */
export interface Coding {
  system: string;
  code: string;
}

/**
 * One provision: it applies to a request when every criterion present matches (AND); a
 * criterion matches when one of its values does (OR), except actors, which are OR-ed within
 * each participation and AND-ed across them. Its decision is the opposite of its parent's.
 */
export interface Provision {
  /** When the access happens (the transaction time). */
  period?: Period;
  actors?: ActorCriterion[];
  actions?: PolicyAction[];
  /** HL7 v3 PurposeOfUse codes; each covers its descendants. */
  purposes?: string[];
  /** Confidentiality (high-water mark) and sensitivity codes of the record. */
  securityLabels?: string[];
  /** FHIR resource types of the record. */
  resourceTypes?: string[];
  /** Document classes of the record, as set by its custodian. */
  documentClasses?: Coding[];
  /** When the record's data was produced (its data date). */
  dataPeriod?: Period;
  /** Specific records, by record id. */
  records?: string[];
  /** The policies (URI or id) under which a request must be made for this provision to apply. */
  policies?: string[];
  /** Exceptions to this provision, each with the opposite decision. */
  provisions?: Provision[];
}

export interface ConsentPolicy {
  format: typeof CONSENT_POLICY_FORMAT;
  /** What holds when no provision applies. */
  decision: Decision;
  /** When the consent is in force; outside it every request is denied. */
  period?: Period;
  /** Exceptions to `decision`, each with the opposite decision. */
  provisions?: Provision[];
}

/** The criteria of a provision, in the order the specification lists them. */
export const PROVISION_CRITERIA = [
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
] as const satisfies readonly (keyof Provision)[];

export function opposite(d: Decision): Decision {
  return d === 'permit' ? 'deny' : 'permit';
}

/** The decision of the provision at `depth` (1 = top level) under a base decision. */
export function decisionAtDepth(base: Decision, depth: number): Decision {
  return depth % 2 === 1 ? opposite(base) : base;
}

export type { Participation, PolicyAction };
