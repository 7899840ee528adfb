/**
 * What `rnn-wasm inspect model.onnx` shows before (or instead of) an export: the graph's
 * declared inputs and outputs, its nodes by type, the bindings it looks like it needs (an input
 * an If decides on: --const; an input with an output of its name and rank: --state), and the
 * export with the bindings given, or why it failed.
 */
import { RnnWasmError } from "../../errors.js";
import type { PackedModel } from "../../model/spec.js";
import { importOnnx, type OnnxImportOptions, type OnnxImportReport } from "./build.js";
import { OTHER_TYPES, readOnnx, type DeclaredDim, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxValueInfo } from "./proto.js";

export interface DeclaredValue {
  name: string;
  /** Element type as declared ("undeclared" when the graph gives none). */
  dtype: string;
  dims: DeclaredDim[] | null;
}

export interface ConstantHint {
  input: string;
  /** The If nodes whose condition is computed from this input's value. */
  decides: string[];
  /** Values it is compared with (Equal against a constant) on the way, when there are any. */
  comparedWith: number[];
}

export interface StateHint {
  input: string;
  output: string;
}

export interface OnnxDescription {
  irVersion: number;
  opset: number;
  producer: string;
  graphName: string;
  inputs: (DeclaredValue & { binding: "input" | "constant" | "state" })[];
  outputs: DeclaredValue[];
  /** Nodes of the main graph and every branch, by op type. */
  nodes: Record<string, number>;
  /** Bindings the graph looks like it needs and the caller has not given. */
  hints: { constants: ConstantHint[]; state: StateHint[] };
  /** The export with the caller's bindings, or its error. */
  exported: { packed: PackedModel; report: OnnxImportReport } | { error: RnnWasmError };
}

const typeName = (v: OnnxValueInfo) => v.dtype ?? (v.elemType === 0 ? "undeclared" : OTHER_TYPES[v.elemType] ?? `type ${v.elemType}`);
const declared = (v: OnnxValueInfo): DeclaredValue => ({ name: v.name, dtype: typeName(v), dims: v.dims });

function countNodes(g: OnnxGraph, into: Record<string, number> = {}): Record<string, number> {
  for (const n of g.nodes) {
    into[n.opType] = (into[n.opType] ?? 0) + 1;
    for (const a of n.attrs.values()) if (a.g) countNodes(a.g, into);
  }
  return into;
}

/**
 * Graph inputs an If's condition reads by value (through any node but Shape and Size, which
 * read only a shape), with the constants an Equal compares them with on the way.
 */
function constantHints(model: OnnxModel, bound: Set<string>): ConstantHint[] {
  const g = model.graph;
  const producer = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const inputs = new Set(g.inputs.filter((i) => !g.initializers.has(i.name)).map((i) => i.name));
  const hints = new Map<string, ConstantHint>();
  for (const ifNode of g.nodes) {
    if (ifNode.opType !== "If" || !ifNode.inputs[0]) continue;
    const seen = new Set<string>();
    const compared: number[] = [];
    const reached: string[] = [];
    const visit = (name: string): void => {
      if (!name || seen.has(name)) return;
      seen.add(name);
      if (inputs.has(name)) {
        reached.push(name);
        return;
      }
      const n = producer.get(name);
      if (!n || n.opType === "Shape" || n.opType === "Size") return;
      if (n.opType === "Equal") {
        for (const i of n.inputs) {
          const c = producer.get(i);
          const t = c?.opType === "Constant" ? c.attrs.get("value")?.t : g.initializers.get(i);
          if (t && t.data.length === 1) compared.push(Number(t.data[0]));
        }
      }
      n.inputs.forEach(visit);
    };
    visit(ifNode.inputs[0]);
    for (const name of reached) {
      if (bound.has(name)) continue;
      const h = hints.get(name) ?? { input: name, decides: [], comparedWith: [] };
      h.decides.push(ifNode.name || "If");
      for (const c of compared) if (!h.comparedWith.includes(c)) h.comparedWith.push(c);
      hints.set(name, h);
    }
  }
  return [...hints.values()];
}

/**
 * Runtime inputs with an output that looks like their next value: the output's name starts
 * with the input's (state -> stateN, h -> hn), same element type and rank, and no declared size
 * that differs. The first input is the data, never a state.
 */
function stateHints(model: OnnxModel, opts: OnnxImportOptions, bound: Set<string>): StateHint[] {
  const g = model.graph;
  const runtime = g.inputs.filter((i) => !g.initializers.has(i.name));
  const taken = new Set(Object.values(opts.state ?? {}));
  const hints: StateHint[] = [];
  for (const inp of runtime.slice(1)) {
    if (bound.has(inp.name) || !inp.dims) continue;
    const fits = g.outputs.filter((o) => !taken.has(o.name) && o.name.length > inp.name.length && o.name.startsWith(inp.name) &&
      o.elemType === inp.elemType && o.dims?.length === inp.dims!.length &&
      o.dims.every((d, k) => typeof d !== "number" || typeof inp.dims![k] !== "number" || d === inp.dims![k]));
    if (fits.length === 1) hints.push({ input: inp.name, output: fits[0].name });
  }
  return hints;
}

export function describeOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): OnnxDescription {
  const model = readOnnx(bytes, opts.sourceName ?? "model.onnx");
  const g = model.graph;
  const constants = new Set(Object.keys(opts.constants ?? {}));
  const states = new Set(Object.keys(opts.state ?? {}));
  const bound = new Set([...constants, ...states]);
  let exported: OnnxDescription["exported"];
  try {
    exported = importOnnx(bytes, opts);
  } catch (e) {
    if (!(e instanceof RnnWasmError)) throw e;
    exported = { error: e };
  }
  return {
    irVersion: model.irVersion,
    opset: model.opset,
    producer: model.producer,
    graphName: g.name,
    inputs: g.inputs.filter((i) => !g.initializers.has(i.name))
      .map((i) => ({ ...declared(i), binding: constants.has(i.name) ? "constant" : states.has(i.name) ? "state" : "input" })),
    outputs: g.outputs.map(declared),
    nodes: countNodes(g),
    hints: { constants: constantHints(model, bound), state: stateHints(model, opts, bound) },
    exported,
  };
}
