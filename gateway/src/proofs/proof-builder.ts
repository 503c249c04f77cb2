/**
 * Assembles proofs (protocol/proof.ts) from a source chain's own nodes: the signatures of the
 * current list over the packet or acknowledgement message, and the epoch links the destination
 * still needs (each signed by the previous list). The scheme is the route's:
 *  - `fabric-endorsement` (default): endorsements of the source's own peers; only endorsers that
 *    are listed nodes of the signing epoch are kept;
 *  - `bls12381-aggregate`: partial signatures from each node's signer service (mutual TLS),
 *    verified and aggregated here (bls-builder.ts, chaincode/BLS.md "Relay side").
 */
import { X509Certificate } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import type { VerificationNodeList } from '@medbridge/chaincode/dist/protocol/node-list';
import type { EpochLink, Proof } from '@medbridge/chaincode/dist/protocol/proof';
import { ENDORSEMENT_VERSION, type EndorsementSignature } from '@medbridge/chaincode/dist/protocol/scheme-endorsement';
import type { OrgConnection } from '../fabric/connection';
import type { PeerEndpoint } from '../fabric/profile';
import { collectEndorsements, signedProposal, type PeerFailure } from './endorsements';
import { blsEpochLink, blsStatementProof, linkSchemeFor, type ProofOptions } from './bls-builder';

export interface SourceChain {
  /** Channel name of the source chain. */
  channel: string;
  /** A connection of a member org of the source channel (signs the proposals). */
  connection: OrgConnection;
  /** Every peer of the source chain that may be a verification node. */
  peers: readonly PeerEndpoint[];
}

export interface BuiltProof {
  proof: Proof;
  /** The message the signatures cover (for logs and checks). */
  message: Buffer;
  failures: PeerFailure[];
}

const CONTRACT = 'CrossChain';

export async function evaluate(source: SourceChain, fn: string, args: string[]): Promise<string> {
  const bytes = await source.connection.contract(source.channel, CONTRACT).evaluateTransaction(fn, ...args);
  return Buffer.from(bytes).toString('utf8');
}

export async function nodeListAt(source: SourceChain, epoch: number | ''): Promise<VerificationNodeList> {
  const out = JSON.parse(await evaluate(source, 'GetNodeList', [String(epoch)])) as { list: VerificationNodeList };
  return out.list;
}

function isListed(list: VerificationNodeList, sig: EndorsementSignature): boolean {
  const id = msp.SerializedIdentity.deserializeBinary(Buffer.from(sig.endorser, 'base64'));
  const cert = new X509Certificate(Buffer.from(id.getIdBytes_asU8()));
  return list.subgroups.some(
    (s) => s.mspId === id.getMspid() && s.nodes.some((n) => new X509Certificate(n.certPem).raw.equals(cert.raw)),
  );
}

/** Endorsements of `fn(args)` by every listed node of `list` that answered. */
async function signaturesOf(source: SourceChain, list: VerificationNodeList, fn: string, args: string[]) {
  const contract = source.connection.contract(source.channel, CONTRACT);
  const signed = await signedProposal(contract, source.connection.signer, fn, args);
  const collected = await collectEndorsements(source.peers, signed);
  const listed = collected.signatures.filter((s) => isListed(list, s));
  const signatures: EndorsementSignature[] = listed.map(({ endorser, signature, payload, proposal }) => ({ endorser, signature, payload, proposal }));
  return { message: collected.message, signatures, failures: collected.failures };
}

/**
 * Links from `knownEpoch` (what the destination stores for this source) up to `epoch`. Each link
 * is signed by the list it replaces, in scheme 1 unless `options` ask for (or, with linkScheme
 * 'auto', allow) the aggregate scheme and every node of that list has a BLS key.
 */
export async function epochLinks(source: SourceChain, knownEpoch: number, epoch: number, options: ProofOptions = {}): Promise<EpochLink[]> {
  const links: EpochLink[] = [];
  let previous = await nodeListAt(source, knownEpoch);
  for (let to = knownEpoch + 1; to <= epoch; to++) {
    const newList = await nodeListAt(source, to);
    let proof: EpochLink['proof'];
    if (linkSchemeFor(previous, options) === 'bls12381-aggregate') {
      proof = await blsEpochLink(source, previous, to, options);
    } else {
      const { signatures } = await signaturesOf(source, previous, 'GetEpochLinkMessage', [String(to)]);
      proof = { scheme: 'fabric-endorsement', version: ENDORSEMENT_VERSION, signatures };
    }
    links.push({ chainId: newList.chainId, fromEpoch: to - 1, toEpoch: to, newList, proof });
    previous = newList;
  }
  return links;
}

async function statementProof(
  source: SourceChain,
  fn: 'GetPacketCommitment' | 'GetAckCommitment',
  routeId: string,
  sequence: number,
  knownEpoch: number,
  options: ProofOptions = {},
): Promise<BuiltProof> {
  if (options.scheme === 'bls12381-aggregate') {
    const built = await blsStatementProof(source, fn, routeId, sequence, options);
    const links = built.proof.epoch > knownEpoch ? await epochLinks(source, knownEpoch, built.proof.epoch, options) : [];
    return { ...built, proof: { ...built.proof, links } };
  }
  const current = await nodeListAt(source, '');
  const { message, signatures, failures } = await signaturesOf(source, current, fn, [routeId, String(sequence)]);
  const epoch = (JSON.parse(message.toString('utf8')) as { epoch: number }).epoch;
  if (epoch !== current.epoch) throw new Error(`peers signed epoch ${epoch} while the list is at ${current.epoch}; retry`);
  const links = epoch > knownEpoch ? await epochLinks(source, knownEpoch, epoch, options) : [];
  return { proof: { scheme: 'fabric-endorsement', version: ENDORSEMENT_VERSION, epoch, links, signatures }, message, failures };
}

/**
 * Proof for ReceivePacket / RecordTimeout on the destination, in the route's scheme.
 *
 * @example
 *   await buildPacketProof(src, 'consent', 7, known);                                   // scheme 1
 *   await buildPacketProof(src, 'consent', 7, known, { scheme: 'bls12381-aggregate', signers });
 */
export function buildPacketProof(source: SourceChain, routeId: string, sequence: number, knownEpoch: number, options?: ProofOptions): Promise<BuiltProof> {
  return statementProof(source, 'GetPacketCommitment', routeId, sequence, knownEpoch, options);
}

/** Proof for AcknowledgePacket / TimeoutPacket on the packet's source (here `source` is the destination chain). */
export function buildAckProof(source: SourceChain, routeId: string, sequence: number, knownEpoch: number, options?: ProofOptions): Promise<BuiltProof> {
  return statementProof(source, 'GetAckCommitment', routeId, sequence, knownEpoch, options);
}

/**
 * Attestation of a record anchor by `source`'s current list (scheme 1): the endorsements of
 * `CrossChain:GetRecordAnchorAttestation(recordId, version)` by its listed peers, plus the
 * epoch links from `knownEpoch` (the epoch the requester's chain registered for `source`).
 * The requester verifies it with protocol/record-attestation.ts.
 */
export async function buildRecordAnchorProof(source: SourceChain, recordId: string, version: number, knownEpoch?: number): Promise<BuiltProof> {
  const current = await nodeListAt(source, '');
  const { message, signatures, failures } = await signaturesOf(source, current, 'GetRecordAnchorAttestation', [recordId, String(version)]);
  const epoch = (JSON.parse(message.toString('utf8')) as { epoch: number }).epoch;
  if (epoch !== current.epoch) throw new Error(`peers signed epoch ${epoch} while the list is at ${current.epoch}; retry`);
  const from = knownEpoch !== undefined && knownEpoch >= 1 && knownEpoch < epoch ? knownEpoch : epoch;
  const links = from < epoch ? await epochLinks(source, from, epoch) : [];
  return { proof: { scheme: 'fabric-endorsement', version: ENDORSEMENT_VERSION, epoch, links, signatures }, message, failures };
}
