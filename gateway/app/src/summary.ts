/**
 * The plain-language sentence a patient reads before signing a grant, and the words used for
 * purposes, consent states and access-log entries. Pure: unit-tested beside the protocol.
 */
import type { ConsentTerms } from '@medbridge/chaincode';

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
  return codes.map((c) => `${LABEL_WORDS[c] ?? c} (${c})`).join(', ');
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
  return `Kept privately by ${keeper}: only ${keeper} can read it, and it covers the records ${keeper} holds.`;
}

/**
 * Where a consent for `grantee` can live (chaincode/CONSENT.md "Private consents"): private at this
 * hospital when the grantee is a member of this hospital's chain (the default); on the chain's
 * ledger when the grantee is on another chain, since only a public consent crosses chains.
 */
export function consentPlacement(hospital: { mspId: string; members: readonly string[] }, grantee: string): { canKeep: boolean; words: string } {
  const org = grantee.trim();
  if (org === '' || hospital.members.includes(org)) {
    return { canKeep: true, words: `Keep this consent private at ${hospital.mspId}: no other member of the chain can read it; it covers only the records ${hospital.mspId} holds` };
  }
  return {
    canKeep: false,
    words: `${org} is not on ${hospital.mspId}'s chain, so this consent is carried to its chain: it is recorded on this chain's ledger, where ${hospital.members.join(', ')} can read it`,
  };
}
