/**
 * Assembles proofs (protocol/proof.ts) from a source chain's own nodes: the signatures of the
 * current list over the packet, acknowledgement or record-anchor message, and the epoch links
 * the verifier still needs (each signed by the previous list). The same steps for every scheme;
 * the scheme's builder (scheme-builders.ts) only gathers its signature part:
 *  - `fabric-endorsement` (default): endorsements of the source's own peers; only endorsers that
 *    are listed nodes of the signing epoch are kept (endorsement-builder.ts);
 *  - `bls12381-aggregate`: partial signatures from each node's signer service (mutual TLS),
 *    verified and aggregated here (bls-builder.ts, chaincode/BLS.md "Relay side").
 */
import type { EpochLink, Proof } from '@medbridge/chaincode';
import type { PeerFailure } from './endorsements';
import type { ProofOptions } from './scheme-builder';
import { builderFor, DEFAULT_BUILDER, linkBuilderFor } from './scheme-builders';
import { requireListEpoch } from './signed-epoch';
import { nodeListAt, nodeListsFrom, type ListBoundStatement, type SourceChain } from './source-chain';

export interface BuiltProof {
  proof: Proof;
  /** The message the signatures cover (for logs and checks). */
  message: Buffer;
  failures: PeerFailure[];
}

/**
 * Links from `knownEpoch` (what the verifier stores for this source) up to `epoch`. Each link
 * is signed by the list it replaces, in the scheme linkBuilderFor picks for that list (scheme 1
 * unless `options` ask for, or with linkScheme 'auto' allow, the proof's own scheme).
 */
export async function epochLinks(source: SourceChain, knownEpoch: number, epoch: number, options: ProofOptions = {}): Promise<EpochLink[]> {
  const lists = await nodeListsFrom(source, knownEpoch, epoch);
  const links: EpochLink[] = [];
  for (let i = 1; i < lists.length; i++) {
    const previous = lists[i - 1]!;
    const newList = lists[i]!;
    const toEpoch = knownEpoch + i;
    const builder = linkBuilderFor(previous, options);
    // A link message names both epochs and both list hashes: it carries no binding to check here.
    const { signatures } = await builder.sign({ source, list: previous, statement: { kind: 'epoch-link', toEpoch }, accept: () => undefined, options });
    links.push({ chainId: newList.chainId, fromEpoch: toEpoch - 1, toEpoch, newList, proof: { scheme: builder.scheme, version: builder.version, signatures } });
  }
  return links;
}

/**
 * Proof of `statement` by the source's current list, in `options.scheme`, with the links from
 * `knownEpoch` (undefined: none, the verifier knows the current list or takes it as it is).
 */
export async function buildStatementProof(source: SourceChain, statement: ListBoundStatement, knownEpoch: number | undefined, options: ProofOptions = {}): Promise<BuiltProof> {
  const builder = builderFor(options.scheme);
  const current = options.currentList ?? (await nodeListAt(source));
  const signed = await builder.sign({ source, list: current, statement, accept: (message) => requireListEpoch(message, current), options });
  const epoch = current.epoch;
  const links = knownEpoch !== undefined && epoch > knownEpoch ? await epochLinks(source, knownEpoch, epoch, options) : [];
  const proof: Proof = { scheme: builder.scheme, version: builder.version, epoch, links, signatures: signed.signatures };
  return { proof, message: signed.message, failures: signed.failures };
}

/**
 * Proof for ReceivePacket / RecordTimeout on the destination, in the route's scheme.
 *
 * @example
 *   await buildPacketProof(src, 'consent', 7, known);                                   // scheme 1
 *   await buildPacketProof(src, 'consent', 7, known, { scheme: 'bls12381-aggregate', signers });
 */
export function buildPacketProof(source: SourceChain, routeId: string, sequence: number, knownEpoch: number, options?: ProofOptions): Promise<BuiltProof> {
  return buildStatementProof(source, { kind: 'packet', routeId, sequence }, knownEpoch, options);
}

/** Proof for AcknowledgePacket / TimeoutPacket on the packet's source (here `source` is the destination chain). */
export function buildAckProof(source: SourceChain, routeId: string, sequence: number, knownEpoch: number, options?: ProofOptions): Promise<BuiltProof> {
  return buildStatementProof(source, { kind: 'ack', routeId, sequence }, knownEpoch, options);
}

/**
 * Attestation of a record anchor by `source`'s current list (scheme 1): the endorsements of
 * `CrossChain:GetRecordAnchorAttestation(recordId, version)` by its listed peers, plus the
 * epoch links from `knownEpoch` (the epoch the requester's chain registered for `source`).
 * The requester verifies it with protocol/record-attestation.ts.
 */
export function buildRecordAnchorProof(source: SourceChain, recordId: string, version: number, knownEpoch?: number): Promise<BuiltProof> {
  const from = knownEpoch !== undefined && knownEpoch >= 1 ? knownEpoch : undefined;
  return buildStatementProof(source, { kind: 'record-anchor', recordId, version }, from, { scheme: DEFAULT_BUILDER.scheme });
}

/**
 * Attestation of a record version `custodian` anchored privately (scheme 1): the endorsements of
 * `CrossChain:GetPrivateRecordAnchorAttestation(recordId, version, custodian)`, which names the
 * hash of the stored version every peer holds (chaincode/CONSENT.md "Private patients and anchors").
 */
export function buildPrivateRecordAnchorProof(source: SourceChain, recordId: string, version: number, custodian: string, knownEpoch?: number): Promise<BuiltProof> {
  const from = knownEpoch !== undefined && knownEpoch >= 1 ? knownEpoch : undefined;
  return buildStatementProof(source, { kind: 'private-record-anchor', recordId, version, custodian }, from, { scheme: DEFAULT_BUILDER.scheme });
}
