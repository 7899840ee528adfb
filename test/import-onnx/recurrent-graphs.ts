/**
 * One ONNX LSTM / GRU / RNN node with every attribute and optional input the matrix varies,
 * wrapped so that the graph's inputs and outputs are batch-first (X [B, T, K], states [B, D, H],
 * Y [B, T, D, H], Y_h / Y_c [B, D, H]):
 *
 * - layout 1 (batch-major, opset >= 14): the node reads and writes those shapes itself;
 * - layout 0: Transposes around the node, as exporters write them (X [1, 0, 2], states
 *   [1, 0, 2], Y [2, 0, 1, 3]).
 *
 * onnxruntime runs only layout 0, and the ONNX specification defines layout 1 as exactly those
 * transposes, so the oracle of a layout-1 graph is its layout-0 twin (`oracle: true`).
 */
import type { Rng } from "../util/prng.ts";
import { f, fs, GraphBuilder, type AttrValue } from "./graph.ts";
import { slice0, unsqueeze } from "./torch.ts";

export type RecOp = "LSTM" | "GRU" | "RNN";
export type Direction = "forward" | "reverse" | "bidirectional";

export interface RecCase {
  label: string;
  op: RecOp;
  /** GRU only: 1 = PyTorch's GRU (Keras reset_after). */
  linearBeforeReset: 0 | 1;
  direction: Direction;
  layout: 0 | 1;
  opset: number;
  T: number;
  K: number;
  H: number;
  /** B absent, an initializer, or Concat of Slices of a raw initializer (an unfolded export). */
  bias: "absent" | "initializer" | "slices";
  /**
   * Initial states: absent (omitted or ""), graph inputs [B, D, H], h given and c left out
   * (LSTM), or zeros made from X's shape (Shape/Gather/Unsqueeze/Concat/ConstantOfShape).
   */
  initial: "absent" | "inputs" | "h-only" | "zeros-of-shape";
  /**
   * Absent, the empty name before later inputs, a constant of T for every row (batch 1 graphs),
   * a constant `shortSteps` < T, or a graph input "lens" [batch] (int32; fed after X and the states).
   */
  sequenceLens: "absent" | "empty" | "full" | "short" | "input";
  shortSteps?: number;
  /** LSTM: P absent, an all-zero constant, or seeded values (RecWeights.P). */
  peepholes: "absent" | "zeros" | "random";
  /** Explicit `activations` (null: the defaults, attribute left out). */
  activations: string[] | null;
  /** activation_alpha / activation_beta, when given. */
  alphas?: number[];
  betas?: number[];
  clip?: number;
  /** LSTM input_forget=1. */
  inputForget?: boolean;
  /** Graph outputs, in this order. */
  outputs: ("Y" | "Y_h" | "Y_c")[];
  /** An output nobody reads: left out with "" or named (exporters do both). */
  unusedNamed: boolean;
  /** X's time dim declared symbolic ("seq", bound by --input) or fixed. */
  symbolicTime: boolean;
}

export const GATE_COUNT: Record<RecOp, number> = { LSTM: 4, GRU: 3, RNN: 1 };
export const dirCount = (d: Direction) => (d === "bidirectional" ? 2 : 1);

export interface RecWeights {
  W: Float32Array;
  R: Float32Array;
  B: Float32Array;
  /** LSTM peepholes [D, 3H], ONNX order i, o, f. */
  P: Float32Array;
}

/** Weights at PyTorch's scale (uniform ±1/sqrt(H)) times 1.5, so gates saturate sometimes. */
export function recWeights(c: RecCase, rng: Rng): RecWeights {
  const D = dirCount(c.direction);
  const G = GATE_COUNT[c.op];
  const k = 1.5 / Math.sqrt(c.H);
  const draw = (n: number) => rng.float32Array(n, (r) => r.uniform(-k, k));
  return { W: draw(D * G * c.H * c.K), R: draw(D * G * c.H * c.H), B: draw(D * 2 * G * c.H), P: draw(D * 3 * c.H) };
}

export interface RecGraph {
  bytes: Uint8Array;
  /** Graph inputs in order: X, then the state inputs given, then "lens". */
  inputs: string[];
}

/** Changes the recurrent node before it is written (the "not yet" cases): its inputs by position, its attributes. */
export type NodeTweak = (g: GraphBuilder, inputs: string[], attrs: Record<string, AttrValue>) => void;

/**
 * The graph of a case; `oracle` gives the layout-0 twin onnxruntime can run; `native` leaves
 * out the Transposes: the node's own layout-0 shapes are the graph's (X [T, B, K], states
 * [D, B, H], Y [T, D, B, H]), as torch.onnx.export writes a batch_first=False module.
 */
export function recurrentGraph(c: RecCase, w: RecWeights, opts: { oracle?: boolean; native?: boolean; tweak?: NodeTweak } = {}): RecGraph {
  const oracle = opts.oracle ?? false;
  const native = opts.native ?? false;
  const layout = oracle || native ? 0 : c.layout;
  const g = new GraphBuilder("recurrent");
  const D = dirCount(c.direction);
  const G = GATE_COUNT[c.op];
  const H = c.H;
  const opset = c.opset;
  const time = c.symbolicTime ? "seq" : c.T;
  const X = g.input("X", native ? [time, "batch", c.K] : ["batch", time, c.K]);
  const inputs = [X];
  const toLayout0 = (v: string) => (layout === 0 && !native ? g.op("Transpose", [v], { perm: [1, 0, 2] }) : v);

  const W = g.init("W", { dims: [D, G * H, c.K], data: w.W });
  const R = g.init("R", { dims: [D, G * H, H], data: w.R });
  let B = "";
  if (c.bias === "initializer") B = g.init("B", { dims: [D, 2 * G * H], data: w.B });
  else if (c.bias === "slices") {
    // the bias written the way an unfolded export does: the raw vector sliced per direction and unsqueezed
    const raw = g.init("rnn.bias_raw", { dims: [D * 2 * G * H], data: w.B });
    const rows = Array.from({ length: D }, (_, d) => unsqueeze(g, slice0(g, raw, d * 2 * G * H, (d + 1) * 2 * G * H, opset), [0], opset));
    B = rows.length === 1 ? rows[0] : g.op("Concat", rows, { axis: 0 });
  }

  let seqLens = "";
  if (c.sequenceLens === "full") seqLens = g.init("seq_lens", { dims: [1], data: [c.T], type: "int32" });
  if (c.sequenceLens === "short") seqLens = g.init("seq_lens", { dims: [1], data: [c.shortSteps!], type: "int32" });

  const states: string[] = [];
  const stateCount = c.op === "LSTM" ? 2 : 1;
  if (c.initial === "inputs" || c.initial === "h-only") {
    const names = c.op === "LSTM" && c.initial === "inputs" ? ["H0", "C0"] : ["H0"];
    for (const n of names) {
      inputs.push(g.input(n, native ? [D, "batch", H] : ["batch", D, H]));
      states.push(toLayout0(n));
    }
  } else if (c.initial === "zeros-of-shape") {
    const shape = g.op("Shape", [X]);
    const batch = g.op("Gather", [shape, g.ints([native ? 1 : 0], true)], { axis: 0 });
    const b1 = unsqueeze(g, batch, [0], opset);
    const dims = layout === 0 ? [g.ints([D]), b1, g.ints([H])] : [b1, g.ints([D]), g.ints([H])];
    const cat = g.op("Concat", dims, { axis: 0 });
    for (let i = 0; i < stateCount; i++) states.push(g.op("ConstantOfShape", [cat], { value: { dims: [1], data: [0] } }));
  }

  if (c.sequenceLens === "input") {
    seqLens = g.input("lens", ["batch"], "int32");
    inputs.push(seqLens);
  }

  const nodeInputs = [toLayout0(X), W, R, B, seqLens, states[0] ?? "", states[1] ?? "", ""];
  if (c.op === "LSTM" && c.peepholes !== "absent") nodeInputs[7] = g.init("P", { dims: [D, 3 * H], data: c.peepholes === "zeros" ? new Float32Array(D * 3 * H) : w.P });

  const attrs: Record<string, AttrValue> = { hidden_size: H };
  if (c.direction !== "forward") attrs.direction = c.direction;
  if (layout === 1) attrs.layout = 1;
  if (c.op === "GRU" && c.linearBeforeReset) attrs.linear_before_reset = 1;
  if (c.activations) attrs.activations = c.activations;
  if (c.alphas) attrs.activation_alpha = fs(c.alphas);
  if (c.betas) attrs.activation_beta = fs(c.betas);
  if (c.clip !== undefined) attrs.clip = f(c.clip);
  if (c.inputForget) attrs.input_forget = 1;
  opts.tweak?.(g, nodeInputs, attrs);
  while (nodeInputs.length && nodeInputs[nodeInputs.length - 1] === "") nodeInputs.pop();

  const kinds = c.op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"];
  const raw = kinds.map((k) => (c.outputs.includes(k as "Y") || c.unusedNamed ? `${k}_raw` : ""));
  while (raw.length > 1 && raw[raw.length - 1] === "") raw.pop();
  g.node(c.op, nodeInputs, raw, attrs, "rnn");

  for (const k of c.outputs) {
    const v = `${k}_raw`;
    if (layout === 1 || native) g.node("Identity", [v], [k]);
    else g.node("Transpose", [v], [k], { perm: k === "Y" ? [2, 0, 1, 3] : [1, 0, 2] });
    g.output(k);
  }
  return { bytes: g.model({ opset }), inputs };
}
