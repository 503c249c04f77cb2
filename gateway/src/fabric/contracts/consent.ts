/**
 * The `Consent` contract: patients, record anchors, patient-signed consents and guardian
 * delegations, access decisions and their log, break-glass access, and consents mirrored
 * from other chains (chaincode/CONSENT.md). Patient-signed messages travel as canonical
 * JSON; the hospital's identity only carries them.
 *
 * @example
 *   const signed = signPatientMessage(buildConsentGrant(header, terms), patientKey);
 *   const { result } = await cc.consent.grantConsent(signed);
 */
import { randomBytes } from 'node:crypto';
import {
  canonicalize,
  openSealedResult,
  PRIVATE_SALT_BYTES,
  type AccessDecision,
  type AccessLogEntry,
  type AccessLogReadMessage,
  type AnchorRecordArgs,
  type BreakGlassArgs,
  type ConsentGrantMessage,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type ConsentWithStatus,
  type Emergency,
  type EmergencyStatus,
  type Guardian,
  type GuardianDelegationMessage,
  type GuardianRevocationMessage,
  type GuardianStatus,
  type LogAccessResult,
  type Page,
  type PageRequest,
  type Patient,
  type ErasedRecord,
  type RecordAnchor,
  type RecordErasureMessage,
  type RecordHashCheck,
  type RecordLabels,
  type RecordsReadMessage,
  type RecordVersion,
  type RemoteAccessDecision,
  type RemoteAccessRequest,
  type RemoteConsentCheck,
  type RemoteConsentWithStatus,
  type ConsentSeal,
  type SealedArrival,
  type SealedConsentDelivery,
  type SealedConsentShare,
  type Requester,
  type SignedKeyRotation,
  type SignedPatientMessage,
} from '@medbridge/chaincode';
import type { FabricClient } from '../client';
import { toClientError } from '../../errors';
import { ContractClient, orAbsent, pageArgs, type SubmitOptions, type Submitted } from './contract';

export const ConsentTransactions = {
  RegisterPatient: 'submit',
  RegisterPatientPrivately: 'submit',
  AnchorRecordPrivately: 'submit',
  AmendRecordPrivately: 'submit',
  GetPrivateRecordVersion: 'evaluate',
  EraseRecordPrivately: 'submit',
  EraseRecordPrivatelyOnVerifiedRequest: 'submit',
  IsRecordHeldPrivately: 'evaluate',
  AuthoriseGuardianPrivately: 'submit',
  RevokeGuardianPrivately: 'submit',
  RotatePatientKeyPrivately: 'submit',
  RotatePatientKey: 'submit',
  GetPatient: 'evaluate',
  AnchorRecord: 'submit',
  AnchorRecordWithMetadata: 'submit',
  AmendRecord: 'submit',
  AmendRecordWithMetadata: 'submit',
  LabelRecord: 'submit',
  AnchorRecordLabelled: 'submit',
  AmendRecordLabelled: 'submit',
  GetRecordLabels: 'evaluate',
  PurgeRecordLabels: 'submit',
  GetRecord: 'evaluate',
  GetRecordHistory: 'evaluate',
  ListRecordsByPatient: 'evaluate',
  VerifyRecordHash: 'evaluate',
  EraseRecord: 'submit',
  EraseRecordOnVerifiedRequest: 'submit',
  GetRecordErasure: 'evaluate',
  AuthoriseGuardian: 'submit',
  RevokeGuardian: 'submit',
  GetGuardian: 'evaluate',
  GrantConsent: 'submit',
  RevokeConsent: 'submit',
  GetConsent: 'evaluate',
  ListConsentsByPatient: 'evaluate',
  GrantConsentPrivately: 'submit',
  RevokeConsentPrivately: 'submit',
  GetPrivateConsent: 'evaluate',
  ListPrivateConsents: 'evaluate',
  CheckAccess: 'evaluate',
  CheckAccessAs: 'evaluate',
  LogAccess: 'submit',
  LogAccessAs: 'submit',
  ListAccessLog: 'evaluate',
  ListAccessLogSigned: 'evaluate',
  ListRecordLabelsSigned: 'evaluate',
  BreakGlass: 'submit',
  ReviewEmergency: 'submit',
  ReviewPublicEmergency: 'submit',
  GetEmergency: 'evaluate',
  ListEmergencies: 'evaluate',
  ListRemoteConsents: 'evaluate',
  CheckRemoteConsent: 'evaluate',
  CheckRemoteAccess: 'evaluate',
  SealConsent: 'submit',
  GetSealedConsent: 'evaluate',
  DeliverSealedConsent: 'submit',
  GetSealedArrival: 'evaluate',
  ListSealedArrivals: 'evaluate',
  ListConsentSeals: 'evaluate',
  ListSealedRemoteConsents: 'evaluate',
} as const;

export class ConsentClient extends ContractClient<typeof ConsentTransactions> {
  constructor(client: FabricClient, channel: string) {
    super(client, channel, 'Consent', ConsentTransactions);
  }

  // ---------------------------------------------------------------- patients

  /** Registers a patient's public key (base64 SPKI DER, P-256) at the caller's org. */
  registerPatient(publicKey: string): Promise<Submitted<Patient>> {
    return this.submit('RegisterPatient', [publicKey]);
  }

  /**
   * Registers a patient privately at this org (chaincode/CONSENT.md "Private patients and
   * anchors"): the key goes in the transient map to this org's peers only; nothing public.
   */
  registerPatientPrivately(publicKey: string): Promise<Submitted<Patient>> {
    return this.submitPrivate('RegisterPatientPrivately', { publicKey });
  }

  /** Anchors version 1 of a record of a privately registered patient, privately at this org, with its metadata (or none). */
  anchorRecordPrivately(a: { recordId: string; patientId: string; category: string; hash: string; metadata?: RecordLabels }): Promise<Submitted<RecordAnchor>> {
    return this.submitPrivate('AnchorRecordPrivately', { recordId: a.recordId, patientId: a.patientId, category: a.category, hash: a.hash, metadata: a.metadata ?? null });
  }

  /** Anchors the next version of a record this org anchored privately; `metadata` replaces the head's (none: kept). */
  amendRecordPrivately(recordId: string, hash: string, expectedVersion: number, metadata?: RecordLabels): Promise<Submitted<RecordAnchor>> {
    return this.submitPrivate('AmendRecordPrivately', { recordId, hash, expectedVersion, metadata: metadata ?? null });
  }

  /** The exact bytes of a version of a record this org anchored privately (undefined when it anchored none). */
  async getPrivateRecordVersion(recordId: string, version: number): Promise<string | undefined> {
    const bytes = await orAbsent(this.evaluateBytes('GetPrivateRecordVersion', [recordId, String(version)]));
    return bytes?.toString('utf8');
  }

  /**
   * Replaces the patient's key with a patient.rotate-key envelope signed by the current key
   * and the new one; the patient id stays.
   *
   * @example
   *   await cc.consent.rotatePatientKey(signKeyRotation(buildKeyRotation(header, exportPublicKey(newKey)), oldKey, newKey));
   */
  rotatePatientKey(signed: SignedKeyRotation): Promise<Submitted<Patient>> {
    return this.submit('RotatePatientKey', [canonicalize(signed)]);
  }

  /** rotatePatientKey for a patient registered privately at this org: privately, at its peers. */
  rotatePatientKeyPrivately(signed: SignedKeyRotation): Promise<Submitted<Patient>> {
    return this.submitPrivate('RotatePatientKeyPrivately', { signedRotation: signed });
  }

  /** A patient: `heldPrivately` when this org registered them privately (chaincode/CONSENT.md "Private patients and anchors"). */
  getPatient(patientId: string): Promise<Patient & { heldPrivately?: true }> {
    return this.evaluate('GetPatient', [patientId]);
  }

  // ---------------------------------------------------------------- records

  /**
   * Anchors version 1 of a record the caller's org holds off chain. With consent metadata, the
   * metadata stays private to this org (chaincode/CONSENT.md "Private record metadata"): it is
   * labelled first (LabelRecord, endorsed by this org alone, in the transient map), then the anchor
   * names it by its hash (AnchorRecordLabelled): two transactions.
   */
  async anchorRecord(a: AnchorRecordArgs): Promise<Submitted<RecordAnchor>> {
    if (a.metadata === undefined) return this.submit('AnchorRecord', [a.recordId, a.patientId, a.category, a.hash]);
    await this.labelRecord(a.recordId, 1, a.metadata);
    return this.anchorRecordLabelled(a);
  }

  /**
   * Anchors the next version; only the custodian, only from `expectedVersion` (the current head).
   * With `metadata` the version states new metadata, kept private as anchorRecord keeps it (two
   * transactions); without, it keeps the head's.
   */
  async amendRecord(recordId: string, hash: string, expectedVersion: number, metadata?: RecordLabels): Promise<Submitted<RecordAnchor>> {
    if (metadata === undefined) return this.submit('AmendRecord', [recordId, hash, String(expectedVersion)]);
    await this.labelRecord(recordId, expectedVersion + 1, metadata);
    return this.amendRecordLabelled(recordId, hash, expectedVersion);
  }

  /** A record version's consent metadata, private to this org's implicit collection (sealed result: its hash). */
  labelRecord(recordId: string, version: number, metadata: RecordLabels): Promise<Submitted<RecordLabelling>> {
    return this.submitPrivate('LabelRecord', { recordId, version, metadata });
  }

  /**
   * Anchors version 1 with the metadata this org labelled for it (labelRecord). Every endorsing
   * org's peer reads the label's hash from its own ledger; one that has not yet committed the
   * labelling block answers NOT_FOUND, so the anchor is proposed again a few times before that
   * answer stands.
   */
  anchorRecordLabelled(a: Omit<AnchorRecordArgs, 'metadata'>): Promise<Submitted<RecordAnchor>> {
    return whileLabelsArrive(() => this.submit('AnchorRecordLabelled', [a.recordId, a.patientId, a.category, a.hash]));
  }

  /** Anchors the next version with the metadata this org labelled for it (labelRecord of version expectedVersion + 1). */
  amendRecordLabelled(recordId: string, hash: string, expectedVersion: number): Promise<Submitted<RecordAnchor>> {
    return whileLabelsArrive(() => this.submit('AmendRecordLabelled', [recordId, hash, String(expectedVersion)]));
  }

  /** Anchors version 1 with metadata in public state, readable by every member (records anchored before metadata was private use it). */
  anchorRecordWithPublicMetadata(a: AnchorRecordArgs & { metadata: RecordLabels }): Promise<Submitted<RecordAnchor>> {
    return this.submit('AnchorRecordWithMetadata', [a.recordId, a.patientId, a.category, a.hash, canonicalize(a.metadata)]);
  }

  /** Amends with metadata in public state (anchorRecordWithPublicMetadata). */
  amendRecordWithPublicMetadata(recordId: string, hash: string, expectedVersion: number, metadata: RecordLabels): Promise<Submitted<RecordAnchor>> {
    return this.submit('AmendRecordWithMetadata', [recordId, hash, String(expectedVersion), canonicalize(metadata)]);
  }

  /** The head's consent metadata, for this org as the record's custodian (asked of its own peer). */
  getRecordLabels(recordId: string): Promise<RecordLabelsView> {
    return this.evaluate('GetRecordLabels', [recordId]);
  }

  /** Purges the private metadata of every version of a record this org erased (Fabric PurgePrivateData). */
  purgeRecordLabels(recordId: string): Promise<Submitted<{ recordId: string; purgedVersions: number[] }>> {
    return this.submitPrivate('PurgeRecordLabels', { recordId });
  }

  getRecord(recordId: string): Promise<RecordAnchor> {
    return this.evaluate('GetRecord', [recordId]);
  }

  /** Every version of a record, oldest first, a page at a time. */
  getRecordHistory(recordId: string, page?: PageRequest): Promise<Page<RecordVersion>> {
    return this.evaluate('GetRecordHistory', [recordId, ...pageArgs(page)]);
  }

  /** The anchors (heads) of a patient's records on this chain, in (custodian, record id) order, a page at a time. */
  listRecordsByPatient(patientId: string, page?: PageRequest): Promise<Page<RecordAnchor>> {
    return this.evaluate('ListRecordsByPatient', [patientId, ...pageArgs(page)]);
  }

  /** Whether a salted hash is the anchored one, of the head or of `version`. */
  verifyRecordHash(recordId: string, hash: string, version?: number): Promise<RecordHashCheck> {
    return this.evaluate('VerifyRecordHash', [recordId, hash, version === undefined ? '' : String(version)]);
  }

  /**
   * The custodian erases a record on the patient's (or guardian's) signed record.erase request
   * (CONSENT.md "Erasure"); the anchor keeps no hash.
   *
   * @example
   *   await cc.consent.eraseRecord(signPatientMessage(buildRecordErasure(header, recordId), patientKey));
   */
  eraseRecord(signed: SignedPatientMessage<RecordErasureMessage>): Promise<Submitted<ErasedRecord>> {
    return this.submit('EraseRecord', [canonicalize(signed)]);
  }

  /** The custodian's privacy officer erases a record on a request verified out of band (`reasonCode`: ERASURE_REASONS). */
  eraseRecordOnVerifiedRequest(recordId: string, reasonCode: string): Promise<Submitted<ErasedRecord>> {
    return this.submit('EraseRecordOnVerifiedRequest', [recordId, reasonCode]);
  }

  /** eraseRecord for a record this org anchored privately: privately, at this org's peers. */
  eraseRecordPrivately(signed: SignedPatientMessage<RecordErasureMessage>): Promise<Submitted<PrivateErasure>> {
    return this.submitPrivate('EraseRecordPrivately', { signedErasure: signed });
  }

  /** eraseRecordOnVerifiedRequest for a record this org anchored privately. */
  eraseRecordPrivatelyOnVerifiedRequest(recordId: string, reasonCode: string): Promise<Submitted<PrivateErasure>> {
    return this.submitPrivate('EraseRecordPrivatelyOnVerifiedRequest', { recordId, reasonCode });
  }

  /** Whether this org anchored the record privately (live or erased). */
  isRecordHeldPrivately(recordId: string): Promise<{ recordId: string; heldPrivately: boolean; erased: boolean }> {
    return this.evaluate('IsRecordHeldPrivately', [recordId]);
  }

  /** The erasure marker of an erased record as state holds it; NOT_FOUND when it is not erased. */
  getRecordErasure(recordId: string): Promise<ErasedRecord> {
    return this.evaluate('GetRecordErasure', [recordId]);
  }

  // ---------------------------------------------------------------- guardians

  authoriseGuardian(signed: SignedPatientMessage<GuardianDelegationMessage>): Promise<Submitted<Guardian>> {
    return this.submit('AuthoriseGuardian', [canonicalize(signed)]);
  }

  /** authoriseGuardian for a patient registered privately at this org: privately, at its peers. */
  authoriseGuardianPrivately(signed: SignedPatientMessage<GuardianDelegationMessage>): Promise<Submitted<Guardian>> {
    return this.submitPrivate('AuthoriseGuardianPrivately', { signedDelegation: signed });
  }

  /** revokeGuardian for a patient registered privately at this org. */
  revokeGuardianPrivately(signed: SignedPatientMessage<GuardianRevocationMessage>): Promise<Submitted<Guardian>> {
    return this.submitPrivate('RevokeGuardianPrivately', { signedRevocation: signed });
  }

  revokeGuardian(signed: SignedPatientMessage<GuardianRevocationMessage>): Promise<Submitted<Guardian>> {
    return this.submit('RevokeGuardian', [canonicalize(signed)]);
  }

  getGuardian(patientId: string, guardianId: string): Promise<GuardianStatus> {
    return this.evaluate('GetGuardian', [patientId, guardianId]);
  }

  // ---------------------------------------------------------------- consents

  /**
   * Stores the consent of a grant signed by the patient (or an authorised guardian). A grant that
   * names its `keeper` is a private consent (chaincode/CONSENT.md "Private consents"): it goes in
   * the transient map to the keeper's peers only (GrantConsentPrivately), never into a block.
   */
  grantConsent(signed: SignedPatientMessage<ConsentGrantMessage> | SignedPatientMessage<ConsentPolicyGrantMessage>): Promise<Submitted<ConsentWithStatus>> {
    const keeper = signed.message.keeper;
    if (keeper !== undefined) return this.submitPrivate('GrantConsentPrivately', { signedGrant: signed }, {}, keeper);
    return this.submit('GrantConsent', [canonicalize(signed)]);
  }

  /** Revokes a private consent at the org that keeps it (its grant's `keeper`), privately as it was granted. */
  revokeConsentPrivately(signed: SignedPatientMessage<ConsentRevocationMessage>, keeper: string): Promise<Submitted<ConsentWithStatus>> {
    return this.submitPrivate('RevokeConsentPrivately', { signedRevocation: signed, keeper }, {}, keeper);
  }

  /** A consent: from public state, else a private consent this org keeps (NOT_FOUND when neither). */
  async findConsent(consentId: string): Promise<ConsentWithStatus> {
    return (await orAbsent(this.getConsent(consentId))) ?? this.getPrivateConsent(consentId);
  }

  /** A private consent this org keeps (read on its own peer). */
  getPrivateConsent(consentId: string): Promise<ConsentWithStatus> {
    return this.evaluate('GetPrivateConsent', [consentId]);
  }

  /** Every private consent of a patient this org keeps. */
  listPrivateConsents(patientId: string): Promise<PrivateConsents> {
    return this.evaluate('ListPrivateConsents', [patientId]);
  }

  revokeConsent(signed: SignedPatientMessage<ConsentRevocationMessage>): Promise<Submitted<ConsentWithStatus>> {
    return this.submit('RevokeConsent', [canonicalize(signed)]);
  }

  getConsent(consentId: string): Promise<ConsentWithStatus> {
    return this.evaluate('GetConsent', [consentId]);
  }

  listConsentsByPatient(patientId: string, page?: PageRequest): Promise<Page<ConsentWithStatus>> {
    return this.evaluate('ListConsentsByPatient', [patientId, ...pageArgs(page)]);
  }

  // ---------------------------------------------------------------- access

  /** The access decision at the transaction time; logs nothing. */
  checkAccess(grantee: string, recordId: string, purpose: string): Promise<AccessDecision> {
    return this.evaluate('CheckAccess', [grantee, recordId, purpose]);
  }

  /**
   * The access decision for a requester stated in full (role, practitioner, care team, policy:
   * what consent v2 provisions match on); logs nothing.
   */
  checkAccessAs(requester: Requester, recordId: string, purpose: string): Promise<AccessDecision> {
    return this.evaluate('CheckAccessAs', [canonicalize(requesterJson(requester)), recordId, purpose]);
  }

  /** LogAccess for a requester stated in full (the custodian carries what the requesting org states). */
  logAccessAs(requester: Requester, recordId: string, purpose: string, requestId = '', opts?: SubmitOptions): Promise<Submitted<LogAccessResult>> {
    return this.submitPrivate('LogAccessAs', { requester: requesterJson(requester), recordId, purpose, requestId }, opts);
  }

  /** Decides and logs an off-chain fetch of a record by `requesterOrg` (the custodian's gateway calls it). */
  logAccess(requesterOrg: string, recordId: string, purpose: string, requestId = '', opts?: SubmitOptions): Promise<Submitted<LogAccessResult>> {
    return this.submitPrivate('LogAccess', { requesterOrg, recordId, purpose, requestId }, opts);
  }

  /**
   * A private transaction (chaincode/CONSENT.md "Private by default"): the request goes in the
   * transient map with a fresh random salt, only `endorser` endorses (the org whose implicit
   * collection it writes: this client's own, or for break-glass the custodian's; fabric-gateway
   * sends the proposal, transient data included, to that org's peers only), and the sealed result
   * is opened with the salt.
   */
  private async submitPrivate<R>(
    fn:
      | 'LogAccess'
      | 'LogAccessAs'
      | 'BreakGlass'
      | 'ReviewEmergency'
      | 'LabelRecord'
      | 'PurgeRecordLabels'
      | 'GrantConsentPrivately'
      | 'RevokeConsentPrivately'
      | 'SealConsent'
      | 'DeliverSealedConsent'
      | 'RegisterPatientPrivately'
      | 'AnchorRecordPrivately'
      | 'AmendRecordPrivately'
      | 'EraseRecordPrivately'
      | 'EraseRecordPrivatelyOnVerifiedRequest'
      | 'AuthoriseGuardianPrivately'
      | 'RevokeGuardianPrivately'
      | 'RotatePatientKeyPrivately',
    request: Record<string, unknown>,
    opts: SubmitOptions = {},
    endorser = this.client.mspId,
  ): Promise<Submitted<R>> {
    const salt = randomBytes(PRIVATE_SALT_BYTES);
    const transient = { request: Buffer.from(canonicalize({ ...request, salt: salt.toString('hex') })) };
    const done = await this.submit<unknown>(fn, [], { ...opts, endorsingOrgs: [endorser], transient });
    const result = JSON.parse(openSealedResult(salt, done.txId, done.result)) as R;
    return { ...done, result };
  }

  /** A patient's (or guardian's) own read of the labels of their records this org holds, with a fresh signed records.read. */
  listRecordLabelsSigned(signed: SignedPatientMessage<RecordsReadMessage>): Promise<PatientRecordLabels> {
    return this.evaluate('ListRecordLabelsSigned', [canonicalize(signed)]);
  }

  /** A patient's access log as the caller's org may see it. */
  listAccessLog(patientId: string, page?: PageRequest): Promise<Page<AccessLogEntry>> {
    return this.evaluate('ListAccessLog', [patientId, ...pageArgs(page)]);
  }

  /** A patient's (or guardian's) own read of the access log, with a fresh signed access-log.read. */
  listAccessLogSigned(signed: SignedPatientMessage<AccessLogReadMessage>, page?: PageRequest): Promise<Page<AccessLogEntry>> {
    return this.evaluate('ListAccessLogSigned', [canonicalize(signed), ...pageArgs(page)]);
  }

  // ---------------------------------------------------------------- emergency access

  /**
   * Opens time-limited emergency access for the caller's org (a clinician). Private: sent to the
   * custodian's peers only (`custodian`, default this client's org; a record's custodian must be
   * named when it is another org's), which keep the emergency in their implicit collection.
   */
  breakGlass(a: BreakGlassArgs): Promise<Submitted<Emergency>> {
    const custodian = a.custodian ?? this.client.mspId;
    const request = {
      patientId: a.patientId,
      recordId: a.recordId ?? '',
      custodian,
      reason: a.reason,
      durationMinutes: a.durationMinutes === undefined ? '' : String(a.durationMinutes),
    };
    return this.submitPrivate('BreakGlass', request, {}, custodian);
  }

  /** A privacy officer's (or admin's) review: 'justified' or 'unjustified'; private, at the emergency's custodian (default this org). */
  reviewEmergency(emergencyId: string, outcome: string, custodian = this.client.mspId): Promise<Submitted<Emergency>> {
    return this.submitPrivate('ReviewEmergency', { emergencyId, custodian, outcome }, {}, custodian);
  }

  /** A review of an emergency opened before emergencies were private (public state). */
  reviewPublicEmergency(emergencyId: string, outcome: string): Promise<Submitted<Emergency>> {
    return this.submit('ReviewPublicEmergency', [emergencyId, outcome]);
  }

  /** One emergency, asked of its custodian's peer (default this org; '' for an older public one). */
  getEmergency(emergencyId: string, custodian = this.client.mspId): Promise<EmergencyStatus> {
    return this.evaluate('GetEmergency', [emergencyId, custodian], custodian === '' ? undefined : custodian);
  }

  /** The review queue of `custodian` (default this org), asked of its peer: what this org may review there, then older public ones. */
  listEmergencies(page?: PageRequest, custodian = this.client.mspId): Promise<Page<Emergency>> {
    return this.evaluate('ListEmergencies', [custodian, ...pageArgs(page)], custodian);
  }

  // ---------------------------------------------------------------- consents from other chains

  listRemoteConsents(grantee: string, page?: PageRequest): Promise<Page<RemoteConsentWithStatus>> {
    return this.evaluate('ListRemoteConsents', [grantee, ...pageArgs(page)]);
  }

  /** Whether a consent mirrored from `sourceChainId` is active now and covers `purpose`. */
  checkRemoteConsent(sourceChainId: string, consentId: string, purpose: string): Promise<RemoteConsentCheck> {
    return this.evaluate('CheckRemoteConsent', [sourceChainId, consentId, purpose]);
  }

  /**
   * The decision on this chain under a consent mirrored from `sourceChainId` (v1 or v2) for a
   * requester and a record as its custodian describes it; a consent v2 returns its provision path.
   *
   * @example await cc.consent.checkRemoteAccess('chain-a', consentId, { requester: { org: 'HospitalBMSP', ... }, purpose: 'TREAT', record })
   */
  checkRemoteAccess(sourceChainId: string, consentId: string, request: RemoteAccessRequest): Promise<RemoteAccessDecision> {
    return this.evaluate('CheckRemoteAccess', [sourceChainId, consentId, canonicalize({ ...request, requester: requesterJson(request.requester) })]);
  }

  // ---------------------------------------------------------------- sealed consent shares (chaincode/CONSENT.md)

  /**
   * Seals a private consent this org keeps for `destChain`, privately at this org's peers; the
   * reference then goes to CrossChain:SendPacket(destChain, 'consent.sealed', {ref}).
   */
  sealConsent(consentId: string, destChain: string): Promise<Submitted<SealedConsentShare>> {
    return this.submitPrivate('SealConsent', { consentId, destChain });
  }

  /** At the custodian: the exact bytes of a sealed consent it keeps, if it is for `requesterOrg` (ACCESS_DENIED otherwise). */
  async getSealedConsent(ref: string, requesterOrg: string): Promise<string> {
    return (await this.evaluateBytes('GetSealedConsent', [ref, requesterOrg])).toString('utf8');
  }

  /** At the grantee: delivers a sealed consent's exact bytes to this org's own mirror, privately. */
  deliverSealedConsent(sealed: string): Promise<Submitted<SealedConsentDelivery>> {
    return this.submitPrivate('DeliverSealedConsent', { sealed });
  }

  getSealedArrival(sourceChainId: string, digest: string): Promise<SealedArrival> {
    return this.evaluate('GetSealedArrival', [sourceChainId, digest]);
  }

  /** Arrivals of sealed consents from `sourceChainId`, each with whether this org delivered it. */
  listSealedArrivals(sourceChainId: string, page?: PageRequest): Promise<Page<SealedArrival & { delivered: boolean }>> {
    return this.evaluate('ListSealedArrivals', [sourceChainId, ...pageArgs(page)]);
  }

  /** At the keeper: every sealed share of a consent it keeps (which chain, grant or revocation, when, and its packet's reference), oldest first. */
  listConsentSeals(consentId: string): Promise<{ keeper: string; consentId: string; items: ConsentSeal[] }> {
    return this.evaluate('ListConsentSeals', [consentId]);
  }

  /** The consents delivered sealed to this org (read on its own peer). */
  listSealedRemoteConsents(): Promise<{ grantee: string; items: RemoteConsentWithStatus[] }> {
    return this.evaluate('ListSealedRemoteConsents', []);
  }
}

/** A private erasure's result: the marker, and the versions whose private metadata it purged in the same transaction. */
export type PrivateErasure = ErasedRecord & { purgedLabelVersions: number[] };

/** LabelRecord's result: the labelled version and the hash the anchor will name. */
export interface RecordLabelling {
  recordId: string;
  version: number;
  hash: string;
}

/** GetRecordLabels: the head's metadata and which version stated it (null: public metadata). */
export interface RecordLabelsView {
  recordId: string;
  version: number;
  labelledVersion: number | null;
  private: boolean;
  metadata: RecordLabels;
}

/** ListRecordLabelsSigned: the labels of a patient's records one custodian holds (metadata null: none). */
export interface PatientRecordLabels {
  custodian: string;
  patientId: string;
  items: Array<{ recordId: string; category: string; version: number; private: boolean; metadata: RecordLabels | null }>;
}

/** ListPrivateConsents: the private consents of a patient the calling org keeps. */
export interface PrivateConsents {
  keeper: string;
  items: ConsentWithStatus[];
}

/** How often, and how far apart, an anchor naming fresh labels is proposed while another org's peer catches up. */
const LABEL_BIND_ATTEMPTS = 10;
const LABEL_BIND_RETRY_MS = 300;

async function whileLabelsArrive<R>(send: () => Promise<Submitted<R>>): Promise<Submitted<R>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if (attempt >= LABEL_BIND_ATTEMPTS || toClientError(e).code !== 'NOT_FOUND') throw e;
      await new Promise((resolve) => setTimeout(resolve, LABEL_BIND_RETRY_MS));
    }
  }
}

/** A requester as the chaincode parses it: the fields that are set (null ones left out). */
function requesterJson(r: Requester): Record<string, string> {
  const out: Record<string, string> = { org: r.org };
  for (const k of ['role', 'practitioner', 'careTeam', 'policy'] as const) {
    const v = r[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out;
}
