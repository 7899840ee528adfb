/**
 * Real tfjs models written by others: read as `{ modelJson, weights }` (shards in manifest
 * order) and seeded inputs of the kind each model was trained on. The MIT-licensed one is in
 * the repository (test/data/); the two published without a licence come from the data folder
 * outside it, and their `dir` is null (the test skips) where none holds them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Rng } from "./prng.ts";
import type { Artifacts, InputTensor } from "./tfjs.ts";
import { dataFile, optionalData } from "./data.ts";

/** The MIT-licensed 2018 tfjs model (test/data/real-models/tfjs-nietzsche-lstm). */
export const NIETZSCHE_DIR = dataFile("real-models/tfjs-nietzsche-lstm");
const unlicensed = (id: string) => optionalData(`real-models/${id}`, `the real model ${id}`);

export interface RealModel {
  id: string;
  /** Where its files are; null when no data folder holds them. */
  dir: string | null;
  description: string;
  /** Seeded inputs for `batch` rows of `time` steps. */
  makeInput(batch: number, time: number, rng: Rng): InputTensor;
  runs: { batch: number; time: number }[];
}

export function readArtifacts(dir: string): Artifacts {
  const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const weights = (modelJson.weightsManifest as { paths: string[] }[]).flatMap((g) =>
    g.paths.map((p) => {
      const b = readFileSync(join(dir, p));
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    }),
  );
  return { modelJson, weights };
}

/** Pose features standardised as in metadata.json: roughly N(0, 1) per feature. */
function standardised(batch: number, time: number, rng: Rng): InputTensor {
  return { data: rng.float32Array(batch * time * 6, (g) => g.normal(0, 1)), shape: [batch, time, 6] };
}

export const REAL_MODELS: RealModel[] = [
  {
    id: "tfjs-foulshot-gru",
    dir: unlicensed("tfjs-foulshot-gru"),
    description: "Keras 2.6 -> converter 3.8: Conv1D(128, same, relu) x2 -> GRU(256, reset_after=false) x2 -> Dense x3 -> softmax 9",
    makeInput: standardised,
    // tfjs cpu runs GRU(256) at 0.2-1 s per step (tf.split of the 256x768 recurrent kernel
    // dominates): one short window keeps the suite fast; the model accepts any length.
    runs: [{ batch: 2, time: 3 }],
  },
  {
    id: "tfjs-foulshot-simple-lstm",
    dir: unlicensed("tfjs-foulshot-simple-lstm"),
    description: "Keras 2.6 -> converter 3.8: Conv1D(128, k=5, same, relu) -> LSTM(128, seq) -> LSTM(64) -> Dense(30, relu) -> softmax 9",
    makeInput: standardised,
    runs: [
      { batch: 1, time: 32 },
      { batch: 3, time: 8 },
    ],
  },
  {
    id: "tfjs-nietzsche-lstm",
    dir: NIETZSCHE_DIR,
    description: "2018 format from Keras 2.1.5: bare layer list, shards without .bin, dense group before the LSTM group; LSTM(128, hard_sigmoid) on one-hot [b,40,57] -> softmax 57",
    makeInput: (batch, _time, rng) => {
      // One-hot windows of 40 characters drawn from the model's vocabulary (char_indices.json).
      const data = new Float32Array(batch * 40 * 57);
      for (let i = 0; i < batch * 40; i++) data[i * 57 + rng.int(0, 57)] = 1;
      return { data, shape: [batch, 40, 57] };
    },
    runs: [
      { batch: 1, time: 40 },
      { batch: 2, time: 40 },
    ],
  },
];
