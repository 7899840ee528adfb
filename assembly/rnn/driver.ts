// The recurrence of every cell (tract's CommonRec: the cells only supply their step): reads a
// layer's description block (abi.ts, RNN_DESC_*), chooses the path once, projects the input of
// every timestep into xp by one matrix product, then runs the time loop — direction, masks,
// the sequence output — calling the cell's step for each timestep: a row at a time, or all
// rows at once (the batched path).
//
// Paths:
// - rows: each live row's gates are its xp row + h·U, one run of panel passes over U per row.
// - batched: with several rows each step's h·U is one register-blocked product over all rows
//   (each weight read once per 4 rows instead of once per row), then each cell's update per
//   row. Taken for B >= BATCH_MIN, and for 2-3 rows of a wide LSTM or GRU (batchedRows), and
//   at every B for int8 recurrent weights (docs/kernels.md says why and what was measured).
// - fused step: one LSTM step of rows off the batched path with f32 weights skips xp, each
//   row's gates being bias + x·W + h·U (lstmFusedRow), bit-identical to the rows path.
//
// Masked steps (mask byte 0) keep h and c; the sequence output repeats the previous h (tfjs
// rnn(): output = mask ? h' : h_prev), or zeros under RNN_ZERO_MASKED_OUTPUT.

import {
  ACT_COUNT, ACT_UNARY, TU_COUNT, SLOT_ALPHA, SLOT_BETA, SLOT_CODE, CELL_GRU, CELL_LSTM, CELL_SIMPLE_RNN, PTR_INT8, RNN_ALIGN_OUTPUT, RNN_DESC_ACT_CANDIDATE,
  RNN_DESC_ACT_CELL, RNN_DESC_ACT_GATE, RNN_DESC_BIAS, RNN_DESC_CELL, RNN_DESC_CLIP, RNN_DESC_FLAGS, RNN_DESC_INPUTS, RNN_DESC_KERNEL,
  RNN_DESC_PEEPHOLES, RNN_DESC_RECURRENT_BIAS, RNN_DESC_RECURRENT_KERNEL, RNN_DESC_UNITS, RNN_GO_BACKWARDS, RNN_RESET_AFTER,
  RNN_ZERO_MASKED_OUTPUT, RNN_INPUT_FORGET,
} from "../abi";
import { matmul, matmulScratchBytes } from "../matmul";
import { padUnits, rowLive, storeRowOutput, untagged } from "./common";
import { lstmBatch, lstmBatchWork, lstmFusedRow, lstmRow, lstmRowWork } from "./lstm";
import { gruBatch, gruBatchWork, gruRow, gruRowWork } from "./gru";
import { simpleRnnBatch, simpleRnnBatchWork, simpleRnnRow, simpleRnnRowWork } from "./simple_rnn";

const PATH_ROWS = 0;
const PATH_BATCHED = 1;
const PATH_FUSED_STEP = 2;

/** From this many rows on, every cell takes the batched path. */
const BATCH_MIN: i32 = 4;

/**
 * Whether 2-3 rows of an LSTM or GRU take the batched path: with enough units they gain from
 * sharing each pass over the weights, below that the rows path was as fast or faster; SimpleRNN,
 * one panel per tile, did not gain (measured: docs/kernels.md).
 */
// @ts-ignore: decorator
@inline function batchedRows(B: i32, u: i32): bool {
  return B >= 2 && B * u >= 384;
}

/** Gates per cell: LSTM 4, GRU 3, SimpleRNN 1 (a cell's code, abi.ts). */
// @ts-ignore: decorator
@inline function gatesOf(cell: i32): i32 {
  return cell;
}

/** The one place a recurrence's path is chosen. */
function recurrencePath(scalar: bool, cell: i32, B: i32, T: i32, u: i32, W: usize, wRec: usize): i32 {
  if (wRec & PTR_INT8 || B >= BATCH_MIN || (cell != CELL_SIMPLE_RNN && batchedRows(B, u))) return PATH_BATCHED;
  // the fused step has no twin of its own: the rows path is its twin (bit-identical)
  if (cell == CELL_LSTM && T == 1 && !scalar && (W & PTR_INT8) == 0) return PATH_FUSED_STEP;
  return PATH_ROWS;
}

// @ts-ignore: decorator
@inline function align16(n: usize): usize {
  return (n + 15) & ~15;
}

// @ts-ignore: decorator
@inline function align16f(n: f64): f64 {
  return Math.ceil(n / 16) * 16;
}

/**
 * Bytes of the scratch rnnSequence needs for B rows of T steps of the layer at `desc`, in the
 * order it uses them: xp (B·T·G·U8 floats; none on the fused step), the quantised x rows of an
 * int8 input kernel, then the cell's work for its path. In f64 (sizes never wrap).
 */
export function rnnScratchBytes(scalar: bool, desc: usize, B: i32, T: i32): f64 {
  const cell = load<i32>(desc, RNN_DESC_CELL);
  const u = load<i32>(desc, RNN_DESC_UNITS);
  const W = load<usize>(desc, RNN_DESC_KERNEL);
  const wRec = load<usize>(desc, RNN_DESC_RECURRENT_KERNEL);
  const path = recurrencePath(scalar, cell, B, T, u, W, wRec);
  const int8 = (wRec & PTR_INT8) != 0;
  let bytes: f64 = 0;
  if (path != PATH_FUSED_STEP) {
    bytes = <f64>B * <f64>T * <f64>(gatesOf(cell) * padUnits(u)) * 4;
    bytes += align16f(matmulScratchBytes(<f64>B * <f64>T, load<i32>(desc, RNN_DESC_INPUTS), W));
  }
  if (path == PATH_BATCHED) {
    bytes += cell == CELL_LSTM ? lstmBatchWork(B, u, int8) : cell == CELL_GRU ? gruBatchWork(B, u, int8) : simpleRnnBatchWork(B, u, int8);
  } else {
    bytes += cell == CELL_LSTM ? lstmRowWork(u) : cell == CELL_GRU ? gruRowWork(u) : simpleRnnRowWork(u);
  }
  return align16f(bytes);
}

/** Stores an activation slot (abi.ts, SLOT_*) at desc + slot. */
// @ts-ignore: decorator
@inline function storeSlot(desc: usize, slot: i32, code: i32, alpha: f32, beta: f32): void {
  const s = desc + <usize>slot;
  store<i32>(s, code, SLOT_CODE);
  store<f32>(s, alpha, SLOT_ALPHA);
  store<f32>(s, beta, SLOT_BETA);
}

/** An absent clip, alpha or beta (NaN: what JS passes for a missing argument) is 0. */
// @ts-ignore: decorator
@inline function param(v: f32): f32 {
  return isNaN(v) ? 0 : v;
}

/**
 * Whether an activation slot's values are ones the kernels run: an elementwise ACT_* code or
 * ACT_UNARY + a unary function (abi.ts), finite alpha and beta.
 */
// @ts-ignore: decorator
@inline function validSlot(code: i32, alpha: f32, beta: f32): bool {
  return ((code >= 0 && code < ACT_COUNT) || (code >= ACT_UNARY && code < ACT_UNARY + TU_COUNT)) && isFinite(param(alpha)) && isFinite(param(beta));
}

/**
 * Writes the description of a recurrent layer (abi.ts, RNN_DESC_*) into the RNN_DESC_BYTES at
 * desc: its cell (CELL_*), units, input features, the flags' booleans (RNN_GO_BACKWARDS ...
 * RNN_INPUT_FORGET, in that order), weight pointers (0 = none; PTR_INT8 allowed on the kernels), LSTM peepholes (3·U8 floats
 * [tile][i,f,o][8], or 0), the clip (0 or NaN = none), the codes of the three activation slots (the
 * gates', the candidate's and LSTM's cell output's), then their alphas and betas (slot by
 * slot, alpha first; absent ones, NaN, are 0: JS may pass fewer). Returns 0, or, for
 * values the kernels do not run (an unknown cell or activation code, a non-finite alpha or
 * beta, a negative or non-finite clip), the position of the first such parameter (desc = 1),
 * leaving the block unusable: the runtime refuses the model.
 */
export function rnnDescribe(
  desc: usize, cell: i32, units: i32, inputs: i32, goBackwards: bool, alignOutput: bool, zeroMaskedOutput: bool, resetAfter: bool,
  inputForget: bool, kernel: usize, bias: usize, recurrentKernel: usize, recurrentBias: usize, peepholes: usize, clip: f32,
  gateAct: i32, candidateAct: i32, cellAct: i32, gateAlpha: f32, gateBeta: f32, candidateAlpha: f32, candidateBeta: f32, cellAlpha: f32, cellBeta: f32,
): i32 {
  if (cell != CELL_LSTM && cell != CELL_GRU && cell != CELL_SIMPLE_RNN) return 2;
  if (!(param(clip) >= 0 && param(clip) < Infinity)) return 15;
  if (!validSlot(gateAct, gateAlpha, gateBeta)) return 16;
  if (!validSlot(candidateAct, candidateAlpha, candidateBeta)) return 17;
  if (!validSlot(cellAct, cellAlpha, cellBeta)) return 18;
  store<i32>(desc, cell, RNN_DESC_CELL);
  store<i32>(desc, units, RNN_DESC_UNITS);
  store<i32>(desc, inputs, RNN_DESC_INPUTS);
  store<i32>(desc, (goBackwards ? RNN_GO_BACKWARDS : 0) | (alignOutput ? RNN_ALIGN_OUTPUT : 0) | (zeroMaskedOutput ? RNN_ZERO_MASKED_OUTPUT : 0) |
    (resetAfter ? RNN_RESET_AFTER : 0) | (inputForget ? RNN_INPUT_FORGET : 0), RNN_DESC_FLAGS);
  store<usize>(desc, kernel, RNN_DESC_KERNEL);
  store<usize>(desc, bias, RNN_DESC_BIAS);
  store<usize>(desc, recurrentKernel, RNN_DESC_RECURRENT_KERNEL);
  store<usize>(desc, recurrentBias, RNN_DESC_RECURRENT_BIAS);
  store<usize>(desc, peepholes, RNN_DESC_PEEPHOLES);
  store<f32>(desc, param(clip), RNN_DESC_CLIP);
  storeSlot(desc, RNN_DESC_ACT_GATE, gateAct, param(gateAlpha), param(gateBeta));
  storeSlot(desc, RNN_DESC_ACT_CANDIDATE, candidateAct, param(candidateAlpha), param(candidateBeta));
  storeSlot(desc, RNN_DESC_ACT_CELL, cellAct, param(cellAlpha), param(cellBeta));
  return 0;
}

/**
 * T steps for B rows of the layer at `desc` (abi.ts). x: [B][T][K] floats (rows contiguous);
 * state h, c (c for LSTM only): [B][U8] floats (U8 = units rounded up to a whole tile),
 * updated in place; mask: u8 [B][T] or 0; out: the sequence output [B][T][u], or 0; scratch:
 * rnnScratchBytes(desc, B, T) bytes, 16-byte aligned.
 */
export function rnnSequence(scalar: bool, desc: usize, B: i32, T: i32, x: usize, h: usize, c: usize, mask: usize, out: usize, scratch: usize): void {
  const cell = load<i32>(desc, RNN_DESC_CELL);
  const u = load<i32>(desc, RNN_DESC_UNITS);
  const K = load<i32>(desc, RNN_DESC_INPUTS);
  const flags = load<i32>(desc, RNN_DESC_FLAGS);
  const W = load<usize>(desc, RNN_DESC_KERNEL);
  const bias = load<usize>(desc, RNN_DESC_BIAS);
  const wRecTagged = load<usize>(desc, RNN_DESC_RECURRENT_KERNEL);
  const bRec = load<usize>(desc, RNN_DESC_RECURRENT_BIAS);
  const int8 = (wRecTagged & PTR_INT8) != 0;
  const wRec = untagged(wRecTagged);
  const resetAfter = (flags & RNN_RESET_AFTER) != 0;
  const back = (flags & RNN_GO_BACKWARDS) != 0;
  const align = (flags & RNN_ALIGN_OUTPUT) != 0;
  const zeroMasked = (flags & RNN_ZERO_MASKED_OUTPUT) != 0;
  const path = recurrencePath(scalar, cell, B, T, u, W, wRecTagged);
  const U8 = padUnits(u);
  const rowBytes = <usize>U8 << 2;
  const xpRow = <usize>gatesOf(cell) * rowBytes;
  let xp: usize = 0;
  let work = scratch;
  if (path != PATH_FUSED_STEP) {
    // the input projection of every timestep: xp [B·T][tile][gate][8] = x · W + bias
    xp = scratch;
    const q = xp + <usize>(B * T) * xpRow;
    const n = gatesOf(cell) * U8;
    matmul(scalar, B * T, n, K, x, K, W, bias, xp, n, q);
    work = q + align16(<usize>matmulScratchBytes(<f64>(B * T), K, W));
  }
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    if (path == PATH_BATCHED) {
      if (cell == CELL_LSTM) lstmBatch(scalar, int8, B, T, tIn, u, xp, wRec, h, c, work, mask, desc);
      else if (cell == CELL_GRU) gruBatch(scalar, int8, resetAfter, B, T, tIn, u, xp, wRec, bRec, h, work, mask, desc);
      else simpleRnnBatch(scalar, int8, B, T, tIn, u, xp, wRec, h, work, mask, desc);
    } else {
      for (let b = 0; b < B; b++) {
        if (!rowLive(mask, T, b, tIn)) continue;
        const hb = h + <usize>b * rowBytes;
        const xr = xp + (<usize>b * <usize>T + <usize>tIn) * xpRow;
        if (path == PATH_FUSED_STEP) {
          lstmFusedRow(u, x + <usize>b * (<usize>K << 2), K, W, bias, wRec, hb, c + <usize>b * rowBytes, work, desc);
        } else if (cell == CELL_LSTM) lstmRow(scalar, u, xr, wRec, hb, c + <usize>b * rowBytes, work, desc);
        else if (cell == CELL_GRU) gruRow(scalar, resetAfter, u, xr, wRec, bRec, hb, work, desc);
        else simpleRnnRow(scalar, u, xr, wRec, hb, work, desc);
      }
    }
    if (out != 0) {
      const tOut = align ? tIn : s;
      for (let b = 0; b < B; b++) {
        const o = out + (<usize>b * <usize>T + <usize>tOut) * (<usize>u << 2);
        storeRowOutput(o, h + <usize>b * rowBytes, u, rowLive(mask, T, b, tIn), zeroMasked);
      }
    }
  }
}
