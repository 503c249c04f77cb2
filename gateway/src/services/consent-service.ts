/**
 * Patient and consent operations on a patient's home channel. The patient's key signs
 * (shared patient-messages module); the hospital's client only carries the message.
 */
import { randomBytes } from 'node:crypto';
import {
  buildAccessLogRead,
  buildConsentGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildGuardianRevocation,
  canonicalize,
  consentIdOf,
  type ConsentTerms,
  type HeaderInput,
  signPatientMessage,
} from '@medbridge/chaincode';
import type { FabricClient, Submitted } from '../fabric/client';
import type { PatientKey } from './patient-keys';

const DAY_MS = 86_400_000;

export interface Page<T> {
  items: T[];
  bookmark: string;
}

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
  constructor(
    private readonly client: FabricClient,
    /** The patient's home channel. */
    readonly channel: string,
    /** Chain id the patient signs for (default: the channel name). */
    readonly chainId: string = channel,
    private readonly clock: () => number = Date.now,
  ) {}

  private header(signer: PatientKey, patientId: string): HeaderInput {
    return { channel: this.chainId, patientId, signer: signer.keyId, nonce: newNonce(), issuedAt: this.clock() };
  }

  registerPatient(key: PatientKey): Promise<Submitted<unknown>> {
    return this.client.submit(this.channel, 'Consent', 'RegisterPatient', [key.publicKey]);
  }

  getPatient(patientId: string): Promise<unknown> {
    return this.client.evaluate(this.channel, 'Consent', 'GetPatient', [patientId]);
  }

  /** Patient (or guardian) signs a grant; returns the consent id it creates and the committed consent. */
  async grant(signer: PatientKey, patientId: string, input: GrantInput): Promise<Submitted<unknown> & { consentId: string }> {
    const message = buildConsentGrant(this.header(signer, patientId), termsOf(input, this.clock()));
    const signed = signPatientMessage(message, signer.privateKey);
    const res = await this.client.submit(this.channel, 'Consent', 'GrantConsent', [canonicalize(signed)]);
    return { ...res, consentId: consentIdOf(message) };
  }

  revoke(signer: PatientKey, patientId: string, consentId: string): Promise<Submitted<unknown>> {
    const message = buildConsentRevocation(this.header(signer, patientId), consentId);
    return this.client.submit(this.channel, 'Consent', 'RevokeConsent', [canonicalize(signPatientMessage(message, signer.privateKey))]);
  }

  delegate(patient: PatientKey, guardian: { publicKey: string }, days: number): Promise<Submitted<unknown>> {
    const notAfter = this.clock() + Math.round(days * DAY_MS);
    const message = buildGuardianDelegation(this.header(patient, patient.patientId), { publicKey: guardian.publicKey, notAfter });
    return this.client.submit(this.channel, 'Consent', 'AuthoriseGuardian', [canonicalize(signPatientMessage(message, patient.privateKey))]);
  }

  revokeGuardian(patient: PatientKey, guardianId: string): Promise<Submitted<unknown>> {
    const message = buildGuardianRevocation(this.header(patient, patient.patientId), guardianId);
    return this.client.submit(this.channel, 'Consent', 'RevokeGuardian', [canonicalize(signPatientMessage(message, patient.privateKey))]);
  }

  /**
   * Sends the consent's current state (grant, or revocation once revoked) to the chain of
   * its grantee as a cross-chain packet; a relay carries it there with its proof.
   */
  share(consentId: string, destChain: string, type: 'consent.grant' | 'consent.revoke', routeId?: string): Promise<Submitted<{ routeId: string; sequence: number; packetHash: string }>> {
    const args = routeId ? { consentId, routeId } : { consentId };
    return this.client.submit(this.channel, 'CrossChain', 'SendPacket', [destChain, type, JSON.stringify(args)]);
  }

  getConsent(consentId: string): Promise<unknown> {
    return this.client.evaluate(this.channel, 'Consent', 'GetConsent', [consentId]);
  }

  listConsents(patientId: string, pageSize = 50, bookmark = ''): Promise<Page<unknown>> {
    return this.client.evaluate(this.channel, 'Consent', 'ListConsentsByPatient', [patientId, String(pageSize), bookmark]);
  }

  checkAccess(grantee: string, recordId: string, purpose: string): Promise<unknown> {
    return this.client.evaluate(this.channel, 'Consent', 'CheckAccess', [grantee, recordId, purpose]);
  }

  /** Every entry of a patient's access log: signed by the patient's key if given, else as a custodian org. */
  async accessLog(patientId: string, signer?: PatientKey): Promise<unknown[]> {
    const out: unknown[] = [];
    let bookmark = '';
    for (let pages = 0; pages < 1000; pages += 1) {
      let page: Page<unknown>;
      if (signer) {
        const message = buildAccessLogRead(this.header(signer, patientId));
        const signed = canonicalize(signPatientMessage(message, signer.privateKey));
        page = await this.client.evaluate(this.channel, 'Consent', 'ListAccessLogSigned', [signed, '100', bookmark]);
      } else {
        page = await this.client.evaluate(this.channel, 'Consent', 'ListAccessLog', [patientId, '100', bookmark]);
      }
      out.push(...page.items);
      if (!page.bookmark || page.items.length === 0) break;
      bookmark = page.bookmark;
    }
    return out;
  }

  breakGlass(patientId: string, recordId: string, reason: string, minutes?: number): Promise<Submitted<unknown>> {
    return this.client.submit(this.channel, 'Consent', 'BreakGlass', [patientId, recordId, reason, minutes === undefined ? '' : String(minutes)]);
  }

  reviewEmergency(emergencyId: string, outcome: string): Promise<Submitted<unknown>> {
    return this.client.submit(this.channel, 'Consent', 'ReviewEmergency', [emergencyId, outcome]);
  }

  listEmergencies(pageSize = 50, bookmark = ''): Promise<Page<unknown>> {
    return this.client.evaluate(this.channel, 'Consent', 'ListEmergencies', [String(pageSize), bookmark]);
  }

  /** A consent mirrored onto this channel from another chain, checked for a purpose now. */
  checkRemoteConsent(sourceChain: string, consentId: string, purpose: string): Promise<{ allowed: boolean; reason: string; status: string }> {
    return this.client.evaluate(this.channel, 'Consent', 'CheckRemoteConsent', [sourceChain, consentId, purpose]);
  }

  listRemoteConsents(grantee: string, pageSize = 50, bookmark = ''): Promise<Page<unknown>> {
    return this.client.evaluate(this.channel, 'Consent', 'ListRemoteConsents', [grantee, String(pageSize), bookmark]);
  }
}
