/**
 * Linear-time claims as ratios (twice the input may take at most 2.5x the time), measured so
 * that a shared, busy machine does not decide them: CPU time of this process (time spent
 * waiting for a core is not counted), the two sizes timed alternately, the fastest of many
 * rounds each, each timing repeated until it lasts a few milliseconds.
 */

/** CPU milliseconds `fn` took (user + system, this process). */
function cpuMs(fn: () => void): number {
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

/** time(work(2n)) / time(work(n)); `work(n)` prepares its input and returns the call to time. */
export function doublingRatio(work: (n: number) => () => void, n: number, rounds = 11): Doubling {
  const [small, large] = [work(n), work(2 * n)];
  let reps = 1;
  while (cpuMs(() => { for (let i = 0; i < reps; i++) small(); }) < 4 && reps < 1 << 20) reps *= 2;
  const repeat = (f: () => void) => () => { for (let i = 0; i < reps; i++) f(); };
  const [a, b] = [repeat(small), repeat(large)];
  let [ta, tb] = [Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    ta = Math.min(ta, cpuMs(a));
    tb = Math.min(tb, cpuMs(b));
  }
  const ratio = tb / ta;
  return { n, ratio, ms: ta / reps, toString: () => `n=${n}: ${(ta / reps).toFixed(3)} ms a call, twice the input x${ratio.toFixed(2)}` };
}
