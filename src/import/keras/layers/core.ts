/** Embedding, Dense, TimeDistributed (of layers acting on the last axis), and the layers that are identities at inference. */
import { RnnWasmError } from "../../../errors.js";
import { packPanels, padVector } from "../../../model/pack.js";
import type { Op } from "../../../model/spec.js";
import { bool, featureDim, num, type LayerContext, type LayerTranslator } from "../context.js";
import { isObj, layerDefOf, modelJsonError } from "../topology.js";

function embedding(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const inputDim = num(c, "input_dim");
  const outputDim = num(c, "output_dim");
  const table = b.weightsOf(layer).get("embeddings", [inputDim, outputDim]);
  const maskZero = bool(c, "mask_zero", false);
  const outs = [outId(0)];
  const op: Op = {
    op: "embedding", layer: layer.name, inputs: [x], outputs: outs, inputDim, outputDim, maskZero,
    weights: { table: b.addWeight(`${layer.name}/embeddings`, "rows", table.data, table.shape, table.data.length) },
  };
  if (!ctx.graphInputs.has(b.resolve(x))) {
    throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: its input must be a model input (token ids), not the output of another layer`);
  }
  let mask: string | undefined;
  if (maskZero) {
    mask = `${outId(0)}/mask`;
    op.outputs.push(mask);
  }
  b.emit(op);
  if (mask) {
    b.tensors[mask] = { shape: b.info(x).shape };
    b.tensors[outId(0)].mask = mask;
  }
}

function dense(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId } = ctx;
  const units = num(c, "units");
  const inDim = featureDim(b, layer, x);
  const w = b.weightsOf(layer);
  const kernel = w.get("kernel", [inDim, units]);
  const useBias = bool(c, "use_bias", true);
  const weights: { kernel: string; bias?: string } = {
    kernel: b.addWeight(`${layer.name}/kernel`, "panels", packPanels(kernel.data, inDim, units), kernel.shape, kernel.data.length),
  };
  if (useBias) {
    const bias = w.get("bias", [units]);
    weights.bias = b.addWeight(`${layer.name}/bias`, "panels_bias", padVector(bias.data, units), bias.shape, bias.data.length);
  }
  b.emit({ op: "dense", layer: layer.name, inputs: [x], outputs: [outId(0)], units, inDim, activation: b.act(c.activation, where), weights },
    b.info(x).mask);
}

function timeDistributed(ctx: LayerContext): void {
  const { b, c, x, layer, where, call } = ctx;
  const innerRaw = c.layer;
  if (!isObj(innerRaw)) modelJsonError(`${where} has no inner layer config`);
  const inner = layerDefOf(innerRaw, where);
  const shape = b.info(x).shape;
  if (shape.length < 2) throw new RnnWasmError("E_SHAPE", `${where} expects a sequence input [batch, time, ...]`);
  if (inner.className === "Dense" || inner.className === "Activation" || IDENTITY_LAYERS.includes(inner.className)) {
    // Dense and activations act on the last axis, so wrapping them changes nothing; the
    // weights are stored under the wrapper's name.
    ctx.translate({ ...call, layer: { ...inner, name: layer.name } });
    return;
  }
  throw new RnnWasmError("E_UNSUPPORTED_LAYER", `${where}: wrapping ${inner.className} is not supported (Dense, Activation and Dropout are)`);
}

/** Layers that pass their input through at inference (dropout and noise are training-only). */
export const IDENTITY_LAYERS = [
  "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
  "ActivityRegularization",
];

const identity: LayerTranslator = ({ b, x, outId }) => b.alias(outId(0), x);

export const coreLayers: Record<string, LayerTranslator> = {
  Embedding: embedding,
  Dense: dense,
  TimeDistributed: timeDistributed,
  ...Object.fromEntries(IDENTITY_LAYERS.map((name) => [name, identity])),
};
