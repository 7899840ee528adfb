/**
 * tfjs (an independent implementation of the Keras layers) as an oracle: builds a tfjs
 * LayersModel from imported artifacts. That the topology loads at all shows it has the form
 * of a tfjs model.json `model_config`; each layer's weights are set from the artifacts'
 * weights of that layer, in order, with their shapes checked against what tfjs built.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelArtifacts } from "../../src/import/artifacts.js";
import type { RefTensor } from "./reference-keras.js";

let backendReady: Promise<boolean> | undefined;

export async function tfjsModelFromArtifacts(artifacts: ModelArtifacts): Promise<tf.LayersModel> {
  backendReady ??= tf.setBackend("cpu");
  await backendReady;
  const model = await tf.models.modelFromJSON({ modelTopology: artifacts.topology as unknown as tf.io.ModelJSON["modelTopology"] } as never);
  for (const layer of model.layers) {
    const built = layer.weights;
    if (built.length === 0) continue;
    const mine = artifacts.weights.filter((w) => w.name.replace(/:\d+$/, "").split("/")[0] === layer.name);
    if (mine.length !== built.length) {
      throw new Error(`tfjs layer ${layer.name} has ${built.length} weights, artifacts ${mine.length}`);
    }
    layer.setWeights(
      mine.map((w, i) => {
        if (JSON.stringify(w.shape) !== JSON.stringify(built[i]!.shape)) {
          throw new Error(`tfjs layer ${layer.name} weight ${i}: tfjs [${built[i]!.shape}], artifacts ${w.name} [${w.shape}]`);
        }
        return tf.tensor(w.data, w.shape);
      }),
    );
  }
  return model;
}

/** Predicts one example (a batch of one) and returns each output without its batch axis. */
export function tfjsPredict(model: tf.LayersModel, input: RefTensor): RefTensor[] {
  const ys = tf.tidy(() => {
    const y = model.predict(tf.tensor(Float32Array.from(input.data), [1, ...input.shape]));
    return Array.isArray(y) ? y : [y];
  });
  const out = ys.map((t) => ({ shape: t.shape.slice(1), data: Float64Array.from(t.dataSync()) }));
  tf.dispose(ys);
  return out;
}
