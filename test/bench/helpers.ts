/** Shared pieces of the benchmark-harness tests: model cache and a failure message with the seed. */
import { buildBenchModel } from "../../bench/build.ts";
import { modelDef, type BenchModel } from "../../bench/models.ts";
import { maxAbsDiff } from "../../bench/stats.ts";
import type { Tolerance } from "../tolerance.ts";

const cache = new Map<string, Promise<BenchModel>>();

export function benchModel(id: string): Promise<BenchModel> {
  let m = cache.get(id);
  if (!m) cache.set(id, (m = buildBenchModel(modelDef(id))));
  return m;
}

/** Throws with the max error, the tolerance's name and the seed when any element is out of bounds. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string, seed: number): number {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length} (seed ${seed})`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol.abs + tol.rel * Math.abs(expected[i]))) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (max abs err ${maxAbsDiff(actual, expected).toExponential(2)} > ${tol.name}; seed ${seed})`);
    }
  }
  return maxAbsDiff(actual, expected);
}
