// What every recurrence shares: the row layout (units padded to whole 8-unit tiles), masks,
// the recurrent product of the batched path, and the small vector helpers of the cells'
// steps. The driver (driver.ts) and the cells (lstm.ts, gru.ts, simple_rnn.ts) import it;
// it imports neither.

import { PANEL_WIDTH, PTR_INT8 } from "../abi";
import { f32_gemm_tiles, f32_gemm_tiles_scalar } from "../gemm";
import { evenK, i8_matmul, i8_matmul_scalar } from "../int8";

/** Units rounded up to whole tiles: the length of a state row, in floats. */
// @ts-ignore: decorator
@inline export function padUnits(u: i32): i32 {
  return (u + PANEL_WIDTH - 1) & ~(PANEL_WIDTH - 1);
}

/** Whether row b is live at time index t (mask: u8 [B][T], or 0 for no mask). */
// @ts-ignore: decorator
@inline export function rowLive(mask: usize, T: i32, b: i32, t: i32): bool {
  return mask == 0 || load<u8>(mask + <usize>b * <usize>T + <usize>t) != 0;
}

/**
 * Bytes of a recurrent kernel's G gates of panels (f32: u terms of 4 bytes per column; int8:
 * evenK(u) bytes per column). An int8 kernel's column scales follow them.
 */
// @ts-ignore: decorator
@inline export function recurrentTileBytes(int8: bool, G: i32, u: i32): usize {
  return <usize>G * <usize>padUnits(u) * <usize>(int8 ? evenK(u) : u << 2);
}

/**
 * One step's h·U over B rows of h (U8 floats apart) into out (rows outStride floats apart):
 * P panels of u terms from w, plus bias per column (or 0). int8 (wRec had PTR_INT8): the
 * column scales are at ws, h is quantised per row into q (B rows of evenK(u) int16 and B f32
 * scales).
 */
export function recurrentProduct(
  scalar: bool, int8: bool, B: i32, P: i32, u: i32, h: usize, w: usize, ws: usize, bias: usize, out: usize, outStride: i32, q: usize,
): void {
  const U8 = padUnits(u);
  if (int8) {
    if (scalar) i8_matmul_scalar(B, P << 3, P, u, h, U8, w, ws, bias, out, outStride, q);
    else i8_matmul(B, P << 3, P, u, h, U8, w, ws, bias, out, outStride, q);
  } else if (scalar) f32_gemm_tiles_scalar(B, P, u, h, U8, w, bias, out, outStride, P << 3);
  else f32_gemm_tiles(B, P, u, h, U8, w, bias, out, outStride, P << 3);
}

/** Bytes of recurrentProduct's q for B rows (int8 weights only); sizes are f64: no overflow. */
// @ts-ignore: decorator
@inline export function recurrentProductScratch(int8: bool, B: i32, u: i32): f64 {
  return int8 ? <f64>B * (2 * <f64>evenK(u) + 4) : 0;
}

/** The weight address of a pointer that may carry PTR_INT8. */
// @ts-ignore: decorator
@inline export function untagged(w: usize): usize {
  return w & ~(<usize>PTR_INT8);
}

/**
 * dst = a + dst over `tiles` tiles of n floats (n a multiple of 4), dst tiles dstStride bytes
 * apart, a tiles aStride bytes apart: adds a step's input projection (xp, [tile][gate][8]) to
 * the gates the recurrent product wrote.
 */
export function addTiles(dst: usize, dstStride: usize, a: usize, aStride: usize, tiles: i32, n: i32): void {
  const bytes = <usize>n << 2;
  for (let t = 0; t < tiles; t++) {
    const d = dst + <usize>t * dstStride;
    const s = a + <usize>t * aStride;
    for (let j: usize = 0; j < bytes; j += 16) v128.store(d + j, f32x4.add(v128.load(s + j), v128.load(d + j)));
  }
}

/** Scalar twin of addTiles. */
export function addTilesScalar(dst: usize, dstStride: usize, a: usize, aStride: usize, tiles: i32, n: i32): void {
  const bytes = <usize>n << 2;
  for (let t = 0; t < tiles; t++) {
    const d = dst + <usize>t * dstStride;
    const s = a + <usize>t * aStride;
    for (let j: usize = 0; j < bytes; j += 4) store<f32>(d + j, load<f32>(s + j) + load<f32>(d + j));
  }
}

/** The sequence output of one row at one step: its h, or zeros for a masked step under RNN_ZERO_MASKED_OUTPUT. */
// @ts-ignore: decorator
@inline export function storeRowOutput(o: usize, hb: usize, u: i32, live: bool, zeroMasked: bool): void {
  if (!live && zeroMasked) memory.fill(o, 0, <usize>u << 2);
  else memory.copy(o, hb, <usize>u << 2);
}
