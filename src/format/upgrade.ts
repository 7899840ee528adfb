/**
 * Converts a format-1 bundle to the current format (`rnn-wasm upgrade`). Format 2 changed the
 * recurrent kernels of LSTM and GRU layers from gates interleaved per k, [tile][k][gate][8], to
 * panels in [tile][gate] order, [tile][gate][k][8] (pack.ts), which the kernels stream
 * contiguously. Everything else (spec, metadata, tokenizer, dtypes, values) is
 * kept; only the order of those weights' values changes, so predictions are identical.
 * Tools only: the runtime never transforms weights on load (bundles are what the kernels read).
 */
import { RnnWasmError } from "../errors.js";
import { padTo8 } from "../model/layout.js";
import type { PackedModel } from "../model/spec.js";
import { FORMAT_VERSION, OLDEST_FORMAT } from "./bundle.js";
import { halvesToFloats } from "./half.js";
import { readBundle } from "./reader.js";
import { writeBundle } from "./writer.js";

type Values = Float32Array | Uint16Array | Uint8Array;

/**
 * A copy of `src` whose first tiles * K * G * unit elements go from [tile][K][G][unit] to
 * [tile][G][K][unit] (what follows, e.g. an int8 image's scales, is kept). f32 and f16 kernels:
 * K = u, unit = 8 values; int8 images: K = u/2 k-pairs, unit = 16 bytes (8 columns x 2 k).
 */
export function interleavedToPanels<T extends Values>(src: T, tiles: number, K: number, G: number, unit: number): T {
  const out = src.slice() as T;
  for (let t = 0; t < tiles; t++) {
    const base = t * K * G * unit;
    for (let k = 0; k < K; k++) {
      for (let g = 0; g < G; g++) {
        const from = base + (k * G + g) * unit;
        out.set(src.subarray(from, from + unit), base + (g * K + k) * unit);
      }
    }
  }
  return out;
}

export interface Upgraded {
  bytes: Uint8Array;
  /** Format version of the input. */
  from: number;
  /** Format version of the output (the input's when it is current). */
  to: number;
  /** Weights whose values were reordered. */
  converted: string[];
}

/** A bundle of any known format as the current format (the same bytes back when it already is). */
export function upgradeBundle(input: Uint8Array): Upgraded {
  const from = input.length >= 8 ? new DataView(input.buffer, input.byteOffset, 8).getUint32(4, true) : 0;
  if (from >= OLDEST_FORMAT && from <= FORMAT_VERSION) {
    readBundle(input); // validates
    return { bytes: input, from, to: from, converted: [] };
  }
  if (from !== 1) readBundle(input); // throws the reader's own error (newer, corrupt)
  const { header, packed } = readBundle(input, 1);
  const data: PackedModel["data"] = new Map(packed.data);
  const converted: string[] = [];
  for (const op of packed.spec.ops) {
    if (op.op !== "rnn" || op.cell === "simple_rnn") continue; // one gate: already panels
    // LSTM: all four gates; GRU reset_after: z, r, h; GRU reset_after=false: the z, r block (its
    // h block, one gate per tile, is already panels)
    const G = op.cell === "lstm" ? 4 : op.resetAfter ? 3 : 2;
    const name = op.weights.recurrentKernel;
    const v = data.get(name)!;
    const tiles = padTo8(op.units) / 8;
    // int8 image: values [tile][k/2][gate][8][2] (16-byte units), then scales in panel order
    const [K, unit] = v instanceof Uint8Array ? [Math.ceil(op.units / 2), 16] : [op.units, 8];
    data.set(name, interleavedToPanels(v, tiles, K, G, unit));
    converted.push(name);
  }
  if (header.dtype === "f16") {
    // the writer encodes f16 from f32; widening halves and narrowing them again is exact
    for (const [name, v] of data) if (v instanceof Uint16Array) data.set(name, widen(v));
  }
  try {
    const bytes = writeBundle({ spec: packed.spec, data }, {
      dtype: header.dtype,
      metadata: header.metadata,
      ...(header.tokenizer !== undefined ? { tokenizer: header.tokenizer } : {}),
      generator: header.generator,
    });
    return { bytes, from, to: new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true), converted };
  } catch (e) {
    throw e instanceof RnnWasmError ? e : new RnnWasmError("E_BUNDLE_CORRUPT", `could not upgrade the bundle: ${(e as Error).message}`);
  }
}

function widen(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  halvesToFloats(h, out);
  return out;
}
