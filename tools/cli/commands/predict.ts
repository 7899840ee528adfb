/** `rnn-wasm predict`: one input (JSON or a text) through a model; the output tensor(s) as JSON. */
import { resolve } from "node:path";
import type { Command } from "commander";
import type { ModelInputs } from "../../../src/index.js";
import { UsageError } from "../errors.js";
import { loadAnyModel } from "../load.js";
import { readJson } from "../source.js";
import { textInput } from "../text.js";

/** A flat tensor as nested arrays (batch first), like tfjs arraySync(). */
function nested(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 0) return data[0];
  const build = (offset: number, d: number): unknown => {
    if (d === shape.length - 1) return Array.from({ length: shape[d] }, (_, i) => data[offset + i]);
    const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[d] }, (_, i) => build(offset + i * stride, d + 1));
  };
  return build(0, 0);
}

async function run(model: string, o: { input?: string; inputFile?: string; text?: string }): Promise<void> {
  const given = [o.input, o.inputFile, o.text].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError(given === 0 ? "give the input: --input JSON, --input-file f.json or --text \"...\"" : "give only one of --input, --input-file and --text");
  let doc: unknown;
  if (o.input !== undefined) {
    try {
      doc = JSON.parse(o.input);
    } catch (e) {
      throw new UsageError(`--input is not valid JSON: ${(e as Error).message}`);
    }
  } else if (o.inputFile !== undefined) {
    doc = await readJson(resolve(o.inputFile), "input file");
  }
  const m = await loadAnyModel(model);
  try {
    // nested arrays, {data, shape}, a list of inputs or {"<input name>": ...}: predict reads them all
    const x = o.text !== undefined ? textInput(m, o.text, model) : (doc as ModelInputs);
    const y = m.predict(x);
    const ys = Array.isArray(y) ? y : [y];
    const out = ys.map((t) => nested(t.data, t.shape));
    process.stdout.write(JSON.stringify(Array.isArray(y) ? out : out[0]) + "\n");
  } finally {
    m.dispose();
  }
}

export function register(program: Command): void {
  program
    .command("predict")
    .description("run a model on one input and print its output tensor(s) as JSON (nested arrays, batch first)")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--input <json>", "the input as JSON: nested arrays [batch, time, features] (ids [batch, time]), {\"data\": [...], \"shape\": [...]}, or {\"<input name>\": ...} for several inputs")
    .option("--input-file <file>", "the same JSON, from a file")
    .option("--text <text>", "a text, encoded by the tokenizer the bundle carries")
    .action((model: string, o: { input?: string; inputFile?: string; text?: string }) => run(model, o));
}
