/** What every task module takes and returns, and the meta.json they write. */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { TrainingBackend } from "./backend.js";

export interface TaskOptions {
  /** Where model.json, weights.bin, tokenizer.json, meta.json and checkpoint/ go. */
  outDir: string;
  epochs?: number;
  /** Train on a small subset (tests): the first N examples of the task's data. */
  slice?: number | null;
  seed?: number;
  batchSize?: number;
  /** No progress bar or per-epoch lines. */
  quiet?: boolean;
}

export interface ResolvedOptions {
  outDir: string;
  epochs: number;
  slice: number | null;
  seed: number;
  batchSize: number;
  quiet: boolean;
}

export interface TaskResult {
  modelDir: string;
  tokenizerPath?: string;
  metrics: Record<string, unknown>;
}

export function resolveOptions(o: TaskOptions, defaults: { epochs: number; batchSize: number; seed?: number }): ResolvedOptions {
  return {
    outDir: path.resolve(o.outDir),
    epochs: o.epochs ?? defaults.epochs,
    slice: o.slice ?? null,
    seed: o.seed ?? defaults.seed ?? 1,
    batchSize: o.batchSize ?? defaults.batchSize,
    quiet: o.quiet ?? false,
  };
}

/** The command line that reproduces a run with these options. */
export function commandFor(task: string, o: ResolvedOptions): string {
  const parts = ["npx tsx tools/cli/main.ts train", task, "-o", o.outDir, "--epochs", String(o.epochs), "--seed", String(o.seed)];
  parts.push("--batch-size", String(o.batchSize));
  if (o.slice != null) parts.push("--slice", String(o.slice));
  return parts.join(" ");
}

export async function writeMeta(
  outDir: string,
  meta: {
    task: string;
    architecture: string;
    data: Record<string, unknown>;
    split: Record<string, number>;
    epochs: number;
    metrics: Record<string, unknown>;
    backend: TrainingBackend;
    trainMs: number;
    command: string;
    [k: string]: unknown;
  },
): Promise<void> {
  const { backend, trainMs, ...rest } = meta;
  const out = {
    ...rest,
    backend: {
      name: backend.name,
      description: backend.description,
      extraKernels: backend.extraKernels,
      tfjsNodeUnavailable: backend.nodeUnavailable,
    },
    durationSeconds: Math.round(trainMs / 100) / 10,
    node: process.version,
    date: new Date().toISOString(),
  };
  await writeFile(path.join(outDir, "meta.json"), JSON.stringify(out, null, 1) + "\n");
}
