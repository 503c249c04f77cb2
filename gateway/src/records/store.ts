/**
 * A hospital's off-chain record store: SQLite (better-sqlite3, WAL journal) holding the
 * record bytes and the salt of every anchored version. The ledger holds only the salted
 * hash; this file is the custodian's copy and never leaves the org except through the
 * consent-checked exchange (records/server.ts).
 *
 * Crash safety (gateway/CLI.md "Backup and restore of the record store"): every write is one
 * SQLite transaction, committed to the write-ahead log and fsynced (`synchronous = FULL`)
 * before put() returns, so an acknowledged write survives kill -9 and power loss, and a torn
 * write (a WAL frame cut short) is discarded by SQLite's frame checksums when the store next
 * opens. SQLite does not checksum its pages, so each row also carries the SHA-256 of its
 * immutable columns, written in the same transaction and checked on every read: a row whose
 * bytes changed on disk is refused (`RECORD_CORRUPT`), never served.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ClientError, type ErrorKind } from '../errors';

export interface StoredRecord {
  recordId: string;
  version: number;
  /** Channel (chain) the record is anchored on: the patient's home channel. */
  channel: string;
  patientId: string;
  category: string;
  /** The FHIR resource (or any bytes) as stored. */
  content: Buffer;
  salt: Buffer;
  /** sha256(salt || content), hex: the anchored value. */
  hash: string;
  contentType: string;
  /** When this copy was stored (ms). */
  storedAt: number;
  /** Transaction that anchored this version, once known. */
  anchorTxId: string | null;
}

interface Row {
  record_id: string;
  version: number;
  channel: string;
  patient_id: string;
  category: string;
  content: Buffer;
  salt: Buffer;
  hash: string;
  content_type: string;
  stored_at: number;
  anchor_tx_id: string | null;
  row_sha256: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  record_id    TEXT    NOT NULL,
  version      INTEGER NOT NULL CHECK (version >= 1),
  channel      TEXT    NOT NULL,
  patient_id   TEXT    NOT NULL,
  category     TEXT    NOT NULL,
  content      BLOB    NOT NULL,
  salt         BLOB    NOT NULL,
  hash         TEXT    NOT NULL,
  content_type TEXT    NOT NULL,
  stored_at    INTEGER NOT NULL,
  anchor_tx_id TEXT,
  row_sha256   TEXT,
  PRIMARY KEY (record_id, version)
) STRICT;
CREATE INDEX IF NOT EXISTS records_by_patient ON records (patient_id, record_id);
CREATE TABLE IF NOT EXISTS erasures (
  record_id    TEXT    NOT NULL PRIMARY KEY,
  channel      TEXT    NOT NULL,
  erased_at    INTEGER NOT NULL,
  erase_tx_id  TEXT
) STRICT;
`;

/** What the store keeps of an erased record: its id, channel, when, and the erasing transaction. Nothing else. */
export interface Erasure {
  recordId: string;
  channel: string;
  erasedAt: number;
  /** The ledger transaction that erased the anchor (null when a repair found it erased). */
  txId: string | null;
}

/** What erase() destroyed. */
export interface ErasedRows {
  recordId: string;
  /** Rows (versions) deleted: content and salt of each, overwritten on disk by secure_delete. */
  versions: number;
  /** The write-ahead log was checkpointed and truncated, so no frame of it holds the old pages. */
  walTruncated: boolean;
}

/** Columns a row never changes after put() (anchor_tx_id is set once anchoring commits). */
type Immutable = Pick<StoredRecord, 'recordId' | 'version' | 'channel' | 'patientId' | 'category' | 'content' | 'salt' | 'hash' | 'contentType' | 'storedAt'>;

/** SHA-256 (hex) over the immutable columns, each length-prefixed so no two rows share an encoding. */
export function rowChecksum(r: Immutable): string {
  const h = createHash('sha256');
  const field = (b: Buffer) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(b.length));
    h.update(len).update(b);
  };
  for (const text of [r.recordId, String(r.version), r.channel, r.patientId, r.category]) field(Buffer.from(text, 'utf8'));
  field(r.content);
  field(r.salt);
  for (const text of [r.hash, r.contentType, String(r.storedAt)]) field(Buffer.from(text, 'utf8'));
  return h.digest('hex');
}

function fromRow(r: Row): StoredRecord {
  return {
    recordId: r.record_id,
    version: r.version,
    channel: r.channel,
    patientId: r.patient_id,
    category: r.category,
    content: r.content,
    salt: r.salt,
    hash: r.hash,
    contentType: r.content_type,
    storedAt: r.stored_at,
    anchorTxId: r.anchor_tx_id,
  };
}

export type RecordStoreCode = 'RECORD_NOT_FOUND' | 'ALREADY_EXISTS' | 'RECORD_CORRUPT' | 'BACKUP_INVALID' | 'STORE_IN_USE';

const KIND_OF: Record<RecordStoreCode, ErrorKind> = {
  RECORD_NOT_FOUND: 'usage',
  ALREADY_EXISTS: 'rejected',
  RECORD_CORRUPT: 'other',
  BACKUP_INVALID: 'usage',
  STORE_IN_USE: 'usage',
};

export class RecordStoreError extends ClientError {
  declare readonly code: RecordStoreCode;

  constructor(code: RecordStoreCode, message: string) {
    super(code, KIND_OF[code], message);
    this.name = 'RecordStoreError';
  }
}

/** What verify() found: every row checked, SQLite's own integrity check included. */
export interface StoreCheck {
  ok: boolean;
  /** Distinct record ids. */
  records: number;
  /** Rows (record versions). */
  versions: number;
  /** Rows whose bytes do not match their checksum. */
  corrupt: Array<{ recordId: string; version: number }>;
  /** `PRAGMA integrity_check`: ['ok'] or SQLite's findings. */
  integrity: string[];
}

/**
 * Temporary files of a backup or restore are `<store file>.<pid>.<what>.tmp` beside the store;
 * one whose process is gone was cut short (kill -9) and is removed when the store opens.
 */
export function tempFileOf(file: string, what: string): string {
  return `${file}.${process.pid}.${what}.tmp`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files of `file` left by a process that no longer runs; returns their names. */
export function removeStaleTempFiles(file: string): string[] {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    // Another live process's copy in progress (or this process's own) is left alone.
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

export class RecordStore {
  private readonly db: Database.Database;

  /** Opens (and creates) the store at `file`; ':memory:' for tests. `readonly`: for checking a copy. */
  constructor(
    readonly file: string,
    opts: { readonly?: boolean } = {},
  ) {
    if (opts.readonly) {
      this.db = new Database(file, { readonly: true, fileMustExist: true });
      return;
    }
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      removeStaleTempFiles(file);
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // `records serve` and a CLI command may write at once: wait for the other's transaction.
    this.db.pragma('busy_timeout = 5000');
    // A deleted row's bytes are overwritten with zeros, not left in free pages (erase(), CONSENT.md "Erasure").
    this.db.pragma('secure_delete = ON');
    this.db.exec(SCHEMA);
    this.migrate();
  }

  /** Stores made before rows carried a checksum: add the column and fill it from the rows as they are. */
  private migrate(): void {
    const columns = this.db.pragma('table_info(records)') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'row_sha256')) this.db.exec('ALTER TABLE records ADD COLUMN row_sha256 TEXT');
    const missing = this.db.prepare('SELECT * FROM records WHERE row_sha256 IS NULL').all() as Row[];
    if (missing.length === 0) return;
    const fill = this.db.prepare('UPDATE records SET row_sha256 = ? WHERE record_id = ? AND version = ? AND row_sha256 IS NULL');
    this.db.transaction(() => {
      for (const r of missing) fill.run(rowChecksum(fromRow(r)), r.record_id, r.version);
    })();
  }

  /** The row as stored, or RECORD_CORRUPT when its bytes no longer match the checksum written with it. */
  private checked(row: Row): StoredRecord {
    const r = fromRow(row);
    if (row.row_sha256 !== rowChecksum(r)) {
      throw new RecordStoreError(
        'RECORD_CORRUPT',
        `record ${r.recordId} version ${r.version} in ${this.file} does not match its checksum: it is not served; restore the store from a backup (medbridge records restore)`,
      );
    }
    return r;
  }

  /** Stores a new version; a (recordId, version) pair is written once. */
  put(r: Omit<StoredRecord, 'anchorTxId'> & { anchorTxId?: string | null }): void {
    try {
      this.db
        .prepare(
          `INSERT INTO records (record_id, version, channel, patient_id, category, content, salt, hash, content_type, stored_at, anchor_tx_id, row_sha256)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(r.recordId, r.version, r.channel, r.patientId, r.category, r.content, r.salt, r.hash, r.contentType, r.storedAt, r.anchorTxId ?? null, rowChecksum(r));
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new RecordStoreError('ALREADY_EXISTS', `record ${r.recordId} version ${r.version} is already stored`);
      }
      throw e;
    }
  }

  setAnchorTx(recordId: string, version: number, txId: string): void {
    this.db.prepare('UPDATE records SET anchor_tx_id = ? WHERE record_id = ? AND version = ?').run(txId, recordId, version);
  }

  /** Removes a version whose anchoring failed (never an anchored one). */
  dropUnanchored(recordId: string, version: number): void {
    this.db.prepare('DELETE FROM records WHERE record_id = ? AND version = ? AND anchor_tx_id IS NULL').run(recordId, version);
  }

  /** A given version, or the latest stored one (RECORD_CORRUPT when its bytes changed on disk). */
  get(recordId: string, version?: number): StoredRecord | undefined {
    const row =
      version === undefined
        ? this.db.prepare('SELECT * FROM records WHERE record_id = ? ORDER BY version DESC LIMIT 1').get(recordId)
        : this.db.prepare('SELECT * FROM records WHERE record_id = ? AND version = ?').get(recordId, version);
    return row === undefined ? undefined : this.checked(row as Row);
  }

  mustGet(recordId: string, version?: number): StoredRecord {
    const r = this.get(recordId, version);
    if (!r) throw new RecordStoreError('RECORD_NOT_FOUND', `record ${recordId}${version ? ` version ${version}` : ''} is not in this store`);
    return r;
  }

  /** Metadata of every stored version (no content, no salt), by record id then version. */
  list(patientId?: string): Array<Omit<StoredRecord, 'content' | 'salt'> & { size: number }> {
    const sql = `SELECT record_id, version, channel, patient_id, category, hash, content_type, stored_at, anchor_tx_id, length(content) AS size
                 FROM records ${patientId ? 'WHERE patient_id = ?' : ''} ORDER BY record_id, version`;
    const rows = (patientId ? this.db.prepare(sql).all(patientId) : this.db.prepare(sql).all()) as Array<Omit<Row, 'content' | 'salt'> & { size: number }>;
    return rows.map((r) => ({
      recordId: r.record_id,
      version: r.version,
      channel: r.channel,
      patientId: r.patient_id,
      category: r.category,
      hash: r.hash,
      contentType: r.content_type,
      storedAt: r.stored_at,
      anchorTxId: r.anchor_tx_id,
      size: r.size,
    }));
  }

  /**
   * Destroys every stored version of a record (content and salt) and keeps only the erasure
   * note: one transaction, with secure_delete on so the freed pages are zeroed, then the
   * write-ahead log is checkpointed into the file and truncated, so no copy of the old pages
   * stays in the -wal file. A later backup copies zeroed pages only. Idempotent.
   */
  erase(recordId: string, channel: string, erasedAt: number, txId: string | null): ErasedRows {
    const versions = this.db.transaction(() => {
      const deleted = this.db.prepare('DELETE FROM records WHERE record_id = ?').run(recordId).changes;
      this.db
        .prepare('INSERT INTO erasures (record_id, channel, erased_at, erase_tx_id) VALUES (?, ?, ?, ?) ON CONFLICT (record_id) DO NOTHING')
        .run(recordId, channel, erasedAt, txId);
      return deleted;
    })();
    return { recordId, versions, walTruncated: this.truncateWal() };
  }

  /**
   * Checkpoints the whole write-ahead log into the store file and truncates it. A reader of
   * another connection (`records serve`) can hold frames back for a moment: retried briefly.
   */
  private truncateWal(): boolean {
    if (this.file === ':memory:') return true;
    for (let attempt = 0; attempt < 50; attempt++) {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      if (r !== undefined && r.busy === 0 && r.log === r.checkpointed) return true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    return false;
  }

  /** The erasure note of a record, if it was erased here. */
  erasure(recordId: string): Erasure | undefined {
    const row = this.db.prepare('SELECT record_id, channel, erased_at, erase_tx_id FROM erasures WHERE record_id = ?').get(recordId) as
      | { record_id: string; channel: string; erased_at: number; erase_tx_id: string | null }
      | undefined;
    return row === undefined ? undefined : { recordId: row.record_id, channel: row.channel, erasedAt: row.erased_at, txId: row.erase_tx_id };
  }

  /** Distinct (record id, channel) of every stored record, by record id. */
  recordChannels(): Array<{ recordId: string; channel: string }> {
    return (this.db.prepare('SELECT DISTINCT record_id, channel FROM records ORDER BY record_id').all() as Array<{ record_id: string; channel: string }>).map((r) => ({
      recordId: r.record_id,
      channel: r.channel,
    }));
  }

  /** Checks every row against its checksum, and SQLite's structure (`PRAGMA integrity_check`). */
  verify(): StoreCheck {
    const integrity = (this.db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    const corrupt: StoreCheck['corrupt'] = [];
    const ids = new Set<string>();
    let versions = 0;
    for (const row of this.db.prepare('SELECT * FROM records ORDER BY record_id, version').iterate() as IterableIterator<Row>) {
      versions += 1;
      ids.add(row.record_id);
      if (row.row_sha256 !== rowChecksum(fromRow(row))) corrupt.push({ recordId: row.record_id, version: row.version });
    }
    return { ok: corrupt.length === 0 && integrity.length === 1 && integrity[0] === 'ok', records: ids.size, versions, corrupt, integrity };
  }

  /** The underlying connection, for backup and tests (records/store-backup.ts). */
  get database(): Database.Database {
    return this.db;
  }

  close(): void {
    this.db.close();
  }
}
