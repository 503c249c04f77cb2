/**
 * A patient's (or guardian's) P-256 key, kept in a local PEM file readable by its owner
 * only (0600, in a 0700 directory outside the repository). The patientId is derived
 * from the public key with the shared patient-messages module.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { exportPublicKey, keyIdOf, patientIdOf } from '@medbridge/chaincode';
import { REPO_ROOT } from '../config';
import { ClientError } from '../errors';

export interface PatientKey {
  privateKey: KeyObject;
  /** base64 SPKI DER */
  publicKey: string;
  keyId: string;
  /** The patientId this key would have as a patient's own key. */
  patientId: string;
  file?: string;
}

export function keyFromPrivate(privateKey: KeyObject, file?: string): PatientKey {
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ClientError('KEY_ERROR', 'usage', `${file ?? 'key'} is not an ECDSA P-256 private key`);
  }
  const publicKey = exportPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), patientId: patientIdOf(publicKey), file };
}

/** A fresh key pair in memory. */
export function generatePatientKey(): PatientKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return keyFromPrivate(privateKey);
}

function insideRepo(path: string): boolean {
  const rel = relative(REPO_ROOT, resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Writes a new key to `<dir>/<patientId>.pem` (or `file`) with mode 0600. Refuses to
 * overwrite an existing file and to write inside the repository.
 */
export function saveNewKey(key: PatientKey, opts: { dir: string; file?: string }): string {
  const file = resolve(opts.file ?? join(opts.dir, `${key.patientId}.pem`));
  if (insideRepo(file)) {
    throw new ClientError('KEY_ERROR', 'usage', `refusing to write a private key inside the repository (${file})`, {
      hint: 'use --out with a path outside the repository, or set MEDBRIDGE_KEYS_DIR',
    });
  }
  if (existsSync(file)) throw new ClientError('KEY_ERROR', 'usage', `${file} already exists; not overwriting a key`);
  const dir = resolve(file, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return file;
}

/**
 * Loads a key by file path, or by patientId / key id from the keys directory.
 * Warns (through the returned flag) when the file is readable by others.
 */
export function loadKey(ref: string, dir: string): PatientKey & { tooOpen: boolean } {
  const candidates = [ref, join(dir, `${ref}.pem`), join(dir, `pt_${ref}.pem`)];
  const file = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!file) {
    throw new ClientError('KEY_ERROR', 'usage', `no key file for "${ref}" (looked in ${candidates.join(', ')})`, {
      hint: 'create one with `medbridge patient keygen`, or pass --key <file>',
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (e) {
    throw new ClientError('KEY_ERROR', 'usage', `cannot read private key ${file}: ${(e as Error).message}`);
  }
  const tooOpen = (statSync(file).mode & 0o077) !== 0;
  return { ...keyFromPrivate(privateKey, file), tooOpen };
}
