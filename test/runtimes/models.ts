/**
 * The models every engine test runs. By default two seeded tfjs models are built and exported
 * with `exportBundle` (the same path a user takes); set RNN_WASM_RUNTIME_MODELS to a
 * comma-separated list of .rnnb files (e.g. the shipped models/*.rnnb) to run those instead.
 * Inputs are drawn from the case's seeded generator; the seed is printed by `describeSeed`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { rngFor, type Rng } from "../util/prng.ts";
import { initTfjs, randomizeWeights } from "../util/tfjs.ts";
import type { ProbeCase, ProbeTensor } from "./engine/probe.ts";

export interface RuntimeCase extends ProbeCase {
  bundle: Uint8Array;
  /** How the case was made, for failure messages (seed or file). */
  origin: string;
}

const WORDS = ("the a fox dog cat quick lazy brown jumps runs over under good bad great awful film story plot " +
  "actor was is very not really boring fun loved hated ending music long short best worst and but it").split(" ");

async function textLstm(rng: Rng): Promise<RuntimeCase> {
  const tf = await initTfjs();
  const maxLen = 10;
  const m = tf.sequential();
  m.add(tf.layers.embedding({ inputDim: WORDS.length + 1, outputDim: 8, inputLength: maxLen, maskZero: true }));
  m.add(tf.layers.lstm({ units: 16 }));
  m.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));
  randomizeWeights(m, rng.fork("weights"));
  const wordIndex = Object.fromEntries(WORDS.map((w, i) => [w, i + 1]));
  const bundle = await exportBundle(m, { tokenizer: wordIndex, metadata: { labels: ["negative", "positive"] } });
  m.dispose();
  const g = rng.fork("input");
  const B = 3;
  const ids = Array.from({ length: B * maxLen }, () => g.int(0, WORDS.length + 1));
  return {
    name: "text-lstm",
    bundle,
    origin: `seeded tfjs model (${rng.label}, seed ${rng.seed})`,
    inputs: [{ dtype: "int32", shape: [B, maxLen], data: ids }],
    texts: ["the quick brown fox jumps over the lazy dog", "not really a good film but the music was great", "awful"],
  };
}

async function gruTwoHeads(rng: Rng): Promise<RuntimeCase> {
  const tf = await initTfjs();
  const F = 6;
  const x = tf.input({ shape: [null, F] });
  const seq = tf.layers.gru({ units: 12, returnSequences: true }).apply(x) as import("@tensorflow/tfjs").SymbolicTensor;
  const perStep = tf.layers.dense({ units: 3, activation: "softmax" }).apply(seq) as import("@tensorflow/tfjs").SymbolicTensor;
  const last = tf.layers.lstm({ units: 8 }).apply(seq) as import("@tensorflow/tfjs").SymbolicTensor;
  const head = tf.layers.dense({ units: 2 }).apply(last) as import("@tensorflow/tfjs").SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: [perStep, head] });
  randomizeWeights(m, rng.fork("weights"));
  const bundle = await exportBundle(m);
  m.dispose();
  const g = rng.fork("input");
  const shape = [2, 7, F];
  return {
    name: "gru-two-heads",
    bundle,
    origin: `seeded tfjs model (${rng.label}, seed ${rng.seed})`,
    inputs: [{ dtype: "float32", shape, data: Array.from({ length: 2 * 7 * F }, () => Math.fround(g.uniform(-2, 2))) }],
  };
}

/**
 * A Keras 2 model of the corpus (test/fixtures/corpus) with causal multi-head attention on a
 * masked LSTM, exported from its .h5: its bundle needs the lazily loaded tensor-ops chunk and
 * the attention kernel in every engine.
 */
async function kerasAttention(rng: Rng): Promise<RuntimeCase> {
  const { corpusDefinitions, keras2H5 } = await import("../fixtures/corpus/files.ts");
  const def = corpusDefinitions().find((d) => d.id === "keras2-masked-causal-mha-streams")!;
  const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-runtimes-"));
  const file = join(dir, "attention.h5");
  writeFileSync(file, await keras2H5(def));
  const bundle = await exportBundle(file);
  rmSync(dir, { recursive: true, force: true });
  const g = rng.fork("input");
  const [B, T] = [2, 6];
  return {
    name: "keras-causal-attention",
    bundle,
    origin: `corpus ${def.id} (inputs: ${rng.label}, seed ${rng.seed})`,
    inputs: [{ dtype: "int32", shape: [B, T], data: Array.from({ length: B * T }, (_, i) => (i % 5 === 2 ? 0 : g.int(1, 25))) }],
  };
}

/** Inputs for a bundle from elsewhere: every null dimension becomes 2 (batch) or 7 (time). */
async function fileCase(path: string): Promise<RuntimeCase> {
  const bundle = new Uint8Array(readFileSync(path));
  const model = await loadModel(bundle);
  const rng = rngFor(`runtimes/${path}`);
  const inputs: ProbeTensor[] = model.inputs.map((io) => {
    const shape = io.shape.map((d, i) => d ?? (i === 0 ? 2 : 7));
    const n = shape.reduce((a, b) => a * b, 1);
    const vocab = model.tokenizer?.vocabSize ?? 2;
    return io.dtype === "int32"
      ? { dtype: "int32", shape, data: Array.from({ length: n }, () => rng.int(0, vocab)) }
      : { dtype: "float32", shape, data: Array.from({ length: n }, () => Math.fround(rng.uniform(-1, 1))) };
  });
  const texts = model.tokenizer ? ["the quick brown fox jumps over the lazy dog", "i loved it"] : undefined;
  model.dispose();
  return { name: path.replace(/^.*\//, ""), bundle, origin: `${path} (inputs: ${rng.label}, seed ${rng.seed})`, inputs, texts };
}

let cached: Promise<RuntimeCase[]> | null = null;

export function runtimeCases(): Promise<RuntimeCase[]> {
  cached ??= (async () => {
    const list = process.env.RNN_WASM_RUNTIME_MODELS;
    if (list) return Promise.all(list.split(",").filter(Boolean).map((p) => fileCase(resolve(p))));
    return [await textLstm(rngFor("runtimes/text-lstm")), await gruTwoHeads(rngFor("runtimes/gru-two-heads")), await kerasAttention(rngFor("runtimes/keras-attention"))];
  })();
  return cached;
}
