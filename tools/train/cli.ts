/**
 * npx tsx tools/train/cli.ts <task> -o <dir> [--epochs N] [--slice N] [--seed N] [--batch-size N] [--quiet]
 *
 * Trains one seed task into <dir> (model.json, weights.bin, tokenizer.json for text tasks,
 * meta.json, train-log.json, checkpoint/). Running it again with the same options resumes
 * from the last checkpoint. Exit codes: 0 ok, 1 runtime error, 2 usage error; errors are one
 * line on stderr.
 */
import { pathToFileURL } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { RnnWasmError } from "../../src/errors.js";
import { initTrainingBackend } from "./backend.js";
import { isTaskName, TASKS, train } from "./train.js";

export { train, TASKS } from "./train.js";

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

function nonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError("seed must be a non-negative integer");
  return Number(v);
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("train")
    .description(`Train a seed task: ${TASKS.join(", ")}`)
    .argument("<task>", `one of ${TASKS.join(", ")}`)
    .requiredOption("-o, --out <dir>", "output folder (model.json, weights.bin, tokenizer.json, meta.json, checkpoint/)")
    .option("--epochs <n>", "epochs (default per task)", positiveInt("epochs"))
    .option("--slice <n>", "train on the first N examples only (quick runs, tests)", positiveInt("slice"))
    .option("--seed <n>", "random seed", nonNegativeInt)
    .option("--batch-size <n>", "batch size (default per task)", positiveInt("batch-size"))
    .option("-q, --quiet", "no progress output")
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  let parsed: Command;
  try {
    parsed = program.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return 0;
      process.stderr.write(`train: ${err.message.replace(/^error: /, "")}\n`);
      return 2;
    }
    throw err;
  }
  const task = parsed.args[0];
  const o = parsed.opts<{ out: string; epochs?: number; slice?: number; seed?: number; batchSize?: number; quiet?: boolean }>();
  try {
    if (!isTaskName(task)) throw new UsageError(`unknown task "${task}" (expected one of ${TASKS.join(", ")})`);
    const backend = await initTrainingBackend();
    if (!o.quiet) process.stderr.write(`train ${task}: ${backend.description}\n`);
    const r = await train(task, { outDir: o.out, epochs: o.epochs, slice: o.slice, seed: o.seed, batchSize: o.batchSize, quiet: o.quiet }, backend);
    process.stdout.write(JSON.stringify({ task, modelDir: r.modelDir, tokenizerPath: r.tokenizerPath, backend: r.backend, metrics: r.metrics }, null, 1) + "\n");
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof RnnWasmError && err.code === "E_ARGUMENT")) {
      process.stderr.write(`train: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof Error ? `${err.name === "Error" ? "" : err.name + ": "}${err.message}` : String(err);
    process.stderr.write(`train: ${msg.split("\n")[0]}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`train: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n`);
      process.exit(1);
    },
  );
}
