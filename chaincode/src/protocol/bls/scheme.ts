/**
 * The `bls12381-aggregate` v1 implementation of the project's ProofScheme interface
 * (protocol/scheme.ts), so that protocol/verify.ts applies the same path-proof (every named
 * node's pinned certificate chains to a registered root, valid at transaction time, not revoked)
 * and the same threshold rule (protocol/threshold.ts) as for scheme 1, then asks this scheme for
 * the one pairing check.
 */
import { fail } from '../../errors';
import { parsedCert } from '../certificates';
import type { VerificationNodeList } from '../node-list';
import type { ClaimedSigner, ProofScheme } from '../scheme';
import type { G1Point } from './encoding';
import { type BlsSignatures, namedSigners, parseBlsSignatures, verifyAggregateSignature } from './proof';
import { BLS_SCHEME, BLS_SCHEME_VERSION } from './suite';

/** A claimed signer carrying its BLS key from the verifier's own list. */
interface BlsClaimedSigner extends ClaimedSigner {
  blsPublicKey: G1Point;
}

function hasBlsKey(s: ClaimedSigner): s is BlsClaimedSigner {
  return 'blsPublicKey' in s && (s as Partial<BlsClaimedSigner>).blsPublicKey !== undefined;
}

export const blsAggregateScheme: ProofScheme<BlsSignatures> = {
  scheme: BLS_SCHEME,
  version: BLS_SCHEME_VERSION,

  parse(signatures: unknown): BlsSignatures {
    return parseBlsSignatures(signatures);
  },

  claimedSigners(parsed: BlsSignatures, list: VerificationNodeList): ClaimedSigner[] {
    return namedSigners(parsed, list).map(
      (s): BlsClaimedSigner => ({
        nodeId: s.nodeId,
        mspId: s.mspId,
        subgroupId: s.subgroupId,
        cert: parsedCert(s.certPem).cert,
        parsed: parsedCert(s.certPem),
        blsPublicKey: s.publicKey,
      }),
    );
  },

  verifySignatures(parsed: BlsSignatures, signers: readonly ClaimedSigner[], message: Buffer): void {
    const keys = signers.map((s) => {
      if (!hasBlsKey(s)) fail('MALFORMED_PROOF', `signer ${s.nodeId} was not named by a ${BLS_SCHEME} bitmap`);
      return s.blsPublicKey;
    });
    verifyAggregateSignature(parsed.signature, keys, message);
  },
};
