/**
 * The access log as FHIR R5 AuditEvent resources: one per log entry, permit and deny alike,
 * carrying the purpose of use, the provision path that decided and the break-glass flag
 * (CONSENT.md "Consent language (v2)", AuditEvent). Identifiers only, as on the ledger: the
 * patient is their pseudonymous id, orgs are MSP ids, records are record ids.
 *
 * Pure and bundle-safe (no node APIs): a patient app can render its own log with it.
 */
import { PURPOSE_OF_USE_SYSTEM } from './consent-policy/vocabulary';
import { formatFhirInstant } from './fhir-datetime';
import { FhirSystems, type FhirJson } from './fhir-consent';

/**
 * The fields of an access-log entry the export reads: the chaincode's AccessLogEntry
 * (contracts/consent-contract.ts) is one. `provisionPath` is set when a v2 consent decided.
 */
export interface AuditableAccessEntry {
  kind: 'access' | 'emergency-opened' | 'emergency-reviewed';
  patientId: string;
  recordId: string | null;
  requester: string;
  purpose: string;
  allowed: boolean;
  reason: string;
  consentId: string | null;
  emergencyId: string | null;
  review: string | null;
  loggedBy: string;
  requestId: string | null;
  time: number;
  txId: string;
  /** Consent v2: the path of the provision that decided ([] = the policy's own decision). */
  provisionPath?: number[] | null;
}

/** medbridge's identifier and code systems in AuditEvents, beside those of fhir-consent.ts. */
export const AuditSystems = {
  patientId: 'urn:medbridge:patient-id',
  consentId: 'urn:medbridge:consent-id',
  emergencyId: 'urn:medbridge:emergency-id',
  accessReason: 'urn:medbridge:access-reason',
  auditEvent: 'urn:medbridge:audit-event',
  auditDetail: 'urn:medbridge:audit-detail',
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  outcome: 'http://terminology.hl7.org/CodeSystem/audit-event-outcome',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
  sourceType: 'http://terminology.hl7.org/CodeSystem/security-source-type',
} as const;

/** Whether an entry is break-glass access: an emergency opened or reviewed, or a read under one. */
export function isBreakGlass(e: AuditableAccessEntry): boolean {
  return e.kind !== 'access' || e.emergencyId !== null;
}

/**
 * One access-log entry as a FHIR R5 AuditEvent.
 *
 * @example accessLogEntryToAuditEvent(entry).outcome // { code: { code: '4', ... }, detail: [...] } for a refusal
 */
export function accessLogEntryToAuditEvent(e: AuditableAccessEntry): FhirJson {
  const cc = (system: string, code: string, display?: string): FhirJson => ({ coding: [display === undefined ? { system, code } : { system, code, display }] });
  const org = (mspId: string): FhirJson => ({ type: 'Organization', identifier: { system: FhirSystems.mspId, value: mspId } });
  const detail = (code: string, valueString: string): FhirJson => ({ type: cc(AuditSystems.auditDetail, code), valueString });
  const when = formatFhirInstant(e.time);

  const out: FhirJson = { resourceType: 'AuditEvent' };
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(e.txId)) out.id = e.txId;
  out.category = [cc(AuditSystems.dicom, '110110', 'Patient Record')];
  out.code =
    e.kind === 'access'
      ? cc(AuditSystems.dicom, '110106', 'Export')
      : e.kind === 'emergency-opened'
        ? cc(AuditSystems.dicom, '110127', 'Emergency Override Started')
        : cc(AuditSystems.auditEvent, 'emergency-reviewed', 'Emergency access reviewed');
  out.action = e.kind === 'access' ? 'R' : 'E';
  out.occurredDateTime = when;
  out.recorded = when;
  out.outcome = {
    code: e.allowed ? { system: AuditSystems.outcome, code: '0', display: 'Success' } : { system: AuditSystems.outcome, code: '4', display: 'Minor failure' },
    detail: [cc(AuditSystems.accessReason, e.reason)],
  };
  const authorization = [cc(PURPOSE_OF_USE_SYSTEM, e.purpose)];
  if (isBreakGlass(e) && e.purpose !== 'BTG') authorization.push(cc(PURPOSE_OF_USE_SYSTEM, 'BTG', 'break the glass'));
  out.authorization = authorization;
  out.patient = { identifier: { system: AuditSystems.patientId, value: e.patientId } };

  const agents: FhirJson[] = [{ type: cc(FhirSystems.participationType, 'IRCP', 'information recipient'), who: org(e.requester), requestor: true }];
  if (e.loggedBy !== e.requester) {
    agents.push(e.kind === 'access' ? { type: cc(FhirSystems.participationType, 'CST', 'custodian'), who: org(e.loggedBy), requestor: false } : { who: org(e.loggedBy), requestor: false });
  }
  out.agent = agents;
  out.source = { observer: org(e.loggedBy), type: [cc(AuditSystems.sourceType, '4', 'Application Server')] };

  const entities: FhirJson[] = [];
  if (e.recordId !== null) {
    const record: FhirJson = { what: { identifier: { system: FhirSystems.recordId, value: e.recordId } }, role: cc(AuditSystems.objectRole, '4', 'Domain Resource') };
    if (e.requestId !== null) record.detail = [detail('request-id', e.requestId)];
    entities.push(record);
  }
  if (e.consentId !== null || (e.provisionPath !== undefined && e.provisionPath !== null)) {
    const consent: FhirJson = { role: cc(AuditSystems.objectRole, '13', 'Security Resource') };
    if (e.consentId !== null) consent.what = { identifier: { system: AuditSystems.consentId, value: e.consentId } };
    if (e.provisionPath !== undefined && e.provisionPath !== null) consent.detail = [detail('provision-path', JSON.stringify(e.provisionPath))];
    entities.push(consent);
  }
  if (e.emergencyId !== null) {
    const emergency: FhirJson = { what: { identifier: { system: AuditSystems.emergencyId, value: e.emergencyId } }, role: cc(AuditSystems.objectRole, '13', 'Security Resource') };
    if (e.review !== null) emergency.detail = [detail('review', e.review)];
    entities.push(emergency);
  }
  if (entities.length > 0) out.entity = entities;
  return out;
}

/** A patient's access log (oldest first) as a FHIR Bundle of type collection, one AuditEvent per entry. */
export function accessLogToAuditBundle(entries: readonly AuditableAccessEntry[]): FhirJson {
  return { resourceType: 'Bundle', type: 'collection', entry: entries.map((e) => ({ resource: accessLogEntryToAuditEvent(e) })) };
}
