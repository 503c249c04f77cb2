/**
 * CrossChain: packets between consortium chains, verified by threshold proofs of the
 * source's verification nodes (PROTOCOL.md). Thin surface: parse and authorise, load
 * state, let protocol/verify.ts and rules/ decide, then write and emit one event.
 *
 * Source side:      SendPacket, GetPacketCommitment (what source peers endorse), GetPacket,
 *                   ListPackets, AcknowledgePacket, TimeoutPacket; GetPacketBatchCommitment and
 *                   AcknowledgePackets for batches.
 * Destination side: ReceivePacket, RecordTimeout, GetAckCommitment (what destination peers
 *                   endorse), GetReceipt, ListReceipts; GetAckBatchCommitment and
 *                   ReceivePackets for batches.
 * Both:             GetNodeList, GetEpochLinkMessage, GetRemoteChain, GetRoute, ListRoutes,
 *                   SubmitRemoteEvidence, ListRemoteExclusions (equivocating remote nodes),
 *                   GetRecordAnchorAttestation (record anchors for requesters on other chains).
 */
import { Context, Info, Transaction } from 'fabric-contract-api';
import { MedbridgeContract } from './medbridge-contract';
import { fail } from '../errors';
import { canonicalize, parseJson, type Json } from '../protocol/canonical-json';
import { ackBatchMessage, ackMessage, ackRunsMessage, acksMessage, epochLinkMessage, packetBatchMessage, packetMessage, packetRunsMessage, packetsMessage, privateRecordAnchorMessage, recordAnchorMessage, runsOf, type SignerListRef } from '../protocol/commitment';
import { asObject, reqInt } from '../protocol/fields';
import { Limits } from '../protocol/limits';
import { listHash, nodeKeyIdentities, type VerificationNodeList } from '../protocol/node-list';
import { isPacketType, packetHash, parseAck, parsePacket, parsePacketHashed, type Acknowledgement, type Packet, type PacketType } from '../protocol/packet';
import { parseProof } from '../protocol/proof';
import { verifyProof, type VerifiedProof } from '../protocol/verify';
import {
  acknowledgementOf,
  decideReceive,
  decideSettle,
  freeze,
  receiptOf,
  routeAfterReceive,
  settled,
  type Conflict,
  type ReceiveDecision,
  type SettleDecision,
} from '../rules/delivery-rules';
import { batchRefusal, decideReceiveBatch, decideSettleBatch, type BatchReceiveStep, type SettleBatchDecision } from '../rules/batch-rules';
import { consumeRate, requireRouteUsable } from '../rules/route-rules';
import { judgeEvidence } from '../rules/slashing';
import { DEFAULT_TRUST_POLICY, linkAcceptor } from '../rules/trust-policy';
import { getRecord, getRecordVersion, implicitCollection, privateRecordVersionHash } from '../state/consent-repo';
import * as repo from '../state/crosschain-repo';
import { withOwnWrites } from '../state/own-writes';
import { getMemberSet, type MemberSet } from '../state/governance-repo';
import { storeGrant } from './consent-contract';
import { buildConsentPacket, consentPacketTo, sealedConsentPayload } from './consent-bridge';
import { runHooks } from './crosschain-hooks';
import { readRemoteEvidence } from './incentive-evidence';
import { dispatchPacket } from './packet-handlers';
import { checkFields, emitReturning, parsePageSize, parseSequence, requireId, requireMemberRole, txTimeMs, type Caller } from './tx-context';

export const DEFAULT_TIMEOUT_AFTER_MS = 3_600_000;
export const MAX_TIMEOUT_AFTER_MS = 30 * 86_400_000;

/** A member (client or admin) of this chain. */
async function caller(ctx: Context): Promise<Caller> {
  return requireMemberRole(ctx, 'member');
}

/** Fails with the refusal of a decision that stops the transaction (duplicate, refuse). */
function refuseUnlessGoing<D extends ReceiveDecision | SettleDecision>(d: D): Exclude<D, { kind: 'duplicate' | 'refuse' }> {
  if (d.kind === 'duplicate' || d.kind === 'refuse') fail(d.refusal.code, d.refusal.message);
  return d as Exclude<D, { kind: 'duplicate' | 'refuse' }>;
}

/** A route with its send state (GetRoute, sending). */
async function mustRoute(ctx: Context, routeId: string): Promise<repo.RouteRecord> {
  const route = await repo.getRoute(ctx.stub, routeId);
  if (!route) fail('ROUTE_NOT_OPEN', `route ${routeId} does not exist on this chain`);
  return route;
}

/** A route's record without its send state (receive, acknowledge, timeout): no MVCC conflict with a send in the same block. */
async function mustRouteRecord(ctx: Context, routeId: string): Promise<repo.RouteRecord> {
  const route = await repo.getRouteRecord(ctx.stub, routeId);
  if (!route) fail('ROUTE_NOT_OPEN', `route ${routeId} does not exist on this chain`);
  return route;
}

async function localHead(ctx: Context): Promise<repo.ListHead> {
  const head = await repo.getListHead(ctx.stub);
  if (!head) fail('NOT_FOUND', 'this chain has no verification node list yet; governance must set one');
  return head;
}

interface RemoteState {
  record: repo.RemoteChainRecord;
  list: VerificationNodeList;
  excluded: repo.RemoteExclusion[];
}

/** What this chain trusts about a remote chain, as the verifier wants it. */
async function remoteView(ctx: Context, chainId: string): Promise<RemoteState> {
  const record = await repo.getRemote(ctx.stub, chainId);
  if (!record) fail('UNKNOWN_CHAIN', `${chainId} is not a registered remote chain`);
  const list = await repo.getRemoteList(ctx.stub, chainId, record.epoch);
  if (!list) fail('UNKNOWN_CHAIN', `no node list of ${chainId} at epoch ${record.epoch}`);
  return { record, list, excluded: await repo.listExclusions(ctx.stub, chainId) };
}

function verifyAgainst(
  routes: readonly repo.RouteRecord[],
  remote: RemoteState,
  proofJson: string,
  atMs: number,
  message: Parameters<typeof verifyProof>[3],
): VerifiedProof {
  const proof = parseProof(proofJson);
  // A route registered with its own schemes accepts only those (epoch links stay chain-wide);
  // a proof over several routes must be one that each of them accepts.
  for (const route of routes) {
    if (route.schemes !== undefined && !route.schemes.includes(proof.scheme)) {
      fail('UNSUPPORTED_SCHEME', `route ${route.routeId} accepts proof schemes ${route.schemes.join(', ')}, not ${proof.scheme}`);
    }
  }
  return verifyProof(
    {
      trust: { chainId: remote.record.chainId, orgs: remote.record.orgs },
      list: remote.list,
      schemes: remote.record.schemes,
      excluded: remote.excluded,
      acceptLink: linkAcceptor(remote.record),
    },
    proof,
    atMs,
    message,
  );
}

/** Stores remote lists learned through epoch links (only after the whole proof verified). */
async function storeNewLists(ctx: Context, record: repo.RemoteChainRecord, verified: VerifiedProof, now: number): Promise<void> {
  if (verified.newLists.length === 0) return;
  for (const list of verified.newLists) await repo.putRemoteList(ctx.stub, list);
  const last = verified.list;
  await repo.putRemote(ctx.stub, { ...record, epoch: last.epoch, listHash: listHash(last), updatedAtMs: now, epochAdoptedAtMs: now });
}

/** argsJson as an object with only `allowed` fields (INVALID_ARGUMENT otherwise). */
function argsObject(argsJson: string, allowed: string[]): Record<string, Json> {
  return argsOf(parseJson(argsJson, 'argsJson') as Json, allowed, 'argsJson');
}

function argsOf(args: Json, allowed: string[], what: string): Record<string, Json> {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) fail('INVALID_ARGUMENT', `${what} must be an object`);
  const a = args as Record<string, Json>;
  checkFields(a, allowed, what);
  return a;
}

/** The fields SendPacket's argsJson may carry. */
const SEND_ARGS = ['routeId', 'timeoutAfterMs', 'consentId', 'payload', 'ref'];

/**
 * SendPacket's checks and writes, without its event: the route (named, or the only one to
 * `destChain`), the packet type and timeout, the payload (a consent's from the ledger, or a
 * ping's), the send rate; stores the packet commitment and the route's send state.
 */
async function sendPacket(
  ctx: Context,
  who: Caller,
  destChain: string,
  type: PacketType,
  a: Record<string, Json>,
  built?: { type: string; payload: Json },
): Promise<{ routeId: string; sequence: number; packetHash: string; packet: Packet }> {
  const set = await getMemberSet(ctx.stub);
  let route: repo.RouteRecord;
  if (a.routeId !== undefined) {
    route = await mustRoute(ctx, requireId(String(a.routeId), 'routeId'));
    if (route.counterparty !== destChain) fail('WRONG_DESTINATION', `route ${route.routeId} leads to ${route.counterparty}, not ${destChain}`);
  } else {
    const routes = await repo.listRoutesTo(ctx.stub, destChain);
    if (routes.length === 0) fail('ROUTE_NOT_OPEN', `no route to ${destChain}`);
    if (routes.length > 1) fail('INVALID_ARGUMENT', `several routes lead to ${destChain}; name one in argsJson.routeId`);
    route = routes[0]!;
  }
  requireRouteUsable(route);
  if (!route.packetTypes.includes(type)) fail('PACKET_TYPE_NOT_ALLOWED', `route ${route.routeId} does not carry ${type} packets`);

  const timeoutAfter = a.timeoutAfterMs ?? DEFAULT_TIMEOUT_AFTER_MS;
  if (typeof timeoutAfter !== 'number' || !Number.isSafeInteger(timeoutAfter) || timeoutAfter < 1000 || timeoutAfter > MAX_TIMEOUT_AFTER_MS) {
    fail('INVALID_ARGUMENT', `timeoutAfterMs must be an integer in 1000..${MAX_TIMEOUT_AFTER_MS}`);
  }

  let payload: Json;
  if (built) {
    if (built.type !== type) fail('INVALID_ARGUMENT', `the consent is carried as ${built.type}, not ${type}`);
    payload = built.payload;
  } else if (type === 'consent.sealed') {
    payload = await sealedConsentPayload(ctx, who, a);
  } else if (type === 'ping') {
    if (a.consentId !== undefined || a.ref !== undefined || a.payload === undefined) fail('INVALID_ARGUMENT', 'a ping carries argsJson.payload and no consentId or ref');
    payload = a.payload;
  } else {
    if (a.payload !== undefined || a.ref !== undefined || typeof a.consentId !== 'string') fail('INVALID_ARGUMENT', `a ${type} packet names argsJson.consentId; its payload comes from the ledger`);
    const built = await buildConsentPacket(ctx, a.consentId, destChain);
    if (built.type !== type) fail('INVALID_ARGUMENT', `consent ${a.consentId} is currently carried as ${built.type}, not ${type}`);
    payload = built.payload;
  }

  const now = txTimeMs(ctx);
  const sendWindow = consumeRate(route.rateLimit, route.sendWindow, now, `route ${route.routeId} (send)`);
  const { packet, packetHash: hash } = parsePacketHashed({
    sourceChain: set.chainId,
    destChain,
    routeId: route.routeId,
    sequence: route.nextSendSequence,
    type,
    payload,
    timeoutMs: now + timeoutAfter,
    sentAtMs: now,
    sender: who.mspId,
  });
  await runHooks('onSend', ctx, { packet, packetHash: hash, submitter: { id: who.id, mspId: who.mspId } });
  await repo.putSent(ctx.stub, { packet, packetHash: hash, status: 'sent', txId: ctx.stub.getTxID() });
  await repo.putRouteSendState(ctx.stub, route.routeId, { nextSendSequence: route.nextSendSequence + 1, sendWindow, updatedAtMs: now });
  return { routeId: route.routeId, sequence: packet.sequence, packetHash: hash, packet };
}

/** One item of SendPackets: SendPacket's three arguments, with `args` as an object. */
interface SendItem {
  destChain: string;
  type: PacketType;
  args: Record<string, Json>;
}

function parseSendItem(value: Json): SendItem {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('INVALID_ARGUMENT', 'each send is an object {destChain, type, args}');
  const v = value as Record<string, Json>;
  checkFields(v, ['destChain', 'type', 'args'], 'send');
  if (typeof v.destChain !== 'string' || typeof v.type !== 'string') fail('INVALID_ARGUMENT', 'each send names destChain and type as strings');
  return sendItem(v.destChain, v.type, () => argsOf(v.args ?? {}, SEND_ARGS, 'send args'));
}

/** SendPacket's argument checks, in its order: destination id, packet type, then the args object (`args` reads it). */
function sendItem(destChain: string, type: string, args: () => Record<string, Json>): SendItem {
  const dest = requireId(destChain, 'destChain');
  if (!isPacketType(type)) fail('PACKET_TYPE_NOT_ALLOWED', `packet type ${type} is not allowlisted`);
  return { destChain: dest, type, args: args() };
}

/** A JSON array argument of at most Limits.maxBatchPackets items, each read by `parse` (BATCH_INVALID when the count is wrong). */
function parseBatch<T>(json: string, what: 'packetsJson' | 'acksJson' | 'sendsJson', parse: (value: Json) => T): T[] {
  const value = parseJson(json, what);
  if (!Array.isArray(value)) fail('INVALID_ARGUMENT', `${what} must be an array`);
  if (value.length === 0 || value.length > Limits.maxBatchPackets) fail('BATCH_INVALID', `${what} carries 1..${Limits.maxBatchPackets} items, got ${value.length}`);
  return value.map(parse);
}

/** One route's run of a batch, with the route as stored before the batch. */
interface BatchRun<T> {
  items: T[];
  route: repo.RouteRecord;
}

/**
 * What ReceivePackets and AcknowledgePackets check first, in this order: the caller, the items
 * (`parse`), runs of routes in batch order (batchRefusal), then for each run that its route
 * exists, connects to the items' counterparty and may take them, then the proof over the
 * batch's message (one route: the batch message; several: the runs message) against the
 * remote chain's view.
 */
async function openBatch<T extends Packet | Acknowledgement>(
  ctx: Context,
  parse: () => T[],
  o: {
    what: 'packets' | 'acknowledgements';
    counterparty: (first: T) => string;
    usable: (route: repo.RouteRecord) => void;
    proofJson: string;
    message: (items: T[], ref: SignerListRef) => Buffer;
  },
): Promise<{ items: T[]; runs: BatchRun<T>[]; who: Caller; set: MemberSet; first: T; remote: RemoteState; now: number; verified: VerifiedProof }> {
  const who = await caller(ctx);
  const set = await getMemberSet(ctx.stub);
  const items = parse();
  const refusal = batchRefusal(items, o.what);
  if (refusal) fail(refusal.code, refusal.message);
  const first = items[0]!;
  const runs: BatchRun<T>[] = [];
  for (const run of runsOf(items)) {
    const route = await mustRouteRecord(ctx, run[0]!.routeId);
    const counterparty = o.counterparty(run[0]!);
    if (counterparty !== route.counterparty) fail('UNKNOWN_CHAIN', `route ${route.routeId} connects to ${route.counterparty}, not ${counterparty}`);
    o.usable(route);
    runs.push({ items: run, route });
  }
  // Every item goes between the same two chains (batchRefusal), so every route has this counterparty.
  const remote = await remoteView(ctx, runs[0]!.route.counterparty);
  const now = txTimeMs(ctx);
  const verified = verifyAgainst(
    runs.map((r) => r.route),
    remote,
    o.proofJson,
    now,
    (ref) => o.message(items, ref),
  );
  return { items, runs, who, set, first, remote, now, verified };
}

/** The sequences `fromSequence` .. `fromSequence + count - 1` of a batch statement query. */
function batchSequences(fromSequence: string, count: string): number[] {
  const from = parseSequence(fromSequence);
  const n = parseSequence(count);
  if (n > Limits.maxBatchPackets) fail('BATCH_INVALID', `a batch carries at most ${Limits.maxBatchPackets} items, asked for ${n}`);
  return Array.from({ length: n }, (_, i) => from + i);
}

/**
 * The runs a runs statement query names: `runsJson` is the canonical JSON of
 * [{count, fromSequence, routeId}], two routes at least, in route-id order, each once, at most
 * Limits.maxBatchPackets items in all. It must be canonical, since the verifier rebuilds the
 * argument from the signed message and compares the text (scheme-endorsement.ts).
 */
function parseRunsQuery(runsJson: string): { routeId: string; sequences: number[] }[] {
  const value = parseJson(runsJson, 'runsJson');
  if (!Array.isArray(value) || value.length < 2) fail('BATCH_INVALID', 'runsJson names two routes or more (one route: GetPacketBatchCommitment / GetAckBatchCommitment)');
  if (canonicalize(value) !== runsJson) fail('INVALID_ARGUMENT', 'runsJson must be canonical JSON');
  let total = 0;
  let before = '';
  return value.map((v) => {
    const o = asObject(v, 'INVALID_ARGUMENT', 'run', ['count', 'fromSequence', 'routeId']);
    const routeId = requireId(o.routeId as string, 'routeId');
    if (routeId <= before) fail('BATCH_INVALID', `the runs come in route-id order, each route once; ${routeId} follows ${before}`);
    before = routeId;
    const from = reqInt(o, 'fromSequence', 'INVALID_ARGUMENT', 'run', 1);
    const count = reqInt(o, 'count', 'INVALID_ARGUMENT', 'run', 1, Limits.maxBatchPackets);
    total += count;
    if (total > Limits.maxBatchPackets) fail('BATCH_INVALID', `a batch carries at most ${Limits.maxBatchPackets} items`);
    return { routeId, sequences: Array.from({ length: count }, (_, i) => from + i) };
  });
}

/**
 * The items a runs query names (parseRunsQuery), read in batch order by `read`: NOT_FOUND for one
 * this chain does not hold, BATCH_INVALID when they are not all with one other chain (`otherChain`).
 */
async function readRuns<T>(runsJson: string, held: 'sent from' | 'received on', read: (routeId: string, sequence: number) => Promise<T | undefined>, otherChain: (item: T) => string): Promise<T[]> {
  const items: T[] = [];
  for (const run of parseRunsQuery(runsJson)) {
    for (const sequence of run.sequences) {
      const item = await read(run.routeId, sequence);
      if (item === undefined) fail('NOT_FOUND', `no packet ${run.routeId}/${sequence} was ${held} this chain`);
      if (items.length > 0 && otherChain(item) !== otherChain(items[0]!)) fail('BATCH_INVALID', `packet ${run.routeId}/${sequence} is with ${otherChain(item)}, not ${otherChain(items[0]!)}`);
      items.push(item);
    }
  }
  return items;
}

@Info({ title: 'CrossChain', description: 'Packets between consortium chains with threshold proofs of verification nodes' })
export class CrossChainContract extends MedbridgeContract {
  constructor() {
    super('CrossChain');
  }

  // ---------------------------------------------------------------- lists and configuration

  /** This chain's verification node list at `epoch` ('' = current): {epoch, listHash, list}. */
  @Transaction(false)
  async GetNodeList(ctx: Context, epoch: string): Promise<string> {
    const e = epoch === '' ? (await localHead(ctx)).epoch : parseSequence(epoch);
    const list = await repo.getLocalList(ctx.stub, e);
    if (!list) fail('NOT_FOUND', `this chain has no node list at epoch ${e}`);
    return canonicalize({ epoch: list.epoch, listHash: listHash(list), list });
  }

  /** The exact bytes the nodes of list `toEpoch - 1` endorse to link list `toEpoch`. */
  @Transaction(false)
  async GetEpochLinkMessage(ctx: Context, toEpoch: string): Promise<string> {
    const to = parseSequence(toEpoch);
    if (to < 2) fail('INVALID_ARGUMENT', 'epoch 1 has no link; it is registered by governance');
    const { chainId } = await getMemberSet(ctx.stub);
    const from = await repo.getLocalList(ctx.stub, to - 1);
    const next = await repo.getLocalList(ctx.stub, to);
    if (!from || !next) fail('NOT_FOUND', `this chain has no lists for epochs ${to - 1} and ${to}`);
    return epochLinkMessage({ chainId, fromEpoch: to - 1, toEpoch: to, fromListHash: listHash(from), newListHash: listHash(next) }).toString('utf8');
  }

  /**
   * A registered remote chain, its trust policy in force, the nodes excluded here by
   * equivocation evidence, and its list at the latest epoch known here.
   */
  @Transaction(false)
  async GetRemoteChain(ctx: Context, chainId: string): Promise<string> {
    const { record, list, excluded } = await remoteView(ctx, requireId(chainId, 'chainId'));
    const exclusions = excluded.map((e) => ({ nodeId: e.nodeId, keyIds: e.keyIds }));
    return canonicalize({ ...record, policy: record.policy ?? DEFAULT_TRUST_POLICY, excluded: exclusions, list });
  }

  @Transaction(false)
  async GetRoute(ctx: Context, routeId: string): Promise<string> {
    return canonicalize(await mustRoute(ctx, requireId(routeId, 'routeId')));
  }

  /** Every registered remote chain (chain id order), without its node lists. */
  @Transaction(false)
  async ListRemoteChains(ctx: Context): Promise<string> {
    return canonicalize(await repo.listRemotes(ctx.stub));
  }

  @Transaction(false)
  async ListRoutes(ctx: Context): Promise<string> {
    return canonicalize(await repo.listRoutes(ctx.stub));
  }

  // ---------------------------------------------------------------- source side

  /**
   * Sends a packet to `destChain`. argsJson: {routeId? (needed when several routes lead
   * there), timeoutAfterMs? (default 1 h), consentId (consent.grant, consent.revoke) | ref
   * (consent.sealed: SealConsent's reference) | payload (ping)}.
   * Returns {routeId, sequence, packetHash, packet}.
   */
  @Transaction()
  async SendPacket(ctx: Context, destChain: string, type: string, argsJson: string): Promise<string> {
    const who = await caller(ctx);
    const send = sendItem(destChain, type, () => argsObject(argsJson, SEND_ARGS));
    const out = await sendPacket(ctx, who, send.destChain, send.type, send.args);
    return emitReturning(ctx, 'PacketSent', out);
  }

  /**
   * Several sends in ONE transaction (PROTOCOL.md "Batches"). sendsJson: an array of
   * 1..Limits.maxBatchPackets items {destChain, type, args}, each SendPacket's arguments. Each is
   * checked and stored as SendPacket would, in order, seeing the writes of the ones before it (a
   * route's next sequence and send window, the payer's fee account), so one transaction per block
   * carries what would otherwise be one send per route per block. All or nothing: one refused item
   * refuses the transaction. The one event is `PacketsSent` {items}. Returns {items}, each as
   * SendPacket's result.
   */
  @Transaction()
  async SendPackets(ctx: Context, sendsJson: string): Promise<string> {
    const who = await caller(ctx);
    const sends = parseBatch(sendsJson, 'sendsJson', parseSendItem);
    const view = withOwnWrites(ctx);
    const items = [];
    for (const send of sends) items.push(await sendPacket(view, who, send.destChain, send.type, send.args));
    const out = { items };
    return emitReturning(ctx, 'PacketsSent', out);
  }

  /**
   * A patient's grant and the consent.grant packet that carries it to `destChain`, in ONE
   * transaction: Consent:GrantConsent's checks and writes, then SendPacket's (PROTOCOL.md
   * "Sending"), so a share waits for one block on this chain instead of two. argsJson:
   * {routeId?, timeoutAfterMs?}. The transaction's one event is `PacketSent` (its payload as
   * SendPacket's, which relays follow); no `ConsentGranted` event. The caller needs both
   * roles: staff for the grant and member for the send. Returns {consent, sent}.
   */
  @Transaction()
  async GrantAndSend(ctx: Context, signedGrant: string, destChain: string, argsJson: string): Promise<string> {
    const who = await caller(ctx);
    requireId(destChain, 'destChain');
    const a = argsObject(argsJson, ['routeId', 'timeoutAfterMs']);
    const granted = await storeGrant(ctx, signedGrant);
    // Built from the consent just stored, not read back: a transaction does not see its own writes.
    // The patient's id key and, once rotated, the rotations to the current key, as SendPacket's.
    const carried = await consentPacketTo(ctx, granted.consent, granted.patient, destChain);
    const sent = await sendPacket(ctx, who, destChain, 'consent.grant', a, carried);
    const sentJson = emitReturning(ctx, 'PacketSent', sent);
    // canonicalize({ consent, sent }) without encoding the packet again: keys in canonical order, each value canonical.
    return `{"consent":${canonicalize(granted.status)},"sent":${sentJson}}`;
  }

  /**
   * READ-ONLY. The exact bytes source nodes sign for packet (routeId, sequence): the
   * domain-separated packet message bound to this chain's current list. Relays ask every
   * source peer to endorse this; each peer reads the packet from its own ledger.
   */
  @Transaction(false)
  async GetPacketCommitment(ctx: Context, routeId: string, sequence: string): Promise<string> {
    const sent = await repo.getSent(ctx.stub, requireId(routeId, 'routeId'), parseSequence(sequence));
    if (!sent) fail('NOT_FOUND', `no packet ${routeId}/${sequence} was sent from this chain`);
    return packetMessage(sent.packet, await localHead(ctx)).toString('utf8');
  }

  /**
   * READ-ONLY. The exact bytes source nodes sign for the run of `count` packets of `routeId`
   * from `fromSequence` (count <= Limits.maxBatchPackets): the domain-separated packet-batch
   * message, binding each packet's hash in order, bound to this chain's current list. Each
   * peer reads the packets from its own ledger; NOT_FOUND unless every one was sent.
   */
  @Transaction(false)
  async GetPacketBatchCommitment(ctx: Context, routeId: string, fromSequence: string, count: string): Promise<string> {
    requireId(routeId, 'routeId');
    const packets: Packet[] = [];
    for (const sequence of batchSequences(fromSequence, count)) {
      const sent = await repo.getSent(ctx.stub, routeId, sequence);
      if (!sent) fail('NOT_FOUND', `no packet ${routeId}/${sequence} was sent from this chain`);
      packets.push(sent.packet);
    }
    return packetBatchMessage(packets, await localHead(ctx)).toString('utf8');
  }

  /**
   * READ-ONLY. The exact bytes source nodes sign for runs of packets of several routes to the
   * same chain, one run per route (`runsJson`: parseRunsQuery): the domain-separated packet-runs
   * message binding each route, first sequence and packet hash in order, bound to this chain's
   * current list. NOT_FOUND unless every packet was sent, BATCH_INVALID unless all go to one chain.
   */
  @Transaction(false)
  async GetPacketRunsCommitment(ctx: Context, runsJson: string): Promise<string> {
    const packets = await readRuns(runsJson, 'sent from', async (routeId, sequence) => (await repo.getSent(ctx.stub, routeId, sequence))?.packet, (p) => p.destChain);
    return packetRunsMessage(packets, await localHead(ctx)).toString('utf8');
  }

  /**
   * READ-ONLY. The exact bytes this chain's nodes sign to attest a record anchor: the
   * domain-separated record-anchor message for version `version` ('' = head) of `recordId`,
   * bound to this chain's current list. A custodian asks every peer of its chain to endorse
   * it; a requester on another chain verifies the endorsements against this chain's list as
   * registered there (protocol/record-attestation.ts). Members only.
   */
  @Transaction(false)
  async GetRecordAnchorAttestation(ctx: Context, recordId: string, version: string): Promise<string> {
    await caller(ctx);
    requireId(recordId, 'recordId');
    const head = await getRecord(ctx.stub, recordId);
    if (!head) fail('NOT_FOUND', `record ${recordId} is not anchored on this chain`);
    const v = version === '' ? head.version : parseSequence(version);
    let hash = head.hash;
    if (v !== head.version) {
      const old = await getRecordVersion(ctx.stub, recordId, v);
      if (!old) fail('NOT_FOUND', `record ${recordId} has no version ${v}`);
      hash = old.hash;
    }
    const { chainId } = await getMemberSet(ctx.stub);
    return recordAnchorMessage({ chainId, recordId, version: v, hash }, await localHead(ctx)).toString('utf8');
  }

  /**
   * READ-ONLY. The exact bytes this chain's nodes sign to attest a record version anchored
   * privately by `custodian` (CONSENT.md "Private patients and anchors"): the domain-separated
   * private-record-anchor message naming Fabric's hash of the stored version, which every peer
   * holds, bound to this chain's current list. NOT_FOUND when the collection holds no such
   * version. Members only.
   */
  @Transaction(false)
  async GetPrivateRecordAnchorAttestation(ctx: Context, recordId: string, version: string, custodian: string): Promise<string> {
    await caller(ctx);
    requireId(recordId, 'recordId');
    requireId(custodian, 'custodian');
    const v = parseSequence(version);
    const versionDigest = await privateRecordVersionHash(ctx.stub, implicitCollection(custodian), recordId, v);
    if (versionDigest === undefined) fail('NOT_FOUND', `${custodian} anchored no version ${v} of ${recordId} privately on this chain`);
    const { chainId } = await getMemberSet(ctx.stub);
    return privateRecordAnchorMessage({ chainId, recordId, version: v, custodian, versionDigest }, await localHead(ctx)).toString('utf8');
  }

  /** A sent packet and its status: {packet, packetHash, status, ack?, ackSigners?, ...}. */
  @Transaction(false)
  async GetPacket(ctx: Context, routeId: string, sequence: string): Promise<string> {
    const sent = await repo.getSent(ctx.stub, requireId(routeId, 'routeId'), parseSequence(sequence));
    if (!sent) fail('NOT_FOUND', `no packet ${routeId}/${sequence} was sent from this chain`);
    return canonicalize(sent);
  }

  /** Sent packets of a route in sequence order: {items, bookmark}. */
  @Transaction(false)
  async ListPackets(ctx: Context, routeId: string, pageSize: string, bookmark: string): Promise<string> {
    return canonicalize(await repo.listSent(ctx.stub, requireId(routeId, 'routeId'), parsePageSize(pageSize), bookmark));
  }

  /** Marks a sent packet delivered with the destination's signed acknowledgement (success or error). */
  @Transaction()
  async AcknowledgePacket(ctx: Context, ackJson: string, proofJson: string): Promise<string> {
    return this.settle(ctx, ackJson, proofJson, 'ack');
  }

  /** Releases a sent packet with the destination's signed statement that it timed out there. */
  @Transaction()
  async TimeoutPacket(ctx: Context, ackJson: string, proofJson: string): Promise<string> {
    return this.settle(ctx, ackJson, proofJson, 'timeout');
  }

  /**
   * Settles a run of sent packets of one route with ONE proof of the destination's nodes over
   * their acknowledgements (GetAckBatchCommitment's message): then each acknowledgement goes
   * through AcknowledgePacket's checks and hooks, in order. All settle or none does
   * (BATCH_INVALID, or the first refusal); conflicting evidence freezes the route and settles
   * none. Acknowledgements of timeouts settle one by one (TimeoutPacket). Emits one
   * PacketsAcknowledged whose items are the PacketAcknowledged payloads.
   */
  @Transaction()
  async AcknowledgePackets(ctx: Context, acksJson: string, proofJson: string): Promise<string> {
    const { items: acks, runs, who, set, first, remote, now, verified } = await openBatch(ctx, () => parseBatch(acksJson, 'acksJson', parseAck), {
      what: 'acknowledgements',
      counterparty: (ack) => ack.destChain,
      // As AcknowledgePacket: of the route states, only frozen refuses a settlement.
      usable: (route) => {
        if (route.status === 'frozen') requireRouteUsable(route);
      },
      proofJson,
      message: acksMessage,
    });

    const settles: Extract<SettleBatchDecision, { kind: 'settle-all' }>['settles'] = [];
    for (const run of runs) {
      const sent: (repo.SentPacketRecord | undefined)[] = [];
      for (const ack of run.items) sent.push(await repo.getSent(ctx.stub, ack.routeId, ack.sequence));
      const decision = decideSettleBatch({ acks: run.items, chainId: set.chainId, sent });
      if (decision.kind === 'refuse') fail(decision.refusal.code, decision.refusal.message);
      if (decision.kind === 'freeze') return this.freeze(ctx, decision.conflict, { route: run.route, remote: remote.record, verified, now });
      settles.push(...decision.settles);
    }

    const view = withOwnWrites(ctx);
    const proof = { epoch: verified.list.epoch, signers: verified.signers };
    const items = [];
    for (const [i, { sent: record, status }] of settles.entries()) {
      const ack = acks[i]!;
      const next = settled(record, status, ack, proof, { nowMs: now, settledBy: who.id });
      await runHooks('onAcknowledge', view, { packet: next.packet, packetHash: next.packetHash, submitter: { id: who.id, mspId: who.mspId }, signers: verified.signers, proofEpoch: verified.list.epoch, ack });
      await repo.putSent(view.stub, next);
      items.push({ routeId: ack.routeId, sequence: ack.sequence, status, outcome: ack.outcome, signers: verified.signers, epoch: verified.list.epoch });
    }
    await storeNewLists(view, remote.record, verified, now);
    const out = { routeId: first.routeId, fromSequence: first.sequence, count: acks.length, items };
    return emitReturning(ctx, 'PacketsAcknowledged', out);
  }

  private async settle(ctx: Context, ackJson: string, proofJson: string, mode: 'ack' | 'timeout'): Promise<string> {
    const who = await caller(ctx);
    const set = await getMemberSet(ctx.stub);
    const ack = parseAck(parseJson(ackJson, 'ackJson'));
    const route = await mustRouteRecord(ctx, ack.routeId);
    if (ack.destChain !== route.counterparty) fail('UNKNOWN_CHAIN', `route ${route.routeId} connects to ${route.counterparty}, not ${ack.destChain}`);
    if (route.status === 'frozen') requireRouteUsable(route);
    const remote = await remoteView(ctx, route.counterparty);
    const now = txTimeMs(ctx);
    const verified = verifyAgainst([route], remote, proofJson, now, (ref) => ackMessage(ack, ref));

    const sent = await repo.getSent(ctx.stub, ack.routeId, ack.sequence);
    const decision = refuseUnlessGoing(decideSettle({ mode, ack, chainId: set.chainId, sent }));
    if (decision.kind === 'freeze') return this.freeze(ctx, decision.conflict, { route, remote: remote.record, verified, now });
    const { status } = decision;
    const next = settled(decision.sent, status, ack, { epoch: verified.list.epoch, signers: verified.signers }, { nowMs: now, settledBy: who.id });
    await runHooks(mode === 'ack' ? 'onAcknowledge' : 'onTimeout', ctx, {
      packet: next.packet,
      packetHash: next.packetHash,
      submitter: { id: who.id, mspId: who.mspId },
      signers: verified.signers,
      proofEpoch: verified.list.epoch,
      ack,
    });
    await storeNewLists(ctx, remote.record, verified, now);
    await repo.putSent(ctx.stub, next);
    const out = { routeId: ack.routeId, sequence: ack.sequence, status, outcome: ack.outcome, signers: verified.signers, epoch: verified.list.epoch };
    return emitReturning(ctx, mode === 'ack' ? 'PacketAcknowledged' : 'PacketTimedOut', out);
  }

  // ---------------------------------------------------------------- destination side

  /**
   * Accepts a packet from the route's counterparty with a proof of its source nodes:
   * path-proof, threshold, signatures, then packet checks (addressed here, not received
   * before, next in order, not timed out, within the rate limit); dispatches it to its
   * type's handler and stores the receipt and acknowledgement. Returns {outcome, ack, ackHash, signers}.
   */
  @Transaction()
  async ReceivePacket(ctx: Context, packetJson: string, proofJson: string): Promise<string> {
    return this.accept(ctx, packetJson, proofJson, 'receive');
  }

  /**
   * Accepts a run of packets of one route (consecutive sequences, at most
   * Limits.maxBatchPackets) with ONE proof of the source's nodes over GetPacketBatchCommitment's
   * message; then each packet goes through ReceivePacket's checks (in order, not received,
   * not timed out, rate limit), handler and hooks, in order, each seeing the ones before it,
   * with one receipt and acknowledgement each. All apply or none does (BATCH_INVALID, or the
   * first refusal, a replayed packet's PACKET_REPLAYED included); conflicting evidence
   * freezes the route and applies none. Timeouts are recorded one by one (RecordTimeout).
   * Emits one PacketsReceived whose items are the PacketReceived payloads.
   */
  @Transaction()
  async ReceivePackets(ctx: Context, packetsJson: string, proofJson: string): Promise<string> {
    const { items: packets, runs, who, set, first, remote, now, verified } = await openBatch(ctx, () => parseBatch(packetsJson, 'packetsJson', parsePacket), {
      what: 'packets',
      counterparty: (packet) => packet.sourceChain,
      usable: requireRouteUsable,
      proofJson,
      message: packetsMessage,
    });

    const packetHashes = packets.map(packetHash);
    const receipts: (repo.ReceiptRecord | undefined)[] = [];
    for (const p of packets) receipts.push(await repo.getReceipt(ctx.stub, p.routeId, p.sequence));
    // Each run is decided on its own route; the first run refused refuses the batch, a conflict freezes its route.
    const steps: BatchReceiveStep[] = [];
    const routesAfter: repo.RouteRecord[] = [];
    for (const run of runs) {
      const at = steps.length;
      const n = run.items.length;
      const decision = decideReceiveBatch({ packets: run.items, packetHashes: packetHashes.slice(at, at + n), chainId: set.chainId, route: run.route, receipts: receipts.slice(at, at + n), nowMs: now });
      if (decision.kind === 'refuse') fail(decision.refusal.code, decision.refusal.message);
      if (decision.kind === 'freeze') return this.freeze(ctx, decision.conflict, { route: run.route, remote: remote.record, verified, now });
      steps.push(...decision.steps);
      routesAfter.push(decision.route);
    }

    // Handlers and hooks of each packet see the writes of the packets before it.
    const view = withOwnWrites(ctx);
    const proof = { epoch: verified.list.epoch, signers: verified.signers };
    const items = [];
    for (const [i, step] of steps.entries()) {
      const packet = packets[i]!;
      const hash = packetHashes[i]!;
      let ack: Acknowledgement;
      let flush: (() => Promise<void>) | undefined;
      if (step.kind === 'answer-error') {
        ack = acknowledgementOf(packet, hash, { outcome: 'error', error: step.error }, verified.signers);
      } else {
        const outcome = await dispatchPacket(view, packet.sourceChain, packet);
        if (outcome.ok) flush = outcome.flush;
        const answer = outcome.ok ? { outcome: 'success' as const, result: outcome.result } : { outcome: 'error' as const, error: outcome.error };
        ack = acknowledgementOf(packet, hash, answer, verified.signers);
      }
      const stored = receiptOf(packet, hash, ack, proof, { nowMs: now, txId: ctx.stub.getTxID(), relayer: who.id });
      await runHooks('onReceive', view, { packet, packetHash: hash, submitter: { id: who.id, mspId: who.mspId }, signers: verified.signers, proofEpoch: verified.list.epoch, ack });
      if (flush) await flush();
      await repo.putReceipt(view.stub, stored);
      items.push({ routeId: packet.routeId, sequence: packet.sequence, outcome: ack.outcome, ack, ackHash: stored.ackHash, signers: verified.signers, epoch: verified.list.epoch });
    }
    await storeNewLists(view, remote.record, verified, now);
    for (const route of routesAfter) await repo.putRoute(view.stub, route);
    const out = { routeId: first.routeId, fromSequence: first.sequence, count: packets.length, items };
    return emitReturning(ctx, 'PacketsReceived', out);
  }

  /**
   * Records that the next packet in order timed out here (transaction time >= its
   * timeoutMs) without being applied. The signed acknowledgement with outcome 'timeout'
   * is the source's proof of non-receipt for TimeoutPacket.
   */
  @Transaction()
  async RecordTimeout(ctx: Context, packetJson: string, proofJson: string): Promise<string> {
    return this.accept(ctx, packetJson, proofJson, 'timeout');
  }

  /** READ-ONLY. The exact bytes destination nodes sign for the acknowledgement of (routeId, sequence). */
  @Transaction(false)
  async GetAckCommitment(ctx: Context, routeId: string, sequence: string): Promise<string> {
    const receipt = await repo.getReceipt(ctx.stub, requireId(routeId, 'routeId'), parseSequence(sequence));
    if (!receipt) fail('NOT_FOUND', `no packet ${routeId}/${sequence} was received on this chain`);
    return ackMessage(receipt.ack, await localHead(ctx)).toString('utf8');
  }

  /**
   * READ-ONLY. The exact bytes destination nodes sign for the acknowledgements of the run of
   * `count` packets of `routeId` from `fromSequence` (count <= Limits.maxBatchPackets): the
   * domain-separated ack-batch message, binding each acknowledgement's hash in order.
   */
  @Transaction(false)
  async GetAckBatchCommitment(ctx: Context, routeId: string, fromSequence: string, count: string): Promise<string> {
    requireId(routeId, 'routeId');
    const acks: Acknowledgement[] = [];
    for (const sequence of batchSequences(fromSequence, count)) {
      const receipt = await repo.getReceipt(ctx.stub, routeId, sequence);
      if (!receipt) fail('NOT_FOUND', `no packet ${routeId}/${sequence} was received on this chain`);
      acks.push(receipt.ack);
    }
    return ackBatchMessage(acks, await localHead(ctx)).toString('utf8');
  }

  /**
   * READ-ONLY. The exact bytes destination nodes sign for the acknowledgements of runs of packets
   * of several routes from the same chain, one run per route (`runsJson`: parseRunsQuery), bound
   * to this chain's current list. NOT_FOUND unless every packet was received here.
   */
  @Transaction(false)
  async GetAckRunsCommitment(ctx: Context, runsJson: string): Promise<string> {
    const acks = await readRuns(runsJson, 'received on', async (routeId, sequence) => (await repo.getReceipt(ctx.stub, routeId, sequence))?.ack, (a) => a.sourceChain);
    return ackRunsMessage(acks, await localHead(ctx)).toString('utf8');
  }

  /** The receipt of a received packet, with its acknowledgement. */
  @Transaction(false)
  async GetReceipt(ctx: Context, routeId: string, sequence: string): Promise<string> {
    const receipt = await repo.getReceipt(ctx.stub, requireId(routeId, 'routeId'), parseSequence(sequence));
    if (!receipt) fail('NOT_FOUND', `no packet ${routeId}/${sequence} was received on this chain`);
    return canonicalize(receipt);
  }

  @Transaction(false)
  async ListReceipts(ctx: Context, routeId: string, pageSize: string, bookmark: string): Promise<string> {
    return canonicalize(await repo.listReceipts(ctx.stub, requireId(routeId, 'routeId'), parsePageSize(pageSize), bookmark));
  }

  /** Conflict evidence recorded on a route. */
  @Transaction(false)
  async ListEvidence(ctx: Context, routeId: string): Promise<string> {
    return canonicalize(await repo.listEvidence(ctx.stub, requireId(routeId, 'routeId')));
  }

  /**
   * Verified equivocation evidence against a node of the registered remote chain `chainId`
   * (two packet commitments for one route and sequence, both signed by that node under lists
   * of `chainId` stored here; evidenceJson as for Incentive:SubmitEvidence, kind conflict).
   * From this transaction on, the node's signatures (by node id or by any key it held) count
   * for nothing here, in packet proofs and in epoch links. Any member may submit it: no
   * governance, so the offender's org has no say. Returns the exclusion.
   */
  @Transaction()
  async SubmitRemoteEvidence(ctx: Context, chainId: string, evidenceJson: string): Promise<string> {
    const who = await caller(ctx);
    requireId(chainId, 'chainId');
    if (!(await repo.getRemote(ctx.stub, chainId))) fail('UNKNOWN_CHAIN', `${chainId} is not a registered remote chain`);
    const { evidence, list } = await readRemoteEvidence(ctx, chainId, evidenceJson);
    const offence = judgeEvidence(evidence);
    if (await repo.getExclusion(ctx.stub, chainId, offence.nodeId)) fail('ALREADY_SLASHED', `node ${offence.nodeId} of ${chainId} is already excluded`);
    const node = list.subgroups.flatMap((s) => s.nodes).find((n) => n.nodeId === offence.nodeId);
    if (!node) fail('EVIDENCE_INVALID', `node ${offence.nodeId} is not in list epoch ${list.epoch} of ${chainId}`);
    const exclusion: repo.RemoteExclusion = {
      chainId,
      nodeId: offence.nodeId,
      keyIds: nodeKeyIdentities(node),
      offence: 'conflict',
      evidenceHash: offence.evidenceHash,
      routeId: offence.routeId,
      sequence: offence.sequence,
      reporterMspId: who.mspId,
      recordedAtMs: txTimeMs(ctx),
      txId: ctx.stub.getTxID(),
    };
    await repo.putExclusion(ctx.stub, exclusion);
    return emitReturning(ctx, 'RemoteNodeExcluded', exclusion);
  }

  /** Nodes of `chainId` excluded here by verified equivocation evidence (node id order). */
  @Transaction(false)
  async ListRemoteExclusions(ctx: Context, chainId: string): Promise<string> {
    return canonicalize(await repo.listExclusions(ctx.stub, requireId(chainId, 'chainId')));
  }

  private async accept(ctx: Context, packetJson: string, proofJson: string, mode: 'receive' | 'timeout'): Promise<string> {
    const who = await caller(ctx);
    const set = await getMemberSet(ctx.stub);
    const { packet, packetHash: hash } = parsePacketHashed(parseJson(packetJson, 'packetJson'));
    const route = await mustRouteRecord(ctx, packet.routeId);
    if (packet.sourceChain !== route.counterparty) fail('UNKNOWN_CHAIN', `route ${route.routeId} connects to ${route.counterparty}, not ${packet.sourceChain}`);
    requireRouteUsable(route);
    const remote = await remoteView(ctx, route.counterparty);
    const now = txTimeMs(ctx);

    // Steps 1-3: path-proof (with epoch links), threshold, signatures.
    const verified = verifyAgainst([route], remote, proofJson, now, (ref) => packetMessage(packet, ref));

    // Step 4: the packet itself (rules/delivery-rules.ts).
    const receipt = await repo.getReceipt(ctx.stub, packet.routeId, packet.sequence);
    const decision = refuseUnlessGoing(decideReceive({ mode, packet, packetHash: hash, chainId: set.chainId, route, receipt, nowMs: now }));
    if (decision.kind === 'freeze') return this.freeze(ctx, decision.conflict, { route, remote: remote.record, verified, now });

    let recvWindow = route.recvWindow;
    let ack: Acknowledgement;
    let flush: (() => Promise<void>) | undefined;
    if (decision.kind === 'record-timeout') {
      ack = acknowledgementOf(packet, hash, { outcome: 'timeout' }, verified.signers);
    } else {
      recvWindow = decision.recvWindow;
      if (decision.kind === 'answer-error') {
        ack = acknowledgementOf(packet, hash, { outcome: 'error', error: decision.error }, verified.signers);
      } else {
        const outcome = await dispatchPacket(ctx, packet.sourceChain, packet);
        if (outcome.ok) flush = outcome.flush;
        const answer = outcome.ok ? { outcome: 'success' as const, result: outcome.result } : { outcome: 'error' as const, error: outcome.error };
        ack = acknowledgementOf(packet, hash, answer, verified.signers);
      }
    }
    const stored = receiptOf(packet, hash, ack, { epoch: verified.list.epoch, signers: verified.signers }, { nowMs: now, txId: ctx.stub.getTxID(), relayer: who.id });
    await runHooks('onReceive', ctx, {
      packet,
      packetHash: hash,
      submitter: { id: who.id, mspId: who.mspId },
      signers: verified.signers,
      proofEpoch: verified.list.epoch,
      ack,
    });
    if (flush) await flush();
    await storeNewLists(ctx, remote.record, verified, now);
    await repo.putReceipt(ctx.stub, stored);
    await repo.putRoute(ctx.stub, routeAfterReceive(route, recvWindow, now));
    const out = { routeId: packet.routeId, sequence: packet.sequence, outcome: ack.outcome, ack, ackHash: stored.ackHash, signers: verified.signers, epoch: verified.list.epoch };
    return emitReturning(ctx, mode === 'receive' ? 'PacketReceived' : 'PacketTimeoutRecorded', out);
  }

  /**
   * Conflicting evidence (rules/delivery-rules.ts `freeze`): stores the remote lists the
   * proof linked, the evidence and the frozen route; the transaction succeeds so that the
   * freeze persists.
   */
  private async freeze(
    ctx: Context,
    conflict: Conflict,
    proof: { route: repo.RouteRecord; remote: repo.RemoteChainRecord; verified: VerifiedProof; now: number },
  ): Promise<string> {
    const { route, remote, verified, now } = proof;
    const frozen = freeze({
      route,
      conflict,
      signedBy: { chainId: remote.chainId, epoch: verified.list.epoch, signers: verified.signers },
      nowMs: now,
      txId: ctx.stub.getTxID(),
    });
    await storeNewLists(ctx, remote, verified, now);
    await repo.putEvidence(ctx.stub, frozen.evidence);
    await repo.putRoute(ctx.stub, frozen.route);
    return emitReturning(ctx, 'RouteFrozen', frozen.event);
  }
}
