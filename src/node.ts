/**
 * Node entry ("node" export condition): reads the kernel builds and model files from disk,
 * then re-exports the platform-neutral API.
 */
import { fail } from "./errors.js";
import { registerSourceResolver } from "./index.js";
import { readFileBounded, readModelSource } from "./sources/files.js";
import { MAX_MODEL_FILE_BYTES } from "./sources/limits.js";
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

// dist/ holds the builds next to this file; in the source tree they are in build/. URLs, not
// node:path: every builtin's ESM facade is a cold-start cost (docs/kernels.md), and
// the file reader loads path and url only when a model is named by path.
const FILES = { baseline: "rnn-simd.wasm", relaxed: "rnn-relaxed.wasm" } as const;

setDefaultWasmProvider({
  async load(build) {
    for (const url of [new URL(`./${FILES[build]}`, import.meta.url), new URL(`../build/${FILES[build]}`, import.meta.url)]) {
      try {
        return await readFileBounded(url, "kernel build", MAX_MODEL_FILE_BYTES);
      } catch {
        // try the next location
      }
    }
    return null;
  },
});

registerSourceResolver({
  async resolve(source, options) {
    let path: string;
    if (source instanceof URL || source.startsWith("file:")) {
      if (source instanceof URL && source.protocol !== "file:") return null;
      path = (await import("node:url")).fileURLToPath(source);
    } else if (/^(https?|data|blob):/i.test(source)) {
      return null;
    } else path = source;
    const read = await readModelSource(path, options);
    if (read.kind === "tfjs") return { modelJson: read.modelJson, weights: read.weights, name: read.path };
    if (read.kind === "other" && /\.(h5|hdf5|keras)$/i.test(read.path)) {
      fail("E_ARGUMENT", `loadModel: ${read.path} is a Keras file; export it to a bundle first (rnn-wasm export, or exportBundle from "rnn-wasm/export")`);
    }
    return read.bytes;
  },
});
