/**
 * The requester's and custodian's side of the salted record hash. The formula lives in
 * the shared protocol module (record-hash.ts); this file adds salt generation and a
 * constant-time comparison against an anchor.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { MIN_SALT_BYTES, RECORD_HASH_FORMAT, recordHash } from '@medbridge/chaincode';

export { recordHash };

/** A fresh 32-byte salt (the protocol asks for at least 16). */
export function newSalt(): Buffer {
  return randomBytes(Math.max(32, MIN_SALT_BYTES));
}

/** Whether content + salt hash to the anchored value (hex, compared in constant time). */
export function matchesAnchor(content: Uint8Array, salt: Uint8Array, anchoredHash: string): boolean {
  if (!RECORD_HASH_FORMAT.test(anchoredHash) || salt.length < MIN_SALT_BYTES) return false;
  const actual = Buffer.from(recordHash(salt, content), 'hex');
  return timingSafeEqual(actual, Buffer.from(anchoredHash, 'hex'));
}
