/**
 * Record anchor attestations (PROTOCOL.md "Record anchor attestation"): a threshold of a
 * chain's verification nodes endorses `CrossChain:GetRecordAnchorAttestation(recordId,
 * version)`, whose response is `recordAnchorMessage` built by each peer from its own
 * ledger. A hospital that is not a member of that chain checks the proof against the
 * chain's list as registered on its own chain, with exactly the verifier packets use
 * (path-proof, threshold, signatures: verify.ts), then compares the salted hash.
 */
import { fail } from '../errors';
import { privateRecordAnchorMessage, recordAnchorMessage, type PrivateRecordAnchorRef, type RecordAnchorRef } from './commitment';
import type { Proof } from './proof';
import { verifyProof, type RemoteView, type VerifiedProof } from './verify';

export type { PrivateRecordAnchorRef, RecordAnchorRef };

/** What the requester learns once an attestation verifies. */
export interface VerifiedAnchor extends VerifiedProof {
  anchor: RecordAnchorRef;
}

/**
 * Verifies that a threshold of `remote`'s nodes attested `anchor` (chain, record, version,
 * hash). Fails with the verifier's codes (EPOCH_STALE, EPOCH_SKIPPED, SIGNER_NOT_IN_LIST,
 * UNKNOWN_ROOT, THRESHOLD_NOT_MET, SIGNATURE_INVALID, COMMITMENT_MISMATCH, ...), or
 * UNKNOWN_CHAIN when the anchor names a chain other than the one `remote` describes.
 */
export function verifyRecordAnchorAttestation(remote: RemoteView, proof: Proof, atMs: number, anchor: RecordAnchorRef): VerifiedAnchor {
  if (anchor.chainId !== remote.trust.chainId) {
    fail('UNKNOWN_CHAIN', `the anchor is on ${anchor.chainId}; the trusted view is of ${remote.trust.chainId}`);
  }
  const verified = verifyProof(remote, proof, atMs, (signers) => recordAnchorMessage(anchor, signers));
  return { ...verified, anchor };
}

/**
 * Verifies that a threshold of `remote`'s nodes attested a private anchor (chain, record,
 * version, custodian, the hash of the stored version): as verifyRecordAnchorAttestation, over
 * privateRecordAnchorMessage. The caller then checks the version bytes it was given against
 * `anchor.versionDigest`.
 */
export function verifyPrivateRecordAnchorAttestation(remote: RemoteView, proof: Proof, atMs: number, anchor: PrivateRecordAnchorRef): VerifiedProof & { anchor: PrivateRecordAnchorRef } {
  if (anchor.chainId !== remote.trust.chainId) {
    fail('UNKNOWN_CHAIN', `the anchor is on ${anchor.chainId}; the trusted view is of ${remote.trust.chainId}`);
  }
  const verified = verifyProof(remote, proof, atMs, (signers) => privateRecordAnchorMessage(anchor, signers));
  return { ...verified, anchor };
}
