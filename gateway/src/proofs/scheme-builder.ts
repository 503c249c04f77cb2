/**
 * The interface every proof scheme's builder implements: the relay-side twin of the chaincode's
 * ProofScheme (chaincode/src/protocol/scheme.ts). A builder only gathers its scheme's signature
 * part over one statement; reading the lists, the epoch binding and the epoch links are done
 * once, the same way for every scheme (proof-builder.ts). The builders are registered in
 * scheme-builders.ts, under the scheme names the chaincode verifies.
 */
import type { BLS_SCHEME } from '@medbridge/chaincode';
import type { VerificationNodeList } from '@medbridge/chaincode';
import type { ENDORSEMENT_SCHEME } from '@medbridge/chaincode';
import type { Logger } from '../logger';
import type { PeerFailure } from './endorsements';
import type { SignerEndpoint } from './signer-client';
import type { SourceChain, Statement } from './source-chain';

/** A scheme this gateway builds proofs in. */
export type SchemeName = typeof ENDORSEMENT_SCHEME | typeof BLS_SCHEME;

/** How to build a proof; all optional, the default is scheme 1 exactly as before. */
export interface ProofOptions {
  /** The scheme the route registered (default 'fabric-endorsement'). */
  scheme?: SchemeName;
  /** Signer services of the source chain's verification nodes (needed for the aggregate scheme). */
  signers?: readonly SignerEndpoint[];
  /**
   * Scheme of epoch links. 'auto' (default): the proof's scheme when every node of the list that
   * signs the link can sign in it (for the aggregate scheme: has a BLS key), else scheme 1 (links
   * follow the schemes the destination registered for the source chain, not the route's).
   */
  linkScheme?: 'auto' | SchemeName;
  /** Per-signer request deadline (default 15 s). */
  deadlineMs?: number;
  /** The source's current list when the caller read it already (side by side with its other reads); default: read here. */
  currentList?: VerificationNodeList;
  logger?: Logger;
}

/** One signing job: the nodes of `list` on `source` sign the message of `statement`. */
export interface SignTask {
  source: SourceChain;
  list: VerificationNodeList;
  statement: Statement;
  /**
   * Checks the message before any signature over it is gathered or kept (the epoch binding of
   * a statement); throws to make the caller try again. The scheme calls it as soon as it holds
   * the message.
   */
  accept(message: Buffer): void;
  options: ProofOptions;
}

/** A scheme's signature part over one message, and the nodes that gave nothing usable. */
export interface Signed {
  /** The message the signatures cover. */
  message: Buffer;
  /** The proof's or link's `signatures` field, in the scheme's own format. */
  signatures: unknown;
  failures: PeerFailure[];
}

export interface SchemeBuilder {
  /** Value of the proof's `scheme` field, as the chaincode registers it. */
  readonly scheme: SchemeName;
  /** Value of the proof's `version` field this builder writes. */
  readonly version: number;
  /** Its signatures come from the nodes' signer services (`ProofOptions.signers`), not from the chain's peers. */
  readonly usesSignerServices: boolean;
  /** Whether every node of `list` can sign in this scheme. */
  canSign(list: VerificationNodeList): boolean;
  /** Gathers the signatures of `task.list`'s nodes over the statement's message. */
  sign(task: SignTask): Promise<Signed>;
  /** How many nodes a signature part of this scheme names (0 when it is empty or malformed). */
  countSigners(signatures: unknown): number;
}
