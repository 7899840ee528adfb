/**
 * Activations as Keras configs write them: a string ("hardSigmoid" in tfjs, "hard_sigmoid" in
 * Keras), null (linear), or a Keras 3 object {class_name/module, config: {name, approximate}}.
 * hard_sigmoid depends on who wrote the model: tfjs and Keras 2 use clip(0.2x + 0.5, 0, 1),
 * Keras 3 uses relu6(x + 3) / 6.
 */
import { activationByName, activationCode, type ActivationName } from "../../model/activations.js";

export function activationName(value: unknown, where: string): ActivationName {
  if (value === null || value === undefined) return "linear";
  let raw: unknown = value;
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    const cfg = (v.config ?? {}) as Record<string, unknown>;
    raw = cfg.name ?? v.class_name ?? v.className;
    if (cfg.approximate === true && String(raw).toLowerCase() === "gelu") raw = "gelu_new";
  }
  return activationByName(raw, where, value);
}

export { activationCode };
