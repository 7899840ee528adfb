/**
 * Runs the Worker in plain workerd (npm `workerd`, the runtime under `wrangler dev`) without
 * wrangler, from the same wrangler.toml: what the tests and the load check start.
 *
 *   node workerd-local.mjs [--port 8787]        serves until Ctrl-C
 *
 * It does what wrangler does for this Worker: bundles worker.ts with esbuild under the
 * conditions workerd/worker/browser, keeps the `.wasm` imports of rnn-wasm's workerd entry as
 * compiled wasm modules, and binds ASSETS to the [assets] directory (a workerd disk service
 * answers `ASSETS.fetch("/<file>")` like the assets binding).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const EXAMPLE_DIR = fileURLToPath(new URL(".", import.meta.url));

/** The few wrangler.toml keys this Worker uses. */
export function readWranglerToml(exampleDir = EXAMPLE_DIR) {
  const toml = readFileSync(join(exampleDir, "wrangler.toml"), "utf8");
  const key = (section, name) => {
    const body = section ? (toml.split(/^\[/m).find((s) => s.startsWith(`${section}]`)) ?? "") : toml.split(/^\[/m)[0];
    const m = body.match(new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, "m"));
    return m ? m[1] : undefined;
  };
  return {
    main: key(null, "main"),
    compatibilityDate: key(null, "compatibility_date"),
    assetsDirectory: resolve(exampleDir, key("assets", "directory")),
    assetsBinding: key("assets", "binding"),
  };
}

/**
 * Bundles the Worker into `outDir` (worker.js plus the wasm modules it imports). `packageFrom`
 * is the folder `import "rnn-wasm"` resolves from: the example itself after `npm install`, or
 * the repository root (the package refers to itself there).
 */
export async function buildWorker({ exampleDir = EXAMPLE_DIR, outDir, packageFrom } = {}) {
  const esbuild = await import("esbuild");
  const from = packageFrom ?? (existsSync(join(exampleDir, "node_modules", "rnn-wasm")) ? exampleDir : resolve(EXAMPLE_DIR, "../.."));
  const { main } = readWranglerToml(exampleDir);
  const wasm = new Set();
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(exampleDir, main)],
    outfile: join(outDir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    // "error": rnn-wasm's entries import shared chunks bare, and esbuild warns that it drops
    // those imports because of the package's sideEffects list; the chunks only define functions
    logLevel: "error",
    plugins: [
      {
        name: "rnn-wasm-from",
        setup(b) {
          b.onResolve({ filter: /^rnn-wasm(\/|$)/ }, (args) =>
            args.pluginData === "inner" ? undefined : b.resolve(args.path, { kind: args.kind, resolveDir: from, pluginData: "inner" }),
          );
        },
      },
      {
        name: "compiled-wasm",
        setup(b) {
          b.onResolve({ filter: /\.wasm(\?module)?$/ }, (args) => {
            const file = join(args.resolveDir, args.path.replace(/\?module$/, ""));
            wasm.add(file);
            return { path: `./${basename(file)}`, external: true };
          });
        },
      },
    ],
  });
  for (const f of wasm) copyFileSync(f, join(outDir, basename(f)));
  return { worker: "worker.js", wasmModules: [...wasm].map((f) => basename(f)).sort() };
}

/** workerd's config for the bundle in `outDir`, listening on 127.0.0.1:port. */
export function workerdConfig({ port, wasmModules, compatibilityDate, assetsDirectory, assetsBinding = "ASSETS" }) {
  const modules = [`(name = "worker.js", esModule = embed "worker.js")`, ...wasmModules.map((w) => `(name = "${w}", wasm = embed "${w}")`)];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edgeWorker),
    (name = "assets", disk = (path = ${JSON.stringify(assetsDirectory)}, writable = false)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const edgeWorker :Workerd.Worker = (
  modules = [ ${modules.join(",\n    ")} ],
  bindings = [ (name = "${assetsBinding}", service = "assets") ],
  compatibilityDate = "${compatibilityDate}",
);
`;
}

/** Bundles and writes config.capnp into `outDir`; returns the command line that serves it. */
export async function prepareWorkerd({ exampleDir = EXAMPLE_DIR, outDir, port, packageFrom } = {}) {
  const { wasmModules } = await buildWorker({ exampleDir, outDir, packageFrom });
  const toml = readWranglerToml(exampleDir);
  writeFileSync(join(outDir, "config.capnp"), workerdConfig({ port, wasmModules, ...toml }));
  const workerdBin = createRequire(import.meta.url)("workerd").default; // the binary's path
  return { command: workerdBin, args: ["serve", join(outDir, "config.capnp")], wasmModules };
}

/** Starts workerd on `port` and resolves when it answers; `stop()` ends it. */
export async function startWorkerd({ port = 8787, timeoutMs = 30_000, packageFrom } = {}) {
  const outDir = mkdtempSync(join(tmpdir(), "rnn-wasm-edge-"));
  const { command, args } = await prepareWorkerd({ outDir, port, packageFrom });
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(outDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`workerd exited with ${child.exitCode}:\n${output}`);
    }
    try {
      await fetch(url + "/", { signal: AbortSignal.timeout(2000) });
      return { url, stop, output: () => output };
    } catch {
      if (Date.now() - t0 > timeoutMs) {
        await stop();
        throw new Error(`workerd did not answer on ${url} within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const i = process.argv.indexOf("--port");
  const port = i > 0 ? Number(process.argv[i + 1]) : 8787;
  const server = await startWorkerd({ port });
  console.log(`rnn-wasm edge example in workerd on ${server.url} (Ctrl-C stops it)`);
  const quit = () => server.stop().then(() => process.exit(0));
  process.on("SIGINT", quit);
  process.on("SIGTERM", quit);
}
