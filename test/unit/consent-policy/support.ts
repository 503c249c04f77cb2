/**
 * Builders for the consent-language suites: policies, provisions and access requests with
 * defaults that match nothing special, so each test states only what its rule is about.
 */
import { MedbridgeError } from '../../../chaincode/src/errors';
import { CONSENT_POLICY_FORMAT, type ConsentPolicy, type Decision, type Provision } from '../../../chaincode/src/protocol/consent-policy';
import type { AccessRequest, RecordMetadata } from '../../../chaincode/src/rules/consent-policy';

export const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
export const DAY = 86_400_000;

export function policy(decision: Decision, provisions?: Provision[], extra: Partial<ConsentPolicy> = {}): ConsentPolicy {
  return { format: CONSENT_POLICY_FORMAT, decision, ...(provisions ? { provisions } : {}), ...extra };
}

export interface RequestOverrides extends Partial<Omit<AccessRequest, 'actor' | 'record'>> {
  actor?: Partial<AccessRequest['actor']>;
  record?: Partial<RecordMetadata>;
}

/** HospitalBMSP's clinician asking to access an ordinary Observation of HospitalAMSP for TREAT at T0. */
export function request(o: RequestOverrides = {}): AccessRequest {
  return {
    actor: { org: 'HospitalBMSP', role: 'clinician', practitioner: null, careTeam: null, ...o.actor },
    action: o.action ?? 'access',
    purpose: o.purpose ?? 'TREAT',
    policy: o.policy ?? null,
    time: o.time ?? T0,
    record: {
      recordId: 'obs-1',
      resourceType: 'Observation',
      securityLabels: ['N'],
      dataDate: T0 - 30 * DAY,
      authorOrg: 'HospitalAMSP',
      custodian: 'HospitalAMSP',
      documentClasses: [],
      ...o.record,
    },
  };
}

/** The code of the MedbridgeError `fn` throws (fails the test on any other outcome). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.code;
    throw e;
  }
  throw new Error('expected a MedbridgeError, nothing was thrown');
}

/** The full `CODE: message` text of the MedbridgeError `fn` throws. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MedbridgeError) return e.message;
    throw e;
  }
  throw new Error('expected a MedbridgeError, nothing was thrown');
}
