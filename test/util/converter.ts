/**
 * Writes model.json + shards the way tensorflowjs_converter does, by hand: Keras weight names
 * (`gru/gru_cell/kernel`, `bidirectional/forward_lstm/lstm_cell/kernel`), a Keras-style
 * modelTopology (`model_config`, `keras_version`, InputLayer first), several groups and shards
 * (a weight may straddle two shards), and `quantization` entries (float16 / uint8 / uint16).
 */
import { decodeWeights, manifestEntries, concatBuffers } from "../reference/weights.ts";
import type { Artifacts, WeightManifestEntry } from "./tfjs.ts";

export interface NamedWeight32 {
  name: string;
  shape: number[];
  data: Float32Array;
}

export type QuantDtype = "float16" | "uint8" | "uint16";

export interface WriteOptions {
  /** One group for all weights (converter default) or one group per layer (old 2018 files). */
  groups?: "single" | "per-layer";
  /** Group order: "layer" keeps weight order; "reversed" lists later layers' groups first. */
  groupOrder?: "layer" | "reversed";
  /** Maximum shard size in bytes (the converter's default is 4 MiB). */
  shardBytes?: number;
  /** Quantisation per weight name; undefined = float32. */
  quantize?: (name: string) => QuantDtype | undefined;
  /** "bin": group1-shard1of2.bin; "bare": group1-shard1of2 (2018 files). */
  pathStyle?: "bin" | "bare";
}

/** float32 -> IEEE half bits, round to nearest even (values are finite here). */
export function encodeFloat16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * Affine quantisation like the converter's: min/max nudged so that 0 is representable,
 * q = round((clip(w) - min) / scale), value = q * scale + min.
 */
export function affineQuantize(data: Float32Array, dtype: "uint8" | "uint16"): { q: Uint8Array | Uint16Array; min: number; scale: number } {
  const qMax = dtype === "uint8" ? 255 : 65535;
  let lo = Math.min(0, ...data);
  let hi = Math.max(0, ...data);
  if (hi === lo) hi = lo + 1;
  const scale = (hi - lo) / qMax;
  const zero = Math.round(-lo / scale);
  lo = -zero * scale;
  hi = lo + qMax * scale;
  const q = dtype === "uint8" ? new Uint8Array(data.length) : new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const w = Math.min(hi, Math.max(lo, data[i]));
    q[i] = Math.round((w - lo) / scale);
  }
  return { q, min: lo, scale };
}

function encodeWeight(w: NamedWeight32, quant: QuantDtype | undefined): { bytes: Uint8Array; entry: WeightManifestEntry } {
  const entry: WeightManifestEntry = { name: w.name, shape: w.shape.slice(), dtype: "float32" };
  if (quant === undefined) {
    return { bytes: new Uint8Array(Float32Array.from(w.data).buffer), entry };
  }
  if (quant === "float16") {
    const h = new Uint16Array(w.data.length);
    for (let i = 0; i < h.length; i++) h[i] = encodeFloat16(w.data[i]);
    entry.quantization = { dtype: "float16", original_dtype: "float32" };
    return { bytes: new Uint8Array(h.buffer), entry };
  }
  const { q, min, scale } = affineQuantize(w.data, quant);
  entry.quantization = { dtype: quant, min, scale, original_dtype: "float32" };
  return { bytes: new Uint8Array(q.buffer, q.byteOffset, q.byteLength), entry };
}

/** Builds `{ modelJson, weights }` with the given topology and named weights. */
export function writeArtifacts(
  modelTopology: Record<string, unknown>,
  weights: NamedWeight32[],
  meta: { format?: string; generatedBy?: string; convertedBy?: string | null },
  opts: WriteOptions = {},
): Artifacts {
  const layerOf = (n: string) => n.split("/")[0];
  let groups: NamedWeight32[][];
  if (opts.groups === "per-layer") {
    const byLayer = new Map<string, NamedWeight32[]>();
    for (const w of weights) byLayer.set(layerOf(w.name), [...(byLayer.get(layerOf(w.name)) ?? []), w]);
    groups = [...byLayer.values()];
  } else {
    groups = [weights];
  }
  if (opts.groupOrder === "reversed") groups = groups.slice().reverse();
  const manifest: Artifacts["modelJson"]["weightsManifest"] = [];
  const buffers: ArrayBuffer[] = [];
  groups.forEach((group, g) => {
    const encoded = group.map((w) => encodeWeight(w, opts.quantize?.(w.name)));
    const total = encoded.reduce((a, e) => a + e.bytes.byteLength, 0);
    const all = new Uint8Array(total);
    let off = 0;
    for (const e of encoded) {
      all.set(e.bytes, off);
      off += e.bytes.byteLength;
    }
    const shard = opts.shardBytes ?? 4 * 1024 * 1024;
    const nShards = Math.max(1, Math.ceil(total / shard));
    const paths: string[] = [];
    for (let s = 0; s < nShards; s++) {
      const ext = opts.pathStyle === "bare" ? "" : ".bin";
      paths.push(`group${g + 1}-shard${s + 1}of${nShards}${ext}`);
      buffers.push(all.slice(s * shard, Math.min(total, (s + 1) * shard)).buffer);
    }
    manifest.push({ paths, weights: encoded.map((e) => e.entry) });
  });
  const modelJson: Artifacts["modelJson"] = {
    modelTopology,
    weightsManifest: manifest,
  };
  if (meta.format !== undefined) modelJson.format = meta.format;
  if (meta.generatedBy !== undefined) modelJson.generatedBy = meta.generatedBy;
  if (meta.convertedBy !== undefined) modelJson.convertedBy = meta.convertedBy;
  return { modelJson, weights: buffers };
}

/** Decodes artifacts' weights to float32 values (dequantised), in manifest order. */
export function readWeights(art: Artifacts): NamedWeight32[] {
  const entries = manifestEntries(art.modelJson as Record<string, unknown>);
  return decodeWeights(entries, concatBuffers(art.weights)).map((w) => ({
    name: w.name,
    shape: w.shape,
    data: Float32Array.from(w.data),
  }));
}

/** Re-encodes tfjs-saved artifacts (same names and topology) with quantisation / sharding. */
export function reencode(art: Artifacts, opts: WriteOptions): Artifacts {
  const { weightsManifest: _drop, modelTopology, ...meta } = art.modelJson;
  return writeArtifacts(modelTopology, readWeights(art), meta as { format?: string; generatedBy?: string; convertedBy?: string | null }, opts);
}

type Config = Record<string, any>;

const CELL_NAMES: Record<string, string> = { LSTM: "lstm_cell", GRU: "gru_cell", SimpleRNN: "simple_rnn_cell" };

export interface KerasStyleOptions extends WriteOptions {
  /** "2.6.0" (converter 3.x era, default) or "3.x" (Keras 3: batch_shape, hard_sigmoid = relu6(x+3)/6). */
  kerasVersion?: string;
  /** Rewrites a layer config before writing (e.g. GRU reset_after: true). */
  patchLayer?: (layer: Config) => void;
  /** Replaces a weight (e.g. a GRU bias [2, 3u]); return undefined to keep it. */
  patchWeight?: (w: NamedWeight32, layerConfig: Config) => NamedWeight32 | undefined;
}

/**
 * Turns tfjs-saved artifacts of a model whose layers carry Keras-style names (`lstm`, `gru_1`,
 * `bidirectional`, built with explicit `name`s) into what tensorflowjs_converter writes for the
 * same Keras model: modelTopology {keras_version, backend, model_config}, an InputLayer in front
 * of Sequential layers, RNN weights under their cell (`lstm/lstm_cell/kernel`, the n-th RNN
 * layer's cell named `lstm_cell_n` like Keras 2.6), generatedBy/convertedBy of the converter.
 */
export function toKerasStyle(art: Artifacts, opts: KerasStyleOptions = {}): Artifacts {
  const kerasVersion = opts.kerasVersion ?? "2.6.0";
  const keras3 = kerasVersion.startsWith("3");
  const topo = JSON.parse(JSON.stringify(art.modelJson.modelTopology)) as Config;
  const modelConfig: Config = { class_name: topo.class_name, config: topo.config };
  const layers: Config[] = modelConfig.config.layers;
  if (modelConfig.class_name === "Sequential" && layers[0].class_name !== "InputLayer") {
    const first = layers[0].config;
    const shape = first.batch_input_shape;
    layers.unshift({
      class_name: "InputLayer",
      config: keras3
        ? { batch_shape: shape, dtype: first.dtype ?? "float32", sparse: false, name: `${first.name}_input` }
        : { batch_input_shape: shape, dtype: first.dtype ?? "float32", sparse: false, ragged: false, name: `${first.name}_input` },
    });
    if (keras3) delete first.batch_input_shape;
  }
  const configByName = new Map<string, Config>();
  const cellOf = new Map<string, string>();
  const counters: Record<string, number> = {};
  const cellName = (cls: string) => {
    const base = CELL_NAMES[cls];
    const k = counters[cls] ?? 0;
    counters[cls] = k + 1;
    return k === 0 ? base : `${base}_${k}`;
  };
  for (const l of layers) {
    opts.patchLayer?.(l);
    const name = l.config.name ?? l.name;
    configByName.set(name, l);
    if (l.class_name in CELL_NAMES) cellOf.set(name, cellName(l.class_name));
    if (l.class_name === "Bidirectional") {
      const inner = l.config.layer;
      const c = cellName(inner.class_name);
      cellOf.set(name, c);
      // Keras 2 records the forced zero_output_for_mask in the wrapped layer's config.
      if (inner.config.return_sequences === true) inner.config.zero_output_for_mask = true;
    }
  }
  const renamed = readWeights(art).map((w) => {
    const parts = w.name.split("/");
    const layerName = parts[0];
    const cfg = configByName.get(layerName);
    let name = w.name;
    const cell = cellOf.get(layerName);
    if (cfg && cell) name = [...parts.slice(0, -1), cell, parts[parts.length - 1]].join("/");
    const renamedW = { ...w, name };
    return (cfg && opts.patchWeight?.(renamedW, cfg)) ?? renamedW;
  });
  const modelTopology = { keras_version: kerasVersion, backend: "tensorflow", model_config: modelConfig };
  return writeArtifacts(
    modelTopology,
    renamed,
    {
      format: "layers-model",
      generatedBy: `keras v${kerasVersion}`,
      convertedBy: keras3 ? "TensorFlow.js Converter v4.22.0" : "TensorFlow.js Converter v3.8.0",
    },
    opts,
  );
}
