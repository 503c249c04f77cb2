/**
 * Builds and signs patient messages with the shared protocol module, without any network:
 * the half of the CLI that can run on the patient's own device (`--sign-only`), and what
 * ConsentService submits. Every envelope is bound to one chain id (the patient's home chain).
 *
 * @example
 *   const envelope = new PatientSigner('chain-a').grant(key, key.patientId, { grantee: 'HospitalBMSP', categories: ['Observation'], purposes: ['TREAT'], days: 30 });
 */
import { randomBytes } from 'node:crypto';
import {
  buildAccessLogRead,
  buildRecordsRead,
  type RecordsReadMessage,
  buildConsentGrant,
  buildConsentPolicyGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildGuardianRevocation,
  buildKeyRotation,
  buildRecordErasure,
  signKeyRotation,
  signPatientMessage,
  type AccessLogReadMessage,
  type ConsentGrantMessage,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type ConsentTerms,
  type GuardianDelegationMessage,
  type GuardianRevocationMessage,
  type HeaderInput,
  type RecordErasureMessage,
  type SignedKeyRotation,
  type SignedPatientMessage,
} from '@medbridge/chaincode';
import type { PatientKey } from './patient-keys';

const DAY_MS = 86_400_000;

export interface GrantInput {
  grantee: string;
  recordIds?: string[];
  categories?: string[];
  purposes: string[];
  /** Start time (ms); defaults to now. */
  start?: number;
  days: number;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** Consent terms from CLI-style input (read action, [start, start + days)). */
export function termsOf(input: GrantInput, now: number): ConsentTerms {
  const start = input.start ?? now;
  return {
    grantee: input.grantee,
    scope: { recordIds: [...(input.recordIds ?? [])], categories: [...(input.categories ?? [])] },
    actions: ['read'],
    purposes: [...input.purposes],
    period: { start, end: start + Math.round(input.days * DAY_MS) },
  };
}

export class PatientSigner {
  constructor(
    /** The chain id every message is bound to. */
    readonly chainId: string,
    private readonly clock: () => number = Date.now,
  ) {}

  private header(signer: PatientKey, patientId: string): HeaderInput {
    return { channel: this.chainId, patientId, signer: signer.keyId, nonce: newNonce(), issuedAt: this.clock() };
  }

  /**
   * A consent.grant signed by the patient (or a guardian); nothing is sent. With `keeper`, a
   * private consent that org keeps and enforces (chaincode/CONSENT.md "Private consents").
   */
  grant(signer: PatientKey, patientId: string, input: GrantInput, keeper?: string): SignedPatientMessage<ConsentGrantMessage> {
    return signPatientMessage(buildConsentGrant(this.header(signer, patientId), termsOf(input, this.clock()), keeper), signer.privateKey);
  }

  /**
   * A consent v2 grant of `policy` (put in canonical order: what is signed is what is enforced);
   * CONSENT_POLICY_INVALID names an element the engine cannot enforce.
   */
  policyGrant(signer: PatientKey, patientId: string, policy: unknown, keeper?: string): SignedPatientMessage<ConsentPolicyGrantMessage> {
    return signPatientMessage(buildConsentPolicyGrant(this.header(signer, patientId), policy, keeper), signer.privateKey);
  }

  revocation(signer: PatientKey, patientId: string, consentId: string): SignedPatientMessage<ConsentRevocationMessage> {
    return signPatientMessage(buildConsentRevocation(this.header(signer, patientId), consentId), signer.privateKey);
  }

  delegation(patient: PatientKey, patientId: string, guardian: { publicKey: string }, days: number): SignedPatientMessage<GuardianDelegationMessage> {
    const notAfter = this.clock() + Math.round(days * DAY_MS);
    return signPatientMessage(buildGuardianDelegation(this.header(patient, patientId), { publicKey: guardian.publicKey, notAfter }), patient.privateKey);
  }

  guardianRevocation(patient: PatientKey, patientId: string, guardianId: string): SignedPatientMessage<GuardianRevocationMessage> {
    return signPatientMessage(buildGuardianRevocation(this.header(patient, patientId), guardianId), patient.privateKey);
  }

  accessLogRead(signer: PatientKey, patientId: string): SignedPatientMessage<AccessLogReadMessage> {
    return signPatientMessage(buildAccessLogRead(this.header(signer, patientId)), signer.privateKey);
  }

  /** A records.read: the patient reads the labels of their records one custodian holds privately. */
  recordsRead(signer: PatientKey, patientId: string): SignedPatientMessage<RecordsReadMessage> {
    return signPatientMessage(buildRecordsRead(this.header(signer, patientId)), signer.privateKey);
  }

  /** A record.erase: the patient (or a guardian) asks the record's custodian to erase it (CONSENT.md "Erasure"). */
  erasure(signer: PatientKey, patientId: string, recordId: string): SignedPatientMessage<RecordErasureMessage> {
    return signPatientMessage(buildRecordErasure(this.header(signer, patientId), recordId), signer.privateKey);
  }

  /** A patient.rotate-key signed by the current key, with the new key's proof of possession. */
  keyRotation(current: PatientKey, patientId: string, next: PatientKey): SignedKeyRotation {
    return signKeyRotation(buildKeyRotation(this.header(current, patientId), next.publicKey), current.privateKey, next.privateKey);
  }
}
