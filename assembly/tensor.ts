// Kernels for general tensor graphs (ONNX): strided copies (transpose, slice, concat, pad,
// broadcast), elementwise ops with broadcasting, parameterised unary ops, reductions and
// softmax along any axis, and the product of two runtime matrices. Shapes and strides are
// passed as i32 arrays in memory (written once per plan by the executor), strides in elements
// and possibly negative or zero. Each SIMD kernel has a `_scalar` twin doing the same float32
// operations in the same order (bit-identical in the baseline build).

import * as m from "./math";
import {
  TB_ADD, TB_DIV, TB_MAX, TB_MUL, TB_POW, TB_SUB, TU_ABS, TU_AFFINE, TU_CEIL, TU_CLIP, TU_ELU, TU_ERF, TU_FLOOR,
  TU_HARD_SIGMOID, TU_LEAKY_RELU, TU_LOG, TU_NEG, TU_RECIPROCAL, TU_ROUND, TU_SCALED_TANH, TU_SELU, TU_SIGN, TU_SQRT,
  TU_SQUARE, TU_THRESHOLDED_RELU, TU_VECTOR, TR_L1, TR_L2, TR_LOG_SUM, TR_LOG_SUM_EXP, TR_MAX, TR_MEAN, TR_MIN, TR_PROD,
  TR_SUM_SQUARE,
} from "./abi";

// The transcendental functions as calls, not inlined copies: these kernels are not on a
// recurrent hot path, and each inlined copy costs hundreds of bytes of the module.
function expS(x: f32): f32 { return m.expS(x); }
function expV(x: v128): v128 { return m.expV(x); }
function logS(x: f32): f32 { return m.logS(x); }
function logV(x: v128): v128 { return m.logV(x); }
function erfS(x: f32): f32 { return m.erfS(x); }
function tanhS(x: f32): f32 { return m.tanhS(x); }

// @ts-ignore: decorator
@inline function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function at(base: usize, elements: i32): usize {
  // element offsets may be negative: wasm32 pointer arithmetic wraps
  return base + <usize>(elements << 2);
}

/**
 * Offsets of outer row `o` (the odometer position over shape[0 .. rank-2]) in a source and a
 * destination with their strides: [src, dst] packed in an i64.
 */
// @ts-ignore: decorator
@inline function rowOffsets(o: i32, last: i32, shape: usize, aStrides: usize, bStrides: usize): i64 {
  let rem = o;
  let a = 0, b = 0;
  for (let i = last - 1; i >= 0; i--) {
    const d = i32At(shape, i);
    const c = rem % d;
    rem /= d;
    a += c * i32At(aStrides, i);
    b += c * i32At(bStrides, i);
  }
  return (<i64>a << 32) | <i64><u32>b;
}

function outerCount(rank: i32, shape: usize): i32 {
  let n = 1;
  for (let i = 0; i < rank - 1; i++) n *= i32At(shape, i);
  return n;
}

// ---------------------------------------------------------------- strided copy

/**
 * dst[Σ c_i·dstStrides_i] = src[Σ c_i·srcStrides_i] for every index c of `shape` (rank >= 1):
 * transpose, slice (negative steps too), concat into a sub-block, pad, broadcast (stride 0).
 * Rows whose last axis is contiguous on both sides are one memory.copy.
 */
export function f32_copy_strided(rank: i32, shape: usize, srcStrides: usize, src: usize, dstStrides: usize, dst: usize): void {
  const last = rank - 1;
  const n = i32At(shape, last);
  const ss = i32At(srcStrides, last);
  const ds = i32At(dstStrides, last);
  const outer = outerCount(rank, shape);
  for (let o = 0; o < outer; o++) {
    const offs = rowOffsets(o, last, shape, srcStrides, dstStrides);
    const sp = at(src, <i32>(offs >> 32));
    const dp = at(dst, <i32>offs);
    if (ss == 1 && ds == 1) memory.copy(dp, sp, <usize>n << 2);
    else for (let j = 0; j < n; j++) store<f32>(at(dp, j * ds), load<f32>(at(sp, j * ss)));
  }
}

/** out[0 .. n) = value. */
export function f32_fill(n: i32, value: f32, out: usize): void {
  const v = f32x4.splat(value);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}

// ---------------------------------------------------------------- binary with broadcasting


// @ts-ignore: decorator
@inline function binaryS(op: i32, x: f32, y: f32): f32 {
  switch (op) {
    case TB_ADD: return x + y;
    case TB_SUB: return x - y;
    case TB_MUL: return x * y;
    case TB_DIV: return x / y;
    case TB_POW: return powS(x, y);
    case TB_MAX: return max(x, y);
    default: return min(x, y);
  }
}

// @ts-ignore: decorator
@inline function binaryV(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case TB_ADD: return f32x4.add(x, y);
    case TB_SUB: return f32x4.sub(x, y);
    case TB_MUL: return f32x4.mul(x, y);
    case TB_DIV: return f32x4.div(x, y);
    case TB_MAX: return f32x4.max(x, y);
    default: return f32x4.min(x, y);
  }
}

function binaryRowScalar(op: i32, n: i32, from: i32, a: usize, as: i32, b: usize, bs: i32, out: usize): void {
  for (let j = from; j < n; j++) store<f32>(out + (<usize>j << 2), binaryS(op, load<f32>(at(a, j * as)), load<f32>(at(b, j * bs))));
}

/**
 * out (contiguous, `shape`) = a op b, each operand read through its strides (0 along an axis it
 * is broadcast on). Rows whose operands are contiguous or broadcast scalars run 4 lanes at a time.
 */
export function f32_binary_strided(op: i32, rank: i32, shape: usize, aStrides: usize, a: usize, bStrides: usize, b: usize, out: usize): void {
  const last = rank - 1;
  const n = i32At(shape, last);
  const as = i32At(aStrides, last);
  const bs = i32At(bStrides, last);
  const outer = outerCount(rank, shape);
  const vector = op != TB_POW && (as == 1 || as == 0) && (bs == 1 || bs == 0);
  const n4 = vector ? n & ~3 : 0;
  for (let o = 0; o < outer; o++) {
    const offs = rowOffsets(o, last, shape, aStrides, bStrides);
    const ap = at(a, <i32>(offs >> 32));
    const bp = at(b, <i32>offs);
    const op_ = out + (<usize>(o * n) << 2);
    const av = f32x4.splat(load<f32>(ap));
    const bv = f32x4.splat(load<f32>(bp));
    for (let j = 0; j < n4; j += 4) {
      const x = as ? v128.load(ap + (<usize>j << 2)) : av;
      const y = bs ? v128.load(bp + (<usize>j << 2)) : bv;
      v128.store(op_ + (<usize>j << 2), binaryV(op, x, y));
    }
    binaryRowScalar(op, n, n4, ap, as, bp, bs, op_);
  }
}

export function f32_binary_strided_scalar(op: i32, rank: i32, shape: usize, aStrides: usize, a: usize, bStrides: usize, b: usize, out: usize): void {
  const last = rank - 1;
  const n = i32At(shape, last);
  const outer = outerCount(rank, shape);
  for (let o = 0; o < outer; o++) {
    const offs = rowOffsets(o, last, shape, aStrides, bStrides);
    binaryRowScalar(op, n, 0, at(a, <i32>(offs >> 32)), i32At(aStrides, last), at(b, <i32>offs), i32At(bStrides, last), out + (<usize>(o * n) << 2));
  }
}

// ---------------------------------------------------------------- unary with parameters

// Unary codes (abi.ts TU_*): the first TU_VECTOR run 4 lanes at a time, the rarer ones one
// value at a time in both builds.

/**
 * x^y: exact repeated multiplication for integer y (|y| <= 64), else exp(y·log x) (NaN for
 * x < 0, as Mathf.pow; relative error ~1e-6), without libm's 900-byte pow.
 */
export function powS(x: f32, y: f32): f32 {
  if (y == floor(y) && abs(y) <= 64) {
    let n = <i32>abs(y);
    let r: f32 = 1, b = x;
    while (n) {
      if (n & 1) r *= b;
      b *= b;
      n >>= 1;
    }
    return y < 0 ? <f32>1.0 / r : r;
  }
  if (x < 0) return NaN;
  if (x == 0) return y > 0 ? 0 : Infinity;
  return expS(y * logS(x));
}

function unaryS(fn: i32, x: f32, alpha: f32, beta: f32): f32 {
  switch (fn) {
    case TU_NEG: return -x;
    case TU_ABS: return abs(x);
    case TU_SQRT: return sqrt(x);
    case TU_RECIPROCAL: return <f32>1.0 / x;
    case TU_SQUARE: return x * x;
    case TU_AFFINE: return alpha * x + beta;
    case TU_CLIP: return min(max(x, alpha), beta);
    case TU_HARD_SIGMOID: return max(<f32>0, min(<f32>1, alpha * x + beta));
    case TU_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case TU_LOG: return logS(x);
    case TU_ELU: return x >= 0 ? x : alpha * (expS(x) - 1);
    case TU_SELU: return beta * (x > 0 ? x : alpha * (expS(x) - 1));
    case TU_THRESHOLDED_RELU: return x > alpha ? x : 0;
    case TU_SCALED_TANH: return alpha * tanhS(beta * x);
    case TU_FLOOR: return floor(x);
    case TU_CEIL: return ceil(x);
    case TU_ROUND: return nearest(x);
    case TU_SIGN: return x > 0 ? 1 : x < 0 ? -1 : x;
    case TU_ERF: return erfS(x);
    default: return powS(x, alpha);
  }
}

// @ts-ignore: decorator
@inline function unaryV(fn: i32, x: v128, alpha: v128, beta: v128): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  switch (fn) {
    case TU_NEG: return f32x4.neg(x);
    case TU_ABS: return f32x4.abs(x);
    case TU_SQRT: return f32x4.sqrt(x);
    case TU_RECIPROCAL: return f32x4.div(one, x);
    case TU_SQUARE: return f32x4.mul(x, x);
    case TU_AFFINE: return f32x4.add(f32x4.mul(alpha, x), beta);
    case TU_CLIP: return f32x4.min(f32x4.max(x, alpha), beta);
    case TU_HARD_SIGMOID: return f32x4.max(zero, f32x4.min(one, f32x4.add(f32x4.mul(alpha, x), beta)));
    default: return v128.bitselect(x, f32x4.mul(alpha, x), f32x4.ge(x, zero)); // leaky relu
  }
}

/** out = fn(x) over n floats (out may be x). */
export function f32_unary(fn: i32, n: i32, x: usize, out: usize, alpha: f32, beta: f32): void {
  let i = 0;
  if (fn < TU_VECTOR) {
    const n4 = n & ~3;
    const av = f32x4.splat(alpha), bv = f32x4.splat(beta);
    for (; i < n4; i += 4) v128.store(out + (<usize>i << 2), unaryV(fn, v128.load(x + (<usize>i << 2)), av, bv));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), unaryS(fn, load<f32>(x + (<usize>i << 2)), alpha, beta));
}

export function f32_unary_scalar(fn: i32, n: i32, x: usize, out: usize, alpha: f32, beta: f32): void {
  for (let i = 0; i < n; i++) store<f32>(out + (<usize>i << 2), unaryS(fn, load<f32>(x + (<usize>i << 2)), alpha, beta));
}

// ---------------------------------------------------------------- reductions


// @ts-ignore: decorator
@inline function reduceInit(fn: i32): f32 {
  return fn == TR_MAX ? -Infinity : fn == TR_MIN ? Infinity : fn == TR_PROD ? 1 : 0;
}

// @ts-ignore: decorator
@inline function reduceStepS(fn: i32, acc: f32, x: f32): f32 {
  switch (fn) {
    case TR_MAX: return max(acc, x);
    case TR_MIN: return min(acc, x);
    case TR_PROD: return acc * x;
    case TR_L1: return acc + abs(x);
    case TR_L2:
    case TR_SUM_SQUARE: return acc + x * x;
    default: return acc + x;
  }
}

// @ts-ignore: decorator
@inline function reduceStepV(fn: i32, acc: v128, x: v128): v128 {
  switch (fn) {
    case TR_MAX: return f32x4.max(acc, x);
    case TR_MIN: return f32x4.min(acc, x);
    case TR_PROD: return f32x4.mul(acc, x);
    case TR_L1: return f32x4.add(acc, f32x4.abs(x));
    case TR_L2:
    case TR_SUM_SQUARE: return f32x4.add(acc, f32x4.mul(x, x));
    default: return f32x4.add(acc, x);
  }
}

// @ts-ignore: decorator
@inline function reduceFinishS(fn: i32, acc: f32, n: i32): f32 {
  switch (fn) {
    case TR_MEAN: return acc / <f32>n;
    case TR_L2: return sqrt(acc);
    case TR_LOG_SUM: return logS(acc);
    default: return acc;
  }
}

// @ts-ignore: decorator
@inline function reduceFinishV(fn: i32, acc: v128, n: i32): v128 {
  switch (fn) {
    case TR_MEAN: return f32x4.div(acc, f32x4.splat(<f32>n));
    case TR_L2: return f32x4.sqrt(acc);
    case TR_LOG_SUM: return logV(acc);
    default: return acc;
  }
}

/** One (o, i) column of x [outer][n][inner], j in order: the scalar form of every lane. */
function reduceColumnS(fn: i32, n: i32, inner: i32, col: usize): f32 {
  const step = <usize>inner << 2;
  if (fn == TR_LOG_SUM_EXP) {
    let m: f32 = -Infinity;
    for (let j = 0; j < n; j++) m = max(m, load<f32>(col + <usize>j * step));
    let s: f32 = 0;
    for (let j = 0; j < n; j++) s += expS(load<f32>(col + <usize>j * step) - m);
    return m + logS(s);
  }
  let acc = reduceInit(fn);
  for (let j = 0; j < n; j++) acc = reduceStepS(fn, acc, load<f32>(col + <usize>j * step));
  return reduceFinishS(fn, acc, n);
}

/** out[o][i] = reduce over j of x[o][j][i]; columns run 4 at a time when inner >= 4. */
export function f32_reduce(fn: i32, outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  const inner4 = inner & ~3;
  const step = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>n * step;
    const ob = out + <usize>o * step;
    let i = 0;
    for (; i < inner4; i += 4) {
      const col = base + (<usize>i << 2);
      let r: v128;
      if (fn == TR_LOG_SUM_EXP) {
        let m = f32x4.splat(-Infinity);
        for (let j = 0; j < n; j++) m = f32x4.max(m, v128.load(col + <usize>j * step));
        let s = f32x4.splat(0);
        for (let j = 0; j < n; j++) s = f32x4.add(s, expV(f32x4.sub(v128.load(col + <usize>j * step), m)));
        r = f32x4.add(m, logV(s));
      } else {
        let acc = f32x4.splat(reduceInit(fn));
        for (let j = 0; j < n; j++) acc = reduceStepV(fn, acc, v128.load(col + <usize>j * step));
        r = reduceFinishV(fn, acc, n);
      }
      v128.store(ob + (<usize>i << 2), r);
    }
    for (; i < inner; i++) store<f32>(ob + (<usize>i << 2), reduceColumnS(fn, n, inner, base + (<usize>i << 2)));
  }
}

export function f32_reduce_scalar(fn: i32, outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  const step = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>n * step;
    for (let i = 0; i < inner; i++) store<f32>(out + <usize>o * step + (<usize>i << 2), reduceColumnS(fn, n, inner, base + (<usize>i << 2)));
  }
}

// ---------------------------------------------------------------- softmax along an axis

/** One column of x [outer][n][inner] in place: exp(x - max) / sum, or its log. */
function softmaxColumnS(n: i32, step: usize, col: usize, log: bool): void {
  let m: f32 = -Infinity;
  for (let j = 0; j < n; j++) m = max(m, load<f32>(col + <usize>j * step));
  let s: f32 = 0;
  for (let j = 0; j < n; j++) s += expS(load<f32>(col + <usize>j * step) - m);
  const inv: f32 = <f32>1.0 / s;
  const ls = logS(s);
  for (let j = 0; j < n; j++) {
    const p = col + <usize>j * step;
    const v = load<f32>(p) - m;
    store<f32>(p, log ? v - ls : expS(v) * inv);
  }
}

/** Softmax (or log-softmax) over the middle axis of x [outer][n][inner], in place. */
export function f32_softmax_axis(outer: i32, n: i32, inner: i32, x: usize, log: i32): void {
  const inner4 = inner & ~3;
  const step = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>n * step;
    let i = 0;
    for (; i < inner4; i += 4) {
      const col = base + (<usize>i << 2);
      let m = f32x4.splat(-Infinity);
      for (let j = 0; j < n; j++) m = f32x4.max(m, v128.load(col + <usize>j * step));
      let s = f32x4.splat(0);
      for (let j = 0; j < n; j++) s = f32x4.add(s, expV(f32x4.sub(v128.load(col + <usize>j * step), m)));
      const inv = f32x4.div(f32x4.splat(1), s);
      const ls = logV(s);
      for (let j = 0; j < n; j++) {
        const p = col + <usize>j * step;
        const v = f32x4.sub(v128.load(p), m);
        v128.store(p, log ? f32x4.sub(v, ls) : f32x4.mul(expV(v), inv));
      }
    }
    for (; i < inner; i++) softmaxColumnS(n, step, base + (<usize>i << 2), log != 0);
  }
}

export function f32_softmax_axis_scalar(outer: i32, n: i32, inner: i32, x: usize, log: i32): void {
  const step = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>n * step;
    for (let i = 0; i < inner; i++) softmaxColumnS(n, step, base + (<usize>i << 2), log != 0);
  }
}

// ---------------------------------------------------------------- product of runtime matrices

/**
 * out[b] = a[b] · c[b] for b < batch: a [M][K], c [K][N], out [M][N], all contiguous. Four
 * output columns at a time, k in order (the twin's order).
 */
export function f32_matmul(batch: i32, M: i32, N: i32, K: i32, a: usize, c: usize, out: usize): void {
  const N4 = N & ~3;
  const rowC = <usize>N << 2;
  for (let b = 0; b < batch; b++) {
    const ab = a + <usize>b * <usize>M * (<usize>K << 2);
    const cb = c + <usize>b * <usize>K * rowC;
    const ob = out + <usize>b * <usize>M * rowC;
    for (let m = 0; m < M; m++) {
      const ar = ab + <usize>m * (<usize>K << 2);
      const or = ob + <usize>m * rowC;
      let n = 0;
      for (; n < N4; n += 4) {
        let acc = f32x4.splat(0);
        for (let k = 0; k < K; k++) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(ar + (<usize>k << 2))), v128.load(cb + <usize>k * rowC + (<usize>n << 2))));
        v128.store(or + (<usize>n << 2), acc);
      }
      for (; n < N; n++) {
        let acc: f32 = 0;
        for (let k = 0; k < K; k++) acc += load<f32>(ar + (<usize>k << 2)) * load<f32>(cb + <usize>k * rowC + (<usize>n << 2));
        store<f32>(or + (<usize>n << 2), acc);
      }
    }
  }
}

export function f32_matmul_scalar(batch: i32, M: i32, N: i32, K: i32, a: usize, c: usize, out: usize): void {
  const rowC = <usize>N << 2;
  for (let b = 0; b < batch; b++) {
    const ab = a + <usize>b * <usize>M * (<usize>K << 2);
    const cb = c + <usize>b * <usize>K * rowC;
    const ob = out + <usize>b * <usize>M * rowC;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc: f32 = 0;
        for (let k = 0; k < K; k++) acc += load<f32>(ab + <usize>m * (<usize>K << 2) + (<usize>k << 2)) * load<f32>(cb + <usize>k * rowC + (<usize>n << 2));
        store<f32>(ob + <usize>m * rowC + (<usize>n << 2), acc);
      }
    }
  }
}
