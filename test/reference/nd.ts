/**
 * N-dimensional float64 helpers for the reference's attention, Dot, Permute and TFOpLambda
 * layers: numpy's semantics written out index by index (broadcasting, transposes, Python
 * slices, reductions and softmax along one axis), on full shapes including the batch axis.
 */
import { RefError } from "./errors.ts";
import { sizeOf, type Tensor64 } from "./tensor.ts";

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Calls f(index, flat) for every index of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

export function at(t: Tensor64, idx: readonly number[]): number {
  const s = stridesOf(t.shape);
  let o = 0;
  for (let i = 0; i < idx.length; i++) o += idx[i] * s[i];
  return t.data[o];
}

/** numpy broadcasting of two shapes (aligned at the right). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new RefError("E_SHAPE", `shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** f(a, b) elementwise with numpy broadcasting. */
export function broadcastZip(a: Tensor64, b: Tensor64, f: (x: number, y: number) => number): Tensor64 {
  const shape = broadcastShape(a.shape, b.shape);
  const out = new Float64Array(sizeOf(shape));
  const pick = (t: Tensor64, idx: number[]) => at(t, idx.slice(idx.length - t.shape.length).map((v, i) => (t.shape[i] === 1 ? 0 : v)));
  forEachIndex(shape, (idx, flat) => (out[flat] = f(pick(a, idx), pick(b, idx))));
  return { shape, data: out };
}

export function transpose(t: Tensor64, perm: readonly number[]): Tensor64 {
  const shape = perm.map((p) => t.shape[p]);
  const out = new Float64Array(t.data.length);
  forEachIndex(shape, (idx, flat) => {
    const src = new Array<number>(perm.length);
    perm.forEach((p, i) => (src[p] = idx[i]));
    out[flat] = at(t, src);
  });
  return { shape, data: out };
}

/** Python's slice of an axis of size n: the indices read, in order. */
export function pythonIndices(n: number, start: number | null, stop: number | null, step: number): number[] {
  const norm = (v: number) => (v < 0 ? v + n : v);
  const lo = step > 0 ? 0 : -1;
  const hi = step > 0 ? n : n - 1;
  const clamp = (v: number) => Math.min(Math.max(v, lo), hi);
  const first = start === null ? (step > 0 ? 0 : n - 1) : clamp(norm(start));
  const end = stop === null ? (step > 0 ? n : -1) : clamp(norm(stop));
  const out: number[] = [];
  for (let i = first; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
}

/** The sub-tensor at the given indices per axis. */
export function take(t: Tensor64, indices: readonly number[][]): Tensor64 {
  const shape = indices.map((ix) => ix.length);
  const out = new Float64Array(sizeOf(shape));
  forEachIndex(shape, (idx, flat) => (out[flat] = at(t, idx.map((v, i) => indices[i][v]))));
  return { shape, data: out };
}

/** Reduces `axis` with f over the values along it (keepdims keeps it as size 1). */
export function reduceAxis(t: Tensor64, axis: number, f: (values: number[]) => number, keepDims: boolean): Tensor64 {
  const kept = t.shape.map((d, i) => (i === axis ? 1 : d));
  const out = new Float64Array(sizeOf(kept));
  forEachIndex(kept, (idx, flat) => {
    const values: number[] = [];
    for (let k = 0; k < t.shape[axis]; k++) values.push(at(t, idx.map((v, i) => (i === axis ? k : v))));
    out[flat] = f(values);
  });
  return { shape: keepDims ? kept : t.shape.filter((_, i) => i !== axis), data: out };
}

/** Softmax (log: log-softmax) along `axis`: exp(x - max) / sum, in float64. */
export function softmaxAxis(t: Tensor64, axis: number, log = false): Tensor64 {
  const out = new Float64Array(t.data.length);
  const s = stridesOf(t.shape);
  const kept = t.shape.map((d, i) => (i === axis ? 1 : d));
  forEachIndex(kept, (idx) => {
    const base = idx.reduce((a, v, i) => a + v * s[i], 0);
    const n = t.shape[axis];
    let m = -Infinity;
    for (let k = 0; k < n; k++) m = Math.max(m, t.data[base + k * s[axis]]);
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Math.exp(t.data[base + k * s[axis]] - m);
    for (let k = 0; k < n; k++) {
      const x = t.data[base + k * s[axis]] - m;
      out[base + k * s[axis]] = log ? x - Math.log(sum) : Math.exp(x) / sum;
    }
  });
  return { shape: t.shape.slice(), data: out };
}

/** Batched matrix product [..., M, K] x [..., K, N] with equal leading dims. */
export function matmul(a: Tensor64, b: Tensor64): Tensor64 {
  const r = a.shape.length;
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[r - 1];
  if (b.shape[r - 2] !== K || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i])) {
    throw new RefError("E_SHAPE", `cannot multiply [${a.shape.join(", ")}] by [${b.shape.join(", ")}]`);
  }
  const lead = sizeOf(a.shape.slice(0, -2));
  const out = new Float64Array(lead * M * N);
  for (let p = 0; p < lead; p++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a.data[(p * M + i) * K + k] * b.data[(p * K + k) * N + j];
        out[(p * M + i) * N + j] = acc;
      }
    }
  }
  return { shape: [...a.shape.slice(0, -2), M, N], data: out };
}
