/**
 * The `bls12381-aggregate` v1 implementation of the project's ProofScheme interface
 * (protocol/scheme.ts), so that protocol/verify.ts applies the same path-proof (every named
 * node's pinned certificate chains to a registered root, valid at transaction time, not revoked)
 * and the same threshold rule (protocol/threshold.ts) as for scheme 1, then asks this scheme for
 * the one pairing check.
 */
import { fail } from '../../errors';
import { parsedCert } from '../certificates';
import type { ListFacts, VerificationNodeList } from '../node-list';
import { buildSignerTable } from './signer-table';
import type { ClaimedSigner, ProofScheme } from '../scheme';
import type { G1Point } from './encoding';
import { type BlsSignatures, namedSigners, parseBlsSignatures, verifyAggregateSignature, verifyAggregateSignatureV2 } from './proof';
import { BLS_SCHEME, BLS_SCHEME_VERSION, BLS_SCHEME_VERSION_2, type BlsSchemeVersion } from './suite';

/** A claimed signer carrying its BLS key from the verifier's own list. */
interface BlsClaimedSigner extends ClaimedSigner {
  blsPublicKey: G1Point;
  blsPublicKeyB64: string;
}

function hasBlsKey(s: ClaimedSigner): s is BlsClaimedSigner {
  return 'blsPublicKey' in s && (s as Partial<BlsClaimedSigner>).blsPublicKey !== undefined;
}

function blsAggregateSchemeOf(version: BlsSchemeVersion): ProofScheme<BlsSignatures> {
  return {
    scheme: BLS_SCHEME,
    version,
    repeatsSignatures: true,

    parse(signatures: unknown): BlsSignatures {
      return parseBlsSignatures(signatures);
    },

    claimedSigners(parsed: BlsSignatures, list: VerificationNodeList, facts?: ListFacts): ClaimedSigner[] {
      // The signer order and decoded keys depend on the list's content only: laid out once per list.
      const table = facts?.derive('bls-signer-table', buildSignerTable) ?? buildSignerTable(list);
      return namedSigners(parsed, list, table).map((s): BlsClaimedSigner => {
        const cert = parsedCert(s.certPem);
        return {
          nodeId: s.nodeId,
          mspId: s.mspId,
          subgroupId: s.subgroupId,
          cert: cert.cert,
          parsed: cert,
          blsPublicKey: s.publicKey,
          blsPublicKeyB64: s.publicKeyB64,
        };
      });
    },

    verifySignatures(parsed: BlsSignatures, signers: readonly ClaimedSigner[], message: Buffer): void {
      const keys = signers.map((s) => {
        if (!hasBlsKey(s)) fail('MALFORMED_PROOF', `signer ${s.nodeId} was not named by a ${BLS_SCHEME} bitmap`);
        return s;
      });
      if (version === BLS_SCHEME_VERSION_2) {
        verifyAggregateSignatureV2(
          parsed.signature,
          keys.map((k) => ({ publicKey: k.blsPublicKey, publicKeyB64: k.blsPublicKeyB64 })),
          message,
        );
      } else {
        verifyAggregateSignature(
          parsed.signature,
          keys.map((k) => k.blsPublicKey),
          message,
        );
      }
    },
  };
}

/** Version 1: pure-JS pairing under the project's own tags. */
export const blsAggregateScheme: ProofScheme<BlsSignatures> = blsAggregateSchemeOf(BLS_SCHEME_VERSION);
/** Version 2: the tag blst fixes, native where it loads (backend.ts). */
export const blsAggregateSchemeV2: ProofScheme<BlsSignatures> = blsAggregateSchemeOf(BLS_SCHEME_VERSION_2);
