/**
 * Erasure in the record store (CONSENT.md "Erasure"): erase() leaves no byte of the content or
 * the salt in the store file, its write-ahead log or a later backup, keeps only the erasure
 * note, and the custodian answers a fetch of the record with RECORD_ERASED.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FabricClient } from '../../../gateway/src/fabric/client';
import { Custodian } from '../../../gateway/src/records/custodian';
import { RecordStore } from '../../../gateway/src/records/store';
import { backupStore } from '../../../gateway/src/records/store-backup';
import { recordFor } from './store-records';

/** Whether `file` (if it exists) holds a 32-byte window of `needle` anywhere. */
function holds(file: string, needle: Buffer): boolean {
  if (!existsSync(file)) return false;
  const bytes = readFileSync(file);
  return bytes.includes(needle.subarray(0, 32));
}

describe('record store erasure', () => {
  let dir: string;
  let store: RecordStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-erase-'));
    store = new RecordStore(join(dir, 'records.db'));
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('destroys every version: no content or salt bytes in the db or -wal file, nor in a backup taken after', async () => {
    // Record 5 spans many pages (overflow pages); record 6 stays, to show only the erased record goes.
    const gone = [recordFor(5, 1), recordFor(5, 2)];
    const kept = recordFor(6, 1);
    for (const r of [...gone, kept]) store.put(r);
    const db = store.file;
    expect(gone.some((r) => holds(db, r.content) || holds(`${db}-wal`, r.content))).toBe(true);

    const result = store.erase('rec-000005', 'chain-a', 1_700_000_000_000, 'tx-1');

    expect(result).toEqual({ recordId: 'rec-000005', versions: 2, walTruncated: true });
    for (const r of gone) {
      for (const needle of [r.content, r.salt]) {
        expect(holds(db, needle)).toBe(false);
        expect(holds(`${db}-wal`, needle)).toBe(false);
      }
    }
    expect(store.get('rec-000005')).toBeUndefined();
    expect(store.get('rec-000006')?.content.equals(kept.content)).toBe(true);
    expect(store.erasure('rec-000005')).toEqual({ recordId: 'rec-000005', channel: 'chain-a', erasedAt: 1_700_000_000_000, txId: 'tx-1' });
    expect(store.verify().ok).toBe(true);

    const backup = join(dir, 'backup.db');
    await backupStore(store, backup);
    for (const r of gone) expect(holds(backup, r.content) || holds(backup, r.salt)).toBe(false);
    expect(holds(backup, kept.content)).toBe(true);
  });

  it('is idempotent: a second erase deletes nothing and keeps the first note', () => {
    store.put(recordFor(7, 1));
    store.erase('rec-000007', 'chain-a', 1, 'tx-1');
    expect(store.erase('rec-000007', 'chain-a', 2, null)).toEqual({ recordId: 'rec-000007', versions: 0, walTruncated: true });
    expect(store.erasure('rec-000007')?.txId).toBe('tx-1');
  });

  it('makes the custodian answer a fetch of an erased record with RECORD_ERASED, before asking the ledger', async () => {
    store.put(recordFor(8, 1));
    store.erase('rec-000008', 'chain-a', 1, 'tx-1');
    const custodian = new Custodian({ mspId: 'HospitalAMSP' } as FabricClient, store);
    await expect(custodian.answer('HospitalBMSP', { recordId: 'rec-000008', purpose: 'TREAT' })).rejects.toMatchObject({ code: 'RECORD_ERASED', kind: 'rejected' });
  });
});
