/**
 * The .rnnb header fuzzer: real bundles (every op kind, f32, f16 and int8, with a tokenizer)
 * with 1-3 structural mutations of their JSON header, laid out again and given a valid CRC,
 * so every case reaches the validation behind the checksum. A bundle is untrusted whatever its
 * checksum: each case is refused with E_BUNDLE_CORRUPT / E_BUNDLE_VERSION, or loads and works
 * (probe.ts).
 */
import { readFileSync } from "node:fs";
import { exportBundle } from "../../../src/export.ts";
import { loadModel } from "../../../src/index.ts";
import { headerOf, withNewHeader } from "../../format/craft.ts";
import type { FuzzTarget } from "../harness.ts";
import { fuzzArtifacts } from "../models.ts";
import { deepText, mutateJson, type Operator } from "../mutate.ts";
import { probeModel } from "../probe.ts";

const SPEC_KEYS = ["shape", "inputs", "outputs", "tensor", "tensors", "op", "units", "inDim", "inputDim", "outputDim", "cell", "n", "target", "mode", "padding", "kernelSize", "strides", "dilation", "poolSize", "filters", "offset", "bytes", "length", "dtype", "scales", "mask", "maxLen", "replacements", "activation", "batch"];

type Header = { model: { inputs: Json[]; outputs: Json[]; ops: Json[]; tensors: Record<string, Json> }; sections: Json[]; tokenizer?: Json };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const pick = <T>(rng: { int(a: number, b: number): number }, xs: readonly T[]): T => xs[rng.int(0, xs.length)];
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => typeof x === "object" && x !== null) : []);
const table = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const tensorIds = (h: Header) => [...Object.keys(table(h.model?.tensors)), ...list(h.model?.inputs).map((i) => i.tensor)].filter((t) => typeof t === "string");
const DIMS = [0, null, -1, 1, 2, 3, 2 ** 16, 2 ** 31, 0.5];

/** Mutations that keep the header well-formed enough to reach the spec's checks and the runtime. */
const OPERATORS: Operator[] = [
  // a tensor reference pointed at another tensor (an output naming the input, an op reading its own output...)
  (rng, root) => {
    const h = root as Header;
    const refs: [Json, string | number][] = [];
    const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => typeof x === "object" && x !== null) : []);
    for (const i of objects(h.model?.inputs)) refs.push([i, "tensor"]);
    for (const o of objects(h.model?.outputs)) refs.push([o, "tensor"]);
    for (const op of objects(h.model?.ops)) for (const list of [op.inputs, op.outputs]) if (Array.isArray(list)) list.forEach((_, j) => refs.push([list, j]));
    const ids = tensorIds(h);
    if (!refs.length || !ids.length) return null;
    const [holder, key] = pick(rng, refs);
    const to = pick(rng, ids);
    holder[key as string] = to;
    return `reference ${String(key)} -> ${to}`;
  },
  // a tensor table entry dropped, or its shape changed
  (rng, root) => {
    const h = root as Header;
    const tensors = table(h.model?.tensors);
    const ids = Object.keys(tensors);
    if (!ids.length) return null;
    const id = pick(rng, ids);
    if (rng.next() < 0.3) {
      delete tensors[id];
      return `tensors[${id}] deleted`;
    }
    const shape = table(tensors[id]).shape;
    if (!Array.isArray(shape) || !shape.length) return null;
    const k = rng.int(0, shape.length);
    shape[k] = pick(rng, DIMS);
    return `tensors[${id}].shape[${k}] = ${shape[k]}`;
  },
  // an input's declared shape or dtype
  (rng, root) => {
    const inputs = list((root as Header).model?.inputs);
    if (!inputs.length) return null;
    const inp = pick(rng, inputs);
    if (!Array.isArray(inp.shape) || !inp.shape.length) return null;
    if (rng.next() < 0.3) {
      inp.dtype = inp.dtype === "int32" ? "float32" : "int32";
      return `input dtype -> ${inp.dtype}`;
    }
    const k = rng.int(0, inp.shape.length);
    inp.shape[k] = pick(rng, DIMS);
    return `input shape[${k}] = ${inp.shape[k]}`;
  },
  // a weight reference swapped for another weight
  (rng, root) => {
    const h = root as Header;
    const names = list(h.sections).map((s) => s.name).filter((n) => typeof n === "string");
    const ops = list(h.model?.ops).filter((op) => Object.keys(table(op.weights)).length);
    if (!names.length || !ops.length) return null;
    const op = pick(rng, ops);
    const role = pick(rng, Object.keys(op.weights));
    op.weights[role] = pick(rng, names);
    return `${op.layer}.weights.${role} -> ${op.weights[role]}`;
  },
  // the tokenizer's patterns and sizes
  (rng, root) => {
    const tok = (root as Header).tokenizer;
    if (typeof tok !== "object" || tok === null || Array.isArray(tok)) return null;
    const v = pick(rng, [
      ["replacements", [{ pattern: "(a+)+$", flags: "g", replacement: "x" }]],
      ["replacements", [{ pattern: "(?!\\d*k)\\d", flags: "g", replacement: "x" }]],
      ["replacements", [{ pattern: "(a|a)*b", flags: "gi", replacement: "$&" }]],
      ["maxLen", pick(rng, [2 ** 31 - 1, 2 ** 16, 2 ** 16 + 1, 0, 1])],
      ["numWords", pick(rng, [0, 1, 2 ** 31])],
      ["split", pick(rng, ["", "a", "  "])],
      ["oovToken", pick(rng, ["__proto__", "", "w1"])],
    ] as [string, unknown][]);
    tok[v[0]] = v[1];
    return `tokenizer.${v[0]} = ${JSON.stringify(v[1])}`;
  },
];

export const target: FuzzTarget<{ bytes: Uint8Array; what: string[] }, Uint8Array[]> = {
  name: "rnnb-header",
  codes: ["E_BUNDLE_CORRUPT", "E_BUNDLE_VERSION"],
  async setup() {
    const shipped = ["uci-sentiment.rnnb", "sine.rnnb"].map((f) => new Uint8Array(readFileSync(new URL(`../../../models/${f}`, import.meta.url))));
    const made = await fuzzArtifacts();
    const bundles: Uint8Array[] = [...shipped];
    for (const [name, art] of Object.entries(made)) {
      bundles.push(await exportBundle(art, name === "text" ? { tokenizer: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`w${i + 1}`, i + 1])) } : {}));
    }
    bundles.push(await exportBundle(made.text, { dtype: "int8" }), await exportBundle(made.conv, { dtype: "f16" }));
    return bundles;
  },
  make(rng, _i, bundles) {
    const base = bundles[rng.int(0, bundles.length)];
    const header = headerOf(base).header;
    let what: string[] = [];
    const bytes = withNewHeader(base, (h) => {
      Object.assign(h, header);
      what = mutateJson(rng, h, rng.int(1, 4), { preferKeys: SPEC_KEYS, operators: OPERATORS });
    }, deepText);
    return { bytes, what };
  },
  async run({ bytes }) {
    const model = await loadModel(bytes);
    try {
      return probeModel(model);
    } finally {
      model.dispose();
    }
  },
};
