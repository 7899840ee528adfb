/**
 * Activation functions in float64, written from their definitions in Keras
 * (keras/src/activations, keras/src/backend/numpy/nn.py) and tfjs-layers (src/activations.ts,
 * backend/tfjs_backend.ts). Where the two disagree the variant is a parameter:
 *   hard_sigmoid: tfjs and Keras 2 use clip(0.2x + 0.5, 0, 1); Keras 3 uses relu6(x + 3) / 6
 *                 = clip(x/6 + 0.5, 0, 1).
 *   gelu:         exact erf form in tfjs ('gelu') and Keras (approximate=False default);
 *                 tfjs' 'gelu_new' is the tanh approximation.
 * `exponential` exists in Keras only (tfjs-layers has no such activation).
 */
import { RefError } from "./errors.ts";
import type { Tensor64 } from "./tensor.ts";

export type HardSigmoidVariant = "tfjs" | "keras3";

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

export function sigmoid(x: number): number {
  // Both branches avoid exp overflow; identical values in exact arithmetic.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function hardSigmoidTfjs(x: number): number {
  return Math.min(1, Math.max(0, 0.2 * x + 0.5));
}

export function hardSigmoidKeras3(x: number): number {
  return Math.min(6, Math.max(0, x + 3)) / 6;
}

export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function elu(x: number, alpha = 1): number {
  return x > 0 ? x : alpha * Math.expm1(x);
}

export function selu(x: number): number {
  return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
}

/**
 * erf to ~1e-15: the Maclaurin series below |x| = 2.5 (alternating terms peak near e^{x^2} ≈ 500,
 * so at most ~3 digits of cancellation), and the continued fraction of erfc above it (Lentz).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax === 0) return x;
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax; // x^(2n+1)/n! for n = 0
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = d === 0 ? tiny : d;
    c = ax + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** Canonical key of an activation name: 'hard_sigmoid', 'hardSigmoid' -> 'hardsigmoid'. */
export function activationKey(name: unknown): string {
  if (name === null || name === undefined) return "linear";
  if (typeof name === "object") {
    // Keras 3 may serialise builtins as {module, class_name, config, registered_name}.
    const o = name as Record<string, unknown>;
    const inner = (o.config as Record<string, unknown> | undefined)?.name ?? o.class_name ?? o.registered_name;
    return activationKey(inner);
  }
  return String(name).toLowerCase().replace(/_/g, "");
}

const SCALAR: Record<string, ((x: number) => number) | undefined> = {
  linear: (x) => x,
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => (x > 0 ? x : 0),
  relu6: (x) => Math.min(6, Math.max(0, x)),
  elu: (x) => elu(x),
  selu,
  softplus,
  softsign: (x) => x / (1 + Math.abs(x)),
  exponential: Math.exp,
  swish: (x) => x * sigmoid(x),
  silu: (x) => x * sigmoid(x),
  gelu,
  gelunew: geluTanh,
  mish: (x) => x * Math.tanh(softplus(x)),
  // Keras 3 hard_silu / hard_swish: x · relu6(x + 3) / 6
  hardswish: (x) => x * hardSigmoidKeras3(x),
  hardsilu: (x) => x * hardSigmoidKeras3(x),
};

export const SUPPORTED_ACTIVATIONS = [...Object.keys(SCALAR), "hardsigmoid", "softmax", "logsoftmax"];

/** Scalar form; softmax has none (it needs the whole last axis). */
export function scalarActivation(name: unknown, hardSigmoid: HardSigmoidVariant): (x: number) => number {
  const key = activationKey(name);
  if (key === "hardsigmoid") return hardSigmoid === "keras3" ? hardSigmoidKeras3 : hardSigmoidTfjs;
  const f = SCALAR[key];
  if (f === undefined) {
    throw new RefError("E_UNSUPPORTED_OPTION", `activation ${JSON.stringify(name)} is not supported`);
  }
  return f;
}

export function softmaxLast(t: Tensor64, log = false): Tensor64 {
  const n = t.shape[t.shape.length - 1];
  const out = new Float64Array(t.data.length);
  for (let r = 0; r < t.data.length / n; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, t.data[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(t.data[r * n + j] - m);
    for (let j = 0; j < n; j++) {
      const z = t.data[r * n + j] - m;
      out[r * n + j] = log ? z - Math.log(s) : Math.exp(z) / s;
    }
  }
  return { shape: t.shape.slice(), data: out };
}

/** Tensor-level activation (softmax over the last axis, like tfjs and Keras). */
export function applyActivation(name: unknown, t: Tensor64, hardSigmoid: HardSigmoidVariant): Tensor64 {
  const key = activationKey(name);
  if (key === "softmax") return softmaxLast(t);
  if (key === "logsoftmax") return softmaxLast(t, true);
  const f = scalarActivation(name, hardSigmoid);
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(t.data[i]);
  return { shape: t.shape.slice(), data: out };
}

/** Throws E_UNSUPPORTED_OPTION for unknown names, naming the layer. */
export function checkActivation(name: unknown, where: string): void {
  const key = activationKey(name);
  if (!SUPPORTED_ACTIVATIONS.includes(key)) {
    throw new RefError(
      "E_UNSUPPORTED_OPTION",
      `${where}: activation ${JSON.stringify(name)} is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(", ")})`,
    );
  }
}

// ---------------------------------------------------------------- ONNX's recurrent activations
// The activation functions of ONNX's LSTM / GRU / RNN operators (onnx/docs/Operators.md, with
// onnxruntime's comparisons: ThresholdedRelu x > alpha, Elu and LeakyRelu at x >= 0), by their
// ONNX names, with alpha and beta.

export const ONNX_ACTIVATIONS: Record<string, (x: number, alpha: number, beta: number) => number> = {
  Relu: (x) => Math.max(0, x),
  Tanh: (x) => Math.tanh(x),
  Sigmoid: (x) => sigmoid(x),
  Affine: (x, a, b) => a * x + b,
  LeakyRelu: (x, a) => (x >= 0 ? x : a * x),
  ThresholdedRelu: (x, a) => (x > a ? x : 0),
  ScaledTanh: (x, a, b) => a * Math.tanh(b * x),
  HardSigmoid: (x, a, b) => Math.min(Math.max(a * x + b, 0), 1),
  Elu: (x, a) => (x >= 0 ? x : a * Math.expm1(x)),
  Softsign: (x) => x / (1 + Math.abs(x)),
  Softplus: (x) => softplus(x),
};
