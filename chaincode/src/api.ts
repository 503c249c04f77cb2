/**
 * The public entry of the chaincode package (`@medbridge/chaincode`): everything a client
 * of the chaincode needs, and nothing of how the chaincode runs.
 *
 *  - the protocol module: packets, proofs, signed messages, canonical JSON, verification,
 *    patient-signed messages, record hashes (README "Protocol", PROTOCOL.md), and the consent
 *    language with its FHIR mapping (CONSENT.md);
 *  - the error code list and the `CODE: message` wire form of errors;
 *  - the record types every transaction takes and returns, and the payload of every event,
 *    by transaction and event name (`...Result`, `...Event` types below).
 *
 * Loading this module runs no contract code (fabric-shim loads `index.ts`, not this file),
 * so a gateway, a browser bundle or a test imports it freely. Clients import from here only,
 * never from `dist/` paths: the package exports this module and nothing else.
 *
 * @example
 *   import { canonicalize, type Packet, type ReceivePacketResult } from '@medbridge/chaincode';
 */

// -------------------------------------------------------------------- errors

export { ErrorCodes, MedbridgeError, parseErrorText, type ErrorCode } from './errors';

// -------------------------------------------------------------------- protocol: encoding

export { canonicalBytes, canonicalHash, canonicalize, parseJson, sha256Hex, type Json } from './protocol/canonical-json';
export { isProtocolId, Limits } from './protocol/limits';

// -------------------------------------------------------------------- protocol: packets and signed messages

export {
  ackHash,
  isPacketType,
  packetHash,
  PacketTypes,
  parseAck,
  parsePacket,
  type Acknowledgement,
  type AckOutcome,
  type Packet,
  type PacketType,
} from './protocol/packet';
export { Domains, epochLinkMessage, packetMessage, ackMessage, privateRecordAnchorMessage, recordAnchorMessage, runRefs, type PrivateRecordAnchorRef, type RecordAnchorRef, type RunRef, type SignerListRef } from './protocol/commitment';

// -------------------------------------------------------------------- protocol: node lists, trust, proofs

export {
  findNode,
  listedNodes,
  listHash,
  nodeKeyIdentities,
  parseNodeList,
  type CrossSubgroupRule,
  type ListedNode,
  type Subgroup,
  type VerificationNode,
  type VerificationNodeList,
} from './protocol/node-list';
export { checkChainTrust, parseOrgTrust, verifyCertPath, type ChainTrust, type OrgTrust } from './protocol/path-proof';
export { parseProof, parseProofValue, type EpochLink, type Proof, type SignatureSet } from './protocol/proof';
export { knownSchemes } from './protocol/schemes';
export {
  CHAINCODE_NAME,
  ENDORSEMENT_SCHEME,
  ENDORSEMENT_VERSION,
  expectedQuery,
  type CommitmentQuery,
  type EndorsementSignature,
} from './protocol/scheme-endorsement';
export { verifyProof, type ExcludedNode, type RemoteView, type VerifiedProof } from './protocol/verify';
export { clearVerificationCaches } from './protocol/verification-cache';
export { verifyPrivateRecordAnchorAttestation, verifyRecordAnchorAttestation, type VerifiedAnchor } from './protocol/record-attestation';
export { DEFAULT_TRUST_POLICY, linkAcceptor, type PolicyHolder, type TrustPolicy } from './rules/trust-policy';

// -------------------------------------------------------------------- protocol: BLS aggregate scheme (chaincode/BLS.md)

export {
  aggregatePartials,
  BLS_CURRENT_VERSION,
  BLS_SCHEME,
  BLS_SCHEME_VERSION,
  BLS_SCHEME_VERSION_2,
  blsBackend,
  blsBackendInfo,
  blsKeyOf,
  certFingerprint,
  clearKeyCache,
  decodePublicKey,
  decodeSignature,
  deriveKeyPair,
  fromBase64,
  hashMessage,
  provePossession,
  publicKeyOf,
  signBinding,
  signMessage,
  signMessageAs,
  toBase64,
  useBlsBackend,
  type BlsBackendName,
  type BlsSchemeVersion,
  type BlsKeyPair,
  type BlsNodeKey,
  type G1Point,
  type PartialSignature,
} from './protocol/bls';

// -------------------------------------------------------------------- protocol: patients and records

export {
  buildAccessLogRead,
  buildRecordsRead,
  buildConsentGrant,
  buildConsentPolicyGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildGuardianRevocation,
  buildKeyRotation,
  buildRecordErasure,
  CONSENT_ACTIONS,
  consentIdOf,
  exportPublicKey,
  Formats,
  importPatientPublicKey,
  keyIdOf,
  parseSignedPatientMessage,
  PATIENT_MESSAGE_DOMAIN,
  PatientMessageKinds,
  patientIdOf,
  patientKeyId,
  PURPOSES_OF_USE,
  signKeyRotation,
  signPatientMessage,
  type AccessLogReadMessage,
  type ConsentAction,
  type ConsentGrantMessage,
  type ConsentPolicyGrantMessage,
  type ConsentRevocationMessage,
  type ConsentTerms,
  type GuardianDelegationMessage,
  type GuardianRevocationMessage,
  type HeaderInput,
  type KeyRotationMessage,
  type MessageHeader,
  type PatientMessage,
  type PatientMessageKind,
  type PurposeOfUse,
  type RecordErasureMessage,
  type RecordsReadMessage,
  type SignedKeyRotation,
  type SignedPatientMessage,
} from './protocol/patient-messages';
export {
  assemblePseudonymLink,
  buildPseudonymLink,
  LINK_CLOCK_SKEW_MS,
  MAX_LINK_VALIDITY_MS,
  MAX_LINKED_PSEUDONYMS,
  PSEUDONYM_LINK_DOMAIN,
  signPseudonymLink,
  verifyPseudonymLink,
  type LinkInput,
  type LinkVerifyOptions,
  type Pseudonym,
  type PseudonymLink,
  type SignedPseudonymLink,
} from './protocol/pseudonym-link';
export { MIN_SALT_BYTES, RECORD_HASH_FORMAT, recordHash } from './protocol/record-hash';
export { openSealedResult, PRIVATE_SALT_BYTES, sealResult, SEALED_RESULT_VERSION, type SealedResult } from './protocol/sealed-result';

// -------------------------------------------------------------------- consent language (v2) and its FHIR mapping (CONSENT.md)

export * from './protocol/consent-policy';
export { evaluateConsentPolicy, permittedRecipientOrgs, reachOutside, type AccessRequest, type PolicyDecision, type PolicyReason, type RecordMetadata } from './rules/consent-policy';
export {
  boundImportedPeriod,
  detectFhirVersion,
  exportFhirConsent,
  FHIR_CONSENT_ELEMENTS,
  FhirSystems,
  importFhirConsent,
  type ElementHandling,
  type FhirConsentImport,
  type FhirJson,
  type FhirVersion,
} from './protocol/fhir-consent';
export { accessLogEntryToAuditEvent, accessLogToAuditBundle, AuditSystems, type AuditableAccessEntry } from './protocol/fhir-audit-event';

// -------------------------------------------------------------------- records kept in state (as transactions return them)

import type { AccessDecision, Emergency } from './rules/access-rules';
import type { Consent, ConsentStatus, StoredConsent } from './rules/consent-rules';
import type { Guardian, Patient } from './rules/patient-rules';
import type { RecordAnchor, RecordLabels } from './rules/record-rules';
import type { RemoteConsent, StoredRemoteConsent } from './rules/remote-consent-rules';
import type { GovernanceProposal } from './contracts/governance-contract';
import type { IncentiveParams } from './rules/parameter-safety';
import type { SlashRecord } from './rules/slashing';
import type { ValueAction, ValueProposal } from './rules/value-actions';
import type { Account, MintRecord, Stake, Supply } from './rules/value-rules';
import type { Acknowledgement as Ack, AckOutcome as Outcome, Packet as Pkt } from './protocol/packet';
import type { VerificationNodeList as NodeList } from './protocol/node-list';
import type { RemoteChainRecord, RemoteExclusion, SentStatus } from './state/crosschain-repo';
import type { MemberSet } from './state/governance-repo';
import type { TrustPolicy as Policy } from './rules/trust-policy';
import type { Role } from './contracts/tx-context';

export type { AccessDecision, AccessReason, Emergency, Requester } from './rules/access-rules';
export type { Consent, ConsentStatus, PolicyConsent, SignedBy, StoredConsent } from './rules/consent-rules';
export { ANY_GRANTEE, isPolicyConsent, keeperOf } from './rules/consent-rules';
export type { Guardian, KeyRotation, Patient, SignerAuthority } from './rules/patient-rules';
export type { ErasedRecord, ErasureReason, RecordAnchor, RecordLabels, RecordVersion } from './rules/record-rules';
export { ERASURE_REASONS } from './rules/record-rules';
export type { RemoteConsent, RemotePolicyConsent, StoredRemoteConsent } from './rules/remote-consent-rules';
export type { RemoteAccessDecision, RemoteAccessRequest } from './rules/remote-access-rules';
export { isRemotePolicyConsent } from './rules/remote-consent-rules';
export type { ConsentSeal, SealedArrival, SealedConsent, SealedConsentRef } from './rules/sealed-consent-rules';
export { parseSealedConsent, parseSealedConsentRef, sealedRefOf, SEALED_CONSENT_FORMAT, SEALED_CONSENT_REF_FORMAT } from './rules/sealed-consent-rules';
export type { AccessLogEntry } from './contracts/consent-contract';
export type { GovernanceProposal } from './contracts/governance-contract';
export type { GovernanceAction } from './rules/governance-actions';
export type { RateLimit, RateWindow } from './rules/route-rules';
export type { IncentiveParams } from './rules/parameter-safety';
export type { Evidence, Offence, SlashRecord } from './rules/slashing';
export type { ValueAction, ValueProposal } from './rules/value-actions';
export type { Account, AccountId, Escrow, MintRecord, Payout, Stake, Supply, UnbondingEntry } from './rules/value-rules';
export type {
  EvidenceRecord,
  ListHead,
  ReceiptOutcome,
  ReceiptRecord,
  RemoteChainRecord,
  RemoteExclusion,
  RouteRecord,
  RouteStatus,
  SentPacketRecord,
  SentStatus,
} from './state/crosschain-repo';
/** How the chaincode reads a stored remote list (benchmarks time the verifier with it). */
export { remoteListFromStored } from './state/crosschain-repo';
export type { MemberSet } from './state/governance-repo';
export type { Page } from './state/store';
export type { Role } from './contracts/tx-context';

// -------------------------------------------------------------------- transaction arguments

/** Paging arguments of every `List...` transaction: pageSize '' = the contract's default. */
export interface PageRequest {
  pageSize?: number;
  /** The `bookmark` of the previous page; '' (default) = the first page. */
  bookmark?: string;
}

/** `Consent:AnchorRecord` arguments: version 1 of a record held by the caller's org. */
export interface AnchorRecordArgs {
  recordId: string;
  patientId: string;
  /** FHIR R4 resource type, e.g. Observation. */
  category: string;
  /** Salted SHA-256 of the content, hex (recordHash). */
  hash: string;
  /** Consent v2 metadata (CONSENT.md "Record metadata"); absent: a label-less anchor. */
  metadata?: RecordLabels;
}

/** `Consent:BreakGlass` request (private: sent in the transient map to the custodian's peers). */
export interface BreakGlassArgs {
  patientId: string;
  /** One record, or '' / absent for every record of the patient that `custodian` holds. */
  recordId?: string;
  /**
   * The org whose records it opens, which holds and enforces the emergency: needed without a
   * record; with one, absent or the record's custodian. The client sends the request to its peers.
   */
  custodian?: string;
  reason: string;
  /** Absent: 240 minutes; at most 1440. */
  durationMinutes?: number;
}

/** `CrossChain:SendPacket` argsJson. */
export type SendPacketArgs = {
  /** Needed when several routes lead to the destination. */
  routeId?: string;
  /** Default 1 h; 1000 ms .. 30 days. */
  timeoutAfterMs?: number;
} & ({ consentId: string; payload?: never; ref?: never } | { payload: unknown; consentId?: never; ref?: never } | { ref: string; consentId?: never; payload?: never });

/** A signature over a packet commitment, as slashing evidence carries it (INCENTIVES.md "Evidence"). */
export interface SignedCommitment {
  packet: Pkt;
  /** Epoch of the signing chain's list whose node signed. */
  epoch: number;
  proof: { scheme: string; version: number; signatures: unknown; intermediates?: string[] };
}

/** `Incentive:SubmitEvidence` / `CrossChain:SubmitRemoteEvidence` evidenceJson. */
export type SlashingEvidence =
  | { kind: 'conflict'; nodeId: string; a: SignedCommitment; b: SignedCommitment }
  | { kind: 'uncommitted'; nodeId: string; signed: SignedCommitment };

// -------------------------------------------------------------------- transaction results (Consent)

/** A consent with its status at the transaction time (`GetConsent`, `GrantConsent`, `RevokeConsent`, `ListConsentsByPatient`). */
export type ConsentWithStatus = StoredConsent & { effectiveStatus: ConsentStatus };
/** A mirrored consent (v1 terms or a consent v2 policy) with its status at the transaction time (`ListRemoteConsents`). */
export type RemoteConsentWithStatus = StoredRemoteConsent & { effectiveStatus: ConsentStatus };

/** `Consent:SealConsent`: what was sealed (CONSENT.md "Sealed consent shares"); `ref` goes in SendPacket's argsJson. */
export interface SealedConsentShare {
  ref: string;
  /** SHA-256 of the sealed value's bytes: what the consent.sealed packet carries. */
  digest: string;
  type: 'consent.grant' | 'consent.revoke';
  destChain: string;
  consentId: string;
}

/** `Consent:DeliverSealedConsent`'s result: the mirror's summary, as a public consent packet's acknowledgement says. */
export interface SealedConsentDelivery {
  consentId: string;
  grantee?: string;
  grantees?: string[];
  sourceChain: string;
  status: 'active' | 'revoked';
  version: number;
}
/** `GetGuardian`: the guardian and whether the delegation is in force now. */
export type GuardianStatus = Guardian & { active: boolean };
/** `GetEmergency`: the emergency and whether it is open now. */
export type EmergencyStatus = Emergency & { active: boolean };

/** `VerifyRecordHash`. */
export interface RecordHashCheck {
  recordId: string;
  version: number;
  headVersion: number;
  match: boolean;
}

/** `LogAccess`: the logged decision, and the anchored head the custodian may release. */
export type LogAccessResult = AccessDecision & {
  recordId: string;
  hash: string;
  version: number;
  txId: string;
  /** Present (true) when the record is anchored privately (CONSENT.md "Private patients and anchors"): its attestation is of the private anchor. */
  heldPrivately?: true;
};

/** `CheckRemoteConsent`. */
export interface RemoteConsentCheck {
  allowed: boolean;
  reason: string;
  status: ConsentStatus;
  sourceChain: string;
  consentId: string;
  version: number;
  grantee: string;
  patientId: string;
  scope: RemoteConsent['terms']['scope'];
  period: RemoteConsent['terms']['period'];
}

// -------------------------------------------------------------------- transaction results (CrossChain)

/** `GetNodeList`. */
export interface NodeListAt {
  epoch: number;
  listHash: string;
  list: NodeList;
}

/** `GetRemoteChain`: the registration, its policy in force, exclusions here and its latest list. */
export type RemoteChainView = RemoteChainRecord & {
  policy: Policy;
  excluded: Array<Pick<RemoteExclusion, 'nodeId' | 'keyIds'>>;
  list: NodeList;
};

/** `SendPacket`, and the `PacketSent` event. */
export interface SendPacketResult {
  routeId: string;
  sequence: number;
  packetHash: string;
  packet: Pkt;
}

/** `CrossChain:SendPackets`, and the `PacketsSent` event: each send's result, in the order sent. */
export interface SendPacketsResult {
  items: SendPacketResult[];
}

/** `CrossChain:GrantAndSend`: the consent it stored and the packet that carries it (PacketSent's payload). */
export interface GrantAndSendResult {
  consent: ConsentWithStatus;
  sent: SendPacketResult;
}

/** `ReceivePacket` / `RecordTimeout` when the packet was taken, and the `PacketReceived` / `PacketTimeoutRecorded` events. */
export interface PacketAccepted {
  routeId: string;
  sequence: number;
  outcome: Outcome;
  ack: Ack;
  ackHash: string;
  signers: string[];
  epoch: number;
}

/** `AcknowledgePacket` / `TimeoutPacket` when the packet settled, and the `PacketAcknowledged` / `PacketTimedOut` events. */
export interface PacketSettled {
  routeId: string;
  sequence: number;
  status: SentStatus;
  outcome: Outcome;
  signers: string[];
  epoch: number;
}

/** Conflicting, validly signed evidence froze the route (the transaction commits); the `RouteFrozen` event. */
export interface RouteFrozen {
  routeId: string;
  sequence: number;
  outcome: 'frozen';
  reason: string;
  knownHash: string;
  conflictingHash: string;
  signers: string[];
}

export type ReceivePacketResult = PacketAccepted | RouteFrozen;
export type AcknowledgePacketResult = PacketSettled | RouteFrozen;

/**
 * `ReceivePackets` / `AcknowledgePackets` when the batch applied, and their `PacketsReceived` /
 * `PacketsAcknowledged` events: one item per packet, each what the single transaction returns
 * and emits (a Fabric transaction carries one event; clients read each item as its own
 * `PacketReceived` / `PacketAcknowledged`, gateway/src/fabric/contracts/events.ts).
 */
export interface BatchApplied<T> {
  routeId: string;
  fromSequence: number;
  count: number;
  items: T[];
}
export type ReceivePacketsResult = BatchApplied<PacketAccepted> | RouteFrozen;
export type AcknowledgePacketsResult = BatchApplied<PacketSettled> | RouteFrozen;

// -------------------------------------------------------------------- transaction results (Incentive)

/** `GetParams`: the parameters in force, and whether governance switched value transfer on. */
export interface ParamsInForce {
  active: boolean;
  params: IncentiveParams;
}

/** `GetStake`. */
export type StakeStatus = Stake & { countsAsSigner: boolean; slash: SlashRecord | null };

/** `Transfer`, and the `ValueTransferred` event. */
export interface TransferResult {
  from: Account;
  to: Account;
  amount: number;
  txId: string;
}

/** `Deposit` / `Unbond`, and the `StakeDeposited` / `StakeUnbonding` events. */
export interface StakeChange {
  stake: Stake;
  amount: number;
}

/** `Withdraw`, and the `StakeWithdrawn` event. */
export interface StakeWithdrawal {
  stake: Stake;
  owner: Account;
  amount: number;
}

// -------------------------------------------------------------------- transaction results (System)

/** `System:Ping`. */
export interface PingResult {
  channel: string;
  mspId: string;
  role: Role;
  txTimeMs: number;
}

/** `System:Version`. */
export interface ChaincodeVersion {
  chaincode: string;
  version: string;
}

/** `System:Heartbeat`, `LastHeartbeat` and the `Heartbeat` event. */
export interface HeartbeatRecord {
  mspId: string;
  note: string;
  txId: string;
  txTimeMs: number;
}

// -------------------------------------------------------------------- events (name -> payload)

/** `RecordAnchored` / `RecordAmended`. */
export type RecordEvent = Pick<RecordAnchor, 'recordId' | 'patientId' | 'custodian' | 'category' | 'version' | 'hash' | 'txId'>;

/** `ConsentGranted` / `ConsentRevoked`. */
export interface ConsentEvent {
  consentId: string;
  patientId: string;
  /** The grantee org of a v1 consent; null for a consent v2 (see `grantees`). */
  grantee: string | null;
  /** Consent v2 only: the orgs its permits can reach, or ['*'] for every org. */
  grantees?: string[];
  status: Consent['status'];
  version: number;
  chainId: string;
  periodEnd: number;
  txId: string;
}

/**
 * Every event the chaincode emits, by name. A transaction emits at most one; its payload
 * is canonical JSON of the type given here.
 */
export interface ChaincodeEvents {
  // System
  Heartbeat: HeartbeatRecord;
  // Consent
  PatientRegistered: { patientId: string; org: string; registeredBy: Patient['registeredBy']; txId: string };
  PatientKeyRotated: { patientId: string; retiredKeyId: string; keyId: string; txId: string };
  RecordAnchored: RecordEvent;
  RecordAmended: RecordEvent;
  /** No patient id and no hash: the event outlives the anchor it erased (CONSENT.md "Erasure"). */
  RecordErased: { recordId: string; erasedBy: string; versions: number; basis: 'patient-signed' | 'verified-request'; reasonCode: string | null; txId: string };
  GuardianAuthorised: { patientId: string; guardianId: string; notAfter: number; txId: string };
  GuardianRevoked: { patientId: string; guardianId: string; txId: string };
  ConsentGranted: ConsentEvent;
  ConsentRevoked: ConsentEvent;
  /** The transaction only: the decision is private to the custodian (CONSENT.md "Private by default"). */
  AccessLogged: { txId: string };
  /** Private (CONSENT.md "Private break-glass"): the transaction only; its parties read the rest at the custodian. */
  EmergencyOpened: { txId: string };
  EmergencyReviewed: { txId: string };
  // Governance
  Bootstrapped: MemberSet;
  GovernanceProposal: Pick<GovernanceProposal, 'proposalId' | 'actionHash' | 'approvals' | 'status'> & { kind: GovernanceProposal['action']['kind'] };
  // CrossChain
  PacketSent: SendPacketResult;
  PacketsSent: SendPacketsResult;
  PacketReceived: PacketAccepted;
  PacketTimeoutRecorded: PacketAccepted;
  PacketAcknowledged: PacketSettled;
  PacketTimedOut: PacketSettled;
  PacketsReceived: BatchApplied<PacketAccepted>;
  PacketsAcknowledged: BatchApplied<PacketSettled>;
  RouteFrozen: RouteFrozen;
  RemoteNodeExcluded: RemoteExclusion;
  // Incentive
  ValueTransferred: TransferResult;
  StakeDeposited: StakeChange;
  StakeUnbonding: StakeChange;
  StakeWithdrawn: StakeWithdrawal;
  NodeSlashed: SlashRecord;
  ValueProposal: Pick<ValueProposal, 'proposalId' | 'approvals' | 'status'> & { kind: ValueAction['kind'] };
  Minted: { proposalId: string; approvals: string[]; record: MintRecord; supply: Supply };
  ParamsSet: { proposalId: string; approvals: string[]; params: IncentiveParams };
  TreasuryTransferred: { proposalId: string; approvals: string[]; to: string; amount: number };
}

export type ChaincodeEventName = keyof ChaincodeEvents;

/** Every event name, in the order of `ChaincodeEvents` (a client's allowlist). */
export const ChaincodeEventNames = [
  'Heartbeat',
  'PatientRegistered',
  'PatientKeyRotated',
  'RecordAnchored',
  'RecordAmended',
  'RecordErased',
  'GuardianAuthorised',
  'GuardianRevoked',
  'ConsentGranted',
  'ConsentRevoked',
  'AccessLogged',
  'EmergencyOpened',
  'EmergencyReviewed',
  'Bootstrapped',
  'GovernanceProposal',
  'PacketSent',
  'PacketsSent',
  'PacketReceived',
  'PacketTimeoutRecorded',
  'PacketAcknowledged',
  'PacketTimedOut',
  'PacketsReceived',
  'PacketsAcknowledged',
  'RouteFrozen',
  'RemoteNodeExcluded',
  'ValueTransferred',
  'StakeDeposited',
  'StakeUnbonding',
  'StakeWithdrawn',
  'NodeSlashed',
  'ValueProposal',
  'Minted',
  'ParamsSet',
  'TreasuryTransferred',
] as const satisfies readonly ChaincodeEventName[];

// The list above names every event: this fails to compile when one is missing.
type _Holds<T extends true> = T;
type _EveryEventListed = _Holds<[Exclude<ChaincodeEventName, (typeof ChaincodeEventNames)[number]>] extends [never] ? true : false>;
