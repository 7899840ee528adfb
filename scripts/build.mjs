// Builds the two kernel targets (asconfig.json) and the JS entries into dist/.
// `node scripts/build.mjs wasm` builds only the kernels.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv[2];
const bin = (name) => resolve(root, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

mkdirSync(resolve(root, "build"), { recursive: true });
for (const target of ["simd", "relaxed"]) run(bin("asc"), ["--config", "asconfig.json", "--target", target]);
if (only === "wasm") process.exit(0);

rmSync(resolve(root, "dist"), { recursive: true, force: true });
mkdirSync(resolve(root, "dist"), { recursive: true });
for (const f of ["rnn-simd.wasm", "rnn-relaxed.wasm"]) copyFileSync(resolve(root, "build", f), resolve(root, "dist", f));

const esbuild = await import("esbuild");
const common = { bundle: true, format: "esm", target: "es2022", sourcemap: false, legalComments: "none", logLevel: "warning" };
await esbuild.build({ ...common, entryPoints: { index: "src/index.ts" }, outdir: "dist", platform: "neutral" });
await esbuild.build({ ...common, entryPoints: { node: "src/node.ts" }, outdir: "dist", platform: "node" });
// Node-only entries: the export function and the CLI (dependencies stay external)
await esbuild.build({ ...common, entryPoints: { export: "src/export.ts" }, outdir: "dist", platform: "node", packages: "external" });
if (existsSync(resolve(root, "tools/cli/main.ts"))) {
  await esbuild.build({
    ...common, entryPoints: { cli: "tools/cli/main.ts" }, outdir: "dist", platform: "node", packages: "external",
    banner: { js: "#!/usr/bin/env node" },
  });
}
run(bin("tsc"), ["-p", "tsconfig.build.json"]);
console.log("built build/*.wasm and dist/");
