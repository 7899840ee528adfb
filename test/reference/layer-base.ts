/**
 * Shared types of the reference layers: symbolic shapes for build-time checks, the per-layer
 * weight bag that matches weights by role, and the execution context (semantics).
 */
import type { HardSigmoidVariant } from "./activations.ts";
import { RefError, fmtShape } from "./errors.ts";
import type { Mask, Tensor64 } from "./tensor.ts";

/** A symbolic shape: null for a dimension unknown until predict (batch, often time). */
export type Shape = (number | null)[];

/**
 * Whose behaviour to reproduce where tfjs and Keras differ (see test/reference/README.md):
 *  - "tfjs":  tfjs-layers 4.x predict(): GlobalAveragePooling1D ignores masks; Bidirectional
 *             carries the previous output over masked steps; an RNN receives the most recent
 *             mask seen by the executor even when its own input carries none (kwargs leak).
 *  - "keras": Keras 2.x / 3.x: masked mean in GlobalAveragePooling1D; Bidirectional forces
 *             zero_output_for_mask = return_sequences; an RNN uses only its own input's mask;
 *             a `zero_output_for_mask` key in a layer config is honoured.
 */
export type Semantics = "tfjs" | "keras";

export interface Context {
  semantics: Semantics;
  hardSigmoid: HardSigmoidVariant;
  /** [major, minor] of the Keras that wrote the model ([0, 0]: tfjs or unknown). */
  kerasRelease?: [number, number];
}

export interface CallResult {
  outputs: Tensor64[];
  masks: (Mask | null)[];
}

export interface RefLayer {
  readonly className: string;
  readonly name: string;
  /**
   * Validates input shapes, takes its weights from the bag, returns output shapes. `args`: the
   * call's keyword arguments (tensors as {input: i}, an index into the inputs).
   */
  build(inputShapes: Shape[], weights: WeightBag, ctx: Context, args?: Record<string, unknown>): Shape[];
  /**
   * `rnnMask` is the mask an RNN layer consumes (under "tfjs" semantics possibly a leaked one);
   * `inputMasks` are the masks attached to this node's input tensors.
   */
  call(inputs: Tensor64[], inputMasks: (Mask | null)[], rnnMask: Mask | null, ctx: Context, args?: Record<string, unknown>): CallResult;
}

export interface WeightRecord {
  name: string;
  direction: "forward" | "backward" | null;
  role: string;
  tensor: Tensor64;
  used: boolean;
}

export class WeightBag {
  constructor(
    readonly layerName: string,
    readonly records: WeightRecord[],
  ) {}

  peek(role: string, direction: "forward" | "backward" | null = null): WeightRecord | undefined {
    const hits = this.records.filter((r) => r.role === role && r.direction === direction);
    if (hits.length > 1) {
      throw new RefError(
        "E_WEIGHTS",
        `layer ${this.layerName}: several weights for role ${role}: ${hits.map((h) => h.name).join(", ")}`,
      );
    }
    return hits[0];
  }

  /** The weight of `role` with exactly `shape`; E_WEIGHTS naming both shapes otherwise. */
  take(role: string, shape: number[], direction: "forward" | "backward" | null = null): Tensor64 {
    const rec = this.peek(role, direction);
    const what = direction ? `${direction} ${role}` : role;
    if (rec === undefined) {
      const have = this.records.map((r) => r.name);
      throw new RefError(
        "E_WEIGHTS",
        `layer ${this.layerName}: missing weight ${what} of shape ${fmtShape(shape)}` +
          (have.length ? ` (weights found for this layer: ${have.join(", ")})` : " (no weights found for this layer)"),
      );
    }
    const s = rec.tensor.shape;
    if (s.length !== shape.length || s.some((d, i) => d !== shape[i])) {
      throw new RefError(
        "E_WEIGHTS",
        `layer ${this.layerName}: weight ${rec.name} has shape ${fmtShape(s)}, expected ${fmtShape(shape)}`,
      );
    }
    rec.used = true;
    return rec.tensor;
  }

  /** `take` among the weights of a sublayer (MultiHeadAttention's query, key, value, attention_output). */
  takeIn(sublayer: string, role: string, shape: number[]): Tensor64 {
    const inner = new WeightBag(`${this.layerName}/${sublayer}`, this.records.filter((r) => r.name.replace(/:\d+$/, "").split("/").slice(1, -1).includes(sublayer)));
    return inner.take(role, shape);
  }

  unused(): WeightRecord[] {
    return this.records.filter((r) => !r.used);
  }
}

export function shapeError(layer: string, what: string, expected: string, received: Shape): never {
  throw new RefError("E_SHAPE", `layer ${layer}: ${what}: expected ${expected}, received ${fmtShape(received)}`);
}

export function requireRank(layer: string, shape: Shape, ranks: number[]): void {
  if (!ranks.includes(shape.length)) shapeError(layer, "input rank", `rank ${ranks.join(" or ")}`, shape);
}

export function lastDim(layer: string, shape: Shape): number {
  const d = shape[shape.length - 1];
  if (d === null) shapeError(layer, "last input dimension", "a known size", shape);
  return d;
}

/** Reads a Keras int-or-list option (kernel_size: [3] or 3). */
export function intOption(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (Array.isArray(v)) return Number(v[0]);
  return Number(v);
}

export function unsupported(layer: string, className: string, option: string, value: unknown): never {
  throw new RefError(
    "E_UNSUPPORTED_OPTION",
    `layer ${layer} (${className}): option ${option}=${JSON.stringify(value)} is not supported`,
  );
}
