// Builds the two packages this repository makes, saying what it does as it goes:
//   rnn-wasm (the root package.json): the kernel builds (asconfig.json -> build/, copied to
//     dist/) and the runtime entries, their source maps and declarations, into dist/;
//   rnn-wasm-tools (tools/package.json): the CLI and the exporter, their kernels and the demo
//     models that may be redistributed, into tools/dist/.
// `node scripts/build.mjs wasm` builds only the kernels (and the ABI); `--if-stale` does nothing when every
// output is newer than every source it is built from (npm run demo).
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_OUTPUT, generateAbi } from "./abi.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const only = args.find((a) => !a.startsWith("--"));
const bin = (name) => resolve(root, "node_modules", ".bin", name);
const run = (cmd, cmdArgs) => execFileSync(cmd, cmdArgs, { cwd: root, stdio: "inherit" });
const started = performance.now();
let stepStarted = started;
const say = (what) => {
  const now = performance.now();
  process.stdout.write(`build: ${what}\n`);
  stepStarted = now;
};
const took = () => `${((performance.now() - stepStarted) / 1000).toFixed(1)} s`;

/** Demo models the tools package carries: the StockTwits model is trained on messages without a licence, so no package does. */
const SHIPPED_MODELS = ["aesop-next-word.rnnb", "uci-sentiment.rnnb", "uci-gru-sentiment.rnnb", "sine.rnnb", "silero-vad-v5-16k.rnnb", "silero-vad-v5-8k.rnnb", "LICENSE-silero-vad"];
const TOOLS_DIST = resolve(root, "tools/dist");

/** Newest modification time under the given files and folders (sources of the build). */
function newest(paths) {
  let t = 0;
  const visit = (p) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && e !== "dist") visit(join(p, e));
    } else t = Math.max(t, s.mtimeMs);
  };
  paths.forEach((p) => visit(resolve(root, p)));
  return t;
}

if (args.includes("--if-stale")) {
  const outputs = ["dist/node.js", "dist/browser.js", "dist/vad-node.js", "tools/dist/cli.js", "tools/dist/export.js"].map((f) => resolve(root, f));
  const sources = newest(["assembly", "src", "tools/cli", "tools/package.json", "scripts", "models", "package.json", "asconfig.json", "tsconfig.build.json"]);
  if (outputs.every(existsSync) && Math.min(...outputs.map((f) => statSync(f).mtimeMs)) > sources) {
    say("dist/ and tools/dist/ are newer than their sources: nothing to do (npm run build rebuilds)");
    process.exit(0);
  }
}

// the runtime's side of the kernel ABI (src/wasm/abi.ts) from the kernels' (assembly/abi.ts, index.ts)
say(`kernels: the ABI's runtime side -> ${ABI_OUTPUT}`);
writeFileSync(resolve(root, ABI_OUTPUT), generateAbi());
mkdirSync(resolve(root, "build"), { recursive: true });
for (const target of ["simd", "relaxed"]) {
  say(`kernels: AssemblyScript, ${target === "simd" ? "baseline SIMD128" : "relaxed SIMD"} build -> build/rnn-${target}.wasm ...`);
  run(bin("asc"), ["--config", "asconfig.json", "--target", target]);
  say(`  done in ${took()}`);
}
if (only === "wasm") process.exit(0);

const esbuild = await import("esbuild");
rmSync(resolve(root, "dist"), { recursive: true, force: true });
rmSync(TOOLS_DIST, { recursive: true, force: true });
mkdirSync(resolve(root, "dist"), { recursive: true });
const KERNELS = ["rnn-simd.wasm", "rnn-relaxed.wasm"];
for (const f of KERNELS) copyFileSync(resolve(root, "build", f), resolve(root, "dist", f));

const common = { bundle: true, format: "esm", target: "es2022", legalComments: "none", logLevel: "warning" };
// Entries that run in Node (the runtime's Node entry, the exporter, the CLI) keep their
// function and class names, break long lines and ship a source map: an uncaught error prints
// one short source line and a stack of real names (RnnWasmError, checkInput, RnnModel.predict),
// not a 34 KB line and `O [RnnWasmError]`, and `node --enable-source-maps` maps each frame to
// its TypeScript file and line. The runtime's maps leave the sources out (installed size under
// 1 MB); the tools package's carry them. Browser and edge entries stay as small as they can.
const readable = { keepNames: true, lineLimit: 80, sourcemap: "linked", sourcesContent: false };

// Runtime entries, one per platform (package.json "exports" picks one by condition), minified,
// importing no package; only the Node entries may import node: modules
// (test/runtimes/size.test.ts checks). The workerd and edge entries import the .wasm files
// as modules (kept as imports: the platform's bundler or config compiles them).
// The non-Node entries share chunks (code splitting): the core runtime is imported statically;
// optional parts (the tfjs model.json importer and model builder, the tokenizer, generation,
// standalone cells) are separate chunks loaded with import() only when a model needs them.
say("runtime: browser, Deno, workerd and edge entries (esbuild, code splitting) -> dist/ ...");
const runtime = { ...common, minify: true, outdir: "dist" };
await esbuild.build({
  ...runtime,
  entryPoints: { index: "src/index.ts", browser: "src/browser.ts", deno: "src/deno.ts", workerd: "src/workerd.ts", edge: "src/edge.ts" },
  platform: "neutral",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  external: ["*.wasm", "*.wasm?module"],
});
// The Node entries, ESM and CommonJS (require): each one module of what loadModel + predict
// need and one of the optional parts (scripts/eager-lazy.mjs says why not code splitting; ~3 ms
// less to import on a cold start). For CJS import.meta.url is defined from __filename.
say("runtime: Node entries, ESM and CommonJS (dist/node.js, node-lazy.js, .cjs) ...");
const { buildEagerAndLazy } = await import("./eager-lazy.mjs");
const nodeLazy = [
  "src/cells.ts", "src/generate.ts", "src/sources/fetch.ts", "src/sources/model-json.ts", "src/model/from-artifacts.ts", "src/model/stateful.ts",
  "src/model/tensor-ops.ts", "src/text/tokenizer.ts",
];
const nodeOptions = { ...runtime, ...readable, outdir: resolve(root, "dist"), platform: "node" };
await buildEagerAndLazy(esbuild, { entry: "src/node.ts", name: "node", root, options: nodeOptions, lazy: nodeLazy });
await buildEagerAndLazy(esbuild, {
  entry: "src/node.ts", name: "node", ext: ".cjs", root, lazy: nodeLazy,
  options: {
    // (no source map: ESM is the Node entry that ships one; the installed-size budget has no
    // room for a second copy, and CommonJS frames keep their function names)
    ...nodeOptions, format: "cjs", sourcemap: false,
    define: { "import.meta.url": "__rnnwasm_import_meta_url" },
    banner: { js: 'var __rnnwasm_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  },
});
// rnn-wasm/export: forwards to the exporter in rnn-wasm-tools (an optional peer dependency)
await esbuild.build({ ...common, ...readable, minify: true, entryPoints: { export: "src/export-forward.ts" }, outdir: "dist", platform: "node", external: ["rnn-wasm-tools/export"] });
say(`  done in ${took()}`);

// rnn-wasm/vad: a client of the runtime's public API, which it imports as the package
// ("rnn-wasm") so it shares the runtime the page or process already loaded. The audio-thread and
// worker hosts are each one self-contained script (runtime included): a worklet may not import
// or fetch at run time, and a worker's script need not know where the package lives.
say("vad: rnn-wasm/vad (dist/vad.js, vad-browser.js, vad-node.js, shared chunks) and its hosts (dist/vad-host.js) ...");
const runtimeAsPackage = {
  name: "runtime-as-package",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (a) => (a.importer.includes(`${"/"}src${"/"}vad${"/"}`) ? { path: "rnn-wasm", external: true } : undefined));
  },
};
await esbuild.build({
  ...runtime, entryPoints: { vad: "src/vad/index.ts", "vad-browser": "src/vad/browser.ts", "vad-node": "src/vad/node.ts" },
  platform: "neutral", splitting: true, chunkNames: "chunks/vad-[hash]", external: ["node:*"], plugins: [runtimeAsPackage],
});
// (ignoreAnnotations: package.json's sideEffects lists dist/ files; the hosts' sources act when imported)
await esbuild.build({ ...runtime, entryPoints: { "vad-host": "src/vad/hosts.ts" }, platform: "browser", format: "esm", ignoreAnnotations: true });
say(`  done in ${took()}`);

// Declarations: one bundled file for the API (dts-bundle-generator: a few files instead of one
// per source module keeps the installed package small), which every runtime's entry uses
// (package.json "types"; they export the same API).
say("declarations: dist/types, dist/types-cjs, tools/dist/types (dts-bundle-generator) ...");
const { generateDtsBundle } = (await import("dts-bundle-generator")).default;
const [apiTypes, exportForwardTypes, exporterTypes] = generateDtsBundle(
  ["src/index.ts", "src/export-forward.ts", "src/export.ts"].map((filePath) => ({ filePath, output: { noBanner: true, exportReferencedTypes: false } })),
  { preferredConfigPath: resolve(root, "tsconfig.build.json") },
);
// for require(): the API's file again in a folder marked CommonJS, so TypeScript (module
// node16/nodenext) reads it as CJS types instead of ESM types
for (const [dir, files] of [
  ["dist/types", { "index.d.ts": apiTypes, "export-forward.d.ts": exportForwardTypes }],
  ["dist/types-cjs", { "index.d.ts": apiTypes, "package.json": JSON.stringify({ type: "commonjs" }) + "\n" }],
]) {
  mkdirSync(resolve(root, dir), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(resolve(root, dir, f), text);
}
// rnn-wasm/vad's declarations: per module (tsc), in dist/types/vad/, importing the API's
// bundled declarations as ../index.js, so its Model and Session are the runtime's own types
const vadTypes = resolve(root, "build", "vad-types");
writeFileSync(resolve(root, "build", "tsconfig.vad.json"), JSON.stringify({
  extends: "../tsconfig.build.json",
  compilerOptions: { outDir: vadTypes, rootDir: "../src" },
  include: [], files: ["../src/wasm-modules.d.ts", "../src/vad/index.ts", "../src/vad/node.ts", "../src/vad/browser.ts"],
}));
rmSync(vadTypes, { recursive: true, force: true });
run(bin("tsc"), ["-p", resolve(root, "build", "tsconfig.vad.json")]);
cpSync(resolve(vadTypes, "vad"), resolve(root, "dist/types/vad"), { recursive: true });
say(`  done in ${took()}`);

// rnn-wasm-tools: the exporter and the CLI carry their own copy of the runtime (src/) and the
// kernel builds beside them, so the package works whatever rnn-wasm version sits next to it;
// npm dependencies stay external (tools/package.json lists them).
say("tools: the exporter and the CLI (tools/dist/export.js, cli.js), kernels, declarations, demo models ...");
mkdirSync(TOOLS_DIST, { recursive: true });
const toolsOptions = { ...common, ...readable, sourcesContent: true, minify: true, outdir: TOOLS_DIST, platform: "node", packages: "external" };
// the worker the exporter reads Keras files in, beside it (src/import/keras/isolated.ts finds it there)
await esbuild.build({ ...toolsOptions, entryPoints: { export: "src/export.ts", "keras-worker": "src/import/keras/keras-worker.ts" } });
await esbuild.build({ ...toolsOptions, entryPoints: { cli: "tools/cli/main.ts" }, banner: { js: "#!/usr/bin/env node" } });
chmodSync(resolve(TOOLS_DIST, "cli.js"), 0o755);
for (const f of KERNELS) copyFileSync(resolve(root, "build", f), resolve(TOOLS_DIST, f));
mkdirSync(resolve(TOOLS_DIST, "types"));
writeFileSync(resolve(TOOLS_DIST, "types/export.d.ts"), exporterTypes);
mkdirSync(resolve(TOOLS_DIST, "models"));
for (const m of SHIPPED_MODELS) copyFileSync(resolve(root, "models", m), resolve(TOOLS_DIST, "models", m));
copyFileSync(resolve(root, "LICENSE"), resolve(TOOLS_DIST, "LICENSE"));
say(`  done in ${took()}`);
say(`built build/*.wasm, dist/ (rnn-wasm) and tools/dist/ (rnn-wasm-tools) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
