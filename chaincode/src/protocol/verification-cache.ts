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

export class Memo<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly limit: number) {
    tables.push(this as Memo<unknown>);
  }

  /** The value memoised for `key`, computing (and keeping) it on a miss; a throw keeps nothing. */
  get(key: string, compute: () => V): V {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }

  /** The value memoised for `key`, if any (the caller decides whether it still applies). */
  find(key: string): V | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Empties every table (benchmarks measure the first proof after a start with it). */
export function clearVerificationCaches(): void {
  for (const t of tables) t.clear();
}
