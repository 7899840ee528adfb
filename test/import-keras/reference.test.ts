/**
 * The float64 reference (test/reference, through reference-keras.ts) on imported models, against tfjs as an
 * independent implementation: the real Keras 2 files on IMDB-style inputs, and the Keras 3
 * fixture tfjs can run. Agreement checks three things at once: the importer's weights and
 * roles, the normalised topology (tfjs must load it), and the reference equations that later
 * end-to-end tests (runtime vs reference) reuse.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import type { ModelArtifacts } from "../../src/import/artifacts.js";
import { importKerasFile } from "../../src/import/keras/index.js";
import { REF_VS_TFJS } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { fixture, haveRealH5, realH5 } from "./helpers.js";
import { recurrence } from "../reference/recurrent.ts";
import { sigmoid } from "../reference/activations.ts";
import { imdbStyleSequences, runReference, seededRandom, tensor, type RefTensor } from "./reference-keras.js";
import { tfjsModelFromArtifacts, tfjsPredict } from "./tfjs-oracle.js";

const SEED = 20240917;
const REAL = ["keras224_imdb_lstm.h5", "keras224_imdb_gru_reset_after_false.h5", "tfkeras_imdb_lstm.h5"];

describe.skipIf(!haveRealH5)("float64 reference vs tfjs on the real Keras 2 models", () => {
  it.each(REAL)(
    "%s on IMDB-style reviews",
    async (file) => {
      const artifacts = await importKerasFile(realH5(file), file);
      const model = await tfjsModelFromArtifacts(artifacts);
      const reviews = imdbStyleSequences(SEED, 6);
      for (const [i, ids] of reviews.entries()) {
        const x = tensor([100], ids);
        const [ref] = runReference(artifacts, x);
        const [actual] = tfjsPredict(model, x);
        expect(ref!.shape).toEqual([1]);
        expect(ref!.data[0]).toBeGreaterThan(0);
        expect(ref!.data[0]).toBeLessThan(1);
        assertClose(actual!, ref!, REF_VS_TFJS, `${file} review ${i} (seed ${SEED})`);
      }
      model.dispose();
    },
    60_000,
  );

  it("follows the Keras version: Keras 3 hard_sigmoid on the same weights gives other outputs", async () => {
    const file = "keras224_imdb_lstm.h5"; // LSTM(recurrent_activation="hard_sigmoid")
    const artifacts = await importKerasFile(realH5(file), file);
    const asKeras3: ModelArtifacts = { ...artifacts, kerasVersion: "3.0.0", origin: "keras3" };
    const x = tensor([100], imdbStyleSequences(SEED, 1)[0]!);
    const keras2 = runReference(artifacts, x)[0]!.data[0]!;
    const keras3 = runReference(asKeras3, x)[0]!.data[0]!;
    expect(Math.abs(keras2 - keras3)).toBeGreaterThan(1e-3);
  });
});

describe("float64 reference vs tfjs on a Keras 3 fixture", () => {
  it(
    "sequential_tfjs_compatible.keras: tfjs loads the normalised topology and agrees",
    async () => {
      const file = "sequential_tfjs_compatible.keras";
      const artifacts = await importKerasFile(fixture(file), file);
      const model = await tfjsModelFromArtifacts(artifacts);
      const rand = seededRandom(SEED);
      for (let i = 0; i < 5; i++) {
        const x = tensor([7, 3], Array.from({ length: 21 }, () => 4 * rand() - 2));
        const [ref] = runReference(artifacts, x);
        const [actual] = tfjsPredict(model, x);
        expect(ref!.shape).toEqual([2]);
        assertClose(actual!, ref!, REF_VS_TFJS, `${file} input ${i} (seed ${SEED})`);
      }
      model.dispose();
    },
    60_000,
  );

  it("runs the fixtures tfjs cannot (GRU reset_after=true, Keras 3 hard_sigmoid, LayerNormalization)", async () => {
    const rand = seededRandom(SEED + 1);
    const text = await importKerasFile(fixture("sequential_text.keras"), "sequential_text.keras");
    const [p] = runReference(text, tensor([12], Array.from({ length: 12 }, () => Math.floor(rand() * 40))));
    expect(p!.shape).toEqual([1]);
    expect(p!.data[0]).toBeGreaterThan(0);
    expect(p!.data[0]).toBeLessThan(1);
    const functional = await importKerasFile(fixture("functional_two_branch.keras"), "functional_two_branch.keras");
    const [probs, score] = runReference(functional, tensor([10], Array.from({ length: 10 }, () => Math.floor(rand() * 30))));
    expect(probs!.shape).toEqual([3]);
    expect(score!.shape).toEqual([1]);
    expect(probs!.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe("float64 GRU reset_after=true", () => {
  // With a diagonal candidate recurrent kernel U_h and no candidate recurrent bias,
  // r * (h U_h) = (r * h) U_h, so reset_after=true must equal reset_after=false with the
  // z/r recurrent biases folded into the input bias: checked against tfjs, which only runs
  // reset_after=false.
  it("equals tfjs' reset_after=false GRU where the two formulations coincide", async () => {
    const units = 5;
    const inDim = 3;
    const steps = 9;
    const rand = seededRandom(SEED + 2);
    const values = (n: number) => Float32Array.from({ length: n }, () => rand() - 0.5);
    const kernel = values(inDim * 3 * units);
    const recurrent = values(units * 3 * units);
    for (let i = 0; i < units; i++) {
      for (let j = 0; j < units; j++) if (i !== j) recurrent[i * 3 * units + 2 * units + j] = 0;
    }
    const inputBias = values(3 * units);
    const recurrentBias = values(3 * units);
    recurrentBias.fill(0, 2 * units);
    const x: RefTensor = tensor([steps, inDim], values(steps * inDim));

    const ours = recurrence(
      { cell: "gru", units, kernel, recurrentKernel: recurrent, bias: Float32Array.from([...inputBias, ...recurrentBias]), resetAfter: true, gate: sigmoid, candidate: Math.tanh },
      { x: x.data, B: 1, T: steps },
    ).sequence;

    await tf.setBackend("cpu");
    const folded = inputBias.map((b, j) => b + recurrentBias[j]!);
    const layer = tf.layers.gru({ units, returnSequences: true, recurrentActivation: "sigmoid", resetAfter: false } as never);
    const y = tf.tidy(() => {
      const input = tf.tensor(Float32Array.from(x.data), [1, steps, inDim]);
      layer.apply(input); // builds the weights
      layer.setWeights([tf.tensor(kernel, [inDim, 3 * units]), tf.tensor(recurrent, [units, 3 * units]), tf.tensor(folded, [3 * units])]);
      return (layer.apply(input) as tf.Tensor).dataSync();
    });
    assertClose({ data: y, shape: [steps, units] }, { data: ours, shape: [steps, units] }, REF_VS_TFJS, `GRU reset_after (seed ${SEED + 2})`);
  });
});
