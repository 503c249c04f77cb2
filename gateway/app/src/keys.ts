/**
 * The patient's key on this device (gateway/APP.md "Keys"): an ECDSA P-256 key pair made with
 * WebCrypto, whose private half is a non-extractable CryptoKey kept in IndexedDB. Scripts of the
 * page can ask the browser to sign with it; nothing, this app included, can read its bytes.
 *
 * The one moment the private key exists in extractable form is its creation: the app encrypts it
 * at once into a backup file with a passphrase (PBKDF2-SHA-256 -> AES-256-GCM), then imports it
 * again as non-extractable and forgets the extractable copy. Restoring a backup does the same
 * import. A backup cannot be made later: there is no way to read the key back out; a new backup
 * is made by rotating to a new key (nextKey), which the old key signs.
 */
import { bytesOf, exportSpkiBase64, fromBase64, toBase64, type Bytes } from './bytes';
import { keyIdOf, patientIdOf } from '@medbridge/chaincode';

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DB = 'medbridge-patient';
const STORE = 'keys';
const SLOT = 'patient';
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const BACKUP_ITERATIONS = 600_000;
export const BACKUP_FORMAT = 'medbridge/key-backup/v1';
export const MIN_PASSPHRASE = 10;

/** What the device keeps. */
export interface DeviceKey {
  privateKey: CryptoKey;
  /** base64 SPKI DER. */
  publicKey: string;
  patientId: string;
  keyId: string;
  createdAt: number;
}

/** The backup file: the PKCS#8 private key encrypted under a passphrase-derived key. */
export interface KeyBackup {
  format: typeof BACKUP_FORMAT;
  patientId: string;
  publicKey: string;
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  cipher: { name: 'AES-GCM'; iv: string };
  ciphertext: string;
  createdAt: number;
}

function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
  });
}

async function tx<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const d = await db();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = run(d.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    d.close();
  }
}

export async function loadKey(): Promise<DeviceKey | undefined> {
  return (await tx<DeviceKey | undefined>('readonly', (s) => s.get(SLOT) as IDBRequest<DeviceKey | undefined>)) ?? undefined;
}

async function storeKey(k: DeviceKey): Promise<void> {
  await tx('readwrite', (s) => s.put(k, SLOT));
}

/** Removes the key from this device (the chain keeps the patient; a backup brings the key back). */
export async function forgetKey(): Promise<void> {
  await tx('readwrite', (s) => s.delete(SLOT));
}

async function passphraseKey(passphrase: string, salt: Bytes, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

async function importNonExtractable(pkcs8: ArrayBuffer | Bytes, publicKey: string, patientId: string, createdAt: number): Promise<DeviceKey> {
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, ALG, false, ['sign']);
  return { privateKey, publicKey, patientId, keyId: keyIdOf(publicKey), createdAt };
}

/**
 * A new key pair and its encrypted backup; the key returned is non-extractable and not yet
 * stored. `patientId` absent: a new patient (the id is the key's); given: a rotation, where the
 * patient keeps the id (CONSENT.md "Key rotation").
 */
async function makeKeyWithBackup(passphrase: string, patientId: string | undefined, now: number): Promise<{ key: DeviceKey; backup: KeyBackup }> {
  if (passphrase.length < MIN_PASSPHRASE) throw new Error(`the passphrase needs at least ${MIN_PASSPHRASE} characters`);
  const pair = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const publicKey = await exportSpkiBase64(pair.publicKey);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const aes = await passphraseKey(passphrase, salt, BACKUP_ITERATIONS);
  const id = patientId ?? patientIdOf(publicKey);
  // The patient id is authenticated data: a backup cannot be relabelled as another patient's.
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) }, aes, pkcs8);
  const backup: KeyBackup = {
    format: BACKUP_FORMAT,
    patientId: id,
    publicKey,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: BACKUP_ITERATIONS, salt: toBase64(salt) },
    cipher: { name: 'AES-GCM', iv: toBase64(iv) },
    ciphertext: toBase64(new Uint8Array(ciphertext)),
    createdAt: now,
  };
  const key = await importNonExtractable(pkcs8, publicKey, id, now);
  pkcs8.fill(0);
  return { key, backup };
}

/**
 * Makes the device's key and its encrypted backup; the key is stored non-extractable.
 * The caller offers the backup for download at once.
 */
export async function createKey(passphrase: string, now = Date.now()): Promise<{ key: DeviceKey; backup: KeyBackup }> {
  const made = await makeKeyWithBackup(passphrase, undefined, now);
  await storeKey(made.key);
  return made;
}

/**
 * The next key of a rotation and its backup, not stored: the caller stores it (useKey) once the
 * chain accepted the rotation, so a refused rotation leaves the device as it was.
 */
export function nextKey(current: DeviceKey, passphrase: string, now = Date.now()): Promise<{ key: DeviceKey; backup: KeyBackup }> {
  return makeKeyWithBackup(passphrase, current.patientId, now);
}

/** Makes `key` this device's key (after a rotation the chain accepted). */
export async function useKey(key: DeviceKey): Promise<void> {
  await storeKey(key);
}

/** Restores the key of a backup file onto this device (non-extractable again). */
export async function restoreKey(backupText: string, passphrase: string): Promise<DeviceKey> {
  const key = await openBackup(backupText, passphrase);
  await storeKey(key);
  return key;
}

/**
 * The key of a backup file, opened with its passphrase and imported non-extractable, but not
 * stored: the caller signs with it and drops it (a pseudonym link signed with a key of another
 * chain, whose backup the patient made in that hospital's app). Checks what restoring checks.
 */
export async function openBackup(backupText: string, passphrase: string): Promise<DeviceKey> {
  let b: KeyBackup;
  try {
    b = JSON.parse(backupText) as KeyBackup;
  } catch {
    throw new Error('this file is not a medbridge key backup');
  }
  if (b.format !== BACKUP_FORMAT) throw new Error('this file is not a medbridge key backup');
  const aes = await passphraseKey(passphrase, fromBase64(b.kdf.salt), b.kdf.iterations);
  let pkcs8: ArrayBuffer;
  try {
    pkcs8 = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(b.cipher.iv), additionalData: new TextEncoder().encode(b.patientId) }, aes, fromBase64(b.ciphertext));
  } catch {
    throw new Error('the passphrase does not open this backup');
  }
  // The patient id is the first key's; after a rotation the key is another (the id was
  // authenticated by AES-GCM above).
  const key = await importNonExtractable(pkcs8, b.publicKey, b.patientId, b.createdAt);
  // The key must sign for the public key the backup names.
  const probe = new TextEncoder().encode('medbridge/key-backup/probe');
  const pub = await crypto.subtle.importKey('spki', fromBase64(b.publicKey), ALG, false, ['verify']);
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, probe);
  if (!(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pub, sig, probe))) throw new Error('the backup is damaged: its private key does not match');
  return key;
}

/** ECDSA P-256 SHA-256 over `bytes`; WebCrypto's output is already IEEE P1363 (r || s), base64. */
export async function signBytes(key: DeviceKey, bytes: Uint8Array): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, bytesOf(bytes))));
}
