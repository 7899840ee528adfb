/**
 * The reference model: reads a Keras-style model config (the `modelTopology` of a tfjs
 * model.json, written by tfjs-layers' save() or by tensorflowjs_converter from Keras 2/3),
 * matches named weights to layers by name and role, infers shapes, and runs the graph in
 * float64.
 *
 * Topology forms accepted:
 *  - tfjs save():  modelTopology = {class_name, config, keras_version: "tfjs-layers x", backend}
 *  - converter:    modelTopology = {model_config: {class_name, config}, keras_version, backend}
 *  - Sequential config as {name, layers: [...]} or, in 2018-era files, a bare layer list;
 *    with or without a leading InputLayer (else the first layer's batch_input_shape /
 *    batch_shape / input_shape defines the input, named `<first layer>_input` like tfjs).
 *  - Functional / Model: layers with inbound_nodes in the Keras 2 / tfjs form
 *    [[[layer, node, tensor, kwargs], ...]] or the Keras 3 form [{args, kwargs}] with
 *    __keras_tensor__ keras_history entries; input_layers / output_layers as [[name, n, t]] or a
 *    single [name, n, t]. Extra inputs of an RNN node are its initial states.
 */
import type { HardSigmoidVariant } from "./activations.ts";
import { RefError, fmtShape } from "./errors.ts";
import {
  type Context,
  type RefLayer,
  type Semantics,
  type Shape,
  WeightBag,
  type WeightRecord,
} from "./layer-base.ts";
import {
  Activation,
  BatchNormalization,
  Conv1D,
  Dense,
  Dot,
  Permute,
  Embedding,
  Flatten,
  GlobalPooling1D,
  Identity,
  InputLayer,
  LayerNormalization,
  Masking,
  Merge,
  Pooling1D,
  ReLU,
  RepeatVector,
  Reshape,
  SoftmaxLayer,
} from "./layers.ts";
import { BidirectionalLayer, RecurrentLayer, TimeDistributedLayer } from "./recurrent.ts";
import { AttentionLayer, MultiHeadAttentionLayer } from "./attention.ts";
import { TfOpLayer } from "./tf-ops.ts";
import type { Mask, Tensor64 } from "./tensor.ts";
import { concatBuffers, decodeWeights, manifestEntries, type NamedWeight64, parseWeightName } from "./weights.ts";

export interface ReferenceOptions {
  /** Default "tfjs": reproduce tfjs-layers' predict() where it differs from Keras. */
  semantics?: Semantics;
  /** Default: "keras3" when the file says Keras 3, else "tfjs" (= Keras 2). */
  hardSigmoid?: HardSigmoidVariant;
}

export interface InputSpec {
  name: string;
  shape: Shape;
  dtype: "float32" | "int32";
}

export interface OutputSpec {
  name: string;
  shape: Shape;
}

type Config = Record<string, any>;
interface TensorRef {
  layer: string;
  node: number;
  index: number;
}
interface LayerEntry {
  className: string;
  name: string;
  config: Config;
  /** Inbound tensor refs of each call (node) of this layer. */
  nodes: TensorRef[][];
  /** Keyword arguments of each call, tensors as {input: i} (an index into the node's refs). */
  args: CallArgs[];
  impl: RefLayer;
}

/** Model classes, which may also be a layer of another model (nested models). */
const MODEL_CLASSES = new Set(["Sequential", "Functional", "Model"]);

/** A call's keyword arguments; tensors as {input: i}, an index into the call's input tensors. */
export type CallArgs = Record<string, unknown>;

const IDENTITY = new Set(["Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"]);
const MERGES = new Set(["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]);
const ALIASES: Record<string, string> = {
  GlobalAvgPool1D: "GlobalAveragePooling1D",
  GlobalMaxPool1D: "GlobalMaxPooling1D",
  MaxPool1D: "MaxPooling1D",
  AvgPool1D: "AveragePooling1D",
  Convolution1D: "Conv1D",
};

export const SUPPORTED_LAYERS = [
  "InputLayer", "Dense", "Embedding", "LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "Bidirectional", "TimeDistributed",
  ...IDENTITY, "Activation", "ReLU", "Softmax", "Masking", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
  "Flatten", "Reshape", "RepeatVector", "Permute", "Conv1D", "MaxPooling1D", "AveragePooling1D", "BatchNormalization",
  "LayerNormalization", ...MERGES, "Dot", "Attention", "AdditiveAttention", "MultiHeadAttention", "TFOpLambda", "SlicingOpLambda",
  "Sequential", "Functional", "Model",
];

function isObject(v: unknown): v is Config {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function makeLayer(className: string, name: string, config: Config, defaultRa: string): RefLayer {
  const cls = ALIASES[className] ?? className;
  if (IDENTITY.has(cls)) return new Identity(cls, name, config);
  if (MERGES.has(cls)) return new Merge(cls, name, config);
  switch (cls) {
    case "InputLayer":
      return new InputLayer(cls, name, config);
    case "Dense":
      return new Dense(cls, name, config);
    case "Embedding":
      return new Embedding(cls, name, config);
    case "Activation":
      return new Activation(cls, name, config);
    case "ReLU":
      return new ReLU(cls, name, config);
    case "Softmax":
      return new SoftmaxLayer(cls, name, config);
    case "Masking":
      return new Masking(cls, name, config);
    case "Flatten":
      return new Flatten(cls, name, config);
    case "Reshape":
      return new Reshape(cls, name, config);
    case "RepeatVector":
      return new RepeatVector(cls, name, config);
    case "Conv1D":
      return new Conv1D(cls, name, config);
    case "MaxPooling1D":
    case "AveragePooling1D":
      return new Pooling1D(cls, name, config);
    case "GlobalAveragePooling1D":
    case "GlobalMaxPooling1D":
      return new GlobalPooling1D(cls, name, config);
    case "BatchNormalization":
      return new BatchNormalization(cls, name, config);
    case "LayerNormalization":
      return new LayerNormalization(cls, name, config);
    case "LSTM":
    case "GRU":
    case "SimpleRNN":
    case "CuDNNLSTM":
    case "CuDNNGRU":
      return new RecurrentLayer(cls, name, config, defaultRa);
    case "Permute":
      return new Permute(cls, name, config);
    case "Dot":
      return new Dot(cls, name, config);
    case "Attention":
    case "AdditiveAttention":
      return new AttentionLayer(cls, name, config);
    case "MultiHeadAttention":
      return new MultiHeadAttentionLayer(name, config);
    case "TFOpLambda":
    case "SlicingOpLambda":
      return new TfOpLayer(cls, name, config);
    case "Bidirectional":
      return new BidirectionalLayer(name, config, defaultRa);
    case "TimeDistributed": {
      const inner = config.layer;
      if (!isObject(inner) || typeof inner.class_name !== "string" || !isObject(inner.config)) {
        throw new RefError("E_MODEL_JSON", `layer ${name} (TimeDistributed): config.layer is missing`);
      }
      const innerCls = ALIASES[inner.class_name] ?? inner.class_name;
      if (["LSTM", "GRU", "SimpleRNN", "Bidirectional", "TimeDistributed", "InputLayer", "Embedding"].includes(innerCls)) {
        throw new RefError("E_UNSUPPORTED_LAYER", `layer ${name}: TimeDistributed(${inner.class_name}) is not supported`);
      }
      return new TimeDistributedLayer(name, makeLayer(innerCls, name, inner.config, defaultRa));
    }
  }
  throw new RefError(
    "E_UNSUPPORTED_LAYER",
    `layer ${name}: layer class ${JSON.stringify(className)} is not supported (supported: ${SUPPORTED_LAYERS.join(", ")})`,
  );
}

/** batch_input_shape (Keras 2 / tfjs), batch_shape (Keras 3), input_shape / input_dim (old). */
function declaredInputShape(config: Config): Shape | null {
  if (Array.isArray(config.batch_input_shape)) return config.batch_input_shape;
  if (Array.isArray(config.batch_shape)) return config.batch_shape;
  if (Array.isArray(config.input_shape)) return [null, ...config.input_shape];
  if (typeof config.input_dim === "number" && config.class_name !== "Embedding" && config.input_length === undefined) {
    return null;
  }
  return null;
}

function dtypeOf(config: Config): string {
  const d = config.dtype;
  if (typeof d === "string") return d;
  if (isObject(d)) return String(d.config?.name ?? "float32"); // Keras 3 DTypePolicy
  return "float32";
}

function parseRef(v: unknown, where: string): TensorRef {
  if (Array.isArray(v) && typeof v[0] === "string") {
    return { layer: v[0], node: Number(v[1] ?? 0), index: Number(v[2] ?? 0) };
  }
  if (isObject(v) && v.class_name === "__keras_tensor__" && Array.isArray(v.config?.keras_history)) {
    const h = v.config.keras_history;
    return { layer: String(h[0]), node: Number(h[1]), index: Number(h[2]) };
  }
  throw new RefError("E_MODEL_JSON", `${where}: cannot read tensor reference ${JSON.stringify(v)}`);
}

function collectKerasTensors(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) v.forEach((x) => collectKerasTensors(x, out));
  else if (isObject(v) && v.class_name === "__keras_tensor__") out.push(v);
}

const isTriple = (v: unknown): v is [string, number, number] =>
  Array.isArray(v) && v.length === 3 && typeof v[0] === "string" && Number.isInteger(v[1]) && Number.isInteger(v[2]);

/**
 * One call: its input tensors and keyword arguments. Keras 2 / tfjs: a list of refs
 * [layer, node, tensor, kwargs] (TFOpLambda: a bare ref or nested lists; a constant first
 * argument ["_CONSTANT_VALUE", -1, value, kwargs]), tensors in kwargs as [layer, node, tensor];
 * Keras 3: {args, kwargs} of __keras_tensor__ objects (a 5th element of a normalised ref names
 * the keyword of a tensor passed by keyword). Tensors in kwargs join the refs after the others.
 */
function parseNode(layerName: string, node: unknown, k: number): { refs: TensorRef[]; args: CallArgs } {
  const where = `layer ${layerName}, inbound node ${k}`;
  const refs: TensorRef[] = [];
  const args: CallArgs = {};
  const slot = (r: TensorRef) => {
    const i = refs.findIndex((x) => x.layer === r.layer && x.node === r.node && x.index === r.index);
    return { input: i >= 0 ? i : refs.push(r) - 1 };
  };
  const keep = (v: unknown, isTensor: (x: unknown) => boolean): unknown =>
    isTensor(v) ? slot(parseRef(v, where)) : Array.isArray(v) ? v.map((x) => keep(x, isTensor)) : isObject(v) && !isTensor(v) ? Object.fromEntries(Object.entries(v).map(([key, x]) => [key, keep(x, isTensor)])) : v;
  if (Array.isArray(node)) {
    let kwargs: unknown;
    const constants: unknown[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v) && typeof v[0] === "string") {
        if (v[0] === "_CONSTANT_VALUE") constants.push(v[2]);
        else refs.push(parseRef(v, where));
        kwargs ??= v[3];
        if (typeof v[4] === "string") {
          const prev = args[v[4]];
          const mine = { input: refs.length - 1 };
          args[v[4]] = prev === undefined ? mine : [...(Array.isArray(prev) ? prev : [prev]), mine];
        }
      } else if (Array.isArray(v)) v.forEach(visit);
      else throw new RefError("E_MODEL_JSON", `${where}: malformed ${JSON.stringify(v)}`);
    };
    visit(node);
    if (isObject(kwargs)) for (const [key, v] of Object.entries(kwargs)) if (!(key in args)) args[key] = keep(v, isTriple);
    if (constants.length) args.__constants__ = constants;
    return { refs, args };
  }
  if (isObject(node) && "args" in node) {
    const tensors: unknown[] = [];
    collectKerasTensors(node.args, tensors);
    tensors.forEach((t) => refs.push(parseRef(t, where)));
    const isKt = (x: unknown) => isObject(x) && x.class_name === "__keras_tensor__";
    if (isObject(node.kwargs)) for (const [key, v] of Object.entries(node.kwargs)) if (v !== null) args[key] = keep(v, isKt);
    return { refs, args };
  }
  throw new RefError("E_MODEL_JSON", `${where}: malformed ${JSON.stringify(node)}`);
}

function parseInboundNodes(layerName: string, raw: unknown): { refs: TensorRef[]; args: CallArgs }[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new RefError("E_MODEL_JSON", `layer ${layerName}: inbound_nodes must be an array`);
  return raw.map((node, k) => parseNode(layerName, node, k));
}

/** The input shape a nested model declares (its InputLayer or first layer). */
function nestedInputShape(config: Config): Shape | null {
  const list = Array.isArray(config) ? config : config?.layers;
  if (!Array.isArray(list) || !list.length) return null;
  const input = list.find((l: Config) => l?.class_name === "InputLayer") ?? list[0];
  return declaredInputShape(input?.config ?? {}) ?? (MODEL_CLASSES.has(input?.class_name) ? nestedInputShape(input.config) : null);
}

function parseIoList(raw: unknown, what: string): TensorRef[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new RefError("E_MODEL_JSON", `model config: ${what} must be a non-empty array`);
  if (typeof raw[0] === "string") return [parseRef(raw, what)];
  return raw.map((r) => parseRef(r, what));
}

export class ReferenceModel {
  readonly inputs: InputSpec[] = [];
  readonly outputs: OutputSpec[] = [];
  readonly ctx: Context;
  readonly kerasVersion: string;
  private layers = new Map<string, LayerEntry>();
  private order: string[] = [];
  private inputRefs: TensorRef[] = [];
  private outputRefs: TensorRef[] = [];

  /** From a parsed model.json and its shard bytes (one buffer, or several in manifest order). */
  static fromArtifacts(
    modelJson: unknown,
    weights: ArrayBuffer | ArrayBufferView | (ArrayBuffer | ArrayBufferView)[],
    opts: ReferenceOptions = {},
  ): ReferenceModel {
    if (!isObject(modelJson)) {
      throw new RefError("E_MODEL_JSON", `model.json must be an object, received ${modelJson === null ? "null" : typeof modelJson}`);
    }
    if (!isObject(modelJson.modelTopology)) {
      throw new RefError("E_MODEL_JSON", "model.json: modelTopology is missing or not an object");
    }
    const entries = manifestEntries(modelJson);
    if (weights === undefined || weights === null) {
      throw new RefError("E_WEIGHTS", `weights: missing (the manifest lists ${entries.length} weights)`);
    }
    const named = decodeWeights(entries, concatBuffers(weights));
    return new ReferenceModel(modelJson.modelTopology, named, opts, String(modelJson.generatedBy ?? ""));
  }

  constructor(topology: unknown, weights: NamedWeight64[], opts: ReferenceOptions = {}, generatedBy = "") {
    if (!isObject(topology)) throw new RefError("E_MODEL_JSON", "modelTopology must be an object");
    const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
    this.kerasVersion = String(topology.keras_version ?? generatedBy);
    const keras3 = /^3\./.test(this.kerasVersion) || /keras v?3\./i.test(generatedBy);
    const release = /^(\d+)\.(\d+)/.exec(this.kerasVersion) ?? /keras v?(\d+)\.(\d+)/i.exec(generatedBy);
    this.ctx = {
      semantics: opts.semantics ?? "tfjs",
      hardSigmoid: opts.hardSigmoid ?? (keras3 ? "keras3" : "tfjs"),
      kerasRelease: release ? [Number(release[1]), Number(release[2])] : [0, 0],
    };
    const defaultRa = this.kerasVersion.startsWith("tfjs") ? "hard_sigmoid" : "sigmoid";
    if (typeof modelConfig.class_name !== "string") {
      throw new RefError("E_MODEL_JSON", "model config: class_name is missing");
    }
    if (modelConfig.class_name === "Sequential") this.parseSequential(modelConfig.config, defaultRa);
    else if (modelConfig.class_name === "Functional" || modelConfig.class_name === "Model") {
      this.parseFunctional(modelConfig.config, defaultRa);
    } else {
      throw new RefError("E_UNSUPPORTED_LAYER", `model class ${JSON.stringify(modelConfig.class_name)} is not supported`);
    }
    this.expandNested();
    this.attachWeights(weights);
    this.inferShapes();
  }

  private addLayer(raw: unknown, k: number, defaultRa: string): LayerEntry {
    if (!isObject(raw) || typeof raw.class_name !== "string" || !isObject(raw.config)) {
      throw new RefError("E_MODEL_JSON", `model config: layer ${k} needs class_name and config, received ${JSON.stringify(raw)?.slice(0, 200)}`);
    }
    const name = String(raw.name ?? raw.config.name ?? `${raw.class_name.toLowerCase()}_${k}`);
    if (this.layers.has(name) || this.nested.has(name)) throw new RefError("E_MODEL_JSON", `model config: duplicate layer name ${name}`);
    const parsed = parseInboundNodes(name, raw.inbound_nodes);
    if (MODEL_CLASSES.has(raw.class_name)) {
      // a nested model: its layers join this graph when it is called (inline)
      this.nested.set(name, { className: raw.class_name, config: raw.config, defaultRa });
      const entry: LayerEntry = { className: raw.class_name, name, config: raw.config, nodes: parsed.map((n) => n.refs), args: parsed.map((n) => n.args), impl: null as never };
      this.nestedEntries.set(name, entry);
      return entry;
    }
    const entry: LayerEntry = {
      className: raw.class_name,
      name,
      config: raw.config,
      nodes: parsed.map((n) => n.refs),
      args: parsed.map((n) => n.args),
      impl: makeLayer(raw.class_name, name, raw.config, defaultRa),
    };
    this.layers.set(name, entry);
    this.order.push(name);
    return entry;
  }

  /** Nested models by name; `aliases` maps a nested model's output refs to its inner layers' outputs. */
  private nested = new Map<string, { className: string; config: Config; defaultRa: string }>();
  private aliases = new Map<string, TensorRef>();

  /** The layer entry `raw` stands for, created on first use (a nested model's layers are shared by its calls). */
  private entryFor(raw: Config, defaultRa: string): LayerEntry {
    const name = String(raw.name ?? raw.config?.name);
    const have = this.layers.get(name);
    if (have) return have;
    const e = this.addLayer({ ...raw, inbound_nodes: [] }, 0, defaultRa);
    return e;
  }

  /**
   * Calls nested model `name` on `inputs`: each of its layers gets one more node, wired as in
   * the nested config; returns the refs of its outputs. Keras runs a nested model the same way
   * (its layers' nodes are created per call, on shared weights).
   */
  private inline(name: string, inputs: TensorRef[]): TensorRef[] {
    const { className, config, defaultRa } = this.nested.get(name)!;
    const list: Config[] = Array.isArray(config) ? config : config.layers;
    const call = (raw: Config, refs: TensorRef[], args: CallArgs): TensorRef[] => {
      const innerName = String(raw.name ?? raw.config?.name);
      if (MODEL_CLASSES.has(raw.class_name)) {
        if (!this.nested.has(innerName)) this.nested.set(innerName, { className: raw.class_name, config: raw.config, defaultRa });
        return this.inline(innerName, refs);
      }
      const e = this.entryFor(raw, defaultRa);
      e.nodes.push(refs);
      e.args.push(args);
      return [0, 1, 2, 3, 4, 5, 6, 7].map((index) => ({ layer: e.name, node: e.nodes.length - 1, index }));
    };
    if (className === "Sequential") {
      let prev = inputs[0];
      for (const raw of list) if (raw.class_name !== "InputLayer") prev = call(raw, [prev], {})[0];
      return [prev];
    }
    // Functional: inner refs [layer, node, index] -> outer refs, node by node
    const map = new Map<string, TensorRef[]>();
    parseIoList(config.input_layers, "input_layers").forEach((r, i) => map.set(`${r.layer}:0`, [inputs[i]]));
    const pending: [Config, number, { refs: TensorRef[]; args: CallArgs }][] = [];
    for (const raw of list) {
      if (raw.class_name === "InputLayer") continue;
      parseInboundNodes(String(raw.name ?? raw.config?.name), raw.inbound_nodes).forEach((n, m) => pending.push([raw, m, n]));
    }
    const outer = (r: TensorRef) => map.get(`${r.layer}:${r.node}`)?.[r.index];
    // a model nested in this one numbers its calls from 1 or 0, as at the top level (expandNested)
    const seen = new Map<string, number[]>();
    for (const [, , n] of pending) for (const r of n.refs) seen.set(r.layer, [...(seen.get(r.layer) ?? []), r.node]);
    for (const r of parseIoList(config.output_layers, "output_layers")) seen.set(r.layer, [...(seen.get(r.layer) ?? []), r.node]);
    const firstCall = (raw: Config) => {
      const innerName = String(raw.name ?? raw.config?.name);
      if (!MODEL_CLASSES.has(raw.class_name)) return 0;
      const calls = pending.filter(([r]) => r === raw).length + [...map.keys()].filter((k) => k.startsWith(`${innerName}:`)).length;
      const nodes = seen.get(innerName) ?? [];
      return nodes.includes(calls) ? 1 : nodes.includes(0) ? 0 : raw.class_name === "Sequential" ? 0 : 1;
    };
    const first = new Map(list.filter((raw) => MODEL_CLASSES.has(raw.class_name)).map((raw) => [raw, firstCall(raw)]));
    while (pending.length) {
      const at = pending.findIndex(([, , n]) => n.refs.every((r) => outer(r)));
      if (at < 0) throw new RefError("E_MODEL_JSON", `nested model ${name}: a layer consumes a tensor no layer produces`);
      const [raw, m, n] = pending.splice(at, 1)[0];
      map.set(`${String(raw.name ?? raw.config?.name)}:${m + (first.get(raw) ?? 0)}`, call(raw, n.refs.map((r) => outer(r)!), n.args));
    }
    return parseIoList(config.output_layers, "output_layers").map((r) => outer(r)!);
  }

  /**
   * Expands the calls of nested models and points their consumers at the inner outputs. A model
   * built on its own Input has a node 0 of its own, so its listed calls are nodes 1, 2, ... (tfjs;
   * Keras 2 skips that first node, Keras 3 functional.py counts kept nodes from 1); a Keras 3
   * Sequential's are 0, 1, ...: the consumers' references show which.
   */
  private expandNested(): void {
    const used = new Map<string, number[]>();
    for (const e of [...this.layers.values(), ...this.nestedEntries.values()]) for (const refs of e.nodes) for (const r of refs) used.set(r.layer, [...(used.get(r.layer) ?? []), r.node]);
    for (const r of this.outputRefs) used.set(r.layer, [...(used.get(r.layer) ?? []), r.node]);
    for (const [name, e] of [...this.nestedEntries]) {
      const seen = used.get(name) ?? [];
      const first = seen.includes(e.nodes.length) ? 1 : seen.includes(0) ? 0 : e.className === "Sequential" ? 0 : 1;
      e.nodes.forEach((refs, n) => {
        const outs = this.inline(name, refs.map((r) => this.resolve(r)));
        outs.forEach((o, k) => this.aliases.set(`${name}:${n + first}:${k}`, o));
      });
    }
    for (const e of this.layers.values()) e.nodes = e.nodes.map((refs) => refs.map((r) => this.resolve(r)));
    this.outputRefs = this.outputRefs.map((r) => this.resolve(r));
  }
  private nestedEntries = new Map<string, LayerEntry>();

  private resolve(r: TensorRef): TensorRef {
    let cur = r;
    for (let guard = 0; guard < 1000; guard++) {
      const next = this.aliases.get(`${cur.layer}:${cur.node}:${cur.index}`);
      if (!next) return cur;
      cur = next;
    }
    return cur;
  }

  private parseSequential(config: unknown, defaultRa: string): void {
    const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(list) || list.length === 0) {
      throw new RefError("E_MODEL_JSON", "Sequential config: layers must be a non-empty array");
    }
    let prev: TensorRef;
    let rest = list;
    const first = list[0];
    if (isObject(first) && first.class_name === "InputLayer") {
      const e = this.addLayer(first, 0, defaultRa);
      prev = { layer: e.name, node: 0, index: 0 };
      rest = list.slice(1);
    } else {
      if (!isObject(first) || !isObject(first.config)) throw new RefError("E_MODEL_JSON", "Sequential config: malformed first layer");
      const shape = declaredInputShape(first.config) ?? (MODEL_CLASSES.has(String(first.class_name)) ? nestedInputShape(first.config) : null);
      if (shape === null) {
        throw new RefError("E_MODEL_JSON", `Sequential config: first layer ${first.config.name} declares no batch_input_shape`);
      }
      const name = `${first.config.name ?? "sequential"}_input`;
      this.addLayer({ class_name: "InputLayer", config: { name, batch_input_shape: shape, dtype: dtypeOf(first.config) } }, 0, defaultRa);
      prev = { layer: name, node: 0, index: 0 };
    }
    this.inputRefs = [prev];
    rest.forEach((raw, k) => {
      const e = this.addLayer(raw, k + 1, defaultRa);
      e.nodes = [[prev]];
      prev = { layer: e.name, node: 0, index: 0 };
    });
    this.outputRefs = [prev];
  }

  private parseFunctional(config: unknown, defaultRa: string): void {
    if (!isObject(config) || !Array.isArray(config.layers) || config.layers.length === 0) {
      throw new RefError("E_MODEL_JSON", "Functional config: layers must be a non-empty array");
    }
    config.layers.forEach((raw: unknown, k: number) => this.addLayer(raw, k, defaultRa));
    this.inputRefs = parseIoList(config.input_layers, "input_layers");
    this.outputRefs = parseIoList(config.output_layers, "output_layers");
    for (const [name, e] of this.layers) {
      for (const node of e.nodes) {
        for (const r of node) {
          if (!this.layers.has(r.layer) && !this.nestedEntries.has(r.layer)) {
            throw new RefError("E_MODEL_JSON", `layer ${name}: inbound layer ${JSON.stringify(r.layer)} does not exist`);
          }
        }
      }
    }
    for (const r of [...this.inputRefs, ...this.outputRefs]) {
      if (!this.layers.has(r.layer) && !this.nestedEntries.has(r.layer)) throw new RefError("E_MODEL_JSON", `model config: unknown input/output layer ${JSON.stringify(r.layer)}`);
    }
  }

  private attachWeights(weights: NamedWeight64[]): void {
    const byLayer = new Map<string, WeightRecord[]>();
    for (const w of weights) {
      const parsed = parseWeightName(w.name);
      // The owning layer is the first path component that names a layer of this model.
      const comps = w.name.replace(/:\d+$/, "").split("/");
      const owner = comps.slice(0, -1).find((c) => this.layers.has(c)) ?? parsed.layer;
      if (!this.layers.has(owner)) {
        throw new RefError("E_WEIGHTS", `weight ${w.name}: no layer named ${owner} in the model (layers: ${this.order.join(", ")})`);
      }
      const list = byLayer.get(owner) ?? [];
      list.push({ name: w.name, direction: parsed.direction, role: parsed.role, tensor: w, used: false });
      byLayer.set(owner, list);
    }
    this.bags = new Map([...this.layers.keys()].map((n) => [n, new WeightBag(n, byLayer.get(n) ?? [])]));
  }
  private bags = new Map<string, WeightBag>();

  /** Runs the graph symbolically: builds every layer (checking weights) and records I/O specs. */
  private inferShapes(): void {
    const shapes = new Map<string, Shape>();
    const key = (r: TensorRef) => `${r.layer}:${r.node}:${r.index}`;
    this.inputRefs.forEach((r) => {
      const e = this.layers.get(r.layer)!;
      if (e.className !== "InputLayer") throw new RefError("E_MODEL_JSON", `model input ${r.layer} is not an InputLayer`);
      const shape = declaredInputShape(e.config);
      if (shape === null) throw new RefError("E_MODEL_JSON", `InputLayer ${r.layer}: no batch_input_shape / batch_shape`);
      shapes.set(key(r), shape.slice());
    });
    this.forEachNode((e, nodeIdx, refs) => {
      const inShapes = refs.map((r) => {
        const s = shapes.get(key(r));
        if (s === undefined) throw new RefError("E_MODEL_JSON", `layer ${e.name}: input ${key(r)} is never computed`);
        return s;
      });
      const outs = e.impl.build(inShapes, this.bags.get(e.name)!, this.ctx, e.args[nodeIdx] ?? {});
      outs.forEach((s, i) => shapes.set(`${e.name}:${nodeIdx}:${i}`, s));
    }, (r) => shapes.has(key(r)));
    for (const [name, bag] of this.bags) {
      const left = bag.unused();
      if (left.length) {
        throw new RefError("E_WEIGHTS", `layer ${name}: weights not used by the layer: ${left.map((w) => `${w.name} ${fmtShape(w.tensor.shape)}`).join(", ")}`);
      }
    }
    for (const r of this.inputRefs) {
      const e = this.layers.get(r.layer)!;
      const consumers = [...this.layers.values()].filter((l) => l.nodes.some((n) => n.some((x) => x.layer === r.layer)));
      const feedsEmbedding = consumers.length > 0 && consumers.every((c) => c.className === "Embedding");
      const int = dtypeOf(e.config).startsWith("int") || feedsEmbedding;
      this.inputs.push({ name: e.name, shape: shapes.get(key(r))!, dtype: int ? "int32" : "float32" });
    }
    const counts = new Map<string, number>();
    this.outputRefs.forEach((r) => counts.set(r.layer, (counts.get(r.layer) ?? 0) + 1));
    for (const r of this.outputRefs) {
      const s = shapes.get(key(r));
      if (s === undefined) throw new RefError("E_MODEL_JSON", `output ${key(r)} is never computed`);
      this.outputs.push({ name: counts.get(r.layer)! > 1 ? `${r.layer}/${r.index}` : r.layer, shape: s });
    }
  }

  /**
   * Visits every (layer, node) whose inputs are available, in config order, repeating until no
   * progress: config order is a topological order for Keras/tfjs files and also the order in
   * which tfjs' executor meets Sequential layers (which matters for its mask leak).
   */
  private forEachNode(visit: (e: LayerEntry, node: number, refs: TensorRef[]) => void, ready: (r: TensorRef) => boolean): void {
    const done = new Set<string>();
    const inputLayers = new Set(this.inputRefs.map((r) => r.layer));
    let progress = true;
    while (progress) {
      progress = false;
      for (const name of this.order) {
        const e = this.layers.get(name)!;
        if (inputLayers.has(name)) continue;
        e.nodes.forEach((refs, nodeIdx) => {
          const id = `${name}:${nodeIdx}`;
          if (done.has(id) || !refs.every(ready)) return;
          visit(e, nodeIdx, refs);
          done.add(id);
          progress = true;
        });
      }
    }
  }

  /** Runs the model on float64 inputs (ids as integral floats). One tensor per model output. */
  predict(inputs: Tensor64[]): Tensor64[] {
    if (inputs.length !== this.inputs.length) {
      throw new RefError("E_SHAPE", `model expects ${this.inputs.length} input(s), received ${inputs.length}`);
    }
    const values = new Map<string, { t: Tensor64; m: Mask | null }>();
    const key = (r: TensorRef) => `${r.layer}:${r.node}:${r.index}`;
    this.inputRefs.forEach((r, i) => {
      const spec = this.inputs[i];
      const x = inputs[i];
      if (x.shape.length !== spec.shape.length || spec.shape.some((d, k) => d !== null && d !== x.shape[k])) {
        throw new RefError("E_SHAPE", `input ${spec.name}: expected shape ${fmtShape(spec.shape)}, received ${fmtShape(x.shape)}`);
      }
      values.set(key(r), { t: x, m: null });
    });
    let leaked: Mask | null = null; // tfjs executor: kwargs['mask'] survives across layers
    this.forEachNode((e, nodeIdx, refs) => {
      const ins = refs.map((r) => values.get(key(r))!);
      const inMasks = ins.map((v) => v.m);
      if (inMasks.some((m) => m !== null)) leaked = inMasks[0];
      const rnnMask = this.ctx.semantics === "tfjs" ? leaked : inMasks[0];
      const res = e.impl.call(ins.map((v) => v.t), inMasks, rnnMask, this.ctx, e.args[nodeIdx] ?? {});
      res.outputs.forEach((t, i) => {
        // tfjs attaches the first output's mask to every output of a node.
        const m = this.ctx.semantics === "tfjs" ? res.masks[0] ?? null : res.masks[i] ?? null;
        values.set(`${e.name}:${nodeIdx}:${i}`, { t, m });
      });
    }, (r) => values.has(key(r)));
    return this.outputRefs.map((r) => {
      const v = values.get(key(r));
      if (v === undefined) throw new RefError("E_MODEL_JSON", `output ${key(r)} was not computed`);
      return v.t;
    });
  }
}
