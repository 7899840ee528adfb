/**
 * ModelArtifacts (tfjs model.json, Keras .h5 / .keras, all normalised to the Keras config) ->
 * PackedModel: walks the topology in dependency order, translates each layer call through the
 * registry (layers/index.ts), and collects the spec with its packed weights. Everything a model
 * can get wrong is reported here, at load, as an RnnWasmError naming the layer.
 */
import { RnnWasmError } from "../../errors.js";
import { installTensorOps } from "../../model/tensor-ops.js";
import type { ModelSpec, PackedModel } from "../../model/spec.js";
import { validateSpec } from "../../model/validate.js";
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

/**
 * Runs `run` on every call in dependency order: always the first call, in config order, whose
 * inputs exist (configs list layers in creation order, usually but not always a valid order).
 * `run` returns the tensors the call made. Each call waits on a count of missing inputs and
 * ready calls sit in a heap by config position, so a config listed backwards costs
 * O(n log n), not O(n^2).
 */
function inDependencyOrder(calls: LayerCall[], available: Set<string>, run: (call: LayerCall) => string[]): LayerCall[] {
  const have = new Set(available);
  const waiting = new Map<string, number[]>();
  const missing = calls.map((call, i) => {
    const need = new Set(call.inputs.filter((t) => !have.has(t)));
    for (const t of need) {
      const list = waiting.get(t);
      if (list) list.push(i);
      else waiting.set(t, [i]);
    }
    return need.size;
  });
  const ready = new MinHeap();
  missing.forEach((m, i) => m === 0 && ready.push(i));
  const order: LayerCall[] = [];
  const done = new Uint8Array(calls.length);
  while (order.length < calls.length) {
    const i = ready.pop();
    if (i === undefined) {
      const call = calls[done.indexOf(0)];
      const t = call.inputs.find((x) => !have.has(x))!;
      const [layer, node, output] = t.split(":");
      modelJsonError(`layer ${call.layer.name} consumes tensor ${layer} (node ${node}, output ${output}), which no layer produces`);
    }
    done[i] = 1;
    order.push(calls[i]);
    for (const t of run(calls[i])) {
      if (have.has(t)) continue;
      have.add(t);
      for (const j of waiting.get(t) ?? []) if (--missing[j] === 0) ready.push(j);
    }
  }
  return order;
}

/** A binary min-heap of call positions. */
class MinHeap {
  private a: number[] = [];
  push(v: number): void {
    const a = this.a;
    let i = a.push(v) - 1;
    while (i > 0 && a[(i - 1) >> 1] > a[i]) {
      [a[i], a[(i - 1) >> 1]] = [a[(i - 1) >> 1], a[i]];
      i = (i - 1) >> 1;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const m = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (l >= a.length || a[m] >= a[i]) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

export function buildModel(art: ModelArtifacts): PackedModel {
  installTensorOps(); // the shapes of the general tensor ops some layers become (Dot, Permute, TFOpLambda, attention)
  const g = parseTopology(art);
  const b = new KerasBuilder(art, new WeightIndex(art.weights));
  const consumers = new Map<string, string[]>();
  for (const call of g.calls) {
    for (const i of call.inputs) {
      const list = consumers.get(i);
      if (list) list.push(call.layer.className);
      else consumers.set(i, [call.layer.className]);
    }
  }
  const inputs: ModelSpec["inputs"] = g.inputs.map((i) => {
    const cons = consumers.get(i.tensor) ?? [];
    const dtype: "float32" | "int32" = (cons.length > 0 && cons.every((cl) => cl === "Embedding")) || /^int/.test(i.dtype) ? "int32" : "float32";
    b.tensors[i.tensor] = { shape: i.shape };
    return { name: i.name, tensor: i.tensor, shape: i.shape, dtype, ...(i.batch !== undefined ? { batch: i.batch } : {}) };
  });
  const graphInputs = new Set(inputs.map((i) => i.tensor));
  const layers: NonNullable<ModelSpec["layers"]> = [];
  const listed = new Set<string>();
  for (const call of inDependencyOrder(g.calls, graphInputs, (call) => {
    translateCall(b, call, graphInputs);
    const made: string[] = [];
    for (let k = 0; k < 8; k++) {
      const id = tensorId(call.layer.name, call.node, k, call.scope);
      if (b.tensors[b.resolve(id)]) made.push(id);
    }
    return made;
  })) {
    // one entry per layer, though a layer of a nested model runs once per call of that model
    if (!listed.has(call.layer.name)) {
      listed.add(call.layer.name);
      const inner = (call.layer.config.layer as { class_name?: string } | undefined)?.class_name;
      layers.push({ name: call.layer.name, className: call.layer.className, ...(inner ? { inner } : {}) });
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
  // the checks and limits a bundle's spec passes, so that nothing is built (or exported) that
  // the runtime would refuse as a bundle: a config's kernel_size of 2^32 is as wrong as a header's
  try {
    validateSpec(spec, new Map(spec.weights.map((w) => [w.name, w.length])));
  } catch (e) {
    if (!(e instanceof RnnWasmError) || e.code !== "E_BUNDLE_CORRUPT") throw e;
    throw new RnnWasmError("E_MODEL_JSON", e.message.replace(/^bundle model spec: /, "the model's "), { cause: e });
  }
  return { spec, data: b.data };
}
