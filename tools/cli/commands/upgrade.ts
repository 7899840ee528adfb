/** `rnn-wasm upgrade`: a bundle of an older format in the current one (same predictions). */
import type { Command } from "commander";
import { upgradeBundle, type Upgraded } from "../../../src/format/upgrade.js";
import { withSource } from "../errors.js";
import { writeAtomic } from "../files.js";
import { readBytes } from "../source.js";
import { thousands } from "../summary.js";

async function run(model: string, o: { out?: string; quiet?: boolean }): Promise<void> {
  const bytes = await readBytes(model, "bundle");
  let up: Upgraded;
  try {
    up = upgradeBundle(bytes);
  } catch (e) {
    throw withSource(e, model);
  }
  const out = o.out ?? model;
  if (up.bytes !== bytes || out !== model) await writeAtomic(out, up.bytes);
  if (!o.quiet) {
    process.stdout.write(up.from === up.to
      ? `${model}: already format ${up.from}${out !== model ? `, copied to ${out}` : ""}\n`
      : `${out}: format ${up.from} -> ${up.to}, ${up.converted.length} recurrent kernel(s) reordered, ${thousands(up.bytes.length)} bytes\n`);
  }
}

export function register(program: Command): void {
  program
    .command("upgrade")
    .description("convert a bundle written by an older rnn-wasm to the current format (same predictions)")
    .argument("<model>", "the .rnnb bundle")
    .option("-o, --out <file>", "write the converted bundle here (default: replace the input)")
    .option("-q, --quiet", "print nothing on success")
    .action((model: string, o: { out?: string; quiet?: boolean }) => run(model, o));
}
