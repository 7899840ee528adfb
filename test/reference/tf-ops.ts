/**
 * TFOpLambda / SlicingOpLambda in float64: the TensorFlow functions a tf.keras 2.4+ functional
 * model may call on Keras tensors, with TensorFlow's semantics (numpy broadcasting on full
 * shapes, axes counting the batch axis, Python slicing). The arguments are the call's keyword
 * arguments as the config records them (positional ones by parameter name); the first argument
 * is the call's first input, or a constant (`__constants__`). No mask passes through.
 */
import { applyActivation } from "./activations.ts";
import { RefError } from "./errors.ts";
import type { CallResult, Context, RefLayer, Shape, WeightBag } from "./layer-base.ts";
import { broadcastZip, matmul, pythonIndices, reduceAxis, softmaxAxis, take, transpose } from "./nd.ts";
import { concat, type Mask, reshape, sizeOf, type Tensor64 } from "./tensor.ts";

type Config = Record<string, any>;
type Args = Record<string, unknown>;

const tensorIndex = (v: unknown) => (typeof v === "object" && v !== null && typeof (v as { input?: unknown }).input === "number" ? (v as { input: number }).input : undefined);

/** A number or nested list of numbers as a tensor. */
function constant(v: unknown): Tensor64 {
  const shape: number[] = [];
  for (let c: unknown = v; Array.isArray(c); c = c[0]) shape.push(c.length);
  return { shape, data: Float64Array.from((Array.isArray(v) ? v.flat(Infinity) : [v]) as number[]) };
}

const normAxis = (a: number, rank: number) => (a < 0 ? a + rank : a);

const BINARY: Record<string, (x: number, y: number) => number> = {
  "__operators__.add": (x, y) => x + y, "math.add": (x, y) => x + y, "math.subtract": (x, y) => x - y,
  "math.multiply": (x, y) => x * y, "math.truediv": (x, y) => x / y, "math.divide": (x, y) => x / y,
  "math.maximum": Math.max, "math.minimum": Math.min, "math.pow": Math.pow,
};
const UNARY: Record<string, (x: number) => number> = {
  "math.negative": (x) => -x, "math.abs": Math.abs, "math.sqrt": Math.sqrt, "math.square": (x) => x * x, "math.log": Math.log,
  "math.reciprocal": (x) => 1 / x,
};
const ACTIVATION: Record<string, string> = {
  "math.exp": "exponential", "math.tanh": "tanh", "math.sigmoid": "sigmoid", "nn.relu": "relu", "nn.relu6": "relu6", "nn.elu": "elu",
  "nn.selu": "selu", "math.softplus": "softplus", "nn.softsign": "softsign", "nn.silu": "swish", "nn.swish": "swish",
};
const REDUCE: Record<string, (v: number[]) => number> = {
  "math.reduce_mean": (v) => v.reduce((a, b) => a + b, 0) / v.length,
  "math.reduce_sum": (v) => v.reduce((a, b) => a + b, 0),
  "math.reduce_max": (v) => Math.max(...v),
  "math.reduce_min": (v) => Math.min(...v),
};

export class TfOpLayer implements RefLayer {
  readonly fn: string;
  constructor(
    readonly className: string,
    readonly name: string,
    readonly config: Config,
  ) {
    this.fn = String(config.function ?? "").replace(/^tf\./, "");
  }

  build(inputShapes: Shape[], _w: WeightBag, ctx: Context, args: Args = {}): Shape[] {
    // the output shape by running the function on stand-ins: unknown dims as 3, then as 7;
    // what differs between the two runs is unknown
    const run = (n: number) => this.run(inputShapes.map((s) => ({ shape: s.map((d) => d ?? n), data: new Float64Array(sizeOf(s.map((d) => d ?? n))) })), ctx, args).shape;
    const [a, b] = [run(3), run(7)];
    return [a.map((d, i) => (i === 0 ? inputShapes[0][0] : d === b[i] ? d : null))];
  }

  call(inputs: Tensor64[], _m: (Mask | null)[], _r: Mask | null, ctx: Context, args: Args = {}): CallResult {
    return { outputs: [this.run(inputs, ctx, args)], masks: [null] };
  }

  private bad(what: string): never {
    throw new RefError("E_UNSUPPORTED_OPTION", `layer ${this.name} (tf.${this.fn}): ${what}`);
  }

  private run(inputs: Tensor64[], ctx: Context, args: Args): Tensor64 {
    const fn = this.fn;
    const arg = (name: string): Tensor64 | unknown => {
      const i = tensorIndex(args[name]);
      return i === undefined ? args[name] : inputs[i];
    };
    const constants = args.__constants__ as unknown[] | undefined;
    const x: Tensor64 = constants ? constant(constants[0]) : inputs[0];
    const rank = inputs[0].shape.length;
    if (BINARY[fn]) {
      const y = arg("y");
      const yt = (y as Tensor64)?.data instanceof Float64Array ? (y as Tensor64) : constant(y);
      return broadcastZip(x, yt, BINARY[fn]);
    }
    if (UNARY[fn]) return { shape: x.shape.slice(), data: x.data.map(UNARY[fn]) };
    if (ACTIVATION[fn]) return applyActivation(ACTIVATION[fn], x, ctx.hardSigmoid);
    if (fn === "nn.gelu") return applyActivation(args.approximate === true ? "gelu_new" : "gelu", x, ctx.hardSigmoid);
    if (fn === "nn.softmax" || fn === "nn.log_softmax") return softmaxAxis(x, normAxis(Number(args.axis ?? -1), rank), fn === "nn.log_softmax");
    if (REDUCE[fn]) {
      const axes = [args.axis].flat().map((a) => normAxis(Number(a), rank)).sort((p, q) => q - p);
      if (args.axis === undefined || args.axis === null || axes.includes(0)) this.bad("reduces the batch axis");
      return axes.reduce((t, a) => reduceAxis(t, a, REDUCE[fn], args.keepdims === true), x);
    }
    switch (fn) {
      case "concat": {
        if (inputs.length === 1) return x;
        return concat(inputs, normAxis(Number(args.axis), rank));
      }
      case "reshape": {
        const shape = (args.shape as (number | null)[]).map((d) => d ?? -1);
        const known = shape.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
        return reshape(x, shape.map((d) => (d === -1 ? x.data.length / known : d)));
      }
      case "expand_dims": {
        const a = normAxis(Number(args.axis), rank + 1);
        return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
      }
      case "squeeze": {
        const axes = args.axis === undefined || args.axis === null ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : [args.axis].flat().map((a) => normAxis(Number(a), rank));
        return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
      }
      case "transpose":
      case "compat.v1.transpose":
        return transpose(x, args.perm as number[]);
      case "linalg.matmul": {
        const swap = (t: Tensor64) => transpose(t, [...t.shape.keys()].map((i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i)));
        const a = args.transpose_a === true ? swap(x) : x;
        const b = arg("b") as Tensor64;
        return matmul(a, args.transpose_b === true ? swap(b) : b);
      }
      case "__operators__.getitem": {
        const spec = [args.slice_spec].flat();
        const isEllipsis = (v: unknown) => typeof v === "object" && v !== null && (v as Config).class_name === "__ellipsis__";
        const concrete = spec.filter((v) => v !== null && !isEllipsis(v)).length;
        const at = spec.findIndex(isEllipsis);
        const whole = { start: null, stop: null, step: null };
        const fill = Array(rank - concrete).fill(whole);
        const items = at >= 0 ? [...spec.slice(0, at), ...fill, ...spec.slice(at + 1)] : [...spec, ...fill];
        const indices: number[][] = [];
        const shape: number[] = [];
        let axis = 0;
        for (const item of items) {
          if (item === null) {
            shape.push(1);
            continue;
          }
          const n = x.shape[axis++];
          if (typeof item === "number") {
            const i = item < 0 ? item + n : item;
            if (!(i >= 0 && i < n)) this.bad(`index ${item} is out of range for an axis of ${n}`);
            indices.push([i]);
          } else {
            const s = item as { start: number | null; stop: number | null; step: number | null };
            const ix = pythonIndices(n, s.start, s.stop, s.step ?? 1);
            indices.push(ix);
            shape.push(ix.length);
          }
        }
        const taken = take(x, indices);
        return reshape(taken, shape);
      }
    }
    throw new RefError("E_UNSUPPORTED_LAYER", `layer ${this.name}: TensorFlow function tf.${fn} is not in the reference`);
  }
}
