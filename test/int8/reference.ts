/**
 * float64 oracle of the int8 kernels, written from the rules in docs/kernels.md ("int8
 * weights") on unpacked row-major matrices, independently of src/model/quantize.ts and
 * assembly/int8.ts:
 *
 * - weights: per output column c, scale_c = f32(max_k |w[k][c]| / 127), q = clamp(round(w / scale_c), ±127);
 * - activations: per row, Q = min(32767, floor((2^31 - 1) / (127 K2))) with K2 = K rounded up to
 *   even, inv = f32(Q / max|x|), q = roundeven(f32(x · inv)), scale = f32(max|x| / Q);
 * - products: Σ_k q_x q_w (exact) · scale_c · scale_row + bias.
 *
 * The float32 steps of the kernels' quantisation are reproduced with Math.fround, so for exact
 * float32 inputs the oracle picks the same integers as the kernels; only the last few float32
 * roundings of the dequantised sum differ.
 */
import { ACT64, type RecurrentCase } from "../kernels/reference64.ts";

export interface ColumnQuantized {
  q: Int8Array; // [K, N]
  scales: Float32Array; // [N]
  /** q * scale as float64, [K, N]: the weights the int8 kernels compute with. */
  deq: Float64Array;
}

export function quantizeColumns(w: ArrayLike<number>, K: number, N: number): ColumnQuantized {
  const q = new Int8Array(K * N);
  const scales = new Float32Array(N);
  const deq = new Float64Array(K * N);
  for (let c = 0; c < N; c++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(w[k * N + c]));
    const s = Math.fround(max / 127);
    scales[c] = s;
    for (let k = 0; k < K; k++) {
      const v = s > 0 ? Math.max(-127, Math.min(127, Math.round(w[k * N + c] / s))) : 0;
      q[k * N + c] = v;
      deq[k * N + c] = v * s;
    }
  }
  return { q, scales, deq };
}

export const evenK = (K: number): number => K + (K & 1);
export const qLimit = (K: number): number => Math.min(32767, Math.floor(2147483647 / (127 * evenK(K))));

function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** One activation row quantised as the kernels do: int16 values and the row scale. */
export function quantizeRow(x: ArrayLike<number>, K: number): { q: Int32Array; scale: number } {
  const Q = qLimit(K);
  let max = 0;
  for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(Math.fround(x[k])));
  max = Math.fround(max);
  const inv = max > 0 ? Math.fround(Q / max) : 0;
  const q = new Int32Array(K);
  for (let k = 0; k < K; k++) q[k] = roundEven(Math.fround(Math.fround(x[k]) * inv));
  return { q, scale: Math.fround(max / Q) };
}

/** Σ_k q_x[k] q_w[k][c] · scale_c · xs for each column c of a [K, N] int8 matrix (from column `from`, `n` columns). */
function int8Dot(x: ArrayLike<number>, K: number, w: ColumnQuantized, N: number, from: number, n: number): Float64Array {
  const { q, scale } = quantizeRow(x, K);
  const out = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += q[k] * w.q[k * N + from + c];
    out[c] = acc * w.scales[from + c] * scale;
  }
  return out;
}

/** out[M, N] = x[M, K] · W + bias with int8 W (columns) and int16 rows of x. */
export function gemmInt8Ref(M: number, N: number, K: number, x: ArrayLike<number>, w: ColumnQuantized, bias: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    const row = int8Dot(Array.from({ length: K }, (_, k) => x[m * K + k]), K, w, N, 0, N);
    for (let c = 0; c < N; c++) out[m * N + c] = row[c] + (bias ? bias[c] : 0);
  }
  return out;
}

/**
 * The Keras recurrences of reference64.ts' recurrent64 with int8 W and U (per column) and the
 * kernels' activation quantisation: x rows for the input projection, h for h·U, and r*h for
 * the h gate of GRU reset_after=false.
 */
export function recurrentInt8Ref(cs: RecurrentCase): { seq: Float64Array; h: Float64Array; c: Float64Array } {
  const { B, T, inDim, u, cell } = cs;
  const G = cell === "lstm" ? 4 : cell === "gru" ? 3 : 1;
  const Wq = quantizeColumns(cs.W, inDim, G * u);
  const Uq = quantizeColumns(cs.U, u, G * u);
  const f = ACT64[cs.act];
  const ra = ACT64[cs.recAct];
  const seq = new Float64Array(B * T * u);
  const hOut = new Float64Array(B * u);
  const cOut = new Float64Array(B * u);
  for (let b = 0; b < B; b++) {
    let h = new Float64Array(u);
    const c = new Float64Array(u);
    if (cs.h0) for (let j = 0; j < u; j++) h[j] = cs.h0[b * u + j];
    if (cs.c0) for (let j = 0; j < u; j++) c[j] = cs.c0[b * u + j];
    for (let s = 0; s < T; s++) {
      const t = cs.goBackwards ? T - 1 - s : s;
      const tOut = cs.align ? t : s;
      const live = !cs.mask || cs.mask[b * T + t] !== 0;
      if (live) {
        const xz = int8Dot(cs.x.subarray((b * T + t) * inDim, (b * T + t + 1) * inDim), inDim, Wq, G * u, 0, G * u);
        for (let n = 0; n < G * u; n++) xz[n] += cs.bias[n];
        const v1 = cell === "gru" && !cs.resetAfter;
        const hz = int8Dot(h, u, Uq, G * u, 0, v1 ? 2 * u : G * u);
        if (cell === "gru" && cs.resetAfter) for (let n = 0; n < G * u; n++) hz[n] += cs.bias[G * u + n];
        const hNew = new Float64Array(u);
        if (cell === "lstm") {
          for (let j = 0; j < u; j++) {
            const i = ra(xz[j] + hz[j]);
            const fg = ra(xz[u + j] + hz[u + j]);
            const g = f(xz[2 * u + j] + hz[2 * u + j]);
            const o = ra(xz[3 * u + j] + hz[3 * u + j]);
            c[j] = fg * c[j] + i * g;
            hNew[j] = o * f(c[j]);
          }
        } else if (cell === "gru") {
          const z = Array.from({ length: u }, (_, j) => ra(xz[j] + hz[j]));
          const r = Array.from({ length: u }, (_, j) => ra(xz[u + j] + hz[u + j]));
          const rhU = v1 ? int8Dot(r.map((rj, j) => Math.fround(rj * h[j])), u, Uq, G * u, 2 * u, u) : null;
          for (let j = 0; j < u; j++) {
            const hh = f(xz[2 * u + j] + (rhU ? rhU[j] : r[j] * hz[2 * u + j]));
            hNew[j] = z[j] * h[j] + (1 - z[j]) * hh;
          }
        } else {
          for (let j = 0; j < u; j++) hNew[j] = f(xz[j] + hz[j]);
        }
        h = hNew;
      }
      for (let j = 0; j < u; j++) seq[(b * T + tOut) * u + j] = live || !cs.zeroMasked ? h[j] : 0;
    }
    hOut.set(h, b * u);
    cOut.set(c, b * u);
  }
  return { seq, h: hOut, c: cOut };
}
