/**
 * TFOpLambda and SlicingOpLambda: the layers tf.keras 2.4+ writes for a plain TensorFlow call
 * on Keras tensors inside a functional model (`tf.concat([a, b], -1)`, `x[:, -1]`, `x * 2`).
 * The config names the function (`"function": "math.reduce_mean"`); the inbound node holds
 * its arguments, positional ones by parameter name (keras/layers/core/tf_op_layer.py).
 * A fixed list of functions runs (FUNCTIONS below, and the README); any other is
 * E_UNSUPPORTED_LAYER naming it. Axes count the batch axis, as in TensorFlow; an op that
 * would change the batch axis is refused. These layers carry no Keras mask.
 */
import { RnnWasmError } from "../../../errors.js";
import { ACT, ACT_LOG_SOFTMAX, ACT_SOFTMAX } from "../../../model/activations.js";
import type { Shape } from "../../../model/spec.js";
import type { BinaryFn, ReduceFn, UnaryFn } from "../../../model/tensor-codes.js";
import { callArg, dropsMask, tensorOf, type LayerContext, type LayerTranslator } from "../context.js";
import { isObj } from "../topology.js";
import { broadcastChain, raiseRank } from "./merge.js";

type Fn = (ctx: LayerContext, name: string) => void;

const where = (ctx: LayerContext, fn: string) => `layer ${ctx.layer.name} (TFOpLambda tf.${fn})`;

function fail(ctx: LayerContext, fn: string, what: string): never {
  throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where(ctx, fn)}: ${what}`);
}

const rankOf = (ctx: LayerContext, id: string) => ctx.b.info(id).shape.length;

/** A TensorFlow axis (counting the batch axis, negative from the end) of a tensor of `rank` axes after the batch, as a spec axis. */
function axisOf(ctx: LayerContext, fn: string, v: unknown, rank: number): number {
  if (!Number.isInteger(v)) fail(ctx, fn, `axis ${JSON.stringify(v)} is not one integer`);
  const a = (v as number) < 0 ? (v as number) + rank + 1 : (v as number);
  if (a === 0) fail(ctx, fn, "the batch axis cannot be reduced, moved or removed");
  if (a < 1 || a > rank) fail(ctx, fn, `axis ${v} is outside the input's ${rank + 1} axes`);
  return a - 1;
}

/** Dims as a reshape target: unknown dims as -1 (at most one). */
function target(ctx: LayerContext, fn: string, dims: Shape): number[] {
  if (dims.filter((d) => d === null).length > 1) fail(ctx, fn, `gives [batch, ${dims.map((d) => d ?? "?").join(", ")}], more than one dim of unknown size`);
  return dims.map((d) => d ?? -1);
}

function reshapeTo(ctx: LayerContext, x: string, t: number[], out: string): string {
  return ctx.b.emit({ op: "reshape", layer: ctx.layer.name, inputs: [x], outputs: [out], target: t })[0];
}

/** The first argument (a tensor, or a constant: `2.0 - x`) and the keyword argument `second`. */
function operands(ctx: LayerContext, second: string): [unknown, unknown] {
  const constants = callArg(ctx.call, "__constants__") as unknown[] | undefined;
  const first = constants ? constants[0] : { __input__: 0 };
  return [first, callArg(ctx.call, second)];
}

/** A number or nested list of numbers (up to 8 deep) as [shape, values]; undefined for anything else. */
function constantOf(v: unknown, depth = 0): [number[], Float32Array] | undefined {
  if (typeof v === "number") return [[], Float32Array.of(v)];
  if (!Array.isArray(v) || v.length === 0 || depth >= 8) return undefined;
  const parts = v.map((x) => constantOf(x, depth + 1));
  if (parts.some((p) => !p || p[0].join() !== parts[0]![0].join())) return undefined;
  const inner = parts[0]![0];
  const data = new Float32Array(v.length * parts[0]![1].length);
  parts.forEach((p, i) => data.set(p![1], i * p![1].length));
  return [[v.length, ...inner], data];
}

const BINARY: Record<string, BinaryFn> = {
  "__operators__.add": "add", "math.add": "add", "math.subtract": "sub", "math.multiply": "mul", "math.truediv": "div",
  "math.divide": "div", "math.maximum": "max", "math.minimum": "min", "math.pow": "pow",
};

/** x (fn) y: tensors broadcast as Keras merges; a number or list of numbers becomes a constant. */
function binary(ctx: LayerContext, fn: string): void {
  const { b, layer, outId, call } = ctx;
  const [x, y] = operands(ctx, "y");
  const tx = tensorOf(call, x);
  const ty = tensorOf(call, y);
  if (tx && ty) {
    const rank = Math.max(rankOf(ctx, tx), rankOf(ctx, ty));
    const ins = [tx, ty].map((id, i) => raiseRank(b, layer, id, rank, `${outId(0)}/rank${i}`));
    broadcastChain(b, layer, BINARY[fn], ins, outId(0));
    return;
  }
  const tensor = tx ?? ty;
  const constant = constantOf(tx ? y : x);
  if (!tensor || !constant) fail(ctx, fn, "needs a tensor and a tensor or a number");
  const rank = rankOf(ctx, tensor);
  const [cshape, data] = constant;
  if (cshape.length > rank) fail(ctx, fn, `a constant of shape [${cshape.join(", ")}] does not broadcast over the batch`);
  const constShape = [...Array<number>(rank - cshape.length).fill(1), ...cshape];
  const name = b.addWeight(`${layer.name}/constant`, "vector", data, cshape, 0);
  b.emit({ op: "binary", layer: layer.name, inputs: [tensor], outputs: [outId(0)], fn: BINARY[fn], weights: tx ? { b: name } : { a: name }, constShape });
}

const UNARY: Record<string, UnaryFn> = {
  "math.negative": "neg", "math.abs": "abs", "math.sqrt": "sqrt", "math.square": "square", "math.log": "log", "math.reciprocal": "reciprocal",
};

const ACTIVATIONS: Record<string, number> = {
  "math.exp": ACT.exponential, "math.tanh": ACT.tanh, "math.sigmoid": ACT.sigmoid, "nn.relu": ACT.relu, "nn.relu6": ACT.relu6,
  "nn.elu": ACT.elu, "nn.selu": ACT.selu, "math.softplus": ACT.softplus, "nn.softsign": ACT.softsign, "nn.silu": ACT.swish,
  "nn.swish": ACT.swish,
};

function elementwise(ctx: LayerContext, fn: string): void {
  const { b, layer, outId, call } = ctx;
  const x = call.inputs[0];
  if (UNARY[fn]) b.emit({ op: "unary", layer: layer.name, inputs: [x], outputs: [outId(0)], fn: UNARY[fn], alpha: 0, beta: 0 });
  else b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: ACTIVATIONS[fn] });
}

function gelu(ctx: LayerContext, fn: string): void {
  const approximate = callArg(ctx.call, "approximate");
  if (approximate !== undefined && typeof approximate !== "boolean") fail(ctx, fn, "approximate must be a boolean");
  ctx.b.emit({ op: "activation", layer: ctx.layer.name, inputs: [ctx.call.inputs[0]], outputs: [ctx.outId(0)], activation: approximate ? ACT.gelu_tanh : ACT.gelu });
}

function softmax(ctx: LayerContext, fn: string): void {
  const x = ctx.call.inputs[0];
  const rank = rankOf(ctx, x);
  const raw = callArg(ctx.call, "axis");
  const axis = axisOf(ctx, fn, raw === undefined || raw === null ? -1 : raw, rank);
  const log = fn === "nn.log_softmax";
  if (axis === rank - 1) ctx.b.emit({ op: "activation", layer: ctx.layer.name, inputs: [x], outputs: [ctx.outId(0)], activation: log ? ACT_LOG_SOFTMAX : ACT_SOFTMAX });
  else ctx.b.emit({ op: "softmax", layer: ctx.layer.name, inputs: [x], outputs: [ctx.outId(0)], axis, log });
}

const REDUCE: Record<string, ReduceFn> = { "math.reduce_mean": "mean", "math.reduce_sum": "sum", "math.reduce_max": "max", "math.reduce_min": "min" };

function reduce(ctx: LayerContext, fn: string): void {
  const { b, layer, outId, call } = ctx;
  const x = call.inputs[0];
  const rank = rankOf(ctx, x);
  const raw = callArg(call, "axis");
  if (raw === undefined || raw === null) fail(ctx, fn, "reducing every axis, the batch axis with them, is not supported: give axis");
  const keepDims = callArg(call, "keepdims") === true;
  // the largest axis first, so the others keep their index
  const axes = [...new Set((Array.isArray(raw) ? raw : [raw]).map((a) => axisOf(ctx, fn, a, rank)))].sort((p, q) => q - p);
  let cur = x;
  axes.forEach((axis, i) => {
    cur = b.emit({ op: "reduce", layer: layer.name, inputs: [cur], outputs: [i === axes.length - 1 ? outId(0) : `${outId(0)}/${i}`], fn: REDUCE[fn], axis, keepDims })[0];
  });
}

function concat(ctx: LayerContext, fn: string): void {
  const { b, layer, outId, call } = ctx;
  const values = call.inputs;
  const rank = rankOf(ctx, values[0]);
  if (values.some((v) => rankOf(ctx, v) !== rank)) fail(ctx, fn, "inputs of different ranks");
  const axis = axisOf(ctx, fn, callArg(call, "axis"), rank);
  if (values.length === 1) {
    b.alias(outId(0), values[0]);
    return;
  }
  if (axis === rank - 1) b.emit({ op: "merge", layer: layer.name, inputs: values, outputs: [outId(0)], mode: "concat", axis: -1 });
  else b.emit({ op: "concat", layer: layer.name, inputs: values, outputs: [outId(0)], axis });
}

function reshape(ctx: LayerContext, fn: string): void {
  const shape = callArg(ctx.call, "shape");
  if (!Array.isArray(shape) || shape.some((d) => !(d === null || Number.isInteger(d)))) fail(ctx, fn, `shape ${JSON.stringify(shape)} is not a list of integers (a shape computed from tensors is not supported)`);
  if (!(shape[0] === -1 || shape[0] === null)) fail(ctx, fn, `shape ${JSON.stringify(shape)} must keep the batch axis first (-1)`);
  const t = (shape as (number | null)[]).slice(1).map((d) => (d === null ? -1 : d));
  if (t.filter((d) => d === -1).length > 1 || t.some((d) => d === 0 || d < -1)) fail(ctx, fn, `shape ${JSON.stringify(shape)} is not supported`);
  reshapeTo(ctx, ctx.call.inputs[0], t, ctx.outId(0));
}

function expandDims(ctx: LayerContext, fn: string): void {
  const x = ctx.call.inputs[0];
  const s = ctx.b.info(x).shape;
  const raw = callArg(ctx.call, "axis");
  if (!Number.isInteger(raw)) fail(ctx, fn, `axis ${JSON.stringify(raw)} is not one integer`);
  const a = (raw as number) < 0 ? (raw as number) + s.length + 2 : (raw as number);
  if (a < 1 || a > s.length + 1) fail(ctx, fn, `axis ${raw} is the batch axis or outside the result's ${s.length + 2} axes`);
  reshapeTo(ctx, x, target(ctx, fn, [...s.slice(0, a - 1), 1, ...s.slice(a - 1)]), ctx.outId(0));
}

function squeeze(ctx: LayerContext, fn: string): void {
  const x = ctx.call.inputs[0];
  const s = ctx.b.info(x).shape;
  const raw = callArg(ctx.call, "axis");
  const axes = raw === undefined || raw === null ? s.flatMap((d, i) => (d === 1 ? [i] : [])) : (Array.isArray(raw) ? raw : [raw]).map((a) => axisOf(ctx, fn, a, s.length));
  if ((raw === undefined || raw === null) && s.includes(null)) fail(ctx, fn, "squeezing every size-1 axis of an input with dims of unknown size: give axis");
  for (const a of axes) if (s[a] !== 1) fail(ctx, fn, `axis ${a + 1} has size ${s[a] ?? "unknown"}, not 1`);
  reshapeTo(ctx, x, target(ctx, fn, s.filter((_, i) => !axes.includes(i))), ctx.outId(0));
}

function transpose(ctx: LayerContext, fn: string): void {
  const x = ctx.call.inputs[0];
  const rank = rankOf(ctx, x);
  const perm = callArg(ctx.call, "perm");
  if (callArg(ctx.call, "conjugate") === true) fail(ctx, fn, "conjugate=True");
  if (!Array.isArray(perm) || perm.length !== rank + 1 || perm[0] !== 0 || [...perm].sort((p, q) => p - q).some((d, i) => d !== i)) {
    fail(ctx, fn, `perm ${JSON.stringify(perm)} must be a permutation that keeps the batch axis first`);
  }
  ctx.b.emit({ op: "transpose", layer: ctx.layer.name, inputs: [x], outputs: [ctx.outId(0)], perm: (perm as number[]).slice(1).map((d) => d - 1) });
}

/** tf.linalg.matmul(a, b, transpose_a, transpose_b) of two tensors [batch, ..., M, K] x [batch, ..., K, N]. */
function matmul(ctx: LayerContext, fn: string): void {
  const { b, layer, outId, call } = ctx;
  const x = call.inputs[0];
  const y = tensorOf(call, callArg(call, "b"));
  if (!y) fail(ctx, fn, "b must be a tensor");
  for (const flag of ["adjoint_a", "adjoint_b", "a_is_sparse", "b_is_sparse"]) if (callArg(call, flag) === true) fail(ctx, fn, `${flag}=True`);
  const rank = rankOf(ctx, x);
  if (rank < 2 || rankOf(ctx, y) !== rank) fail(ctx, fn, "needs two tensors of the same rank, 3 or more with the batch axis");
  const swap = (id: string, name: string) => {
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return b.emit({ op: "transpose", layer: layer.name, inputs: [id], outputs: [`${outId(0)}/${name}`], perm })[0];
  };
  const a = callArg(call, "transpose_a") === true ? swap(x, "a_t") : x;
  const c = callArg(call, "transpose_b") === true ? swap(y, "b_t") : y;
  b.emit({ op: "matmul", layer: layer.name, inputs: [a, c], outputs: [outId(0)] });
}

const isEllipsis = (v: unknown) => isObj(v) && v.class_name === "__ellipsis__";

/**
 * x[spec] (SlicingOpLambda, `__operators__.getitem`): per axis a slice {start, stop, step},
 * an index (the axis goes), `...`, or None (a new axis of size 1). The batch axis is taken
 * whole. One slice op by Python's rules (any time length), then a reshape for indices and new
 * axes.
 */
function getitem(ctx: LayerContext, fn: string): void {
  const { b, layer, outId, call } = ctx;
  const x = call.inputs[0];
  const s = b.info(x).shape;
  const raw = callArg(call, "slice_spec");
  const spec = Array.isArray(raw) ? raw : [raw];
  const ellipses = spec.filter(isEllipsis).length;
  const concrete = spec.filter((v) => v !== null && !isEllipsis(v)).length;
  if (ellipses > 1 || concrete > s.length + 1) fail(ctx, fn, `slice ${JSON.stringify(raw)} does not fit [batch, ${s.join(", ")}]`);
  // expand `...` (or the implicit one at the end) to whole slices
  const whole = { start: null, stop: null, step: null };
  const fill = Array<unknown>(s.length + 1 - concrete).fill(whole);
  const at = ellipses ? spec.findIndex(isEllipsis) : spec.length;
  const items = [...spec.slice(0, at), ...fill, ...spec.slice(at + (ellipses ? 1 : 0))];
  const bounds: [number | null, number | null][] = [];
  const steps: number[] = [];
  const kinds: ("new" | "index" | "slice")[] = [];
  let batchSeen = false;
  for (const item of items) {
    if (item === null) {
      if (!batchSeen) fail(ctx, fn, "a new axis before the batch axis");
      kinds.push("new");
    } else if (!batchSeen) {
      if (!(isObj(item) && item.start === null && item.stop === null && (item.step === null || item.step === 1))) fail(ctx, fn, "the batch axis must be taken whole");
      batchSeen = true;
    } else if (Number.isInteger(item)) {
      const i = item as number;
      bounds.push([i, i === -1 ? null : i + 1]);
      steps.push(1);
      kinds.push("index");
    } else if (isObj(item) && ["start", "stop", "step"].every((k) => item[k] === null || Number.isInteger(item[k]))) {
      const step = (item.step as number | null) ?? 1;
      if (step === 0) fail(ctx, fn, "a step of 0");
      bounds.push([item.start as number | null, item.stop as number | null]);
      steps.push(step);
      kinds.push("slice");
    } else fail(ctx, fn, `slice item ${JSON.stringify(item)} is not supported (tensors as indices, boolean masks)`);
  }
  const [sliced] = b.emit({
    op: "slice", layer: layer.name, inputs: [x], outputs: [`${outId(0)}/slice`], steps, bounds, starts: steps.map(() => 0), sizes: steps.map(() => 1),
  });
  const ss = b.info(sliced).shape;
  let k = 0;
  const dims: Shape = [];
  for (const kind of kinds) {
    if (kind === "new") dims.push(1);
    else if (kind === "slice") dims.push(ss[k++]);
    else k++;
  }
  if (kinds.every((kind) => kind === "slice")) b.alias(outId(0), sliced);
  else reshapeTo(ctx, sliced, target(ctx, fn, dims), outId(0));
}

/** The TensorFlow functions that run, by the name TFOpLambda records. */
const FUNCTIONS: Record<string, Fn> = {
  ...Object.fromEntries(Object.keys(BINARY).map((n) => [n, binary])),
  ...Object.fromEntries([...Object.keys(UNARY), ...Object.keys(ACTIVATIONS)].map((n) => [n, elementwise])),
  ...Object.fromEntries(Object.keys(REDUCE).map((n) => [n, reduce])),
  "nn.gelu": gelu,
  "nn.softmax": softmax,
  "nn.log_softmax": softmax,
  concat,
  reshape,
  expand_dims: expandDims,
  squeeze,
  transpose,
  "compat.v1.transpose": transpose,
  "linalg.matmul": matmul,
  "__operators__.getitem": getitem,
};

/** The function names TFOpLambda layers may hold (the README's list). */
export const TF_FUNCTIONS = Object.keys(FUNCTIONS).sort();

function tfOpLambda(ctx: LayerContext): void {
  const { c, layer, call, b } = ctx;
  const fn = typeof c.function === "string" ? c.function.replace(/^tf\./, "") : undefined;
  const run = fn === undefined ? undefined : FUNCTIONS[fn];
  if (!run) {
    throw new RnnWasmError(
      "E_UNSUPPORTED_LAYER",
      `layer ${layer.name} (${layer.className}) calls TensorFlow function tf.${fn ?? JSON.stringify(c.function)}, which rnn-wasm does not run (it runs ${TF_FUNCTIONS.map((n) => `tf.${n}`).join(", ")})`,
    );
  }
  dropsMask(b, layer, call.inputs);
  run(ctx, fn!);
}

export const tfOpLayers: Record<string, LayerTranslator> = {
  TFOpLambda: tfOpLambda,
  SlicingOpLambda: tfOpLambda,
};
