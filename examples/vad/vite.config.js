// Vite config of the voice-activity demo: `npx vite examples/vad` (dev server) and
// `npx vite build examples/vad` (static site in examples/vad/dist), from the repository root.
// The page is served with a strict Content-Security-Policy: rnn-wasm needs nothing beyond
// 'self' and 'wasm-unsafe-eval' (no inline script, no eval, no blob: worklet).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const repo = fileURLToPath(new URL("../..", import.meta.url));
// inside this repository "rnn-wasm" is the repository itself (Vite does not resolve a package's
// self-reference): the files its "exports" map gives the "browser" condition; in your project
// `npm i rnn-wasm` and drop the aliases
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const entry = (path) => fileURLToPath(new URL(path, new URL("../../", import.meta.url)));

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:";
const HEADERS = { "Content-Security-Policy": CSP };

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // the Silero bundles, served from the site root (/silero-vad-v5-16k.rnnb) and copied into dist
  publicDir: fileURLToPath(new URL("../../models", import.meta.url)),
  resolve: {
    alias: [
      { find: /^rnn-wasm\/vad$/, replacement: entry(pkg.exports["./vad"].browser.default) },
      { find: /^rnn-wasm$/, replacement: entry(pkg.exports["."].browser.default) },
    ],
  },
  // no pre-bundling: the entries find the kernel builds, the worklet and the worker with
  // new URL("./x", import.meta.url), which must stay next to them
  optimizeDeps: { exclude: ["rnn-wasm", "rnn-wasm/vad"] },
  server: { fs: { allow: [repo] }, headers: HEADERS },
  preview: { headers: HEADERS },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", modulePreload: { polyfill: false } },
});
