/**
 * What the commands take: a .rnnb bundle (recognised by its magic, or by the .rnnb extension
 * so a damaged bundle is reported as one), a tfjs model.json with its shards, a Keras .h5 /
 * .keras file or an ONNX model, read by the library's one reader of model files (src/sources/files.ts: bounded
 * sizes, shards from the model's folder only). Non-bundles go through the same importer and
 * packer as export.
 */
import { stat } from "node:fs/promises";
import { artifactsOfFile, exportPacked } from "../../src/export.js";
import type { BundleDtype, BundleHeader } from "../../src/format/bundle.js";
import { readBundle } from "../../src/format/reader.js";
import { writeBundle } from "../../src/format/writer.js";
import { buildModel } from "../../src/import/keras/build.js";
import type { PackedModel } from "../../src/model/spec.js";
import { readFileBounded, readModelSource } from "../../src/sources/files.js";
import { readJsonFile } from "../../src/sources/model-json.js";
import { MAX_MODEL_FILE_BYTES } from "../../src/sources/limits.js";
import { shardGroups } from "../../src/sources/manifest.js";
import { withSource } from "./errors.js";

export type ModelFile =
  | { kind: "bundle"; path: string; bytes: Uint8Array; header: BundleHeader; packed: PackedModel; checksum: number }
  | { kind: "tfjs" | "keras" | "onnx"; path: string; packed: PackedModel };

/** A file's bytes (a regular file, at most 2 GiB), E_IO naming `what` otherwise. */
export const readBytes = (path: string, what: string): Promise<Uint8Array> => readFileBounded(path, what, MAX_MODEL_FILE_BYTES);

/** A JSON document given on the command line (tokenizer, statistics, metadata, input). */
export const readJson = (path: string, what: string): Promise<unknown> => readJsonFile(path, what);

export async function readModelFile(file: string): Promise<ModelFile> {
  try {
    const read = await readModelSource(file);
    if (read.kind === "bundle") {
      const b = readBundle(read.bytes);
      return { kind: "bundle", path: read.path, bytes: read.bytes, header: b.header, packed: b.packed, checksum: b.checksum };
    }
    // ONNX: bound and translated by the same importer as export (no --input/--const/--state here)
    if (read.kind === "other" && /\.onnx$/i.test(read.path)) return { kind: "onnx", path: read.path, packed: await exportPacked(read.bytes) };
    return { kind: read.kind === "tfjs" ? "tfjs" : "keras", path: read.path, packed: buildModel(await artifactsOfFile(read)) };
  } catch (e) {
    throw withSource(e, file);
  }
}

/** Bytes of weight data a source holds (what its manifest declares, or the file's size), to decide on a progress bar. */
export async function sourceWeightBytes(path: string): Promise<number> {
  try {
    if (/\.json$/i.test(path)) return shardGroups((await readJsonFile(path, "model.json")) as Record<string, unknown>, path).reduce((n, g) => n + g.bytes, 0);
    return (await stat(path)).size;
  } catch {
    return 0; // the export itself reports what is wrong with the file
  }
}

/** Bundle bytes for any model file (non-bundles are written in memory exactly as export writes them). */
export function bundleBytesOf(m: ModelFile, dtype: BundleDtype = "f32"): Uint8Array {
  return m.kind === "bundle" ? m.bytes : writeBundle(m.packed, { dtype, generator: "rnn-wasm export" });
}
