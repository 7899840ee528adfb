/**
 * Every ONNX operator rnn-wasm translates, by op type, to its translator: one file per family.
 * Adding an operator is a row here. If is handled by the walker (build.ts): its condition
 * folds and its branch is walked in place.
 */
import { constantOps } from "./constants.js";
import { convOps } from "./conv.js";
import { elementwiseOps } from "./elementwise.js";
import { matmulOps } from "./matmul.js";
import { recurrentOps } from "./recurrent.js";
import { reduceOps } from "./reduce.js";
import type { OnnxOpTable } from "./registry.js";
import { shapeOps } from "./shape.js";

/** No prototype: op types come from the model file ("constructor" must not be found). */
export const OPS: OnnxOpTable = Object.assign(Object.create(null), {
  ...constantOps,
  ...elementwiseOps,
  ...shapeOps,
  ...reduceOps,
  ...matmulOps,
  ...convOps,
  ...recurrentOps,
});
