/**
 * The salted record hash anchored on chain: sha256(salt || record bytes), hex. The salt
 * (at least 16 random bytes, kept off chain with the record and handed over with it)
 * stops anyone holding the ledger from confirming a guessed record by hashing it.
 * Shared by the custodian's gateway (anchoring), the requester's gateway (checking a
 * fetched record) and the chaincode (formats only).
 */
import { createHash } from 'node:crypto';
import { fail } from '../errors';

export const RECORD_HASH_FORMAT = /^[0-9a-f]{64}$/;
export const MIN_SALT_BYTES = 16;

export function recordHash(salt: Uint8Array, content: Uint8Array): string {
  if (salt.length < MIN_SALT_BYTES) fail('INVALID_ARGUMENT', `salt must be at least ${MIN_SALT_BYTES} bytes`);
  return createHash('sha256').update(salt).update(content).digest('hex');
}
