/**
 * One ONNX LSTM, GRU or RNN operator with any of its options, written as a model
 * (onnx-proto), and the same layer as the float64 reference's CellSpec: the two sides of the
 * check that the reference computes what onnxruntime does (test/reference/onnx.test.ts).
 *
 * ONNX's tensors are in its own layout: X [T, B, in]; W [1, G·u, in] and R [1, G·u, u] with the
 * gates in ONNX order (LSTM i, o, f, c; GRU z, r, h); B [1, 2·G·u] = Wb then Rb; P [1, 3u] =
 * peepholes i, o, f; sequence_lens [B]; initial_h, initial_c [1, B, u]. Outputs Y [T, 1, B, u],
 * Y_h and Y_c [1, B, u].
 */
import onnxProto from "onnx-proto";
import { ONNX_ACTIVATIONS } from "../reference/activations.ts";
import { recurrence, type CellSpec } from "../reference/recurrent.ts";

const { onnx } = onnxProto;
const FLOAT = 1;
const INT32 = 6;

export type OnnxCell = "LSTM" | "GRU" | "RNN";

export interface OnnxRecurrentCase {
  op: OnnxCell;
  T: number;
  B: number;
  inDim: number;
  units: number;
  direction: "forward" | "reverse";
  /** ONNX names; the operator's defaults when absent. */
  activations?: string[];
  alphas?: number[];
  betas?: number[];
  clip?: number;
  inputForget?: boolean;
  linearBeforeReset?: boolean;
  x: Float32Array;
  W: Float32Array;
  R: Float32Array;
  bias: Float32Array;
  peepholes?: Float32Array;
  lens?: Int32Array;
  h0?: Float32Array;
  c0?: Float32Array;
}

export const GATE_COUNT: Record<OnnxCell, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTIVATIONS: Record<OnnxCell, string[]> = { LSTM: ["Sigmoid", "Tanh", "Tanh"], GRU: ["Sigmoid", "Tanh"], RNN: ["Tanh"] };
/** Which activations consume an alpha and a beta from the lists, in order, and their defaults (onnxruntime's rnn_helpers). */
export const TAKES: Record<string, [boolean, boolean]> = {
  Affine: [true, true], LeakyRelu: [true, false], ThresholdedRelu: [true, false], ScaledTanh: [true, true], HardSigmoid: [true, true], Elu: [true, false],
};
const DEFAULTS: Record<string, [number, number]> = { LeakyRelu: [0.01, 0], HardSigmoid: [0.2, 0.5], Elu: [1, 0] };

/** Each activation of the case with the alpha and beta it takes (0 where it takes none). */
export function activationSlots(c: OnnxRecurrentCase): { name: string; alpha: number; beta: number }[] {
  const names = c.activations ?? DEFAULT_ACTIVATIONS[c.op];
  let ia = 0;
  let ib = 0;
  return names.map((name) => {
    const [takesA, takesB] = TAKES[name] ?? [false, false];
    const [da, db] = DEFAULTS[name] ?? [0, 0];
    const alpha = takesA ? c.alphas?.[ia++] ?? da : 0;
    const beta = takesB ? c.betas?.[ib++] ?? db : 0;
    return { name, alpha, beta };
  });
}

function tensor(name: string, dims: number[], data: Float32Array | Int32Array): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims, dataType: data instanceof Int32Array ? INT32 : FLOAT, rawData: bytes };
}

/** The operator as an ONNX model: input X, the weights and options as initializers and attributes. */
export function onnxModel(c: OnnxRecurrentCase): Uint8Array {
  const G = GATE_COUNT[c.op];
  const u = c.units;
  const inits: onnxProto.onnx.ITensorProto[] = [
    tensor("W", [1, G * u, c.inDim], c.W),
    tensor("R", [1, G * u, u], c.R),
    tensor("B", [1, 2 * G * u], c.bias),
  ];
  const inputs = ["X", "W", "R", "B", "", "", "", ""];
  if (c.lens) (inits.push(tensor("L", [c.B], c.lens)), (inputs[4] = "L"));
  if (c.h0) (inits.push(tensor("H0", [1, c.B, u], c.h0)), (inputs[5] = "H0"));
  if (c.op === "LSTM" && c.c0) (inits.push(tensor("C0", [1, c.B, u], c.c0)), (inputs[6] = "C0"));
  if (c.op === "LSTM" && c.peepholes) (inits.push(tensor("P", [1, 3 * u], c.peepholes)), (inputs[7] = "P"));
  while (inputs[inputs.length - 1] === "") inputs.pop();
  const attribute: onnxProto.onnx.IAttributeProto[] = [{ name: "hidden_size", type: 2, i: u }, { name: "direction", type: 3, s: new TextEncoder().encode(c.direction) }];
  if (c.activations) attribute.push({ name: "activations", type: 8, strings: c.activations.map((a) => new TextEncoder().encode(a)) });
  if (c.alphas) attribute.push({ name: "activation_alpha", type: 6, floats: c.alphas });
  if (c.betas) attribute.push({ name: "activation_beta", type: 6, floats: c.betas });
  if (c.clip !== undefined) attribute.push({ name: "clip", type: 1, f: c.clip });
  if (c.op === "LSTM" && c.inputForget) attribute.push({ name: "input_forget", type: 2, i: 1 });
  if (c.op === "GRU") attribute.push({ name: "linear_before_reset", type: 2, i: c.linearBeforeReset ? 1 : 0 });
  const outputs = c.op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"];
  const f = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: "rnn-wasm tests",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "recurrence",
      node: [{ opType: c.op, input: inputs, output: outputs, name: c.op, attribute }],
      initializer: inits,
      input: [f("X", [c.T, c.B, c.inDim])],
      output: outputs.map((o) => f(o, o === "Y" ? [c.T, 1, c.B, u] : [1, c.B, u])),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** ONNX gate block of each Keras-order gate: LSTM i, f, c, o from ONNX i, o, f, c. */
const ONNX_BLOCK: Record<OnnxCell, number[]> = { LSTM: [0, 2, 3, 1], GRU: [0, 1, 2], RNN: [0] };

/** The case as the reference's CellSpec (Keras gate order, row-major [in, G·u] kernels). */
export function cellSpecOf(c: OnnxRecurrentCase): CellSpec {
  const G = GATE_COUNT[c.op];
  const u = c.units;
  const blocks = ONNX_BLOCK[c.op];
  const kerasMatrix = (m: Float32Array, K: number) => {
    const out = new Float32Array(K * G * u);
    blocks.forEach((block, g) => {
      for (let j = 0; j < u; j++) for (let k = 0; k < K; k++) out[k * G * u + g * u + j] = m[(block * u + j) * K + k];
    });
    return out;
  };
  const kerasVector = (v: ArrayLike<number>) => Float32Array.from({ length: G * u }, (_, n) => v[blocks[Math.floor(n / u)] * u + (n % u)]);
  const wb = c.bias.subarray(0, G * u);
  const rb = c.bias.subarray(G * u);
  const resetAfter = c.op === "GRU" && !!c.linearBeforeReset;
  const bias = resetAfter
    ? Float32Array.from([...kerasVector(wb), ...kerasVector(rb)])
    : Float32Array.from(kerasVector(wb), (v, n) => v + kerasVector(rb)[n]);
  const slots = activationSlots(c).map(({ name, alpha, beta }) => (x: number) => ONNX_ACTIVATIONS[name](x, alpha, beta));
  const P = c.peepholes; // ONNX i, o, f -> i, f, o
  return {
    cell: c.op === "LSTM" ? "lstm" : c.op === "GRU" ? "gru" : "simple_rnn",
    units: u,
    kernel: kerasMatrix(c.W, c.inDim),
    recurrentKernel: kerasMatrix(c.R, u),
    bias,
    resetAfter,
    gate: c.op === "RNN" ? slots[0] : slots[0],
    candidate: c.op === "RNN" ? slots[0] : slots[1],
    cellOutput: c.op === "LSTM" ? slots[2] : undefined,
    clip: c.clip,
    inputForget: c.inputForget,
    peepholes: P && Float32Array.from([...P.subarray(0, u), ...P.subarray(2 * u, 3 * u), ...P.subarray(u, 2 * u)]),
  };
}

/**
 * The reference's outputs in ONNX's layout: sequence_lens as a mask whose steps output zeros,
 * reverse as go_backwards with the outputs written back at their time index; a row of length 0
 * ends with zero states, not its initial ones (onnxruntime; the ONNX text is silent).
 */
export function referenceOutputs(c: OnnxRecurrentCase): { Y: Float64Array; Yh: Float64Array; Yc: Float64Array | null } {
  const { T, B, inDim, units: u } = c;
  const x = new Float64Array(B * T * inDim);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let k = 0; k < inDim; k++) x[(b * T + t) * inDim + k] = c.x[(t * B + b) * inDim + k];
  const mask = c.lens ? Uint8Array.from({ length: B * T }, (_, i) => (i % T < c.lens![Math.floor(i / T)] ? 1 : 0)) : null;
  const back = c.direction === "reverse";
  const r = recurrence(cellSpecOf(c), {
    x, B, T, mask, goBackwards: back, zeroOutputForMask: true,
    initialStates: c.h0 ? [c.h0, c.c0 ?? new Float32Array(B * u)] : c.c0 ? [new Float32Array(B * u), c.c0] : null,
  });
  const Y = new Float64Array(T * B * u);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < T; s++) {
      const t = back ? T - 1 - s : s;
      Y.set(r.sequence.subarray((b * T + s) * u, (b * T + s + 1) * u), (t * B + b) * u);
    }
  }
  for (let b = 0; b < B; b++) if (c.lens?.[b] === 0) for (const s of r.states) s?.fill(0, b * u, (b + 1) * u);
  return { Y, Yh: r.states[0], Yc: r.states[1] ?? null };
}
