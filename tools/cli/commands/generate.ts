/** `rnn-wasm generate`: a next-token model continues a prompt (model.generate), greedy or sampled. */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { UsageError } from "../errors.js";
import { loadAnyModel } from "../load.js";
import { nonNegativeInt, positiveInt } from "../options.js";

interface GenerateFlags {
  prompt?: string;
  ids?: string;
  steps: number;
  temperature: number;
  topK?: number;
  seed?: number;
  json?: boolean;
}

function temperature(v: string): number {
  const t = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(t)) throw new InvalidArgumentError("--temperature must be a number >= 0");
  return t;
}

async function run(model: string, o: GenerateFlags): Promise<void> {
  if ((o.prompt === undefined) === (o.ids === undefined)) throw new UsageError("give the prompt: --prompt \"text\" (a bundle with a vocabulary) or --ids \"[1, 2, 3]\"");
  let prompt: string | number[];
  if (o.ids !== undefined) {
    let ids: unknown;
    try {
      ids = JSON.parse(o.ids);
    } catch (e) {
      throw new UsageError(`--ids is not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(ids) || !ids.every((v) => Number.isInteger(v))) throw new UsageError("--ids must be a JSON list of integer token ids");
    prompt = ids as number[];
  } else prompt = o.prompt!;
  const m = await loadAnyModel(model);
  try {
    const out = m.generate(prompt, { steps: o.steps, temperature: o.temperature, topK: o.topK, seed: o.seed });
    process.stdout.write(o.json || typeof out !== "string" ? JSON.stringify(out) + "\n" : out + "\n");
  } finally {
    m.dispose();
  }
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("continue a prompt with a next-token model (greedy by default; seeded sampling with --temperature)")
    .argument("<model>", "model.rnnb (or model.json, .h5, .keras) that reads token sequences")
    .option("--prompt <text>", "the prompt, encoded by the tokenizer the bundle carries")
    .option("--ids <json>", "the prompt as token ids, a JSON list (models without a vocabulary)")
    .option("--steps <n>", "tokens to produce", positiveInt("--steps"), 20)
    .option("--temperature <t>", "0 = greedy; above 0 samples from softmax(log p / t)", temperature, 0)
    .option("--top-k <k>", "sample among the k most likely tokens only", positiveInt("--top-k"))
    .option("--seed <n>", "seed of the sampler: the same seed gives the same words", nonNegativeInt("--seed"))
    .option("--json", "print the continuation as JSON (a string, or the list of ids)")
    .action((model: string, o: GenerateFlags) => run(model, o));
}
