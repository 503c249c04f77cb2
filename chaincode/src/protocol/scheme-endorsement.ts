/**
 * Scheme 1, `fabric-endorsement` version 1 (PROTOCOL.md "Scheme fabric-endorsement").
 *
 * Each signature is one Fabric endorsement of a read-only medbridge query on the source
 * peer: the endorser's SerializedIdentity bytes, its ECDSA signature, and the
 * ProposalResponsePayload bytes it signed. Fabric signs SHA-256(payload || endorser). The
 * payload must hold a ChaincodeAction of chaincode `medbridge` whose response has status
 * 200 and whose response payload is byte for byte the expected message: the peer read it
 * from its own ledger, and the relay cannot have changed a single byte of it.
 */
import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { msp, peer } from '@hyperledger/fabric-protos';
import { fail } from '../errors';
import { asObject, reqArray, reqBase64 } from './fields';
import { Limits } from './limits';
import { findNode, type VerificationNodeList } from './node-list';
import type { ClaimedSigner, ProofScheme } from './scheme';

export const ENDORSEMENT_SCHEME = 'fabric-endorsement';
export const CHAINCODE_NAME = 'medbridge';

export interface EndorsementSignature {
  /** base64 of the endorser's msp.SerializedIdentity. */
  endorser: string;
  /** base64 of the DER ECDSA signature. */
  signature: string;
  /** base64 of the peer.ProposalResponsePayload. */
  payload: string;
}

interface ParsedEndorsement {
  endorserBytes: Buffer;
  signature: Buffer;
  payload: Buffer;
  mspId: string;
  cert: X509Certificate;
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
  version: 1,

  parse(signatures: unknown): ParsedEndorsement[] {
    const C = 'MALFORMED_PROOF' as const;
    if (Array.isArray(signatures) && signatures.length > Limits.maxSigners) {
      fail('PROOF_TOO_LARGE', `a proof carries at most ${Limits.maxSigners} signatures`);
    }
    const list = reqArray({ signatures }, 'signatures', C, 'proof', Limits.maxSigners, 1);
    return list.map((raw, i) => {
      const what = `signature ${i}`;
      const o = asObject(raw, C, what, ['endorser', 'signature', 'payload']);
      const endorserBytes = reqBase64(o, 'endorser', C, what, Limits.maxSignatureFieldChars);
      const signature = reqBase64(o, 'signature', C, what, 256);
      const payload = reqBase64(o, 'payload', C, what, Limits.maxSignatureFieldChars);
      const { mspId, certPem } = decodeIdentity(endorserBytes, i);
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(certPem);
      } catch {
        fail(C, `${what}: endorser certificate is not X.509`);
      }
      return { endorserBytes, signature, payload, mspId, cert };
    });
  },

  claimedSigners(parsed: ParsedEndorsement[], list: VerificationNodeList): ClaimedSigner[] {
    const seen = new Set<string>();
    return parsed.map((p, i) => {
      const found = findNode(list, p.mspId, p.cert);
      if (!found) {
        fail('SIGNER_NOT_IN_LIST', `signature ${i}: ${p.mspId} endorser ${p.cert.subject.replace(/\n/g, ', ')} is not in list epoch ${list.epoch} of ${list.chainId}`);
      }
      if (seen.has(found.node.nodeId)) fail('DUPLICATE_SIGNER', `signature ${i}: node ${found.node.nodeId} signed more than once`);
      seen.add(found.node.nodeId);
      return { nodeId: found.node.nodeId, mspId: found.node.mspId, subgroupId: found.subgroupId, cert: found.cert };
    });
  },

  verifySignatures(parsed: ParsedEndorsement[], signers: readonly ClaimedSigner[], message: Buffer): void {
    parsed.forEach((p, i) => {
      const signer = signers[i];
      if (!signer) fail('MALFORMED_PROOF', `signature ${i} has no matched signer`);
      let ok = false;
      try {
        ok = verifySignature('sha256', Buffer.concat([p.payload, p.endorserBytes]), signer.cert.publicKey, p.signature);
      } catch {
        ok = false;
      }
      if (!ok) fail('SIGNATURE_INVALID', `signature ${i} of node ${signer.nodeId} does not verify`);
      const response = decodeResponse(p.payload, i, signer.nodeId);
      if (response.chaincode !== CHAINCODE_NAME) {
        fail('COMMITMENT_MISMATCH', `node ${signer.nodeId} endorsed chaincode ${response.chaincode}, not ${CHAINCODE_NAME}`);
      }
      if (response.status !== 200) fail('COMMITMENT_MISMATCH', `node ${signer.nodeId} endorsed a response with status ${response.status}`);
      if (!response.payload.equals(message)) {
        fail('COMMITMENT_MISMATCH', `node ${signer.nodeId} endorsed different bytes than the expected commitment`);
      }
    });
  },
};

function decodeResponse(payload: Buffer, index: number, nodeId: string): { chaincode: string; status: number; payload: Buffer } {
  try {
    const prp = peer.ProposalResponsePayload.deserializeBinary(payload);
    const action = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8());
    const response = action.getResponse();
    if (!response) throw new Error('no response');
    return {
      chaincode: action.getChaincodeId()?.getName() ?? '',
      status: response.getStatus(),
      payload: Buffer.from(response.getPayload_asU8()),
    };
  } catch {
    fail('COMMITMENT_MISMATCH', `signature ${index}: node ${nodeId} signed something that is not a chaincode proposal response`);
  }
}
