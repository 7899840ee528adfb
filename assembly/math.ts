// Vector activations (f32x4) and their scalar twins. The twins run the same algorithm one
// lane at a time, so SIMD-vs-scalar tests isolate vectorisation bugs; the float64
// reference in the tests measures the approximation error, reported in docs/kernels.md.
//
// exp: Cephes-style range reduction x = n·ln2 + r, |r| <= ln2/2, degree-6 polynomial, 2^n
//      built in the exponent bits. Max relative error ~2 ulp on [-87.3, 88]. Inputs are
//      clamped to [-87.33, 88] so the exponent never overflows: exp saturates at exp(88)
//      = 1.65e38 (true float32 exp overflows to Infinity above 88.72) and flushes below
//      exp(-87.33) to the smallest normal instead of a denormal.
// sigmoid = 1 / (1 + exp(-x)): max abs error ~1e-7.
// tanh: odd polynomial below |x| < 0.625 (keeps relative precision near 0), above it
//      1 - 2 / (exp(2|x|) + 1) with the sign restored: max abs error ~1.2e-7.
// log (for softplus/mish): Cephes logf, mantissa in [sqrt(1/2), sqrt(2)), ~1 ulp.
// erf (for exact gelu): Abramowitz-Stegun 7.1.26, max abs error 1.5e-7.

import { clampV, fmadd, fmaddScalar } from "./simd";
import {
  ACT_ELU, ACT_EXPONENTIAL, ACT_GELU, ACT_GELU_TANH, ACT_HARD_SIGMOID, ACT_HARD_SIGMOID_K3, ACT_HARD_SWISH, ACT_LINEAR,
  ACT_MISH, ACT_RELU, ACT_RELU6, ACT_SELU, ACT_SIGMOID, ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_SWISH, ACT_TANH,
} from "./abi";

const EXP_HI: f32 = 88.0;
const EXP_LO: f32 = -87.33654;
const LOG2E: f32 = 1.44269504088896341;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EP0: f32 = 1.9875691500e-4;
const EP1: f32 = 1.3981999507e-3;
const EP2: f32 = 8.3334519073e-3;
const EP3: f32 = 4.1665795894e-2;
const EP4: f32 = 1.6666665459e-1;
const EP5: f32 = 5.0000001201e-1;

const TP0: f32 = -5.70498872745e-3;
const TP1: f32 = 2.06390887954e-2;
const TP2: f32 = -5.37397155531e-2;
const TP3: f32 = 1.33314422036e-1;
const TP4: f32 = -3.33332819422e-1;
const TANH_SMALL: f32 = 0.625;

const SELU_ALPHA: f32 = 1.6732632423543772848170429916717;
const SELU_SCALE: f32 = 1.0507009873554804934193349852946;

// ---------------------------------------------------------------- vector

/**
 * The polynomial constants of exp, sigmoid and tanh, each splatted to 16 bytes in the data
 * segment. TurboFan keeps few of 20 constants in registers and rematerialises the rest at
 * every use as three instructions (load to a general register, move, unpack); one v128.load
 * is one. Indices are the C_* names below.
 */
const VCONST = memory.data<f32>([
  EXP_LO, EXP_LO, EXP_LO, EXP_LO, EXP_HI, EXP_HI, EXP_HI, EXP_HI,
  LOG2E, LOG2E, LOG2E, LOG2E, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC,
  -LN2_HI, -LN2_HI, -LN2_HI, -LN2_HI, -LN2_LO, -LN2_LO, -LN2_LO, -LN2_LO,
  EP0, EP0, EP0, EP0, EP1, EP1, EP1, EP1, EP2, EP2, EP2, EP2,
  EP3, EP3, EP3, EP3, EP4, EP4, EP4, EP4, EP5, EP5, EP5, EP5,
  1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0,
  TP0, TP0, TP0, TP0, TP1, TP1, TP1, TP1, TP2, TP2, TP2, TP2,
  TP3, TP3, TP3, TP3, TP4, TP4, TP4, TP4, TANH_SMALL, TANH_SMALL, TANH_SMALL, TANH_SMALL,
  -0.0, -0.0, -0.0, -0.0,
], 16);
const C_EXP_LO = 0, C_EXP_HI = 1, C_LOG2E = 2, C_MAGIC = 3, C_LN2_HI = 4, C_LN2_LO = 5, C_EP0 = 6;
/** 1.0f, whose bits are also 127 << 23 (the exponent bias for 2^n). */
const C_ONE = 12;
const C_TWO = 13, C_TP0 = 14, C_TANH_SMALL = 19, C_SIGN = 20;

// @ts-ignore: decorator
@inline function vc(i: i32): v128 {
  return v128.load(VCONST + (<usize>i << 4));
}

// @ts-ignore: decorator
@inline export function expV(x0: v128): v128 {
  const x = clampV(x0, vc(C_EXP_LO), vc(C_EXP_HI));
  // n = nearest(x·log2e) by adding 1.5·2^23: the sum's low mantissa bits hold n, so 2^n is
  // (bits << 23) + bias without a float-to-int conversion (trunc_sat is ~8 instructions on x64)
  const t = f32x4.add(f32x4.mul(x, vc(C_LOG2E)), vc(C_MAGIC));
  const n = f32x4.sub(t, vc(C_MAGIC));
  let r = fmadd(n, vc(C_LN2_HI), x);
  r = fmadd(n, vc(C_LN2_LO), r);
  let p = fmadd(vc(C_EP0), r, vc(C_EP0 + 1));
  p = fmadd(p, r, vc(C_EP0 + 2));
  p = fmadd(p, r, vc(C_EP0 + 3));
  p = fmadd(p, r, vc(C_EP0 + 4));
  p = fmadd(p, r, vc(C_EP0 + 5));
  const one = vc(C_ONE);
  p = fmadd(p, f32x4.mul(r, r), f32x4.add(r, one));
  const scale = i32x4.add(i32x4.shl(t, 23), one);
  return f32x4.mul(p, scale);
}

// @ts-ignore: decorator
@inline export function sigmoidV(x: v128): v128 {
  const one = vc(C_ONE);
  return f32x4.div(one, f32x4.add(one, expV(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanhV(x: v128): v128 {
  const ax = f32x4.abs(x);
  // large branch: 1 - 2/(e^{2|x|}+1), sign restored from x
  const e = expV(f32x4.add(ax, ax));
  const one = vc(C_ONE);
  const big = f32x4.sub(one, f32x4.div(vc(C_TWO), f32x4.add(e, one)));
  const bigSigned = v128.or(big, v128.and(x, vc(C_SIGN)));
  // small branch: x + x·z·P(z), z = x²
  const z = f32x4.mul(x, x);
  let p = fmadd(vc(C_TP0), z, vc(C_TP0 + 1));
  p = fmadd(p, z, vc(C_TP0 + 2));
  p = fmadd(p, z, vc(C_TP0 + 3));
  p = fmadd(p, z, vc(C_TP0 + 4));
  const small = fmadd(f32x4.mul(p, z), x, x);
  return v128.bitselect(small, bigSigned, f32x4.lt(ax, vc(C_TANH_SMALL)));
}

// @ts-ignore: decorator
@inline export function logV(x: v128): v128 {
  // x > 0 assumed (callers pass 1 + e^y)
  const bits = x;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000));
  const lt = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  // m < sqrt(1/2): e -= 1, m = 2m - 1; else m = m - 1
  e = f32x4.sub(e, v128.and(lt, f32x4.splat(1.0)));
  m = f32x4.sub(f32x4.add(m, v128.and(lt, m)), f32x4.splat(1.0));
  const z = f32x4.mul(m, m);
  let y = fmadd(f32x4.splat(7.0376836292e-2), m, f32x4.splat(-1.1514610310e-1));
  y = fmadd(y, m, f32x4.splat(1.1676998740e-1));
  y = fmadd(y, m, f32x4.splat(-1.2420140846e-1));
  y = fmadd(y, m, f32x4.splat(1.4249322787e-1));
  y = fmadd(y, m, f32x4.splat(-1.6668057665e-1));
  y = fmadd(y, m, f32x4.splat(2.0000714765e-1));
  y = fmadd(y, m, f32x4.splat(-2.4999993993e-1));
  y = fmadd(y, m, f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = fmadd(e, f32x4.splat(LN2_LO), y);
  y = fmadd(z, f32x4.splat(-0.5), y);
  return fmadd(e, f32x4.splat(LN2_HI), f32x4.add(m, y));
}

// @ts-ignore: decorator
@inline export function erfV(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1.0), fmadd(f32x4.splat(0.3275911), ax, f32x4.splat(1.0)));
  let p = fmadd(f32x4.splat(1.061405429), t, f32x4.splat(-1.453152027));
  p = fmadd(p, t, f32x4.splat(1.421413741));
  p = fmadd(p, t, f32x4.splat(-0.284496736));
  p = fmadd(p, t, f32x4.splat(0.254829592));
  p = f32x4.mul(p, t);
  const y = f32x4.sub(f32x4.splat(1.0), f32x4.mul(p, expV(f32x4.neg(f32x4.mul(ax, ax)))));
  return v128.or(y, v128.and(x, i32x4.splat(0x80000000)));
}

// @ts-ignore: decorator
@inline export function softplusV(x: v128): v128 {
  // log(1 + e^x); for x > 15 the log term is x to float precision and e^x would lose it
  const y = logV(f32x4.add(f32x4.splat(1.0), expV(x)));
  return v128.bitselect(x, y, f32x4.gt(x, f32x4.splat(15.0)));
}

/** tfjs / Keras 2 hard sigmoid: clip(0.2x + 0.5, 0, 1). */
// @ts-ignore: decorator
@inline export function hardSigmoidV(x: v128): v128 {
  return clampV(fmadd(x, f32x4.splat(0.2), f32x4.splat(0.5)), f32x4.splat(0), f32x4.splat(1.0));
}

/** Lane-wise activation by code. The switch sits outside the hot k loops of the callers. */
// @ts-ignore: decorator
@inline export function activateV(code: i32, x: v128): v128 {
  switch (code) {
    case ACT_LINEAR: return x;
    case ACT_RELU: return f32x4.max(x, f32x4.splat(0));
    case ACT_RELU6: return f32x4.min(f32x4.max(x, f32x4.splat(0)), f32x4.splat(6.0));
    case ACT_TANH: return tanhV(x);
    case ACT_SIGMOID: return sigmoidV(x);
    case ACT_HARD_SIGMOID: return hardSigmoidV(x);
    case ACT_HARD_SIGMOID_K3:
      return f32x4.div(f32x4.min(f32x4.max(f32x4.add(x, f32x4.splat(3.0)), f32x4.splat(0)), f32x4.splat(6.0)), f32x4.splat(6.0));
    case ACT_ELU: {
      const neg = f32x4.sub(expV(x), f32x4.splat(1.0));
      return v128.bitselect(x, neg, f32x4.gt(x, f32x4.splat(0)));
    }
    case ACT_SELU: {
      const neg = f32x4.mul(f32x4.sub(expV(x), f32x4.splat(1.0)), f32x4.splat(SELU_ALPHA));
      return f32x4.mul(v128.bitselect(x, neg, f32x4.gt(x, f32x4.splat(0))), f32x4.splat(SELU_SCALE));
    }
    case ACT_SOFTPLUS: return softplusV(x);
    case ACT_SOFTSIGN: return f32x4.div(x, f32x4.add(f32x4.abs(x), f32x4.splat(1.0)));
    case ACT_EXPONENTIAL: return expV(x);
    case ACT_SWISH: return f32x4.mul(x, sigmoidV(x));
    case ACT_GELU:
      return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.add(f32x4.splat(1.0), erfV(f32x4.mul(x, f32x4.splat(0.7071067811865476)))));
    case ACT_GELU_TANH: {
      const inner = f32x4.mul(f32x4.splat(0.7978845608028654), fmadd(f32x4.mul(f32x4.mul(x, x), x), f32x4.splat(0.044715), x));
      return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.add(f32x4.splat(1.0), tanhV(inner)));
    }
    case ACT_MISH: return f32x4.mul(x, tanhV(softplusV(x)));
    case ACT_HARD_SWISH:
      return f32x4.mul(x, f32x4.div(f32x4.min(f32x4.max(f32x4.add(x, f32x4.splat(3.0)), f32x4.splat(0)), f32x4.splat(6.0)), f32x4.splat(6.0)));
    default: return x;
  }
}

// ---------------------------------------------------------------- scalar twins

// @ts-ignore: decorator
@inline export function expS(x0: f32): f32 {
  const x = min(max(x0, EXP_LO), EXP_HI);
  const n = nearest<f32>(x * LOG2E);
  let r = fmaddScalar(n, -LN2_HI, x);
  r = fmaddScalar(n, -LN2_LO, r);
  let p = fmaddScalar(EP0, r, EP1);
  p = fmaddScalar(p, r, EP2);
  p = fmaddScalar(p, r, EP3);
  p = fmaddScalar(p, r, EP4);
  p = fmaddScalar(p, r, EP5);
  p = fmaddScalar(p, r * r, r + 1.0);
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

// @ts-ignore: decorator
@inline export function sigmoidS(x: f32): f32 {
  return 1.0 / (1.0 + expS(-x));
}

// @ts-ignore: decorator
@inline export function tanhS(x: f32): f32 {
  const ax = Mathf.abs(x);
  if (ax < TANH_SMALL) {
    const z = x * x;
    let p = fmaddScalar(TP0, z, TP1);
    p = fmaddScalar(p, z, TP2);
    p = fmaddScalar(p, z, TP3);
    p = fmaddScalar(p, z, TP4);
    return fmaddScalar(p * z, x, x);
  }
  const big: f32 = 1.0 - 2.0 / (expS(ax + ax) + 1.0);
  return copysign<f32>(big, x);
}

// @ts-ignore: decorator
@inline export function logS(x: f32): f32 {
  const bits = reinterpret<i32>(x);
  let e = <f32>((bits >>> 23) - 126);
  let m = reinterpret<f32>((bits & 0x807fffff) | 0x3f000000);
  if (m < <f32>0.707106781186547524) {
    e -= 1.0;
    m = m + m - 1.0;
  } else {
    m = m - 1.0;
  }
  const z = m * m;
  let y = fmaddScalar(<f32>7.0376836292e-2, m, <f32>-1.1514610310e-1);
  y = fmaddScalar(y, m, <f32>1.1676998740e-1);
  y = fmaddScalar(y, m, <f32>-1.2420140846e-1);
  y = fmaddScalar(y, m, <f32>1.4249322787e-1);
  y = fmaddScalar(y, m, <f32>-1.6668057665e-1);
  y = fmaddScalar(y, m, <f32>2.0000714765e-1);
  y = fmaddScalar(y, m, <f32>-2.4999993993e-1);
  y = fmaddScalar(y, m, <f32>3.3333331174e-1);
  y = y * m * z;
  y = fmaddScalar(e, LN2_LO, y);
  y = fmaddScalar(z, -0.5, y);
  return fmaddScalar(e, LN2_HI, m + y);
}

// @ts-ignore: decorator
@inline export function erfS(x: f32): f32 {
  const ax = Mathf.abs(x);
  const t: f32 = 1.0 / fmaddScalar(<f32>0.3275911, ax, 1.0);
  let p = fmaddScalar(<f32>1.061405429, t, <f32>-1.453152027);
  p = fmaddScalar(p, t, <f32>1.421413741);
  p = fmaddScalar(p, t, <f32>-0.284496736);
  p = fmaddScalar(p, t, <f32>0.254829592);
  p = p * t;
  return copysign<f32>(<f32>1.0 - p * expS(-(ax * ax)), x);
}

// @ts-ignore: decorator
@inline export function softplusS(x: f32): f32 {
  return x > 15.0 ? x : logS(1.0 + expS(x));
}

export function activateS(code: i32, x: f32): f32 {
  switch (code) {
    case ACT_LINEAR: return x;
    case ACT_RELU: return max(x, <f32>0);
    case ACT_RELU6: return min(max(x, <f32>0), <f32>6.0);
    case ACT_TANH: return tanhS(x);
    case ACT_SIGMOID: return sigmoidS(x);
    case ACT_HARD_SIGMOID: return min(max(fmaddScalar(x, 0.2, 0.5), <f32>0), <f32>1.0);
    case ACT_HARD_SIGMOID_K3: return min(max(x + <f32>3.0, <f32>0), <f32>6.0) / <f32>6.0;
    case ACT_ELU: return x > 0 ? x : expS(x) - 1.0;
    case ACT_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (expS(x) - 1.0));
    case ACT_SOFTPLUS: return softplusS(x);
    case ACT_SOFTSIGN: return x / (Mathf.abs(x) + 1.0);
    case ACT_EXPONENTIAL: return expS(x);
    case ACT_SWISH: return x * sigmoidS(x);
    case ACT_GELU: return (x * 0.5) * (<f32>1.0 + erfS(x * <f32>0.7071067811865476));
    case ACT_GELU_TANH: {
      const inner = <f32>0.7978845608028654 * fmaddScalar(x * x * x, 0.044715, x);
      return (x * 0.5) * (<f32>1.0 + tanhS(inner));
    }
    case ACT_MISH: return x * tanhS(softplusS(x));
    case ACT_HARD_SWISH: return x * (min(max(x + <f32>3.0, <f32>0), <f32>6.0) / <f32>6.0);
    default: return x;
  }
}

// ---------------------------------------------------------------- buffers

/**
 * Applies activation `code` in place to `n` floats at `ptr` (16-byte aligned; the tail
 * past a multiple of 4 is done by the scalar twin). The switch sits outside the loops so
 * each activation is inlined once, which keeps the module small.
 */
export function activateBuffer(code: i32, ptr: usize, n: i32): void {
  const n4 = n & ~3;
  const end = ptr + (<usize>n4 << 2);
  switch (code) {
    case ACT_LINEAR: return;
    case ACT_TANH: {
      for (let p = ptr; p < end; p += 16) v128.store(p, tanhV(v128.load(p)));
      break;
    }
    case ACT_SIGMOID: {
      for (let p = ptr; p < end; p += 16) v128.store(p, sigmoidV(v128.load(p)));
      break;
    }
    case ACT_HARD_SIGMOID: {
      const a = f32x4.splat(0.2), b = f32x4.splat(0.5), lo = f32x4.splat(0), hi = f32x4.splat(1.0);
      for (let p = ptr; p < end; p += 16) v128.store(p, clampV(fmadd(v128.load(p), a, b), lo, hi));
      break;
    }
    case ACT_RELU: {
      const z = f32x4.splat(0);
      for (let p = ptr; p < end; p += 16) v128.store(p, f32x4.max(v128.load(p), z));
      break;
    }
    default: {
      for (let p = ptr; p < end; p += 16) v128.store(p, activateV(code, v128.load(p)));
    }
  }
  activateBufferScalar(code, end, n - n4);
}

export function activateBufferScalar(code: i32, ptr: usize, n: i32): void {
  if (code == ACT_LINEAR) return;
  for (let i = 0; i < n; i++) {
    const p = ptr + (<usize>i << 2);
    store<f32>(p, activateS(code, load<f32>(p)));
  }
}
