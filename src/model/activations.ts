/**
 * The runtime's activation vocabulary: names -> kernel codes (assembly/math.ts). hard_sigmoid
 * has two forms: clip(0.2x + 0.5, 0, 1) (tfjs, Keras 2, ONNX's defaults) and relu6(x + 3) / 6
 * (Keras 3); the importer says which.
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

/** Null-prototype: a config's "__proto__" or "constructor" names no activation. */
const ALIASES: Record<string, ActivationName> = Object.assign(Object.create(null), {
  linear: "linear", relu: "relu", relu6: "relu6", tanh: "tanh", sigmoid: "sigmoid",
  hard_sigmoid: "hard_sigmoid", hardsigmoid: "hard_sigmoid", elu: "elu", selu: "selu",
  softplus: "softplus", softsign: "softsign", exponential: "exponential", swish: "swish",
  silu: "swish", gelu: "gelu", gelu_new: "gelu_tanh", mish: "mish", hard_swish: "hard_swish",
  hard_silu: "hard_swish", softmax: "softmax", log_softmax: "log_softmax", logsoftmax: "log_softmax",
});

/**
 * The activation a name stands for, in any spelling the runtime accepts ("hardSigmoid",
 * "hard_sigmoid", "HardSigmoid", "silu"). Importers turn their format's activation values into
 * such a name first (src/import/keras/activations.ts).
 */
export function activationByName(raw: unknown, where: string, shown: unknown = raw): ActivationName {
  if (typeof raw !== "string") {
    throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: activation ${JSON.stringify(shown)} is not supported`);
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

/** Kernel code of an activation; `relu6HardSigmoid` picks hard_sigmoid's relu6(x + 3) / 6 form. */
export function activationCode(name: ActivationName, relu6HardSigmoid: boolean): number {
  if (name === "softmax") return ACT_SOFTMAX;
  if (name === "log_softmax") return ACT_LOG_SOFTMAX;
  if (name === "hard_sigmoid" && relu6HardSigmoid) return ACT.hard_sigmoid_keras3;
  return ACT[name];
}
