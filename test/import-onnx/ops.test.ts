/**
 * The generic ONNX operators around recurrent layers, alone and in the combinations exporters
 * write, against onnxruntime-node at batch 1 and 3 from one export: broadcasting (constants and
 * two runtime operands), negative axes, the opset differences (Slice / Pad / Squeeze /
 * Unsqueeze / Split / Reduce* attributes that became inputs, Softmax before and after opset 13,
 * Clip's bounds), Pad reflect / edge, Conv's strides / pads / dilations / groups, Gather as an
 * embedding lookup and as index selection.
 */
import type * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { describeSeed, rngFor, type Rng } from "../util/prng.ts";
import { f, GraphBuilder, type ElemType } from "./graph.ts";
import { asInt64, ErrorLog, expectMatch, ortRun, ortSession, outputsOf, type Feed, type Model } from "./oracle.ts";
import { squeeze, unsqueeze } from "./torch.ts";

const log = new ErrorLog();

interface InputDecl {
  name: string;
  /** "batch" marks the batch dim (symbolic in the graph, any size at run time). */
  dims: (number | "batch")[];
  /** Token ids in [0, vocab) (int64 in the graph). */
  vocab?: number;
  /** Values in (0.1, 3) instead of (-2, 2): for Log, Sqrt, Pow with fractional exponents. */
  positive?: boolean;
}

interface OpCase {
  opset: number;
  inputs: InputDecl[];
  /** Writes the graph after the inputs; returns the graph outputs. */
  build: (g: GraphBuilder, rng: Rng, opset: number) => string[];
}

/** Seeded float weights. */
const w = (rng: Rng, dims: number[], scale = 1) => ({ dims, data: rng.float32Array(dims.reduce((a, b) => a * b, 1), (r) => r.uniform(-scale, scale)) });

const X = (...dims: (number | "batch")[]): InputDecl => ({ name: "X", dims: ["batch", ...dims] });
const pos = (d: InputDecl): InputDecl => ({ ...d, positive: true });

const CASES: Record<string, OpCase> = {
  // ---------------------------------------------------------------- elementwise, broadcasting
  "Add/Sub/Mul/Div by scalars (both operand orders)": {
    opset: 17, inputs: [X(4, 5)],
    build: (g) => {
      const s = (v: number) => g.init(g.fresh("s"), { dims: [], data: [v] });
      const a = g.op("Add", ["X", s(0.5)]);
      const b = g.op("Sub", [s(2), a]);
      const c = g.op("Mul", [b, s(-1.5)]);
      const d = g.op("Div", [c, s(4)]);
      return [g.op("Sub", [d, s(0.25)]), g.op("Div", [s(1), g.op("Add", [g.op("Abs", [d]), s(1)])])];
    },
  },
  "binary ops with constants broadcast over trailing, middle and leading axes": {
    opset: 13, inputs: [X(3, 4, 5)],
    build: (g, rng) => {
      const a = g.op("Add", ["X", g.init("v5", w(rng, [5]))]);
      const b = g.op("Mul", [g.init("m41", w(rng, [4, 1])), a]);
      const c = g.op("Sub", [b, g.init("t3", w(rng, [1, 3, 1, 1]))]);
      const d = g.op("Div", [c, g.init("full", { dims: [3, 4, 5], data: rng.float32Array(60, (r) => r.uniform(0.5, 2)) })]);
      return [d, g.op("Pow", [g.op("Abs", [d]), g.init("p", { dims: [], data: [1.5] })])];
    },
  },
  "binary ops between two runtime tensors, broadcast both ways": {
    opset: 17, inputs: [X(4, 6), { name: "Y", dims: ["batch", 1, 6] }],
    build: (g) => {
      const a = g.op("Add", ["X", "Y"]);
      const b = g.op("Mul", ["Y", a]);
      const c = g.op("Sub", [b, "X"]);
      return [g.op("Div", [c, g.op("Add", [g.op("Mul", ["Y", "Y"]), g.init("one", { dims: [], data: [1] })])])];
    },
  },
  "Pow with exponents 2, 0.5, -1, 3 and an elementwise exponent tensor": {
    opset: 15, inputs: [pos(X(7))],
    build: (g, rng) => ["2", "0.5", "-1", "3"].map((e) => g.op("Pow", ["X", g.init(g.fresh("e"), { dims: [], data: [Number(e)] })]))
      .concat([g.op("Pow", ["X", g.init("ev", { dims: [7], data: rng.float32Array(7, (r) => r.uniform(-2, 2)) })])]),
  },
  "Sqrt, Exp, Log, Neg, Abs": {
    opset: 13, inputs: [pos(X(9))],
    build: (g) => [g.op("Sqrt", ["X"]), g.op("Exp", ["X"]), g.op("Log", ["X"]), g.op("Neg", ["X"]), g.op("Abs", [g.op("Log", ["X"])])],
  },
  "activations: Relu, LeakyRelu, Sigmoid, HardSigmoid (default and custom), Tanh": {
    opset: 17, inputs: [X(3, 11)],
    build: (g) => {
      const x = g.op("Mul", ["X", g.init("k", { dims: [], data: [3] })]);
      return [g.op("Relu", [x]), g.op("LeakyRelu", [x], { alpha: f(0.2) }), g.op("LeakyRelu", [x]), g.op("Sigmoid", [x]),
        g.op("HardSigmoid", [x]), g.op("HardSigmoid", [x], { alpha: f(0.3), beta: f(0.4) }), g.op("Tanh", [x])];
    },
  },
  "Clip, opset 6: min / max attributes": {
    opset: 6, inputs: [X(10)],
    build: (g) => [g.op("Clip", ["X"], { min: f(-0.5), max: f(0.75) }), g.op("Clip", ["X"], { min: f(0) }), g.op("Clip", ["X"], { max: f(0.3) })],
  },
  "Clip, opset 13: bounds as inputs (both, min only, max only via the empty name, relu6)": {
    opset: 13, inputs: [X(10)],
    build: (g) => {
      const c = (v: number) => g.init(g.fresh("c"), { dims: [], data: [v] });
      const x = g.op("Mul", ["X", c(4)]);
      return [g.op("Clip", [x, c(-0.5), c(0.75)]), g.op("Clip", [x, c(0)]), g.op("Clip", [x, "", c(0.3)]), g.op("Clip", [x, c(0), c(6)])];
    },
  },

  // ---------------------------------------------------------------- softmax
  "Softmax / LogSoftmax, opset 13: one axis (last, middle, negative)": {
    opset: 13, inputs: [X(3, 5)],
    build: (g) => [g.op("Softmax", ["X"]), g.op("Softmax", ["X"], { axis: 1 }), g.op("LogSoftmax", ["X"], { axis: -2 }), g.op("LogSoftmax", ["X"], { axis: 2 })],
  },
  "Softmax / LogSoftmax, opset 11: every axis from `axis` on (the input seen as 2-D)": {
    opset: 11, inputs: [X(3, 5)],
    build: (g) => [g.op("Softmax", ["X"]), g.op("Softmax", ["X"], { axis: 2 }), g.op("LogSoftmax", ["X"], { axis: -2 }), g.op("LogSoftmax", ["X"])],
  },

  // ---------------------------------------------------------------- matrix products
  "MatMul: runtime x constant (2-D, 1-D), constant x runtime, runtime x runtime": {
    opset: 13, inputs: [X(4, 6), { name: "Y", dims: ["batch", 6, 3] }],
    build: (g, rng) => [
      g.op("MatMul", ["X", g.init("w", w(rng, [6, 5]))]),
      g.op("MatMul", ["X", g.init("v", w(rng, [6]))]),
      g.op("MatMul", [g.init("a", w(rng, [2, 4])), "X"]),
      g.op("MatMul", ["X", "Y"]),
      g.op("MatMul", [g.op("Transpose", ["Y"], { perm: [0, 2, 1] }), g.op("Transpose", ["X"], { perm: [0, 2, 1] })]),
    ],
  },
  "Gemm: transB, alpha / beta, bias [N], [1, N] and scalar, transA on a constant": {
    opset: 11, inputs: [X(6)],
    build: (g, rng) => [
      g.op("Gemm", ["X", g.init("wt", w(rng, [5, 6])), g.init("b", w(rng, [5]))], { transB: 1 }),
      g.op("Gemm", ["X", g.init("w2", w(rng, [6, 4])), g.init("b2", w(rng, [1, 4]))], { alpha: f(0.5), beta: f(2) }),
      g.op("Gemm", ["X", g.init("w3", w(rng, [6, 3])), g.init("b3", { dims: [], data: [0.25] })]),
      g.op("Gemm", ["X", g.init("w4", w(rng, [6, 3]))]),
    ],
  },
  "Flatten then Gemm (a classifier head)": {
    opset: 13, inputs: [X(3, 4)],
    build: (g, rng) => [
      g.op("Gemm", [g.op("Flatten", ["X"]), g.init("w", w(rng, [2, 12])), g.init("b", w(rng, [2]))], { transB: 1 }),
      g.op("Flatten", [g.op("Unsqueeze", ["X", g.ints([3])])], { axis: 1 }),
    ],
  },

  // ---------------------------------------------------------------- shapes
  "Reshape with 0 (copy) and -1, Transpose, Identity": {
    opset: 14, inputs: [X(4, 6)],
    build: (g) => {
      const r = g.op("Reshape", ["X", g.ints([0, 2, 2, -1])]);
      const t = g.op("Transpose", [r], { perm: [0, 3, 1, 2] });
      return [g.op("Identity", [t]), g.op("Reshape", [g.op("Relu", [t]), g.ints([0, -1])])];
    },
  },
  "Squeeze / Unsqueeze, opset 11: axes attributes (negative too)": {
    opset: 11, inputs: [X(1, 5)],
    build: (g) => {
      const s = squeeze(g, "X", [-2], 11);
      const u = unsqueeze(g, s, [1, -1], 11);
      return [g.op("Tanh", [u]), g.op("Squeeze", ["X"], { axes: [1] })];
    },
  },
  "Squeeze / Unsqueeze, opset 13: axes inputs": {
    opset: 13, inputs: [X(1, 5)],
    build: (g) => {
      const s = squeeze(g, "X", [1], 13);
      const u = unsqueeze(g, s, [-1, 1], 13);
      return [g.op("Tanh", [u])];
    },
  },
  "Concat of runtime tensors, and of a constant expanded to the batch (torch.cat with .expand)": {
    opset: 13, inputs: [X(3, 4), { name: "Y", dims: ["batch", 3, 2] }],
    build: (g, rng) => {
      const batch = unsqueeze(g, g.op("Gather", [g.op("Shape", ["X"]), g.ints([0], true)], { axis: 0 }), [0], 13);
      const pad = g.op("Expand", [g.init("c", w(rng, [1, 3, 1])), g.op("Concat", [batch, g.ints([3, 1])], { axis: 0 })]);
      return [g.op("Concat", ["X", "Y", pad], { axis: -1 }), g.op("Concat", ["X", g.op("Neg", ["X"])], { axis: 1 })];
    },
  },
  "Split, opset 11: sizes attribute; opset-13 style equal parts": {
    opset: 11, inputs: [X(7, 3)],
    build: (g) => [...g.node("Split", ["X"], 3, { axis: 1, split: [2, 4, 1] }), ...g.node("Split", ["X"], 3, { axis: -1 })],
  },
  "Split, opset 13: sizes as an input": {
    opset: 13, inputs: [X(8)],
    build: (g) => g.node("Split", ["X", g.ints([3, 5])], 2, { axis: 1 }),
  },
  "Split, opset 18: num_outputs with an uneven last part": {
    opset: 18, inputs: [X(7)],
    build: (g) => g.node("Split", ["X"], 3, { axis: 1, num_outputs: 3 }),
  },
  "Slice, opset 9: attributes": {
    opset: 9, inputs: [X(10, 4)],
    build: (g) => [g.op("Slice", ["X"], { axes: [1], starts: [2], ends: [7] }), g.op("Slice", ["X"], { axes: [1, 2], starts: [-3, 1], ends: [1000, -1] })],
  },
  "Slice, opset 13: inputs, negative axes, steps (also negative), INT64_MAX ends": {
    opset: 13, inputs: [X(10, 4)],
    build: (g) => [
      g.op("Slice", ["X", g.ints([1]), g.ints([8]), g.ints([-2]), g.ints([3])]),
      g.op("Slice", ["X", g.ints([-1]), g.ints([-1000]), g.ints([1]), g.ints([-2])]),
      g.op("Slice", ["X", g.ints([0, 2]), g.ints([2 ** 63, 2 ** 63]), g.ints([0, 1])]),
      g.op("Slice", ["X", g.ints([0, 2]), g.ints([2 ** 63, 4])]),
    ],
  },
  "Gather with constant indices: scalar (negative), runs, repeats, a 2-D index": {
    opset: 13, inputs: [X(6, 3)],
    build: (g) => [
      g.op("Gather", ["X", g.ints([-1], true)], { axis: 1 }),
      g.op("Gather", ["X", g.ints([0, 1, 2, 5, 3, 3])], { axis: 1 }),
      g.op("Gather", ["X", g.ints([2, 0])], { axis: -1 }),
      g.op("Gather", ["X", g.constant({ dims: [2, 2], data: [1, 0, 4, 4], type: "int64" })], { axis: 1 }),
    ],
  },
  "Gather as an embedding lookup (int64 ids), then a mean over time": {
    opset: 17, inputs: [{ name: "ids", dims: ["batch", 9], vocab: 20 }],
    build: (g, rng) => {
      const e = g.op("Gather", [g.init("emb", w(rng, [20, 6])), "ids"], { axis: 0 });
      return [e, g.op("ReduceMean", [e], { axes: [1], keepdims: 0 })];
    },
  },

  // ---------------------------------------------------------------- reductions
  "ReduceMean / ReduceSum / ReduceMax, opset 13: axes attributes (ReduceSum: input), keepdims, negative axes": {
    opset: 13, inputs: [X(3, 4, 5)],
    build: (g) => [
      g.op("ReduceMean", ["X"], { axes: [-1] }),
      g.op("ReduceMean", ["X"], { axes: [1, 3], keepdims: 0 }),
      g.op("ReduceMax", ["X"], { axes: [2] }),
      g.op("ReduceSum", ["X", g.ints([1])], { keepdims: 0 }),
      g.op("ReduceSum", ["X", g.ints([-1, 2])]),
    ],
  },
  "ReduceMean / ReduceSum / ReduceMax, opset 18: axes inputs": {
    opset: 18, inputs: [X(3, 4)],
    build: (g) => [g.op("ReduceMean", ["X", g.ints([2])], { keepdims: 0 }), g.op("ReduceMax", ["X", g.ints([-2])]), g.op("ReduceSum", ["X", g.ints([1, 2])], { keepdims: 0 })],
  },

  // ---------------------------------------------------------------- pad
  "Pad, opset 2: pads and value attributes (constant, reflect, edge)": {
    opset: 9, inputs: [X(5, 4)],
    build: (g) => [
      g.op("Pad", ["X"], { pads: [0, 1, 2, 0, 2, 0], value: f(0.5) }),
      g.op("Pad", ["X"], { mode: "reflect", pads: [0, 2, 1, 0, 3, 2] }),
      g.op("Pad", ["X"], { mode: "edge", pads: [0, 0, 3, 0, 4, 0] }),
    ],
  },
  "Pad, opset 13: pads and constant_value inputs (constant, reflect, edge, negative pads crop)": {
    opset: 13, inputs: [X(6)],
    build: (g) => [
      g.op("Pad", ["X", g.ints([0, 3, 0, 1]), g.init("v", { dims: [], data: [-1] })]),
      g.op("Pad", ["X", g.ints([0, 4, 0, 5])], { mode: "reflect" }),
      g.op("Pad", ["X", g.ints([0, 2, 0, 2])], { mode: "edge" }),
      g.op("Pad", ["X", g.ints([0, -2, 0, 3])]),
    ],
  },
  "Pad, opset 18: the axes input": {
    opset: 18, inputs: [X(4, 6)],
    build: (g) => [g.op("Pad", ["X", g.ints([2, 1]), "", g.ints([-1])], { mode: "reflect" })],
  },

  // ---------------------------------------------------------------- convolution and normalisation
  "Conv 1-D: strides, pads, dilations, no bias": {
    opset: 11, inputs: [X(3, 20)],
    build: (g, rng) => [
      g.op("Conv", ["X", g.init("w1", w(rng, [5, 3, 3])), g.init("b1", w(rng, [5]))], { kernel_shape: [3], pads: [1, 1] }),
      g.op("Conv", ["X", g.init("w2", w(rng, [4, 3, 5]))], { strides: [2], pads: [2, 1] }),
      g.op("Conv", ["X", g.init("w3", w(rng, [2, 3, 3])), g.init("b3", w(rng, [2]))], { dilations: [3], pads: [0, 2] }),
      g.op("Conv", ["X", g.init("w4", w(rng, [6, 3, 4]))], { strides: [3], dilations: [2] }),
    ],
  },
  "Conv 1-D: groups (depthwise and 2 groups), auto_pad SAME_UPPER / VALID": {
    opset: 13, inputs: [X(4, 15)],
    build: (g, rng) => [
      g.op("Conv", ["X", g.init("dw", w(rng, [4, 1, 3])), g.init("db", w(rng, [4]))], { group: 4, pads: [1, 1] }),
      g.op("Conv", ["X", g.init("gw", w(rng, [6, 2, 2]))], { group: 2, strides: [2] }),
      g.op("Conv", ["X", g.init("sw", w(rng, [3, 4, 4]))], { auto_pad: "SAME_UPPER", strides: [2] }),
      g.op("Conv", ["X", g.init("vw", w(rng, [3, 4, 4]))], { auto_pad: "VALID" }),
    ],
  },
  "Conv + BatchNormalization + Relu (a conv block), then BatchNormalization on [B, C] and Dropout": {
    opset: 15, inputs: [X(3, 12)],
    build: (g, rng) => {
      const bn = (name: string, C: number) => [
        g.init(`${name}.s`, { dims: [C], data: rng.float32Array(C, (r) => r.uniform(0.5, 1.5)) }),
        g.init(`${name}.b`, w(rng, [C])),
        g.init(`${name}.m`, w(rng, [C])),
        g.init(`${name}.v`, { dims: [C], data: rng.float32Array(C, (r) => r.uniform(0.2, 2)) }),
      ];
      const c = g.op("Conv", ["X", g.init("w", w(rng, [4, 3, 3])), g.init("b", w(rng, [4]))], { pads: [1, 1] });
      const r = g.op("Relu", [g.op("BatchNormalization", [c, ...bn("bn1", 4)], { epsilon: f(1e-3) })]);
      const pooled = g.op("ReduceMean", [r], { axes: [2], keepdims: 0 });
      const [d] = g.node("Dropout", [g.op("BatchNormalization", [pooled, ...bn("bn2", 4)])], 1);
      return [r, d];
    },
  },
  "BatchNormalization on [B, C, T] without a Conv before it": {
    opset: 9, inputs: [X(3, 5)],
    build: (g, rng) => [g.op("BatchNormalization", ["X", g.init("s", w(rng, [3])), g.init("b", w(rng, [3])), g.init("m", w(rng, [3])), g.init("v", { dims: [3], data: [0.5, 1, 2] })])],
  },

  // ---------------------------------------------------------------- folded at export
  "shape arithmetic that folds: Shape, Size, Gather, Mul, Concat, Range, Cast, Equal, Not, Where, ConstantOfShape": {
    opset: 13, inputs: [X(6, 4)],
    build: (g) => {
      const shape = g.op("Shape", ["X"]);
      const six = g.op("Gather", [shape, g.ints([1], true)], { axis: 0 });
      const half = g.op("Div", [six, g.ints([2], true)]);
      // Reshape X [B, 6, 4] -> [B, 3, 8] with a shape computed from X's own
      const target = g.op("Concat", [g.ints([0]), unsqueeze(g, half, [0], 13), g.ints([-1])], { axis: 0 });
      const r = g.op("Reshape", ["X", target]);
      // a mask from Range / Cast / Equal / Not / Where, all constants once folded
      const idx = g.op("Cast", [g.op("Range", [g.ints([0], true), g.op("Mul", [half, g.ints([1], true)]), g.ints([1], true)])], { to: 1 });
      const isFirst = g.op("Not", [g.op("Equal", [idx, g.init("zero", { dims: [], data: [0] })])]);
      const mask = g.op("Where", [isFirst, g.init("one", { dims: [], data: [1] }), g.init("tenth", { dims: [], data: [0.1] })]);
      const scaled = g.op("Mul", [r, g.op("Unsqueeze", [mask, g.ints([1])])]);
      // ConstantOfShape [Size(X) / (batch * 24) = 1, 8]: arithmetic on the symbolic batch that folds
      const batch = g.op("Gather", [shape, g.ints([0], true)], { axis: 0 });
      const one = g.op("Div", [g.op("Size", ["X"]), g.op("Mul", [batch, g.ints([24], true)])]);
      const ones = g.op("ConstantOfShape", [g.op("Concat", [unsqueeze(g, one, [0], 13), g.ints([8])], { axis: 0 })], { value: { dims: [1], data: [0.5] } });
      return [g.op("Add", [scaled, ones])];
    },
  },

  // ---------------------------------------------------------------- combinations exporters write
  "Silero's STFT block: reflect Pad, Conv (stride = hop), magnitude of the real and imaginary halves": {
    opset: 16, inputs: [X(64)],
    build: (g, rng) => {
      const p = g.op("Pad", [unsqueeze(g, "X", [1], 16), g.ints([0, 0, 8, 0, 0, 8])], { mode: "reflect" });
      const spec = g.op("Conv", [p, g.init("basis", w(rng, [10, 1, 16]))], { strides: [8] });
      const re = g.op("Slice", [spec, g.ints([0]), g.ints([5]), g.ints([1])]);
      const im = g.op("Slice", [spec, g.ints([5]), g.ints([10]), g.ints([1])]);
      const two = g.init("two", { dims: [], data: [2] });
      const mag = g.op("Sqrt", [g.op("Add", [g.op("Pow", [re, two]), g.op("Pow", [im, two])])]);
      return [g.op("Relu", [g.op("Conv", [mag, g.init("c", w(rng, [3, 5, 3])), g.init("cb", w(rng, [3]))], { pads: [1, 1] })])];
    },
  },
  "LayerNorm as exported before opset 17 (ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add)": {
    opset: 13, inputs: [X(5, 8)],
    build: (g, rng) => {
      const mean = g.op("ReduceMean", ["X"], { axes: [-1] });
      const d = g.op("Sub", ["X", mean]);
      const v = g.op("ReduceMean", [g.op("Pow", [d, g.init("two", { dims: [], data: [2] })])], { axes: [-1] });
      const n = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [v, g.init("eps", { dims: [], data: [1e-5] })])])]);
      return [g.op("Add", [g.op("Mul", [n, g.init("gamma", w(rng, [8]))]), g.init("beta", w(rng, [8]))])];
    },
  },
  "attention-like: MatMul of runtime tensors, scaled Softmax, MatMul": {
    opset: 17, inputs: [X(5, 4)],
    build: (g, rng) => {
      const q = g.op("MatMul", ["X", g.init("wq", w(rng, [4, 4]))]);
      const k = g.op("MatMul", ["X", g.init("wk", w(rng, [4, 4]))]);
      const s = g.op("Div", [g.op("MatMul", [q, g.op("Transpose", [k], { perm: [0, 2, 1] })]), g.init("scale", { dims: [], data: [2] })]);
      return [g.op("MatMul", [g.op("Softmax", [s], { axis: -1 }), "X"])];
    },
  },
};

const ENTRIES = Object.entries(CASES);

function feedFor(d: InputDecl, B: number, rng: Rng): { ort: Feed; rnn: { data: Float32Array | Int32Array; shape: number[] } } {
  const shape = d.dims.map((x) => (x === "batch" ? B : x));
  const n = shape.reduce((a, b) => a * b, 1);
  if (d.vocab) {
    const ids = Int32Array.from({ length: n }, () => rng.int(0, d.vocab!));
    return { ort: { data: asInt64(ids), shape }, rnn: { data: ids, shape } };
  }
  const data = rng.float32Array(n, (r) => (d.positive ? r.uniform(0.1, 3) : r.uniform(-2, 2)));
  return { ort: { data, shape }, rnn: { data, shape } };
}

describe.each(ENTRIES)("ONNX %s against onnxruntime-node", (name, c) => {
  const rng = rngFor(`onnx op ${name}`);
  let bytes: Uint8Array;
  let session: ort.InferenceSession;
  let model: Model;
  let outputs: string[];
  beforeAll(async () => {
    const g = new GraphBuilder("ops");
    for (const d of c.inputs) g.input(d.name, d.dims.map((x) => x), (d.vocab ? "int64" : "float32") as ElemType);
    outputs = c.build(g, rng.fork("weights"), c.opset).map((v, i) => {
      const out = `out${i}`;
      g.node("Identity", [v], [out]);
      return g.output(out);
    });
    bytes = g.model({ opset: c.opset });
    session = await ortSession(bytes);
    model = await loadModel(await exportBundle(bytes));
  });
  afterAll(async () => {
    model?.dispose();
    await session?.release();
  });

  it.each([1, 3])("batch %i", async (B) => {
    const r = rng.fork(`inputs B=${B}`);
    const feeds = c.inputs.map((d) => feedFor(d, B, r));
    const want = await ortRun(session, Object.fromEntries(c.inputs.map((d, i) => [d.name, feeds[i].ort])));
    const got = outputsOf(model.predict(feeds.length === 1 ? feeds[0].rnn : feeds.map((x) => x.rnn)));
    expect(got.length).toBe(outputs.length);
    outputs.forEach((o, k) => log.add("ops", expectMatch(got[k], want[o], `${name}, batch ${B}, ${o}; ${describeSeed(r)}`)));
  });
});

afterAll(() => log.print("ops.test.ts"));
