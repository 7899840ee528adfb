/**
 * Attention (dot and concat scores), AdditiveAttention and MultiHeadAttention: each becomes one
 * attention op (its projections dense ops around it). What Keras computes (keras/src/layers/
 * attention/attention.py, additive_attention.py, multi_head_attention.py; tf.keras 2.x the
 * same):
 * - Attention: scores q·kᵀ (× `scale` with use_scale), or with score_mode="concat"
 *   concat_score_weight·Σ tanh(scale·(q + k)); the value's mask and use_causal_mask (tf.keras
 *   2.3-2.9: the `causal` option) lower masked scores by 1e9; softmax; the result times the
 *   query's mask. Its output mask is the query's.
 * - AdditiveAttention: Σ scale_d·tanh(q_d + k_d) (use_scale, default true), the rest alike.
 * - MultiHeadAttention: per head h, q_h = x·Wq_h + bq_h (EinsumDense kernels [D, H, Dk]:
 *   row-major, that is a Dense of H·Dk units), the same for keys and values, scores
 *   q_h·k_hᵀ/sqrt(Dk) masked by the query's, value's and key's masks and causality through its
 *   Softmax layer, then one projection of the heads side by side ([H, Dv, Dout] = [H·Dv, Dout]).
 *   Keras 3.10+'s Softmax also zeroes masked weights (a fully masked query row gives zeros).
 */
import { RnnWasmError } from "../../../errors.js";
import { packPanels, padVector } from "../../../model/pack.js";
import type { Op } from "../../../model/spec.js";
import { bool, callArg, featureDim, num, tensorOf, unsupported, type KerasBuilder, type LayerContext, type LayerTranslator } from "../context.js";
import type { LayerDef } from "../topology.js";
import type { LayerWeights } from "../weights.js";

/** A call's boolean keyword argument (return_attention_scores, use_causal_mask). */
function flag(ctx: LayerContext, name: string): boolean {
  const v = callArg(ctx.call, name);
  if (v === undefined || v === null || typeof v === "boolean") return v === true;
  return unsupported(ctx.layer, name, v, "a boolean");
}

/** Keyword arguments that would need a tensor rnn-wasm does not take (explicit masks). */
function refuseTensorArgs(ctx: LayerContext, names: string[]): void {
  for (const name of names) {
    const v = callArg(ctx.call, name);
    if (v !== undefined && v !== null) unsupported(ctx.layer, name, tensorOf(ctx.call, v) ?? v, "masks come from the inputs' Keras masks");
  }
}

function shapeOf(b: KerasBuilder, layer: LayerDef, id: string, what: string): [number | null, number] {
  const s = b.info(id).shape;
  if (s.length !== 2 || typeof s[1] !== "number") {
    throw new RnnWasmError("E_SHAPE", `layer ${layer.name} (${layer.className}): the ${what} must be [batch, time, features], received [batch, ${s.join(", ")}]`);
  }
  return [s[0], s[1]];
}

function attention(ctx: LayerContext): void {
  const { b, c, call, layer, where, outId } = ctx;
  const additive = layer.className === "AdditiveAttention";
  if (call.inputs.length < 2 || call.inputs.length > 3) {
    throw new RnnWasmError("E_MODEL_JSON", `${where} takes [query, value] or [query, value, key], received ${call.inputs.length} tensors`);
  }
  refuseTensorArgs(ctx, ["mask"]);
  const [q, v, k = v] = call.inputs;
  const [, D] = shapeOf(b, layer, q, "query");
  shapeOf(b, layer, v, "value");
  const [, Dk] = shapeOf(b, layer, k, "key");
  if (Dk !== D) throw new RnnWasmError("E_SHAPE", `${where}: the query has ${D} features, the key ${Dk}`);
  const mode = additive ? "concat" : String(c.score_mode ?? "dot");
  if (mode !== "dot" && mode !== "concat") unsupported(layer, "score_mode", c.score_mode);
  const useScale = bool(c, "use_scale", additive);
  const w = b.weightsOf(layer);
  const scalar = (role: string) => w.get(role, []).data[0];
  let scoreScale = 1;
  let tanhScale = 1;
  let factors: string | undefined;
  if (additive) {
    if (useScale) {
      const scale = w.get("scale", [D]);
      factors = b.addWeight(`${layer.name}/scale`, "vector", scale.data, scale.shape, D);
    }
  } else if (mode === "concat") {
    scoreScale = scalar("concat_score_weight");
    if (useScale) tanhScale = scalar("scale");
  } else if (useScale) scoreScale = scalar("scale");
  const returnScores = flag(ctx, "return_attention_scores");
  const op: Op = {
    op: "attention", layer: layer.name, inputs: call.inputs.slice(0, k === v ? 2 : 3), outputs: returnScores ? [outId(0), outId(1)] : [outId(0)],
    heads: 1, score: mode === "dot" ? "dot" : "additive", scoreScale, tanhScale,
    causal: flag(ctx, "use_causal_mask") || c.causal === true,
    queryMask: "output", keyMask: false, zeroMasked: false, returnScores, headAxis: false,
    ...(factors ? { weights: { factors } } : {}),
  };
  b.emit(op, b.info(q).mask);
}

/** A Dense over the last axis from an EinsumDense kernel [D, ...units] and bias [...units]. */
function projection(b: KerasBuilder, layer: LayerDef, w: LayerWeights, sub: string, input: string, units: number[], useBias: boolean, out: string): string {
  const inDim = featureDim(b, layer, input);
  const n = units.reduce((a, d) => a * d, 1);
  const sw = w.under(sub);
  const kernel = sw.get("kernel", [inDim, ...units]);
  const weights: { kernel: string; bias?: string } = {
    kernel: b.addWeight(`${layer.name}/${sub}/kernel`, "panels", packPanels(kernel.data, inDim, n), kernel.shape, kernel.data.length),
  };
  if (useBias) {
    const bias = sw.get("bias", units);
    weights.bias = b.addWeight(`${layer.name}/${sub}/bias`, "panels_bias", padVector(bias.data, n), bias.shape, bias.data.length);
  }
  return b.emit({ op: "dense", layer: layer.name, inputs: [input], outputs: [out], units: n, inDim, activation: 0, weights }, b.info(input).mask)[0];
}

function multiHeadAttention(ctx: LayerContext): void {
  const { b, c, call, layer, where, outId } = ctx;
  refuseTensorArgs(ctx, ["attention_mask", "query_mask", "value_mask", "key_mask"]);
  // query first; value and key by position or by keyword (Keras 2 writes value=... as a kwarg)
  const byKeyword = new Set(["value", "key"].map((n) => tensorOf(call, callArg(call, n))).filter(Boolean));
  const rest = call.inputs.slice(1).filter((id) => !byKeyword.has(id));
  const query = call.inputs[0];
  const value = tensorOf(call, callArg(call, "value")) ?? rest[0];
  const key = tensorOf(call, callArg(call, "key")) ?? (callArg(call, "value") === undefined ? rest[1] : rest[0]) ?? value;
  if (!value) throw new RnnWasmError("E_MODEL_JSON", `${where} is called without a value tensor`);
  if (c.use_gate === true) unsupported(layer, "use_gate", true);
  const H = num(c, "num_heads");
  const Dk = num(c, "key_dim");
  const Dv = c.value_dim === null || c.value_dim === undefined ? Dk : num(c, "value_dim");
  const [, D] = shapeOf(b, layer, query, "query");
  shapeOf(b, layer, value, "value");
  shapeOf(b, layer, key, "key");
  const axes = c.attention_axes;
  if (!(axes === null || axes === undefined || [1, -2].includes(Array.isArray(axes) && axes.length === 1 ? (axes[0] as number) : (axes as number)))) {
    unsupported(layer, "attention_axes", axes, "attention over the time axis only");
  }
  const outShape = c.output_shape === null || c.output_shape === undefined ? [D] : Array.isArray(c.output_shape) ? c.output_shape : [c.output_shape];
  if (outShape.length !== 1 || typeof outShape[0] !== "number") unsupported(layer, "output_shape", c.output_shape, "one output dimension");
  const useBias = bool(c, "use_bias", true);
  const w = b.weightsOf(layer);
  const base = outId(0);
  const qp = projection(b, layer, w, "query", query, [H, Dk], useBias, `${base}/query`);
  const kp = projection(b, layer, w, "key", key, [H, Dk], useBias, `${base}/key`);
  const vp = projection(b, layer, w, "value", value, [H, Dv], useBias, `${base}/value`);
  const returnScores = flag(ctx, "return_attention_scores");
  const [heads] = b.emit({
    op: "attention", layer: layer.name, inputs: [qp, vp, kp], outputs: returnScores ? [`${base}/heads`, outId(1)] : [`${base}/heads`],
    heads: H, score: "dot", scoreScale: 1 / Math.sqrt(Dk), tanhScale: 1, causal: flag(ctx, "use_causal_mask"),
    queryMask: "rows", keyMask: true, zeroMasked: b.kerasAtLeast(3, 10), returnScores, headAxis: true,
  }, b.info(query).mask);
  // the output projection [H, Dv, Dout] reads the heads side by side: a Dense of H·Dv inputs
  const out = w.under("attention_output");
  const kernel = out.get("kernel", [H, Dv, outShape[0] as number]);
  const Dout = outShape[0] as number;
  const weights: { kernel: string; bias?: string } = {
    kernel: b.addWeight(`${layer.name}/attention_output/kernel`, "panels", packPanels(kernel.data, H * Dv, Dout), kernel.shape, kernel.data.length),
  };
  if (useBias) {
    const bias = out.get("bias", [Dout]);
    weights.bias = b.addWeight(`${layer.name}/attention_output/bias`, "panels_bias", padVector(bias.data, Dout), bias.shape, bias.data.length);
  }
  b.emit({ op: "dense", layer: layer.name, inputs: [heads], outputs: [outId(0)], units: Dout, inDim: H * Dv, activation: 0, weights }, b.info(query).mask);
}

export const attentionLayers: Record<string, LayerTranslator> = {
  Attention: attention,
  AdditiveAttention: attention,
  MultiHeadAttention: multiHeadAttention,
};
