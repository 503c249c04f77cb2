/**
 * What the protocol module needs of node:crypto in a browser: SHA-256 (canonicalHash, key ids,
 * consent ids) from @noble/hashes. The app signs with WebCrypto and never verifies proofs or
 * certificates, so everything else refuses loudly instead of pulling Node's crypto into the page.
 */
import { sha256 } from '@noble/hashes/sha2';

const unavailable = (what: string) => (): never => {
  throw new Error(`${what} is not available in the patient app (WebCrypto signs there)`);
};

class Sha256 {
  private readonly h = sha256.create();
  update(data: string | Uint8Array): this {
    this.h.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return this;
  }
  digest(encoding?: 'hex'): string | Uint8Array {
    const out = this.h.digest();
    return encoding === 'hex' ? Array.from(out, (b) => b.toString(16).padStart(2, '0')).join('') : out;
  }
}

export function createHash(algorithm: string): Sha256 {
  if (algorithm !== 'sha256') throw new Error(`hash ${algorithm} is not available in the patient app`);
  return new Sha256();
}

export const createPublicKey = unavailable('createPublicKey');
export const sign = unavailable('sign');
export const verify = unavailable('verify');
export const hkdfSync = unavailable('hkdfSync');
export const randomBytes = unavailable('randomBytes');
/** Sealed results (protocol/sealed-result.ts) are the hospital gateway's, never the app's. */
export const createCipheriv = unavailable('createCipheriv');
export const createDecipheriv = unavailable('createDecipheriv');
export class X509Certificate {
  constructor() {
    unavailable('X509Certificate')();
  }
}
export class KeyObject {}
export default { createHash, createPublicKey, sign, verify, hkdfSync, randomBytes, createCipheriv, createDecipheriv, X509Certificate, KeyObject };
