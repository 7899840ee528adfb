#!/usr/bin/env node
// The rnn-wasm command (rnn-wasm-tools' bin): runs the built CLI, dist/cli.js. This launcher is
// not rewritten by builds, so it keeps the executable bit npm gave it; in a source checkout,
// `npm run build` makes dist/cli.js.
import("../dist/cli.js").catch((e) => {
  if (e?.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("cli.js")) {
    process.stderr.write("rnn-wasm: E_IO: the CLI is not built (no dist/cli.js beside bin/): run `npm run build` in the rnn-wasm repository\n");
    process.exit(1);
  }
  throw e;
});
