/**
 * The ciphersuite of the `bls12381-aggregate` proof scheme, version 1 (see chaincode/BLS.md).
 *
 * Variant "minimal public key size": public keys in G1 (48 bytes compressed), signatures in
 * G2 (96 bytes compressed). Every tag names the project, the scheme, its version and the
 * hash-to-curve suite (RFC 9380), and signing and proof of possession never share a tag, so a
 * proof of possession can never be replayed as a signature over a commitment, nor the reverse.
 */

/** Value of the `scheme` field of a proof. */
export const BLS_SCHEME = 'bls12381-aggregate' as const;
/** The only version this code verifies; any other is refused (UNSUPPORTED_SCHEME). */
export const BLS_SCHEME_VERSION = 1 as const;

/** Tag for hashing a packet (or epoch-link) commitment to G2 before signing. */
export const BLS_SIGN_DST = 'MEDBRIDGE-BLS12381G2-AGG-V1_XMD:SHA-256_SSWU_RO_';
/** Tag for hashing a public key to G2 for its proof of possession. */
export const BLS_POP_DST = 'MEDBRIDGE-BLS12381G2-POP-V1_XMD:SHA-256_SSWU_RO_';

/** Compressed G1 point (public key). */
export const BLS_PUBLIC_KEY_BYTES = 48;
/** Compressed G2 point (signature, aggregate signature, proof of possession). */
export const BLS_SIGNATURE_BYTES = 96;
/** Secret key: a scalar in [1, r-1], big-endian. */
export const BLS_SECRET_KEY_BYTES = 32;

/** Upper bound on the number of nodes a list may hold for this scheme (bitmap of 64 bytes). */
export const BLS_MAX_NODES = 512;
