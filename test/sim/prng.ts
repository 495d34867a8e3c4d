/**
 * A small seeded PRNG (sfc32, seeded through splitmix32). Every random choice of the
 * simulator comes from one of these, so a seed replays the same run exactly.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let index = 0; index < 12; index += 1) this.nextU32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() / 4_294_967_296;
  }

  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return Math.floor(this.float() * maxExclusive);
  }

  /** Uniform integer in [min, maxInclusive]. */
  between(min: number, maxInclusive: number): number {
    return min + this.int(maxInclusive - min + 1);
  }

  chance(probability: number): boolean {
    return probability > 0 && this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Index of an item chosen with the given non-negative weights (-1 if all are zero). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const weight of weights) total += Math.max(0, weight);
    if (total <= 0) return -1;
    let roll = this.float() * total;
    for (let index = 0; index < weights.length; index += 1) {
      roll -= Math.max(0, weights[index]!);
      if (roll < 0) return index;
    }
    return weights.length - 1;
  }

  /** A key of `weights` chosen in proportion to its weight (keys in insertion order), or null. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K | null {
    const keys = Object.keys(weights) as K[];
    const index = this.weightedIndex(keys.map((key) => weights[key]));
    return index < 0 ? null : keys[index]!;
  }

  /** A fresh subset of `items` of size `count` (or fewer if there are fewer items). */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(this.int(pool.length), 1)[0]!);
    return out;
  }

  /** An independent generator derived from this one. */
  fork(): Prng {
    return new Prng(this.nextU32());
  }
}
