/**
 * An ONNX model -> PackedModel. The graph is walked once in order: inputs bound by the caller
 * (--input shapes, --const values) and every value computed from constants fold in JavaScript,
 * an If whose condition folds is replaced by its branch, and what is left runs at run time as
 * spec ops (ops/, one file per family, registered in ops/index.ts). The batch stays symbolic so
 * that one export serves every batch size. State pairs (--state IN=OUT) make a graph's
 * recurrent state the sessions' state.
 */
import { RnnWasmError } from "../../errors.js";
import type { ModelSpec, PackedModel } from "../../model/spec.js";
import { installTensorOps } from "../../model/tensor-ops.js";
import { validateSpec } from "../../model/validate.js";
import { B1, BatchDependent, type Dim } from "./dims.js";
import { BatchLayout, NodeContext, OnnxBuilder } from "./context.js";
import { OPS } from "./ops/index.js";
import { OTHER_TYPES, readOnnx, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxValueInfo } from "./proto.js";
import { fromTensor, intConst, isConst, type ConstValue, type RtValue, type Value } from "./values.js";

export interface OnnxImportOptions {
  /** Shapes of graph inputs; "?" keeps a dimension as the graph declares it (the batch: any size). */
  inputs?: Record<string, (number | "?")[]>;
  /** Graph inputs folded to constants (Silero: { sr: 16000 }). */
  constants?: Record<string, number | number[]>;
  /** State pairs IN -> OUT: the graph reads IN and writes its next value to OUT. */
  state?: Record<string, string>;
  /** Name for messages. */
  sourceName?: string;
}

/** What the export folded and needs, for inspect. */
export interface OnnxImportReport {
  opset: number;
  producer: string;
  /** Graph inputs with their declared shapes, and whether they were bound, folded or are state. */
  inputs: { name: string; dims: (number | string | null)[] | null; role: "input" | "constant" | "state" | "initializer" }[];
  /** Nodes folded into constants or replaced by a branch, by op type. */
  folded: Record<string, number>;
  /** Nodes that became runtime ops, by op type. */
  translated: Record<string, number>;
  /** Whether one export serves every batch size, or the size it was exported for. */
  batch: "any" | number;
  /** Why the batch size is fixed (what in the graph depends on it). */
  fixedBecause?: string;
}

const BATCH_NAME = /batch|^[nb]$/i;

class Scope {
  private values = new Map<string, Value>();
  constructor(private parent?: Scope) {}
  get(name: string): Value | undefined {
    return this.values.get(name) ?? this.parent?.get(name);
  }
  set(name: string, v: Value): void {
    this.values.set(name, v);
  }
  /** Whether this scope itself (not a parent) holds `name`: graph inputs bound by the caller win over initializers. */
  has(name: string): boolean {
    return this.values.has(name);
  }
}

function onnxError(msg: string): never {
  throw new RnnWasmError("E_ONNX", msg);
}

function usage(msg: string): never {
  throw new RnnWasmError("E_ARGUMENT", msg);
}

/** How often each value name is read by some node (in any branch) or a graph output. */
function useCounts(graph: OnnxGraph, into = new Map<string, number>()): Map<string, number> {
  const use = (name: string) => into.set(name, (into.get(name) ?? 0) + 1);
  for (const n of graph.nodes) {
    for (const i of n.inputs) if (i) use(i);
    for (const a of n.attrs.values()) if (a.g) useCounts(a.g, into);
  }
  for (const o of graph.outputs) use(o.name);
  return into;
}

export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): { packed: PackedModel; report: OnnxImportReport } {
  installTensorOps(); // the shapes of the ops this importer emits
  const model = readOnnx(bytes, options.sourceName ?? "model.onnx");
  checkBindings(model, options);
  let result: { packed: PackedModel; report: OnnxImportReport };
  try {
    result = translateModel(model, options, undefined);
  } catch (e) {
    if (!(e instanceof BatchDependent)) throw e;
    // the graph decides on the batch size, or mixes it with other axes: export it for the
    // batch size its inputs are bound to (1 when unbound), the batch then an axis like others
    result = translateModel(model, options, exampleBatch(model, options));
    result.report.fixedBecause = e.message;
  }
  checkWritten(result.packed, options.sourceName ?? "model.onnx");
  return result;
}

/**
 * The bundle validator's bounds hold for what the translators wrote (a Pad of 2^21 is inside
 * the runtime's tensor bound but over the spec's window bound): refused here, at export, not
 * by loadModel later as a corrupt bundle.
 */
function checkWritten(packed: PackedModel, source: string): void {
  const lengths = new Map([...packed.data].map(([k, v]) => [k, v.length]));
  try {
    validateSpec(packed.spec, lengths);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^bundle is corrupt: (model spec is malformed )?/, "") : String(e);
    throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${source}: the translated graph is over a bound of the bundle format: ${why}`, { cause: e });
  }
}

/** Flags that contradict one another or the graph, before any of it is walked. */
function checkBindings(model: OnnxModel, opts: OnnxImportOptions): void {
  const g = model.graph;
  for (const name of Object.keys(opts.inputs ?? {})) if (!g.inputs.some((i) => i.name === name)) usage(`--input ${name}: the graph has no input ${name}`);
  for (const [inName, outName] of Object.entries(opts.state ?? {})) {
    if (!g.inputs.some((i) => i.name === inName)) usage(`--state ${inName}=${outName}: the graph has no input ${inName}`);
    if (!g.outputs.some((o) => o.name === outName)) usage(`--state ${inName}=${outName}: the graph has no output ${outName}`);
    if (opts.constants && Object.hasOwn(opts.constants, inName)) usage(`--state ${inName}=${outName}: ${inName} is also bound with --const (a state is read and written at run time)`);
    if (g.initializers.has(inName)) usage(`--state ${inName}=${outName}: ${inName} is an initializer of the graph (a constant), not a runtime input`);
  }
}

/** The runtime graph inputs: neither initializers nor bound with --const. */
function runtimeInputs(model: OnnxModel, opts: OnnxImportOptions): OnnxValueInfo[] {
  const g = model.graph;
  return g.inputs.filter((i) => !g.initializers.has(i.name) && !(opts.constants && Object.hasOwn(opts.constants, i.name)));
}

/**
 * The batch axis of a graph's first data input, where no dim is named like a batch: an input
 * read by an LSTM / GRU / RNN as its X carries the batch where the op's layout says (axis 1 for
 * the default [T, B, K]), any other its first axis.
 */
function leadingBatchAxis(model: OnnxModel, name: string): number {
  for (const n of model.graph.nodes) {
    if ((n.opType === "LSTM" || n.opType === "GRU" || n.opType === "RNN") && n.inputs[0] === name) return n.attrs.get("layout")?.i === 1 ? 0 : 1;
  }
  return 0;
}

/** The graph's first runtime input that is not a state: its batch axis decides the others'. */
function firstData(model: OnnxModel, opts: OnnxImportOptions): OnnxValueInfo | undefined {
  const runtime = runtimeInputs(model, opts);
  return runtime.find((i) => !(opts.state && Object.hasOwn(opts.state, i.name))) ?? runtime[0];
}

/** The batch size the caller bound (on the first data input's batch axis), else 1. */
function exampleBatch(model: OnnxModel, opts: OnnxImportOptions): number {
  const first = firstData(model, opts);
  if (!first) return 1;
  const axis = leadingBatchAxis(model, first.name);
  const bound = opts.inputs && Object.hasOwn(opts.inputs, first.name) ? opts.inputs[first.name][axis] : undefined;
  const declared = first.dims?.[axis];
  return typeof bound === "number" ? bound : typeof declared === "number" ? declared : 1;
}

interface InputPlan {
  name: string;
  dims: Dim[];
  batchAxis: number | null;
  dtype: "float32" | "int32";
}

/** Shapes of the runtime graph inputs, the batch symbolic. */
function planInputs(model: OnnxModel, opts: OnnxImportOptions, fixedBatch: number | undefined): InputPlan[] {
  const runtime = runtimeInputs(model, opts);
  const declaredParams = runtime.flatMap((i) => (i.dims ?? []).filter((d): d is string => typeof d === "string"));
  const batchParam = declaredParams.find((p) => BATCH_NAME.test(p));
  const first = firstData(model, opts);
  return runtime.map((inp) => {
    const dtype = inp.dtype === "int64" || inp.dtype === "int32" ? "int32"
      : inp.dtype === "float32" || inp.dtype === "float16" || (inp.dtype === null && inp.elemType === 0) ? "float32"
      : usage(`input ${inp.name} has type ${inp.dtype ?? OTHER_TYPES[inp.elemType] ?? `code ${inp.elemType}`}; runtime inputs must be float or integer ids` +
        " (bind it with --const if the graph only reads it to decide something)");
    const bound = opts.inputs && Object.hasOwn(opts.inputs, inp.name) ? opts.inputs[inp.name] : undefined;
    const declared = inp.dims;
    if (!declared && !bound) usage(`input ${inp.name} has no declared shape: give it with --input ${inp.name}=D1xD2x...`);
    if (declared && bound && bound.length !== declared.length) usage(`--input ${inp.name} has ${bound.length} dims, the graph declares ${declared.length}`);
    const rank = (declared ?? bound)!.length;
    let batchAxis: number | null = null;
    if (batchParam !== undefined && declared) batchAxis = declared.indexOf(batchParam);
    if (batchAxis === -1 || batchAxis === null) {
      if (inp === first) batchAxis = rank > 0 ? Math.min(leadingBatchAxis(model, inp.name), rank - 1) : null;
      else {
        const unknown = (declared ?? []).flatMap((d, i) => (typeof d !== "number" && (bound?.[i] === undefined || bound[i] === "?") ? [i] : []));
        batchAxis = unknown.length === 1 ? unknown[0] : null;
        if (unknown.length > 1) usage(`input ${inp.name}: dims ${unknown.join(", ")} are unknown; give them with --input ${inp.name}=D1xD2x...`);
      }
    }
    const dims: Dim[] = Array.from({ length: rank }, (_, i) => {
      const b = bound?.[i];
      const d = declared?.[i];
      if (typeof b === "number") {
        if (!(Number.isInteger(b) && b >= 1)) usage(`--input ${inp.name}: dim ${i} must be a positive integer, got ${b}`);
        // a size the graph fixes is not the caller's to change (onnxruntime refuses it too);
        // the batch of a batch-agnostic export is symbolic whatever either says
        if (typeof d === "number" && d !== b && !(i === batchAxis && fixedBatch === undefined)) {
          usage(`--input ${inp.name}: dim ${i} is ${d} in the graph, bound to ${b}`);
        }
      }
      // with a fixed batch, the batch axis is a dim like the others: bound or declared, else the example size
      if (i === batchAxis && (fixedBatch === undefined || (typeof b !== "number" && typeof d !== "number"))) return fixedBatch ?? B1;
      if (typeof b === "number") return b;
      if (typeof d === "number") return d;
      usage(`input ${inp.name}: dim ${i}${typeof d === "string" ? ` (${d})` : ""} is not fixed by the graph; give it with --input ${inp.name}=${Array.from({ length: rank }, (_, k) => (k === i ? "N" : k === batchAxis ? "1" : String(declared?.[k] ?? "?"))).join("x")}` +
        (b === "?" ? " (dynamic dims other than the batch are not supported yet)" : ""));
    });
    return { name: inp.name, dims, batchAxis, dtype };
  });
}

function bindConstant(model: OnnxModel, name: string, value: number | number[]): ConstValue {
  const decl = model.graph.inputs.find((i) => i.name === name);
  if (!decl) usage(`--const ${name}: the graph has no input ${name} (inputs: ${model.graph.inputs.map((i) => i.name).join(", ")})`);
  const values = Array.isArray(value) ? value : [value];
  if (!values.every((v) => typeof v === "number" && Number.isFinite(v))) usage(`--const ${name}: values must be finite numbers`);
  const dims = decl.dims && decl.dims.every((d) => typeof d === "number") && (decl.dims as number[]).reduce((a, b) => a * b, 1) === values.length
    ? (decl.dims as number[]) : Array.isArray(value) ? [values.length] : [];
  if (decl.dtype === "float32" || decl.dtype === "float16" || decl.dtype === "float64") {
    return { kind: "const", dtype: decl.dtype === "float64" ? "float64" : "float32", dims, data: Float32Array.from(values) };
  }
  return intConst(dims, values.map(Math.trunc), decl.dtype ?? "int64");
}

function translateModel(model: OnnxModel, opts: OnnxImportOptions, fixedBatch: number | undefined): { packed: PackedModel; report: OnnxImportReport } {
  const source = opts.sourceName ?? "model.onnx";
  const g = model.graph;
  const b = new OnnxBuilder(fixedBatch, model.opset);
  const scope = new Scope();
  const report: OnnxImportReport = { opset: model.opset, producer: model.producer, inputs: [], folded: {}, translated: {}, batch: fixedBatch ?? "any" };
  const state = opts.state ?? {};
  b.uses = useCounts(g);

  for (const [name, v] of Object.entries(opts.constants ?? {})) scope.set(name, bindConstant(model, name, v));
  const specInputs: ModelSpec["inputs"] = [];
  const stateInputs = new Map<string, RtValue>();
  for (const p of planInputs(model, opts, fixedBatch)) {
    const batchAxis = fixedBatch === undefined ? p.batchAxis : null;
    const order = p.dims.map((_, i) => i).filter((i) => i !== batchAxis);
    const v = b.declare({ kind: "rt", id: p.name, dtype: p.dtype, shape: p.dims, batchAxis, order });
    scope.set(p.name, v);
    b.batchRef ??= v.id;
    if (Object.hasOwn(state, p.name)) stateInputs.set(p.name, v);
    else {
      if (p.batchAxis !== 0 && fixedBatch === undefined) throw new BatchLayout(`input ${p.name}'s batch is not its first axis`);
      specInputs.push({ name: p.name, tensor: v.id, shape: b.physical(v), dtype: p.dtype });
    }
  }
  for (const inp of g.inputs) {
    const role = g.initializers.has(inp.name) ? "initializer" : opts.constants && Object.hasOwn(opts.constants, inp.name) ? "constant" : Object.hasOwn(state, inp.name) ? "state" : "input";
    if (role !== "initializer") report.inputs.push({ name: inp.name, dims: inp.dims, role });
  }

  walk(b, g, scope, report);

  const outputs: ModelSpec["outputs"] = [];
  for (const o of g.outputs) {
    if (Object.values(state).includes(o.name)) continue;
    const v = scope.get(o.name) ?? onnxError(`${source}: output ${o.name} is never computed`);
    if (isConst(v)) throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${source}: output ${o.name} is a constant once the inputs are bound (nothing to run)`);
    if (v.batchAxis !== 0 && fixedBatch === undefined) throw new BatchLayout(`output ${o.name}'s batch is not its first axis`);
    const arranged = b.rowMajor(v, `output ${o.name}`);
    outputs.push({ name: o.name, tensor: arranged.id });
  }
  const states: NonNullable<ModelSpec["states"]> = [];
  for (const [inName, outName] of Object.entries(state)) {
    const vin = stateInputs.get(inName) ?? usage(`--state ${inName}: ${inName} is not a runtime input (it is a constant or an initializer)`);
    const vout = scope.get(outName);
    if (!vout || isConst(vout)) usage(`--state ${inName}=${outName}: ${outName} is not computed at run time`);
    const same = vout.shape.length === vin.shape.length && vout.shape.every((d, i) => (typeof d === "number" ? d === vin.shape[i] : typeof vin.shape[i] === "object"));
    if (!same || vout.batchAxis !== vin.batchAxis) usage(`--state ${inName}=${outName}: shapes differ (${vin.shape.map(String)} vs ${vout.shape.map(String)})`);
    const arranged = b.arrange(vout, vin.order, `state ${outName}`);
    states.push({ name: inName, input: vin.id, output: arranged.id });
  }
  if (!outputs.length) usage(`${source}: every output is a state (--state): the graph would compute nothing to return`);
  const spec: ModelSpec = {
    name: g.name || source.replace(/^.*[\\/]/, "").replace(/\.onnx$/i, ""),
    inputs: specInputs,
    outputs,
    tensors: b.tensors,
    ops: b.ops,
    weights: b.weights,
    layers: layersOf(b),
    source: { origin: "onnx", className: `ONNX opset ${model.opset}`, ...(model.producer ? { producer: model.producer } : {}) },
    ...(states.length ? { states } : {}),
    ...(fixedBatch !== undefined ? { unbatched: true } : {}),
  };
  return { packed: b.finish(spec), report };
}

/**
 * The graph's runtime ops by the node that made them, with its ONNX op type (a fused pair
 * "Conv+Relu"; the moves the exporter adds to lay out outputs and states: "Transpose"), in op
 * order: what inspect lists as layers.
 */
function layersOf(b: OnnxBuilder): NonNullable<ModelSpec["layers"]> {
  const names = [...new Set(b.ops.map((op) => op.layer))];
  return names.map((name) => ({ name, className: name.split("+").map((n) => b.nodeTypes.get(n) ?? "Transpose").join("+") }));
}

function walk(b: OnnxBuilder, graph: OnnxGraph, scope: Scope, report: OnnxImportReport): void {
  for (const [name, t] of graph.initializers) if (!scope.has(name)) scope.set(name, fromTensor(t));
  for (const node of graph.nodes) runNode(b, node, scope, report);
}

function runNode(b: OnnxBuilder, node: OnnxNode, scope: Scope, report: OnnxImportReport): void {
  const where = `node ${node.name} (${node.opType})`;
  if (node.domain && node.domain !== "ai.onnx") {
    throw new RnnWasmError("E_UNSUPPORTED_LAYER", `${where}: operators of domain ${node.domain} are not supported (only the standard ai.onnx set)`);
  }
  const inputs = node.inputs.map((name) => {
    if (!name) return undefined;
    const v = scope.get(name);
    if (!v) onnxError(`${where}: input ${name} is not computed before it is used`);
    return v;
  });
  if (node.opType === "If") {
    const cond = inputs[0];
    if (!cond || !isConst(cond)) {
      throw new RnnWasmError("E_UNSUPPORTED_LAYER", `${where}: its condition is computed at run time, so the If cannot be folded (bind the inputs it depends on with --input / --const)`);
    }
    const taken = (cond.data as ArrayLike<Dim>)[0] !== 0 ? "then_branch" : "else_branch";
    const branch = node.attrs.get(taken)?.g ?? onnxError(`${where}: no ${taken}`);
    const inner = new Scope(scope);
    walk(b, branch, inner, report);
    branch.outputs.forEach((o, k) => {
      const v = inner.get(o.name) ?? onnxError(`${where}: ${taken} output ${o.name} is never computed`);
      if (node.outputs[k]) scope.set(node.outputs[k], v);
    });
    report.folded.If = (report.folded.If ?? 0) + 1;
    return;
  }
  const op = OPS[node.opType];
  if (!op) {
    const runtime = node.inputs.filter((n, i) => n && inputs[i] && !isConst(inputs[i]));
    throw new RnnWasmError(
      "E_UNSUPPORTED_LAYER",
      `${where}: operator ${node.opType} is not supported` +
        (runtime.length ? ` (it did not fold: its input${runtime.length > 1 ? "s" : ""} ${runtime.join(", ")} ${runtime.length > 1 ? "are" : "is"} computed at run time)` : " (even on constants)"),
    );
  }
  const before = b.ops.length;
  const outs = op(new NodeContext(b, node, inputs));
  node.outputs.forEach((name, k) => {
    if (name && outs[k]) scope.set(name, outs[k]!);
  });
  if (b.ops.length > before) b.nodeTypes.set(node.name, node.opType);
  const tally = b.ops.length > before ? report.translated : report.folded;
  tally[node.opType] = (tally[node.opType] ?? 0) + 1;
}
