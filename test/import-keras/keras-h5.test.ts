/**
 * Keras 2 / tf.keras .h5 files written by Keras itself (real-models/keras-h5 in the data folder outside the repository: test/util/data.ts).
 * Expected names and shapes come from the architectures the data README states
 * (Embedding(1000, 32) -> LSTM(32) / GRU(32) -> Dense(1)); expected values and the config
 * are read from the same files directly with h5wasm, by hard-coded dataset paths.
 */
import { describe, expect, it } from "vitest";
import { importKeras3, importKerasFile, importKerasH5 } from "../../src/import/keras/index.js";
import type { ModelArtifacts } from "../../src/import/artifacts.js";
import { thrown } from "../util/errors.ts";
import { fixture, haveRealH5, mismatches, realH5, withRawH5 } from "./helpers.js";
import { unzipSync } from "fflate";

interface RealCase {
  file: string;
  version: string;
  layers: [name: string, className: string][];
  weights: [name: string, shape: number[], datasetPath: string][];
  recurrent: Record<string, unknown>;
}

const lstmWeights = (layer: string): RealCase["weights"] => [
  [`${layer}/kernel:0`, [32, 128], `model_weights/${layer}/${layer}/kernel:0`],
  [`${layer}/recurrent_kernel:0`, [32, 128], `model_weights/${layer}/${layer}/recurrent_kernel:0`],
  [`${layer}/bias:0`, [128], `model_weights/${layer}/${layer}/bias:0`],
];
const embeddingWeights = (layer: string): RealCase["weights"] => [
  [`${layer}/embeddings:0`, [1000, 32], `model_weights/${layer}/${layer}/embeddings:0`],
];
const denseWeights = (layer: string): RealCase["weights"] => [
  [`${layer}/kernel:0`, [32, 1], `model_weights/${layer}/${layer}/kernel:0`],
  [`${layer}/bias:0`, [1], `model_weights/${layer}/${layer}/bias:0`],
];

const REAL_CASES: RealCase[] = [
  {
    file: "keras224_imdb_lstm.h5",
    version: "2.2.4",
    layers: [["embedding_2", "Embedding"], ["dropout_3", "Dropout"], ["lstm_1", "LSTM"], ["dropout_4", "Dropout"], ["dense_2", "Dense"]],
    weights: [...embeddingWeights("embedding_2"), ...lstmWeights("lstm_1"), ...denseWeights("dense_2")],
    recurrent: { class_name: "LSTM", units: 32, activation: "tanh", recurrent_activation: "hard_sigmoid" },
  },
  {
    file: "keras224_imdb_gru_reset_after_false.h5",
    version: "2.2.4",
    layers: [["embedding_3", "Embedding"], ["dropout_5", "Dropout"], ["gru_1", "GRU"], ["dropout_6", "Dropout"], ["dense_3", "Dense"]],
    weights: [
      ...embeddingWeights("embedding_3"),
      ["gru_1/kernel:0", [32, 96], "model_weights/gru_1/gru_1/kernel:0"],
      ["gru_1/recurrent_kernel:0", [32, 96], "model_weights/gru_1/gru_1/recurrent_kernel:0"],
      ["gru_1/bias:0", [96], "model_weights/gru_1/gru_1/bias:0"],
      ...denseWeights("dense_3"),
    ],
    recurrent: { class_name: "GRU", units: 32, activation: "relu", recurrent_activation: "hard_sigmoid", reset_after: false },
  },
  {
    file: "tfkeras_imdb_lstm.h5",
    version: "2.2.4-tf",
    layers: [["embedding_11", "Embedding"], ["dropout_21", "Dropout"], ["lstm_1", "LSTM"], ["dropout_22", "Dropout"], ["dense_30", "Dense"]],
    weights: [...embeddingWeights("embedding_11"), ...lstmWeights("lstm_1"), ...denseWeights("dense_30")],
    recurrent: { class_name: "LSTM", units: 32, activation: "tanh", recurrent_activation: "sigmoid" },
  },
];

type LayerJson = { class_name: string; config: Record<string, unknown> };

describe.skipIf(!haveRealH5)("Keras 2 .h5 written by Keras (real files)", () => {
  describe.each(REAL_CASES)("$file", (c) => {
    it("reports Keras 2 origin and the file's keras_version", async () => {
      const a = await importKerasH5(realH5(c.file), c.file);
      expect(a.origin).toBe("keras2");
      expect(a.kerasVersion).toBe(c.version);
      expect(a.sourceName).toBe(c.file);
    });

    it("gives the topology exactly as the file's model_config", async () => {
      const bytes = realH5(c.file);
      const { result: raw } = await withRawH5(bytes, (f) => f.attrs["model_config"]!.value as string);
      const a = await importKerasH5(bytes, c.file);
      expect(a.topology).toEqual(JSON.parse(raw));
      const layers = (a.topology.config as { layers: LayerJson[] }).layers;
      expect(layers.map((l) => [l.config.name, l.class_name])).toEqual(c.layers);
      expect(layers[0]!.config.batch_input_shape).toEqual([null, 100]);
      const rnn = layers.find((l) => l.class_name === c.recurrent.class_name)!;
      for (const [key, value] of Object.entries(c.recurrent)) {
        if (key !== "class_name") expect(rnn.config[key], key).toEqual(value);
      }
    });

    it("reads every weight, in Keras' order, with the values stored in the file", async () => {
      const bytes = realH5(c.file);
      const { result: direct } = await withRawH5(bytes, (f) =>
        c.weights.map(([, , path]) => Float32Array.from((f.get(path) as InstanceType<typeof import("h5wasm").Dataset>).value as Float32Array)),
      );
      const a = await importKerasH5(bytes, c.file);
      expect(a.weights.map((w) => [w.name, w.shape])).toEqual(c.weights.map(([name, shape]) => [name, shape]));
      a.weights.forEach((w, i) => {
        expect(w.data).toBeInstanceOf(Float32Array);
        expect(mismatches(w.data, direct[i]!), w.name).toBe(0);
      });
    });

    it("dispatches through importKerasFile by the HDF5 signature", async () => {
      const viaSniff = await importKerasFile(realH5(c.file), c.file);
      const direct = await importKerasH5(realH5(c.file), c.file);
      expect(viaSniff.weights.map((w) => w.name)).toEqual(direct.weights.map((w) => w.name));
      // and from an ArrayBuffer holding only this file
      const copy = realH5(c.file).slice().buffer;
      expect((await importKerasFile(copy, c.file)).weights.length).toBe(direct.weights.length);
    });
  });

  it("accepts a Keras 2 weights-only file (save_weights) with the model JSON", async () => {
    const file = "keras224_imdb_lstm.h5";
    const full = await importKerasH5(realH5(file), file);
    // Rebuild what model.save_weights() writes: model_weights' content at the root.
    const { result: content } = await withRawH5(realH5(file), (f) => {
      const mw = f.get("model_weights") as InstanceType<typeof import("h5wasm").Group>;
      const layerNames = mw.attrs["layer_names"]!.value as string[];
      const groups = layerNames.map((layer) => {
        const g = mw.get(layer) as InstanceType<typeof import("h5wasm").Group>;
        const names = g.attrs["weight_names"]!.value;
        const list = Array.isArray(names) ? (names as string[]) : [];
        return { layer, names: list, data: list.map((n) => (g.get(n) as InstanceType<typeof import("h5wasm").Dataset>)) };
      });
      return {
        modelConfig: f.attrs["model_config"]!.value as string,
        layerNames,
        groups: groups.map((g) => ({ layer: g.layer, names: g.names, values: g.data.map((d) => ({ shape: d.shape!, data: Float32Array.from(d.value as Float32Array) })) })),
      };
    });
    const { bytes: weightsOnly } = await withRawH5(null, (f) => {
      f.create_attribute("layer_names", content.layerNames, [content.layerNames.length], "S11");
      f.create_attribute("backend", "tensorflow", [], "S10");
      f.create_attribute("keras_version", "2.2.4", [], "S5");
      for (const g of content.groups) {
        f.create_group(g.layer);
        const group = f.get(g.layer) as InstanceType<typeof import("h5wasm").Group>;
        if (g.names.length === 0) group.create_attribute("weight_names", new Float64Array(0), [0], "<d");
        else group.create_attribute("weight_names", g.names, [g.names.length], `S${Math.max(...g.names.map((n) => n.length))}`);
        g.names.forEach((name, i) => {
          const [sub, leaf] = name.split("/") as [string, string];
          if (group.get(sub) === null) group.create_group(sub);
          (group.get(sub) as InstanceType<typeof import("h5wasm").Group>).create_dataset({ name: leaf, data: g.values[i]!.data, shape: g.values[i]!.shape });
        });
      }
    });

    const missing = await thrown(() => importKerasH5(weightsOnly, "weights.h5"));
    expect(missing.code).toBe("E_MODEL_JSON");
    expect(missing.message).toMatch(/^weights\.h5: .*weights-only/);

    for (const modelConfig of [content.modelConfig, JSON.parse(content.modelConfig) as object]) {
      const a = await importKerasH5(weightsOnly, "weights.h5", { modelConfig });
      expect(a.topology).toEqual(full.topology);
      expect(a.weights.map((w) => [w.name, w.shape])).toEqual(full.weights.map((w) => [w.name, w.shape]));
      a.weights.forEach((w, i) => expect(mismatches(w.data, full.weights[i]!.data), w.name).toBe(0));
    }
  });
});

describe("Keras 3 weights-only .weights.h5 with the model JSON", () => {
  it("reads the weight store like the .keras archive holding it", async () => {
    const archive = fixture("sequential_text.keras");
    const members = unzipSync(archive);
    const fromArchive: ModelArtifacts = await importKeras3(archive, "sequential_text.keras");
    const config = new TextDecoder().decode(members["config.json"]!);
    const a = await importKerasH5(members["model.weights.h5"]!, "model.weights.h5", { modelConfig: config });
    expect(a.origin).toBe("keras3");
    expect(a.topology).toEqual(fromArchive.topology);
    expect(a.weights.map((w) => [w.name, w.shape])).toEqual(fromArchive.weights.map((w) => [w.name, w.shape]));
    a.weights.forEach((w, i) => expect(mismatches(w.data, fromArchive.weights[i]!.data), w.name).toBe(0));

    const missing = await thrown(() => importKerasH5(members["model.weights.h5"]!, "model.weights.h5"));
    expect(missing.code).toBe("E_MODEL_JSON");
    expect(missing.message).toMatch(/Keras 3 weights-only/);
  });
});
