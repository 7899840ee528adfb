/**
 * Ops that make or inspect values rather than compute on them: Constant, ConstantOfShape,
 * Shape, Size, Identity, Cast, Range, Dropout. Shapes of runtime tensors are known at export
 * (the batch stays symbolic), so Shape and Size always fold.
 */
import { isBatch, productDims, type Dim } from "../dims.js";
import type { NodeContext } from "../context.js";
import { foldable, fromTensor, intConst, isConst, numbersOf, type ConstValue, type Value } from "../values.js";
import type { OnnxOpTable } from "./registry.js";

function constant(ctx: NodeContext): Value[] {
  const a = ctx.attr("value") ?? ctx.attr("value_float") ?? ctx.attr("value_floats") ?? ctx.attr("value_int") ?? ctx.attr("value_ints");
  if (!a) ctx.fail("has no value attribute (value, value_float(s), value_int(s))", "E_ONNX");
  if (a.t) return [fromTensor(a.t)];
  if (a.name === "value_float") return [{ kind: "const", dtype: "float32", dims: [], data: Float32Array.of(a.f ?? 0) }];
  if (a.name === "value_floats") return [{ kind: "const", dtype: "float32", dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []) }];
  if (a.name === "value_int") return [intConst([], [a.i ?? 0])];
  return [intConst([a.ints?.length ?? 0], a.ints ?? [])];
}

export function shapeOf(v: Value): Dim[] {
  return isConst(v) ? v.dims : v.shape;
}

function shape(ctx: NodeContext): Value[] {
  const s = shapeOf(ctx.input(0));
  const r = s.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clamp(ctx.int("start", 0));
  const end = clamp(ctx.int("end", r));
  const dims = s.slice(start, Math.max(start, end));
  return [intConst([dims.length], dims)];
}

function size(ctx: NodeContext): Value[] {
  return [intConst([], [productDims(shapeOf(ctx.input(0)), ctx.where)])];
}

function identity(ctx: NodeContext): Value[] {
  return [ctx.input(0)];
}

/** Dropout is the identity at inference; its optional mask output is all ones. */
function dropout(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  if (ctx.node.outputs.length < 2 || !ctx.node.outputs[1]) return [x];
  if (!isConst(x)) ctx.fail("its mask output is used; rnn-wasm runs Dropout as the identity and has no mask to give");
  return [x, intConst(x.dims, new Array(x.dims.reduce((p, d) => p * d, 1)).fill(1), "bool")];
}

const FLOAT_TYPES = new Set([1, 10, 11, 16]);
const INT_TYPES: Record<number, string> = { 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool", 12: "uint32", 13: "uint64" };

function cast(ctx: NodeContext): Value[] {
  const to = ctx.int("to", 1);
  const x = ctx.input(0);
  if (!isConst(x)) {
    if (FLOAT_TYPES.has(to) && x.dtype === "float32") return [x];
    ctx.fail(`casting a runtime ${x.dtype} tensor to type ${to} is not supported (only float to float at run time)`);
  }
  if (FLOAT_TYPES.has(to)) {
    const data = Array.from(x.data as ArrayLike<Dim>, (d) => {
      if (isBatch(d)) ctx.fail("casts a shape that holds the batch size to float");
      return d;
    });
    return [{ kind: "const", dtype: to === 11 ? "float64" : "float32", dims: x.dims, data: to === 11 ? Float64Array.from(data) : Float32Array.from(data) }];
  }
  const type = INT_TYPES[to];
  if (!type) ctx.fail(`cast to type ${to} is not supported`);
  const out = Array.from(x.data as ArrayLike<Dim>, (d): Dim => {
    if (isBatch(d)) return type === "bool" ? 1 : d; // the batch is at least 1
    if (type === "bool") return d !== 0 ? 1 : 0;
    return Number.isNaN(d) ? 0 : Math.trunc(d);
  });
  return [intConst(x.dims, out, type as ConstValue["dtype"])];
}

function castLike(ctx: NodeContext): Value[] {
  const like = ctx.input(1);
  const code = { float32: 1, float16: 10, float64: 11, int32: 6, int64: 7, bool: 9, int8: 3, uint8: 2 }[like.dtype as string] ?? 1;
  return cast(new (ctx.constructor as typeof NodeContext)(ctx.b, { ...ctx.node, attrs: new Map([["to", { name: "to", i: code }]]) }, [ctx.input(0)]));
}

function range(ctx: NodeContext): Value[] {
  const [start, limit, delta] = [0, 1, 2].map((i) => numbersOf(ctx.constInput(i, ["start", "limit", "delta"][i]), ctx.where)[0]);
  if (delta === 0) ctx.fail("delta is 0", "E_ONNX");
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  foldable([n], ctx.where);
  const data = Array.from({ length: n }, (_, i) => start + i * delta);
  const dtype = ctx.input(0).dtype;
  if (dtype === "float32" || dtype === "float64") return [{ kind: "const", dtype, dims: [n], data: dtype === "float32" ? Float32Array.from(data) : Float64Array.from(data) }];
  return [intConst([n], data, dtype)];
}

/**
 * ConstantOfShape: a constant when the shape is known; with the batch in the shape, a runtime
 * tensor (every batch row the same), made from the graph's first input's batch.
 */
function constantOfShape(ctx: NodeContext): Value[] {
  const dims = ctx.constInput(0, "shape").data as Dim[];
  const t = ctx.attr("value")?.t;
  const value = t ? Number((t.data as ArrayLike<number>)[0] ?? 0) : 0;
  const dtype = t?.dtype ?? "float32";
  const batchAxes = dims.flatMap((d, i) => (isBatch(d) ? [i] : []));
  if (!batchAxes.length) {
    const n = (dims as number[]).reduce((p, d) => p * d, 1);
    foldable([n], ctx.where);
    const isFloat = dtype === "float32" || dtype === "float16" || dtype === "float64";
    return [isFloat ? { kind: "const", dtype: dtype === "float64" ? "float64" : "float32", dims: dims as number[], data: new Float32Array(n).fill(value) } : intConst(dims as number[], new Array(n).fill(value), dtype)];
  }
  return [ctx.b.batchConstant(ctx, dims, value)];
}

export const constantOps: OnnxOpTable = {
  Constant: constant,
  Shape: shape,
  Size: size,
  Identity: identity,
  Dropout: dropout,
  Cast: cast,
  CastLike: castLike,
  Range: range,
  ConstantOfShape: constantOfShape,
};

