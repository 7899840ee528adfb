/**
 * Every task's pipeline learns on a tiny budget (a few epochs on a slice, wasm backend): the
 * training loss goes down and the task writes its artifacts. The full figures come from the
 * training command (docs/training.md).
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initTrainingBackend, type TrainingBackend } from "../../tools/train/backend.js";
import { loadModelFiles } from "../../tools/train/checkpoint.js";
import { trainNextWord } from "../../tools/train/tasks/next-word.js";
import { GRU_SPEC, STOCKTWITS_DATA, STOCKTWITS_SPEC, trainSentiment, UCI_SPEC, type SentimentSpec } from "../../tools/train/tasks/sentiment.js";
import { trainSine } from "../../tools/train/tasks/sine.js";
import { TextPipeline } from "../../tools/train/text.js";
import { optionalData } from "../util/data.ts";

const SEED = Number(process.env.TEST_SEED ?? 3);
/** The last epoch's mean training loss must be below this share of the first epoch's. */
const LEARNS = 0.9;
let backend: TrainingBackend;
let tmp: string;

beforeAll(async () => {
  backend = await initTrainingBackend({ preferNode: false });
  tmp = await mkdtemp(path.join(os.tmpdir(), "rnnwasm-train-tasks-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function losses(dir: string): Promise<number[]> {
  const log = JSON.parse(await readFile(path.join(dir, "train-log.json"), "utf8")) as { epochs: { loss: number }[] };
  return log.epochs.map((e) => e.loss);
}

async function expectFiles(dir: string, names: string[]): Promise<void> {
  for (const n of names) expect((await stat(path.join(dir, n))).size, `${dir}/${n}`).toBeGreaterThan(0);
}

/** The same spec with shorter sequences, so a test epoch takes a second, not ten. */
function short(spec: SentimentSpec, maxLen = 12): SentimentSpec {
  return { ...spec, pipeline: { ...spec.pipeline, maxLen } };
}

function expectLearns(l: number[], what: string): void {
  expect(l.every(Number.isFinite), `${what} (seed ${SEED}): losses ${l}`).toBe(true);
  expect(l[l.length - 1], `${what} (seed ${SEED}): losses ${l.map((v) => v.toFixed(4))}`).toBeLessThan(l[0] * LEARNS);
}

describe(`tasks learn on a tiny budget (seed ${SEED})`, () => {
  it("next-word: LSTM x2 on float ids", async () => {
    const dir = path.join(tmp, "next-word");
    const r = await trainNextWord(backend, { outDir: dir, epochs: 10, slice: 40, batchSize: 8, seed: SEED, units: 24, learningRate: 0.005, quiet: true });
    expectLearns(await losses(dir), "next-word");
    await expectFiles(dir, ["model.json", "weights.bin", "tokenizer.json", "meta.json"]);
    expect(r.tokenizerPath).toBe(path.join(dir, "tokenizer.json"));
    const meta = JSON.parse(await readFile(path.join(dir, "meta.json"), "utf8"));
    expect(meta.backend.name).toBe("wasm");
    expect(typeof meta.metrics.continuation).toBe("string");
  });

  it.skipIf(!optionalData(STOCKTWITS_DATA, "training the StockTwits task (test/train/tasks)"))("sentiment: StockTwits pipeline, Embedding(300) -> LSTM(128) -> LSTM(64)", async () => {
    const dir = path.join(tmp, "sentiment");
    const r = await trainSentiment(backend, short(STOCKTWITS_SPEC), { outDir: dir, epochs: 3, slice: 300, batchSize: 32, seed: SEED, quiet: true });
    expectLearns(await losses(dir), "sentiment");
    await expectFiles(dir, ["model.json", "weights.bin", "tokenizer.json", "meta.json"]);
    // The saved tokenizer encodes to ids inside the saved model's embedding table.
    const tok = TextPipeline.fromKerasJson(JSON.parse(await readFile(r.tokenizerPath!, "utf8")));
    const model = await loadModelFiles(backend.tf, dir);
    const inputDim = (model.layers[0].getConfig() as { inputDim: number }).inputDim;
    const ids = tok.encode("$SPY to the moon, calls at $250! @trader https://example.com");
    expect(ids.length).toBe(12);
    expect(Math.max(...ids)).toBeLessThan(inputDim);
    model.dispose();
  });

  it("uci-sentiment: Embedding -> LSTM -> Dense", async () => {
    const dir = path.join(tmp, "uci");
    await trainSentiment(backend, short(UCI_SPEC), { outDir: dir, epochs: 7, slice: 400, batchSize: 32, seed: SEED, quiet: true });
    expectLearns(await losses(dir), "uci-sentiment");
    await expectFiles(dir, ["model.json", "weights.bin", "tokenizer.json", "meta.json"]);
  });

  it("gru-sentiment: Embedding -> GRU x2 -> Dense -> ReLU -> Dense -> sigmoid", async () => {
    const dir = path.join(tmp, "gru");
    await trainSentiment(backend, short(GRU_SPEC), { outDir: dir, epochs: 4, slice: 400, batchSize: 32, seed: SEED, quiet: true });
    expectLearns(await losses(dir), "gru-sentiment");
    const json = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8"));
    const classes = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    expect(classes).toEqual(["Embedding", "GRU", "GRU", "Dense", "ReLU", "Dense", "Activation"]);
  });

  it("sine: stateful LSTM over consecutive windows, batch-1 model saved, SVG plot written", async () => {
    const dir = path.join(tmp, "sine");
    const r = await trainSine(backend, { outDir: dir, epochs: 6, slice: 12, batchSize: 4, seed: SEED, learningRate: 0.003, quiet: true });
    expectLearns(await losses(dir), "sine");
    await expectFiles(dir, ["model.json", "weights.bin", "meta.json", "sine-heldout.svg"]);
    expect(Number.isFinite(r.metrics.heldOutMse as number)).toBe(true);
    const json = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8"));
    const layers = json.modelTopology.config.layers;
    expect(layers[0].config.batch_input_shape).toEqual([1, null, 1]);
    expect(layers[1].config.stateful).toBe(true);
    expect(await readFile(path.join(dir, "sine-heldout.svg"), "utf8")).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });
});
