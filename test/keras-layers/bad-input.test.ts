/**
 * What the new layers refuse, with a typed error naming the layer and what was wrong: options
 * rnn-wasm cannot run, weights that do not fit, TensorFlow functions off the list, calls on
 * constants, inputs whose runtime shapes do not fit, crafted bundles with broken attention
 * ops. After each failure a witness model (loaded first) still predicts what it did.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, RnnWasmError, type Model } from "../../src/index.ts";
import { exportBundle } from "../../src/export.ts";
import type { CorpusModel } from "../fixtures/corpus/models.ts";
import { KerasGraph, type Ref } from "../fixtures/corpus/graph.ts";
import {
  attention, dense, dot, embedding, multiHeadAttention, permute, rnn, softmax, tfOp,
} from "../fixtures/corpus/layers.ts";
import { tryLoad, withHeader } from "../format/craft.ts";
import { define, loadDefinition, savedFile } from "./helpers.ts";

type Body = (g: KerasGraph, x: Ref) => Ref[];
type Edit = (config: Record<string, any>, weights: { name: string; shape: number[] }[]) => void;

function model(id: string, body: Body, input: [(number | null)[], string?] = [[null, 3]], version = "2.13.1"): CorpusModel {
  return {
    id, pattern: id, writer: version.startsWith("3") ? "keras3" : "keras2", kerasVersion: version, inputs: [], runs: [], approx: true, streams: true,
    graph: () => {
      const g = new KerasGraph("model");
      return g.done(...body(g, g.input("x", ...input)));
    },
  };
}

const seq = (g: KerasGraph, x: Ref, name = "lstm", units = 4) => g.apply(rnn("LSTM", name, units, { returnSequences: true }), x);
/** The config's layer named `name` (Keras 2 form). */
const layerOf = (config: Record<string, any>, name: string) => (config.config.layers as Record<string, any>[]).find((l) => l.name === name)!;

let witness: Model;
const witnessInput = { data: Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)), shape: [2, 5, 3] };
let witnessOutput: number[];

beforeAll(async () => {
  witness = await loadDefinition(await define(model("witness", (g, x) => [g.apply(attention("attention"), [seq(g, x), seq(g, x, "lstm_1")])])));
  witnessOutput = Array.from((witness.predict(witnessInput) as { data: Float32Array }).data);
});

/** Loads the model (edited), expecting `code` and a message naming every string in `mentions`; then checks the witness. */
async function refused(m: CorpusModel, code: string, mentions: (string | RegExp)[], edit?: Edit): Promise<void> {
  const def = await define(m);
  edit?.(def.config as Record<string, any>, def.weights);
  let err: unknown;
  try {
    const file = await savedFile(def);
    await exportBundle(file);
  } catch (e) {
    err = e;
  }
  expect(err, `${m.id}: expected ${code}`).toBeInstanceOf(RnnWasmError);
  expect((err as RnnWasmError).code, (err as Error).message).toBe(code);
  for (const s of mentions) expect((err as Error).message).toMatch(s);
  expect(Array.from((witness.predict(witnessInput) as { data: Float32Array }).data), "the witness model after the error").toEqual(witnessOutput);
}

describe("attention layers", () => {
  it("Attention on one tensor -> E_MODEL_JSON", () =>
    refused(model("one input", (g, x) => [g.apply(attention("attention"), [seq(g, x)])]), "E_MODEL_JSON", ["layer attention (Attention)", "takes [query, value]", "1 tensors"]));

  it("Attention given masks as tensors -> E_UNSUPPORTED_OPTION", () =>
    refused(model("mask kwarg", (g, x) => { const h = seq(g, x); return [g.apply(attention("attention"), [h, h], {}, { mask: h })]; }), "E_UNSUPPORTED_OPTION", ["layer attention", "mask"]));

  it("Attention score_mode='general' -> E_UNSUPPORTED_OPTION", () =>
    refused(model("score mode", (g, x) => { const h = seq(g, x); return [g.apply(attention("attention"), [h, h])]; }), "E_UNSUPPORTED_OPTION", ["score_mode", "general"],
      (c) => (layerOf(c, "attention").config.score_mode = "general")));

  it("Attention with query and key of different widths -> E_SHAPE", () =>
    refused(model("widths", (g, x) => [g.apply(attention("attention"), [seq(g, x), seq(g, x, "lstm_1", 5)])]), "E_SHAPE", ["layer attention", "4 features", "5"]));

  it("MultiHeadAttention over two axes -> E_UNSUPPORTED_OPTION", () =>
    refused(model("axes", (g, x) => { const h = seq(g, x); return [g.apply(multiHeadAttention("mha", { numHeads: 2, keyDim: 2 }), h, {}, { value: h })]; }),
      "E_UNSUPPORTED_OPTION", ["layer mha", "attention_axes", "[1,2]"], (c) => (layerOf(c, "mha").config.attention_axes = [1, 2])));

  it("MultiHeadAttention with an attention_mask tensor -> E_UNSUPPORTED_OPTION", () =>
    refused(model("attention_mask", (g, x) => { const h = seq(g, x); return [g.apply(multiHeadAttention("mha", { numHeads: 2, keyDim: 2 }), h, {}, { value: h, attention_mask: h })]; }),
      "E_UNSUPPORTED_OPTION", ["layer mha", "attention_mask"]));

  it("MultiHeadAttention use_gate=True -> E_UNSUPPORTED_OPTION", () =>
    refused(model("gate", (g, x) => { const h = seq(g, x); return [g.apply(multiHeadAttention("mha", { numHeads: 2, keyDim: 2 }), h, {}, { value: h })]; }),
      "E_UNSUPPORTED_OPTION", ["use_gate"], (c) => (layerOf(c, "mha").config.use_gate = true)));

  it("MultiHeadAttention whose key kernel has the wrong shape -> E_WEIGHTS naming it", () =>
    refused(model("key shape", (g, x) => { const h = seq(g, x); return [g.apply(multiHeadAttention("mha", { numHeads: 2, keyDim: 2 }), h, {}, { value: h })]; }),
      "E_WEIGHTS", ["mha/key/kernel", "[4, 2, 3]", "expected [4, 2, 2]"], (_c, w) => (w.find((v) => v.name === "mha/key/kernel:0")!.shape = [4, 2, 3])));
});

describe("CuDNN layers", () => {
  it("a masked input into CuDNNLSTM -> E_UNSUPPORTED_OPTION (Keras: masking is not supported for CuDNN RNNs)", () =>
    refused(model("cudnn mask", (g, x) => [g.apply(rnn("CuDNNLSTM", "cu_dnnlstm_1", 4), g.apply(embedding("embedding_1", 10, 3, true), x))], [[null], "int32"], "2.2.4"),
      "E_UNSUPPORTED_OPTION", ["cu_dnnlstm_1", "mask"]));

  it("a CuDNNGRU bias of a plain GRU's size -> E_WEIGHTS", () =>
    refused(model("cudnn bias", (g, x) => [g.apply(rnn("CuDNNGRU", "cu_dnngru_1", 4), x)], undefined, "2.2.4"), "E_WEIGHTS", ["cu_dnngru_1/bias", "[12]", "[2, 12]"],
      (_c, w) => (w.find((v) => v.name === "cu_dnngru_1/bias:0")!.shape = [12])));
});

describe("Dot, Permute, Softmax", () => {
  it("Dot over the batch axis -> E_UNSUPPORTED_OPTION", () =>
    refused(model("dot batch", (g, x) => { const h = seq(g, x); return [g.apply(dot("dot", [0, 1]), [h, h])]; }), "E_UNSUPPORTED_OPTION", ["layer dot", "batch axis"]));

  it("Dot of axes of different sizes -> E_SHAPE", () =>
    refused(model("dot sizes", (g, x) => [g.apply(dot("dot", [2, 2]), [seq(g, x), seq(g, x, "lstm_1", 5)])]), "E_SHAPE", ["layer dot", "differ"]));

  it("Permute dims that are not a permutation -> E_UNSUPPORTED_OPTION", () =>
    refused(model("permute", (g, x) => [g.apply(permute("permute", [1, 1]), seq(g, x))]), "E_UNSUPPORTED_OPTION", ["layer permute", "dims", "[1,1]"]));

  it("Softmax of a masked input in a Keras model -> E_UNSUPPORTED_OPTION", () =>
    refused(model("softmax mask", (g, x) => [g.apply(softmax("softmax", 1), seq(g, g.apply(embedding("embedding", 10, 3, true), x)))], [[null], "int32"]),
      "E_UNSUPPORTED_OPTION", ["layer softmax", "masked input"]));
});

describe("TFOpLambda", () => {
  const lambda = (fn: string, kwargs: Record<string, unknown>, tensors: Record<string, (g: KerasGraph, x: Ref) => Ref> = {}) =>
    model(`tf.${fn}`, (g, x) => {
      const h = seq(g, x);
      return [g.apply(tfOp(fn, `tf.${fn}`, ([s]) => s), h, kwargs, Object.fromEntries(Object.entries(tensors).map(([k, f]) => [k, f(g, h)])))];
    });

  it("a function off the list -> E_UNSUPPORTED_LAYER naming it and the list", () =>
    refused(lambda("math.cumsum", { axis: 1 }), "E_UNSUPPORTED_LAYER", ["tf.math.cumsum", "TFOpLambda", "tf.concat", "tf.__operators__.getitem"]));

  it("tf.reshape that changes the batch axis -> E_UNSUPPORTED_OPTION", () =>
    refused(lambda("reshape", { shape: [2, -1] }), "E_UNSUPPORTED_OPTION", ["tf.reshape", "batch axis first"]));

  it("tf.reduce_mean over every axis -> E_UNSUPPORTED_OPTION", () =>
    refused(lambda("math.reduce_mean", {}), "E_UNSUPPORTED_OPTION", ["tf.math.reduce_mean", "give axis"]));

  it("tf.reduce_sum over the batch axis -> E_UNSUPPORTED_OPTION", () =>
    refused(lambda("math.reduce_sum", { axis: 0 }), "E_UNSUPPORTED_OPTION", ["tf.math.reduce_sum", "batch axis"]));

  it("x[0] (a batch row) -> E_UNSUPPORTED_OPTION", () =>
    refused(lambda("__operators__.getitem", { slice_spec: 0 }), "E_UNSUPPORTED_OPTION", ["getitem", "batch axis must be taken whole"]));

  it("tf.matmul by a constant -> E_UNSUPPORTED_OPTION", () =>
    refused(lambda("linalg.matmul", { b: [[1, 2], [3, 4]] }), "E_UNSUPPORTED_OPTION", ["tf.linalg.matmul", "b must be a tensor"]));

  it("a Keras layer called on a constant -> E_UNSUPPORTED_OPTION", () =>
    refused(model("constant into Dense", (g, x) => [g.apply(dense("dense", 2), seq(g, x))]), "E_UNSUPPORTED_OPTION", ["layer dense (Dense)", "constant"],
      (c) => (layerOf(c, "dense").inbound_nodes = [[["_CONSTANT_VALUE", -1, [1, 2, 3], {}]]])));
});

describe("nested models", () => {
  it("a nested model called on the wrong number of tensors -> E_MODEL_JSON", () => {
    const inner = new KerasGraph("inner");
    const a = inner.input("a", [null, 4]);
    const b = inner.input("b", [null, 4]);
    inner.done(inner.apply(dot("d", [2, 2]), [a, b]));
    return refused(model("nested inputs", (g, x) => [g.apply(inner.asLayer(), seq(g, x))]), "E_MODEL_JSON", ["layer inner (a nested Functional model)", "2 inputs", "1 tensors"]);
  });
});

describe("nested models, crafted", () => {
  it("models nested 40 deep -> E_MODEL_JSON, not a stack overflow", async () => {
    let config: Record<string, unknown> = { class_name: "Sequential", config: { name: "m0", layers: [{ class_name: "Dense", config: { name: "d", units: 2, batch_input_shape: [null, 3] } }] } };
    for (let i = 1; i <= 40; i++) config = { class_name: "Sequential", config: { name: `m${i}`, layers: [config] } };
    const art = { modelJson: { modelTopology: config, weightsManifest: [] }, weights: new ArrayBuffer(0) };
    let err: unknown;
    try {
      await loadModel(art as never);
    } catch (e) {
      err = e;
    }
    expect((err as RnnWasmError).code).toBe("E_MODEL_JSON");
    expect((err as Error).message).toMatch(/nested more than 32 models deep/);
    expect(Array.from((witness.predict(witnessInput) as { data: Float32Array }).data)).toEqual(witnessOutput);
  });
});

describe("at predict time", () => {
  it("Dot of two sequences contracted over time, with different lengths -> E_SHAPE, and the model keeps working", async () => {
    const def = await define({
      id: "dot runtime", pattern: "", writer: "keras2", kerasVersion: "2.13.1", inputs: [], runs: [], approx: true, streams: true,
      graph: () => {
        const g = new KerasGraph("model");
        const a = g.input("a", [null, 3]);
        const b = g.input("b", [null, 3]);
        return g.done(g.apply(dot("dot", [1, 1]), [seq(g, a), seq(g, b, "lstm_1")]));
      },
    });
    const m = await loadDefinition(def);
    const x = (t: number) => ({ data: new Float32Array(2 * t * 3).fill(0.5), shape: [2, t, 3] });
    const ok = Array.from((m.predict([x(4), x(4)]) as { data: Float32Array }).data);
    expect(() => m.predict([x(4), x(6)])).toThrowError(expect.objectContaining({ code: "E_SHAPE", message: expect.stringMatching(/layer dot/) }));
    expect(Array.from((m.predict([x(4), x(4)]) as { data: Float32Array }).data)).toEqual(ok);
    m.dispose();
  });

  it("x[:, 5] of a sequence of 3 steps -> E_SHAPE, and the model keeps working", async () => {
    const def = await define(model("slice runtime", (g, x) => [g.apply(tfOp("__operators__.getitem", "tf.__operators__.getitem", ([s]) => [s[0], s[2]]), seq(g, x),
      { slice_spec: [{ start: null, stop: null, step: null }, 5] })]));
    const m = await loadDefinition(def);
    const x = (t: number) => ({ data: new Float32Array(2 * t * 3).fill(0.25), shape: [2, t, 3] });
    const ok = Array.from((m.predict(x(7)) as { data: Float32Array }).data);
    expect(() => m.predict(x(3))).toThrowError(expect.objectContaining({ code: "E_SHAPE", message: expect.stringMatching(/getitem/) }));
    expect(Array.from((m.predict(x(7)) as { data: Float32Array }).data)).toEqual(ok);
    m.dispose();
  });
});

describe("crafted bundles with an attention op", () => {
  let bundle: Uint8Array;
  beforeAll(async () => {
    const def = await define(model("crafted", (g, x) => { const h = seq(g, x); return [g.apply(multiHeadAttention("mha", { numHeads: 2, keyDim: 2 }), h, {}, { value: h })]; }));
    bundle = await exportBundle(await savedFile(def));
  });
  const attentionOp = (h: { model: { ops: { op: string }[] } }) => h.model.ops.find((o) => o.op === "attention") as Record<string, unknown>;
  it.each([
    ["heads 0", (op: Record<string, unknown>) => (op.heads = 0)],
    ["heads that do not divide the width", (op: Record<string, unknown>) => (op.heads = 3)],
    ["an unknown query mask mode", (op: Record<string, unknown>) => (op.queryMask = "sometimes")],
    ["a non-finite scale", (op: Record<string, unknown>) => (op.scoreScale = "Infinity")],
    ["scores promised but no output for them", (op: Record<string, unknown>) => (op.returnScores = true)],
    ["a fourth input", (op: Record<string, unknown>) => ((op.inputs as string[]).push((op.inputs as string[])[0]))],
  ])("%s -> E_BUNDLE_CORRUPT", async (_what, edit) => {
    const r = await tryLoad(withHeader(bundle, (h) => edit(attentionOp(h))));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe("E_BUNDLE_CORRUPT");
  });
});
