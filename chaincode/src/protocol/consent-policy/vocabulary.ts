/**
 * The closed vocabularies of the consent language (CONSENT.md "Consent language (v2)"): every
 * code a policy may use is listed here, as data, so that a code the engine does not know is
 * refused at grant time instead of silently never matching. Pure data, no imports: the
 * gateway and a browser app bundle it as it is.
 */

/** The code system of purposes of use (HL7 v3 ActReason). */
export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/**
 * HL7 v3 ActReason PurposeOfUse hierarchy (HL7 Terminology, v3-ActReason, `subsumedBy`), the
 * part medbridge enforces: each code with its parent, `null` for the top-level purposes of
 * use. A consent that names a purpose covers that purpose and all its descendants (a permit
 * for TREAT covers ETREAT and BTG; a deny of HRESCH covers CLINTRCH). Adding a code is one
 * line here, with the parent HL7 gives it.
 */
export const PURPOSE_OF_USE_PARENT: Readonly<Record<string, string | null>> = {
  // treatment
  TREAT: null,
  ETREAT: 'TREAT',
  BTG: 'ETREAT',
  ERTREAT: 'ETREAT',
  CLINTRL: 'TREAT',
  COC: 'TREAT',
  POPHLTH: 'TREAT',
  // payment
  HPAYMT: null,
  CLMATTCH: 'HPAYMT',
  COVAUTH: 'HPAYMT',
  COVERAGE: 'HPAYMT',
  ELIGDTRM: 'COVERAGE',
  ELIGVER: 'COVERAGE',
  ENROLLM: 'COVERAGE',
  REMITADV: 'HPAYMT',
  // operations
  HOPERAT: null,
  HACCRED: 'HOPERAT',
  HCOMPL: 'HOPERAT',
  HLEGAL: 'HOPERAT',
  HQUALIMP: 'HOPERAT',
  HSYSADMIN: 'HOPERAT',
  MEMADMIN: 'HOPERAT',
  PATADMIN: 'HOPERAT',
  PATSFTY: 'HOPERAT',
  PERFMSR: 'HOPERAT',
  RECORDMGT: 'HOPERAT',
  TRAIN: 'HOPERAT',
  // research
  HRESCH: null,
  BIORCH: 'HRESCH',
  CLINTRCH: 'HRESCH',
  CLINTRCHNPC: 'CLINTRCH',
  CLINTRCHPC: 'CLINTRCH',
  PRECLINTRCH: 'CLINTRCH',
  DSRCH: 'HRESCH',
  POARCH: 'HRESCH',
  TRANSRCH: 'HRESCH',
  // public health
  PUBHLTH: null,
  DISASTER: 'PUBHLTH',
  THREAT: 'PUBHLTH',
  // marketing
  HMARKT: null,
  // patient request
  PATRQT: null,
  FAMRQT: 'PATRQT',
  PWATRNY: 'PATRQT',
  SUPNWK: 'PATRQT',
};

export function isPurposeOfUse(code: unknown): code is string {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(PURPOSE_OF_USE_PARENT, code);
}

/** The purpose itself and its ancestors, nearest first (ETREAT -> [ETREAT, TREAT]). */
export function purposeAncestry(code: string): string[] {
  const out: string[] = [];
  for (let c: string | null | undefined = code; c !== null && c !== undefined; c = PURPOSE_OF_USE_PARENT[c]) {
    out.push(c);
    if (out.length > 16) break; // the table is a tree; a cycle would be a typo in it (a unit test checks)
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// security labels

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const SENSITIVITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/**
 * HL7 v3 Confidentiality, lowest to highest. Confidentiality is a high-water mark (FHIR R5
 * Consent.provision.securityLabel): a provision labelled R applies to records labelled U, L,
 * M, N or R. A record without a confidentiality code is evaluated as N (normal).
 */
export const CONFIDENTIALITY_ORDER = ['U', 'L', 'M', 'N', 'R', 'V'] as const;
export const DEFAULT_CONFIDENTIALITY = 'N';

/**
 * HL7 v3 ActCode information sensitivity codes medbridge knows. They match exactly (no
 * hierarchy): a provision labelled PSY applies to records that carry PSY.
 */
export const SENSITIVITY_CODES = [
  'BH', // behavioral health
  'ETH', // substance abuse
  'GDIS', // genetic disease
  'HIV', // HIV/AIDS
  'MST', // military sexual trauma
  'PSY', // psychiatry
  'PSYTHPN', // psychotherapy note
  'SCA', // sickle cell
  'SDV', // sexual assault, abuse, or domestic violence
  'SEX', // sexuality and reproductive health
  'SPI', // specially protected information
  'STD', // sexually transmitted disease
  'SUD', // substance use disorder
  'TBOO', // taboo
] as const;

export function isConfidentiality(code: unknown): code is string {
  return typeof code === 'string' && (CONFIDENTIALITY_ORDER as readonly string[]).includes(code);
}

export function isSensitivity(code: unknown): code is string {
  return typeof code === 'string' && (SENSITIVITY_CODES as readonly string[]).includes(code);
}

export function isSecurityLabel(code: unknown): code is string {
  return isConfidentiality(code) || isSensitivity(code);
}

// ---------------------------------------------------------------------------------------
// actions

export const CONSENT_ACTION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentaction';

/**
 * FHIR consentaction codes. medbridge requests are `access` (a record fetched from its
 * custodian); a provision listing `disclose` also matches them, since every such fetch is a
 * disclosure by the custodian (`ACTION_MATCHED_BY`). The other codes are accepted because
 * they have a clear meaning, but no medbridge request carries them today.
 */
export const POLICY_ACTIONS = ['access', 'collect', 'correct', 'disclose', 'use'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** For each requested action, the provision actions that match it. */
export const ACTION_MATCHED_BY: Readonly<Record<PolicyAction, readonly PolicyAction[]>> = {
  access: ['access', 'disclose'],
  collect: ['collect'],
  correct: ['correct'],
  disclose: ['disclose'],
  use: ['use'],
};

export function isPolicyAction(code: unknown): code is PolicyAction {
  return typeof code === 'string' && (POLICY_ACTIONS as readonly string[]).includes(code);
}

// ---------------------------------------------------------------------------------------
// actors

/**
 * How an actor of a provision takes part (after FHIR v3-ParticipationType): `recipient` is
 * the party requesting the record (PRCP, IRCP), `custodian` the org holding it (CST),
 * `author` the org that authored it (AUT).
 */
export const PARTICIPATIONS = ['recipient', 'custodian', 'author'] as const;
export type Participation = (typeof PARTICIPATIONS)[number];

/** Roles a requester may hold (the roles an org's CA puts in its members' certificates). */
export const REQUESTER_ROLES = ['admin', 'clinician', 'member', 'privacy-officer'] as const;

export function isRequesterRole(code: unknown): code is string {
  return typeof code === 'string' && (REQUESTER_ROLES as readonly string[]).includes(code);
}

// ---------------------------------------------------------------------------------------
// resource types

export const RESOURCE_TYPE_SYSTEM = 'http://hl7.org/fhir/resource-types';

/**
 * FHIR resource types that hold (part of) a patient's record, R4 and R5 names; the types a
 * record anchor's category may take. A provision may only name these, so a typo is refused
 * rather than matching nothing.
 */
export const RECORD_RESOURCE_TYPES = [
  'Account',
  'AdverseEvent',
  'AllergyIntolerance',
  'Appointment',
  'AppointmentResponse',
  'BodyStructure',
  'CarePlan',
  'CareTeam',
  'ChargeItem',
  'Claim',
  'ClaimResponse',
  'ClinicalImpression',
  'Communication',
  'CommunicationRequest',
  'Composition',
  'Condition',
  'Consent',
  'Coverage',
  'CoverageEligibilityRequest',
  'CoverageEligibilityResponse',
  'DetectedIssue',
  'Device',
  'DeviceRequest',
  'DeviceUsage',
  'DeviceUseStatement',
  'DiagnosticReport',
  'DocumentManifest',
  'DocumentReference',
  'Encounter',
  'EpisodeOfCare',
  'ExplanationOfBenefit',
  'FamilyMemberHistory',
  'Flag',
  'GenomicStudy',
  'Goal',
  'ImagingSelection',
  'ImagingStudy',
  'Immunization',
  'ImmunizationEvaluation',
  'ImmunizationRecommendation',
  'Invoice',
  'List',
  'Media',
  'MedicationAdministration',
  'MedicationDispense',
  'MedicationRequest',
  'MedicationStatement',
  'MolecularSequence',
  'NutritionIntake',
  'NutritionOrder',
  'Observation',
  'Patient',
  'Procedure',
  'Provenance',
  'QuestionnaireResponse',
  'RelatedPerson',
  'RiskAssessment',
  'ServiceRequest',
  'Specimen',
  'Task',
  'VisionPrescription',
] as const;

export function isRecordResourceType(code: unknown): code is string {
  return typeof code === 'string' && (RECORD_RESOURCE_TYPES as readonly string[]).includes(code);
}

// ---------------------------------------------------------------------------------------
// identifier formats and limits

/**
 * Identifier formats. `mspId` and `recordId` are the formats of protocol/patient-messages.ts
 * `Formats` (a unit test keeps them equal; they are repeated here because that module needs
 * node:crypto and this one must bundle for a browser).
 */
export const PolicyFormats = {
  mspId: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
  recordId: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  /** Pseudonymous practitioner and care-team ids: chosen by their org, no personal data. */
  localId: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/,
  /** A policy basis: an absolute URI or a policy id, printable ASCII without spaces. */
  policy: /^[A-Za-z0-9][\x21-\x7e]{0,255}$/,
  /** A code system URI (documentClasses). */
  system: /^[a-z][a-z0-9+.-]*:[\x21-\x7e]{1,255}$/,
  /** A code within a system (documentClasses). */
  code: /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/,
} as const;

/** The bounds every policy keeps (CONSENT.md "Consent language (v2)", limits). */
export const PolicyLimits = {
  /** Nesting: the top-level provisions are at depth 1. */
  maxDepth: 5,
  /** Provisions in the whole policy, at every depth. */
  maxProvisions: 32,
  /** Entries in one criterion list (actors, purposes, labels, record ids...). */
  maxListEntries: 32,
  /** Canonical JSON of the whole policy; it travels in a consent packet, inside the signed grant (requireCarriable). */
  maxBytes: 8 * 1024,
  /** Times: ms since the epoch, from 1900-01-01T00:00Z to 10000-01-01T00:00Z (an end of the year 9999). */
  minTime: -2_208_988_800_000,
  maxTime: 253_402_300_800_000,
} as const;
