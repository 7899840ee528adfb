/**
 * Element-wise comparison with a named tolerance. Failures report the max absolute and
 * relative error, the worst element's multi-dimensional index and both values, and the seed.
 */
import type { Tolerance } from "../tolerance.ts";

export interface TensorLike {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface CompareResult {
  pass: boolean;
  count: number;
  maxAbs: number;
  maxRel: number;
  /** Element whose error is largest relative to what the tolerance allows. */
  worstFlat: number;
  worstIndex: number[];
  worstActual: number;
  worstExpected: number;
  failures: number;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] || 1;
    idx[d] = rest % n;
    rest = Math.floor(rest / n);
  }
  return idx;
}

export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  shape: readonly number[],
  tol: Tolerance,
): CompareResult {
  const n = Math.min(actual.length, expected.length);
  let maxAbs = 0;
  let maxRel = 0;
  let worstRatio = -1;
  let worstFlat = 0;
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    const allowed = tol.abs + tol.rel * Math.abs(e);
    // NaN on either side fails (err is NaN); equal infinities pass.
    const ok = a === e || err <= allowed;
    if (!ok) failures++;
    const ratio = Number.isNaN(err) ? Infinity : a === e ? 0 : err / allowed;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worstFlat = i;
    }
    if (!(a === e)) {
      if (Number.isNaN(err)) {
        maxAbs = NaN;
        maxRel = NaN;
      } else if (!Number.isNaN(maxAbs)) {
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, err / Math.max(Math.abs(e), 1e-30));
      }
    }
  }
  if (actual.length !== expected.length) failures++;
  return {
    pass: failures === 0,
    count: n,
    maxAbs,
    maxRel,
    worstFlat,
    worstIndex: unravel(worstFlat, shape),
    worstActual: actual[worstFlat],
    worstExpected: expected[worstFlat],
    failures,
  };
}

export function formatResult(r: CompareResult, tol: Tolerance): string {
  return (
    `max abs err ${r.maxAbs.toExponential(3)}, max rel err ${r.maxRel.toExponential(3)} ` +
    `(tolerance ${tol.name}: abs ${tol.abs}, rel ${tol.rel}); ${r.failures}/${r.count} elements out of bounds; ` +
    `worst at [${r.worstIndex.join(", ")}]: actual ${r.worstActual}, expected ${r.worstExpected}`
  );
}

/**
 * Throws an Error describing the mismatch (shape, worst element, seed) unless `actual` matches
 * `expected` within `tol`. Returns the comparison so callers can log or aggregate error figures.
 */
export function assertClose(actual: TensorLike, expected: TensorLike, tol: Tolerance, context: string): CompareResult {
  const sa = Array.from(actual.shape);
  const se = Array.from(expected.shape);
  if (sa.length !== se.length || sa.some((d, i) => d !== se[i])) {
    throw new Error(`${context}: shape mismatch: actual [${sa.join(", ")}], expected [${se.join(", ")}]`);
  }
  const size = se.reduce((a, b) => a * b, 1);
  if (actual.data.length !== size || expected.data.length !== size) {
    throw new Error(
      `${context}: data length mismatch: actual ${actual.data.length}, expected ${expected.data.length}, shape [${se.join(", ")}] holds ${size}`,
    );
  }
  const r = compareArrays(actual.data, expected.data, se, tol);
  if (!r.pass) throw new Error(`${context}: ${formatResult(r, tol)}`);
  return r;
}

/** Compares lists of outputs pairwise (several outputs: returnState, merge_mode null). */
export function assertAllClose(
  actual: TensorLike[],
  expected: TensorLike[],
  tol: Tolerance,
  context: string,
): CompareResult[] {
  if (actual.length !== expected.length) {
    throw new Error(`${context}: ${actual.length} outputs, expected ${expected.length}`);
  }
  return actual.map((a, i) => assertClose(a, expected[i], tol, `${context}, output ${i}`));
}

/** Worst error over several comparisons, for reporting. */
export function summarize(results: CompareResult[]): { maxAbs: number; maxRel: number } {
  let maxAbs = 0;
  let maxRel = 0;
  for (const r of results) {
    maxAbs = Math.max(maxAbs, r.maxAbs);
    maxRel = Math.max(maxRel, r.maxRel);
  }
  return { maxAbs, maxRel };
}
