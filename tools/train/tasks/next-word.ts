/**
 * next-word: Rowel Atienza's "LSTM by Example using TensorFlow" on Aesop's "Belling the Cat".
 *
 * Symbols are the space-separated words and punctuation of the fable (204 symbols, 112
 * distinct). The dictionary orders symbols by frequency, ties by first occurrence (what the
 * seed's `collections.Counter(words).most_common()` gives in Python 3.7+), ids from 0 as in
 * the seed. A window of 3 symbol ids, fed as floats [batch, 3, 1] as in the seed, predicts
 * the next symbol: LSTM(512) -> LSTM(512) -> Dense(112, softmax), RMSProp(0.001).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import type { Tf, TrainingBackend } from "../backend.js";
import { makeRng, permutation, runTrainingLoop } from "../loop.js";
import { requireData } from "../data.js";
import { commandFor, resolveOptions, writeMeta, type TaskOptions, type TaskResult } from "../task.js";
import { TextPipeline, WHITESPACE_RULE } from "../text.js";

/** The fable, as data.ts names it (found in test/data/). */
export const NEXT_WORD_DATA = "aesop-belling-the-cat.txt";
export const WINDOW = 3;
export const PROMPT = "had a general";
export const EXPECTED_CONTINUATION = "council to consider what measures they could take";

/** Epochs (0-based) from which the learning rate is 0.3x and 0.1x the base rate. */
export const LR_STEPS = [100, 150] as const;

/**
 * RMSProp learning rate for an epoch: the seed's 0.001 for epochs 1-100, then 0.0003, then
 * 0.0001 from epoch 151. At a constant 0.001 the training accuracy reaches ~0.9 by epoch 70
 * but swings by +-0.05 from epoch to epoch (batch 16). The steps do not depend on --epochs,
 * so a run resumed with more epochs continues the same schedule.
 */
export function nextWordLearningRate(base: number, epoch: number): number {
  if (epoch < LR_STEPS[0]) return base;
  if (epoch < LR_STEPS[1]) return base * 0.3;
  return base * 0.1;
}

export interface NextWordOptions extends TaskOptions {
  dataPath?: string;
  /** LSTM width (512 as in the seed; smaller in tests). */
  units?: number;
  learningRate?: number;
}

export function nextWordPipeline(): TextPipeline {
  // Punctuation symbols are words here, so no filters; the text is already lower case.
  return new TextPipeline({
    replacements: [WHITESPACE_RULE],
    filters: "",
    lower: true,
    split: " ",
    maxLen: WINDOW,
    padding: "pre",
    truncating: "pre",
    numWords: null,
    indexFrom: 0,
  });
}

export function buildNextWordModel(tf: Tf, vocab: number, units: number, seed: number, learningRate: number): tfTypes.LayersModel {
  const m = tf.sequential({ name: "next_word" });
  const lstm = (name: string, k: number, extra: Partial<Parameters<typeof tf.layers.lstm>[0]>) =>
    tf.layers.lstm({
      name,
      units,
      // The seed's BasicLSTMCell: sigmoid gates, forget bias 1.
      recurrentActivation: "sigmoid",
      unitForgetBias: true,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 16 + k }),
      recurrentInitializer: tf.initializers.glorotUniform({ seed: seed * 16 + k + 1 }),
      ...extra,
    });
  m.add(lstm("lstm_1", 0, { inputShape: [WINDOW, 1], returnSequences: true }));
  m.add(lstm("lstm_2", 2, {}));
  m.add(
    tf.layers.dense({
      name: "next_symbol",
      units: vocab,
      activation: "softmax",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 16 + 4 }),
    }),
  );
  m.compile({ optimizer: tf.train.rmsprop(learningRate), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return m;
}

/** Greedy continuation: slide the 3-symbol window, take the arg max each step. */
export function generateGreedy(tf: Tf, model: tfTypes.LayersModel, pipeline: TextPipeline, prompt: string, steps: number): string[] {
  const ids = pipeline.sequence(prompt);
  const words: string[] = [];
  const inv = new Map<number, string>();
  for (const [w, id] of pipeline.wordIndex) inv.set(id, w);
  for (let s = 0; s < steps; s++) {
    const window = ids.slice(ids.length - WINDOW);
    const next = tf.tidy(() => {
      const x = tf.tensor3d(Float32Array.from(window), [1, WINDOW, 1]);
      return (model.predict(x) as tfTypes.Tensor).argMax(-1).dataSync()[0];
    });
    ids.push(next);
    words.push(inv.get(next) ?? "?");
  }
  return words;
}

export async function trainNextWord(backend: TrainingBackend, options: NextWordOptions): Promise<TaskResult> {
  const o = resolveOptions(options, { epochs: 200, batchSize: 16 });
  const { tf } = backend;
  const units = options.units ?? 512;
  const learningRate = options.learningRate ?? 0.001;
  const text = await readFile(options.dataPath ?? requireData(NEXT_WORD_DATA, "Aesop's fable"), "utf8");
  const pipeline = nextWordPipeline().fit([text]);
  const symbols = pipeline.sequence(text);
  const vocab = pipeline.vocabSize;

  let n = symbols.length - WINDOW;
  if (o.slice != null) n = Math.min(n, o.slice);
  const xs = new Float32Array(n * WINDOW);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < WINDOW; t++) xs[i * WINDOW + t] = symbols[i + t];
    ys[i] = symbols[i + WINDOW];
  }
  const xAll = tf.tensor3d(xs, [n, WINDOW, 1]);
  const yAll = tf.oneHot(tf.tensor1d(ys, "int32"), vocab).toFloat();

  const tokenizerPath = path.join(o.outDir, "tokenizer.json");
  await mkdir(o.outDir, { recursive: true });
  await writeFile(tokenizerPath, JSON.stringify(pipeline.toKerasJson({ task: "next-word", inputEncoding: "ids-as-float [batch, 3, 1]" })) + "\n");
  const result = await runTrainingLoop({
    tf,
    task: "next-word",
    outDir: o.outDir,
    epochs: o.epochs,
    seed: o.seed,
    batchSize: o.batchSize,
    slice: o.slice,
    quiet: o.quiet,
    accuracyName: "acc",
    buildModel: () => buildNextWordModel(tf, vocab, units, o.seed, learningRate),
    beforeEpoch: (model, epoch) => {
      // RMSPropOptimizer keeps its rate in a protected field that it reads at every step.
      (model.optimizer as unknown as { learningRate: number }).learningRate = nextWordLearningRate(learningRate, epoch);
    },
    epochBatches: (epoch) => {
      const order = permutation(n, makeRng(o.seed * 100003 + epoch));
      const count = Math.ceil(n / o.batchSize);
      return {
        count,
        batch: (k) => {
          const idx = tf.tensor1d(order.slice(k * o.batchSize, (k + 1) * o.batchSize), "int32");
          const b = { x: tf.gather(xAll, idx), y: tf.gather(yAll, idx) };
          idx.dispose();
          return b;
        },
      };
    },
    // Full-data accuracy with the weights at the end of the epoch (the bar shows the mean
    // over the epoch's batches while the weights were still moving).
    evaluate: async (model) => {
      const acc = tf.tidy(() => {
        const p = (model.predict(xAll, { batchSize: 256 }) as tfTypes.Tensor).argMax(-1);
        return p.equal(yAll.argMax(-1)).mean().dataSync()[0];
      });
      return { train_acc_end: acc };
    },
  });
  const continuation = generateGreedy(tf, result.model, pipeline, PROMPT, 32).join(" ");
  const last = result.history[result.history.length - 1];
  const metrics = {
    trainAccuracy: last?.train_acc_end,
    trainAccuracyEpochMean: last?.acc,
    loss: last?.loss,
    secondsPerEpoch: mean(result.history.map((h) => h.ms)) / 1000,
    prompt: PROMPT,
    continuation,
    continuesAsExpected: continuation.startsWith(EXPECTED_CONTINUATION),
  };
  await writeMeta(o.outDir, {
    task: "next-word",
    architecture: `input ids as float [batch, ${WINDOW}, 1] -> LSTM(${units}, seq) -> LSTM(${units}) -> Dense(${vocab}, softmax); RMSProp(${learningRate}, x0.3 from epoch ${LR_STEPS[0] + 1}, x0.1 from epoch ${LR_STEPS[1] + 1}), categorical cross-entropy`,
    data: {
      path: options.dataPath ?? NEXT_WORD_DATA,
      licence: "public domain (Aesop)",
      symbols: symbols.length,
      distinct: vocab,
      dictionary: "by frequency, ties by first occurrence, ids from 0",
    },
    split: { train: n },
    epochs: result.history.length,
    batchSize: o.batchSize,
    seed: o.seed,
    metrics,
    backend,
    trainMs: result.trainMs,
    command: commandFor("next-word", o),
  });
  xAll.dispose();
  yAll.dispose();
  result.model.dispose();
  return { modelDir: o.outDir, tokenizerPath, metrics };
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}
