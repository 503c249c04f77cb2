/**
 * One-time enrolment codes (gateway/API.md "Enrolment"): a hospital system asks for a code, shows
 * it to the patient (on a screen or paper), and the patient's device redeems it once with the
 * public key it generated. The code is the hospital's word that this person may enrol here; the
 * device's signature over the request is its proof that it holds the key it registers.
 *
 * Codes are kept in a JSON file in the server's data folder, so a restart does not invalidate
 * the codes handed out before it. The file holds the SHA-256 of each code, never the code: a
 * copy of the file cannot be redeemed. Redeemed and expired entries are kept for a day (so a
 * second use is told "used" or "expired", not "unknown"), then dropped.
 *
 * @example
 *   const store = new EnrolmentStore(join(dataDir, 'enrolments.json'));
 *   const { code } = store.issue({ issuedBy: 'HospitalAMSP', ttlMs: 15 * 60_000, now: Date.now() });
 *   store.redeem(code, Date.now());   // then register the key; store.release(code) if that fails
 */
import { createHash, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiError } from './errors';

/** Crockford's base32 without I, L, O, U: no two characters a person confuses. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 12;
/** How long a redeemed or expired entry is remembered after its expiry. */
const KEEP_MS = 86_400_000;

export const EnrolmentCode = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

interface Entry {
  /** sha256 hex of the normalised code. */
  codeHash: string;
  issuedAt: number;
  expiresAt: number;
  /** The MSP id of the system that asked for it (no personal data). */
  issuedBy: string;
  redeemedAt?: number;
  patientId?: string;
}

export interface IssuedCode {
  code: string;
  issuedAt: number;
  expiresAt: number;
}

/** A code as a person may type it: case and separators do not matter. */
export function normaliseCode(text: string): string {
  const raw = text.toUpperCase().replace(/[^0-9A-Z]/g, '');
  return raw.length === CODE_CHARS ? `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}` : text;
}

const hashOf = (code: string) => createHash('sha256').update(normaliseCode(code)).digest('hex');

export class EnrolmentStore {
  private readonly entries = new Map<string, Entry>();

  /** `file` absent: codes live in memory only (tests). */
  constructor(private readonly file?: string) {
    if (!file) return;
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined; // no file yet
    }
    if (text === undefined) return;
    const parsed = JSON.parse(text) as { entries?: Entry[] };
    for (const e of parsed.entries ?? []) this.entries.set(e.codeHash, e);
  }

  /** A new code valid for `ttlMs`. */
  issue(o: { issuedBy: string; ttlMs: number; now: number }): IssuedCode {
    let code = '';
    do {
      let raw = '';
      for (let i = 0; i < CODE_CHARS; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
      code = normaliseCode(raw);
    } while (this.entries.has(hashOf(code)));
    const entry: Entry = { codeHash: hashOf(code), issuedAt: o.now, expiresAt: o.now + o.ttlMs, issuedBy: o.issuedBy };
    this.sweep(o.now);
    this.entries.set(entry.codeHash, entry);
    this.save();
    return { code, issuedAt: entry.issuedAt, expiresAt: entry.expiresAt };
  }

  /**
   * Spends a code (before the registration it allows, so two devices racing with one code
   * cannot both pass). ENROLMENT_UNKNOWN, ENROLMENT_USED or ENROLMENT_EXPIRED otherwise.
   */
  redeem(code: string, patientId: string, now: number): void {
    const entry = this.entries.get(hashOf(code));
    if (!entry) throw new ApiError(404, 'ENROLMENT_UNKNOWN', 'this enrolment code is not known here; check it, or ask the hospital for a new one');
    if (entry.redeemedAt !== undefined) throw new ApiError(409, 'ENROLMENT_USED', 'this enrolment code was already used; ask the hospital for a new one');
    if (now >= entry.expiresAt) throw new ApiError(410, 'ENROLMENT_EXPIRED', `this enrolment code expired at ${new Date(entry.expiresAt).toISOString()}; ask the hospital for a new one`);
    entry.redeemedAt = now;
    entry.patientId = patientId;
    this.save();
  }

  /** Gives a spent code back when the registration it allowed failed (the patient may retry). */
  release(code: string): void {
    const entry = this.entries.get(hashOf(code));
    if (!entry) return;
    delete entry.redeemedAt;
    delete entry.patientId;
    this.save();
  }

  /** Codes that can still be redeemed. */
  pending(now: number): number {
    return [...this.entries.values()].filter((e) => e.redeemedAt === undefined && now < e.expiresAt).length;
  }

  private sweep(now: number): void {
    for (const [k, e] of this.entries) if (e.expiresAt + KEEP_MS < now) this.entries.delete(k);
  }

  /** Written to a temporary file then renamed, so a crash leaves the old file or the new one. */
  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    const entries = [...this.entries.values()].sort((a, b) => a.issuedAt - b.issuedAt || a.codeHash.localeCompare(b.codeHash));
    writeFileSync(tmp, `${JSON.stringify({ entries }, null, 1)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
