/** Masking, Flatten, Reshape, RepeatVector, Permute. */
import { RnnWasmError } from "../../../errors.js";
import { dropsMask, num, unsupported, type LayerContext, type LayerTranslator } from "../context.js";
import { modelJsonError } from "../topology.js";

function masking(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const maskValue = typeof c.mask_value === "number" ? c.mask_value : 0;
  const shape = b.info(x).shape;
  if (shape.length !== 2) throw new RnnWasmError("E_SHAPE", `${where} expects [batch, time, features] input`);
  const mask = `${outId(0)}/mask`;
  b.emit({ op: "masking", layer: layer.name, inputs: [x], outputs: [outId(0), mask], maskValue });
  b.tensors[mask] = { shape: [shape[0]] };
  b.tensors[outId(0)].mask = mask;
}

function reshape(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const cls = layer.className;
  dropsMask(b, layer, [x]);
  let target: number[];
  if (cls === "Flatten") target = [-1];
  else {
    if (!Array.isArray(c.target_shape)) modelJsonError(`${where} has no target_shape`);
    target = (c.target_shape as unknown[]).map((d) => (typeof d === "number" ? d : -1));
  }
  b.emit({ op: "reshape", layer: layer.name, inputs: [x], outputs: [outId(0)], target });
}

function repeatVector(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  dropsMask(b, layer, [x]);
  if (b.info(x).shape.length !== 1) throw new RnnWasmError("E_SHAPE", `${where} expects [batch, features] input`);
  b.emit({ op: "repeat", layer: layer.name, inputs: [x], outputs: [outId(0)], n: num(c, "n") });
}

/** Permute(dims): dims count from 1 (the batch axis stays first). */
function permute(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  dropsMask(b, layer, [x]);
  const rank = b.info(x).shape.length;
  const dims = c.dims;
  if (!Array.isArray(dims) || dims.length !== rank || [...dims].sort((p, q) => p - q).some((d, i) => d !== i + 1)) {
    unsupported(layer, "dims", dims, `a permutation of 1..${rank}`);
  }
  b.emit({ op: "transpose", layer: layer.name, inputs: [x], outputs: [outId(0)], perm: (dims as number[]).map((d) => d - 1) });
}

export const reshapingLayers: Record<string, LayerTranslator> = {
  Permute: permute,
  Masking: masking,
  Flatten: reshape,
  Reshape: reshape,
  RepeatVector: repeatVector,
};
