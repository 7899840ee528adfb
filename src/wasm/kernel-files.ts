/**
 * The kernel builds as files (Node): beside the module that asks (dist/, tools/dist/), else in
 * build/ of a source checkout (that module then sits in src/ or tools/cli/). The one provider of
 * the Node entry, the exporter and the CLI: each registers it itself, since bundles built from
 * the sources drop node.ts's registration (package.json marks only dist/ entries as having side
 * effects).
 */
import { readFileBounded } from "../sources/files.js";
import { MAX_MODEL_FILE_BYTES } from "../sources/limits.js";
import type { WasmProvider } from "./loader.js";

const FILES = { baseline: "rnn-simd.wasm", relaxed: "rnn-relaxed.wasm" } as const;

/** The builds beside `moduleUrl` (import.meta.url) or in build/ above it. URLs, not node:path: its facade is a cold-start cost. */
export function kernelFiles(moduleUrl: string): WasmProvider {
  return {
    async load(build) {
      for (const dir of ["./", "../build/", "../../build/"]) {
        try {
          return await readFileBounded(new URL(dir + FILES[build], moduleUrl), "kernel build", MAX_MODEL_FILE_BYTES);
        } catch {
          // try the next place
        }
      }
      return null;
    },
  };
}
