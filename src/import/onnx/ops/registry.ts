/** The shape of an op translator: a node's input values in, its output values out. */
import type { NodeContext } from "../context.js";
import type { Value } from "../values.js";

export type OnnxOp = (ctx: NodeContext) => Value[];
export type OnnxOpTable = Record<string, OnnxOp>;
