/** Writes a PackedModel as .rnnb bytes (format in bundle.ts / docs/bundle-format.md). */
import { RnnWasmError } from "../errors.js";
import type { PackedModel } from "../model/spec.js";
import { align16, DTYPE_BYTES, FORMAT_VERSION, MAGIC, PREAMBLE_BYTES, TRAILER_BYTES, type BundleHeader, type SectionDtype, type SectionEntry } from "./bundle.js";
import { crc32 } from "./crc32.js";
import { floatToHalf, halvesToFloats } from "./half.js";

export interface WriteOptions {
  dtype?: SectionDtype;
  metadata?: Record<string, unknown>;
  tokenizer?: unknown;
  generator?: string;
  /** Called after each section is written (progress bars). */
  onSection?: (done: number, total: number, name: string) => void;
}

export function writeBundle(packed: PackedModel, opts: WriteOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? "f32";
  if (dtype !== "f32" && dtype !== "f16") {
    throw new RnnWasmError("E_ARGUMENT", `bundle dtype must be "f32" or "f16", received ${JSON.stringify(dtype)}`);
  }
  const weights = packed.spec.weights;
  // The header holds the section offsets, whose values depend on the header's own length:
  // lay the sections out after a header of a guessed size, then grow the guess until stable.
  let headerGuess = 0;
  let header: BundleHeader;
  let headerBytes: Uint8Array;
  for (;;) {
    let off = align16(PREAMBLE_BYTES + headerGuess);
    const sections: SectionEntry[] = weights.map((w) => {
      const bytes = w.length * DTYPE_BYTES[dtype];
      const s: SectionEntry = { name: w.name, dtype, offset: off, bytes, length: w.length };
      off = align16(off + bytes);
      return s;
    });
    header = {
      format: "rnnb",
      version: FORMAT_VERSION,
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
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, PREAMBLE_BYTES);
  // the header is padded with spaces up to the guessed size (still valid JSON once trimmed)
  out.fill(0x20, PREAMBLE_BYTES + headerBytes.length, PREAMBLE_BYTES + headerGuess);
  view.setUint32(8, headerGuess, true);
  header.sections.forEach((s, i) => {
    let data = packed.data.get(s.name);
    if (!data || data.length !== s.length) throw new RnnWasmError("E_WEIGHTS", `weight ${s.name} is missing or has the wrong length`);
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
    if (dtype === "f32") {
      new Uint8Array(out.buffer, s.offset, s.bytes).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else {
      for (let j = 0; j < data.length; j++) view.setUint16(s.offset + 2 * j, floatToHalf(data[j]), true);
    }
    opts.onSection?.(i + 1, header.sections.length, s.name);
  });
  view.setUint32(total - TRAILER_BYTES, crc32(out.subarray(0, total - TRAILER_BYTES)), true);
  return out;
}
