/**
 * Keras .h5 files: the full-model HDF5 of Keras 2.x and tf.keras (`model.save("m.h5")`),
 * the same legacy format written by Keras 3 (keras_version 3.x, Keras 3 style config), and,
 * given the model's JSON config, weights-only files (`save_weights`: Keras 2 layout, or the
 * Keras 3 `.weights.h5` store).
 *
 * The legacy layout (keras/src/legacy/saving/legacy_h5_format.py, Keras 2
 * keras/saving/hdf5_format.py): root attributes `model_config` (JSON), `keras_version`,
 * `backend`, `training_config`; group `model_weights` with attribute `layer_names`; one
 * group per layer with attribute `weight_names`, and each weight a dataset at
 * `<layer group>/<weight name>` (`lstm_1/lstm_1/kernel:0`). Weights-only files hold the
 * same at the root. Keras loads weights by this order; we keep it.
 */
import type { Group } from "h5wasm";
import type { ModelArtifacts, NamedWeight } from "../artifacts.js";
import { fail } from "../../errors.js";
import { checkJsonTree } from "../../json.js";
import {
  childGroup,
  getEntity,
  hasAttr,
  isDataset,
  readFloatDataset,
  readStringAttr,
  readStringListAttr,
  withH5File,
  type H5Session,
} from "./hdf5.js";
import {
  isJsonObject,
  isLayerEntry,
  looksLikeKeras3Config,
  normaliseKeras3Topology,
  type KerasTopology,
} from "./keras3-config.js";
import { readKeras3Weights } from "./keras3-weights.js";

export interface KerasH5Options {
  /**
   * The model config (`model.to_json()` text or its parsed object) for a weights-only file;
   * ignored when the file carries its own `model_config`.
   */
  modelConfig?: string | object;
}

export async function importKerasH5(
  bytes: Uint8Array,
  sourceName = "model.h5",
  options: KerasH5Options = {},
): Promise<ModelArtifacts> {
  return withH5File(bytes, sourceName, (session) => readKerasH5(session, options));
}

function readKerasH5(session: H5Session, options: KerasH5Options): ModelArtifacts {
  const { file, label } = session;
  const kerasVersion = readStringAttr(file, "keras_version");
  const backend = readStringAttr(file, "backend");
  const configSource = readStringAttr(file, "model_config") ?? options.modelConfig;
  const keras3Store = file.keys().includes("layers") || file.keys().includes("_layer_checkpoint_dependencies");
  if (configSource === undefined) {
    const kind = keras3Store
      ? "a Keras 3 weights-only file (model.save_weights)"
      : hasAttr(file, "layer_names")
        ? "a Keras weights-only file (model.save_weights)"
        : "not a Keras model file";
    fail(
      "E_MODEL_JSON",
      `${label}: no model_config attribute; this looks like ${kind}. ` +
        "Save the whole model (model.save) or pass its JSON config (model.to_json())",
    );
  }
  if (kerasVersion !== undefined && /^1\./.test(kerasVersion)) {
    fail("E_MODEL_JSON", `${label}: written by Keras ${kerasVersion}; Keras 1 files are not supported, re-save with Keras 2 or 3`);
  }
  const raw = parseModelConfig(configSource, label);
  const major = kerasVersion === undefined ? undefined : Number.parseInt(kerasVersion, 10);
  const keras3 = (major !== undefined && major >= 3) || looksLikeKeras3Config(raw);
  const topology = keras3 ? normaliseKeras3Topology(raw, label) : checkKeras2Topology(raw, label);

  let weights: NamedWeight[];
  const modelWeights = childGroup(session, file, "model_weights");
  if (modelWeights !== null) {
    weights = readLegacyWeights(session, modelWeights, topology);
  } else if (hasAttr(file, "layer_names")) {
    weights = readLegacyWeights(session, file, topology);
  } else if (keras3Store) {
    weights = readKeras3Weights(session, topology);
  } else {
    fail("E_WEIGHTS", `${label}: no weights: neither a model_weights group nor a layer list`);
  }
  if (backend === "theano") refuseTheanoConvolutions(topology, label);

  const origin =
    major !== undefined ? (major >= 3 ? "keras3" : "keras2") : keras3 || keras3Store ? "keras3" : "keras2";
  return {
    origin,
    ...(kerasVersion !== undefined ? { kerasVersion } : {}),
    topology,
    weights,
    sourceName: label,
  };
}

export function parseModelConfig(source: string | object, label: string): unknown {
  let config: unknown = source;
  if (typeof source === "string") {
    try {
      config = JSON.parse(source);
    } catch (cause) {
      fail("E_MODEL_JSON", `${label}: model_config is not valid JSON (${(cause as Error).message})`, cause);
    }
  }
  checkJsonTree(config, `${label}: model_config`, "E_MODEL_JSON");
  return config;
}

/** Keras 2 configs go out exactly as written; only check they describe a model at all. */
function checkKeras2Topology(raw: unknown, label: string): KerasTopology {
  if (!isLayerEntry(raw)) fail("E_MODEL_JSON", `${label}: model_config has no class_name/config`);
  const config = raw.config;
  // Keras 2.0-2.1 wrote a Sequential's config as the bare layer list.
  const layers = Array.isArray(config) ? config : isJsonObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) {
    fail("E_MODEL_JSON", `${label}: model_config of class ${raw.class_name} lists no layers`);
  }
  return raw as unknown as KerasTopology;
}

/** Every layer name in the topology, nested models and wrapped layers included. */
function collectLayerNames(topology: KerasTopology): Set<string> {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (isJsonObject(v)) {
      if (isLayerEntry(v)) {
        if (typeof v.name === "string") names.add(v.name);
        if (isJsonObject(v.config) && typeof v.config.name === "string") names.add(v.config.name);
      }
      Object.values(v).forEach(visit);
    }
  };
  visit(topology);
  return names;
}

/**
 * The Keras 2 layout. Weight names are kept as written (`lstm_1/kernel:0`,
 * `bidirectional/forward_lstm/lstm_cell/kernel:0`) so far as matching by layer name and role
 * allows: the name must start with its layer's name. Keras 3 writes variable paths, which
 * can start with the model's name (`sequential/lstm/lstm_cell/kernel`): cut to the layer.
 * A nested model's group lists its inner layers' weights (`dense_1/kernel:0`): kept. Any
 * other (TF1 sessions suffix reused scopes: `lstm_1_1/kernel:0`) gets the layer's name in
 * front.
 */
function readLegacyWeights(session: H5Session, group: Group, topology: KerasTopology): NamedWeight[] {
  const { label } = session;
  const layerNames = readListAttr(session, group, "layer_names");
  if (layerNames === undefined) fail("E_WEIGHTS", `${label}: the weights group has no layer_names attribute`);
  const known = collectLayerNames(topology);
  const out: NamedWeight[] = [];
  for (const layer of layerNames) {
    const layerGroup = childGroup(session, group, layer);
    if (layerGroup === null) fail("E_WEIGHTS", `${label}: layer ${layer} is listed but has no weight group`);
    const weightNames = readListAttr(session, layerGroup, "weight_names") ?? [];
    for (const weightName of weightNames) {
      const entity = getEntity(layerGroup, weightName);
      if (!isDataset(session, entity)) {
        fail("E_WEIGHTS", `${label}: weight ${weightName} of layer ${layer} is missing`);
      }
      const { shape, data } = readFloatDataset(session, entity, `${weightName} (layer ${layer})`);
      const parts = weightName.split("/");
      const at = parts.indexOf(layer);
      const name =
        at >= 0 ? parts.slice(at).join("/") : known.has(parts[0]!) ? weightName : `${layer}/${weightName}`;
      out.push({ name, shape, data });
    }
  }
  return out;
}

function readListAttr(session: H5Session, group: Group, name: string): string[] | undefined {
  try {
    return readStringListAttr(group, name);
  } catch (cause) {
    fail("E_WEIGHTS", `${session.label}: ${group.path}: ${(cause as Error).message}`, cause);
  }
}

/**
 * Theano stored convolution kernels flipped; Keras converts them on load
 * (`convert_kernel` in the legacy loader). We do no arithmetic on import, so refuse rather
 * than run flipped kernels.
 */
function refuseTheanoConvolutions(topology: KerasTopology, label: string): void {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isJsonObject(v)) {
      if (isLayerEntry(v) && /^Conv/.test(v.class_name)) {
        const name = isJsonObject(v.config) ? v.config.name : v.class_name;
        fail(
          "E_UNSUPPORTED_OPTION",
          `${label}: layer ${String(name)} (${v.class_name}) was saved by the Theano backend, ` +
            "whose convolution kernels are flipped; re-save it with the TensorFlow backend",
        );
      }
      Object.values(v).forEach(visit);
    }
  };
  visit(topology);
}
