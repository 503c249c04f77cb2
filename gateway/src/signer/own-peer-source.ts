/**
 * A CommitmentSource that asks exactly one peer, the signer's own, by sending a signed proposal
 * for the read-only query straight to that peer's Endorser service (the same path scheme 1 uses
 * to collect endorsements). A Fabric Gateway evaluate may be answered by another peer of the org;
 * this one never is, so the node signs only what its own ledger says. The one client to that peer
 * stays open for the service's life (a TLS handshake per signature request would otherwise be most
 * of a signature's time); `close` ends it.
 */
import type { CrossChainClient, StatementQuery } from '../fabric/contracts';
import type { PeerEndpoint } from '../fabric/profile';
import { collectEndorsements } from '../proofs/endorsements';
import { PeerClients } from '../proofs/peer-clients';
import type { CommitmentSource } from './commitment-source';

export function ownPeerCommitmentSource(crossChain: CrossChainClient, peer: PeerEndpoint, deadlineMs = 15_000): CommitmentSource & { close(): void } {
  const clients = new PeerClients();
  const read = async (q: StatementQuery): Promise<Buffer> => {
    const { message, signatures } = await collectEndorsements([peer], await crossChain.signedStatementProposal(q), deadlineMs, clients);
    if (signatures.length !== 1) throw new Error(`${peer.name} did not answer the ${q.kind} statement query`);
    return message;
  };
  return {
    packetMessage: (routeId, sequence) => read({ kind: 'packet', routeId, sequence }),
    ackMessage: (routeId, sequence) => read({ kind: 'ack', routeId, sequence }),
    epochLinkMessage: (toEpoch) => read({ kind: 'epoch-link', toEpoch }),
    close: () => clients.close(),
  };
}
