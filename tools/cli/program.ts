/**
 * The rnn-wasm command line: one module per command (commands/), assembled here. Exit codes:
 * 0 ok, 1 runtime error, 2 usage error. Errors are one line on stderr (`rnn-wasm: E_CODE:
 * message`); RNN_WASM_DEBUG=1 adds the stack.
 */
import { Command, CommanderError } from "commander";
import * as bench from "./commands/bench.js";
import * as exportCommand from "./commands/export.js";
import * as generate from "./commands/generate.js";
import * as inspect from "./commands/inspect.js";
import * as predict from "./commands/predict.js";
import * as train from "./commands/train.js";
import * as upgrade from "./commands/upgrade.js";
import { EXIT_OK, EXIT_USAGE, reportError } from "./errors.js";
import { version } from "../package.json";

/** Every command, in the order `rnn-wasm --help` lists them. */
const COMMANDS: { register(program: Command): void }[] = [exportCommand, upgrade, inspect, predict, generate, bench, train];

export function buildProgram(): Command {
  const program = new Command()
    .name("rnn-wasm")
    .description("Export, inspect and run LSTM/GRU models trained in TensorFlow.js or Keras (.rnnb bundles for rnn-wasm).")
    .version(version, "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true);
  for (const c of COMMANDS) c.register(program);
  return program;
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    const names = program.commands.map((c) => c.name()).join(", ");
    process.stderr.write(`rnn-wasm: E_USAGE: missing command (${names}); see rnn-wasm --help\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return EXIT_OK;
      const cmd = argv.find((a) => !a.startsWith("-"));
      const known = program.commands.some((c) => c.name() === cmd);
      const hint = known ? `see rnn-wasm ${cmd} --help` : "see rnn-wasm --help";
      process.stderr.write(`rnn-wasm: E_USAGE: ${err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()} (${hint})\n`);
      return EXIT_USAGE;
    }
    return reportError(err);
  }
}
