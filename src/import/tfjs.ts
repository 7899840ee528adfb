/**
 * tfjs LayersModel artifacts (model.json + weight shards) -> ModelArtifacts. Handles the
 * formats tfjs `model.save()` and tensorflowjs_converter write, including the 2018 format
 * (no `format` field, Sequential config as a bare list) and the converter's quantisation
 * (uint8/uint16 affine, float16), which is undone here.
 */
import { RnnWasmError } from "../errors.js";
import { halvesToFloats } from "../format/half.js";
import type { ModelArtifacts, NamedWeight } from "./artifacts.js";
import { checkJsonTree } from "../json.js";
import { SHARD_DTYPE_BYTES, shardGroups, storedDtype } from "../sources/manifest.js";

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

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
    const what = `${source}: weights${i >= 0 ? `[${i}]` : ""}`;
    if (!(b instanceof ArrayBuffer || ArrayBuffer.isView(b))) throw new RnnWasmError("E_WEIGHTS", `${what} must be an ArrayBuffer or typed array, received ${b === null ? "null" : typeof b}`);
    try {
      // (a view of the buffer: the engine refuses a detached one here, not later)
      return b instanceof ArrayBuffer ? new Uint8Array(b).buffer : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    } catch (e) {
      throw new RnnWasmError("E_WEIGHTS", `${what} cannot be read (a detached ArrayBuffer?)`, { cause: e });
    }
  };
  if (Array.isArray(weights)) return weights.map(one);
  return [one(weights, -1)];
}

export function importTfjs(modelJson: unknown, weights: unknown, source = "model.json"): ModelArtifacts {
  checkJsonTree(modelJson, source, "E_MODEL_JSON");
  if (!isObj(modelJson)) throw new RnnWasmError("E_MODEL_JSON", `${source}: expected a JSON object, received ${Array.isArray(modelJson) ? "an array" : typeof modelJson}`);
  if (modelJson.format === "graph-model") {
    throw new RnnWasmError("E_MODEL_JSON", `${source}: this is a tfjs graph model (converted from a SavedModel); rnn-wasm reads layers models (tfjs model.save() or a Keras .h5/.keras)`);
  }
  const topo = modelJson.modelTopology;
  if (!isObj(topo)) throw new RnnWasmError("E_MODEL_JSON", `${source}: modelTopology is missing`);
  const entries = shardGroups(modelJson, source).flatMap((g) => g.entries);
  const bytes = concat(toBuffers(weights, source));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NamedWeight[] = [];
  let off = 0;
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const q = e.quantization;
    const dtype = storedDtype(e);
    const need = count * SHARD_DTYPE_BYTES[dtype];
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
