/** Writes a PackedModel as .rnnb bytes (format in bundle.ts / docs/bundle-format.md). */
import { RnnWasmError } from "../errors.js";
import type { ModelSpec, PackedModel } from "../model/spec.js";
import { int8Parts, quantizePacked } from "../model/quantize.js";
import { align16, DTYPE_BYTES, FORMAT_VERSION, MAGIC, OLDEST_FORMAT, PREAMBLE_BYTES, TRAILER_BYTES, type BundleDtype, type BundleHeader, type SectionEntry } from "./bundle.js";
import { crc32 } from "./crc32.js";
import { floatToHalf, halvesToFloats } from "./half.js";

/** Suffix of the f32 section that holds an int8 weight's scales. */
export const SCALES_SUFFIX = "#scales";

export interface WriteOptions {
  /** f32, f16, or int8: weight matrices quantised (src/model/quantize.ts), other weights f32. */
  dtype?: BundleDtype;
  metadata?: Record<string, unknown>;
  tokenizer?: unknown;
  generator?: string;
  /** Called after each section is written (progress bars). */
  onSection?: (done: number, total: number, name: string) => void;
}

/** The ops format 2 (rnn-wasm 0.2) describes; the ones added since make a bundle format 3. */
const FORMAT_2_OPS = new Set(["embedding", "dense", "rnn", "activation", "relu", "masking", "global_pool", "pool1d", "conv1d", "scale_shift", "layer_norm", "reshape", "repeat", "merge"]);

/**
 * The oldest format that describes `spec`: 2 unless it uses what format 3 added (an op format 2
 * has not, state pairs, an unbatched graph, explicit Conv1D pads, the rnn op's ONNX options),
 * so every bundle a 0.2 runtime can run stays readable by it, and the others are refused by
 * version there (E_BUNDLE_VERSION: "upgrade rnn-wasm") rather than run without their options.
 */
export function formatOf(spec: ModelSpec): number {
  const later = spec.states !== undefined || spec.unbatched === true || spec.ops.some((op) =>
    !FORMAT_2_OPS.has(op.op) ||
    (op.op === "conv1d" && (op.padding === "explicit" || op.pads !== undefined)) ||
    (op.op === "rnn" && (op.cellActivation !== undefined || op.activationParams !== undefined || op.clip !== undefined || op.inputForget !== undefined || op.weights.peepholes !== undefined)));
  return later ? FORMAT_VERSION : OLDEST_FORMAT;
}

export function writeBundle(packed: PackedModel, opts: WriteOptions = {}): Uint8Array {
  const version = formatOf(packed.spec);
  const dtype = opts.dtype ?? "f32";
  if (dtype !== "f32" && dtype !== "f16" && dtype !== "int8") {
    throw new RnnWasmError("E_ARGUMENT", `bundle dtype must be "f32", "f16" or "int8", received ${JSON.stringify(dtype)}`);
  }
  const int8 = [...packed.data].find(([, d]) => d instanceof Uint8Array);
  if (int8 && dtype !== "int8") throw new RnnWasmError("E_ARGUMENT", `weight ${int8[0]} is int8: this model can only be written with dtype "int8"`);
  // int8: quantise the matrices, unless the caller did (quantizePacked, e.g. keeping some f32)
  if (dtype === "int8" && !int8) packed = quantizePacked(packed);
  const weights = packed.spec.weights;
  // an int8 weight (its kernel-memory image, src/model/quantize.ts) becomes an i8 section and,
  // at the next 16-byte boundary, the f32 section of its scales
  const plan: { name: string; data: Float32Array | Uint16Array | Uint8Array; dtype: SectionEntry["dtype"]; scales?: string }[] = [];
  for (const w of weights) {
    const data = packed.data.get(w.name);
    if (data instanceof Uint8Array) {
      const name = w.name + SCALES_SUFFIX;
      if (packed.data.has(name)) throw new RnnWasmError("E_WEIGHTS", `weight ${name} collides with the scales of ${w.name}`);
      plan.push({ name: w.name, data: data.subarray(0, w.length), dtype: "i8", scales: name }, { name, data: int8Parts(data, w.length).scales, dtype: "f32" });
      continue;
    }
    if (!data || data.length !== w.length) throw new RnnWasmError("E_WEIGHTS", `weight ${w.name} is missing or has the wrong length`);
    plan.push({ name: w.name, data, dtype: dtype === "f16" ? "f16" : "f32" });
  }
  // The header holds the section offsets, whose values depend on the header's own length:
  // lay the sections out after a header of a guessed size, then grow the guess until stable.
  let headerGuess = 0;
  let header: BundleHeader;
  let headerBytes: Uint8Array;
  for (;;) {
    let off = align16(PREAMBLE_BYTES + headerGuess);
    const sections: SectionEntry[] = plan.map((p) => {
      const bytes = p.data.length * DTYPE_BYTES[p.dtype];
      const s: SectionEntry = { name: p.name, dtype: p.dtype, offset: off, bytes, length: p.data.length, ...(p.scales ? { scales: p.scales } : {}) };
      off = align16(off + bytes);
      return s;
    });
    header = {
      format: "rnnb",
      version,
      generator: opts.generator ?? "rnn-wasm",
      dtype,
      model: packed.spec,
      sections,
      metadata: opts.metadata ?? {},
      ...(opts.tokenizer !== undefined ? { tokenizer: opts.tokenizer } : {}),
    };
    headerBytes = new TextEncoder().encode(JSON.stringify(header));
    if (headerBytes.length <= headerGuess) break;
    headerGuess = headerBytes.length + 64;
  }
  const last = header.sections[header.sections.length - 1];
  const dataEnd = last ? last.offset + last.bytes : align16(PREAMBLE_BYTES + headerGuess);
  const total = align16(dataEnd) + TRAILER_BYTES;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, version, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, PREAMBLE_BYTES);
  // the header is padded with spaces up to the guessed size (still valid JSON once trimmed)
  out.fill(0x20, PREAMBLE_BYTES + headerBytes.length, PREAMBLE_BYTES + headerGuess);
  view.setUint32(8, headerGuess, true);
  header.sections.forEach((s, i) => {
    let data = plan[i].data;
    if (data instanceof Uint8Array) {
      out.set(data, s.offset);
      opts.onSection?.(i + 1, header.sections.length, s.name);
      return;
    }
    if (data instanceof Uint16Array) {
      // halves read from an f16 bundle: copied as they are, or widened for an f32 bundle
      if (dtype === "f16") {
        new Uint8Array(out.buffer, s.offset, s.bytes).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        opts.onSection?.(i + 1, header.sections.length, s.name);
        return;
      }
      const f = new Float32Array(data.length);
      halvesToFloats(data, f);
      data = f;
    }
    if (s.dtype === "f32") {
      new Uint8Array(out.buffer, s.offset, s.bytes).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else {
      for (let j = 0; j < data.length; j++) view.setUint16(s.offset + 2 * j, floatToHalf(data[j]), true);
    }
    opts.onSection?.(i + 1, header.sections.length, s.name);
  });
  view.setUint32(total - TRAILER_BYTES, crc32(out.subarray(0, total - TRAILER_BYTES)), true);
  return out;
}
