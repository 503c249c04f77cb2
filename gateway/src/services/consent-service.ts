/**
 * Patient and consent operations on a patient's home channel. The patient's key signs
 * (shared patient-messages module); the hospital's client only carries the message.
 *
 * @example
 *   const consents = new ConsentService(new Chaincode(FabricClient.open('HospitalA'), 'chain-a'));
 *   const { consentId } = await consents.grant(patient, patient.patientId, { grantee: 'HospitalBMSP', purposes: ['TREAT'], days: 30 });
 */
import {
  consentIdOf,
  parseSignedPatientMessage,
  patientIdOf,
  type AccessDecision,
  type AccessLogEntry,
  type AccessLogReadMessage,
  type RecordsReadMessage,
  type ConsentGrantMessage,
  type ConsentPolicy,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type ConsentWithStatus,
  type Emergency,
  type Guardian,
  type GuardianDelegationMessage,
  type GuardianRevocationMessage,
  type Page,
  type Patient,
  type PatientMessage,
  type RemoteConsentCheck,
  type RemoteConsentWithStatus,
  type GrantAndSendResult,
  type SendPacketResult,
  type SealedConsentShare,
  type SignedKeyRotation,
  type SignedPatientMessage,
} from '@medbridge/chaincode';
import { ClientError, toClientError, usageError } from '../errors';
import { allPages, orAbsent, type Chaincode, type Submitted } from '../fabric/contracts';
import type { PatientRecordLabels, PrivateConsents } from '../fabric/contracts/consent';
import { chainsCarriedTo } from './consent-reach';
import { consentPacketType, CrossChainService, routeFor } from './crosschain-service';
import type { PatientKey } from './patient-keys';
import { PatientSigner, type GrantInput } from './patient-signer';

export { newNonce, termsOf, type GrantInput } from './patient-signer';

/** What submitting an envelope returned: its kind, the transaction (none for a read) and the result. */
export interface SubmittedEnvelope {
  kind: PatientMessage['kind'];
  consentId?: string;
  txId?: string;
  result: unknown;
}

/** What carrying a consent to one chain did: its packet's sequence (sealed or public), or the error. */
export type CarryOutcome = { chainId: string; sequence: number; sealed: boolean } | { chainId: string; error: { code: string; message: string } };

function pick<T>(res: Submitted<T>): { txId: string; result: T } {
  return { txId: res.txId, result: res.result };
}

export class ConsentService {
  /** The chain id the patient signs for. */
  readonly chainId: string;

  /** Its sends, gathered into batches while one is in flight (send-batcher.ts). */
  private crossChain: CrossChainService | undefined;

  constructor(
    readonly chaincode: Chaincode,
    /** Chain id the patient signs for (default: the channel name). */
    chainId?: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.chainId = chainId ?? chaincode.channel;
    this.signer = new PatientSigner(this.chainId, clock);
  }

  /** Builds and signs the patient messages this service submits (usable without a network). */
  readonly signer: PatientSigner;

  /** The patient's home channel. */
  get channel(): string {
    return this.chaincode.channel;
  }


  /**
   * Registers the patient's key at this org: publicly, or with `privately` in this org's implicit
   * collection only (chaincode/CONSENT.md "Private patients and anchors"). A patient has one
   * registration per org: one registered publicly on this chain already is registered publicly
   * here too (the id is public anyway, and a second, private registration would split the
   * patient's key history and guardians); one this org registered privately is ALREADY_EXISTS.
   * The check is a query (the private transaction cannot read public state without naming the
   * patient in its read set).
   */
  async registerPatient(key: Pick<PatientKey, 'publicKey'>, opts: { privately?: boolean } = {}): Promise<Submitted<Patient> & { privately: boolean }> {
    const patientId = patientIdOf(key.publicKey);
    const existing = await orAbsent(this.chaincode.consent.getPatient(patientId), ['NOT_FOUND', 'PATIENT_NOT_REGISTERED']);
    if (existing?.heldPrivately === true) throw new ClientError('ALREADY_EXISTS', 'rejected', `patient ${patientId} is already registered privately by ${this.chaincode.mspId}`);
    const privately = opts.privately === true && existing === undefined;
    const res = await (privately ? this.chaincode.consent.registerPatientPrivately(key.publicKey) : this.chaincode.consent.registerPatient(key.publicKey));
    return { ...res, privately };
  }

  getPatient(patientId: string): Promise<Patient> {
    return this.chaincode.consent.getPatient(patientId);
  }

  // ------------------------------------------------------------- signing and submitting

  /**
   * Patient (or guardian) signs a grant; returns the consent id it creates and the committed
   * consent. With `keeper`, a private consent kept by that org (sent to its peers only).
   */
  async grant(signer: PatientKey, patientId: string, input: GrantInput, keeper?: string): Promise<Submitted<ConsentWithStatus> & { consentId: string }> {
    const signed = this.signer.grant(signer, patientId, input, keeper);
    const res = await this.chaincode.consent.grantConsent(signed);
    return { ...res, consentId: consentIdOf(signed.message) };
  }

  /**
   * Grant and share at once: the patient's grant is stored and its consent.grant packet sent
   * to `destChain` in one transaction (CrossChain:GrantAndSend), one block instead of two.
   */
  async grantAndShare(signer: PatientKey, patientId: string, input: GrantInput, destChain: string, routeId?: string): Promise<Submitted<GrantAndSendResult> & { consentId: string }> {
    const signed = this.signer.grant(signer, patientId, input);
    const res = await this.chaincode.crossChain.grantAndSend(signed, destChain, routeId ? { routeId } : {});
    return { ...res, consentId: consentIdOf(signed.message) };
  }

  /** The patient (or a guardian) grants a consent v2 policy (signed in its canonical form); with `keeper`, privately at that org. */
  async grantPolicy(signer: PatientKey, patientId: string, policy: ConsentPolicy, keeper?: string): Promise<Submitted<ConsentWithStatus> & { consentId: string }> {
    const signed = this.signer.policyGrant(signer, patientId, policy, keeper);
    const res = await this.chaincode.consent.grantConsent(signed);
    return { ...res, consentId: consentIdOf(signed.message) };
  }

  /** Revokes a consent: a public one, or with `keeper` a private one at the org that keeps it. */
  revoke(signer: PatientKey, patientId: string, consentId: string, keeper?: string): Promise<Submitted<ConsentWithStatus>> {
    const signed = this.signer.revocation(signer, patientId, consentId);
    return keeper === undefined ? this.chaincode.consent.revokeConsent(signed) : this.chaincode.consent.revokeConsentPrivately(signed, keeper);
  }

  /** Whether this org registered the patient privately: its guardians and key rotations then go to the private transactions. */
  private async heldPrivately(patientId: string): Promise<boolean> {
    return (await this.chaincode.consent.getPatient(patientId)).heldPrivately === true;
  }

  async delegate(patient: PatientKey, guardian: { publicKey: string }, days: number, patientId = patient.patientId): Promise<Submitted<Guardian>> {
    return this.submitDelegation(this.signer.delegation(patient, patientId, guardian, days));
  }

  async revokeGuardian(patient: PatientKey, guardianId: string, patientId = patient.patientId): Promise<Submitted<Guardian>> {
    return this.submitGuardianRevocation(this.signer.guardianRevocation(patient, patientId, guardianId));
  }

  /**
   * The patient replaces their key: signed by the current key and the new one; the patient
   * id, consents and guardians stay (CONSENT.md "Key rotation").
   */
  async rotateKey(current: PatientKey, patientId: string, next: PatientKey): Promise<Submitted<Patient>> {
    return this.submitKeyRotation(this.signer.keyRotation(current, patientId, next));
  }

  /** A guardian.authorise signed elsewhere (a patient's device): privately when this org registered the patient privately. */
  async submitDelegation(signed: SignedPatientMessage<GuardianDelegationMessage>): Promise<Submitted<Guardian>> {
    const cc = this.chaincode.consent;
    return (await this.heldPrivately(signed.message.patientId)) ? cc.authoriseGuardianPrivately(signed) : cc.authoriseGuardian(signed);
  }

  /** A guardian.revoke signed elsewhere, placed as submitDelegation places it. */
  async submitGuardianRevocation(signed: SignedPatientMessage<GuardianRevocationMessage>): Promise<Submitted<Guardian>> {
    const cc = this.chaincode.consent;
    return (await this.heldPrivately(signed.message.patientId)) ? cc.revokeGuardianPrivately(signed) : cc.revokeGuardian(signed);
  }

  /** A patient.rotate-key signed elsewhere, placed as submitDelegation places it. */
  async submitKeyRotation(signed: SignedKeyRotation): Promise<Submitted<Patient>> {
    const cc = this.chaincode.consent;
    return (await this.heldPrivately(signed.message.patientId)) ? cc.rotatePatientKeyPrivately(signed) : cc.rotatePatientKey(signed);
  }

  /**
   * Submits an envelope signed elsewhere (`--sign-only`, a patient's device): its kind
   * decides the transaction (a grant naming its keeper goes privately to the keeper; a
   * revocation of a private consent needs `keeper`). An access-log.read is a query and returns
   * the first page.
   */
  async submit(envelope: unknown, keeper?: string): Promise<SubmittedEnvelope> {
    const signed = parseSignedPatientMessage(envelope);
    const m: PatientMessage = signed.message;
    const cc = this.chaincode.consent;
    switch (m.kind) {
      case 'consent.grant': {
        const res = await cc.grantConsent(signed as SignedPatientMessage<ConsentGrantMessage>);
        return { kind: m.kind, consentId: consentIdOf(m), txId: res.txId, result: res.result };
      }
      case 'consent.grant-policy': {
        const res = await cc.grantConsent(signed as SignedPatientMessage<ConsentPolicyGrantMessage>);
        return { kind: m.kind, consentId: consentIdOf(m), txId: res.txId, result: res.result };
      }
      case 'consent.revoke': {
        const revocation = signed as SignedPatientMessage<ConsentRevocationMessage>;
        return { kind: m.kind, ...pick(await (keeper === undefined ? cc.revokeConsent(revocation) : cc.revokeConsentPrivately(revocation, keeper))) };
      }
      // A patient this org registered privately: the private transactions of the same kinds.
      case 'guardian.authorise':
        return { kind: m.kind, ...pick(await this.submitDelegation(signed as SignedPatientMessage<GuardianDelegationMessage>)) };
      case 'guardian.revoke':
        return { kind: m.kind, ...pick(await this.submitGuardianRevocation(signed as SignedPatientMessage<GuardianRevocationMessage>)) };
      case 'patient.rotate-key':
        return { kind: m.kind, ...pick(await this.submitKeyRotation(signed as SignedKeyRotation)) };
      case 'access-log.read':
        return { kind: m.kind, result: await cc.listAccessLogSigned(signed as SignedPatientMessage<AccessLogReadMessage>, { pageSize: 100 }) };
      case 'records.read':
        return { kind: m.kind, result: await cc.listRecordLabelsSigned(signed as SignedPatientMessage<RecordsReadMessage>) };
      case 'record.erase':
        // The custodian submits it with its own erasure of the content and salt, never alone.
        throw usageError(`a record.erase envelope goes to the record's custodian: medbridge records erase ${m.recordId} --request <file> --org <custodian>`);
    }
  }

  /**
   * Sends the consent's current state (grant, or revocation once revoked) to the chain of
   * its grantee as a cross-chain packet; a relay carries it there with its proof.
   */
  share(consentId: string, destChain: string, type: 'consent.grant' | 'consent.revoke', routeId?: string): Promise<Submitted<SendPacketResult>> {
    this.crossChain ??= new CrossChainService(this.chaincode);
    return this.crossChain.sendConsent(destChain, consentId, { type, ...(routeId ? { routeId } : {}) });
  }

  /**
   * Shares a consent's current state with `destChain` the way it can travel: a public consent as
   * a consent packet (share), one this org keeps privately sealed (shareSealed), on `routeId` or
   * else the first open route there that carries that packet type. `sealed` says which: the
   * digest and reference of a sealed share, null for a public one.
   */
  async shareAny(consentId: string, destChain: string, routeId?: string): Promise<{ sent: Submitted<SendPacketResult>; sealed: SealedConsentShare | null }> {
    const consent = await this.chaincode.consent.findConsent(consentId);
    // Without a route named, the first open route to the chain that carries this type (several may lead there).
    return this.shareConsent(consent, destChain, routeId ?? ((type) => this.chaincode.crossChain.listRoutes().then((routes) => routeFor(routes, destChain, type))));
  }

  /** shareAny for a consent already read, on `route` or the one `routeOf` picks for the packet type. */
  private async shareConsent(
    consent: ConsentWithStatus,
    destChain: string,
    route: string | ((type: string) => Promise<string>),
  ): Promise<{ sent: Submitted<SendPacketResult>; sealed: SealedConsentShare | null }> {
    const type = consent.grant.message.keeper !== undefined ? 'consent.sealed' : consentPacketType(consent.status);
    const routeId = typeof route === 'string' ? route : await route(type);
    if (type === 'consent.sealed') {
      const { sealed, sent } = await this.shareSealed(consent.consentId, destChain, routeId);
      return { sent, sealed: sealed.result };
    }
    return { sent: await this.share(consent.consentId, destChain, type, routeId), sealed: null };
  }

  /**
   * A sealed share of a private consent this org keeps (chaincode/CONSENT.md "Sealed consent
   * shares"): the consent's current state is sealed privately at this org, then a
   * consent.sealed packet carries only its digest to `destChain`. The grantee gets the sealed
   * bytes from this org's record exchange and delivers them (SealedConsentReceiver).
   */
  async shareSealed(consentId: string, destChain: string, routeId?: string): Promise<{ sealed: Submitted<SealedConsentShare>; sent: Submitted<SendPacketResult> }> {
    const sealed = await this.chaincode.consent.sealConsent(consentId, destChain);
    this.crossChain ??= new CrossChainService(this.chaincode);
    const sent = await this.crossChain.sendSealedConsent(destChain, sealed.result.ref, routeId ? { routeId } : {});
    return { sealed, sent };
  }

  /**
   * Carries a consent's current state to every chain it was carried to before (its sent packets,
   * or for a kept consent its seals): after a revocation, the revocation follows the grant
   * everywhere. One outcome per chain, in chain order; a chain that fails does not stop the others.
   */
  async carryToEveryChain(consentId: string): Promise<CarryOutcome[]> {
    const consent = await this.chaincode.consent.findConsent(consentId);
    const chains = await chainsCarriedTo(this.chaincode, consent);
    if (chains.length === 0) return [];
    // One read of the consent and of the routes for every chain.
    const routes = await this.chaincode.crossChain.listRoutes();
    const out: CarryOutcome[] = [];
    for (const chainId of chains) {
      try {
        const { sent, sealed } = await this.shareConsent(consent, chainId, async (type) => routeFor(routes, chainId, type));
        out.push({ chainId, sequence: sent.result.sequence, sealed: sealed !== null });
      } catch (e) {
        const err = toClientError(e);
        out.push({ chainId, error: { code: err.code, message: err.message } });
      }
    }
    return out;
  }

  /** A consent: public state, else a private consent this org keeps (NOT_FOUND when neither). */
  getConsent(consentId: string): Promise<ConsentWithStatus> {
    return this.chaincode.consent.findConsent(consentId);
  }

  /** The private consents of a patient this org keeps (chaincode/CONSENT.md "Private consents"). */
  listPrivateConsents(patientId: string): Promise<PrivateConsents> {
    return this.chaincode.consent.listPrivateConsents(patientId);
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
      const signed = this.signer.accessLogRead(signer, patientId);
      return this.chaincode.consent.listAccessLogSigned(signed, request);
    }, 1000);
  }

  /** The labels of the patient's records this org holds, read with a records.read signed by `signer` (the patient or a guardian). */
  recordLabels(patientId: string, signer: PatientKey): Promise<PatientRecordLabels> {
    return this.chaincode.consent.listRecordLabelsSigned(this.signer.recordsRead(signer, patientId));
  }

  /** Break-glass, private at `custodian` (default this org; for a record, its custodian if it is another org). */
  breakGlass(patientId: string, recordId: string, reason: string, minutes?: number, custodian?: string): Promise<Submitted<Emergency>> {
    return this.chaincode.consent.breakGlass({
      patientId,
      recordId,
      reason,
      ...(minutes === undefined ? {} : { durationMinutes: minutes }),
      ...(custodian === undefined ? {} : { custodian }),
    });
  }

  reviewEmergency(emergencyId: string, outcome: string, custodian?: string): Promise<Submitted<Emergency>> {
    return this.chaincode.consent.reviewEmergency(emergencyId, outcome, custodian);
  }

  /** The review of an emergency opened before emergencies were private (public state). */
  reviewPublicEmergency(emergencyId: string, outcome: string): Promise<Submitted<Emergency>> {
    return this.chaincode.consent.reviewPublicEmergency(emergencyId, outcome);
  }

  /** The review queue at `custodian` (default this org): what this org may review there. */
  listEmergencies(pageSize = 50, bookmark = '', custodian?: string): Promise<Page<Emergency>> {
    return this.chaincode.consent.listEmergencies({ pageSize, bookmark }, custodian);
  }

  /** A consent mirrored onto this channel from another chain, checked for a purpose now. */
  checkRemoteConsent(sourceChain: string, consentId: string, purpose: string): Promise<RemoteConsentCheck> {
    return this.chaincode.consent.checkRemoteConsent(sourceChain, consentId, purpose);
  }

  listRemoteConsents(grantee: string, pageSize = 50, bookmark = ''): Promise<Page<RemoteConsentWithStatus>> {
    return this.chaincode.consent.listRemoteConsents(grantee, { pageSize, bookmark });
  }
}
