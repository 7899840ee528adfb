// Batched recurrences: with several batch rows, each step's h·U is one register-blocked GEMM
// over all rows (each weight read once per 4 rows instead of once per row), followed by an
// elementwise epilogue per cell type. Used by the LSTM and GRU kernels when batchedRows(B, u)
// holds, by SimpleRNN when B >= BATCH_MIN, and by every int8 recurrence.
//
// Recurrent weights are panels in [tile][gate] order (docs/kernels.md), so the GEMM writes
// rec[b][tile][gate][8], the order of the xp rows.

import { fmadd, fmaddScalar } from "./simd";
import { f32_gemm_tiles, f32_gemm_tiles_scalar } from "./gemm";
import { activateBuffer, activateBufferScalar } from "./math";
import { evenK, i8_matmul } from "./int8";
import { lstmTileUpdate } from "./lstm";

export const BATCH_MIN: i32 = 4;

/**
 * Whether an LSTM or GRU of B rows and u units takes the batched path. With enough units, 2 or
 * 3 rows already gain from sharing each pass over the weights (f32_gemm_rows). Session steps,
 * batched against per-row: 3 rows of LSTM 300->128 0.88x, GRU 256 2 rows 0.88x and 3 rows
 * 0.94x (fresh processes alternated), LSTM 512 0.70-0.84x; at 64 units, and for 2 rows at 128,
 * the per-row path was as fast or faster (2-row sequences of 64 units 1.09x when batched).
 * Hence B·u >= 384 (docs/kernels.md).
 */
// @ts-ignore: decorator
@inline export function batchedRows(B: i32, u: i32): bool {
  return B >= BATCH_MIN || (B >= 2 && B * u >= 384);
}

/** The GEMM, dispatched to the SIMD kernel or its twin. */
// @ts-ignore: decorator
@inline export function gemmTiles(
  scalar: bool, M: i32, P: i32, K: i32, x: usize, xStride: i32, w: usize,
  bias: usize, out: usize, outStride: i32,
): void {
  if (scalar) f32_gemm_tiles_scalar(M, P, K, x, xStride, w, bias, out, outStride, P << 3);
  else f32_gemm_tiles(M, P, K, x, xStride, w, bias, out, outStride, P << 3);
}

/**
 * One step's h·U over B rows: P panels of K = u terms, f32, or int8 (i8 = true: column scales
 * at ws; h is quantised per row into q, which needs B * (2 K2 + 4) bytes).
 */
// @ts-ignore: decorator
@inline function recGemm(
  scalar: bool, i8: bool, B: i32, P: i32, u: i32, h: usize, U8: i32, w: usize, ws: usize, bias: usize, out: usize, outStride: i32, q: usize,
): void {
  if (i8) i8_matmul(scalar, B, P << 3, P, u, h, U8, w, ws, bias, out, outStride, q);
  else gemmTiles(scalar, B, P, u, h, U8, w, bias, out, outStride);
}

/** Activation over a buffer, dispatched to the SIMD kernel or its twin. */
// @ts-ignore: decorator
@inline export function actBuf(scalar: bool, code: i32, p: usize, n: i32): void {
  if (scalar) activateBufferScalar(code, p, n);
  else activateBuffer(code, p, n);
}

// ---------------------------------------------------------------- epilogues
// Each combines the step's input projection row (xp) with the recurrent GEMM row (rec) for one
// batch row and updates its state in place; the scalar branch is the twin (same operations,
// same order; the relaxed build fuses the SIMD fmadds).

/** LSTM: pre = xp + rec; i, f, o = ra(.), g = act(.); c = f*c + i*g; h = o*act(c). */
export function lstmEpilogue(scalar: bool, u: i32, xr: usize, rr: usize, cb: usize, hb: usize, act: i32, recAct: i32): void {
  const tiles = (u + 7) >> 3;
  for (let tile = 0; tile < tiles; tile++) {
    const g = rr + (<usize>tile << 7);
    const x = xr + (<usize>tile << 7);
    const ct = cb + (<usize>tile << 5);
    const ht = hb + (<usize>tile << 5);
    if (scalar) {
      for (let j = 0; j < 32; j++) store<f32>(g + (<usize>j << 2), load<f32>(x + (<usize>j << 2)) + load<f32>(g + (<usize>j << 2)));
    } else {
      for (let j: usize = 0; j < 128; j += 16) v128.store(g + j, f32x4.add(v128.load(x + j), v128.load(g + j)));
      lstmTileUpdate(g, ct, ht, act, recAct); // the per-row kernel's tile update (default activations inline)
      continue;
    }
    actBuf(scalar, recAct, g, 16); // i, f
    actBuf(scalar, act, g + 64, 8); // g
    actBuf(scalar, recAct, g + 96, 8); // o
    if (scalar) {
      for (let l = 0; l < 8; l++) {
        const o = <usize>l << 2;
        const cn = fmaddScalar(load<f32>(g + 32 + o), load<f32>(ct + o), load<f32>(g + o) * load<f32>(g + 64 + o));
        store<f32>(ct + o, cn);
        store<f32>(ht + o, cn);
      }
    } else {
      for (let o: usize = 0; o < 32; o += 16) {
        const cn = fmadd(v128.load(g + 32 + o), v128.load(ct + o), f32x4.mul(v128.load(g + o), v128.load(g + 64 + o)));
        v128.store(ct + o, cn);
        v128.store(ht + o, cn);
      }
    }
    actBuf(scalar, act, ht, 8);
    if (scalar) {
      for (let l = 0; l < 8; l++) store<f32>(ht + (<usize>l << 2), load<f32>(g + 96 + (<usize>l << 2)) * load<f32>(ht + (<usize>l << 2)));
    } else {
      v128.store(ht, f32x4.mul(v128.load(g, 96), v128.load(ht)));
      v128.store(ht, f32x4.mul(v128.load(g, 112), v128.load(ht, 16)), 16);
    }
  }
}

/** z*h + (1-z)*hh written as hh + z*(h - hh), one tile (8 units) from z, hh at zp, hhp into ht. */
// @ts-ignore: decorator
@inline function blendTile(scalar: bool, zp: usize, hhp: usize, ht: usize): void {
  if (scalar) {
    for (let l = 0; l < 8; l++) {
      const o = <usize>l << 2;
      const hh = load<f32>(hhp + o);
      store<f32>(ht + o, fmaddScalar(load<f32>(zp + o), load<f32>(ht + o) - hh, hh));
    }
  } else {
    for (let o: usize = 0; o < 32; o += 16) {
      const hh = v128.load(hhp + o);
      v128.store(ht + o, fmadd(v128.load(zp + o), f32x4.sub(v128.load(ht + o), hh), hh));
    }
  }
}

/**
 * GRU reset_after=true: rec already holds h·U + b_rec. z, r = ra(x + rec); hh = act(x_h + r*rec_h);
 * h = blend(z, h, hh).
 */
export function gruEpilogueResetAfter(scalar: bool, u: i32, xr: usize, rr: usize, hb: usize, act: i32, recAct: i32): void {
  const tiles = (u + 7) >> 3;
  for (let tile = 0; tile < tiles; tile++) {
    const g = rr + <usize>tile * 96;
    const x = xr + <usize>tile * 96;
    if (scalar) {
      for (let j = 0; j < 16; j++) store<f32>(g + (<usize>j << 2), load<f32>(x + (<usize>j << 2)) + load<f32>(g + (<usize>j << 2)));
    } else {
      for (let j: usize = 0; j < 64; j += 16) v128.store(g + j, f32x4.add(v128.load(x + j), v128.load(g + j)));
    }
    actBuf(scalar, recAct, g, 16); // z, r
    if (scalar) {
      for (let l = 0; l < 8; l++) {
        const o = <usize>l << 2;
        store<f32>(g + 64 + o, fmaddScalar(load<f32>(g + 32 + o), load<f32>(g + 64 + o), load<f32>(x + 64 + o)));
      }
    } else {
      for (let o: usize = 0; o < 32; o += 16) v128.store(g + 64 + o, fmadd(v128.load(g + 32 + o), v128.load(g + 64 + o), v128.load(x + 64 + o)));
    }
    actBuf(scalar, act, g + 64, 8);
    blendTile(scalar, g, g + 64, hb + (<usize>tile << 5));
  }
}

/** GRU reset_after=false, first half: z, r = ra(x + h·U_zr); z into zb, r*h into rhb. */
export function gruEpilogueZr(scalar: bool, u: i32, xr: usize, rr: usize, hb: usize, zb: usize, rhb: usize, recAct: i32): void {
  const tiles = (u + 7) >> 3;
  for (let tile = 0; tile < tiles; tile++) {
    const g = rr + (<usize>tile << 6);
    const x = xr + <usize>tile * 96;
    if (scalar) {
      for (let j = 0; j < 16; j++) store<f32>(g + (<usize>j << 2), load<f32>(x + (<usize>j << 2)) + load<f32>(g + (<usize>j << 2)));
    } else {
      for (let j: usize = 0; j < 64; j += 16) v128.store(g + j, f32x4.add(v128.load(x + j), v128.load(g + j)));
    }
    actBuf(scalar, recAct, g, 16);
    const off = <usize>tile << 5;
    memory.copy(zb + off, g, 32);
    if (scalar) {
      for (let l = 0; l < 8; l++) store<f32>(rhb + off + (<usize>l << 2), load<f32>(g + 32 + (<usize>l << 2)) * load<f32>(hb + off + (<usize>l << 2)));
    } else {
      v128.store(rhb + off, f32x4.mul(v128.load(g, 32), v128.load(hb + off)));
      v128.store(rhb + off, f32x4.mul(v128.load(g, 48), v128.load(hb + off, 16)), 16);
    }
  }
}

/** GRU reset_after=false, second half: hh = act(x_h + (r*h)·U_h) (rec_h at rr); h = blend(z, h, hh). */
export function gruEpilogueH(scalar: bool, u: i32, xr: usize, rr: usize, hb: usize, zb: usize, act: i32): void {
  const tiles = (u + 7) >> 3;
  for (let tile = 0; tile < tiles; tile++) {
    const g = rr + (<usize>tile << 5);
    const x = xr + <usize>tile * 96 + 64;
    if (scalar) {
      for (let j = 0; j < 8; j++) store<f32>(g + (<usize>j << 2), load<f32>(x + (<usize>j << 2)) + load<f32>(g + (<usize>j << 2)));
    } else {
      v128.store(g, f32x4.add(v128.load(x), v128.load(g)));
      v128.store(g, f32x4.add(v128.load(x, 16), v128.load(g, 16)), 16);
    }
    actBuf(scalar, act, g, 8);
    const off = <usize>tile << 5;
    blendTile(scalar, zb + off, g, hb + off);
  }
}

/** SimpleRNN: h = act(xp + rec), whole row. */
export function rnnEpilogue(scalar: bool, u: i32, xr: usize, rr: usize, hb: usize, act: i32): void {
  const U8 = (u + 7) & ~7;
  if (scalar) {
    for (let j = 0; j < U8; j++) store<f32>(hb + (<usize>j << 2), load<f32>(xr + (<usize>j << 2)) + load<f32>(rr + (<usize>j << 2)));
  } else {
    for (let j: usize = 0; j < (<usize>U8 << 2); j += 16) v128.store(hb + j, f32x4.add(v128.load(xr + j), v128.load(rr + j)));
  }
  actBuf(scalar, act, hb, U8);
}

// ---------------------------------------------------------------- batched sequences
// scratch (after the per-row kernels' 3*U8 + 32 floats): rec [B][G*U8], then zb, rhb [B][U8],
// then (int8 weights) the quantised h rows: 6*B*U8 floats in all.
// i8: wRec holds int8 tiles followed by their column scales (int8.ts); every B takes this path.

/** Bytes of G gates' recurrent tiles (f32, or int8 k-pairs) for u units. */
// @ts-ignore: decorator
@inline function tileBytes(i8: bool, G: i32, u: i32): usize {
  return <usize>G * <usize>((u + 7) & ~7) * <usize>(i8 ? evenK(u) : u << 2);
}

export function lstmBatched(
  scalar: bool, i8: bool, B: i32, T: i32, u: i32, xp: usize, wRec: usize, h: usize, c: usize, work: usize,
  mask: usize, out: usize, back: bool, align: bool, zeroMasked: bool, act: i32, recAct: i32,
): void {
  const U8 = (u + 7) & ~7;
  const rowBytes = <usize>U8 << 2;
  const ws = wRec + tileBytes(i8, 4, u);
  const q = work + <usize>B * rowBytes * 5;
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    recGemm(scalar, i8, B, U8 >> 1, u, h, U8, wRec, ws, 0, work, U8 << 2, q);
    for (let b = 0; b < B; b++) {
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      const hb = h + <usize>b * rowBytes;
      if (live) lstmEpilogue(scalar, u, xp + ((bt + <usize>tIn) * rowBytes << 2), work + (<usize>b * rowBytes << 2), c + <usize>b * rowBytes, hb, act, recAct);
      writeOutput(out, bt + <usize>(align ? tIn : s), u, hb, !live && zeroMasked);
    }
  }
}

export function gruBatched(
  scalar: bool, i8: bool, B: i32, T: i32, u: i32, xp: usize, wRec: usize, bRec: usize, resetAfter: bool, h: usize, work: usize,
  mask: usize, out: usize, back: bool, align: bool, zeroMasked: bool, act: i32, recAct: i32,
): void {
  const U8 = (u + 7) & ~7;
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const xpRow = rowBytes * 3;
  const zb = work + <usize>B * xpRow;
  const rhb = zb + <usize>B * rowBytes;
  const q = rhb + <usize>B * rowBytes;
  const ws = wRec + tileBytes(i8, 3, u);
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    if (resetAfter) {
      recGemm(scalar, i8, B, tiles * 3, u, h, U8, wRec, ws, bRec, work, U8 * 3, q);
    } else {
      recGemm(scalar, i8, B, tiles * 2, u, h, U8, wRec, ws, 0, work, U8 * 2, q);
      for (let b = 0; b < B; b++) {
        const bt = <usize>b * <usize>T;
        if (mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0) {
          gruEpilogueZr(scalar, u, xp + (bt + <usize>tIn) * xpRow, work + <usize>b * (rowBytes << 1), h + <usize>b * rowBytes,
            zb + <usize>b * rowBytes, rhb + <usize>b * rowBytes, recAct);
        }
      }
      recGemm(scalar, i8, B, tiles, u, rhb, U8, wRec + tileBytes(i8, 2, u), ws + (rowBytes << 1), 0, work, U8, q);
    }
    for (let b = 0; b < B; b++) {
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      const hb = h + <usize>b * rowBytes;
      const xr = xp + (bt + <usize>tIn) * xpRow;
      if (live) {
        if (resetAfter) gruEpilogueResetAfter(scalar, u, xr, work + <usize>b * xpRow, hb, act, recAct);
        else gruEpilogueH(scalar, u, xr, work + <usize>b * rowBytes, hb, zb + <usize>b * rowBytes, act);
      }
      writeOutput(out, bt + <usize>(align ? tIn : s), u, hb, !live && zeroMasked);
    }
  }
}

export function rnnBatched(
  scalar: bool, i8: bool, B: i32, T: i32, u: i32, xp: usize, wRec: usize, h: usize, work: usize,
  mask: usize, out: usize, back: bool, align: bool, zeroMasked: bool, act: i32,
): void {
  const U8 = (u + 7) & ~7;
  const rowBytes = <usize>U8 << 2;
  const ws = wRec + tileBytes(i8, 1, u);
  const q = work + <usize>B * rowBytes * 5;
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    recGemm(scalar, i8, B, U8 >> 3, u, h, U8, wRec, ws, 0, work, U8, q);
    for (let b = 0; b < B; b++) {
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      const hb = h + <usize>b * rowBytes;
      if (live) rnnEpilogue(scalar, u, xp + (bt + <usize>tIn) * rowBytes, work + <usize>b * rowBytes, hb, act);
      writeOutput(out, bt + <usize>(align ? tIn : s), u, hb, !live && zeroMasked);
    }
  }
}

/** Sequence output row (b, t): h, or zeros for a masked step under zero_output_for_mask. */
// @ts-ignore: decorator
@inline function writeOutput(out: usize, row: usize, u: i32, hb: usize, zero: bool): void {
  if (out == 0) return;
  const o = out + row * (<usize>u << 2);
  if (zero) memory.fill(o, 0, <usize>u << 2);
  else memory.copy(o, hb, <usize>u << 2);
}
