/**
 * The BLS part of a verification node list entry (scheme bls12381-aggregate): the node's key,
 * its proof of possession and the binding signed by the node's Fabric key. Checked where a node
 * enters a list (binding.ts), laid out in signer order for bitmaps (signer-table.ts).
 */
export interface BlsNodeKey {
  /** Base64 of the 48-byte compressed G1 public key. */
  publicKey: string;
  /** Base64 of the 96-byte proof of possession (keys.ts provePossession). */
  pop: string;
  /** Base64 DER ECDSA signature of the node's Fabric key over bindingBytes (binding.ts). */
  binding: string;
}
