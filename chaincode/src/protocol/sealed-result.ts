/**
 * A transaction result only its caller can read (CONSENT.md "Private by default"). A
 * transaction's result is in its block (the endorsement's response payload), so a private
 * transaction returns it sealed: AES-256-GCM under a key derived from a salt the caller sent in
 * the transient map (never in a block) and the transaction id. Deterministic, as chaincode must
 * be: every endorser seals the same result to the same bytes. The key is new for every
 * transaction (the id is), so the fixed nonce is never used twice under one key, even by a
 * caller that sends one salt twice.
 *
 * @example
 *   const sealed = sealResult(salt, txId, '{"allowed":true}');   // chaincode
 *   openSealedResult(salt, txId, sealed);                         // the caller: '{"allowed":true}'
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { fail } from '../errors';
import { asObject, reqInt, reqString } from './fields';

export const SEALED_RESULT_VERSION = 1;

/** Bytes of the salt a private request carries (hex in the request: 64 characters). */
export const PRIVATE_SALT_BYTES = 32;

export interface SealedResult {
  /** base64 of ciphertext || 16-byte GCM tag. */
  sealed: string;
  v: typeof SEALED_RESULT_VERSION;
}

const NONCE = Buffer.alloc(12);

function keyOf(salt: Buffer, txId: string): Buffer {
  if (salt.length !== PRIVATE_SALT_BYTES) fail('INVALID_ARGUMENT', `a private request's salt is ${PRIVATE_SALT_BYTES} bytes`);
  return createHash('sha256').update('medbridge/sealed-result/v1\u0000').update(salt).update(txId, 'utf8').digest();
}

export function sealResult(salt: Buffer, txId: string, plaintext: string): SealedResult {
  const cipher = createCipheriv('aes-256-gcm', keyOf(salt, txId), NONCE);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { sealed: body.toString('base64'), v: SEALED_RESULT_VERSION };
}

/** The plaintext of a sealed result; INVALID_ARGUMENT when it is not one, or not sealed for this salt and transaction. */
export function openSealedResult(salt: Buffer, txId: string, value: unknown): string {
  const o = asObject(value, 'INVALID_ARGUMENT', 'sealed result', ['sealed', 'v']);
  reqInt(o, 'v', 'INVALID_ARGUMENT', 'sealed result', SEALED_RESULT_VERSION, SEALED_RESULT_VERSION);
  const body = Buffer.from(reqString(o, 'sealed', 'INVALID_ARGUMENT', 'sealed result', 1 << 22), 'base64');
  if (body.length < 16) fail('INVALID_ARGUMENT', 'sealed result is too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(salt, txId), NONCE);
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    fail('INVALID_ARGUMENT', 'sealed result does not open with this salt and transaction');
  }
}
