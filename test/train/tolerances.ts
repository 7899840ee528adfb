/** Named tolerances of the training-tool tests (float32 kernels compared across backends). */

/** Sums in a different order (scatter-add vs mask-and-sum): a few float32 ulps per addend. */
export const SEGMENT_SUM_ABS = 1e-5;
export const SEGMENT_SUM_REL = 1e-5;

/** Matrix products, XNNPACK vs the cpu backend's blocked loop, K up to a few hundred. */
export const MATMUL_ABS = 1e-4;
export const MATMUL_REL = 1e-4;

/** Whole-model gradients (embedding LSTM), wasm vs cpu. */
export const GRADIENT_ABS = 1e-5;
export const GRADIENT_REL = 1e-3;

/** Predictions of a model before saving and after loading: the same float32 weights. */
export const ROUND_TRIP_ABS = 0;

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
