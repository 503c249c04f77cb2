/**
 * Proof collection for the relay: one builder per scheme (scheme-builders.ts mirrors the
 * chaincode's scheme registry): scheme 1 (endorsements from each source peer) and scheme
 * bls12381-aggregate (partial signatures from each node's signer service, aggregated here),
 * assembled into protocol Proofs with the epoch links the destination needs.
 */
export { collectEndorsements, type CollectedEndorsements, type PeerFailure } from './endorsements';
export { buildAckProof, buildPacketProof, buildPrivateRecordAnchorProof, buildRecordAnchorProof, buildStatementProof, epochLinks, type BuiltProof } from './proof-builder';
export { PeerClients } from './peer-clients';
export { nodeListAt, sourceChain, type ListBoundStatement, type SourceChain, type Statement } from './source-chain';
export { collectAggregate } from './bls-builder';
export type { ProofOptions, SchemeBuilder, SchemeName } from './scheme-builder';
export { builderFor, builderForRoute, DEFAULT_BUILDER, knownBuilders, linkSchemeFor, signerCount } from './scheme-builders';
export { requestPartial, type SignerEndpoint, type SignRequest } from './signer-client';
