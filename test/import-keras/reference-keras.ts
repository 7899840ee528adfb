/**
 * A float64 reference of the Keras layer equations, written from the Keras sources, for
 * checking importers now and the runtime end to end later (runtime vs reference on the same
 * ModelArtifacts). One example at a time (no batch axis); slow and plain on purpose.
 *
 * Sources of each equation:
 * - LSTM: keras/src/layers/rnn/lstm.py LSTMCell.call (gates i, f, c, o along the last axis
 *   of kernel / recurrent_kernel / bias; c = f*c + i*act(z_c); h = o*act(c)); Keras 2.2.4
 *   keras/layers/recurrent.py is the same math.
 * - GRU: keras/src/layers/rnn/gru.py GRUCell.call (gates z, r, h). reset_after=False
 *   (Keras 2 default): hh = act(x W_h + b_h + (r*h) U_h). reset_after=True (tf.keras 2 and
 *   Keras 3 default): bias is [2, 3u] = [input bias; recurrent bias], hh = act(x W_h + b_h
 *   + r * (h U_h + rb_h)). h' = z*h + (1-z)*hh.
 * - SimpleRNN: h' = act(x W + b + h U).
 * - go_backwards: the cell runs over the reversed sequence and returns outputs in that
 *   order; Bidirectional flips the backward outputs back when returning sequences
 *   (keras/src/layers/rnn/bidirectional.py) and merges (concat | sum | ave | mul).
 * - hard_sigmoid: Keras 2 and tfjs clip(0.2x + 0.5, 0, 1); Keras 3 relu6(x + 3) / 6
 *   (keras/src/activations/activations.py).
 * - Conv1D (channels_last): y[t, o] = b[o] + sum_j sum_c x[t*s + j*d - pad][c] K[j, c, o];
 *   "same" pads floor(total/2) before, "causal" pads d*(k-1) before.
 * - BatchNormalization (inference): gamma * (x - moving_mean) / sqrt(moving_variance + eps)
 *   + beta; LayerNormalization over the last axis with population variance.
 */
import type { ModelArtifacts, NamedWeight } from "../../src/import/artifacts.js";
import { mulberry32 } from "../../src/random.js";

export type KerasMajor = 2 | 3;

/** A tensor without its batch axis, row-major float64. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

export function tensor(shape: number[], data: ArrayLike<number>): RefTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor of shape [${shape}] needs ${n} values, got ${data.length}`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** Keras major version the artifacts' semantics follow (hard_sigmoid differs 2 vs 3). */
export function kerasMajorOf(artifacts: ModelArtifacts): KerasMajor {
  const major = Number.parseInt(artifacts.kerasVersion ?? "", 10);
  if (Number.isFinite(major)) return major >= 3 ? 3 : 2;
  return artifacts.origin === "keras3" ? 3 : 2;
}

// ---------------------------------------------------------------------------------------
// Activations

export function activationFn(name: string | null | undefined, major: KerasMajor): (x: number) => number {
  switch (name ?? "linear") {
    case "linear":
      return (x) => x;
    case "tanh":
      return Math.tanh;
    case "sigmoid":
      return (x) => 1 / (1 + Math.exp(-x));
    case "hard_sigmoid":
      return major >= 3
        ? (x) => Math.min(Math.max(x + 3, 0), 6) / 6
        : (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1);
    case "relu":
      return (x) => Math.max(x, 0);
    case "relu6":
      return (x) => Math.min(Math.max(x, 0), 6);
    case "elu":
      return (x) => (x > 0 ? x : Math.expm1(x));
    case "selu":
      return (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x));
    case "softplus":
      return (x) => (x > 30 ? x : Math.log1p(Math.exp(x)));
    case "softsign":
      return (x) => x / (1 + Math.abs(x));
    case "swish":
    case "silu":
      return (x) => x / (1 + Math.exp(-x));
    case "exponential":
      return Math.exp;
    default:
      throw new Error(`reference: activation ${name} not implemented`);
  }
}

/** Applies an activation along the last axis (softmax needs the whole row). */
export function activate(x: RefTensor, name: string | null | undefined, major: KerasMajor): RefTensor {
  if (name === "softmax") {
    const width = x.shape[x.shape.length - 1]!;
    const out = new Float64Array(x.data.length);
    for (let row = 0; row < x.data.length; row += width) {
      let max = -Infinity;
      for (let i = 0; i < width; i++) max = Math.max(max, x.data[row + i]!);
      let sum = 0;
      for (let i = 0; i < width; i++) sum += out[row + i] = Math.exp(x.data[row + i]! - max);
      for (let i = 0; i < width; i++) out[row + i]! /= sum;
    }
    return { shape: [...x.shape], data: out };
  }
  const f = activationFn(name, major);
  return { shape: [...x.shape], data: x.data.map(f) };
}

// ---------------------------------------------------------------------------------------
// Weights by layer and role, as src/import/artifacts.ts describes the matching

function parts(name: string): string[] {
  return name.replace(/:\d+$/, "").split("/");
}

/** The weights of one model layer: the first name component is the layer name. */
export function layerWeights(artifacts: ModelArtifacts, layer: string): NamedWeight[] {
  return artifacts.weights.filter((w) => parts(w.name)[0] === layer);
}

export function role(weights: NamedWeight[], roleName: string, direction?: "forward" | "backward"): NamedWeight | undefined {
  const matches = weights.filter((w) => {
    const p = parts(w.name);
    if (p[p.length - 1] !== roleName) return false;
    if (direction === undefined) return true;
    return p.slice(1, -1).some((c) => c.startsWith(`${direction}_`));
  });
  if (matches.length > 1) throw new Error(`reference: ${matches.length} weights for role ${roleName}`);
  return matches[0];
}

function requireRole(weights: NamedWeight[], roleName: string, layer: string, direction?: "forward" | "backward"): NamedWeight {
  const w = role(weights, roleName, direction);
  if (w === undefined) throw new Error(`reference: layer ${layer} has no ${direction ?? ""} ${roleName} weight`);
  return w;
}

// ---------------------------------------------------------------------------------------
// Layers

export function embedding(ids: RefTensor, table: NamedWeight): RefTensor {
  const [vocab, dim] = table.shape as [number, number];
  const out = new Float64Array(ids.data.length * dim);
  ids.data.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`reference: token id ${id} outside [0, ${vocab})`);
    for (let d = 0; d < dim; d++) out[t * dim + d] = table.data[id * dim + d]!;
  });
  return { shape: [...ids.shape, dim], data: out };
}

/** x · kernel + bias along the last axis (Dense on a sequence applies per timestep). */
export function dense(x: RefTensor, kernel: NamedWeight, bias: NamedWeight | undefined, activation: string, major: KerasMajor): RefTensor {
  const [inDim, units] = kernel.shape as [number, number];
  const rows = x.data.length / inDim;
  if (x.shape[x.shape.length - 1] !== inDim) throw new Error(`reference: Dense expects ${inDim} features, got [${x.shape}]`);
  const out = new Float64Array(rows * units);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let acc = bias ? bias.data[u]! : 0;
      for (let i = 0; i < inDim; i++) acc += x.data[r * inDim + i]! * kernel.data[i * units + u]!;
      out[r * units + u] = acc;
    }
  }
  return activate({ shape: [...x.shape.slice(0, -1), units], data: out }, activation, major);
}

export interface RnnConfig {
  units: number;
  activation?: string;
  recurrent_activation?: string;
  return_sequences?: boolean;
  go_backwards?: boolean;
  reset_after?: boolean;
}

export interface RnnWeights {
  kernel: NamedWeight;
  recurrent_kernel: NamedWeight;
  bias?: NamedWeight;
}

/** x_t · W (+ b) for every timestep: [T, width]. */
function project(x: RefTensor, kernel: NamedWeight, bias: ArrayLike<number> | undefined): Float64Array[] {
  const [inDim, width] = kernel.shape as [number, number];
  const steps = x.shape[0]!;
  if (x.shape[1] !== inDim) throw new Error(`reference: RNN expects ${inDim} features, got [${x.shape}]`);
  const out: Float64Array[] = [];
  for (let t = 0; t < steps; t++) {
    const row = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      let acc = bias ? bias[j]! : 0;
      for (let i = 0; i < inDim; i++) acc += x.data[t * inDim + i]! * kernel.data[i * width + j]!;
      row[j] = acc;
    }
    out.push(row);
  }
  return out;
}

function matVec(h: Float64Array, U: NamedWeight): Float64Array {
  const [units, width] = U.shape as [number, number];
  const out = new Float64Array(width);
  for (let i = 0; i < units; i++) {
    const hi = h[i]!;
    if (hi === 0) continue;
    for (let j = 0; j < width; j++) out[j]! += hi * U.data[i * width + j]!;
  }
  return out;
}

function order(steps: number, backwards: boolean): number[] {
  const idx = Array.from({ length: steps }, (_, i) => i);
  return backwards ? idx.reverse() : idx;
}

function rnnOutput(outputs: Float64Array[], units: number, returnSequences: boolean): RefTensor {
  if (!returnSequences) return { shape: [units], data: Float64Array.from(outputs[outputs.length - 1] ?? new Float64Array(units)) };
  const data = new Float64Array(outputs.length * units);
  outputs.forEach((h, t) => data.set(h, t * units));
  return { shape: [outputs.length, units], data };
}

export function lstm(x: RefTensor, w: RnnWeights, cfg: RnnConfig, major: KerasMajor): RefTensor {
  const u = cfg.units;
  const act = activationFn(cfg.activation ?? "tanh", major);
  const rec = activationFn(cfg.recurrent_activation ?? (major >= 3 ? "sigmoid" : "hard_sigmoid"), major);
  const xw = project(x, w.kernel, w.bias?.data);
  let h = new Float64Array(u);
  let c = new Float64Array(u);
  const outputs: Float64Array[] = [];
  for (const t of order(x.shape[0]!, cfg.go_backwards === true)) {
    const z = matVec(h, w.recurrent_kernel);
    const hNext = new Float64Array(u);
    const cNext = new Float64Array(u);
    for (let j = 0; j < u; j++) {
      const i = rec(xw[t]![j]! + z[j]!);
      const f = rec(xw[t]![u + j]! + z[u + j]!);
      const g = act(xw[t]![2 * u + j]! + z[2 * u + j]!);
      const o = rec(xw[t]![3 * u + j]! + z[3 * u + j]!);
      cNext[j] = f * c[j]! + i * g;
      hNext[j] = o * act(cNext[j]!);
    }
    h = hNext;
    c = cNext;
    outputs.push(h);
  }
  return rnnOutput(outputs, u, cfg.return_sequences === true);
}

export function gru(x: RefTensor, w: RnnWeights, cfg: RnnConfig, major: KerasMajor): RefTensor {
  const u = cfg.units;
  const act = activationFn(cfg.activation ?? "tanh", major);
  const rec = activationFn(cfg.recurrent_activation ?? (major >= 3 ? "sigmoid" : "hard_sigmoid"), major);
  const resetAfter = cfg.reset_after ?? major >= 3;
  const bias = w.bias?.data;
  if (resetAfter && bias !== undefined && bias.length !== 6 * u) {
    throw new Error(`reference: GRU reset_after=true needs a [2, ${3 * u}] bias, got [${w.bias!.shape}]`);
  }
  const inputBias = bias === undefined ? undefined : resetAfter ? bias.subarray(0, 3 * u) : bias;
  const recurrentBias = bias !== undefined && resetAfter ? bias.subarray(3 * u) : undefined;
  const xw = project(x, w.kernel, inputBias);
  const U = w.recurrent_kernel;
  let h = new Float64Array(u);
  const outputs: Float64Array[] = [];
  for (const t of order(x.shape[0]!, cfg.go_backwards === true)) {
    const hNext = new Float64Array(u);
    if (resetAfter) {
      const hu = matVec(h, U);
      if (recurrentBias) for (let j = 0; j < 3 * u; j++) hu[j]! += recurrentBias[j]!;
      for (let j = 0; j < u; j++) {
        const z = rec(xw[t]![j]! + hu[j]!);
        const r = rec(xw[t]![u + j]! + hu[u + j]!);
        const hh = act(xw[t]![2 * u + j]! + r * hu[2 * u + j]!);
        hNext[j] = z * h[j]! + (1 - z) * hh;
      }
    } else {
      const hu = matVec(h, U); // only the z and r thirds are used as is
      const z = new Float64Array(u);
      const rh = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        z[j] = rec(xw[t]![j]! + hu[j]!);
        const r = rec(xw[t]![u + j]! + hu[u + j]!);
        rh[j] = r * h[j]!;
      }
      const rhu = matVec(rh, U);
      for (let j = 0; j < u; j++) {
        const hh = act(xw[t]![2 * u + j]! + rhu[2 * u + j]!);
        hNext[j] = z[j]! * h[j]! + (1 - z[j]!) * hh;
      }
    }
    h = hNext;
    outputs.push(h);
  }
  return rnnOutput(outputs, u, cfg.return_sequences === true);
}

export function simpleRnn(x: RefTensor, w: RnnWeights, cfg: RnnConfig, major: KerasMajor): RefTensor {
  const u = cfg.units;
  const act = activationFn(cfg.activation ?? "tanh", major);
  const xw = project(x, w.kernel, w.bias?.data);
  let h = new Float64Array(u);
  const outputs: Float64Array[] = [];
  for (const t of order(x.shape[0]!, cfg.go_backwards === true)) {
    const hu = matVec(h, w.recurrent_kernel);
    h = hu.map((v, j) => act(xw[t]![j]! + v));
    outputs.push(h);
  }
  return rnnOutput(outputs, u, cfg.return_sequences === true);
}

export interface Conv1DConfig {
  strides?: number[] | number;
  padding?: string;
  dilation_rate?: number[] | number;
  activation?: string;
}

const first = (v: number[] | number | undefined, fallback: number): number => (Array.isArray(v) ? v[0]! : v ?? fallback);

export function conv1d(x: RefTensor, kernel: NamedWeight, bias: NamedWeight | undefined, cfg: Conv1DConfig, major: KerasMajor): RefTensor {
  const [k, cin, cout] = kernel.shape as [number, number, number];
  const [steps, channels] = x.shape as [number, number];
  if (channels !== cin) throw new Error(`reference: Conv1D expects ${cin} channels, got [${x.shape}]`);
  const stride = first(cfg.strides, 1);
  const dilation = first(cfg.dilation_rate, 1);
  const span = (k - 1) * dilation + 1;
  const padding = cfg.padding ?? "valid";
  let outSteps: number;
  let padBefore: number;
  if (padding === "valid") {
    outSteps = Math.floor((steps - span) / stride) + 1;
    padBefore = 0;
  } else if (padding === "same") {
    outSteps = Math.ceil(steps / stride);
    padBefore = Math.floor(Math.max((outSteps - 1) * stride + span - steps, 0) / 2);
  } else if (padding === "causal") {
    outSteps = Math.floor((steps + span - 1 - span) / stride) + 1;
    padBefore = span - 1;
  } else {
    throw new Error(`reference: Conv1D padding ${padding}`);
  }
  const out = new Float64Array(outSteps * cout);
  for (let t = 0; t < outSteps; t++) {
    for (let o = 0; o < cout; o++) {
      let acc = bias ? bias.data[o]! : 0;
      for (let j = 0; j < k; j++) {
        const src = t * stride + j * dilation - padBefore;
        if (src < 0 || src >= steps) continue;
        for (let c = 0; c < cin; c++) acc += x.data[src * cin + c]! * kernel.data[(j * cin + c) * cout + o]!;
      }
      out[t * cout + o] = acc;
    }
  }
  return activate({ shape: [outSteps, cout], data: out }, cfg.activation, major);
}

export function batchNormalization(
  x: RefTensor,
  w: { gamma?: NamedWeight; beta?: NamedWeight; moving_mean: NamedWeight; moving_variance: NamedWeight },
  epsilon: number,
): RefTensor {
  const width = w.moving_mean.data.length;
  return {
    shape: [...x.shape],
    data: x.data.map((v, i) => {
      const c = i % width;
      const norm = (v - w.moving_mean.data[c]!) / Math.sqrt(w.moving_variance.data[c]! + epsilon);
      return norm * (w.gamma ? w.gamma.data[c]! : 1) + (w.beta ? w.beta.data[c]! : 0);
    }),
  };
}

export function layerNormalization(
  x: RefTensor,
  w: { gamma?: NamedWeight; beta?: NamedWeight },
  epsilon: number,
  rmsScaling = false,
): RefTensor {
  const width = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let row = 0; row < x.data.length; row += width) {
    let mean = 0;
    for (let i = 0; i < width; i++) mean += x.data[row + i]!;
    mean /= width;
    let variance = 0;
    for (let i = 0; i < width; i++) variance += (x.data[row + i]! - mean) ** 2;
    variance /= width;
    const inv = 1 / Math.sqrt(variance + epsilon);
    for (let i = 0; i < width; i++) {
      const centred = rmsScaling ? x.data[row + i]! : x.data[row + i]! - mean;
      out[row + i] = centred * inv * (w.gamma ? w.gamma.data[i]! : 1) + (rmsScaling || !w.beta ? 0 : w.beta.data[i]!);
    }
  }
  return { shape: [...x.shape], data: out };
}

function reverseTime(x: RefTensor): RefTensor {
  const [steps, width] = x.shape as [number, number];
  const out = new Float64Array(x.data.length);
  for (let t = 0; t < steps; t++) out.set(x.data.subarray((steps - 1 - t) * width, (steps - t) * width), t * width);
  return { shape: [...x.shape], data: out };
}

export function concatenate(xs: RefTensor[]): RefTensor {
  const widths = xs.map((x) => x.shape[x.shape.length - 1]!);
  const rows = xs[0]!.data.length / widths[0]!;
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float64Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let offset = 0;
    xs.forEach((x, k) => {
      out.set(x.data.subarray(r * widths[k]!, (r + 1) * widths[k]!), r * total + offset);
      offset += widths[k]!;
    });
  }
  return { shape: [...xs[0]!.shape.slice(0, -1), total], data: out };
}

// ---------------------------------------------------------------------------------------
// Whole models

type LayerConfig = Record<string, unknown>;
interface LayerEntry {
  class_name: string;
  config: LayerConfig;
  name?: string;
  inbound_nodes?: unknown;
}

const IDENTITY_LAYERS = new Set([
  "InputLayer",
  "Dropout",
  "SpatialDropout1D",
  "GaussianNoise",
  "GaussianDropout",
  "AlphaDropout",
  "ActivityRegularization",
]);

function rnnWeights(weights: NamedWeight[], layer: string, direction?: "forward" | "backward"): RnnWeights {
  return {
    kernel: requireRole(weights, "kernel", layer, direction),
    recurrent_kernel: requireRole(weights, "recurrent_kernel", layer, direction),
    bias: role(weights, "bias", direction),
  };
}

function runRnn(className: string, x: RefTensor, w: RnnWeights, cfg: LayerConfig, major: KerasMajor): RefTensor {
  if (cfg.return_state === true) throw new Error("reference: return_state not implemented");
  const rc = cfg as unknown as RnnConfig;
  if (className === "LSTM") return lstm(x, w, rc, major);
  if (className === "GRU") return gru(x, w, rc, major);
  if (className === "SimpleRNN") return simpleRnn(x, w, rc, major);
  throw new Error(`reference: RNN class ${className}`);
}

/** One layer on its input tensors, with the weights whose first name component is `name`. */
export function applyLayer(entry: LayerEntry, inputs: RefTensor[], artifacts: ModelArtifacts, major: KerasMajor): RefTensor {
  const cfg = entry.config;
  const name = String(entry.name ?? cfg.name);
  const weights = layerWeights(artifacts, name);
  const x = inputs[0]!;
  switch (entry.class_name) {
    case "Embedding":
      if (cfg.mask_zero === true) throw new Error("reference: masking not implemented");
      return embedding(x, requireRole(weights, "embeddings", name));
    case "Dense":
      return dense(x, requireRole(weights, "kernel", name), role(weights, "bias"), cfg.activation as string, major);
    case "Activation":
      return activate(x, cfg.activation as string, major);
    case "LSTM":
    case "GRU":
    case "SimpleRNN":
      return runRnn(entry.class_name, x, rnnWeights(weights, name), cfg, major);
    case "Bidirectional": {
      const inner = cfg.layer as LayerEntry;
      const backwardEntry = (cfg.backward_layer as LayerEntry | undefined) ?? {
        class_name: inner.class_name,
        config: { ...inner.config, go_backwards: !(inner.config.go_backwards === true) },
      };
      const y = runRnn(inner.class_name, x, rnnWeights(weights, name, "forward"), inner.config, major);
      let yRev = runRnn(backwardEntry.class_name, x, rnnWeights(weights, name, "backward"), backwardEntry.config, major);
      if (inner.config.return_sequences === true) yRev = reverseTime(yRev);
      switch (cfg.merge_mode ?? "concat") {
        case "concat":
          return concatenate([y, yRev]);
        case "sum":
          return { shape: y.shape, data: y.data.map((v, i) => v + yRev.data[i]!) };
        case "ave":
          return { shape: y.shape, data: y.data.map((v, i) => (v + yRev.data[i]!) / 2) };
        case "mul":
          return { shape: y.shape, data: y.data.map((v, i) => v * yRev.data[i]!) };
        default:
          throw new Error(`reference: merge_mode ${String(cfg.merge_mode)}`);
      }
    }
    case "TimeDistributed": {
      const inner = cfg.layer as LayerEntry;
      if (inner.class_name !== "Dense") throw new Error(`reference: TimeDistributed(${inner.class_name})`);
      return dense(x, requireRole(weights, "kernel", name), role(weights, "bias"), inner.config.activation as string, major);
    }
    case "Conv1D":
      return conv1d(x, requireRole(weights, "kernel", name), role(weights, "bias"), cfg as Conv1DConfig, major);
    case "BatchNormalization": {
      // Keras counts the batch axis: the last axis is -1 or x.shape.length
      const axis = Array.isArray(cfg.axis) && cfg.axis.length === 1 ? cfg.axis[0] : cfg.axis ?? -1;
      if (axis !== -1 && axis !== x.shape.length) throw new Error(`reference: BatchNormalization axis ${JSON.stringify(cfg.axis)}`);
      return batchNormalization(
        x,
        {
          gamma: role(weights, "gamma"),
          beta: role(weights, "beta"),
          moving_mean: requireRole(weights, "moving_mean", name),
          moving_variance: requireRole(weights, "moving_variance", name),
        },
        Number(cfg.epsilon ?? 1e-3),
      );
    }
    case "LayerNormalization":
      return layerNormalization(x, { gamma: role(weights, "gamma"), beta: role(weights, "beta") }, Number(cfg.epsilon ?? 1e-3), cfg.rms_scaling === true);
    case "Concatenate":
      return concatenate(inputs);
    case "Add":
      return { shape: x.shape, data: x.data.map((_, i) => inputs.reduce((acc, t) => acc + t.data[i]!, 0)) };
    case "GlobalAveragePooling1D":
    case "GlobalMaxPooling1D": {
      const [steps, width] = x.shape as [number, number];
      const out = new Float64Array(width);
      const max = entry.class_name === "GlobalMaxPooling1D";
      for (let c = 0; c < width; c++) {
        let acc = max ? -Infinity : 0;
        for (let t = 0; t < steps; t++) acc = max ? Math.max(acc, x.data[t * width + c]!) : acc + x.data[t * width + c]!;
        out[c] = max ? acc : acc / steps;
      }
      return { shape: [width], data: out };
    }
    case "Flatten":
      return { shape: [x.data.length], data: x.data };
    default:
      if (IDENTITY_LAYERS.has(entry.class_name)) return x;
      throw new Error(`reference: layer class ${entry.class_name} not implemented`);
  }
}

/**
 * Runs a Sequential or Functional topology (Keras 2 / tfjs form, as every importer gives
 * it) on one example per model input; returns one tensor per model output.
 */
export function runReference(artifacts: ModelArtifacts, inputs: RefTensor | RefTensor[]): RefTensor[] {
  const major = kerasMajorOf(artifacts);
  const xs = Array.isArray(inputs) ? inputs : [inputs];
  const topology = artifacts.topology as { class_name: string; config: unknown };
  const config = topology.config as LayerConfig | LayerEntry[];
  const layers = (Array.isArray(config) ? config : (config.layers as LayerEntry[])) ?? [];
  if (topology.class_name === "Sequential") {
    let x = xs[0]!;
    for (const entry of layers) x = applyLayer(entry, [x], artifacts, major);
    return [x];
  }
  const cfg = config as LayerConfig;
  const values = new Map<string, RefTensor>();
  const key = (name: string, node: number, tensor: number): string => `${name}:${node}:${tensor}`;
  (cfg.input_layers as [string, number, number][]).forEach(([name, node, t], i) => values.set(key(name, node, t), xs[i]!));
  let pending = layers.filter((l) => l.class_name !== "InputLayer");
  while (pending.length > 0) {
    const next: LayerEntry[] = [];
    for (const entry of pending) {
      const nodes = entry.inbound_nodes as [string, number, number, unknown][][];
      const ready = nodes.every((node) => node.every(([n, i, t]) => values.has(key(n, i, t))));
      if (!ready) {
        next.push(entry);
        continue;
      }
      nodes.forEach((node, nodeIndex) => {
        const ins = node.map(([n, i, t]) => values.get(key(n, i, t))!);
        values.set(key(String(entry.name), nodeIndex, 0), applyLayer(entry, ins, artifacts, major));
      });
    }
    if (next.length === pending.length) throw new Error("reference: graph has unreachable layers");
    pending = next;
  }
  return (cfg.output_layers as [string, number, number][]).map(([n, i, t]) => {
    const v = values.get(key(n, i, t));
    if (v === undefined) throw new Error(`reference: output ${n} not computed`);
    return v;
  });
}

// ---------------------------------------------------------------------------------------
// Inputs

/** Uniform floats in [0, 1) from one u32 seed (the project's mulberry32). */
export const seededRandom = mulberry32;

/**
 * Sequences shaped like `keras.datasets.imdb.load_data(num_words, index_from=3)` followed
 * by `pad_sequences(maxlen)`: 1 = start, 2 = out-of-vocabulary, words from 3 up (frequent
 * words, small ids, more likely), pre-padded with 0 and pre-truncated to `maxLen`.
 */
export function imdbStyleSequences(seed: number, count: number, maxLen = 100, numWords = 1000): number[][] {
  const rand = seededRandom(seed);
  const out: number[][] = [];
  for (let s = 0; s < count; s++) {
    const length = 5 + Math.floor(rand() * 2 * maxLen);
    const review = [1];
    for (let i = 1; i < length; i++) {
      if (rand() < 0.08) review.push(2);
      else review.push(3 + Math.min(numWords - 4, Math.floor(Math.exp(rand() * Math.log(numWords - 3)))));
    }
    const kept = review.slice(Math.max(0, review.length - maxLen));
    out.push([...new Array<number>(maxLen - kept.length).fill(0), ...kept]);
  }
  return out;
}
