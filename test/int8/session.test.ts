/**
 * Streaming over int8 models: activations are quantised per row (a GEMM row, an h row per
 * step), never across rows or timesteps, so a session stepping through a sequence computes
 * exactly what predict computes on the prefix — bit for bit, as with f32 — at batch 1 and at a
 * batch that takes the 4-row GEMM blocks; and snapshots resume exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel, type Model } from "../../src/index.ts";
import { artifactsOf, randomizeWeights } from "../session/helpers.ts";
import { KERNEL_TWIN } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { rngFor } from "../util/prng.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const T = 7;
type X = { data: Float32Array | Int32Array; shape: number[] };

const MODELS: Record<string, { build: () => tf.LayersModel; ids?: number }> = {
  "masked Embedding -> LSTM(12, sequences) -> GRU(9)": {
    ids: 40,
    build: () => tf.sequential({ layers: [tf.layers.embedding({ inputDim: 40, outputDim: 6, maskZero: true }), tf.layers.lstm({ units: 12, returnSequences: true }), tf.layers.gru({ units: 9 })] }),
  },
  "causal Conv1D(k=3) -> SimpleRNN(10, sequences) -> TimeDistributed(Dense(3))": {
    build: () => tf.sequential({
      layers: [
        tf.layers.conv1d({ filters: 6, kernelSize: 3, padding: "causal", activation: "relu", inputShape: [null, 5] }),
        tf.layers.simpleRNN({ units: 10, returnSequences: true }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3 }) }),
      ],
    }),
  },
};

function input(name: string, B: number, ids?: number): X {
  const rng = rngFor(`int8 session input ${name} ${B}`);
  if (ids) return { data: new Int32Array(B * T).map((_, i) => (i === 0 ? 0 : rng.int(1, ids))), shape: [B, T] };
  return { data: rng.float32Array(B * T * 5, (r) => r.uniform(-1, 1)), shape: [B, T, 5] };
}

function prefix(x: X, t: number, from = 0): X {
  const per = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const [b, full] = x.shape;
  const out = new (x.data.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(b * (t - from) * per);
  for (let i = 0; i < b; i++) out.set(x.data.subarray((i * full + from) * per, (i * full + t) * per), i * (t - from) * per);
  return { data: out, shape: [b, t - from, ...x.shape.slice(2)] };
}

/** The last timestep of a [B, t, F] output. */
function last(y: { data: Float32Array; shape: number[] }): { data: Float32Array; shape: number[] } {
  if (y.shape.length !== 3) return y;
  const [B, t, F] = y.shape;
  const out = new Float32Array(B * F);
  for (let b = 0; b < B; b++) out.set(y.data.subarray((b * t + t - 1) * F, (b * t + t) * F), b * F);
  return { data: out, shape: [B, F] };
}

describe.each(Object.entries(MODELS))("int8 %s", (name, { build, ids }) => {
  let model: Model;

  beforeAll(async () => {
    const m = build();
    randomizeWeights(m, rngFor(`int8 session weights ${name}`));
    model = await loadModel(await exportBundle(await artifactsOf(m), { dtype: "int8" }));
  });

  it.each([1, 5])("batch %i: step t equals predict on the first t steps, bit for bit", (B) => {
    const x = input(name, B, ids);
    const session = model.createSession({ batchSize: B });
    for (let t = 1; t <= T; t++) {
      const step = session.step(prefix(x, t, t - 1)) as { data: Float32Array; shape: number[] };
      assertClose(step, last(model.predict(prefix(x, t)) as { data: Float32Array; shape: number[] }), KERNEL_TWIN, `${name}, batch ${B}: step ${t} vs predict`);
    }
  });

  it("a snapshot resumes in another session exactly", () => {
    const x = input(name, 2, ids);
    const a = model.createSession({ batchSize: 2 });
    a.run(prefix(x, 3));
    const b = model.createSession({ batchSize: 2 });
    b.setState(a.getState());
    const ya = a.run(prefix(x, T, 3)) as { data: Float32Array; shape: number[] };
    const yb = b.run(prefix(x, T, 3)) as { data: Float32Array; shape: number[] };
    expect(Buffer.from(yb.data.buffer, yb.data.byteOffset, yb.data.byteLength).equals(Buffer.from(ya.data.buffer, ya.data.byteOffset, ya.data.byteLength))).toBe(true);
  });
});
