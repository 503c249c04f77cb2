/**
 * The bytes a patient signs for a policy: the canonical JSON (protocol/canonical-json.ts) of
 * the validated policy in canonical order. Two policies with the same meaning written with a
 * different key order or list order have the same canonical form and the same hash.
 */
import { canonicalBytes, canonicalize, sha256Hex } from '../canonical-json';
import type { ConsentPolicy } from './model';
import { parseConsentPolicy } from './parse';

/**
 * The canonical policy: validated (CONSENT_POLICY_INVALID / CONSENT_POLICY_TOO_LARGE on
 * anything the engine cannot evaluate), lists sorted and de-duplicated.
 *
 * @example const policy = canonicalPolicy(JSON.parse(text)); // what goes into a signed grant
 */
export function canonicalPolicy(input: unknown): ConsentPolicy {
  return parseConsentPolicy(input, { order: 'normalize' });
}

/** Canonical JSON text of the canonical policy. */
export function consentPolicyText(input: unknown): string {
  return canonicalize(canonicalPolicy(input));
}

/** UTF-8 canonical JSON of the canonical policy: the bytes that are signed and hashed. */
export function consentPolicyBytes(input: unknown): Buffer {
  return canonicalBytes(canonicalPolicy(input));
}

/** sha256 (hex) of the canonical policy's bytes: one meaning, one hash. */
export function consentPolicyHash(input: unknown): string {
  return sha256Hex(consentPolicyBytes(input));
}
