/**
 * What a tfjs model.json says about its weight shards: each group's shard paths, in manifest
 * order, and the bytes the group must hold (its weight entries' shapes times their stored
 * dtype sizes). The readers (files.ts, fetch.ts) bound every shard read by these sizes and
 * the importer (src/import/tfjs.ts) decodes the entries, so both read one validation.
 */
import { fail } from "../errors.js";
import { MAX_WEIGHT_BYTES } from "./limits.js";

export interface WeightEntrySpec {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

/** Bytes per stored value of each dtype a shard can hold (a quantised weight: its stored dtype). */
export const SHARD_DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

export interface ShardGroup {
  /** Shard paths (relative to model.json, as written), in the order their bytes concatenate. */
  paths: string[];
  /** Bytes the group's shards hold together. */
  bytes: number;
  entries: WeightEntrySpec[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The stored dtype of an entry (quantised weights store their quantisation dtype). */
export const storedDtype = (e: WeightEntrySpec): string => (e.quantization ? e.quantization.dtype : e.dtype ?? "float32");

/**
 * The manifest's groups, every entry and path checked: shapes of non-negative integers, known
 * dtypes, paths non-empty strings, and at most MAX_WEIGHT_BYTES in all.
 */
export function shardGroups(modelJson: Record<string, unknown>, source: string): ShardGroup[] {
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest)) fail("E_MODEL_JSON", `${source}: weightsManifest is missing (expected a list of {paths, weights} groups)`);
  let total = 0;
  return manifest.map((group: unknown, gi) => {
    if (!isObj(group) || !Array.isArray(group.weights)) fail("E_MODEL_JSON", `${source}: weightsManifest[${gi}] has no weights list`);
    const paths = Array.isArray(group.paths) ? (group.paths as unknown[]) : [];
    paths.forEach((p, pi) => {
      if (typeof p !== "string" || p === "" || p.includes("\0")) fail("E_MODEL_JSON", `${source}: weightsManifest[${gi}].paths[${pi}] is not a file name`);
    });
    let bytes = 0;
    const entries = (group.weights as unknown[]).map((w, wi) => {
      if (!isObj(w) || typeof w.name !== "string" || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        fail("E_MODEL_JSON", `${source}: weightsManifest[${gi}].weights[${wi}] is malformed (needs name, shape)`);
      }
      const e = w as unknown as WeightEntrySpec;
      const dtype = storedDtype(e);
      if (!Object.hasOwn(SHARD_DTYPE_BYTES, dtype)) fail("E_WEIGHTS", `${source}: weight ${e.name} has unsupported dtype ${dtype}`);
      bytes += e.shape.reduce((a, b) => a * b, 1) * SHARD_DTYPE_BYTES[dtype];
      return e;
    });
    total += bytes;
    if (!(total <= MAX_WEIGHT_BYTES)) fail("E_WEIGHTS", `${source}: the manifest describes more than ${MAX_WEIGHT_BYTES} bytes of weights (the limit of kernel memory)`);
    return { paths: paths as string[], bytes, entries };
  });
}
