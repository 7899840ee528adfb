/**
 * The importers' tests run imported models through the suite's one float64 reference
 * (test/reference: the Keras and tfjs-layers equations, checked against tfjs there): the
 * importer's artifacts (a Keras 2 / tfjs-form topology and named weights) go in as they are,
 * with Keras semantics (masks, zero_output_for_mask) and the Keras version's hard_sigmoid.
 * One example at a time, as the importer tests feed them (no batch axis). Plus the seeded
 * inputs those tests use.
 */
import type { ModelArtifacts } from "../../src/import/artifacts.js";
import { mulberry32 } from "../../src/random.js";
import { ReferenceModel } from "../reference/index.ts";

export type KerasMajor = 2 | 3;

/** A tensor without its batch axis, row-major float64. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

export function tensor(shape: number[], data: ArrayLike<number>): RefTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor of shape [${shape}] needs ${n} values, got ${data.length}`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** Keras major version the artifacts' semantics follow (hard_sigmoid differs 2 vs 3). */
export function kerasMajorOf(artifacts: ModelArtifacts): KerasMajor {
  const major = Number.parseInt(artifacts.kerasVersion ?? "", 10);
  if (Number.isFinite(major)) return major >= 3 ? 3 : 2;
  return artifacts.origin === "keras3" ? 3 : 2;
}

/** The float64 reference model of imported artifacts. */
export function referenceOf(artifacts: ModelArtifacts): ReferenceModel {
  const weights = artifacts.weights.map((w) => ({ name: w.name, shape: [...w.shape], data: Float64Array.from(w.data) }));
  return new ReferenceModel(artifacts.topology, weights, { semantics: "keras", hardSigmoid: kerasMajorOf(artifacts) === 3 ? "keras3" : "tfjs" });
}

/** Runs the model on one example per model input; returns one tensor per model output (no batch axis). */
export function runReference(artifacts: ModelArtifacts, inputs: RefTensor | RefTensor[]): RefTensor[] {
  const xs = Array.isArray(inputs) ? inputs : [inputs];
  return referenceOf(artifacts)
    .predict(xs.map((x) => ({ shape: [1, ...x.shape], data: x.data })))
    .map((y) => ({ shape: y.shape.slice(1), data: y.data }));
}

// ---------------------------------------------------------------------------------------
// Inputs

/** Uniform floats in [0, 1) from one u32 seed (the project's mulberry32). */
export const seededRandom = mulberry32;

/**
 * Sequences shaped like `keras.datasets.imdb.load_data(num_words, index_from=3)` followed
 * by `pad_sequences(maxlen)`: 1 = start, 2 = out-of-vocabulary, words from 3 up (frequent
 * words, small ids, more likely), pre-padded with 0 and pre-truncated to `maxLen`.
 */
export function imdbStyleSequences(seed: number, count: number, maxLen = 100, numWords = 1000): number[][] {
  const rand = seededRandom(seed);
  const out: number[][] = [];
  for (let s = 0; s < count; s++) {
    const length = 5 + Math.floor(rand() * 2 * maxLen);
    const review = [1];
    for (let i = 1; i < length; i++) {
      if (rand() < 0.08) review.push(2);
      else review.push(3 + Math.min(numWords - 4, Math.floor(Math.exp(rand() * Math.log(numWords - 3)))));
    }
    const kept = review.slice(Math.max(0, review.length - maxLen));
    out.push([...new Array<number>(maxLen - kept.length).fill(0), ...kept]);
  }
  return out;
}
