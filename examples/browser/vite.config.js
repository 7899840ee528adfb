// Vite config of the browser demo: `npx vite examples/browser` (dev server) and
// `npx vite build examples/browser` (static site in examples/browser/dist), from the repository root.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const repo = fileURLToPath(new URL("../..", import.meta.url));
// inside this repository "rnn-wasm" is the repository itself: the file its "exports" map gives
// the "browser" condition (Vite does not resolve a package's self-reference); in your project
// `npm i rnn-wasm` and drop the alias
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const browserEntry = fileURLToPath(new URL(pkg.exports["."].browser.default, new URL("../../", import.meta.url)));

const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // the demo models, served from the site root (/uci-sentiment.rnnb, ...) and copied into dist
  publicDir: fileURLToPath(new URL("../../models", import.meta.url)),
  resolve: { alias: { "rnn-wasm": browserEntry } },
  // no pre-bundling of rnn-wasm: its entry finds the kernel builds with
  // new URL("./rnn-*.wasm", import.meta.url), which must stay next to the entry file
  optimizeDeps: { exclude: ["rnn-wasm"] },
  // cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs, so the
  // page can time single steps
  server: { fs: { allow: [repo] }, headers: ISOLATION },
  preview: { headers: ISOLATION },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
