// int8 weight kernels (docs/kernels.md, "int8 weights").
//
// Weights are symmetric int8 with one f32 scale per output column (per row of an embedding
// table), quantised at export. Activations are quantised on the fly per row to int16 with one
// f32 scale per row (xs = max|x| / Q), and products run through i32x4.dot_i16x8_s:
//
//   out[m][c] = f32(Σ_k xq[m][k] · wq[k][c]) · (ws[c] · xs[m]) + bias[c]
//
// The integer sum is exact: Q is chosen per K so that K2 · Q · 127 < 2^31 (qLimit), so no
// partial sum can overflow. The SIMD kernels and their scalar twins therefore agree bit for bit
// in every build (the f32 epilogue is a plain mul and add, never fused).
//
// Packed layout (the f32 layouts with k taken in pairs): a panel of 8 columns stores, for each
// k-pair j < K2/2, 16 bytes [c0 k0, c0 k1, c1 k0, c1 k1, ..., c7 k0, c7 k1] (k0 = 2j, k1 = 2j+1;
// zero past K). Widening the low / high 8 bytes gives two i16x8 vectors (columns 0-3, 4-7) whose
// dot product with the splatted pair (x_k0, x_k1) is four partial sums each. Panels are back to
// back, K2 * 8 bytes each (recurrent kernels too: their panels are in [tile][gate] order, bundle
// format 2). The f32 scales follow the int8 data in kernel memory, in panel order (p * 8 + lane).

import { storePanel } from "./gemm";
import { hmax } from "./simd";

/** Largest int16 magnitude for activations of K2 terms such that K2 · Q · 127 < 2^31. */
// @ts-ignore: decorator
@inline export function qLimit(K2: i32): i32 {
  return min(32767, 2147483647 / (127 * K2));
}

/** K rounded up to a whole k-pair. */
// @ts-ignore: decorator
@inline export function evenK(K: i32): i32 {
  return (K + 1) & ~1;
}

/**
 * Quantises M rows of K floats (row stride xStride floats) to int16: q row m (stride qStride
 * bytes, K2 values, a zero after an odd K) = nearest(x · Q / max|x_m|); xs[m] = max|x_m| / Q
 * (0 for an all-zero row). Q = qLimit(K2).
 */
export function i8_quantize_rows(M: i32, K: i32, x: usize, xStride: i32, q: usize, qStride: usize, xs: usize): void {
  const Q = <f32>qLimit(evenK(K));
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * <usize>xStride) << 2);
    const qr = q + <usize>m * qStride;
    let k = 0;
    let mv = f32x4.splat(0);
    for (; k + 4 <= K; k += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(xr + (<usize>k << 2))));
    let mx = hmax(mv);
    for (; k < K; k++) mx = max(mx, abs(load<f32>(xr + (<usize>k << 2))));
    const inv: f32 = mx > 0 ? Q / mx : 0;
    store<f32>(xs + (<usize>m << 2), mx / Q);
    k = 0;
    const iv = f32x4.splat(inv);
    for (; k + 8 <= K; k += 8) {
      const p = xr + (<usize>k << 2);
      const v0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p), iv)));
      const v1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p, 16), iv)));
      v128.store(qr + (<usize>k << 1), i16x8.narrow_i32x4_s(v0, v1));
    }
    for (; k < K; k++) store<i16>(qr + (<usize>k << 1), <i16><i32>nearest(load<f32>(xr + (<usize>k << 2)) * inv));
    if (K & 1) store<i16>(qr + (<usize>K << 1), 0);
  }
}

/** Scalar twin of i8_quantize_rows (max and rounding are exact: the same bits). */
export function i8_quantize_rows_scalar(M: i32, K: i32, x: usize, xStride: i32, q: usize, qStride: usize, xs: usize): void {
  const Q = <f32>qLimit(evenK(K));
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * <usize>xStride) << 2);
    const qr = q + <usize>m * qStride;
    let mx: f32 = 0;
    for (let k = 0; k < K; k++) mx = max(mx, abs(load<f32>(xr + (<usize>k << 2))));
    const inv: f32 = mx > 0 ? Q / mx : 0;
    store<f32>(xs + (<usize>m << 2), mx / Q);
    for (let k = 0; k < K; k++) store<i16>(qr + (<usize>k << 1), <i16><i32>nearest(load<f32>(xr + (<usize>k << 2)) * inv));
    if (K & 1) store<i16>(qr + (<usize>K << 1), 0);
  }
}

/** Dequantised panel: f32(acc) · (ws · xs) + bias, columns 0-3 or 4-7. */
// @ts-ignore: decorator
@inline function finish(acc: v128, ws: v128, xs: v128, b: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), f32x4.mul(ws, xs)), b);
}

// @ts-ignore: decorator
@inline function dot2(acc: v128, w: v128, x: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(w, x));
}

// @ts-ignore: decorator
@inline function panelAddr(w: usize, p: i32, K2: i32): usize {
  return w + <usize>p * (<usize>K2 << 3);
}

/**
 * out[m][c] for m < M and columns c < N of P panels (N <= 8P; a partial last panel writes only
 * N - 8(P-1) columns): int16 rows xq (stride xqStride bytes, K2 values) with row scales xs,
 * int8 panels at w (back to back, as above) with column scales ws, bias per column or
 * 0. Register blocking: 4 rows x 8 columns (8 i32x4 accumulators, one 16-byte weight load per
 * k-pair shared by 4 rows); leftover rows 1 x 16 (i8_gemv_2x), then 1 x 8.
 */
export function i8_gemm(
  M: i32, N: i32, P: i32, K2: i32, xq: usize, xqStride: usize, xs: usize, w: usize,
  ws: usize, bias: usize, out: usize, outStride: i32,
): void {
  const kp = K2 >> 1;
  const os = <usize>outStride << 2;
  const full = M & ~3;
  const zero = f32x4.splat(0);
  for (let p = 0; p < P; p++) {
    const wp = panelAddr(w, p, K2);
    const col = <usize>p << 5;
    const nValid = min(8, N - (p << 3));
    const s0 = v128.load(ws + col), s1 = v128.load(ws + col, 16);
    let b0 = zero, b1 = zero;
    if (bias != 0) {
      b0 = v128.load(bias + col);
      b1 = v128.load(bias + col, 16);
    }
    for (let m = 0; m < full; m += 4) {
      let a00 = i32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      // one pointer per row (f32_gemm_tiles: no address arithmetic per k for the baseline compiler)
      let r0 = xq + <usize>m * xqStride;
      let r1 = r0 + xqStride, r2 = r1 + xqStride, r3 = r2 + xqStride;
      const rEnd = r0 + (<usize>kp << 2);
      let wk = wp;
      while (r0 < rEnd) {
        const wl = v128.load8x8_s(wk), wh = v128.load8x8_s(wk, 8);
        const x0 = v128.load32_splat(r0), x1 = v128.load32_splat(r1);
        const x2 = v128.load32_splat(r2), x3 = v128.load32_splat(r3);
        a00 = dot2(a00, wl, x0); a01 = dot2(a01, wh, x0);
        a10 = dot2(a10, wl, x1); a11 = dot2(a11, wh, x1);
        a20 = dot2(a20, wl, x2); a21 = dot2(a21, wh, x2);
        a30 = dot2(a30, wl, x3); a31 = dot2(a31, wh, x3);
        r0 += 4; r1 += 4; r2 += 4; r3 += 4;
        wk += 16;
      }
      const o = out + <usize>m * os + col;
      const xm = xs + (<usize>m << 2);
      let sv = v128.load32_splat(xm);
      storePanel(o, finish(a00, s0, sv, b0), finish(a01, s1, sv, b1), nValid);
      sv = v128.load32_splat(xm + 4);
      storePanel(o + os, finish(a10, s0, sv, b0), finish(a11, s1, sv, b1), nValid);
      sv = v128.load32_splat(xm + 8);
      storePanel(o + os * 2, finish(a20, s0, sv, b0), finish(a21, s1, sv, b1), nValid);
      sv = v128.load32_splat(xm + 12);
      storePanel(o + os * 3, finish(a30, s0, sv, b0), finish(a31, s1, sv, b1), nValid);
    }
  }
  for (let m = full; m < M; m++) {
    const xr0 = xq + <usize>m * xqStride;
    const orow = out + <usize>m * os;
    const sv = v128.load32_splat(xs + (<usize>m << 2));
    let p = 0;
    for (; p + 2 <= P; p += 2) {
      i8_gemv_2x(kp, xr0, panelAddr(w, p, K2), panelAddr(w, p + 1, K2), sv, p, ws, bias, orow, N);
    }
    for (; p < P; p++) {
      let wk = panelAddr(w, p, K2);
      let a0 = i32x4.splat(0), a1 = a0;
      let xr = xr0;
      for (let j = 0; j < kp; j++) {
        const xv = v128.load32_splat(xr);
        a0 = dot2(a0, v128.load8x8_s(wk), xv);
        a1 = dot2(a1, v128.load8x8_s(wk, 8), xv);
        xr += 4;
        wk += 16;
      }
      finishRow(a0, a1, p, sv, ws, bias, orow, N);
    }
  }
}

/**
 * One int16 row times two int8 panels (p, p + 1: 16 columns), then the f32 epilogue. Two
 * panels, not four: with two k-pairs per iteration that is 8 weight loads, 4 accumulators and
 * 2 splats, which fit x64's 16 vector registers (TurboFan issues a loop's loads ahead of its
 * arithmetic; four panels spilled accumulators to the stack every iteration).
 */
function i8_gemv_2x(
  kp: i32, x: usize, w0: usize, w1: usize, sv: v128, p: i32, ws: usize, bias: usize, orow: usize, N: i32,
): void {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let xr = x;
  let j = 0;
  for (; j + 2 <= kp; j += 2) {
    const xv = v128.load32_splat(xr);
    const xu = v128.load32_splat(xr, 4);
    a0 = dot2(a0, v128.load8x8_s(w0), xv); a1 = dot2(a1, v128.load8x8_s(w0, 8), xv);
    a2 = dot2(a2, v128.load8x8_s(w1), xv); a3 = dot2(a3, v128.load8x8_s(w1, 8), xv);
    a0 = dot2(a0, v128.load8x8_s(w0, 16), xu); a1 = dot2(a1, v128.load8x8_s(w0, 24), xu);
    a2 = dot2(a2, v128.load8x8_s(w1, 16), xu); a3 = dot2(a3, v128.load8x8_s(w1, 24), xu);
    xr += 8;
    w0 += 32; w1 += 32;
  }
  if (j < kp) {
    const xv = v128.load32_splat(xr);
    a0 = dot2(a0, v128.load8x8_s(w0), xv); a1 = dot2(a1, v128.load8x8_s(w0, 8), xv);
    a2 = dot2(a2, v128.load8x8_s(w1), xv); a3 = dot2(a3, v128.load8x8_s(w1, 8), xv);
  }
  finishRow(a0, a1, p, sv, ws, bias, orow, N);
  finishRow(a2, a3, p + 1, sv, ws, bias, orow, N);
}

// @ts-ignore: decorator
@inline function finishRow(a0: v128, a1: v128, p: i32, sv: v128, ws: usize, bias: usize, orow: usize, N: i32): void {
  const col = <usize>p << 5;
  let b0 = f32x4.splat(0), b1 = b0;
  if (bias != 0) {
    b0 = v128.load(bias + col);
    b1 = v128.load(bias + col, 16);
  }
  storePanel(orow + col, finish(a0, v128.load(ws + col), sv, b0), finish(a1, v128.load(ws + col, 16), sv, b1), min(8, N - (p << 3)));
}

/** Scalar twin of i8_gemm: the same integer sums (exact), the same f32 epilogue. */
export function i8_gemm_scalar(
  M: i32, N: i32, P: i32, K2: i32, xq: usize, xqStride: usize, xs: usize, w: usize,
  ws: usize, bias: usize, out: usize, outStride: i32,
): void {
  const kp = K2 >> 1;
  for (let m = 0; m < M; m++) {
    const sx = load<f32>(xs + (<usize>m << 2));
    const orow = out + ((<usize>m * <usize>outStride) << 2);
    for (let c = 0; c < N; c++) {
      let wk = panelAddr(w, c >> 3, K2) + (<usize>(c & 7) << 1);
      let xr = xq + <usize>m * xqStride;
      let acc: i32 = 0;
      for (let j = 0; j < kp; j++) {
        acc += <i32>load<i8>(wk) * <i32>load<i16>(xr) + <i32>load<i8>(wk, 1) * <i32>load<i16>(xr, 2);
        xr += 4;
        wk += 16;
      }
      const cb = <usize>c << 2;
      const b: f32 = bias != 0 ? load<f32>(bias + cb) : 0;
      store<f32>(orow + cb, <f32>acc * (load<f32>(ws + cb) * sx) + b);
    }
  }
}

/**
 * x rows quantised into q, then the product with int8 panels: the whole int8 matrix product.
 * q: M rows of K2 int16, then M f32 row scales (M * (2 K2 + 4) bytes).
 */
export function i8_matmul(
  M: i32, N: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize,
  ws: usize, bias: usize, out: usize, outStride: i32, q: usize,
): void {
  const K2 = evenK(K);
  const qStride = <usize>K2 << 1;
  const xs = q + <usize>M * qStride;
  i8_quantize_rows(M, K, x, xStride, q, qStride, xs);
  i8_gemm(M, N, P, K2, q, qStride, xs, w, ws, bias, out, outStride);
}

/** Scalar twin of i8_matmul. */
export function i8_matmul_scalar(
  M: i32, N: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize,
  ws: usize, bias: usize, out: usize, outStride: i32, q: usize,
): void {
  const K2 = evenK(K);
  const qStride = <usize>K2 << 1;
  const xs = q + <usize>M * qStride;
  i8_quantize_rows_scalar(M, K, x, xStride, q, qStride, xs);
  i8_gemm_scalar(M, N, P, K2, q, qStride, xs, w, ws, bias, out, outStride);
}

/**
 * Dense / Conv1D / input projections over int8 panels ([K, N] as ceil(N/8) panels of K2/2
 * k-pairs, scales after the data): out[m, :N] = x[m, :K] · W + bias. q as in i8_matmul.
 */
export function i8_gemm_panels(M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32, q: usize): void {
  const P = (N + 7) >> 3;
  i8_matmul(M, N, P, K, x, xStride, w, w + <usize>P * (<usize>evenK(K) << 3), bias, out, outStride, q);
}

/** Scalar twin of i8_gemm_panels. */
export function i8_gemm_panels_scalar(M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32, q: usize): void {
  const P = (N + 7) >> 3;
  i8_matmul_scalar(M, N, P, K, x, xStride, w, w + <usize>P * (<usize>evenK(K) << 3), bias, out, outStride, q);
}

/** Where an int8 table's row scales start: after its rows of dim2 values, at a 16-byte boundary. */
// @ts-ignore: decorator
@inline function tableScales(table: usize, rows: i32, dim: i32): usize {
  return table + ((<usize>rows * <usize>evenK(dim) + 15) & ~15);
}

/**
 * Embedding gather from an int8 table [rows][dim2] (dim2 = dim rounded up to even) with one f32
 * scale per row after the table (at the next 16-byte boundary): out[i] = f32(row) · scale.
 */
export function i8_gather_rows(n: i32, ids: usize, table: usize, dim: i32, rows: i32, out: usize): void {
  const stride = <usize>evenK(dim);
  const scales = tableScales(table, rows, dim);
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    const src = table + id * stride;
    const dst = out + ((<usize>i * <usize>dim) << 2);
    const s = load<f32>(scales + (id << 2));
    let j = 0;
    const sv = f32x4.splat(s);
    for (; j + 16 <= dim; j += 16) {
      const v = v128.load(src + <usize>j);
      const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
      const d = dst + (<usize>j << 2);
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), sv));
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), sv), 16);
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), sv), 32);
      v128.store(d, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), sv), 48);
    }
    for (; j < dim; j++) store<f32>(dst + (<usize>j << 2), <f32>load<i8>(src + <usize>j) * s);
  }
}

/** Scalar twin of i8_gather_rows. */
export function i8_gather_rows_scalar(n: i32, ids: usize, table: usize, dim: i32, rows: i32, out: usize): void {
  const stride = <usize>evenK(dim);
  const scales = tableScales(table, rows, dim);
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    const src = table + id * stride;
    const dst = out + ((<usize>i * <usize>dim) << 2);
    const s = load<f32>(scales + (id << 2));
    for (let j = 0; j < dim; j++) store<f32>(dst + (<usize>j << 2), <f32>load<i8>(src + <usize>j) * s);
  }
}
