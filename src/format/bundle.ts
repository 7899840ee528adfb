/**
 * The .rnnb bundle (docs/bundle-format.md), shared by writer and reader:
 *
 *   0   "RNNB"                 magic
 *   4   u32 version            OLDEST_FORMAT .. FORMAT_VERSION (writer.ts: formatOf)
 *   8   u32 headerBytes        length of the UTF-8 JSON header
 *   12  header JSON            BundleHeader
 *   ..  zero padding to 16
 *   ..  sections               each 16-byte aligned, zero padding between
 *   n-4 u32 CRC-32             of bytes [0, n-4)
 *
 * All integers little-endian. Sections hold weights already packed in the kernels' layouts.
 */
import type { ModelSpec } from "../model/spec.js";

export const MAGIC = [0x52, 0x4e, 0x4e, 0x42]; // "RNNB"
/**
 * 2: LSTM and GRU recurrent kernels are panels in [tile][gate] order (format 1: [tile][k][gate][8];
 * `rnn-wasm upgrade` converts, src/format/upgrade.ts). 3: format 2's layout and everything it
 * could describe, plus what rnn-wasm 0.3 runs (general tensor ops, attention, state pairs, the
 * rnn op's ONNX options): a writer marks a bundle 3 only when it uses one of those, so that a
 * format-2 reader refuses it by version instead of ignoring what it cannot run.
 */
export const FORMAT_VERSION = 3;
/** The oldest format this runtime reads as it is (older ones: `rnn-wasm upgrade`). */
export const OLDEST_FORMAT = 2;
export const PREAMBLE_BYTES = 12;
export const TRAILER_BYTES = 4;
export const SECTION_ALIGN = 16;

/**
 * Storage types of sections. f32 is copied as is; f16 is widened to f32 on load; i8 (weight
 * matrices of an int8 bundle) stays int8 in kernel memory, with its f32 scales in the section
 * its `scales` field names.
 */
export type SectionDtype = "f32" | "f16" | "i8";
export const DTYPE_BYTES: Record<SectionDtype, number> = { f32: 4, f16: 2, i8: 1 };

/** What export writes: every section f32, every section f16, or int8 matrices (rest f32). */
export type BundleDtype = "f32" | "f16" | "int8";

export interface SectionEntry {
  /** Weight name in spec.weights. */
  name: string;
  dtype: SectionDtype;
  /** Absolute byte offset (multiple of 16) and length. */
  offset: number;
  bytes: number;
  /** Number of stored values (bytes / dtype size). */
  length: number;
  /**
   * i8 sections only: name of the f32 section holding one scale per output column (per row of
   * an embedding table). Readers older than int8 refuse the i8 dtype (E_BUNDLE_VERSION).
   */
  scales?: string;
}

export interface BundleHeader {
  format: "rnnb";
  version: number;
  generator: string;
  /** Weight storage chosen at export (informational; each section states its own dtype). */
  dtype: BundleDtype;
  model: ModelSpec;
  sections: SectionEntry[];
  /** Free-form user metadata: labels, normalisation statistics, training figures. */
  metadata: Record<string, unknown>;
  /** Tokenizer config (src/text), when the model takes text. */
  tokenizer?: unknown;
}

export function align16(n: number): number {
  return Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;
}
