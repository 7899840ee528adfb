// Builds the two kernel targets (asconfig.json), with the runtime's side of their ABI, and
// the JS entries into dist/. `node scripts/build.mjs wasm` builds only the kernels (and the ABI).
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_OUTPUT, generateAbi } from "./abi.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv[2];
const bin = (name) => resolve(root, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

// the runtime's side of the kernel ABI (src/wasm/abi.ts) from the kernels' (assembly/abi.ts, index.ts)
writeFileSync(resolve(root, ABI_OUTPUT), generateAbi());
mkdirSync(resolve(root, "build"), { recursive: true });
for (const target of ["simd", "relaxed"]) run(bin("asc"), ["--config", "asconfig.json", "--target", target]);
if (only === "wasm") process.exit(0);

rmSync(resolve(root, "dist"), { recursive: true, force: true });
mkdirSync(resolve(root, "dist"), { recursive: true });
for (const f of ["rnn-simd.wasm", "rnn-relaxed.wasm"]) copyFileSync(resolve(root, "build", f), resolve(root, "dist", f));

const esbuild = await import("esbuild");
const common = { bundle: true, format: "esm", target: "es2022", sourcemap: false, legalComments: "none", logLevel: "warning" };
// Runtime entries, one per platform (package.json "exports" picks one by condition), minified,
// importing no package; only the Node entries may import node: modules
// (test/runtimes/size.test.ts checks). The workerd and edge entries import the .wasm files
// as modules (kept as imports: the platform's bundler or config compiles them).
// The non-Node entries share chunks (code splitting): the core runtime is imported statically;
// optional parts (the tfjs model.json importer and model builder, the tokenizer, generation,
// standalone cells) are separate chunks loaded with import() only when a model needs them.
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
const { buildEagerAndLazy } = await import("./eager-lazy.mjs");
const nodeLazy = ["src/cells.ts", "src/generate.ts", "src/import/fetch-artifacts.ts", "src/model/from-artifacts.ts", "src/model/tensor-ops.ts", "src/text/tokenizer.ts"];
const nodeOptions = { ...runtime, outdir: resolve(root, "dist"), platform: "node" };
await buildEagerAndLazy(esbuild, { entry: "src/node.ts", name: "node", root, options: nodeOptions, lazy: nodeLazy });
await buildEagerAndLazy(esbuild, {
  entry: "src/node.ts", name: "node", ext: ".cjs", root, lazy: nodeLazy,
  options: {
    ...nodeOptions, format: "cjs",
    define: { "import.meta.url": "__rnnwasm_import_meta_url" },
    banner: { js: 'var __rnnwasm_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  },
});
// Node-only entries: the export function and the CLI (dependencies stay external)
await esbuild.build({ ...common, entryPoints: { export: "src/export.ts" }, outdir: "dist", platform: "node", packages: "external" });
if (existsSync(resolve(root, "tools/cli/main.ts"))) {
  await esbuild.build({
    ...common, entryPoints: { cli: "tools/cli/main.ts" }, outdir: "dist", platform: "node", packages: "external",
    banner: { js: "#!/usr/bin/env node" },
  });
}
run(bin("tsc"), ["-p", "tsconfig.build.json"]);
// Declarations for require(): the same files in a folder marked CommonJS, so TypeScript
// (module node16/nodenext) reads them as CJS types instead of ESM types.
cpSync(resolve(root, "dist/types"), resolve(root, "dist/types-cjs"), { recursive: true });
writeFileSync(resolve(root, "dist/types-cjs/package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
console.log("built build/*.wasm and dist/");
