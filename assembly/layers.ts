// Non-recurrent layer kernels. Rows are contiguous float32, any length (v128 loads need no
// alignment in wasm; the tail past a multiple of 4 runs scalar). Each SIMD kernel has a
// `_scalar` twin used by the tests.

import { fmadd, hmax, hsum } from "./simd";
import { expS, expV } from "./math";
import { BIN_ADD, BIN_MAX, BIN_MIN, BIN_MUL, POOL_AVG, POOL_MAX } from "./abi";

// ---------------------------------------------------------------- softmax

/** Row-wise softmax in place: exp(x - max) / sum. */
export function f32_softmax(rows: i32, n: i32, x: usize): void {
  const n4 = n & ~3;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>n) << 2);
    const end4 = row + (<usize>n4 << 2);
    const end = row + (<usize>n << 2);
    let mv = f32x4.splat(-Infinity);
    for (let p = row; p < end4; p += 16) mv = f32x4.max(mv, v128.load(p));
    let m = hmax(mv);
    for (let p = end4; p < end; p += 4) m = max(m, load<f32>(p));
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    for (let p = row; p < end4; p += 16) {
      const e = expV(f32x4.sub(v128.load(p), ms));
      v128.store(p, e);
      sv = f32x4.add(sv, e);
    }
    let sum = hsum(sv);
    for (let p = end4; p < end; p += 4) {
      const e = expS(load<f32>(p) - m);
      store<f32>(p, e);
      sum += e;
    }
    const inv = f32x4.splat(<f32>1.0 / sum);
    for (let p = row; p < end4; p += 16) v128.store(p, f32x4.mul(v128.load(p), inv));
    const invs: f32 = 1.0 / sum;
    for (let p = end4; p < end; p += 4) store<f32>(p, load<f32>(p) * invs);
  }
}

export function f32_softmax_scalar(rows: i32, n: i32, x: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>n) << 2);
    let m: f32 = -Infinity;
    for (let i = 0; i < n; i++) m = max(m, load<f32>(row + (<usize>i << 2)));
    let sum: f32 = 0;
    for (let i = 0; i < n; i++) {
      const e = expS(load<f32>(row + (<usize>i << 2)) - m);
      store<f32>(row + (<usize>i << 2), e);
      sum += e;
    }
    const inv: f32 = 1.0 / sum;
    for (let i = 0; i < n; i++) store<f32>(row + (<usize>i << 2), load<f32>(row + (<usize>i << 2)) * inv);
  }
}

// ---------------------------------------------------------------- pooling over time

/**
 * x [B][T][F] -> out [B][F]: mean or max over the unmasked timesteps (mask u8 [B][T], or 0
 * for none). A row whose steps are all masked gives 0 (Keras would divide by zero: NaN).
 */
export function f32_global_pool(B: i32, T: i32, F: i32, x: usize, mask: usize, out: usize, mode: i32): void {
  const F4 = F & ~3;
  const rowBytes = <usize>F << 2;
  for (let b = 0; b < B; b++) {
    const o = out + <usize>b * rowBytes;
    const init: f32 = mode == POOL_MAX ? -Infinity : 0;
    for (let i = 0; i < F; i++) store<f32>(o + (<usize>i << 2), init);
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (mask != 0 && load<u8>(mask + <usize>b * <usize>T + <usize>t) == 0) continue;
      count++;
      const xr = x + (<usize>b * <usize>T + <usize>t) * rowBytes;
      let i = 0;
      if (mode == POOL_MAX) {
        for (; i < F4; i += 4) {
          const p = <usize>i << 2;
          v128.store(o + p, f32x4.max(v128.load(o + p), v128.load(xr + p)));
        }
        for (; i < F; i++) {
          const p = <usize>i << 2;
          store<f32>(o + p, max(load<f32>(o + p), load<f32>(xr + p)));
        }
      } else {
        for (; i < F4; i += 4) {
          const p = <usize>i << 2;
          v128.store(o + p, f32x4.add(v128.load(o + p), v128.load(xr + p)));
        }
        for (; i < F; i++) {
          const p = <usize>i << 2;
          store<f32>(o + p, load<f32>(o + p) + load<f32>(xr + p));
        }
      }
    }
    if (count == 0) {
      memory.fill(o, 0, rowBytes);
    } else if (mode == POOL_AVG) {
      const inv: f32 = 1.0 / <f32>count;
      for (let i = 0; i < F; i++) store<f32>(o + (<usize>i << 2), load<f32>(o + (<usize>i << 2)) * inv);
    }
  }
}

export function f32_global_pool_scalar(B: i32, T: i32, F: i32, x: usize, mask: usize, out: usize, mode: i32): void {
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) if (mask == 0 || load<u8>(mask + <usize>b * <usize>T + <usize>t) != 0) count++;
    for (let i = 0; i < F; i++) {
      let acc: f32 = mode == POOL_MAX ? -Infinity : 0;
      for (let t = 0; t < T; t++) {
        if (mask != 0 && load<u8>(mask + <usize>b * <usize>T + <usize>t) == 0) continue;
        const v = load<f32>(x + (((<usize>b * <usize>T + <usize>t) * <usize>F + <usize>i) << 2));
        acc = mode == POOL_MAX ? max(acc, v) : acc + v;
      }
      if (count == 0) acc = 0;
      else if (mode == POOL_AVG) acc = acc * (<f32>1.0 / <f32>count);
      store<f32>(out + ((<usize>b * <usize>F + <usize>i) << 2), acc);
    }
  }
}

/**
 * MaxPooling1D / AveragePooling1D: x [B][Tin][F] -> out [B][Tout][F]. Window t covers input
 * steps [t*stride - padLeft, + poolSize); steps outside the input are skipped, and the
 * average divides by the steps inside (TensorFlow's SAME padding excludes the padding).
 */
export function f32_pool1d(
  B: i32, Tin: i32, F: i32, x: usize, Tout: i32, poolSize: i32, stride: i32, padLeft: i32, mode: i32, out: usize,
): void {
  const rowBytes = <usize>F << 2;
  const F4 = F & ~3;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Tout; t++) {
      const o = out + (<usize>b * <usize>Tout + <usize>t) * rowBytes;
      const start = max(0, t * stride - padLeft);
      const stop = min(Tin, t * stride - padLeft + poolSize);
      const init = f32x4.splat(mode == POOL_MAX ? -Infinity : 0);
      let i = 0;
      for (; i < F4; i += 4) {
        let acc = init;
        for (let s = start; s < stop; s++) {
          const v = v128.load(x + (<usize>b * <usize>Tin + <usize>s) * rowBytes + (<usize>i << 2));
          acc = mode == POOL_MAX ? f32x4.max(acc, v) : f32x4.add(acc, v);
        }
        if (mode != POOL_MAX) acc = f32x4.mul(acc, f32x4.splat(<f32>1.0 / <f32>max(1, stop - start)));
        v128.store(o + (<usize>i << 2), acc);
      }
      for (; i < F; i++) {
        let acc: f32 = mode == POOL_MAX ? -Infinity : 0;
        for (let s = start; s < stop; s++) {
          const v = load<f32>(x + (<usize>b * <usize>Tin + <usize>s) * rowBytes + (<usize>i << 2));
          acc = mode == POOL_MAX ? max(acc, v) : acc + v;
        }
        if (mode != POOL_MAX) acc *= <f32>1.0 / <f32>max(1, stop - start);
        store<f32>(o + (<usize>i << 2), acc);
      }
    }
  }
}

// ---------------------------------------------------------------- conv1d support

/**
 * im2col for Conv1D: out row (b, t) = concat over taps j of x[b, t*stride + j*dilation - padLeft, :]
 * (zeros outside the input), so the convolution is one f32_gemm with K = kernel*Cin.
 */
export function f32_im2col_1d(
  B: i32, Tin: i32, Cin: i32, x: usize, Tout: i32, kernel: i32, stride: i32, dilation: i32, padLeft: i32, out: usize,
): void {
  const rowBytes = <usize>Cin << 2;
  let o = out;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Tout; t++) {
      const s0 = t * stride - padLeft;
      if (dilation == 1 && s0 >= 0 && s0 + kernel <= Tin) {
        // the whole window inside the input and contiguous: one copy
        memory.copy(o, x + (<usize>b * <usize>Tin + <usize>s0) * rowBytes, <usize>kernel * rowBytes);
        o += <usize>kernel * rowBytes;
        continue;
      }
      for (let j = 0; j < kernel; j++) {
        const s = t * stride + j * dilation - padLeft;
        if (s < 0 || s >= Tin) memory.fill(o, 0, rowBytes);
        else memory.copy(o, x + (<usize>b * <usize>Tin + <usize>s) * rowBytes, rowBytes);
        o += rowBytes;
      }
    }
  }
}

// ---------------------------------------------------------------- normalisation

/** y[r, i] = x[r, i] * scale[i] + shift[i] (BatchNormalization folded at load). In place OK. */
export function f32_scale_shift(rows: i32, F: i32, x: usize, scale: usize, shift: usize, out: usize): void {
  const F4 = F & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>F) << 2);
    const orow = out + ((<usize>r * <usize>F) << 2);
    let i = 0;
    for (; i < F4; i += 4) {
      const p = <usize>i << 2;
      v128.store(orow + p, fmadd(v128.load(xr + p), v128.load(scale + p), v128.load(shift + p)));
    }
    for (; i < F; i++) {
      const p = <usize>i << 2;
      store<f32>(orow + p, load<f32>(xr + p) * load<f32>(scale + p) + load<f32>(shift + p));
    }
  }
}

export function f32_scale_shift_scalar(rows: i32, F: i32, x: usize, scale: usize, shift: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < F; i++) {
      const p = ((<usize>r * <usize>F + <usize>i) << 2);
      const q = <usize>i << 2;
      store<f32>(out + p, load<f32>(x + p) * load<f32>(scale + q) + load<f32>(shift + q));
    }
  }
}

/**
 * LayerNormalization over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta, with
 * gamma / beta optional (0). Mean and variance in f64 (two passes) so long rows stay exact.
 */
export function f32_layer_norm(rows: i32, F: i32, x: usize, gamma: usize, beta: usize, eps: f32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>F) << 2);
    const orow = out + ((<usize>r * <usize>F) << 2);
    let mean: f64 = 0;
    for (let i = 0; i < F; i++) mean += <f64>load<f32>(xr + (<usize>i << 2));
    mean /= <f64>F;
    let v: f64 = 0;
    for (let i = 0; i < F; i++) {
      const d = <f64>load<f32>(xr + (<usize>i << 2)) - mean;
      v += d * d;
    }
    v /= <f64>F;
    const inv = <f32>(1.0 / Math.sqrt(v + <f64>eps));
    const m = <f32>mean;
    for (let i = 0; i < F; i++) {
      const p = <usize>i << 2;
      let y = (load<f32>(xr + p) - m) * inv;
      if (gamma != 0) y *= load<f32>(gamma + p);
      if (beta != 0) y += load<f32>(beta + p);
      store<f32>(orow + p, y);
    }
  }
}

// ---------------------------------------------------------------- elementwise

/** out = a op b over n floats (out may alias a or b). */
export function f32_binary(op: i32, n: i32, a: usize, b: usize, out: usize): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const p = <usize>i << 2;
    const x = v128.load(a + p), y = v128.load(b + p);
    let r: v128;
    switch (op) {
      case BIN_ADD: r = f32x4.add(x, y); break;
      case BIN_MUL: r = f32x4.mul(x, y); break;
      case BIN_MAX: r = f32x4.max(x, y); break;
      case BIN_MIN: r = f32x4.min(x, y); break;
      default: r = f32x4.sub(x, y);
    }
    v128.store(out + p, r);
  }
  f32_binary_scalar_range(op, i, n, a, b, out);
}

function f32_binary_scalar_range(op: i32, from: i32, n: i32, a: usize, b: usize, out: usize): void {
  for (let i = from; i < n; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(a + p), y = load<f32>(b + p);
    let r: f32;
    switch (op) {
      case BIN_ADD: r = x + y; break;
      case BIN_MUL: r = x * y; break;
      case BIN_MAX: r = max(x, y); break;
      case BIN_MIN: r = min(x, y); break;
      default: r = x - y;
    }
    store<f32>(out + p, r);
  }
}

export function f32_binary_scalar(op: i32, n: i32, a: usize, b: usize, out: usize): void {
  f32_binary_scalar_range(op, 0, n, a, b, out);
}

/** x *= s over n floats. */
export function f32_scale(n: i32, x: usize, s: f32): void {
  const n4 = n & ~3;
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i < n4; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), sv));
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * s);
}

/**
 * Keras ReLU layer: x >= maxValue -> maxValue; threshold <= x < maxValue -> x;
 * x < threshold -> negativeSlope * (x - threshold). maxValue may be +Infinity.
 */
export function f32_relu_general(n: i32, x: usize, maxValue: f32, negativeSlope: f32, threshold: f32): void {
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 2);
    const v = load<f32>(p);
    let y = v >= threshold ? v : negativeSlope * (v - threshold);
    if (y > maxValue) y = maxValue;
    store<f32>(p, y);
  }
}

/** Embedding lookup: out[i] = table[ids[i]]. Ids are range-checked by the caller. */
export function f32_gather_rows(n: i32, ids: usize, table: usize, dim: i32, out: usize): void {
  const rowBytes = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(out + <usize>i * rowBytes, table + id * rowBytes, rowBytes);
  }
}
