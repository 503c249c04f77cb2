/**
 * FHIR in and out for consents and the access log (chaincode/CONSENT.md "Consent language (v2)"):
 * a FHIR R4/R5 Consent file becomes the policy a patient signs, shown to them in words first; a
 * stored consent v2 becomes a FHIR R5 Consent; a patient's access log becomes a Bundle of R5
 * AuditEvents. The mapping itself is the chaincode's protocol module; this is what the CLI
 * and a patient's app add around it: the period a consent must have, and the words.
 *
 * @example
 *   const prepared = prepareConsentImport(JSON.parse(text), { now: Date.now(), days: 365 });
 *   prepared.summary.forEach((line) => console.log(line)); // what the patient is about to sign
 */
import {
  accessLogToAuditBundle,
  AuditSystems,
  boundImportedPeriod,
  detectFhirVersion,
  exportFhirConsent,
  importFhirConsent,
  isPolicyConsent,
  keeperOf,
  MedbridgeError,
  opposite,
  type AccessLogEntry,
  type ConsentPolicy,
  type ConsentWithStatus,
  type Decision,
  type FhirJson,
  type FhirVersion,
  type Period,
  type Provision,
} from '@medbridge/chaincode';
import { ClientError } from '../errors';
import { FHIR_R5_SCHEMA, fhirSchemaAvailable, formatFhirSchemaErrors, validateFhirResource } from './fhir-schema';

export interface PreparedImport {
  version: FhirVersion;
  /** The canonical policy the patient signs (with the period filled in when the resource had none). */
  policy: ConsentPolicy;
  /** Elements of the resource that are not part of what is signed (they describe the document). */
  notCarried: string[];
  /** Which bounds of the period were not in the resource and were set here. */
  periodFilled: Array<'start' | 'end'>;
  /** The policy in words, one line per provision, for the patient to read before signing. */
  summary: string[];
  /** The schema an R5 resource was validated against (`hl7.fhir.r5.core 5.0.0`); null for R4, or when the package is not installed. */
  schema: string | null;
}

/** At most this many schema errors are named in a refusal (the first ones by element path). */
const MAX_SCHEMA_ERRORS = 10;

/**
 * An R5 Consent is first validated against the official R5 JSON schema (fhir-schema.ts), so a
 * resource that is not FHIR is refused with the schema's element paths before the mapping reads
 * it (FHIR_CONSENT_INVALID). R4 has no schema package here: its input is checked by the mapping
 * alone. Returns what validated it, or null when nothing did.
 */
function validateR5Input(resource: unknown): string | null {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource) || (resource as { resourceType?: unknown }).resourceType !== 'Consent') {
    return null; // not a Consent: the mapping refuses it with its own message
  }
  if (detectFhirVersion(resource) !== 'R5' || !fhirSchemaAvailable()) return null;
  const { valid, errors } = validateFhirResource(resource);
  const schema = `${FHIR_R5_SCHEMA.package} ${FHIR_R5_SCHEMA.version}`;
  if (!valid) {
    const more = errors.length > MAX_SCHEMA_ERRORS ? ` (and ${errors.length - MAX_SCHEMA_ERRORS} more)` : '';
    throw new MedbridgeError('FHIR_CONSENT_INVALID', `not a valid FHIR R5 Consent by the official R5 JSON schema (${schema}): ${formatFhirSchemaErrors(errors.slice(0, MAX_SCHEMA_ERRORS))}${more}`);
  }
  return schema;
}

/**
 * Imports a FHIR Consent for signing. An R5 resource must first be valid by the official R5
 * JSON schema (FHIR_CONSENT_INVALID with the schema's element paths). Elements the engine
 * cannot enforce are refused by the import with their element path (FHIR_ELEMENT_UNSUPPORTED /
 * FHIR_CONSENT_INVALID / CONSENT_POLICY_INVALID); a deny is never dropped. A consent must be in force for a bounded
 * period: a bound the resource does not state is set to `now` (start) and `now + days` (end),
 * and the summary says so.
 */
export function prepareConsentImport(resource: unknown, opts: { now: number; days: number }): PreparedImport {
  const schema = validateR5Input(resource);
  const imported = importFhirConsent(resource);
  const { policy, periodFilled } = boundImportedPeriod(imported.policy, opts);
  return { version: imported.version, policy, notCarried: imported.notCarried, periodFilled, summary: describePolicy(policy), schema };
}

/**
 * A policy in words: the base decision with its period, then each provision indented under
 * its parent with its path, its decision and its criteria.
 *
 * @example describePolicy(p) // ['permit everything, 2026-01-01T00:00:00.000Z to ...', '  [0] deny: records labelled PSY', ...]
 */
export function describePolicy(policy: ConsentPolicy): string[] {
  const lines = [`${policy.decision} every request${policy.period ? `, in force ${periodText(policy.period)}` : ''}, except:`];
  const walk = (provisions: readonly Provision[] | undefined, parent: Decision, prefix: number[], depth: number): void => {
    (provisions ?? []).forEach((p, i) => {
      const path = [...prefix, i];
      const own = opposite(parent);
      lines.push(`${'  '.repeat(depth)}[${path.join(', ')}] ${own}: ${criteriaText(p)}${p.provisions ? ', except:' : ''}`);
      walk(p.provisions, own, path, depth + 1);
    });
  };
  walk(policy.provisions, policy.decision, [], 1);
  if (!policy.provisions) lines[0] = `${policy.decision} every request${policy.period ? `, in force ${periodText(policy.period)}` : ''}`;
  return lines;
}

function criteriaText(p: Provision): string {
  const parts: string[] = [];
  if (p.actors) {
    parts.push(
      `by ${p.actors
        .map((a) => {
          if (a.participation !== 'recipient') return `records whose ${a.participation} is ${a.org}`;
          const who = [a.org ?? 'any org', a.role ? `role ${a.role}` : '', a.practitioner ? `practitioner ${a.practitioner}` : '', a.careTeam ? `care team ${a.careTeam}` : ''];
          return who.filter(Boolean).join(' ');
        })
        .join(' or ')}`,
    );
  }
  if (p.actions) parts.push(`to ${p.actions.join(' or ')}`);
  if (p.purposes) parts.push(`for ${p.purposes.join(' or ')} (and their sub-purposes)`);
  if (p.securityLabels) parts.push(`records labelled ${p.securityLabels.join(' or ')}`);
  if (p.resourceTypes) parts.push(`records of type ${p.resourceTypes.join(' or ')}`);
  if (p.documentClasses) parts.push(`documents of class ${p.documentClasses.map((c) => `${c.system}|${c.code}`).join(' or ')}`);
  if (p.records) parts.push(`records ${p.records.join(', ')}`);
  if (p.dataPeriod) parts.push(`data from ${periodText(p.dataPeriod)}`);
  if (p.period) parts.push(`requests made ${periodText(p.period)}`);
  if (p.policies) parts.push(`under policy ${p.policies.join(' or ')}`);
  return parts.length === 0 ? 'every request' : parts.join(', ');
}

function periodText(p: Period): string {
  const start = p.start === undefined ? 'any time' : new Date(p.start).toISOString();
  const end = p.end === undefined ? 'no end' : new Date(p.end).toISOString();
  return `from ${start} until ${end}`;
}

/**
 * A stored consent as a FHIR R5 Consent: the policy of a consent v2, with its consent id and
 * patient as identifiers (ids only, as on the ledger). A v1 consent has no policy to export.
 */
export function consentToFhir(consent: ConsentWithStatus): FhirJson {
  if (!isPolicyConsent(consent)) {
    throw new ClientError('INVALID_ARGUMENT', 'rejected', `consent ${consent.consentId} is a v1 consent (terms, not a policy): FHIR export covers consent v2`);
  }
  const keeper = keeperOf(consent);
  const fhir = exportFhirConsent(consent.policy, keeper === null ? {} : { keeper });
  // A revoked or ended consent is no longer in force: FHIR says inactive.
  return {
    ...fhir,
    status: consent.effectiveStatus === 'active' || consent.effectiveStatus === 'pending' ? 'active' : 'inactive',
    identifier: [{ system: AuditSystems.consentId, value: consent.consentId }],
    subject: { identifier: { system: AuditSystems.patientId, value: consent.patientId } },
  };
}

/** A patient's access log (oldest first) as a FHIR Bundle of R5 AuditEvents, one per decision. */
export function accessLogToFhir(entries: readonly AccessLogEntry[]): FhirJson {
  return accessLogToAuditBundle(entries);
}
