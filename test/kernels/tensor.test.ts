/**
 * The general tensor kernels (assembly/tensor.ts, spectral.ts) at sizes around their 4-lane
 * edges: each SIMD kernel against its scalar twin (bit-identical: same float32 operations in
 * the same order), the relaxed build (within KERNEL_RELAXED: its exp and log polynomials use
 * fused multiply-adds), and a float64 reference. Strided copies are exact.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BINARY_FNS, REDUCE_FNS, UNARY_FNS } from "../../src/model/tensor-codes.ts";
import type { KernelInstance } from "../../src/wasm/kernels.ts";
import { KERNEL_F64, KERNEL_RELAXED, KERNEL_TWIN, STFT_F64, type Tolerance } from "../tolerance.ts";
import { rngFor, type Rng } from "../util/prng.ts";
import { allVariants, check, get, put, unit, VARIANTS, zeros, type Variant } from "./harness.ts";

let K: Record<Variant, KernelInstance>;

beforeAll(async () => {
  K = await allVariants();
});

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
const contiguous = (dims: number[]) => dims.map((_, i) => prod(dims.slice(i + 1)));

function putInts(k: KernelInstance, v: number[]): number {
  const p = k.alloc(v.length * 4, "test ints");
  k.i32.set(v, p >>> 2);
  return p;
}

/** Every variant gives the same result (exactly), within `f64` of the reference. */
function crossCheck(what: string, rng: Rng, fn: (k: KernelInstance) => Float32Array, ref: ArrayLike<number>, f64: Tolerance = KERNEL_F64): void {
  const out = {} as Record<Variant, Float32Array>;
  for (const v of VARIANTS) out[v] = fn(K[v]);
  check(out.simd, out.scalar, KERNEL_TWIN, `${what}: baseline SIMD vs scalar twin`, rng);
  check(out.relaxed, out.scalar, KERNEL_RELAXED, `${what}: relaxed build vs scalar twin`, rng);
  check(out.scalar, ref, f64, `${what}: vs float64`, rng);
}

describe("copyStrided (transpose, slices with any step, broadcast)", () => {
  const shapes = [[1, 1], [3, 5], [4, 4], [2, 3, 9], [5, 1, 7], [2, 2, 3, 5]];
  it.each(shapes.map((s) => [s.join("x"), s] as const))("transposes %s every way", (_, dims) => {
    const rng = rngFor(`copy ${dims}`);
    const x = rng.float32Array(prod(dims), unit);
    const perms = dims.length === 2 ? [[1, 0], [0, 1]] : dims.length === 3 ? [[2, 1, 0], [0, 2, 1], [1, 2, 0]] : [[3, 1, 2, 0], [0, 2, 3, 1]];
    for (const perm of perms) {
      const out = perm.map((p) => dims[p]);
      const xs = contiguous(dims);
      const ref = new Float32Array(prod(out));
      const os = contiguous(out);
      for (let i = 0; i < ref.length; i++) {
        let at = 0;
        out.forEach((d, a) => (at += (Math.floor(i / os[a]) % d) * xs[perm[a]]));
        ref[i] = x[at];
      }
      for (const v of VARIANTS) {
        const k = K[v];
        const dst = zeros(k, ref.length);
        k.exports.copyStrided(out.length, putInts(k, out), putInts(k, perm.map((p) => xs[p])), put(k, x), putInts(k, os), dst);
        expect(Array.from(get(k, dst, ref.length)), `perm ${perm}`).toEqual(Array.from(ref));
      }
    }
  });

  it("reads backwards (negative steps) and repeats (stride 0)", () => {
    const rng = rngFor("copy steps");
    const x = rng.float32Array(30, unit); // [5, 6]
    const k = K.simd;
    // rows 4, 2, 0 backwards, columns 5, 3, 1 backwards
    const dst = zeros(k, 9);
    k.exports.copyStrided(2, putInts(k, [3, 3]), putInts(k, [-12, -2]), put(k, x) + (4 * 6 + 5) * 4, putInts(k, [3, 1]), dst);
    expect(Array.from(get(k, dst, 9))).toEqual([4, 2, 0].flatMap((r) => [5, 3, 1].map((c) => x[r * 6 + c])));
    // one row repeated 4 times
    const rep = zeros(k, 24);
    k.exports.copyStrided(2, putInts(k, [4, 6]), putInts(k, [0, 1]), put(k, x) + 12 * 4, putInts(k, [6, 1]), rep);
    expect(Array.from(get(k, rep, 24))).toEqual(Array.from({ length: 24 }, (_, i) => x[12 + (i % 6)]));
  });

  it("fill writes n values and nothing after", () => {
    for (const n of [1, 3, 4, 5, 9]) {
      const k = K.simd;
      const p = zeros(k, n + 1);
      k.f32[(p >>> 2) + n] = 7;
      k.exports.fill(n, -2.5, p);
      expect(Array.from(get(k, p, n + 1))).toEqual([...new Array(n).fill(-2.5), 7]);
    }
  });
});

function binary64(fn: string, a: number, b: number): number {
  switch (fn) {
    case "add": return a + b;
    case "sub": return a - b;
    case "mul": return a * b;
    case "div": return a / b;
    case "pow": return a ** b;
    case "max": return Math.max(a, b);
    default: return Math.min(a, b);
  }
}

describe("binaryStrided (broadcasting: same shape, scalar, row, column)", () => {
  const cases: [string, number[], number[], number[]][] = [];
  for (const n of [1, 3, 4, 5, 8, 9, 17]) {
    cases.push([`[2, ${n}] op [2, ${n}]`, [2, n], [2, n], [2, n]]);
    cases.push([`[3, ${n}] op [1, 1]`, [3, n], [1, 1], [3, n]]);
    cases.push([`[3, ${n}] op [1, ${n}]`, [3, n], [1, n], [3, n]]);
    cases.push([`[3, ${n}] op [3, 1]`, [3, n], [3, 1], [3, n]]);
    cases.push([`[1, ${n}] op [4, 1]`, [1, n], [4, 1], [4, n]]);
  }
  it.each(BINARY_FNS.flatMap((fn) => cases.map((c) => [fn, ...c] as const)))("%s %s", (fn, _, as, bs, out) => {
    const rng = rngFor(`binary ${fn} ${as} ${bs}`);
    const positive = fn === "pow" || fn === "div";
    const a = rng.float32Array(prod(as), (r) => (positive ? r.uniform(0.5, 2) : unit(r)));
    const b = rng.float32Array(prod(bs), (r) => (fn === "pow" ? r.uniform(-2, 2) : positive ? r.uniform(0.5, 2) : unit(r)));
    const strides = (s: number[]) => contiguous(s).map((st, i) => (s[i] === 1 && out[i] !== 1 ? 0 : st));
    const os = contiguous(out);
    const ref = Array.from({ length: prod(out) }, (_, i) => {
      const at = (s: number[]) => strides(s).reduce((acc, st, ax) => acc + (Math.floor(i / os[ax]) % out[ax]) * st, 0);
      return binary64(fn, a[at(as)], b[at(bs)]);
    });
    // a single float32 op on float32 inputs is correctly rounded: exact, except pow's repeated products / exp-log
    const tol: Tolerance = fn === "pow" ? { name: "POW", abs: 1e-6, rel: 2e-6 } : { name: "ONE_OP", abs: 0, rel: 6e-8 };
    crossCheck(`binary ${fn}`, rng, (k) => {
      const dst = zeros(k, ref.length);
      k.exports.binaryStrided(BINARY_FNS.indexOf(fn), 2, putInts(k, out), putInts(k, strides(as)), put(k, a), putInts(k, strides(bs)), put(k, b), dst);
      return get(k, dst, ref.length);
    }, ref, tol);
  });
});

const erf64 = (x: number) => {
  // series for |x| < 3, else the continued fraction's tail
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t, term = t;
    for (let n = 1; n < 80; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - Math.exp(-t * t) / (t * Math.sqrt(Math.PI)));
};

const UNARY64: Record<(typeof UNARY_FNS)[number], (x: number, a: number, b: number) => number> = {
  neg: (x) => -x, abs: Math.abs, sqrt: Math.sqrt, reciprocal: (x) => 1 / x, square: (x) => x * x, affine: (x, a, b) => a * x + b,
  clip: (x, a, b) => Math.min(Math.max(x, a), b), hard_sigmoid: (x, a, b) => Math.max(0, Math.min(1, a * x + b)),
  leaky_relu: (x, a) => (x >= 0 ? x : a * x), log: Math.log, elu: (x, a) => (x >= 0 ? x : a * Math.expm1(x)),
  selu: (x, a, b) => b * (x > 0 ? x : a * Math.expm1(x)), thresholded_relu: (x, a) => (x > a ? x : 0),
  scaled_tanh: (x, a, b) => a * Math.tanh(b * x), floor: Math.floor, ceil: Math.ceil,
  round: (x) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x)), sign: Math.sign, erf: erf64, pow: (x, a) => x ** a,
};

describe("unary (every function, lengths around 4 lanes)", () => {
  const PARAMS: Partial<Record<(typeof UNARY_FNS)[number], [number, number]>> = {
    affine: [1.5, -0.25], clip: [-0.3, 0.6], hard_sigmoid: [0.2, 0.5], leaky_relu: [0.1, 0], elu: [0.7, 0], selu: [1.67, 1.05],
    thresholded_relu: [0.2, 0], scaled_tanh: [1.7, 0.66], pow: [3, 0],
  };
  it.each(UNARY_FNS.flatMap((fn) => [1, 3, 4, 5, 13].map((n) => [fn, n] as const)))("%s n=%i", (fn, n) => {
    const rng = rngFor(`unary ${fn} ${n}`);
    const positive = fn === "sqrt" || fn === "log" || fn === "reciprocal";
    const x = rng.float32Array(n, (r) => (positive ? r.uniform(0.1, 3) : fn === "round" ? Math.round(r.uniform(-6, 6) * 2) / 2 : r.uniform(-3, 3)));
    const [a, b] = PARAMS[fn] ?? [0, 0];
    const af = Math.fround(a), bf = Math.fround(b);
    const ref = Array.from(x, (v) => UNARY64[fn](v, af, bf));
    const approx = ["log", "elu", "selu", "scaled_tanh", "erf"].includes(fn);
    crossCheck(`unary ${fn}`, rng, (k) => {
      const dst = zeros(k, n);
      k.exports.unary(UNARY_FNS.indexOf(fn), n, put(k, x), dst, a, b);
      return get(k, dst, n);
    }, ref, approx ? { name: "UNARY_APPROX", abs: 5e-7, rel: 5e-7 } : { name: "UNARY_EXACT", abs: 1e-7, rel: 2e-7 });
  });
});

function reduce64(fn: (typeof REDUCE_FNS)[number], v: number[]): number {
  const sum = (f: (x: number) => number) => v.reduce((a, x) => a + f(x), 0);
  switch (fn) {
    case "sum": return sum((x) => x);
    case "mean": return sum((x) => x) / v.length;
    case "max": return Math.max(...v);
    case "min": return Math.min(...v);
    case "prod": return v.reduce((a, x) => a * x, 1);
    case "l1": return sum(Math.abs);
    case "l2": return Math.sqrt(sum((x) => x * x));
    case "sum_square": return sum((x) => x * x);
    case "log_sum": return Math.log(sum((x) => x));
    default: {
      const m = Math.max(...v);
      return m + Math.log(sum((x) => Math.exp(x - m)));
    }
  }
}

describe("reduce over the middle axis of [outer, n, inner] (inner around 4 lanes) and softmaxAxis", () => {
  const shapes = [[1, 1, 1], [2, 5, 1], [1, 3, 3], [2, 4, 4], [3, 7, 5], [1, 2, 9], [2, 1, 8]];
  it.each(REDUCE_FNS.flatMap((fn) => shapes.map((s) => [fn, s.join("x"), s] as const)))("%s %s", (fn, _, [outer, n, inner]) => {
    const rng = rngFor(`reduce ${fn} ${outer} ${n} ${inner}`);
    const x = rng.float32Array(outer * n * inner, (r) => (fn === "log_sum" || fn === "prod" ? r.uniform(0.5, 1.5) : unit(r)));
    const ref: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) ref.push(reduce64(fn, Array.from({ length: n }, (_, j) => x[(o * n + j) * inner + i])));
    crossCheck(`reduce ${fn}`, rng, (k) => {
      const dst = zeros(k, outer * inner);
      k.exports.reduce(REDUCE_FNS.indexOf(fn), outer, n, inner, put(k, x), dst);
      return get(k, dst, outer * inner);
    }, ref);
  });

  it.each(shapes.flatMap((s) => [false, true].map((log) => [s.join("x"), log, s] as const)))("softmax %s log=%s", (_, log, [outer, n, inner]) => {
    const rng = rngFor(`softmax ${outer} ${n} ${inner} ${log}`);
    const x = rng.float32Array(outer * n * inner, (r) => r.uniform(-4, 4));
    const ref = new Array<number>(x.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const col = Array.from({ length: n }, (_, j) => x[(o * n + j) * inner + i]);
        const m = Math.max(...col);
        const s = col.reduce((a, v) => a + Math.exp(v - m), 0);
        col.forEach((v, j) => (ref[(o * n + j) * inner + i] = log ? v - m - Math.log(s) : Math.exp(v - m) / s));
      }
    }
    crossCheck(`softmax log=${log}`, rng, (k) => {
      const p = put(k, x);
      k.exports.softmaxAxis(outer, n, inner, p, log ? 1 : 0);
      return get(k, p, x.length);
    }, ref);
  });
});

describe("batchedMatmul (N around 4 lanes)", () => {
  const cases = [[1, 1, 1, 1], [2, 3, 4, 5], [1, 4, 5, 3], [3, 2, 9, 7], [1, 5, 8, 16], [2, 1, 13, 2]];
  it.each(cases.map((c) => [c.join("x"), c] as const))("batch x M x N x K = %s", (_, [batch, M, N, Kd]) => {
    const rng = rngFor(`bmm ${batch} ${M} ${N} ${Kd}`);
    const a = rng.float32Array(batch * M * Kd, unit);
    const c = rng.float32Array(batch * Kd * N, unit);
    const ref: number[] = [];
    for (let b = 0; b < batch; b++) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < Kd; k++) s += a[(b * M + m) * Kd + k] * c[(b * Kd + k) * N + n];
          ref.push(s);
        }
      }
    }
    crossCheck("batchedMatmul", rng, (k) => {
      const dst = zeros(k, batch * M * N);
      k.exports.batchedMatmul(batch, M, N, Kd, put(k, a), put(k, c), dst);
      return get(k, dst, batch * M * N);
    }, ref);
  });
});

describe("stftMagnitude (a real FFT per frame) against the float64 DFT", () => {
  const cases = [[4, 2, 0, 3, 10], [8, 4, 2, 5, 20], [16, 8, 0, 9, 40], [128, 64, 0, 65, 288], [256, 128, 0, 129, 640], [256, 100, 7, 60, 700]];
  it.each(cases.map((c) => [c.join(" "), c] as const))("N hop padLeft bins Tin = %s", (_, [N, hop, padLeft, bins, Tin]) => {
    const rng = rngFor(`stft ${N} ${hop} ${Tin}`);
    const B = 2;
    const x = rng.float32Array(B * Tin, unit);
    const window = Float32Array.from({ length: N }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N));
    const tw = new Float32Array(N);
    for (let j = 0; j < N / 2; j++) [tw[2 * j], tw[2 * j + 1]] = [Math.cos((2 * Math.PI * j) / N), -Math.sin((2 * Math.PI * j) / N)];
    const frames = Math.floor((Tin + padLeft - N) / hop) + 1;
    const ref: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let f = 0; f < frames; f++) {
        for (let k = 0; k < bins; k++) {
          let re = 0, im = 0;
          for (let n = 0; n < N; n++) {
            const s = f * hop + n - padLeft;
            const v = s >= 0 && s < Tin ? x[b * Tin + s] * window[n] : 0;
            re += v * Math.cos((2 * Math.PI * k * n) / N);
            im -= v * Math.sin((2 * Math.PI * k * n) / N);
          }
          ref.push(Math.hypot(re, im));
        }
      }
    }
    crossCheck(`stft N=${N}`, rng, (k) => {
      const dst = zeros(k, B * frames * bins);
      k.exports.stftMagnitude(B, Tin, put(k, x), frames, N, hop, padLeft, put(k, window), put(k, tw), bins, dst, zeros(k, N + 2));
      return get(k, dst, B * frames * bins);
    }, ref, STFT_F64);
  });
});
