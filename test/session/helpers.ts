/** tfjs models -> in-memory artifacts for session tests (same format as model.save()). */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/prng.ts";
import { saveArtifacts } from "../util/tfjs.ts";

/** A tfjs model as in-memory artifacts (what `loadModel({ modelJson, weights })` takes). */
export const artifactsOf = saveArtifacts;

/** Replaces every weight (biases included) with seeded non-zero values. */
export function randomizeWeights(model: tf.LayersModel, rng: Rng, scale = 0.5): void {
  model.setWeights(model.getWeights().map((w) => tf.tensor(rng.float32Array(w.size, (r) => r.nonZero(0.02, scale)), w.shape)));
}
