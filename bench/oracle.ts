/**
 * The benchmark gate's float64 oracle for the models tfjs cannot run (GRU reset_after=true):
 * the test suite's one float64 reference (test/reference, checked against tfjs there and in
 * test/bench/reference.test.ts) on the variant's own artifacts, the bytes every engine loads.
 */
import { ReferenceModel, toTensor64 } from "../test/reference/index.ts";
import type { InputTensor, ModelVariant } from "./models.ts";

const cache = new WeakMap<ModelVariant, ReferenceModel>();

/** The variant's head output for x ([b, ...] row-major, batch first), in float64. */
export function float64Output(variant: ModelVariant, x: InputTensor): Float64Array {
  let model = cache.get(variant);
  if (!model) cache.set(variant, (model = ReferenceModel.fromArtifacts(variant.artifacts.modelJson, variant.artifacts.weights)));
  return model.predict([toTensor64(x)])[0].data;
}
