/**
 * A tfjs model.json on disk with its shards (Node; loaded on demand, like the tfjs importer).
 * Shards are read only from inside the model's folder (by real path too, so a symlink cannot
 * lead out either), each bounded by the bytes its manifest group describes; `trustShardPaths`
 * lifts the folder rule for a model.json the caller wrote.
 */
import { fail, RnnWasmError, type RnnWasmErrorCode } from "../errors.js";
import { checkJsonTree } from "../json.js";
import { pathModule, readFileBounded, realPathOf, type ModelSourceFile } from "./files.js";
import { MAX_JSON_FILE_BYTES, type SourceOptions } from "./limits.js";
import { shardGroups } from "./manifest.js";

/** A JSON document from a file; `code` for text that is not JSON. */
export async function readJsonFile(path: string, what: string, code: RnnWasmErrorCode = "E_ARGUMENT"): Promise<unknown> {
  const text = new TextDecoder().decode(await readFileBounded(path, what, MAX_JSON_FILE_BYTES));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(code, `${what} ${path} is not valid JSON: ${(e as Error).message}`, e);
  }
  checkJsonTree(doc, `${what} ${path}`, code);
  return doc;
}

/** model.json at `path` (absolute) and its shards. */
export async function readModelJson(path: string, options: SourceOptions): Promise<ModelSourceFile> {
  const modelJson = await readJsonFile(path, "model.json", "E_MODEL_JSON");
  if (typeof modelJson !== "object" || modelJson === null || Array.isArray(modelJson)) fail("E_MODEL_JSON", `${path}: expected a JSON object`);
  return { kind: "tfjs", path, modelJson: modelJson as Record<string, unknown>, weights: await readShards(path, modelJson as Record<string, unknown>, options) };
}

/** The shards of model.json at `path`, in manifest order, each inside the model's folder and within its group's bytes. */
async function readShards(path: string, modelJson: Record<string, unknown>, options: SourceOptions): Promise<ArrayBuffer[]> {
  const { dirname, isAbsolute, relative, resolve, sep } = await pathModule();
  const dir = dirname(path);
  const inside = (root: string, p: string) => {
    const r = relative(root, p);
    return r !== "" && r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
  };
  // where a shard may really be: the folder's real path, or the real folder of model.json
  // itself (a symlinked model.json, as in content-addressed caches, has its shards beside its target)
  const roots = options.trustShardPaths ? [] : [await realPathOf(dir), dirname(await realPathOf(path))];
  const out: ArrayBuffer[] = [];
  for (const group of shardGroups(modelJson, path)) {
    let left = group.bytes;
    for (const p of group.paths) {
      const shard = resolve(dir, p);
      if (!options.trustShardPaths) {
        const target = await realPathOf(shard);
        if (!inside(dir, shard) || !roots.some((root) => inside(root, target))) {
          fail("E_MODEL_JSON", `${path}: weight shard ${JSON.stringify(p)} is outside the model's folder ${dir} (pass trustShardPaths: true for a model.json you trust)`);
        }
      }
      const bytes = await readFileBounded(shard, "weight shard", left, "E_WEIGHTS").catch((e: RnnWasmError) => {
        throw new RnnWasmError(e.code, `${e.message} (listed in ${path})`, { cause: e });
      });
      left -= bytes.length;
      out.push(bytes.buffer as ArrayBuffer);
    }
  }
  return out;
}
