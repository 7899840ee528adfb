/**
 * Every numeric tolerance of the test suite, in one place. A value passes when
 *   |actual - expected| <= abs + rel * |expected|
 * element by element (test/util/compare.ts). The `rel` term only matters for |expected| > 1;
 * most compared outputs are bounded (sigmoid, softmax, tanh), so `abs` is the binding bound.
 */
export interface Tolerance {
  readonly name: string;
  readonly abs: number;
  readonly rel: number;
}

/**
 * float64 reference vs tfjs (cpu backend, float32). The reference is exact to ~1e-15, so the
 * whole gap is tfjs' own float32 rounding: ~6e-8 per operation, accumulated over dot products
 * of a few hundred terms and over time steps (errors in h are contracted by |tanh'|·|U|, not
 * amplified, for the seeded weight scales used here). Measured worst case over the reference
 * suite: see test/reference/README.md. 1e-5 leaves an order of magnitude of margin.
 */
export const REF_VS_TFJS: Tolerance = { name: "REF_VS_TFJS", abs: 1e-5, rel: 1e-5 };

/**
 * Runtime vs tfjs when both use exact float32 activations (libm-quality tanh/exp, or only
 * linear/relu/max). Two float32 implementations with different summation order differ by at
 * most about twice REF_VS_TFJS; the issue fixes the bound at 1e-5 absolute.
 */
export const EXACT_F32: Tolerance = { name: "EXACT_F32", abs: 1e-5, rel: 1e-5 };

/**
 * Runtime vs tfjs where the runtime uses its vector tanh/sigmoid/exp approximations. The issue
 * fixes a documented bound <= 1e-4; the measured approximation error (docs/kernels.md) plus the
 * float32 noise of EXACT_F32 must stay under it. Used for every model with a recurrent layer or
 * a tanh/sigmoid/softmax/exp-family activation, since which path the runtime takes is its own
 * choice.
 */
export const APPROX: Tolerance = { name: "APPROX", abs: 1e-4, rel: 1e-4 };

/**
 * float64 reference vs onnxruntime-node (float32, its own sigmoid and tanh approximations) on
 * ONNX's recurrent operators: the same reasoning as REF_VS_TFJS, float32 rounding accumulated
 * over a few steps of small layers.
 */
export const REF_VS_ORT: Tolerance = { name: "REF_VS_ORT", abs: 1e-5, rel: 1e-5 };

/**
 * rnn-wasm vs onnxruntime-node (one thread, CPU provider) on the same ONNX graph and inputs: the
 * issue's bound for imported ONNX models. Both run in float32 with their own approximations of
 * tanh / sigmoid / exp (MLAS's and ours, each within ~1e-7, docs/kernels.md) and their own
 * summation orders; over recurrences of a few hundred steps and Silero's convolutions the
 * measured gap stays near 1e-6 (the ONNX tests print it), so 1e-4 is two orders of margin.
 */
export const ONNX_VS_ORT: Tolerance = { name: "ONNX_VS_ORT", abs: 1e-4, rel: 1e-4 };

/**
 * A recurrent state carried by the caller over thousands of steps (Silero's LSTM cell c over a
 * whole recording, RNN_ONNX_FULL=1), rnn-wasm vs onnxruntime-node. c integrates each step's
 * rounding with its forget gate (near 1 for long memories), so the two engines' float32
 * differences (~1e-7 per step, from their tanh / sigmoid approximations and summation orders)
 * add up over ~1/(1-f) steps: measured 5.5e-4 at |c| ~ 1.6 after 1678 frames of Silero v5, with
 * the probability outputs still within ONNX_VS_ORT. Outputs keep ONNX_VS_ORT; windows of a few
 * hundred steps compare states within ONNX_VS_ORT too.
 */
export const ONNX_LONG_STATE: Tolerance = { name: "ONNX_LONG_STATE", abs: 1e-3, rel: 1e-3 };

/**
 * float64 reference vs values derived by hand from the Keras equations in float64 (single GRU
 * steps, activations at chosen points). Only rounding of a handful of float64 operations.
 */
export const HAND_F64: Tolerance = { name: "HAND_F64", abs: 1e-12, rel: 1e-12 };

/**
 * Quantised weights (converter `quantization` entries). tfjs dequantises uint8/uint16 as
 * `q * scale + min` in float64 and rounds to float32; float16 decodes exactly. A runtime that
 * dequantises in float32 differs from tfjs by at most 1 ulp per weight (~6e-8 relative), far
 * below the model-level bounds, so quantised models use the same bounds as float32 ones
 * (EXACT_F32 / APPROX); this constant exists so the choice is visible where it is made.
 */
export const QUANTIZED_SAME_AS_F32 = true;

/**
 * Model outputs with float16-rounded weights vs the same model with the original float32
 * weights: float16 keeps 11 significant bits (relative rounding 2^-11 ≈ 4.9e-4 per weight);
 * through a few layers of bounded activations the output moves by ~1e-3 at most. A sanity
 * bound for the quantisation writer in test/util, not a parity bound.
 */
export const F16_WEIGHTS: Tolerance = { name: "F16_WEIGHTS", abs: 5e-3, rel: 5e-3 };

/**
 * uint8 affine quantisation moves each weight by up to scale/2 = (max-min)/510, ~0.4% of the
 * weight range: outputs may move by ~1e-2. Same role as F16_WEIGHTS.
 */
export const U8_WEIGHTS: Tolerance = { name: "U8_WEIGHTS", abs: 5e-2, rel: 5e-2 };

/**
 * int8 weights (`--dtype int8`, docs/kernels.md) vs the same model with its float32 weights:
 * symmetric per-column int8 moves each weight by at most scale/2 = max|column|/254 (0.4% of the
 * column's range, the same step as U8_WEIGHTS' affine uint8), and activations are rounded to
 * int16 per row (relative step 1/65534, negligible beside it). Through a few layers of bounded
 * activations outputs move by ~1e-2 at most; unbounded outputs move in proportion to their size.
 * Same role as F16_WEIGHTS: a bound on the quantisation, not a parity bound.
 */
export const INT8_WEIGHTS: Tolerance = { name: "INT8_WEIGHTS", abs: 5e-2, rel: 5e-2 };

/**
 * int8 kernels vs their float64 oracle (test/int8/reference.ts), which reproduces the int8
 * weights and the kernels' int16 activation rounding. The integer sums are exact in both; what
 * is left is float32 rounding of the dequantised sums and the activations (KERNEL_F64), and in
 * the recurrences an int16 rounding that flips where the float32 h of the kernel and the float64
 * h of the oracle straddle a rounding boundary: one step of the row scale (max|h| / 32767, ~3e-5)
 * times a weight (|w| <= 1), on a small fraction of the terms. The relaxed build's int8
 * recurrences differ from the scalar twin the same way (a fused epilogue moves h by an ulp).
 */
export const INT8_KERNEL_F64: Tolerance = { name: "INT8_KERNEL_F64", abs: 5e-5, rel: 5e-5 };

/** Tolerance for a runtime-vs-tfjs comparison: APPROX when approximated functions are involved. */
export function parityTolerance(usesApproximatedActivations: boolean): Tolerance {
  return usesApproximatedActivations ? APPROX : EXACT_F32;
}

// ------------------------------------------------------------------ kernel tests (test/kernels)

/**
 * Baseline SIMD kernel vs its scalar twin: the twins perform the same float32 operations in the
 * same order (bias first, then k ascending; the same activation polynomials), so results must
 * be bit-identical. Softmax is the exception (its sum is split over 4 lanes): see KERNEL_REORDER.
 */
export const KERNEL_TWIN: Tolerance = { name: "KERNEL_TWIN", abs: 0, rel: 0 };

/** Results whose only difference is summation order (SIMD lane partial sums): a few ulps. */
export const KERNEL_REORDER: Tolerance = { name: "KERNEL_REORDER", abs: 1e-7, rel: 1e-6 };

/**
 * Relaxed build (fused multiply-add: one rounding instead of two) vs the scalar twin. Each
 * fused step differs by <= 1 ulp; over K <= 64 products and T <= 9 recurrent steps of bounded
 * gates that stays below 1e-6 for the unit-scale data of the kernel tests.
 */
export const KERNEL_RELAXED: Tolerance = { name: "KERNEL_RELAXED", abs: 2e-6, rel: 2e-6 };

/**
 * Any kernel build vs the float64 reference on unit-scale data: float32 accumulation (K <= 64
 * terms) plus the vector activations' error (tanh <= 7e-8, sigmoid <= 9e-8 abs, docs/kernels.md)
 * compounded over <= 9 recurrent steps.
 */
export const KERNEL_F64: Tolerance = { name: "KERNEL_F64", abs: 5e-6, rel: 5e-6 };

/**
 * stftMagnitude (an FFT in float64, twiddles as float32 pairs) vs the float64 DFT: only the
 * float32 rounding of the window and of each output remains.
 */
export const STFT_F64: Tolerance = { name: "STFT_F64", abs: 1e-6, rel: 2e-7 };

/**
 * Vector activations vs the exact float64 functions, per activation (measured on a dense
 * sweep of [-20, 20], docs/kernels.md). `abs` binds where |f(x)| <= 1, `rel` where it is
 * large (exp, elu/selu/softplus/swish/gelu/mish on the positive side).
 */
export const ACTIVATION_ERROR: Record<string, Tolerance> = {
  tanh: { name: "ACT_TANH", abs: 1e-7, rel: 0 },
  sigmoid: { name: "ACT_SIGMOID", abs: 1.2e-7, rel: 0 },
  exp: { name: "ACT_EXP", abs: 0, rel: 2e-7 },
  other: { name: "ACT_OTHER", abs: 2e-7, rel: 2e-7 },
};

// ------------------------------------------------------------------ training tools (test/train)
// tfjs kernels compared across backends (the wasm backend with the kernels tools/train adds or
// replaces, against the cpu backend); abs/rel pairs as test/train/tolerances.ts uses them.

/** Sums in a different order (scatter-add vs mask-and-sum): a few float32 ulps per addend. */
export const SEGMENT_SUM_ABS = 1e-5;
export const SEGMENT_SUM_REL = 1e-5;

/** Matrix products, XNNPACK vs the cpu backend's blocked loop, K up to a few hundred. */
export const MATMUL_ABS = 1e-4;
export const MATMUL_REL = 1e-4;

/** Whole-model gradients (embedding LSTM), wasm vs cpu. */
export const GRADIENT_ABS = 1e-5;
export const GRADIENT_REL = 1e-3;

/** Predictions of a model before saving and after loading: the same float32 weights. */
export const ROUND_TRIP_ABS = 0;

/**
 * Speech probabilities of a Silero VAD bundle vs onnxruntime-node on the same ONNX file, frame
 * by frame over whole recordings (the bound). The graph's f32 arithmetic in another
 * order plus the vector sigmoid/tanh (APPROX per op) stay well inside it; segments, which
 * compare probabilities with thresholds, are then compared exactly.
 */
export const VAD_PROB: Tolerance = { name: "VAD_PROB", abs: 1e-4, rel: 0 };

/**
 * Silero v4 (legacy) at 16 kHz on speech/aepyx_8k.wav upsampled to 16 kHz, against
 * onnxruntime-node: that case only, with segments still compared exactly. v4 feeds
 * log(1 + 2^20·|X_k|) of its STFT to the network, and above 4 kHz this recording's bins are
 * near empty (|X_k| down to 1e-12 beside frame peaks of ~8), so a float32-level difference in
 * the front end (one rounding per weight or per sum, relative to the whole frame) moves the
 * log by up to 0.1 and the probability by up to 1e-3. Measured (max |Δp| over its 5,286
 * frames, test/vad/legacy-spectrum.test.ts and docs/audio.md): rnn-wasm's fused FFT (the exact
 * DFT of the stored window) 9.6e-4 from onnxruntime; the graph's own float32 basis summed in
 * float64 (the graph computed exactly) 2.6e-4 from onnxruntime; rnn-wasm with the fusion
 * switched off (the Conv in float32) 1.2e-3. Not even the exact graph reaches VAD_PROB here:
 * the rest is onnxruntime's own float32 rounding. 2e-3 is twice the worst measured.
 */
export const VAD_PROB_V4_QUIET_BINS: Tolerance = { name: "VAD_PROB_V4_QUIET_BINS", abs: 2e-3, rel: 0 };
