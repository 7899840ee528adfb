// @ts-nocheck: AssemblyScript (compiled by asc, not tsc); the root tsconfig includes bench/.
/**
 * Peak multiply-add throughput of this wasm engine: plain SIMD128 loops, nothing else.
 *
 * `peak_regs_N`: N independent f32x4 accumulators updated as acc = acc * m + c, in registers
 * only. Each update is one f32x4 multiply-add (4 MACs); N chains hide the mul+add latency
 * (8 are enough when mul and add each take 4 cycles at one per cycle; 12 leave slack; 16 would
 * spill on x64's 16 vector registers, with m and c live too).
 * `peak_load_N`: acc_k += w[k] * x with w streamed from a 16 KB buffer that stays in L1: the
 * pattern of a weight-streaming kernel (one load per multiply-add).
 *
 * Built twice from this file: baseline SIMD128 (mul then add) and relaxed SIMD
 * (`f32x4.relaxed_madd`, a fused multiply-add where the CPU has one).
 * Every function returns the sum of its accumulators so nothing is dead code; with m just
 * below 1 and c small the values stay finite for any iteration count.
 */

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export const RELAXED: bool = ASC_FEATURE_RELAXED_SIMD;

export function peak_regs_4(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.99990004);
  const c = f32x4.splat(seed * 0.0001);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, m, c); a1 = madd(a1, m, c); a2 = madd(a2, m, c); a3 = madd(a3, m, c);
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

export function peak_regs_8(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.99990004);
  const c = f32x4.splat(seed * 0.0001);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, m, c); a1 = madd(a1, m, c); a2 = madd(a2, m, c); a3 = madd(a3, m, c);
    a4 = madd(a4, m, c); a5 = madd(a5, m, c); a6 = madd(a6, m, c); a7 = madd(a7, m, c);
  }
  return hsum(f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))));
}

export function peak_regs_12(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.99990004);
  const c = f32x4.splat(seed * 0.0001);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, m, c); a1 = madd(a1, m, c); a2 = madd(a2, m, c); a3 = madd(a3, m, c);
    a4 = madd(a4, m, c); a5 = madd(a5, m, c); a6 = madd(a6, m, c); a7 = madd(a7, m, c);
    a8 = madd(a8, m, c); a9 = madd(a9, m, c); a10 = madd(a10, m, c); a11 = madd(a11, m, c);
  }
  const s0 = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  const s1 = f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7));
  const s2 = f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11));
  return hsum(f32x4.add(f32x4.add(s0, s1), s2));
}

/** 16 KB of weights for the load variants (fits L1 on any x64/arm64 core). */
const WEIGHT_FLOATS: i32 = 4096;
const weights = memory.data(WEIGHT_FLOATS * 4, 16);

export function fill_weights(seed: f32): void {
  for (let i = 0; i < WEIGHT_FLOATS; i++) store<f32>(weights + (<usize>i << 2), seed * <f32>((i * 7919) % 1000) * 0.000001);
}

/** acc_k += w[16k..] * x; MACs per call = passes * 4096. 8 accumulators = 128 bytes per inner step. */
export function peak_load_8(passes: i32, x: f32): f32 {
  const xs = f32x4.splat(x);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  const end = weights + <usize>(WEIGHT_FLOATS << 2);
  for (let p = 0; p < passes; p++) {
    for (let w = weights; w < end; w += 128) {
      a0 = madd(v128.load(w, 0), xs, a0);
      a1 = madd(v128.load(w, 16), xs, a1);
      a2 = madd(v128.load(w, 32), xs, a2);
      a3 = madd(v128.load(w, 48), xs, a3);
      a4 = madd(v128.load(w, 64), xs, a4);
      a5 = madd(v128.load(w, 80), xs, a5);
      a6 = madd(v128.load(w, 96), xs, a6);
      a7 = madd(v128.load(w, 112), xs, a7);
    }
  }
  return hsum(f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))));
}
