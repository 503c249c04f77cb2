/**
 * The signer's BLS key file, created at enrolment outside the repository (e.g.
 * `<org msp dir>/bls/<nodeId>.json`, mode 0600) and read only by that node's signer.
 * It holds the secret key; the list entry (public key, PoP, binding) is derived from it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import {
  certFingerprint,
  deriveKeyPair,
  fromBase64,
  provePossession,
  publicKeyOf,
  signBinding,
  toBase64,
  type BlsNodeKey,
} from '@medbridge/chaincode';
import type { KeyObject } from 'node:crypto';

export interface BlsKeyFile {
  chainId: string;
  nodeId: string;
  mspId: string;
  /** Base64, 32 bytes. Secret. */
  secretKey: string;
  publicKey: string;
}

/** Enrolment: fresh key material from the OS CSPRNG, written with mode 0600. */
export function createKeyFile(path: string, who: { chainId: string; nodeId: string; mspId: string }): BlsKeyFile {
  const keys = deriveKeyPair(randomBytes(32));
  const file: BlsKeyFile = { ...who, secretKey: toBase64(keys.secretKey), publicKey: toBase64(keys.publicKey) };
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

export function readKeyFile(path: string): BlsKeyFile {
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0) throw new Error(`BLS key file ${path} is readable by group or others; chmod 600 it`);
  const file = JSON.parse(readFileSync(path, 'utf8')) as BlsKeyFile;
  const secret = fromBase64(file.secretKey, 'INVALID_ARGUMENT', 'BLS secret key');
  if (toBase64(publicKeyOf(secret)) !== file.publicKey) throw new Error(`BLS key file ${path}: public key does not match the secret key`);
  return file;
}

/** The node's list entry: public key, proof of possession, binding signed with its Fabric key. */
export function listEntry(file: BlsKeyFile, certPem: string, fabricPrivateKey: KeyObject | string): BlsNodeKey {
  const secret = fromBase64(file.secretKey, 'INVALID_ARGUMENT', 'BLS secret key');
  const binding = signBinding(
    { chainId: file.chainId, nodeId: file.nodeId, mspId: file.mspId, certFingerprint: certFingerprint(certPem), blsPublicKey: file.publicKey },
    fabricPrivateKey,
  );
  return { publicKey: file.publicKey, pop: toBase64(provePossession(secret)), binding };
}
