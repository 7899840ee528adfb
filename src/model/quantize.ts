/**
 * int8 weights (export side; docs/kernels.md "int8 weights"): turns the f32 packed matrices of
 * a model into symmetric int8 with one f32 scale per output column (per row of an embedding
 * table), in the k-pair layouts assembly/int8.ts reads. Biases and vectors stay f32.
 *
 * Quantisation works on the packed f32 layouts, so any packed model converts (an f32 or f16
 * bundle as well as a freshly imported model): panels [P][K][8] (every matrix, recurrent
 * kernels included) become [P][K2/2][8][2] (K2 = K rounded up to even, zeros past K); a table
 * [rows][dim] becomes [rows][dim2] (dim2 = dim rounded up to even).
 *
 * In a PackedModel an int8 weight is the image the kernels hold (a Uint8Array): its int8
 * values, zeros to the next 16-byte boundary, then its f32 scales. The bundle stores the two
 * parts as an i8 section and the f32 section right after it (docs/bundle-format.md).
 */
import { RnnWasmError } from "../errors.js";
import { halvesToFloats } from "../format/half.js";
import { align } from "../wasm/kernels.js";
import { padTo8 } from "./layout.js";
import { GATES, type ModelSpec, type PackedModel } from "./spec.js";

/** K rounded up to a whole k-pair. */
export const evenK = (K: number): number => K + (K & 1);

export interface QuantizedMatrix {
  /** int8 values in the kernel layout. */
  values: Int8Array;
  /** One scale per column (per table row); value = q * scale. */
  scales: Float32Array;
}

/** One column (or table row) of `n` values: scale = max|v| / 127 (as f32), q = round(v / scale). */
function quantizeRun(get: (i: number) => number, n: number, put: (i: number, q: number) => void): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(get(i)));
  const scale = Math.fround(max / 127);
  for (let i = 0; i < n; i++) put(i, scale > 0 ? Math.max(-127, Math.min(127, Math.round(get(i) / scale))) : 0);
  return scale;
}

/**
 * f32 panels [panel][K][8] (every packed matrix, recurrent kernels included: pack.ts) to int8
 * [panel][K2/2][8 lanes][2 k] with scales [panel][8].
 */
export function quantizePanels(w: Float32Array, panels: number, K: number): QuantizedMatrix {
  if (w.length !== panels * K * 8) throw new RnnWasmError("E_WEIGHTS", `quantizePanels: ${w.length} floats is not ${panels} panels x ${K}`);
  const K2 = evenK(K);
  const values = new Int8Array(panels * K2 * 8);
  const scales = new Float32Array(panels * 8);
  for (let p = 0; p < panels; p++) {
    for (let l = 0; l < 8; l++) {
      const src = (k: number) => (p * K + k) * 8 + l;
      const dst = (k: number) => (p * (K2 >> 1) + (k >> 1)) * 16 + l * 2 + (k & 1);
      scales[p * 8 + l] = quantizeRun((k) => w[src(k)], K, (k, q) => (values[dst(k)] = q));
    }
  }
  return { values, scales };
}

/** Inverse of quantizePanels' layout change: q * scale in the f32 layout [panel][K][8]. */
export function dequantizePanels(m: QuantizedMatrix, panels: number, K: number): Float32Array {
  const K2 = evenK(K);
  const out = new Float32Array(panels * K * 8);
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < K; k++) {
      for (let l = 0; l < 8; l++) {
        out[(p * K + k) * 8 + l] = m.values[(p * (K2 >> 1) + (k >> 1)) * 16 + l * 2 + (k & 1)] * m.scales[p * 8 + l];
      }
    }
  }
  return out;
}

/** Embedding table [rows][dim] to [rows][dim2] int8 (zero past dim), one scale per row. */
export function quantizeRows(w: Float32Array, rows: number, dim: number): QuantizedMatrix {
  const dim2 = evenK(dim);
  const values = new Int8Array(rows * dim2);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) scales[r] = quantizeRun((j) => w[r * dim + j], dim, (j, q) => (values[r * dim2 + j] = q));
  return { values, scales };
}

/** The kernel-memory image of an int8 weight: values, zeros to 16 bytes, f32 scales. */
export function int8Image(m: QuantizedMatrix): Uint8Array {
  const at = align(m.values.length);
  const out = new Uint8Array(at + m.scales.length * 4);
  out.set(new Uint8Array(m.values.buffer, m.values.byteOffset, m.values.length));
  new Float32Array(out.buffer, out.byteOffset + at, m.scales.length).set(m.scales);
  return out;
}

/** The two parts of an int8 image holding `length` values (copies the scales, any alignment). */
export function int8Parts(image: Uint8Array, length: number): QuantizedMatrix {
  const at = align(length);
  if (image.length <= at || (image.length - at) % 4) throw new RnnWasmError("E_WEIGHTS", `an int8 image of ${image.length} bytes cannot hold ${length} values and their scales`);
  return {
    values: new Int8Array(image.buffer, image.byteOffset, length),
    scales: new Float32Array(image.slice(at).buffer),
  };
}

export type Int8Layout = { blocks: [panels: number, K: number][] } | { rows: number; dim: number };

/**
 * The [panels, K] blocks of a packed recurrent kernel (pack.ts): panels in [tile][gate] order,
 * one block (GRU reset_after=false: the z, r panels, then the h panels).
 */
export function recurrentBlocks(cell: "lstm" | "gru" | "simple_rnn", resetAfter: boolean, u: number): [number, number][] {
  const tiles = padTo8(u) / 8;
  if (cell === "gru" && !resetAfter) return [[tiles * 2, u], [tiles, u]];
  return [[tiles * GATES[cell], u]];
}

/**
 * How each int8-capable weight of a spec is laid out: blocks of [panels, K] (a GRU
 * reset_after=false recurrent kernel has two: z,r then h), or the rows of a table.
 */
export function int8Layouts(spec: ModelSpec): Map<string, Int8Layout> {
  const plan = new Map<string, Int8Layout>();
  for (const op of spec.ops) {
    switch (op.op) {
      case "embedding":
        plan.set(op.weights.table, { rows: op.inputDim, dim: op.outputDim });
        break;
      case "dense":
        plan.set(op.weights.kernel, { blocks: [[padTo8(op.units) / 8, op.inDim]] });
        break;
      case "conv1d":
        plan.set(op.weights.kernel, { blocks: [[padTo8(op.filters) / 8, op.kernelSize * op.inDim]] });
        break;
      case "rnn": {
        const G = GATES[op.cell];
        const tiles = padTo8(op.units) / 8;
        plan.set(op.weights.kernel, { blocks: [[tiles * G, op.inDim]] });
        plan.set(op.weights.recurrentKernel, { blocks: recurrentBlocks(op.cell, op.resetAfter, op.units) });
        break;
      }
    }
  }
  return plan;
}

/** Quantises one weight of the given layout (f32 packed data). */
export function quantizeWeight(v: Float32Array, how: Int8Layout): QuantizedMatrix {
  if ("rows" in how) return quantizeRows(v, how.rows, how.dim);
  const parts: QuantizedMatrix[] = [];
  let off = 0;
  for (const [panels, K] of how.blocks) {
    parts.push(quantizePanels(v.subarray(off, off + panels * K * 8), panels, K));
    off += panels * K * 8;
  }
  if (parts.length === 1) return parts[0];
  const values = new Int8Array(parts.reduce((a, p) => a + p.values.length, 0));
  const scales = new Float32Array(parts.reduce((a, p) => a + p.scales.length, 0));
  let vo = 0;
  let so = 0;
  for (const p of parts) {
    values.set(p.values, vo);
    scales.set(p.scales, so);
    vo += p.values.length;
    so += p.scales.length;
  }
  return { values, scales };
}

/**
 * The packed model with its weight matrices (dense, Conv1D and recurrent kernels, embedding
 * tables) as int8 images; spec lengths follow (K rounded up to even). Matrices whose rows hold
 * a single value (K = 1: an input of one feature, a table of dimension 1) stay f32 — pairing
 * would double them — as do the weights `keep` names. Other weights are kept as they are, f16
 * halves widened to f32; weights already int8 pass through.
 */
export function quantizePacked(packed: PackedModel, keep: (name: string) => boolean = () => false): PackedModel {
  const layouts = int8Layouts(packed.spec);
  const data: PackedModel["data"] = new Map();
  const weights = packed.spec.weights.map((w) => {
    let v = packed.data.get(w.name);
    if (!v) throw new RnnWasmError("E_WEIGHTS", `weight ${w.name} has no data`);
    if (v instanceof Uint16Array) {
      const f = new Float32Array(v.length);
      halvesToFloats(v, f);
      v = f;
    }
    const how = layouts.get(w.name);
    const K = how && ("rows" in how ? how.dim : how.blocks[0][1]);
    if (!how || K! < 2 || keep(w.name) || v instanceof Uint8Array) {
      data.set(w.name, v);
      return w;
    }
    const q = quantizeWeight(v, how);
    data.set(w.name, int8Image(q));
    return { ...w, length: q.values.length };
  });
  return { spec: { ...packed.spec, weights }, data };
}
