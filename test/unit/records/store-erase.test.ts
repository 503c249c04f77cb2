/**
 * Erasure in the record store (CONSENT.md "Erasure"): erase() leaves no byte of the content or
 * the salt in the store file, its write-ahead log or a later backup, keeps only the erasure
 * note, and the custodian answers a fetch of the record with RECORD_ERASED.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FabricClient } from '../../../gateway/src/fabric/client';
import { ClientError } from '../../../gateway/src/errors';
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

describe('Custodian.repairErased', () => {
  let dir: string;
  let store: RecordStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-repair-'));
    store = new RecordStore(join(dir, 'records.db'));
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A client whose ledger says the records in `erased` are erased; counts reads in flight. */
  function ledger(erased: Set<string>, failing?: string) {
    const seen = { reads: 0, inFlight: 0, maxInFlight: 0 };
    const client = {
      mspId: 'HospitalAMSP',
      evaluate: async (_channel: string, contract: string, fn: string, args: string[]) => {
        // Which path an erased record's repair takes: these are all anchored publicly.
        if (`${contract}:${fn}` === 'Consent:IsRecordHeldPrivately') return { recordId: args[0], heldPrivately: false, erased: false };
        expect(`${contract}:${fn}`).toBe('Consent:GetRecord');
        seen.reads += 1;
        seen.inFlight += 1;
        seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
        await new Promise((r) => setTimeout(r, 5));
        seen.inFlight -= 1;
        const id = args[0]!;
        if (id === failing) throw new ClientError('UNAVAILABLE', 'unavailable', 'no peer answered');
        if (erased.has(id)) throw new ClientError('RECORD_ERASED', 'rejected', `record ${id} was erased`);
        return { recordId: id };
      },
    };
    return { client: client as unknown as FabricClient, seen };
  }

  it('asks the ledger about every stored record, several at a time, and deletes exactly the erased ones', async () => {
    for (let i = 1; i <= 20; i++) store.put(recordFor(i, 1));
    const erased = new Set(['rec-000003', 'rec-000011', 'rec-000020']);
    const { client, seen } = ledger(erased);
    const repaired = await new Custodian(client, store).repairErased();
    expect(repaired.map((r) => r.recordId).sort()).toEqual([...erased].sort());
    expect(seen.reads).toBe(20);
    expect(seen.maxInFlight).toBeGreaterThan(1);
    expect(seen.maxInFlight).toBeLessThanOrEqual(8);
    for (let i = 1; i <= 20; i++) {
      const id = `rec-${String(i).padStart(6, '0')}`;
      expect(store.get(id) === undefined).toBe(erased.has(id));
    }
  });

  it('deletes nothing when the ledger cannot be read: the error goes to the caller', async () => {
    for (let i = 1; i <= 6; i++) store.put(recordFor(i, 1));
    const { client } = ledger(new Set(['rec-000002']), 'rec-000005');
    await expect(new Custodian(client, store).repairErased()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    for (let i = 1; i <= 6; i++) expect(store.get(`rec-${String(i).padStart(6, '0')}`)).toBeDefined();
  });
});
