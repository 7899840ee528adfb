// Matrix products by the weight's storage: f32 panels (gemm.ts) or int8 panels (int8.ts,
// PTR_INT8 set), the SIMD kernel or its scalar twin. The one dispatch for the gemm export and
// the recurrences' input projections.

import { PTR_INT8 } from "./abi";
import { f32_gemm, f32_gemm_scalar } from "./gemm";
import { evenK, i8_gemm_panels, i8_gemm_panels_scalar } from "./int8";

/**
 * out[m, :N] = x[m, :K] · W + bias for m < M (x rows xStride floats apart, out rows outStride).
 * q: scratch for int8 weights, matmulScratchBytes(M, K, w) bytes; unused for f32.
 */
export function matmul(scalar: bool, M: i32, N: i32, K: i32, x: usize, xStride: i32, w: usize, bias: usize, out: usize, outStride: i32, q: usize): void {
  if (w & PTR_INT8) {
    if (scalar) i8_gemm_panels_scalar(M, N, K, x, xStride, w & ~PTR_INT8, bias, out, outStride, q);
    else i8_gemm_panels(M, N, K, x, xStride, w & ~PTR_INT8, bias, out, outStride, q);
  } else if (scalar) f32_gemm_scalar(M, N, K, x, xStride, w, bias, out, outStride);
  else f32_gemm(M, N, K, x, xStride, w, bias, out, outStride);
}

/**
 * Bytes of q for matmul: M rows of x quantised to int16 (K rounded up to even) and M f32
 * scales. In f64, as every size a kernel reports: a hostile shape gets a large number, not a
 * wrapped one.
 */
export function matmulScratchBytes(M: f64, K: i32, w: usize): f64 {
  return w & PTR_INT8 ? M * (2 * <f64>evenK(K) + 4) : 0;
}
