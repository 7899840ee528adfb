// Fused LSTM recurrence (Keras gate order i, f, c, o).
//
// The input projection x·W + b for every timestep is one f32_gemm before this loop (index.ts;
// xp rows: [tile][i,f,c,o][8 units], i.e. the panel order of the packed W). The loop then
// only adds h·U. One step of a few rows (f32_lstm_step) sums bias + x·W + h·U directly, in
// the same order, without xp. Recurrent weights are panels in [tile][gate] order,
// [tile][i,f,c,o][k][8] (docs/kernels.md), so a row's gates are one run of panel passes
// (f32_dot_panels) into a row of gates (8 KB at 512 units, in L1); then every tile's c and h
// are updated.
//
// Keras LSTM: i = ra(.), f = ra(.), g = act(.), o = ra(.); c' = f*c + i*g; h' = o*act(c').
// Masked steps (mask byte 0) keep h and c; the sequence output repeats the previous h
// (tfjs rnn(): output = mask ? h' : h_prev).

import { fmadd, fmaddScalar } from "./simd";
import { f32_dot_panels } from "./gemm";
import { activateBuffer, activateBufferScalar, ACT_HARD_SIGMOID, ACT_SIGMOID, ACT_TANH, hardSigmoidV, sigmoidV, tanhV } from "./math";
import { batchedRows, lstmBatched } from "./batch";

export const RNN_GO_BACKWARDS: i32 = 1;
export const RNN_ALIGN_OUTPUT: i32 = 2;
/** Masked steps write zeros to the sequence output instead of repeating h (Keras zero_output_for_mask). */
export const RNN_ZERO_MASKED_OUTPUT: i32 = 4;

// @ts-ignore: decorator
@inline export function padUnits(u: i32): i32 {
  return (u + 7) & ~7;
}

/** One row's output for a step: its h, or zeros for a masked step under RNN_ZERO_MASKED_OUTPUT. */
// @ts-ignore: decorator
@inline export function storeRowOutput(o: usize, hb: usize, u: i32, live: bool, zeroMasked: bool): void {
  if (!live && zeroMasked) memory.fill(o, 0, <usize>u << 2);
  else memory.copy(o, hb, <usize>u << 2);
}

/**
 * Runs T steps for B rows. State h, c: [B][U8] floats (U8 = units rounded up to 8), updated
 * in place. scratch: 3*U8 + 32 + 6*B*U8 floats, 16-byte aligned (per-row path: the first
 * 4*U8 hold a row's gates; the part after 3*U8 + 32 serves the batched path, batch.ts, taken
 * when batchedRows(B, u) or when wRec has bit 0 set: int8 tiles, int8.ts). out (optional): [B][T][u].
 * flags: RNN_GO_BACKWARDS reads timesteps T-1..0; RNN_ALIGN_OUTPUT writes each output at
 * its input time index (Bidirectional's backward half) instead of in processing order;
 * RNN_ZERO_MASKED_OUTPUT writes zeros for masked steps (Keras Bidirectional).
 */
export function f32_lstm_sequence(
  B: i32, T: i32, u: i32, xp: usize, wRec: usize, h: usize, c: usize, scratch: usize,
  mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  if (batchedRows(B, u) || (wRec & 1) != 0) {
    lstmBatched(false, (wRec & 1) != 0, B, T, u, xp, wRec & ~1, h, c, scratch + ((<usize>(3 * padUnits(u) + 32)) << 2), mask, out,
      (flags & RNN_GO_BACKWARDS) != 0, (flags & RNN_ALIGN_OUTPUT) != 0, (flags & RNN_ZERO_MASKED_OUTPUT) != 0, act, recAct);
    return;
  }
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const xpRow = <usize>(U8 << 2) << 2;
  const panelBytes = <usize>u << 5;
  const gates = scratch; // [tile][i,f,c,o][8]: 4*U8 floats
  const back = (flags & RNN_GO_BACKWARDS) != 0;
  const align = (flags & RNN_ALIGN_OUTPUT) != 0;
  const zeroMasked = (flags & RNN_ZERO_MASKED_OUTPUT) != 0;
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    const tOut = align ? tIn : s;
    for (let b = 0; b < B; b++) {
      const hb = h + <usize>b * rowBytes;
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      if (live) {
        const cb = c + <usize>b * rowBytes;
        const xr = xp + (bt + <usize>tIn) * xpRow;
        // every tile's gates first (one run of panel passes over the row, gemm.ts), then the
        // updates: they are chains of ~100 cycles per tile that overlap each other when
        // nothing else is in flight, and h can be updated in place once it is read
        f32_dot_panels(xr, wRec, panelBytes, hb, u, gates, tiles << 2);
        for (let tile = 0; tile < tiles; tile++) {
          lstmTileUpdate(gates + (<usize>tile << 7), cb + (<usize>tile << 5), hb + (<usize>tile << 5), act, recAct);
        }
      }
      if (out != 0) storeRowOutput(out + (bt + <usize>tOut) * (<usize>u << 2), hb, u, live, zeroMasked);
    }
  }
}

/**
 * One timestep (T = 1) of rows that stay off the batched path (batch.ts batchedRows), f32
 * weights, with the input projection fused in: each row's gates are bias + x·W + h·U, two runs
 * of panel passes (gemm.ts), summed
 * in the order the GEMM-then-recurrence path uses (bias, x by ascending k, then h by ascending
 * k), so the two paths, and the scalar twin, agree bit for bit. A streaming step saves the xp
 * round trip and the GEMM's dispatch (~8% of a 64→64 step). x: [B][K]; W: the input kernel's
 * panels; bias: [4·U8] or 0; other arguments as f32_lstm_sequence (out: [B][u]).
 */
export function f32_lstm_step(
  B: i32, u: i32, x: usize, K: i32, W: usize, bias: usize, wRec: usize, h: usize, c: usize,
  scratch: usize, mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const inPanel = <usize>K << 5;
  const recPanel = <usize>u << 5;
  const gates = scratch; // [tile][i,f,c,o][8]: 4*U8 floats
  for (let b = 0; b < B; b++) {
    const hb = h + <usize>b * rowBytes;
    const live = mask == 0 || load<u8>(mask + <usize>b) != 0;
    if (live) {
      const xb = x + <usize>b * (<usize>K << 2);
      f32_dot_panels(bias, W, inPanel, xb, K, gates, tiles << 2);
      f32_dot_panels(gates, wRec, recPanel, hb, u, gates, tiles << 2);
      const cb = c + <usize>b * rowBytes;
      for (let tile = 0; tile < tiles; tile++) {
        lstmTileUpdate(gates + (<usize>tile << 7), cb + (<usize>tile << 5), hb + (<usize>tile << 5), act, recAct);
      }
    }
    if (out != 0) storeRowOutput(out + <usize>b * (<usize>u << 2), hb, u, live, (flags & RNN_ZERO_MASKED_OUTPUT) != 0);
  }
}

/**
 * The gates of one 8-unit tile (pre-activations at `gates`: i, f, g, o, two vectors each) to
 * the new c (in place at ct) and h (at ht). One call per tile; the Keras and tfjs default
 * pairs (tanh with sigmoid or hard_sigmoid) run inline, anything else through activateBuffer.
 */
export function lstmTileUpdate(gates: usize, ct: usize, ht: usize, act: i32, recAct: i32): void {
  let i0: v128, i1: v128, f0: v128, f1: v128, g0: v128, g1: v128, o0: v128, o1: v128;
  if (act == ACT_TANH && recAct == ACT_SIGMOID) {
    i0 = sigmoidV(v128.load(gates)); i1 = sigmoidV(v128.load(gates, 16));
    f0 = sigmoidV(v128.load(gates, 32)); f1 = sigmoidV(v128.load(gates, 48));
    g0 = tanhV(v128.load(gates, 64)); g1 = tanhV(v128.load(gates, 80));
    o0 = sigmoidV(v128.load(gates, 96)); o1 = sigmoidV(v128.load(gates, 112));
  } else if (act == ACT_TANH && recAct == ACT_HARD_SIGMOID) {
    // tfjs' default recurrent activation
    i0 = hardSigmoidV(v128.load(gates)); i1 = hardSigmoidV(v128.load(gates, 16));
    f0 = hardSigmoidV(v128.load(gates, 32)); f1 = hardSigmoidV(v128.load(gates, 48));
    g0 = tanhV(v128.load(gates, 64)); g1 = tanhV(v128.load(gates, 80));
    o0 = hardSigmoidV(v128.load(gates, 96)); o1 = hardSigmoidV(v128.load(gates, 112));
  } else {
    activateBuffer(recAct, gates, 16); // i, f
    activateBuffer(act, gates + 64, 8); // g
    activateBuffer(recAct, gates + 96, 8); // o
    i0 = v128.load(gates); i1 = v128.load(gates, 16); f0 = v128.load(gates, 32); f1 = v128.load(gates, 48);
    g0 = v128.load(gates, 64); g1 = v128.load(gates, 80); o0 = v128.load(gates, 96); o1 = v128.load(gates, 112);
  }
  const c0 = fmadd(f0, v128.load(ct), f32x4.mul(i0, g0));
  const c1 = fmadd(f1, v128.load(ct, 16), f32x4.mul(i1, g1));
  v128.store(ct, c0);
  v128.store(ct, c1, 16);
  if (act == ACT_TANH) {
    v128.store(ht, f32x4.mul(o0, tanhV(c0)));
    v128.store(ht, f32x4.mul(o1, tanhV(c1)), 16);
  } else {
    v128.store(ht, c0);
    v128.store(ht, c1, 16);
    activateBuffer(act, ht, 8);
    v128.store(ht, f32x4.mul(o0, v128.load(ht)));
    v128.store(ht, f32x4.mul(o1, v128.load(ht, 16)), 16);
  }
}

/** Scalar twin of f32_lstm_sequence: same layouts and summation order, one lane at a time. */
export function f32_lstm_sequence_scalar(
  B: i32, T: i32, u: i32, xp: usize, wRec: usize, h: usize, c: usize, scratch: usize,
  mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  if (batchedRows(B, u) || (wRec & 1) != 0) {
    lstmBatched(true, (wRec & 1) != 0, B, T, u, xp, wRec & ~1, h, c, scratch + ((<usize>(3 * padUnits(u) + 32)) << 2), mask, out,
      (flags & RNN_GO_BACKWARDS) != 0, (flags & RNN_ALIGN_OUTPUT) != 0, (flags & RNN_ZERO_MASKED_OUTPUT) != 0, act, recAct);
    return;
  }
  const U8 = padUnits(u);
  const rowBytes = <usize>U8 << 2;
  const xpRow = <usize>(U8 << 2) << 2;
  const tileWBytes = <usize>u << 7;
  const panelBytes = <usize>u << 5;
  const hTmp = scratch;
  const gates = scratch + rowBytes;
  const back = (flags & RNN_GO_BACKWARDS) != 0;
  const align = (flags & RNN_ALIGN_OUTPUT) != 0;
  const zeroMasked = (flags & RNN_ZERO_MASKED_OUTPUT) != 0;
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    const tOut = align ? tIn : s;
    for (let b = 0; b < B; b++) {
      const hb = h + <usize>b * rowBytes;
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      if (live) {
        const cb = c + <usize>b * rowBytes;
        const xr = xp + (bt + <usize>tIn) * xpRow;
        for (let j = 0; j < U8; j++) {
          const tile = j >> 3;
          const lane = <usize>(j & 7) << 2;
          for (let g = 0; g < 4; g++) {
            const col = (<usize>tile << 7) + (<usize>g << 5) + lane;
            let acc = load<f32>(xr + col);
            let wk = wRec + <usize>tile * tileWBytes + <usize>g * panelBytes + lane;
            for (let k = 0; k < u; k++) {
              acc = fmaddScalar(load<f32>(hb + (<usize>k << 2)), load<f32>(wk), acc);
              wk += 32;
            }
            store<f32>(gates + (<usize>g << 2), acc);
          }
          activateBufferScalar(recAct, gates, 2);
          activateBufferScalar(act, gates + 8, 1);
          activateBufferScalar(recAct, gates + 12, 1);
          const cj = cb + (<usize>j << 2);
          const cNew = fmaddScalar(load<f32>(gates, 4), load<f32>(cj), load<f32>(gates) * load<f32>(gates, 8));
          store<f32>(cj, cNew);
          store<f32>(gates, cNew, 16);
          activateBufferScalar(act, gates + 16, 1);
          store<f32>(hTmp + (<usize>j << 2), load<f32>(gates, 12) * load<f32>(gates, 16));
        }
        memory.copy(hb, hTmp, rowBytes);
      }
      if (out != 0) storeRowOutput(out + (bt + <usize>tOut) * (<usize>u << 2), hb, u, live, zeroMasked);
    }
  }
}
