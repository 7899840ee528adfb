/**
 * Seeded structural mutation of JSON documents (a bundle header, a model.json, a Keras
 * config): values swapped for the ones that break parsers (sizes at type limits, prototype
 * keys, wrong types, deep nesting), ids swapped for other ids of the same document (so more
 * cases get past the first checks), entries deleted, duplicated and reordered.
 */
import type { Rng } from "../util/prng.ts";

type Json = unknown;
type Slot = { parent: Record<string, Json> | Json[]; key: string | number; depth: number };

/** Values that sit on type and size limits, or name what a lookup table must not find. */
export const HOSTILE_VALUES: readonly Json[] = [
  0, -1, 1, 2, 3, 0.5, 1.5, -0.5, 7, 8, 9, 15, 16, 17, 255, 256, 1023, 2 ** 16, 2 ** 16 + 1, 2 ** 20, 2 ** 24, 2 ** 30, 2 ** 31 - 1, 2 ** 31,
  2 ** 32, 2 ** 32 + 1, 2 ** 53, 1e308, -1e308, 1e-308, -(2 ** 31),
  "", "x", "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "float32", "int32", "f16", "i8", "lstm", "gru",
  null, true, false, [], {}, [null], [0], [-1], [1, 2, 3], [null, null], { name: "x" },
];

function slots(root: Json, limit = 20_000): Slot[] {
  const out: Slot[] = [];
  const stack: [Json, number][] = [[root, 0]];
  while (stack.length && out.length < limit) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const key of keys) {
      out.push({ parent: v as Record<string, Json>, key, depth });
      stack.push([(v as Record<string, Json>)[key as string], depth + 1]);
    }
  }
  return out;
}

function strings(root: Json): string[] {
  const out = new Set<string>();
  for (const s of slots(root)) {
    const v = (s.parent as Record<string, Json>)[s.key as string];
    if (typeof v === "string" && v.length < 200) out.add(v);
    if (typeof s.key === "string") out.add(s.key);
  }
  return [...out];
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(0, xs.length)];

/** Nests `v` in `depth` arrays. */
export const nested = (v: Json, depth: number): Json => {
  let out = v;
  for (let i = 0; i < depth; i++) out = [out];
  return out;
};

/** A format-aware mutation (rewire a reference, drop a table entry...): what it did, or null when it found nothing to do. */
export type Operator = (rng: Rng, root: Json) => string | null;

/** Marks a value too deep to serialise with JSON.stringify; `deepText` puts the real text in. */
const DEEP = "\u0000deep:";
export const deepMarker = (depth: number) => `${DEEP}${depth}`;
/** Replaces the markers of `deepMarker` in serialised JSON by arrays nested that deep. */
export const deepText = (text: string) => text.replace(/"\\u0000deep:(\d+)"/g, (_, d: string) => `${"[".repeat(Number(d))}1${"]".repeat(Number(d))}`);

/**
 * Applies `count` mutations to `root` in place: half the time one of the format's own
 * `operators` (when given), else a generic one, aimed half the time at `preferKeys`. Returns
 * what each did, for the report. Values nested beyond what JSON.stringify can write are
 * markers: serialise with `deepText(JSON.stringify(root))`.
 */
export function mutateJson(rng: Rng, root: Json, count: number, options: { preferKeys?: readonly string[]; operators?: readonly Operator[] } = {}): string[] {
  const done: string[] = [];
  const pool = strings(root);
  for (let m = 0; m < count; m++) {
    if (options.operators?.length && rng.next() < 0.5) {
      const did = pick(rng, options.operators)(rng, root);
      if (did) {
        done.push(did);
        continue;
      }
    }
    let all = slots(root);
    if (!all.length) break;
    // half the time, aim at the fields a format's checks are about
    if (options.preferKeys && rng.next() < 0.5) {
      const aimed = all.filter((s) => typeof s.key === "string" && options.preferKeys!.includes(s.key));
      if (aimed.length) all = aimed;
    }
    const s = pick(rng, all);
    const parent = s.parent as Record<string, Json>;
    const key = s.key as string;
    const old = parent[key];
    const path = `${s.depth}:${String(s.key)}`;
    const op = rng.int(0, 10);
    if (op <= 2) {
      parent[key] = structuredClone(pick(rng, HOSTILE_VALUES));
      done.push(`${path} = ${JSON.stringify(parent[key])}`);
    } else if (op === 3 && typeof old === "number") {
      parent[key] = pick(rng, [old + 1, old - 1, old * 2, -old, old / 2, old + 0.5, 0, old * 65536]);
      done.push(`${path}: ${old} -> ${parent[key]}`);
    } else if (op === 4 && pool.length) {
      parent[key] = pick(rng, pool);
      done.push(`${path} = id ${JSON.stringify(parent[key])}`);
    } else if (op === 5) {
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete parent[key];
      done.push(`${path} deleted`);
    } else if (op === 6 && Array.isArray(s.parent)) {
      s.parent.splice(s.key as number, 0, structuredClone(old));
      done.push(`${path} duplicated`);
    } else if (op === 7 && Array.isArray(s.parent) && s.parent.length > 1) {
      const j = rng.int(0, s.parent.length);
      [s.parent[s.key as number], s.parent[j]] = [s.parent[j], s.parent[s.key as number]];
      done.push(`${path} swapped with ${j}`);
    } else if (op === 8) {
      const depth = pick(rng, [40, 300, 3000, 10_000, 50_000]);
      parent[key] = depth > 3000 ? deepMarker(depth) : nested(typeof old === "object" ? 1 : old, depth);
      done.push(`${path} nested ${depth} deep`);
    } else if (op === 9 && typeof old === "string") {
      parent[key] = pick(rng, ["__proto__", "constructor", old + old, old.slice(1), `${old}/mask`]);
      done.push(`${path}: ${JSON.stringify(old)} -> ${JSON.stringify(parent[key])}`);
    } else {
      parent[key] = pick(rng, [[], {}, null, String(old), Array.isArray(old) ? old.length : [old]]);
      done.push(`${path} retyped`);
    }
  }
  return done;
}
