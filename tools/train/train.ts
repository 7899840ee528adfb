/**
 * `train(task, opts)`: the entry the CLI and the `rnn-wasm train` command call. Returns where
 * the tfjs model (model.json + weights.bin) and tokenizer.json were written and the task's
 * figures, so an export step can turn modelDir into a .rnnb bundle.
 */
import { fail } from "../../src/errors.js";
import { initTrainingBackend, type TrainingBackend } from "./backend.js";
import type { TaskOptions, TaskResult } from "./task.js";
import { trainNextWord } from "./tasks/next-word.js";
import { GRU_SPEC, STOCKTWITS_SPEC, trainSentiment, UCI_SPEC } from "./tasks/sentiment.js";
import { trainSine } from "./tasks/sine.js";

export const TASKS = ["next-word", "sentiment", "uci-sentiment", "gru-sentiment", "sine"] as const;
export type TaskName = (typeof TASKS)[number];

export interface TrainResult extends TaskResult {
  backend: string;
}

export function isTaskName(s: string): s is TaskName {
  return (TASKS as readonly string[]).includes(s);
}

export async function train(task: string, opts: TaskOptions, backend?: TrainingBackend): Promise<TrainResult> {
  if (!isTaskName(task)) fail("E_ARGUMENT", `unknown task "${task}" (expected one of ${TASKS.join(", ")})`);
  for (const [k, v] of Object.entries({ epochs: opts.epochs, slice: opts.slice, batchSize: opts.batchSize })) {
    if (v != null && (!Number.isInteger(v) || v < 1)) fail("E_ARGUMENT", `${k} must be a positive integer, got ${v}`);
  }
  if (opts.seed != null && (!Number.isInteger(opts.seed) || opts.seed < 0)) fail("E_ARGUMENT", `seed must be a non-negative integer, got ${opts.seed}`);
  const b = backend ?? (await initTrainingBackend());
  let r: TaskResult;
  switch (task) {
    case "next-word":
      r = await trainNextWord(b, opts);
      break;
    case "sentiment":
      r = await trainSentiment(b, STOCKTWITS_SPEC, opts);
      break;
    case "uci-sentiment":
      r = await trainSentiment(b, UCI_SPEC, opts);
      break;
    case "gru-sentiment":
      r = await trainSentiment(b, GRU_SPEC, opts);
      break;
    case "sine":
      r = await trainSine(b, opts);
      break;
  }
  return { ...r, backend: b.description };
}
