/**
 * Kernel tests (XNNPACK-style): every SIMD kernel at sizes around its tiles — 8-unit tiles of
 * the recurrences, 4-row x 8-column GEMM blocks, 4-panel groups for leftover rows — against
 * its scalar twin (bit-identical on the baseline build), the relaxed-SIMD build, and a
 * float64 reference.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { packGruRecurrent, packLstmRecurrent, packPanels, packSimpleRnnRecurrent, padVector } from "../../src/model/pack.ts";
import { ACT_COUNT } from "../../src/wasm/abi.ts";
import type { KernelInstance } from "../../src/wasm/kernels.ts";
import { KERNEL_F64, KERNEL_RELAXED, KERNEL_REORDER, KERNEL_TWIN, type Tolerance } from "../tolerance.ts";
import { rngFor, type Rng } from "../util/prng.ts";
import {
  ACT64, allVariants, caseReference, check, gemm64, get, inputPanels, put, putBytes, RECURRENT_KINDS, RECURRENT_UNITS, RECURRENT_VARIANTS, recurrentCase,
  runRecurrent, unit, VARIANTS, zeros, type Variant,
} from "./harness.ts";

let K: Record<Variant, KernelInstance>;

beforeAll(async () => {
  K = await allVariants();
});

/** Runs `fn` on every variant; compares simd with scalar exactly, relaxed within tolerance, all with f64. */
function crossCheck(what: string, rng: Rng, fn: (k: KernelInstance) => Float32Array, ref: ArrayLike<number>, twin: Tolerance = KERNEL_TWIN, f64: Tolerance = KERNEL_F64): void {
  const out = {} as Record<Variant, Float32Array>;
  for (const v of VARIANTS) out[v] = fn(K[v]);
  check(out.simd, out.scalar, twin, `${what}: baseline SIMD vs scalar twin`, rng);
  check(out.relaxed, out.scalar, KERNEL_RELAXED, `${what}: relaxed SIMD vs scalar twin`, rng);
  for (const v of VARIANTS) check(out[v], ref, f64, `${what}: ${v} vs float64`, rng);
}

describe("builds", () => {
  it("baseline and relaxed builds report which they are", () => {
    expect(K.simd.relaxed).toBe(false);
    expect(K.relaxed.relaxed).toBe(true);
  });
});

describe("f32_gemm (panels of 8 columns, 4-row blocks, 3 or 2 leftover rows as one block, one leftover row in 3-, 2- and 1-panel passes, a partial panel 1 x 8)", () => {
  const Ms = [1, 2, 3, 4, 5, 7, 8, 11];
  const Ns = [1, 7, 8, 9, 31, 32, 33, 67];
  const Ks = [1, 3, 8, 17, 64];
  const cases: [number, number, number][] = [];
  for (const M of Ms) for (const N of Ns) cases.push([M, N, Ks[(M + N) % Ks.length]]);
  it.each(cases)("M=%i N=%i K=%i", (M, N, Kd) => {
    const rng = rngFor(`gemm ${M}x${N}x${Kd}`);
    const x = rng.float32Array(M * Kd, unit);
    const w = rng.float32Array(Kd * N, unit);
    const bias = rng.float32Array(N, (r) => r.nonZero(0.1, 1));
    const ref = gemm64(M, N, Kd, x, w, bias);
    crossCheck(`gemm M=${M} N=${N} K=${Kd}`, rng, (k) => {
      // a guard float after the output catches writes past N on the last row
      const out = zeros(k, M * N + 1);
      k.f32[(out >>> 2) + M * N] = 12345;
      k.exports.gemm(M, N, Kd, put(k, x), Kd, put(k, packPanels(w, Kd, N)), put(k, padVector(bias, N)), out, N, 0);
      expect(k.f32[(out >>> 2) + M * N]).toBe(12345);
      return get(k, out, M * N);
    }, ref);
  });

  it("reads strided rows and writes strided rows, without a bias", () => {
    const rng = rngFor("gemm strided");
    const M = 6, N = 13, Kd = 5, xs = 9, os = 20;
    const x = rng.float32Array(M * xs, unit);
    const w = rng.float32Array(Kd * N, unit);
    const dense = new Float32Array(M * Kd);
    for (let m = 0; m < M; m++) for (let k2 = 0; k2 < Kd; k2++) dense[m * Kd + k2] = x[m * xs + k2];
    const ref = gemm64(M, N, Kd, dense, w, null);
    crossCheck("gemm strided", rng, (k) => {
      const out = zeros(k, M * os);
      k.exports.gemm(M, N, Kd, put(k, x), xs, put(k, packPanels(w, Kd, N)), 0, out, os, 0);
      const all = get(k, out, M * os);
      const res = new Float32Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) res[m * N + n] = all[m * os + n];
        for (let n = N; n < os; n++) expect(all[m * os + n]).toBe(0); // untouched padding
      }
      return res;
    }, ref);
  });
});

describe.each(RECURRENT_KINDS)("%s sequence kernel", (kind) => {
  // with enough units LSTM and GRU take the batched path at 2 and 3 rows too (assembly/rnn/driver.ts
  // batchedRows: B·u >= 384): the variants of 2 and 3 rows again at 201 units (past a tile)
  const wide = RECURRENT_VARIANTS.filter((v) => v.B === 2 || v.B === 3).map((v) => ({ u: 201, v, name: v.name }));
  const cases = [...RECURRENT_UNITS.flatMap((u) => RECURRENT_VARIANTS.map((v) => ({ u, v, name: v.name }))), ...wide];
  it.each(cases)("units=$u $name", ({ u, v }) => {
    const rng = rngFor(`${kind} u=${u} B=${v.B} T=${v.T} masked=${v.masked} back=${v.back}`);
    const cs = recurrentCase(kind, u, v, rng);
    const ref = caseReference(cs);
    const recurrent = cs.cell === "lstm" ? packLstmRecurrent(cs.U, u) : cs.cell === "gru" ? packGruRecurrent(cs.U, u, cs.resetAfter) : packSimpleRnnRecurrent(cs.U, u);
    const run = (k: KernelInstance, which: "seq" | "h" | "c") => runRecurrent(k, cs, which, { input: put(k, inputPanels(cs)), recurrent: put(k, recurrent) });
    crossCheck(`${kind} sequence output`, rng, (k) => run(k, "seq"), ref.seq);
    crossCheck(`${kind} final h`, rng, (k) => run(k, "h"), ref.h);
    if (cs.cell === "lstm") crossCheck(`${kind} final c`, rng, (k) => run(k, "c"), ref.c);
  });
});

describe("activations", () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 67];
  const codes = Object.keys(ACT64).map(Number);
  it("every elementwise code of the ABI has a float64 form", () => {
    expect(codes.sort((a, b) => a - b)).toEqual(Array.from({ length: ACT_COUNT }, (_, i) => i));
  });
  it.each(codes.flatMap((code) => sizes.map((n) => [code, n])))("code %i on %i values", (code, n) => {
    const rng = rngFor(`activation ${code} n=${n}`);
    const x = rng.float32Array(n, (r) => r.uniform(-6, 6));
    const ref = Array.from(x, ACT64[code]);
    crossCheck(`activation ${code}`, rng, (k) => {
      const p = put(k, x, 1);
      k.f32[(p >>> 2) + n] = 777; // guard past the end
      k.exports.activate(code, p, n);
      expect(k.f32[(p >>> 2) + n]).toBe(777);
      return get(k, p, n);
    }, ref, KERNEL_TWIN, { name: "ACT_KERNEL_F64", abs: 2e-6, rel: 2e-6 });
  });
});

describe("lengthsToMask (ONNX sequence_lens)", () => {
  it("masks each row's steps past its length; lengths outside [0, T] mask all steps or none", () => {
    const k = K.simd;
    const lens = [0, 1, 3, 5, 7, -2];
    const T = 5;
    const lp = k.alloc(lens.length * 4, "lens");
    k.i32.set(lens, lp >>> 2);
    const m = k.alloc(lens.length * T, "mask");
    k.u8.fill(9, m, m + lens.length * T);
    k.exports.lengthsToMask(lens.length, T, lp, m);
    expect(Array.from(k.u8.subarray(m, m + lens.length * T))).toEqual(lens.flatMap((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0))));
  });
});

describe("layer kernels", () => {
  it.each([[1, 1], [2, 3], [3, 4], [4, 5], [2, 9], [5, 112]])("softmax rows=%i n=%i", (rows, n) => {
    const rng = rngFor(`softmax ${rows}x${n}`);
    const x = rng.float32Array(rows * n, (r) => r.uniform(-8, 8));
    const ref: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.subarray(r * n, (r + 1) * n));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      ref.push(...e.map((v) => v / s));
    }
    crossCheck("softmax", rng, (k) => {
      const p = put(k, x);
      k.exports.softmax(rows, n, p);
      return get(k, p, rows * n);
    }, ref, KERNEL_REORDER, { name: "SOFTMAX_F64", abs: 2e-7, rel: 1e-6 });
  });

  it.each([[1, 1, 1], [2, 5, 3], [3, 7, 4], [2, 4, 9]])("global pooling B=%i T=%i F=%i, masked and not", (B, T, F) => {
    for (const mode of [0, 1]) {
      for (const masked of [false, true]) {
        const rng = rngFor(`pool ${B}x${T}x${F} ${mode} ${masked}`);
        const x = rng.float32Array(B * T * F, unit);
        // row 0 keeps some steps; with B>1 the last row is fully masked (defined as 0)
        const mask = Uint8Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === B - 1 && B > 1 ? 0 : i % 2));
        const ref: number[] = [];
        for (let b = 0; b < B; b++) {
          for (let f = 0; f < F; f++) {
            const vals: number[] = [];
            for (let t = 0; t < T; t++) if (!masked || mask[b * T + t]) vals.push(x[(b * T + t) * F + f]);
            ref.push(vals.length === 0 ? 0 : mode === 1 ? Math.max(...vals) : vals.reduce((a, v) => a + v, 0) / vals.length);
          }
        }
        crossCheck(`global pool mode=${mode} masked=${masked}`, rng, (k) => {
          const out = zeros(k, B * F);
          k.exports.globalPool(B, T, F, put(k, x), masked ? putBytes(k, mask) : 0, out, mode);
          return get(k, out, B * F);
        }, ref);
      }
    }
  });

  it.each([[1, 3], [4, 4], [3, 9]])("scale_shift rows=%i F=%i", (rows, F) => {
    const rng = rngFor(`scale shift ${rows}x${F}`);
    const x = rng.float32Array(rows * F, unit);
    const s = rng.float32Array(F, unit);
    const t = rng.float32Array(F, unit);
    const ref = Array.from(x, (v, i) => v * s[i % F] + t[i % F]);
    crossCheck("scale_shift", rng, (k) => {
      const out = zeros(k, rows * F);
      k.exports.scaleShift(rows, F, put(k, x), put(k, s), put(k, t), out);
      return get(k, out, rows * F);
    }, ref, KERNEL_TWIN, { name: "SCALE_SHIFT_F64", abs: 1e-6, rel: 1e-6 });
  });

  it.each([0, 1, 2, 3, 4])("binary op %i", (op) => {
    const rng = rngFor(`binary ${op}`);
    const n = 11;
    const a = rng.float32Array(n, unit);
    const b = rng.float32Array(n, unit);
    const f = [(x: number, y: number) => x + y, (x: number, y: number) => x * y, Math.max, Math.min, (x: number, y: number) => x - y][op];
    const ref = Array.from(a, (v, i) => f(v, b[i]));
    crossCheck(`binary ${op}`, rng, (k) => {
      const out = zeros(k, n);
      k.exports.binary(op, n, put(k, a), put(k, b), out);
      return get(k, out, n);
    }, ref, KERNEL_TWIN, { name: "BINARY_F64", abs: 1e-7, rel: 1e-7 });
  });
});
