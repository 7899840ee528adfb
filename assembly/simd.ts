// The only place that knows which SIMD instruction set a build targets (ggml's
// simd-mappings.h idea): the "relaxed" build turns fmadd into a fused multiply-add, the
// baseline build keeps a separate mul and add. Everything else calls these helpers.

/** a * b + c, lane-wise. Relaxed build: one FMA where the CPU has it (rounded once). */
// @ts-ignore: decorator
@inline export function fmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Scalar twin of fmadd: never fused, so it is the reference rounding. */
// @ts-ignore: decorator
@inline export function fmaddScalar(a: f32, b: f32, c: f32): f32 {
  return a * b + c;
}

// @ts-ignore: decorator
@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/**
 * min(max(x, lo), hi) for bounds that are not zero or NaN: pmax/pmin are one maxps/minps on
 * x64 where max/min, with their NaN and signed-zero rules, are eight instructions each. A NaN
 * in x still comes out NaN (pmax(x, lo) is x < lo ? lo : x), as the scalar twins' min/max.
 */
// @ts-ignore: decorator
@inline export function clampV(x: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(x, lo), hi);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Largest of the four lanes. */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const s = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

// @ts-ignore: decorator
@inline export function load4(ptr: usize, offset: usize = 0): v128 {
  return v128.load(ptr + offset);
}

// @ts-ignore: decorator
@inline export function store4(ptr: usize, v: v128): void {
  v128.store(ptr, v);
}
