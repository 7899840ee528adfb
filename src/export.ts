/**
 * The export tool as a function (Node entry "rnn-wasm/export"): a trained model in, .rnnb
 * bytes out. Sources: a live tfjs LayersModel (as trained in tfjs-node), tfjs artifacts
 * {modelJson, weights}, or a path to model.json / .h5 / .keras.
 */
import { RnnWasmError } from "./errors.js";
import { readBundle } from "./format/reader.js";
import type { ModelArtifacts } from "./import/artifacts.js";
import { sniffKerasFormat } from "./import/keras/index.js";
import { importKerasFile } from "./import/keras/isolated.js";
import { importOnnx, type OnnxImportOptions } from "./import/onnx/build.js";
import { importTfjs } from "./import/tfjs.js";
import type { Tensor } from "./model/inputs.js";
import { loadModel } from "./index.js";
import { kernelFiles } from "./wasm/kernel-files.js";
import { setDefaultWasmProvider } from "./wasm/loader.js";
import { readModelSource, type ModelSourceFile } from "./sources/files.js";
import { readJsonFile } from "./sources/model-json.js";
import { buildModel } from "./import/keras/build.js";
import type { PackedModel } from "./model/spec.js";
import { installTensorOps } from "./model/tensor-ops.js";
import { writeBundle } from "./format/writer.js";
import type { BundleDtype } from "./format/bundle.js";
import { normalizeTokenizerConfig } from "./text/tokenizer.js";
import type { ExportOptions, ReadOptions } from "./export-options.js";

export type { ExportOptions, ReadOptions } from "./export-options.js";

export { writeBundle } from "./format/writer.js";
export { readBundle } from "./format/reader.js";
export { buildModel } from "./import/keras/build.js";
export { quantizePacked } from "./model/quantize.js";
export { importTfjs } from "./import/tfjs.js";
export { importKerasFile, DEFAULT_KERAS_TIMEOUT_MS, type KerasFileOptions } from "./import/keras/isolated.js";
export { importOnnx } from "./import/onnx/build.js";
export { normalizeTokenizerConfig } from "./text/tokenizer.js";

export { exportSileroVad, sileroInterface } from "./vad/export.js";
export type { SileroExportOptions } from "./vad/export.js";

/** How an ONNX graph is bound (ignored for other formats); see src/import/onnx/build.ts. */
export type { OnnxImportOptions } from "./import/onnx/build.js";

// the tools read and check bundles of general graphs too (readBundle): their ops' checks
installTensorOps();
// the exporter runs each bundle it writes (refuseOverflow) on the kernels beside it: as the
// entry of rnn-wasm-tools/export it registers them itself (see src/wasm/kernel-files.ts)
setDefaultWasmProvider(kernelFiles(import.meta.url));

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

/** ONNX bytes, when the source is an ONNX model: a path ending in .onnx (read by the one reader of model files), or bytes that are not another format. */
async function onnxBytes(source: unknown, options: ReadOptions): Promise<Uint8Array | null> {
  if (typeof source === "string" && /\.onnx$/i.test(source)) {
    const read = await readModelSource(source, options);
    return read.kind === "tfjs" ? null : read.bytes;
  }
  if (source instanceof ArrayBuffer) source = new Uint8Array(source);
  // protobuf: a ModelProto starts with field 1 (ir_version, varint: 0x08) or another low field
  if (source instanceof Uint8Array && source.length > 0 && !sniffKerasFormat(source) && source[0] !== 0x7b) return source;
  return null;
}

export async function exportPacked(source: unknown, opts: ExportOptions = {}): Promise<PackedModel> {
  const onnx = await onnxBytes(source, opts);
  if (onnx) {
    const name = typeof source === "string" ? source : "model.onnx";
    return importOnnx(onnx, { inputs: opts.inputs, constants: opts.constants, state: opts.state, sourceName: name }).packed;
  }
  if (opts.inputs || opts.constants || opts.state) {
    throw new RnnWasmError("E_ARGUMENT", "exportBundle: inputs, constants and state bind ONNX graphs; this source is not an .onnx model");
  }
  return buildModel(await loadArtifacts(source, opts));
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
    const doc = isPath ? await readJsonFile(opts.tokenizer as string, "tokenizer") : opts.tokenizer;
    const why = tokenizerMismatch(packed.spec);
    if (why) throw new RnnWasmError("E_ARGUMENT", `a tokenizer needs a model that reads token ids (int32 [batch, time], or ids as floats [batch, time, 1]): ${why}`);
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
 * only answer NaN is better refused here, naming its largest weight, than shipped (log_softmax
 * gives no -Infinity either: the kernels' exp stops at the smallest normal float). A probe the
 * model cannot take (a shape it refuses) proves nothing either way and is skipped, and so is a
 * graph with an op defined only on part of the reals (a division, a power, a log, a square root,
 * a reciprocal: ONNX graphs), whose output on an arbitrary probe can be non-finite for the input's
 * sake, not the weights'.
 */
async function refuseOverflow(bundle: Uint8Array): Promise<void> {
  const model = await loadModel(bundle);
  try {
    const spec = model.spec;
    const partial = (op: (typeof spec.ops)[number]) =>
      (op.op === "binary" && (op.fn === "div" || op.fn === "pow")) ||
      (op.op === "unary" && ["sqrt", "reciprocal", "log", "pow"].includes(op.fn)) ||
      (op.op === "reduce" && (op.fn === "log_sum" || op.fn === "prod"));
    if (spec.ops.some(partial)) return;
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
        const bad = y.data.findIndex((v) => !Number.isFinite(v));
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
