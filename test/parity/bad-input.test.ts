/**
 * Bad input (issue 2, item 5): malformed or truncated model.json, missing or short weight data,
 * a manifest shape that does not match the layer, unsupported layers and options, inputs of the
 * wrong rank/shape/dtype, token ids out of range, a disposed model. Each must raise an
 * RnnWasmError with the documented code (src/errors.ts) and a message naming the layer or
 * input and the expected and received values; afterwards a model loaded before the error (the
 * witness) must still predict what tfjs predicts, so no error corrupts shared wasm state.
 *
 * Message checks ignore case, whitespace and brackets: "[4, 20]" in a message matches "4,20".
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROX } from "../tolerance.ts";
import { assertAllClose } from "../util/compare.ts";
import { expectError, type CodedErrorClass } from "../util/errors.ts";
import { copyArtifacts } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { NIETZSCHE_DIR } from "../util/real-models.ts";
import { type RuntimeModel, TARGET, asList, loadRuntime } from "../util/runtime.ts";
import {
  type Artifacts,
  type InputTensor,
  type OutputTensor,
  initTfjs,
  randomizeWeights,
  saveArtifacts,
  tfjsPredict,
  withCheapInitializers,
} from "../util/tfjs.ts";

const runtime = await loadRuntime();
const tf = withCheapInitializers(await initTfjs());
const rng = rngFor("bad input");

/** An RnnWasmError of the runtime under test (or of the reference, RNN_PARITY_TARGET=reference). */
const expectRnnError = (f: () => unknown, code: string, mentions: (string | number | (string | number)[])[]) =>
  expectError(f, code, { mentions, cls: runtime.RnnWasmError as CodedErrorClass });

// ------------------------------------------------------------------ subjects

/** Token model: Embedding "tokens"(30, 4) -> LSTM "encoder"(5) -> Dense "head"(1, sigmoid). */
let tokenArt: Artifacts;
/** Float model with a fixed time: LSTM "encoder_f"(3) on [null, 7, 4] -> Dense "head_f"(2). */
let floatArt: Artifacts;
/** Conv model: Conv1D "conv"(3, k=2) -> GlobalMaxPooling1D on [null, null, 4]. */
let convArt: Artifacts;
/** Witness: loaded once, checked after every error. */
let witness: RuntimeModel;
let witnessInput: InputTensor;
let witnessExpected: OutputTensor[];

const VOCAB = 30;
const ids = (data: number[], shape = [2, 3]): InputTensor => ({ data: Int32Array.from(data), shape });
const floats = (shape: number[], n = shape.reduce((a, b) => a * b, 1)): InputTensor => ({
  data: rng.fork(`floats ${shape.join("x")} ${n}`).float32Array(n, (g) => g.normal()),
  shape,
});

beforeAll(async () => {
  const tokenModel = tf.sequential();
  tokenModel.add(tf.layers.embedding({ name: "tokens", inputDim: VOCAB, outputDim: 4 }));
  tokenModel.add(tf.layers.lstm({ name: "encoder", units: 5 }));
  tokenModel.add(tf.layers.dense({ name: "head", units: 1, activation: "sigmoid" }));
  randomizeWeights(tokenModel, rng.fork("token model"));
  tokenArt = await saveArtifacts(tokenModel);

  const floatModel = tf.sequential();
  floatModel.add(tf.layers.lstm({ name: "encoder_f", units: 3, inputShape: [7, 4] }));
  floatModel.add(tf.layers.dense({ name: "head_f", units: 2 }));
  randomizeWeights(floatModel, rng.fork("float model"));
  floatArt = await saveArtifacts(floatModel);

  const convModel = tf.sequential();
  convModel.add(tf.layers.conv1d({ name: "conv", filters: 3, kernelSize: 2, inputShape: [null, 4] }));
  convModel.add(tf.layers.globalMaxPooling1d({ name: "pool" }));
  randomizeWeights(convModel, rng.fork("conv model"));
  convArt = await saveArtifacts(convModel);

  const w = tf.sequential();
  w.add(tf.layers.embedding({ name: "witness_tokens", inputDim: 50, outputDim: 6, maskZero: true }));
  w.add(tf.layers.gru({ name: "witness_gru", units: 7, returnSequences: true }));
  w.add(tf.layers.lstm({ name: "witness_lstm", units: 5 }));
  w.add(tf.layers.dense({ name: "witness_head", units: 3, activation: "softmax" }));
  randomizeWeights(w, rng.fork("witness"));
  witnessInput = { data: Int32Array.from([0, 0, 4, 9, 13, 1, 2, 3, 4, 5, 0, 7, 8, 0, 49]), shape: [3, 5] };
  witnessExpected = tfjsPredict(w, [witnessInput]);
  witness = await runtime.loadModel(await saveArtifacts(w));
  checkWitness("before any error");
});

afterAll(() => witness?.dispose());

function checkWitness(after: string): void {
  assertAllClose(asList(witness.predict(witnessInput)), witnessExpected, APPROX, `witness model after ${after}; ${describeSeed(rng)}`);
}

/** A deep copy of `art` with its model.json edited. */
function editJson(art: Artifacts, edit: (mj: any) => void): Artifacts {
  const copy = copyArtifacts(art);
  edit(copy.modelJson);
  return copy;
}

function layersOf(mj: any): any[] {
  return mj.modelTopology.config.layers;
}

function manifestBytes(art: Artifacts): number {
  return (art.weights as ArrayBuffer).byteLength;
}

// ------------------------------------------------------------------ model.json

describe(`${TARGET}: malformed or truncated model.json -> E_MODEL_JSON`, () => {
  it("modelJson without modelTopology", async () => {
    await expectRnnError(() => runtime.loadModel({ modelJson: { weightsManifest: [] }, weights: new ArrayBuffer(0) }), "E_MODEL_JSON", ["modelTopology"]);
    checkWitness("a modelJson without modelTopology");
  });

  it("modelJson that is not an object", async () => {
    await expectRnnError(() => runtime.loadModel({ modelJson: "{\"modelTopology\":", weights: new ArrayBuffer(0) }), "E_MODEL_JSON", []);
    checkWitness("a string modelJson");
  });

  it("Sequential whose layers is not an array", async () => {
    const art = editJson(tokenArt, (mj) => (mj.modelTopology.config.layers = 5));
    await expectRnnError(() => runtime.loadModel(art), "E_MODEL_JSON", ["layers"]);
    checkWitness("layers = 5");
  });

  it("a layer without class_name", async () => {
    const art = editJson(tokenArt, (mj) => delete layersOf(mj)[1].class_name);
    await expectRnnError(() => runtime.loadModel(art), "E_MODEL_JSON", ["class_name"]);
    checkWitness("a layer without class_name");
  });

  it("weightsManifest missing", async () => {
    const art = editJson(tokenArt, (mj) => delete mj.weightsManifest);
    await expectRnnError(() => runtime.loadModel(art), "E_MODEL_JSON", ["weightsManifest"]);
    checkWitness("no weightsManifest");
  });

  it("Functional model whose inbound node names a layer that does not exist", async () => {
    const x = tf.input({ shape: [null, 3] });
    const y = tf.layers.lstm({ name: "enc", units: 2 }).apply(x) as never;
    const model = tf.model({ inputs: x, outputs: tf.layers.dense({ name: "out", units: 1 }).apply(y) as never });
    randomizeWeights(model, rng.fork("functional"));
    const art = editJson(await saveArtifacts(model), (mj) => {
      const out = layersOf(mj).find((l: any) => l.name === "out");
      out.inbound_nodes[0][0][0] = "ghost_layer";
    });
    await expectRnnError(() => runtime.loadModel(art), "E_MODEL_JSON", ["ghost_layer"]);
    checkWitness("a dangling inbound node");
  });

  it("truncated model.json file loaded by path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-bad-"));
    const text = readFileSync(join(NIETZSCHE_DIR, "model.json"), "utf8");
    writeFileSync(join(dir, "model.json"), text.slice(0, Math.floor(text.length / 2)));
    for (const shard of ["group1-shard1of1", "group2-shard1of1"]) writeFileSync(join(dir, shard), readFileSync(join(NIETZSCHE_DIR, shard)));
    try {
      await expectRnnError(() => runtime.loadModel(join(dir, "model.json")), "E_MODEL_JSON", ["model.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    checkWitness("a truncated model.json");
  });
});

// ------------------------------------------------------------------ weights

describe(`${TARGET}: missing, short or mismatched weights -> E_WEIGHTS`, () => {
  it("no weight bytes at all", async () => {
    // Expected: the manifest's total, or the first weight (of layer "tokens") that cannot be read.
    const need = manifestBytes(tokenArt);
    await expectRnnError(() => runtime.loadModel({ modelJson: copyArtifacts(tokenArt).modelJson, weights: new ArrayBuffer(0) }), "E_WEIGHTS", [[need, "tokens"], 0]);
    checkWitness("empty weights");
  });

  it("weights 4 bytes short", async () => {
    const need = manifestBytes(tokenArt);
    const short = (tokenArt.weights as ArrayBuffer).slice(0, need - 4);
    await expectRnnError(() => runtime.loadModel({ modelJson: copyArtifacts(tokenArt).modelJson, weights: short }), "E_WEIGHTS", [need, need - 4]);
    checkWitness("short weights");
  });

  it("a weight missing from the manifest (and its bytes)", async () => {
    const art = copyArtifacts(tokenArt);
    const entries = art.modelJson.weightsManifest[0].weights;
    const k = entries.findIndex((e) => e.name === "encoder/recurrent_kernel");
    expect(k).toBeGreaterThan(0);
    const bytes = (e: { shape: number[] }) => 4 * e.shape.reduce((a, b) => a * b, 1);
    const before = entries.slice(0, k).reduce((a, e) => a + bytes(e), 0);
    const all = new Uint8Array(art.weights as ArrayBuffer);
    const cut = new Uint8Array(all.length - bytes(entries[k]));
    cut.set(all.subarray(0, before), 0);
    cut.set(all.subarray(before + bytes(entries[k])), before);
    entries.splice(k, 1);
    await expectRnnError(() => runtime.loadModel({ modelJson: art.modelJson, weights: cut.buffer }), "E_WEIGHTS", ["encoder", "recurrent_kernel"]);
    checkWitness("a missing weight");
  });

  it("a manifest shape that does not match the layer (kernel [5, 20] for input dim 4)", async () => {
    const art = copyArtifacts(tokenArt);
    const entries = art.modelJson.weightsManifest[0].weights;
    const k = entries.findIndex((e) => e.name === "encoder/kernel");
    expect(entries[k].shape).toEqual([4, 20]);
    const before = entries.slice(0, k).reduce((a, e) => a + 4 * e.shape.reduce((x, y) => x * y, 1), 0);
    const all = new Uint8Array(art.weights as ArrayBuffer);
    const grown = new Uint8Array(all.length + 20 * 4); // one extra kernel row, data consistent with the manifest
    grown.set(all.subarray(0, before + 80 * 4), 0);
    grown.set(all.subarray(before + 80 * 4), before + 100 * 4);
    entries[k].shape = [5, 20];
    await expectRnnError(() => runtime.loadModel({ modelJson: art.modelJson, weights: grown.buffer }), "E_WEIGHTS", ["encoder", "[4, 20]", "[5, 20]"]);
    checkWitness("a weight shape mismatch");
  });

  it("a NaN or infinite weight is named (a diverged training run), not turned into NaN outputs", async () => {
    const art = copyArtifacts(tokenArt);
    const entries = art.modelJson.weightsManifest[0].weights;
    const k = entries.findIndex((e) => e.name === "encoder/recurrent_kernel");
    const before = entries.slice(0, k).reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
    for (const [bad, text] of [[NaN, "NaN"], [Infinity, "Infinity"]] as const) {
      const data = new Float32Array((art.weights as ArrayBuffer).slice(0));
      data[before + 7] = bad;
      await expectRnnError(() => runtime.loadModel({ modelJson: art.modelJson, weights: data.buffer }), "E_WEIGHTS", ["encoder/recurrent_kernel", text, "flat index 7"]);
    }
    checkWitness("a non-finite weight");
  });
});

// ------------------------------------------------------------------ unsupported

describe(`${TARGET}: unsupported layers and options`, () => {
  it("an unsupported layer class is named -> E_UNSUPPORTED_LAYER", async () => {
    const art = editJson(tokenArt, (mj) => (layersOf(mj)[2].class_name = "ConvLSTM1D"));
    await expectRnnError(() => runtime.loadModel(art), "E_UNSUPPORTED_LAYER", ["ConvLSTM1D", "head"]);
    checkWitness("an unsupported layer");
  });

  it("an unknown activation is named -> E_UNSUPPORTED_OPTION", async () => {
    const art = editJson(tokenArt, (mj) => (layersOf(mj)[2].config.activation = "swoosh"));
    await expectRnnError(() => runtime.loadModel(art), "E_UNSUPPORTED_OPTION", ["swoosh", "head"]);
    checkWitness("an unknown activation");
  });

  it("Conv1D data_format=channels_first -> E_UNSUPPORTED_OPTION", async () => {
    const art = editJson(convArt, (mj) => (layersOf(mj)[0].config.data_format = "channels_first"));
    await expectRnnError(() => runtime.loadModel(art), "E_UNSUPPORTED_OPTION", ["channels_first", "conv"]);
    checkWitness("channels_first");
  });

  it("Bidirectional merge_mode=max -> E_UNSUPPORTED_OPTION", async () => {
    const m = tf.sequential();
    m.add(tf.layers.bidirectional({ name: "bidi", layer: tf.layers.lstm({ units: 2 }) as never, inputShape: [null, 3] } as never));
    randomizeWeights(m, rng.fork("bidi"));
    const art = editJson(await saveArtifacts(m), (mj) => (layersOf(mj)[0].config.merge_mode = "max"));
    await expectRnnError(() => runtime.loadModel(art), "E_UNSUPPORTED_OPTION", ["merge_mode", "max", "bidi"]);
    checkWitness("merge_mode max");
  });
});

// ------------------------------------------------------------------ inputs

describe(`${TARGET}: inputs of the wrong rank, shape, dtype or range`, () => {
  let floatModel: RuntimeModel;
  let tokenModel: RuntimeModel;
  beforeAll(async () => {
    floatModel = await runtime.loadModel(copyArtifacts(floatArt));
    tokenModel = await runtime.loadModel(copyArtifacts(tokenArt));
  });
  afterAll(() => {
    floatModel?.dispose();
    tokenModel?.dispose();
  });

  it("wrong rank -> E_SHAPE naming the input and the received shape", async () => {
    const name = floatModel.inputs[0].name;
    await expectRnnError(() => floatModel.predict(floats([7, 4])), "E_SHAPE", [name, "[7, 4]"]);
    checkWitness("a wrong rank");
  });

  it("wrong feature size -> E_SHAPE with expected and received", async () => {
    await expectRnnError(() => floatModel.predict(floats([2, 7, 3])), "E_SHAPE", [floatModel.inputs[0].name, "[2, 7, 3]", "4"]);
    checkWitness("a wrong feature size");
  });

  it("wrong length for a fixed-length input -> E_SHAPE", async () => {
    await expectRnnError(() => floatModel.predict(floats([2, 6, 4])), "E_SHAPE", [floatModel.inputs[0].name, "[2, 6, 4]", "7"]);
    checkWitness("a wrong time length");
  });

  it("data length that does not match the shape -> E_SHAPE", async () => {
    await expectRnnError(() => floatModel.predict(floats([2, 7, 4], 55)), "E_SHAPE", ["55", "56"]);
    checkWitness("a short data array");
  });

  // The contract's dtypes are Float32Array and Int32Array; rnn-wasm also converts other numeric
  // typed arrays (a lenient choice), so the cases here are wrong under any reading.
  it("BigInt64Array data -> E_DTYPE naming the received type", async () => {
    const bad = { data: new BigInt64Array(56), shape: [2, 7, 4] } as unknown as InputTensor;
    await expectRnnError(() => floatModel.predict(bad), "E_DTYPE", ["BigInt64Array"]);
    checkWitness("BigInt64Array data");
  });

  it("string data and non-numeric nested arrays -> E_DTYPE", async () => {
    const bad = { data: "0.5,0.25", shape: [2, 7, 4] } as unknown as InputTensor;
    await expectRnnError(() => floatModel.predict(bad), "E_DTYPE", ["string"]);
    const nested = Array.from({ length: 7 }, (_, t) => Array.from({ length: 4 }, (_, k) => (t === 3 && k === 2 ? "x" : 0.5)));
    await expectRnnError(() => floatModel.predict([nested] as unknown as number[][][]), "E_DTYPE", ["string"]);
    checkWitness("non-numeric data");
  });

  it("token id < 0 -> E_TOKEN_RANGE naming the layer, the id and input_dim", async () => {
    await expectRnnError(() => tokenModel.predict(ids([1, 2, 3, 4, -1, 6])), "E_TOKEN_RANGE", ["tokens", "-1", String(VOCAB)]);
    checkWitness("a negative token id");
  });

  it("token id >= input_dim -> E_TOKEN_RANGE", async () => {
    await expectRnnError(() => tokenModel.predict(ids([1, 2, 31, 4, 5, 6])), "E_TOKEN_RANGE", ["tokens", "31", String(VOCAB)]);
    await expectRnnError(() => tokenModel.predict(ids([VOCAB, 2, 3, 4, 5, 6])), "E_TOKEN_RANGE", ["tokens", String(VOCAB)]);
    checkWitness("a token id beyond the vocabulary");
  });

  it("the same models still predict correctly after their input errors", async () => {
    const model = tf.sequential();
    model.add(tf.layers.embedding({ name: "tokens", inputDim: VOCAB, outputDim: 4 }));
    model.add(tf.layers.lstm({ name: "encoder", units: 5 }));
    model.add(tf.layers.dense({ name: "head", units: 1, activation: "sigmoid" }));
    randomizeWeights(model, rng.fork("token model"));
    const x = ids([1, 2, 3, 29, 0, 7]);
    assertAllClose(asList(tokenModel.predict(x)), tfjsPredict(model, [x]), APPROX, `token model after errors; ${describeSeed(rng)}`);
    expect(asList(floatModel.predict(floats([2, 7, 4])))[0].shape).toEqual([2, 2]);
  });
});

// ------------------------------------------------------------------ dispose

describe(`${TARGET}: disposed model -> E_DISPOSED`, () => {
  it("predict after dispose", async () => {
    const model = await runtime.loadModel(copyArtifacts(tokenArt));
    expect(asList(model.predict(ids([1, 2, 3, 4, 5, 6])))[0].shape).toEqual([2, 1]);
    model.dispose();
    await expectRnnError(() => model.predict(ids([1, 2, 3, 4, 5, 6])), "E_DISPOSED", []);
    checkWitness("predict on a disposed model");
  });

  it("loading and disposing many models leaves the witness intact", async () => {
    for (let i = 0; i < 20; i++) {
      const m = await runtime.loadModel(copyArtifacts(i % 2 ? tokenArt : floatArt));
      m.dispose();
    }
    checkWitness("20 load/dispose cycles");
  });
});
