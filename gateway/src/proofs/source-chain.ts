/**
 * The source chain of a proof: its CrossChain contract through a member org's typed client,
 * and the peers that may sign for it. Proof building reads everything from there: the
 * verification node lists, and the message its nodes sign for a statement (a packet, an
 * acknowledgement, an epoch link, a record anchor), each one read-only query
 * (`CrossChainClient.statement` / `signedStatementProposal`) whose bytes the source's own
 * chaincode computes, so the relay carries them and never writes them.
 */
import type { VerificationNodeList } from '@medbridge/chaincode';
import type { FabricClient } from '../fabric/client';
import { CrossChainClient, type StatementQuery } from '../fabric/contracts';
import { profilesForChannel, type PeerEndpoint } from '../fabric/profile';
import type { PeerClients } from './peer-clients';

export interface SourceChain {
  /** The source's CrossChain contract, through a member org's client (its identity signs the proposals). */
  crossChain: CrossChainClient;
  /** Every peer of the source chain that may be a verification node. */
  peers: readonly PeerEndpoint[];
  /** Open clients to those peers, reused across proofs (absent: a connection per proof). */
  clients?: PeerClients;
}

/**
 * The chain `channel` as `client`'s org reads it, with the peers that may sign for it (default:
 * every peer of the connection profiles of its member orgs).
 *
 * @example
 *   const built = await buildPacketProof(sourceChain(client, 'chain-a'), 'consent', 7, known);
 */
export function sourceChain(
  client: FabricClient,
  channel: string,
  peers: readonly PeerEndpoint[] = profilesForChannel(channel).flatMap((p) => p.peers),
  clients?: PeerClients,
): SourceChain {
  return { crossChain: new CrossChainClient(client, channel), peers, ...(clients ? { clients } : {}) };
}

/** What a source chain's nodes sign: one message each, computed by the source's chaincode. */
export type Statement = StatementQuery;

/** A statement whose message names the epoch of the list that signs it (signed-epoch.ts); all but epoch links. */
export type ListBoundStatement = Exclude<Statement, { kind: 'epoch-link' }>;

/** The source's list at `epoch` (undefined: its current list). */
export async function nodeListAt(source: SourceChain, epoch?: number): Promise<VerificationNodeList> {
  return (await source.crossChain.getNodeList(epoch)).list;
}

/** The source's lists `from`..`to` (inclusive, in epoch order), read side by side. */
export function nodeListsFrom(source: SourceChain, from: number, to: number): Promise<VerificationNodeList[]> {
  const epochs = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  return Promise.all(epochs.map((epoch) => nodeListAt(source, epoch)));
}
