/**
 * Non-recurrent layers of the reference, each written from the Keras / tfjs-layers definition
 * (core Dense/Embedding/Activation/Flatten/Reshape/RepeatVector/Masking, Conv1D, pooling,
 * normalisation, merges). Config keys are the snake_case ones of model.json.
 */
import { applyActivation, checkActivation, softmaxLast } from "./activations.ts";
import { RefError, fmtShape } from "./errors.ts";
import {
  type CallResult,
  type Context,
  type RefLayer,
  type Shape,
  WeightBag,
  intOption,
  lastDim,
  requireRank,
  shapeError,
  unsupported,
} from "./layer-base.ts";
import { addBias, concat, matmulLast, type Mask, reshape, sizeOf, type Tensor64 } from "./tensor.ts";
import { broadcastZip, forEachIndex, at, reduceAxis, softmaxAxis, transpose } from "./nd.ts";

type Config = Record<string, any>;

/** Layers whose output carries the input mask unchanged (tfjs `supportsMasking = true`). */
abstract class Base implements RefLayer {
  constructor(
    readonly className: string,
    readonly name: string,
    readonly config: Config,
  ) {}
  abstract build(inputShapes: Shape[], weights: WeightBag, ctx: Context): Shape[];
  abstract call(inputs: Tensor64[], inputMasks: (Mask | null)[], rnnMask: Mask | null, ctx: Context): CallResult;
}

export class InputLayer extends Base {
  build(inputShapes: Shape[]): Shape[] {
    return inputShapes;
  }
  call(inputs: Tensor64[]): CallResult {
    return { outputs: inputs, masks: [null] };
  }
}

/** Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout: inference is identity. */
export class Identity extends Base {
  build(inputShapes: Shape[]): Shape[] {
    return [inputShapes[0]];
  }
  call(inputs: Tensor64[], masks: (Mask | null)[]): CallResult {
    return { outputs: [inputs[0]], masks: [masks[0]] };
  }
}

export class Dense extends Base {
  private kernel!: Tensor64;
  private bias: Tensor64 | null = null;
  build([s]: Shape[], w: WeightBag): Shape[] {
    const units = Number(this.config.units);
    checkActivation(this.config.activation, `layer ${this.name}`);
    if (s.length < 2) shapeError(this.name, "input rank", "rank >= 2", s);
    const inDim = lastDim(this.name, s);
    this.kernel = w.take("kernel", [inDim, units]);
    if (this.config.use_bias !== false) this.bias = w.take("bias", [units]);
    return [[...s.slice(0, -1), units]];
  }
  call([x]: Tensor64[], masks: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    let y = matmulLast(x, this.kernel);
    if (this.bias) y = addBias(y, this.bias);
    return { outputs: [applyActivation(this.config.activation, y, ctx.hardSigmoid)], masks: [masks[0]] };
  }
}

export class Activation extends Base {
  build([s]: Shape[]): Shape[] {
    checkActivation(this.config.activation, `layer ${this.name}`);
    return [s];
  }
  call([x]: Tensor64[], masks: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    return { outputs: [applyActivation(this.config.activation, x, ctx.hardSigmoid)], masks: [masks[0]] };
  }
}

/** Keras ReLU layer: max_value, negative_slope, threshold (Keras 2 backend.relu semantics). */
export class ReLU extends Base {
  build([s]: Shape[]): Shape[] {
    return [s];
  }
  call([x]: Tensor64[], masks: (Mask | null)[]): CallResult {
    const maxValue = this.config.max_value ?? null;
    const alpha = Number(this.config.negative_slope ?? 0);
    const threshold = Number(this.config.threshold ?? 0);
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = x.data[i];
      let y = threshold !== 0 ? (v > threshold ? v : 0) : Math.max(v, 0);
      if (maxValue !== null) y = Math.min(Math.max(y, 0), Number(maxValue));
      if (alpha !== 0) y -= alpha * Math.max(threshold - v, 0);
      out[i] = y;
    }
    return { outputs: [{ shape: x.shape.slice(), data: out }], masks: [masks[0]] };
  }
}

export class Embedding extends Base {
  private table!: Tensor64;
  build([s]: Shape[], w: WeightBag): Shape[] {
    const inputDim = Number(this.config.input_dim);
    const outputDim = Number(this.config.output_dim);
    this.table = w.take("embeddings", [inputDim, outputDim]);
    return [[...s, outputDim]];
  }
  call([ids]: Tensor64[]): CallResult {
    const [vocab, dim] = this.table.shape;
    const n = ids.data.length;
    const out = new Float64Array(n * dim);
    for (let i = 0; i < n; i++) {
      const id = ids.data[i];
      if (!Number.isInteger(id)) {
        throw new RefError("E_DTYPE", `layer ${this.name} (Embedding): token ids must be integers, received ${id}`);
      }
      if (id < 0 || id >= vocab) {
        throw new RefError(
          "E_TOKEN_RANGE",
          `layer ${this.name} (Embedding): token id ${id} at flat index ${i} is outside [0, ${vocab}) (input_dim ${vocab})`,
        );
      }
      out.set(this.table.data.subarray(id * dim, (id + 1) * dim), i * dim);
    }
    let mask: Mask | null = null;
    if (this.config.mask_zero === true) {
      if (ids.shape.length !== 2) throw new RefError("E_SHAPE", `layer ${this.name}: mask_zero needs [batch, time] ids`);
      const m = new Uint8Array(n);
      for (let i = 0; i < n; i++) m[i] = ids.data[i] !== 0 ? 1 : 0;
      mask = { shape: [ids.shape[0], ids.shape[1]], data: m };
    }
    return { outputs: [{ shape: [...ids.shape, dim], data: out }], masks: [mask] };
  }
}

/** Masking: zeroes timesteps whose features all equal mask_value and masks them. */
export class Masking extends Base {
  build([s]: Shape[]): Shape[] {
    requireRank(this.name, s, [3]);
    return [s];
  }
  call([x]: Tensor64[]): CallResult {
    const v = Number(this.config.mask_value ?? 0);
    const [b, t, d] = x.shape;
    const out = new Float64Array(x.data.length);
    const m = new Uint8Array(b * t);
    for (let i = 0; i < b * t; i++) {
      let keep = 0;
      for (let k = 0; k < d; k++) if (x.data[i * d + k] !== v) keep = 1;
      m[i] = keep;
      for (let k = 0; k < d; k++) out[i * d + k] = keep ? x.data[i * d + k] : 0;
    }
    return { outputs: [{ shape: x.shape.slice(), data: out }], masks: [{ shape: [b, t], data: m }] };
  }
}

export class Flatten extends Base {
  build([s]: Shape[]): Shape[] {
    const rest = s.slice(1);
    if (rest.some((d) => d === null)) shapeError(this.name, "Flatten input", "known non-batch dimensions", s);
    return [[s[0], sizeOf(rest as number[])]];
  }
  call([x]: Tensor64[]): CallResult {
    return { outputs: [reshape(x, [x.shape[0], x.data.length / x.shape[0]])], masks: [null] };
  }
}

export class Reshape extends Base {
  private resolve(rest: number[], inSize: number): number[] {
    const target = (this.config.target_shape as number[]).map((d) => (d === null || d < 0 ? -1 : d));
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const nUnknown = target.filter((d) => d === -1).length;
    if (nUnknown > 1) throw new RefError("E_MODEL_JSON", `layer ${this.name}: target_shape with several unknowns`);
    const out = target.map((d) => (d === -1 ? inSize / known : d));
    if (sizeOf(out) !== inSize || out.some((d) => !Number.isInteger(d))) {
      throw new RefError(
        "E_SHAPE",
        `layer ${this.name} (Reshape): cannot reshape ${fmtShape(rest)} to ${fmtShape(this.config.target_shape)}`,
      );
    }
    return out;
  }
  build([s]: Shape[]): Shape[] {
    const rest = s.slice(1);
    if (rest.some((d) => d === null)) {
      return [[s[0], ...(this.config.target_shape as number[]).map((d) => (d < 0 ? null : d))]];
    }
    return [[s[0], ...this.resolve(rest as number[], sizeOf(rest as number[]))]];
  }
  call([x]: Tensor64[]): CallResult {
    const b = x.shape[0];
    return { outputs: [reshape(x, [b, ...this.resolve(x.shape.slice(1), x.data.length / b)])], masks: [null] };
  }
}

export class RepeatVector extends Base {
  build([s]: Shape[]): Shape[] {
    requireRank(this.name, s, [2]);
    return [[s[0], Number(this.config.n), s[1]]];
  }
  call([x]: Tensor64[]): CallResult {
    const n = Number(this.config.n);
    const [b, d] = x.shape;
    const out = new Float64Array(b * n * d);
    for (let i = 0; i < b; i++) for (let t = 0; t < n; t++) out.set(x.data.subarray(i * d, (i + 1) * d), (i * n + t) * d);
    return { outputs: [{ shape: [b, n, d], data: out }], masks: [null] };
  }
}

/** Output length and left padding of a 1-D window op, TF conventions ('same' pads floor(total/2) left). */
export function window1d(
  length: number,
  window: number,
  stride: number,
  dilation: number,
  padding: string,
): { out: number; padLeft: number } {
  const eff = (window - 1) * dilation + 1;
  if (padding === "valid") return { out: Math.max(0, Math.floor((length - eff) / stride) + 1), padLeft: 0 };
  if (padding === "same") {
    const out = Math.ceil(length / stride);
    const total = Math.max((out - 1) * stride + eff - length, 0);
    return { out, padLeft: Math.floor(total / 2) };
  }
  if (padding === "causal") {
    const padLeft = (window - 1) * dilation;
    return { out: Math.floor((length + padLeft - eff) / stride) + 1, padLeft };
  }
  throw new RefError("E_UNSUPPORTED_OPTION", `padding ${JSON.stringify(padding)} is not supported`);
}

export class Conv1D extends Base {
  private kernel!: Tensor64;
  private bias: Tensor64 | null = null;
  private k = 1;
  private stride = 1;
  private dilation = 1;
  private padding = "valid";
  build([s]: Shape[], w: WeightBag): Shape[] {
    const c = this.config;
    requireRank(this.name, s, [3]);
    if (c.data_format !== undefined && c.data_format !== "channels_last") unsupported(this.name, "Conv1D", "data_format", c.data_format);
    if (c.groups !== undefined && c.groups !== 1) unsupported(this.name, "Conv1D", "groups", c.groups);
    checkActivation(c.activation, `layer ${this.name}`);
    this.k = intOption(c.kernel_size, 1);
    this.stride = intOption(c.strides, 1);
    this.dilation = intOption(c.dilation_rate, 1);
    this.padding = String(c.padding ?? "valid");
    if (!["valid", "same", "causal"].includes(this.padding)) unsupported(this.name, "Conv1D", "padding", c.padding);
    const filters = Number(c.filters);
    const cin = lastDim(this.name, s);
    this.kernel = w.take("kernel", [this.k, cin, filters]);
    if (c.use_bias !== false) this.bias = w.take("bias", [filters]);
    const len = s[1] === null ? null : window1d(s[1], this.k, this.stride, this.dilation, this.padding).out;
    return [[s[0], len, filters]];
  }
  call([x]: Tensor64[], _m: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    const [b, len, cin] = x.shape;
    const filters = this.kernel.shape[2];
    const { out, padLeft } = window1d(len, this.k, this.stride, this.dilation, this.padding);
    const y = new Float64Array(b * out * filters);
    for (let n = 0; n < b; n++) {
      for (let o = 0; o < out; o++) {
        for (let f = 0; f < filters; f++) {
          let s = this.bias ? this.bias.data[f] : 0;
          for (let j = 0; j < this.k; j++) {
            const t = o * this.stride + j * this.dilation - padLeft;
            if (t < 0 || t >= len) continue;
            for (let ci = 0; ci < cin; ci++) {
              s += x.data[(n * len + t) * cin + ci] * this.kernel.data[(j * cin + ci) * filters + f];
            }
          }
          y[(n * out + o) * filters + f] = s;
        }
      }
    }
    const act = applyActivation(this.config.activation, { shape: [b, out, filters], data: y }, ctx.hardSigmoid);
    return { outputs: [act], masks: [null] };
  }
}

/** MaxPooling1D / AveragePooling1D: the average counts only in-bounds elements ('same'). */
export class Pooling1D extends Base {
  private pool = 2;
  private stride = 2;
  private padding = "valid";
  build([s]: Shape[]): Shape[] {
    requireRank(this.name, s, [3]);
    const c = this.config;
    if (c.data_format !== undefined && c.data_format !== "channels_last") unsupported(this.name, this.className, "data_format", c.data_format);
    this.pool = intOption(c.pool_size, 2);
    this.stride = intOption(c.strides, this.pool);
    this.padding = String(c.padding ?? "valid");
    if (!["valid", "same"].includes(this.padding)) unsupported(this.name, this.className, "padding", c.padding);
    const len = s[1] === null ? null : window1d(s[1], this.pool, this.stride, 1, this.padding).out;
    return [[s[0], len, s[2]]];
  }
  call([x]: Tensor64[]): CallResult {
    const [b, len, ch] = x.shape;
    const { out, padLeft } = window1d(len, this.pool, this.stride, 1, this.padding);
    const isMax = this.className === "MaxPooling1D";
    const y = new Float64Array(b * out * ch);
    for (let n = 0; n < b; n++) {
      for (let o = 0; o < out; o++) {
        for (let c = 0; c < ch; c++) {
          let acc = isMax ? -Infinity : 0;
          let count = 0;
          for (let j = 0; j < this.pool; j++) {
            const t = o * this.stride + j - padLeft;
            if (t < 0 || t >= len) continue;
            const v = x.data[(n * len + t) * ch + c];
            acc = isMax ? Math.max(acc, v) : acc + v;
            count++;
          }
          y[(n * out + o) * ch + c] = isMax ? acc : acc / count;
        }
      }
    }
    return { outputs: [{ shape: [b, out, ch], data: y }], masks: [null] };
  }
}

/**
 * GlobalAveragePooling1D / GlobalMaxPooling1D. Under "keras" semantics the average skips masked
 * steps (sum(x*m)/sum(m), NaN when every step is masked, as in Keras); under "tfjs" semantics
 * it is a plain mean over all steps: tfjs-layers' GlobalAveragePooling1D ignores masks. The
 * max ignores masks in both (Keras 3 GlobalMaxPooling1D has no mask argument).
 */
export class GlobalPooling1D extends Base {
  build([s]: Shape[]): Shape[] {
    requireRank(this.name, s, [3]);
    if (this.config.data_format !== undefined && this.config.data_format !== "channels_last") {
      unsupported(this.name, this.className, "data_format", this.config.data_format);
    }
    return [this.config.keepdims === true ? [s[0], 1, s[2]] : [s[0], s[2]]];
  }
  call([x]: Tensor64[], masks: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    const [b, t, c] = x.shape;
    const isMax = this.className === "GlobalMaxPooling1D";
    const mask = !isMax && ctx.semantics === "keras" ? masks[0] : null;
    const y = new Float64Array(b * c);
    for (let n = 0; n < b; n++) {
      for (let k = 0; k < c; k++) {
        let acc = isMax ? -Infinity : 0;
        let count = 0;
        for (let s = 0; s < t; s++) {
          if (mask && !mask.data[n * t + s]) continue;
          const v = x.data[(n * t + s) * c + k];
          acc = isMax ? Math.max(acc, v) : acc + v;
          count++;
        }
        y[n * c + k] = isMax ? acc : acc / count;
      }
    }
    const shape = this.config.keepdims === true ? [b, 1, c] : [b, c];
    return { outputs: [{ shape, data: y }], masks: [null] };
  }
}

function lastAxisOnly(layer: string, cls: string, axis: unknown, rank: number): void {
  const list = Array.isArray(axis) ? axis : [axis ?? -1];
  if (list.length !== 1 || !(list[0] === -1 || list[0] === rank - 1)) unsupported(layer, cls, "axis", axis);
}

/** BatchNormalization, inference form: (x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta. */
export class BatchNormalization extends Base {
  private mean!: Tensor64;
  private variance!: Tensor64;
  private gamma: Tensor64 | null = null;
  private beta: Tensor64 | null = null;
  build([s]: Shape[], w: WeightBag): Shape[] {
    lastAxisOnly(this.name, this.className, this.config.axis, s.length);
    const d = lastDim(this.name, s);
    if (this.config.scale !== false) this.gamma = w.take("gamma", [d]);
    if (this.config.center !== false) this.beta = w.take("beta", [d]);
    this.mean = w.take("moving_mean", [d]);
    this.variance = w.take("moving_variance", [d]);
    return [s];
  }
  call([x]: Tensor64[], masks: (Mask | null)[]): CallResult {
    const eps = Number(this.config.epsilon ?? 1e-3);
    const d = this.mean.data.length;
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const k = i % d;
      let v = (x.data[i] - this.mean.data[k]) / Math.sqrt(this.variance.data[k] + eps);
      if (this.gamma) v *= this.gamma.data[k];
      if (this.beta) v += this.beta.data[k];
      out[i] = v;
    }
    return { outputs: [{ shape: x.shape.slice(), data: out }], masks: [masks[0]] };
  }
}

/** LayerNormalization over the last axis: population mean and variance, eps inside the sqrt. */
export class LayerNormalization extends Base {
  private gamma: Tensor64 | null = null;
  private beta: Tensor64 | null = null;
  build([s]: Shape[], w: WeightBag): Shape[] {
    lastAxisOnly(this.name, this.className, this.config.axis, s.length);
    if (this.config.rms_scaling === true) unsupported(this.name, this.className, "rms_scaling", true);
    const d = lastDim(this.name, s);
    if (this.config.scale !== false) this.gamma = w.take("gamma", [d]);
    if (this.config.center !== false) this.beta = w.take("beta", [d]);
    return [s];
  }
  call([x]: Tensor64[], masks: (Mask | null)[]): CallResult {
    const eps = Number(this.config.epsilon ?? 1e-3);
    const d = x.shape[x.shape.length - 1];
    const out = new Float64Array(x.data.length);
    for (let r = 0; r < x.data.length / d; r++) {
      let mean = 0;
      for (let k = 0; k < d; k++) mean += x.data[r * d + k];
      mean /= d;
      let variance = 0;
      for (let k = 0; k < d; k++) variance += (x.data[r * d + k] - mean) ** 2;
      variance /= d;
      const inv = 1 / Math.sqrt(variance + eps);
      for (let k = 0; k < d; k++) {
        let v = (x.data[r * d + k] - mean) * inv;
        if (this.gamma) v *= this.gamma.data[k];
        if (this.beta) v += this.beta.data[k];
        out[r * d + k] = v;
      }
    }
    return { outputs: [{ shape: x.shape.slice(), data: out }], masks: [masks[0]] };
  }
}

/**
 * Keras merge-layer mask: AND of the inputs' masks (null inputs count as all-ones); null when no
 * input is masked. tfjs-layers 4.x differs (its Merge.computeMask returns the first input's mask
 * with an extra leading axis), so models that feed a masked merge into an RNN break in tfjs;
 * the parity suite avoids masked merges.
 */
function andMasks(masks: (Mask | null)[]): Mask | null {
  const present = masks.filter((m): m is Mask => m !== null);
  if (present.length === 0) return null;
  const data = Uint8Array.from(present[0].data);
  for (const m of present.slice(1)) for (let i = 0; i < data.length; i++) data[i] &= m.data[i];
  return { shape: present[0].shape, data };
}

export class Merge extends Base {
  build(inputShapes: Shape[]): Shape[] {
    if (inputShapes.length < 2) shapeError(this.name, "number of inputs", "at least 2", [inputShapes.length]);
    if (this.className === "Concatenate") {
      const rank = inputShapes[0].length;
      const axis = Number(this.config.axis ?? -1);
      const ax = axis < 0 ? rank + axis : axis;
      const out = inputShapes[0].slice();
      out[ax] = inputShapes.some((s) => s[ax] === null) ? null : inputShapes.reduce((a, s) => a + (s[ax] as number), 0);
      for (const s of inputShapes) {
        if (s.length !== rank || s.some((d, i) => i !== ax && i !== 0 && d !== null && out[i] !== null && d !== out[i])) {
          shapeError(this.name, "Concatenate input", fmtShape(inputShapes[0]), s);
        }
      }
      return [out];
    }
    // Keras merges broadcast: a lower-rank input gains size-1 axes after the batch axis, then
    // size-1 axes repeat (numpy)
    const rank = Math.max(...inputShapes.map((s) => s.length));
    const raised = inputShapes.map((s) => [s[0], ...Array<number>(rank - s.length).fill(1), ...s.slice(1)]);
    const out = raised[0].slice();
    for (const s of raised.slice(1)) {
      s.forEach((d, i) => {
        if (i === 0) return;
        const o = out[i];
        if (o !== null && d !== null && o !== d && o !== 1 && d !== 1) shapeError(this.name, `${this.className} input`, fmtShape(inputShapes[0]), inputShapes[1]);
        out[i] = o === 1 ? d : d === 1 ? o : o ?? d;
      });
    }
    return [out];
  }
  call(rawInputs: Tensor64[], masks: (Mask | null)[]): CallResult {
    const mask = andMasks(masks);
    const rank = Math.max(...rawInputs.map((t) => t.shape.length));
    const inputs = rawInputs.map((t) => (t.shape.length === rank ? t : reshape(t, [t.shape[0], ...Array<number>(rank - t.shape.length).fill(1), ...t.shape.slice(1)])));
    const zip = (a: Tensor64, b: Tensor64, f: (x: number, y: number) => number) => broadcastZip(a, b, f);
    switch (this.className) {
      case "Concatenate":
        return { outputs: [concat(inputs, Number(this.config.axis ?? -1))], masks: [mask] };
      case "Add":
        return { outputs: [inputs.reduce((a, b) => zip(a, b, (x, y) => x + y))], masks: [mask] };
      case "Subtract":
        return { outputs: [zip(inputs[0], inputs[1], (x, y) => x - y)], masks: [mask] };
      case "Multiply":
        return { outputs: [inputs.reduce((a, b) => zip(a, b, (x, y) => x * y))], masks: [mask] };
      case "Maximum":
        return { outputs: [inputs.reduce((a, b) => zip(a, b, Math.max))], masks: [mask] };
      case "Minimum":
        return { outputs: [inputs.reduce((a, b) => zip(a, b, Math.min))], masks: [mask] };
      case "Average": {
        const sum = inputs.reduce((a, b) => zip(a, b, (x, y) => x + y));
        return { outputs: [{ shape: sum.shape, data: sum.data.map((v) => v / inputs.length) }], masks: [mask] };
      }
    }
    throw new RefError("E_UNSUPPORTED_LAYER", `layer ${this.name}: merge ${this.className}`);
  }
}

/**
 * Softmax as a layer, over any one axis. Keras adds (1 - mask)·(-1e9) to a masked input by
 * broadcasting the [batch, time] mask against it, which fits no input of the layer's usual
 * shapes: the reference refuses a masked input under "keras" semantics; tfjs ignores the mask.
 */
export class SoftmaxLayer extends Base {
  private axis(rank: number): number {
    const raw = Array.isArray(this.config.axis) ? this.config.axis[0] : this.config.axis ?? -1;
    const a = raw < 0 ? raw + rank : raw;
    if (!(a >= 1 && a < rank) || (Array.isArray(this.config.axis) && this.config.axis.length !== 1)) unsupported(this.name, this.className, "axis", this.config.axis);
    return a;
  }
  build([s]: Shape[]): Shape[] {
    this.axis(s.length);
    return [s];
  }
  call([x]: Tensor64[], masks: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    if (masks[0] && ctx.semantics === "keras") unsupported(this.name, this.className, "masked input", true);
    const a = this.axis(x.shape.length);
    return { outputs: [a === x.shape.length - 1 ? softmaxLast(x) : softmaxAxis(x, a)], masks: [masks[0]] };
  }
}

/** Permute(dims): axes 1.. reordered (dims count from 1); no mask passes (Keras drops it). */
export class Permute extends Base {
  build([s]: Shape[]): Shape[] {
    const dims: number[] = this.config.dims;
    if (!Array.isArray(dims) || dims.length !== s.length - 1) unsupported(this.name, this.className, "dims", dims);
    return [[s[0], ...dims.map((d) => s[d])]];
  }
  call([x]: Tensor64[]): CallResult {
    return { outputs: [transpose(x, [0, ...(this.config.dims as number[])])], masks: [null] };
  }
}

/**
 * Dot(axes, normalize): Keras' batch_dot of two [batch, ...] tensors of rank 2 or 3: the sum
 * over the paired axes; the output holds the first input's other axes, then the second's
 * ([batch, 1] when none is left). normalize: each input divided by its L2 norm along its axis,
 * sqrt(max(Σx², eps)) with eps 1e-7 (tfjs), 1e-12 (tf.keras), 1e-14 (Keras 3: norm >= 1e-7).
 */
export class Dot extends Base {
  private axes(ranks: number[]): [number, number] {
    const raw = Array.isArray(this.config.axes) ? this.config.axes : [this.config.axes, this.config.axes];
    return raw.map((a: number, i: number) => (a < 0 ? ((a % ranks[i]) + ranks[i]) % ranks[i] : a)) as [number, number];
  }
  build(inputShapes: Shape[]): Shape[] {
    const [x, y] = inputShapes;
    const [a, b] = this.axes([x.length, y.length]);
    if (x[a] !== null && y[b] !== null && x[a] !== y[b]) shapeError(this.name, "Dot inputs", `equal sizes on axes ${a}, ${b}`, y);
    const out = [x[0], ...x.slice(1).filter((_, i) => i + 1 !== a), ...y.slice(1).filter((_, i) => i + 1 !== b)];
    return [out.length === 1 ? [x[0], 1] : out];
  }
  call(inputs: Tensor64[], _m: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    let [x, y] = inputs;
    const [a, b] = this.axes([x.shape.length, y.shape.length]);
    if (this.config.normalize === true) {
      const [major] = ctx.kerasRelease ?? [0, 0];
      const eps = ctx.semantics === "tfjs" && major === 0 ? 1e-7 : major >= 3 ? 1e-14 : 1e-12;
      const norm = (t: Tensor64, axis: number) => {
        const sq = reduceAxis(t, axis, (v) => v.reduce((p, q) => p + q * q, 0), true);
        return broadcastZip(t, sq, (v, s) => v / Math.sqrt(Math.max(s, eps)));
      };
      x = norm(x, a);
      y = norm(y, b);
    }
    const B = x.shape[0];
    const fx = x.shape.map((_, i) => i).filter((i) => i !== 0 && i !== a);
    const fy = y.shape.map((_, i) => i).filter((i) => i !== 0 && i !== b);
    const shape = [B, ...fx.map((i) => x.shape[i]), ...fy.map((i) => y.shape[i])];
    const outShape = shape.length === 1 ? [B, 1] : shape;
    const data = new Float64Array(sizeOf(outShape));
    forEachIndex(shape, (idx, flat) => {
      let acc = 0;
      for (let k = 0; k < x.shape[a]; k++) {
        const xi = [idx[0], 0, 0].slice(0, x.shape.length);
        const yi = [idx[0], 0, 0].slice(0, y.shape.length);
        xi[a] = k;
        yi[b] = k;
        fx.forEach((ax, n) => (xi[ax] = idx[1 + n]));
        fy.forEach((ax, n) => (yi[ax] = idx[1 + fx.length + n]));
        acc += at(x, xi) * at(y, yi);
      }
      data[flat] = acc;
    });
    return { outputs: [{ shape: outShape, data }], masks: [null] };
  }
}
