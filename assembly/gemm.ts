// Packed-panel matrix products (f32).
//
// Layout contract ("panels", docs/kernels.md): a row-major [K, N] weight matrix is stored
// as ceil(N/8) panels, each [K][8] floats (columns 8p..8p+7, zero past N), panels back to
// back; its bias is padded to ceil(N/8)*8 floats. A panel pass streams K*32 bytes in order.
// x rows are read with a stride (floats), so callers can feed strided views (conv1d).
// Output rows are written with a stride; a partial last panel writes only N - 8p columns.

import { fmadd, fmaddScalar } from "./simd";

/** Staging for a partial last panel (storePanel). */
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
 * out[0..16) = (acc ? acc[0..16) : 0) + Σ_k x[k] · (w0[k][0..8) ‖ w1[k][0..8)): two panels
 * ([k][8], 32 bytes per k), k ascending (the scalar twins' order): the two-panel remainder of
 * a run of panel passes (f32_dot_panels), which mostly runs three panels per pass.
 * Two panels per pass: with two k per iteration that is 8 weight loads, 4 accumulators and 2
 * splats, which fit x64's 16 vector registers. TurboFan issues a loop's loads ahead of its
 * arithmetic, so four panels (16 loads + 8 accumulators) spilled to the stack every iteration;
 * constant load offsets, because a runtime row stride was measurably slower (docs/kernels.md).
 */
export function f32_dot_2panels(acc: usize, w0: usize, w1: usize, x: usize, K: i32, out: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  if (acc != 0) {
    a0 = v128.load(acc); a1 = v128.load(acc, 16);
    a2 = v128.load(acc, 32); a3 = v128.load(acc, 48);
  }
  let wa = w0;
  let wb = w1;
  let xr = x;
  const xEnd2 = x + (<usize>(K & ~1) << 2);
  while (xr < xEnd2) {
    const xk = v128.load32_splat(xr);
    a0 = fmadd(xk, v128.load(wa), a0); a1 = fmadd(xk, v128.load(wa, 16), a1);
    a2 = fmadd(xk, v128.load(wb), a2); a3 = fmadd(xk, v128.load(wb, 16), a3);
    const xk2 = v128.load32_splat(xr, 4);
    a0 = fmadd(xk2, v128.load(wa, 32), a0); a1 = fmadd(xk2, v128.load(wa, 48), a1);
    a2 = fmadd(xk2, v128.load(wb, 32), a2); a3 = fmadd(xk2, v128.load(wb, 48), a3);
    xr += 8;
    wa += 64;
    wb += 64;
  }
  if (K & 1) {
    const xk = v128.load32_splat(xr);
    a0 = fmadd(xk, v128.load(wa), a0); a1 = fmadd(xk, v128.load(wa, 16), a1);
    a2 = fmadd(xk, v128.load(wb), a2); a3 = fmadd(xk, v128.load(wb, 16), a3);
  }
  v128.store(out, a0); v128.store(out, a1, 16); v128.store(out, a2, 32); v128.store(out, a3, 48);
}

/** f32_dot_2panels for one panel (8 columns; acc required): 2 accumulators, four k per iteration. */
export function f32_dot_panel(acc: usize, w: usize, x: usize, K: i32, out: usize): void {
  let a0 = v128.load(acc), a1 = v128.load(acc, 16);
  let wk = w;
  let xr = x;
  const xEnd = x + (<usize>K << 2);
  const xEnd4 = x + (<usize>(K & ~3) << 2);
  while (xr < xEnd4) {
    const x0 = v128.load32_splat(xr);
    a0 = fmadd(x0, v128.load(wk), a0); a1 = fmadd(x0, v128.load(wk, 16), a1);
    const x1 = v128.load32_splat(xr, 4);
    a0 = fmadd(x1, v128.load(wk, 32), a0); a1 = fmadd(x1, v128.load(wk, 48), a1);
    const x2 = v128.load32_splat(xr, 8);
    a0 = fmadd(x2, v128.load(wk, 64), a0); a1 = fmadd(x2, v128.load(wk, 80), a1);
    const x3 = v128.load32_splat(xr, 12);
    a0 = fmadd(x3, v128.load(wk, 96), a0); a1 = fmadd(x3, v128.load(wk, 112), a1);
    xr += 16;
    wk += 128;
  }
  while (xr < xEnd) {
    const xk = v128.load32_splat(xr);
    a0 = fmadd(xk, v128.load(wk), a0); a1 = fmadd(xk, v128.load(wk, 16), a1);
    xr += 4;
    wk += 32;
  }
  v128.store(out, a0); v128.store(out, a1, 16);
}

/**
 * f32_dot_2panels for three panels (24 columns), one k per iteration: 6 accumulators, 6 weight
 * loads, 1 splat (13 vector registers). Six independent sums instead of four: a fused
 * multiply-add has a longer latency than an add, so with four chains the relaxed build's FMA
 * units waited and its two-panel passes ran slower than the baseline build's; the baseline
 * build gains too (measured: docs/kernels.md). acc may be 0.
 */
export function f32_dot_3panels(acc: usize, w0: usize, w1: usize, w2: usize, x: usize, K: i32, out: usize): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  if (acc != 0) {
    a0 = v128.load(acc); a1 = v128.load(acc, 16); a2 = v128.load(acc, 32);
    a3 = v128.load(acc, 48); a4 = v128.load(acc, 64); a5 = v128.load(acc, 80);
  }
  let wa = w0;
  let wb = w1;
  let wc = w2;
  let xr = x;
  const xEnd = x + (<usize>K << 2);
  while (xr < xEnd) {
    const xk = v128.load32_splat(xr);
    a0 = fmadd(xk, v128.load(wa), a0); a1 = fmadd(xk, v128.load(wa, 16), a1);
    a2 = fmadd(xk, v128.load(wb), a2); a3 = fmadd(xk, v128.load(wb, 16), a3);
    a4 = fmadd(xk, v128.load(wc), a4); a5 = fmadd(xk, v128.load(wc, 16), a5);
    xr += 4;
    wa += 32;
    wb += 32;
    wc += 32;
  }
  v128.store(out, a0); v128.store(out, a1, 16); v128.store(out, a2, 32);
  v128.store(out, a3, 48); v128.store(out, a4, 64); v128.store(out, a5, 80);
}

/**
 * out[0 .. 8·panels) = (acc ? acc[..] : 0) + x · (panels consecutive panels, panelBytes apart):
 * a run of three-panel passes, then two or one, each column summed k ascending as in every
 * other f32 product, so the pass shape never changes a result. acc and out are [panel][8]
 * rows and may be the same buffer. Every per-row recurrence and the GEMM's leftover rows run
 * on it (a row's gates are consecutive panels: weights in [tile][gate] order).
 */
export function f32_dot_panels(acc: usize, w: usize, panelBytes: usize, x: usize, K: i32, out: usize, panels: i32): void {
  let p = 0;
  for (; p + 3 <= panels; p += 3) {
    const wp = w + <usize>p * panelBytes;
    f32_dot_3panels(acc != 0 ? acc + (<usize>p << 5) : 0, wp, wp + panelBytes, wp + 2 * panelBytes, x, K, out + (<usize>p << 5));
  }
  if (p + 2 <= panels) {
    const wp = w + <usize>p * panelBytes;
    f32_dot_2panels(acc != 0 ? acc + (<usize>p << 5) : 0, wp, wp + panelBytes, x, K, out + (<usize>p << 5));
    p += 2;
  }
  if (p < panels) {
    const o = out + (<usize>p << 5);
    if (acc != 0) f32_dot_panel(acc + (<usize>p << 5), w + <usize>p * panelBytes, x, K, o);
    else {
      v128.store(o, f32x4.splat(0));
      v128.store(o, f32x4.splat(0), 16);
      f32_dot_panel(o, w + <usize>p * panelBytes, x, K, o);
    }
  }
}

/**
 * out[m, 0..N) = x[m, 0..K) · W + bias, for m < M.
 * Register blocking: 4 rows x 8 columns (8 accumulators) for row blocks; 3 or 2 rows left
 * over as one block (f32_gemm_rows), a single row left as panel passes (f32_dot_panels), its
 * partial last panel 1 x 8.
 */
export function f32_gemm(
  M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32,
): void {
  const panels = (N + 7) >> 3;
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  const panelBytes = <usize>K << 5;
  const fullRows = M & ~3;
  // 4 x 8 blocks, and 3 or 2 rows left as a block of their own in the same panel-by-panel
  // pass (a weight matrix larger than the cache streams once, not once more per leftover row)
  if (M - fullRows != 1) {
    f32_gemm_tiles(M, panels, K, x, xStride, w, bias, out, outStride, N);
    return;
  }
  f32_gemm_tiles(fullRows, panels, K, x, xStride, w, bias, out, outStride, N);
  // one row left: panel passes (f32_dot_panels), a partial last panel 1 x 8
  const fullPanels = N >> 3;
  for (let m = fullRows; m < M; m++) {
    const xr0 = x + <usize>m * xs;
    const orow = out + <usize>m * os;
    f32_dot_panels(bias, w, panelBytes, xr0, K, orow, fullPanels);
    if (fullPanels < panels) {
      const base = <usize>fullPanels << 5;
      f32_gemm_tiles(1, 1, K, xr0, xStride, w + <usize>fullPanels * panelBytes,
        bias != 0 ? bias + base : 0, orow + base, outStride, N - (fullPanels << 3));
    }
  }
}

/** Scalar twin of f32_gemm: same packed layout, one multiply-add at a time, k ascending. */
export function f32_gemm_scalar(
  M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32,
): void {
  f32_gemm_tiles_scalar(M, (N + 7) >> 3, K, x, xStride, w, bias, out, outStride, N);
}

/**
 * out[m][8p .. 8p+7] = (bias ? bias[8p..] : 0) + Σ_k x[m][k] · W(p)[k], for P panels, K terms,
 * M rows (x row stride xStride floats, out row stride outStride floats); only the first N
 * columns are written (a partial last panel). Panels are back to back, K * 32 bytes each
 * (recurrent kernels too: panels in [tile][gate] order). 4 rows x 8 columns per block (8
 * accumulators, 2 weight loads and 4 splats per k); 3 or 2 rows left over as one block, a
 * single row 1 x 8. Its own function (not inside f32_gemm) so the batched recurrences call it
 * per step.
 */
export function f32_gemm_tiles(
  M: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize,
  bias: usize, out: usize, outStride: i32, N: i32,
): void {
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  const full = M & ~3;
  const left = M - full;
  // 2 or 3 rows, alone or left over, are f32_gemm_rows' (after this loop, which they skip
  // when there is no 4-row block)
  const panels = full != 0 || left == 1 ? P : 0;
  for (let p = 0; p < panels; p++) {
    const wp = w + <usize>p * (<usize>K << 5);
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
        wk += 32;
      }
      const o = out + <usize>m * os + col;
      storePanel(o, a00, a01, nValid);
      storePanel(o + os, a10, a11, nValid);
      storePanel(o + os * 2, a20, a21, nValid);
      storePanel(o + os * 3, a30, a31, nValid);
    }
    if (left == 1) {
      let a0 = b0, a1 = b1;
      let xr = x + <usize>m * xs;
      let wk = wp;
      for (let k = 0; k < K; k++) {
        const xk = v128.load32_splat(xr);
        a0 = fmadd(xk, v128.load(wk), a0);
        a1 = fmadd(xk, v128.load(wk, 16), a1);
        xr += 4;
        wk += 32;
      }
      storePanel(out + <usize>m * os + col, a0, a1, nValid);
    }
  }
  if (left >= 2) f32_gemm_rows(left, P, K, x + <usize>full * xs, xStride, w, bias, out + <usize>full * os, outStride, N);
}

/**
 * f32_gemm_tiles for M = 2 or 3 rows: one block of M rows x 8 columns per panel (6 or 4
 * accumulators), so the rows share each pass over the weights: a short sequence's projection
 * (3 timesteps, a batch of 2) streams a weight matrix larger than the cache once, not once per
 * row. Its own function: folded into f32_gemm_tiles it made that function's optimised compile
 * on a cold start several times longer (V8 compiles a hot function in the background; the
 * GEMM ran as baseline code until then; docs/kernels.md).
 */
export function f32_gemm_rows(
  M: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize,
  bias: usize, out: usize, outStride: i32, N: i32,
): void {
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  for (let p = 0; p < P; p++) {
    const wp = w + <usize>p * (<usize>K << 5);
    const col = <usize>p << 5;
    const nValid = min(8, N - (p << 3));
    let b0 = f32x4.splat(0), b1 = b0;
    if (bias != 0) {
      b0 = v128.load(bias + col);
      b1 = v128.load(bias + col, 16);
    }
    const o = out + col;
    let r0 = x;
    let r1 = r0 + xs;
    const rEnd = r0 + (<usize>K << 2);
    let wk = wp;
    if (M == 3) {
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
      let r2 = r1 + xs;
      while (r0 < rEnd) {
        const w0 = v128.load(wk), w1 = v128.load(wk, 16);
        const x0 = v128.load32_splat(r0), x1 = v128.load32_splat(r1), x2 = v128.load32_splat(r2);
        a00 = fmadd(x0, w0, a00); a01 = fmadd(x0, w1, a01);
        a10 = fmadd(x1, w0, a10); a11 = fmadd(x1, w1, a11);
        a20 = fmadd(x2, w0, a20); a21 = fmadd(x2, w1, a21);
        r0 += 4; r1 += 4; r2 += 4;
        wk += 32;
      }
      storePanel(o, a00, a01, nValid);
      storePanel(o + os, a10, a11, nValid);
      storePanel(o + os * 2, a20, a21, nValid);
    } else {
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1;
      while (r0 < rEnd) {
        const w0 = v128.load(wk), w1 = v128.load(wk, 16);
        const x0 = v128.load32_splat(r0), x1 = v128.load32_splat(r1);
        a00 = fmadd(x0, w0, a00); a01 = fmadd(x0, w1, a01);
        a10 = fmadd(x1, w0, a10); a11 = fmadd(x1, w1, a11);
        r0 += 4; r1 += 4;
        wk += 32;
      }
      storePanel(o, a00, a01, nValid);
      storePanel(o + os, a10, a11, nValid);
    }
  }
}

/** Scalar twin of f32_gemm_tiles (same order: bias, then k ascending). */
export function f32_gemm_tiles_scalar(
  M: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize,
  bias: usize, out: usize, outStride: i32, N: i32,
): void {
  for (let m = 0; m < M; m++) {
    for (let p = 0; p < P; p++) {
      const wp = w + <usize>p * (<usize>K << 5);
      for (let l = 0; l < min(8, N - (p << 3)); l++) {
        const col = (<usize>p << 5) + (<usize>l << 2);
        let acc: f32 = bias != 0 ? load<f32>(bias + col) : 0;
        let wk = wp + (<usize>l << 2);
        let xr = x + ((<usize>m * <usize>xStride) << 2);
        for (let k = 0; k < K; k++) {
          acc = fmaddScalar(load<f32>(xr), load<f32>(wk), acc);
          xr += 4;
          wk += 32;
        }
        store<f32>(out + ((<usize>m * <usize>outStride) << 2) + col, acc);
      }
    }
  }
}
