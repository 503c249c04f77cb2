/**
 * The small interface every proof scheme implements, and the list of schemes a verifier
 * knows. A scheme only answers three questions about its signature part: is it well
 * formed, which listed nodes claim to have signed, and are those signatures valid over
 * exactly the expected message. Path-proof and threshold are decided outside, the same
 * way for every scheme (verify.ts), so a new scheme cannot weaken them.
 */
import type { X509Certificate } from 'node:crypto';
import { fail } from '../errors';
import type { ParsedCert } from './certificates';
import type { ListFacts, VerificationNodeList } from './node-list';

export interface ClaimedSigner {
  nodeId: string;
  mspId: string;
  subgroupId: string;
  /** The certificate pinned for this node in the list. */
  cert: X509Certificate;
  /** The same certificate as parsed once per content (certificates.ts), when the scheme has it. */
  parsed?: ParsedCert;
}

/** What a scheme may bind a signature to beyond the message: the chain (channel) it was made on. */
export interface VerifyContext {
  /** The signing chain's id; a chain's id is its channel name (Governance:Bootstrap). */
  chainId: string;
}

export interface ProofScheme<Parsed = unknown> {
  /** Value of the proof's `scheme` field, e.g. 'fabric-endorsement'. */
  readonly scheme: string;
  /** Value of the proof's `version` field this implementation accepts. */
  readonly version: number;
  /**
   * The same signers over the same message always give the same signature part (BLS), so an
   * epoch link's signature set recurs in every proof that carries the link and is worth
   * remembering once verified (verify.ts). Scheme 1 endorsements differ per proposal.
   */
  readonly repeatsSignatures?: boolean;
  /** Structure and size of the `signatures` part; MALFORMED_PROOF or PROOF_TOO_LARGE. */
  parse(signatures: unknown): Parsed;
  /**
   * The listed nodes that claim to have signed; SIGNER_NOT_IN_LIST or DUPLICATE_SIGNER. `facts`
   * is what the verifier already derived from `list` (node-list.ts listFacts).
   */
  claimedSigners(parsed: Parsed, list: VerificationNodeList, facts?: ListFacts): ClaimedSigner[];
  /**
   * Every claimed signature over exactly `message`, made on the chain `context.chainId`;
   * SIGNATURE_INVALID or COMMITMENT_MISMATCH.
   */
  verifySignatures(parsed: Parsed, signers: readonly ClaimedSigner[], message: Buffer, context: VerifyContext): void;
}

const registry = new Map<string, ProofScheme>();

function schemeKey(scheme: string, version: number): string {
  return `${scheme}/v${version}`;
}

/** Adds a scheme implementation (schemes.ts registers every scheme the chaincode ships). */
export function registerScheme<Parsed>(s: ProofScheme<Parsed>): void {
  registry.set(schemeKey(s.scheme, s.version), s as unknown as ProofScheme);
}

export function getScheme(scheme: string, version: number): ProofScheme {
  const s = registry.get(schemeKey(scheme, version));
  if (!s) fail('UNSUPPORTED_SCHEME', `proof scheme ${scheme} version ${version} is not supported`);
  return s;
}

export function knownSchemes(): string[] {
  return [...new Set([...registry.values()].map((s) => s.scheme))].sort();
}
