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
import type { RecurrentCase } from "./reference64.ts";
import { describeSeed, type Rng } from "../util/prng.ts";

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
}

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
];

/** Gates per cell, in the packed layouts. */
export const gatesOf = (cell: RecurrentCase["cell"]) => (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1);

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
  const desc = describeRecurrence(k, {
    cell, units: u, inDim, activation: cs.act, recurrentActivation: cs.recAct,
    goBackwards: cs.goBackwards, alignOutput: cs.align, zeroOutputForMask: cs.zeroMasked, resetAfter,
  }, { kernel: weights.input, bias, recurrentKernel: weights.recurrent, recurrentBias });
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
