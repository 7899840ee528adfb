/**
 * Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum (masks ANDed, as Keras does)
 * and Dot. Inputs of one shape merge in one op; others broadcast as Keras merges do (a size-1
 * axis repeats; a lower-rank input gains axes after the batch axis: Multiply()([sequence,
 * vector]) scales every step), and Concatenate joins along any axis.
 */
import { RnnWasmError } from "../../../errors.js";
import type { Shape } from "../../../model/spec.js";
import type { BinaryFn } from "../../../model/tensor-codes.js";
import { type KerasBuilder, type LayerContext, type LayerTranslator, unsupported } from "../context.js";
import type { LayerDef } from "../topology.js";

const MERGE_MODES = {
  Concatenate: "concat", Add: "add", Subtract: "sub", Multiply: "mul", Average: "avg", Maximum: "max", Minimum: "min",
} as const;

const fmt = (shapes: Shape[]) => shapes.map((s) => `[${s.join(", ")}]`).join(" and ");

/** The one mask several inputs share (the usual case: branches of one masked sequence), or none. */
function sharedMask(b: KerasBuilder, layer: LayerDef, inputs: string[], why: string): string | undefined {
  const masks = [...new Set(inputs.map((i) => b.info(i).mask).filter((m): m is string => !!m))];
  if (masks.length > 1) unsupported(layer, "inputs with different masks", masks.length, why);
  return masks[0];
}

/** `id` reshaped to `rank` axes by size-1 axes after the batch axis (Keras' merge broadcasting). */
export function raiseRank(b: KerasBuilder, layer: LayerDef, id: string, rank: number, out: string): string {
  const s = b.info(id).shape;
  if (s.length === rank) return id;
  if (s.filter((d) => d === null).length > 1) unsupported(layer, "broadcasting an input with several unknown dims", `[${s.join(", ")}]`);
  const target = [...Array<number>(rank - s.length).fill(1), ...s.map((d) => d ?? -1)];
  return b.emit({ op: "reshape", layer: layer.name, inputs: [id], outputs: [out], target })[0];
}

/** Elementwise `fn` of two or more inputs with broadcasting, as a chain of binary ops ending in `out`. */
export function broadcastChain(b: KerasBuilder, layer: LayerDef, fn: BinaryFn, inputs: string[], out: string, mask?: string): string {
  let acc = inputs[0];
  for (let i = 1; i < inputs.length; i++) {
    acc = b.emit({ op: "binary", layer: layer.name, inputs: [acc, inputs[i]], outputs: [i === inputs.length - 1 ? out : `${out}/${i}`], fn }, mask)[0];
  }
  return acc;
}

function merge(ctx: LayerContext): void {
  const { b, c, layer, where, outId, call } = ctx;
  if (call.inputs.length < 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs at least 2 inputs, received ${call.inputs.length}`);
  const shapes = call.inputs.map((i) => b.info(i).shape);
  const mode = MERGE_MODES[layer.className as keyof typeof MERGE_MODES];
  if (mode === "sub" && call.inputs.length !== 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs exactly 2 inputs`);
  const rank = Math.max(...shapes.map((s) => s.length));
  if (mode === "concat") {
    const raw = typeof c.axis === "number" ? c.axis : -1;
    const axis = (raw < 0 ? raw + rank + 1 : raw) - 1; // Keras counts the batch axis
    if (!(axis >= 0 && axis < rank) || shapes.some((s) => s.length !== rank)) {
      throw new RnnWasmError("E_SHAPE", `${where}: inputs ${fmt(shapes)} cannot be concatenated on axis ${raw}`);
    }
    if (axis !== rank - 1) {
      sharedMask(b, layer, call.inputs, "");
      if (call.inputs.some((i) => b.info(i).mask)) unsupported(layer, "axis", raw, "a masked input is concatenated along its last axis only");
      b.emit({ op: "concat", layer: layer.name, inputs: call.inputs, outputs: [outId(0)], axis });
      return;
    }
    for (const s of shapes) {
      if (s.slice(0, -1).some((d, i) => d !== shapes[0][i])) {
        throw new RnnWasmError("E_SHAPE", `${where}: inputs ${fmt(shapes)} cannot be concatenated on the last axis`);
      }
    }
  } else if (shapes.some((s) => s.length !== shapes[0].length || s.some((d, i) => d !== shapes[0][i]))) {
    // broadcasting: a chain of binary ops (sum then scale for Average), the shared mask carried
    const mask = sharedMask(b, layer, call.inputs, "broadcasting merges carry one mask");
    const inputs = call.inputs.map((id, i) => raiseRank(b, layer, id, rank, `${outId(0)}/rank${i}`));
    const fn: BinaryFn = mode === "avg" ? "add" : mode;
    if (mode !== "avg") {
      broadcastChain(b, layer, fn, inputs, outId(0), mask);
      return;
    }
    const sum = broadcastChain(b, layer, fn, inputs, `${outId(0)}/sum`, mask);
    b.emit({ op: "unary", layer: layer.name, inputs: [sum], outputs: [outId(0)], fn: "affine", alpha: 1 / inputs.length, beta: 0 }, mask);
    return;
  }
  const masks = call.inputs.map((i) => b.info(i).mask).filter((m): m is string => !!m);
  let mask: string | undefined;
  const outs = [outId(0)];
  if (masks.length) {
    mask = `${outId(0)}/mask`;
    outs.push(mask);
  }
  b.emit({ op: "merge", layer: layer.name, inputs: call.inputs, outputs: outs, mode, axis: -1 });
  if (mask) {
    b.tensors[mask] = { shape: [shapes[0][0]] };
    b.tensors[outId(0)].mask = mask;
  }
}

/**
 * x / sqrt(max(Σ x², eps)) along `axis` (Dot's normalize): tf.keras' l2_normalize (eps 1e-12),
 * Keras 3's normalize (norm at least 1e-7: eps 1e-14), tfjs' l2Normalize (eps 1e-7).
 */
function l2Normalize(b: KerasBuilder, layer: LayerDef, x: string, axis: number, out: string): string {
  const eps = b.tfjsSemantics ? 1e-7 : b.keras3 ? 1e-14 : 1e-12;
  const [sq] = b.emit({ op: "reduce", layer: layer.name, inputs: [x], outputs: [`${out}/sum_square`], fn: "sum_square", axis, keepDims: true });
  const [clipped] = b.emit({ op: "unary", layer: layer.name, inputs: [sq], outputs: [`${out}/clipped`], fn: "clip", alpha: eps, beta: 3.4e38 });
  const [norm] = b.emit({ op: "unary", layer: layer.name, inputs: [clipped], outputs: [`${out}/norm`], fn: "sqrt", alpha: 0, beta: 0 });
  return b.emit({ op: "binary", layer: layer.name, inputs: [x, norm], outputs: [out], fn: "div" })[0];
}

/**
 * Dot(axes, normalize) of two [batch, d1(, d2)] inputs, Keras' batch_dot: the contracted axes
 * go, the first input's other axis then the second's remain ([batch, 1] when none does).
 * Built as one product [M, K] x [K, N]: a 3-D input transposed so that its contracted axis
 * is K, a 2-D one as a row (first) or a column (second).
 */
function dot(ctx: LayerContext): void {
  const { b, c, layer, where, outId, call } = ctx;
  if (call.inputs.length !== 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs exactly 2 inputs, received ${call.inputs.length}`);
  const ids = call.inputs;
  const ranks = ids.map((i) => b.info(i).shape.length + 1);
  if (ranks.some((r) => r < 2 || r > 3)) unsupported(layer, "input ranks", ranks, "2-D and 3-D inputs (with the batch axis)");
  const raw = Array.isArray(c.axes) ? c.axes : [c.axes, c.axes];
  if (raw.length !== 2 || raw.some((a) => !Number.isInteger(a))) unsupported(layer, "axes", c.axes);
  const axes = (raw as number[]).map((a, i) => (a < 0 ? ((a % ranks[i]) + ranks[i]) % ranks[i] : a));
  if (axes.some((a, i) => a < 1 || a >= ranks[i])) unsupported(layer, "axes", c.axes, "the batch axis cannot be contracted");
  const base = outId(0);
  let [x, y] = ids;
  if (c.normalize === true) {
    x = l2Normalize(b, layer, x, axes[0] - 1, `${base}/x_normalized`);
    y = l2Normalize(b, layer, y, axes[1] - 1, `${base}/y_normalized`);
  }
  const [sx, sy] = [b.info(x).shape, b.info(y).shape];
  if (sx[axes[0] - 1] !== null && sy[axes[1] - 1] !== null && sx[axes[0] - 1] !== sy[axes[1] - 1]) {
    throw new RnnWasmError("E_SHAPE", `${where}: axis ${axes[0]} of [batch, ${sx.join(", ")}] and axis ${axes[1]} of [batch, ${sy.join(", ")}] differ`);
  }
  const reshape = (id: string, target: number[], name: string) => b.emit({ op: "reshape", layer: layer.name, inputs: [id], outputs: [`${base}/${name}`], target })[0];
  const transpose = (id: string, name: string) => b.emit({ op: "transpose", layer: layer.name, inputs: [id], outputs: [`${base}/${name}`], perm: [1, 0] })[0];
  const dim = (d: number | null) => d ?? -1;
  // x as [M, K], y as [K, N]
  const xm = ranks[0] === 2 ? reshape(x, [1, dim(sx[0])], "x_row") : axes[0] === 2 ? x : transpose(x, "x_t");
  const yk = ranks[1] === 2 ? reshape(y, [dim(sy[0]), 1], "y_column") : axes[1] === 1 ? y : transpose(y, "y_t");
  // the axis each 3-D input keeps (indices without the batch axis)
  const kept = (s: Shape, axis: number) => s[axis === 1 ? 1 : 0];
  const free = [...(ranks[0] === 3 ? [kept(sx, axes[0])] : []), ...(ranks[1] === 3 ? [kept(sy, axes[1])] : [])];
  if (free.length === 2) {
    b.emit({ op: "matmul", layer: layer.name, inputs: [xm, yk], outputs: [outId(0)] });
    return;
  }
  const [product] = b.emit({ op: "matmul", layer: layer.name, inputs: [xm, yk], outputs: [`${base}/product`] });
  b.emit({ op: "reshape", layer: layer.name, inputs: [product], outputs: [outId(0)], target: free.length ? [dim(free[0])] : [1] });
}

export const mergeLayers: Record<string, LayerTranslator> = {
  ...Object.fromEntries(Object.keys(MERGE_MODES).map((name) => [name, merge])),
  Dot: dot,
};
