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
/** Version 1: pure-JS pairing, the project's own tags. Still verified; relays build version 2. */
export const BLS_SCHEME_VERSION = 1 as const;
/**
 * Version 2: the same keys, lists, bitmaps and proof format; signatures hashed to G2 under the
 * tag the native library (@chainsafe/blst) fixes, over the commitment prefixed with
 * BLS_V2_MESSAGE_PREFIX. Verified natively where the module loads, else in pure JS (backend.ts).
 */
export const BLS_SCHEME_VERSION_2 = 2 as const;
/** The versions a verifier accepts; any other is refused (UNSUPPORTED_SCHEME). */
export type BlsSchemeVersion = typeof BLS_SCHEME_VERSION | typeof BLS_SCHEME_VERSION_2;
/** The version relays build and signers sign when nothing asks for another. */
export const BLS_CURRENT_VERSION: BlsSchemeVersion = BLS_SCHEME_VERSION_2;

/** Tag for hashing a packet (or epoch-link) commitment to G2 before signing. */
export const BLS_SIGN_DST = 'MEDBRIDGE-BLS12381G2-AGG-V1_XMD:SHA-256_SSWU_RO_';
/** Tag for hashing a public key to G2 for its proof of possession. */
export const BLS_POP_DST = 'MEDBRIDGE-BLS12381G2-POP-V1_XMD:SHA-256_SSWU_RO_';

/**
 * Version 2's hash-to-G2 tag: the one blst fixes (the IETF draft's proof-of-possession suite,
 * as Ethereum uses it). The project, scheme and version move into the message prefix below.
 */
export const BLS_V2_SIGN_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
/**
 * What a version-2 signature covers: these bytes, then the commitment (protocol/commitment.ts).
 * A version-2 signature never verifies as version 1 (other tag) nor as anyone else's signature
 * under the common tag over the same commitment bytes.
 */
export const BLS_V2_MESSAGE_PREFIX = 'MEDBRIDGE-BLS12381-AGG-V2:';

/** Compressed G1 point (public key). */
export const BLS_PUBLIC_KEY_BYTES = 48;
/** Compressed G2 point (signature, aggregate signature, proof of possession). */
export const BLS_SIGNATURE_BYTES = 96;
/** Secret key: a scalar in [1, r-1], big-endian. */
export const BLS_SECRET_KEY_BYTES = 32;

/** Upper bound on the number of nodes a list may hold for this scheme (bitmap of 64 bytes). */
export const BLS_MAX_NODES = 512;
