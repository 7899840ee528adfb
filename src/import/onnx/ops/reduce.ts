/**
 * Reductions (ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
 * ReduceSumSquare, ReduceLogSum, ReduceLogSumExp) and Softmax / LogSoftmax along any axis.
 * A runtime reduction over several axes arranges them next to each other in memory (a view when
 * they already are) and reduces them as one.
 */
import type { ReduceFn } from "../../../model/tensor-codes.js";
import { isBatch, type Dim } from "../dims.js";
import { BatchLayout, type NodeContext } from "../context.js";
import { isConst, stridesOf, type ConstValue, type RtValue } from "../values.js";
import { constInts } from "./args.js";
import type { OnnxOp, OnnxOpTable } from "./registry.js";

function foldReduce(fn: ReduceFn, x: ConstValue, axes: number[], keep: boolean, ctx: NodeContext): ConstValue {
  const dims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = dims.reduce((a, b) => a * b, 1);
  const inStrides = stridesOf(x.dims);
  const outStrides = stridesOf(dims);
  const groups: number[][] = Array.from({ length: n }, () => []);
  const total = x.dims.reduce((a, b) => a * b, 1);
  const src = x.data as ArrayLike<Dim>;
  for (let flat = 0; flat < total; flat++) {
    let o = 0;
    for (let i = 0; i < x.dims.length; i++) {
      const c = Math.floor(flat / inStrides[i]) % x.dims[i];
      if (!axes.includes(i)) o += c * outStrides[i];
    }
    const v = src[flat];
    if (isBatch(v)) ctx.fail("reduces over the batch size");
    groups[o].push(v);
  }
  const out = groups.map((g) => {
    switch (fn) {
      case "sum": return g.reduce((a, b) => a + b, 0);
      case "mean": return g.reduce((a, b) => a + b, 0) / g.length;
      case "max": return Math.max(...g);
      case "min": return Math.min(...g);
      case "prod": return g.reduce((a, b) => a * b, 1);
      case "l1": return g.reduce((a, b) => a + Math.abs(b), 0);
      case "l2": return Math.sqrt(g.reduce((a, b) => a + b * b, 0));
      case "sum_square": return g.reduce((a, b) => a + b * b, 0);
      case "log_sum": return Math.log(g.reduce((a, b) => a + b, 0));
      default: {
        const m = Math.max(...g);
        return m + Math.log(g.reduce((a, b) => a + Math.exp(b - m), 0));
      }
    }
  });
  const outDims = keep ? dims : x.dims.filter((_, i) => !axes.includes(i));
  const isF = x.data instanceof Float32Array || x.data instanceof Float64Array;
  return { kind: "const", dtype: x.dtype, dims: outDims, data: isF ? (x.data instanceof Float64Array ? Float64Array.from(out) : Float32Array.from(out)) : out };
}

function reduce(fn: ReduceFn): OnnxOp {
  return (ctx: NodeContext) => {
    const x = ctx.input(0);
    const s = isConst(x) ? x.dims : x.shape;
    const keep = ctx.int("keepdims", 1) === 1;
    // axes: an attribute until opset 18 (ReduceSum: 13), then an optional input
    let axes = ctx.ints("axes") ?? (ctx.inputs[1] ? constInts(ctx, 1, "axes") : undefined);
    if (!axes || axes.length === 0) {
      if (ctx.int("noop_with_empty_axes", 0) === 1) return [x];
      axes = s.map((_, i) => i);
    }
    const norm = [...new Set(axes.map((a) => ctx.axis(a, s.length)))].sort((a, b) => a - b);
    if (isConst(x)) return [foldReduce(fn, x, norm, keep, ctx)];
    return [runtimeReduce(ctx, fn, x, norm, keep)];
  };
}

/** `x` with the axes `axes` next to each other in memory, where the first of them is. */
function gathered(ctx: NodeContext, x: RtValue, axes: number[]): { arranged: RtValue; before: number } {
  const at = Math.min(...axes.map((a) => x.order.indexOf(a)));
  const before = x.order.slice(0, at).filter((a) => !axes.includes(a));
  const after = x.order.filter((a) => !axes.includes(a) && !before.includes(a));
  return { arranged: ctx.b.arrange(x, [...before, ...axes, ...after], ctx.node.name), before: before.length };
}

/** Spec id of `v`'s memory with `axes` (adjacent, from `at`) seen as one. */
function merge(ctx: NodeContext, v: RtValue, at: number, axes: number): string {
  const b = ctx.b;
  const phys = b.physical(v);
  if (axes === 1) return v.id;
  const merged = [...phys.slice(0, at), phys.slice(at, at + axes).reduce((p, d) => p * d, 1), ...phys.slice(at + axes)];
  return b.view(v.id, merged, ctx.node.name);
}

function runtimeReduce(ctx: NodeContext, fn: ReduceFn, x: RtValue, axes: number[], keep: boolean): RtValue {
  const b = ctx.b;
  if (x.batchAxis !== null && axes.includes(x.batchAxis)) throw new BatchLayout(`${ctx.where}: reduces over the batch`);
  const { arranged, before } = gathered(ctx, x, axes);
  const input = merge(ctx, arranged, before, axes.length);
  // without keepdims: the other axes in their memory order, renumbered
  const renum = (a: number) => a - axes.filter((r) => r < a).length;
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  const reduced = ctx.output(0, shape, x.batchAxis === null ? null : renum(x.batchAxis), arranged.order.filter((a) => !axes.includes(a)).map(renum));
  b.emitValue({ op: "reduce", layer: ctx.node.name, inputs: [input], outputs: [], fn, axis: before, keepDims: false }, reduced);
  if (!keep) return reduced;
  const kept = ctx.output(0, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), x.batchAxis, arranged.order);
  return b.reshape(reduced, kept, ctx.node.name);
}

function softmax(log: boolean): OnnxOp {
  return (ctx: NodeContext) => {
    const x = ctx.input(0);
    if (isConst(x)) ctx.fail("softmax of a constant (not folded)", "E_UNSUPPORTED_LAYER");
    const r = x.shape.length;
    // before opset 13 the input is seen as 2-D [d0..axis-1, axis..]: softmax over every axis from `axis` on
    const a = ctx.axis(ctx.int("axis", ctx.b.opset < 13 ? 1 : -1), r);
    const axes = ctx.b.opset < 13 ? x.shape.map((_, i) => i).filter((i) => i >= a) : [a];
    if (x.batchAxis !== null && axes.includes(x.batchAxis)) throw new BatchLayout(`${ctx.where}: softmax over the batch`);
    const b = ctx.b;
    const layer = ctx.node.name;
    const { arranged, before } = gathered(ctx, x, axes);
    const input = merge(ctx, arranged, before, axes.length);
    const id = b.newId(`${layer}/softmax`);
    b.emit({ op: "softmax", layer, inputs: [input], outputs: [id], axis: before, log });
    const out = ctx.output(0, x.shape, x.batchAxis, arranged.order);
    return [{ ...out, id: axes.length > 1 ? b.view(id, b.physical(out), layer) : id }];
  };
}

export const reduceOps: OnnxOpTable = {
  ReduceSum: reduce("sum"),
  ReduceMean: reduce("mean"),
  ReduceMax: reduce("max"),
  ReduceMin: reduce("min"),
  ReduceProd: reduce("prod"),
  ReduceL1: reduce("l1"),
  ReduceL2: reduce("l2"),
  ReduceSumSquare: reduce("sum_square"),
  ReduceLogSum: reduce("log_sum"),
  ReduceLogSumExp: reduce("log_sum_exp"),
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
};

