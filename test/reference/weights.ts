/**
 * Weight decoding for the tfjs LayersModel format: `weightsManifest` groups in order, their
 * `paths` (shards) concatenated, each entry taking `size * bytesPerValue` bytes in manifest order
 * (tfjs-core io_utils decodeWeights). Shards are plain byte ranges: a weight may span two
 * shards, and after a uint8-quantised entry the next float32 entry need not be 4-byte aligned.
 *
 * Quantisation as tensorflowjs_converter writes it, `{"quantization": {...}}` on a float32
 * entry:
 *   uint8 / uint16: value = q * scale + min (computed in float64, stored as float32 by tfjs);
 *   float16:        IEEE half, decoded exactly.
 */
import { RefError, fmtShape } from "./errors.ts";
import { sizeOf, type Tensor64 } from "./tensor.ts";

export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

export interface NamedWeight64 extends Tensor64 {
  name: string;
}

export function decodeFloat16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Concatenates shard buffers (a single ArrayBuffer, or several in manifest path order). */
export function concatBuffers(weights: ArrayBuffer | ArrayBufferView | (ArrayBuffer | ArrayBufferView)[]): Uint8Array {
  const list = Array.isArray(weights) ? weights : [weights];
  const views = list.map((b) => {
    if (b instanceof ArrayBuffer) return new Uint8Array(b);
    if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    throw new RefError("E_WEIGHTS", `weights: expected ArrayBuffer(s), received ${Object.prototype.toString.call(b)}`);
  });
  const total = views.reduce((a, v) => a + v.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const v of views) {
    out.set(v, off);
    off += v.byteLength;
  }
  return out;
}

export function manifestEntries(modelJson: Record<string, unknown>): ManifestEntry[] {
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest)) {
    throw new RefError("E_MODEL_JSON", `model.json: weightsManifest must be an array, received ${typeof manifest}`);
  }
  const out: ManifestEntry[] = [];
  manifest.forEach((group, g) => {
    if (group === null || typeof group !== "object" || !Array.isArray((group as { weights?: unknown }).weights)) {
      throw new RefError("E_MODEL_JSON", `model.json: weightsManifest[${g}] has no weights array`);
    }
    for (const w of (group as { weights: unknown[] }).weights) {
      const e = w as ManifestEntry;
      if (
        typeof e?.name !== "string" ||
        !Array.isArray(e.shape) ||
        e.shape.some((d) => !Number.isInteger(d) || d < 0) ||
        typeof e.dtype !== "string"
      ) {
        throw new RefError("E_MODEL_JSON", `model.json: malformed weight entry ${JSON.stringify(w)} in group ${g}`);
      }
      out.push(e);
    }
  });
  return out;
}

function bytesPerValue(e: ManifestEntry): number {
  const dt = e.quantization ? e.quantization.dtype : e.dtype;
  switch (dt) {
    case "float32":
    case "int32":
      return 4;
    case "float16":
    case "uint16":
      return 2;
    case "uint8":
    case "bool":
      return 1;
    default:
      throw new RefError("E_WEIGHTS", `weight ${e.name}: unsupported dtype ${JSON.stringify(dt)}`);
  }
}

/** Decodes every manifest entry from the concatenated shard bytes. */
export function decodeWeights(entries: ManifestEntry[], bytes: Uint8Array): NamedWeight64[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const needed = entries.reduce((a, e) => a + sizeOf(e.shape) * bytesPerValue(e), 0);
  if (needed > bytes.byteLength) {
    throw new RefError(
      "E_WEIGHTS",
      `weights: the manifest needs ${needed} bytes, received ${bytes.byteLength} (short by ${needed - bytes.byteLength})`,
    );
  }
  let off = 0;
  return entries.map((e) => {
    const n = sizeOf(e.shape);
    const data = new Float64Array(n);
    const q = e.quantization;
    if (q) {
      if (e.dtype !== "float32" && e.dtype !== "int32") {
        throw new RefError("E_WEIGHTS", `weight ${e.name}: quantization of a ${e.dtype} weight`);
      }
      if (q.dtype === "uint8" || q.dtype === "uint16") {
        if (typeof q.min !== "number" || typeof q.scale !== "number") {
          throw new RefError("E_WEIGHTS", `weight ${e.name}: ${q.dtype} quantization without min and scale`);
        }
        for (let i = 0; i < n; i++) {
          const v = q.dtype === "uint8" ? dv.getUint8(off + i) : dv.getUint16(off + 2 * i, true);
          const real = v * q.scale + q.min;
          data[i] = e.dtype === "int32" ? Math.round(real) : Math.fround(real);
        }
      } else if (q.dtype === "float16") {
        for (let i = 0; i < n; i++) data[i] = decodeFloat16(dv.getUint16(off + 2 * i, true));
      } else {
        throw new RefError("E_WEIGHTS", `weight ${e.name}: unsupported quantization dtype ${JSON.stringify(q.dtype)}`);
      }
    } else if (e.dtype === "float32") {
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(off + 4 * i, true);
    } else if (e.dtype === "int32") {
      for (let i = 0; i < n; i++) data[i] = dv.getInt32(off + 4 * i, true);
    } else {
      throw new RefError("E_WEIGHTS", `weight ${e.name}: unsupported dtype ${e.dtype} with shape ${fmtShape(e.shape)}`);
    }
    off += n * bytesPerValue(e);
    return { name: e.name, shape: e.shape.slice(), data };
  });
}

/**
 * Splits a weight name into the owning layer, the wrapped sub-layer (Bidirectional
 * forward_/backward_) and the role:
 *   lstm_LSTM1/kernel                              -> layer lstm_LSTM1, role kernel        (tfjs)
 *   lstm/lstm_cell/kernel                          -> layer lstm, role kernel              (Keras 2)
 *   bidirectional/forward_lstm/lstm_cell/kernel:0  -> layer bidirectional, forward, kernel (Keras 2)
 *   bidirectional_Bidirectional1/backward_lstm_LSTM1/bias                                   (tfjs)
 */
export function parseWeightName(name: string): { layer: string; direction: "forward" | "backward" | null; role: string } {
  const parts = name.replace(/:\d+$/, "").split("/");
  const role = parts[parts.length - 1];
  const layer = parts[0];
  let direction: "forward" | "backward" | null = null;
  for (const p of parts.slice(1, -1)) {
    if (p.startsWith("forward_")) direction = "forward";
    else if (p.startsWith("backward_")) direction = "backward";
  }
  return { layer, direction, role };
}
