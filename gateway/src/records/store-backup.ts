/**
 * Backup and restore of a record store (gateway/CLI.md "Backup and restore of the record
 * store"). A backup is SQLite's online backup of the open store into one self-contained file
 * (rollback journal, no WAL beside it), checked row by row before it takes its name; a restore
 * checks the backup the same way, sets the store it replaces aside (never deletes it) and puts
 * the copy in its place. Each copy is written under a temporary name with the writer's pid,
 * fsynced, renamed and its folder fsynced, so a copy cut short by kill -9 is never taken for a
 * whole one and is removed the next time (store.ts removeStaleTempFiles).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RecordStore, RecordStoreError, removeStaleTempFiles, tempFileOf, type StoreCheck } from './store';

export interface BackupResult {
  /** The backup file. */
  file: string;
  bytes: number;
  /** SHA-256 of the backup file: compare it after moving the file elsewhere. */
  sha256: string;
  records: number;
  versions: number;
}

export interface RestoreResult {
  /** The store file, now the backup's content. */
  file: string;
  from: string;
  /** Where the store that was replaced was set aside (absent when there was none). */
  previous?: string;
  records: number;
  versions: number;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames `tmp` to `target` durably: the content first, then the folder entry. */
function commitRename(tmp: string, target: string): void {
  fsyncPath(tmp);
  renameSync(tmp, target);
  fsyncPath(dirname(target));
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Checks a store file without changing it: every row against its checksum, and SQLite's structure. */
export function checkStoreFile(file: string): StoreCheck {
  let store: RecordStore | undefined;
  try {
    store = new RecordStore(file, { readonly: true });
    return store.verify();
  } catch (e) {
    return { ok: false, records: 0, versions: 0, corrupt: [], integrity: [e instanceof Error ? e.message : String(e)] };
  } finally {
    store?.close();
  }
}

function describe(check: StoreCheck): string {
  const rows = check.corrupt.map((c) => `${c.recordId} v${c.version}`).join(', ');
  return [rows && `rows not matching their checksum: ${rows}`, check.integrity.join('; ') !== 'ok' && check.integrity.join('; ')].filter(Boolean).join('; ');
}

/** Copies the open store into `out` (replaced if it exists) while it keeps serving. */
export async function backupStore(store: RecordStore, out: string): Promise<BackupResult> {
  const target = resolve(out);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  removeStaleTempFiles(target);
  const tmp = tempFileOf(target, 'backup');
  try {
    await store.database.backup(tmp);
    // One file: the copy takes the store's WAL mode with it; a backup has no log beside it.
    const copy = new Database(tmp);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    const check = checkStoreFile(tmp);
    if (!check.ok) throw new RecordStoreError('BACKUP_INVALID', `the backup of ${store.file} does not verify (${describe(check)}); nothing was written to ${target}`);
    commitRename(tmp, target);
    return { file: target, bytes: statSync(target).size, sha256: sha256Of(target), records: check.records, versions: check.versions };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Replaces the store at `file` with the backup `from`, after checking it. The store must not be
 * open elsewhere (stop `medbridge records serve` first): STORE_IN_USE otherwise, and nothing changes.
 */
export function restoreStore(from: string, file: string): RestoreResult {
  const source = resolve(from);
  const target = resolve(file);
  if (!existsSync(source)) throw new RecordStoreError('BACKUP_INVALID', `no backup at ${source}`);
  const check = checkStoreFile(source);
  if (!check.ok) throw new RecordStoreError('BACKUP_INVALID', `${source} is not a good record store backup (${describe(check)}); the store was not changed`);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  removeStaleTempFiles(target);
  const tmp = tempFileOf(target, 'restore');
  try {
    copyFileSync(source, tmp);
    fsyncPath(tmp);
    let previous: string | undefined;
    if (existsSync(target)) {
      // Closing the last connection folds the WAL into the file and removes it; a WAL that
      // stays means another process has the store open.
      const current = new Database(target);
      current.pragma('wal_checkpoint(TRUNCATE)');
      current.close();
      if (existsSync(`${target}-wal`)) {
        throw new RecordStoreError('STORE_IN_USE', `${target} is open in another process: stop \`medbridge records serve\` (and other commands of this org) and restore again`);
      }
      previous = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(target, previous);
    }
    // No log of another database may be replayed into the copy (the current store's is gone by now).
    rmSync(`${target}-wal`, { force: true });
    rmSync(`${target}-shm`, { force: true });
    commitRename(tmp, target);
    const restored = new RecordStore(target);
    try {
      const after = restored.verify();
      return { file: target, from: source, ...(previous ? { previous } : {}), records: after.records, versions: after.versions };
    } finally {
      restored.close();
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
