// What every recurrence shares: the row layout (units padded to whole 8-unit tiles), masks,
// the recurrent product of the batched path, and the small vector helpers of the cells'
// steps. The driver (driver.ts) and the cells (lstm.ts, gru.ts, simple_rnn.ts) import it;
// it imports neither.

import { ACT_UNARY, SLOT_ALPHA, SLOT_BETA, SLOT_CODE, PANEL_WIDTH, PTR_INT8, RNN_DESC_CLIP } from "../abi";
import { f32_gemm_tiles, f32_gemm_tiles_scalar } from "../gemm";
import { evenK, i8_matmul, i8_matmul_scalar } from "../int8";
import { activateBuffer, activateBufferScalar } from "../math";
import { clampV } from "../simd";
import { f32_unary, f32_unary_scalar } from "../tensor";

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

/** The code of the activation slot at `slot` (abi.ts, SLOT_*) of a description. */
// @ts-ignore: decorator
@inline export function slotCode(desc: usize, slot: i32): i32 {
  return load<i32>(desc + <usize>slot, SLOT_CODE);
}

/**
 * The activation of a description's slot over n floats at p, in place (SIMD or twin): an
 * ACT_* code, or ACT_UNARY + a unary function of tensor.ts with the slot's alpha and beta.
 */
// @ts-ignore: decorator
@inline export function activateSlot(scalar: bool, desc: usize, slot: i32, p: usize, n: i32): void {
  const s = desc + <usize>slot;
  const code = load<i32>(s, SLOT_CODE);
  if (code >= ACT_UNARY) {
    if (scalar) f32_unary_scalar(code - ACT_UNARY, n, p, p, load<f32>(s, SLOT_ALPHA), load<f32>(s, SLOT_BETA));
    else f32_unary(code - ACT_UNARY, n, p, p, load<f32>(s, SLOT_ALPHA), load<f32>(s, SLOT_BETA));
  } else if (scalar) activateBufferScalar(code, p, n);
  else activateBuffer(code, p, n);
}

/** The clip threshold of a description, 0 for none. */
// @ts-ignore: decorator
@inline export function clipOf(desc: usize): f32 {
  return load<f32>(desc, RNN_DESC_CLIP);
}

/** n floats at p (n a multiple of 4) clipped to [-c, c] in place (ONNX clip: pre-activations). */
export function clipBuffer(p: usize, n: i32, c: f32): void {
  const hi = f32x4.splat(c), lo = f32x4.neg(hi);
  const end = p + (<usize>n << 2);
  for (let q = p; q < end; q += 16) v128.store(q, clampV(v128.load(q), lo, hi));
}

/** Scalar twin of clipBuffer. */
export function clipBufferScalar(p: usize, n: i32, c: f32): void {
  for (let i = 0; i < n; i++) {
    const q = p + (<usize>i << 2);
    store<f32>(q, min(max(load<f32>(q), -c), c));
  }
}

/** clipBuffer or its twin, when the description clips (c > 0). */
// @ts-ignore: decorator
@inline export function clipIf(scalar: bool, c: f32, p: usize, n: i32): void {
  if (c > 0) {
    if (scalar) clipBufferScalar(p, n, c);
    else clipBuffer(p, n, c);
  }
}
