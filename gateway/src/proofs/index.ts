/** Scheme-1 proof collection: endorsements from each source peer, assembled into protocol Proofs. */
export { collectEndorsements, signedProposal, type CollectedEndorsements, type PeerFailure } from './endorsements';
export { buildAckProof, buildPacketProof, epochLinks, nodeListAt, type BuiltProof, type SourceChain } from './proof-builder';
