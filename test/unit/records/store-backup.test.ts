/**
 * Backup and restore of the record store (records/store-backup.ts, gateway/CLI.md "Backup and
 * restore of the record store"): a restored store serves the same records and hashes; a backup
 * that does not verify is refused and the store is left as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore } from '../../../gateway/src/records/store';
import { backupStore, restoreStore } from '../../../gateway/src/records/store-backup';
import { recordFor } from './store-records';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'medbridge-backup-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function seeded(file: string, numbers: number[]): RecordStore {
  const store = new RecordStore(file);
  for (const i of numbers) {
    store.put(recordFor(i, 1));
    store.setAnchorTx(recordFor(i, 1).recordId, 1, `tx-${i}`);
    if (i % 2 === 0) store.put(recordFor(i, 2));
  }
  return store;
}

/** Everything a store serves: metadata of every row, and each row's content, salt and hash. */
function contentsOf(store: RecordStore) {
  return store.list().map((meta) => {
    const r = store.get(meta.recordId, meta.version)!;
    return { ...meta, content: r.content.toString('base64'), salt: r.salt.toString('base64'), hash: r.hash };
  });
}

async function expectCode(p: (() => unknown) | Promise<unknown>, code: string): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await expect(run).rejects.toMatchObject({ code });
}

describe('record store backup and restore', () => {
  it('restores a backup into a store that serves the same records and hashes', async () => {
    const live = seeded(join(dir, 'live', 'HospitalAMSP.sqlite'), [1, 2, 3, 4, 5]);
    const before = contentsOf(live);
    const out = join(dir, 'backups', 'a.sqlite');
    const backup = await backupStore(live, out);
    // The store keeps serving and writing while and after it is backed up.
    live.put(recordFor(6, 1));
    live.close();

    expect(backup).toMatchObject({ file: out, records: 5, versions: 7 });
    expect(backup.sha256).toBe(createHash('sha256').update(readFileSync(out)).digest('hex'));
    expect(existsSync(`${out}-wal`)).toBe(false);

    const restoredFile = join(dir, 'elsewhere', 'HospitalAMSP.sqlite');
    const restored = restoreStore(out, restoredFile);
    expect(restored).toEqual({ file: restoredFile, from: out, records: 5, versions: 7 });
    const store = new RecordStore(restoredFile);
    try {
      expect(contentsOf(store)).toEqual(before);
      expect(store.get(recordFor(6, 1).recordId)).toBeUndefined();
      expect(store.verify()).toMatchObject({ ok: true, records: 5, versions: 7 });
    } finally {
      store.close();
    }
  });

  it('sets the replaced store aside on restore, never deletes it', async () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    const old = seeded(file, [1, 2]);
    const backupSource = seeded(join(dir, 'other.sqlite'), [7, 8, 9]);
    const out = join(dir, 'b.sqlite');
    await backupStore(backupSource, out);
    backupSource.close();
    const oldContents = contentsOf(old);
    old.close();

    const result = restoreStore(out, file);
    expect(result.previous).toMatch(/HospitalAMSP\.sqlite\.before-restore-/);
    const aside = new RecordStore(result.previous!, { readonly: true });
    const now = new RecordStore(file);
    try {
      expect(contentsOf(aside)).toEqual(oldContents);
      expect(now.list().map((r) => r.recordId)).toEqual([recordFor(7, 1), recordFor(8, 1), recordFor(8, 2), recordFor(9, 1)].map((r) => r.recordId));
    } finally {
      aside.close();
      now.close();
    }
  });

  it('refuses BACKUP_INVALID for a backup that is missing, not a store, or altered, and leaves the store as it was', async () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    const live = seeded(file, [1, 2, 3]);
    const before = contentsOf(live);
    const out = join(dir, 'c.sqlite');
    await backupStore(live, out);
    live.close();

    const altered = readFileSync(out);
    const at = altered.indexOf(recordFor(3, 1).content.subarray(200, 264));
    expect(at).toBeGreaterThan(0);
    altered[at] = (altered[at]! + 1) % 256;
    writeFileSync(join(dir, 'altered.sqlite'), altered);
    writeFileSync(join(dir, 'garbage.sqlite'), 'not a database at all, but long enough to look like a header of some file');
    writeFileSync(join(dir, 'truncated.sqlite'), readFileSync(out).subarray(0, 4096 + 100));

    for (const bad of ['missing.sqlite', 'garbage.sqlite', 'truncated.sqlite', 'altered.sqlite']) {
      await expectCode(() => restoreStore(join(dir, bad), file), 'BACKUP_INVALID');
    }
    const store = new RecordStore(file);
    try {
      expect(contentsOf(store)).toEqual(before);
    } finally {
      store.close();
    }
  });

  it('refuses STORE_IN_USE while the store is open elsewhere, and changes nothing', async () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    const live = seeded(file, [1]);
    const out = join(dir, 'd.sqlite');
    const other = seeded(join(dir, 'other.sqlite'), [4]);
    await backupStore(other, out);
    other.close();
    try {
      await expectCode(() => restoreStore(out, file), 'STORE_IN_USE');
      expect(live.list().map((r) => r.recordId)).toEqual([recordFor(1, 1).recordId]);
    } finally {
      live.close();
    }
  });
});
