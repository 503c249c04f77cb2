/**
 * A hospital's off-chain record store: SQLite (better-sqlite3, WAL journal) holding the
 * record bytes and the salt of every anchored version. The ledger holds only the salted
 * hash; this file is the custodian's copy and never leaves the org except through the
 * consent-checked exchange (records/server.ts).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

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
  PRIMARY KEY (record_id, version)
) STRICT;
CREATE INDEX IF NOT EXISTS records_by_patient ON records (patient_id, record_id);
`;

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

export class RecordStoreError extends Error {
  constructor(
    readonly code: 'RECORD_NOT_FOUND' | 'ALREADY_EXISTS',
    message: string,
  ) {
    super(message);
  }
}

export class RecordStore {
  private readonly db: Database.Database;

  /** Opens (and creates) the store at `file`; ':memory:' for tests. */
  constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  /** Stores a new version; a (recordId, version) pair is written once. */
  put(r: Omit<StoredRecord, 'anchorTxId'> & { anchorTxId?: string | null }): void {
    try {
      this.db
        .prepare(
          `INSERT INTO records (record_id, version, channel, patient_id, category, content, salt, hash, content_type, stored_at, anchor_tx_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(r.recordId, r.version, r.channel, r.patientId, r.category, r.content, r.salt, r.hash, r.contentType, r.storedAt, r.anchorTxId ?? null);
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

  /** A given version, or the latest stored one. */
  get(recordId: string, version?: number): StoredRecord | undefined {
    const row =
      version === undefined
        ? this.db.prepare('SELECT * FROM records WHERE record_id = ? ORDER BY version DESC LIMIT 1').get(recordId)
        : this.db.prepare('SELECT * FROM records WHERE record_id = ? AND version = ?').get(recordId, version);
    return row === undefined ? undefined : fromRow(row as Row);
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

  close(): void {
    this.db.close();
  }
}
