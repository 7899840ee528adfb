/**
 * `rnn-wasm/export` (Node): `exportBundle` for training scripts. The exporter and what it needs
 * (h5wasm for Keras files, the model builder) live in the rnn-wasm-tools package, so the
 * runtime installs nothing of it and declares no dependency on it; this entry loads it on the
 * first call (beside rnn-wasm, else from the project in the working directory, as strict
 * layouts like pnpm's place it), and without it rejects with E_IO saying what to install.
 */
import { RnnWasmError } from "./errors.js";
import type { ExportOptions } from "./export-options.js";

export type { ExportOptions } from "./export-options.js";

interface Exporter {
  exportBundle(source: unknown, options?: ExportOptions): Promise<Uint8Array>;
}
let exporter: Promise<Exporter> | undefined;

const SPECIFIER = "rnn-wasm-tools/export";
const notFound = (e: NodeJS.ErrnoException) => (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") && String(e.message).includes("rnn-wasm-tools");

async function importExporter(): Promise<Exporter> {
  try {
    // a non-literal specifier: the exporter is the other package's, never bundled into this one
    return (await import(SPECIFIER)) as Exporter;
  } catch (e) {
    if (!notFound(e as NodeJS.ErrnoException)) throw e;
    const [{ createRequire }, { pathToFileURL }] = await Promise.all([import("node:module"), import("node:url")]);
    return (await import(pathToFileURL(createRequire(`${process.cwd()}/`).resolve(SPECIFIER)).href)) as Exporter;
  }
}

function load(): Promise<Exporter> {
  exporter ??= importExporter().catch((e: NodeJS.ErrnoException) => {
    exporter = undefined; // installed later, found on the next call
    if (notFound(e)) {
      throw new RnnWasmError("E_IO", "rnn-wasm/export needs the rnn-wasm-tools package (the exporter and the CLI, with h5wasm for Keras files): npm install rnn-wasm-tools", { cause: e });
    }
    throw e;
  });
  return exporter;
}

/**
 * A trained model as .rnnb bundle bytes: a tfjs `LayersModel`, tfjs artifacts
 * `{ modelJson, weights }`, or a path to model.json / .h5 / .keras (docs/ARCHITECTURE.md).
 */
export async function exportBundle(source: unknown, options?: ExportOptions): Promise<Uint8Array> {
  return (await load()).exportBundle(source, options);
}
