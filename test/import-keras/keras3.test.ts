/**
 * Keras 3 files: the fixtures of test/fixtures/keras (built by make-fixtures.ts in the
 * layout Keras 3 writes; no Keras-written .keras file is available here). Each fixture's
 * expected names, shapes and values are regenerated from the generator's seeds, so the
 * importer must map every `layers/<class>/.../vars/<i>` dataset back to its layer and role.
 */
import { describe, expect, it } from "vitest";
import { importKeras3, importKerasFile, importKerasH5 } from "../../src/import/keras/index.js";
import { normaliseKeras3Topology } from "../../src/import/keras/keras3-config.js";
import { toSnakeCase, variableRoles } from "../../src/import/keras/keras3-weights.js";
import { kerasFixtures, writeFixture, type KerasFixture } from "../fixtures/keras/make-fixtures.js";
import { allKeys, fixture, mismatches, valuesOf } from "./helpers.js";

type LayerJson = { class_name: string; name?: string; config: Record<string, unknown>; inbound_nodes?: unknown };

const FIXTURES = kerasFixtures();
const byFile = (file: string): KerasFixture => FIXTURES.find((f) => f.file === file)!;

async function load(fx: KerasFixture) {
  return importKerasFile(fixture(fx.file), fx.file);
}

function layersOf(topology: { config: unknown }): LayerJson[] {
  return (topology.config as { layers: LayerJson[] }).layers;
}

describe.each(FIXTURES)("fixture $file", (fx) => {
  it("names every variable by layer and role, in model order, with its stored values", async () => {
    const a = await load(fx);
    expect(a.weights.map((w) => w.name)).toEqual(fx.expectedNames);
    for (const w of a.weights) {
      const v = fx.variables.find((x) => x.name === w.name)!;
      expect(w.shape, w.name).toEqual(v.shape);
      expect(mismatches(w.data, v.data), w.name).toBe(0);
    }
  });

  it("reports origin and keras_version", async () => {
    const a = await load(fx);
    expect(a.kerasVersion).toBe(fx.kerasVersion);
    expect(a.origin).toBe(fx.kerasVersion.startsWith("3.") ? "keras3" : "keras2");
    expect(a.sourceName).toBe(fx.file);
  });

  it("gives the topology in Keras 2 / tfjs model_config form, every layer kept", async () => {
    const a = await load(fx);
    if (!fx.kerasVersion.startsWith("3.")) {
      // a Keras 2 config goes out exactly as written (tf.keras 2.13+ `module` keys included)
      expect(a.topology).toEqual(fx.config);
      return;
    }
    const keys = allKeys(a.topology);
    for (const k of ["module", "registered_name", "build_config", "compile_config", "shared_object_id", "__passive_serialization__", "batch_shape"]) {
      expect(keys.has(k), k).toBe(false);
    }
    expect(JSON.stringify(a.topology)).not.toContain("__keras_tensor__");
    expect(JSON.stringify(a.topology)).not.toContain("DTypePolicy");
    for (const dtype of valuesOf(a.topology, "dtype")) expect(typeof dtype).toBe("string");
    // the same layers, classes and names, in the same order as the file's config
    const raw = (fx.config as { config: { layers: LayerJson[] } }).config.layers;
    expect(layersOf(a.topology).map((l) => [l.class_name, l.config.name])).toEqual(raw.map((l) => [l.class_name, l.config.name]));
    const input = layersOf(a.topology).find((l) => l.class_name === "InputLayer");
    if (input) {
      const rawInput = raw.find((l) => l.class_name === "InputLayer")!;
      expect(input.config.batch_input_shape).toEqual(rawInput.config.batch_shape ?? rawInput.config.batch_input_shape);
    }
  });
});

describe("sequential_text.keras (Keras 3.5 Sequential)", () => {
  const fx = byFile("sequential_text.keras");

  it("files layers by class, not by name: lstm_1 is read from layers/lstm, dense_2 from layers/dense_1", async () => {
    const a = await load(fx);
    const kernel = a.weights.find((w) => w.name === "lstm_1/lstm_cell/kernel")!;
    const stored = fx.variables.find((v) => v.path === "layers/lstm/cell/vars/0")!;
    expect(mismatches(kernel.data, stored.data)).toBe(0);
    const dense2 = a.weights.find((w) => w.name === "dense_2/kernel")!;
    expect(mismatches(dense2.data, fx.variables.find((v) => v.path === "layers/dense_1/vars/0")!.data)).toBe(0);
  });

  it("turns the Bidirectional wrapper into Keras 2 form: the wrapped layer under its own name, the generated backward copy dropped", async () => {
    const a = await load(fx);
    const bi = layersOf(a.topology).find((l) => l.class_name === "Bidirectional")!;
    const inner = bi.config.layer as LayerJson;
    expect(inner.class_name).toBe("LSTM");
    expect(inner.config.name).toBe("lstm");
    expect(inner.config.go_backwards).toBe(false);
    expect(bi.config.backward_layer).toBeUndefined();
    expect(bi.config.merge_mode).toBe("concat");
  });

  it("keeps the options whose meaning depends on the Keras version", async () => {
    const a = await load(fx);
    const layers = layersOf(a.topology);
    expect(layers.find((l) => l.config.name === "lstm_1")!.config.recurrent_activation).toBe("hard_sigmoid");
    expect(layers.find((l) => l.config.name === "gru")!.config.reset_after).toBe(true);
    expect(a.kerasVersion).toBe("3.5.0"); // hard_sigmoid is relu6(x+3)/6 here
    const td = layers.find((l) => l.class_name === "TimeDistributed")!;
    expect((td.config.layer as LayerJson).class_name).toBe("Dense");
    expect(a.weights.find((w) => w.name === "gru/gru_cell/bias")!.shape).toEqual([2, 12]);
  });
});

describe("functional_two_branch.keras (Keras 3.8 Functional)", () => {
  const fx = byFile("functional_two_branch.keras");

  it("rewrites inbound nodes as [[name, node, tensor, kwargs], ...], merge inputs in order", async () => {
    const a = await load(fx);
    const layers = layersOf(a.topology);
    const nodes = (name: string) => layers.find((l) => l.name === name)!.inbound_nodes;
    expect(nodes("tokens")).toEqual([]);
    expect(nodes("embedding")).toEqual([[["tokens", 0, 0, {}]]]);
    expect(nodes("concatenate")).toEqual([[["lstm", 0, 0, {}], ["gru", 0, 0, {}]]]);
    // non-tensor kwargs stay, null ones (mask=None) go
    expect(nodes("lstm")).toEqual([[["embedding", 0, 0, { training: false }]]]);
    expect(nodes("score")).toEqual([[["dropout", 0, 0, {}]]]);
    const config = a.topology.config as Record<string, unknown>;
    expect(config.input_layers).toEqual([["tokens", 0, 0]]);
    expect(config.output_layers).toEqual([["probs", 0, 0], ["score", 0, 0]]);
    expect(a.topology.class_name).toBe("Functional");
  });

  it("keeps a user-supplied backward layer, and names its weights backward_<name>", async () => {
    const a = await load(fx);
    const bi = layersOf(a.topology).find((l) => l.class_name === "Bidirectional")!;
    expect((bi.config.layer as LayerJson).config.name).toBe("gru_1");
    const backward = bi.config.backward_layer as LayerJson;
    expect(backward.class_name).toBe("GRU");
    expect(backward.config.name).toBe("gru_2");
    expect(backward.config.activation).toBe("relu");
    expect(backward.config.go_backwards).toBe(true);
    const stored = fx.variables.find((v) => v.path === "layers/bidirectional/backward_layer/cell/vars/1")!;
    const w = a.weights.find((x) => x.name === "bidirectional/backward_gru_2/gru_cell/recurrent_kernel")!;
    expect(mismatches(w.data, stored.data)).toBe(0);
  });

  it("reads outputs named probs and score from layers/dense and layers/dense_1", async () => {
    const a = await load(fx);
    expect(mismatches(a.weights.find((w) => w.name === "score/kernel")!.data, fx.variables.find((v) => v.path === "layers/dense_1/vars/0")!.data)).toBe(0);
  });
});

describe("legacy_keras3.h5 (Keras 3 model.save('m.h5'))", () => {
  it("normalises the Keras 3 config and cuts the model prefix off variable paths", async () => {
    const fx = byFile("legacy_keras3.h5");
    const a = await importKerasH5(fixture(fx.file), fx.file);
    expect(a.origin).toBe("keras3");
    expect(a.weights.map((w) => w.name)).toEqual(["lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias", "dense/kernel", "dense/bias"]);
    const layers = layersOf(a.topology);
    expect(layers[0]!.config.batch_input_shape).toEqual([null, 6, 2]);
    expect(layers[1]!.config.dtype).toBe("float32");
    expect(layers[1]!.config.recurrent_initializer).toEqual({ class_name: "Orthogonal", config: { gain: 1, seed: null } });
  });
});

describe("float16_dense.h5 (float16 weights)", () => {
  it("widens binary16 datasets to float32 exactly", async () => {
    const fx = byFile("float16_dense.h5");
    const a = await importKerasH5(fixture(fx.file), fx.file);
    expect(a.weights.map((w) => [w.name, w.shape])).toEqual([["dense/kernel:0", [4, 3]], ["dense/bias:0", [3]]]);
    a.weights.forEach((w, i) => expect(mismatches(w.data, fx.variables[i]!.data), w.name).toBe(0));
    expect(a.weights[0]!.data[0]).toBe(2 ** -20); // a binary16 subnormal
  });
});

describe("Keras 3 config normalisation details", () => {
  const base = (layers: unknown[], extra: Record<string, unknown> = {}) => ({
    module: "keras.src.models.functional",
    class_name: "Functional",
    config: { name: "m", layers, ...extra },
    registered_name: "Functional",
  });
  const kt = (name: string, node = 0, index = 0) => ({ class_name: "__keras_tensor__", config: { shape: [null, 3], dtype: "float32", keras_history: [name, node, index] } });

  it("wraps a bare input/output triple and flattens dict-structured inputs in sorted key order", () => {
    const t1 = normaliseKeras3Topology(base([], { input_layers: ["x", 0, 0], output_layers: ["y", 0, 0] }), "m");
    expect(t1.config.input_layers).toEqual([["x", 0, 0]]);
    expect(t1.config.output_layers).toEqual([["y", 0, 0]]);
    const t2 = normaliseKeras3Topology(base([], { input_layers: { b: ["in_b", 0, 0], a: ["in_a", 0, 0] }, output_layers: [["y", 0, 0]] }), "m");
    expect(t2.config.input_layers).toEqual([["in_a", 0, 0], ["in_b", 0, 0]]);
  });

  it("lists tensors passed as kwargs (initial_state) after the positional ones, as Keras 2 did, naming the keyword", () => {
    const lstm = {
      module: "keras.layers",
      class_name: "LSTM",
      config: { name: "lstm", units: 3 },
      registered_name: null,
      name: "lstm",
      inbound_nodes: [{ args: [kt("x")], kwargs: { initial_state: [kt("h0"), kt("c0")], training: false, mask: null } }],
    };
    const t = normaliseKeras3Topology(base([lstm], { input_layers: [], output_layers: [] }), "m");
    expect((t.config.layers as LayerJson[])[0]!.inbound_nodes).toEqual([
      [["x", 0, 0, { training: false }], ["h0", 0, 0, { training: false }, "initial_state"], ["c0", 0, 0, { training: false }, "initial_state"]],
    ]);
  });

  it("reads quantized dtype policies as their names", () => {
    const dense = {
      module: "keras.layers",
      class_name: "Dense",
      config: { name: "d", dtype: { module: "keras", class_name: "QuantizedDTypePolicy", config: { mode: "int8", source_name: "float32" }, registered_name: null } },
      registered_name: null,
    };
    const t = normaliseKeras3Topology({ module: "keras", class_name: "Sequential", config: { name: "s", layers: [dense] }, registered_name: null }, "m");
    expect((t.config.layers as LayerJson[])[0]!.config.dtype).toBe("int8_from_float32");
  });

  it("refuses a model whose config lists no layers (subclassed model)", () => {
    expect(() => normaliseKeras3Topology({ module: "my", class_name: "MyModel", config: { units: 3 }, registered_name: "my>MyModel" }, "sub.keras")).toThrow(
      expect.objectContaining({ code: "E_MODEL_JSON", message: expect.stringMatching(/^sub\.keras: model class MyModel/) }),
    );
  });
});

describe("Keras 3 weight-store naming", () => {
  // Keras 3 auto-names layers with the same function (naming.auto_name -> to_snake_case);
  // these are the names and store paths Keras gives each class.
  it.each([
    ["LSTM", "lstm"],
    ["GRU", "gru"],
    ["SimpleRNN", "simple_rnn"],
    ["Conv1D", "conv1d"],
    ["BatchNormalization", "batch_normalization"],
    ["LayerNormalization", "layer_normalization"],
    ["TimeDistributed", "time_distributed"],
    ["GlobalAveragePooling1D", "global_average_pooling1d"],
    ["InputLayer", "input_layer"],
    ["Functional", "functional"],
  ])("%s is filed as %s", (className, path) => {
    expect(toSnakeCase(className)).toBe(path);
  });

  it("drops the roles a layer's config switches off", () => {
    expect(variableRoles("BatchNormalization", { center: false })).toEqual(["gamma", "moving_mean", "moving_variance"]);
    expect(variableRoles("BatchNormalization", { scale: false, center: false })).toEqual(["moving_mean", "moving_variance"]);
    expect(variableRoles("LayerNormalization", { rms_scaling: true })).toEqual(["gamma"]);
    expect(variableRoles("Dense", { use_bias: false })).toEqual(["kernel"]);
    expect(variableRoles("SomeCustomLayer", {})).toBeUndefined();
  });

  it("reads a generic RNN layer's cell: RNN(LSTMCell) at layers/rnn/cell/vars", async () => {
    const cell = { module: "keras.layers", class_name: "LSTMCell", config: { name: "lstm_cell", trainable: true, dtype: "float32", units: 2, use_bias: true }, registered_name: null };
    const rnnLayer = { module: "keras.layers", class_name: "RNN", config: { name: "rnn", trainable: true, dtype: "float32", return_sequences: false, cell }, registered_name: null };
    const data = (n: number, base: number) => Float32Array.from({ length: n }, (_, i) => base + i / 64);
    const fx: KerasFixture = {
      file: "rnn_cell.keras",
      description: "RNN(LSTMCell(2)) on 3 features",
      kerasVersion: "3.5.0",
      format: "keras",
      config: {
        module: "keras",
        class_name: "Sequential",
        config: { name: "s", layers: [{ module: "keras.layers", class_name: "InputLayer", config: { batch_shape: [null, 4, 3], dtype: "float32", name: "input_layer" }, registered_name: null }, rnnLayer] },
        registered_name: null,
      },
      groups: ["vars", "layers/rnn/vars", "layers/rnn/cell/vars"],
      variables: [
        { path: "layers/rnn/cell/vars/0", name: "rnn/lstm_cell/kernel", shape: [3, 8], data: data(24, 0) },
        { path: "layers/rnn/cell/vars/1", name: "rnn/lstm_cell/recurrent_kernel", shape: [2, 8], data: data(16, 1) },
        { path: "layers/rnn/cell/vars/2", name: "rnn/lstm_cell/bias", shape: [8], data: data(8, 2) },
      ],
      expectedNames: ["rnn/lstm_cell/kernel", "rnn/lstm_cell/recurrent_kernel", "rnn/lstm_cell/bias"],
    };
    const a = await importKerasFile(await writeFixture(fx), fx.file);
    expect(a.weights.map((w) => [w.name, w.shape])).toEqual(fx.variables.map((v) => [v.name, v.shape]));
    a.weights.forEach((w, i) => expect(mismatches(w.data, fx.variables[i]!.data)).toBe(0));
    expect(((layersOf(a.topology)[1]!.config.cell) as LayerJson).class_name).toBe("LSTMCell");
  });

  it("reads the same weights through importKeras3 and importKerasFile", async () => {
    const fx = byFile("sequential_tfjs_compatible.keras");
    const a = await importKeras3(fixture(fx.file), fx.file);
    const b = await importKerasFile(fixture(fx.file), fx.file);
    expect(a.weights.map((w) => w.name)).toEqual(b.weights.map((w) => w.name));
  });
});
