/**
 * float64 references for the kernels, written from the equations on unpacked row-major
 * weights (the packing is part of what the kernel tests check).
 */

export const ACT64: Record<number, (x: number) => number> = {
  0: (x) => x,
  1: (x) => Math.max(x, 0),
  2: (x) => Math.min(Math.max(x, 0), 6),
  3: Math.tanh,
  4: (x) => 1 / (1 + Math.exp(-x)),
  5: (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1),
  6: (x) => Math.min(Math.max(x + 3, 0), 6) / 6,
  7: (x) => (x > 0 ? x : Math.expm1(x)),
  8: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x)),
  9: (x) => (x > 30 ? x : Math.log1p(Math.exp(x))),
  10: (x) => x / (1 + Math.abs(x)),
  11: Math.exp,
  12: (x) => x / (1 + Math.exp(-x)),
  13: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  14: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  15: (x) => x * Math.tanh(x > 30 ? x : Math.log1p(Math.exp(x))),
  16: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
};

/** erf to ~1e-15: Maclaurin series below 3, asymptotic erfc above. */
export function erf(x: number): number {
  const t = Math.abs(x);
  let r: number;
  if (t < 3) {
    let s = 0;
    let term = t;
    for (let n = 0; n < 100; n++) {
      s += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * s;
  } else {
    const t2 = t * t;
    const erfc = (Math.exp(-t2) / (t * Math.sqrt(Math.PI))) * (1 - 1 / (2 * t2) + 3 / (4 * t2 * t2) - 15 / (8 * t2 ** 3) + 105 / (16 * t2 ** 4));
    r = 1 - erfc;
  }
  return x < 0 ? -r : r;
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

export interface RecurrentCase {
  cell: "lstm" | "gru" | "simple_rnn";
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
}

/**
 * The matrix products of a recurrent step, replaceable so that the int8 oracle
 * (test/int8/reference.ts) runs these same equations with quantised weights and activations.
 */
export interface RecurrentProducts {
  /** x_t · W over all G*u columns (bias not included). */
  input(x: Float32Array): Float64Array;
  /** h · U over the columns [from, from + n). */
  hidden(h: ArrayLike<number>, from: number, n: number): Float64Array;
  /** r ⊙ h, the vector GRU reset_after=false multiplies by its h-gate columns of U. */
  resetHidden(r: ArrayLike<number>, h: ArrayLike<number>): ArrayLike<number>;
}

/** The products in float64 on the float32 weights. */
export function float64Products(cs: RecurrentCase): RecurrentProducts {
  const N = gates(cs.cell) * cs.u;
  const dot = (v: ArrayLike<number>, M: Float32Array, from: number, n: number) => {
    const out = new Float64Array(n);
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let k = 0; k < v.length; k++) s += v[k] * M[k * N + from + c];
      out[c] = s;
    }
    return out;
  };
  return {
    input: (x) => dot(x, cs.W, 0, N),
    hidden: (h, from, n) => dot(h, cs.U, from, n),
    resetHidden: (r, h) => Float64Array.from(r, (rj, j) => rj * h[j]),
  };
}

const gates = (cell: RecurrentCase["cell"]) => (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1);

/** Keras/tfjs recurrent layer over a sequence, float64. Returns sequence output [B,T,u], h, c. */
export function recurrent64(cs: RecurrentCase, products: RecurrentProducts = float64Products(cs)): { seq: Float64Array; h: Float64Array; c: Float64Array } {
  const { B, T, inDim, u, cell } = cs;
  const G = gates(cell);
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
        const xz = products.input(cs.x.subarray((b * T + t) * inDim, (b * T + t + 1) * inDim));
        for (let n = 0; n < G * u; n++) xz[n] += cs.bias[n];
        // GRU reset_after=false applies r before its h-gate product: only z and r columns here
        const v1 = cell === "gru" && !cs.resetAfter;
        const hz = products.hidden(h, 0, v1 ? 2 * u : G * u);
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
          const z = Float64Array.from({ length: u }, (_, j) => ra(xz[j] + hz[j]));
          const r = Float64Array.from({ length: u }, (_, j) => ra(xz[u + j] + hz[u + j]));
          const rhU = v1 ? products.hidden(products.resetHidden(r, h), 2 * u, u) : null;
          for (let j = 0; j < u; j++) {
            const hh = f(xz[2 * u + j] + (rhU ? rhU[j] : r[j] * hz[2 * u + j]));
            hNew[j] = z[j] * h[j] + (1 - z[j]) * hh;
          }
        } else {
          for (let j = 0; j < u; j++) hNew[j] = f(xz[j] + hz[j]);
        }
        h = hNew;
      }
      for (let j = 0; j < u; j++) seq[(b * T + tOut) * u + j] = !live && cs.zeroMasked ? 0 : h[j];
    }
    hOut.set(h, b * u);
    cOut.set(c, b * u);
  }
  return { seq, h: hOut, c: cOut };
}
