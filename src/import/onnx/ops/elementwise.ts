/**
 * Elementwise ops: arithmetic with broadcasting (Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean),
 * comparisons and logic (folded only: they steer shapes and If conditions), and the unary
 * functions and activations. Constants fold in float64 (rounded to float32); runtime tensors
 * become binary / unary / activation ops, a constant operand becoming a weight laid out like
 * the runtime operand.
 */
import { RnnWasmError } from "../../../errors.js";
import { ACT, ACT_SOFTMAX } from "../../../model/activations.js";
import type { BinaryFn, UnaryFn } from "../../../model/tensor-codes.js";
import { decide, isBatch, mulDim, type BatchDim, type Dim } from "../dims.js";
import { BatchLayout, type NodeContext, type OnnxBuilder } from "../context.js";
import { dftMagnitude, dftPower, dftSquare, fuseActivation } from "../fuse.js";
import {
  broadcastShapes, isConst, isFloat, mapConsts, type ConstValue, type RtValue, type Value,
} from "../values.js";
import type { OnnxOp, OnnxOpTable } from "./registry.js";

// ------------------------------------------------------------------ runtime layout

/**
 * `v` seen with `rank` axes (leading size-1 axes added, as broadcasting aligns shapes right)
 * and laid out in `order` (same batch axis): a view or a transpose.
 */
export function alignTo(b: OnnxBuilder, v: RtValue, rank: number, batchAxis: number | null, order: number[], layer: string): RtValue {
  const shift = rank - v.shape.length;
  const vb = v.batchAxis === null ? null : v.batchAxis + shift;
  if (vb !== batchAxis) throw new BatchLayout(`${layer}: operands carry the batch on different axes`);
  const lifted: RtValue = {
    ...v,
    shape: [...new Array(shift).fill(1), ...v.shape],
    batchAxis: vb,
    order: [...Array.from({ length: shift }, (_, i) => i), ...v.order.map((a) => a + shift)],
  };
  return b.arrange(lifted, order, layer);
}

/** The layout of a broadcast result: the first runtime operand's, new leading axes outermost. */
function resultLayout(v: RtValue, rank: number): { batchAxis: number | null; order: number[] } {
  const shift = rank - v.shape.length;
  return {
    batchAxis: v.batchAxis === null ? null : v.batchAxis + shift,
    order: [...Array.from({ length: shift }, (_, i) => i), ...v.order.map((a) => a + shift)],
  };
}

/** a (fn) b where at least one operand is a runtime tensor. */
export function runtimeBinary(ctx: NodeContext, fn: BinaryFn, a: Value, bv: Value, out = 0): RtValue {
  const b = ctx.b;
  const shape = broadcastShapes(isConst(a) ? a.dims : a.shape, isConst(bv) ? bv.dims : bv.shape, ctx.where);
  const first = (isConst(a) ? bv : a) as RtValue;
  const { batchAxis, order } = resultLayout(first, shape.length);
  const result = ctx.output(out, shape, batchAxis, order);
  const layer = ctx.node.name;
  const operand = (v: Value) => (isConst(v) ? v : alignTo(b, v, shape.length, batchAxis, order, layer));
  const [x, y] = [operand(a), operand(bv)];
  if (!isConst(x) && !isConst(y)) {
    return b.emitValue({ op: "binary", layer, inputs: [x.id, y.id], outputs: [], fn }, result);
  }
  const c = (isConst(x) ? x : y) as ConstValue;
  const laid = b.constInLayout(c, shape.length, batchAxis, order, ctx.where);
  const weight = b.constWeight(b.newId(`${layer}/const`), laid.data, laid.dims, ctx.where);
  const rt = (isConst(x) ? y : x) as RtValue;
  return b.emitValue({
    op: "binary", layer, inputs: [rt.id], outputs: [], fn,
    weights: isConst(x) ? { a: weight } : { b: weight }, constShape: laid.dims,
  }, result);
}

export function runtimeUnary(ctx: NodeContext, x: RtValue, fn: UnaryFn, alpha = 0, beta = 0): RtValue {
  const out = ctx.output(0, x.shape, x.batchAxis, x.order);
  return ctx.b.emitValue({ op: "unary", layer: ctx.node.name, inputs: [x.id], outputs: [], fn, alpha, beta }, out);
}

export function runtimeActivation(ctx: NodeContext, x: RtValue, code: number): RtValue {
  if (code === ACT.linear) return x;
  if (code >= ACT_SOFTMAX) throw new RnnWasmError("E_ONNX", `${ctx.where}: softmax is not an elementwise activation`);
  const fused = fuseActivation(ctx, x, code);
  if (fused) return fused;
  const out = ctx.output(0, x.shape, x.batchAxis, x.order);
  return ctx.b.emitValue({ op: "activation", layer: ctx.node.name, inputs: [x.id], outputs: [], activation: code }, out);
}

// ------------------------------------------------------------------ arithmetic

const num = (d: Dim, ctx: NodeContext): number => {
  if (isBatch(d)) ctx.fail("computes on the batch size where it cannot stay symbolic");
  return d;
};

/** Integer arithmetic that keeps the batch symbol where it can (shape computations). */
function intArith(fn: BinaryFn, x: Dim, y: Dim, ctx: NodeContext): Dim {
  if (fn === "mul") return mulDim(x, y, ctx.where);
  if (!isBatch(x) && !isBatch(y)) {
    switch (fn) {
      case "add": return x + y;
      case "sub": return x - y;
      case "div": return y === 0 ? 0 : Math.trunc(x / y);
      case "pow": return x ** y;
      case "max": return Math.max(x, y);
      default: return Math.min(x, y);
    }
  }
  if (fn === "add" && isBatch(x) && isBatch(y)) return { k: x.k + y.k };
  if (fn === "sub" && isBatch(x) && isBatch(y) && x.k > y.k) return { k: x.k - y.k };
  if (fn === "div" && isBatch(x) && !isBatch(y) && x.k % y === 0) return { k: x.k / y };
  if (fn === "div" && isBatch(x) && isBatch(y)) return Math.trunc(x.k / y.k);
  // max/min with a number no larger than the batch's smallest value (k): the batch is at least 1
  if (fn === "max" || fn === "min") {
    const [bd, n] = isBatch(x) ? [x, y] : [y as BatchDim, x];
    if (!isBatch(n) && n <= bd.k) return fn === "max" ? bd : n;
  }
  return decide(ctx.where, ctx.b.fixedBatch, (v) => intArith(fn, v(x), v(y), ctx) as number);
}

function floatArith(fn: BinaryFn, x: number, y: number): number {
  switch (fn) {
    case "add": return x + y;
    case "sub": return x - y;
    case "mul": return x * y;
    case "div": return x / y;
    case "pow": return x ** y;
    case "max": return Math.max(x, y);
    default: return Math.min(x, y);
  }
}

function foldBinary(ctx: NodeContext, fn: BinaryFn, a: ConstValue, b: ConstValue): ConstValue {
  if (isFloat(a) || isFloat(b)) {
    const dtype = a.data instanceof Float64Array || b.data instanceof Float64Array ? "float64" : "float32";
    return mapConsts([a, b], dtype, (x, y) => floatArith(fn, num(x, ctx), num(y, ctx)), ctx.where);
  }
  return mapConsts([a, b], a.dtype, (x, y) => intArith(fn, x, y, ctx), ctx.where);
}

/** A scalar constant's value, if `v` is one (broadcast to anything). */
function scalar(v: Value): number | undefined {
  if (!isConst(v) || v.dims.reduce((p, d) => p * d, 1) !== 1) return undefined;
  const d = (v.data as ArrayLike<Dim>)[0];
  return typeof d === "number" ? d : undefined;
}

/** Whether `c`, a scalar, broadcasts onto `rt` without changing its shape. */
const scalarFits = (c: Value, rt: Value) => isConst(c) && !isConst(rt) && c.dims.length <= rt.shape.length;

function binary(fn: BinaryFn): OnnxOp {
  return (ctx: NodeContext) => {
    const [a, b] = [ctx.input(0), ctx.input(1)];
    if (isConst(a) && isConst(b)) return [foldBinary(ctx, fn, a, b)];
    // x·s, x + s, x - s, s - x with a scalar s: one affine pass (exact: 1·x and x + 0 round as x)
    const sa = scalar(a), sb = scalar(b);
    if (sb !== undefined && scalarFits(b, a)) {
      const x = a as RtValue;
      if (fn === "mul") return [runtimeUnary(ctx, x, "affine", sb, 0)];
      if (fn === "add") return [runtimeUnary(ctx, x, "affine", 1, sb)];
      if (fn === "sub") return [runtimeUnary(ctx, x, "affine", 1, -sb)];
      if (fn === "pow") return [powScalar(ctx, x, sb)];
    }
    if (sa !== undefined && scalarFits(a, b)) {
      const x = b as RtValue;
      if (fn === "mul") return [runtimeUnary(ctx, x, "affine", sa, 0)];
      if (fn === "add") return [runtimeUnary(ctx, x, "affine", 1, sa)];
      if (fn === "sub") return [runtimeUnary(ctx, x, "affine", -1, sa)];
    }
    const out = runtimeBinary(ctx, fn, a, b);
    return [fn === "add" && !isConst(a) && !isConst(b) ? { ...out, from: dftPower(a, b) } : out];
  };
}

function powScalar(ctx: NodeContext, x: RtValue, p: number): RtValue {
  if (p === 1) return x;
  if (p === 2) return { ...runtimeUnary(ctx, x, "square"), from: dftSquare(x) };
  if (p === 0.5) return runtimeUnary(ctx, x, "sqrt");
  if (p === -1) return runtimeUnary(ctx, x, "reciprocal");
  return runtimeUnary(ctx, x, "pow", p);
}

/** Sum, Mean, Max, Min over any number of inputs. */
function variadic(fn: BinaryFn, mean = false): OnnxOp {
  return (ctx: NodeContext) => {
    const vals = ctx.inputs.filter((v): v is Value => v !== undefined);
    let acc = vals[0];
    for (let i = 1; i < vals.length; i++) {
      acc = isConst(acc) && isConst(vals[i]) ? foldBinary(ctx, fn, acc, vals[i] as ConstValue) : runtimeBinary(ctx, fn, acc, vals[i]);
    }
    if (mean && vals.length > 1) {
      acc = isConst(acc) ? foldBinary(ctx, "div", acc, { kind: "const", dtype: "float32", dims: [], data: Float32Array.of(vals.length) })
        : runtimeUnary(ctx, acc, "affine", 1 / vals.length, 0);
    }
    return [acc];
  };
}

// ------------------------------------------------------------------ comparisons and logic (fold only)

function compare(f: (x: number, y: number) => boolean): OnnxOp {
  return (ctx: NodeContext) => {
    const [a, b] = [ctx.input(0), ctx.input(1)];
    if (!isConst(a) || !isConst(b)) ctx.fail("compares runtime tensors; rnn-wasm folds comparisons at export (they steer shapes and If), and this one depends on the input values", "E_UNSUPPORTED_LAYER");
    return [mapConsts([a, b], "bool", (x, y) => {
      if (!isBatch(x) && !isBatch(y)) return f(x, y) ? 1 : 0;
      return decide(ctx.where, ctx.b.fixedBatch, (v) => (f(v(x), v(y)) ? 1 : 0));
    }, ctx.where)];
  };
}

function logic(f: (...xs: number[]) => number, arity: number): OnnxOp {
  return (ctx: NodeContext) => {
    const xs = Array.from({ length: arity }, (_, i) => ctx.input(i));
    if (!xs.every(isConst)) ctx.fail("runs on runtime tensors; rnn-wasm folds logic ops at export", "E_UNSUPPORTED_LAYER");
    return [mapConsts(xs as ConstValue[], "bool", (...v) => f(...v.map((d) => (isBatch(d) ? 1 : d))), ctx.where)];
  };
}

function where(ctx: NodeContext): Value[] {
  const [c, x, y] = [ctx.input(0), ctx.input(1), ctx.input(2)];
  if (!isConst(c)) ctx.fail("its condition is computed at run time; rnn-wasm folds Where at export", "E_UNSUPPORTED_LAYER");
  if (isConst(x) && isConst(y)) {
    const dtype = isFloat(x) ? x.dtype : y.dtype;
    return [mapConsts([c, x, y], dtype, (cv, xv, yv) => (cv !== 0 ? xv : yv), ctx.where)];
  }
  // a constant condition that picks one side entirely
  const flags = new Set(Array.from(c.data as ArrayLike<Dim>, (d) => (d !== 0 ? 1 : 0)));
  if (flags.size === 1) {
    const pick = flags.has(1) ? x : y;
    const shape = broadcastShapes(broadcastShapes(c.dims, isConst(x) ? x.dims : x.shape, ctx.where), isConst(y) ? y.dims : y.shape, ctx.where);
    const ps = isConst(pick) ? pick.dims : pick.shape;
    if (ps.length === shape.length && ps.every((d, i) => d === shape[i] || (isBatch(d) && isBatch(shape[i])))) return [pick];
  }
  ctx.fail("selects elementwise between runtime tensors, which is not supported", "E_UNSUPPORTED_LAYER");
}

// ------------------------------------------------------------------ unary

type FloatFn = (x: number, alpha: number, beta: number) => number;

/** An elementwise function: its float64 form for folding, its runtime form. */
function unary(f: FloatFn, run: (ctx: NodeContext, x: RtValue) => RtValue, params: (ctx: NodeContext) => [number, number] = () => [0, 0]): OnnxOp {
  return (ctx: NodeContext) => {
    const x = ctx.input(0);
    const [alpha, beta] = params(ctx);
    if (isConst(x)) {
      if (!isFloat(x)) {
        return [mapConsts([x], x.dtype, (v) => {
          if (isBatch(v)) ctx.fail("applies a function to the batch size");
          return f(v, alpha, beta);
        }, ctx.where)];
      }
      return [mapConsts([x], x.dtype, (v) => f(v as number, alpha, beta), ctx.where)];
    }
    return [run(ctx, x)];
  };
}

const act = (code: number) => (ctx: NodeContext, x: RtValue) => runtimeActivation(ctx, x, code);
const un = (fn: UnaryFn, params?: (ctx: NodeContext) => [number, number]) =>
  (ctx: NodeContext, x: RtValue) => runtimeUnary(ctx, x, fn, ...(params ? params(ctx) : [0, 0]) as [number, number]);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for folding; a series / continued fraction pair
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t, term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
}

const alphaOf = (name: string, fallback: number) => (ctx: NodeContext): [number, number] => [ctx.float(name, fallback), 0];

function clip(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  // opset < 11: min/max attributes; since: optional inputs 1 and 2
  const bound = (i: number, attr: string, fallback: number) => {
    if (ctx.b.opset < 11) return ctx.float(attr, fallback);
    const v = ctx.inputs[i];
    if (v === undefined) return fallback;
    if (!isConst(v)) ctx.fail(`its ${attr} bound is computed at run time`);
    const d = (v.data as ArrayLike<Dim>)[0];
    return typeof d === "number" ? d : fallback;
  };
  const lo = bound(1, "min", -Infinity);
  const hi = bound(2, "max", Infinity);
  if (isConst(x)) return [mapConsts([x], x.dtype, (v) => Math.min(Math.max(v as number, lo), hi), ctx.where)];
  if (lo === 0 && hi === Infinity) return [runtimeActivation(ctx, x, ACT.relu)];
  if (lo === 0 && hi === 6) return [runtimeActivation(ctx, x, ACT.relu6)];
  return [runtimeUnary(ctx, x, "clip", Math.fround(lo) === -Infinity ? -3.4e38 : lo, hi === Infinity ? 3.4e38 : hi)];
}

function hardSigmoid(ctx: NodeContext): Value[] {
  const alpha = ctx.float("alpha", 0.2);
  const beta = ctx.float("beta", 0.5);
  const x = ctx.input(0);
  if (isConst(x)) return [mapConsts([x], x.dtype, (v) => Math.max(0, Math.min(1, alpha * (v as number) + beta)), ctx.where)];
  // the kernel code hard_sigmoid is clip(0.2x + 0.5): exact only for ONNX's defaults
  if (Math.fround(alpha) === Math.fround(0.2) && beta === 0.5) return [runtimeActivation(ctx, x, ACT.hard_sigmoid)];
  return [runtimeUnary(ctx, x, "hard_sigmoid", alpha, beta)];
}

function gelu(ctx: NodeContext): Value[] {
  const tanh = ctx.str("approximate", "none") === "tanh";
  const x = ctx.input(0);
  if (isConst(x)) {
    return [mapConsts([x], x.dtype, (v) => {
      const t = v as number;
      return tanh ? 0.5 * t * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (t + 0.044715 * t ** 3))) : 0.5 * t * (1 + erf(t / Math.SQRT2));
    }, ctx.where)];
  }
  return [runtimeActivation(ctx, x, tanh ? ACT.gelu_tanh : ACT.gelu)];
}

function elu(ctx: NodeContext): Value[] {
  const alpha = ctx.float("alpha", 1);
  const x = ctx.input(0);
  if (isConst(x)) return [mapConsts([x], x.dtype, (v) => ((v as number) >= 0 ? (v as number) : alpha * (Math.exp(v as number) - 1)), ctx.where)];
  return [alpha === 1 ? runtimeActivation(ctx, x, ACT.elu) : runtimeUnary(ctx, x, "elu", alpha, 0)];
}

function selu(ctx: NodeContext): Value[] {
  const alpha = ctx.float("alpha", 1.67326319217681884765625);
  const gamma = ctx.float("gamma", 1.05070102214813232421875);
  const x = ctx.input(0);
  if (isConst(x)) return [mapConsts([x], x.dtype, (v) => gamma * ((v as number) > 0 ? (v as number) : alpha * (Math.exp(v as number) - 1)), ctx.where)];
  return [runtimeUnary(ctx, x, "selu", alpha, gamma)];
}

export const elementwiseOps: OnnxOpTable = {
  Add: binary("add"),
  Sub: binary("sub"),
  Mul: binary("mul"),
  Div: binary("div"),
  Pow: binary("pow"),
  Max: variadic("max"),
  Min: variadic("min"),
  Sum: variadic("add"),
  Mean: variadic("add", true),
  Equal: compare((x, y) => x === y),
  Greater: compare((x, y) => x > y),
  Less: compare((x, y) => x < y),
  GreaterOrEqual: compare((x, y) => x >= y),
  LessOrEqual: compare((x, y) => x <= y),
  Not: logic((x) => (x ? 0 : 1), 1),
  And: logic((x, y) => (x && y ? 1 : 0), 2),
  Or: logic((x, y) => (x || y ? 1 : 0), 2),
  Xor: logic((x, y) => (!!x !== !!y ? 1 : 0), 2),
  Where: where,
  Neg: unary((x) => -x, un("neg")),
  Abs: unary(Math.abs, un("abs")),
  Sqrt: unary(Math.sqrt, (ctx, x) => dftMagnitude(ctx, x) ?? runtimeUnary(ctx, x, "sqrt")),
  Reciprocal: unary((x) => 1 / x, un("reciprocal")),
  Log: unary(Math.log, un("log")),
  Exp: unary(Math.exp, act(ACT.exponential)),
  Floor: unary(Math.floor, un("floor")),
  Ceil: unary(Math.ceil, un("ceil")),
  Round: unary((x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r; }, un("round")),
  Sign: unary(Math.sign, un("sign")),
  Erf: unary(erf, un("erf")),
  Relu: unary((x) => Math.max(x, 0), act(ACT.relu)),
  Sigmoid: unary(sigmoid, act(ACT.sigmoid)),
  Tanh: unary(Math.tanh, act(ACT.tanh)),
  Softplus: unary((x) => Math.log1p(Math.exp(x)), act(ACT.softplus)),
  Softsign: unary((x) => x / (1 + Math.abs(x)), act(ACT.softsign)),
  Mish: unary((x) => x * Math.tanh(Math.log1p(Math.exp(x))), act(ACT.mish)),
  HardSwish: unary((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)), act(ACT.hard_swish)),
  LeakyRelu: unary((x, a) => (x >= 0 ? x : a * x), un("leaky_relu", alphaOf("alpha", 0.01)), alphaOf("alpha", 0.01)),
  ThresholdedRelu: unary((x, a) => (x > a ? x : 0), un("thresholded_relu", alphaOf("alpha", 1)), alphaOf("alpha", 1)),
  Clip: clip,
  HardSigmoid: hardSigmoid,
  Gelu: gelu,
  Elu: elu,
  Selu: selu,
};
