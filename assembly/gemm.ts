// Packed-panel matrix products (f32).
//
// Layout contract ("panels", docs/kernels.md): a row-major [K, N] weight matrix is stored
// as ceil(N/8) panels, each [K][8] floats (columns 8p..8p+7, zero past N), panels back to
// back; its bias is padded to ceil(N/8)*8 floats. A panel pass streams K*32 bytes in order.
// x rows are read with a stride (floats), so callers can feed strided views (conv1d).
// Output rows are written with a stride; a partial last panel writes only N - 8p columns.

import { fmadd, fmaddScalar } from "./simd";

const partial = memory.data(32, 16);

// @ts-ignore: decorator
@inline export function storePanel(dst: usize, a0: v128, a1: v128, nValid: i32): void {
  if (nValid == 8) {
    v128.store(dst, a0);
    v128.store(dst, a1, 16);
  } else {
    v128.store(partial, a0);
    v128.store(partial, a1, 16);
    memory.copy(dst, partial, <usize>nValid << 2);
  }
}

/**
 * One row times two panels (16 columns): out[0..min(16, nValid)) = x · W + bias.
 * Two panels, not four: with two k per iteration that is 8 weight loads, 4 accumulators and
 * 2 splats, which fit x64's 16 vector registers. TurboFan issues a loop's loads before its
 * arithmetic, so four panels (16 loads + 8 accumulators) spilled to the stack every iteration.
 */
function f32_gemv_2x(K: i32, x: usize, w0: usize, panelBytes: usize, bias: usize, out: usize, nValid: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  if (bias != 0) {
    a0 = v128.load(bias); a1 = v128.load(bias, 16);
    a2 = v128.load(bias, 32); a3 = v128.load(bias, 48);
  }
  let w1 = w0 + panelBytes;
  let xr = x;
  // two k per iteration (same order per accumulator): half the pointer bumps and branches
  const xEnd2 = x + (<usize>(K & ~1) << 2);
  while (xr < xEnd2) {
    const xk = v128.load32_splat(xr);
    a0 = fmadd(xk, v128.load(w0), a0); a1 = fmadd(xk, v128.load(w0, 16), a1);
    a2 = fmadd(xk, v128.load(w1), a2); a3 = fmadd(xk, v128.load(w1, 16), a3);
    const xk2 = v128.load32_splat(xr, 4);
    a0 = fmadd(xk2, v128.load(w0, 32), a0); a1 = fmadd(xk2, v128.load(w0, 48), a1);
    a2 = fmadd(xk2, v128.load(w1, 32), a2); a3 = fmadd(xk2, v128.load(w1, 48), a3);
    xr += 8;
    w0 += 64; w1 += 64;
  }
  if (K & 1) {
    const xk = v128.load32_splat(xr);
    a0 = fmadd(xk, v128.load(w0), a0); a1 = fmadd(xk, v128.load(w0, 16), a1);
    a2 = fmadd(xk, v128.load(w1), a2); a3 = fmadd(xk, v128.load(w1, 16), a3);
  }
  storePanel(out, a0, a1, min(8, nValid));
  storePanel(out + 32, a2, a3, min(8, nValid - 8));
}

/**
 * out[m, 0..N) = x[m, 0..K) · W + bias, for m < M.
 * Register blocking: 4 rows x 8 columns (8 accumulators) for row blocks; rows left over
 * run 1 row x 32 columns (4 panels, 8 accumulators) so batch-1 calls still issue one
 * splat per 8 multiply-adds.
 */
export function f32_gemm(
  M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32,
): void {
  const panels = (N + 7) >> 3;
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  const panelBytes = <usize>K << 5;
  const fullRows = M & ~3;
  // 4 x 8 blocks: the plain panels are the tile layout with one gate per group
  f32_gemm_tiles(fullRows, panels, K, x, xStride, w, 1, panelBytes, 32, bias, out, outStride, N);
  // leftover rows: 1 x 32 (four panels per pass), then 1 x 8
  for (let m = fullRows; m < M; m++) {
    const xr0 = x + <usize>m * xs;
    const orow = out + <usize>m * os;
    let p = 0;
    for (; p + 2 <= panels; p += 2) {
      const base = <usize>p << 5;
      f32_gemv_2x(K, xr0, w + <usize>p * panelBytes, panelBytes, bias != 0 ? bias + base : 0, orow + base, N - (p << 3));
    }
    // the last 1-3 panels: the tile kernel's 1 x 8 path
    if (p < panels) {
      const base = <usize>p << 5;
      f32_gemm_tiles(1, panels - p, K, xr0, xStride, w + <usize>p * panelBytes, 1, panelBytes, 32,
        bias != 0 ? bias + base : 0, orow + base, outStride, N - (p << 3));
    }
  }
}

/** Scalar twin of f32_gemm: same packed layout, one multiply-add at a time, k ascending. */
export function f32_gemm_scalar(
  M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32,
): void {
  f32_gemm_tiles_scalar(M, (N + 7) >> 3, K, x, xStride, w, 1, <usize>K << 5, 32, bias, out, outStride, N);
}

/**
 * out[m][8p .. 8p+7] = (bias ? bias[8p..] : 0) + Σ_k x[m][k] · W(p)[k], for P panels, K terms,
 * M rows (x row stride xStride floats, out row stride outStride floats); only the first N
 * columns are written (a partial last panel). Panel p is gate p % G of group p / G, at
 * w + (p / G) * groupBytes + (p % G) * 32, consecutive k kStride bytes apart: the recurrent
 * tile layouts (G gates per 8-unit tile) and, with G = 1, groupBytes = K * 32, kStride = 32,
 * the plain panels. 4 rows x 8 columns per block (8 accumulators, 2 weight loads and 4 splats
 * per k); leftover rows 1 x 8.
 */
export function f32_gemm_tiles(
  M: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize, G: i32, groupBytes: usize, kStride: usize,
  bias: usize, out: usize, outStride: i32, N: i32,
): void {
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  const full = M & ~3;
  for (let p = 0; p < P; p++) {
    const wp = w + <usize>(p / G) * groupBytes + (<usize>(p % G) << 5);
    const col = <usize>p << 5;
    const nValid = min(8, N - (p << 3));
    let b0 = f32x4.splat(0), b1 = b0;
    if (bias != 0) {
      b0 = v128.load(bias + col);
      b1 = v128.load(bias + col, 16);
    }
    let m = 0;
    for (; m < full; m += 4) {
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      // one pointer per row: no address arithmetic per k (V8's baseline compiler, which runs
      // a cold start's first call, recomputed xr + 2 xs and xr + 3 xs every iteration)
      let r0 = x + <usize>m * xs;
      let r1 = r0 + xs, r2 = r1 + xs, r3 = r2 + xs;
      const rEnd = r0 + (<usize>K << 2);
      let wk = wp;
      while (r0 < rEnd) {
        const w0 = v128.load(wk), w1 = v128.load(wk, 16);
        const x0 = v128.load32_splat(r0), x1 = v128.load32_splat(r1);
        const x2 = v128.load32_splat(r2), x3 = v128.load32_splat(r3);
        a00 = fmadd(x0, w0, a00); a01 = fmadd(x0, w1, a01);
        a10 = fmadd(x1, w0, a10); a11 = fmadd(x1, w1, a11);
        a20 = fmadd(x2, w0, a20); a21 = fmadd(x2, w1, a21);
        a30 = fmadd(x3, w0, a30); a31 = fmadd(x3, w1, a31);
        r0 += 4; r1 += 4; r2 += 4; r3 += 4;
        wk += kStride;
      }
      const o = out + <usize>m * os + col;
      storePanel(o, a00, a01, nValid);
      storePanel(o + os, a10, a11, nValid);
      storePanel(o + os * 2, a20, a21, nValid);
      storePanel(o + os * 3, a30, a31, nValid);
    }
    for (; m < M; m++) {
      let a0 = b0, a1 = b1;
      let xr = x + <usize>m * xs;
      let wk = wp;
      for (let k = 0; k < K; k++) {
        const xk = v128.load32_splat(xr);
        a0 = fmadd(xk, v128.load(wk), a0);
        a1 = fmadd(xk, v128.load(wk, 16), a1);
        xr += 4;
        wk += kStride;
      }
      storePanel(out + <usize>m * os + col, a0, a1, nValid);
    }
  }
}

/** Scalar twin of f32_gemm_tiles (same order: bias, then k ascending). */
export function f32_gemm_tiles_scalar(
  M: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize, G: i32, groupBytes: usize, kStride: usize,
  bias: usize, out: usize, outStride: i32, N: i32,
): void {
  for (let m = 0; m < M; m++) {
    for (let p = 0; p < P; p++) {
      const wp = w + <usize>(p / G) * groupBytes + (<usize>(p % G) << 5);
      for (let l = 0; l < min(8, N - (p << 3)); l++) {
        const col = (<usize>p << 5) + (<usize>l << 2);
        let acc: f32 = bias != 0 ? load<f32>(bias + col) : 0;
        let wk = wp + (<usize>l << 2);
        let xr = x + ((<usize>m * <usize>xStride) << 2);
        for (let k = 0; k < K; k++) {
          acc = fmaddScalar(load<f32>(xr), load<f32>(wk), acc);
          xr += 4;
          wk += kStride;
        }
        store<f32>(out + ((<usize>m * <usize>outStride) << 2) + col, acc);
      }
    }
  }
}
