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
import { caseReference, type RecurrentCase } from "../kernels/harness.ts";

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
 * The float64 recurrence (test/reference/recurrent.ts, through the kernel tests' caseReference)
 * with int8 W and U (per column) and the kernels' activation quantisation: x rows for the input
 * projection, h for h·U, and r*h (as the float32 product the kernel forms) for the h gate of
 * GRU reset_after=false.
 */
export function recurrentInt8Ref(cs: RecurrentCase): { seq: Float64Array; h: Float64Array; c: Float64Array } {
  const { inDim, u, cell } = cs;
  const N = (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1) * u;
  const Wq = quantizeColumns(cs.W, inDim, N);
  const Uq = quantizeColumns(cs.U, u, N);
  return caseReference(cs, () => ({
    input: (x) => int8Dot(x, inDim, Wq, N, 0, N),
    hidden: (h, from, n) => int8Dot(h, u, Uq, N, from, n),
    resetHidden: (r, h) => Array.from(r, (rj, j) => Math.fround(rj * h[j])),
  }));
}
