/**
 * Where the CLI finds the kernel builds: beside dist/cli.js, or in build/ when run from the
 * sources (src/wasm/kernel-files.ts). src/node.ts registers the same provider for library
 * users, but a bundler building cli.js from the sources drops that registration (package.json
 * marks only the dist/ entries as having side effects), so the CLI registers it from main.
 */
import { kernelFiles } from "../../src/wasm/kernel-files.js";
import { setDefaultWasmProvider } from "../../src/wasm/loader.js";

export function useKernelFiles(): void {
  setDefaultWasmProvider(kernelFiles(import.meta.url));
}
