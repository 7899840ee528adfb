/**
 * Linear-time claims as ratios (twice the input may take at most 2.5x the time), measured so
 * that a shared, busy machine does not decide them: CPU time of this process (time spent
 * waiting for a core is not counted), the two sizes timed alternately, the fastest of many
 * rounds each, each timing repeated until it lasts ~10 ms.
 */

const gc = (globalThis as { gc?: () => void }).gc;

/** CPU milliseconds `fn` took (user + system, this process), after a collection when the process allows one (--expose-gc). */
function cpuMs(fn: () => void): number {
  gc?.();
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

export interface Doubling {
  n: number;
  /** time(2n) / time(n). */
  ratio: number;
  /** CPU ms of one call at n. */
  ms: number;
  /** For assertion messages. */
  toString(): string;
}

/** The bound the tests hold a doubling to. */
export const LINEAR_RATIO = 2.5;

/**
 * time(work(2n)) / time(work(n)); `work(n)` prepares its input and returns the call to time.
 * A measurement over LINEAR_RATIO is taken again, up to three times, and the lowest counts:
 * on a loaded machine one measurement can be off by 2x, while an O(n^2) cost gives ~4x every
 * time.
 */
export function doublingRatio(work: (n: number) => () => void, n: number, rounds = 9): Doubling {
  const [small, large] = [work(n), work(2 * n)];
  let reps = 1;
  while (cpuMs(() => { for (let i = 0; i < reps; i++) small(); }) < 10 && reps < 1 << 20) reps *= 2;
  const repeat = (f: () => void) => () => { for (let i = 0; i < reps; i++) f(); };
  const [a, b] = [repeat(small), repeat(large)];
  let best = { ratio: Infinity, ta: 0 };
  for (let attempt = 0; attempt < 3 && best.ratio > LINEAR_RATIO; attempt++) {
    let [ta, tb] = [Infinity, Infinity];
    for (let r = 0; r < rounds; r++) {
      ta = Math.min(ta, cpuMs(a));
      tb = Math.min(tb, cpuMs(b));
    }
    if (tb / ta < best.ratio) best = { ratio: tb / ta, ta };
  }
  const { ratio, ta } = best;
  return { n, ratio, ms: ta / reps, toString: () => `n=${n}: ${(ta / reps).toFixed(3)} ms a call, twice the input x${ratio.toFixed(2)}` };
}
