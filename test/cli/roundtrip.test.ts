/**
 * export -> predict through the built bin against tfjs (cpu backend) on the same weights and
 * inputs: f32 within APPROX (the runtime-vs-tfjs bound), f16 within F16_WEIGHTS of f32; text
 * input through the bundled tokenizer; metadata, progress bar, bench and train.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROX, F16_WEIGHTS } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { initTfjs, randomizeWeights, tfjsPredict, type Tf } from "../util/tfjs.ts";
import { ensureCliBuilt, errorLine, runCli, saveModel, tempDir } from "./helpers.ts";

let tf: Tf;
let dir: string;

beforeAll(async () => {
  ensureCliBuilt();
  tf = await initTfjs();
  dir = tempDir("roundtrip");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Nested arrays -> flat data and shape. */
function flat(v: unknown): { data: number[]; shape: number[] } {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return { data: (v as unknown[]).flat(Infinity) as number[], shape };
}

function nestedOf(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 1) return Array.from(data);
  const stride = data.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nestedOf(Array.prototype.slice.call(data, i * stride, (i + 1) * stride), shape.slice(1)));
}

function predictCli(model: string, args: string[]): unknown {
  const r = runCli(["predict", model, ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe("export -> predict equals tfjs", () => {
  it("LSTM(seq) -> GRU -> Dense(softmax): f32 within APPROX, f16 within F16_WEIGHTS of f32, model.json predicts like its bundle", async () => {
    const rng = rngFor("cli roundtrip lstm-gru");
    const m = tf.sequential({
      layers: [
        tf.layers.lstm({ name: "lstm", units: 16, returnSequences: true, inputShape: [null, 5] }),
        tf.layers.gru({ name: "gru", units: 9 }),
        tf.layers.dense({ name: "dense", units: 3, activation: "softmax" }),
      ],
    });
    randomizeWeights(m, rng.fork("weights"));
    const json = await saveModel(m, join(dir, "lstm-gru"));
    const x = { data: rng.fork("x").float32Array(2 * 7 * 5, (g) => g.normal(0, 1)), shape: [2, 7, 5] };
    const [expected] = tfjsPredict(m, [x]);
    const inputFile = join(dir, "x.json");
    writeFileSync(inputFile, JSON.stringify(nestedOf(x.data, x.shape)));

    const f32 = join(dir, "lstm-gru-f32.rnnb");
    const f16 = join(dir, "lstm-gru-f16.rnnb");
    for (const [out, dtype] of [[f32, "f32"], [f16, "f16"]]) {
      const e = runCli(["export", json, "-o", out, "--dtype", dtype]);
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).toBe("");
    }
    const y32 = flat(predictCli(f32, ["--input-file", inputFile]));
    assertClose(y32, expected, APPROX, `f32 bundle vs tfjs; ${describeSeed(rng)}`);
    // --input (inline) and {data, shape} give the same bits
    expect(predictCli(f32, ["--input", JSON.stringify({ data: Array.from(x.data), shape: x.shape })])).toEqual(predictCli(f32, ["--input-file", inputFile]));
    // the source model.json runs through the same path: identical output
    expect(flat(predictCli(json, ["--input-file", inputFile])).data).toEqual(y32.data);
    const y16 = flat(predictCli(f16, ["--input-file", inputFile]));
    const r = assertClose(y16, y32, F16_WEIGHTS, `f16 bundle vs f32 bundle; ${describeSeed(rng)}`);
    expect(r.maxAbs).toBeGreaterThan(0); // the weights really were rounded
    // sections hold half the bytes (the JSON header is the same size in both)
    const bytesOf = (f: string) => JSON.parse(runCli(["inspect", f, "--json"]).stdout) as { weightBytes: number; bundleBytes: number };
    expect(2 * bytesOf(f16).weightBytes).toBe(bytesOf(f32).weightBytes);
    expect(bytesOf(f16).bundleBytes).toBe(statSync(f16).size);
  });

  it("two inputs by name (functional model) and two outputs printed as a list", async () => {
    const rng = rngFor("cli roundtrip functional");
    const a = tf.input({ shape: [null, 3], name: "a" });
    const b = tf.input({ shape: [4], name: "b" });
    const h = tf.layers.lstm({ name: "lstm", units: 6 }).apply(a) as never;
    const g = tf.layers.dense({ name: "proj", units: 6, activation: "tanh" }).apply(b) as never;
    const s = tf.layers.add({ name: "add" }).apply([h, g]) as never;
    const y1 = tf.layers.dense({ name: "y1", units: 2 }).apply(s) as never;
    const y2 = tf.layers.dense({ name: "y2", units: 1, activation: "sigmoid" }).apply(h) as never;
    const m = tf.model({ inputs: [a, b], outputs: [y1, y2] });
    randomizeWeights(m, rng.fork("weights"));
    const json = await saveModel(m, join(dir, "functional"));
    const out = join(dir, "functional.rnnb");
    expect(runCli(["export", json, "-o", out]).code).toBe(0);
    const xa = { data: rng.fork("a").float32Array(3 * 4 * 3, (g2) => g2.normal(0, 1)), shape: [3, 4, 3] };
    const xb = { data: rng.fork("b").float32Array(3 * 4, (g2) => g2.normal(0, 1)), shape: [3, 4] };
    const expected = tfjsPredict(m, [xa, xb]);
    const y = predictCli(out, ["--input", JSON.stringify({ b: nestedOf(xb.data, xb.shape), a: nestedOf(xa.data, xa.shape) })]) as unknown[];
    expect(y).toHaveLength(2);
    y.forEach((t, i) => assertClose(flat(t), expected[i], APPROX, `output ${i}; ${describeSeed(rng)}`));
  });

  it("--text through the bundled tokenizer equals tfjs on the Keras-encoded ids", async () => {
    const rng = rngFor("cli roundtrip text");
    const T = 6;
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ name: "embedding", inputDim: 8, outputDim: 4, inputLength: T, maskZero: true }),
        tf.layers.lstm({ name: "lstm", units: 5 }),
        tf.layers.dense({ name: "dense", units: 1, activation: "sigmoid" }),
      ],
    });
    randomizeWeights(m, rng.fork("weights"));
    const json = await saveModel(m, join(dir, "text"));
    // Keras Tokenizer.to_json() layout: word_index is a JSON string inside config
    const vocab = { "<oov>": 1, the: 2, cat: 3, sat: 4, on: 5, mat: 6, "it's": 7 };
    const tokDoc = { class_name: "Tokenizer", config: { num_words: null, filters: '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n', lower: true, split: " ", char_level: false, oov_token: "<oov>", document_count: 3, word_index: JSON.stringify(vocab) } };
    const tokFile = join(dir, "tokenizer.json");
    writeFileSync(tokFile, JSON.stringify(tokDoc));
    const outPre = join(dir, "text-pre.rnnb");
    const outPost = join(dir, "text-post.rnnb");
    expect(runCli(["export", json, "-o", outPre, "--tokenizer", tokFile]).code).toBe(0);
    expect(runCli(["export", json, "-o", outPost, "--tokenizer", tokFile, "--padding", "post", "--truncating", "post", "--max-len", String(T)]).code).toBe(0);
    // Keras: "The cat, it's ON the mat!" -> the cat it's on the mat -> [2, 3, 7, 5, 2, 6];
    // "a dog sat" -> [1, 1, 4] (OOV), padded to 6 with zeros in front (pre) or behind (post);
    // 8 words cut to the last 6 (truncating pre) or the first 6 (post)
    const cases: [string, string, number[]][] = [
      [outPre, "The cat, it's ON the mat!", [2, 3, 7, 5, 2, 6]],
      [outPre, "a dog sat", [0, 0, 0, 1, 1, 4]],
      [outPost, "a dog sat", [1, 1, 4, 0, 0, 0]],
      [outPre, "the cat sat on the mat the end", [4, 5, 2, 6, 2, 1]],
      [outPost, "the cat sat on the mat the end", [2, 3, 4, 5, 2, 6]],
    ];
    for (const [bundle, text, ids] of cases) {
      const [expected] = tfjsPredict(m, [{ data: Int32Array.from(ids), shape: [1, T] }]);
      assertClose(flat(predictCli(bundle, ["--text", text])), expected, APPROX, `--text ${JSON.stringify(text)} (${bundle}); ${describeSeed(rng)}`);
    }
  });
});

describe("metadata, progress, bench, train", () => {
  it("--normalize and --metadata travel in the bundle (inspect --json shows them)", async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ name: "lstm", units: 4, inputShape: [null, 3] })] });
    const json = await saveModel(m, join(dir, "meta"));
    writeFileSync(join(dir, "stats.json"), JSON.stringify({ mean: [0.5, -1, 2], std: [1, 2, 0.25] }));
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ labels: ["up", "down"], epochs: 12 }));
    const out = join(dir, "meta.rnnb");
    const e = runCli(["export", json, "-o", out, "--normalize", join(dir, "stats.json"), "--metadata", join(dir, "meta.json")]);
    expect(e.code, e.stderr).toBe(0);
    const doc = JSON.parse(runCli(["inspect", out, "--json"]).stdout);
    expect(doc.metadata).toEqual({ labels: ["up", "down"], epochs: 12, normalization: { mean: [0.5, -1, 2], std: [1, 2, 0.25] } });
    const text = runCli(["inspect", out]).stdout;
    expect(text).toMatch(/^Metadata:\s+labels: \["up","down"\]$/m);
    expect(text).toMatch(/^\s+normalization: mean\/std over 3 features$/m);
  });

  it("a metadata file that is not a JSON object: E_ARGUMENT naming it", async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ name: "dense", units: 1, inputShape: [2] })] });
    const json = await saveModel(m, join(dir, "badmeta"));
    writeFileSync(join(dir, "list.json"), "[1, 2]");
    const r = runCli(["export", json, "-o", join(dir, "badmeta.rnnb"), "--metadata", join(dir, "list.json")]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(`rnn-wasm: E_ARGUMENT: metadata file ${join(dir, "list.json")} must hold a JSON object`);
  });

  it("progress bar: shown with --progress (one update per section), absent when stderr is not a terminal", async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ name: "lstm", units: 8, inputShape: [null, 3] }), tf.layers.dense({ name: "dense", units: 2 })] });
    const json = await saveModel(m, join(dir, "progress"));
    const quiet = runCli(["export", json, "-o", join(dir, "p1.rnnb")]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    const loud = runCli(["export", json, "-o", join(dir, "p2.rnnb"), "--progress"]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(/^importing .*model\.json/);
    expect(loud.stderr).toMatch(/exporting \|[█░]+\| 100% \| 5\/5 sections/);
    expect(readFileSync(join(dir, "p1.rnnb"))).toEqual(readFileSync(join(dir, "p2.rnnb")));
  });

  it("bench: timings as text and JSON; the streaming step is timed through a session, fixed-length models included", async () => {
    const m = tf.sequential({ layers: [tf.layers.gru({ name: "gru", units: 8, inputShape: [null, 3] }), tf.layers.dense({ name: "dense", units: 1 })] });
    const json = await saveModel(m, join(dir, "bench"));
    const out = join(dir, "bench.json");
    const r = runCli(["bench", json, "--repeats", "5", "--time", "12", "--json", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^load:\s+[\d.]+ ms \(median of 5;/m);
    expect(r.stdout).toMatch(/^predict:\s+[\d.]+ ms .*input \[1, 12, 3\]$/m);
    expect(r.stdout).toMatch(/^step:\s+[\d.]+ µs per session\.step \(median of 5 samples of \d+ steps\), input \[1, 3\]$/m);
    const doc = JSON.parse(readFileSync(out, "utf8"));
    for (const k of ["load", "predict", "step"]) {
      expect(doc[k].repeats).toBe(5);
      expect(doc[k].medianMs).toBeGreaterThan(0);
      expect(doc[k].minMs).toBeLessThanOrEqual(doc[k].medianMs);
      expect(doc[k].maxMs).toBeGreaterThanOrEqual(doc[k].medianMs);
    }
    const fixed = tf.sequential({ layers: [tf.layers.embedding({ name: "embedding", inputDim: 30, outputDim: 4, inputLength: 10 }), tf.layers.lstm({ name: "lstm", units: 4 })] });
    const r2 = runCli(["bench", await saveModel(fixed, join(dir, "bench-fixed")), "--repeats", "3"]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).toMatch(/^predict:.*input \[1, 10\]$/m);
    expect(r2.stdout).toMatch(/^step:\s+[\d.]+ µs per session\.step .*input \[1\]$/m);
    // a model that cannot stream says why
    const bidi = tf.sequential({ layers: [tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3 }) as never, inputShape: [null, 2] })] });
    const r3 = runCli(["bench", await saveModel(bidi, join(dir, "bench-bidi")), "--repeats", "3"]);
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stdout).toMatch(/^step:\s+skipped: the model cannot stream: layer .* reads the sequence backwards/m);
  });

  it("train: delegates to tools/train and exports model.rnnb that predicts like the saved model.json", () => {
    const out = join(dir, "train-sine");
    const r = runCli(["train", "sine", "-o", out, "--epochs", "1", "--slice", "4", "--batch-size", "4", "--seed", "3", "--quiet"], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.task).toBe("sine");
    expect(existsSync(doc.bundle)).toBe(true);
    const x = JSON.stringify([[[0.1], [0.4], [-0.3]]]);
    expect(predictCli(doc.bundle, ["--input", x])).toEqual(predictCli(join(doc.modelDir, "model.json"), ["--input", x]));
    const bad = runCli(["train", "no-such-task", "-o", join(dir, "t2")], { timeoutMs: 240_000 });
    expect(bad.code).toBe(2);
    expect(errorLine(bad)).toMatch(/^rnn-wasm: E_USAGE: unknown task "no-such-task" \(expected one of .*sine/);
  }, 300_000);
});
