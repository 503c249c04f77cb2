/**
 * A CommitmentSource that asks exactly one peer, the signer's own, by sending a signed proposal
 * for the read-only query straight to that peer's Endorser service (the same path scheme 1 uses
 * to collect endorsements). A Fabric Gateway evaluate may be answered by another peer of the org;
 * this one never is, so the node signs only what its own ledger says.
 */
import type { OrgConnection } from '../fabric/connection';
import type { PeerEndpoint } from '../fabric/profile';
import { collectEndorsements, signedProposal } from '../proofs/endorsements';
import type { CommitmentSource } from './commitment-source';

export function ownPeerCommitmentSource(connection: OrgConnection, channel: string, peer: PeerEndpoint, deadlineMs = 15_000): CommitmentSource {
  const contract = connection.contract(channel, 'CrossChain');
  const read = async (fn: string, ...args: string[]): Promise<Buffer> => {
    const signed = await signedProposal(contract, connection.signer, fn, args);
    const { message, signatures } = await collectEndorsements([peer], signed, deadlineMs);
    if (signatures.length !== 1) throw new Error(`${peer.name} did not answer ${fn}`);
    return message;
  };
  return {
    packetMessage: (routeId, sequence) => read('GetPacketCommitment', routeId, String(sequence)),
    ackMessage: (routeId, sequence) => read('GetAckCommitment', routeId, String(sequence)),
    epochLinkMessage: (toEpoch) => read('GetEpochLinkMessage', String(toEpoch)),
  };
}
