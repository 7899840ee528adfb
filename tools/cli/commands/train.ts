/** `rnn-wasm train`: a seed task trained with tfjs (tools/train), then exported to model.rnnb. */
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { exportBundle } from "../../../src/export.js";
import { UsageError } from "../errors.js";
import { nonNegativeInt, positiveInt } from "../options.js";
import { loadTrainer } from "../trainer.js";

interface TrainFlags {
  out: string;
  epochs?: number;
  slice?: number;
  seed?: number;
  batchSize?: number;
  quiet?: boolean;
  export: boolean;
}

async function run(task: string, o: TrainFlags): Promise<void> {
  const trainer = await loadTrainer();
  if (trainer.TASKS && !trainer.TASKS.includes(task)) throw new UsageError(`unknown task "${task}" (expected one of ${trainer.TASKS.join(", ")})`);
  const r = await trainer.train(task, { outDir: resolve(o.out), epochs: o.epochs, slice: o.slice, seed: o.seed, batchSize: o.batchSize, quiet: o.quiet }).catch((e) => {
    // the trainer's E_ARGUMENT is about the command line (options, a checkpoint of another run in -o)
    throw e instanceof RnnWasmError && e.code === "E_ARGUMENT" ? new UsageError(e.message) : e;
  });
  let bundle: string | undefined;
  if (o.export) {
    bundle = join(r.modelDir, "model.rnnb");
    const bytes = await exportBundle(join(r.modelDir, "model.json"), { tokenizer: r.tokenizerPath });
    await writeFile(bundle, bytes);
  }
  process.stdout.write(JSON.stringify({ task, modelDir: r.modelDir, bundle, tokenizer: r.tokenizerPath, backend: r.backend, metrics: r.metrics }, null, 1) + "\n");
}

export function register(program: Command): void {
  program
    .command("train")
    .description("train a seed task (sentiment, uci-sentiment, gru-sentiment, next-word, sine) with tfjs, then export model.rnnb")
    .argument("<task>", "the seed task")
    .requiredOption("-o, --out <dir>", "output folder (model.json, weights.bin, tokenizer.json, meta.json, model.rnnb)")
    .option("--epochs <n>", "epochs (default per task)", positiveInt("--epochs"))
    .option("--slice <n>", "train on the first n examples only", positiveInt("--slice"))
    .option("--seed <n>", "random seed", nonNegativeInt("--seed"))
    .option("--batch-size <n>", "batch size (default per task)", positiveInt("--batch-size"))
    .option("--no-export", "do not write model.rnnb after training")
    .option("-q, --quiet", "no progress output while training")
    .action((task: string, o: TrainFlags) => run(task, o));
}
