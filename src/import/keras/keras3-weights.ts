/**
 * Reads the Keras 3 weight store (`model.weights.h5` inside a .keras archive, or a
 * `.weights.h5` file) and gives every variable its role name.
 *
 * The layout (keras/src/saving/saving_lib.py):
 * - `_save_state` walks the model: each saveable's own variables go to `<path>/vars/<i>`
 *   (`H5IOStore.make` / `H5Entry`), then its child saveables, found as attributes, go to
 *   `<path>/<attribute>`: an RNN's cell to `<rnn>/cell`, Bidirectional's two copies to
 *   `<bi>/forward_layer` and `<bi>/backward_layer`, a wrapper's inner layer
 *   (TimeDistributed) to `<td>/layer`.
 * - a Sequential / Functional model's layers go first, under `layers/`
 *   (`_walk_saveable`), through `_save_container_state`, which does NOT use layer names:
 *   each layer is filed under the snake_case of its class name, numbered per class in list
 *   order (`lstm`, `lstm_1`, ...; `naming.to_snake_case`). So the second LSTM of a model,
 *   named `lstm_3` by the user's session, lives at `layers/lstm_1`.
 * - `Sequential.layers` leaves out its InputLayer; a Functional model's includes them
 *   (they hold no variables either way).
 * - Keras 2.13-2.15 wrote `_layer_checkpoint_dependencies` where Keras 3 writes `layers`;
 *   Keras 3 reads both (`H5Entry`), and so do we.
 *
 * Variable order within `vars` is `Layer.save_own_variables`: trainable variables in
 * creation order, then non-trainable ones (keras/src/layers/layer.py); Dense and Embedding
 * override it with the same order for float layers (keras/src/layers/core/dense.py,
 * embedding.py). Creation order is each layer's `build()`:
 * - LSTMCell / GRUCell / SimpleRNNCell: kernel, recurrent_kernel, bias if use_bias
 *   (keras/src/layers/rnn/lstm.py, gru.py, simple_rnn.py; GRU's bias is [2, 3u] when
 *   reset_after, else [3u]).
 * - Dense, Conv1D/2D/3D (+Transpose): kernel, bias if use_bias (layers/core/dense.py,
 *   layers/convolutional/base_conv.py).
 * - Embedding: embeddings.
 * - BatchNormalization: gamma if scale, beta if center (trainable), then moving_mean,
 *   moving_variance (non-trainable) (layers/normalization/batch_normalization.py).
 * - LayerNormalization: gamma if scale or rms_scaling, beta if center and not rms_scaling
 *   (layers/normalization/layer_normalization.py).
 *
 * Names follow Keras' own variable paths, without the model prefix:
 * `lstm_1/lstm_cell/kernel`, `bidirectional/forward_lstm/lstm_cell/kernel`,
 * `time_distributed/dense/kernel`, `dense/bias`: the first component is the layer name,
 * the last the role, as src/import/artifacts.ts matches them.
 */
import type { Group } from "h5wasm";
import type { NamedWeight } from "../artifacts.js";
import { fail } from "../../errors.js";
import { isJsonObject, isLayerEntry, type JsonObject, type KerasTopology } from "./keras3-config.js";
import { childGroup, getEntity, isDataset, numericKeys, readFloatDataset, type H5Session } from "./hdf5.js";

/** RNN layers keep their weights on the cell; Keras 3 names the cell like this. */
const RNN_CELL_NAMES: Record<string, string> = Object.assign(Object.create(null), {
  LSTM: "lstm_cell",
  GRU: "gru_cell",
  SimpleRNN: "simple_rnn_cell",
});

/** keras/src/utils/naming.py `to_snake_case`, regex for regex (JS and Python scan alike). */
export function toSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, "");
  s = s.replace(/(.)([A-Z][a-z]+)/g, "$1_$2");
  return s.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** The roles of a layer's own variables, in `vars/<i>` order; undefined for unknown classes. */
export function variableRoles(className: string, config: JsonObject): string[] | undefined {
  const bias = config.use_bias !== false ? ["bias"] : [];
  switch (className) {
    case "Dense":
    case "Conv1D":
    case "Conv2D":
    case "Conv3D":
    case "Conv1DTranspose":
    case "Conv2DTranspose":
    case "Conv3DTranspose":
      return ["kernel", ...bias];
    case "Embedding":
      return ["embeddings"];
    case "BatchNormalization":
      return [
        ...(config.scale !== false ? ["gamma"] : []),
        ...(config.center !== false ? ["beta"] : []),
        "moving_mean",
        "moving_variance",
      ];
    case "LayerNormalization": {
      const rms = config.rms_scaling === true;
      return [
        ...(config.scale !== false || rms ? ["gamma"] : []),
        ...(config.center !== false && !rms ? ["beta"] : []),
      ];
    }
    case "LSTMCell":
    case "GRUCell":
    case "SimpleRNNCell":
      return ["kernel", "recurrent_kernel", ...bias];
    // keras/src/layers/attention/attention.py, additive_attention.py: build()
    case "Attention":
      return [...(config.use_scale === true ? ["scale"] : []), ...(config.score_mode === "concat" ? ["concat_score_weight"] : [])];
    case "AdditiveAttention":
      return config.use_scale !== false ? ["scale"] : [];
    default:
      return undefined;
  }
}

interface WalkContext {
  session: H5Session;
  /** Keras 2.13-2.15 archives file layers under `_layer_checkpoint_dependencies`. */
  checkpointDependencies: boolean;
  out: NamedWeight[];
}

/** All weights of a (normalised) Sequential / Functional topology, in model order. */
export function readKeras3Weights(session: H5Session, topology: KerasTopology): NamedWeight[] {
  const keys = session.file.keys();
  const checkpointDependencies = keys.includes("_layer_checkpoint_dependencies");
  const layers = topology.config.layers;
  if (!Array.isArray(layers)) fail("E_MODEL_JSON", `${session.label}: the model config lists no layers`);
  if (!keys.includes("layers") && !checkpointDependencies) {
    fail("E_WEIGHTS", `${session.label}: no "layers" group: not a Keras 3 weights file`);
  }
  const ctx: WalkContext = { session, checkpointDependencies, out: [] };
  walkContainer(ctx, layers, "layers", topology.class_name === "Sequential");
  return ctx.out;
}

function walkContainer(ctx: WalkContext, layers: unknown[], containerPath: string, sequential: boolean): void {
  const used = new Map<string, number>();
  for (const entry of layers) {
    if (!isLayerEntry(entry)) continue;
    // Sequential.layers omits the InputLayer, so it takes no number there.
    if (sequential && entry.class_name === "InputLayer") continue;
    const base = toSnakeCase(entry.class_name);
    const seen = used.get(base);
    const key = seen === undefined ? base : `${base}_${seen + 1}`;
    used.set(base, seen === undefined ? 0 : seen + 1);
    walkLayer(ctx, entry, `${containerPath}/${key}`, layerName(entry));
  }
}

function layerName(entry: JsonObject): string {
  if (typeof entry.name === "string") return entry.name;
  if (isJsonObject(entry.config) && typeof entry.config.name === "string") return entry.config.name;
  return String(entry.class_name);
}

function walkLayer(ctx: WalkContext, entry: JsonObject & { class_name: string }, path: string, prefix: string): void {
  const className = entry.class_name;
  const config = isJsonObject(entry.config) ? entry.config : {};
  refuseQuantized(ctx, config, prefix);

  const cellName = RNN_CELL_NAMES[className];
  if (cellName !== undefined) {
    // RNN layers own no weights; their cell does (LSTM.__init__ creates LSTMCell(name="lstm_cell")).
    readRoles(ctx, `${path}/cell`, `${prefix}/${cellName}`, ["kernel", "recurrent_kernel", ...(config.use_bias !== false ? ["bias"] : [])], `${prefix} (${className})`);
    return;
  }
  if (className === "RNN" && isLayerEntry(config.cell)) {
    walkLayer(ctx, config.cell, `${path}/cell`, `${prefix}/${layerName(config.cell)}`);
    return;
  }
  if (className === "Bidirectional" && isLayerEntry(config.layer)) {
    // The normalised config names the wrapped layer without its "forward_" prefix.
    const inner = config.layer;
    const innerName = layerName(inner);
    const backward = isLayerEntry(config.backward_layer) ? config.backward_layer : inner;
    const backwardName = isLayerEntry(config.backward_layer) ? layerName(config.backward_layer) : innerName;
    walkLayer(ctx, inner, `${path}/forward_layer`, `${prefix}/${withPrefix(innerName, "forward_")}`);
    walkLayer(ctx, backward, `${path}/backward_layer`, `${prefix}/${withPrefix(backwardName, "backward_")}`);
    return;
  }
  if (className === "MultiHeadAttention") {
    // its EinsumDense sublayers, filed by attribute: `query_dense` (Keras 3.3+, a public
    // property, visited first) or `_query_dense` (3.0-3.2); named as Keras' variable paths
    // (`<mha>/query/kernel`, the sublayer named "query")
    const bias = config.use_bias !== false ? ["bias"] : [];
    for (const [attribute, sublayer] of [["query_dense", "query"], ["key_dense", "key"], ["value_dense", "value"], ["output_dense", "attention_output"]]) {
      const at = childGroup(ctx.session, ctx.session.file, `${path}/${attribute}/vars`) ? attribute : `_${attribute}`;
      readRoles(ctx, `${path}/${at}`, `${prefix}/${sublayer}`, ["kernel", ...bias], `${prefix} (${className}, ${sublayer})`);
    }
    return;
  }
  if (className === "TimeDistributed" && isLayerEntry(config.layer)) {
    walkLayer(ctx, config.layer, `${path}/layer`, `${prefix}/${layerName(config.layer)}`);
    return;
  }
  if (Array.isArray(config.layers)) {
    // A nested Sequential / Functional model: its layers keep their own names, as in the
    // Keras 2 .h5 layout, so a flattened model finds them by name.
    walkContainer(ctx, config.layers, `${path}/layers`, className === "Sequential");
    return;
  }
  const roles = variableRoles(className, config);
  if (roles === undefined) {
    // A class without a known variable order: keep the variables under their index; the
    // spec builder rejects the layer class by name if it cannot run it.
    const vars = readVars(ctx, path);
    vars.forEach((v, i) => ctx.out.push({ name: `${prefix}/vars/${i}`, shape: v.shape, data: v.data }));
    return;
  }
  readRoles(ctx, path, prefix, roles, `${prefix} (${className})`);
}

function withPrefix(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name : `${prefix}${name}`;
}

function refuseQuantized(ctx: WalkContext, config: JsonObject, prefix: string): void {
  const dtype = config.dtype;
  if (typeof dtype === "string" && /^(int4|int8|float8)_from_/.test(dtype)) {
    fail(
      "E_UNSUPPORTED_OPTION",
      `${ctx.session.label}: layer ${prefix} is quantized (dtype policy ${dtype}); ` +
        "quantized Keras layers cannot be imported, export the float model",
    );
  }
}

function readRoles(ctx: WalkContext, path: string, prefix: string, roles: string[], what: string): void {
  const vars = readVars(ctx, path);
  if (vars.length !== roles.length) {
    fail(
      "E_WEIGHTS",
      `${ctx.session.label}: layer ${what} has ${vars.length} variables at ${path}/vars, ` +
        `expected ${roles.length} (${roles.join(", ") || "none"})`,
    );
  }
  roles.forEach((role, i) => ctx.out.push({ name: `${prefix}/${role}`, shape: vars[i]!.shape, data: vars[i]!.data }));
}

/** The datasets of `<path>/vars`, by index; none when Keras wrote no group there. */
function readVars(ctx: WalkContext, path: string): { shape: number[]; data: Float32Array }[] {
  const { session } = ctx;
  let group: Group | null = childGroup(session, session.file, `${path}/vars`);
  if (group === null && ctx.checkpointDependencies) {
    // H5Entry's Keras 2.13 fallback: path.replace("layers", "_layer_checkpoint_dependencies").
    group = childGroup(session, session.file, `${path.replaceAll("layers", "_layer_checkpoint_dependencies")}/vars`);
  }
  if (group === null) return [];
  return numericKeys(group).map((key) => {
    const entity = getEntity(group, key);
    if (!isDataset(session, entity)) {
      fail("E_WEIGHTS", `${session.label}: ${path}/vars/${key} is not a dataset`);
    }
    return readFloatDataset(session, entity, `${path}/vars/${key}`);
  });
}
