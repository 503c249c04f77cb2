/**
 * What a soak run observed, as plain data: what the load submitted (the client's side) and
 * what both ledgers hold at the end (sent packets, receipts, events, escrows, access logs,
 * the relay's checkpoints). The checker (checker.ts) decides over this and nothing else, so
 * a history written by hand (a unit test) is checked exactly like a recorded one.
 */
import type { SentStatus } from '@medbridge/chaincode';

/** One send as the load generator saw it: committed, failed, or unknown (the commit status never came). */
export interface ClientSend {
  type: 'consent.grant' | 'consent.revoke';
  consentId: string;
  outcome: 'committed' | 'failed' | 'unknown';
  txId?: string;
  sequence?: number;
}

/** A packet as the source ledger holds it (CrossChain:ListPackets). */
export interface LedgerPacket {
  sequence: number;
  type: string;
  consentId?: string;
  packetHash: string;
  status: SentStatus;
  txId: string;
  /** Source transaction time of the send. */
  sentAtMs: number;
}

/** A receipt as the destination ledger holds it (CrossChain:ListReceipts). */
export interface LedgerReceipt {
  sequence: number;
  packetHash: string;
  outcome: 'success' | 'error' | 'timeout';
  /** Destination transaction time of the receive (or of the recorded timeout). */
  receivedAtMs: number;
}

/** One chaincode event of the route, from a scan of the channel's events since the run began. */
export interface RouteEvent {
  name: 'PacketSent' | 'PacketReceived' | 'PacketTimeoutRecorded' | 'PacketAcknowledged' | 'PacketTimedOut';
  sequence: number;
  blockNumber: number;
}

/** The relay's durable position on the source chain against the source's height at the end. */
export interface CheckpointObservation {
  /** Next block the relay reads (the checkpoint's blockNumber). */
  nextBlock: number;
  /** Height of the source channel when the checkpoint was read (last block + 1). */
  sourceHeight: number;
}

/** One direction of the route (packets from `source` to `dest`). */
export interface DirectionHistory {
  routeId: string;
  source: string;
  dest: string;
  sends: ClientSend[];
  sent: LedgerPacket[];
  received: LedgerReceipt[];
  /** PacketSent, PacketAcknowledged, PacketTimedOut on the source; PacketReceived, PacketTimeoutRecorded on the destination. */
  events: RouteEvent[];
  checkpoint?: CheckpointObservation;
}

/** A revocation the load sent, and whether the consent reads revoked on the chain it was sent to at the end. */
export interface RevocationObservation {
  consentId: string;
  source: string;
  dest: string;
  /** Status of the mirrored consent on `dest` at the end (CheckRemoteConsent), absent if unknown there. */
  destStatus?: string;
}

/** A packet's fee escrow on a chain with value transfer on. */
export interface EscrowObservation {
  routeId: string;
  sequence: number;
  packetStatus: SentStatus;
  escrow?: { status: 'held' | 'paid' | 'refunded'; amount: number; paidOut: number };
}

export interface ValueTotals {
  supply: number;
  /** supply - balances - stakes: what escrows hold. */
  escrowed: number;
}

export interface FeeHistory {
  chain: string;
  escrows: EscrowObservation[];
  before: ValueTotals;
  after: ValueTotals;
}

/** A record the requester received, with the access-log transaction the custodian answered with. */
export interface ServedRecord {
  patientId: string;
  recordId: string;
  txId: string;
  /** How the requester got it: straight from the custodian's record exchange, or through its hospital API (`medbridge serve`). */
  via?: 'exchange' | 'api';
}

export interface AccessLogObservation {
  patientId: string;
  recordId: string;
  txId: string;
  allowed: boolean;
}

export interface FaultRecord {
  kind: string;
  atMs: number;
  ok: boolean;
  detail: string;
}

/** One request to the hospital API (`medbridge serve`) as its client saw it. */
export interface ApiCallObservation {
  op: 'grant' | 'revoke' | 'read-consent' | 'fetch';
  /** HTTP status, absent when no answer came (connection refused or reset, or the bound passed). */
  status?: number;
  /** The `code` of an error body. */
  code?: string;
  /** No answer: `timeout` (the bound passed) or the socket error's code (ECONNREFUSED, ECONNRESET, ...). */
  transport?: string;
  ms: number;
  /** The API process was killed (api-kill) or not yet started again at some moment of the call. */
  apiDown: boolean;
}

/** A patient-signed consent.grant POSTed to /v1/consents (the same signed message on every attempt). */
export interface ApiGrantObservation {
  consentId: string;
  /**
   * acknowledged: a 201; exists: after an attempt without an answer, a retry refused as already
   * there (the earlier attempt committed); refused: a refusal before any unanswered attempt
   * (never applied); unknown: no attempt was answered.
   */
  outcome: 'acknowledged' | 'exists' | 'refused' | 'unknown';
  txId?: string;
  /** A revocation of it was acknowledged (201) by the API. */
  revoked?: boolean;
  /** Status of the consent on the ledger at the end (GetConsent), absent if not there. */
  ledgerStatus?: string;
}

/** The hospital API under the load: every call, every grant, and what the ledger says of them. */
export interface ApiHistory {
  /** An answer later than this is a hang. */
  boundMs: number;
  calls: ApiCallObservation[];
  grants: ApiGrantObservation[];
  /** ConsentGranted events of the API's patients on the API's chain during the run (consentId, tx). */
  granted: { consentId: string; txId: string }[];
}

/** How the drain after the load ended: every packet settled, or the relay stopped settling. */
export interface DrainObservation {
  complete: boolean;
  /** Packets still unsettled on the source ledgers when the drain ended. */
  openAtEnd: number;
  ms: number;
}

export interface SoakHistory {
  seed: number;
  drain?: DrainObservation;
  directions: DirectionHistory[];
  revocations: RevocationObservation[];
  fees?: FeeHistory;
  served: ServedRecord[];
  accessLog: AccessLogObservation[];
  api?: ApiHistory;
  faults: FaultRecord[];
}
