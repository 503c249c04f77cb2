/**
 * Hard limits of the cross-chain protocol (PROTOCOL.md "Limits"). Every parser checks
 * them before any cryptography runs, so an oversized proof costs the verifier nothing.
 */
export const Limits = {
  /** Canonical-JSON size of a whole proof, links included. */
  maxProofBytes: 512 * 1024,
  /** Size of a packet's canonical JSON (payload included). */
  maxPacketBytes: 32 * 1024,
  /** Signatures in one proof or one epoch link. */
  maxSigners: 64,
  /** Epoch links carried by one proof (a destination this far behind needs governance). */
  maxLinks: 8,
  /** Intermediate CA certificates carried by one proof. */
  maxProofIntermediates: 8,
  /** CA certificates between a signer and its root (intermediates only). */
  maxChainLength: 4,
  /** Nodes in one verification node list. */
  maxNodes: 64,
  /** Subgroups in one verification node list. */
  maxSubgroups: 16,
  /** One PEM certificate, characters. */
  maxCertPemChars: 8 * 1024,
  /** One base64 field of a signature entry, characters. */
  maxSignatureFieldChars: 16 * 1024,
  /** Orgs of one registered remote chain, and root/intermediate/revoked entries per org. */
  maxRemoteOrgs: 16,
  maxCertsPerOrg: 8,
  maxRevokedPerOrg: 1024,
  /** Packets (or acknowledgements) of one route under one batch statement, proof and transaction. */
  maxBatchPackets: 32,
  /** Identifiers: chain, route, subgroup, node ids. */
  maxIdChars: 128,
} as const;

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Identifiers that appear in keys and signed messages: short, printable, no separators. */
export function isProtocolId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= Limits.maxIdChars && ID_RE.test(value);
}
