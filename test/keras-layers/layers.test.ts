/**
 * Each new Keras layer and its options, one small model per case (the corpus covers the
 * patterns; this file covers the options): rnn-wasm against tfjs where tfjs runs the layer
 * (Dot, Permute, merges, Softmax on the last axis, Concatenate, nested models), else against
 * the float64 reference of the Keras equations (Attention, AdditiveAttention,
 * MultiHeadAttention, CuDNNLSTM/CuDNNGRU, TFOpLambda, Softmax over time), each in the file its
 * framework writes.
 */
import { describe, it } from "vitest";
import type { CorpusModel } from "../fixtures/corpus/models.ts";
import { KerasGraph, type Ref } from "../fixtures/corpus/graph.ts";
import {
  additiveAttention, attention, bidirectional, concatenate, dense, embedding, layerNormalization, merge, multiHeadAttention, rnn, tfOp,
} from "../fixtures/corpus/layers.ts";
import { tfjsArtifacts } from "../fixtures/corpus/files.ts";
import { parityTolerance } from "../tolerance.ts";
import { runLabel, type InputGen } from "../util/cases.ts";
import { assertAllClose } from "../util/compare.ts";
import { copyArtifacts } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { loadTfjsModel, tfjsPredict, type Tf } from "../util/tfjs.ts";
import type { LayersModel, SymbolicTensor } from "@tensorflow/tfjs";
import { define, inputsFor, loadDefinition, referenceOf, referencePredict } from "./helpers.ts";

const floats = (features: number, fixedTime?: number, padding: InputGen["padding"] = "none"): InputGen => ({ kind: "float", features, padding, ...(fixedTime ? { fixedTime } : {}) });
const ids = (vocab: number, padding: InputGen["padding"] = "none"): InputGen => ({ kind: "ids", vocab, padding });
const RUNS = [{ batch: 3, time: 6 }, { batch: 1, time: 1 }];

/** Loads the case as its writer saves it and compares every run with its oracle. */
async function check(m: CorpusModel): Promise<void> {
  const def = await define(m);
  const model = await loadDefinition(def);
  const tfModel = def.writer === "tfjs" && def.oracle !== "reference" ? await loadTfjsModel(copyArtifacts(tfjsArtifacts(def))) : null;
  const ref = tfModel ? null : referenceOf(def);
  try {
    for (const run of def.runs) {
      const xs = inputsFor(def, run);
      const want = tfModel ? tfjsPredict(tfModel, xs) : referencePredict(ref!, xs);
      const got = model.predict(xs.length === 1 ? xs[0] : xs);
      assertAllClose(Array.isArray(got) ? got : [got], want, parityTolerance(def.approx), `${def.id}, ${runLabel(run)}; ${describeSeed(rngFor(`corpus ${def.id}`))}`);
    }
  } finally {
    model.dispose();
    tfModel?.dispose();
  }
}

/** A Keras functional model around one layer call: inputs -> body -> outputs. */
function keras(id: string, writer: "keras2" | "keras3", version: string, inputs: [string, (number | null)[], string?][], gens: InputGen[],
  body: (g: KerasGraph, xs: Ref[]) => Ref[], runs = RUNS): CorpusModel {
  return {
    id, pattern: id, writer, kerasVersion: version, inputs: gens, runs, approx: true, streams: true,
    graph: () => {
      const g = new KerasGraph("model");
      const xs = inputs.map(([name, shape, dtype]) => g.input(name, shape, dtype));
      return g.done(...body(g, xs));
    },
  };
}

const seqOf = (g: KerasGraph, x: Ref, name: string, units = 6) => g.apply(rnn("LSTM", name, units, { returnSequences: true }), x);

describe("Attention and AdditiveAttention (oracle: float64 reference)", () => {
  const cases: CorpusModel[] = [
    keras("attention dot, query and value of different lengths", "keras2", "2.9.0", [["q", [4, 3]], ["v", [7, 3]]], [floats(3, 4), floats(3, 7)],
      (g, [q, v]) => [g.apply(attention("attention"), [seqOf(g, q, "lstm"), seqOf(g, v, "lstm_1")])], [{ batch: 3, time: 7 }]),
    keras("attention dot use_scale with a separate key", "keras2", "2.9.0", [["x", [null, 3]]], [floats(3)],
      (g, [x]) => [g.apply(attention("attention", { useScale: true }), [seqOf(g, x, "lstm"), seqOf(g, x, "lstm_1", 5), seqOf(g, x, "lstm_2")])]),
    keras("attention concat use_scale, scores returned", "keras3", "3.4.1", [["x", [null, 3]]], [floats(3)],
      (g, [x]) => { const h = seqOf(g, x, "lstm"); return g.call(attention("attention", { scoreMode: "concat", useScale: true }), [h, h], { return_attention_scores: true }); }),
    keras("attention concat without scale", "keras3", "3.4.1", [["x", [null, 3]]], [floats(3)],
      (g, [x]) => { const h = seqOf(g, x, "lstm"); return [g.apply(attention("attention", { scoreMode: "concat" }), [h, h])]; }),
    keras("attention causal (config), masked query and value", "keras2", "2.4.0", [["x", [null], "int32"]], [ids(20, "mixed")],
      (g, [x]) => { const h = seqOf(g, g.apply(embedding("embedding", 20, 4, true), x), "lstm"); return [g.apply(attention("attention", { causal: true }), [h, h])]; }),
    keras("attention use_causal_mask with scores, masked", "keras3", "3.6.0", [["x", [null], "int32"]], [ids(20, "left")],
      (g, [x]) => { const h = seqOf(g, g.apply(embedding("embedding", 20, 4, true), x), "lstm"); return g.call(attention("attention", { useScale: true }), [h, h], { use_causal_mask: true, return_attention_scores: true }); }),
    keras("attention: masked value, unmasked query", "keras2", "2.13.1", [["q", [null, 3]], ["v", [null], "int32"]], [floats(3), ids(20, "right")],
      (g, [q, v]) => [g.apply(attention("attention"), [seqOf(g, q, "lstm"), seqOf(g, g.apply(embedding("embedding", 20, 4, true), v), "lstm_1")])]),
    keras("additive attention use_scale, masked", "keras2", "2.6.0", [["x", [null], "int32"]], [ids(20, "mixed")],
      (g, [x]) => { const h = seqOf(g, g.apply(embedding("embedding", 20, 4, true), x), "lstm"); return [g.apply(additiveAttention("additive_attention"), [h, h])]; }),
    keras("additive attention without scale, separate key, scores", "keras3", "3.3.3", [["x", [null, 3]]], [floats(3)],
      (g, [x]) => g.call(additiveAttention("additive_attention", false), [seqOf(g, x, "lstm"), seqOf(g, x, "lstm_1"), seqOf(g, x, "lstm_2")], { return_attention_scores: true })),
  ];
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => check(c), 60_000);
});

describe("MultiHeadAttention (oracle: float64 reference)", () => {
  const cases: CorpusModel[] = [
    keras("mha 1 head, self-attention", "keras2", "2.11.0", [["x", [null, 5]]], [floats(5)],
      (g, [x]) => { const h = seqOf(g, x, "lstm", 8); return [g.apply(multiHeadAttention("multi_head_attention", { numHeads: 1, keyDim: 4 }), h, {}, { value: h })]; }),
    keras("mha 3 heads, value_dim != key_dim, output_shape, key of its own, query and value of different lengths", "keras2", "2.13.1",
      [["q", [5, 4]], ["v", [8, 4]]], [floats(4, 5), floats(4, 8)],
      (g, [q, v]) => [g.apply(multiHeadAttention("multi_head_attention", { numHeads: 3, keyDim: 2, valueDim: 5, outputShape: 7 }), seqOf(g, q, "lstm"), {},
        { value: seqOf(g, v, "lstm_1"), key: seqOf(g, v, "lstm_2", 4) })], [{ batch: 2, time: 8 }]),
    keras("mha use_bias=False, causal, scores returned", "keras3", "3.5.0", [["x", [null, 5]]], [floats(5)],
      (g, [x]) => { const h = seqOf(g, x, "lstm"); return g.call(multiHeadAttention("multi_head_attention", { numHeads: 2, keyDim: 3, useBias: false }), [h, h], { use_causal_mask: true, return_attention_scores: true }); }),
    keras("mha masked query and value, tf.keras 2 (a fully masked query row attends evenly)", "keras2", "2.13.1", [["x", [null], "int32"]], [ids(15, "mixed")],
      (g, [x]) => { const h = seqOf(g, g.apply(embedding("embedding", 15, 4, true), x), "lstm"); return [g.apply(multiHeadAttention("multi_head_attention", { numHeads: 2, keyDim: 3 }), h, {}, { value: h })]; },
      [{ batch: 4, time: 6 }]),
    keras("mha masked, Keras 3.10 (masked weights zeroed), scores returned", "keras3", "3.10.0", [["x", [null], "int32"]], [ids(15, "mixed")],
      (g, [x]) => { const h = seqOf(g, g.apply(embedding("embedding", 15, 4, true), x), "lstm"); return g.call(multiHeadAttention("multi_head_attention", { numHeads: 2, keyDim: 3 }), [h, h], { return_attention_scores: true }); },
      [{ batch: 4, time: 6 }]),
    keras("mha in a Keras 3.2 file (sublayers at _query_dense, ...), then LayerNormalization", "keras3", "3.2.1", [["x", [null, 5]]], [floats(5)],
      (g, [x]) => { const h = seqOf(g, x, "lstm"); return [g.apply(layerNormalization("layer_normalization"), g.apply(merge("Add", "add"), [h, g.apply(multiHeadAttention("multi_head_attention", { numHeads: 2, keyDim: 2 }), [h, h])]))]; }),
  ];
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => check(c), 60_000);
});

describe("CuDNNLSTM and CuDNNGRU from Keras 2 .h5 (oracle: the reference's cuDNN equations)", () => {
  const cudnn = (cls: "CuDNNLSTM" | "CuDNNGRU", units: number, o: { returnSequences?: boolean; returnState?: boolean; goBackwards?: boolean }) =>
    keras(`${cls} units=${units} ${JSON.stringify(o)}`, "keras2", "2.2.4", [["x", [null, 4]]], [floats(4)], (g, [x]) => g.call(rnn(cls, cls === "CuDNNLSTM" ? "cu_dnnlstm_1" : "cu_dnngru_1", units, o), x),
      [{ batch: 3, time: 7 }, { batch: 2, time: 1 }]);
  const cases: CorpusModel[] = [
    ...[1, 5, 8, 9].map((u) => cudnn("CuDNNLSTM", u, { returnSequences: u % 2 === 1 })),
    ...[1, 7, 8, 17].map((u) => cudnn("CuDNNGRU", u, { returnSequences: u % 2 === 0 })),
    cudnn("CuDNNLSTM", 6, { goBackwards: true, returnSequences: true }),
    cudnn("CuDNNLSTM", 6, { returnState: true }),
    cudnn("CuDNNGRU", 6, { goBackwards: true, returnState: true }),
    ...(["sum", "ave", "mul", null] as const).map((mode) => keras(`Bidirectional(CuDNNGRU) merge_mode=${mode}`, "keras2", "2.3.1", [["x", [null, 3]]], [floats(3)],
      (g, [x]) => g.call(bidirectional("bidirectional_1", rnn("CuDNNGRU", "cu_dnngru_1", 5, { returnSequences: true }), mode), x))),
  ];
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => check(c), 60_000);
});

/** A tfjs model around one layer, saved by tfjs; tfjs is the oracle unless it cannot run it. */
function tfjsCase(id: string, inputs: (number | null)[][], gens: InputGen[], body: (tf: Tf, xs: SymbolicTensor[]) => SymbolicTensor[], oracle?: "reference", runs = RUNS): CorpusModel {
  return {
    id, pattern: id, writer: "tfjs", inputs: gens, runs, approx: true, streams: true, ...(oracle ? { oracle } : {}),
    tfjs: (tf): LayersModel => {
      const xs = inputs.map((shape) => tf.input({ shape }));
      return tf.model({ inputs: xs, outputs: body(tf, xs) });
    },
  };
}

const lstm = (tf: Tf, x: SymbolicTensor, units = 6) => tf.layers.lstm({ units, returnSequences: true }).apply(x) as SymbolicTensor;

describe("Dot, Permute, merges, Concatenate, Softmax, nested models (oracle: tfjs)", () => {
  const dotCases: [string, number | [number, number], boolean, "3x3" | "3x2" | "2x2"][] = [
    ["[2, 2]", [2, 2], false, "3x3"], ["[1, 1]", [1, 1], false, "3x3"], ["[2, 1] (a product)", [2, 1], false, "3x3"], ["[1, 2]", [1, 2], false, "3x3"],
    ["-1 normalize", -1, true, "3x3"], ["[2, 1] of a sequence and a vector", [2, 1], false, "3x2"], ["1 of two vectors", 1, false, "2x2"], ["1 of two vectors, normalize", 1, true, "2x2"],
  ];
  const cases: CorpusModel[] = [
    ...dotCases.map(([label, axes, normalize, kind]) => tfjsCase(`Dot axes=${label}`, [[6, 4], [6, 4]], [floats(4, 6), floats(4, 6)], (tf, [a, b]) => {
      const x = kind === "2x2" ? (tf.layers.lstm({ units: 6 }).apply(a) as SymbolicTensor) : lstm(tf, a);
      const y = kind === "3x3" ? lstm(tf, b) : (tf.layers.lstm({ units: 6 }).apply(b) as SymbolicTensor);
      return [tf.layers.dot({ axes, normalize }).apply([x, y]) as SymbolicTensor];
    }, undefined, [{ batch: 3, time: 6 }])),
    tfjsCase("Permute [2, 1] then Dense", [[6, 3]], [floats(3, 6)], (tf, [x]) => [tf.layers.dense({ units: 2 }).apply(tf.layers.permute({ dims: [2, 1] }).apply(lstm(tf, x))) as SymbolicTensor], undefined, [{ batch: 3, time: 6 }]),
    tfjsCase("Permute of a 4-D tensor [3, 1, 2]", [[5, 6]], [floats(6, 5)], (tf, [x]) => {
      const four = tf.layers.reshape({ targetShape: [5, 2, 3] }).apply(x);
      return [tf.layers.reshape({ targetShape: [30] }).apply(tf.layers.permute({ dims: [3, 1, 2] }).apply(four)) as SymbolicTensor];
    }, undefined, [{ batch: 2, time: 5 }]),
    tfjsCase("Multiply broadcasting [T, U] by [T, 1]", [[null, 3]], [floats(3)], (tf, [x]) => {
      const h = lstm(tf, x);
      return [tf.layers.multiply().apply([h, tf.layers.dense({ units: 1, activation: "sigmoid" }).apply(h) as SymbolicTensor]) as SymbolicTensor];
    }),
    tfjsCase("Add and Average broadcasting [T, U] with [1, U]", [[6, 3]], [floats(3, 6)], (tf, [x]) => {
      const h = lstm(tf, x);
      const one = tf.layers.reshape({ targetShape: [1, 6] }).apply(tf.layers.lstm({ units: 6 }).apply(x)) as SymbolicTensor;
      return [tf.layers.add().apply([h, one]) as SymbolicTensor, tf.layers.average().apply([h, one, h]) as SymbolicTensor];
    }, undefined, [{ batch: 2, time: 6 }]),
    tfjsCase("Concatenate along time (axis 1)", [[4, 3], [6, 3]], [floats(3, 4), floats(3, 6)], (tf, [a, b]) => [tf.layers.concatenate({ axis: 1 }).apply([lstm(tf, a), lstm(tf, b)]) as SymbolicTensor], undefined, [{ batch: 2, time: 6 }]),
    tfjsCase("Softmax axis -1 and TimeDistributed -> Flatten", [[5, 3]], [floats(3, 5)], (tf, [x]) => {
      const h = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 4 }) }).apply(lstm(tf, x)) as SymbolicTensor;
      return [tf.layers.flatten().apply(tf.layers.softmax({ axis: -1 }).apply(h)) as SymbolicTensor];
    }, undefined, [{ batch: 2, time: 5 }]),
    tfjsCase("Softmax over time (axis 1; tfjs cannot run it)", [[null, 3]], [floats(3)], (tf, [x]) => [tf.layers.softmax({ axis: 1 }).apply(lstm(tf, x)) as SymbolicTensor], "reference"),
    tfjsCase("a nested functional model inside a nested sequential", [[null, 3]], [floats(3)], (tf, [x]) => {
      const i = tf.input({ shape: [null, 3] });
      const inner = tf.model({ inputs: i, outputs: tf.layers.dense({ units: 4, activation: "tanh" }).apply(lstm(tf, i)) as SymbolicTensor, name: "inner" });
      const outer = tf.sequential({ name: "outer" });
      outer.add(inner as never);
      outer.add(tf.layers.gru({ units: 3 }));
      return [outer.apply(x) as SymbolicTensor];
    }),
  ];
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => check(c), 60_000);
});

describe("nested models in Keras files (oracle: float64 reference)", () => {
  const encoder = (name: string, kind: "Functional" | "Sequential") => {
    const e = new KerasGraph(name, kind);
    const i = e.input(`${name}_input`, [null, 4]);
    return e.done(e.apply(dense(`${name}_dense`, 3, "tanh"), e.apply(rnn("GRU", `${name}_gru`, 5, { returnSequences: true }), i)));
  };
  const cases: CorpusModel[] = [
    keras("a Functional encoder called twice (Keras 2 numbers its calls from 1)", "keras2", "2.6.0", [["a", [null, 4]], ["b", [null, 4]]], [floats(4), floats(4)], (g, [a, b]) => {
      const e = encoder("encoder", "Functional").asLayer();
      return [g.apply(merge("Subtract", "subtract"), [g.apply(e, a), g.apply(e, b)])];
    }),
    keras("a Sequential encoder called twice in Keras 3 (numbered from 0)", "keras3", "3.5.0", [["a", [null, 4]], ["b", [null, 4]]], [floats(4), floats(4)], (g, [a, b]) => {
      const e = encoder("encoder", "Sequential").asLayer();
      return [g.apply(concatenate("concatenate"), [g.apply(e, a), g.apply(e, b)])];
    }),
    keras("a Functional encoder in Keras 3 (numbered from 1), a mask from outside", "keras3", "3.5.0", [["x", [null], "int32"]], [ids(20, "left")], (g, [x]) => {
      const e = new KerasGraph("encoder");
      const i = e.input("encoder_input", [null, 4]);
      e.done(e.apply(rnn("LSTM", "encoder_lstm", 5), i));
      return [g.apply(dense("dense", 2), g.apply(e.asLayer(), g.apply(embedding("embedding", 20, 4, true), x)))];
    }),
    keras("a model nested two deep", "keras2", "2.13.1", [["x", [null, 4]]], [floats(4)], (g, [x]) => {
      const inner = encoder("inner", "Functional");
      const middle = new KerasGraph("middle");
      const m = middle.input("middle_input", [null, 4]);
      middle.done(middle.apply(rnn("LSTM", "middle_lstm", 4), middle.apply(inner.asLayer(), m)));
      return [g.apply(middle.asLayer(), x)];
    }),
  ];
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => check(c), 60_000);
});

describe("TFOpLambda functions (oracle: float64 reference)", () => {
  const all = (s: (number | null)[]) => s;
  const slice = (start: number | null, stop: number | null, step: number | null) => ({ start, stop, step });
  const whole = slice(null, null, null);
  /** x [B, 6, 4] (or any time length) -> one function -> output. */
  const op = (label: string, fn: string, out: (s: (number | null)[][]) => (number | null)[], kwargs: Record<string, unknown>, time: number | null = 6, second?: boolean) =>
    keras(`tf.${fn} ${label}`, "keras2", "2.8.0", [["x", [time, 4]]], [floats(4, time ?? undefined)], (g, [x]) => {
      const h = seqOf(g, x, "lstm", 4);
      const other: Record<string, Ref> = second ? { [fn === "linalg.matmul" ? "b" : "y"]: seqOf(g, x, "lstm_1", 4) } : {};
      return [g.apply(tfOp(fn, `tf.${fn}`, out), h, kwargs, other)];
    }, [{ batch: 2, time: time ?? 5 }]);
  const cases: CorpusModel[] = [
    ...["__operators__.add", "math.subtract", "math.multiply", "math.truediv", "math.maximum", "math.minimum"].map((fn) => op("of two tensors", fn, ([s]) => s, { name: null }, 6, true)),
    op("by a number", "math.multiply", all as never, { y: 2.5 }),
    op("by a list (broadcast over the last axis)", "math.add", all as never, { y: [0.5, -1, 2, 0.25] }),
    op("to a power", "math.pow", all as never, { y: 2 }),
    ...["math.negative", "math.abs", "math.square", "math.exp", "math.tanh", "math.sigmoid", "nn.relu", "nn.relu6", "nn.elu", "nn.selu", "math.softplus", "nn.softsign", "nn.silu"]
      .map((fn) => op("", fn, all as never, {})),
    op("approximate=True", "nn.gelu", all as never, { approximate: true }),
    op("", "nn.gelu", all as never, {}),
    op("axis=-1", "nn.softmax", all as never, { axis: -1 }),
    op("axis=1 (over time)", "nn.log_softmax", all as never, { axis: 1 }),
    op("axis=1", "math.reduce_mean", ([s]) => [s[0], s[2]], { axis: 1 }, null),
    op("axis=[1, 2]", "math.reduce_sum", ([s]) => [s[0]], { axis: [1, 2] }),
    op("axis=-1 keepdims", "math.reduce_max", ([s]) => [s[0], s[1], 1], { axis: -1, keepdims: true }),
    op("axis=1", "math.reduce_min", ([s]) => [s[0], s[2]], { axis: 1 }),
    op("x[:, -1, :] (any time length)", "__operators__.getitem", ([s]) => [s[0], s[2]], { slice_spec: [whole, -1, whole] }, null),
    op("x[:, 1:] (any time length)", "__operators__.getitem", ([s]) => s, { slice_spec: [whole, slice(1, null, null)] }, null),
    op("x[:, ::-2, 1:3]", "__operators__.getitem", ([s]) => [s[0], 3, 2], { slice_spec: [whole, slice(null, null, -2), slice(1, 3, null)] }),
    op("x[..., 0]", "__operators__.getitem", ([s]) => [s[0], s[1]], { slice_spec: [{ class_name: "__ellipsis__" }, 0] }),
    op("x[:, :, None]", "__operators__.getitem", ([s]) => [s[0], s[1], 1, s[2]], { slice_spec: [whole, whole, null] }),
    op("axis=2", "expand_dims", ([s]) => [s[0], s[1], 1, s[2]], { axis: 2 }, null),
    op("shape [-1, 24]", "reshape", ([s]) => [s[0], 24], { shape: [-1, 24] }),
    op("perm [0, 2, 1]", "transpose", ([s]) => [s[0], s[2], s[1]], { perm: [0, 2, 1] }),
    op("transpose_b (scores q kᵀ)", "linalg.matmul", ([s]) => [s[0], s[1], s[1]], { transpose_b: true }, 6, true),
    keras("tf.concat axis=1 and tf.squeeze", "keras2", "2.8.0", [["x", [6, 4]]], [floats(4, 6)], (g, [x]) => {
      const h = seqOf(g, x, "lstm", 4);
      const c = g.apply(tfOp("concat", "tf.concat", ([a]) => [a[0], 12, 4]), [h, g.apply(tfOp("__operators__.getitem", "tf.__operators__.getitem", ([s]) => s), h, { slice_spec: [whole, slice(null, null, -1)] })], { axis: 1 });
      const r = g.apply(tfOp("math.reduce_mean", "tf.math.reduce_mean", ([s]) => [s[0], s[1], 1]), c, { axis: 2, keepdims: true });
      return [g.apply(tfOp("squeeze", "tf.squeeze", ([s]) => [s[0], s[1]]), r, { axis: [2] })];
    }, [{ batch: 2, time: 6 }]),
  ];
  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => check(c), 60_000);
});
