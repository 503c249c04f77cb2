/**
 * Patient and consent operations on a patient's home channel. The patient's key signs
 * (shared patient-messages module); the hospital's client only carries the message.
 *
 * @example
 *   const consents = new ConsentService(new Chaincode(FabricClient.open('HospitalA'), 'chain-a'));
 *   const { consentId } = await consents.grant(patient, patient.patientId, { grantee: 'HospitalBMSP', purposes: ['TREAT'], days: 30 });
 */
import { randomBytes } from 'node:crypto';
import {
  buildAccessLogRead,
  buildConsentGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildGuardianRevocation,
  consentIdOf,
  signPatientMessage,
  type AccessDecision,
  type AccessLogEntry,
  type ConsentTerms,
  type ConsentWithStatus,
  type Emergency,
  type Guardian,
  type HeaderInput,
  type Page,
  type Patient,
  type RemoteConsentCheck,
  type RemoteConsentWithStatus,
  type GrantAndSendResult,
  type SendPacketResult,
} from '@medbridge/chaincode';
import { allPages, type Chaincode, type Submitted } from '../fabric/contracts';
import { CrossChainService } from './crosschain-service';
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

export class ConsentService {
  /** The chain id the patient signs for. */
  readonly chainId: string;

  constructor(
    readonly chaincode: Chaincode,
    /** Chain id the patient signs for (default: the channel name). */
    chainId?: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.chainId = chainId ?? chaincode.channel;
  }

  /** The patient's home channel. */
  get channel(): string {
    return this.chaincode.channel;
  }

  private header(signer: PatientKey, patientId: string): HeaderInput {
    return { channel: this.chainId, patientId, signer: signer.keyId, nonce: newNonce(), issuedAt: this.clock() };
  }

  registerPatient(key: PatientKey): Promise<Submitted<Patient>> {
    return this.chaincode.consent.registerPatient(key.publicKey);
  }

  getPatient(patientId: string): Promise<Patient> {
    return this.chaincode.consent.getPatient(patientId);
  }

  /** Patient (or guardian) signs a grant; returns the consent id it creates and the committed consent. */
  async grant(signer: PatientKey, patientId: string, input: GrantInput): Promise<Submitted<ConsentWithStatus> & { consentId: string }> {
    const message = buildConsentGrant(this.header(signer, patientId), termsOf(input, this.clock()));
    const res = await this.chaincode.consent.grantConsent(signPatientMessage(message, signer.privateKey));
    return { ...res, consentId: consentIdOf(message) };
  }

  /**
   * Grant and share at once: the patient's grant is stored and its consent.grant packet sent
   * to `destChain` in one transaction (CrossChain:GrantAndSend), one block instead of two.
   */
  async grantAndShare(signer: PatientKey, patientId: string, input: GrantInput, destChain: string, routeId?: string): Promise<Submitted<GrantAndSendResult> & { consentId: string }> {
    const message = buildConsentGrant(this.header(signer, patientId), termsOf(input, this.clock()));
    const res = await this.chaincode.crossChain.grantAndSend(signPatientMessage(message, signer.privateKey), destChain, routeId ? { routeId } : {});
    return { ...res, consentId: consentIdOf(message) };
  }

  revoke(signer: PatientKey, patientId: string, consentId: string): Promise<Submitted<ConsentWithStatus>> {
    const message = buildConsentRevocation(this.header(signer, patientId), consentId);
    return this.chaincode.consent.revokeConsent(signPatientMessage(message, signer.privateKey));
  }

  delegate(patient: PatientKey, guardian: { publicKey: string }, days: number): Promise<Submitted<Guardian>> {
    const notAfter = this.clock() + Math.round(days * DAY_MS);
    const message = buildGuardianDelegation(this.header(patient, patient.patientId), { publicKey: guardian.publicKey, notAfter });
    return this.chaincode.consent.authoriseGuardian(signPatientMessage(message, patient.privateKey));
  }

  revokeGuardian(patient: PatientKey, guardianId: string): Promise<Submitted<Guardian>> {
    const message = buildGuardianRevocation(this.header(patient, patient.patientId), guardianId);
    return this.chaincode.consent.revokeGuardian(signPatientMessage(message, patient.privateKey));
  }

  /**
   * Sends the consent's current state (grant, or revocation once revoked) to the chain of
   * its grantee as a cross-chain packet; a relay carries it there with its proof.
   */
  share(consentId: string, destChain: string, type: 'consent.grant' | 'consent.revoke', routeId?: string): Promise<Submitted<SendPacketResult>> {
    return new CrossChainService(this.chaincode).sendConsent(destChain, consentId, { type, ...(routeId ? { routeId } : {}) });
  }

  getConsent(consentId: string): Promise<ConsentWithStatus> {
    return this.chaincode.consent.getConsent(consentId);
  }

  listConsents(patientId: string, pageSize = 50, bookmark = ''): Promise<Page<ConsentWithStatus>> {
    return this.chaincode.consent.listConsentsByPatient(patientId, { pageSize, bookmark });
  }

  checkAccess(grantee: string, recordId: string, purpose: string): Promise<AccessDecision> {
    return this.chaincode.consent.checkAccess(grantee, recordId, purpose);
  }

  /** Every entry of a patient's access log: signed by the patient's key if given, else as a custodian org. */
  accessLog(patientId: string, signer?: PatientKey): Promise<AccessLogEntry[]> {
    return allPages((page) => {
      const request = { pageSize: 100, bookmark: page.bookmark };
      if (!signer) return this.chaincode.consent.listAccessLog(patientId, request);
      const signed = signPatientMessage(buildAccessLogRead(this.header(signer, patientId)), signer.privateKey);
      return this.chaincode.consent.listAccessLogSigned(signed, request);
    }, 1000);
  }

  breakGlass(patientId: string, recordId: string, reason: string, minutes?: number): Promise<Submitted<Emergency>> {
    return this.chaincode.consent.breakGlass({ patientId, recordId, reason, ...(minutes === undefined ? {} : { durationMinutes: minutes }) });
  }

  reviewEmergency(emergencyId: string, outcome: string): Promise<Submitted<Emergency>> {
    return this.chaincode.consent.reviewEmergency(emergencyId, outcome);
  }

  listEmergencies(pageSize = 50, bookmark = ''): Promise<Page<Emergency>> {
    return this.chaincode.consent.listEmergencies({ pageSize, bookmark });
  }

  /** A consent mirrored onto this channel from another chain, checked for a purpose now. */
  checkRemoteConsent(sourceChain: string, consentId: string, purpose: string): Promise<RemoteConsentCheck> {
    return this.chaincode.consent.checkRemoteConsent(sourceChain, consentId, purpose);
  }

  listRemoteConsents(grantee: string, pageSize = 50, bookmark = ''): Promise<Page<RemoteConsentWithStatus>> {
    return this.chaincode.consent.listRemoteConsents(grantee, { pageSize, bookmark });
  }
}
