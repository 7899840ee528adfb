/**
 * The runtime's activation vocabulary: names -> kernel codes (assembly/abi.ts). hard_sigmoid
 * has two forms: clip(0.2x + 0.5, 0, 1) (tfjs, Keras 2, ONNX's defaults) and relu6(x + 3) / 6
 * (Keras 3); the importer says which.
 */
import { RnnWasmError } from "../errors.js";
import {
  ACT_ELU, ACT_EXPONENTIAL, ACT_GELU, ACT_GELU_TANH, ACT_HARD_SIGMOID, ACT_HARD_SIGMOID_K3, ACT_HARD_SWISH, ACT_LINEAR,
  ACT_LOG_SOFTMAX, ACT_MISH, ACT_RELU, ACT_RELU6, ACT_SELU, ACT_SIGMOID, ACT_SOFTMAX, ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_SWISH, ACT_TANH,
} from "../wasm/abi.js";

export { ACT_SOFTMAX, ACT_LOG_SOFTMAX };

/** Kernel code of each activation name the importers produce. */
export const ACT = {
  linear: ACT_LINEAR,
  relu: ACT_RELU,
  relu6: ACT_RELU6,
  tanh: ACT_TANH,
  sigmoid: ACT_SIGMOID,
  hard_sigmoid: ACT_HARD_SIGMOID,
  hard_sigmoid_keras3: ACT_HARD_SIGMOID_K3,
  elu: ACT_ELU,
  selu: ACT_SELU,
  softplus: ACT_SOFTPLUS,
  softsign: ACT_SOFTSIGN,
  exponential: ACT_EXPONENTIAL,
  swish: ACT_SWISH,
  gelu: ACT_GELU,
  gelu_tanh: ACT_GELU_TANH,
  mish: ACT_MISH,
  hard_swish: ACT_HARD_SWISH,
} as const;

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
