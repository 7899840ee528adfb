/**
 * The reference's only data type: a dense row-major float64 array with a shape. Deliberately
 * naive (no strides, no views): every op allocates its result, which keeps the code a direct
 * transcription of the equations.
 */
export interface Tensor64 {
  shape: number[];
  data: Float64Array;
}

/** A Keras mask: one flag per (batch, timestep), 1 = keep, 0 = masked. */
export interface Mask {
  shape: [number, number];
  data: Uint8Array;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(shape: number[], data?: ArrayLike<number>): Tensor64 {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  if (data !== undefined) {
    if (data.length !== n) throw new Error(`tensor: ${data.length} values for shape [${shape.join(", ")}]`);
    for (let i = 0; i < n; i++) out[i] = data[i];
  }
  return { shape: shape.slice(), data: out };
}

export function zeros(shape: number[]): Tensor64 {
  return tensor(shape);
}

export function clone(t: Tensor64): Tensor64 {
  return { shape: t.shape.slice(), data: Float64Array.from(t.data) };
}

export function reshape(t: Tensor64, shape: number[]): Tensor64 {
  if (sizeOf(shape) !== t.data.length) {
    throw new Error(`reshape: [${t.shape.join(", ")}] -> [${shape.join(", ")}] changes the size`);
  }
  return { shape: shape.slice(), data: t.data };
}

export function map(t: Tensor64, f: (x: number) => number): Tensor64 {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(t.data[i]);
  return { shape: t.shape.slice(), data: out };
}

/** Element-wise op on two tensors of identical shape. */
export function zip(a: Tensor64, b: Tensor64, f: (x: number, y: number) => number): Tensor64 {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ`);
  }
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i], b.data[i]);
  return { shape: a.shape.slice(), data: out };
}

/** [.., k] x [k, n] -> [.., n]: a matrix product over the last axis (Dense, projections). */
export function matmulLast(x: Tensor64, w: Tensor64): Tensor64 {
  const k = x.shape[x.shape.length - 1];
  if (w.shape.length !== 2 || w.shape[0] !== k) {
    throw new Error(`matmul: input [${x.shape.join(", ")}] with kernel [${w.shape.join(", ")}]`);
  }
  const n = w.shape[1];
  const rows = x.data.length / k;
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += x.data[r * k + i] * w.data[i * n + j];
      out[r * n + j] = s;
    }
  }
  return { shape: [...x.shape.slice(0, -1), n], data: out };
}

/** Adds a bias over the last axis. */
export function addBias(x: Tensor64, b: Tensor64): Tensor64 {
  const n = x.shape[x.shape.length - 1];
  if (b.data.length !== n) throw new Error(`bias of ${b.data.length} for last axis ${n}`);
  const out = Float64Array.from(x.data);
  for (let i = 0; i < out.length; i++) out[i] += b.data[i % n];
  return { shape: x.shape.slice(), data: out };
}

/** Concatenation along `axis` (negative counts from the end). */
export function concat(ts: Tensor64[], axis: number): Tensor64 {
  const rank = ts[0].shape.length;
  const ax = axis < 0 ? rank + axis : axis;
  const outer = sizeOf(ts[0].shape.slice(0, ax));
  const inners = ts.map((t) => sizeOf(t.shape.slice(ax)));
  const total = inners.reduce((a, b) => a + b, 0);
  const out = new Float64Array(outer * total);
  for (let o = 0; o < outer; o++) {
    let off = o * total;
    ts.forEach((t, k) => {
      out.set(t.data.subarray(o * inners[k], (o + 1) * inners[k]), off);
      off += inners[k];
    });
  }
  const shape = ts[0].shape.slice();
  shape[ax] = ts.reduce((a, t) => a + t.shape[ax], 0);
  return { shape, data: out };
}

/** Reverses axis 1 (time) of a [b, t, ...] tensor. */
export function reverseTime(x: Tensor64): Tensor64 {
  const [b, t] = x.shape;
  const inner = sizeOf(x.shape.slice(2));
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < b; i++) {
    for (let s = 0; s < t; s++) {
      out.set(x.data.subarray((i * t + s) * inner, (i * t + s + 1) * inner), (i * t + (t - 1 - s)) * inner);
    }
  }
  return { shape: x.shape.slice(), data: out };
}

/** Column block [start, start+len) of the last axis. */
export function sliceLast(x: Tensor64, start: number, len: number): Tensor64 {
  const n = x.shape[x.shape.length - 1];
  const rows = x.data.length / n;
  const out = new Float64Array(rows * len);
  for (let r = 0; r < rows; r++) out.set(x.data.subarray(r * n + start, r * n + start + len), r * len);
  return { shape: [...x.shape.slice(0, -1), len], data: out };
}

/** Row `i` of a 2-D weight, e.g. the input bias (row 0) of a GRU bias [2, 3u]. */
export function row(w: Tensor64, i: number): Tensor64 {
  const n = w.shape[w.shape.length - 1];
  return { shape: [n], data: w.data.slice(i * n, (i + 1) * n) };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
