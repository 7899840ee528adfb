/**
 * Reads what the commands take: a .rnnb bundle (recognised by its magic, or by the .rnnb
 * extension so a damaged bundle is reported as one), a tfjs model.json with its shards, or a
 * Keras .h5 / .keras file. Non-bundles go through the same importer and packer as export.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { RnnWasmError } from "../../src/errors.js";
import { exportPacked } from "../../src/export.js";
import type { BundleDtype, BundleHeader } from "../../src/format/bundle.js";
import { isBundle, readBundle } from "../../src/format/reader.js";
import { writeBundle } from "../../src/format/writer.js";
import type { PackedModel } from "../../src/model/spec.js";
import { withSource } from "./errors.js";

export type ModelFile =
  | { kind: "bundle"; path: string; bytes: Uint8Array; header: BundleHeader; packed: PackedModel; checksum: number }
  | { kind: "tfjs" | "keras" | "onnx"; path: string; packed: PackedModel };

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new RnnWasmError("E_IO", `${what} ${path} is a directory, expected a file`);
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof RnnWasmError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new RnnWasmError("E_IO", `cannot read ${what} ${path}: ${why}`, { cause: e });
  }
}

export async function readJson(path: string, what: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readBytes(path, what));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RnnWasmError("E_ARGUMENT", `${what} ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

export async function readModelFile(file: string): Promise<ModelFile> {
  const path = resolve(file);
  const bytes = await readBytes(path, "model file");
  try {
    if (isBundle(bytes) || extname(path).toLowerCase() === ".rnnb") {
      const read = readBundle(bytes);
      return { kind: "bundle", path, bytes, header: read.header, packed: read.packed, checksum: read.checksum };
    }
    const ext = extname(path).toLowerCase();
    const kind = ext === ".json" ? "tfjs" : ext === ".onnx" ? "onnx" : "keras";
    return { kind, path, packed: await exportPacked(path) };
  } catch (e) {
    throw withSource(e, file);
  }
}

/** Bundle bytes for any model file (non-bundles are written in memory exactly as export writes them). */
export function bundleBytesOf(m: ModelFile, dtype: BundleDtype = "f32"): Uint8Array {
  return m.kind === "bundle" ? m.bytes : writeBundle(m.packed, { dtype, generator: "rnn-wasm export" });
}
