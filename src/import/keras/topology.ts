/**
 * The Keras model config (as tfjs, Keras 2 and Keras 3 write it, normalised by the file
 * importers into ModelArtifacts.topology) -> a flat list of layer calls: which layer runs on
 * which tensors. Sequential models become a chain; Functional models keep their inbound nodes.
 * Tensors are named `layer:node:index`, as Keras refers to them.
 */
import { RnnWasmError } from "../../errors.js";
import type { Shape } from "../../model/spec.js";
import type { ModelArtifacts } from "../artifacts.js";

export type Json = Record<string, unknown>;

export interface LayerDef {
  name: string;
  className: string;
  config: Json;
}

export interface LayerCall {
  layer: LayerDef;
  node: number;
  /** Tensor ids: the call's positional tensors in order, then tensors passed by keyword. */
  inputs: string[];
  /**
   * Keyword arguments of the call as the config records them (Keras 2 node kwargs: for
   * TFOpLambda also its positional arguments, by parameter name), with every tensor argument
   * replaced by `{"__input__": i}` (its index in `inputs`; context.ts tensorOf reads it), and a
   * constant first argument as `__constants__`; `{}` when none.
   */
  kwargs: Json;
  /** Prefix of the tensor ids this call produces: "" at the top level, `<model>:<node>/` per enclosing nested model. */
  scope: string;
}

export const tensorId = (layer: string, node: number, index: number, scope = "") => `${scope}${layer}:${node}:${index}`;

export function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function modelJsonError(msg: string): never {
  throw new RnnWasmError("E_MODEL_JSON", msg);
}

export function layerDefOf(raw: unknown, where: string): LayerDef {
  if (!isObj(raw)) modelJsonError(`${where}: layer entry is not an object`);
  const className = raw.class_name;
  const config = raw.config;
  if (typeof className !== "string") modelJsonError(`${where}: layer has no class_name`);
  if (!isObj(config)) modelJsonError(`${where}: layer ${className} has no config object`);
  const name = (typeof raw.name === "string" ? raw.name : undefined) ?? (typeof config.name === "string" ? config.name : undefined);
  if (!name) modelJsonError(`${where}: layer ${className} has no name`);
  return { name, className, config };
}

/** Input dimensions past this are no model's (a bundle's spec has the same bound). */
const MAX_DIM = 1 << 30;

/** A declared dimension: null (any size: Keras writes None as null) or a positive integer; anything else is refused at load. */
function dim(d: unknown, where: string): number | null {
  if (typeof d !== "number") return null;
  if (!(Number.isInteger(d) && d >= 1 && d <= MAX_DIM)) modelJsonError(`${where}: input dimension ${d} is not a positive integer`);
  return d;
}

function batchSizeOf(config: Json, where: string): number | undefined {
  const bs = config.batch_input_shape ?? config.batch_shape;
  return Array.isArray(bs) ? dim(bs[0], where) ?? undefined : undefined;
}

function batchShapeOf(config: Json, where: string): Shape | null {
  const bs = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(bs)) return (bs as unknown[]).slice(1).map((d) => dim(d, where));
  if (Array.isArray(config.input_shape)) return (config.input_shape as unknown[]).map((d) => dim(d, where));
  if (typeof config.input_dim === "number" && config.input_length === undefined && config.output_dim === undefined) {
    return [dim(config.input_dim, where)];
  }
  if (typeof config.input_length === "number") return [dim(config.input_length, where)];
  return null;
}

export interface ParsedGraph {
  name: string;
  className: string;
  inputs: { name: string; tensor: string; shape: Shape; dtype: string; batch?: number }[];
  calls: LayerCall[];
  outputs: { name: string; tensor: string }[];
}

/** Model classes, which may also appear as a layer of another model (nested models). */
const MODEL_CLASSES = new Set(["Sequential", "Functional", "Model"]);
/** How deep models may nest (a crafted config must not exhaust the stack). */
const MAX_NESTING = 32;

/** `[layer, node, tensor, ...]`: a reference to a layer's output (node and tensor default to 0). */
function isRef(v: unknown): v is unknown[] {
  return Array.isArray(v) && typeof v[0] === "string";
}

/** A tensor passed inside a call's keyword arguments: exactly `[layer, node, tensor]`. */
function isKwargRef(v: unknown): v is [string, number, number] {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === "string" && Number.isInteger(v[1]) && Number.isInteger(v[2]);
}

function parseRef(ref: unknown, where: string, scope = ""): string {
  if (!isRef(ref)) modelJsonError(`${where}: bad tensor reference ${JSON.stringify(ref)}`);
  if (ref[0] === "_CONSTANT_VALUE") {
    throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: a constant in place of a tensor (${JSON.stringify(ref[2]).slice(0, 60)}) is not supported`);
  }
  const node = typeof ref[1] === "number" ? ref[1] : 0;
  const index = typeof ref[2] === "number" ? ref[2] : 0;
  return tensorId(ref[0] as string, node, index, scope);
}

function refList(v: unknown, where: string, scope: string): string[] {
  if (!Array.isArray(v) || v.length === 0) modelJsonError(`${where} is missing or empty`);
  // a single reference [name, node, index] or a list of them
  if (typeof v[0] === "string") return [parseRef(v, where, scope)];
  return v.map((r) => parseRef(r, where, scope));
}

/**
 * One inbound node: a list of references `[layer, node, tensor, kwargs?]` (Keras 2, tfjs, and
 * Keras 3 after normalising, where a 5th element names the keyword a tensor was passed as), or
 * a bare reference or nested lists of them (TFOpLambda keeps its first argument's structure).
 * The kwargs (the same on every reference) may hold more tensors as `[layer, node, tensor]`.
 */
function parseNode(node: unknown, where: string, scope: string): { inputs: string[]; kwargs: Json } {
  const refs: unknown[][] = [];
  // TFOpLambda's first argument may be a constant (`2.0 - x`): ["_CONSTANT_VALUE", -1, value, kwargs]
  const constants: unknown[] = [];
  const collect = (v: unknown): void => {
    if (isRef(v) && v[0] === "_CONSTANT_VALUE" && v[1] === -1) {
      constants.push(v[2]);
      if (isObj(v[3]) && refs.length === 0) refs.push(["_CONSTANT_VALUE", -1, -1, v[3]]);
    } else if (isRef(v)) refs.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else modelJsonError(`${where}: bad tensor reference ${JSON.stringify(v)}`);
  };
  collect(node);
  if (refs.length === 0) modelJsonError(`${where} has no input tensors`);
  const inputs = refs.filter((r) => r[0] !== "_CONSTANT_VALUE").map((r) => parseRef(r, where, scope));
  const kwargs: Json = constants.length ? { __constants__: constants } : {};
  const at = (id: string) => {
    const k = inputs.indexOf(id);
    return { __input__: k >= 0 ? k : inputs.push(id) - 1 };
  };
  const replace = (v: unknown): unknown => {
    if (isKwargRef(v)) return at(parseRef(v, where, scope));
    if (Array.isArray(v)) return v.map(replace);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  if (isObj(refs[0][3])) Object.assign(kwargs, replace(refs[0][3]));
  // a call on constants alone reaches its translator, which names it (build.ts, tf-ops.ts)
  if (inputs.length === 0 && !constants.length) modelJsonError(`${where} has no input tensors`);
  refs.forEach((r) => {
    const keyword = r[4];
    if (typeof keyword !== "string") return;
    const slot = { __input__: inputs.indexOf(parseRef(r, where, scope)) };
    const prev = kwargs[keyword];
    kwargs[keyword] = prev === undefined ? slot : [...(Array.isArray(prev) ? prev : [prev]), slot];
  });
  return { inputs, kwargs };
}

/** Every [layer, node] a config refers to (inbound nodes, outputs), by layer. */
function referencedNodes(v: unknown, into = new Map<string, Set<number>>()): Map<string, Set<number>> {
  if (isRef(v) && typeof v[1] === "number") {
    const set = into.get(v[0] as string) ?? new Set<number>();
    into.set(v[0] as string, set.add(v[1]));
  }
  if (Array.isArray(v)) v.forEach((x) => referencedNodes(x, into));
  else if (isObj(v)) Object.values(v).forEach((x) => referencedNodes(x, into));
  return into;
}

/**
 * The node index of a nested model's first call. A model built on its own Input already has a
 * node 0 (its Input to its outputs), so tfjs, Keras 2 (`_should_skip_first_node`) and Keras 3
 * (functional.py get_config: `kept_nodes = 1`) number its calls from 1 and list only those; a
 * Keras 3 Sequential has no such node and numbers them from 0. References tell which: one to
 * node n of n listed calls, or one to node 0. Else: Sequential 0, Functional 1.
 */
function firstCallIndex(def: LayerDef, listed: number, refs: Set<number> | undefined): number {
  if (refs?.has(listed)) return 1;
  if (refs?.has(0)) return 0;
  return def.className === "Sequential" ? 0 : 1;
}

interface GraphState {
  /** Tensor id -> the id it stands for: a nested model's inputs and outputs. */
  renames: Map<string, string>;
}

/**
 * Adds one layer call; a nested model's call becomes its layers' calls, in a scope of their
 * own (a model called twice runs its layers twice, on the same weights), with its inputs and
 * outputs renamed to the tensors around the call.
 */
function addCall(calls: LayerCall[], call: LayerCall, st: GraphState, firstCall = 0): void {
  const { layer } = call;
  if (!MODEL_CLASSES.has(layer.className)) {
    calls.push(call);
    return;
  }
  const where = `layer ${layer.name} (a nested ${layer.className} model)`;
  if (call.scope.split("/").length > MAX_NESTING) modelJsonError(`${where} is nested more than ${MAX_NESTING} models deep`);
  const inner = parseGraph({ class_name: layer.className, config: layer.config }, `${call.scope}${layer.name}:${call.node}/`, st, true);
  if (inner.inputs.length !== call.inputs.length) {
    modelJsonError(`${where} has ${inner.inputs.length} inputs, but is called on ${call.inputs.length} tensors`);
  }
  inner.inputs.forEach((i, k) => st.renames.set(i.tensor, call.inputs[k]));
  inner.outputs.forEach((o, k) => st.renames.set(tensorId(layer.name, call.node + firstCall, k, call.scope), o.tensor));
  calls.push(...inner.calls);
}

function inputOf(def: LayerDef, tensor: string, shape: Shape, where: string): ParsedGraph["inputs"][number] {
  return { name: def.name, tensor, shape, dtype: String(def.config.dtype ?? "float32"), batch: batchSizeOf(def.config, where) };
}

/** The input shape a Sequential's first layer declares (a nested model's: its own input's). */
function declaredShape(def: LayerDef, st: GraphState, scope: string): Shape | null {
  if (!MODEL_CLASSES.has(def.className)) return batchShapeOf(def.config, `layer ${def.name}`);
  if (scope.split("/").length > MAX_NESTING) modelJsonError(`layer ${def.name} (a nested ${def.className} model) is nested more than ${MAX_NESTING} models deep`);
  const inner = parseGraph({ class_name: def.className, config: def.config }, `${scope}${def.name}:0/`, { renames: new Map(st.renames) }, true);
  return inner.inputs.length === 1 ? inner.inputs[0].shape : null;
}

function parseGraph(topo: Json, scope: string, st: GraphState, nested: boolean): ParsedGraph {
  const className = topo.class_name;
  if (typeof className !== "string") modelJsonError("model topology has no class_name");
  const cfg = topo.config;
  if (className === "Sequential") {
    const layersRaw = Array.isArray(cfg) ? cfg : isObj(cfg) ? cfg.layers : undefined;
    if (!Array.isArray(layersRaw) || layersRaw.length === 0) modelJsonError("Sequential model has no layers");
    const name = isObj(cfg) && typeof cfg.name === "string" ? cfg.name : "sequential";
    const defs = layersRaw.map((l, i) => layerDefOf(l, `layer ${i}`));
    let start = 0;
    let input: ParsedGraph["inputs"][number];
    if (defs[0].className === "InputLayer") {
      const where = `InputLayer ${defs[0].name}`;
      const shape = batchShapeOf(defs[0].config, where);
      if (!shape && !nested) modelJsonError(`${where} has no batch_input_shape`);
      input = inputOf(defs[0], tensorId(defs[0].name, 0, 0, scope), shape ?? [], where);
      start = 1;
    } else {
      // a nested Sequential takes whatever its caller passes
      const shape = declaredShape(defs[0], st, scope);
      if (!shape && !nested) modelJsonError(`the first layer (${defs[0].name}) declares no input shape (batch_input_shape)`);
      const inName = `${defs[0].name}_input`;
      input = { ...inputOf(defs[0], tensorId(inName, 0, 0, scope), shape ?? [], `layer ${defs[0].name}`), name: inName };
    }
    const calls: LayerCall[] = [];
    let prev = input.tensor;
    for (let i = start; i < defs.length; i++) {
      addCall(calls, { layer: defs[i], node: 0, inputs: [prev], kwargs: {}, scope }, st);
      prev = tensorId(defs[i].name, 0, 0, scope);
    }
    return { name, className, inputs: [input], calls, outputs: [{ name: defs[defs.length - 1].name, tensor: prev }] };
  }
  if (MODEL_CLASSES.has(className)) {
    if (!isObj(cfg) || !Array.isArray(cfg.layers)) modelJsonError(`${className} model has no layers`);
    const name = typeof cfg.name === "string" ? cfg.name : "model";
    const inputs: ParsedGraph["inputs"] = [];
    const calls: LayerCall[] = [];
    const refs = referencedNodes([(cfg.layers as Json[]).map((l) => (isObj(l) ? l.inbound_nodes : undefined)), cfg.output_layers]);
    (cfg.layers as unknown[]).forEach((raw, i) => {
      const def = layerDefOf(raw, `layer ${i}`);
      if (def.className === "InputLayer") {
        const where = `InputLayer ${def.name}`;
        const shape = batchShapeOf(def.config, where);
        if (!shape && !nested) modelJsonError(`${where} has no batch_input_shape`);
        inputs.push(inputOf(def, tensorId(def.name, 0, 0, scope), shape ?? [], where));
        return;
      }
      const nodes = (raw as Json).inbound_nodes;
      if (!Array.isArray(nodes)) modelJsonError(`layer ${def.name} has no inbound_nodes`);
      nodes.forEach((node, n) => {
        if (!Array.isArray(node)) modelJsonError(`layer ${def.name}: inbound node ${n} is not a list`);
        const first = MODEL_CLASSES.has(def.className) ? firstCallIndex(def, nodes.length, refs.get(def.name)) : 0;
        addCall(calls, { layer: def, node: n, scope, ...parseNode(node, `layer ${def.name} inbound node ${n}`, scope) }, st, first);
      });
    });
    const inputOrder = refList(cfg.input_layers, "input_layers", scope);
    const byTensor = new Map(inputs.map((i) => [i.tensor, i]));
    const orderedInputs = inputOrder.map((t) => {
      const i = byTensor.get(t);
      if (!i) modelJsonError(`input_layers names ${t.slice(scope.length)}, which is not an InputLayer`);
      return i;
    });
    const outs = refList(cfg.output_layers, "output_layers", scope).map((t) => {
      const [layer, , index] = t.slice(scope.length).split(":");
      return { name: index === "0" ? layer : `${layer}:${index}`, tensor: t };
    });
    return { name, className, inputs: orderedInputs, calls, outputs: outs };
  }
  throw new RnnWasmError("E_UNSUPPORTED_LAYER", `model class ${className} is not supported (expected Sequential, Functional or Model)`);
}

export function parseTopology(art: ModelArtifacts): ParsedGraph {
  let topo: unknown = art.topology;
  if (!isObj(topo)) modelJsonError("model topology is not an object");
  // tfjs model.json: modelTopology = { keras_version, backend, model_config: {...} }
  if (isObj(topo.model_config)) topo = topo.model_config;
  if (!isObj(topo)) modelJsonError("model_config is not an object");
  const st: GraphState = { renames: new Map() };
  const g = parseGraph(topo, "", st, false);
  // nested models' inputs and outputs: follow the renames (a model inside a model chains them)
  const resolve = (id: string): string => {
    let cur = id;
    for (let guard = 0; st.renames.has(cur) && guard < 10000; guard++) cur = st.renames.get(cur)!;
    return cur;
  };
  for (const call of g.calls) call.inputs = call.inputs.map(resolve);
  for (const o of g.outputs) o.tensor = resolve(o.tensor);
  return g;
}
