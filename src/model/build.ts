/**
 * ModelArtifacts (from any importer) -> PackedModel: walks the Keras/tfjs topology, checks
 * each layer's options and weights, infers shapes and masks the way Keras propagates them,
 * and packs the weights for the kernels. Everything a model can get wrong is reported here,
 * at load, as an RnnWasmError naming the layer.
 */
import { RnnWasmError } from "../errors.js";
import type { ModelArtifacts, NamedWeight } from "../import/artifacts.js";
import { ACT, ACT_SOFTMAX, activationCode, activationName } from "./activations.js";
import {
  packGatePanels, packGateVector, packGruRecurrent, packLstmRecurrent, packPanels,
  packSimpleRnnRecurrent, padVector,
} from "./pack.js";
import { opOutputShapes } from "./shapes.js";
import type { ModelSpec, Op, PackedModel, Shape, TensorInfo, WeightSpec } from "./spec.js";

type Json = Record<string, unknown>;

interface LayerDef {
  name: string;
  className: string;
  config: Json;
}

interface LayerCall {
  layer: LayerDef;
  node: number;
  inputs: string[];
}

const tensorId = (layer: string, node: number, index: number) => `${layer}:${node}:${index}`;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function modelJsonError(msg: string): never {
  throw new RnnWasmError("E_MODEL_JSON", msg);
}

// ------------------------------------------------------------------ topology parsing

function layerDefOf(raw: unknown, where: string): LayerDef {
  if (!isObj(raw)) modelJsonError(`${where}: layer entry is not an object`);
  const className = raw.class_name;
  const config = raw.config;
  if (typeof className !== "string") modelJsonError(`${where}: layer has no class_name`);
  if (!isObj(config)) modelJsonError(`${where}: layer ${className} has no config object`);
  const name = (typeof raw.name === "string" ? raw.name : undefined) ?? (typeof config.name === "string" ? config.name : undefined);
  if (!name) modelJsonError(`${where}: layer ${className} has no name`);
  return { name, className, config };
}

function batchSizeOf(config: Json): number | undefined {
  const bs = config.batch_input_shape ?? config.batch_shape;
  return Array.isArray(bs) && typeof bs[0] === "number" && bs[0] > 0 ? bs[0] : undefined;
}

function batchShapeOf(config: Json): Shape | null {
  const bs = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(bs)) return (bs as unknown[]).slice(1).map((d) => (typeof d === "number" ? d : null));
  if (Array.isArray(config.input_shape)) return (config.input_shape as unknown[]).map((d) => (typeof d === "number" ? d : null));
  if (typeof config.input_dim === "number" && config.input_length === undefined && config.output_dim === undefined) {
    return [config.input_dim];
  }
  if (typeof config.input_length === "number") return [config.input_length];
  return null;
}

interface ParsedGraph {
  name: string;
  className: string;
  inputs: { name: string; tensor: string; shape: Shape; dtype: string; batch?: number }[];
  calls: LayerCall[];
  outputs: { name: string; tensor: string }[];
}

function parseRef(ref: unknown, where: string): string {
  if (!Array.isArray(ref) || typeof ref[0] !== "string") modelJsonError(`${where}: bad tensor reference ${JSON.stringify(ref)}`);
  const node = typeof ref[1] === "number" ? ref[1] : 0;
  const index = typeof ref[2] === "number" ? ref[2] : 0;
  return tensorId(ref[0], node, index);
}

function refList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0) modelJsonError(`${where} is missing or empty`);
  // a single reference [name, node, index] or a list of them
  if (typeof v[0] === "string") return [parseRef(v, where)];
  return v.map((r) => parseRef(r, where));
}

function parseTopology(art: ModelArtifacts): ParsedGraph {
  let topo: unknown = art.topology;
  if (!isObj(topo)) modelJsonError("model topology is not an object");
  // tfjs model.json: modelTopology = { keras_version, backend, model_config: {...} }
  if (isObj(topo.model_config)) topo = topo.model_config;
  if (!isObj(topo)) modelJsonError("model_config is not an object");
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
      const shape = batchShapeOf(defs[0].config);
      if (!shape) modelJsonError(`InputLayer ${defs[0].name} has no batch_input_shape`);
      input = { name: defs[0].name, tensor: tensorId(defs[0].name, 0, 0), shape, dtype: String(defs[0].config.dtype ?? "float32"), batch: batchSizeOf(defs[0].config) };
      start = 1;
    } else {
      const shape = batchShapeOf(defs[0].config);
      if (!shape) modelJsonError(`the first layer (${defs[0].name}) declares no input shape (batch_input_shape)`);
      const inName = `${defs[0].name}_input`;
      input = { name: inName, tensor: tensorId(inName, 0, 0), shape, dtype: String(defs[0].config.dtype ?? "float32"), batch: batchSizeOf(defs[0].config) };
    }
    const calls: LayerCall[] = [];
    let prev = input.tensor;
    for (let i = start; i < defs.length; i++) {
      calls.push({ layer: defs[i], node: 0, inputs: [prev] });
      prev = tensorId(defs[i].name, 0, 0);
    }
    return { name, className, inputs: [input], calls, outputs: [{ name: defs[defs.length - 1].name, tensor: prev }] };
  }
  if (className === "Functional" || className === "Model") {
    if (!isObj(cfg) || !Array.isArray(cfg.layers)) modelJsonError(`${className} model has no layers`);
    const name = typeof cfg.name === "string" ? cfg.name : "model";
    const inputs: ParsedGraph["inputs"] = [];
    const calls: LayerCall[] = [];
    (cfg.layers as unknown[]).forEach((raw, i) => {
      const def = layerDefOf(raw, `layer ${i}`);
      if (def.className === "InputLayer") {
        const shape = batchShapeOf(def.config);
        if (!shape) modelJsonError(`InputLayer ${def.name} has no batch_input_shape`);
        inputs.push({ name: def.name, tensor: tensorId(def.name, 0, 0), shape, dtype: String(def.config.dtype ?? "float32"), batch: batchSizeOf(def.config) });
        return;
      }
      const nodes = (raw as Json).inbound_nodes;
      if (!Array.isArray(nodes)) modelJsonError(`layer ${def.name} has no inbound_nodes`);
      nodes.forEach((node, n) => {
        if (!Array.isArray(node)) modelJsonError(`layer ${def.name}: inbound node ${n} is not a list`);
        calls.push({ layer: def, node: n, inputs: node.map((r) => parseRef(r, `layer ${def.name} inbound node ${n}`)) });
      });
    });
    const inputOrder = refList(cfg.input_layers, "input_layers");
    const byTensor = new Map(inputs.map((i) => [i.tensor, i]));
    const orderedInputs = inputOrder.map((t) => {
      const i = byTensor.get(t);
      if (!i) modelJsonError(`input_layers names ${t}, which is not an InputLayer`);
      return i;
    });
    const outs = refList(cfg.output_layers, "output_layers").map((t) => {
      const [layer, , index] = t.split(":");
      return { name: index === "0" ? layer : `${layer}:${index}`, tensor: t };
    });
    return { name, className, inputs: orderedInputs, calls, outputs: outs };
  }
  throw new RnnWasmError("E_UNSUPPORTED_LAYER", `model class ${className} is not supported (expected Sequential, Functional or Model)`);
}

// ------------------------------------------------------------------ weights

interface WeightEntry { path: string[]; role: string; w: NamedWeight }

class WeightIndex {
  private entries: WeightEntry[];
  constructor(weights: NamedWeight[]) {
    this.entries = weights.map((w) => {
      const path = w.name.replace(/:\d+$/, "").split("/");
      return { path, role: path[path.length - 1], w };
    });
  }

  /** Weights belonging to `layer`: first path component equal to it, else any component. */
  forLayer(layer: string): WeightEntry[] {
    const first = this.entries.filter((e) => e.path.length > 1 && e.path[0] === layer);
    if (first.length) return first;
    return this.entries.filter((e) => e.path.slice(0, -1).includes(layer));
  }

  names(): string[] {
    return this.entries.map((e) => e.w.name);
  }
}

class LayerWeights {
  constructor(private layer: LayerDef, private entries: WeightEntry[], private all: WeightIndex) {}

  /** Restricts to one side of a Bidirectional wrapper. */
  side(prefix: "forward" | "backward"): LayerWeights {
    const sel = this.entries.filter((e) => e.path.slice(1, -1).some((c) => c.startsWith(prefix)));
    return new LayerWeights(this.layer, sel, this.all);
  }

  has(role: string): boolean {
    return this.entries.some((e) => e.role === role);
  }

  get(role: string, expected: (number | null)[] | ((shape: number[]) => boolean), expectedText?: string): NamedWeight {
    const found = this.entries.filter((e) => e.role === role);
    const L = `layer ${this.layer.name} (${this.layer.className})`;
    if (found.length === 0) {
      const have = this.entries.map((e) => e.w.name);
      throw new RnnWasmError(
        "E_WEIGHTS",
        `${L} needs weight "${role}" but none was found; weights for this layer: [${have.join(", ") || "none"}]` +
          (have.length ? "" : `; all weights: [${this.all.names().slice(0, 20).join(", ")}${this.all.names().length > 20 ? ", ..." : ""}]`),
      );
    }
    if (found.length > 1) {
      throw new RnnWasmError("E_WEIGHTS", `${L}: weight "${role}" is ambiguous: [${found.map((e) => e.w.name).join(", ")}]`);
    }
    const w = found[0].w;
    const ok = typeof expected === "function"
      ? expected(w.shape)
      : w.shape.length === expected.length && expected.every((d, i) => d === null || d === w.shape[i]);
    if (!ok) {
      throw new RnnWasmError(
        "E_WEIGHTS",
        `${L}: weight ${w.name} has shape [${w.shape.join(", ")}], expected ${expectedText ?? `[${(expected as unknown[]).map((d) => d ?? "?").join(", ")}]`}`,
      );
    }
    const count = w.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== count) {
      throw new RnnWasmError("E_WEIGHTS", `${L}: weight ${w.name} holds ${w.data.length} values, its shape [${w.shape.join(", ")}] needs ${count}`);
    }
    // a NaN or infinite weight (a diverged training run, a damaged file) would make every
    // output NaN without a word: refuse it here, where the layer and weight can be named
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(w.data[i])) {
        throw new RnnWasmError("E_WEIGHTS", `${L}: weight ${w.name} holds ${w.data[i]} at flat index ${i}; weights must be finite (did the training diverge?)`);
      }
    }
    return w;
  }
}

// ------------------------------------------------------------------ builder

const IDENTITY_LAYERS = new Set([
  "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
  "ActivityRegularization",
]);


class Builder {
  ops: Op[] = [];
  tensors: Record<string, TensorInfo> = {};
  weights: WeightSpec[] = [];
  data = new Map<string, Float32Array>();
  private aliases = new Map<string, string>();
  readonly keras3: boolean;
  readonly recurrentDefault: string;
  /**
   * Where tfjs-layers and Keras differ (masked GlobalAveragePooling1D, Bidirectional outputs
   * at masked steps), follow the framework that wrote the model: models saved by tfjs
   * (keras_version "tfjs-layers x") get tfjs' behaviour, Keras-written ones (also when
   * converted to tfjs) Keras' behaviour, i.e. what the model did when it was trained.
   */
  readonly tfjsSemantics: boolean;

  constructor(private art: ModelArtifacts, private index: WeightIndex) {
    const v = art.kerasVersion ?? "";
    this.keras3 = art.origin === "keras3" || /^3\./.test(v);
    // Keras <= 2.2 and tfjs default LSTM/GRU recurrent_activation to hard_sigmoid; tf.keras
    // 2.3+ and Keras 3 to sigmoid. Only used when a config omits the key.
    const m = /^2\.(\d+)/.exec(v);
    this.recurrentDefault = this.keras3 || (m && Number(m[1]) >= 3) ? "sigmoid" : "hard_sigmoid";
    this.tfjsSemantics = /^tfjs/i.test(v) || (art.origin === "tfjs" && v === "");
  }

  resolve(id: string): string {
    let cur = id;
    for (let guard = 0; this.aliases.has(cur) && guard < 10000; guard++) cur = this.aliases.get(cur)!;
    return cur;
  }

  info(id: string): TensorInfo {
    const t = this.tensors[this.resolve(id)];
    if (!t) modelJsonError(`tensor ${id} is used before it is produced`);
    return t;
  }

  alias(out: string, input: string): void {
    this.aliases.set(out, this.resolve(input));
  }

  weightsOf(layer: LayerDef): LayerWeights {
    return new LayerWeights(layer, this.index.forLayer(layer.name), this.index);
  }

  addWeight(name: string, layout: string, data: Float32Array, sourceShape: number[], params: number): string {
    if (!this.data.has(name)) {
      this.weights.push({ name, layout, length: data.length, sourceShape, params });
      this.data.set(name, data);
    }
    return name;
  }

  /** Appends `op`, computing its output shapes; returns the output ids. */
  emit(op: Op, mask?: string): string[] {
    op.inputs = op.inputs.map((i) => this.resolve(i));
    const shapes = opOutputShapes(op, op.inputs.map((i) => this.info(i).shape));
    op.outputs.forEach((o, k) => {
      this.tensors[o] = { shape: shapes[k] };
    });
    if (mask) this.tensors[op.outputs[0]].mask = mask;
    this.ops.push(op);
    return op.outputs;
  }

  act(value: unknown, where: string, fallback = "linear"): number {
    return activationCode(activationName(value === undefined ? fallback : value, where), this.keras3);
  }
}

function num(config: Json, key: string, fallback?: number): number {
  const v = config[key];
  if (Array.isArray(v) && typeof v[0] === "number") return v[0];
  if (typeof v === "number") return v;
  if (fallback !== undefined) return fallback;
  throw new RnnWasmError("E_MODEL_JSON", `layer ${String(config.name)}: option ${key} is missing`);
}

function bool(config: Json, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === "boolean" ? v : fallback;
}

function unsupported(layer: LayerDef, option: string, value: unknown, why = ""): never {
  throw new RnnWasmError(
    "E_UNSUPPORTED_OPTION",
    `layer ${layer.name} (${layer.className}): ${option}=${JSON.stringify(value)} is not supported${why ? ` (${why})` : ""}`,
  );
}

function featureDim(b: Builder, layer: LayerDef, input: string, rank?: number): number {
  const shape = b.info(input).shape;
  if (rank !== undefined && shape.length !== rank) {
    throw new RnnWasmError(
      "E_SHAPE",
      `layer ${layer.name} (${layer.className}) expects input of rank ${rank + 1} (with batch), received shape [batch, ${shape.map((d) => d ?? "?").join(", ")}]`,
    );
  }
  const f = shape[shape.length - 1];
  if (typeof f !== "number") {
    throw new RnnWasmError("E_SHAPE", `layer ${layer.name} (${layer.className}): the feature axis of its input must be known, got [${shape.join(", ")}]`);
  }
  return f;
}

function requireNoMask(b: Builder, layer: LayerDef, inputs: string[]): void {
  for (const i of inputs) {
    if (b.info(i).mask) {
      throw new RnnWasmError(
        "E_UNSUPPORTED_OPTION",
        `layer ${layer.name} (${layer.className}) does not support masking, but its input carries a mask (as in Keras and tfjs, which reject this model)`,
      );
    }
  }
}

// ------------------------------------------------------------------ layer translation

interface RnnConfig {
  cell: "lstm" | "gru" | "simple_rnn";
  G: number;
}

const RNN_CLASSES: Record<string, RnnConfig> = {
  LSTM: { cell: "lstm", G: 4 },
  GRU: { cell: "gru", G: 3 },
  SimpleRNN: { cell: "simple_rnn", G: 1 },
};

function emitRnn(
  b: Builder, outer: LayerDef, inner: LayerDef, w: LayerWeights, input: string, initialStates: string[],
  outIds: string[],
  overrides: { goBackwards?: boolean; alignOutput?: boolean; returnSequences?: boolean; returnState?: boolean; zeroOutputForMask?: boolean },
  weightPrefix: string,
): string[] {
  const rc = RNN_CLASSES[inner.className];
  const c = inner.config;
  const where = `layer ${outer.name} (${inner.className})`;
  const u = num(c, "units");
  if (!Number.isInteger(u) || u < 1) unsupported(inner, "units", c.units);
  if (c.time_major === true) unsupported(inner, "time_major", true);
  if (c.unroll === true) {
    // unroll changes nothing numerically; accepted
  }
  const inDim = featureDim(b, outer, input, 2);
  const G = rc.G;
  const resetAfter = rc.cell === "gru" ? bool(c, "reset_after", false) : false;
  const kernel = w.get("kernel", [inDim, G * u]);
  const rec = w.get("recurrent_kernel", [u, G * u]);
  const useBias = bool(c, "use_bias", true);
  const name = `${weightPrefix}${outer.name}`;
  const weights: Extract<Op, { op: "rnn" }>["weights"] = {
    kernel: b.addWeight(`${name}/kernel`, "panels", packGatePanels(kernel.data, inDim, G, u), kernel.shape, kernel.data.length),
    recurrentKernel: "",
  };
  let recParams = rec.data.length;
  if (useBias) {
    if (resetAfter) {
      const bias = w.get("bias", (s) => (s.length === 2 && s[0] === 2 && s[1] === 3 * u) || (s.length === 1 && s[0] === 6 * u), `[2, ${3 * u}] (reset_after=true)`);
      weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(bias.data, 3, u, 0), bias.shape, bias.data.length);
      weights.recurrentBias = b.addWeight(`${name}/recurrent_bias`, "gate_vector", packGateVector(bias.data, 3, u, 3 * u), [3 * u], 0);
    } else {
      const bias = w.get("bias", [G * u]);
      weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(bias.data, G, u, 0), bias.shape, bias.data.length);
    }
  } else if (w.has("bias")) {
    recParams += 0; // a bias stored for a use_bias=false layer is ignored, as Keras would
  }
  const recPacked = rc.cell === "lstm" ? packLstmRecurrent(rec.data, u)
    : rc.cell === "gru" ? packGruRecurrent(rec.data, u, resetAfter)
    : packSimpleRnnRecurrent(rec.data, u);
  weights.recurrentKernel = b.addWeight(`${name}/recurrent_kernel`, `${rc.cell}_rec${resetAfter ? "_reset_after" : ""}`, recPacked, rec.shape, recParams);

  const returnSequences = overrides.returnSequences ?? bool(c, "return_sequences", false);
  const returnState = overrides.returnState ?? bool(c, "return_state", false);
  const nStates = rc.cell === "lstm" ? 2 : 1;
  if (initialStates.length && initialStates.length !== nStates) {
    throw new RnnWasmError("E_MODEL_JSON", `${where}: expected ${nStates} initial state tensors, received ${initialStates.length}`);
  }
  for (const s of initialStates) {
    const sh = b.info(s).shape;
    if (sh.length !== 1 || sh[0] !== u) {
      throw new RnnWasmError("E_SHAPE", `${where}: initial state must have shape [batch, ${u}], received [batch, ${sh.join(", ")}]`);
    }
  }
  const op: Op = {
    op: "rnn",
    layer: outer.name,
    inputs: [input, ...initialStates],
    outputs: returnState ? outIds.slice(0, 1 + nStates) : outIds.slice(0, 1),
    cell: rc.cell,
    units: u,
    inDim,
    activation: b.act(c.activation, where, "tanh"),
    recurrentActivation: rc.cell === "simple_rnn" ? ACT.linear : b.act(c.recurrent_activation, where, b.recurrentDefault),
    returnSequences,
    returnState,
    goBackwards: overrides.goBackwards ?? bool(c, "go_backwards", false),
    alignOutput: overrides.alignOutput ?? false,
    zeroOutputForMask: overrides.zeroOutputForMask ?? (c.zero_output_for_mask === true && !b.tfjsSemantics),
    resetAfter,
    stateful: bool(c, "stateful", false),
    weights,
  };
  if (op.activation >= 100 || op.recurrentActivation >= 100) unsupported(inner, "activation", c.activation, "softmax inside a recurrent cell");
  const inMask = b.info(input).mask;
  const outs = b.emit(op, returnSequences ? inMask : undefined);
  return outs;
}

function translate(b: Builder, call: LayerCall, graphInputs: Set<string>): void {
  const { layer } = call;
  const c = layer.config;
  const outId = (k: number) => tensorId(layer.name, call.node, k);
  const x = call.inputs[0];
  const where = `layer ${layer.name} (${layer.className})`;
  const cls = layer.className;

  if (IDENTITY_LAYERS.has(cls)) {
    b.alias(outId(0), x);
    return;
  }
  if (c.data_format !== undefined && c.data_format !== "channels_last") unsupported(layer, "data_format", c.data_format);

  switch (cls) {
    case "Embedding": {
      const inputDim = num(c, "input_dim");
      const outputDim = num(c, "output_dim");
      const table = b.weightsOf(layer).get("embeddings", [inputDim, outputDim]);
      const maskZero = bool(c, "mask_zero", false);
      const outs = [outId(0)];
      const op: Op = {
        op: "embedding", layer: layer.name, inputs: [x], outputs: outs, inputDim, outputDim, maskZero,
        weights: { table: b.addWeight(`${layer.name}/embeddings`, "rows", table.data, table.shape, table.data.length) },
      };
      if (!graphInputs.has(b.resolve(x))) {
        throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: its input must be a model input (token ids), not the output of another layer`);
      }
      let mask: string | undefined;
      if (maskZero) {
        mask = `${outId(0)}/mask`;
        op.outputs.push(mask);
      }
      b.emit(op);
      if (mask) {
        b.tensors[mask] = { shape: b.info(x).shape };
        b.tensors[outId(0)].mask = mask;
      }
      return;
    }
    case "Dense": {
      const units = num(c, "units");
      const inDim = featureDim(b, layer, x);
      const w = b.weightsOf(layer);
      const kernel = w.get("kernel", [inDim, units]);
      const useBias = bool(c, "use_bias", true);
      const weights: { kernel: string; bias?: string } = {
        kernel: b.addWeight(`${layer.name}/kernel`, "panels", packPanels(kernel.data, inDim, units), kernel.shape, kernel.data.length),
      };
      if (useBias) {
        const bias = w.get("bias", [units]);
        weights.bias = b.addWeight(`${layer.name}/bias`, "panels_bias", padVector(bias.data, units), bias.shape, bias.data.length);
      }
      b.emit({ op: "dense", layer: layer.name, inputs: [x], outputs: [outId(0)], units, inDim, activation: b.act(c.activation, where), weights },
        b.info(x).mask);
      return;
    }
    case "TimeDistributed": {
      const innerRaw = c.layer;
      if (!isObj(innerRaw)) modelJsonError(`${where} has no inner layer config`);
      const inner = layerDefOf(innerRaw, where);
      const shape = b.info(x).shape;
      if (shape.length < 2) throw new RnnWasmError("E_SHAPE", `${where} expects a sequence input [batch, time, ...]`);
      if (inner.className === "Dense" || inner.className === "Activation" || IDENTITY_LAYERS.has(inner.className)) {
        // Dense and activations act on the last axis, so wrapping them changes nothing; the
        // weights are stored under the wrapper's name.
        translate(b, { layer: { ...inner, name: layer.name }, node: call.node, inputs: call.inputs }, graphInputs);
        return;
      }
      throw new RnnWasmError("E_UNSUPPORTED_LAYER", `${where}: wrapping ${inner.className} is not supported (Dense, Activation and Dropout are)`);
    }
    case "LSTM":
    case "GRU":
    case "SimpleRNN": {
      const outs = emitRnn(b, layer, layer, b.weightsOf(layer), x, call.inputs.slice(1), [outId(0), outId(1), outId(2)], {}, "");
      void outs;
      return;
    }
    case "Bidirectional": {
      const innerRaw = c.layer;
      if (!isObj(innerRaw)) modelJsonError(`${where} has no inner layer config`);
      const inner = layerDefOf(innerRaw, where);
      if (!RNN_CLASSES[inner.className]) throw new RnnWasmError("E_UNSUPPORTED_LAYER", `${where}: wrapping ${inner.className} is not supported`);
      const backRaw = c.backward_layer;
      const backInner = isObj(backRaw) ? layerDefOf(backRaw, where) : inner;
      if (backInner.className !== inner.className) unsupported(layer, "backward_layer", backInner.className, "must be the same class as the forward layer");
      const mergeMode = c.merge_mode === undefined ? "concat" : c.merge_mode;
      if (mergeMode !== null && !["concat", "sum", "mul", "ave"].includes(String(mergeMode))) unsupported(layer, "merge_mode", mergeMode);
      const returnSequences = bool(inner.config, "return_sequences", false);
      const returnState = bool(inner.config, "return_state", false);
      const nStates = inner.className === "LSTM" ? 2 : 1;
      const states = call.inputs.slice(1);
      if (states.length && states.length !== 2 * nStates) {
        throw new RnnWasmError("E_MODEL_JSON", `${where}: expected ${2 * nStates} initial state tensors, received ${states.length}`);
      }
      const w = b.weightsOf(layer);
      const fwdIds = [`${outId(0)}/fwd`, ...Array.from({ length: nStates }, (_, i) => `${outId(0)}/fwd_state${i}`)];
      const bwdIds = [`${outId(0)}/bwd`, ...Array.from({ length: nStates }, (_, i) => `${outId(0)}/bwd_state${i}`)];
      const fGo = bool(inner.config, "go_backwards", false);
      const bGo = isObj(backRaw) ? bool(backInner.config, "go_backwards", true) : !fGo;
      // Keras' Bidirectional forces zero_output_for_mask = return_sequences; tfjs carries h
      const zeroOutputForMask = returnSequences && !b.tfjsSemantics;
      emitRnn(b, layer, inner, w.side("forward"), x, states.slice(0, nStates), fwdIds,
        { goBackwards: fGo, alignOutput: false, returnSequences, returnState, zeroOutputForMask }, "forward/");
      // tfjs/Keras reverse the backward layer's sequence output back to input time order
      emitRnn(b, layer, backInner, w.side("backward"), x, states.slice(nStates), bwdIds,
        { goBackwards: bGo, alignOutput: returnSequences && bGo, returnSequences, returnState, zeroOutputForMask }, "backward/");
      const mask = returnSequences ? b.info(x).mask : undefined;
      let k = 0;
      if (mergeMode === null) {
        b.alias(outId(k++), fwdIds[0]);
        b.alias(outId(k++), bwdIds[0]);
      } else {
        const mode = mergeMode === "concat" ? "concat" : mergeMode === "sum" ? "add" : mergeMode === "mul" ? "mul" : "avg";
        b.emit({ op: "merge", layer: layer.name, inputs: [fwdIds[0], bwdIds[0]], outputs: [outId(k++)], mode, axis: -1 }, mask);
      }
      if (returnState) {
        for (let i = 1; i <= nStates; i++) b.alias(outId(k++), fwdIds[i]);
        for (let i = 1; i <= nStates; i++) b.alias(outId(k++), bwdIds[i]);
      }
      return;
    }
    case "Activation":
    case "Softmax": {
      if (cls === "Softmax") {
        const axis = c.axis ?? -1;
        const rank = b.info(x).shape.length;
        if (!(axis === -1 || (Array.isArray(axis) && axis.length === 1 && axis[0] === -1) || axis === rank)) unsupported(layer, "axis", axis, "softmax over the last axis only");
      }
      const code = cls === "Softmax" ? ACT_SOFTMAX : b.act(c.activation, where);
      if (code === ACT.linear) {
        b.alias(outId(0), x);
        return;
      }
      b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: code }, b.info(x).mask);
      return;
    }
    case "ReLU":
    case "LeakyReLU": {
      let maxValue: number | null = null;
      let negativeSlope = 0;
      let threshold = 0;
      if (cls === "ReLU") {
        maxValue = typeof c.max_value === "number" ? c.max_value : null;
        negativeSlope = typeof c.negative_slope === "number" ? c.negative_slope : 0;
        threshold = typeof c.threshold === "number" ? c.threshold : 0;
      } else {
        negativeSlope = typeof c.alpha === "number" ? c.alpha : typeof c.negative_slope === "number" ? c.negative_slope : 0.3;
      }
      if (maxValue === null && negativeSlope === 0 && threshold === 0) {
        b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: ACT.relu }, b.info(x).mask);
      } else {
        b.emit({ op: "relu", layer: layer.name, inputs: [x], outputs: [outId(0)], maxValue, negativeSlope, threshold }, b.info(x).mask);
      }
      return;
    }
    case "ELU": {
      const alpha = typeof c.alpha === "number" ? c.alpha : 1;
      if (alpha !== 1) unsupported(layer, "alpha", alpha, "ELU with alpha 1 only");
      b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: ACT.elu }, b.info(x).mask);
      return;
    }
    case "Masking": {
      const maskValue = typeof c.mask_value === "number" ? c.mask_value : 0;
      const shape = b.info(x).shape;
      if (shape.length !== 2) throw new RnnWasmError("E_SHAPE", `${where} expects [batch, time, features] input`);
      const mask = `${outId(0)}/mask`;
      b.emit({ op: "masking", layer: layer.name, inputs: [x], outputs: [outId(0), mask], maskValue });
      b.tensors[mask] = { shape: [shape[0]] };
      b.tensors[outId(0)].mask = mask;
      return;
    }
    case "GlobalAveragePooling1D":
    case "GlobalMaxPooling1D":
    case "GlobalAvgPool1D":
    case "GlobalMaxPool1D": {
      if (b.info(x).shape.length !== 2) throw new RnnWasmError("E_SHAPE", `${where} expects [batch, time, features] input`);
      if (c.keepdims === true) unsupported(layer, "keepdims", true);
      b.emit({ op: "global_pool", layer: layer.name, inputs: [x], outputs: [outId(0)], mode: cls.includes("Max") ? "max" : "avg", maskAware: !b.tfjsSemantics });
      return;
    }
    case "MaxPooling1D":
    case "AveragePooling1D":
    case "MaxPool1D":
    case "AvgPool1D": {
      requireNoMask(b, layer, [x]);
      featureDim(b, layer, x, 2);
      const poolSize = num(c, "pool_size", 2);
      const strides = c.strides === null || c.strides === undefined ? poolSize : num(c, "strides");
      const padding = String(c.padding ?? "valid");
      if (padding !== "valid" && padding !== "same") unsupported(layer, "padding", padding);
      b.emit({ op: "pool1d", layer: layer.name, inputs: [x], outputs: [outId(0)], mode: cls.startsWith("Max") ? "max" : "avg", poolSize, strides, padding });
      checkPositiveTime(b, layer, outId(0));
      return;
    }
    case "Conv1D": {
      requireNoMask(b, layer, [x]);
      const inDim = featureDim(b, layer, x, 2);
      const filters = num(c, "filters");
      const kernelSize = num(c, "kernel_size");
      const strides = num(c, "strides", 1);
      const dilation = num(c, "dilation_rate", 1);
      const padding = String(c.padding ?? "valid");
      if (!["valid", "same", "causal"].includes(padding)) unsupported(layer, "padding", padding);
      if (num(c, "groups", 1) !== 1) unsupported(layer, "groups", c.groups);
      if (strides > 1 && dilation > 1) unsupported(layer, "strides with dilation_rate", [strides, dilation]);
      const w = b.weightsOf(layer);
      const kernel = w.get("kernel", [kernelSize, inDim, filters]);
      const weights: { kernel: string; bias?: string } = {
        kernel: b.addWeight(`${layer.name}/kernel`, "panels", packPanels(kernel.data, kernelSize * inDim, filters), kernel.shape, kernel.data.length),
      };
      if (bool(c, "use_bias", true)) {
        const bias = w.get("bias", [filters]);
        weights.bias = b.addWeight(`${layer.name}/bias`, "panels_bias", padVector(bias.data, filters), bias.shape, bias.data.length);
      }
      b.emit({
        op: "conv1d", layer: layer.name, inputs: [x], outputs: [outId(0)], filters, kernelSize, inDim, strides, dilation,
        padding: padding as "valid" | "same" | "causal", activation: b.act(c.activation, where), weights,
      });
      checkPositiveTime(b, layer, outId(0));
      return;
    }
    case "BatchNormalization": {
      const shape = b.info(x).shape;
      const F = featureDim(b, layer, x);
      const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
      if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === shape.length)) unsupported(layer, "axis", c.axis, "normalisation over the last axis only");
      const eps = typeof c.epsilon === "number" ? c.epsilon : 1e-3;
      const w = b.weightsOf(layer);
      const center = bool(c, "center", true);
      const scaleOn = bool(c, "scale", true);
      const gamma = scaleOn ? w.get("gamma", [F]).data : null;
      const beta = center ? w.get("beta", [F]).data : null;
      const mean = w.get("moving_mean", [F]).data;
      const variance = w.get("moving_variance", [F]).data;
      // y = (x - mean) / sqrt(var + eps) * gamma + beta, folded into one multiply-add
      const scale = new Float32Array(F);
      const shift = new Float32Array(F);
      for (let i = 0; i < F; i++) {
        const s = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
        scale[i] = s;
        shift[i] = (beta ? beta[i] : 0) - mean[i] * s;
      }
      const params = F * (2 + (gamma ? 1 : 0) + (beta ? 1 : 0));
      b.emit({
        op: "scale_shift", layer: layer.name, inputs: [x], outputs: [outId(0)],
        weights: {
          scale: b.addWeight(`${layer.name}/scale`, "vector", scale, [F], params),
          shift: b.addWeight(`${layer.name}/shift`, "vector", shift, [F], 0),
        },
      }, b.info(x).mask);
      return;
    }
    case "LayerNormalization": {
      const shape = b.info(x).shape;
      const F = featureDim(b, layer, x);
      const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
      if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === shape.length)) unsupported(layer, "axis", c.axis, "normalisation over the last axis only");
      const w = b.weightsOf(layer);
      const weights: { gamma?: string; beta?: string } = {};
      if (bool(c, "scale", true)) {
        const g = w.get("gamma", [F]);
        weights.gamma = b.addWeight(`${layer.name}/gamma`, "vector", g.data, g.shape, F);
      }
      if (bool(c, "center", true)) {
        const be = w.get("beta", [F]);
        weights.beta = b.addWeight(`${layer.name}/beta`, "vector", be.data, be.shape, F);
      }
      const epsilon = typeof c.epsilon === "number" ? c.epsilon : 1e-3;
      b.emit({ op: "layer_norm", layer: layer.name, inputs: [x], outputs: [outId(0)], epsilon, weights }, b.info(x).mask);
      return;
    }
    case "Flatten":
    case "Reshape": {
      requireNoMask(b, layer, [x]);
      let target: number[];
      if (cls === "Flatten") target = [-1];
      else {
        if (!Array.isArray(c.target_shape)) modelJsonError(`${where} has no target_shape`);
        target = (c.target_shape as unknown[]).map((d) => (typeof d === "number" ? d : -1));
      }
      b.emit({ op: "reshape", layer: layer.name, inputs: [x], outputs: [outId(0)], target });
      return;
    }
    case "RepeatVector": {
      requireNoMask(b, layer, [x]);
      if (b.info(x).shape.length !== 1) throw new RnnWasmError("E_SHAPE", `${where} expects [batch, features] input`);
      b.emit({ op: "repeat", layer: layer.name, inputs: [x], outputs: [outId(0)], n: num(c, "n") });
      return;
    }
    case "Concatenate":
    case "Add":
    case "Subtract":
    case "Multiply":
    case "Average":
    case "Maximum":
    case "Minimum": {
      if (call.inputs.length < 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs at least 2 inputs, received ${call.inputs.length}`);
      const shapes = call.inputs.map((i) => b.info(i).shape);
      const mode = ({ Concatenate: "concat", Add: "add", Subtract: "sub", Multiply: "mul", Average: "avg", Maximum: "max", Minimum: "min" } as const)[cls];
      if (mode === "sub" && call.inputs.length !== 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs exactly 2 inputs`);
      if (mode === "concat") {
        const axis = typeof c.axis === "number" ? c.axis : -1;
        const rank = shapes[0].length;
        if (!(axis === -1 || axis === rank)) unsupported(layer, "axis", axis, "concatenation along the last axis only");
        for (const s of shapes) {
          if (s.length !== rank || s.slice(0, -1).some((d, i) => d !== shapes[0][i])) {
            throw new RnnWasmError("E_SHAPE", `${where}: inputs [${shapes.map((s2) => `[${s2.join(", ")}]`).join(", ")}] cannot be concatenated on the last axis`);
          }
        }
      } else {
        for (const s of shapes) {
          if (s.length !== shapes[0].length || s.some((d, i) => d !== shapes[0][i])) {
            throw new RnnWasmError("E_SHAPE", `${where}: input shapes must match, received ${shapes.map((s2) => `[${s2.join(", ")}]`).join(" and ")}`);
          }
        }
      }
      const masks = call.inputs.map((i) => b.info(i).mask).filter((m): m is string => !!m);
      let mask: string | undefined;
      const outs = [outId(0)];
      if (masks.length) {
        mask = `${outId(0)}/mask`;
        outs.push(mask);
      }
      b.emit({ op: "merge", layer: layer.name, inputs: call.inputs, outputs: outs, mode, axis: -1 });
      if (mask) {
        b.tensors[mask] = { shape: [shapes[0][0]] };
        b.tensors[outId(0)].mask = mask;
      }
      return;
    }
    case "InputLayer":
      modelJsonError(`InputLayer ${layer.name} appears inside the layer chain`);
    // eslint-disable-next-line no-fallthrough
    default:
      throw new RnnWasmError(
        "E_UNSUPPORTED_LAYER",
        `layer ${layer.name} has class ${cls}, which rnn-wasm does not support (see the README for the supported layers)`,
      );
  }
}

function checkPositiveTime(b: Builder, layer: LayerDef, out: string): void {
  const T = b.info(out).shape[0];
  if (typeof T === "number" && T < 1) {
    throw new RnnWasmError("E_SHAPE", `layer ${layer.name} (${layer.className}) would produce ${T} timesteps from its input`);
  }
}

// ------------------------------------------------------------------ entry

export function buildModel(art: ModelArtifacts): PackedModel {
  const g = parseTopology(art);
  const b = new Builder(art, new WeightIndex(art.weights));
  const consumers = new Map<string, string[]>();
  for (const call of g.calls) for (const i of call.inputs) consumers.set(i, [...(consumers.get(i) ?? []), call.layer.className]);
  const inputs: ModelSpec["inputs"] = g.inputs.map((i) => {
    const cons = consumers.get(i.tensor) ?? [];
    const dtype: "float32" | "int32" = (cons.length > 0 && cons.every((cl) => cl === "Embedding")) || /^int/.test(i.dtype) ? "int32" : "float32";
    b.tensors[i.tensor] = { shape: i.shape };
    return { name: i.name, tensor: i.tensor, shape: i.shape, dtype, ...(i.batch !== undefined ? { batch: i.batch } : {}) };
  });
  const graphInputs = new Set(inputs.map((i) => i.tensor));
  // topological order by tensor availability (configs list layers in creation order,
  // which is usually but not always a valid order for every node)
  const pending = [...g.calls];
  const layers: NonNullable<ModelSpec["layers"]> = [];
  const available = new Set(graphInputs);
  const produced = (call: LayerCall) => call.inputs.every((i) => available.has(i));
  while (pending.length) {
    const idx = pending.findIndex(produced);
    if (idx < 0) {
      const call = pending[0];
      const missing = call.inputs.find((i) => !available.has(i))!;
      modelJsonError(`layer ${call.layer.name} consumes tensor ${missing.split(":")[0]} (node ${missing.split(":")[1]}, output ${missing.split(":")[2]}), which no layer produces`);
    }
    const call = pending.splice(idx, 1)[0];
    translate(b, call, graphInputs);
    if (call.node === 0) {
      const inner = (call.layer.config.layer as { class_name?: string } | undefined)?.class_name;
      layers.push({ name: call.layer.name, className: call.layer.className, ...(inner ? { inner } : {}) });
    }
    for (let k = 0; k < 8; k++) {
      const id = tensorId(call.layer.name, call.node, k);
      if (b.tensors[b.resolve(id)]) available.add(id);
    }
  }
  const outputs = g.outputs.map((o) => {
    const t = b.resolve(o.tensor);
    if (!b.tensors[t]) modelJsonError(`output ${o.name} is not produced by any layer`);
    return { name: o.name, tensor: t };
  });
  // keep only ops that contribute to an output (e.g. unused return_state branches stay)
  const spec: ModelSpec = {
    name: g.name,
    inputs,
    outputs,
    tensors: b.tensors,
    ops: b.ops,
    weights: b.weights,
    layers,
    source: { origin: art.origin, kerasVersion: art.kerasVersion, className: g.className },
  };
  return { spec, data: b.data };
}
