/**
 * Seeded randomness for tests. Every case derives its own generator from one base seed and the
 * case's label, so a failing case can be replayed alone: the base seed is printed on failure
 * (see `describeSeed`) and can be forced with the environment variable RNN_SEED.
 */

/** Base seed of the run: RNN_SEED when set (decimal or 0x-hex), else a fixed default. */
export const BASE_SEED: number = (() => {
  const raw = typeof process !== "undefined" ? process.env.RNN_SEED : undefined;
  if (raw === undefined || raw === "") return 0x5eed2024;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`RNN_SEED must be a number, got ${JSON.stringify(raw)}`);
  return n >>> 0;
})();

/** FNV-1a over the UTF-16 code units: a stable label -> 32-bit hash. */
export function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counter): 128-bit state, passes PractRand to 2^40+,
 * plenty for test data. Seeded through splitmix32 so that close seeds give unrelated streams.
 */
export class Rng {
  readonly seed: number;
  readonly label: string;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number, label = "") {
    this.seed = seed >>> 0;
    this.label = label;
    let s = this.seed;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi) (hi exclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Values in ±[minAbs, maxAbs] with a random sign: never zero (zero biases hide bugs). */
  nonZero(minAbs: number, maxAbs: number): number {
    const m = this.uniform(minAbs, maxAbs);
    return this.next() < 0.5 ? -m : m;
  }

  float32Array(n: number, fill: (r: Rng) => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = fill(this);
    return out;
  }

  /** A child generator for a sub-task, independent of how many numbers this one has drawn. */
  fork(sublabel: string): Rng {
    return new Rng(this.seed ^ hashLabel(sublabel), `${this.label}/${sublabel}`);
  }
}

/** The generator of one test case: derived from BASE_SEED and the case label. */
export function rngFor(label: string): Rng {
  return new Rng((BASE_SEED ^ hashLabel(label)) >>> 0, label);
}

/** One line to print or append to assertion messages so the case can be replayed. */
export function describeSeed(rng: Rng): string {
  return `seed: RNN_SEED=${BASE_SEED} (case "${rng.label}", derived seed ${rng.seed})`;
}
