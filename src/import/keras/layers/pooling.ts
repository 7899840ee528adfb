/** Global and windowed 1-D pooling. */
import { RnnWasmError } from "../../../errors.js";
import { checkPositiveTime, featureDim, num, requireNoMask, unsupported, type LayerContext, type LayerTranslator } from "../context.js";

function globalPooling(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const cls = layer.className;
  if (b.info(x).shape.length !== 2) throw new RnnWasmError("E_SHAPE", `${where} expects [batch, time, features] input`);
  if (c.keepdims === true) unsupported(layer, "keepdims", true);
  b.emit({ op: "global_pool", layer: layer.name, inputs: [x], outputs: [outId(0)], mode: cls.includes("Max") ? "max" : "avg", maskAware: !b.tfjsSemantics });
}

function pooling1d(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  const cls = layer.className;
  requireNoMask(b, layer, [x]);
  featureDim(b, layer, x, 2);
  const poolSize = num(c, "pool_size", 2);
  const strides = c.strides === null || c.strides === undefined ? poolSize : num(c, "strides");
  const padding = String(c.padding ?? "valid");
  if (padding !== "valid" && padding !== "same") unsupported(layer, "padding", padding);
  b.emit({ op: "pool1d", layer: layer.name, inputs: [x], outputs: [outId(0)], mode: cls.startsWith("Max") ? "max" : "avg", poolSize, strides, padding });
  checkPositiveTime(b, layer, outId(0));
}

export const poolingLayers: Record<string, LayerTranslator> = {
  GlobalAveragePooling1D: globalPooling,
  GlobalMaxPooling1D: globalPooling,
  GlobalAvgPool1D: globalPooling,
  GlobalMaxPool1D: globalPooling,
  MaxPooling1D: pooling1d,
  AveragePooling1D: pooling1d,
  MaxPool1D: pooling1d,
  AvgPool1D: pooling1d,
};
