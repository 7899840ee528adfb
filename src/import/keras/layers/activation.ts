/** Activation, Softmax, ReLU, LeakyReLU, ELU. */
import { ACT, ACT_SOFTMAX } from "../../../model/activations.js";
import { type LayerContext, type LayerTranslator, unsupported } from "../context.js";

/**
 * Softmax over any one axis. Keras adds the input's [batch, time] mask, times -1e9, to the
 * input by broadcasting, which fits only an input of that same shape (else it fails or mixes
 * batch rows), so a masked input is refused; tfjs ignores the mask.
 */
function softmax(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  const rank = b.info(x).shape.length;
  const raw = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : c.axis ?? -1;
  if (!Number.isInteger(raw)) unsupported(layer, "axis", c.axis, "one axis");
  const axis = (raw < 0 ? raw + rank + 1 : raw) - 1; // Keras counts the batch axis
  if (!(axis >= 0 && axis < rank)) unsupported(layer, "axis", c.axis, `an axis of the input's ${rank + 1}`);
  const mask = b.info(x).mask;
  if (mask && !b.tfjsSemantics) unsupported(layer, "a masked input", true, "Keras adds the [batch, time] mask to it by broadcasting");
  if (axis === rank - 1) b.emit({ op: "activation", layer: layer.name, inputs: [x], outputs: [outId(0)], activation: ACT_SOFTMAX }, mask);
  else b.emit({ op: "softmax", layer: layer.name, inputs: [x], outputs: [outId(0)], axis, log: false }, mask);
}

function activation(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const code = b.act(c.activation, where);
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
  Softmax: softmax,
  ReLU: relu,
  LeakyReLU: relu,
  ELU: elu,
};
