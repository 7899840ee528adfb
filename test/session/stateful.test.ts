/** Layers imported with stateful: true carry state across predict calls like tfjs. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, expect, it } from "vitest";
import { loadModel } from "../../src/index.ts";
import { APPROX } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";
import { codeOf } from "../util/errors.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

it("predict carries state between calls and resetStates clears it, as in tfjs", async () => {
  const B = 2, T = 3, F = 4;
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, batchInputShape: [B, T, F] }),
      tf.layers.lstm({ units: 6, stateful: true, returnSequences: true }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1 }) }),
    ],
  });
  randomizeWeights(m, rngFor("stateful"));
  const ours = await loadModel(await artifactsOf(m));
  const rng = rngFor("stateful inputs");
  const xs = [0, 1, 2].map(() => rng.float32Array(B * T * F, (r) => r.uniform(-1, 1)));
  for (const x of xs) {
    const ref = (m.predict(tf.tensor(x, [B, T, F])) as tf.Tensor).dataSync();
    const got = ours.predict({ data: x, shape: [B, T, F] });
    assertClose(got as never, { data: ref, shape: [B, T, 1] }, APPROX, "stateful call");
  }
  m.resetStates();
  ours.resetStates();
  const ref = (m.predict(tf.tensor(xs[0], [B, T, F])) as tf.Tensor).dataSync();
  assertClose(ours.predict({ data: xs[0], shape: [B, T, F] }) as never, { data: ref, shape: [B, T, 1] }, APPROX, "after resetStates");
  // the state belongs to batch size 2 until reset
  expect(codeOf(() => ours.predict({ data: new Float32Array(T * F), shape: [1, T, F] }))).toBe("E_SHAPE");
});
