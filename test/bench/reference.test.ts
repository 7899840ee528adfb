/**
 * The benchmark gate's float64 oracle (bench/oracle.ts: the suite's one float64 reference,
 * test/reference, on each variant's artifacts) against tfjs (cpu backend) on every benchmark
 * model tfjs can run, whole sequences and every prefix (what the streaming gate compares).
 * The harness trusts it for GRU reset_after=true, which tfjs cannot run; this is what earns it
 * that role there.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { MODEL_DEFS, makeInput, prefix, tfjsVariant, type BenchModel, type InputTensor, type ModelVariant } from "../../bench/models.ts";
import { float64Output } from "../../bench/oracle.ts";
import { REF_VS_TFJS } from "../tolerance.ts";
import { benchModel, expectClose } from "./helpers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

async function tfjsPredict(variant: ModelVariant, x: InputTensor): Promise<Float32Array> {
  const { modelJson, weights } = variant.artifacts;
  const m = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: weights }));
  const input = tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? "int32" : "float32");
  const y = m.predict(input) as tf.Tensor;
  const out = y.dataSync().slice() as Float32Array;
  tf.dispose([input, y]);
  m.dispose();
  return out;
}

// Short sequences keep tfjs cpu fast; the recurrence is exercised from step 1 on.
const STEPS = 7;

describe.each(MODEL_DEFS.map((d) => d.id))("float64 reference vs tfjs cpu: %s", (id) => {
  let model: BenchModel;
  beforeAll(async () => {
    model = await benchModel(id);
  });

  it("whole sequences, batch 3", async () => {
    const variant = tfjsVariant(model);
    const seed = model.def.seed + 11;
    const x = makeInput(model.def, 3, Math.min(STEPS, model.def.seqLen), seed);
    expectClose(float64Output(variant, x), await tfjsPredict(variant, x), REF_VS_TFJS, `${id} predict`, seed);
  });

  it("every prefix of a batch-1 sequence (the streaming gate)", async () => {
    const variant = tfjsVariant(model);
    const seed = model.def.seed + 12;
    const S = Math.min(4, model.def.seqLen);
    const x = makeInput(model.def, 1, S, seed);
    for (let t = 0; t < S; t++) expectClose(float64Output(variant, prefix(x, t + 1)), await tfjsPredict(variant, prefix(x, t + 1)), REF_VS_TFJS, `${id} step ${t}`, seed);
  });
});

describe("reset_after=true really differs from its twin", () => {
  // If the reference ignored reset_after, the GRU oracle would silently test the wrong equations.
  it("imdb-gru: same kernels, different outputs", async () => {
    const model = await benchModel("imdb-gru");
    const x = makeInput(model.def, 2, STEPS, 5);
    const keras = float64Output(model.main, x);
    const twin = float64Output(model.tfjsTwin!, x);
    let diff = 0;
    for (let i = 0; i < keras.length; i++) diff = Math.max(diff, Math.abs(keras[i] - twin[i]));
    expect(diff).toBeGreaterThan(1e-3);
  });
});
