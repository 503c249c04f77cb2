/**
 * Where a BLS signer gets the bytes it signs: its own org's peer, through a read-only query of
 * the chaincode (CrossChain:GetPacketCommitment / GetAckCommitment / GetEpochLinkMessage), never
 * from the relay. The chaincode builds those bytes from its own ledger (protocol/commitment.ts).
 */
import type { OrgConnection } from '../fabric/connection';

export interface CommitmentSource {
  /** The packet message for (routeId, sequence) as the own peer's ledger has it. */
  packetMessage(routeId: string, sequence: number): Promise<Buffer>;
  /** The acknowledgement message for a packet received here. */
  ackMessage(routeId: string, sequence: number): Promise<Buffer>;
  /** The epoch-link message from list toEpoch-1 to list toEpoch of this chain. */
  epochLinkMessage(toEpoch: number): Promise<Buffer>;
}

/** Reads through the org's own peer (the connection's peer) on `channel`. */
export function fabricCommitmentSource(connection: OrgConnection, channel: string): CommitmentSource {
  const contract = connection.contract(channel, 'CrossChain');
  const read = async (fn: string, ...args: string[]): Promise<Buffer> => Buffer.from(await contract.evaluateTransaction(fn, ...args));
  return {
    packetMessage: (routeId, sequence) => read('GetPacketCommitment', routeId, String(sequence)),
    ackMessage: (routeId, sequence) => read('GetAckCommitment', routeId, String(sequence)),
    epochLinkMessage: (toEpoch) => read('GetEpochLinkMessage', String(toEpoch)),
  };
}
