/**
 * Every Keras layer class rnn-wasm translates, by class name (as tfjs, Keras 2 and Keras 3
 * serialise it), to its translator. One file per layer family; adding a layer is a row here.
 */
import type { LayerTranslator } from "../context.js";
import { activationLayers } from "./activation.js";
import { attentionLayers } from "./attention.js";
import { convLayers } from "./conv.js";
import { coreLayers } from "./core.js";
import { mergeLayers } from "./merge.js";
import { normalizationLayers } from "./normalization.js";
import { poolingLayers } from "./pooling.js";
import { recurrentLayers } from "./recurrent.js";
import { reshapingLayers } from "./reshaping.js";
import { tfOpLayers } from "./tf-ops.js";

/** No prototype: class names come from the model file ("constructor" must not be found). */
export const LAYER_TRANSLATORS: Record<string, LayerTranslator> = Object.assign(Object.create(null), {
  ...coreLayers,
  ...recurrentLayers,
  ...activationLayers,
  ...poolingLayers,
  ...convLayers,
  ...normalizationLayers,
  ...reshapingLayers,
  ...mergeLayers,
  ...attentionLayers,
  ...tfOpLayers,
});

/** Layers whose first argument may be a constant (TensorFlow's `2.0 - x`). */
export const CONSTANT_ARGUMENT_LAYERS = new Set(Object.keys(tfOpLayers));
