/**
 * Output shapes of every op, from input shapes that may hold `null` for a time axis not
 * known until data arrives. The builder calls these with nulls; the executor with numbers.
 */
import { fail } from "../errors.js";
import type { ModelSpec, Op, Shape } from "./spec.js";

export function convOutputLength(T: number | null, kernel: number, stride: number, dilation: number, padding: string, pads?: [number, number]): number | null {
  if (T === null) return null;
  const span = dilation * (kernel - 1) + 1;
  if (padding === "explicit") return Math.floor((T + pads![0] + pads![1] - span) / stride) + 1;
  if (padding === "same") return Math.ceil(T / stride);
  if (padding === "causal") return Math.floor((T - 1) / stride) + 1;
  return Math.floor((T - span) / stride) + 1;
}

export function convPadLeft(T: number, kernel: number, stride: number, dilation: number, padding: string, pads?: [number, number]): number {
  const span = dilation * (kernel - 1) + 1;
  if (padding === "explicit") return pads![0];
  if (padding === "causal") return span - 1;
  if (padding === "same") {
    const Tout = Math.ceil(T / stride);
    return Math.floor(Math.max((Tout - 1) * stride + span - T, 0) / 2);
  }
  return 0;
}

function last(shape: Shape): number {
  const f = shape[shape.length - 1];
  if (typeof f !== "number") fail("E_SHAPE", "the feature axis of its input is unknown");
  return f;
}

export function product(shape: Shape): number | null {
  let n = 1;
  for (const d of shape) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Output shapes of `op` given its input shapes (batch axis excluded). */
export function opOutputShapes(op: Op, ins: Shape[]): Shape[] {
  const x = ins[0];
  switch (op.op) {
    case "embedding":
      return [[...x, op.outputDim]];
    case "dense":
      return [[...x.slice(0, -1), op.units]];
    case "rnn": {
      // [T, features]; axes before T (graphs whose batch is an axis of their own) are more rows
      const lead = x.slice(0, -2);
      const h = [...lead, op.units];
      const y: Shape = op.returnSequences ? [...lead, x[x.length - 2], op.units] : h;
      if (!op.returnState) return [y];
      return op.cell === "lstm" ? [y, h, h] : [y, h];
    }
    case "activation":
    case "relu":
    case "masking":
    case "scale_shift":
    case "layer_norm":
      return [x];
    case "global_pool":
      return [[last(x)]];
    case "pool1d": {
      const T = x[0];
      return [[convOutputLength(T, op.poolSize, op.strides, 1, op.padding), last(x)]];
    }
    case "conv1d":
      return [[...x.slice(0, -2), convOutputLength(x[x.length - 2], op.kernelSize, op.strides, op.dilation, op.padding, op.pads), op.filters]];
    case "reshape": {
      const count = product(x);
      if (count === null) return [op.target.map((d) => (d === -1 ? null : d))];
      return [reshapeTarget(op.target, count, op.layer)];
    }
    case "repeat":
      return [[op.n, ...x]];
    case "merge": {
      if (op.mode === "concat") {
        const total = ins.reduce((s, sh) => s + last(sh), 0);
        return [[...x.slice(0, -1), total]];
      }
      return [x];
    }
    default:
      if (!tensorOpHooks.shapes) fail("E_BUNDLE_CORRUPT", `unknown op ${(op as { op: unknown }).op}`);
      return tensorOpHooks.shapes(op, ins);
  }
}

/**
 * The general tensor ops (ONNX graphs) are planned, checked and run by the chunk
 * model/tensor-ops.ts, loaded with the models that use them; it installs itself here.
 */
export const tensorOpHooks: {
  shapes?: (op: Op, ins: Shape[]) => Shape[];
  /** What validate.ts asks of every op: its fields are sane, and the weights it reads ([role, columns, K, required]). */
  needs?: (op: Op, ins: Shape[], w: Record<string, string>) => [boolean, [string | undefined, number, number, boolean][]];
  /** Why a general tensor op on a sequence cannot stream (session.ts notStreamableReason), or null. */
  streams?: (op: Op, inSeq: boolean[], spec: ModelSpec) => string | null;
  /** Checks spec.states: before the ops (their inputs become known) and after (their outputs are produced). */
  states?: (spec: ModelSpec, known: Map<string, Shape>, after: boolean) => void;
} = {};

/** Resolves a Keras Reshape target (may hold one -1) against the input element count. */
export function reshapeTarget(target: number[], inputCount: number, layer: string): number[] {
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const unknown = target.filter((d) => d === -1).length;
  const out = target.map((d) => (d === -1 ? inputCount / known : d));
  if (unknown > 1 || (unknown ? !Number.isInteger(out[target.indexOf(-1)]) || !known : known !== inputCount)) {
    fail("E_SHAPE", `layer ${layer}: cannot reshape ${inputCount} values to ${JSON.stringify(target)}`);
  }
  return out;
}
