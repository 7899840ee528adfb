/**
 * The training-tool tests' comparison helper; the tolerances themselves live with every other
 * tolerance in test/tolerance.ts.
 */
export { SEGMENT_SUM_ABS, SEGMENT_SUM_REL, MATMUL_ABS, MATMUL_REL, GRADIENT_ABS, GRADIENT_REL, ROUND_TRIP_ABS } from "../tolerance.ts";

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number, rel: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= abs + rel * Math.abs(e))) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e} (abs ${abs}, rel ${rel})`);
    }
  }
}
