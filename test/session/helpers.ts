/** tfjs models -> in-memory artifacts for session tests (same format as model.save()). */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../util/prng.ts";

export async function artifactsOf(model: tf.LayersModel): Promise<{ modelJson: object; weights: ArrayBuffer }> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const modelJson = { modelTopology: art!.modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: art!.weightSpecs }], format: "layers-model" };
  return { modelJson, weights: art!.weightData as ArrayBuffer };
}

/** Replaces every weight (biases included) with seeded non-zero values. */
export function randomizeWeights(model: tf.LayersModel, rng: Rng, scale = 0.5): void {
  model.setWeights(model.getWeights().map((w) => tf.tensor(rng.float32Array(w.size, (r) => r.nonZero(0.02, scale)), w.shape)));
}
