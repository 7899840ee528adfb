/** LSTM, GRU, SimpleRNN and Bidirectional: each recurrent layer becomes one rnn op (two for Bidirectional). */
import { RnnWasmError } from "../../../errors.js";
import { ACT } from "../../../model/activations.js";
import {
  packGatePanels, packGateVector, packGruRecurrent, packLstmRecurrent, packSimpleRnnRecurrent,
} from "../../../model/pack.js";
import type { Op } from "../../../model/spec.js";
import { bool, featureDim, num, requireNoMask, unsupported, type KerasBuilder, type LayerContext, type LayerTranslator } from "../context.js";
import { kernelFromCudnn, lstmBiasFromCudnn } from "./cudnn.js";
import { isObj, layerDefOf, modelJsonError, type LayerDef } from "../topology.js";
import type { LayerWeights } from "../weights.js";

interface RnnConfig {
  cell: "lstm" | "gru" | "simple_rnn";
  G: number;
  /** CuDNNLSTM / CuDNNGRU: cuDNN's weight layout and fixed equations (cudnn.ts). */
  cudnn?: boolean;
}

const RNN_CLASSES: Record<string, RnnConfig> = Object.assign(Object.create(null), {
  LSTM: { cell: "lstm", G: 4 },
  GRU: { cell: "gru", G: 3 },
  SimpleRNN: { cell: "simple_rnn", G: 1 },
  CuDNNLSTM: { cell: "lstm", G: 4, cudnn: true },
  CuDNNGRU: { cell: "gru", G: 3, cudnn: true },
});

function emitRnn(
  b: KerasBuilder, outer: LayerDef, inner: LayerDef, w: LayerWeights, input: string, initialStates: string[],
  outIds: string[],
  overrides: { goBackwards?: boolean; alignOutput?: boolean; returnSequences?: boolean; returnState?: boolean; zeroOutputForMask?: boolean },
  weightPrefix: string,
): string[] {
  const rc = RNN_CLASSES[inner.className];
  const c = inner.config;
  const where = `layer ${outer.name} (${inner.className})`;
  const u = num(c, "units");
  if (!Number.isInteger(u) || u < 1) unsupported(inner, "units", c.units);
  if (c.time_major === true) unsupported(inner, "time_major", true);
  if (c.unroll === true) {
    // unroll changes nothing numerically; accepted
  }
  const inDim = featureDim(b, outer, input, 2);
  const G = rc.G;
  // cuDNN's GRU is reset_after; its layers have no use_bias, activation or masking
  if (rc.cudnn) requireNoMask(b, outer, [input]);
  const resetAfter = rc.cell === "gru" ? rc.cudnn || bool(c, "reset_after", false) : false;
  let kernel = w.get("kernel", [inDim, G * u]);
  let rec = w.get("recurrent_kernel", [u, G * u]);
  if (rc.cudnn) {
    kernel = { ...kernel, data: kernelFromCudnn(kernel.data, inDim, G, u) };
    rec = { ...rec, data: kernelFromCudnn(rec.data, u, G, u) };
  }
  const useBias = rc.cudnn || bool(c, "use_bias", true);
  const name = `${weightPrefix}${outer.name}`;
  const weights: Extract<Op, { op: "rnn" }>["weights"] = {
    kernel: b.addWeight(`${name}/kernel`, "panels", packGatePanels(kernel.data, inDim, G, u), kernel.shape, kernel.data.length),
    recurrentKernel: "",
  };
  // a bias stored for a use_bias=false layer is ignored, as Keras would
  if (useBias) {
    if (resetAfter) {
      const bias = w.get("bias", (s) => (s.length === 2 && s[0] === 2 && s[1] === 3 * u) || (s.length === 1 && s[0] === 6 * u), `[2, ${3 * u}] (reset_after=true)`);
      weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(bias.data, 3, u, 0), bias.shape, bias.data.length);
      weights.recurrentBias = b.addWeight(`${name}/recurrent_bias`, "gate_vector", packGateVector(bias.data, 3, u, 3 * u), [3 * u], 0);
    } else if (rc.cudnn) {
      const bias = w.get("bias", [2 * G * u]);
      weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(lstmBiasFromCudnn(bias.data, u), G, u, 0), bias.shape, bias.data.length);
    } else {
      const bias = w.get("bias", [G * u]);
      weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(bias.data, G, u, 0), bias.shape, bias.data.length);
    }
  }
  const recPacked = rc.cell === "lstm" ? packLstmRecurrent(rec.data, u)
    : rc.cell === "gru" ? packGruRecurrent(rec.data, u, resetAfter)
    : packSimpleRnnRecurrent(rec.data, u);
  weights.recurrentKernel = b.addWeight(`${name}/recurrent_kernel`, `${rc.cell}_rec${resetAfter ? "_reset_after" : ""}`, recPacked, rec.shape, rec.data.length);

  const returnSequences = overrides.returnSequences ?? bool(c, "return_sequences", false);
  const returnState = overrides.returnState ?? bool(c, "return_state", false);
  const nStates = rc.cell === "lstm" ? 2 : 1;
  if (initialStates.length && initialStates.length !== nStates) {
    throw new RnnWasmError("E_MODEL_JSON", `${where}: expected ${nStates} initial state tensors, received ${initialStates.length}`);
  }
  for (const s of initialStates) {
    const sh = b.info(s).shape;
    if (sh.length !== 1 || sh[0] !== u) {
      throw new RnnWasmError("E_SHAPE", `${where}: initial state must have shape [batch, ${u}], received [batch, ${sh.join(", ")}]`);
    }
  }
  const op: Op = {
    op: "rnn",
    layer: outer.name,
    inputs: [input, ...initialStates],
    outputs: returnState ? outIds.slice(0, 1 + nStates) : outIds.slice(0, 1),
    cell: rc.cell,
    units: u,
    inDim,
    activation: rc.cudnn ? ACT.tanh : b.act(c.activation, where, "tanh"),
    recurrentActivation: rc.cudnn ? ACT.sigmoid : rc.cell === "simple_rnn" ? ACT.linear : b.act(c.recurrent_activation, where, b.recurrentDefault),
    returnSequences,
    returnState,
    goBackwards: overrides.goBackwards ?? bool(c, "go_backwards", false),
    alignOutput: overrides.alignOutput ?? false,
    zeroOutputForMask: overrides.zeroOutputForMask ?? (c.zero_output_for_mask === true && !b.tfjsSemantics),
    resetAfter,
    stateful: bool(c, "stateful", false),
    weights,
  };
  if (op.activation >= 100 || op.recurrentActivation >= 100) unsupported(inner, "activation", c.activation, "softmax inside a recurrent cell");
  const inMask = b.info(input).mask;
  return b.emit(op, returnSequences ? inMask : undefined);
}

function recurrent(ctx: LayerContext): void {
  const { b, x, layer, outId, call } = ctx;
  emitRnn(b, layer, layer, b.weightsOf(layer), x, call.inputs.slice(1), [outId(0), outId(1), outId(2)], {}, "");
}

function bidirectional(ctx: LayerContext): void {
  const { b, c, x, layer, where, outId, call } = ctx;
  const innerRaw = c.layer;
  if (!isObj(innerRaw)) modelJsonError(`${where} has no inner layer config`);
  const inner = layerDefOf(innerRaw, where);
  if (!RNN_CLASSES[inner.className]) throw new RnnWasmError("E_UNSUPPORTED_LAYER", `${where}: wrapping ${inner.className} is not supported`);
  const backRaw = c.backward_layer;
  const backInner = isObj(backRaw) ? layerDefOf(backRaw, where) : inner;
  if (backInner.className !== inner.className) unsupported(layer, "backward_layer", backInner.className, "must be the same class as the forward layer");
  const mergeMode = c.merge_mode === undefined ? "concat" : c.merge_mode;
  if (mergeMode !== null && !["concat", "sum", "mul", "ave"].includes(String(mergeMode))) unsupported(layer, "merge_mode", mergeMode);
  const returnSequences = bool(inner.config, "return_sequences", false);
  const returnState = bool(inner.config, "return_state", false);
  const nStates = RNN_CLASSES[inner.className].cell === "lstm" ? 2 : 1;
  const states = call.inputs.slice(1);
  if (states.length && states.length !== 2 * nStates) {
    throw new RnnWasmError("E_MODEL_JSON", `${where}: expected ${2 * nStates} initial state tensors, received ${states.length}`);
  }
  const w = b.weightsOf(layer);
  const fwdIds = [`${outId(0)}/fwd`, ...Array.from({ length: nStates }, (_, i) => `${outId(0)}/fwd_state${i}`)];
  const bwdIds = [`${outId(0)}/bwd`, ...Array.from({ length: nStates }, (_, i) => `${outId(0)}/bwd_state${i}`)];
  const fGo = bool(inner.config, "go_backwards", false);
  const bGo = isObj(backRaw) ? bool(backInner.config, "go_backwards", true) : !fGo;
  // Keras' Bidirectional forces zero_output_for_mask = return_sequences; tfjs carries h
  const zeroOutputForMask = returnSequences && !b.tfjsSemantics;
  emitRnn(b, layer, inner, w.side("forward"), x, states.slice(0, nStates), fwdIds,
    { goBackwards: fGo, alignOutput: false, returnSequences, returnState, zeroOutputForMask }, "forward/");
  // tfjs/Keras reverse the backward layer's sequence output back to input time order
  emitRnn(b, layer, backInner, w.side("backward"), x, states.slice(nStates), bwdIds,
    { goBackwards: bGo, alignOutput: returnSequences && bGo, returnSequences, returnState, zeroOutputForMask }, "backward/");
  const mask = returnSequences ? b.info(x).mask : undefined;
  let k = 0;
  if (mergeMode === null) {
    b.alias(outId(k++), fwdIds[0]);
    b.alias(outId(k++), bwdIds[0]);
  } else {
    const mode = mergeMode === "concat" ? "concat" : mergeMode === "sum" ? "add" : mergeMode === "mul" ? "mul" : "avg";
    b.emit({ op: "merge", layer: layer.name, inputs: [fwdIds[0], bwdIds[0]], outputs: [outId(k++)], mode, axis: -1 }, mask);
  }
  if (returnState) {
    for (let i = 1; i <= nStates; i++) b.alias(outId(k++), fwdIds[i]);
    for (let i = 1; i <= nStates; i++) b.alias(outId(k++), bwdIds[i]);
  }
}

export const recurrentLayers: Record<string, LayerTranslator> = {
  LSTM: recurrent,
  GRU: recurrent,
  SimpleRNN: recurrent,
  CuDNNLSTM: recurrent,
  CuDNNGRU: recurrent,
  Bidirectional: bidirectional,
};
