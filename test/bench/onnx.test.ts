/**
 * Proves the ONNX translation (bench/onnx.ts): every generated model runs on onnxruntime-node
 * and matches tfjs (cpu backend) on the same weights, or the float64 reference for GRU
 * reset_after=true (linear_before_reset=1), which tfjs cannot run. Both GRU variants are
 * exported and checked, and the one-step graphs with state inputs are chained and compared
 * with predictions on prefixes.
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { MODEL_DEFS, makeInput, prefix, timestep, type BenchModel, type InputTensor, type ModelVariant } from "../../bench/models.ts";
import { exportOnnx, type OnnxModel } from "../../bench/onnx.ts";
import { float64Output } from "../../bench/oracle.ts";
import { EXACT_F32 } from "../tolerance.ts";
import { benchModel, expectClose } from "./helpers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const STEPS = 9;

function ortTensor(x: InputTensor): ort.Tensor {
  return new ort.Tensor(x.data instanceof Int32Array ? "int32" : "float32", x.data, x.shape);
}

/** Oracle: tfjs cpu where it runs the variant, else the float64 reference (checked against tfjs in reference.test.ts). */
async function expected(model: BenchModel, variant: ModelVariant, x: InputTensor): Promise<ArrayLike<number>> {
  if (!variant.tfjsRunnable) return float64Output(variant, x);
  const { modelJson, weights } = variant.artifacts;
  const m = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: weights }));
  const input = tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? "int32" : "float32");
  const y = m.predict(input) as tf.Tensor;
  const out = y.dataSync().slice();
  tf.dispose([input, y]);
  m.dispose();
  return out;
}

const cases: [string, "keras" | "tfjs-twin"][] = [];
for (const d of MODEL_DEFS) {
  cases.push([d.id, "keras"]);
  if (d.layers.some((l) => l.kind === "gru")) cases.push([d.id, "tfjs-twin"]);
}

describe.each(cases)("ONNX export on onnxruntime-node: %s (%s)", (id, kind) => {
  let model: BenchModel;
  let variant: ModelVariant;
  beforeAll(async () => {
    model = await benchModel(id);
    variant = kind === "keras" ? model.main : model.tfjsTwin!;
  });

  it("whole sequences, batch 3", async () => {
    const graph = exportOnnx(model.def, variant);
    const session = await ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: 1 });
    const seed = model.def.seed + 21;
    const x = makeInput(model.def, 3, Math.min(STEPS, model.def.seqLen), seed);
    const out = (await session.run({ [graph.inputName]: ortTensor(x) }))[graph.outputName];
    const want = await expected(model, variant, x);
    expect(out.dims[0]).toBe(3);
    expectClose(out.data as Float32Array, want, EXACT_F32, `${id} (${kind}) onnx`, seed);
    await session.release();
  });

  it("one-step graph with carried state equals predictions on prefixes", async () => {
    const graph: OnnxModel = exportOnnx(model.def, variant, { withState: true });
    const recurrent = variant.layers.filter((l) => l.kind === "lstm" || l.kind === "gru");
    expect(graph.states.map((s) => s.layer)).toEqual(recurrent.map((l) => l.name));
    const session = await ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: 1 });
    const seed = model.def.seed + 22;
    const S = Math.min(4, model.def.seqLen);
    const x = makeInput(model.def, 2, S, seed);
    let state: Record<string, ort.Tensor> = {};
    for (const s of graph.states) for (const n of s.inputs) state[n] = new ort.Tensor("float32", new Float32Array(2 * s.units), [1, 2, s.units]);
    for (let t = 0; t < S; t++) {
      const out = await session.run({ ...state, [graph.inputName]: ortTensor(timestep(x, t)) });
      const next: Record<string, ort.Tensor> = {};
      for (const n of Object.keys(state)) next[n] = out[`${n}_out`];
      state = next;
      expectClose(out[graph.outputName].data as Float32Array, await expected(model, variant, prefix(x, t + 1)), EXACT_F32, `${id} (${kind}) step ${t}`, seed);
    }
    await session.release();
  });
});
