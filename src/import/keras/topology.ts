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
  inputs: string[];
}

export const tensorId = (layer: string, node: number, index: number) => `${layer}:${node}:${index}`;

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

export function parseTopology(art: ModelArtifacts): ParsedGraph {
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
      const where = `InputLayer ${defs[0].name}`;
      const shape = batchShapeOf(defs[0].config, where);
      if (!shape) modelJsonError(`${where} has no batch_input_shape`);
      input = { name: defs[0].name, tensor: tensorId(defs[0].name, 0, 0), shape, dtype: String(defs[0].config.dtype ?? "float32"), batch: batchSizeOf(defs[0].config, where) };
      start = 1;
    } else {
      const where = `layer ${defs[0].name}`;
      const shape = batchShapeOf(defs[0].config, where);
      if (!shape) modelJsonError(`the first layer (${defs[0].name}) declares no input shape (batch_input_shape)`);
      const inName = `${defs[0].name}_input`;
      input = { name: inName, tensor: tensorId(inName, 0, 0), shape, dtype: String(defs[0].config.dtype ?? "float32"), batch: batchSizeOf(defs[0].config, where) };
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
        const where = `InputLayer ${def.name}`;
        const shape = batchShapeOf(def.config, where);
        if (!shape) modelJsonError(`${where} has no batch_input_shape`);
        inputs.push({ name: def.name, tensor: tensorId(def.name, 0, 0), shape, dtype: String(def.config.dtype ?? "float32"), batch: batchSizeOf(def.config, where) });
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

