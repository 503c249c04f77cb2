/**
 * Every ledger key medbridge writes is built here, as a Fabric composite key whose
 * object type names the entity. One place, so no two entities can collide and a
 * reviewer sees the whole state layout at a glance (README "State layout").
 */
import type { ChaincodeStub } from 'fabric-shim';

export const KeyTypes = {
  // channel configuration and governance
  Members: 'mb.members', // () -> MemberSet
  Proposal: 'mb.proposal', // (proposalId) -> GovernanceProposal
  Heartbeat: 'mb.heartbeat', // (mspId) -> last System.Heartbeat
  // patients, records, consent
  Patient: 'mb.patient', // (patientId)
  Guardian: 'mb.guardian', // (patientId, guardianId)
  PatientNonce: 'mb.nonce', // (signerId, nonce) -> used marker
  PatientKey: 'mb.patient-key', // (keyId) -> {patientId} for every key a patient rotated to
  Record: 'mb.record', // (recordId) -> RecordAnchor (head), or ErasedRecord once erased (no hash, no patient)
  RecordVersion: 'mb.recordver', // (recordId, version padded)
  RecordByCustodian: 'mb.record-by-custodian', // (patientId, custodian, recordId) -> {recordId}
  RecordLabels: 'mb.record-labels', // in the custodian's implicit collection: (recordId, version padded) -> PrivateRecordLabels (with its salt)
  Consent: 'mb.consent', // (consentId)
  ConsentByPatient: 'mb.consent-by-patient', // (patientId, consentId)
  // What an access decision reads is named by (patient, record) only, never by who asks (CONSENT.md
  // "State"). Grantee-first indexes of earlier versions (mb.consent-by-grantee, mb.consent-by-scope,
  // mb.consent-scopes-indexed, mb.policy-consent-by-grantee) are no longer written or read.
  ConsentByPatientScope: 'mb.consent-by-patient-scope', // (patientId, scope, consentId) -> {consentId}: v1 consents of any grantee; scope record:<id> | category:<type>
  PolicyConsentByPatient: 'mb.policy-consent-by-patient', // (patientId, consentId) -> {consentId}: the consents v2 of a patient
  PatientConsentsIndexed: 'mb.patient-consents-indexed', // (patientId) -> marker: every consent of the patient is in the two indexes above
  PrivateConsentIndex: 'mb.consent-private-index', // in the keeper's implicit collection: (patientId) -> PrivateConsentIndex (with its salt); the private consents themselves under Consent, their nonces under PatientNonce
  RemoteConsent: 'mb.remote-consent', // (sourceChain, consentId)
  AccessLog: 'mb.access', // (patientId, txTime padded, txId)
  Emergency: 'mb.emergency', // (emergencyId)
  EmergencyByPatient: 'mb.emergency-by-patient', // public: (patientId, org, emergencyId) -> {emergencyId}; in a custodian's collection, written before EmergencyIdsOfPatient: (patientId, org) -> {emergencyIds, salt}
  EmergencyIdsOfPatient: 'mb.emergency-ids-of-patient', // in a custodian's collection: (patientId) -> {emergencyIds (every opening org's), salt}
  RemoteConsentByGrantee: 'mb.remote-consent-by-grantee', // (granteeOrg, sourceChain, consentId) -> {sourceChain, consentId}
  SealedConsent: 'mb.sealed-consent', // in the custodian's implicit collection: (ref) -> SealedConsent (CONSENT.md "Sealed consent shares")
  ConsentSeal: 'mb.consent-seal', // in the custodian's implicit collection: (consentId, ref) -> ConsentSeal: each sealed share of a consent, for the patient's view and a revocation's carrying
  SealedDelivered: 'mb.sealed-delivered', // in a grantee's implicit collection: (sourceChain, digest) -> {consentId, txId, salt}: this org delivered that arrival
  SealedArrival: 'mb.sealed-arrival', // public, on the destination: (sourceChain, digest) -> SealedArrival; a grantee's delivered mirror is under RemoteConsent in its own implicit collection
  // cross-chain
  NodeList: 'mb.nodelist', // (epoch padded) -> VerificationNodeList of this chain
  NodeListHead: 'mb.nodelist-head', // () -> current epoch of this chain
  EpochLink: 'mb.epochlink', // (toEpoch padded)
  RemoteChain: 'mb.remote', // (chainId)
  RemoteNodeList: 'mb.remote-nodelist', // (chainId, epoch padded)
  Route: 'mb.route', // (routeId) -> RouteRecord: governance's settings and the receive side
  RouteSend: 'mb.route-send', // (routeId) -> RouteSendState: the send side, written by every send (its own key: acks and receives do not read it)
  PacketCommitment: 'mb.pkt', // (routeId, sequence padded)
  PacketReceipt: 'mb.receipt', // (routeId, sequence padded)
  AckCommitment: 'mb.ack', // (routeId, sequence padded)
  Evidence: 'mb.evidence', // (routeId, sequence padded, evidenceHash)
  RemoteExcluded: 'mb.remote-excluded', // (chainId, nodeId) -> RemoteExclusion (verified equivocation)
  // value transfer
  Account: 'mb.account', // (accountId)
  Credit: 'mb.credit', // (accountId, routeId, sequence padded) -> Credit: a reward not yet folded into the account
  AccountOpened: 'mb.account-opened', // (accountId) -> {account}: written once, when the account record first exists; read by payouts instead of the record
  Stake: 'mb.stake', // (nodeId)
  Escrow: 'mb.escrow', // (routeId, sequence padded)
  Supply: 'mb.supply', // ()
  Params: 'mb.params', // ()
  MintLog: 'mb.mint', // (seq padded) -> MintRecord
  Slash: 'mb.slash', // (nodeId) -> SlashRecord
  ValueProposal: 'mb.value-proposal', // (proposalId) -> governance proposal for Mint/SetParams/treasury spends
} as const;

export type KeyType = (typeof KeyTypes)[keyof typeof KeyTypes];

/** Fixed-width decimal so that lexical key order is numeric order. */
export function pad(n: number, width = 16): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cannot pad ${n}`);
  return n.toString().padStart(width, '0');
}

export function key(stub: ChaincodeStub, type: KeyType, ...parts: string[]): string {
  return stub.createCompositeKey(type, parts);
}
