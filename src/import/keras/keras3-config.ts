/**
 * Keras 3 model configs, rewritten into the Keras 2 / tfjs `model_config` form every
 * importer hands to the spec builder. Only the serialisation syntax changes; every layer,
 * name and option stays as Keras wrote it, so the spec builder can name what it rejects.
 *
 * What Keras 3 writes (read from the Keras 3 sources):
 * - keras/src/saving/serialization_lib.py `serialize_keras_object`: every object becomes
 *   `{module, class_name, config, registered_name}` plus `build_config` / `compile_config`;
 *   tuples become lists; a KerasTensor becomes `{class_name: "__keras_tensor__", config:
 *   {shape, dtype, keras_history: [layer, node, tensor]}}`; a function `{class_name:
 *   "function", config: name}`; objects seen twice carry `shared_object_id`.
 * - Layer.get_config: `dtype` is a serialised DTypePolicy (`{class_name: "DTypePolicy",
 *   config: {name: "float32"}}`; Keras 3.0-3.3 wrote the plain string).
 * - keras/src/layers/core/input_layer.py: InputLayer has `batch_shape` (Keras 2:
 *   `batch_input_shape`).
 * - keras/src/models/functional.py `serialize_node`: inbound nodes are `{args, kwargs}`
 *   holding KerasTensors, e.g. `args: [[t1, t2]]` for a merge layer, tensors inside kwargs
 *   (`initial_state`); `input_layers` / `output_layers` follow the structure of the model's
 *   inputs (a list of `[name, node, tensor]`, a dict, or one bare triple).
 * - keras/src/models/sequential.py `get_config`: the InputLayer is the first entry of
 *   `layers`; `build_input_shape` when the model was built without one.
 * - keras/src/layers/rnn/bidirectional.py: `layer` is the *forward* copy, named
 *   `"forward_" + name`; `backward_layer` is always written, even when Keras generated it.
 *   Keras 2 wrote the original layer (tfjs then names the copies `forward_<name>` /
 *   `backward_<name>`) and `backward_layer` only for a user-supplied one.
 */
import { fail } from "../../errors.js";

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export interface KerasTopology {
  class_name: string;
  config: JsonObject;
  [key: string]: unknown;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `{class_name, config}`: a serialised layer (or other Keras object). */
export function isLayerEntry(v: unknown): v is JsonObject & { class_name: string } {
  return isJsonObject(v) && typeof v.class_name === "string" && "config" in v;
}

/**
 * True when the config is written in Keras 3 form: a `module` key on the model itself
 * (config.json), or anything only Keras 3 writes: KerasTensor nodes, an InputLayer's
 * `batch_shape`, DTypePolicy objects. (tf.keras 2.13-2.15 .h5 configs carry `module` keys
 * on initializers too, and are otherwise Keras 2 form: those stay untouched.)
 */
export function looksLikeKeras3Config(raw: unknown): boolean {
  if (isJsonObject(raw) && "module" in raw) return true;
  const stack: unknown[] = [raw];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      stack.push(...v);
    } else if (isJsonObject(v)) {
      const className = v.class_name;
      if (className === "__keras_tensor__") return true;
      if (typeof className === "string" && className.endsWith("DTypePolicy")) return true;
      if (className === "InputLayer" && isJsonObject(v.config) && "batch_shape" in v.config) return true;
      stack.push(...Object.values(v));
    }
  }
  return false;
}

/**
 * Normalises a Keras 3 model config (config.json of a .keras file, or `model_config` of a
 * Keras 3 legacy .h5) into Keras 2 / tfjs `model_config` form.
 */
export function normaliseKeras3Topology(raw: unknown, label: string): KerasTopology {
  if (!isLayerEntry(raw) || !isJsonObject(raw.config)) {
    fail("E_MODEL_JSON", `${label}: the model config has no class_name/config object`);
  }
  if (!Array.isArray(raw.config.layers)) {
    fail(
      "E_MODEL_JSON",
      `${label}: model class ${raw.class_name} does not list its layers in its config ` +
        "(a subclassed model?); only Sequential and Functional models can be imported",
    );
  }
  const out = normaliseLayer(raw);
  return out as unknown as KerasTopology;
}

function normaliseLayer(entry: JsonObject & { class_name: string }): JsonObject {
  const out: JsonObject = {};
  if (entry.name !== undefined) out.name = entry.name;
  out.class_name = entry.class_name;
  out.config = normaliseLayerConfig(entry.class_name, entry.config ?? null);
  if (entry.inbound_nodes !== undefined) out.inbound_nodes = normaliseInboundNodes(entry.inbound_nodes);
  return out;
}

function normaliseLayerConfig(className: string, config: Json): Json {
  if (!isJsonObject(config)) return normaliseValue(config);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(config)) {
    if ((key === "layer" || key === "backward_layer" || key === "cell") && isLayerEntry(value)) {
      out[key] = normaliseLayer(value);
    } else if ((key === "layers" || key === "cells" || key === "cell") && Array.isArray(value)) {
      out[key] = value.map((v) => (isLayerEntry(v) ? normaliseLayer(v) : normaliseValue(v)));
    } else if (key === "input_layers" || key === "output_layers") {
      out[key] = normaliseTensorRefs(value);
    } else if (key === "batch_shape" && className === "InputLayer") {
      out.batch_input_shape = normaliseValue(value);
    } else if (key.endsWith("_initializer")) {
      out[key] = normaliseInitializer(normaliseValue(value));
    } else {
      out[key] = normaliseValue(value);
    }
  }
  if (className === "Bidirectional") normaliseBidirectional(out);
  if (className === "Sequential") addSequentialInputShape(out);
  return out;
}

/** Generic values: strip serialisation wrappers, keep the content. */
function normaliseValue(v: Json): Json {
  if (Array.isArray(v)) return v.map(normaliseValue);
  if (!isJsonObject(v)) return v;
  if (typeof v.class_name === "string" && "config" in v) {
    const className = v.class_name;
    const config = v.config ?? null;
    if (className.endsWith("DTypePolicy")) return dtypePolicyName(config);
    if (className === "__tuple__" && isJsonObject(config)) return normaliseValue(config.value ?? null);
    if (className === "function" && typeof config === "string") return config;
    if (className === "__keras_tensor__") return v;
    // drops module, registered_name, build_config, compile_config, shared_object_id
    return { class_name: className, config: normaliseValue(config) };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(v)) out[key] = normaliseValue(value);
  return out;
}

/**
 * Keras 3 exports two initializers under new canonical class names
 * (keras/src/initializers/random_initializers.py `OrthogonalInitializer`,
 * constant_initializers.py `IdentityInitializer`); Keras 2 and tfjs call them Orthogonal
 * and Identity. Initial values do not matter for inference; the names keep tfjs loading.
 */
const KERAS2_INITIALIZER_NAMES: Record<string, string> = Object.assign(Object.create(null), {
  OrthogonalInitializer: "Orthogonal",
  IdentityInitializer: "Identity",
});

function normaliseInitializer(v: Json): Json {
  if (isJsonObject(v) && typeof v.class_name === "string" && v.class_name in KERAS2_INITIALIZER_NAMES) {
    return { ...v, class_name: KERAS2_INITIALIZER_NAMES[v.class_name]! };
  }
  return v;
}

/**
 * DTypePolicy / FloatDTypePolicy serialise `{name}`; QuantizedDTypePolicy serialises
 * `{mode, source_name}` and is named `<mode>_from_<source_name>`
 * (keras/src/dtype_policies/dtype_policy.py).
 */
function dtypePolicyName(config: Json): Json {
  if (typeof config === "string") return config;
  if (isJsonObject(config)) {
    if (typeof config.name === "string") return config.name;
    if (typeof config.mode === "string" && typeof config.source_name === "string") {
      return `${config.mode}_from_${config.source_name}`;
    }
  }
  return normaliseValue(config);
}

function isTensorRef(v: unknown): v is [string, number, number, ...Json[]] {
  return (
    Array.isArray(v) &&
    v.length >= 3 &&
    typeof v[0] === "string" &&
    typeof v[1] === "number" &&
    typeof v[2] === "number"
  );
}

/** input_layers / output_layers: always a flat list of [name, node, tensor] triples. */
function normaliseTensorRefs(v: Json): Json {
  const out: Json[] = [];
  const visit = (x: Json): void => {
    if (isTensorRef(x)) out.push([x[0], x[1], x[2]]);
    else if (Array.isArray(x)) x.forEach(visit);
    // dict-structured inputs flatten in sorted key order, as keras.tree.flatten does
    else if (isJsonObject(x)) Object.keys(x).sort().forEach((k) => visit(x[k]!));
  };
  visit(v);
  return out;
}

function collectKerasTensors(v: Json | undefined, out: [string, number, number][]): void {
  if (Array.isArray(v)) {
    for (const x of v) collectKerasTensors(x, out);
  } else if (isJsonObject(v)) {
    if (v.class_name === "__keras_tensor__") {
      const history = isJsonObject(v.config) ? v.config.keras_history : undefined;
      if (isTensorRef(history)) out.push([history[0], history[1], history[2]]);
    } else if (!("class_name" in v)) {
      for (const x of Object.values(v)) collectKerasTensors(x, out);
    }
  }
}

/**
 * Keras 3 `{args, kwargs}` nodes become Keras 2 `[[name, node, tensor, kwargs], ...]`:
 * tensors in args first (a merge layer's list flattens in order), then tensors passed as
 * kwargs (`initial_state`), which Keras 2 also listed as extra inbound tensors; these carry the
 * keyword as a 5th element (`[name, node, tensor, kwargs, "value"]`: MultiHeadAttention's
 * `value=`, which Keras 2 kept in the kwargs). Non-tensor, non-null kwargs (`training`,
 * `use_causal_mask`, ...) go into each entry's kwargs as Keras 2 wrote them.
 */
function normaliseInboundNodes(nodes: Json): Json {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (!isJsonObject(node)) return node; // already Keras 2 form
    const tensors: [string, number, number][] = [];
    collectKerasTensors(node.args, tensors);
    const keywords: (string | undefined)[] = tensors.map(() => undefined);
    const kwargs: JsonObject = {};
    if (isJsonObject(node.kwargs)) {
      for (const [key, value] of Object.entries(node.kwargs)) {
        const inKwarg: [string, number, number][] = [];
        collectKerasTensors(value, inKwarg);
        if (inKwarg.length > 0) {
          tensors.push(...inKwarg);
          keywords.push(...inKwarg.map(() => key));
        } else if (value !== null) kwargs[key] = normaliseValue(value);
      }
    }
    return tensors.map(([name, nodeIndex, tensorIndex], i) => [name, nodeIndex, tensorIndex, { ...kwargs }, ...(keywords[i] ? [keywords[i]!] : [])]);
  });
}

function removePrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}

/**
 * Keras 2 form: `layer` is the wrapped layer under its own name; `backward_layer` only when
 * it is not the mirror Keras generates (same config, go_backwards flipped, name
 * `backward_<name>`).
 */
function normaliseBidirectional(config: JsonObject): void {
  const forward = config.layer;
  if (!isLayerEntry(forward) || !isJsonObject(forward.config)) return;
  const backward = config.backward_layer;
  if (isLayerEntry(backward) && isGeneratedBackward(forward, backward)) delete config.backward_layer;
  const name = forward.config.name;
  if (typeof name === "string") forward.config.name = removePrefix(name, "forward_");
}

function isGeneratedBackward(forward: JsonObject, backward: JsonObject): boolean {
  if (forward.class_name !== backward.class_name) return false;
  if (!isJsonObject(forward.config) || !isJsonObject(backward.config)) return false;
  const f = { ...forward.config };
  const b = { ...backward.config };
  if (typeof f.name !== "string" || b.name !== `backward_${removePrefix(f.name, "forward_")}`) return false;
  if (Boolean(f.go_backwards) === Boolean(b.go_backwards)) return false;
  for (const key of ["name", "go_backwards"]) {
    delete f[key];
    delete b[key];
  }
  return deepEqual(f, b);
}

function addSequentialInputShape(config: JsonObject): void {
  const layers = config.layers;
  if (!Array.isArray(layers) || layers.length === 0) return;
  const first = layers[0];
  if (!isLayerEntry(first) || first.class_name === "InputLayer" || !isJsonObject(first.config)) return;
  if (first.config.batch_input_shape === undefined && Array.isArray(config.build_input_shape)) {
    first.config.batch_input_shape = config.build_input_shape;
  }
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}
