/**
 * The epoch loop shared by the tasks: seeded batch order, a progress bar per epoch (loss and
 * accuracy as running means), a checkpoint per epoch, resume from the last checkpoint, and a
 * JSON log of every epoch's figures.
 *
 * `model.fit` is not used: its shuffle draws from Math.random, so runs would not repeat.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import cliProgress from "cli-progress";
import type * as tfTypes from "@tensorflow/tfjs";
import type { Tf } from "./backend.js";
import { mulberry32 } from "../../src/random.js";
import { loadCheckpoint, saveCheckpoint, saveModelFiles, type CheckpointState, type EpochRecord } from "./checkpoint.js";
import { fail } from "../../src/errors.js";

/** Seeded generator for shuffling and splits (mulberry32, shared with the runtime). */
export const makeRng = mulberry32;

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, rng: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface Batch {
  x: tfTypes.Tensor;
  y: tfTypes.Tensor;
}

export interface LoopOptions {
  tf: Tf;
  task: string;
  outDir: string;
  epochs: number;
  seed: number;
  batchSize: number;
  slice: number | null;
  quiet: boolean;
  /** Builds and compiles a fresh model (used when there is no checkpoint to resume). */
  buildModel: () => tfTypes.LayersModel;
  /** Number of batches of the epoch and a factory for batch k (tensors are disposed after use). */
  epochBatches: (epoch: number) => { count: number; batch: (k: number) => Batch };
  /** Called before the first batch of each epoch (stateful models reset their states here). */
  beforeEpoch?: (model: tfTypes.LayersModel, epoch: number) => void;
  /** Metrics computed after each epoch (validation, test, held-out MSE), logged per epoch. */
  evaluate?: (model: tfTypes.LayersModel, epoch: number) => Promise<Record<string, number>>;
  /**
   * Metric that selects the model written to outDir (higher is better), e.g. "val_acc".
   * Without it, the model of the last epoch is written.
   */
  selectBy?: string;
  /** Name of the accuracy output of trainOnBatch, shown in the bar (null: loss only). */
  accuracyName: string | null;
  /** Extra fields for the epoch log. */
  logExtra?: Record<string, unknown>;
  /** Called after each epoch's checkpoint (e.g. to keep meta.json current in long runs). */
  afterEpoch?: (progress: LoopProgress) => Promise<void>;
  /** Prepares the model written to outDir from the trained one (e.g. batch-1 stateful copy). */
  exportModel?: (model: tfTypes.LayersModel) => tfTypes.LayersModel;
}

export interface LoopProgress {
  history: EpochRecord[];
  trainMs: number;
  /** Epoch whose weights are in outDir/model.json. */
  selectedEpoch: number;
  epochsPlanned: number;
}

export interface LoopResult {
  model: tfTypes.LayersModel;
  history: EpochRecord[];
  trainMs: number;
  resumedFrom: number;
  /** Epoch whose weights are in outDir/model.json. */
  selectedEpoch: number;
}

export async function runTrainingLoop(o: LoopOptions): Promise<LoopResult> {
  const { tf } = o;
  await mkdir(o.outDir, { recursive: true });
  let model: tfTypes.LayersModel;
  let state: CheckpointState;
  const resumed = await loadCheckpoint(tf, o.outDir);
  if (resumed) {
    const s = resumed.state;
    if (s.task !== o.task || s.seed !== o.seed || s.batchSize !== o.batchSize || s.slice !== o.slice) {
      fail(
        "E_ARGUMENT",
        `checkpoint in ${o.outDir} is for task ${s.task}, seed ${s.seed}, batch ${s.batchSize}, slice ${s.slice}; ` +
          `asked for ${o.task}, seed ${o.seed}, batch ${o.batchSize}, slice ${o.slice} (use another -o or delete the checkpoint)`,
      );
    }
    model = resumed.model;
    state = s;
    if (!o.quiet) process.stderr.write(`resuming ${o.task} from the checkpoint after epoch ${s.epochsDone}\n`);
  } else {
    model = o.buildModel();
    state = { task: o.task, epochsDone: 0, seed: o.seed, batchSize: o.batchSize, slice: o.slice, trainMs: 0, history: [], extra: {} };
  }
  const resumedFrom = state.epochsDone;
  const metricsNames = model.metricsNames; // ["loss", "acc"] or ["loss"]
  const accIndex = o.accuracyName ? metricsNames.indexOf(o.accuracyName) : -1;

  for (let epoch = state.epochsDone; epoch < o.epochs; epoch++) {
    o.beforeEpoch?.(model, epoch);
    const { count, batch } = o.epochBatches(epoch);
    const bar = o.quiet || !process.stderr.isTTY ? null : makeBar(epoch, o.epochs, accIndex >= 0);
    // Without a terminal (a background job writing a log), a line every 10% of a long epoch.
    const logEvery = !o.quiet && !bar && count >= 200 ? Math.ceil(count / 10) : 0;
    bar?.start(count, 0, { loss: "-", acc: "-" });
    let lossSum = 0;
    let accSum = 0;
    let seen = 0;
    const t0 = performance.now();
    for (let k = 0; k < count; k++) {
      const b = batch(k);
      const out = (await model.trainOnBatch(b.x, b.y)) as number | number[];
      const n = b.x.shape[0];
      tf.dispose([b.x, b.y]);
      const values = Array.isArray(out) ? out : [out];
      if (!Number.isFinite(values[0])) fail("E_VALUE", `${o.task}: loss became ${values[0]} in epoch ${epoch + 1}, batch ${k + 1}`);
      lossSum += values[0] * n;
      if (accIndex >= 0) accSum += values[accIndex] * n;
      seen += n;
      bar?.update(k + 1, { loss: (lossSum / seen).toFixed(4), acc: accIndex >= 0 ? (accSum / seen).toFixed(4) : "-" });
      if (logEvery && (k + 1) % logEvery === 0 && k + 1 < count) {
        const secs = (performance.now() - t0) / 1000;
        process.stderr.write(
          `${o.task} epoch ${epoch + 1}/${o.epochs}: ${k + 1}/${count} batches, ${secs.toFixed(0)}s, loss ${(lossSum / seen).toFixed(4)}` +
            (accIndex >= 0 ? `, acc ${(accSum / seen).toFixed(4)}` : "") + "\n",
        );
      }
    }
    bar?.stop();
    const ms = performance.now() - t0;
    const record: EpochRecord = { epoch: epoch + 1, ms: Math.round(ms), loss: lossSum / seen };
    if (accIndex >= 0) record.acc = accSum / seen;
    const tEval = performance.now();
    if (o.evaluate) Object.assign(record, await o.evaluate(model, epoch));
    const evalMs = performance.now() - tEval;
    state.history.push(record);
    state.epochsDone = epoch + 1;
    state.trainMs += ms;

    // The model written to outDir: the best epoch so far by selectBy, else the latest.
    const tSave = performance.now();
    const best = state.extra.best as { epoch: number; value: number } | undefined;
    const value = o.selectBy ? record[o.selectBy] : undefined;
    if (!o.selectBy || best === undefined || (value !== undefined && value > best.value)) {
      if (o.selectBy && value !== undefined) state.extra.best = { epoch: epoch + 1, value };
      const exported = o.exportModel ? o.exportModel(model) : model;
      await saveModelFiles(exported, o.outDir);
      if (exported !== model) exported.dispose();
    }
    await saveCheckpoint(tf, model, o.outDir, state);
    record.eval_ms = Math.round(evalMs);
    record.save_ms = Math.round(performance.now() - tSave);
    await writeFile(
      path.join(o.outDir, "train-log.json"),
      JSON.stringify({ task: o.task, seed: o.seed, batchSize: o.batchSize, ...o.logExtra, epochs: state.history }, null, 1),
    );
    if (!o.quiet) process.stderr.write(formatEpoch(o.task, record, o.epochs) + "\n");
    if (o.afterEpoch) {
      const sel = state.extra.best as { epoch: number } | undefined;
      await o.afterEpoch({ history: state.history, trainMs: state.trainMs, selectedEpoch: sel?.epoch ?? state.epochsDone, epochsPlanned: o.epochs });
    }
  }
  const best = state.extra.best as { epoch: number } | undefined;
  return {
    model,
    history: state.history,
    trainMs: state.trainMs,
    resumedFrom,
    selectedEpoch: best?.epoch ?? state.epochsDone,
  };
}

function makeBar(epoch: number, epochs: number, withAcc: boolean) {
  const label = `epoch ${String(epoch + 1).padStart(String(epochs).length)}/${epochs}`;
  return new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | loss {loss}${withAcc ? " | acc {acc}" : ""} | {duration_formatted} eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: false,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.legacy,
  );
}

function formatEpoch(task: string, r: EpochRecord, epochs: number): string {
  const parts = [`${task} epoch ${r.epoch}/${epochs}`, `${(r.ms / 1000).toFixed(1)}s`];
  for (const [k, v] of Object.entries(r)) {
    if (k === "epoch" || k === "ms" || k.endsWith("_ms")) continue;
    parts.push(`${k} ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : v.toFixed(4)}`);
  }
  return parts.join(" | ");
}
