/**
 * The input and output forms a tfjs or onnxruntime user reaches for: inputs by name (as
 * `session.run(feeds)` takes them), a tf.Tensor or an ort.Tensor as they hold them, and
 * outputs keyed by name on request. Each form gives the bits that `{ data, shape }` in model
 * order gives; forms that cannot be read are refused with a typed error saying what to pass.
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, RnnWasmError, type Model, type Tensor } from "../../src/index.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";

let twoInputs: Model; // inputs "ids" [null, 5] int32 and "feats" [null, 5, 3]; outputs "head" and "aux"
let text: Model; // one int32 input "tokens" [null, 7]

beforeAll(async () => {
  await tf.setBackend("cpu");
  const rng = rngFor("session/call-forms");
  const ids = tf.input({ shape: [5], name: "ids", dtype: "int32" });
  const feats = tf.input({ shape: [5, 3], name: "feats" });
  const emb = tf.layers.embedding({ name: "emb", inputDim: 20, outputDim: 3 }).apply(ids) as tf.SymbolicTensor;
  const both = tf.layers.concatenate({ name: "cat" }).apply([emb, feats]) as tf.SymbolicTensor;
  const h = tf.layers.lstm({ name: "lstm", units: 4 }).apply(both) as tf.SymbolicTensor;
  const head = tf.layers.dense({ name: "head", units: 2, activation: "softmax" }).apply(h) as tf.SymbolicTensor;
  const aux = tf.layers.dense({ name: "aux", units: 1 }).apply(h) as tf.SymbolicTensor;
  const m = tf.model({ inputs: [ids, feats], outputs: [head, aux] });
  randomizeWeights(m, rng.fork("two inputs"));
  twoInputs = await loadModel(await artifactsOf(m));

  const t = tf.sequential({ name: "text" });
  t.add(tf.layers.embedding({ name: "tokens_emb", inputDim: 30, outputDim: 4, inputLength: 7, batchInputShape: [null, 7] }));
  t.add(tf.layers.gru({ name: "gru", units: 3 }));
  randomizeWeights(t, rng.fork("text"));
  text = await loadModel(await artifactsOf(t));
});
afterAll(() => {
  twoInputs.dispose();
  text.dispose();
});

const idsX = { data: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 19]), shape: [2, 5] };
const featsX = { data: Float32Array.from({ length: 30 }, (_, i) => Math.sin(i)), shape: [2, 5, 3] };
const bits = (ys: Tensor | Tensor[]) => (Array.isArray(ys) ? ys : [ys]).map((y) => [Array.from(y.data), y.shape]);

function rejection(fn: () => unknown): RnnWasmError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RnnWasmError);
    return e as RnnWasmError;
  }
  throw new Error("expected an RnnWasmError, the call succeeded");
}

describe("inputs by name", () => {
  it("the names the model lists, in any key order, give what the list in model order gives", () => {
    expect(twoInputs.inputs.map((i) => i.name)).toEqual(["ids", "feats"]);
    const expected = bits(twoInputs.predict([idsX, featsX]));
    expect(bits(twoInputs.predict({ feats: featsX, ids: idsX }))).toEqual(expected);
    expect(bits(twoInputs.predict({ ids: idsX, feats: featsX }))).toEqual(expected);
    // nested arrays under a name, as the CLI's JSON gives them
    const nestedIds = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 19]];
    expect(bits(twoInputs.predict({ ids: nestedIds, feats: featsX }))).toEqual(expected);
  });

  it("a missing, misspelled or extra name is E_ARGUMENT naming the model's inputs and what came", () => {
    for (const x of [{ ids: idsX }, { ids: idsX, feat: featsX }, { ids: idsX, feats: featsX, extra: featsX }, {}]) {
      const e = rejection(() => twoInputs.predict(x as never));
      expect(e.code).toBe("E_ARGUMENT");
      expect(e.message).toMatch(/has 2 input\(s\) \(ids, feats\); received inputs named /);
    }
  });

  it("a one-input model by name, and a session stepped by name", () => {
    const x = { data: Int32Array.from([0, 0, 3, 9, 12, 1, 5]), shape: [1, 7] };
    expect(bits(text.predict({ [text.inputs[0].name]: x }))).toEqual(bits(text.predict(x)));
    const a = text.createSession();
    const b = text.createSession();
    for (let t = 0; t < 7; t++) {
      const step = { data: x.data.subarray(t, t + 1), shape: [1] };
      expect(bits(b.step({ [text.inputs[0].name]: step }))).toEqual(bits(a.step(step)));
    }
  });
});

describe("tensors users already hold", () => {
  it("a tf.Tensor (float32 and int32) reads as its dataSync() and shape", () => {
    const expected = bits(twoInputs.predict([idsX, featsX]));
    const ids = tf.tensor(idsX.data, idsX.shape, "int32");
    const feats = tf.tensor(featsX.data, featsX.shape);
    try {
      expect(bits(twoInputs.predict([ids, feats]))).toEqual(expected);
      expect(bits(twoInputs.predict({ ids, feats }))).toEqual(expected);
      const s = text.createSession({ batchSize: 2 });
      const ref = text.createSession({ batchSize: 2 });
      const step = tf.tensor([3, 4], [2], "int32");
      expect(bits(s.step(step))).toEqual(bits(ref.step({ data: Int32Array.from([3, 4]), shape: [2] })));
      step.dispose();
    } finally {
      ids.dispose();
      feats.dispose();
    }
  });

  it("a disposed tf.Tensor is E_ARGUMENT, not tfjs' own error", () => {
    const t = tf.tensor(idsX.data, idsX.shape, "int32");
    t.dispose();
    const e = rejection(() => twoInputs.predict([t, featsX]));
    expect(e.code).toBe("E_ARGUMENT");
    expect(e.message).toMatch(/tf\.Tensor is disposed/);
  });

  it("an ort.Tensor (float32, int32) reads as its data and dims", () => {
    const expected = bits(twoInputs.predict([idsX, featsX]));
    const ids = new ort.Tensor("int32", idsX.data, idsX.shape);
    const feats = new ort.Tensor("float32", featsX.data, featsX.shape);
    expect(bits(twoInputs.predict({ ids, feats }))).toEqual(expected);
    expect(bits(twoInputs.predict([ids, feats]))).toEqual(expected);
  });

  it("an int64 ort.Tensor is refused with what to pass instead", () => {
    const ids = new ort.Tensor("int64", BigInt64Array.from(Array.from(idsX.data, BigInt)), idsX.shape);
    const e = rejection(() => twoInputs.predict({ ids: ids as never, feats: featsX })); // (TypeScript refuses it too)
    expect(e.code).toBe("E_DTYPE");
    expect(e.message).toBe("input ids: data must be a Float32Array or Int32Array (or a number list), received BigInt64Array");
  });

  it("a bare typed array is refused naming its type (it has no shape)", () => {
    const e = rejection(() => text.predict(Int32Array.from([1, 2, 3, 4, 5, 6, 7]) as never));
    expect(e.code).toBe("E_DTYPE");
    expect(e.message).toMatch(/expected a tensor \{data, shape\} or nested arrays, received Int32Array$/);
  });
});

describe("outputs by name on request", () => {
  it("predict, step and run with { named: true } key the outputs by model.outputs' names", () => {
    expect(twoInputs.outputs.map((o) => o.name)).toEqual(["head", "aux"]);
    const list = twoInputs.predict([idsX, featsX]) as Tensor[];
    const named = twoInputs.predict([idsX, featsX], { named: true });
    expect(Object.keys(named)).toEqual(["head", "aux"]);
    expect(bits([named.head, named.aux])).toEqual(bits(list));

    const x = { data: Int32Array.from([0, 0, 3, 9, 12, 1, 5]), shape: [1, 7] };
    const name = text.outputs[0].name;
    expect(bits(text.predict(x, { named: true })[name])).toEqual(bits(text.predict(x)));
    const a = text.createSession();
    const b = text.createSession();
    expect(bits(b.run(x, { named: true })[name])).toEqual(bits(a.run(x)));
    a.reset();
    b.reset();
    const one = { data: Int32Array.of(4), shape: [1] };
    expect(bits(b.step(one, { named: true })[name])).toEqual(bits(a.step(one)));
  });
});
