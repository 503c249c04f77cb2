/**
 * Bounded memo tables for the verifier: results of deterministic functions of content
 * (parsed certificates by their bytes, a certificate's signature checked by an issuer's key,
 * a list's lookup tables by the list's hash, a BLS key registration by its content) that every
 * proof of the same list would otherwise recompute.
 *
 * Determinism (PROTOCOL.md "Verification"): a table only ever holds what its function returned
 * for exactly that key; nothing depends on a clock, randomness or the order transactions arrive
 * in. Failures are never stored, so a refusal is always recomputed and keeps its code. A table
 * that reaches its size limit is emptied and refilled, so memory stays bounded and the outcome
 * of a call is the same whether it hit or not.
 */
const tables: Memo<unknown>[] = [];

/**
 * Keys up to this many characters are map keys as they are. A longer key (a certificate's PEM, a
 * serialized identity, a list's stored text) is found by a slot made of its length and its two
 * ends, then compared whole: hashing the whole of a fresh string of kilobytes (every transaction
 * reads its texts anew) costs more than the work some tables save.
 */
const WHOLE_KEY_CHARS = 96;
/** Keys kept per slot; a further key of a full slot is computed every time, never kept (no long scans). */
const SLOT_KEYS = 8;

function slotOf(key: string): string {
  return key.length <= WHOLE_KEY_CHARS ? key : `${key.length}|${key.slice(0, 24)}|${key.slice(-48)}`;
}

export class Memo<V> {
  private readonly slots = new Map<string, { key: string; value: V }[]>();
  private size = 0;

  constructor(private readonly limit: number) {
    tables.push(this as Memo<unknown>);
  }

  /** The value memoised for `key`, computing (and keeping) it on a miss; a throw keeps nothing. */
  get(key: string, compute: () => V): V {
    const hit = this.find(key);
    if (hit !== undefined) return hit;
    const value = compute();
    // Looked up again after compute(), which may have used (and emptied) this table.
    if (this.size >= this.limit) this.clear();
    const slot = slotOf(key);
    const entries = this.slots.get(slot);
    if (entries === undefined) {
      this.slots.set(slot, [{ key, value }]);
      this.size += 1;
    } else if (entries.length < SLOT_KEYS) {
      entries.push({ key, value });
      this.size += 1;
    }
    return value;
  }

  /** The value memoised for `key`, if any (the caller decides whether it still applies). */
  find(key: string): V | undefined {
    const entries = this.slots.get(slotOf(key));
    if (entries === undefined) return undefined;
    for (const e of entries) if (e.key === key) return e.value;
    return undefined;
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  clear(): void {
    this.slots.clear();
    this.size = 0;
  }
}

/** Empties every table (benchmarks measure the first proof after a start with it). */
export function clearVerificationCaches(): void {
  for (const t of tables) t.clear();
}
