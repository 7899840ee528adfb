/**
 * The model.json fuzzer: tfjs artifacts (the fuzz models of every op kind, and the 2018-format
 * nietzsche model) with 1-3 structural mutations of their topology and weight manifest. Each
 * case is refused with a typed error, or loads and works (probe.ts) and exports to a bundle
 * that predicts exactly what the artifacts predict.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { exportBundle } from "../../../src/export.ts";
import { loadModel } from "../../../src/index.ts";
import { dataFile } from "../../util/data.ts";
import type { Artifacts } from "../../util/tfjs.ts";
import { Defect, type FuzzTarget } from "../harness.ts";
import { fuzzArtifacts } from "../models.ts";
import { mutateJson } from "../mutate.ts";
import { probeModel } from "../probe.ts";

const CONFIG_KEYS = ["class_name", "batch_input_shape", "units", "activation", "recurrent_activation", "input_dim", "output_dim", "input_length", "mask_zero", "return_sequences", "return_state", "go_backwards", "stateful", "filters", "kernel_size", "strides", "padding", "dilation_rate", "pool_size", "n", "target_shape", "axis", "inbound_nodes", "input_layers", "output_layers", "layer", "merge_mode", "reset_after", "use_bias", "shape", "dtype", "paths", "name", "epsilon", "rate"];

function nietzsche(): Artifacts {
  const dir = join(dataFile("real-models/tfjs-nietzsche-lstm/model.json"), "..");
  const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const weights = modelJson.weightsManifest.map((g: { paths: string[] }) => new Uint8Array(readFileSync(join(dir, g.paths[0]))).buffer);
  return { modelJson, weights };
}

export const target: FuzzTarget<{ art: Artifacts; what: string[] }, Artifacts[]> = {
  name: "model-json",
  codes: ["E_MODEL_JSON", "E_WEIGHTS", "E_UNSUPPORTED_LAYER", "E_UNSUPPORTED_OPTION", "E_SHAPE"],
  async setup() {
    return [...Object.values(await fuzzArtifacts()), nietzsche()];
  },
  make(rng, _i, bases) {
    const base = bases[rng.int(0, bases.length)];
    const modelJson = structuredClone(base.modelJson);
    const what = mutateJson(rng, modelJson, rng.int(1, 4), { preferKeys: CONFIG_KEYS });
    return { art: { modelJson, weights: base.weights }, what };
  },
  async run({ art }) {
    const model = await loadModel(art);
    let label: string;
    try {
      label = probeModel(model);
    } finally {
      model.dispose();
    }
    // the same artifacts through the exporter: a bundle that predicts what they predict
    const bundle = await loadModel(await exportBundle(art));
    const direct = await loadModel(art);
    try {
      const x = direct.spec.inputs.map((inp) => {
        const shape = [2, ...inp.shape.map((d) => d ?? 4)];
        const n = shape.reduce((a, b) => a * b, 1);
        return inp.dtype === "int32" ? { data: Int32Array.from({ length: n }, (_, i) => i % 2), shape } : { data: Float32Array.from({ length: n }, (_, i) => Math.cos(i)), shape };
      });
      const run = (m: typeof direct) => {
        try {
          return JSON.stringify(m.predict(x.length === 1 ? x[0] : x), (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
        } catch (e) {
          return `refused: ${(e as { code?: string }).code}`;
        }
      };
      if (run(bundle) !== run(direct)) throw new Defect("the exported bundle predicts differently from the artifacts it came from");
    } finally {
      bundle.dispose();
      direct.dispose();
    }
    return label;
  },
};
