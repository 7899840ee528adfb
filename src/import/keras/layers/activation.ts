/** Activation, Softmax, ReLU, LeakyReLU, ELU. */
import { ACT, ACT_SOFTMAX } from "../../../model/activations.js";
import { type LayerContext, type LayerTranslator, unsupported } from "../context.js";

function activation(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const cls = layer.className;
  if (cls === "Softmax") {
    const axis = c.axis ?? -1;
    const rank = b.info(x).shape.length;
    if (!(axis === -1 || (Array.isArray(axis) && axis.length === 1 && axis[0] === -1) || axis === rank)) unsupported(layer, "axis", axis, "softmax over the last axis only");
  }
  const code = cls === "Softmax" ? ACT_SOFTMAX : b.act(c.activation, where);
  if (code === ACT.linear) {
    b.alias(outId(0), x);
    return;
  }
  b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: code }, b.info(x).mask);
}

function relu(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  const cls = layer.className;
  let maxValue: number | null = null;
  let negativeSlope = 0;
  let threshold = 0;
  if (cls === "ReLU") {
    maxValue = typeof c.max_value === "number" ? c.max_value : null;
    negativeSlope = typeof c.negative_slope === "number" ? c.negative_slope : 0;
    threshold = typeof c.threshold === "number" ? c.threshold : 0;
  } else {
    negativeSlope = typeof c.alpha === "number" ? c.alpha : typeof c.negative_slope === "number" ? c.negative_slope : 0.3;
  }
  if (maxValue === null && negativeSlope === 0 && threshold === 0) {
    b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: ACT.relu }, b.info(x).mask);
  } else {
    b.emit({ op: "relu", layer: layer.name, inputs: [x], outputs: [outId(0)], maxValue, negativeSlope, threshold }, b.info(x).mask);
  }
}

function elu(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  const alpha = typeof c.alpha === "number" ? c.alpha : 1;
  if (alpha !== 1) unsupported(layer, "alpha", alpha, "ELU with alpha 1 only");
  b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: ACT.elu }, b.info(x).mask);
}

export const activationLayers: Record<string, LayerTranslator> = {
  Activation: activation,
  Softmax: activation,
  ReLU: relu,
  LeakyReLU: relu,
  ELU: elu,
};
