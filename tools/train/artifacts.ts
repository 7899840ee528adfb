/**
 * A live tfjs LayersModel as the artifacts `model.save("file://dir")` writes: model.json's
 * content, in the key order of tfjs-core's getModelJSONForModelArtifacts ({ modelTopology,
 * format, generatedBy, convertedBy, weightsManifest: [{ paths: ["weights.bin"], weights }],
 * signature?, userDefinedMetadata?, modelInitializer?, trainingConfig? }), and the weight data
 * as one buffer. The one place a model becomes artifacts: the training CLI's files
 * (checkpoint.ts), the tests' and the benchmark's in-memory models.
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { concat } from "../../src/import/tfjs.js";

export const WEIGHTS_BIN = "weights.bin";

export interface SavedModel {
  /** model.json's content: plain JSON (a copy, sharing nothing with the model). */
  modelJson: Record<string, unknown> & { modelTopology: Record<string, unknown>; weightsManifest: { paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }[] };
  /** The concatenated weight data (weights.bin). */
  weights: ArrayBuffer;
}

/** Weight data (one buffer or several, in order) as one buffer. */
export function joinWeightData(data: tfTypes.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  if (data instanceof ArrayBuffer) return data;
  return concat(data).buffer as ArrayBuffer; // (concat's result spans its whole buffer)
}

/** Saves `model` in memory (no tfjs-node needed). includeOptimizer: the training config and optimizer slots too. */
export async function modelArtifacts(model: tfTypes.LayersModel, opts: { includeOptimizer?: boolean } = {}): Promise<SavedModel> {
  let artifacts: tfTypes.io.ModelArtifacts | undefined;
  await model.save(
    {
      save: async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      },
    },
    { includeOptimizer: opts.includeOptimizer ?? false },
  );
  if (!artifacts) throw new Error("tfjs did not hand the model artifacts to the save handler");
  const modelJson: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.signature != null) modelJson.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) modelJson.modelInitializer = artifacts.modelInitializer;
  if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
  return { modelJson: JSON.parse(JSON.stringify(modelJson)), weights: joinWeightData(artifacts.weightData) };
}
