/**
 * Keras 3 `.keras` archives (keras/src/saving/saving_lib.py `_save_model_to_fileobj`): a
 * zip holding `metadata.json` (`keras_version`, `date_saved`), `config.json`
 * (`serialize_keras_object(model)`) and `model.weights.h5` (the weight store, see
 * keras3-weights.ts), plus `assets/` for layers that have any. Keras 2.13-2.15 wrote the
 * same container; their keras_version says so and decides the artifacts' origin.
 */
import { unzipSync } from "fflate";
import type { ModelArtifacts } from "../artifacts.js";
import { fail } from "../../errors.js";
import { withH5File } from "./hdf5.js";
import { parseModelConfig } from "./h5.js";
import { isJsonObject, normaliseKeras3Topology } from "./keras3-config.js";
import { readKeras3Weights } from "./keras3-weights.js";

const CONFIG = "config.json";
const METADATA = "metadata.json";
const WEIGHTS_H5 = "model.weights.h5";
const WEIGHTS_NPZ = "model.weights.npz";

/** A member larger than this is not a model we can hold in memory anyway. */
const MAX_MEMBER_BYTES = 2 ** 31;

export async function importKeras3(bytes: Uint8Array, sourceName = "model.keras"): Promise<ModelArtifacts> {
  const label = sourceName;
  let members: Record<string, Uint8Array>;
  const present = new Set<string>();
  try {
    members = unzipSync(bytes, {
      filter: (file) => {
        present.add(file.name);
        if (file.originalSize > MAX_MEMBER_BYTES) {
          throw new Error(`member ${file.name} claims ${file.originalSize} bytes`);
        }
        return file.name === CONFIG || file.name === METADATA || file.name === WEIGHTS_H5;
      },
    });
  } catch (cause) {
    fail("E_HDF5", `${label}: not a readable .keras (zip) archive (${(cause as Error).message})`, cause);
  }

  const configBytes = members[CONFIG];
  if (configBytes === undefined) {
    fail("E_MODEL_JSON", `${label}: the archive has no ${CONFIG}; not a Keras .keras model`);
  }
  const raw = parseModelConfig(decodeUtf8(configBytes, label, CONFIG), `${label}: ${CONFIG}`);
  const topology = normaliseKeras3Topology(raw, `${label}: ${CONFIG}`);

  let kerasVersion: string | undefined;
  const metadataBytes = members[METADATA];
  if (metadataBytes !== undefined) {
    let metadata: unknown;
    try {
      metadata = JSON.parse(decodeUtf8(metadataBytes, label, METADATA));
    } catch (cause) {
      fail("E_MODEL_JSON", `${label}: ${METADATA} is not valid JSON`, cause);
    }
    if (isJsonObject(metadata) && typeof metadata.keras_version === "string") {
      kerasVersion = metadata.keras_version;
    }
  }

  const weightsBytes = members[WEIGHTS_H5];
  if (weightsBytes === undefined) {
    if (present.has(WEIGHTS_NPZ)) {
      fail("E_WEIGHTS", `${label}: weights saved as ${WEIGHTS_NPZ} (weights_format="npz"); only ${WEIGHTS_H5} is supported`);
    }
    fail("E_WEIGHTS", `${label}: the archive has no ${WEIGHTS_H5}`);
  }
  const weights = await withH5File(weightsBytes, `${label}: ${WEIGHTS_H5}`, (session) =>
    readKeras3Weights(session, topology),
  );

  const major = kerasVersion === undefined ? 3 : Number.parseInt(kerasVersion, 10);
  return {
    origin: major >= 3 ? "keras3" : "keras2",
    ...(kerasVersion !== undefined ? { kerasVersion } : {}),
    topology,
    weights,
    sourceName: label,
  };
}

function decodeUtf8(bytes: Uint8Array, label: string, member: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    fail("E_MODEL_JSON", `${label}: ${member} is not UTF-8 text`, cause);
  }
}
