/**
 * Function codes of the general tensor ops (their index in each list is the kernel's code in
 * assembly/tensor.ts). Apart from spec.ts so that only the code that runs or builds these ops
 * (model/tensor-ops.ts, the ONNX importer) carries them.
 */
export const BINARY_FNS = ["add", "sub", "mul", "div", "pow", "max", "min"] as const;
export type BinaryFn = (typeof BINARY_FNS)[number];
/** Codes of assembly/tensor.ts's unary kernel, in order. */
export const UNARY_FNS = [
  "neg", "abs", "sqrt", "reciprocal", "square", "affine", "clip", "hard_sigmoid", "leaky_relu", "log", "elu", "selu",
  "thresholded_relu", "scaled_tanh", "floor", "ceil", "round", "sign", "erf", "pow",
] as const;
export type UnaryFn = (typeof UNARY_FNS)[number];
export const REDUCE_FNS = ["sum", "mean", "max", "min", "prod", "l1", "l2", "sum_square", "log_sum", "log_sum_exp"] as const;
export type ReduceFn = (typeof REDUCE_FNS)[number];
