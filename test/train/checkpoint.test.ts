/**
 * Saving without tfjs-node: the files are what tfjs writes (model.json built as tfjs-core's
 * getModelJSONForModelArtifacts builds it), tfjs' loader reads them back to the same model,
 * and a run resumed from a checkpoint ends with the weights of an uninterrupted run.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as tfTypes from "@tensorflow/tfjs";
// tfjs-core's own model.json builder (not exported from the package index).
import { getModelJSONForModelArtifacts } from "@tensorflow/tfjs-core/dist/io/io_utils.js";
import { initTrainingBackend, type Tf, type TrainingBackend } from "../../tools/train/backend.js";
import { loadCheckpoint, loadModelFiles, readModelArtifacts, saveModelFiles } from "../../tools/train/checkpoint.js";
import { trainNextWord } from "../../tools/train/tasks/next-word.js";
import { ROUND_TRIP_ABS, expectClose } from "./tolerances.js";
import { NIETZSCHE_DIR } from "../util/real-models.ts";

const SEED = Number(process.env.TEST_SEED ?? 7);
let backend: TrainingBackend;
let tf: Tf;
let tmp: string;

beforeAll(async () => {
  backend = await initTrainingBackend({ preferNode: false });
  tf = backend.tf;
  tmp = await mkdtemp(path.join(os.tmpdir(), "rnnwasm-train-ckpt-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function smallModel(): tfTypes.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.embedding({ inputDim: 40, outputDim: 6, inputLength: 5, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: SEED }) }));
  m.add(tf.layers.lstm({ units: 7, returnSequences: true, kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: SEED + 2 }) }));
  m.add(tf.layers.gru({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 3 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: SEED + 4 }) }));
  m.add(tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 5 }) }));
  m.compile({ optimizer: tf.train.adam(0.01), loss: "binaryCrossentropy", metrics: ["accuracy"] });
  return m;
}

describe(`model files without tfjs-node (seed ${SEED})`, () => {
  it("writes model.json exactly as tfjs-core builds it, and weights.bin as the concatenated weight data", async () => {
    const m = smallModel();
    let captured: tfTypes.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (a) => ((captured = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    const dir = path.join(tmp, "format");
    await saveModelFiles(m, dir);
    const written = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8"));
    const expected = getModelJSONForModelArtifacts(captured!, [{ paths: ["weights.bin"], weights: captured!.weightSpecs! }]);
    expect(written).toEqual(JSON.parse(JSON.stringify(expected)));
    const bin = new Uint8Array(await readFile(path.join(dir, "weights.bin")));
    expect(Array.from(bin)).toEqual(Array.from(new Uint8Array(captured!.weightData as ArrayBuffer)));
    m.dispose();
  });

  it("round-trips through tf.loadLayersModel: same weights, same predictions", async () => {
    const m = smallModel();
    const x = tf.tensor2d(Int32Array.from({ length: 3 * 5 }, (_, i) => (i * 7 + SEED) % 40), [3, 5], "int32");
    await m.trainOnBatch(x, tf.tensor2d([[1], [0], [1]]));
    const dir = path.join(tmp, "roundtrip");
    await saveModelFiles(m, dir);
    const back = await loadModelFiles(tf, dir);
    expect(back.layers.map((l) => l.getClassName())).toEqual(m.layers.map((l) => l.getClassName()));
    const w0 = m.getWeights();
    const w1 = back.getWeights();
    expect(w1.length).toBe(w0.length);
    w0.forEach((w, i) => expectClose(w1[i].dataSync(), w.dataSync(), ROUND_TRIP_ABS, 0, `weight ${i}`));
    expectClose((back.predict(x) as tfTypes.Tensor).dataSync(), (m.predict(x) as tfTypes.Tensor).dataSync(), ROUND_TRIP_ABS, 0, "predictions");
    m.dispose();
    back.dispose();
  });

  it("keeps the optimizer state in a checkpoint (includeOptimizer)", async () => {
    const m = smallModel();
    const x = tf.tensor2d(Int32Array.from({ length: 4 * 5 }, (_, i) => (i * 11 + SEED) % 40), [4, 5], "int32");
    const y = tf.tensor2d([[1], [0], [0], [1]]);
    await m.trainOnBatch(x, y);
    const dir = path.join(tmp, "optimizer");
    await saveModelFiles(m, dir, { includeOptimizer: true });
    const back = await loadModelFiles(tf, dir);
    const o0 = await m.optimizer.getWeights();
    const o1 = await back.optimizer.getWeights();
    expect(o1.length).toBe(o0.length);
    expect(o0.length).toBeGreaterThan(1); // iterations + Adam moments
    o0.forEach((w, i) => expectClose(o1[i].tensor.dataSync(), w.tensor.dataSync(), ROUND_TRIP_ABS, 0, `optimizer weight ${w.name}`));
    // The next step from the reloaded model equals the next step of the original.
    const a = (await m.trainOnBatch(x, y)) as number[];
    const b = (await back.trainOnBatch(x, y)) as number[];
    expect(b[0]).toBe(a[0]);
    m.dispose();
    back.dispose();
  });

  it("reads a model another tfjs version wrote (2018, shards without .bin) with the same reader", async () => {
    const dir = NIETZSCHE_DIR;
    const artifacts = await readModelArtifacts(tf, dir);
    expect(artifacts.weightSpecs!.length).toBeGreaterThan(0);
    const m = await loadModelFiles(tf, dir);
    expect(m.layers.some((l) => l.getClassName() === "LSTM")).toBe(true);
    m.dispose();
  });
});

describe(`resume from a checkpoint (seed ${SEED})`, () => {
  it("1 epoch + resume to 3 ends with the weights of 3 epochs in one run", async () => {
    const common = { seed: SEED, batchSize: 8, slice: 24, units: 8, quiet: true };
    const straight = path.join(tmp, "straight");
    const resumed = path.join(tmp, "resumed");
    await trainNextWord(backend, { ...common, outDir: straight, epochs: 3 });
    await trainNextWord(backend, { ...common, outDir: resumed, epochs: 1 });
    const mid = await loadCheckpoint(tf, resumed);
    expect(mid!.state.epochsDone).toBe(1);
    mid!.model.dispose();
    await trainNextWord(backend, { ...common, outDir: resumed, epochs: 3 });
    const a = await loadModelFiles(tf, straight);
    const b = await loadModelFiles(tf, resumed);
    a.getWeights().forEach((w, i) => expectClose(b.getWeights()[i].dataSync(), w.dataSync(), 0, 0, `weight ${i}`));
    const logA = JSON.parse(await readFile(path.join(straight, "train-log.json"), "utf8"));
    const logB = JSON.parse(await readFile(path.join(resumed, "train-log.json"), "utf8"));
    expect(logB.epochs.map((e: { loss: number }) => e.loss)).toEqual(logA.epochs.map((e: { loss: number }) => e.loss));
    a.dispose();
    b.dispose();
  });

  it("refuses a checkpoint of another task or seed with E_ARGUMENT", async () => {
    const dir = path.join(tmp, "straight");
    await expect(trainNextWord(backend, { outDir: dir, seed: SEED + 1, batchSize: 8, slice: 24, units: 8, quiet: true, epochs: 4 })).rejects.toMatchObject({
      code: "E_ARGUMENT",
    });
  });
});
