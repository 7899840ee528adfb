/**
 * How large a tensor the importer makes while it folds. A model file is untrusted, and a few
 * bytes of shape (Expand to [2^15, 2^15], Tile, a broadcast of two vectors, a product of two
 * constants, ConstantOfShape) would otherwise make a constant of billions of elements: out of
 * memory, or a process abort when a JavaScript array grows past what V8 allows.
 */
import type { NodeContext } from "../context.js";

/** Elements of one folded constant (256 MiB as float32). */
export const MAX_FOLDED_ELEMENTS = 1 << 26;

/** Refuses a fold whose result has more than MAX_FOLDED_ELEMENTS elements, or dims that are no sizes (dims: the result's). */
export function checkFoldSize(ctx: NodeContext, dims: readonly number[], what = "a constant"): void {
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) ctx.fail(`folds ${what} of shape [${dims.join(", ")}]: dims must be sizes`, "E_ONNX");
  const n = dims.reduce((a, b) => a * b, 1);
  if (!(n <= MAX_FOLDED_ELEMENTS)) ctx.fail(`folds ${what} of ${n} elements, over the limit of ${MAX_FOLDED_ELEMENTS}`, "E_ONNX");
}
