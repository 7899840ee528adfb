/** Summaries and paired ratios, against direct computations on seeded data. */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../bench/models.ts";
import { maxAbsDiff, median, pairedRatio, summarize, within } from "../../bench/stats.ts";

describe("stats", () => {
  it.each([1, 2, 7, 8, 31])("median of %i shuffled values is the middle of the sorted list", (n) => {
    const seed = 77 + n;
    const rand = seededRandom(seed);
    const values = Array.from({ length: n }, () => rand());
    const sorted = [...values].sort((a, b) => a - b);
    const want = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    expect(median(values), `seed ${seed}`).toBe(want);
    const s = summarize(values);
    expect([s.min, s.max, s.n]).toEqual([sorted[0], sorted[n - 1], n]);
  });

  it("paired ratio uses only rounds where both engines ran", () => {
    const rand = seededRandom(5);
    const a: (number | undefined)[] = Array.from({ length: 9 }, () => 1 + rand());
    const b: (number | undefined)[] = Array.from({ length: 9 }, () => 1 + rand());
    a[2] = undefined;
    b[5] = undefined;
    const want: number[] = [];
    for (let r = 0; r < 9; r++) if (a[r] !== undefined && b[r] !== undefined) want.push(a[r]! / b[r]!);
    expect(pairedRatio(a, b)).toEqual(summarize(want));
    expect(pairedRatio([undefined], [1])).toBeUndefined();
  });

  it("within and maxAbsDiff treat NaN and length mismatch as failures", () => {
    const tol = { abs: 1e-4, rel: 1e-4 };
    expect(within([1, 2], [1, 2 + 1.5e-4], tol)).toBe(true); // 1.5e-4 <= 1e-4 + 2e-4
    expect(within([0], [2e-4], tol)).toBe(false);
    expect(within([NaN], [0], tol)).toBe(false);
    expect(within([0, 0], [0], tol)).toBe(false);
    expect(maxAbsDiff([NaN], [0])).toBe(Infinity);
    expect(maxAbsDiff([1, 3], [1.5, 2])).toBe(1);
  });
});
