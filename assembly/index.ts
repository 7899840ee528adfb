// The exported ABI: pointers (byte offsets into this module's memory) and scalars only; no
// v128 crosses the boundary. Memory above heap_base() belongs to the JS side (allocator in
// src/wasm/kernels.ts, plans in src/model/executor.ts): it places weights, activations and states.
// set_scalar_mode(1) routes every entry to its scalar twin (tests run both).
// A weight pointer with bit 0 set marks int8 weights (int8.ts; their f32 scales follow the
// data): gemm, gatherRows and the sequence kernels then take their int8 paths. An embedding
// table pointer with bit 1 set marks an f16 table (halves, widened per gathered row).

import { f32_gemm as gemmSimd, f32_gemm_scalar } from "./gemm";
import { f32_lstm_sequence as lstmSimd, f32_lstm_sequence_scalar, f32_lstm_step, padUnits } from "./lstm";
import { batchedRows } from "./batch";
import { f32_gru_sequence as gruSimd, f32_gru_sequence_scalar } from "./gru";
import { f32_simple_rnn_sequence as rnnSimd, f32_simple_rnn_sequence_scalar } from "./simple_rnn";
import { activateBuffer, activateBufferScalar } from "./math";
import { i8_gather_rows, i8_gemm_panels } from "./int8";
import {
  f32_softmax as softmaxSimd, f32_softmax_scalar,
  f32_global_pool as globalPoolSimd, f32_global_pool_scalar,
  f32_scale_shift as scaleShiftSimd, f32_scale_shift_scalar,
  f32_binary as binarySimd, f32_binary_scalar,
} from "./layers";

export { copyRows, maskFromIds, maskRows, andMask, repeatRows, firstNonFinite, firstIdOutOfRange, poolStream, crc32, crc_buffer } from "./data";
import { f16_gather_rows, widenHalves as widenSimd, widenHalvesScalar } from "./data";

export {
  f32_pool1d as pool1d, f32_im2col_1d as im2col1d, f32_layer_norm as layerNorm,
  f32_scale as scale, f32_relu_general as reluGeneral,
} from "./layers";
import { f32_gather_rows } from "./layers";

let scalarMode = false;

export function set_scalar_mode(on: i32): void {
  scalarMode = on != 0;
}

export function widenHalves(n: i32, src: usize, dst: usize): void {
  if (scalarMode) widenHalvesScalar(n, src, dst);
  else widenSimd(n, src, dst);
}

export function heap_base(): usize {
  return __heap_base;
}

/** 1 when this build uses relaxed-SIMD fused multiply-add. */
export function relaxed_build(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * q: scratch for int8 weights (w bit 0 set), M * (2 * K2 + 4) bytes with K2 = K rounded up to
 * even (the x rows quantised to int16 and their scales); unused for f32 weights.
 */
export function gemm(M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32, q: usize): void {
  if (w & 1) i8_gemm_panels(scalarMode, M, N, K, x, xStride, w & ~1, bias, out, outStride, q);
  else if (scalarMode) f32_gemm_scalar(M, N, K, x, xStride, w, bias, out, outStride);
  else gemmSimd(M, N, K, x, xStride, w, bias, out, outStride);
}

/**
 * The recurrences take their input too: x [B·T][K] (rows contiguous) times W (panels; bit 0
 * set: int8, q then its scratch as for gemm) plus bias goes into xp ([B·T][G·U8]) by one GEMM,
 * then the recurrence reads xp. A one-step LSTM on the per-row path skips xp (f32_lstm_step).
 */
// @ts-ignore: decorator
@inline function project(B: i32, T: i32, G: i32, u: i32, x: usize, K: i32, W: usize, bias: usize, q: usize, xp: usize): void {
  const n = G * padUnits(u);
  gemm(B * T, n, K, x, K, W, bias, xp, n, q);
}

export function lstmSequence(
  B: i32, T: i32, u: i32, x: usize, K: i32, W: usize, bias: usize, q: usize, xp: usize,
  wRec: usize, h: usize, c: usize, scratch: usize, mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  if (!scalarMode && T == 1 && !batchedRows(B, u) && ((W | wRec) & 1) == 0) {
    f32_lstm_step(B, u, x, K, W, bias, wRec, h, c, scratch, mask, out, flags, act, recAct);
    return;
  }
  project(B, T, 4, u, x, K, W, bias, q, xp);
  if (scalarMode) f32_lstm_sequence_scalar(B, T, u, xp, wRec, h, c, scratch, mask, out, flags, act, recAct);
  else lstmSimd(B, T, u, xp, wRec, h, c, scratch, mask, out, flags, act, recAct);
}

export function gruSequence(
  B: i32, T: i32, u: i32, x: usize, K: i32, W: usize, bias: usize, q: usize, xp: usize,
  wRec: usize, bRec: usize, resetAfter: i32, h: usize, scratch: usize, mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  project(B, T, 3, u, x, K, W, bias, q, xp);
  if (scalarMode) f32_gru_sequence_scalar(B, T, u, xp, wRec, bRec, resetAfter, h, scratch, mask, out, flags, act, recAct);
  else gruSimd(B, T, u, xp, wRec, bRec, resetAfter, h, scratch, mask, out, flags, act, recAct);
}

export function simpleRnnSequence(
  B: i32, T: i32, u: i32, x: usize, K: i32, W: usize, bias: usize, q: usize, xp: usize,
  wRec: usize, h: usize, scratch: usize, mask: usize, out: usize, flags: i32, act: i32,
): void {
  project(B, T, 1, u, x, K, W, bias, q, xp);
  if (scalarMode) f32_simple_rnn_sequence_scalar(B, T, u, xp, wRec, h, scratch, mask, out, flags, act);
  else rnnSimd(B, T, u, xp, wRec, h, scratch, mask, out, flags, act);
}

export function activate(code: i32, ptr: usize, n: i32): void {
  if (scalarMode) activateBufferScalar(code, ptr, n);
  else activateBuffer(code, ptr, n);
}

export function softmax(rows: i32, n: i32, x: usize): void {
  if (scalarMode) f32_softmax_scalar(rows, n, x);
  else softmaxSimd(rows, n, x);
}

export function globalPool(B: i32, T: i32, F: i32, x: usize, mask: usize, out: usize, mode: i32): void {
  if (scalarMode) f32_global_pool_scalar(B, T, F, x, mask, out, mode);
  else globalPoolSimd(B, T, F, x, mask, out, mode);
}

export function scaleShift(rows: i32, F: i32, x: usize, scale: usize, shift: usize, out: usize): void {
  if (scalarMode) f32_scale_shift_scalar(rows, F, x, scale, shift, out);
  else scaleShiftSimd(rows, F, x, scale, shift, out);
}

export function binary(op: i32, n: i32, a: usize, b: usize, out: usize): void {
  if (scalarMode) f32_binary_scalar(op, n, a, b, out);
  else binarySimd(op, n, a, b, out);
}

/**
 * Embedding rows; an int8 table (bit 0 set) holds `rows` rows and a scale per row after them,
 * an f16 table (bit 1 set) holds halves.
 */
export function gatherRows(n: i32, ids: usize, table: usize, dim: i32, out: usize, rows: i32): void {
  if (table & 1) i8_gather_rows(scalarMode, n, ids, table & ~1, dim, rows, out);
  else if (table & 2) f16_gather_rows(scalarMode, n, ids, table & ~2, dim, out);
  else f32_gather_rows(n, ids, table, dim, out);
}

// ---------------------------------------------------------------- general tensor graphs (tensor.ts)

export { f32_copy_strided as copyStrided, f32_fill as fill } from "./tensor";
import {
  f32_binary_strided, f32_binary_strided_scalar, f32_unary, f32_unary_scalar, f32_reduce, f32_reduce_scalar,
  f32_softmax_axis, f32_softmax_axis_scalar, f32_matmul, f32_matmul_scalar,
} from "./tensor";

export function binaryStrided(op: i32, rank: i32, shape: usize, aStrides: usize, a: usize, bStrides: usize, b: usize, out: usize): void {
  if (scalarMode) f32_binary_strided_scalar(op, rank, shape, aStrides, a, bStrides, b, out);
  else f32_binary_strided(op, rank, shape, aStrides, a, bStrides, b, out);
}

export function unary(fn: i32, n: i32, x: usize, out: usize, alpha: f32, beta: f32): void {
  if (scalarMode) f32_unary_scalar(fn, n, x, out, alpha, beta);
  else f32_unary(fn, n, x, out, alpha, beta);
}

export function reduce(fn: i32, outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  if (scalarMode) f32_reduce_scalar(fn, outer, n, inner, x, out);
  else f32_reduce(fn, outer, n, inner, x, out);
}

export function softmaxAxis(outer: i32, n: i32, inner: i32, x: usize, log: i32): void {
  if (scalarMode) f32_softmax_axis_scalar(outer, n, inner, x, log);
  else f32_softmax_axis(outer, n, inner, x, log);
}

export function matmul(batch: i32, M: i32, N: i32, K: i32, a: usize, c: usize, out: usize): void {
  if (scalarMode) f32_matmul_scalar(batch, M, N, K, a, c, out);
  else f32_matmul(batch, M, N, K, a, c, out);
}
