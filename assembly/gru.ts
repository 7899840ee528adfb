// Fused GRU recurrence (Keras gate order z, r, h). The input projection x·W + b_input is
// one f32_gemm first (xp rows [tile][z,r,h][8]).
//
// reset_after = true (Keras 2+/TF2 default, bias [2, 3u]):
//   rec = h·U + b_rec;  z = ra(xz + rec_z);  r = ra(xr + rec_r);  hh = act(xh + r*rec_h)
//   Recurrent weights: panels in [tile][z,r,h] order, [tile][gate][k < units][8] (bundle format
//   2): a row's three gates for every tile are one run of panel passes (f32_dot_panels).
// reset_after = false (Keras 1/2 "v1", tfjs; bias [3u]):
//   z = ra(xz + h·Uz);  r = ra(xr + h·Ur);  hh = act(xh + (r*h)·Uh)
//   r*h is needed for every unit before any hh, so two passes: weights are z, r panels
//   [tile][z,r][k][8] for all tiles, then h panels [tile][k][8] for all tiles.
// h' = z*h + (1-z)*hh. Masked steps keep h (see lstm.ts).

import { fmadd, fmaddScalar } from "./simd";
import { activateBuffer, activateBufferScalar } from "./math";
import { padUnits, RNN_ALIGN_OUTPUT, RNN_GO_BACKWARDS, RNN_ZERO_MASKED_OUTPUT, storeRowOutput } from "./lstm";
import { f32_dot_panels } from "./gemm";
import { batchedRows, gruBatched } from "./batch";

// @ts-ignore: decorator
@inline function blend(z: v128, hPrev: v128, hh: v128): v128 {
  // z*h + (1-z)*hh, written as hh + z*(h - hh)
  return fmadd(z, f32x4.sub(hPrev, hh), hh);
}

/**
 * State h: [B][U8]. scratch: 4*U8 floats (one row at a time; the batched path, batchedRows(B, u),
 * takes its part after 3*U8 + 32, as LSTM's). bRec: recurrent bias [tile][z,r,h][8]
 * (reset_after only; 0 = none). out (optional): [B][T][u]. flags as in lstm.ts.
 */
export function f32_gru_sequence(
  B: i32, T: i32, u: i32, xp: usize, wRec: usize, bRec: usize, resetAfter: i32, h: usize,
  scratch: usize, mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  if (batchedRows(B, u) || (wRec & 1) != 0) {
    gruBatched(false, (wRec & 1) != 0, B, T, u, xp, wRec & ~1, bRec, resetAfter != 0, h, scratch + ((<usize>(3 * padUnits(u) + 32)) << 2), mask, out,
      (flags & RNN_GO_BACKWARDS) != 0, (flags & RNN_ALIGN_OUTPUT) != 0, (flags & RNN_ZERO_MASKED_OUTPUT) != 0, act, recAct);
    return;
  }
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const xpRow = <usize>(U8 * 3) << 2;
  // reset_after=false: zr [tile][z,r][8] (2·U8 floats), rhBuf and hAcc (U8 each)
  const zr = scratch;
  const rhBuf = scratch + 2 * rowBytes;
  const hAcc = rhBuf + rowBytes;
  const back = (flags & RNN_GO_BACKWARDS) != 0;
  const align = (flags & RNN_ALIGN_OUTPUT) != 0;
  const zeroMasked = (flags & RNN_ZERO_MASKED_OUTPUT) != 0;
  const panelBytes = <usize>u << 5;
  const zrBytes = panelBytes << 1; // per tile, reset_after=false first block
  const hBlock = wRec + <usize>tiles * zrBytes;
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    const tOut = align ? tIn : s;
    for (let b = 0; b < B; b++) {
      const hb = h + <usize>b * rowBytes;
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      if (live) {
        const xr = xp + (bt + <usize>tIn) * xpRow;
        if (resetAfter != 0) {
          // the row's gates [tile][z,r,q][8] (q: the recurrent part of h; 3·U8 floats): z, r
          // start from xp + b_rec, q from b_rec; then h·U as one run of panel passes over the
          // row (gemm.ts), and h is updated in place once every product has read it
          const row = scratch;
          for (let tile = 0; tile < tiles; tile++) {
            const xt = xr + <usize>tile * 96;
            const gt = row + <usize>tile * 96;
            let z0 = v128.load(xt), z1 = v128.load(xt, 16), r0 = v128.load(xt, 32), r1 = v128.load(xt, 48);
            let q0 = f32x4.splat(0), q1 = q0;
            if (bRec != 0) {
              const bt2 = bRec + <usize>tile * 96;
              z0 = f32x4.add(z0, v128.load(bt2)); z1 = f32x4.add(z1, v128.load(bt2, 16));
              r0 = f32x4.add(r0, v128.load(bt2, 32)); r1 = f32x4.add(r1, v128.load(bt2, 48));
              q0 = v128.load(bt2, 64); q1 = v128.load(bt2, 80);
            }
            v128.store(gt, z0); v128.store(gt, z1, 16); v128.store(gt, r0, 32); v128.store(gt, r1, 48);
            v128.store(gt, q0, 64); v128.store(gt, q1, 80);
          }
          f32_dot_panels(row, wRec, panelBytes, hb, u, row, tiles * 3);
          for (let tile = 0; tile < tiles; tile++) {
            const xt = xr + <usize>tile * 96;
            const gt = row + <usize>tile * 96;
            const q0 = v128.load(gt, 64), q1 = v128.load(gt, 80);
            activateBuffer(recAct, gt, 16);
            // hh = act(xh + r * q)
            v128.store(gt, fmadd(v128.load(gt, 32), q0, v128.load(xt, 64)), 64);
            v128.store(gt, fmadd(v128.load(gt, 48), q1, v128.load(xt, 80)), 80);
            activateBuffer(act, gt + 64, 8);
            const hp = hb + (<usize>tile << 5);
            v128.store(hp, blend(v128.load(gt), v128.load(hp), v128.load(gt, 64)));
            v128.store(hp, blend(v128.load(gt, 16), v128.load(hp, 16), v128.load(gt, 80)), 16);
          }
        } else {
          // pass 1: z and r for every unit as one run of panel passes from xp's z, r parts
          // (gathered into zr, [tile][z,r][8]), then r*h; pass 2: hh = act(xh + (r*h)·Uh), the
          // h panels as one run from xp's h part (gathered into hAcc); then h in place
          for (let tile = 0; tile < tiles; tile++) {
            const xt = xr + <usize>tile * 96;
            const zt = zr + (<usize>tile << 6);
            v128.store(zt, v128.load(xt)); v128.store(zt, v128.load(xt, 16), 16);
            v128.store(zt, v128.load(xt, 32), 32); v128.store(zt, v128.load(xt, 48), 48);
            v128.store(hAcc + (<usize>tile << 5), v128.load(xt, 64));
            v128.store(hAcc + (<usize>tile << 5), v128.load(xt, 80), 16);
          }
          f32_dot_panels(zr, wRec, panelBytes, hb, u, zr, tiles << 1);
          activateBuffer(recAct, zr, U8 << 1);
          for (let tile = 0; tile < tiles; tile++) {
            const off = <usize>tile << 5;
            const zt = zr + (<usize>tile << 6);
            v128.store(rhBuf + off, f32x4.mul(v128.load(zt, 32), v128.load(hb + off)));
            v128.store(rhBuf + off, f32x4.mul(v128.load(zt, 48), v128.load(hb + off, 16)), 16);
          }
          f32_dot_panels(hAcc, hBlock, panelBytes, rhBuf, u, hAcc, tiles);
          activateBuffer(act, hAcc, U8);
          for (let tile = 0; tile < tiles; tile++) {
            const off = <usize>tile << 5;
            const zt = zr + (<usize>tile << 6);
            v128.store(hb + off, blend(v128.load(zt), v128.load(hb + off), v128.load(hAcc + off)));
            v128.store(hb + off, blend(v128.load(zt, 16), v128.load(hb + off, 16), v128.load(hAcc + off, 16)), 16);
          }
        }
      }
      if (out != 0) storeRowOutput(out + (bt + <usize>tOut) * (<usize>u << 2), hb, u, live, zeroMasked);
    }
  }
}

/** Scalar twin of f32_gru_sequence (same layouts, same summation order). */
export function f32_gru_sequence_scalar(
  B: i32, T: i32, u: i32, xp: usize, wRec: usize, bRec: usize, resetAfter: i32, h: usize,
  scratch: usize, mask: usize, out: usize, flags: i32, act: i32, recAct: i32,
): void {
  if (batchedRows(B, u) || (wRec & 1) != 0) {
    gruBatched(true, (wRec & 1) != 0, B, T, u, xp, wRec & ~1, bRec, resetAfter != 0, h, scratch + ((<usize>(3 * padUnits(u) + 32)) << 2), mask, out,
      (flags & RNN_GO_BACKWARDS) != 0, (flags & RNN_ALIGN_OUTPUT) != 0, (flags & RNN_ZERO_MASKED_OUTPUT) != 0, act, recAct);
    return;
  }
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const xpRow = <usize>(U8 * 3) << 2;
  const hTmp = scratch;
  const zBuf = scratch + rowBytes;
  const rhBuf = zBuf + rowBytes;
  const gates = rhBuf + rowBytes;
  const back = (flags & RNN_GO_BACKWARDS) != 0;
  const align = (flags & RNN_ALIGN_OUTPUT) != 0;
  const zeroMasked = (flags & RNN_ZERO_MASKED_OUTPUT) != 0;
  const panelBytes = <usize>u << 5;
  const zrBytes = panelBytes << 1;
  const hBlock = wRec + <usize>tiles * zrBytes;
  for (let s = 0; s < T; s++) {
    const tIn = back ? T - 1 - s : s;
    const tOut = align ? tIn : s;
    for (let b = 0; b < B; b++) {
      const hb = h + <usize>b * rowBytes;
      const bt = <usize>b * <usize>T;
      const live = mask == 0 || load<u8>(mask + bt + <usize>tIn) != 0;
      if (live) {
        const xr = xp + (bt + <usize>tIn) * xpRow;
        if (resetAfter != 0) {
          for (let j = 0; j < U8; j++) {
            const tile = <usize>(j >> 3);
            const lane = <usize>(j & 7) << 2;
            const xt = xr + tile * 96 + lane;
            let z = load<f32>(xt), r = load<f32>(xt, 32);
            let q: f32 = 0;
            if (bRec != 0) {
              const bt2 = bRec + tile * 96 + lane;
              z += load<f32>(bt2); r += load<f32>(bt2, 32); q = load<f32>(bt2, 64);
            }
            let wk = wRec + tile * 3 * panelBytes + lane;
            for (let k = 0; k < u; k++) {
              const hv = load<f32>(hb + (<usize>k << 2));
              z = fmaddScalar(hv, load<f32>(wk), z);
              r = fmaddScalar(hv, load<f32>(wk + panelBytes), r);
              q = fmaddScalar(hv, load<f32>(wk + 2 * panelBytes), q);
              wk += 32;
            }
            store<f32>(gates, z); store<f32>(gates, r, 4);
            activateBufferScalar(recAct, gates, 2);
            store<f32>(gates, fmaddScalar(load<f32>(gates, 4), q, load<f32>(xt, 64)), 8);
            activateBufferScalar(act, gates + 8, 1);
            const zz = load<f32>(gates), hh = load<f32>(gates, 8);
            store<f32>(hTmp + (<usize>j << 2), fmaddScalar(zz, load<f32>(hb + (<usize>j << 2)) - hh, hh));
          }
        } else {
          for (let j = 0; j < U8; j++) {
            const tile = <usize>(j >> 3);
            const lane = <usize>(j & 7) << 2;
            const xt = xr + tile * 96 + lane;
            let z = load<f32>(xt), r = load<f32>(xt, 32);
            let wk = wRec + tile * zrBytes + lane;
            for (let k = 0; k < u; k++) {
              const hv = load<f32>(hb + (<usize>k << 2));
              z = fmaddScalar(hv, load<f32>(wk), z);
              r = fmaddScalar(hv, load<f32>(wk + panelBytes), r);
              wk += 32;
            }
            store<f32>(gates, z); store<f32>(gates, r, 4);
            activateBufferScalar(recAct, gates, 2);
            store<f32>(zBuf + (<usize>j << 2), load<f32>(gates));
            store<f32>(rhBuf + (<usize>j << 2), load<f32>(gates, 4) * load<f32>(hb + (<usize>j << 2)));
          }
          for (let j = 0; j < U8; j++) {
            const tile = <usize>(j >> 3);
            const lane = <usize>(j & 7) << 2;
            let a = load<f32>(xr + tile * 96 + lane, 64);
            let wk = hBlock + tile * panelBytes + lane;
            for (let k = 0; k < u; k++) {
              a = fmaddScalar(load<f32>(rhBuf + (<usize>k << 2)), load<f32>(wk), a);
              wk += 32;
            }
            store<f32>(gates, a);
            activateBufferScalar(act, gates, 1);
            const hh = load<f32>(gates);
            const zz = load<f32>(zBuf + (<usize>j << 2));
            store<f32>(hTmp + (<usize>j << 2), fmaddScalar(zz, load<f32>(hb + (<usize>j << 2)) - hh, hh));
          }
        }
        memory.copy(hb, hTmp, rowBytes);
      }
      if (out != 0) storeRowOutput(out + (bt + <usize>tOut) * (<usize>u << 2), hb, u, live, zeroMasked);
    }
  }
}
