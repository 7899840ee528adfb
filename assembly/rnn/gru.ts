// The GRU cell (Keras gate order z, r, h), in its two forms:
//
// reset_after (Keras 2+/TF2 default, ONNX linear_before_reset; bias [2, 3u]):
//   rec = h·U + b_rec;  z = ra(xz + rec_z);  r = ra(xr + rec_r);  hh = act(xh + r*rec_h)
//   Recurrent weights: panels in [tile][z,r,h] order, so a row's three gates for every tile
//   are one product.
// reset_after = false (Keras 1/2 "v1", tfjs; bias [3u]):
//   z = ra(xz + h·Uz);  r = ra(xr + h·Ur);  hh = act(xh + (r*h)·Uh)
//   r*h is needed for every unit before any hh, so two products: z, r panels [tile][z,r][k][8]
//   for all tiles, then h panels [tile][k][8] for all tiles.
// h' = z*h + (1-z)*hh. ra and act are the description's gate and candidate activation slots
// (abi.ts; ONNX f and g, with alpha and beta); with a clip, every pre-activation (z, r, and hh's)
// is clipped to [-clip, clip] first (ONNX, as onnxruntime does it).
//
// xp rows (the input projection, x·W + b_input) are [tile][z,r,h][8]. As for LSTM (lstm.ts),
// a step runs a row at a time (gruRow) or all rows at once (gruBatch), and both end in the
// same updates: gruUpdateResetAfter, or gruGates then gruCandidate.

import { fmadd, fmaddScalar } from "../simd";
import { f32_dot_panels, f32_gemm_tiles_scalar } from "../gemm";
import { RNN_DESC_ACT_CANDIDATE, RNN_DESC_ACT_GATE } from "../abi";
import {
  activateSlot, addTiles, addTilesScalar, clipIf, clipOf, padUnits, recurrentProduct, recurrentProductScratch, recurrentTileBytes, rowLive,
} from "./common";

// @ts-ignore: decorator
@inline function blend(z: v128, hPrev: v128, hh: v128): v128 {
  // z*h + (1-z)*hh, written as hh + z*(h - hh)
  return fmadd(z, f32x4.sub(hPrev, hh), hh);
}

// @ts-ignore: decorator
@inline function blendScalar(z: f32, hPrev: f32, hh: f32): f32 {
  return fmaddScalar(z, hPrev - hh, hh);
}

/**
 * reset_after: a row's new h (in place) from its gates ([tile][z,r,q][8]: z and r
 * pre-activations complete, q = the recurrent part of the candidate, rec_h) and its xp row
 * (for xh). Overwrites the gates.
 */
export function gruUpdateResetAfter(gates: usize, xr: usize, h: usize, tiles: i32, desc: usize): void {
  const clip = clipOf(desc);
  for (let tile = 0; tile < tiles; tile++) {
    const gt = gates + <usize>tile * 96;
    const xt = xr + <usize>tile * 96;
    const q0 = v128.load(gt, 64), q1 = v128.load(gt, 80);
    clipIf(false, clip, gt, 16);
    activateSlot(false, desc, RNN_DESC_ACT_GATE, gt, 16);
    // hh = act(xh + r * q)
    v128.store(gt, fmadd(v128.load(gt, 32), q0, v128.load(xt, 64)), 64);
    v128.store(gt, fmadd(v128.load(gt, 48), q1, v128.load(xt, 80)), 80);
    clipIf(false, clip, gt + 64, 8);
    activateSlot(false, desc, RNN_DESC_ACT_CANDIDATE, gt + 64, 8);
    const hp = h + (<usize>tile << 5);
    v128.store(hp, blend(v128.load(gt), v128.load(hp), v128.load(gt, 64)));
    v128.store(hp, blend(v128.load(gt, 16), v128.load(hp, 16), v128.load(gt, 80)), 16);
  }
}

/** Scalar twin of gruUpdateResetAfter. */
export function gruUpdateResetAfterScalar(gates: usize, xr: usize, h: usize, tiles: i32, desc: usize): void {
  const clip = clipOf(desc);
  for (let tile = 0; tile < tiles; tile++) {
    const gt = gates + <usize>tile * 96;
    const xt = xr + <usize>tile * 96;
    clipIf(true, clip, gt, 16);
    activateSlot(true, desc, RNN_DESC_ACT_GATE, gt, 16);
    for (let l = 0; l < 8; l++) {
      const o = <usize>l << 2;
      store<f32>(gt + 64 + o, fmaddScalar(load<f32>(gt + 32 + o), load<f32>(gt + 64 + o), load<f32>(xt + 64 + o)));
    }
    clipIf(true, clip, gt + 64, 8);
    activateSlot(true, desc, RNN_DESC_ACT_CANDIDATE, gt + 64, 8);
    for (let l = 0; l < 8; l++) {
      const o = <usize>l << 2;
      const hp = h + (<usize>tile << 5) + o;
      store<f32>(hp, blendScalar(load<f32>(gt + o), load<f32>(hp), load<f32>(gt + 64 + o)));
    }
  }
}

/**
 * reset_after = false, first half: the z and r pre-activations of a row (zr, [tile][z,r][8])
 * activated in place, and r*h into rh ([tiles][8]).
 */
export function gruGates(zr: usize, h: usize, rh: usize, tiles: i32, desc: usize): void {
  clipIf(false, clipOf(desc), zr, tiles << 4);
  activateSlot(false, desc, RNN_DESC_ACT_GATE, zr, tiles << 4);
  for (let tile = 0; tile < tiles; tile++) {
    const off = <usize>tile << 5;
    const zt = zr + (<usize>tile << 6);
    v128.store(rh + off, f32x4.mul(v128.load(zt, 32), v128.load(h + off)));
    v128.store(rh + off, f32x4.mul(v128.load(zt, 48), v128.load(h + off, 16)), 16);
  }
}

/** Scalar twin of gruGates. */
export function gruGatesScalar(zr: usize, h: usize, rh: usize, tiles: i32, desc: usize): void {
  clipIf(true, clipOf(desc), zr, tiles << 4);
  activateSlot(true, desc, RNN_DESC_ACT_GATE, zr, tiles << 4);
  for (let j = 0; j < tiles << 3; j++) {
    const off = <usize>j << 2;
    store<f32>(rh + off, load<f32>(zr + (<usize>(j >> 3) << 6) + 32 + (<usize>(j & 7) << 2)) * load<f32>(h + off));
  }
}

/**
 * reset_after = false, second half: the candidate pre-activations hh ([tiles][8]) activated in
 * place, then h (in place) blended with the z of zr (gruGates' output).
 */
export function gruCandidate(hh: usize, zr: usize, h: usize, tiles: i32, desc: usize): void {
  clipIf(false, clipOf(desc), hh, tiles << 3);
  activateSlot(false, desc, RNN_DESC_ACT_CANDIDATE, hh, tiles << 3);
  for (let tile = 0; tile < tiles; tile++) {
    const off = <usize>tile << 5;
    const zt = zr + (<usize>tile << 6);
    v128.store(h + off, blend(v128.load(zt), v128.load(h + off), v128.load(hh + off)));
    v128.store(h + off, blend(v128.load(zt, 16), v128.load(h + off, 16), v128.load(hh + off, 16)), 16);
  }
}

/** Scalar twin of gruCandidate. */
export function gruCandidateScalar(hh: usize, zr: usize, h: usize, tiles: i32, desc: usize): void {
  clipIf(true, clipOf(desc), hh, tiles << 3);
  activateSlot(true, desc, RNN_DESC_ACT_CANDIDATE, hh, tiles << 3);
  for (let j = 0; j < tiles << 3; j++) {
    const off = <usize>j << 2;
    const z = load<f32>(zr + (<usize>(j >> 3) << 6) + (<usize>(j & 7) << 2));
    store<f32>(h + off, blendScalar(z, load<f32>(h + off), load<f32>(hh + off)));
  }
}

/** Bytes of work one row step needs: the row's gates (3·U8 floats), or zr, r*h and hh (4·U8). */
// @ts-ignore: decorator
@inline export function gruRowWork(u: i32): f64 {
  return <f64>padUnits(u) * 16;
}

/**
 * One row, one step (f32 recurrent panels). reset_after: the row's gates start from xp's z, r
 * plus b_rec and from b_rec's h part (q), then + h·U as one run of panel passes. reset_after =
 * false: z, r from xp's z, r parts + h·U_zr; then hh from xp's h part + (r*h)·U_h.
 * work: gruRowWork(u) bytes.
 */
export function gruRow(
  scalar: bool, resetAfter: bool, u: i32, xr: usize, wRec: usize, bRec: usize, h: usize, work: usize, desc: usize,
): void {
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const panelBytes = <usize>u << 5;
  if (resetAfter) {
    const row = work;
    for (let tile = 0; tile < tiles; tile++) {
      const xt = xr + <usize>tile * 96;
      const gt = row + <usize>tile * 96;
      if (scalar) {
        for (let l = 0; l < 8; l++) {
          const o = <usize>l << 2;
          let z = load<f32>(xt + o), r = load<f32>(xt + 32 + o);
          let q: f32 = 0;
          if (bRec != 0) {
            const bt = bRec + <usize>tile * 96 + o;
            z += load<f32>(bt); r += load<f32>(bt, 32); q = load<f32>(bt, 64);
          }
          store<f32>(gt + o, z); store<f32>(gt + 32 + o, r); store<f32>(gt + 64 + o, q);
        }
        continue;
      }
      let z0 = v128.load(xt), z1 = v128.load(xt, 16), r0 = v128.load(xt, 32), r1 = v128.load(xt, 48);
      let q0 = f32x4.splat(0), q1 = q0;
      if (bRec != 0) {
        const bt = bRec + <usize>tile * 96;
        z0 = f32x4.add(z0, v128.load(bt)); z1 = f32x4.add(z1, v128.load(bt, 16));
        r0 = f32x4.add(r0, v128.load(bt, 32)); r1 = f32x4.add(r1, v128.load(bt, 48));
        q0 = v128.load(bt, 64); q1 = v128.load(bt, 80);
      }
      v128.store(gt, z0); v128.store(gt, z1, 16); v128.store(gt, r0, 32); v128.store(gt, r1, 48);
      v128.store(gt, q0, 64); v128.store(gt, q1, 80);
    }
    if (scalar) {
      f32_gemm_tiles_scalar(1, tiles * 3, u, h, u, wRec, row, row, tiles * 24, tiles * 24);
      gruUpdateResetAfterScalar(row, xr, h, tiles, desc);
    } else {
      f32_dot_panels(row, wRec, panelBytes, h, u, row, tiles * 3);
      gruUpdateResetAfter(row, xr, h, tiles, desc);
    }
    return;
  }
  // zr [tile][z,r][8] gathered from xp, then r*h and hh ([tiles][8] each)
  const zr = work;
  const rh = zr + (<usize>U8 << 3);
  const hh = rh + (<usize>U8 << 2);
  const hBlock = wRec + <usize>tiles * (panelBytes << 1);
  for (let tile = 0; tile < tiles; tile++) {
    const xt = xr + <usize>tile * 96;
    memory.copy(zr + (<usize>tile << 6), xt, 64);
    memory.copy(hh + (<usize>tile << 5), xt + 64, 32);
  }
  if (scalar) {
    f32_gemm_tiles_scalar(1, tiles << 1, u, h, u, wRec, zr, zr, tiles << 4, tiles << 4);
    gruGatesScalar(zr, h, rh, tiles, desc);
    f32_gemm_tiles_scalar(1, tiles, u, rh, u, hBlock, hh, hh, tiles << 3, tiles << 3);
    gruCandidateScalar(hh, zr, h, tiles, desc);
  } else {
    f32_dot_panels(zr, wRec, panelBytes, h, u, zr, tiles << 1);
    gruGates(zr, h, rh, tiles, desc);
    f32_dot_panels(hh, hBlock, panelBytes, rh, u, hh, tiles);
    gruCandidate(hh, zr, h, tiles, desc);
  }
}

/** Bytes of work one batched step needs: every row's gates, r*h rows (reset_after=false), the int8 product's scratch. */
// @ts-ignore: decorator
@inline export function gruBatchWork(B: i32, u: i32, int8: bool): f64 {
  return <f64>B * <f64>padUnits(u) * 16 + recurrentProductScratch(int8, B, u);
}

/**
 * Every row, one step. reset_after: one product h·U + b_rec over the B rows into work
 * ([B][tile][z,r,q][8]), then per live row xp's z, r added and gruUpdateResetAfter.
 * reset_after = false: h·U_zr into work ([B][tile][z,r][8]), per live row xp's z, r added and
 * gruGates (r*h rows after the gates); then (r*h)·U_h into the hh rows ([B][tiles][8], after
 * the r*h rows), per live row xp's h added and gruCandidate. xp, wRec, int8 as lstmBatch.
 * work: gruBatchWork bytes.
 */
export function gruBatch(
  scalar: bool, int8: bool, resetAfter: bool, B: i32, T: i32, tIn: i32, u: i32, xp: usize, wRec: usize, bRec: usize, h: usize,
  work: usize, mask: usize, desc: usize,
): void {
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const xpRow = rowBytes * 3;
  const ws = wRec + recurrentTileBytes(int8, 3, u);
  if (resetAfter) {
    const q = work + <usize>B * xpRow;
    recurrentProduct(scalar, int8, B, tiles * 3, u, h, wRec, ws, bRec, work, U8 * 3, q);
    for (let b = 0; b < B; b++) {
      if (!rowLive(mask, T, b, tIn)) continue;
      const g = work + <usize>b * xpRow;
      const xr = xp + (<usize>b * <usize>T + <usize>tIn) * xpRow;
      const hb = h + <usize>b * rowBytes;
      if (scalar) {
        addTilesScalar(g, 96, xr, 96, tiles, 16);
        gruUpdateResetAfterScalar(g, xr, hb, tiles, desc);
      } else {
        addTiles(g, 96, xr, 96, tiles, 16);
        gruUpdateResetAfter(g, xr, hb, tiles, desc);
      }
    }
    return;
  }
  const zrRow = rowBytes << 1;
  const rh = work + <usize>B * zrRow;
  const hh = rh + <usize>B * rowBytes;
  const q = work + <usize>B * (rowBytes << 2);
  recurrentProduct(scalar, int8, B, tiles << 1, u, h, wRec, ws, 0, work, U8 << 1, q);
  for (let b = 0; b < B; b++) {
    if (!rowLive(mask, T, b, tIn)) continue;
    const g = work + <usize>b * zrRow;
    const xr = xp + (<usize>b * <usize>T + <usize>tIn) * xpRow;
    const hb = h + <usize>b * rowBytes;
    if (scalar) {
      addTilesScalar(g, 64, xr, 96, tiles, 16);
      gruGatesScalar(g, hb, rh + <usize>b * rowBytes, tiles, desc);
    } else {
      addTiles(g, 64, xr, 96, tiles, 16);
      gruGates(g, hb, rh + <usize>b * rowBytes, tiles, desc);
    }
  }
  recurrentProduct(scalar, int8, B, tiles, u, rh, wRec + recurrentTileBytes(int8, 2, u), ws + (rowBytes << 1), 0, hh, U8, q);
  for (let b = 0; b < B; b++) {
    if (!rowLive(mask, T, b, tIn)) continue;
    const hr = hh + <usize>b * rowBytes;
    const xr = xp + (<usize>b * <usize>T + <usize>tIn) * xpRow;
    if (scalar) {
      addTilesScalar(hr, 32, xr + 64, 96, tiles, 8);
      gruCandidateScalar(hr, work + <usize>b * zrRow, h + <usize>b * rowBytes, tiles, desc);
    } else {
      addTiles(hr, 32, xr + 64, 96, tiles, 8);
      gruCandidate(hr, work + <usize>b * zrRow, h + <usize>b * rowBytes, tiles, desc);
    }
  }
}
