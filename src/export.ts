/**
 * The export tool as a function (Node entry "rnn-wasm/export"): a trained model in, .rnnb
 * bytes out. Sources: a live tfjs LayersModel (as trained in tfjs-node), tfjs artifacts
 * {modelJson, weights}, or a path to model.json / .h5 / .keras.
 */
import { RnnWasmError } from "./errors.js";
import { readBundle } from "./format/reader.js";
import { loadModel } from "./node.js";
import type { Tensor } from "./model/inputs.js";
import { ACT_LOG_SOFTMAX } from "./model/layout.js";
import type { ModelArtifacts } from "./import/artifacts.js";
import { importKerasFile } from "./import/keras/isolated.js";
import { importTfjs } from "./import/tfjs.js";
import { buildModel } from "./import/keras/build.js";
import type { PackedModel } from "./model/spec.js";
import { writeBundle } from "./format/writer.js";
import type { BundleDtype } from "./format/bundle.js";
import { normalizeTokenizerConfig, type TokenizerOptions } from "./text/tokenizer.js";
import { readModelSource, type ModelSourceFile } from "./sources/files.js";
import { readJsonFile } from "./sources/model-json.js";
import type { SourceOptions } from "./sources/limits.js";

export { writeBundle } from "./format/writer.js";
export { readBundle } from "./format/reader.js";
export { buildModel } from "./import/keras/build.js";
export { quantizePacked } from "./model/quantize.js";
export { importTfjs } from "./import/tfjs.js";
export { importKerasFile, DEFAULT_KERAS_TIMEOUT_MS, type KerasFileOptions } from "./import/keras/isolated.js";
export { normalizeTokenizerConfig } from "./text/tokenizer.js";

/** How a model source is read: shards only from the model's folder unless trusted; Keras files within a deadline. */
export interface ReadOptions extends SourceOptions {
  /** Deadline for reading a .h5 / .keras file, in milliseconds (default 60,000); past it: E_TIMEOUT. */
  timeoutMs?: number;
}

export interface ExportOptions extends ReadOptions {
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

interface LayersModelLike {
  save(handler: { save(artifacts: unknown): Promise<unknown> }): Promise<unknown>;
}

function isLayersModel(v: unknown): v is LayersModelLike {
  return typeof v === "object" && v !== null && typeof (v as LayersModelLike).save === "function" && "layers" in v;
}

/** Reads any supported model source into importer artifacts. */
export async function loadArtifacts(source: unknown, options: ReadOptions = {}): Promise<ModelArtifacts> {
  if (isLayersModel(source)) {
    let captured: { modelTopology: unknown; weightSpecs: unknown; weightData: ArrayBuffer | ArrayBuffer[]; userDefinedMetadata?: unknown } | undefined;
    await source.save({
      save: async (artifacts: unknown) => {
        captured = artifacts as typeof captured;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      },
    });
    if (!captured) throw new RnnWasmError("E_MODEL_JSON", "the tfjs model did not produce artifacts when saved");
    const modelJson = { modelTopology: captured.modelTopology, weightsManifest: [{ paths: ["weights.bin"], weights: captured.weightSpecs }] };
    return importTfjs(modelJson, captured.weightData, "tfjs LayersModel");
  }
  if (typeof source === "object" && source !== null && "modelJson" in source && "weights" in source) {
    const s = source as { modelJson: unknown; weights: unknown };
    return importTfjs(s.modelJson, s.weights, "model.json");
  }
  if (typeof source === "string") return artifactsOfFile(await readModelSource(source, options), options);
  throw new RnnWasmError("E_ARGUMENT", "exportBundle: source must be a tfjs LayersModel, {modelJson, weights}, or a path to model.json / .h5 / .keras");
}

/** Artifacts of a model file as read from disk (a Keras file is read in a worker, within options.timeoutMs). */
export async function artifactsOfFile(read: ModelSourceFile, options: ReadOptions = {}): Promise<ModelArtifacts> {
  if (read.kind === "tfjs") return importTfjs(read.modelJson, read.weights, read.path);
  return importKerasFile(read.bytes, read.path, { timeoutMs: options.timeoutMs });
}

/** Checks and reads {mean, std} normalisation statistics. */
export function normalizeStats(stats: unknown, features: number | null): { mean: number[]; std: number[] } {
  const s = stats as { mean?: unknown; std?: unknown };
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length > 0 && a.every((v) => typeof v === "number" && Number.isFinite(v));
  if (typeof s !== "object" || s === null || !ok(s.mean) || !ok(s.std) || s.mean.length !== s.std.length) {
    throw new RnnWasmError("E_ARGUMENT", "normalisation statistics must be {mean: number[], std: number[]} of equal length");
  }
  if (features !== null && s.mean.length !== features) {
    throw new RnnWasmError("E_ARGUMENT", `normalisation statistics have ${s.mean.length} features, the model input has ${features}`);
  }
  if (s.std.some((v) => v <= 0)) throw new RnnWasmError("E_ARGUMENT", "normalisation std values must be positive");
  return { mean: s.mean, std: s.std };
}

export async function exportPacked(source: unknown, options: ReadOptions = {}): Promise<PackedModel> {
  return buildModel(await loadArtifacts(source, options));
}

export async function exportBundle(source: unknown, opts: ExportOptions = {}): Promise<Uint8Array> {
  const packed = await exportPacked(source, opts);
  const metadata: Record<string, unknown> = { ...(opts.metadata ?? {}) };
  let tokenizer: unknown;
  if (opts.tokenizer !== undefined) {
    // Keras' Tokenizer.to_json() returns a string: JSON text is the document itself, not a path
    const isPath = typeof opts.tokenizer === "string" && !opts.tokenizer.trimStart().startsWith("{");
    const doc = isPath ? await readJsonFile(opts.tokenizer as string, "tokenizer") : opts.tokenizer;
    const T = packed.spec.inputs[0].shape[0];
    tokenizer = normalizeTokenizerConfig(doc, { maxLen: opts.tokenizerOptions?.maxLen ?? (typeof T === "number" ? T : undefined), ...opts.tokenizerOptions });
  }
  if (opts.normalize !== undefined) {
    const doc = typeof opts.normalize === "string" ? await readJsonFile(opts.normalize, "normalisation statistics") : opts.normalize;
    const shape = packed.spec.inputs[0].shape;
    const F = shape[shape.length - 1];
    metadata.normalization = normalizeStats(doc, typeof F === "number" ? F : null);
  }
  const bundle = writeBundle(packed, { dtype: opts.dtype, metadata, tokenizer, generator: "rnn-wasm export", onSection: opts.onProgress });
  await refuseOverflow(bundle);
  return bundle;
}

/**
 * Runs the bundle on probe inputs (zeros, and values in [-1, 1] or ids across the vocabulary)
 * and refuses it when an output is NaN or infinite: finite weights can still overflow float32
 * (3.4e38 passes every weight check and turns every output into NaN), and a bundle that can
 * only answer NaN is better refused here, naming its largest weight, than shipped. -Infinity
 * from log_softmax is a log of 0, not an overflow. A probe the model cannot take (a shape it
 * refuses) proves nothing either way and is skipped.
 */
async function refuseOverflow(bundle: Uint8Array): Promise<void> {
  const model = await loadModel(bundle);
  try {
    const spec = model.spec;
    for (const fill of [() => 0, (i: number) => Math.sin(1 + i * 0.7)]) {
      const inputs = spec.inputs.map((inp) => {
        const shape = [1, ...inp.shape.map((d) => d ?? 8)];
        const n = shape.reduce((a, b) => a * b, 1);
        if (inp.dtype === "float32") return { data: Float32Array.from({ length: n }, (_, i) => fill(i)), shape };
        const vocab = Math.min(...spec.ops.filter((op) => op.op === "embedding" && op.inputs[0] === inp.tensor).map((op) => (op as { inputDim: number }).inputDim));
        return { data: Int32Array.from({ length: n }, (_, i) => (fill(i) === 0 ? 0 : (i * 7919) % vocab)), shape };
      });
      let outs: Tensor[];
      try {
        const y = model.predict(inputs.length === 1 ? inputs[0] : inputs);
        outs = Array.isArray(y) ? y : [y];
      } catch (e) {
        if (e instanceof RnnWasmError) continue;
        throw e;
      }
      outs.forEach((y, k) => {
        const logOf = spec.ops.find((op) => op.outputs.includes(spec.outputs[k].tensor) && (op as { activation?: number }).activation === ACT_LOG_SOFTMAX);
        const bad = y.data.findIndex((v) => Number.isNaN(v) || v === Infinity || (v === -Infinity && !logOf));
        if (bad >= 0) {
          throw new RnnWasmError("E_WEIGHTS", `output ${spec.outputs[k].name} is ${y.data[bad]} on a probe input: the weights overflow float32 (largest weight ${largestWeight(bundle)})`);
        }
      });
    }
  } finally {
    model.dispose();
  }
}

/** "name: value" of the weight with the largest magnitude, for the overflow message. */
function largestWeight(bundle: Uint8Array): string {
  const { packed } = readBundle(bundle);
  let best = { name: "", v: 0 };
  for (const [name, d] of packed.data) {
    if (!(d instanceof Float32Array)) continue;
    for (const v of d) if (Math.abs(v) > Math.abs(best.v)) best = { name, v };
  }
  return best.name ? `${best.name}: ${best.v}` : "unknown";
}
