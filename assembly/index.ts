// The exported functions: pointers (byte offsets into this module's memory) and scalars only;
// no v128 crosses the boundary. Memory above heap_base() belongs to the JS side (allocator in
// src/wasm/kernels.ts, plans in src/model/executor.ts): it places weights, activations and
// states. Codes, flags, pointer tags and block layouts are in abi.ts; scripts/abi.mjs turns
// these signatures and their comments into the runtime's KernelExports (src/wasm/abi.ts).
// set_scalar_mode(1) routes every function to its scalar twin (tests run both).

import { PTR_F16, PTR_INT8 } from "./abi";
import { matmul, matmulScratchBytes } from "./matmul";
import { rnnScratchBytes as rnnScratch, rnnSequence as rnnRun } from "./rnn/driver";
export { rnnDescribe } from "./rnn/driver";
import { activateBuffer, activateBufferScalar } from "./math";
import { i8_gather_rows, i8_gather_rows_scalar } from "./int8";
import {
  f32_softmax, f32_softmax_scalar, f32_global_pool, f32_global_pool_scalar, f32_scale_shift, f32_scale_shift_scalar,
  f32_binary, f32_binary_scalar, f32_gather_rows,
} from "./layers";
import { f16_gather_rows, widenHalves as widenSimd, widenHalvesScalar } from "./data";
import { f32_stft_magnitude } from "./spectral";
import {
  f32_binary_strided, f32_binary_strided_scalar, f32_copy_strided, f32_fill, f32_matmul, f32_matmul_scalar, f32_reduce,
  f32_reduce_scalar, f32_softmax_axis, f32_softmax_axis_scalar, f32_unary, f32_unary_scalar,
} from "./tensor";
import { f32_attention, f32_attention_scalar } from "./attention";
export { attentionDescribe } from "./attention";

export { copyRows, maskFromIds, maskRows, andMask, lengthsToMask, repeatRows, firstNonFinite, firstIdOutOfRange, poolStream, crc32, crc_buffer } from "./data";
export {
  f32_pool1d as pool1d, f32_im2col_1d as im2col1d, f32_layer_norm as layerNorm,
  f32_scale as scale, f32_relu_general as reluGeneral,
} from "./layers";

let scalarMode = false;

/** 1 routes every function to its scalar twin (tests), 0 back to the SIMD kernels. */
export function set_scalar_mode(on: i32): void {
  scalarMode = on != 0;
}

/** Where the memory the runtime manages starts (below it: the kernels' static data). */
export function heap_base(): usize {
  return __heap_base;
}

/** 1 when this build uses relaxed-SIMD fused multiply-add. */
export function relaxed_build(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * out[m, :N] = x[m, :K] · W + bias for m < M; x rows xStride floats apart, out rows outStride.
 * w: panels (PTR_INT8: int8 panels, and q is scratch of gemmScratchBytes(M, K, w) bytes);
 * bias: N rounded up to 8 floats, or 0.
 */
export function gemm(M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32, q: usize): void {
  matmul(scalarMode, M, N, K, x, xStride, w, bias, out, outStride, q);
}

/** Bytes of gemm's scratch q for M rows of K inputs and the weight w (0 unless w is int8). */
export function gemmScratchBytes(M: f64, K: i32, w: usize): f64 {
  return matmulScratchBytes(M, K, w);
}

/**
 * T steps of the recurrent layer described at desc (abi.ts, RNN_DESC_*) for B rows. x: [B][T][K]
 * floats; h, c (c: LSTM only): state rows [B][U8] floats (U8 = units rounded up to
 * PANEL_WIDTH), updated in place; mask: u8 [B][T] or 0; out: the sequence output [B][T][u]
 * or 0; scratch: rnnScratchBytes(desc, B, T) bytes.
 */
export function rnnSequence(desc: usize, B: i32, T: i32, x: usize, h: usize, c: usize, mask: usize, out: usize, scratch: usize): void {
  rnnRun(scalarMode, desc, B, T, x, h, c, mask, out, scratch);
}

/** Bytes of scratch rnnSequence needs for B rows of T steps of the layer at desc. */
export function rnnScratchBytes(desc: usize, B: i32, T: i32): f64 {
  return rnnScratch(scalarMode, desc, B, T);
}

/** Activation `code` (ACT_*, below ACT_COUNT) in place over n floats. */
export function activate(code: i32, ptr: usize, n: i32): void {
  if (scalarMode) activateBufferScalar(code, ptr, n);
  else activateBuffer(code, ptr, n);
}

/** Softmax of each of `rows` rows of n floats, in place: exp(x − max) / Σ. */
export function softmax(rows: i32, n: i32, x: usize): void {
  if (scalarMode) f32_softmax_scalar(rows, n, x);
  else f32_softmax(rows, n, x);
}

/**
 * x [B][T][F] -> out [B][F]: mean (POOL_AVG) or max (POOL_MAX) over the steps the mask (u8
 * [B][T], or 0) keeps; a row whose steps are all masked gives 0.
 */
export function globalPool(B: i32, T: i32, F: i32, x: usize, mask: usize, out: usize, mode: i32): void {
  if (scalarMode) f32_global_pool_scalar(B, T, F, x, mask, out, mode);
  else f32_global_pool(B, T, F, x, mask, out, mode);
}

/** out[r, i] = x[r, i] · scale[i] + shift[i] for rows of F floats (in place allowed). */
export function scaleShift(rows: i32, F: i32, x: usize, scale: usize, shift: usize, out: usize): void {
  if (scalarMode) f32_scale_shift_scalar(rows, F, x, scale, shift, out);
  else f32_scale_shift(rows, F, x, scale, shift, out);
}

/** out = a op b over n floats (op: BIN_*; out may alias a or b). */
export function binary(op: i32, n: i32, a: usize, b: usize, out: usize): void {
  if (scalarMode) f32_binary_scalar(op, n, a, b, out);
  else f32_binary(op, n, a, b, out);
}

/**
 * Embedding rows: out[i] = table[ids[i]] (dim floats each; ids checked by the caller). A table
 * tagged PTR_INT8 holds `rows` int8 rows and a scale per row after them, PTR_F16 halves.
 */
export function gatherRows(n: i32, ids: usize, table: usize, dim: i32, out: usize, rows: i32): void {
  if (table & PTR_INT8) {
    if (scalarMode) i8_gather_rows_scalar(n, ids, table & ~PTR_INT8, dim, rows, out);
    else i8_gather_rows(n, ids, table & ~PTR_INT8, dim, rows, out);
  } else if (table & PTR_F16) f16_gather_rows(scalarMode, n, ids, table & ~PTR_F16, dim, out);
  else f32_gather_rows(n, ids, table, dim, out);
}

/** IEEE binary16 -> float32 for n values (src may be the upper half of dst: in place). */
export function widenHalves(n: i32, src: usize, dst: usize): void {
  if (scalarMode) widenHalvesScalar(n, src, dst);
  else widenSimd(n, src, dst);
}

// ---------------------------------------------------------------- general tensor graphs (tensor.ts)

/**
 * dst[Σ c·dstStrides] = src[Σ c·srcStrides] for every index c of dims (rank i32 each at dims,
 * srcStrides, dstStrides; strides in elements, negative or 0 allowed): transpose, slice,
 * concat, pad, broadcast.
 */
export function copyStrided(rank: i32, dims: usize, srcStrides: usize, src: usize, dstStrides: usize, dst: usize): void {
  f32_copy_strided(rank, dims, srcStrides, src, dstStrides, dst);
}

/** out[0 .. n) = value. */
export function fill(n: i32, value: f32, out: usize): void {
  f32_fill(n, value, out);
}

/**
 * out (contiguous, dims) = a op b (op: TB_*), each operand read through its strides (0 along an
 * axis it is broadcast on); dims and strides as for copyStrided.
 */
export function binaryStrided(op: i32, rank: i32, dims: usize, aStrides: usize, a: usize, bStrides: usize, b: usize, out: usize): void {
  if (scalarMode) f32_binary_strided_scalar(op, rank, dims, aStrides, a, bStrides, b, out);
  else f32_binary_strided(op, rank, dims, aStrides, a, bStrides, b, out);
}

/** out = fn(x) (fn: TU_*, with parameters alpha and beta) over n floats; out may be x. */
export function unary(fn: i32, n: i32, x: usize, out: usize, alpha: f32, beta: f32): void {
  if (scalarMode) f32_unary_scalar(fn, n, x, out, alpha, beta);
  else f32_unary(fn, n, x, out, alpha, beta);
}

/** out[o][i] = fn (TR_*) over j of x[o][j][i], for x [outer][n][inner]. */
export function reduce(fn: i32, outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  if (scalarMode) f32_reduce_scalar(fn, outer, n, inner, x, out);
  else f32_reduce(fn, outer, n, inner, x, out);
}

/** Softmax (log != 0: log-softmax) over the middle axis of x [outer][n][inner], in place. */
export function softmaxAxis(outer: i32, n: i32, inner: i32, x: usize, log: i32): void {
  if (scalarMode) f32_softmax_axis_scalar(outer, n, inner, x, log);
  else f32_softmax_axis(outer, n, inner, x, log);
}

/** out[b] = a[b] · c[b] for b < batch: a [M][K], c [K][N], out [M][N], all contiguous (runtime operands). */
export function batchedMatmul(batch: i32, M: i32, N: i32, K: i32, a: usize, c: usize, out: usize): void {
  if (scalarMode) f32_matmul_scalar(batch, M, N, K, a, c, out);
  else f32_matmul(batch, M, N, K, a, c, out);
}

/**
 * Short-time Fourier magnitudes by a real FFT per frame: out [B][frames][bins] =
 * |DFT_N(window · x[f·hop − padLeft ..])| for x [B][Tin] (outside: 0), in float64; window N floats;
 * tw N/2 entries (cos hi, cos lo, −sin hi, −sin lo)(2πj/N) as float32 pairs; work 8·N + 16
 * bytes; N a power of 2 (spectral.ts).
 */
export function stftMagnitude(
  B: i32, Tin: i32, x: usize, frames: i32, N: i32, hop: i32, padLeft: i32, window: usize, tw: usize, bins: i32, out: usize, work: usize,
): void {
  f32_stft_magnitude(B, Tin, x, frames, N, hop, padLeft, window, tw, bins, out, work);
}

// ---------------------------------------------------------------- attention (attention.ts)

/**
 * Attention for every batch row, head and query of the layer described at desc (abi.ts,
 * ATTN_*) over `keys` keys, the first `past` of them before the first query (a session's
 * cache; else 0). q, k, v, out: float rows at the description's strides; qMask, kMask: u8
 * masks or 0; factors: additive per-feature factors (heads·key dim floats) or 0; weights:
 * [B][heads][queries][keys] floats with ATTN_KEEP_WEIGHTS, else scratch of `keys` floats.
 */
export function attention(desc: usize, keys: i32, past: i32, q: usize, k: usize, v: usize, qMask: usize, kMask: usize,
  factors: usize, out: usize, weights: usize): void {
  if (scalarMode) f32_attention_scalar(desc, keys, past, q, k, v, qMask, kMask, factors, out, weights);
  else f32_attention(desc, keys, past, q, k, v, qMask, kMask, factors, out, weights);
}
