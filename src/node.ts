/**
 * Node entry ("node" export condition): reads the kernel builds and model files from disk,
 * then re-exports the platform-neutral API.
 */
import { fail } from "./errors.js";
import { registerSourceResolver } from "./index.js";
import { readModelSource } from "./sources/files.js";
import { kernelFiles } from "./wasm/kernel-files.js";
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

// dist/ holds the builds next to this file; in the source tree they are in build/ (the file
// reader loads node:path and node:url only when a model is named by path: docs/kernels.md)
setDefaultWasmProvider(kernelFiles(import.meta.url));

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
