/**
 * Float64 reference of the layers rnn-wasm runs, written from the Keras and tfjs-layers
 * equations. Test oracle only: checked against tfjs in test/reference/*.test.ts, used by the
 * parity suite where tfjs cannot run (GRU reset_after=true, Keras 3 hard_sigmoid, exponential).
 * Semantics and known tfjs/Keras differences: test/reference/README.md.
 */
export { ReferenceModel, SUPPORTED_LAYERS, type InputSpec, type OutputSpec, type ReferenceOptions } from "./model.ts";
export { RefError, type RefErrorCode } from "./errors.ts";
export type { Semantics, Shape } from "./layer-base.ts";
export type { Mask, Tensor64 } from "./tensor.ts";
export { decodeFloat16, decodeWeights, manifestEntries, concatBuffers, parseWeightName } from "./weights.ts";
export * as activations from "./activations.ts";

import type { Tensor64 } from "./tensor.ts";

/** Float32/Int32 input -> float64 tensor. */
export function toTensor64(x: { data: ArrayLike<number>; shape: readonly number[] }): Tensor64 {
  return { shape: Array.from(x.shape), data: Float64Array.from(x.data as ArrayLike<number>) };
}
