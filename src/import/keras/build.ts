/**
 * ModelArtifacts (tfjs model.json, Keras .h5 / .keras, all normalised to the Keras config) ->
 * PackedModel: walks the topology in dependency order, translates each layer call through the
 * registry (layers/index.ts), and collects the spec with its packed weights. Everything a model
 * can get wrong is reported here, at load, as an RnnWasmError naming the layer.
 */
import { RnnWasmError } from "../../errors.js";
import { installTensorOps } from "../../model/tensor-ops.js";
import type { ModelSpec, PackedModel } from "../../model/spec.js";
import type { ModelArtifacts } from "../artifacts.js";
import { contextFor, KerasBuilder, unsupported } from "./context.js";
import { IDENTITY_LAYERS } from "./layers/core.js";
import { CONSTANT_ARGUMENT_LAYERS, LAYER_TRANSLATORS } from "./layers/index.js";
import { modelJsonError, parseTopology, tensorId, type LayerCall } from "./topology.js";
import { WeightIndex } from "./weights.js";

function translateCall(b: KerasBuilder, call: LayerCall, graphInputs: Set<string>): void {
  const { layer } = call;
  if (layer.className === "InputLayer") modelJsonError(`InputLayer ${layer.name} appears inside the layer chain`);
  const translator = LAYER_TRANSLATORS[layer.className];
  if (!translator) {
    throw new RnnWasmError(
      "E_UNSUPPORTED_LAYER",
      `layer ${layer.name} has class ${layer.className}, which rnn-wasm does not support (see the README for the supported layers)`,
    );
  }
  if ((call.kwargs as { __constants__?: unknown }).__constants__ !== undefined && !CONSTANT_ARGUMENT_LAYERS.has(layer.className)) {
    throw new RnnWasmError("E_UNSUPPORTED_OPTION", `layer ${layer.name} (${layer.className}) is called on a constant, not a tensor`);
  }
  const format = layer.config.data_format;
  if (format !== undefined && format !== "channels_last" && !IDENTITY_LAYERS.includes(layer.className)) unsupported(layer, "data_format", format);
  translator(contextFor(b, call, graphInputs, (inner) => translateCall(b, inner, graphInputs)));
}

export function buildModel(art: ModelArtifacts): PackedModel {
  installTensorOps(); // the shapes of the general tensor ops some layers become (Dot, Permute, TFOpLambda, attention)
  const g = parseTopology(art);
  const b = new KerasBuilder(art, new WeightIndex(art.weights));
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
    translateCall(b, call, graphInputs);
    if (!layers.some((l) => l.name === call.layer.name)) {
      const inner = (call.layer.config.layer as { class_name?: string } | undefined)?.class_name;
      layers.push({ name: call.layer.name, className: call.layer.className, ...(inner ? { inner } : {}) });
    }
    for (let k = 0; k < 8; k++) {
      const id = tensorId(call.layer.name, call.node, k, call.scope);
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
