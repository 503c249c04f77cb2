/**
 * The `CrossChain` contract: node lists, remote chains and routes (read side), packets on
 * the source (send, settle) and on the destination (receive, time out), the statements
 * verification nodes sign, and equivocation evidence against remote nodes (PROTOCOL.md).
 *
 * @example
 *   const { result } = await a.crossChain.sendPacket('chain-b', 'ping', { payload: { hello: 1 } });
 *   await b.crossChain.receivePacket(result.packet, proof);
 */
import type { Proposal } from '@hyperledger/fabric-gateway';
import { gateway as gatewayProtos, type peer as peerProtos } from '@hyperledger/fabric-protos';
import {
  canonicalize,
  runRefs,
  type Acknowledgement,
  type AcknowledgePacketResult,
  type ConsentGrantMessage,
  type EvidenceRecord,
  type GrantAndSendResult,
  type NodeListAt,
  type Packet,
  type PacketType,
  type Page,
  type PageRequest,
  type Proof,
  type ReceiptRecord,
  type ReceivePacketResult,
  type ReceivePacketsResult,
  type AcknowledgePacketsResult,
  type RemoteChainRecord,
  type RemoteChainView,
  type RemoteExclusion,
  type RouteRecord,
  type RunRef,
  type SendPacketArgs,
  type SendPacketResult,
  type SendPacketsResult,
  type SentPacketRecord,
  type SignedPatientMessage,
  type SlashingEvidence,
} from '@medbridge/chaincode';
import type { FabricClient } from '../client';
import { ContractClient, pageArgs, type SubmitOptions, type Submitted } from './contract';

/**
 * Sends of one route share its send counter (and, with value transfer on, the sending org's
 * account): two in one block conflict at commit, and the one that loses wrote nothing. It is
 * proposed again, up to twice (a new transaction; a patient-signed grant keeps its unused nonce),
 * rather than failing a share because another was sent at the same moment.
 */
/** One send of `sendPackets`: `sendPacket`'s three arguments. */
export interface SendItem {
  destChain: string;
  type: PacketType;
  args: SendPacketArgs;
}

export const SEND_OPTIONS: SubmitOptions = { conflictRetries: 2 };

export const CrossChainTransactions = {
  GetNodeList: 'evaluate',
  GetEpochLinkMessage: 'evaluate',
  GetRemoteChain: 'evaluate',
  GetRoute: 'evaluate',
  ListRemoteChains: 'evaluate',
  ListRoutes: 'evaluate',
  SendPacket: 'submit',
  SendPackets: 'submit',
  GrantAndSend: 'submit',
  GetPacketCommitment: 'evaluate',
  GetPacketBatchCommitment: 'evaluate',
  GetPacketRunsCommitment: 'evaluate',
  GetRecordAnchorAttestation: 'evaluate',
  GetPrivateRecordAnchorAttestation: 'evaluate',
  GetPacket: 'evaluate',
  ListPackets: 'evaluate',
  AcknowledgePacket: 'submit',
  TimeoutPacket: 'submit',
  AcknowledgePackets: 'submit',
  ReceivePacket: 'submit',
  RecordTimeout: 'submit',
  ReceivePackets: 'submit',
  GetAckCommitment: 'evaluate',
  GetAckBatchCommitment: 'evaluate',
  GetAckRunsCommitment: 'evaluate',
  GetReceipt: 'evaluate',
  ListReceipts: 'evaluate',
  ListEvidence: 'evaluate',
  SubmitRemoteEvidence: 'submit',
  ListRemoteExclusions: 'evaluate',
} as const;

/**
 * A statement this chain's verification nodes sign: a read-only query whose result bytes
 * are the signed message (protocol/commitment.ts), endorsed by each node on its own ledger.
 */
export type StatementQuery =
  | { kind: 'packet'; routeId: string; sequence: number }
  | { kind: 'ack'; routeId: string; sequence: number }
  /** A run of `count` packets (or their acknowledgements) of one route from `fromSequence` (PROTOCOL.md "Batches"). */
  | { kind: 'packet-batch'; routeId: string; fromSequence: number; count: number }
  | { kind: 'ack-batch'; routeId: string; fromSequence: number; count: number }
  /** One run of each of several routes between the same two chains, in route-id order (PROTOCOL.md "Batches"). */
  | { kind: 'packet-runs'; runs: RunRef[] }
  | { kind: 'ack-runs'; runs: RunRef[] }
  | { kind: 'epoch-link'; toEpoch: number }
  /** version: a version of the record, or undefined for its head. */
  | { kind: 'record-anchor'; recordId: string; version?: number }
  /** A version of a record `custodian` anchored privately (chaincode/CONSENT.md "Private patients and anchors"). */
  | { kind: 'private-record-anchor'; recordId: string; version: number; custodian: string };

/** The transaction and arguments that produce a statement's message. */
export function statementCall(q: StatementQuery): {
  fn:
    | 'GetPacketCommitment'
    | 'GetAckCommitment'
    | 'GetPacketBatchCommitment'
    | 'GetAckBatchCommitment'
    | 'GetPacketRunsCommitment'
    | 'GetAckRunsCommitment'
    | 'GetEpochLinkMessage'
    | 'GetRecordAnchorAttestation'
    | 'GetPrivateRecordAnchorAttestation';
  args: string[];
} {
  switch (q.kind) {
    case 'packet-runs':
      return { fn: 'GetPacketRunsCommitment', args: [runsArg(q.runs)] };
    case 'ack-runs':
      return { fn: 'GetAckRunsCommitment', args: [runsArg(q.runs)] };
    case 'packet-batch':
      return { fn: 'GetPacketBatchCommitment', args: [q.routeId, String(q.fromSequence), String(q.count)] };
    case 'ack-batch':
      return { fn: 'GetAckBatchCommitment', args: [q.routeId, String(q.fromSequence), String(q.count)] };
    case 'packet':
      return { fn: 'GetPacketCommitment', args: [q.routeId, String(q.sequence)] };
    case 'ack':
      return { fn: 'GetAckCommitment', args: [q.routeId, String(q.sequence)] };
    case 'epoch-link':
      return { fn: 'GetEpochLinkMessage', args: [String(q.toEpoch)] };
    case 'record-anchor':
      return { fn: 'GetRecordAnchorAttestation', args: [q.recordId, q.version === undefined ? '' : String(q.version)] };
    case 'private-record-anchor':
      return { fn: 'GetPrivateRecordAnchorAttestation', args: [q.recordId, String(q.version), q.custodian] };
  }
}

/** The argument of a runs query: the canonical JSON of the runs, as the verifier rebuilds it from the signed message. */
function runsArg(runs: readonly RunRef[]): string {
  return canonicalize(runs.map((r) => ({ routeId: r.routeId, fromSequence: r.fromSequence, count: r.count })));
}

/**
 * The statement one proof of a batch needs, for items in batch order (runs of routes in
 * route-id order): one route's run is a batch statement, several routes' runs a runs statement,
 * as the verifier picks the message (commitment.ts `packetsMessage` / `acksMessage`).
 */
export function batchStatement(kind: 'packet' | 'ack', items: readonly { routeId: string; sequence: number }[]): Extract<StatementQuery, { kind: 'packet-batch' | 'ack-batch' | 'packet-runs' | 'ack-runs' }> {
  const runs = runRefs(items);
  const only = runs.length === 1 ? runs[0] : undefined;
  if (only) return { kind: kind === 'packet' ? 'packet-batch' : 'ack-batch', routeId: only.routeId, fromSequence: only.fromSequence, count: only.count };
  return { kind: kind === 'packet' ? 'packet-runs' : 'ack-runs', runs };
}

export class CrossChainClient extends ContractClient<typeof CrossChainTransactions> {
  constructor(client: FabricClient, channel: string) {
    super(client, channel, 'CrossChain', CrossChainTransactions);
  }

  // ---------------------------------------------------------------- lists and configuration

  /** This chain's node list at `epoch`, or the current one. */
  getNodeList(epoch?: number): Promise<NodeListAt> {
    return this.evaluate('GetNodeList', [epoch === undefined ? '' : String(epoch)]);
  }

  /** A registered remote chain: trust, policy in force, exclusions here, latest list known here. */
  getRemoteChain(chainId: string): Promise<RemoteChainView> {
    return this.evaluate('GetRemoteChain', [chainId]);
  }

  getRoute(routeId: string): Promise<RouteRecord> {
    return this.evaluate('GetRoute', [routeId]);
  }

  /** Every registered remote chain (chain id order), without its node lists. */
  listRemoteChains(): Promise<RemoteChainRecord[]> {
    return this.evaluate('ListRemoteChains');
  }

  listRoutes(): Promise<RouteRecord[]> {
    return this.evaluate('ListRoutes');
  }

  // ---------------------------------------------------------------- statements the nodes sign

  /** The exact bytes of a statement, as one peer computes them from its ledger. */
  statement(q: StatementQuery): Promise<Buffer> {
    const { fn, args } = statementCall(q);
    return this.evaluateBytes(fn, args);
  }

  /**
   * An unsigned proposal of the statement's query, for a proof builder to sign once and send
   * to every peer of the chain (each endorsement is a node's signature of the statement).
   */
  statementProposal(q: StatementQuery): Proposal {
    const { fn, args } = statementCall(q);
    return this.client.connection.contract(this.channel, this.contract).newProposal(fn, { arguments: args });
  }

  /**
   * The statement's query as a proposal signed by this client's identity, ready to send to
   * each peer's Endorser service directly (every endorsement returned is one node's signature).
   */
  async signedStatementProposal(q: StatementQuery): Promise<peerProtos.SignedProposal> {
    const proposal = this.statementProposal(q);
    const signed = gatewayProtos.ProposedTransaction.deserializeBinary(proposal.getBytes()).getProposal();
    if (!signed) throw new Error('gateway proposal has no SignedProposal');
    signed.setSignature(await this.client.connection.signer(proposal.getDigest()));
    return signed;
  }

  // ---------------------------------------------------------------- source side

  /**
   * Sends a packet to `destChain`: a consent (its payload comes from the ledger) or a ping
   * payload. The chaincode judges `type` (PACKET_TYPE_NOT_ALLOWED).
   */
  sendPacket(destChain: string, type: PacketType, args: SendPacketArgs, opts: SubmitOptions = SEND_OPTIONS): Promise<Submitted<SendPacketResult>> {
    return this.submit('SendPacket', [destChain, type, JSON.stringify(args)], opts);
  }

  /**
   * Several sends in ONE transaction (at most 32), each as `sendPacket`'s, in order; all or
   * nothing. Its event is PacketsSent. `SendBatcher` (services/send-batcher.ts) gathers
   * concurrent sends into these.
   */
  sendPackets(sends: readonly SendItem[], opts: SubmitOptions = SEND_OPTIONS): Promise<Submitted<SendPacketsResult>> {
    return this.submit('SendPackets', [JSON.stringify(sends)], opts);
  }

  /**
   * Stores a patient-signed grant and sends its consent.grant packet to `destChain` in one
   * transaction (one block on this chain instead of two); its event is PacketSent.
   *
   * @example
   *   const { result } = await a.crossChain.grantAndSend(signPatientMessage(grant, key), 'chain-b', { routeId: 'a-b' });
   */
  grantAndSend(
    signed: SignedPatientMessage<ConsentGrantMessage>,
    destChain: string,
    args: { routeId?: string; timeoutAfterMs?: number } = {},
    opts: SubmitOptions = SEND_OPTIONS,
  ): Promise<Submitted<GrantAndSendResult>> {
    return this.submit('GrantAndSend', [canonicalize(signed), destChain, JSON.stringify(args)], opts);
  }

  getPacket(routeId: string, sequence: number): Promise<SentPacketRecord> {
    return this.evaluate('GetPacket', [routeId, String(sequence)]);
  }

  /** Sent packets of a route, in sequence order. */
  listPackets(routeId: string, page?: PageRequest): Promise<Page<SentPacketRecord>> {
    return this.evaluate('ListPackets', [routeId, ...pageArgs(page)]);
  }

  /** Settles a sent packet with the destination's signed acknowledgement (success or error). */
  acknowledgePacket(ack: Acknowledgement, proof: Proof, opts?: SubmitOptions): Promise<Submitted<AcknowledgePacketResult>> {
    return this.submit('AcknowledgePacket', [JSON.stringify(ack), JSON.stringify(proof)], opts);
  }

  /** Settles a run of sent packets of one route with ONE proof of the destination over their acknowledgements (PROTOCOL.md "Batches"). */
  acknowledgePackets(acks: readonly Acknowledgement[], proof: Proof, opts?: SubmitOptions): Promise<Submitted<AcknowledgePacketsResult>> {
    return this.submit('AcknowledgePackets', [JSON.stringify(acks), JSON.stringify(proof)], opts);
  }

  /** Releases a sent packet with the destination's signed statement that it timed out there. */
  timeoutPacket(ack: Acknowledgement, proof: Proof, opts?: SubmitOptions): Promise<Submitted<AcknowledgePacketResult>> {
    return this.submit('TimeoutPacket', [JSON.stringify(ack), JSON.stringify(proof)], opts);
  }

  // ---------------------------------------------------------------- destination side

  /** Accepts a packet from the route's counterparty with a proof of its source nodes. */
  receivePacket(packet: Packet, proof: Proof, opts?: SubmitOptions): Promise<Submitted<ReceivePacketResult>> {
    return this.submit('ReceivePacket', [JSON.stringify(packet), JSON.stringify(proof)], opts);
  }

  /** Accepts a run of packets of one route with ONE proof of the source over all of them (PROTOCOL.md "Batches"). */
  receivePackets(packets: readonly Packet[], proof: Proof, opts?: SubmitOptions): Promise<Submitted<ReceivePacketsResult>> {
    return this.submit('ReceivePackets', [JSON.stringify(packets), JSON.stringify(proof)], opts);
  }

  /** Records that the next packet in order timed out here, without applying it. */
  recordTimeout(packet: Packet, proof: Proof, opts?: SubmitOptions): Promise<Submitted<ReceivePacketResult>> {
    return this.submit('RecordTimeout', [JSON.stringify(packet), JSON.stringify(proof)], opts);
  }

  getReceipt(routeId: string, sequence: number): Promise<ReceiptRecord> {
    return this.evaluate('GetReceipt', [routeId, String(sequence)]);
  }

  listReceipts(routeId: string, page?: PageRequest): Promise<Page<ReceiptRecord>> {
    return this.evaluate('ListReceipts', [routeId, ...pageArgs(page)]);
  }

  // ---------------------------------------------------------------- evidence

  /** Conflict evidence recorded on a route (what froze it). */
  listEvidence(routeId: string): Promise<EvidenceRecord[]> {
    return this.evaluate('ListEvidence', [routeId]);
  }

  /** Verified equivocation evidence against a node of the remote chain `chainId`: its signatures count for nothing here from now on. */
  submitRemoteEvidence(chainId: string, evidence: SlashingEvidence): Promise<Submitted<RemoteExclusion>> {
    return this.submit('SubmitRemoteEvidence', [chainId, JSON.stringify(evidence)]);
  }

  listRemoteExclusions(chainId: string): Promise<RemoteExclusion[]> {
    return this.evaluate('ListRemoteExclusions', [chainId]);
  }
}
