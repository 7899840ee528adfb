/**
 * tfjs LayersModel artifacts (model.json + weight shards) -> ModelArtifacts. Handles the
 * formats tfjs `model.save()` and tensorflowjs_converter write, including the 2018 format
 * (no `format` field, Sequential config as a bare list) and the converter's quantisation
 * (uint8/uint16 affine, float16), which is undone here.
 */
import { RnnWasmError } from "../errors.js";
import { halvesToFloats } from "../format/half.js";
import type { ModelArtifacts, NamedWeight } from "./artifacts.js";

export interface WeightEntrySpec {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Lists the manifest's weights in order, validating each entry. */
export function manifestEntries(modelJson: Json, source: string): WeightEntrySpec[] {
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest)) {
    throw new RnnWasmError("E_MODEL_JSON", `${source}: weightsManifest is missing (expected a list of {paths, weights} groups)`);
  }
  const out: WeightEntrySpec[] = [];
  manifest.forEach((group, gi) => {
    if (!isObj(group) || !Array.isArray(group.weights)) {
      throw new RnnWasmError("E_MODEL_JSON", `${source}: weightsManifest[${gi}] has no weights list`);
    }
    (group.weights as unknown[]).forEach((w, wi) => {
      if (!isObj(w) || typeof w.name !== "string" || !Array.isArray(w.shape) || !(w.shape as unknown[]).every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new RnnWasmError("E_MODEL_JSON", `${source}: weightsManifest[${gi}].weights[${wi}] is malformed (needs name, shape)`);
      }
      out.push(w as unknown as WeightEntrySpec);
    });
  });
  return out;
}

export { manifestPaths } from "./manifest.js";

/** Buffers (weight shards, in order) as one byte array: the first one itself when it is alone. */
export function concat(buffers: ArrayBuffer[]): Uint8Array {
  if (buffers.length === 1) return new Uint8Array(buffers[0]);
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), off);
    off += b.byteLength;
  }
  return out;
}

function toBuffers(weights: unknown, source: string): ArrayBuffer[] {
  const one = (b: unknown, i: number): ArrayBuffer => {
    if (b instanceof ArrayBuffer) return b;
    if (ArrayBuffer.isView(b)) return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    throw new RnnWasmError("E_WEIGHTS", `${source}: weights${i >= 0 ? `[${i}]` : ""} must be an ArrayBuffer or typed array, received ${b === null ? "null" : typeof b}`);
  };
  if (Array.isArray(weights)) return weights.map(one);
  return [one(weights, -1)];
}

export function importTfjs(modelJson: unknown, weights: unknown, source = "model.json"): ModelArtifacts {
  if (!isObj(modelJson)) throw new RnnWasmError("E_MODEL_JSON", `${source}: expected a JSON object, received ${Array.isArray(modelJson) ? "an array" : typeof modelJson}`);
  if (modelJson.format === "graph-model") {
    throw new RnnWasmError("E_MODEL_JSON", `${source}: this is a tfjs graph model (converted from a SavedModel); rnn-wasm reads layers models (tfjs model.save() or a Keras .h5/.keras)`);
  }
  const topo = modelJson.modelTopology;
  if (!isObj(topo)) throw new RnnWasmError("E_MODEL_JSON", `${source}: modelTopology is missing`);
  const entries = manifestEntries(modelJson, source);
  const bytes = concat(toBuffers(weights, source));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NamedWeight[] = [];
  let off = 0;
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const q = e.quantization;
    const dtype = q ? q.dtype : e.dtype ?? "float32";
    const size = BYTES[dtype];
    if (!size) throw new RnnWasmError("E_WEIGHTS", `${source}: weight ${e.name} has unsupported dtype ${dtype}`);
    const need = count * size;
    if (off + need > bytes.byteLength) {
      throw new RnnWasmError(
        "E_WEIGHTS",
        `${source}: weight data is too short: ${e.name} [${e.shape.join(", ")}] ${dtype} needs bytes ${off}..${off + need}, but the shards hold ${bytes.byteLength} bytes`,
      );
    }
    const data = new Float32Array(count);
    if (q) {
      if (q.dtype === "float16") {
        halvesToFloats(new Uint16Array(bytes.slice(off, off + need).buffer), data); // a copy: off may be odd
      } else {
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        if (q.dtype === "uint8") for (let i = 0; i < count; i++) data[i] = bytes[off + i] * scale + min;
        else for (let i = 0; i < count; i++) data[i] = view.getUint16(off + 2 * i, true) * scale + min;
      }
    } else if (dtype === "float32") {
      if ((bytes.byteOffset + off) % 4 === 0) data.set(new Float32Array(bytes.buffer, bytes.byteOffset + off, count));
      else for (let i = 0; i < count; i++) data[i] = view.getFloat32(off + 4 * i, true);
    } else if (dtype === "int32") {
      for (let i = 0; i < count; i++) data[i] = view.getInt32(off + 4 * i, true);
    } else {
      for (let i = 0; i < count; i++) data[i] = bytes[off + i];
    }
    off += need;
    out.push({ name: e.name, shape: e.shape.slice(), data });
  }
  if (off !== bytes.byteLength) {
    throw new RnnWasmError("E_WEIGHTS", `${source}: the manifest describes ${off} bytes of weights, but the shards hold ${bytes.byteLength} bytes`);
  }
  const kv = typeof topo.keras_version === "string" ? topo.keras_version : undefined;
  return { origin: "tfjs", kerasVersion: kv, topology: topo as ModelArtifacts["topology"], weights: out, sourceName: source };
}
