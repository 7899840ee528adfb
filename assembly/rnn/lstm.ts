// The LSTM cell (Keras gate order i, f, c, o):
//
//   i = ra(.), f = ra(.), g = act(.), o = ra(.);  c' = f*c + i*g;  h' = o*act(c')
//
// where (.) is a gate's pre-activation, x·W + b + h·U. ONNX's LSTM adds, per description
// (abi.ts): a third activation for c' in h' (ONNX h; Keras uses act), activations with alpha
// and beta, peepholes (i and f see P ⊙ c, o sees P ⊙ c'), a clip of every pre-activation to
// [-clip, clip], and coupled gates f = 1 − i (input_forget); lstmTileGeneral handles those,
// the Keras forms keep their inlined tile update. The driver (driver.ts) runs the time
// loop and calls one of this cell's steps: a row at a time (lstmRow: the step's xp row plus
// h·U as one run of panel passes), a fused first step of a few rows (lstmFusedRow: bias + x·W
// + h·U without xp), or all rows at once (lstmBatch: one recurrent product over every row,
// then xp added per row). Each ends in lstmUpdate over the row's gates, laid out [tile][i,f,c,o][8]
// (the order of the packed panels, docs/kernels.md), so the three agree bit for bit.

import { fmadd, fmaddScalar } from "../simd";
import { f32_dot_panels, f32_gemm_tiles_scalar } from "../gemm";
import {
  ACT_COUNT, ACT_HARD_SIGMOID, ACT_SIGMOID, ACT_TANH, RNN_DESC_ACT_CANDIDATE, RNN_DESC_ACT_CELL, RNN_DESC_ACT_GATE, RNN_DESC_CLIP, RNN_DESC_FLAGS,
  RNN_DESC_PEEPHOLES, RNN_INPUT_FORGET,
} from "../abi";
import { activateBuffer, activateS, hardSigmoidV, sigmoidV, tanhV } from "../math";
import {
  activateSlot, addTiles, addTilesScalar, clipIf, clipOf, padUnits, recurrentProduct, recurrentProductScratch, recurrentTileBytes, rowLive, slotCode,
} from "./common";

/**
 * One 8-unit tile: the pre-activations at `gates` (i, f, g, o, two vectors each) to the new c
 * (in place at ct) and h (at ht). The Keras and tfjs default pairs (tanh with sigmoid or
 * hard_sigmoid) run inline, anything else through activateBuffer.
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

/** Scalar twin of lstmTileUpdate, one unit at a time. */
export function lstmTileUpdateScalar(gates: usize, ct: usize, ht: usize, act: i32, recAct: i32): void {
  for (let l = 0; l < 8; l++) {
    const o = <usize>l << 2;
    const i = activateS(recAct, load<f32>(gates + o));
    const f = activateS(recAct, load<f32>(gates + 32 + o));
    const g = activateS(act, load<f32>(gates + 64 + o));
    const og = activateS(recAct, load<f32>(gates + 96 + o));
    const c = fmaddScalar(f, load<f32>(ct + o), i * g);
    store<f32>(ct + o, c);
    store<f32>(ht + o, og * activateS(act, c));
  }
}

/**
 * One tile in any ONNX form (abi.ts: the description's three activation slots, clip,
 * peepholes at `peep` ([i,f,o][8] of this tile, or 0), input_forget). Same pre-activations and
 * outputs as lstmTileUpdate; overwrites the gates.
 */
export function lstmTileGeneral(gates: usize, ct: usize, ht: usize, peep: usize, desc: usize): void {
  const clip = clipOf(desc);
  const coupled = (load<i32>(desc, RNN_DESC_FLAGS) & RNN_INPUT_FORGET) != 0;
  if (peep != 0) {
    // i and f see c_{t-1}
    for (let o: usize = 0; o < 32; o += 16) {
      const c = v128.load(ct + o);
      v128.store(gates + o, fmadd(v128.load(peep + o), c, v128.load(gates + o)));
      if (!coupled) v128.store(gates + 32 + o, fmadd(v128.load(peep + 32 + o), c, v128.load(gates + 32 + o)));
    }
  }
  clipIf(false, clip, gates, 24); // i, f, g
  activateSlot(false, desc, RNN_DESC_ACT_GATE, gates, coupled ? 8 : 16);
  activateSlot(false, desc, RNN_DESC_ACT_CANDIDATE, gates + 64, 8);
  const one = f32x4.splat(1.0);
  for (let o: usize = 0; o < 32; o += 16) {
    const i = v128.load(gates + o);
    const f = coupled ? f32x4.sub(one, i) : v128.load(gates + 32 + o);
    const c = fmadd(f, v128.load(ct + o), f32x4.mul(i, v128.load(gates + 64 + o)));
    v128.store(ct + o, c);
    v128.store(ht + o, c);
    // o sees c_t
    if (peep != 0) v128.store(gates + 96 + o, fmadd(v128.load(peep + 64 + o), c, v128.load(gates + 96 + o)));
  }
  clipIf(false, clip, gates + 96, 8);
  activateSlot(false, desc, RNN_DESC_ACT_GATE, gates + 96, 8);
  activateSlot(false, desc, RNN_DESC_ACT_CELL, ht, 8);
  v128.store(ht, f32x4.mul(v128.load(gates, 96), v128.load(ht)));
  v128.store(ht, f32x4.mul(v128.load(gates, 112), v128.load(ht, 16)), 16);
}

/** Scalar twin of lstmTileGeneral, one unit at a time. */
export function lstmTileGeneralScalar(gates: usize, ct: usize, ht: usize, peep: usize, desc: usize): void {
  const clip = clipOf(desc);
  const coupled = (load<i32>(desc, RNN_DESC_FLAGS) & RNN_INPUT_FORGET) != 0;
  if (peep != 0) {
    for (let l = 0; l < 8; l++) {
      const o = <usize>l << 2;
      const c = load<f32>(ct + o);
      store<f32>(gates + o, fmaddScalar(load<f32>(peep + o), c, load<f32>(gates + o)));
      if (!coupled) store<f32>(gates + 32 + o, fmaddScalar(load<f32>(peep + 32 + o), c, load<f32>(gates + 32 + o)));
    }
  }
  clipIf(true, clip, gates, 24);
  activateSlot(true, desc, RNN_DESC_ACT_GATE, gates, coupled ? 8 : 16);
  activateSlot(true, desc, RNN_DESC_ACT_CANDIDATE, gates + 64, 8);
  for (let l = 0; l < 8; l++) {
    const o = <usize>l << 2;
    const i = load<f32>(gates + o);
    const f: f32 = coupled ? 1.0 - i : load<f32>(gates + 32 + o);
    const c = fmaddScalar(f, load<f32>(ct + o), i * load<f32>(gates + 64 + o));
    store<f32>(ct + o, c);
    store<f32>(ht + o, c);
    if (peep != 0) store<f32>(gates + 96 + o, fmaddScalar(load<f32>(peep + 64 + o), c, load<f32>(gates + 96 + o)));
  }
  clipIf(true, clip, gates + 96, 8);
  activateSlot(true, desc, RNN_DESC_ACT_GATE, gates + 96, 8);
  activateSlot(true, desc, RNN_DESC_ACT_CELL, ht, 8);
  for (let l = 0; l < 8; l++) {
    const o = <usize>l << 2;
    store<f32>(ht + o, load<f32>(gates + 96 + o) * load<f32>(ht + o));
  }
}

/**
 * Whether a description is Keras' LSTM (two activations without parameters, the candidate's
 * also on c, no clip, peepholes or coupled gates): lstmTileUpdate's form.
 */
// @ts-ignore: decorator
@inline function kerasForm(desc: usize): bool {
  const cand = slotCode(desc, RNN_DESC_ACT_CANDIDATE);
  return cand < ACT_COUNT && slotCode(desc, RNN_DESC_ACT_GATE) < ACT_COUNT && slotCode(desc, RNN_DESC_ACT_CELL) == cand &&
    load<f32>(desc, RNN_DESC_CLIP) == 0 && load<usize>(desc, RNN_DESC_PEEPHOLES) == 0 && (load<i32>(desc, RNN_DESC_FLAGS) & RNN_INPUT_FORGET) == 0;
}

/**
 * A row's new c and h (both [tiles][8], in place) from its gates ([tile][i,f,c,o][8]). Every
 * tile's gates are computed before this runs, so h can be written while the products that
 * read it are done; each tile's update is a long chain of dependent activation work, and
 * after the products the chains of successive tiles overlap (docs/kernels.md).
 */
export function lstmUpdate(gates: usize, c: usize, h: usize, tiles: i32, desc: usize): void {
  if (kerasForm(desc)) {
    const act = slotCode(desc, RNN_DESC_ACT_CANDIDATE), recAct = slotCode(desc, RNN_DESC_ACT_GATE);
    for (let tile = 0; tile < tiles; tile++) {
      lstmTileUpdate(gates + (<usize>tile << 7), c + (<usize>tile << 5), h + (<usize>tile << 5), act, recAct);
    }
    return;
  }
  const peep = load<usize>(desc, RNN_DESC_PEEPHOLES);
  for (let tile = 0; tile < tiles; tile++) {
    lstmTileGeneral(gates + (<usize>tile << 7), c + (<usize>tile << 5), h + (<usize>tile << 5), peep != 0 ? peep + <usize>tile * 96 : 0, desc);
  }
}

/** Scalar twin of lstmUpdate. */
export function lstmUpdateScalar(gates: usize, c: usize, h: usize, tiles: i32, desc: usize): void {
  if (kerasForm(desc)) {
    const act = slotCode(desc, RNN_DESC_ACT_CANDIDATE), recAct = slotCode(desc, RNN_DESC_ACT_GATE);
    for (let tile = 0; tile < tiles; tile++) {
      lstmTileUpdateScalar(gates + (<usize>tile << 7), c + (<usize>tile << 5), h + (<usize>tile << 5), act, recAct);
    }
    return;
  }
  const peep = load<usize>(desc, RNN_DESC_PEEPHOLES);
  for (let tile = 0; tile < tiles; tile++) {
    lstmTileGeneralScalar(gates + (<usize>tile << 7), c + (<usize>tile << 5), h + (<usize>tile << 5), peep != 0 ? peep + <usize>tile * 96 : 0, desc);
  }
}

/** Bytes of work one row step needs: the row's gates (4·U8 floats). */
// @ts-ignore: decorator
@inline export function lstmRowWork(u: i32): f64 {
  return <f64>padUnits(u) * 16;
}

/**
 * One row, one step: gates = xr + h·U (xr: the row's xp row, [tile][i,f,c,o][8]; U: f32 panels
 * in [tile][gate] order), then the update. gates: lstmRowWork(u) bytes.
 */
export function lstmRow(scalar: bool, u: i32, xr: usize, wRec: usize, h: usize, c: usize, gates: usize, desc: usize): void {
  const P = padUnits(u) >> 1; // 4 gates per tile of 8 units
  if (scalar) {
    f32_gemm_tiles_scalar(1, P, u, h, u, wRec, xr, gates, P << 3, P << 3);
    lstmUpdateScalar(gates, c, h, P >> 2, desc);
  } else {
    f32_dot_panels(xr, wRec, <usize>u << 5, h, u, gates, P);
    lstmUpdate(gates, c, h, P >> 2, desc);
  }
}

/**
 * One row's first step with the input projection fused in (f32 weights, SIMD): gates = bias +
 * x·W + h·U as two runs of panel passes, summed in the order the projection-then-lstmRow path
 * uses (bias, x by ascending k, then h by ascending k), so the two, and the scalar twin of
 * that path, agree bit for bit. A streaming step saves the xp round trip and the projection's
 * dispatch (docs/kernels.md). x: the row's K inputs; W: the input kernel's panels; bias: 4·U8
 * floats or 0.
 */
export function lstmFusedRow(
  u: i32, x: usize, K: i32, W: usize, bias: usize, wRec: usize, h: usize, c: usize, gates: usize, desc: usize,
): void {
  const P = padUnits(u) >> 1;
  f32_dot_panels(bias, W, <usize>K << 5, x, K, gates, P);
  f32_dot_panels(gates, wRec, <usize>u << 5, h, u, gates, P);
  lstmUpdate(gates, c, h, P >> 2, desc);
}

/** Bytes of work one batched step needs: every row's gates, then the int8 product's scratch. */
// @ts-ignore: decorator
@inline export function lstmBatchWork(B: i32, u: i32, int8: bool): f64 {
  return <f64>B * <f64>padUnits(u) * 16 + recurrentProductScratch(int8, B, u);
}

/**
 * Every row, one step: one recurrent product h·U over the B rows into work ([B][tile][gate][8]),
 * then per live row its xp row added and the update. xp: [B][T][tile][gate][8]; row b reads
 * its time index tIn. wRec: untagged; int8 says whether it holds int8 panels (their column
 * scales follow them). work: lstmBatchWork bytes.
 */
export function lstmBatch(
  scalar: bool, int8: bool, B: i32, T: i32, tIn: i32, u: i32, xp: usize, wRec: usize, h: usize, c: usize,
  work: usize, mask: usize, desc: usize,
): void {
  const U8 = padUnits(u);
  const tiles = U8 >> 3;
  const rowBytes = <usize>U8 << 2;
  const gateRow = rowBytes << 2;
  const q = work + <usize>B * gateRow;
  recurrentProduct(scalar, int8, B, tiles << 2, u, h, wRec, wRec + recurrentTileBytes(int8, 4, u), 0, work, U8 << 2, q);
  for (let b = 0; b < B; b++) {
    if (!rowLive(mask, T, b, tIn)) continue;
    const g = work + <usize>b * gateRow;
    const xr = xp + (<usize>b * <usize>T + <usize>tIn) * gateRow;
    const hb = h + <usize>b * rowBytes;
    const cb = c + <usize>b * rowBytes;
    if (scalar) {
      addTilesScalar(g, 128, xr, 128, tiles, 32);
      lstmUpdateScalar(g, cb, hb, tiles, desc);
    } else {
      addTiles(g, 128, xr, 128, tiles, 32);
      lstmUpdate(g, cb, hb, tiles, desc);
    }
  }
}
