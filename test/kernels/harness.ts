/**
 * Direct access to the kernel builds for kernel tests: the baseline SIMD build, the same
 * instance switched to its scalar twins, and the relaxed-SIMD build, each with helpers to
 * place float arrays in its memory and read them back.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { packGatePanels, packGateVector, padTo8 } from "../../src/model/pack.ts";
import { describeRecurrence } from "../../src/model/recurrence.ts";
import { KernelInstance } from "../../src/wasm/kernels.ts";
import { expect } from "vitest";
import type { Tolerance } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed, type Rng } from "../util/prng.ts";
import * as abi from "../../src/wasm/abi.ts";
import { ONNX_ACTIVATIONS, scalarActivation } from "../reference/activations.ts";
import { float64Products, gatesOf, recurrence, type RecurrentCell, type RecurrentProducts } from "../reference/recurrent.ts";

export type Variant = "simd" | "scalar" | "relaxed";
export const VARIANTS: Variant[] = ["simd", "scalar", "relaxed"];

/** One fresh instance of each variant (each kernel test file takes its own). */
export async function allVariants(): Promise<Record<Variant, KernelInstance>> {
  return { simd: await kernel("simd"), scalar: await kernel("scalar"), relaxed: await kernel("relaxed") };
}

export const unit = (r: Rng) => r.uniform(-1, 1);

/** Element-wise comparison of two flat arrays within `tol`, naming the case and its seed. */
export function check(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string, rng: Rng): void {
  const a = Array.from(actual);
  const e = Array.from(expected);
  assertClose({ data: a, shape: [a.length] }, { data: e, shape: [e.length] }, tol, `${what}; ${describeSeed(rng)}`);
}

const root = resolve(import.meta.dirname, "..", "..");

export async function kernel(variant: Variant): Promise<KernelInstance> {
  const file = variant === "relaxed" ? "rnn-relaxed.wasm" : "rnn-simd.wasm";
  const module = await WebAssembly.compile(readFileSync(resolve(root, "build", file)));
  const k = await KernelInstance.create(module);
  k.exports.set_scalar_mode(variant === "scalar" ? 1 : 0);
  return k;
}

/** Copies `data` into a fresh 16-byte aligned block; returns its byte offset. */
export function put(k: KernelInstance, data: ArrayLike<number>, extraFloats = 0): number {
  const p = k.alloc((data.length + extraFloats) * 4, "test data");
  k.f32.set(data, p >>> 2);
  return p;
}

export function putBytes(k: KernelInstance, data: Uint8Array): number {
  const p = k.alloc(data.length, "test mask");
  k.u8.set(data, p);
  return p;
}

export function zeros(k: KernelInstance, floats: number): number {
  return k.alloc(floats * 4, "test buffer");
}

export function get(k: KernelInstance, ptr: number, n: number): Float32Array {
  return k.f32.slice(ptr >>> 2, (ptr >>> 2) + n);
}

// ---------------------------------------------------------------- recurrent kernel cases

export const RECURRENT_KINDS = ["lstm", "gru", "gru_reset_after", "simple_rnn"] as const;
export type RecurrentKind = (typeof RECURRENT_KINDS)[number];
/** Units around the 8-unit tile: 1..7, 8, 9, 16, 19 (= 2*8+3). */
export const RECURRENT_UNITS = [1, 2, 3, 5, 7, 8, 9, 16, 19];

export interface RecurrentVariant {
  name: string;
  B: number;
  T: number;
  masked: boolean;
  back: boolean;
  align: boolean;
  init: boolean;
  acts: [number, number];
  zero?: boolean;
  /** use_bias=False (no bias pointer, as the executor passes for such layers). */
  noBias?: boolean;
  /** ONNX options: activations with parameters and the rest (peepholes: drawn per case). */
  onnx?: Omit<OnnxOptions, "peepholes"> & { peepholes?: boolean };
}

/**
 * ONNX's recurrent activations with parameters as slot codes: ACT_UNARY + the unary function
 * (abi.ts; float64 forms in ACT64P below).
 */
export const ACT_ONNX = {
  Affine: abi.ACT_UNARY + abi.TU_AFFINE,
  LeakyRelu: abi.ACT_UNARY + abi.TU_LEAKY_RELU,
  ThresholdedRelu: abi.ACT_UNARY + abi.TU_THRESHOLDED_RELU,
  ScaledTanh: abi.ACT_UNARY + abi.TU_SCALED_TANH,
  HardSigmoid: abi.ACT_UNARY + abi.TU_HARD_SIGMOID,
  Elu: abi.ACT_UNARY + abi.TU_ELU,
} as const;

/**
 * Batch sizes, masks, directions, initial states and activation pairs. With f32 weights B >= 4
 * takes the batched path (one GEMM per step over all rows, then per-row epilogues); int8
 * weights take it at every B.
 */
export const RECURRENT_VARIANTS: RecurrentVariant[] = [
  { name: "plain", B: 1, T: 5, masked: false, back: false, align: false, init: false, acts: [3, 4] },
  { name: "batch 3, masked", B: 3, T: 6, masked: true, back: false, align: false, init: false, acts: [3, 4] },
  { name: "go_backwards", B: 2, T: 4, masked: true, back: true, align: false, init: true, acts: [3, 5] },
  { name: "backward aligned", B: 2, T: 9, masked: false, back: true, align: true, init: true, acts: [1, 6] },
  { name: "masked, zero output (Keras Bidirectional)", B: 3, T: 5, masked: true, back: true, align: true, init: true, acts: [3, 4], zero: true },
  { name: "batch 4", B: 4, T: 3, masked: false, back: false, align: false, init: true, acts: [3, 4] },
  { name: "batch 5 masked", B: 5, T: 4, masked: true, back: true, align: true, init: true, acts: [3, 5], zero: true },
  { name: "batch 9 (leftover rows)", B: 9, T: 3, masked: true, back: false, align: false, init: false, acts: [1, 6] },
  { name: "batch 6 (two rows left over: a 2-row block)", B: 6, T: 2, masked: false, back: false, align: false, init: true, acts: [3, 4] },
  { name: "batch 7 masked (three rows left over: a 3-row block)", B: 7, T: 3, masked: true, back: true, align: false, init: false, acts: [3, 4] },
  // one step (a streaming session's call): the LSTM's fused projection path for B < 4
  { name: "one step", B: 1, T: 1, masked: false, back: false, align: false, init: true, acts: [3, 4] },
  { name: "one step, batch 3, masked, zero output", B: 3, T: 1, masked: true, back: false, align: false, init: true, acts: [1, 5], zero: true },
  { name: "one step, batch 5", B: 5, T: 1, masked: true, back: false, align: false, init: true, acts: [3, 4] },
  { name: "one step, batch 2, no bias", B: 2, T: 1, masked: false, back: false, align: false, init: true, acts: [3, 4], noBias: true },
  { name: "no bias", B: 2, T: 4, masked: false, back: false, align: false, init: false, acts: [3, 4], noBias: true },
  // ONNX's options (ThresholdedRelu, discontinuous at alpha, is left to the unary kernel's tests:
  // float32 and float64 pre-activations would fall on its two sides)
  { name: "ONNX: peepholes, clip", B: 1, T: 5, masked: false, back: false, align: false, init: true, acts: [3, 4],
    onnx: { peepholes: true, clip: 0.6 } },
  { name: "ONNX: HardSigmoid(0.3, 0.45), ScaledTanh(1.1, 0.9), LeakyRelu(0.2) cell, clip, reverse with lengths", B: 3, T: 6, masked: true, back: true,
    align: true, init: true, acts: [ACT_ONNX.ScaledTanh, ACT_ONNX.HardSigmoid], zero: true,
    onnx: { cellAct: ACT_ONNX.LeakyRelu, params: [0.3, 0.45, 1.1, 0.9, 0.2, 0], clip: 1.5, peepholes: true } },
  { name: "ONNX: input_forget, peepholes, Affine(0.8, -0.1) candidate, Elu(0.7) cell, batch 5", B: 5, T: 4, masked: true, back: false, align: false,
    init: true, acts: [ACT_ONNX.Affine, 4], zero: true, onnx: { cellAct: ACT_ONNX.Elu, params: [0, 0, 0.8, -0.1, 0.7, 0], inputForget: true, peepholes: true } },
  { name: "ONNX: one step, peepholes, input_forget, clip", B: 2, T: 1, masked: false, back: false, align: false, init: true, acts: [3, 4],
    onnx: { peepholes: true, inputForget: true, clip: 0.4 } },
  { name: "ONNX: Softsign gates, Elu(0.5) candidate, batch 4", B: 4, T: 3, masked: false, back: false, align: false, init: true,
    acts: [ACT_ONNX.Elu, 10], onnx: { params: [0, 0, 0.5, 0], clip: 2 } },
];

export { gatesOf };

/**
 * The float64 form of every elementwise activation code (src/wasm/abi.ts), from the one
 * activation table of the float64 reference (test/reference/activations.ts).
 */
export const ACT64: Record<number, (x: number) => number> = {
  [abi.ACT_LINEAR]: scalarActivation("linear", "tfjs"),
  [abi.ACT_RELU]: scalarActivation("relu", "tfjs"),
  [abi.ACT_RELU6]: scalarActivation("relu6", "tfjs"),
  [abi.ACT_TANH]: scalarActivation("tanh", "tfjs"),
  [abi.ACT_SIGMOID]: scalarActivation("sigmoid", "tfjs"),
  [abi.ACT_HARD_SIGMOID]: scalarActivation("hard_sigmoid", "tfjs"),
  [abi.ACT_HARD_SIGMOID_K3]: scalarActivation("hard_sigmoid", "keras3"),
  [abi.ACT_ELU]: scalarActivation("elu", "tfjs"),
  [abi.ACT_SELU]: scalarActivation("selu", "tfjs"),
  [abi.ACT_SOFTPLUS]: scalarActivation("softplus", "tfjs"),
  [abi.ACT_SOFTSIGN]: scalarActivation("softsign", "tfjs"),
  [abi.ACT_EXPONENTIAL]: scalarActivation("exponential", "tfjs"),
  [abi.ACT_SWISH]: scalarActivation("swish", "tfjs"),
  [abi.ACT_GELU]: scalarActivation("gelu", "tfjs"),
  [abi.ACT_GELU_TANH]: scalarActivation("gelu_new", "tfjs"),
  [abi.ACT_MISH]: scalarActivation("mish", "tfjs"),
  [abi.ACT_HARD_SWISH]: scalarActivation("hard_swish", "tfjs"),
};

const ACT64P: Record<number, (x: number, alpha: number, beta: number) => number> = Object.fromEntries(
  Object.entries(ACT_ONNX).map(([name, code]) => [code, ONNX_ACTIVATIONS[name]]),
);

/** Any activation code with its alpha and beta, in float64. */
export const act64 = (code: number, alpha = 0, beta = 0) => (code < abi.ACT_COUNT ? ACT64[code] : (x: number) => ACT64P[code](x, alpha, beta));

/** ONNX's options of a recurrence (abi.ts; src/model/spec.ts names them the same). */
export interface OnnxOptions {
  /** LSTM's cell output activation (ONNX h); the candidate's when absent. */
  cellAct?: number;
  /** Alpha and beta of the gate, candidate and cell activations (spec's activationParams). */
  params?: number[];
  clip?: number;
  inputForget?: boolean;
  /** LSTM peepholes [3u], i, f, o. */
  peepholes?: Float32Array;
}

/** A recurrent layer as the kernel tests build it: unpacked row-major weights and its options. */
export interface RecurrentCase {
  cell: RecurrentCell;
  B: number;
  T: number;
  inDim: number;
  u: number;
  x: Float32Array; // [B,T,in]
  W: Float32Array; // [in, G*u]
  U: Float32Array; // [u, G*u]
  bias: Float32Array; // [G*u] or [2*G*u] for GRU reset_after
  /** use_bias=False: bias is zeros and the kernels get no bias pointer. */
  noBias?: boolean;
  resetAfter: boolean;
  mask: Uint8Array | null; // [B,T]
  goBackwards: boolean;
  align: boolean;
  /** Masked steps output zeros (Keras zero_output_for_mask) instead of repeating h. */
  zeroMasked?: boolean;
  act: number;
  recAct: number;
  h0: Float32Array | null; // [B,u]
  c0: Float32Array | null;
  onnx?: OnnxOptions;
}

/**
 * The float64 reference (test/reference/recurrent.ts) of a case: its sequence output as the
 * kernels write it (processing order, or at the input time index with `align`), final h and c.
 * `products` replaces the float64 matrix products (the int8 oracle).
 */
export function caseReference(cs: RecurrentCase, products?: (spec: Parameters<typeof float64Products>[0]) => RecurrentProducts): { seq: Float64Array; h: Float64Array; c: Float64Array } {
  const o = cs.onnx ?? {};
  const p = (i: number) => o.params?.[i] ?? 0;
  const spec = {
    cell: cs.cell, units: cs.u, kernel: cs.W, recurrentKernel: cs.U, bias: cs.noBias ? null : cs.bias, resetAfter: cs.resetAfter,
    gate: act64(cs.recAct, p(0), p(1)), candidate: act64(cs.act, p(2), p(3)), cellOutput: cs.cell === "lstm" ? act64(o.cellAct ?? cs.act, p(4), p(5)) : undefined,
    clip: o.clip, inputForget: cs.cell === "lstm" && o.inputForget, peepholes: cs.cell === "lstm" ? o.peepholes : null,
  };
  const r = recurrence(spec, {
    x: cs.x, B: cs.B, T: cs.T, mask: cs.mask, goBackwards: cs.goBackwards, zeroOutputForMask: cs.zeroMasked,
    initialStates: cs.h0 ? [cs.h0, cs.c0 ?? new Float32Array(cs.B * cs.u)] : null,
  }, products?.(spec));
  let seq = r.sequence;
  if (cs.align) {
    // RNN_ALIGN_OUTPUT: the output of step s goes to its input time index T-1-s (go_backwards)
    seq = new Float64Array(seq.length);
    const u = cs.u;
    for (let b = 0; b < cs.B; b++) {
      for (let s = 0; s < cs.T; s++) {
        const t = cs.goBackwards ? cs.T - 1 - s : s;
        seq.set(r.sequence.subarray((b * cs.T + s) * u, (b * cs.T + s + 1) * u), (b * cs.T + t) * u);
      }
    }
  }
  return { seq, h: r.states[0], c: r.states[1] ?? new Float64Array(cs.B * cs.u) };
}

/** out[M,N] = x[M,K] · w[K,N] + bias[N] in float64. */
export function gemm64(M: number, N: number, K: number, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[k * N + n];
      out[m * N + n] = s;
    }
  }
  return out;
}

/** A seeded layer for `kind` at `u` units: inputs, weights, biases, mask and initial state. */
export function recurrentCase(kind: RecurrentKind, u: number, v: RecurrentVariant, rng: Rng): RecurrentCase {
  const cell = kind === "gru_reset_after" ? "gru" : kind;
  const resetAfter = kind === "gru_reset_after";
  const G = gatesOf(cell);
  const { B, T } = v;
  const inDim = (u % 5) + 2;
  const scale = 1 / Math.sqrt(u + inDim);
  return {
    cell, B, T, inDim, u, resetAfter,
    x: rng.float32Array(B * T * inDim, unit),
    W: rng.float32Array(inDim * G * u, (r) => r.uniform(-2, 2) * scale),
    U: rng.float32Array(u * G * u, (r) => r.uniform(-2, 2) * scale),
    bias: v.noBias ? new Float32Array((resetAfter ? 2 : 1) * G * u) : rng.float32Array((resetAfter ? 2 : 1) * G * u, (r) => r.nonZero(0.05, 0.5)),
    noBias: v.noBias,
    // one step (T = 1): odd rows masked, so live and masked rows meet in one call
    mask: v.masked ? Uint8Array.from({ length: B * T }, (_, i) => ((T === 1 ? i % 2 === 1 : i % T === 0 || rng.next() < 0.3) ? 0 : 1)) : null,
    goBackwards: v.back,
    align: v.align,
    zeroMasked: v.zero ?? false,
    act: v.acts[0],
    recAct: v.acts[1],
    h0: v.init ? rng.float32Array(B * u, unit) : null,
    c0: v.init && cell === "lstm" ? rng.float32Array(B * u, unit) : null,
    onnx: v.onnx && { ...v.onnx, peepholes: v.onnx.peepholes ? rng.float32Array(3 * u, (r) => r.uniform(-1, 1)) : undefined },
  };
}

/**
 * Runs a case on k as the executor does: a description of the layer (src/model/recurrence.ts),
 * then rnnSequence with its input (it projects x into xp itself, or fuses the projection for
 * one-step LSTM rows) and exactly the scratch rnnScratchBytes reports, filled with NaN and
 * followed by guard bytes that must come back untouched.
 * `weights` are kernel-memory pointers to the packed input and recurrent kernels (PTR_INT8 set
 * for int8 images); returns the sequence output, or the final h or c of the u units.
 */
export function runRecurrent(k: KernelInstance, cs: RecurrentCase, which: "seq" | "h" | "c", weights: { input: number; recurrent: number }): Float32Array {
  const { cell, B, T, u, inDim, resetAfter } = cs;
  const G = gatesOf(cell);
  const U8 = padTo8(u);
  const [x, bias] = [put(k, cs.x), cs.noBias ? 0 : put(k, packGateVector(cs.bias, G, u, 0))];
  const recurrentBias = cell === "gru" && resetAfter && !cs.noBias ? put(k, packGateVector(cs.bias, 3, u, 3 * u)) : 0;
  const o = cs.onnx ?? {};
  const desc = describeRecurrence(k, {
    layer: `test ${cell}`, cell, units: u, inDim, activation: cs.act, recurrentActivation: cs.recAct,
    goBackwards: cs.goBackwards, alignOutput: cs.align, zeroOutputForMask: cs.zeroMasked, resetAfter,
    cellActivation: o.cellAct, activationParams: o.params, clip: o.clip, inputForget: o.inputForget,
  }, {
    kernel: weights.input, bias, recurrentKernel: weights.recurrent, recurrentBias,
    peepholes: cell === "lstm" && o.peepholes ? put(k, packGateVector(o.peepholes, 3, u)) : 0,
  });
  const h = zeros(k, B * U8);
  const c = zeros(k, B * U8);
  for (let b = 0; b < B; b++) {
    if (cs.h0) k.f32.set(cs.h0.subarray(b * u, (b + 1) * u), (h >>> 2) + b * U8);
    if (cs.c0) k.f32.set(cs.c0.subarray(b * u, (b + 1) * u), (c >>> 2) + b * U8);
  }
  const scratchBytes = k.exports.rnnScratchBytes(desc, B, T);
  expect(scratchBytes % 16, "scratch is whole 16-byte blocks").toBe(0);
  const scratch = k.alloc(scratchBytes + GUARD_BYTES, "test scratch");
  // NaN where the kernel must write before it reads (the executor's arena holds the last call's data)
  k.f32.fill(NaN, scratch >>> 2, (scratch + scratchBytes) >>> 2);
  const guard = (scratch + scratchBytes) >>> 2;
  k.f32.fill(GUARD_VALUE, guard, guard + GUARD_BYTES / 4);
  const mask = cs.mask ? putBytes(k, cs.mask) : 0;
  const seq = zeros(k, B * T * u);
  k.exports.rnnSequence(desc, B, T, x, h, c, mask, seq, scratch);
  const past = k.f32.subarray(guard, guard + GUARD_BYTES / 4);
  expect(past.every((v) => v === GUARD_VALUE), `${cell}: the kernel wrote past the ${scratchBytes} scratch bytes it reported`).toBe(true);
  if (which === "seq") return get(k, seq, B * T * u);
  const rows = get(k, which === "h" ? h : c, B * U8);
  const out = new Float32Array(B * u);
  for (let b = 0; b < B; b++) out.set(rows.subarray(b * U8, b * U8 + u), b * u);
  return out;
}

/** Bytes after a kernel's reported scratch that runRecurrent checks it leaves alone. */
const GUARD_BYTES = 256;
const GUARD_VALUE = -12345.5;

/** The f32 packed input kernel of a case (the panels the GEMM reads). */
export const inputPanels = (cs: RecurrentCase) => packGatePanels(cs.W, cs.inDim, gatesOf(cs.cell), cs.u);
