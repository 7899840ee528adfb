/**
 * int8 kernels (assembly/int8.ts, the int8 paths of assembly/rnn/): the GEMM over int8 panels, the
 * int8 embedding gather and the LSTM / GRU (both reset_after) / SimpleRNN recurrences over int8
 * tiles, at sizes around every tile edge, on every build: the baseline SIMD kernel against its
 * scalar twin (bit-identical), the relaxed build (bit-identical too where no f32 multiply-add is
 * fused), the float64 oracle of test/int8/reference.ts, and the float32 kernels on the original
 * weights within the quantisation tolerance. The exporter's quantisation (src/model/quantize.ts)
 * is checked against the oracle's independent one on the way.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { packGatePanels, packGruRecurrent, packLstmRecurrent, packPanels, packSimpleRnnRecurrent, padTo8, padVector } from "../../src/model/pack.ts";
import { dequantizePanels, int8Image, quantizePanels, quantizeRows, quantizeWeight, recurrentBlocks, type Int8Layout } from "../../src/model/quantize.ts";
import { PTR_INT8 } from "../../src/wasm/abi.ts";
import type { KernelInstance } from "../../src/wasm/kernels.ts";
import {
  allVariants, check, gatesOf, get, inputPanels, put, RECURRENT_KINDS, RECURRENT_UNITS, RECURRENT_VARIANTS, recurrentCase, runRecurrent, unit, VARIANTS, zeros, type Variant,
} from "../kernels/harness.ts";
import { INT8_KERNEL_F64, INT8_WEIGHTS, KERNEL_TWIN, type Tolerance } from "../tolerance.ts";
import { rngFor, type Rng } from "../util/prng.ts";
import { evenK, gemmInt8Ref, quantizeColumns, recurrentInt8Ref } from "./reference.ts";

let K: Record<Variant, KernelInstance>;

beforeAll(async () => {
  K = await allVariants();
});

/** Places an int8 image; returns the tagged pointer the kernels take (bit 0 = int8). */
function putInt8(k: KernelInstance, image: Uint8Array): number {
  const p = k.alloc(image.length, "int8 weights");
  k.u8.set(image, p);
  return p + PTR_INT8;
}

/**
 * Runs `fn` on every build: simd vs scalar exactly, relaxed vs scalar (`relaxedTol`: exact for
 * the GEMM and gather, whose f32 steps are never fused; INT8_KERNEL_F64 for the recurrences),
 * each vs the oracle.
 */
function crossCheck(what: string, rng: Rng, fn: (k: KernelInstance) => Float32Array, ref: ArrayLike<number>, relaxedTol: Tolerance): Record<Variant, Float32Array> {
  const out = {} as Record<Variant, Float32Array>;
  for (const v of VARIANTS) out[v] = fn(K[v]);
  check(out.simd, out.scalar, KERNEL_TWIN, `${what}: baseline SIMD vs scalar twin`, rng);
  check(out.relaxed, out.scalar, relaxedTol, `${what}: relaxed SIMD vs scalar twin`, rng);
  for (const v of VARIANTS) check(out[v], ref, INT8_KERNEL_F64, `${what}: ${v} vs float64 int8 oracle`, rng);
  return out;
}

/** The exporter's int8 image of f32 panels, checked against the oracle's quantisation. */
function exported(f32Packed: Float32Array, how: Int8Layout, oracleDeqPacked: Float32Array, what: string): Uint8Array {
  const q = quantizeWeight(f32Packed, how);
  if (!("rows" in how)) {
    let off = 0;
    let soff = 0;
    const deq = new Float32Array(f32Packed.length);
    for (const [panels, Kd] of how.blocks) {
      const n = panels * Kd * 8;
      const part = { values: q.values.subarray((off / Kd) * evenK(Kd), ((off + n) / Kd) * evenK(Kd)), scales: q.scales.subarray(soff, soff + panels * 8) };
      deq.set(dequantizePanels(part, panels, Kd), off);
      off += n;
      soff += panels * 8;
    }
    // (0 and -0 alike: an Int8Array has no -0)
    expect(deq.every((v, i) => v === oracleDeqPacked[i]), `${what}: exporter's int8 weights = oracle's`).toBe(true);
  }
  return int8Image(q);
}

describe("int8 GEMM (panels of 8 columns in k-pairs; 4-row blocks, 1 x 16 leftover rows, then 1 x 8)", () => {
  const Ms = [1, 2, 3, 4, 5, 7, 8, 11];
  const Ns = [1, 7, 8, 9, 31, 32, 33, 67];
  const Ks = [1, 2, 3, 8, 17, 64];
  const cases: [number, number, number][] = [];
  for (const M of Ms) for (const N of Ns) cases.push([M, N, Ks[(M * 3 + N) % Ks.length]]);
  it.each(cases)("M=%i N=%i K=%i", (M, N, Kd) => {
    const rng = rngFor(`int8 gemm ${M}x${N}x${Kd}`);
    const x = rng.float32Array(M * Kd, unit);
    const w = rng.float32Array(Kd * N, unit);
    const bias = rng.float32Array(N, (r) => r.nonZero(0.1, 1));
    const oracle = quantizeColumns(w, Kd, N);
    const ref = gemmInt8Ref(M, N, Kd, x, oracle, bias);
    const P = Math.ceil(N / 8);
    const image = exported(packPanels(w, Kd, N), { blocks: [[P, Kd]] }, packPanels(Float32Array.from(oracle.deq), Kd, N), `gemm ${M}x${N}x${Kd}`);
    const out = crossCheck(`int8 gemm M=${M} N=${N} K=${Kd}`, rng, (k) => {
      // guards after the output and after the quantisation scratch (as large as the kernel
      // reports) catch writes past them
      const o = zeros(k, M * N + 1);
      k.f32[(o >>> 2) + M * N] = 12345;
      const w8 = putInt8(k, image);
      const qBytes = k.exports.gemmScratchBytes(M, Kd, w8);
      expect(qBytes).toBe(M * (2 * evenK(Kd) + 4)); // docs/kernels.md's figure
      const q = k.alloc(qBytes + 16, "q");
      k.u8.fill(0xa5, q + qBytes, q + qBytes + 16);
      k.exports.gemm(M, N, Kd, put(k, x), Kd, w8, put(k, padVector(bias, N)), o, N, q);
      expect(k.f32[(o >>> 2) + M * N]).toBe(12345);
      expect(Array.from(k.u8.subarray(q + qBytes, q + qBytes + 16))).toEqual(new Array(16).fill(0xa5));
      return get(k, o, M * N);
    }, ref, KERNEL_TWIN);
    // against the f32 kernel on the original weights: the quantisation error only
    const k = K.simd;
    const o32 = zeros(k, M * N);
    k.exports.gemm(M, N, Kd, put(k, x), Kd, put(k, packPanels(w, Kd, N)), put(k, padVector(bias, N)), o32, N, 0);
    check(out.simd, get(k, o32, M * N), INT8_WEIGHTS, `int8 gemm M=${M} N=${N} K=${Kd} vs f32 kernel`, rng);
  });

  it("reads strided rows and writes strided rows, without a bias; all-zero rows and columns", () => {
    const rng = rngFor("int8 gemm strided");
    const M = 6, N = 13, Kd = 5, xs = 9, os = 20;
    const x = rng.float32Array(M * xs, unit);
    x.fill(0, 2 * xs, 3 * xs); // row 2 all zero: scale 0, no division by zero
    const w = rng.float32Array(Kd * N, unit);
    for (let k2 = 0; k2 < Kd; k2++) w[k2 * N + 4] = 0; // column 4 all zero
    const dense = new Float32Array(M * Kd);
    for (let m = 0; m < M; m++) for (let k2 = 0; k2 < Kd; k2++) dense[m * Kd + k2] = x[m * xs + k2];
    const oracle = quantizeColumns(w, Kd, N);
    const image = int8Image(quantizePanels(packPanels(w, Kd, N), 2, Kd));
    crossCheck("int8 gemm strided", rng, (k) => {
      const o = zeros(k, M * os);
      k.exports.gemm(M, N, Kd, put(k, x), xs, putInt8(k, image), 0, o, os, zeros(k, M * (Kd + 3)));
      const all = get(k, o, M * os);
      const res = new Float32Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) res[m * N + n] = all[m * os + n];
        for (let n = N; n < os; n++) expect(all[m * os + n]).toBe(0); // untouched padding
      }
      for (let n = 0; n < N; n++) expect(res[2 * N + n]).toBe(0);
      for (let m = 0; m < M; m++) expect(res[m * N + 4]).toBe(0);
      return res;
    }, gemmInt8Ref(M, N, Kd, dense, oracle, null), KERNEL_TWIN);
  });

  it("large K keeps the int32 sums exact (activation range shrinks so K2 * Q * 127 < 2^31)", () => {
    // worst case for overflow: every weight at +127 and every activation at the row maximum
    const M = 3, N = 8, Kd = 20000;
    const rng = rngFor("int8 gemm large K");
    const x = new Float32Array(M * Kd).fill(1);
    const w = new Float32Array(Kd * N).fill(0.5);
    const oracle = quantizeColumns(w, Kd, N);
    const image = int8Image(quantizePanels(packPanels(w, Kd, N), 1, Kd));
    crossCheck("int8 gemm large K", rng, (k) => {
      const o = zeros(k, M * N);
      k.exports.gemm(M, N, Kd, put(k, x), Kd, putInt8(k, image), 0, o, N, zeros(k, M * (Kd + 3)));
      return get(k, o, M * N);
    }, gemmInt8Ref(M, N, Kd, x, oracle, null), KERNEL_TWIN);
  });
});

describe("int8 embedding gather (rows of dim rounded up to even, a scale per row)", () => {
  it.each([[1, 1], [5, 2], [7, 3], [9, 15], [3, 16], [6, 17], [4, 33]])("rows=%i dim=%i", (rows, dim) => {
    const rng = rngFor(`int8 gather ${rows}x${dim}`);
    const table = rng.float32Array(rows * dim, (r) => r.uniform(-3, 3));
    if (rows > 2) table.fill(0, dim, 2 * dim); // an all-zero row
    const q = quantizeRows(table, rows, dim);
    const ids = Int32Array.from({ length: 11 }, () => rng.int(0, rows));
    const ref: number[] = [];
    for (const id of ids) {
      // oracle: per-row scale max|row| / 127, q = round(v / scale)
      const row = Array.from(table.subarray(id * dim, (id + 1) * dim));
      const s = Math.fround(Math.max(...row.map(Math.abs)) / 127);
      for (const v of row) ref.push(s > 0 ? Math.max(-127, Math.min(127, Math.round(v / s))) * s : 0);
    }
    crossCheck(`int8 gather ${rows}x${dim}`, rng, (k) => {
      const idp = k.alloc(ids.length * 4, "ids");
      k.i32.set(ids, idp >>> 2);
      const o = zeros(k, ids.length * dim);
      k.exports.gatherRows(ids.length, idp, putInt8(k, int8Image(q)), dim, o, rows);
      return get(k, o, ids.length * dim);
    }, ref, KERNEL_TWIN);
  });
});

describe.each(RECURRENT_KINDS)("%s sequence kernel, int8 tiles", (kind) => {
  // every batch size takes the batched algorithm with int8 weights (B < 4 included)
  const cases = RECURRENT_UNITS.flatMap((u) => RECURRENT_VARIANTS.map((v) => ({ u, v, name: v.name })));
  it.each(cases)("units=$u $name", ({ u, v }) => {
    const rng = rngFor(`int8 ${kind} u=${u} B=${v.B} T=${v.T} masked=${v.masked} back=${v.back}`);
    const cs = recurrentCase(kind, u, v, rng);
    const { cell, inDim, resetAfter } = cs;
    const G = gatesOf(cell);
    const ref = recurrentInt8Ref(cs);
    const tiles = padTo8(u) / 8;
    const Wo = quantizeColumns(cs.W, inDim, G * u);
    const Uo = quantizeColumns(cs.U, u, G * u);
    const wImage = exported(inputPanels(cs), { blocks: [[tiles * G, inDim]] }, packGatePanels(Float32Array.from(Wo.deq), inDim, G, u), "input kernel");
    const uPacked = (m: Float32Array) => (cell === "lstm" ? packLstmRecurrent(m, u) : cell === "gru" ? packGruRecurrent(m, u, resetAfter) : packSimpleRnnRecurrent(m, u));
    const uHow: Int8Layout = { blocks: recurrentBlocks(cell, resetAfter, u) };
    const uImage = exported(uPacked(cs.U), uHow, uPacked(Float32Array.from(Uo.deq)), "recurrent kernel");
    /** The layer on kernel instance k: int8 weights (images) or f32. */
    const run = (k: KernelInstance, which: "seq" | "h" | "c", int8: boolean) =>
      runRecurrent(k, cs, which, int8
        ? { input: putInt8(k, wImage), recurrent: putInt8(k, uImage) }
        : { input: put(k, inputPanels(cs)), recurrent: put(k, uPacked(cs.U)) });
    const outs: ["seq" | "h" | "c", Float64Array][] = [["seq", ref.seq], ["h", ref.h]];
    if (cell === "lstm") outs.push(["c", ref.c]);
    for (const [which, r] of outs) {
      // relaxed: the fused epilogue moves h by an ulp, which can flip an int16 rounding next step
      const got = crossCheck(`int8 ${kind} ${which}`, rng, (k) => run(k, which, true), r, INT8_KERNEL_F64);
      check(got.simd, run(K.simd, which, false), INT8_WEIGHTS, `int8 ${kind} ${which} vs f32 kernels`, rng);
    }
  });
});
