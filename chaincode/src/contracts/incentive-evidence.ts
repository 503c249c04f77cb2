/**
 * Turning submitted slashing evidence into verified statements (INCENTIVES.md "Evidence").
 * Evidence concerns nodes of this chain (their stake is here). A signed commitment is a
 * packet of this chain, the epoch of this chain's list whose node signed it, and the
 * signature part of a proof (any registered scheme). The message is rebuilt here with the
 * protocol module (packetMessage), the node is found in this chain's own list at that
 * epoch, and the scheme verifies the signature over exactly that message; nothing the
 * reporter computed is trusted.
 *
 * Evidence JSON:
 *   {"kind":"conflict","nodeId":N,"a":SignedCommitment,"b":SignedCommitment}
 *   {"kind":"uncommitted","nodeId":N,"signed":SignedCommitment}
 *   SignedCommitment = {"packet":Packet,"epoch":E,"proof":{"scheme","version","signatures","intermediates"?}}
 */
import type { Context } from 'fabric-contract-api';
import { fail, MedbridgeError } from '../errors';
import { packetMessage } from '../protocol/commitment';
import { asObject, reqId, reqInt, type Obj } from '../protocol/fields';
import { Limits } from '../protocol/limits';
import { listHash, type VerificationNodeList } from '../protocol/node-list';
import { packetHash, parsePacket, type Packet } from '../protocol/packet';
import { getScheme } from '../protocol/schemes';
import type { Evidence, LocalPacketView, SignedStatement } from '../rules/slashing';
import * as repo from '../state/crosschain-repo';
import { getMemberSet } from '../state/governance-repo';

const C = 'EVIDENCE_INVALID' as const;

interface SignedCommitment {
  packet: Packet;
  epoch: number;
  proof: { scheme: string; version: number; signatures: unknown };
}

function parseSignedCommitment(value: unknown, what: string): SignedCommitment {
  const o = asObject(value, C, what, ['packet', 'epoch', 'proof']);
  let packet: Packet;
  try {
    packet = parsePacket(o.packet);
  } catch (e) {
    fail(C, `${what}.packet: ${e instanceof Error ? e.message : String(e)}`);
  }
  const epoch = reqInt(o, 'epoch', C, what, 1);
  const p = asObject(o.proof, C, `${what}.proof`, ['scheme', 'version', 'signatures', 'intermediates']);
  if (typeof p.scheme !== 'string' || p.scheme.length === 0 || p.scheme.length > 64) fail(C, `${what}.proof.scheme is missing`);
  const version = reqInt(p, 'version', C, `${what}.proof`, 0, 1_000_000);
  if (p.signatures === undefined) fail(C, `${what}.proof.signatures is missing`);
  return { packet, epoch, proof: { scheme: p.scheme, version, signatures: p.signatures } };
}

/** Where the signing lists of the evidence come from: this chain's own lists, or a remote chain's lists as stored here. */
interface ListSource {
  chainId: string;
  listAt(epoch: number): Promise<VerificationNodeList | undefined>;
  what: string;
}

/**
 * Verifies that `nodeId` of the signing chain's list at the commitment's epoch signed the
 * packet message; returns what the signature commits the node to. Any failure is
 * EVIDENCE_INVALID with the protocol's own reason.
 */
async function verifyStatement(source: ListSource, nodeId: string, sc: SignedCommitment, what: string): Promise<SignedStatement> {
  const chainId = source.chainId;
  if (sc.packet.sourceChain !== chainId) {
    fail(C, `${what}: the packet is from ${sc.packet.sourceChain}; evidence here concerns nodes of ${chainId} signing packets of ${chainId}`);
  }
  const list = await source.listAt(sc.epoch);
  if (!list) fail(C, `${what}: ${source.what} has no verification node list of ${chainId} at epoch ${sc.epoch}`);
  try {
    const scheme = getScheme(sc.proof.scheme, sc.proof.version);
    const parsed = scheme.parse(sc.proof.signatures);
    const claimed = scheme.claimedSigners(parsed, list);
    if (!claimed.some((s) => s.nodeId === nodeId)) fail(C, `${what}: node ${nodeId} is not among the signers`);
    scheme.verifySignatures(parsed, claimed, packetMessage(sc.packet, { epoch: list.epoch, listHash: listHash(list) }), { chainId });
  } catch (e) {
    if (e instanceof MedbridgeError && e.code !== C) fail(C, `${what}: ${e.message}`);
    throw e;
  }
  return {
    nodeId,
    sourceChainId: sc.packet.sourceChain,
    routeId: sc.packet.routeId,
    sequence: sc.packet.sequence,
    commitmentHash: packetHash(sc.packet),
  };
}

/** What this chain's ledger says about its own packet (routeId, sequence). */
export async function localPacketView(ctx: Context, routeId: string, sequence: number): Promise<LocalPacketView> {
  const sent = await repo.getSent(ctx.stub, routeId, sequence);
  if (sent) return { state: 'committed', commitmentHash: sent.packetHash };
  const route = await repo.getRoute(ctx.stub, routeId);
  if (!route || sequence >= route.nextSendSequence) return { state: 'never-sent' };
  return { state: 'unknown' };
}

function evidenceObject(text: string): Obj {
  if (typeof text !== 'string' || text.length === 0) fail(C, 'evidence is empty');
  if (Buffer.byteLength(text, 'utf8') > 2 * Limits.maxProofBytes) fail('PROOF_TOO_LARGE', `evidence is at most ${2 * Limits.maxProofBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail(C, 'evidence is not valid JSON');
  }
  return asObject(value, C, 'evidence');
}

/** Parses and verifies submitted evidence; the result goes to rules/slashing judgeEvidence. */
export async function readEvidence(ctx: Context, text: string): Promise<Evidence> {
  const o = evidenceObject(text);
  const nodeId = reqId(o, 'nodeId', C, 'evidence');
  const { chainId } = await getMemberSet(ctx.stub);
  const own: ListSource = { chainId, listAt: (e) => repo.getLocalList(ctx.stub, e), what: 'this chain' };
  if (o.kind === 'conflict') {
    asObject(o, C, 'evidence', ['kind', 'nodeId', 'a', 'b']);
    const a = await verifyStatement(own, nodeId, parseSignedCommitment(o.a, 'evidence.a'), 'evidence.a');
    const b = await verifyStatement(own, nodeId, parseSignedCommitment(o.b, 'evidence.b'), 'evidence.b');
    return { kind: 'conflict', a, b };
  }
  if (o.kind === 'uncommitted') {
    asObject(o, C, 'evidence', ['kind', 'nodeId', 'signed']);
    const statement = await verifyStatement(own, nodeId, parseSignedCommitment(o.signed, 'evidence.signed'), 'evidence.signed');
    return { kind: 'uncommitted', statement, thisChainId: chainId, local: await localPacketView(ctx, statement.routeId, statement.sequence) };
  }
  fail(C, 'evidence.kind must be conflict or uncommitted');
}

/**
 * Equivocation evidence against a node of the registered remote chain `chainId`, verified
 * against that chain's lists as this chain stores them (the destination is the chain an
 * equivocation hurts, so it can act on the evidence itself). Only `conflict` evidence: whether
 * a packet was committed is known to the source's ledger alone.
 */
export async function readRemoteEvidence(ctx: Context, chainId: string, text: string): Promise<{ evidence: Evidence; list: VerificationNodeList }> {
  const o = evidenceObject(text);
  const nodeId = reqId(o, 'nodeId', C, 'evidence');
  if (o.kind !== 'conflict') fail(C, 'evidence about a remote node must be of kind conflict');
  asObject(o, C, 'evidence', ['kind', 'nodeId', 'a', 'b']);
  const remote: ListSource = { chainId, listAt: (e) => repo.getRemoteList(ctx.stub, chainId, e), what: 'this chain' };
  const sa = parseSignedCommitment(o.a, 'evidence.a');
  const a = await verifyStatement(remote, nodeId, sa, 'evidence.a');
  const b = await verifyStatement(remote, nodeId, parseSignedCommitment(o.b, 'evidence.b'), 'evidence.b');
  const list = await repo.getRemoteList(ctx.stub, chainId, sa.epoch);
  if (!list) fail(C, `no list of ${chainId} at epoch ${sa.epoch}`);
  return { evidence: { kind: 'conflict', a, b }, list };
}
