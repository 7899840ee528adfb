/**
 * Binary text classification tasks:
 *
 * - `sentiment`: StockTwits $SPY 2017 (GarrettHoffman/lstm-oreilly), the seed's pipeline and
 *   model Embedding(vocab, 300) -> LSTM(128, seq) -> LSTM(64) -> Dense(1, sigmoid).
 * - `uci-sentiment`: UCI "Sentiment Labelled Sentences", Embedding(vocab, 32) -> LSTM(32) ->
 *   Dense(1, sigmoid).
 * - `gru-sentiment`: the GRU model of the Keras guide on the UCI data, Embedding(vocab, 64) ->
 *   GRU(64, seq) -> GRU(64) -> Dense(64) -> ReLU -> Dense(1) -> sigmoid.
 *
 * Shared: records shuffled with the seed and split 80/10/10; the vocabulary is fitted on the
 * training split only; texts become ids with the TextPipeline (the one tokenizer.json
 * describes); each epoch records validation and test accuracy; the model written to outDir
 * is the epoch with the best validation accuracy, and its test accuracy is the figure
 * reported.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync, strFromU8 } from "fflate";
import type * as tfTypes from "@tensorflow/tfjs";
import type { Tf, TrainingBackend } from "../backend.js";
import { parseCsvRecords } from "../csv.js";
import { requireData } from "../data.js";
import { makeRng, permutation, runTrainingLoop, type LoopProgress } from "../loop.js";
import { commandFor, resolveOptions, writeMeta, type TaskOptions, type TaskResult } from "../task.js";
import { KERAS_DEFAULT_FILTERS, STOCKTWITS_REPLACEMENTS, TextPipeline, WHITESPACE_RULE, type TextPipelineConfig } from "../text.js";

/** The data files as data.ts names them: the StockTwits messages are not in the repository (no licence). */
export const STOCKTWITS_DATA = "stocktwits/StockTwits_SPY_Sentiment_2017.gz";
export const UCI_DIR = "uci-sentiment";
export const UCI_FILES = ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"];

export interface LabelledText {
  text: string;
  label: 0 | 1;
}

/** StockTwits CSV `,message,sentiment`: bullish -> 1, bearish -> 0. */
export async function loadStockTwits(file = requireData(STOCKTWITS_DATA, "the StockTwits $SPY messages")): Promise<LabelledText[]> {
  const csv = strFromU8(gunzipSync(new Uint8Array(await readFile(file))));
  return parseCsvRecords(csv).map((r, i) => {
    if (r.sentiment !== "bullish" && r.sentiment !== "bearish") {
      throw new Error(`${file}: record ${i + 1} has sentiment "${r.sentiment}"`);
    }
    return { text: r.message, label: r.sentiment === "bullish" ? 1 : 0 };
  });
}

/**
 * UCI files: `sentence<TAB>label` per line. Lines are split on "\n" only: the imdb file has
 * U+0085 (NEL) inside sentences, which String.split(/\r?\n/) keeps but a universal-newline
 * reader (Python's splitlines) would break on.
 */
export async function loadUci(dir?: string): Promise<LabelledText[]> {
  const out: LabelledText[] = [];
  for (const name of UCI_FILES) {
    const text = await readFile(dir ? path.join(dir, name) : requireData(`${UCI_DIR}/${name}`, "the UCI sentences"), "utf8");
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const tab = line.lastIndexOf("\t");
      const label = line.slice(tab + 1).trim();
      if (tab < 0 || (label !== "0" && label !== "1")) throw new Error(`${name}: bad line ${JSON.stringify(line.slice(0, 60))}`);
      out.push({ text: line.slice(0, tab), label: label === "1" ? 1 : 0 });
    }
  }
  return out;
}

export interface SentimentSpec {
  task: "sentiment" | "uci-sentiment" | "gru-sentiment";
  load: () => Promise<LabelledText[]>;
  data: Record<string, unknown>;
  pipeline: Omit<TextPipelineConfig, "indexFrom">;
  defaults: { epochs: number; batchSize: number };
  architecture: (vocab: number, maxLen: number) => string;
  build: (tf: Tf, vocab: number, maxLen: number, seed: number) => tfTypes.LayersModel;
}

function seeded(tf: Tf, seed: number, k: number) {
  return tf.initializers.glorotUniform({ seed: seed * 16 + k });
}

export const STOCKTWITS_SPEC: SentimentSpec = {
  task: "sentiment",
  load: () => loadStockTwits(),
  data: {
    path: STOCKTWITS_DATA,
    source: "GarrettHoffman/lstm-oreilly data/ (StockTwits $SPY messages, 2017)",
    licence: "none stated: train locally, do not ship the data",
  },
  pipeline: {
    replacements: STOCKTWITS_REPLACEMENTS,
    filters: KERAS_DEFAULT_FILTERS,
    lower: true,
    split: " ",
    // 99.9% of messages have <= 31 words after preprocessing, the longest 39.
    maxLen: 32,
    padding: "pre",
    truncating: "pre",
    // The 10,000 most frequent words (ids 1..10000) cover 98.0% of the word occurrences of the
    // training split (seed 1; 28,227 distinct words there).
    numWords: 10001,
  },
  defaults: { epochs: 6, batchSize: 128 },
  architecture: (vocab, maxLen) =>
    `Embedding(${vocab}, 300, inputLength ${maxLen}) -> LSTM(128, seq) -> LSTM(64) -> Dense(1, sigmoid); Adam(0.001), binary cross-entropy`,
  build: (tf, vocab, maxLen, seed) => {
    const m = tf.sequential({ name: "stocktwits_sentiment" });
    m.add(tf.layers.embedding({ name: "embedding", inputDim: vocab, outputDim: 300, inputLength: maxLen, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed * 16 }) }));
    m.add(tf.layers.lstm({ name: "lstm_1", units: 128, returnSequences: true, recurrentActivation: "sigmoid", unitForgetBias: true, kernelInitializer: seeded(tf, seed, 1), recurrentInitializer: seeded(tf, seed, 2) }));
    m.add(tf.layers.lstm({ name: "lstm_2", units: 64, recurrentActivation: "sigmoid", unitForgetBias: true, kernelInitializer: seeded(tf, seed, 3), recurrentInitializer: seeded(tf, seed, 4) }));
    m.add(tf.layers.dense({ name: "bullish", units: 1, activation: "sigmoid", kernelInitializer: seeded(tf, seed, 5) }));
    m.compile({ optimizer: tf.train.adam(0.001), loss: "binaryCrossentropy", metrics: ["accuracy"] });
    return m;
  },
};

const UCI_DATA = {
  path: `${UCI_DIR}/{${UCI_FILES.join(",")}}`,
  source: "UCI Sentiment Labelled Sentences (Kotzias et al., 'From Group to Individual Labels using Deep Features', KDD 2015)",
  licence: "CC BY 4.0 (cite the paper)",
};

const UCI_PIPELINE: SentimentSpec["pipeline"] = {
  replacements: [WHITESPACE_RULE],
  filters: KERAS_DEFAULT_FILTERS,
  lower: true,
  split: " ",
  // 97% of the sentences have <= 32 words.
  maxLen: 32,
  padding: "pre",
  truncating: "pre",
  // The 2,000 most frequent words of the training split (1,923 of its 4,638 words occur twice
  // or more with seed 1).
  numWords: 2001,
};

export const UCI_SPEC: SentimentSpec = {
  task: "uci-sentiment",
  load: () => loadUci(),
  data: UCI_DATA,
  pipeline: UCI_PIPELINE,
  defaults: { epochs: 30, batchSize: 32 },
  architecture: (vocab, maxLen) =>
    `Embedding(${vocab}, 32, inputLength ${maxLen}) -> LSTM(32) -> Dense(1, sigmoid); Adam(0.001), binary cross-entropy`,
  build: (tf, vocab, maxLen, seed) => {
    const m = tf.sequential({ name: "uci_sentiment" });
    m.add(tf.layers.embedding({ name: "embedding", inputDim: vocab, outputDim: 32, inputLength: maxLen, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed * 16 }) }));
    m.add(tf.layers.lstm({ name: "lstm", units: 32, recurrentActivation: "sigmoid", unitForgetBias: true, kernelInitializer: seeded(tf, seed, 1), recurrentInitializer: seeded(tf, seed, 2) }));
    m.add(tf.layers.dense({ name: "positive", units: 1, activation: "sigmoid", kernelInitializer: seeded(tf, seed, 3) }));
    m.compile({ optimizer: tf.train.adam(0.001), loss: "binaryCrossentropy", metrics: ["accuracy"] });
    return m;
  },
};

export const GRU_SPEC: SentimentSpec = {
  task: "gru-sentiment",
  load: () => loadUci(),
  data: UCI_DATA,
  pipeline: UCI_PIPELINE,
  defaults: { epochs: 30, batchSize: 32 },
  architecture: (vocab, maxLen) =>
    `Embedding(${vocab}, 64, inputLength ${maxLen}) -> GRU(64, seq) -> GRU(64) -> Dense(64) -> ReLU -> Dense(1) -> sigmoid; Adam(0.001), binary cross-entropy (tfjs GRU: reset_after=false)`,
  build: (tf, vocab, maxLen, seed) => {
    const m = tf.sequential({ name: "gru_sentiment" });
    m.add(tf.layers.embedding({ name: "embedding", inputDim: vocab, outputDim: 64, inputLength: maxLen, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed * 16 }) }));
    m.add(tf.layers.gru({ name: "gru_1", units: 64, returnSequences: true, recurrentActivation: "sigmoid", kernelInitializer: seeded(tf, seed, 1), recurrentInitializer: seeded(tf, seed, 2) }));
    m.add(tf.layers.gru({ name: "gru_2", units: 64, recurrentActivation: "sigmoid", kernelInitializer: seeded(tf, seed, 3), recurrentInitializer: seeded(tf, seed, 4) }));
    m.add(tf.layers.dense({ name: "dense", units: 64, kernelInitializer: seeded(tf, seed, 5) }));
    m.add(tf.layers.reLU({ name: "relu" }));
    m.add(tf.layers.dense({ name: "logit", units: 1, kernelInitializer: seeded(tf, seed, 6) }));
    m.add(tf.layers.activation({ name: "sigmoid", activation: "sigmoid" }));
    m.compile({ optimizer: tf.train.adam(0.001), loss: "binaryCrossentropy", metrics: ["accuracy"] });
    return m;
  },
};

export interface SplitData {
  x: tfTypes.Tensor2D;
  y: tfTypes.Tensor2D;
  n: number;
}

/** Seeded 80/10/10 split of indices 0..n-1 (train, validation, test). */
export function splitIndices(n: number, seed: number): { train: Int32Array; val: Int32Array; test: Int32Array } {
  const p = permutation(n, makeRng(seed * 7919 + 17));
  const nTrain = Math.round(n * 0.8);
  const nVal = Math.round(n * 0.1);
  return { train: p.slice(0, nTrain), val: p.slice(nTrain, nTrain + nVal), test: p.slice(nTrain + nVal) };
}

function toTensors(tf: Tf, pipeline: TextPipeline, records: LabelledText[], idx: Int32Array): SplitData {
  const maxLen = pipeline.config.maxLen;
  const xs = new Int32Array(idx.length * maxLen);
  const ys = new Float32Array(idx.length);
  idx.forEach((r, i) => {
    xs.set(pipeline.encode(records[r].text), i * maxLen);
    ys[i] = records[r].label;
  });
  return { x: tf.tensor2d(xs, [idx.length, maxLen], "int32"), y: tf.tensor2d(ys, [idx.length, 1]), n: idx.length };
}

function evaluateSplit(tf: Tf, model: tfTypes.LayersModel, d: SplitData): { acc: number; loss: number } {
  return tf.tidy(() => {
    const p = (model.predict(d.x, { batchSize: 512 }) as tfTypes.Tensor).clipByValue(1e-7, 1 - 1e-7);
    const acc = p.greater(0.5).toFloat().equal(d.y).mean().dataSync()[0];
    // Binary cross-entropy, as the training loss.
    const ll = d.y.mul(p.log()).add(d.y.neg().add(1).mul(p.neg().add(1).log()));
    const loss = ll.mean().neg().dataSync()[0];
    return { acc, loss };
  });
}

export async function trainSentiment(backend: TrainingBackend, spec: SentimentSpec, options: TaskOptions): Promise<TaskResult> {
  const o = resolveOptions(options, spec.defaults);
  const { tf } = backend;
  let records = await spec.load();
  const loaded = records.length;
  if (o.slice != null) records = records.slice(0, o.slice);
  const pipeline = new TextPipeline({ ...spec.pipeline, indexFrom: 1 });
  // Texts with no word left after preprocessing carry no signal (the seed drops them too).
  const kept = records.filter((r) => pipeline.words(r.text).length > 0);
  const dropped = records.length - kept.length;
  records = kept;
  const split = splitIndices(records.length, o.seed);
  pipeline.fit(Array.from(split.train, (i) => records[i].text));
  const vocab = pipeline.vocabSize;
  const maxLen = pipeline.config.maxLen;

  await mkdir(o.outDir, { recursive: true });
  const tokenizerPath = path.join(o.outDir, "tokenizer.json");
  await writeFile(tokenizerPath, JSON.stringify(pipeline.toKerasJson({ task: spec.task, labels: ["negative", "positive"] })) + "\n");

  const train = toTensors(tf, pipeline, records, split.train);
  const val = toTensors(tf, pipeline, records, split.val);
  const test = toTensors(tf, pipeline, records, split.test);
  const positives = (d: SplitData) => d.y.sum().dataSync()[0] / d.n;

  const t0 = performance.now();
  // meta.json after every epoch, so a long run stopped early still describes its model.
  const writeSentimentMeta = async (p: LoopProgress) => {
    const best = p.history.find((h) => h.epoch === p.selectedEpoch)!;
    const last = p.history[p.history.length - 1];
    const msSum = p.history.reduce((a, h) => a + h.ms, 0);
    const metrics = {
      selectedEpoch: p.selectedEpoch,
      testAccuracy: best.test_acc,
      validationAccuracy: best.val_acc,
      trainAccuracyEpochMean: best.acc,
      lastEpoch: { epoch: last.epoch, val_acc: last.val_acc, test_acc: last.test_acc },
      majorityBaselineTest: Math.max(positives(test), 1 - positives(test)),
      secondsPerEpoch: msSum / p.history.length / 1000,
      examplesPerSecond: (train.n * p.history.length) / (msSum / 1000),
    };
    await writeMeta(o.outDir, {
      task: spec.task,
      status: p.history.length >= p.epochsPlanned ? "complete" : `training: ${p.history.length} of ${p.epochsPlanned} epochs done`,
      architecture: spec.architecture(vocab, maxLen),
      data: { ...spec.data, records: loaded, used: records.length + dropped, droppedEmpty: dropped, vocabulary: vocab, maxLen, positiveShareTrain: positives(train) },
      split: { train: train.n, validation: val.n, test: test.n },
      epochs: p.history.length,
      batchSize: o.batchSize,
      seed: o.seed,
      selection: "the epoch with the best validation accuracy is the model in this folder; its test accuracy is reported",
      metrics,
      history: p.history,
      backend,
      trainMs: p.trainMs,
      wallMsThisRun: Math.round(performance.now() - t0),
      command: commandFor(spec.task, o),
    });
    return metrics;
  };
  const result = await runTrainingLoop({
    tf,
    task: spec.task,
    outDir: o.outDir,
    epochs: o.epochs,
    seed: o.seed,
    batchSize: o.batchSize,
    slice: o.slice,
    quiet: o.quiet,
    accuracyName: "acc",
    selectBy: "val_acc",
    logExtra: { architecture: spec.architecture(vocab, maxLen), split: { train: train.n, val: val.n, test: test.n } },
    buildModel: () => spec.build(tf, vocab, maxLen, o.seed),
    epochBatches: (epoch) => {
      const order = permutation(train.n, makeRng(o.seed * 100003 + epoch));
      return {
        count: Math.ceil(train.n / o.batchSize),
        batch: (k) => {
          const idx = tf.tensor1d(order.slice(k * o.batchSize, (k + 1) * o.batchSize), "int32");
          const b = { x: tf.gather(train.x, idx), y: tf.gather(train.y, idx) };
          idx.dispose();
          return b;
        },
      };
    },
    afterEpoch: async (p) => {
      await writeSentimentMeta(p);
    },
    evaluate: async (model) => {
      const v = evaluateSplit(tf, model, val);
      const t = evaluateSplit(tf, model, test);
      return { val_loss: v.loss, val_acc: v.acc, test_acc: t.acc };
    },
  });
  const metrics = await writeSentimentMeta({ ...result, epochsPlanned: o.epochs });
  tf.dispose([train.x, train.y, val.x, val.y, test.x, test.y]);
  result.model.dispose();
  return { modelDir: o.outDir, tokenizerPath, metrics };
}
