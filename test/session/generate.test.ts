/** generate(): windowed and session models, greedy vs seeded sampling, ids and text, bad input. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, type Model } from "../../src/index.ts";
import { exportBundle } from "../../src/export.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";
import { codeOf } from "../util/errors.ts";

const V = 11;
let windowed: Model;
let variable: Model;
let texty: Model;

beforeAll(async () => {
  await tf.setBackend("cpu");
  const w = tf.sequential({ layers: [tf.layers.lstm({ units: 8, inputShape: [3, 1] }), tf.layers.dense({ units: V, activation: "softmax" })] });
  randomizeWeights(w, rngFor("gen windowed"), 1.5);
  windowed = await loadModel(await artifactsOf(w));
  const v = tf.sequential({ layers: [tf.layers.embedding({ inputDim: V, outputDim: 4 }), tf.layers.gru({ units: 6 }), tf.layers.dense({ units: V })] });
  randomizeWeights(v, rngFor("gen variable"), 1.5);
  variable = await loadModel(await artifactsOf(v));
  const vocab = Object.fromEntries(["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"].map((w2, i) => [w2, i + 1]));
  texty = await loadModel(await exportBundle(v, { tokenizer: vocab }));
});

function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}

describe("greedy", () => {
  it("a windowed model slides its 3-token window (checked against predict)", () => {
    const out = windowed.generate([1, 2, 3], { steps: 6 }) as number[];
    const seq = [1, 2, 3];
    for (let s = 0; s < 6; s++) {
      const y = windowed.predict({ data: Float32Array.from(seq.slice(-3)), shape: [1, 3, 1] }) as { data: Float32Array };
      seq.push(argmax(y.data));
    }
    expect(out).toEqual(seq.slice(3));
  });

  it("a variable-length model streams through a session (checked against re-running predict)", () => {
    const out = variable.generate([4, 2], { steps: 5 }) as number[];
    const seq = [4, 2];
    for (let s = 0; s < 5; s++) {
      const y = variable.predict({ data: Int32Array.from(seq), shape: [1, seq.length] }) as { data: Float32Array };
      seq.push(argmax(y.data));
    }
    expect(out).toEqual(seq.slice(2));
  });

  it("text in, text out through the bundle's vocabulary", () => {
    const text = texty.generate("the cat", { steps: 4 }) as string;
    expect(typeof text).toBe("string");
    const ids = texty.generate([1, 2], { steps: 4 }) as number[];
    expect(text).toBe(texty.tokenizer!.decode(ids));
  });
});

describe("sampling", () => {
  it("is reproducible with a seed, varies across seeds, and respects topK", () => {
    const a = variable.generate([1], { steps: 20, temperature: 1.2, seed: 7 });
    const b = variable.generate([1], { steps: 20, temperature: 1.2, seed: 7 });
    expect(a).toEqual(b);
    const seen = new Set<string>();
    for (let s = 0; s < 5; s++) seen.add(JSON.stringify(variable.generate([1], { steps: 20, temperature: 1.2, seed: 100 + s })));
    expect(seen.size).toBeGreaterThan(1);
    // topK = 1 is greedy whatever the temperature
    expect(variable.generate([1], { steps: 8, temperature: 5, topK: 1, seed: 3 })).toEqual(variable.generate([1], { steps: 8 }));
  });
});

describe("bad input", () => {
  const code = codeOf;
  it("names what is wrong", () => {
    expect(code(() => variable.generate([], { steps: 3 }))).toBe("E_ARGUMENT");
    expect(code(() => variable.generate([1], { steps: 0 }))).toBe("E_ARGUMENT");
    expect(code(() => variable.generate([1], { steps: -2 }))).toBe("E_ARGUMENT");
    expect(code(() => variable.generate([1], { steps: 2.5 }))).toBe("E_ARGUMENT");
    expect(code(() => variable.generate([1], { steps: 2, temperature: -1 }))).toBe("E_ARGUMENT");
    expect(code(() => variable.generate([V], { steps: 2 }))).toBe("E_TOKEN_RANGE");
    expect(code(() => variable.generate([-1], { steps: 2 }))).toBe("E_TOKEN_RANGE");
    expect(code(() => variable.generate("the cat", { steps: 2 }))).toBe("E_ARGUMENT"); // no vocabulary
    expect(code(() => texty.generate("zebra xylophone", { steps: 2 }))).toBe("E_ARGUMENT"); // nothing in vocabulary
    // still fine afterwards
    expect((variable.generate([1], { steps: 2 }) as number[]).length).toBe(2);
  });
});
