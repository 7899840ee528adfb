// The SimpleRNN cell (ONNX RNN): h' = act(clip(x·W + b + h·U)), act the description's
// candidate activation slot (abi.ts), clip only when the description has one. xp rows are [tile][8] (the panel order of W);
// recurrent weights [tile][k < units][8]. A step runs a row at a time (simpleRnnRow) or all
// rows at once (simpleRnnBatch), as for LSTM (lstm.ts).

import { f32_dot_panels, f32_gemm_tiles_scalar } from "../gemm";
import { RNN_DESC_ACT_CANDIDATE } from "../abi";
import { activateSlot, clipIf, clipOf, padUnits, recurrentProduct, recurrentProductScratch, recurrentTileBytes, rowLive } from "./common";

/** Bytes of work one row step needs: the row's pre-activations (U8 floats). */
// @ts-ignore: decorator
@inline export function simpleRnnRowWork(u: i32): f64 {
  return <f64>padUnits(u) * 4;
}

/** One row, one step: h = act(xr + h·U), through work (simpleRnnRowWork(u) bytes). */
export function simpleRnnRow(scalar: bool, u: i32, xr: usize, wRec: usize, h: usize, work: usize, desc: usize): void {
  const U8 = padUnits(u);
  if (scalar) f32_gemm_tiles_scalar(1, U8 >> 3, u, h, u, wRec, xr, work, U8, U8);
  else f32_dot_panels(xr, wRec, <usize>u << 5, h, u, work, U8 >> 3);
  clipIf(scalar, clipOf(desc), work, U8);
  activateSlot(scalar, desc, RNN_DESC_ACT_CANDIDATE, work, U8);
  memory.copy(h, work, <usize>U8 << 2);
}

/** Bytes of work one batched step needs: every row's h·U, then the int8 product's scratch. */
// @ts-ignore: decorator
@inline export function simpleRnnBatchWork(B: i32, u: i32, int8: bool): f64 {
  return <f64>B * <f64>padUnits(u) * 4 + recurrentProductScratch(int8, B, u);
}

/** Every row, one step: h·U over the B rows into work, then per live row h = act(xp + h·U). */
export function simpleRnnBatch(
  scalar: bool, int8: bool, B: i32, T: i32, tIn: i32, u: i32, xp: usize, wRec: usize, h: usize, work: usize, mask: usize, desc: usize,
): void {
  const clip = clipOf(desc);
  const U8 = padUnits(u);
  const rowBytes = <usize>U8 << 2;
  const q = work + <usize>B * rowBytes;
  recurrentProduct(scalar, int8, B, U8 >> 3, u, h, wRec, wRec + recurrentTileBytes(int8, 1, u), 0, work, U8, q);
  for (let b = 0; b < B; b++) {
    if (!rowLive(mask, T, b, tIn)) continue;
    const hb = h + <usize>b * rowBytes;
    const xr = xp + (<usize>b * <usize>T + <usize>tIn) * rowBytes;
    const rr = work + <usize>b * rowBytes;
    if (scalar) {
      for (let j: usize = 0; j < rowBytes; j += 4) store<f32>(hb + j, load<f32>(xr + j) + load<f32>(rr + j));
    } else {
      for (let j: usize = 0; j < rowBytes; j += 16) v128.store(hb + j, f32x4.add(v128.load(xr + j), v128.load(rr + j)));
    }
    clipIf(scalar, clip, hb, U8);
    activateSlot(scalar, desc, RNN_DESC_ACT_CANDIDATE, hb, U8);
  }
}
