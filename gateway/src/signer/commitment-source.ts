/**
 * Where a BLS signer gets the bytes it signs: its own org's peer, through a read-only query of
 * the chaincode (the packet, acknowledgement and epoch-link statements of CrossChainClient),
 * never from the relay. The chaincode builds those bytes from its own ledger
 * (protocol/commitment.ts).
 */
import type { CrossChainClient } from '../fabric/contracts';

export interface CommitmentSource {
  /** The packet message for (routeId, sequence) as the own peer's ledger has it. */
  packetMessage(routeId: string, sequence: number): Promise<Buffer>;
  /** The acknowledgement message for a packet received here. */
  ackMessage(routeId: string, sequence: number): Promise<Buffer>;
  /** The epoch-link message from list toEpoch-1 to list toEpoch of this chain. */
  epochLinkMessage(toEpoch: number): Promise<Buffer>;
}

/** Reads through the org's own peer (the client's peer) on the client's channel. */
export function fabricCommitmentSource(crossChain: CrossChainClient): CommitmentSource {
  return {
    packetMessage: (routeId, sequence) => crossChain.statement({ kind: 'packet', routeId, sequence }),
    ackMessage: (routeId, sequence) => crossChain.statement({ kind: 'ack', routeId, sequence }),
    epochLinkMessage: (toEpoch) => crossChain.statement({ kind: 'epoch-link', toEpoch }),
  };
}
