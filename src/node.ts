/**
 * Node entry ("node" export condition): reads the kernel builds and model files from disk,
 * then re-exports the platform-neutral API.
 */
import { readFile } from "node:fs/promises";
import { RnnWasmError } from "./errors.js";
import { manifestPaths } from "./import/manifest.js";
import { registerSourceResolver } from "./index.js";
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

// dist/ holds the builds next to this file; in the source tree they are in build/. URLs, not
// node:path: every builtin's ESM facade is a cold-start cost (docs/kernels.md), and
// the file resolver below loads path and url only when a model is named by path.
const FILES = { baseline: "rnn-simd.wasm", relaxed: "rnn-relaxed.wasm" } as const;

setDefaultWasmProvider({
  async load(build) {
    for (const url of [new URL(`./${FILES[build]}`, import.meta.url), new URL(`../build/${FILES[build]}`, import.meta.url)]) {
      try {
        return new Uint8Array(await readFile(url));
      } catch {
        // try the next location
      }
    }
    return null;
  },
});

async function readFileTyped(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RnnWasmError("E_IO", `cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`, { cause: e });
  }
}

registerSourceResolver({
  async resolve(source) {
    const [{ dirname, resolve: resolvePath }, { fileURLToPath }] = await Promise.all([import("node:path"), import("node:url")]);
    let path: string;
    if (source instanceof URL) {
      if (source.protocol !== "file:") return null;
      path = fileURLToPath(source);
    } else if (/^(https?|data|blob):/i.test(source)) {
      return null;
    } else {
      path = source.startsWith("file:") ? fileURLToPath(source) : resolvePath(source);
    }
    const bytes = await readFileTyped(path, "model file");
    if (path.endsWith(".json")) {
      let modelJson: Record<string, unknown>;
      try {
        modelJson = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        throw new RnnWasmError("E_MODEL_JSON", `${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
      }
      const dir = dirname(path);
      const weights = await Promise.all(
        manifestPaths(modelJson).map(async (p) => {
          const b = await readFileTyped(resolvePath(dir, p), "weight shard");
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }),
      );
      return { modelJson, weights, name: path };
    }
    return bytes;
  },
});

