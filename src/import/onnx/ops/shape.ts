/**
 * Ops that move data without computing: Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
 * Concat, Split, Slice, Gather, Pad, Expand, Tile. On constants they fold; on runtime tensors a
 * Transpose only renames axes, adding or removing size-1 axes is a view, and the rest become
 * transpose / slice / concat / pad ops over memory axes.
 */
import { B1, dimEq, divDim, isBatch, productDims, showShape, type Dim } from "../dims.js";
import { BatchLayout, type NodeContext } from "../context.js";
import { dftPart } from "../fuse.js";
import {
  count, dimsOf, intConst, isConst, numbersOf, pickConst, stridesOf, transposeConst, type ConstValue, type RtValue, type Value,
} from "../values.js";
import { shapeOf } from "./constants.js";
import type { OnnxOpTable } from "./registry.js";


/** Axes from an attribute (older opsets) or input `i` (newer ones). */
function axesOf(ctx: NodeContext, i: number, attr = "axes"): number[] | undefined {
  const fromAttr = ctx.ints(attr);
  if (fromAttr) return fromAttr;
  const v = ctx.inputs[i];
  return v === undefined ? undefined : numbersOf(ctx.constInput(i, attr), ctx.where);
}

// ------------------------------------------------------------------ views (reshape and friends)

/**
 * A runtime tensor under a new logical shape with the same row-major element order. Batch-first
 * memory holds that order only when every axis before the batch has size 1, in the input and in
 * the output, and the batch keeps its size.
 */
function view(ctx: NodeContext, x: RtValue, shape: Dim[]): RtValue {
  const b = ctx.b;
  const layer = ctx.node.name;
  let batchAxis: number | null = null;
  if (x.batchAxis !== null) {
    const axes = shape.flatMap((d, i) => (isBatch(d) ? [i] : []));
    const ok = axes.length === 1 && dimEq(shape[axes[0]], B1) &&
      shape.slice(0, axes[0]).every((d) => d === 1) && x.shape.slice(0, x.batchAxis).every((d) => d === 1);
    if (!ok) throw new BatchLayout(`${ctx.where}: reshapes ${showShape(x.shape)} to ${showShape(shape)}`);
    batchAxis = axes[0];
  }
  const src = b.rowMajor(x, layer);
  const order = shape.map((_, i) => i).filter((i) => i !== batchAxis);
  return b.reshape(src, ctx.output(0, shape, batchAxis, order), layer);
}

/** ONNX Reshape's target: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshapeTarget(ctx: NodeContext, input: Dim[], target: Dim[], allowZero: boolean): Dim[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? input[i] : d));
  const unknown = out.findIndex((d) => d === -1);
  const total = productDims(input, ctx.where);
  if (unknown >= 0) {
    const known = productDims(out.filter((_, i) => i !== unknown), ctx.where);
    const d = divDim(total, known);
    if (d === undefined) ctx.fail(`cannot reshape ${showShape(input)} to ${showShape(target)}`, "E_ONNX");
    out[unknown] = d;
  }
  const prod = productDims(out, ctx.where);
  if (!dimEq(prod, total) || out.some((d) => !isBatch(d) && !(d >= 0))) ctx.fail(`cannot reshape ${showShape(input)} to ${showShape(out)}`, "E_ONNX");
  return out;
}

function reshape(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const target = reshapeTarget(ctx, shapeOf(x), dimsOf(ctx.constInput(1, "shape"), ctx.where), ctx.int("allowzero", 0) === 1);
  if (isConst(x)) return [{ ...x, dims: numbersOf(intConst([target.length], target), ctx.where) }];
  return [view(ctx, x, target)];
}

function flatten(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  const a = ctx.axis(ctx.int("axis", 1), s.length + 1);
  const target = [productDims(s.slice(0, a), ctx.where), productDims(s.slice(a), ctx.where)];
  if (isConst(x)) return [{ ...x, dims: target as number[] }];
  return [view(ctx, x, target)];
}

function squeeze(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  const given = axesOf(ctx, 1);
  const axes = given ? given.map((a) => ctx.axis(a, s.length)) : s.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (s[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of ${showShape(s)} (not of size 1${isBatch(s[a]) ? ": it is the batch" : ""})`);
  const shape = s.filter((_, i) => !axes.includes(i));
  if (isConst(x)) return [{ ...x, dims: shape as number[] }];
  return [renumber(ctx, x, shape, s.map((_, i) => (axes.includes(i) ? -1 : i - axes.filter((a) => a < i).length)))];
}

function unsqueeze(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  const r = s.length + (axesOf(ctx, 1)?.length ?? 0);
  const axes = (axesOf(ctx, 1) ?? ctx.fail("has no axes", "E_ONNX")).map((a) => ctx.axis(a, r)).sort((a, b) => a - b);
  const shape: Dim[] = [];
  const map: number[] = [];
  for (let i = 0, k = 0; i < r; i++) {
    if (axes.includes(i)) shape.push(1);
    else {
      map[k++] = i;
      shape.push(s[k - 1]);
    }
  }
  if (isConst(x)) return [{ ...x, dims: shape as number[] }];
  return [renumber(ctx, x, shape, map)];
}

/**
 * The same memory under logical axes renamed by `map` (old axis -> new axis, -1: dropped, size
 * 1); a new size-1 axis goes in memory before the first kept axis that follows it logically.
 */
function renumber(ctx: NodeContext, x: RtValue, shape: Dim[], map: number[]): RtValue {
  const batchAxis = x.batchAxis === null ? null : map[x.batchAxis];
  const order = x.order.map((a) => map[a]).filter((a) => a >= 0);
  for (const axis of shape.map((_, i) => i)) {
    if (axis === batchAxis || order.includes(axis)) continue;
    const at = order.findIndex((a) => a > axis);
    order.splice(at < 0 ? order.length : at, 0, axis);
  }
  return ctx.b.reshape(x, ctx.output(0, shape, batchAxis, order), ctx.node.name);
}

function transpose(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  const perm = ctx.ints("perm") ?? s.map((_, i) => s.length - 1 - i);
  if (perm.length !== s.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) ctx.fail(`perm [${perm.join(", ")}] is not a permutation of ${s.length} axes`, "E_ONNX");
  if (isConst(x)) return [transposeConst(x, perm)];
  // out axis i is in axis perm[i]: only the names change
  const inverse: number[] = [];
  perm.forEach((p, i) => (inverse[p] = i));
  const batchAxis = x.batchAxis === null ? null : inverse[x.batchAxis];
  return [{ ...ctx.output(0, perm.map((p) => s[p]), batchAxis, x.order.map((a) => inverse[a])), id: x.id }];
}

// ------------------------------------------------------------------ concat, split, slice, gather

function concatConsts(ctx: NodeContext, vs: ConstValue[], axis: number): ConstValue {
  const dims = vs[0].dims.slice();
  dims[axis] = vs.reduce((a, v) => a + v.dims[axis], 0);
  const outer = count(dims.slice(0, axis));
  const isF = vs[0].data instanceof Float32Array || vs[0].data instanceof Float64Array;
  const data: Dim[] = [];
  for (let o = 0; o < outer; o++) {
    for (const v of vs) {
      const block = count(v.dims.slice(axis));
      const src = v.data as ArrayLike<Dim>;
      for (let i = 0; i < block; i++) data.push(src[o * block + i]);
    }
  }
  return { kind: "const", dtype: vs[0].dtype, dims, data: isF ? (vs[0].data instanceof Float64Array ? Float64Array.from(data as number[]) : Float32Array.from(data as number[])) : data };
}

function concat(ctx: NodeContext): Value[] {
  const vs = ctx.inputs.filter((v): v is Value => v !== undefined && shapeOf(v).every((d) => d !== 0));
  const r = shapeOf(vs[0]).length;
  const axis = ctx.axis(ctx.int("axis", 0), r);
  if (vs.every(isConst)) return [concatConsts(ctx, vs as ConstValue[], axis)];
  const first = vs.find((v): v is RtValue => !isConst(v))!;
  if (first.batchAxis === axis) throw new BatchLayout(`${ctx.where}: concatenates along the batch`);
  const parts = vs.map((v) => {
    const rt = isConst(v) ? constantRows(ctx, v, first) : v;
    return ctx.b.arrange(rt, first.order, ctx.node.name);
  });
  const shape = first.shape.slice();
  shape[axis] = parts.reduce((a, p) => a + (p.shape[axis] as number), 0);
  const out = ctx.output(0, shape, first.batchAxis, first.order);
  return [ctx.b.emitValue({ op: "concat", layer: ctx.node.name, inputs: parts.map((p) => p.id), outputs: [], axis: first.order.indexOf(axis) }, out)];
}

/** A constant as a runtime tensor in `like`'s layout, the same for every batch row. */
function constantRows(ctx: NodeContext, c: ConstValue, like: RtValue): RtValue {
  const b = ctx.b;
  const laid = b.constInLayout(c, like.shape.length, like.batchAxis, like.order, ctx.where);
  const shape = c.dims.map((d, i) => (i === like.batchAxis ? like.shape[i] : d));
  const out = ctx.output(0, shape, like.batchAxis, like.order);
  const weight = b.constWeight(b.newId(`${ctx.node.name}/const`), laid.data, laid.dims, ctx.where);
  return b.emitValue({ op: "constant", layer: ctx.node.name, inputs: [b.batchRef ?? like.id], outputs: [], shape: laid.dims, weights: { value: weight } }, out);
}

interface AxisSlice { start: number; step: number; size: number }

/** ONNX Slice semantics for one axis of size d: clamped start/end, any step sign. */
function sliceAxis(d: number, start: number, end: number, step: number): AxisSlice {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = clamp(s, 0, d);
    e = clamp(e, 0, d);
  } else {
    s = clamp(s, -1, d - 1);
    e = clamp(e, -1, d - 1);
  }
  const size = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, step, size };
}

/** Slices per logical axis (undefined: whole axis). */
function applySlices(ctx: NodeContext, x: Value, per: (AxisSlice | undefined)[]): Value {
  const s = shapeOf(x);
  if (isConst(x)) {
    const dims = x.dims.map((d, i) => per[i]?.size ?? d);
    const strides = stridesOf(x.dims);
    const outStrides = stridesOf(dims);
    return pickConst(x, dims, (flat) => {
      let at = 0;
      for (let i = 0; i < dims.length; i++) {
        const c = Math.floor(flat / outStrides[i]) % dims[i];
        const p = per[i];
        at += (p ? p.start + c * p.step : c) * strides[i];
      }
      return at;
    });
  }
  if (x.batchAxis !== null && per[x.batchAxis]) throw new BatchLayout(`${ctx.where}: slices the batch axis`);
  const shape = s.map((d, i) => (per[i] ? per[i]!.size : d));
  if (shape.some((d) => d === 0)) ctx.fail(`gives an empty tensor ${showShape(shape)}`);
  if (per.every((p, i) => !p || (p.start === 0 && p.step === 1 && p.size === s[i]))) return x;
  const phys = ctx.b.physical(x);
  const out = ctx.output(0, shape, x.batchAxis, x.order);
  // the real or imaginary half of a DFT conv's channels (fuse.ts)
  const sliced = per.flatMap((p, i) => (p ? [[i, p] as const] : []));
  if (sliced.length === 1 && sliced[0][0] === 1) out.from = dftPart(x, 1, sliced[0][1].start, sliced[0][1].size, sliced[0][1].step);
  return ctx.b.emitValue({
    op: "slice", layer: ctx.node.name, inputs: [x.id], outputs: [],
    starts: x.order.map((a) => per[a]?.start ?? 0),
    steps: x.order.map((a) => per[a]?.step ?? 1),
    sizes: x.order.map((a, i) => per[a]?.size ?? phys[i]),
  }, out);
}

function slice(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.b.opset < 10) {
    starts = ctx.ints("starts") ?? [];
    ends = ctx.ints("ends") ?? [];
    axes = ctx.ints("axes");
  } else {
    starts = numbersOf(ctx.constInput(1, "starts"), ctx.where);
    ends = numbersOf(ctx.constInput(2, "ends"), ctx.where);
    axes = ctx.inputs[3] ? numbersOf(ctx.constInput(3, "axes"), ctx.where) : undefined;
    steps = ctx.inputs[4] ? numbersOf(ctx.constInput(4, "steps"), ctx.where) : undefined;
  }
  const per: (AxisSlice | undefined)[] = s.map(() => undefined);
  starts.forEach((st, k) => {
    const a = ctx.axis(axes ? axes[k] : k, s.length);
    const d = s[a];
    const step = steps ? steps[k] : 1;
    if (step === 0) ctx.fail("a step of 0", "E_ONNX");
    if (isBatch(d)) {
      // the whole batch axis (0 .. INT_MAX) keeps it; anything else depends on its size
      if (st === 0 && step === 1 && ends[k] >= 2 ** 31 - 1) return;
      throw new BatchLayout(`${ctx.where}: slices the batch axis`);
    }
    per[a] = sliceAxis(d, st, ends[k], step);
  });
  return [applySlices(ctx, x, per)];
}

function split(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  const a = ctx.axis(ctx.int("axis", 0), s.length);
  const d = s[a];
  if (isBatch(d)) throw new BatchLayout(`${ctx.where}: splits the batch`);
  const n = ctx.node.outputs.length;
  let sizes = ctx.ints("split") ?? (ctx.inputs[1] ? numbersOf(ctx.constInput(1, "split"), ctx.where) : undefined);
  if (!sizes) {
    const part = Math.ceil(d / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(part, d - i * part)));
  }
  if (sizes.length !== n || sizes.reduce((p, q) => p + q, 0) !== d) ctx.fail(`split sizes [${sizes.join(", ")}] do not add up to ${d}`, "E_ONNX");
  let at = 0;
  return sizes.map((size) => {
    const per: (AxisSlice | undefined)[] = s.map(() => undefined);
    per[a] = { start: at, step: 1, size };
    at += size;
    return applySlices(ctx, x, per);
  });
}

function gather(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const idx = ctx.input(1);
  const s = shapeOf(x);
  const a = ctx.axis(ctx.int("axis", 0), s.length);
  if (!isConst(idx)) return [ctx.b.embeddingLookup(ctx, x, idx as RtValue, a)];
  const d = s[a];
  const ids = numbersOf(idx, ctx.where).map((i) => {
    if (isBatch(d)) throw new BatchLayout(`${ctx.where}: gathers along the batch axis`);
    const j = i < 0 ? i + d : i;
    if (!(j >= 0 && j < d)) ctx.fail(`index ${i} is outside an axis of size ${d}`, "E_ONNX");
    return j;
  });
  const outShape: Dim[] = [...s.slice(0, a), ...idx.dims, ...s.slice(a + 1)];
  if (isConst(x)) {
    const inner = stridesOf(x.dims)[a];
    const k = ids.length;
    return [pickConst(x, outShape as number[], (flat) => {
      const i = flat % inner;
      const j = Math.floor(flat / inner) % k;
      const o = Math.floor(flat / (inner * k));
      return (o * x.dims[a] + ids[j]) * inner + i;
    })];
  }
  // runtime: one slice per run of indices with a constant step, concatenated, then the index dims
  const runs: AxisSlice[] = [];
  for (const j of ids) {
    const r = runs[runs.length - 1];
    if (r && r.size === 1 && j !== r.start) {
      r.step = j - r.start;
      r.size = 2;
    } else if (r && r.size > 1 && j === r.start + r.size * r.step) {
      r.size++;
    } else {
      runs.push({ start: j, step: 1, size: 1 });
    }
  }
  const parts = runs.map((r) => {
    const per: (AxisSlice | undefined)[] = s.map(() => undefined);
    per[a] = r;
    return applySlices(ctx, x, per) as RtValue;
  });
  let joined: RtValue;
  if (parts.length === 1) joined = parts[0];
  else {
    const shape = s.slice();
    shape[a] = ids.length;
    const out = ctx.output(0, shape, x.batchAxis, x.order);
    joined = ctx.b.emitValue({ op: "concat", layer: ctx.node.name, inputs: parts.map((p) => p.id), outputs: [], axis: x.order.indexOf(a) }, out);
  }
  // axis a of size ids.length -> the index dims (none for a scalar index)
  const map = s.map((_, i) => (i < a ? i : i === a ? (idx.dims.length ? a + idx.dims.length - 1 : -1) : i + idx.dims.length - 1));
  if (idx.dims.length <= 1) return [renumber(ctx, joined, outShape, map)];
  return [view(ctx, joined, outShape)];
}

// ------------------------------------------------------------------ pad, expand, tile

function pad(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const s = shapeOf(x);
  const mode = ctx.str("mode", "constant");
  if (mode !== "constant" && mode !== "reflect" && mode !== "edge") ctx.fail(`mode ${mode} is not supported (constant, reflect, edge)`);
  let pads: number[];
  let value = 0;
  if (ctx.b.opset < 11) {
    pads = ctx.ints("pads") ?? [];
    value = ctx.float("value", 0);
  } else {
    pads = numbersOf(ctx.constInput(1, "pads"), ctx.where);
    if (ctx.inputs[2]) value = numbersOf(ctx.constInput(2, "constant_value"), ctx.where)[0] ?? 0;
  }
  const axes = ctx.inputs[3] ? numbersOf(ctx.constInput(3, "axes"), ctx.where).map((a) => ctx.axis(a, s.length)) : s.map((_, i) => i);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads has ${pads.length} values for ${axes.length} axes`, "E_ONNX");
  const before = s.map(() => 0);
  const after = s.map(() => 0);
  axes.forEach((a, k) => {
    before[a] = pads[k];
    after[a] = pads[k + axes.length];
  });
  if (before.some((p) => p < 0) || after.some((p) => p < 0)) {
    // negative pads crop: a slice
    const per = s.map((d, i) => (before[i] < 0 || after[i] < 0 ? { start: Math.max(0, -before[i]), step: 1, size: (d as number) + Math.min(0, before[i]) + Math.min(0, after[i]) } : undefined));
    const cropped = applySlices(ctx, x, per);
    return pad(new (ctx.constructor as typeof NodeContext)(ctx.b, ctx.node, [cropped, intConst([2 * s.length], [...before.map((p) => Math.max(p, 0)), ...after.map((p) => Math.max(p, 0))]), ...(ctx.inputs[2] ? [ctx.inputs[2]] : [])]));
  }
  if (before.every((p) => p === 0) && after.every((p) => p === 0)) return [x];
  if (isConst(x)) ctx.fail("pads a constant (not folded; rare in exported graphs)", "E_UNSUPPORTED_LAYER");
  if (x.batchAxis !== null && (before[x.batchAxis] || after[x.batchAxis])) throw new BatchLayout(`${ctx.where}: pads the batch axis`);
  if (mode === "reflect" && s.some((d, i) => !isBatch(d) && (before[i] >= d || after[i] >= d))) ctx.fail(`reflect padding of ${before}/${after} is wider than the axes ${showShape(s)}`);
  const shape = s.map((d, i) => (isBatch(d) ? d : d + before[i] + after[i]));
  const out = ctx.output(0, shape, x.batchAxis, x.order);
  return [ctx.b.emitValue({
    op: "pad", layer: ctx.node.name, inputs: [x.id], outputs: [], mode,
    before: x.order.map((a) => before[a]), after: x.order.map((a) => after[a]), value,
  }, out)];
}

/** Expand: broadcast to a shape. On runtime tensors, each size-1 axis grows by edge padding. */
function expand(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const target = dimsOf(ctx.constInput(1, "shape"), ctx.where);
  const s = shapeOf(x);
  const r = Math.max(s.length, target.length);
  const full = [...new Array(r - s.length).fill(1), ...s];
  const t = [...new Array(r - target.length).fill(1), ...target];
  const shape = full.map((d, i) => (d === 1 ? t[i] : d));
  if (isConst(x)) {
    if (shape.some(isBatch)) return [expandConstToBatch(ctx, x, shape)];
    const dims = shape as number[];
    const lifted = { ...x, dims: full as number[] };
    const inStrides = stridesOf(full as number[]).map((st, i) => ((full[i] as number) === 1 ? 0 : st));
    const outStrides = stridesOf(dims);
    return [pickConst(lifted, dims, (flat) => dims.reduce((acc, d, i) => acc + (Math.floor(flat / outStrides[i]) % d) * inStrides[i], 0))];
  }
  let v: Value = x;
  if (r > s.length) v = unsqueeze(new (ctx.constructor as typeof NodeContext)(ctx.b, { ...ctx.node, attrs: new Map([["axes", { name: "axes", ints: Array.from({ length: r - s.length }, (_, i) => i) }]]) }, [x]))[0];
  const grow = shape.map((d, i) => (isBatch(d) || d === full[i] ? 0 : (d as number) - 1));
  if (grow.every((g) => g === 0)) return [v];
  const rt = v as RtValue;
  const out = ctx.output(0, shape, rt.batchAxis, rt.order);
  return [ctx.b.emitValue({ op: "pad", layer: ctx.node.name, inputs: [rt.id], outputs: [], mode: "edge", before: rt.order.map(() => 0), after: rt.order.map((a) => grow[a]), value: 0 }, out)];
}

/** A constant broadcast to a shape holding the batch: a runtime tensor, rows alike. */
function expandConstToBatch(ctx: NodeContext, c: ConstValue, shape: Dim[]): RtValue {
  const batchAxis = shape.findIndex(isBatch);
  const order = shape.map((_, i) => i).filter((i) => i !== batchAxis);
  const like: RtValue = { kind: "rt", id: "", dtype: "float32", shape, batchAxis, order };
  const dims = shape.map((d) => (isBatch(d) ? 1 : d)) as number[];
  const full = [...new Array(shape.length - c.dims.length).fill(1), ...c.dims];
  const inStrides = stridesOf(full).map((st, i) => (full[i] === 1 ? 0 : st));
  const outStrides = stridesOf(dims);
  const grown = pickConst({ ...c, dims: full }, dims, (flat) => dims.reduce((acc, d, i) => acc + (Math.floor(flat / outStrides[i]) % d) * inStrides[i], 0));
  return constantRows(ctx, grown, like);
}

function tile(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const reps = numbersOf(ctx.constInput(1, "repeats"), ctx.where);
  if (reps.some((r) => !(Number.isInteger(r) && r >= 1))) ctx.fail(`repeats [${reps.join(", ")}] must be positive integers`, "E_ONNX");
  if (!isConst(x)) {
    if (reps.every((r) => r === 1)) return [x];
    if (reps.some((r) => r > 1 << 16)) ctx.fail(`repeats [${reps.join(", ")}]: over 65536 copies of an axis`);
    let v: RtValue = x;
    reps.forEach((r, a) => {
      if (r === 1) return;
      if (a === v.batchAxis) throw new BatchLayout(`${ctx.where}: tiles the batch`);
      const shape = v.shape.slice();
      shape[a] = (shape[a] as number) * r;
      const out = ctx.output(0, shape, v.batchAxis, v.order);
      v = ctx.b.emitValue({ op: "concat", layer: ctx.node.name, inputs: new Array(r).fill(v.id), outputs: [], axis: v.order.indexOf(a) }, out);
    });
    return [v];
  }
  const dims = x.dims.map((d, i) => d * reps[i]);
  const inStrides = stridesOf(x.dims);
  const outStrides = stridesOf(dims);
  return [pickConst(x, dims, (flat) => dims.reduce((acc, d, i) => acc + ((Math.floor(flat / outStrides[i]) % d) % x.dims[i]) * inStrides[i], 0))];
}

export const shapeOps: OnnxOpTable = {
  Reshape: reshape,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Pad: pad,
  Expand: expand,
  Tile: tile,
};
