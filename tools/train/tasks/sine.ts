/**
 * sine: the seed's curve fitting (MorvanZhou's TensorFlow RNN regression tutorial): from
 * sin(x_t) predict cos(x_t) at every step, x_t = t / (10 pi), over 20-step windows, with the
 * LSTM state carried from one window to the next.
 *
 * Dense(10) input layer -> LSTM(10, returnSequences, stateful) -> TimeDistributed(Dense(1)),
 * batchInputShape [B, 20, 1]. sin does not tell the sign of cos; the carried state does
 * (whether sin was rising), which is what the task exercises.
 *
 * Layout: the training series is cut into B contiguous streams, one per batch row, so row i
 * of batch k+1 is the continuation of row i of batch k (the tutorial reshaped one range per
 * batch, which does not make rows continue). Each epoch resets the states and walks the
 * windows in order, no shuffling. Held out: the windows after the training range, run
 * through a batch-1 copy of the model after one warm-up window.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import type { Tf, TrainingBackend } from "../backend.js";
import { runTrainingLoop } from "../loop.js";
import { commandFor, resolveOptions, writeMeta, type TaskOptions, type TaskResult } from "../task.js";

export const STEPS = 20;
export const UNITS = 10;
export const DX = 1 / (10 * Math.PI);
/** Training windows per stream (each stream is WINDOWS_PER_STREAM * 20 steps). */
export const WINDOWS_PER_STREAM = 50;
export const HELD_OUT_WINDOWS = 20;

export interface SineOptions extends TaskOptions {
  learningRate?: number;
}

export function buildSineModel(tf: Tf, batch: number | null, steps: number | null, seed: number, learningRate = 0.006): tfTypes.LayersModel {
  const m = tf.sequential({ name: "sine" });
  m.add(
    tf.layers.dense({
      name: "input_dense",
      units: UNITS,
      batchInputShape: [batch, steps, 1],
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 16 }),
    }),
  );
  m.add(
    tf.layers.lstm({
      name: "lstm",
      units: UNITS,
      returnSequences: true,
      stateful: true,
      recurrentActivation: "sigmoid",
      unitForgetBias: true,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 16 + 1 }),
      recurrentInitializer: tf.initializers.glorotUniform({ seed: seed * 16 + 2 }),
    }),
  );
  m.add(
    tf.layers.timeDistributed({
      name: "output",
      layer: tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 16 + 3 }) }),
    }),
  );
  m.compile({ optimizer: tf.train.adam(learningRate), loss: "meanSquaredError" });
  return m;
}

/** sin and cos over steps [start, start + n). */
function series(start: number, n: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.sin((start + i) * DX);
    y[i] = Math.cos((start + i) * DX);
  }
  return { x, y };
}

/**
 * Runs a batch-1 copy of `trained` over `windows` consecutive windows starting at step
 * `start`, state carried, from reset. Returns predictions and truth for every step.
 */
export function runHeldOut(tf: Tf, trained: tfTypes.LayersModel, start: number, windows: number): { pred: Float32Array; truth: Float32Array; input: Float32Array } {
  const copy = buildSineModel(tf, 1, STEPS, 0);
  copy.setWeights(trained.getWeights());
  copy.resetStates();
  const { x, y } = series(start, windows * STEPS);
  const pred = new Float32Array(windows * STEPS);
  for (let w = 0; w < windows; w++) {
    const out = tf.tidy(() => (copy.predict(tf.tensor3d(x.subarray(w * STEPS, (w + 1) * STEPS), [1, STEPS, 1])) as tfTypes.Tensor).dataSync());
    pred.set(out, w * STEPS);
  }
  copy.dispose();
  return { pred, truth: y, input: x };
}

function mse(a: Float32Array, b: Float32Array, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (a[i] - b[i]) ** 2;
  return s / (to - from);
}

export async function trainSine(backend: TrainingBackend, options: SineOptions): Promise<TaskResult> {
  const o = resolveOptions(options, { epochs: 60, batchSize: 16 });
  const { tf } = backend;
  const lr = options.learningRate ?? 0.006;
  const streams = o.batchSize;
  // slice: fewer windows per stream (tests).
  const windowsPerStream = o.slice != null ? Math.max(1, Math.min(WINDOWS_PER_STREAM, o.slice)) : WINDOWS_PER_STREAM;
  const streamSteps = windowsPerStream * STEPS;
  const trainSteps = streams * streamSteps;
  // Inputs and targets laid out [window][stream][step] so batch k is one contiguous slice.
  const xs = new Float32Array(trainSteps);
  const ys = new Float32Array(trainSteps);
  for (let s = 0; s < streams; s++) {
    const { x, y } = series(s * streamSteps, streamSteps);
    for (let w = 0; w < windowsPerStream; w++) {
      const dst = (w * streams + s) * STEPS;
      xs.set(x.subarray(w * STEPS, (w + 1) * STEPS), dst);
      ys.set(y.subarray(w * STEPS, (w + 1) * STEPS), dst);
    }
  }
  const xAll = tf.tensor3d(xs, [windowsPerStream * streams, STEPS, 1]);
  const yAll = tf.tensor3d(ys, [windowsPerStream * streams, STEPS, 1]);
  // Held out: one warm-up window from the end of the training range, then unseen windows.
  const heldStart = trainSteps - STEPS;
  const heldWindows = 1 + HELD_OUT_WINDOWS;

  await mkdir(o.outDir, { recursive: true });
  const result = await runTrainingLoop({
    tf,
    task: "sine",
    outDir: o.outDir,
    epochs: o.epochs,
    seed: o.seed,
    batchSize: o.batchSize,
    slice: o.slice,
    quiet: o.quiet,
    accuracyName: null,
    buildModel: () => buildSineModel(tf, streams, STEPS, o.seed, lr),
    beforeEpoch: (model) => model.resetStates(),
    epochBatches: () => ({
      count: windowsPerStream,
      batch: (k) => ({
        x: xAll.slice([k * streams, 0, 0], [streams, STEPS, 1]),
        y: yAll.slice([k * streams, 0, 0], [streams, STEPS, 1]),
      }),
    }),
    evaluate: async (model) => {
      const h = runHeldOut(tf, model, heldStart, heldWindows);
      return { heldout_mse: mse(h.pred, h.truth, STEPS) };
    },
    // The model in outDir runs one stream: batch 1, any number of steps per call.
    exportModel: (model) => {
      const copy = buildSineModel(tf, 1, null, o.seed, lr);
      copy.setWeights(model.getWeights());
      return copy;
    },
  });

  const h = runHeldOut(tf, result.model, heldStart, heldWindows);
  const cold = runHeldOut(tf, result.model, trainSteps, 1);
  const plotPath = path.join(o.outDir, "sine-heldout.svg");
  await writeFile(plotPath, sineSvg(h.truth, h.pred, h.input, STEPS));
  const metrics = {
    heldOutMse: mse(h.pred, h.truth, STEPS),
    heldOutMseFirstWindowFromReset: mse(cold.pred, cold.truth),
    trainLoss: result.history[result.history.length - 1]?.loss,
    heldOutWindows: HELD_OUT_WINDOWS,
    plot: plotPath,
    secondsPerEpoch: result.history.reduce((a, r) => a + r.ms, 0) / result.history.length / 1000,
  };
  await writeMeta(o.outDir, {
    task: "sine",
    architecture: `Dense(${UNITS}) on [batch, ${STEPS}, 1] -> LSTM(${UNITS}, seq, stateful) -> TimeDistributed(Dense(1)); Adam(${lr}), MSE; trained with batchInputShape [${streams}, ${STEPS}, 1], saved as [1, null, 1]`,
    data: {
      input: "sin(t / (10 pi))",
      target: "cos(t / (10 pi))",
      generated: true,
      streams,
      windowsPerStream,
      heldOut: `steps ${trainSteps}..${trainSteps + HELD_OUT_WINDOWS * STEPS - 1} (after 1 warm-up window), state carried`,
    },
    split: { trainWindows: windowsPerStream * streams, heldOutWindows: HELD_OUT_WINDOWS },
    epochs: result.history.length,
    batchSize: o.batchSize,
    seed: o.seed,
    metrics,
    backend,
    trainMs: result.trainMs,
    command: commandFor("sine", o),
  });
  tf.dispose([xAll, yAll]);
  result.model.dispose();
  return { modelDir: o.outDir, metrics };
}

/** A hand-written SVG line chart: truth (cos) and prediction over the held-out steps. */
export function sineSvg(truth: Float32Array, pred: Float32Array, input: Float32Array, warmup: number): string {
  const W = 900;
  const H = 320;
  const pad = 40;
  const n = truth.length;
  const sx = (i: number) => pad + ((W - 2 * pad) * i) / (n - 1);
  const sy = (v: number) => H / 2 - ((H - 2 * pad) / 2) * (v / 1.2);
  const line = (v: Float32Array) => Array.from(v, (y, i) => `${sx(i).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<rect x="${pad}" y="${pad}" width="${sx(warmup) - pad}" height="${H - 2 * pad}" fill="#eee"/>`,
    `<text x="${pad + 4}" y="${pad + 14}" fill="#777">warm-up</text>`,
    `<line x1="${pad}" y1="${sy(0)}" x2="${W - pad}" y2="${sy(0)}" stroke="#ccc"/>`,
    `<polyline fill="none" stroke="#bbb" stroke-width="1" points="${line(input)}"/>`,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line(truth)}"/>`,
    `<polyline fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3" points="${line(pred)}"/>`,
    `<text x="${pad}" y="${H - 12}">held-out steps (20 per window); grey: input sin, blue: target cos, red dashed: LSTM prediction</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
