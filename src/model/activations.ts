/**
 * Activation names (as tfjs and Keras serialise them) -> kernel codes (assembly/math.ts).
 * hard_sigmoid depends on who wrote the model: tfjs and Keras 2 use clip(0.2x + 0.5, 0, 1),
 * Keras 3 uses relu6(x + 3) / 6; the importer passes the origin.
 */
import { RnnWasmError } from "../errors.js";

export const ACT = {
  linear: 0,
  relu: 1,
  relu6: 2,
  tanh: 3,
  sigmoid: 4,
  hard_sigmoid: 5,
  hard_sigmoid_keras3: 6,
  elu: 7,
  selu: 8,
  softplus: 9,
  softsign: 10,
  exponential: 11,
  swish: 12,
  gelu: 13,
  gelu_tanh: 14,
  mish: 15,
  hard_swish: 16,
} as const;

export { ACT_SOFTMAX, ACT_LOG_SOFTMAX } from "./layout.js";
import { ACT_SOFTMAX, ACT_LOG_SOFTMAX } from "./layout.js";

export type ActivationName = keyof typeof ACT | "softmax" | "log_softmax";

const ALIASES: Record<string, ActivationName> = {
  linear: "linear", relu: "relu", relu6: "relu6", tanh: "tanh", sigmoid: "sigmoid",
  hard_sigmoid: "hard_sigmoid", hardsigmoid: "hard_sigmoid", elu: "elu", selu: "selu",
  softplus: "softplus", softsign: "softsign", exponential: "exponential", swish: "swish",
  silu: "swish", gelu: "gelu", gelu_new: "gelu_tanh", mish: "mish", hard_swish: "hard_swish",
  hard_silu: "hard_swish", softmax: "softmax", log_softmax: "log_softmax", logsoftmax: "log_softmax",
};

/**
 * Normalises an activation as found in a config: a string ("hardSigmoid", "hard_sigmoid",
 * "linear"), null (linear), or a Keras 3 object {class_name/module, config: {name}}.
 */
export function activationName(value: unknown, where: string): ActivationName {
  if (value === null || value === undefined) return "linear";
  let raw: unknown = value;
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    const cfg = (v.config ?? {}) as Record<string, unknown>;
    raw = cfg.name ?? v.class_name ?? v.className;
    if (cfg.approximate === true && String(raw).toLowerCase() === "gelu") raw = "gelu_new";
  }
  if (typeof raw !== "string") {
    throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: activation ${JSON.stringify(value)} is not supported`);
  }
  const key = raw.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  const name = ALIASES[key] ?? ALIASES[key.replace(/_/g, "")];
  if (!name) {
    throw new RnnWasmError(
      "E_UNSUPPORTED_OPTION",
      `${where}: activation "${raw}" is not supported (supported: ${Object.keys(ALIASES).join(", ")})`,
    );
  }
  return name;
}

/** Kernel code of an activation, choosing the hard_sigmoid form by origin. */
export function activationCode(name: ActivationName, keras3: boolean): number {
  if (name === "softmax") return ACT_SOFTMAX;
  if (name === "log_softmax") return ACT_LOG_SOFTMAX;
  if (name === "hard_sigmoid" && keras3) return ACT.hard_sigmoid_keras3;
  return ACT[name];
}
