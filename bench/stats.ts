/** Summaries of repeated measurements and the pairwise ratios between engines. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(values: number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/**
 * Ratio of two engines measured in the same rounds: for each round where both ran,
 * numerator[r] / denominator[r]; the summary is over those per-round ratios, so drift of the
 * shared machine between rounds cancels instead of widening the ratio.
 */
export function pairedRatio(numerator: (number | undefined)[], denominator: (number | undefined)[]): Summary | undefined {
  const ratios: number[] = [];
  for (let r = 0; r < Math.min(numerator.length, denominator.length); r++) {
    const a = numerator[r], b = denominator[r];
    if (a !== undefined && b !== undefined && b > 0) ratios.push(a / b);
  }
  return ratios.length ? summarize(ratios) : undefined;
}

/** Largest |a - b| over two equal-length arrays; Infinity when lengths differ or a value is NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Whether every element passes |a - b| <= abs + rel * |b| (b = reference). */
export function within(a: ArrayLike<number>, b: ArrayLike<number>, tol: { abs: number; rel: number }): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol.abs + tol.rel * Math.abs(b[i]))) return false;
  }
  return true;
}
