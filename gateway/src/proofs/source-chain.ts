/**
 * The source chain of a proof, and everything proof building reads from it: its verification
 * node lists, and the message its nodes sign for a statement (a packet, an acknowledgement, an
 * epoch link, a record anchor). Each statement names one read-only CrossChain query; the
 * source's own chaincode computes the bytes, so the relay carries them and never writes them.
 */
import type { peer as peerProtos } from '@hyperledger/fabric-protos';
import type { VerificationNodeList } from '@medbridge/chaincode/dist/protocol/node-list';
import type { OrgConnection } from '../fabric/connection';
import type { PeerEndpoint } from '../fabric/profile';
import { signedProposal } from './endorsements';

export interface SourceChain {
  /** Channel name of the source chain. */
  channel: string;
  /** A connection of a member org of the source channel (signs the proposals). */
  connection: OrgConnection;
  /** Every peer of the source chain that may be a verification node. */
  peers: readonly PeerEndpoint[];
}

/** What a source chain's nodes sign: one message each, computed by the source's chaincode. */
export type Statement =
  | { kind: 'packet'; routeId: string; sequence: number }
  | { kind: 'ack'; routeId: string; sequence: number }
  | { kind: 'epoch-link'; toEpoch: number }
  | { kind: 'record-anchor'; recordId: string; version: number };

/** A statement whose message names the epoch of the list that signs it (signed-epoch.ts); all but epoch links. */
export type ListBoundStatement = Exclude<Statement, { kind: 'epoch-link' }>;

const CONTRACT = 'CrossChain';

/** The read-only query whose answer is the statement's message. */
function queryOf(statement: Statement): { fn: string; args: string[] } {
  switch (statement.kind) {
    case 'packet':
      return { fn: 'GetPacketCommitment', args: [statement.routeId, String(statement.sequence)] };
    case 'ack':
      return { fn: 'GetAckCommitment', args: [statement.routeId, String(statement.sequence)] };
    case 'epoch-link':
      return { fn: 'GetEpochLinkMessage', args: [String(statement.toEpoch)] };
    case 'record-anchor':
      return { fn: 'GetRecordAnchorAttestation', args: [statement.recordId, String(statement.version)] };
  }
}

async function evaluate(source: SourceChain, fn: string, args: string[]): Promise<string> {
  const bytes = await source.connection.contract(source.channel, CONTRACT).evaluateTransaction(fn, ...args);
  return Buffer.from(bytes).toString('utf8');
}

/** The source's list at `epoch` ('' = its current list). */
export async function nodeListAt(source: SourceChain, epoch: number | ''): Promise<VerificationNodeList> {
  const out = JSON.parse(await evaluate(source, 'GetNodeList', [String(epoch)])) as { list: VerificationNodeList };
  return out.list;
}

/** The source's lists `from`..`to` (inclusive, in epoch order), read side by side. */
export function nodeListsFrom(source: SourceChain, from: number, to: number): Promise<VerificationNodeList[]> {
  const epochs = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  return Promise.all(epochs.map((epoch) => nodeListAt(source, epoch)));
}

/** The statement's message as one peer of the source answers it (what signer services sign too). */
export async function readMessage(source: SourceChain, statement: Statement): Promise<Buffer> {
  const { fn, args } = queryOf(statement);
  return Buffer.from(await evaluate(source, fn, args), 'utf8');
}

/** One signed proposal of the statement's query, for every source peer to execute and endorse. */
export function statementProposal(source: SourceChain, statement: Statement): Promise<peerProtos.SignedProposal> {
  const { fn, args } = queryOf(statement);
  return signedProposal(source.connection.contract(source.channel, CONTRACT), source.connection.signer, fn, args);
}
