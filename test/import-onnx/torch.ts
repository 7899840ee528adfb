/**
 * Recurrent graphs written the way torch.onnx.export's TorchScript exporter writes nn.LSTM,
 * nn.GRU and nn.RNN (torch/onnx/symbolic_opset9.py `_generic_rnn`, used for opsets 9-18):
 *
 * - batch_first: a Transpose [1, 0, 2] before the first layer and after the last;
 * - initial states not given (`lstm(x)`): torch.zeros(L·D, batch, H) traced as
 *   Shape -> Gather(batch axis) -> Unsqueeze -> Concat(L·D, batch, H) -> ConstantOfShape, one per
 *   state; given (`lstm(x, (h0, c0))`): graph inputs, sliced per layer when L > 1;
 * - weights: PyTorch's parameters (gate order i,f,g,o / r,z,n) reordered into ONNX's (i,o,f,c /
 *   z,r,h) by Slice + Concat, unsqueezed, the two biases concatenated, the directions
 *   concatenated. With do_constant_folding (the default) all of that folds into initializers;
 *   without it the Slice/Concat/Unsqueeze nodes stay in the graph over the raw parameters;
 * - sequence_lens: the empty name;
 * - outputs: Y squeezed on the direction axis, or (bidirectional) Transpose [0, 2, 1, 3] then
 *   Reshape [0, 0, -1]; h_n (and c_n) the layers' Y_h concatenated;
 * - GRU: linear_before_reset = 1 (PyTorch's GRU); RNN: activations [Tanh] or [Relu].
 */
import type { Rng } from "../util/prng.ts";
import { GraphBuilder, type DimDecl } from "./graph.ts";

export type TorchCell = "LSTM" | "GRU" | "RNN_TANH" | "RNN_RELU";

export interface TorchRnnOptions {
  cell: TorchCell;
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  bias?: boolean;
  /** "zeros": forward(x) (states made from the input's shape); "inputs": forward(x, h0[, c0]). */
  initial?: "zeros" | "inputs";
  /** do_constant_folding=True (weights as reordered initializers) or False (Slice/Concat nodes). */
  folded?: boolean;
  opset?: number;
  /** Declared input dims: symbolic (dynamic_axes) or fixed numbers for batch and time. */
  batch?: number | string;
  seq?: number | string;
  /** Weight scale (uniform ±1/sqrt(H) as PyTorch initialises, times this). */
  scale?: number;
}

export const GATES: Record<TorchCell, number> = { LSTM: 4, GRU: 3, RNN_TANH: 1, RNN_RELU: 1 };

/** Which PyTorch row blocks make ONNX's gate order (symbolic_opset9's reform_permutation). */
const REFORM: Record<TorchCell, [number, number][]> = {
  LSTM: [[0, 1], [3, 4], [1, 3]], // i | o | f, g
  GRU: [[1, 2], [0, 1], [2, 3]], // z | r | n
  RNN_TANH: [[0, 1]],
  RNN_RELU: [[0, 1]],
};

export interface TorchParams {
  /** Per layer, per direction: weight_ih [G·H, in], weight_hh [G·H, H], bias_ih, bias_hh [G·H]. */
  layers: { ih: Float32Array; hh: Float32Array; bih?: Float32Array; bhh?: Float32Array; inSize: number }[][];
}

export function torchParams(o: TorchRnnOptions, rng: Rng): TorchParams {
  const D = o.bidirectional ? 2 : 1;
  const G = GATES[o.cell];
  const H = o.hiddenSize;
  const k = (o.scale ?? 1) / Math.sqrt(H);
  const draw = (n: number) => rng.float32Array(n, (r) => r.uniform(-k, k));
  return {
    layers: Array.from({ length: o.numLayers ?? 1 }, (_, l) => Array.from({ length: D }, () => {
      const inSize = l === 0 ? o.inputSize : D * H;
      return {
        inSize,
        ih: draw(G * H * inSize),
        hh: draw(G * H * H),
        ...(o.bias === false ? {} : { bih: draw(G * H), bhh: draw(G * H) }),
      };
    })),
  };
}

/** Rows of a [G·H, cols] PyTorch matrix (or a [G·H] vector) in ONNX gate order. */
function reform(cell: TorchCell, w: Float32Array, H: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  let at = 0;
  for (const [from, to] of REFORM[cell]) {
    const part = w.subarray(from * H * cols, to * H * cols);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Slice rows [start, end) of a value on axis 0, in the opset's spelling. */
export function slice0(g: GraphBuilder, x: string, start: number, end: number, opset: number): string {
  if (opset < 10) return g.op("Slice", [x], { axes: [0], starts: [start], ends: [end] });
  return g.op("Slice", [x, g.ints([start]), g.ints([end]), g.ints([0])]);
}

export function unsqueeze(g: GraphBuilder, x: string, axes: number[], opset: number): string {
  return opset < 13 ? g.op("Unsqueeze", [x], { axes }) : g.op("Unsqueeze", [x, g.ints(axes)]);
}

export function squeeze(g: GraphBuilder, x: string, axes: number[], opset: number): string {
  return opset < 13 ? g.op("Squeeze", [x], { axes }) : g.op("Squeeze", [x, g.ints(axes)]);
}

/** W, R, B of one layer as the exporter leaves them: folded initializers or nodes over the parameters. */
function layerWeights(g: GraphBuilder, o: TorchRnnOptions, p: TorchParams, l: number, opset: number): { W: string; R: string; B: string } {
  const H = o.hiddenSize;
  const G = GATES[o.cell];
  const dirs = p.layers[l];
  const reorders = o.cell === "LSTM" || o.cell === "GRU";
  const name = (what: string, d: number) => `rnn.${what}_l${l}${d ? "_reverse" : ""}`;
  if (o.folded !== false) {
    const W = concat(dirs.map((d) => reform(o.cell, d.ih, H, d.inSize)));
    const R = concat(dirs.map((d) => reform(o.cell, d.hh, H, H)));
    const inSize = dirs[0].inSize;
    const names = { W: g.fresh("onnx::LSTM_W"), R: g.fresh("onnx::LSTM_R"), B: "" };
    g.init(names.W, { dims: [dirs.length, G * H, inSize], data: W });
    g.init(names.R, { dims: [dirs.length, G * H, H], data: R });
    if (dirs[0].bih) {
      names.B = g.fresh("onnx::LSTM_B");
      g.init(names.B, { dims: [dirs.length, 2 * G * H], data: concat(dirs.flatMap((d) => [reform(o.cell, d.bih!, H, 1), reform(o.cell, d.bhh!, H, 1)])) });
    }
    return names;
  }
  // do_constant_folding=False: the reordering is in the graph
  const reformNode = (x: string) => (reorders ? g.op("Concat", REFORM[o.cell].map(([a, b]) => slice0(g, x, a * H, b * H, opset)), { axis: 0 }) : x);
  const per = dirs.map((d, k) => {
    const ih = g.init(name("weight_ih", k), { dims: [G * H, d.inSize], data: d.ih });
    const hh = g.init(name("weight_hh", k), { dims: [G * H, H], data: d.hh });
    const w = unsqueeze(g, reformNode(ih), [0], opset);
    const r = unsqueeze(g, reformNode(hh), [0], opset);
    let b = "";
    if (d.bih) {
      const bih = g.init(name("bias_ih", k), { dims: [G * H], data: d.bih });
      const bhh = g.init(name("bias_hh", k), { dims: [G * H], data: d.bhh! });
      b = unsqueeze(g, g.op("Concat", [reformNode(bih), reformNode(bhh)], { axis: 0 }), [0], opset);
    }
    return { w, r, b };
  });
  if (per.length === 1) return { W: per[0].w, R: per[0].r, B: per[0].b };
  return {
    W: g.op("Concat", per.map((x) => x.w), { axis: 0 }),
    R: g.op("Concat", per.map((x) => x.r), { axis: 0 }),
    B: per[0].b ? g.op("Concat", per.map((x) => x.b), { axis: 0 }) : "",
  };
}

/** torch.zeros(L·D, batch, H) as traced from the input's shape. */
function zerosState(g: GraphBuilder, input: string, batchAxis: number, rows: number, H: number, opset: number): string {
  const shape = g.op("Shape", [input]);
  const batch = g.op("Gather", [shape, g.ints([batchAxis], true)], { axis: 0 });
  const dims = g.op("Concat", [g.ints([rows]), unsqueeze(g, batch, [0], opset), g.ints([H])], { axis: 0 });
  return g.op("ConstantOfShape", [dims], { value: { dims: [1], data: [0], type: "float32" } });
}

export interface TorchRnnGraph {
  /** The recurrent module's outputs: output, h_n (and c_n). */
  output: string;
  hn: string;
  cn?: string;
  /** Graph inputs for the initial states (initial: "inputs"). */
  stateInputs: string[];
}

/**
 * Writes the module applied to `input` (declared by the caller) into `g`; returns the value
 * names of its outputs. With initial "inputs" it declares h0 (and c0) [L·D, batch, H].
 */
export function torchRnn(g: GraphBuilder, input: string, o: TorchRnnOptions, p: TorchParams): TorchRnnGraph {
  const opset = o.opset ?? 17;
  const L = o.numLayers ?? 1;
  const D = o.bidirectional ? 2 : 1;
  const H = o.hiddenSize;
  const batch: DimDecl = o.batch ?? "batch";
  const stateInputs: string[] = [];
  let h0: string, c0: string | undefined;
  if (o.initial === "inputs") {
    h0 = g.input("h0", [L * D, batch, H]);
    stateInputs.push(h0);
    if (o.cell === "LSTM") stateInputs.push((c0 = g.input("c0", [L * D, batch, H])));
  } else {
    h0 = zerosState(g, input, o.batchFirst ? 0 : 1, L * D, H, opset);
    if (o.cell === "LSTM") c0 = zerosState(g, input, o.batchFirst ? 0 : 1, L * D, H, opset);
  }
  let x = o.batchFirst ? g.op("Transpose", [input], { perm: [1, 0, 2] }) : input;
  const hs: string[] = [];
  const cs: string[] = [];
  for (let l = 0; l < L; l++) {
    const { W, R, B } = layerWeights(g, o, p, l, opset);
    const state = (s: string) => (L === 1 ? s : slice0(g, s, l * D, (l + 1) * D, opset));
    const inputs = [x, W, R, B, "", state(h0)];
    if (o.cell === "LSTM") inputs.push(state(c0!));
    const attrs: Record<string, number | string | string[]> = { hidden_size: H };
    if (D === 2) attrs.direction = "bidirectional";
    if (o.cell === "GRU") attrs.linear_before_reset = 1;
    if (o.cell === "RNN_TANH" || o.cell === "RNN_RELU") attrs.activations = new Array(D).fill(o.cell === "RNN_TANH" ? "Tanh" : "Relu");
    const op = o.cell === "LSTM" ? "LSTM" : o.cell === "GRU" ? "GRU" : "RNN";
    const outs = g.node(op, inputs, o.cell === "LSTM" ? 3 : 2, attrs);
    x = D === 2
      ? g.op("Reshape", [g.op("Transpose", [outs[0]], { perm: [0, 2, 1, 3] }), g.ints([0, 0, -1])])
      : squeeze(g, outs[0], [1], opset);
    hs.push(outs[1]);
    if (o.cell === "LSTM") cs.push(outs[2]);
  }
  if (o.batchFirst) x = g.op("Transpose", [x], { perm: [1, 0, 2] });
  const hn = L === 1 ? hs[0] : g.op("Concat", hs, { axis: 0 });
  const cn = o.cell !== "LSTM" ? undefined : L === 1 ? cs[0] : g.op("Concat", cs, { axis: 0 });
  return { output: x, hn, cn, stateInputs };
}

/**
 * The whole exported module: input [batch, seq, K] (batch_first) or [seq, batch, K]; graph
 * outputs `returns` (default all: output, h_n and, for LSTM, c_n).
 */
export function torchRnnModel(o: TorchRnnOptions, p: TorchParams, returns?: ("output" | "h_n" | "c_n")[]): { bytes: Uint8Array; stateInputs: string[]; outputs: string[] } {
  const g = new GraphBuilder("torch_jit");
  const batch = o.batch ?? "batch";
  const seq = o.seq ?? "seq";
  const input = g.input("input", o.batchFirst ? [batch, seq, o.inputSize] : [seq, batch, o.inputSize]);
  const r = torchRnn(g, input, o, p);
  const values = { output: r.output, h_n: r.hn, c_n: r.cn };
  const outputs = returns ?? (r.cn ? ["output", "h_n", "c_n"] : ["output", "h_n"]);
  for (const name of outputs) {
    const v = values[name as keyof typeof values];
    if (!v) throw new Error(`${o.cell} has no ${name}`);
    g.node("Identity", [v], [name]);
    g.output(name);
  }
  return { bytes: g.model({ opset: o.opset ?? 17, producer: "pytorch" }), stateInputs: r.stateInputs, outputs };
}
