/**
 * Builds the benchmark models: seeded weights -> a tfjs LayersModel (cpu backend) -> in-memory
 * artifacts, plus the reset_after=true variant of GRU models edited from the saved twin.
 */
import * as tf from "@tensorflow/tfjs";
import { modelArtifacts } from "../tools/train/artifacts.ts";
import { buildTfjsLayers, seededRandom, seededWeights, type BenchModel, type LayerDef, type ModelDef, type ModelVariant, type NamedWeight, type TfjsArtifacts } from "./models.ts";

export function concatWeights(weights: NamedWeight[]): ArrayBuffer {
  const total = weights.reduce((a, w) => a + w.data.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    all.set(w.data, offset);
    offset += w.data.length;
  }
  return all.buffer;
}

/** A live tfjs model as in-memory artifacts (model.json content + weights): tools/train/artifacts.ts. */
async function saveArtifacts(model: tf.LayersModel): Promise<TfjsArtifacts> {
  return (await modelArtifacts(model)) as unknown as TfjsArtifacts;
}

/**
 * The reset_after=true variant of a tfjs-saved twin: same topology with `reset_after: true` in
 * each GRU config and a [2, 3u] bias (row 0 = input bias, row 1 = recurrent bias), as Keras 2.3+
 * writes it. tfjs cannot build it, so the artifacts are edited, not saved.
 */
function kerasGruArtifacts(twin: TfjsArtifacts, weights: NamedWeight[]): TfjsArtifacts {
  const topology = structuredClone(twin.modelJson.modelTopology);
  for (const layer of topology.config.layers) if (layer.class_name === "GRU") layer.config.reset_after = true;
  return {
    modelJson: {
      ...twin.modelJson,
      modelTopology: topology,
      weightsManifest: [{ paths: ["weights.bin"], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: "float32" })) }],
    },
    weights: concatWeights(weights),
  };
}

function hasResetAfterGru(layers: LayerDef[]): boolean {
  return layers.some((l) => l.kind === "gru" && l.resetAfter);
}

/** Build the benchmark model: seeded weights, tfjs artifacts, and the tfjs twin for GRUs. */
export async function buildBenchModel(def: ModelDef): Promise<BenchModel> {
  const rand = seededRandom(def.seed);
  const keras = def.layers;
  const twinLayers = keras.map((l) => (l.kind === "gru" ? { ...l, resetAfter: false } : l));
  // One draw of every weight in the Keras layout; the twin takes row 0 of each [2,3u] GRU bias.
  const kerasWeights = seededWeights(def, keras, rand);
  const twinWeights = kerasWeights.map((w) =>
    w.shape.length === 2 && w.shape[0] === 2 && w.name.endsWith("/bias")
      ? { name: w.name, shape: [w.shape[1]], data: w.data.slice(0, w.shape[1]) }
      : w);

  const previous = tf.getBackend();
  if (previous !== "cpu") await tf.setBackend("cpu");
  const tfModel = buildTfjsLayers(tf, def, twinLayers);
  try {
    const tfWeights = tfModel.weights.map((v) => v.originalName);
    const byName = new Map(twinWeights.map((w) => [w.name, w]));
    tfModel.setWeights(tfWeights.map((name) => {
      const w = byName.get(name);
      if (!w) throw new Error(`${def.id}: no seeded weight for tfjs variable ${name}`);
      return tf.tensor(w.data, w.shape);
    }));
    const twinArtifacts = await saveArtifacts(tfModel);
    const twin: ModelVariant = { kind: "tfjs-twin", layers: twinLayers, weights: twinWeights, artifacts: twinArtifacts, tfjsRunnable: true };
    const weightBytes = kerasWeights.reduce((a, w) => a + w.data.byteLength, 0);
    if (!hasResetAfterGru(keras)) return { def, main: { ...twin, kind: "keras" }, weightBytes };
    const main: ModelVariant = { kind: "keras", layers: keras, weights: kerasWeights, artifacts: kerasGruArtifacts(twinArtifacts, kerasWeights), tfjsRunnable: false };
    return { def, main, tfjsTwin: twin, weightBytes };
  } finally {
    tfModel.dispose();
    if (previous && previous !== "cpu") await tf.setBackend(previous);
  }
}

