/**
 * The options of exportBundle (src/export.ts), in a module of their own: the runtime's
 * `rnn-wasm/export` entry declares the function with them without carrying the exporter.
 */
import type { BundleDtype } from "./format/bundle.js";
import type { OnnxImportOptions } from "./import/onnx/build.js";
import type { TokenizerOptions } from "./text/tokenizer.js";

export interface ExportOptions extends Pick<OnnxImportOptions, "inputs" | "constants" | "state"> {
  /** "f32" (default), "f16" (half the size, widened on load) or "int8" (weight matrices int8, kept int8 by the kernels). */
  dtype?: BundleDtype;
  /** Keras Tokenizer.to_json() document (object or its JSON text), plain {word: index} map, or a path to either. */
  tokenizer?: unknown;
  tokenizerOptions?: TokenizerOptions;
  /** Per-feature normalisation statistics ({mean: [...], std: [...]}) or a path to them. */
  normalize?: unknown;
  metadata?: Record<string, unknown>;
  onProgress?: (done: number, total: number, what: string) => void;
}
