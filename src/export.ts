/**
 * The export tool as a function (Node entry "rnn-wasm/export"): a trained model in, .rnnb
 * bytes out. Sources: a live tfjs LayersModel (as trained in tfjs-node), tfjs artifacts
 * {modelJson, weights}, or a path to model.json / .h5 / .keras.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve as resolvePath } from "node:path";
import { RnnWasmError } from "./errors.js";
import type { ModelArtifacts } from "./import/artifacts.js";
import { importKerasFile, sniffKerasFormat } from "./import/keras/index.js";
import { importOnnx, type OnnxImportOptions } from "./import/onnx/build.js";
import { importTfjs, manifestPaths } from "./import/tfjs.js";
import { buildModel } from "./import/keras/build.js";
import type { PackedModel } from "./model/spec.js";
import { installTensorOps } from "./model/tensor-ops.js";
import { writeBundle } from "./format/writer.js";
import type { BundleDtype } from "./format/bundle.js";
import { normalizeTokenizerConfig } from "./text/tokenizer.js";
import type { ExportOptions } from "./export-options.js";

export type { ExportOptions } from "./export-options.js";

export { writeBundle } from "./format/writer.js";
export { readBundle } from "./format/reader.js";
export { buildModel } from "./import/keras/build.js";
export { quantizePacked } from "./model/quantize.js";
export { importTfjs } from "./import/tfjs.js";
export { importKerasFile } from "./import/keras/index.js";
export { importOnnx } from "./import/onnx/build.js";
export { normalizeTokenizerConfig } from "./text/tokenizer.js";

/** How an ONNX graph is bound (ignored for other formats); see src/import/onnx/build.ts. */
export type { OnnxImportOptions } from "./import/onnx/build.js";

// the tools read and check bundles of general graphs too (readBundle): their ops' checks
installTensorOps();

interface LayersModelLike {
  save(handler: { save(artifacts: unknown): Promise<unknown> }): Promise<unknown>;
}

function isLayersModel(v: unknown): v is LayersModelLike {
  return typeof v === "object" && v !== null && typeof (v as LayersModelLike).save === "function" && "layers" in v;
}

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new RnnWasmError("E_IO", `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RnnWasmError(what === "model.json" ? "E_MODEL_JSON" : "E_ARGUMENT", `${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads any supported model source into importer artifacts. */
export async function loadArtifacts(source: unknown): Promise<ModelArtifacts> {
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
  if (typeof source === "string") {
    const path = resolvePath(source);
    if (/\.json$/i.test(path)) {
      const modelJson = (await readJsonFile(path, "model.json")) as Record<string, unknown>;
      const weights = await Promise.all(
        manifestPaths(modelJson).map(async (p) => {
          const shard = resolvePath(dirname(path), p);
          try {
            const b = await readFile(shard);
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          } catch (e) {
            throw new RnnWasmError("E_IO", `cannot read weight shard ${shard} listed in ${path}`, { cause: e });
          }
        }),
      );
      return importTfjs(modelJson, weights, path);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      throw new RnnWasmError("E_IO", `cannot read model file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, { cause: e });
    }
    return importKerasFile(bytes, path);
  }
  throw new RnnWasmError("E_ARGUMENT", "exportBundle: source must be a tfjs LayersModel, {modelJson, weights}, or a path to model.json / .h5 / .keras");
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

/** Whether a source is an ONNX model: a path ending in .onnx, or bytes that are not another format. */
function onnxBytes(source: unknown): Promise<Uint8Array> | Uint8Array | null {
  if (typeof source === "string" && /\.onnx$/i.test(source)) {
    const path = resolvePath(source);
    return readFile(path).then((b) => new Uint8Array(b), (e) => {
      throw new RnnWasmError("E_IO", `cannot read model file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, { cause: e });
    });
  }
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  // protobuf: a ModelProto starts with field 1 (ir_version, varint: 0x08) or another low field
  if (source instanceof Uint8Array && source.length > 0 && !sniffKerasFormat(source) && source[0] !== 0x7b) return source;
  return null;
}

export async function exportPacked(source: unknown, opts: ExportOptions = {}): Promise<PackedModel> {
  const onnx = onnxBytes(source);
  if (onnx) {
    const name = typeof source === "string" ? resolvePath(source) : "model.onnx";
    return importOnnx(await onnx, { inputs: opts.inputs, constants: opts.constants, state: opts.state, sourceName: name }).packed;
  }
  if (opts.inputs || opts.constants || opts.state) {
    throw new RnnWasmError("E_ARGUMENT", "exportBundle: inputs, constants and state bind ONNX graphs; this source is not an .onnx model");
  }
  return buildModel(await loadArtifacts(source));
}

/** Why a model cannot take a tokenizer's ids (one input: int32 [T], or float ids [T, 1]), or null. */
function tokenizerMismatch(spec: PackedModel["spec"]): string | null {
  if (spec.inputs.length !== 1) return `the model has ${spec.inputs.length} inputs (${spec.inputs.map((i) => i.name).join(", ")})`;
  const inp = spec.inputs[0];
  const ids = inp.dtype === "int32" ? inp.shape.length === 1 : inp.shape.length === 2 && inp.shape[1] === 1;
  return ids ? null : `input ${inp.name} takes ${inp.dtype} values of shape [batch, ${inp.shape.map((d) => d ?? "time").join(", ")}]`;
}

export async function exportBundle(source: unknown, opts: ExportOptions = {}): Promise<Uint8Array> {
  const packed = await exportPacked(source, opts);
  const metadata: Record<string, unknown> = { ...(opts.metadata ?? {}) };
  let tokenizer: unknown;
  if (opts.tokenizer !== undefined) {
    // Keras' Tokenizer.to_json() returns a string: JSON text is the document itself, not a path
    const isPath = typeof opts.tokenizer === "string" && !opts.tokenizer.trimStart().startsWith("{");
    const doc = isPath ? await readJsonFile(resolvePath(opts.tokenizer as string), "tokenizer") : opts.tokenizer;
    const why = tokenizerMismatch(packed.spec);
    if (why) throw new RnnWasmError("E_ARGUMENT", `a tokenizer needs a model that reads token ids (int32 [batch, time], or ids as floats [batch, time, 1]): ${why}`);
    const T = packed.spec.inputs[0].shape[0];
    tokenizer = normalizeTokenizerConfig(doc, { maxLen: opts.tokenizerOptions?.maxLen ?? (typeof T === "number" ? T : undefined), ...opts.tokenizerOptions });
  }
  if (opts.normalize !== undefined) {
    const doc = typeof opts.normalize === "string" ? await readJsonFile(resolvePath(opts.normalize), "normalisation statistics") : opts.normalize;
    const shape = packed.spec.inputs[0].shape;
    const F = shape[shape.length - 1];
    metadata.normalization = normalizeStats(doc, typeof F === "number" ? F : null);
  }
  return writeBundle(packed, { dtype: opts.dtype, metadata, tokenizer, generator: "rnn-wasm export", onSection: opts.onProgress });
}
