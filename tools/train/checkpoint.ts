/**
 * Saving and loading tfjs LayersModels as files without tfjs-node.
 *
 * `model.save("file://dir")` needs tfjs-node's file handler. With plain tfjs the model goes
 * through `tf.io.withSaveHandler` and is written here in the same form tfjs-node writes:
 * `model.json` = { modelTopology, format, generatedBy, convertedBy, weightsManifest:
 * [{ paths: ["weights.bin"], weights: specs }], userDefinedMetadata?, trainingConfig? }
 * (the key order of tfjs-core's getModelJSONForModelArtifacts) and `weights.bin` = the
 * concatenated weight data. `loadModelFiles` reads it back through tfjs' own
 * `getModelArtifactsForJSON`, so what it accepts is what `tf.loadLayersModel` accepts.
 *
 * Checkpoints are saved with `includeOptimizer: true`: tfjs then stores the training config
 * and the optimizer's slots (Adam moments, iteration count) after the model weights, and
 * loading recompiles the model and restores them, so a resumed run continues exactly.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { joinWeightData, modelArtifacts, WEIGHTS_BIN } from "./artifacts.js";
import type { Tf } from "./backend.js";

export const MODEL_JSON = "model.json";
export { WEIGHTS_BIN };

/** Writes dir/model.json and dir/weights.bin; each file is written to a temp name then renamed. */
export async function saveModelFiles(
  model: tfTypes.LayersModel,
  dir: string,
  opts: { includeOptimizer?: boolean } = {},
): Promise<{ modelJsonPath: string; weightsPath: string; weightBytes: number }> {
  await mkdir(dir, { recursive: true });
  const saved = await modelArtifacts(model, opts);
  const weights = new Uint8Array(saved.weights);
  const modelJson = saved.modelJson;

  const modelJsonPath = path.join(dir, MODEL_JSON);
  const weightsPath = path.join(dir, WEIGHTS_BIN);
  // Weights first: a model.json never points at weights from another save.
  await writeFile(weightsPath + ".tmp", weights);
  await rename(weightsPath + ".tmp", weightsPath);
  await writeFile(modelJsonPath + ".tmp", JSON.stringify(modelJson));
  await rename(modelJsonPath + ".tmp", modelJsonPath);
  return { modelJsonPath, weightsPath, weightBytes: weights.byteLength };
}

/** Reads dir/model.json and the weight files its manifest lists into tfjs ModelArtifacts. */
export async function readModelArtifacts(tf: Tf, dir: string): Promise<tfTypes.io.ModelArtifacts> {
  const modelJson = JSON.parse(await readFile(path.join(dir, MODEL_JSON), "utf8")) as tfTypes.io.ModelJSON;
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: tfTypes.io.WeightsManifestEntry[] = [];
    const buffers: Uint8Array[] = [];
    for (const group of manifest) {
      for (const p of group.paths) buffers.push(new Uint8Array(await readFile(path.join(dir, p))));
      specs.push(...group.weights);
    }
    return [specs, joinWeightData(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer))];
  });
}

/** Loads a model written by saveModelFiles (or by tfjs-node's file:// handler). */
export async function loadModelFiles(tf: Tf, dir: string): Promise<tfTypes.LayersModel> {
  const artifacts = await readModelArtifacts(tf, dir);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

export interface CheckpointState {
  task: string;
  /** Epochs completed (the next epoch to run is this number). */
  epochsDone: number;
  seed: number;
  batchSize: number;
  slice: number | null;
  /** Milliseconds of training so far, summed over runs. */
  trainMs: number;
  history: EpochRecord[];
  /** Task-specific values carried across a resume (best validation accuracy, ...). */
  extra: Record<string, unknown>;
}

export interface EpochRecord {
  epoch: number;
  ms: number;
  [metric: string]: number;
}

const STATE_JSON = "state.json";

/**
 * Saves model (with optimizer) and state into outDir/checkpoint. The new checkpoint is
 * written beside the old one and swapped in by renames, so an interrupted save leaves the
 * previous checkpoint intact.
 */
export async function saveCheckpoint(tf: Tf, model: tfTypes.LayersModel, outDir: string, state: CheckpointState): Promise<void> {
  const final = path.join(outDir, "checkpoint");
  const fresh = path.join(outDir, "checkpoint.new");
  const old = path.join(outDir, "checkpoint.old");
  await rm(fresh, { recursive: true, force: true });
  await saveModelFiles(model, fresh, { includeOptimizer: true });
  await writeFile(path.join(fresh, STATE_JSON), JSON.stringify(state, null, 1));
  await rm(old, { recursive: true, force: true });
  await rename(final, old).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
  await rename(fresh, final);
  await rm(old, { recursive: true, force: true });
}

/** Returns the checkpoint in outDir, or null when there is none. */
export async function loadCheckpoint(
  tf: Tf,
  outDir: string,
): Promise<{ model: tfTypes.LayersModel; state: CheckpointState } | null> {
  let dir = path.join(outDir, "checkpoint");
  let stateText: string;
  try {
    stateText = await readFile(path.join(dir, STATE_JSON), "utf8");
  } catch {
    // A crash between the two renames of saveCheckpoint leaves only checkpoint.old.
    dir = path.join(outDir, "checkpoint.old");
    try {
      stateText = await readFile(path.join(dir, STATE_JSON), "utf8");
    } catch {
      return null;
    }
  }
  const state = JSON.parse(stateText) as CheckpointState;
  const model = await loadModelFiles(tf, dir);
  return { model, state };
}
