/**
 * The record store under kill -9 (records/store.ts): a child process writes records in a loop and
 * is killed with SIGKILL at a different point each round; the store is reopened after each kill.
 * Every write the child acknowledged is there byte for byte, nothing that does not match its
 * checksum is served, and temporary files of a copy cut short are removed.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStore, RecordStoreError } from '../../../gateway/src/records/store';
import { backupStore, checkStoreFile } from '../../../gateway/src/records/store-backup';
import { bundleWriter, runUntilKilled } from './store-child';
import { recordFor } from './store-records';

let script: string;
let dir: string;

beforeAll(() => {
  script = bundleWriter();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'medbridge-store-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The acknowledged records of a run: record id -> versions. */
function acksOf(lines: readonly string[]): Map<string, number> {
  const acked = new Map<string, number>();
  for (const line of lines) {
    const [word, id, versions] = line.split(' ');
    if (word === 'ack') acked.set(id!, Number(versions));
  }
  return acked;
}

const numberOf = (recordId: string) => Number(recordId.slice('rec-'.length));

/** Every row the store lists is served whole and is the record the writer made for its number. */
function expectOnlyWholeRecords(store: RecordStore): void {
  for (const meta of store.list()) {
    const served = store.get(meta.recordId, meta.version)!;
    const made = recordFor(numberOf(meta.recordId), meta.version);
    expect([served.content.equals(made.content), served.salt.equals(made.salt), served.hash]).toEqual([true, true, made.hash]);
  }
}

describe('record store under kill -9', () => {
  it('keeps every acknowledged write through SIGKILL in the middle of writes and serves nothing corrupt', async () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    const acked = new Map<string, number>();
    let first = 1;
    // A different kill point each round: after 3, 11, 6 and 17 acknowledged records.
    for (const killAfter of [3, 11, 6, 17]) {
      const run = await runUntilKilled(script, ['write', file, String(first)], (lines) => lines.length >= killAfter);
      const round = acksOf(run.lines);
      expect(round.size).toBeGreaterThanOrEqual(killAfter);
      for (const [id, versions] of round) acked.set(id, versions);
      // The record being written at the kill may be there or not; the next round starts after it.
      first = Math.max(...[...round.keys()].map(numberOf)) + 2;

      const store = new RecordStore(file);
      try {
        for (const [id, versions] of acked) {
          for (let v = 1; v <= versions; v += 1) {
            const served = store.get(id, v);
            expect(served?.content.equals(recordFor(numberOf(id), v).content)).toBe(true);
            expect(served?.hash).toBe(recordFor(numberOf(id), v).hash);
          }
          expect(store.get(id, 1)?.anchorTxId).toBe(`tx-${numberOf(id)}-1`);
        }
        expectOnlyWholeRecords(store);
        expect(store.verify()).toMatchObject({ ok: true, corrupt: [], integrity: ['ok'] });
        // Nothing but what was acknowledged, and at most the one record in flight at the kill.
        const unacknowledged = [...new Set(store.list().map((r) => r.recordId))].filter((id) => !acked.has(id));
        expect(unacknowledged.length).toBeLessThanOrEqual(4);
      } finally {
        store.close();
      }
    }
    expect(acked.size).toBeGreaterThanOrEqual(3 + 11 + 6 + 17);
  });

  it('discards a write cut short in the log when the store opens, and serves only whole records', async () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    await runUntilKilled(script, ['write', file, '1'], (lines) => lines.length >= 8);
    const wal = `${file}-wal`;
    expect(existsSync(wal)).toBe(true);
    // A torn last write: the log ends in the middle of a frame (what a power cut before the
    // fsync that put() waits for could leave; put() had not returned for it).
    truncateSync(wal, statSync(wal).size - 1_000);
    const store = new RecordStore(file);
    try {
      expect(store.list().length).toBeGreaterThan(0);
      expectOnlyWholeRecords(store);
      expect(store.verify().ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('refuses RECORD_CORRUPT for a record whose bytes changed on disk, and still serves the others', () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    const store = new RecordStore(file);
    for (const i of [1, 2, 3]) store.put(recordFor(i, 1));
    store.close();
    // Flip one byte of record 2's content inside the database file itself.
    const target = recordFor(2, 1).content;
    const bytes = readFileSync(file);
    const at = bytes.indexOf(target.subarray(100, 164));
    expect(at).toBeGreaterThan(0);
    bytes[at + 5] = (bytes[at + 5]! + 1) % 256;
    writeFileSync(file, bytes);

    const reopened = new RecordStore(file);
    try {
      let refused: unknown;
      try {
        reopened.get(recordFor(2, 1).recordId);
      } catch (e) {
        refused = e;
      }
      expect(refused).toBeInstanceOf(RecordStoreError);
      expect(refused).toMatchObject({ code: 'RECORD_CORRUPT' });
      expect(reopened.get(recordFor(1, 1).recordId)?.content.equals(recordFor(1, 1).content)).toBe(true);
      expect(reopened.get(recordFor(3, 1).recordId)?.hash).toBe(recordFor(3, 1).hash);
      expect(reopened.verify()).toMatchObject({ ok: false, corrupt: [{ recordId: recordFor(2, 1).recordId, version: 1 }] });
    } finally {
      reopened.close();
    }
  });

  it('removes the temporary files of a backup or restore cut short by kill -9, and keeps the store whole', async () => {
    const file = join(dir, 'HospitalAMSP.sqlite');
    const seed = new RecordStore(file);
    for (let i = 1; i <= 40; i += 1) seed.put(recordFor(i, 1));
    seed.close();
    const out = join(dir, 'backups', 'HospitalAMSP.backup.sqlite');
    const temps = (folder: string) => (existsSync(folder) ? readdirSync(folder).filter((n) => n.endsWith('.tmp')) : []);
    // Killed while a backup copy is being written.
    const run = await runUntilKilled(script, ['backup', file, out], () => temps(join(dir, 'backups')).length > 0);
    expect(temps(join(dir, 'backups'))).toEqual([`HospitalAMSP.backup.sqlite.${run.pid}.backup.tmp`]);
    // A restore's copy left beside the store by the same (dead) process.
    writeFileSync(`${file}.${run.pid}.restore.tmp`, 'half a copy');

    const store = new RecordStore(file);
    try {
      expect(temps(dir)).toEqual([]);
      expect(store.verify()).toMatchObject({ ok: true, versions: 40 });
      const backup = await backupStore(store, out);
      expect(temps(join(dir, 'backups'))).toEqual([]);
      expect(backup).toMatchObject({ records: 40, versions: 40 });
      expect(checkStoreFile(out).ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('fills the checksum of rows written before rows carried one, and serves them', () => {
    const file = join(dir, 'old.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE records (record_id TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), channel TEXT NOT NULL,
      patient_id TEXT NOT NULL, category TEXT NOT NULL, content BLOB NOT NULL, salt BLOB NOT NULL, hash TEXT NOT NULL,
      content_type TEXT NOT NULL, stored_at INTEGER NOT NULL, anchor_tx_id TEXT, PRIMARY KEY (record_id, version)) STRICT`);
    const r = recordFor(5, 1);
    old.prepare('INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(r.recordId, 1, r.channel, r.patientId, r.category, r.content, r.salt, r.hash, r.contentType, r.storedAt, 'tx');
    old.close();
    const store = new RecordStore(file);
    try {
      expect(store.get(r.recordId)?.content.equals(r.content)).toBe(true);
      expect(store.verify()).toMatchObject({ ok: true, versions: 1 });
    } finally {
      store.close();
    }
  });
});
