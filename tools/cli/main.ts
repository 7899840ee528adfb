/**
 * The rnn-wasm command line (bin "rnn-wasm"): `rnn-wasm <command> --help` for each command
 * (program.ts lists them). Run from the sources with `npx tsx tools/cli/main.ts`.
 */
import { EXIT_RUNTIME, reportError } from "./errors.js";
import { useKernelFiles } from "./kernels.js";
import { runCli } from "./program.js";

useKernelFiles();
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => process.exit(reportError(err) || EXIT_RUNTIME),
);
