/**
 * Where the CLI finds the kernel builds. src/node.ts registers the same provider for library
 * users, but package.json marks only the dist/ entries as having side effects, so a bundler
 * building dist/cli.js from the sources drops node.ts's registration; the CLI registers its
 * own, explicitly, from main.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setDefaultWasmProvider } from "../../src/wasm/loader.js";

const FILES = { baseline: "rnn-simd.wasm", relaxed: "rnn-relaxed.wasm" } as const;

export function useKernelFiles(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/cli.js: the builds sit beside it; tools/cli/*.ts run by tsx: in build/
  const places = (f: string) => [resolve(here, f), resolve(here, "..", "..", "build", f), resolve(here, "..", "build", f)];
  setDefaultWasmProvider({
    async load(build) {
      for (const p of places(FILES[build])) {
        try {
          return new Uint8Array(await readFile(p));
        } catch {
          // try the next place
        }
      }
      return null;
    },
  });
}
