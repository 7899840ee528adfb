/** BatchNormalization (folded into one multiply-add per feature) and LayerNormalization. */
import { bool, featureDim, unsupported, type LayerContext, type LayerTranslator } from "../context.js";

function batchNormalization(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  const shape = b.info(x).shape;
  const F = featureDim(b, layer, x);
  const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
  if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === shape.length)) unsupported(layer, "axis", c.axis, "normalisation over the last axis only");
  const eps = typeof c.epsilon === "number" ? c.epsilon : 1e-3;
  const w = b.weightsOf(layer);
  const center = bool(c, "center", true);
  const scaleOn = bool(c, "scale", true);
  const gamma = scaleOn ? w.get("gamma", [F]).data : null;
  const beta = center ? w.get("beta", [F]).data : null;
  const mean = w.get("moving_mean", [F]).data;
  const variance = w.get("moving_variance", [F]).data;
  // y = (x - mean) / sqrt(var + eps) * gamma + beta, folded into one multiply-add
  const scale = new Float32Array(F);
  const shift = new Float32Array(F);
  for (let i = 0; i < F; i++) {
    const s = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
    scale[i] = s;
    shift[i] = (beta ? beta[i] : 0) - mean[i] * s;
  }
  const params = F * (2 + (gamma ? 1 : 0) + (beta ? 1 : 0));
  b.emit({
    op: "scale_shift", layer: layer.name, inputs: [x], outputs: [outId(0)],
    weights: {
      scale: b.addWeight(`${layer.name}/scale`, "vector", scale, [F], params),
      shift: b.addWeight(`${layer.name}/shift`, "vector", shift, [F], 0),
    },
  }, b.info(x).mask);
}

function layerNormalization(ctx: LayerContext): void {
  const { b, c, x, layer, outId } = ctx;
  const shape = b.info(x).shape;
  const F = featureDim(b, layer, x);
  const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
  if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === shape.length)) unsupported(layer, "axis", c.axis, "normalisation over the last axis only");
  const w = b.weightsOf(layer);
  const weights: { gamma?: string; beta?: string } = {};
  if (bool(c, "scale", true)) {
    const g = w.get("gamma", [F]);
    weights.gamma = b.addWeight(`${layer.name}/gamma`, "vector", g.data, g.shape, F);
  }
  if (bool(c, "center", true)) {
    const be = w.get("beta", [F]);
    weights.beta = b.addWeight(`${layer.name}/beta`, "vector", be.data, be.shape, F);
  }
  const epsilon = typeof c.epsilon === "number" ? c.epsilon : 1e-3;
  b.emit({ op: "layer_norm", layer: layer.name, inputs: [x], outputs: [outId(0)], epsilon, weights }, b.info(x).mask);
}

export const normalizationLayers: Record<string, LayerTranslator> = {
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
};
