/**
 * Builder of scheme `fabric-endorsement` (scheme 1, PROTOCOL.md "The signed bytes"): one signed
 * proposal of the statement's read-only query goes to every source peer (endorsements.ts); the
 * endorsements of the peers that are listed nodes of the signing list are kept.
 */
import { X509Certificate } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import type { VerificationNodeList } from '@medbridge/chaincode';
import { ENDORSEMENT_SCHEME, ENDORSEMENT_VERSION, type EndorsementSignature } from '@medbridge/chaincode';
import { collectEndorsements } from './endorsements';
import type { SchemeBuilder, Signed, SignTask } from './scheme-builder';

function isListed(list: VerificationNodeList, sig: EndorsementSignature): boolean {
  const id = msp.SerializedIdentity.deserializeBinary(Buffer.from(sig.endorser, 'base64'));
  const cert = new X509Certificate(Buffer.from(id.getIdBytes_asU8()));
  return list.subgroups.some(
    (s) => s.mspId === id.getMspid() && s.nodes.some((n) => new X509Certificate(n.certPem).raw.equals(cert.raw)),
  );
}

export const endorsementBuilder: SchemeBuilder = {
  scheme: ENDORSEMENT_SCHEME,
  version: ENDORSEMENT_VERSION,
  usesSignerServices: false,

  /** Every listed node is a peer that endorses. */
  canSign: () => true,

  async sign({ source, list, statement, accept }: SignTask): Promise<Signed> {
    const collected = await collectEndorsements(source.peers, await source.crossChain.signedStatementProposal(statement), undefined, source.clients);
    accept(collected.message);
    const signatures: EndorsementSignature[] = collected.signatures
      .filter((s) => isListed(list, s))
      .map(({ endorser, signature, payload, proposal }) => ({ endorser, signature, payload, proposal }));
    return { message: collected.message, signatures, failures: collected.failures };
  },

  countSigners: (signatures) => (Array.isArray(signatures) ? signatures.length : 0),
};
