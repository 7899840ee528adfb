/** Conv1D (valid, same, causal; strides; dilation). */
import { packPanels, padVector } from "../../../model/pack.js";
import { bool, checkPositiveTime, featureDim, num, requireNoMask, unsupported, type LayerContext, type LayerTranslator } from "../context.js";

function conv1d(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  requireNoMask(b, layer, [x]);
  const inDim = featureDim(b, layer, x, 2);
  const filters = num(c, "filters");
  const kernelSize = num(c, "kernel_size");
  const strides = num(c, "strides", 1);
  const dilation = num(c, "dilation_rate", 1);
  const padding = String(c.padding ?? "valid");
  if (!["valid", "same", "causal"].includes(padding)) unsupported(layer, "padding", padding);
  if (num(c, "groups", 1) !== 1) unsupported(layer, "groups", c.groups);
  if (strides > 1 && dilation > 1) unsupported(layer, "strides with dilation_rate", [strides, dilation]);
  const w = b.weightsOf(layer);
  const kernel = w.get("kernel", [kernelSize, inDim, filters]);
  const weights: { kernel: string; bias?: string } = {
    kernel: b.addWeight(`${layer.name}/kernel`, "panels", packPanels(kernel.data, kernelSize * inDim, filters), kernel.shape, kernel.data.length),
  };
  if (bool(c, "use_bias", true)) {
    const bias = w.get("bias", [filters]);
    weights.bias = b.addWeight(`${layer.name}/bias`, "panels_bias", padVector(bias.data, filters), bias.shape, bias.data.length);
  }
  b.emit({
    op: "conv1d", layer: layer.name, inputs: [x], outputs: [outId(0)], filters, kernelSize, inDim, strides, dilation,
    padding: padding as "valid" | "same" | "causal", activation: b.act(c.activation, where), weights,
  });
  checkPositiveTime(b, layer, outId(0));
}

export const convLayers: Record<string, LayerTranslator> = { Conv1D: conv1d };
