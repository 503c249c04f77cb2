/** A small seeded PRNG (mulberry32) so that property tests are random but repeatable. */
export class Prng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  subset<T>(items: readonly T[], min = 1): T[] {
    const out = items.filter(() => this.next() < 0.5);
    while (out.length < Math.min(min, items.length)) {
      const extra = this.pick(items);
      if (!out.includes(extra)) out.push(extra);
    }
    return out;
  }
}
