/**
 * The plain-language sentence a patient reads before signing a grant, and the words used for
 * purposes, consent states and access-log entries. Pure: unit-tested beside the protocol.
 */
import { boundImportedPeriod, CONSENT_POLICY_FORMAT, importFhirConsent, MedbridgeError, permittedRecipientOrgs, reachOutside, type ConsentPolicy, type ConsentTerms, type FhirVersion, type Provision } from '@medbridge/chaincode';

export const PURPOSE_WORDS: Record<string, string> = {
  TREAT: 'your treatment',
  ETREAT: 'emergency treatment',
  HPAYMT: 'payment for your care',
  HOPERAT: "running the hospital's services",
  HRESCH: 'research',
  PUBHLTH: 'public health',
  PATRQT: 'a request you made yourself',
};

export const CATEGORY_WORDS: Record<string, string> = {
  Observation: 'measurements and test results',
  DiagnosticReport: 'diagnostic reports',
  MedicationStatement: 'medicines you take',
  AllergyIntolerance: 'allergies',
  Immunization: 'vaccinations',
  Condition: 'diagnoses',
};

/** HL7 confidentiality and sensitivity codes in plain words (chaincode consent-policy/vocabulary.ts). */
export const LABEL_WORDS: Record<string, string> = {
  U: 'unrestricted',
  L: 'low confidentiality',
  M: 'moderate confidentiality',
  N: 'normal confidentiality',
  R: 'restricted',
  V: 'very restricted',
  BH: 'behavioural health',
  ETH: 'substance abuse',
  GDIS: 'genetic disease',
  HIV: 'HIV/AIDS',
  MST: 'military sexual trauma',
  PSY: 'psychiatry',
  PSYTHPN: 'psychotherapy notes',
  SCA: 'sickle cell',
  SDV: 'sexual assault, abuse or domestic violence',
  SEX: 'sexuality and reproductive health',
  SPI: 'specially protected information',
  STD: 'sexually transmitted disease',
  SUD: 'substance use disorder',
  TBOO: 'taboo',
};

/** A record's security labels as a patient reads them: "psychiatry (PSY), restricted (R)"; none: normal confidentiality. */
export function labelWords(codes: readonly string[]): string {
  if (codes.length === 0) return 'no label (normal confidentiality)';
  return codes.map(labelWord).join(', ');
}

function labelWord(code: string): string {
  return `${LABEL_WORDS[code] ?? code} (${code})`;
}

const DAY = 86_400_000;

function list(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

export function dateWords(ms: number): string {
  return new Date(ms).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** "HospitalBMSP may read record obs-1 and your measurements and test results, for your treatment, until 31 December 2026. ..." */
export function grantSummary(t: ConsentTerms): string {
  const what = [
    ...t.scope.recordIds.map((r) => `record ${r}`),
    ...t.scope.categories.map((c) => `your ${CATEGORY_WORDS[c] ?? c} (${c})`),
  ];
  const why = t.purposes.map((p) => PURPOSE_WORDS[p] ?? p);
  const days = Math.round((t.period.end - t.period.start) / DAY);
  return (
    `${t.grantee} may read ${list(what) || 'nothing'}, only for ${list(why)}, ` +
    `from ${dateWords(t.period.start)} until ${dateWords(t.period.end)} (${days} day${days === 1 ? '' : 's'}). ` +
    'They cannot change your records or pass them on. You can take this back at any time; ' +
    'what they already read stays in your access log.'
  );
}

export function statusWords(effectiveStatus: string): string {
  switch (effectiveStatus) {
    case 'active':
      return 'Active';
    case 'revoked':
      return 'Revoked';
    case 'expired':
      return 'Expired';
    case 'pending':
      return 'Not started yet';
    default:
      return effectiveStatus;
  }
}

/** One access-log entry in words, and how it is shown: refusals and break-glass stand out. */
export function logWords(e: { kind: string; requester: string; recordId: string | null; purpose: string; allowed: boolean; reason: string }): { tone: 'allowed' | 'refused' | 'emergency'; title: string; detail: string } {
  const what = e.recordId ? `record ${e.recordId}` : 'all your records';
  if (e.kind === 'emergency-opened') return { tone: 'emergency', title: `Emergency access opened by ${e.requester}`, detail: `Break-glass on ${what}; a privacy officer must review it.` };
  if (e.kind === 'emergency-reviewed') return { tone: 'emergency', title: `Emergency access reviewed (${e.requester})`, detail: `Review of the break-glass on ${what}.` };
  const why = PURPOSE_WORDS[e.purpose] ?? e.purpose;
  return e.allowed
    ? { tone: 'allowed', title: `${e.requester} read ${what}`, detail: `Allowed for ${why} (${e.reason}).` }
    : { tone: 'refused', title: `${e.requester} was refused ${what}`, detail: `Refused for ${why} (${e.reason}).` };
}

/** What a private consent means, in words (chaincode/CONSENT.md "Private consents"). */
export function keeperWords(keeper: string): string {
  return `Kept privately by ${keeper}: only ${keeper} (and, on another chain, the grantee it was shared with) can read it, and it covers the records ${keeper} holds.`;
}

/** What the app knows of the hospital's reach (`GET /v1/hospital`): its chain's members and the chains it carries consents to. */
export interface HospitalReach {
  mspId: string;
  members: readonly string[];
  chains?: ReadonlyArray<{ chainId: string; orgs: readonly string[] }>;
}

/**
 * Where a consent lives and where it goes (chaincode/CONSENT.md "Private consents", "Sealed
 * consent shares"). Kept privately at this hospital by default, and always for a patient the
 * hospital registered privately; a grantee on another chain this hospital reaches gets it by a
 * sealed share (only that grantee can read it there). A patient registered publicly may choose to
 * record it on the ledger instead.
 */
export interface Placement {
  /** The patient may choose the public ledger instead (a patient registered publicly). */
  canChoosePublic: boolean;
  /** The chains the consent is carried to, one per grantee outside this chain (chain order). */
  shareTo: string[];
  /** Grantees on no chain this hospital reaches: the consent cannot reach them. */
  unreachable: string[];
  /** The consent lets any organisation read (a kept one serves the orgs asking this hospital; it goes to no other chain). */
  anyOrg: boolean;
  /** Where it lives, kept. */
  keptWords: string;
  /** Where it lives, on the ledger (for a patient registered publicly who unticks keeping it). */
  publicWords: string;
}

/** Placement of a consent for one organisation (v1 terms). */
export function consentPlacement(hospital: HospitalReach, grantee: string, o: { heldPrivately: boolean }): Placement {
  const org = grantee.trim();
  return placementOf(hospital, { any: false, orgs: org === '' ? [] : [org] }, o.heldPrivately);
}

/** Placement of a consent v2 policy, by the organisations it can permit (the chaincode's `permittedRecipientOrgs`). */
export function policyPlacement(hospital: HospitalReach, policy: ConsentPolicy, o: { heldPrivately: boolean }): Placement {
  return placementOf(hospital, permittedRecipientOrgs(policy), o.heldPrivately);
}

function placementOf(hospital: HospitalReach, reach: { any: true } | { any: false; orgs: readonly string[] }, heldPrivately: boolean): Placement {
  const here = hospital.mspId;
  const members = hospital.members.join(', ');
  const canChoosePublic = !heldPrivately;
  if (reach.any) {
    return {
      canChoosePublic,
      shareTo: [],
      unreachable: [],
      anyOrg: true,
      keptWords: `Kept privately by ${here}: it lets any organisation read, but only the records ${here} holds and only when they ask ${here}; it is not carried to other chains`,
      publicWords: `It lets any organisation read, also on other chains: it is recorded on this chain's ledger, where ${members} can read it`,
    };
  }
  const outside = reachOutside(reach, hospital.members) as { any: false; orgs: string[] };
  const chainOf = (org: string) => (hospital.chains ?? []).find((c) => c.orgs.includes(org))?.chainId;
  const shareTo = [...new Set(outside.orgs.map(chainOf).filter((c): c is string => c !== undefined))].sort();
  const unreachable = outside.orgs.filter((org) => chainOf(org) === undefined);
  const sharedWith = shareTo.map((chainId) => `${chainId} (only ${list(outside.orgs.filter((o) => chainOf(o) === chainId))} can read it there, fetched from ${here})`);
  return {
    canChoosePublic,
    shareTo,
    unreachable,
    anyOrg: false,
    keptWords:
      shareTo.length === 0
        ? `Kept privately by ${here}: no other member of the chain can read it; it covers only the records ${here} holds`
        : `Kept privately by ${here} and shared sealed with ${list(sharedWith)}: no other member of either chain can read it; it covers only the records ${here} holds`,
    publicWords:
      shareTo.length === 0
        ? `Recorded on this chain's ledger: ${members} can read it`
        : `Recorded on this chain's ledger, where ${members} can read it, and carried to ${list(shareTo)}, where every member can read it`,
  };
}

/** Grantees the consent cannot reach, in words (empty when none). */
export function unreachableWords(hospital: HospitalReach, p: Placement): string {
  if (p.unreachable.length === 0) return '';
  const them = p.unreachable.length === 1 ? 'it' : 'them';
  return `${list(p.unreachable)} ${p.unreachable.length === 1 ? 'is' : 'are'} not on ${hospital.mspId}'s chain or on a chain ${hospital.mspId} carries consents to: this consent cannot reach ${them}`;
}

/** The sensitivity labels the Share view offers to keep out ("everything except …"), most asked for first. */
export const EXCEPT_LABELS = ['PSY', 'PSYTHPN', 'BH', 'SUD', 'ETH', 'HIV', 'STD', 'SEX', 'GDIS', 'SDV'] as const;

/**
 * A grant with exceptions as a consent v2 policy (chaincode/CONSENT.md "Consent language (v2)"):
 * nobody by default; the grantee may access what the terms name, for their purposes, in their
 * period; except records carrying any of `labels`. Records and kinds of record are one permit
 * each (a provision's criteria all have to hold), each with the same exception.
 */
export function exceptionPolicy(t: ConsentTerms, labels: readonly string[]): ConsentPolicy {
  const exception: Provision = { securityLabels: [...labels].sort() };
  const who: Provision = { actors: [{ participation: 'recipient', org: t.grantee }], actions: ['access'], purposes: [...t.purposes], provisions: [exception] };
  const permits: Provision[] = [
    ...(t.scope.recordIds.length > 0 ? [{ ...who, records: [...t.scope.recordIds] }] : []),
    ...(t.scope.categories.length > 0 ? [{ ...who, resourceTypes: [...t.scope.categories] }] : []),
  ];
  return { format: CONSENT_POLICY_FORMAT, decision: 'deny', period: { start: t.period.start, end: t.period.end }, provisions: permits };
}

/** The grant's sentence with what stays closed: "… Records labelled psychiatry (PSY) stay closed to them, even those named above." */
export function exceptionSummary(t: ConsentTerms, labels: readonly string[]): string {
  return `${grantSummary(t)} Records labelled ${list(labels.map(labelWord))} stay closed to them, even those named above.`;
}

/** Who a provision is about, in words: "HospitalCMSP (care team ct-dr-x)"; no recipient named: "anyone". */
function actorWords(p: Provision): string {
  const recipients = (p.actors ?? []).flatMap((a) => {
    if (a.participation !== 'recipient') return [];
    const detail = [a.role && `${a.role}s`, a.practitioner && `practitioner ${a.practitioner}`, a.careTeam && `care team ${a.careTeam}`].filter(Boolean).join(', ');
    return [`${a.org ?? 'any organisation'}${detail ? ` (${detail})` : ''}`];
  });
  return recipients.length > 0 ? list(recipients) : 'anyone';
}

/** What a provision covers, in words: records, kinds, labels, holders and authors, data dates, purposes, policies, time. */
function scopeWords(p: Provision): string {
  const what = [
    ...(p.records ?? []).map((r) => `record ${r}`),
    ...(p.resourceTypes ?? []).map((c) => `your ${CATEGORY_WORDS[c] ?? c} (${c})`),
    ...(p.documentClasses ?? []).map((d) => `documents of class ${d.code}`),
  ];
  const labels = p.securityLabels ? ` labelled ${list(p.securityLabels.map(labelWord))}` : '';
  const parts = [`${what.length > 0 ? list(what) : 'your records'}${labels}`];
  for (const a of p.actors ?? []) if (a.participation !== 'recipient') parts.push(`${a.participation === 'custodian' ? 'held' : 'written'} by ${a.org}`);
  if (p.dataPeriod) parts.push(`with data ${periodWords(p.dataPeriod)}`);
  if (p.purposes) parts.push(`for ${list(p.purposes.map((x) => PURPOSE_WORDS[x] ?? x))}`);
  if (p.policies) parts.push(`under ${list(p.policies)}`);
  if (p.period) parts.push(periodWords(p.period));
  return parts.join(', ');
}

function periodWords(p: { start?: number; end?: number }): string {
  if (p.start !== undefined && p.end !== undefined) return `from ${dateWords(p.start)} until ${dateWords(p.end)}`;
  return p.start !== undefined ? `from ${dateWords(p.start)}` : `until ${dateWords(p.end ?? 0)}`;
}

/**
 * A consent v2 policy in plain words, each exception under the rule it breaks:
 * "Nobody may read your records; but HospitalCMSP may read record obs-1, for your treatment,
 * except records labelled psychiatry (PSY)". The signed policy is what decides; this reads it.
 */
export function policyWords(policy: ConsentPolicy): string {
  const provision = (p: Provision, permit: boolean, nested: boolean): string => {
    // An exception that only names labels reads as what it takes out: "except records labelled …".
    const labelsOnly = nested && p.securityLabels && Object.keys(p).every((k) => k === 'securityLabels');
    const who = actorWords(p);
    const verb = permit ? `${who} may read` : who === 'anyone' ? 'nobody may read' : `${who} may not read`;
    const own = labelsOnly ? `records labelled ${list((p.securityLabels ?? []).map(labelWord))}` : `${verb} ${scopeWords(p)}`;
    const inner = (p.provisions ?? []).map((q) => provision(q, !permit, true));
    return inner.length > 0 ? `${own}, except ${inner.join('; and except ')}` : own;
  };
  const permit = policy.decision === 'permit';
  const base = `${permit ? 'Any organisation may' : 'Nobody may'} read your records${policy.period ? ` ${periodWords(policy.period)}` : ''}`;
  const rules = (policy.provisions ?? []).map((p) => provision(p, !permit, false));
  return rules.length > 0 ? `${base}; but ${rules.join('; and ')}` : base;
}

/** A FHIR Consent file larger than this is refused before it is parsed (the HL7 examples are under 10 KiB). */
export const MAX_FHIR_FILE_BYTES = 256 * 1024;

/** A FHIR Consent file mapped on this device, ready for the patient to read and sign. */
export interface FhirGrant {
  version: FhirVersion;
  /** The canonical policy the patient signs, its period bounded. */
  policy: ConsentPolicy;
  /** Element paths of the file that describe the document and are not part of what is signed. */
  notCarried: string[];
  /** The period bounds the file did not state, set from the days the patient chose. */
  periodFilled: Array<'start' | 'end'>;
}

/**
 * A FHIR R4 or R5 Consent file, as text, mapped here with the protocol module (chaincode/CONSENT.md
 * "FHIR Consent mapping"), never by the hospital: what the patient reads and signs is what this
 * device made of the file. Anything the engine cannot enforce is refused with its element path
 * (FHIR_ELEMENT_UNSUPPORTED, FHIR_CONSENT_INVALID, CONSENT_POLICY_INVALID); a deny is never
 * dropped. A file that is too large or not JSON is FHIR_CONSENT_INVALID.
 *
 * @example const g = prepareFhirGrant(await file.text(), { now: Date.now(), days: 30 }); policyWords(g.policy)
 */
export function prepareFhirGrant(text: string, opts: { now: number; days: number }): FhirGrant {
  if (new TextEncoder().encode(text).length > MAX_FHIR_FILE_BYTES) throw new MedbridgeError('FHIR_CONSENT_INVALID', `the file is larger than ${MAX_FHIR_FILE_BYTES / 1024} KiB`);
  let resource: unknown;
  try {
    resource = JSON.parse(text);
  } catch {
    throw new MedbridgeError('FHIR_CONSENT_INVALID', 'the file is not JSON');
  }
  const imported = importFhirConsent(resource);
  const { policy, periodFilled } = boundImportedPeriod(imported.policy, opts);
  return { version: imported.version, policy, notCarried: imported.notCarried, periodFilled };
}
