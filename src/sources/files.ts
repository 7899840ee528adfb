/**
 * Model files on disk (Node): the one reader behind loadModel(path), exportBundle(path) and
 * the CLI (and of the kernel builds). A file is read only when it is a regular file within its
 * size bound (no device, pipe or directory: `/dev/zero` is refused before a byte is read). A
 * model.json and its shards are read by model-json.ts.
 */
import { open, realpath } from "node:fs/promises";
import { fail, RnnWasmError, type RnnWasmErrorCode } from "../errors.js";
import { isBundle } from "../format/reader.js";
import { MAX_MODEL_FILE_BYTES, type SourceOptions } from "./limits.js";

export type ModelSourceFile =
  | { kind: "tfjs"; path: string; modelJson: Record<string, unknown>; weights: ArrayBuffer[] }
  | { kind: "bundle" | "other"; path: string; bytes: Uint8Array };

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
}

/**
 * The bytes of a regular file of at most `maxBytes` (`tooLarge` is the code when it is
 * larger). Reads what its size said when opened, so a file growing meanwhile is not followed.
 */
export async function readFileBounded(path: string | URL, what: string, maxBytes: number, tooLarge: RnnWasmErrorCode = "E_IO"): Promise<Uint8Array> {
  let file;
  try {
    file = await open(path, "r");
  } catch (e) {
    fail("E_IO", `cannot read ${what} ${path}: ${why(e)}`, e);
  }
  try {
    const s = await file.stat();
    if (s.isDirectory()) fail("E_IO", `cannot read ${what} ${path}: it is a directory`);
    if (!s.isFile()) fail("E_IO", `cannot read ${what} ${path}: not a regular file (a device, pipe or socket)`);
    if (s.size > maxBytes) fail(tooLarge, `${what} ${path} is ${s.size} bytes, more than the ${maxBytes} it may hold`);
    const out = new Uint8Array(s.size);
    for (let at = 0; at < out.length; ) {
      const { bytesRead } = await file.read(out, at, out.length - at, at);
      if (bytesRead === 0) return out.slice(0, at); // it shrank meanwhile
      at += bytesRead;
    }
    return out;
  } catch (e) {
    if (e instanceof RnnWasmError) throw e;
    fail("E_IO", `cannot read ${what} ${path}: ${why(e)}`, e);
  } finally {
    await file.close();
  }
}

/** node:path, loaded when a model is first named by path (its ESM facade is a cold-start cost). */
export const pathModule = () => import("node:path");

/** The real path of `path` (symlinks resolved), or `path` itself when it does not exist. */
export const realPathOf = (path: string): Promise<string> => realpath(path).catch(() => path);

/**
 * Reads a model file: model.json (by its extension) with its shards, or the bytes of a
 * bundle or of any other file (a Keras .h5 or .keras, for the exporter).
 */
export async function readModelSource(file: string, options: SourceOptions = {}): Promise<ModelSourceFile> {
  const { resolve } = await pathModule();
  const path = resolve(file);
  // (the model.json reader, with the tfjs importer, is loaded only when one is named)
  if (/\.json$/i.test(path)) return (await import("./model-json.js")).readModelJson(path, options);
  const bytes = await readFileBounded(path, "model file", MAX_MODEL_FILE_BYTES);
  // by signature, or by extension so that a damaged bundle is reported as one (Keras files
  // are told apart by their reader, which knows their signatures)
  const kind = isBundle(bytes) || /\.rnnb$/i.test(path) ? "bundle" : "other";
  return { kind, path, bytes };
}

