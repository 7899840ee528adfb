// Attention of queries over keys and values (Keras Attention, AdditiveAttention and
// MultiHeadAttention): per batch row, head and query, a row of scores over the keys, masked,
// a softmax, and the weighted sum of the values. One kernel rather than a product, a softmax
// and a product of the general tensor ops (tensor.ts) because those cannot read the byte masks
// of a sequence, a causal mask of any length, or a session's growing cache of past keys and
// values (the `past` keys before this call's queries). The layout of a call is a description
// block (ATTN_* below) that attentionDescribe fills.
//
// Masked scores are lowered by 1e9 in float32 before the softmax, as Keras does (Attention's
// `scores -= 1e9 * mask`, the Softmax layer's `x + (1 - mask) * -1e9`): a row with an unmasked
// key gives masked keys weight exactly 0; a row with every key masked spreads its weight over
// the keys whose lowered scores round to the same float32 (all of them for |score| < 32), unless
// ATTN_ZERO_MASKED zeroes masked weights after the softmax (Keras 3.10+).
//
// Scores are one dot product (or additive sum) per key, d ascending, in both builds; the SIMD
// build vectorises the softmax and the weighted sum of the values (4 value features at a
// time, keys in order), so the twins differ only in the softmax's lane sums.

import {
  ATTN_ADDITIVE, ATTN_CACHED, ATTN_CAUSAL, ATTN_KEEP_WEIGHTS, ATTN_MASK_QUERY_OUTPUT, ATTN_MASK_QUERY_ROWS, ATTN_ZERO_MASKED,
} from "./abi";
import { f32_softmax, f32_softmax_scalar } from "./layers";
import * as m from "./math";
import { fmadd, fmaddScalar } from "./simd";

// The description block (abi.ts ATTN_DESC_BYTES), written only by attentionDescribe: i32 fields
// at these byte offsets (f32 where marked). Strides count floats (masks: bytes).
const ATTN_BATCH = 0;
const ATTN_HEADS = 4;
const ATTN_QUERIES = 8;
/** Features per head of queries and keys, and of values (and outputs). */
const ATTN_KEY_DIM = 12;
const ATTN_VALUE_DIM = 16;
/** From one query (key, value, output, query-mask byte, key-mask byte) to the next, and from one batch row's to the next. */
const ATTN_Q_STEP = 20;
const ATTN_Q_BATCH = 24;
const ATTN_K_STEP = 28;
const ATTN_K_BATCH = 32;
const ATTN_V_STEP = 36;
const ATTN_V_BATCH = 40;
const ATTN_O_STEP = 44;
const ATTN_O_BATCH = 48;
const ATTN_QM_STEP = 52;
const ATTN_QM_BATCH = 56;
const ATTN_KM_STEP = 60;
const ATTN_KM_BATCH = 64;
/** The flags of abi.ts but ATTN_CACHED. */
const ATTN_FLAGS = 68;
/** f32: dot scores are multiplied by it; additive ones: the factor outside the sum. */
const ATTN_SCORE_SCALE = 72;
/** f32: additive scores sum tanh(ATTN_TANH_SCALE·(q + k)). */
const ATTN_TANH_SCALE = 76;

/** The bias Keras subtracts from masked scores. */
const MASKED: f32 = 1.0e9;

function tanhS(x: f32): f32 { return m.tanhS(x); }

// @ts-ignore: decorator
@inline function field(desc: usize, at: i32): i32 {
  return load<i32>(desc + <usize>at);
}

// @ts-ignore: decorator
@inline function floats(base: usize, n: i32): usize {
  return base + (<usize>n << 2);
}

/** Whether key j of query i (batch row b) is masked: causality, the key mask, or a masked query row. */
// @ts-ignore: decorator
@inline function keyMasked(flags: i32, j: i32, i: i32, past: i32, kMask: usize, kmAt: usize, kmStep: i32, rowMasked: bool): bool {
  return ((flags & ATTN_CAUSAL) != 0 && j > past + i) || (kMask != 0 && load<u8>(kmAt + <usize>(j * kmStep)) == 0) || rowMasked;
}

/**
 * Fills the description block at desc (abi.ts, ATTN_*) for B batch rows of Tq queries and Tv
 * keys, H heads of Dk (queries, keys) and Dv (values) features, flags (ATTN_CACHED: keys,
 * values and key mask laid out as a session's cache) and the two scales.
 */
export function attentionDescribe(desc: usize, B: i32, H: i32, Tq: i32, Tv: i32, Dk: i32, Dv: i32, flags: i32, scoreScale: f32, tanhScale: f32): void {
  const cached = (flags & ATTN_CACHED) != 0;
  store<i32>(desc, B, ATTN_BATCH);
  store<i32>(desc, H, ATTN_HEADS);
  store<i32>(desc, Tq, ATTN_QUERIES);
  store<i32>(desc, Dk, ATTN_KEY_DIM);
  store<i32>(desc, Dv, ATTN_VALUE_DIM);
  store<i32>(desc, H * Dk, ATTN_Q_STEP);
  store<i32>(desc, Tq * H * Dk, ATTN_Q_BATCH);
  store<i32>(desc, H * Dv, ATTN_O_STEP);
  store<i32>(desc, Tq * H * Dv, ATTN_O_BATCH);
  store<i32>(desc, 1, ATTN_QM_STEP);
  store<i32>(desc, Tq, ATTN_QM_BATCH);
  store<i32>(desc, cached ? B * H * Dk : H * Dk, ATTN_K_STEP);
  store<i32>(desc, cached ? H * Dk : Tv * H * Dk, ATTN_K_BATCH);
  store<i32>(desc, cached ? B * H * Dv : H * Dv, ATTN_V_STEP);
  store<i32>(desc, cached ? H * Dv : Tv * H * Dv, ATTN_V_BATCH);
  store<i32>(desc, cached ? B : 1, ATTN_KM_STEP);
  store<i32>(desc, cached ? 1 : Tv, ATTN_KM_BATCH);
  store<i32>(desc, flags & ~ATTN_CACHED, ATTN_FLAGS);
  store<f32>(desc + <usize>ATTN_SCORE_SCALE, scoreScale);
  store<f32>(desc + <usize>ATTN_TANH_SCALE, tanhScale);
}

function score(additive: bool, q: usize, k: usize, D: i32, factors: usize, c: f32, t: f32): f32 {
  let s: f32 = 0;
  if (additive) {
    for (let d = 0; d < D; d++) {
      const a: f32 = factors != 0 ? load<f32>(floats(factors, d)) : 1;
      s += a * tanhS(t * (load<f32>(floats(q, d)) + load<f32>(floats(k, d))));
    }
  } else {
    for (let d = 0; d < D; d++) s += load<f32>(floats(q, d)) * load<f32>(floats(k, d));
  }
  return c * s;
}

/**
 * Attention for every batch row, head and query of the call described at desc, over `keys`
 * keys of which the first `past` precede the first query in time (a session's cache; 0
 * otherwise). q, k, v, out: float rows at the strides of the description; qMask, kMask: u8
 * masks (0: none); factors: additive attention's per-feature factors (H·Dk floats) or 0;
 * weights: [B][H][queries][keys] floats with ATTN_KEEP_WEIGHTS, else scratch of `keys` floats.
 */
function attend(simd: bool, desc: usize, keys: i32, past: i32, q: usize, k: usize, v: usize, qMask: usize, kMask: usize,
  factors: usize, out: usize, weights: usize): void {
  const B = field(desc, ATTN_BATCH);
  const H = field(desc, ATTN_HEADS);
  const Tq = field(desc, ATTN_QUERIES);
  const Dk = field(desc, ATTN_KEY_DIM);
  const Dv = field(desc, ATTN_VALUE_DIM);
  const flags = field(desc, ATTN_FLAGS);
  const c = load<f32>(desc + <usize>ATTN_SCORE_SCALE);
  const t = load<f32>(desc + <usize>ATTN_TANH_SCALE);
  const additive = (flags & ATTN_ADDITIVE) != 0;
  const kmStep = field(desc, ATTN_KM_STEP);
  const Dv4 = simd ? Dv & ~3 : 0;
  for (let b = 0; b < B; b++) {
    const kmAt = kMask + <usize>(b * field(desc, ATTN_KM_BATCH));
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Tq; i++) {
        const qi = floats(q, b * field(desc, ATTN_Q_BATCH) + i * field(desc, ATTN_Q_STEP) + h * Dk);
        const queryMasked = qMask != 0 && load<u8>(qMask + <usize>(b * field(desc, ATTN_QM_BATCH) + i * field(desc, ATTN_QM_STEP))) == 0;
        const rowMasked = queryMasked && (flags & ATTN_MASK_QUERY_ROWS) != 0;
        const row = (flags & ATTN_KEEP_WEIGHTS) != 0 ? floats(weights, ((b * H + h) * Tq + i) * keys) : weights;
        for (let j = 0; j < keys; j++) {
          const kj = floats(k, b * field(desc, ATTN_K_BATCH) + j * field(desc, ATTN_K_STEP) + h * Dk);
          let s = score(additive, qi, kj, Dk, factors != 0 ? floats(factors, h * Dk) : 0, c, t);
          if (keyMasked(flags, j, i, past, kMask, kmAt, kmStep, rowMasked)) s -= MASKED;
          store<f32>(floats(row, j), s);
        }
        if (simd) f32_softmax(1, keys, row);
        else f32_softmax_scalar(1, keys, row);
        if ((flags & ATTN_ZERO_MASKED) != 0) {
          for (let j = 0; j < keys; j++) if (keyMasked(flags, j, i, past, kMask, kmAt, kmStep, rowMasked)) store<f32>(floats(row, j), 0);
        }
        const o = floats(out, b * field(desc, ATTN_O_BATCH) + i * field(desc, ATTN_O_STEP) + h * Dv);
        memory.fill(o, 0, <usize>Dv << 2);
        if (queryMasked && (flags & ATTN_MASK_QUERY_OUTPUT) != 0) continue;
        for (let j = 0; j < keys; j++) {
          const w = load<f32>(floats(row, j));
          const vj = floats(v, b * field(desc, ATTN_V_BATCH) + j * field(desc, ATTN_V_STEP) + h * Dv);
          const ws = f32x4.splat(w);
          let e = 0;
          for (; e < Dv4; e += 4) v128.store(floats(o, e), fmadd(ws, v128.load(floats(vj, e)), v128.load(floats(o, e))));
          for (; e < Dv; e++) store<f32>(floats(o, e), fmaddScalar(w, load<f32>(floats(vj, e)), load<f32>(floats(o, e))));
        }
      }
    }
  }
}

export function f32_attention(desc: usize, keys: i32, past: i32, q: usize, k: usize, v: usize, qMask: usize, kMask: usize,
  factors: usize, out: usize, weights: usize): void {
  attend(true, desc, keys, past, q, k, v, qMask, kMask, factors, out, weights);
}

export function f32_attention_scalar(desc: usize, keys: i32, past: i32, q: usize, k: usize, v: usize, qMask: usize, kMask: usize,
  factors: usize, out: usize, weights: usize): void {
  attend(false, desc, keys, past, q, k, v, qMask, kMask, factors, out, weights);
}
