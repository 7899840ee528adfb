// Fused SimpleRNN recurrence: h' = act(x·W + b + h·U). xp rows are [tile][8] (the panel
// order of W); recurrent weights [tile][k < units][8]. Masking and flags as in lstm.ts.

import { fmaddScalar } from "./simd";
import { f32_dot_panels } from "./gemm";
import { activateBuffer, activateBufferScalar } from "./math";
import { padUnits, RNN_ALIGN_OUTPUT, RNN_GO_BACKWARDS, RNN_ZERO_MASKED_OUTPUT, storeRowOutput } from "./lstm";
import { BATCH_MIN, rnnBatched } from "./batch";

/** State h: [B][U8]; scratch: U8 floats. */
export function f32_simple_rnn_sequence(
  B: i32, T: i32, u: i32, xp: usize, wRec: usize, h: usize, scratch: usize,
  mask: usize, out: usize, flags: i32, act: i32,
): void {
  if (B >= BATCH_MIN || (wRec & 1) != 0) {
    rnnBatched(false, (wRec & 1) != 0, B, T, u, xp, wRec & ~1, h, scratch + ((<usize>(3 * padUnits(u) + 32)) << 2), mask, out,
      (flags & RNN_GO_BACKWARDS) != 0, (flags & RNN_ALIGN_OUTPUT) != 0, (flags & RNN_ZERO_MASKED_OUTPUT) != 0, act);
    return;
  }
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const panelBytes = <usize>u << 5;
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
        const xr = xp + (bt + <usize>tIn) * rowBytes;
        f32_dot_panels(xr, wRec, panelBytes, hb, u, scratch, tiles);
        activateBuffer(act, scratch, U8);
        memory.copy(hb, scratch, rowBytes);
      }
      if (out != 0) storeRowOutput(out + (bt + <usize>tOut) * (<usize>u << 2), hb, u, live, zeroMasked);
    }
  }
}

export function f32_simple_rnn_sequence_scalar(
  B: i32, T: i32, u: i32, xp: usize, wRec: usize, h: usize, scratch: usize,
  mask: usize, out: usize, flags: i32, act: i32,
): void {
  if (B >= BATCH_MIN || (wRec & 1) != 0) {
    rnnBatched(true, (wRec & 1) != 0, B, T, u, xp, wRec & ~1, h, scratch + ((<usize>(3 * padUnits(u) + 32)) << 2), mask, out,
      (flags & RNN_GO_BACKWARDS) != 0, (flags & RNN_ALIGN_OUTPUT) != 0, (flags & RNN_ZERO_MASKED_OUTPUT) != 0, act);
    return;
  }
  const U8 = padUnits(u);
  const rowBytes = <usize>U8 << 2;
  const tileWBytes = <usize>u << 5;
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
        const xr = xp + (bt + <usize>tIn) * rowBytes;
        for (let j = 0; j < U8; j++) {
          const tile = <usize>(j >> 3);
          const lane = <usize>(j & 7) << 2;
          let a = load<f32>(xr + (tile << 5) + lane);
          let wk = wRec + tile * tileWBytes + lane;
          for (let k = 0; k < u; k++) {
            a = fmaddScalar(load<f32>(hb + (<usize>k << 2)), load<f32>(wk), a);
            wk += 32;
          }
          store<f32>(scratch + (<usize>j << 2), a);
        }
        activateBufferScalar(act, scratch, U8);
        memory.copy(hb, scratch, rowBytes);
      }
      if (out != 0) storeRowOutput(out + (bt + <usize>tOut) * (<usize>u << 2), hb, u, live, zeroMasked);
    }
  }
}
