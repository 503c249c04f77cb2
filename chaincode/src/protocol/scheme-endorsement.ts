/**
 * Scheme 1, `fabric-endorsement` version 2 (PROTOCOL.md "Scheme fabric-endorsement").
 *
 * Each signature is one Fabric endorsement of a read-only medbridge query on the source
 * peer: the endorser's SerializedIdentity bytes, its ECDSA signature, the
 * ProposalResponsePayload bytes it signed, and the Proposal it answered. Fabric signs
 * SHA-256(payload || endorser). The payload must hold a ChaincodeAction of chaincode
 * `medbridge` whose response has status 200 and whose response payload is byte for byte the
 * expected message: the peer read it from its own ledger, and the relay cannot have changed a
 * single byte of it.
 *
 * The payload also holds the hash of the proposal the peer executed. Version 2 carries that
 * proposal, and the verifier checks its hash, then that it ran on the signing chain's channel
 * (a chain's id is its channel name: Governance:Bootstrap), on chaincode `medbridge`, as the
 * one read-only query that returns this kind of message with the arguments the message names.
 * So an endorsement counts only for the query that produced it, not because no other function
 * happens to return caller bytes. Version 1 (no proposal) is no longer accepted.
 */
import { createHash, verify as verifySignature } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import { fail } from '../errors';
import { parsedCert, type ParsedCert } from './certificates';
import { asObject, reqArray, reqBase64, type Obj } from './fields';
import { Limits } from './limits';
import { listFacts, type ListFacts, type VerificationNodeList } from './node-list';
import type { ClaimedSigner, ProofScheme, VerifyContext } from './scheme';
import { canonicalize } from './canonical-json';
import { Domains } from './commitment';
import { Memo } from './verification-cache';
import { singleBytesField, WireMessage, type WireSchema } from './protobuf-wire';

export const ENDORSEMENT_SCHEME = 'fabric-endorsement';
export const CHAINCODE_NAME = 'medbridge';
/** The version of scheme 1 this verifier accepts (2: each endorsement carries its proposal). */
export const ENDORSEMENT_VERSION = 2;

/** common.HeaderType.ENDORSER_TRANSACTION. */
const ENDORSER_TRANSACTION = 3;

/**
 * The known fields of the Fabric messages read here (fabric-protos: common/common.proto,
 * peer/proposal.proto, peer/proposal_response.proto, peer/chaincode.proto): field number to
 * wire type (0 varint, 2 length-delimited). protobuf-wire.ts refuses a known field of another type.
 */
const Wire = {
  Proposal: { 1: 2, 2: 2, 3: 2 },
  Header: { 1: 2, 2: 2 },
  ChaincodeProposalPayload: { 1: 2, 2: 2 },
  ChannelHeader: { 1: 0, 2: 0, 3: 2, 4: 2, 5: 2, 6: 0, 7: 2, 8: 2 },
  ChaincodeHeaderExtension: { 2: 2 },
  ChaincodeInvocationSpec: { 1: 2 },
  ChaincodeSpec: { 1: 0, 2: 2, 3: 2, 4: 0 },
  ChaincodeInput: { 1: 2, 2: 2, 3: 0 },
  ChaincodeID: { 1: 2, 2: 2, 3: 2 },
  ProposalResponsePayload: { 1: 2, 2: 2 },
  ChaincodeAction: { 1: 2, 2: 2, 3: 2, 4: 2 },
  Response: { 1: 0, 2: 2, 3: 2 },
} satisfies Record<string, WireSchema>;

export interface EndorsementSignature {
  /** base64 of the endorser's msp.SerializedIdentity. */
  endorser: string;
  /** base64 of the DER ECDSA signature. */
  signature: string;
  /** base64 of the peer.ProposalResponsePayload. */
  payload: string;
  /** base64 of the peer.Proposal the endorser executed (SignedProposal.proposal_bytes). */
  proposal: string;
}

interface ParsedEndorsement {
  endorserBytes: Buffer;
  signature: Buffer;
  payload: Buffer;
  proposal: Buffer;
  mspId: string;
  cert: ParsedCert;
}

interface Endorser {
  endorserBytes: Buffer;
  mspId: string;
  cert: ParsedCert;
}

/** Endorser identities by their base64 text: a list's nodes endorse proof after proof. */
const endorsers = new Memo<Endorser>(1024);

/** The endorser of `o` from its decoded bytes (the caller checked the base64), kept by its text. */
function parseEndorser(o: Obj, endorserBytes: Buffer, what: string, index: number): Endorser {
  const parse = (): Endorser => {
    const { mspId, certPem } = decodeIdentity(endorserBytes, index);
    try {
      return { endorserBytes, mspId, cert: parsedCert(certPem) };
    } catch {
      fail('MALFORMED_PROOF', `${what}: endorser certificate is not X.509`);
    }
  };
  return endorsers.get(o.endorser as string, parse);
}

/**
 * Decodes a base64 field once for a run of endorsements carrying the same text (every endorsement
 * of one query carries the same proposal, and the same payload where the peers agree): the
 * previous endorsement's text is compared whole, which costs less than hashing it into a map, and
 * the bytes are then the same Buffer (verifySignatures recognises a checked pair by it).
 */
function base64Once(previous: Map<string, { text: string; bytes: Buffer }>, o: Obj, k: string, what: string): Buffer {
  const text = o[k];
  const last = previous.get(k);
  if (last !== undefined && text === last.text) return last.bytes;
  const bytes = reqBase64(o, k, 'MALFORMED_PROOF', what, Limits.maxSignatureFieldChars);
  previous.set(k, { text: text as string, bytes });
  return bytes;
}

function decodeIdentity(bytes: Buffer, index: number): { mspId: string; certPem: string } {
  try {
    const id = msp.SerializedIdentity.deserializeBinary(bytes);
    const mspId = id.getMspid();
    const certPem = Buffer.from(id.getIdBytes_asU8()).toString('utf8');
    if (!mspId || !certPem) throw new Error('empty');
    return { mspId, certPem };
  } catch {
    fail('MALFORMED_PROOF', `signature ${index}: endorser is not a serialized identity`);
  }
}

export const endorsementScheme: ProofScheme<ParsedEndorsement[]> = {
  scheme: ENDORSEMENT_SCHEME,
  version: ENDORSEMENT_VERSION,

  parse(signatures: unknown): ParsedEndorsement[] {
    const C = 'MALFORMED_PROOF' as const;
    if (Array.isArray(signatures) && signatures.length > Limits.maxSigners) {
      fail('PROOF_TOO_LARGE', `a proof carries at most ${Limits.maxSigners} signatures`);
    }
    const list = reqArray({ signatures }, 'signatures', C, 'proof', Limits.maxSigners, 1);
    const previous = new Map<string, { text: string; bytes: Buffer }>();
    return list.map((raw, i) => {
      const what = `signature ${i}`;
      const o = asObject(raw, C, what, ['endorser', 'signature', 'payload', 'proposal']);
      // Field checks in the order they always ran; the endorser's identity is decoded last. A
      // known endorser text is looked up once; an unknown one is decoded once (checked here).
      const known = typeof o.endorser === 'string' ? endorsers.find(o.endorser) : undefined;
      const decoded = known === undefined ? reqBase64(o, 'endorser', C, what, Limits.maxSignatureFieldChars) : undefined;
      const signature = reqBase64(o, 'signature', C, what, 256);
      const payload = base64Once(previous, o, 'payload', what);
      if (o.proposal === undefined) fail(C, `${what}.proposal is missing (${ENDORSEMENT_SCHEME} version 2 carries the proposal each endorsement answers)`);
      const proposal = base64Once(previous, o, 'proposal', what);
      const { endorserBytes, mspId, cert } = known ?? parseEndorser(o, decoded as Buffer, what, i);
      return { endorserBytes, signature, payload, proposal, mspId, cert };
    });
  },

  claimedSigners(parsed: ParsedEndorsement[], list: VerificationNodeList, facts?: ListFacts): ClaimedSigner[] {
    const seen = new Set<string>();
    const index = (facts ?? listFacts(list)).index;
    return parsed.map((p, i) => {
      const found = index.find(p.mspId, p.cert);
      if (!found) {
        fail('SIGNER_NOT_IN_LIST', `signature ${i}: ${p.mspId} endorser ${p.cert.cert.subject.replace(/\n/g, ', ')} is not in list epoch ${list.epoch} of ${list.chainId}`);
      }
      if (seen.has(found.node.nodeId)) fail('DUPLICATE_SIGNER', `signature ${i}: node ${found.node.nodeId} signed more than once`);
      seen.add(found.node.nodeId);
      return { nodeId: found.node.nodeId, mspId: found.node.mspId, subgroupId: found.subgroupId, cert: found.cert, parsed: found.parsed };
    });
  },

  verifySignatures(parsed: ParsedEndorsement[], signers: readonly ClaimedSigner[], message: Buffer, context: VerifyContext): void {
    const query = expectedQuery(message);
    // A (payload, proposal) pair that passed the checks below passes them for every signer:
    // they read nothing but those bytes, the message, the channel and the query. parse() hands
    // equal texts of one proof over as one Buffer, so the pair is recognised by identity.
    const answered = new Map<Buffer, Buffer>();
    parsed.forEach((p, i) => {
      const signer = signers[i];
      if (!signer) fail('MALFORMED_PROOF', `signature ${i} has no matched signer`);
      let ok = false;
      try {
        ok = verifySignature('sha256', signedBytes(p.payload, p.endorserBytes), signer.parsed?.key ?? signer.cert.publicKey, p.signature);
      } catch {
        ok = false;
      }
      if (!ok) fail('SIGNATURE_INVALID', `signature ${i} of node ${signer.nodeId} does not verify`);
      if (answered.get(p.payload) === p.proposal) return;
      const response = decodeResponse(p.payload, i, signer.nodeId);
      if (response.chaincode !== CHAINCODE_NAME) {
        fail('COMMITMENT_MISMATCH', `node ${signer.nodeId} endorsed chaincode ${response.chaincode}, not ${CHAINCODE_NAME}`);
      }
      if (response.status !== 200) fail('COMMITMENT_MISMATCH', `node ${signer.nodeId} endorsed a response with status ${response.status}`);
      if (!response.payload.equals(message)) {
        fail('COMMITMENT_MISMATCH', `node ${signer.nodeId} endorsed different bytes than the expected commitment`);
      }
      checkProposal(p.proposal, response.proposalHash, context.chainId, query, signer.nodeId);
      answered.set(p.payload, p.proposal);
    });
  },
};

/**
 * What an endorser signed, payload || endorser, written into one buffer kept for the purpose
 * instead of a new one per signature (verification is synchronous: the bytes are read before the
 * next signature writes them). Grows to the largest pair seen.
 */
let scratch = Buffer.allocUnsafeSlow(8192);

function signedBytes(payload: Buffer, endorser: Buffer): Buffer {
  const n = payload.length + endorser.length;
  if (scratch.length < n) scratch = Buffer.allocUnsafeSlow(Math.max(n, 2 * scratch.length));
  payload.copy(scratch, 0);
  endorser.copy(scratch, payload.length);
  return scratch.subarray(0, n);
}

/** The query a message of each kind comes from, and the arguments the message fixes. */
export interface CommitmentQuery {
  /** Fully qualified function, as the proposal's first argument carries it. */
  fn: string;
  /** Accepted argument lists after the function name. */
  args: string[][];
}

/**
 * Which read-only function returns `message` (by its domain) and with which arguments. Any
 * other message is not something a medbridge node signs in scheme 1 (PROPOSAL_MISMATCH).
 */
export function expectedQuery(message: Buffer): CommitmentQuery {
  let m: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(message.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    m = parsed as Record<string, unknown>;
  } catch {
    fail('PROPOSAL_MISMATCH', 'the expected message is not a medbridge commitment');
  }
  const str = (v: unknown): string => (typeof v === 'number' || typeof v === 'string' ? String(v) : '');
  switch (m.domain) {
    case Domains.packet:
      return { fn: 'CrossChain:GetPacketCommitment', args: [[str(m.routeId), str(m.sequence)]] };
    case Domains.ack:
      return { fn: 'CrossChain:GetAckCommitment', args: [[str(m.routeId), str(m.sequence)]] };
    case Domains.packetBatch:
      return { fn: 'CrossChain:GetPacketBatchCommitment', args: [[str(m.routeId), str(m.fromSequence), str(m.count)]] };
    case Domains.ackBatch:
      return { fn: 'CrossChain:GetAckBatchCommitment', args: [[str(m.routeId), str(m.fromSequence), str(m.count)]] };
    case Domains.packetRuns:
      return { fn: 'CrossChain:GetPacketRunsCommitment', args: [[runsQueryArg(m.runs, 'packetHashes')]] };
    case Domains.ackRuns:
      return { fn: 'CrossChain:GetAckRunsCommitment', args: [[runsQueryArg(m.runs, 'ackHashes')]] };
    case Domains.epochLink:
      return { fn: 'CrossChain:GetEpochLinkMessage', args: [[str(m.toEpoch)]] };
    case Domains.recordAnchor:
      return { fn: 'CrossChain:GetRecordAnchorAttestation', args: [[str(m.recordId), str(m.version)], [str(m.recordId), '']] };
    case Domains.privateRecordAnchor:
      return { fn: 'CrossChain:GetPrivateRecordAnchorAttestation', args: [[str(m.recordId), str(m.version), str(m.custodian)]] };
    default:
      fail('PROPOSAL_MISMATCH', `messages of domain ${String(m.domain)} are not signed in ${ENDORSEMENT_SCHEME}`);
  }
}

/**
 * The argument a runs statement query takes for the runs a message names: the canonical JSON of
 * [{routeId, fromSequence, count}] in the message's order ('' for a malformed message, which no
 * proposal matches).
 */
function runsQueryArg(runs: unknown, field: 'packetHashes' | 'ackHashes'): string {
  if (!Array.isArray(runs)) return '';
  const refs = [];
  for (const run of runs as unknown[]) {
    if (run === null || typeof run !== 'object') return '';
    const r = run as Record<string, unknown>;
    const hashes = r[field];
    if (!Array.isArray(hashes)) return '';
    refs.push({ routeId: r.routeId, fromSequence: r.fromSequence, count: hashes.length });
  }
  return canonicalize(refs);
}

/**
 * The proposal an endorsement answered: its hash is the one the endorser signed (Fabric: SHA-256
 * of channel header, signature header and the chaincode proposal payload without transient
 * data), it is an endorser transaction on `channel`, for chaincode medbridge, calling `query`.
 */
function checkProposal(proposalBytes: Buffer, signedHash: Buffer, channel: string, query: CommitmentQuery, nodeId: string): void {
  const P = 'PROPOSAL_MISMATCH' as const;
  let channelHeader: WireMessage;
  let chaincode: string;
  let args: string[];
  let hash: Buffer;
  try {
    const proposal = WireMessage.read(proposalBytes, Wire.Proposal);
    const header = WireMessage.read(proposal.bytes(1), Wire.Header);
    const payload = WireMessage.read(proposal.bytes(2), Wire.ChaincodeProposalPayload);
    const input = payload.bytes(1);
    hash = createHash('sha256').update(header.bytes(1)).update(header.bytes(2)).update(singleBytesField(input)).digest();
    channelHeader = WireMessage.read(header.bytes(1), Wire.ChannelHeader);
    const headerExt = WireMessage.read(channelHeader.bytes(7), Wire.ChaincodeHeaderExtension);
    chaincode = headerExt.message(2, Wire.ChaincodeID)?.string(2) ?? '';
    const spec = WireMessage.read(input, Wire.ChaincodeInvocationSpec).message(1, Wire.ChaincodeSpec);
    args = (spec?.message(3, Wire.ChaincodeInput)?.repeated(1) ?? []).map((a) => a.toString('utf8'));
  } catch {
    fail(P, `node ${nodeId}: the proposal carried with its endorsement does not decode`);
  }
  if (!hash.equals(signedHash)) fail(P, `node ${nodeId} endorsed another proposal than the one carried with its endorsement`);
  if (channelHeader.int32(1) !== ENDORSER_TRANSACTION) fail(P, `node ${nodeId} endorsed a proposal that is not an endorser transaction`);
  const channelId = channelHeader.string(4);
  if (channelId !== channel) {
    fail('WRONG_CHANNEL', `node ${nodeId} endorsed a proposal on channel ${channelId}, not on ${channel}`);
  }
  if (chaincode !== CHAINCODE_NAME) fail(P, `node ${nodeId} endorsed a proposal to chaincode ${chaincode}, not ${CHAINCODE_NAME}`);
  const [fn, ...rest] = args;
  if (fn !== query.fn) fail(P, `node ${nodeId} endorsed ${fn ?? 'no function'}; this message comes from ${query.fn}`);
  if (!query.args.some((want) => want.length === rest.length && want.every((a, i) => a === rest[i]))) {
    fail(P, `node ${nodeId} endorsed ${fn} with other arguments than this message names`);
  }
}

function decodeResponse(payload: Buffer, index: number, nodeId: string): { chaincode: string; status: number; payload: Buffer; proposalHash: Buffer } {
  try {
    const prp = WireMessage.read(payload, Wire.ProposalResponsePayload);
    const action = WireMessage.read(prp.bytes(2), Wire.ChaincodeAction);
    const response = action.message(3, Wire.Response);
    if (!response) throw new Error('no response');
    return {
      chaincode: action.message(4, Wire.ChaincodeID)?.string(2) ?? '',
      status: response.int32(1),
      payload: response.bytes(3),
      proposalHash: prp.bytes(1),
    };
  } catch {
    fail('COMMITMENT_MISMATCH', `signature ${index}: node ${nodeId} signed something that is not a chaincode proposal response`);
  }
}
