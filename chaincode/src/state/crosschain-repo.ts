/**
 * Cross-chain state (PROTOCOL.md "State"): this chain's node lists by epoch, registered
 * remote chains with their lists, routes, sent packets, receipts, acknowledgements and
 * conflict evidence. All keys come from keys.ts; values are canonical JSON.
 */
import type { ChaincodeStub } from 'fabric-shim';
import { listHash, sharedList, type VerificationNodeList } from '../protocol/node-list';
import { Memo } from '../protocol/verification-cache';
import type { OrgTrust } from '../protocol/path-proof';
import type { EvidenceRecord, ReceiptRecord, SentPacketRecord } from '../rules/delivery-rules';
import type { RouteRecord } from '../rules/route-rules';
import type { TrustPolicy } from '../rules/trust-policy';
import { key, KeyTypes, pad } from './keys';
import { getJson, listAllByPartialKey, listByPartialKey, putJson, readState, type Page } from './store';

// The records are the rules' data (rules/route-rules.ts, rules/delivery-rules.ts); stored here.
export type { RouteRecord, RouteStatus } from '../rules/route-rules';
export type { EvidenceRecord, ReceiptOutcome, ReceiptRecord, SentPacketRecord, SentStatus } from '../rules/delivery-rules';

export interface ListHead {
  epoch: number;
  listHash: string;
}

export interface RemoteChainRecord {
  chainId: string;
  orgs: OrgTrust[];
  /** Proof schemes this chain accepts from the remote. */
  schemes: string[];
  /** Latest epoch of the remote's list known here, and its hash. */
  epoch: number;
  listHash: string;
  updatedAtMs: number;
  /** When this chain adopted `epoch` (registration or epoch link); absent in older records: updatedAtMs. */
  epochAdoptedAtMs?: number;
  /** Trust floor and trusting period set by this chain's governance; absent: DEFAULT_TRUST_POLICY. */
  policy?: TrustPolicy;
}

/**
 * A node of a remote chain that verified evidence shows equivocating: from the transaction
 * that recorded it, its signatures count for nothing here (by node id and by every key it
 * held, so the same key under another node id does not count either).
 */
export interface RemoteExclusion {
  chainId: string;
  nodeId: string;
  /** Canonical identities of the keys the node held in the list the evidence was signed under. */
  keyIds: string[];
  offence: 'conflict';
  evidenceHash: string;
  routeId: string;
  sequence: number;
  reporterMspId: string;
  recordedAtMs: number;
  txId: string;
}

// --- this chain's lists

export async function getListHead(stub: ChaincodeStub): Promise<ListHead | undefined> {
  return getJson<ListHead>(stub, key(stub, KeyTypes.NodeListHead));
}

export async function getLocalList(stub: ChaincodeStub, epoch: number): Promise<VerificationNodeList | undefined> {
  return getJson<VerificationNodeList>(stub, key(stub, KeyTypes.NodeList, pad(epoch)));
}

/** This chain's list at its current epoch (undefined before the first list). */
export async function getCurrentList(stub: ChaincodeStub): Promise<VerificationNodeList | undefined> {
  const head = await getListHead(stub);
  return head ? getLocalList(stub, head.epoch) : undefined;
}

export async function putLocalList(stub: ChaincodeStub, list: VerificationNodeList): Promise<ListHead> {
  const head = { epoch: list.epoch, listHash: listHash(list) };
  await putJson(stub, key(stub, KeyTypes.NodeList, pad(list.epoch)), list);
  await putJson(stub, key(stub, KeyTypes.NodeListHead), head);
  return head;
}

// --- remote chains

export async function getRemote(stub: ChaincodeStub, chainId: string): Promise<RemoteChainRecord | undefined> {
  return getJson<RemoteChainRecord>(stub, key(stub, KeyTypes.RemoteChain, chainId));
}

export async function putRemote(stub: ChaincodeStub, record: RemoteChainRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RemoteChain, record.chainId), record);
}

export async function deleteRemote(stub: ChaincodeStub, chainId: string): Promise<void> {
  await stub.deleteState(key(stub, KeyTypes.RemoteChain, chainId));
}

export async function listRemotes(stub: ChaincodeStub): Promise<RemoteChainRecord[]> {
  return listAllByPartialKey<RemoteChainRecord>(stub, KeyTypes.RemoteChain, []);
}

/**
 * Stored remote lists by their stored text: every receive and acknowledgement reads the route's
 * remote list, and the text fixes the value, so it is parsed once and shared deep-frozen
 * (node-list.ts sharedList; its hash and lookup tables are then found by the object).
 */
const storedLists = new Memo<VerificationNodeList>(16);

export async function getRemoteList(stub: ChaincodeStub, chainId: string, epoch: number): Promise<VerificationNodeList | undefined> {
  const bytes = await readState(stub, key(stub, KeyTypes.RemoteNodeList, chainId, pad(epoch)));
  if (!bytes || bytes.length === 0) return undefined;
  return remoteListFromStored(Buffer.from(bytes).toString('utf8'));
}

/** A remote list from its stored text, as getRemoteList reads it (shared frozen, parsed once per text). */
export function remoteListFromStored(text: string): VerificationNodeList {
  return storedLists.get(text, () => sharedList(JSON.parse(text) as VerificationNodeList));
}

export async function putRemoteList(stub: ChaincodeStub, list: VerificationNodeList): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RemoteNodeList, list.chainId, pad(list.epoch)), list);
}

// --- routes and packets

/**
 * The send side of a route under its own key (KeyTypes.RouteSend), written by every send. A
 * route's record (KeyTypes.Route) keeps governance's settings and the receive side, so that an
 * acknowledgement or a receive, which read the record, never conflicts (MVCC) with a send of the
 * same block. Once a route has sent under this layout, this key is the truth for its send
 * fields; a route that has not keeps them in its record (routes opened before the split).
 */
export type RouteSendState = Pick<RouteRecord, 'nextSendSequence' | 'sendWindow' | 'updatedAtMs'>;

/** A route as a whole: its record with its send state (GetRoute, sending, governance). */
export async function getRoute(stub: ChaincodeStub, routeId: string): Promise<RouteRecord | undefined> {
  const record = await getRouteRecord(stub, routeId);
  return record && withSendState(record, await getJson<RouteSendState>(stub, key(stub, KeyTypes.RouteSend, routeId)));
}

/**
 * A route's record only, without reading its send state: what an acknowledgement, a timeout
 * or a receive needs (counterparty, status, schemes, receive side). Its send fields may lag.
 */
export async function getRouteRecord(stub: ChaincodeStub, routeId: string): Promise<RouteRecord | undefined> {
  return getJson<RouteRecord>(stub, key(stub, KeyTypes.Route, routeId));
}

function withSendState(record: RouteRecord, send: RouteSendState | undefined): RouteRecord {
  if (!send) return record;
  return { ...record, nextSendSequence: send.nextSendSequence, sendWindow: send.sendWindow, updatedAtMs: Math.max(record.updatedAtMs, send.updatedAtMs) };
}

/** Writes a route's record (governance, receive side, freeze). Its send state key, if any, stays the truth for sends. */
export async function putRoute(stub: ChaincodeStub, route: RouteRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Route, route.routeId), route);
}

/** Writes a route's send state only (every send). */
export async function putRouteSendState(stub: ChaincodeStub, routeId: string, send: RouteSendState): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RouteSend, routeId), { nextSendSequence: send.nextSendSequence, sendWindow: send.sendWindow, updatedAtMs: send.updatedAtMs });
}

/** Every route (route id order), each with its send state. */
export async function listRoutes(stub: ChaincodeStub): Promise<RouteRecord[]> {
  return withSendStates(stub, await listAllByPartialKey<RouteRecord>(stub, KeyTypes.Route, []));
}

/** The routes that lead to `counterparty` (route id order), each with its send state; the other routes' send state is not read. */
export async function listRoutesTo(stub: ChaincodeStub, counterparty: string): Promise<RouteRecord[]> {
  const records = await listAllByPartialKey<RouteRecord>(stub, KeyTypes.Route, []);
  return withSendStates(stub, records.filter((r) => r.counterparty === counterparty));
}

async function withSendStates(stub: ChaincodeStub, records: RouteRecord[]): Promise<RouteRecord[]> {
  const out: RouteRecord[] = [];
  for (const r of records) out.push(withSendState(r, await getJson<RouteSendState>(stub, key(stub, KeyTypes.RouteSend, r.routeId))));
  return out;
}

export async function getSent(stub: ChaincodeStub, routeId: string, sequence: number): Promise<SentPacketRecord | undefined> {
  return getJson<SentPacketRecord>(stub, key(stub, KeyTypes.PacketCommitment, routeId, pad(sequence)));
}

export async function putSent(stub: ChaincodeStub, record: SentPacketRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.PacketCommitment, record.packet.routeId, pad(record.packet.sequence)), record);
}

export async function listSent(stub: ChaincodeStub, routeId: string, pageSize: number, bookmark: string): Promise<Page<SentPacketRecord>> {
  return listByPartialKey<SentPacketRecord>(stub, KeyTypes.PacketCommitment, [routeId], pageSize, bookmark);
}

export async function getReceipt(stub: ChaincodeStub, routeId: string, sequence: number): Promise<ReceiptRecord | undefined> {
  return getJson<ReceiptRecord>(stub, key(stub, KeyTypes.PacketReceipt, routeId, pad(sequence)));
}

export async function putReceipt(stub: ChaincodeStub, receipt: ReceiptRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.PacketReceipt, receipt.routeId, pad(receipt.sequence)), receipt);
  await putJson(stub, key(stub, KeyTypes.AckCommitment, receipt.routeId, pad(receipt.sequence)), {
    ack: receipt.ack,
    ackHash: receipt.ackHash,
  });
}

export async function listReceipts(stub: ChaincodeStub, routeId: string, pageSize: number, bookmark: string): Promise<Page<ReceiptRecord>> {
  return listByPartialKey<ReceiptRecord>(stub, KeyTypes.PacketReceipt, [routeId], pageSize, bookmark);
}

export async function putEvidence(stub: ChaincodeStub, e: EvidenceRecord): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.Evidence, e.routeId, pad(e.sequence), e.conflictingHash), e);
}

export async function listEvidence(stub: ChaincodeStub, routeId: string): Promise<EvidenceRecord[]> {
  return listAllByPartialKey<EvidenceRecord>(stub, KeyTypes.Evidence, [routeId]);
}

// --- excluded remote nodes

export async function getExclusion(stub: ChaincodeStub, chainId: string, nodeId: string): Promise<RemoteExclusion | undefined> {
  return getJson<RemoteExclusion>(stub, key(stub, KeyTypes.RemoteExcluded, chainId, nodeId));
}

export async function putExclusion(stub: ChaincodeStub, e: RemoteExclusion): Promise<void> {
  await putJson(stub, key(stub, KeyTypes.RemoteExcluded, e.chainId, e.nodeId), e);
}

export async function listExclusions(stub: ChaincodeStub, chainId: string): Promise<RemoteExclusion[]> {
  return listAllByPartialKey<RemoteExclusion>(stub, KeyTypes.RemoteExcluded, [chainId]);
}
