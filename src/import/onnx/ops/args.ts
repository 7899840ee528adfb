/**
 * Integer arguments that newer opsets give as constant inputs (axes, starts, ends, steps, pads,
 * split sizes, repeats): a float tensor there is a malformed file, and its values would reach
 * the spec as fractional offsets.
 */
import type { NodeContext } from "../context.js";
import { isFloat, numbersOf } from "../values.js";

export function constInts(ctx: NodeContext, i: number, what: string): number[] {
  const c = ctx.constInput(i, what);
  if (isFloat(c)) ctx.fail(`${what} (input ${i}) is ${c.dtype}; it must hold integers`, "E_ONNX");
  return numbersOf(c, ctx.where);
}
