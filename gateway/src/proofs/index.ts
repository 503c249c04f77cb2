/**
 * Proof collection for the relay: scheme 1 (endorsements from each source peer) and scheme
 * bls12381-aggregate (partial signatures from each node's signer service, aggregated here),
 * assembled into protocol Proofs with the epoch links the destination needs.
 */
export { collectEndorsements, signedProposal, type CollectedEndorsements, type PeerFailure } from './endorsements';
export { buildAckProof, buildPacketProof, buildRecordAnchorProof, epochLinks, nodeListAt, type BuiltProof, type SourceChain } from './proof-builder';
export { collectAggregate, linkSchemeFor, type ProofOptions, type SchemeName } from './bls-builder';
export { requestPartial, type SignerEndpoint, type SignRequest } from './signer-client';
