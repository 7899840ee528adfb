/**
 * Conv (1-D, channels-first [N, C, W] as ONNX lays it out) and BatchNormalization. A Conv reads
 * its input with the channels innermost in memory ([W, C] after the batch), which is how the
 * conv1d op runs it (im2col + GEMM) and how it leaves its output, so a chain of Conv + Relu moves
 * no data between layers.
 */
import { packPanels, padVector } from "../../../model/pack.js";
import type { Op } from "../../../model/spec.js";
import { dftWindow, type Producer } from "../fuse.js";
import { isBatch } from "../dims.js";
import { BatchLayout, type NodeContext } from "../context.js";
import { floatData, isConst, mapConsts, type ConstValue, type RtValue, type Value } from "../values.js";
import { runtimeBinary } from "./elementwise.js";
import type { OnnxOpTable } from "./registry.js";

/** Kernel [Cout, Cin, k] (ONNX) -> [k, Cin, Cout] rows, packed as the conv1d op reads them. */
function convKernel(w: Float32Array, cin: number, k: number, from: number, count: number): Float32Array {
  const out = new Float32Array(k * cin * count);
  for (let o = 0; o < count; o++) {
    for (let c = 0; c < cin; c++) {
      for (let j = 0; j < k; j++) out[(j * cin + c) * count + o] = w[((from + o) * cin + c) * k + j];
    }
  }
  return packPanels(out, k * cin, count);
}

function conv(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  if (isConst(x)) ctx.fail("convolves a constant (not folded)", "E_UNSUPPORTED_LAYER");
  const w = ctx.constInput(1, "weights");
  const bias = ctx.optionalConst(2, "bias");
  if (x.shape.length !== 3 || w.dims.length !== 3) ctx.fail(`only 1-D convolutions ([N, C, W] input) are supported, input is ${x.shape.length}-D`);

  const [cout, cinG, k] = w.dims;
  const group = ctx.int("group", 1);
  const C = x.shape[1];
  const W = x.shape[2];
  if (isBatch(C) || isBatch(W)) throw new BatchLayout(`${ctx.where}: the batch is a channel or time axis`);
  if (C !== cinG * group || cout % group !== 0) ctx.fail(`weights [${w.dims}] with group ${group} do not fit ${C} input channels`, "E_ONNX");
  const kernel = ctx.ints("kernel_shape")?.[0] ?? k;
  if (kernel !== k) ctx.fail(`kernel_shape ${kernel} differs from the weights' ${k}`, "E_ONNX");
  const stride = ctx.ints("strides")?.[0] ?? 1;
  const dilation = ctx.ints("dilations")?.[0] ?? 1;
  const autoPad = ctx.str("auto_pad", "NOTSET");
  let pads: [number, number];
  if (autoPad === "NOTSET") {
    const p = ctx.ints("pads") ?? [0, 0];
    pads = [p[0], p[1]];
  } else if (autoPad === "VALID") pads = [0, 0];
  else {
    const outLen = Math.ceil(W / stride);
    const total = Math.max((outLen - 1) * stride + (k - 1) * dilation + 1 - W, 0);
    const small = Math.floor(total / 2);
    pads = autoPad === "SAME_LOWER" ? [total - small, small] : [small, total - small];
  }
  if (!(stride >= 1 && dilation >= 1 && pads[0] >= 0 && pads[1] >= 0)) ctx.fail("strides, dilations and pads must be positive", "E_ONNX");
  const b = ctx.b;
  const layer = ctx.node.name;
  const channelsLast = b.withRows(x, [0], [2, 1], layer);
  const order = b.rowsOrder(x.batchAxis, [0], [2, 1]);
  const data = floatData(w, ctx.where);
  const biasData = bias ? floatData(bias, ctx.where) : undefined;
  const wOut = Math.floor((W + pads[0] + pads[1] - (dilation * (k - 1) + 1)) / stride) + 1;
  if (!(wOut >= 1)) ctx.fail(`gives no output steps from ${W} inputs`, "E_ONNX");
  const per = cout / group;
  const convOne = (input: RtValue, cin: number, from: number, outIndex: number): RtValue => {
    const weights: { kernel: string; bias?: string } = {
      kernel: b.addWeight(b.newId(`${layer}/kernel`), "panels", convKernel(data, cin, k, from, per), [per, cin, k], per * cin * k),
    };
    if (biasData) weights.bias = b.addWeight(b.newId(`${layer}/bias`), "panels_bias", padVector(biasData.subarray(from, from + per), per), [per], per);
    const out = ctx.output(outIndex, [x.shape[0], per, wOut], x.batchAxis, order);
    return b.emitValue({
      op: "conv1d", layer, inputs: [input.id], outputs: [], filters: per, kernelSize: k, inDim: cin, strides: stride, dilation,
      padding: "explicit", pads, activation: 0, weights,
    }, out);
  };
  if (group === 1) {
    const out = convOne(channelsLast, C, 0, 0);
    const window = !biasData && dilation === 1 ? dftWindow(data, w.dims) : undefined;
    const from: Producer = window
      ? { kind: "dft", dft: { input: channelsLast, frameLength: k, hop: stride, pads, bins: cout / 2, window } }
      : { kind: "conv", op: b.ops[b.ops.length - 1] as Extract<Op, { op: "conv1d" }>, onnxName: ctx.node.outputs[0] };
    return [{ ...out, from }];
  }
  // grouped: each group's channels convolved apart, the outputs concatenated on the channels
  const parts = Array.from({ length: group }, (_, g) => {
    const input = ctx.output(0, [x.shape[0], cinG, W], x.batchAxis, order);
    const phys = b.physical(channelsLast);
    const sliced = b.emitValue({
      op: "slice", layer, inputs: [channelsLast.id], outputs: [], starts: phys.map((_, i) => (i === phys.length - 1 ? g * cinG : 0)),
      steps: phys.map(() => 1), sizes: phys.map((d, i) => (i === phys.length - 1 ? cinG : d)),
    }, input);
    return convOne(sliced, cinG, g * per, 0);
  });
  const out = ctx.output(0, [x.shape[0], cout, wOut], x.batchAxis, order);
  return [b.emitValue({ op: "concat", layer, inputs: parts.map((p) => p.id), outputs: [], axis: order.length - 1 }, out)];
}

/** Inference BatchNormalization: y = x·s + t per channel (axis 1), folded into one op. */
function batchNormalization(ctx: NodeContext): Value[] {
  const x = ctx.input(0);
  const [scale, beta, mean, variance] = [1, 2, 3, 4].map((i) => ctx.constInput(i, ["scale", "B", "mean", "var"][i - 1]));
  const eps = ctx.float("epsilon", 1e-5);
  if (ctx.int("training_mode", 0) === 1) ctx.fail("training_mode=1 (statistics of the batch) is not supported");
  const C = scale.dims[0];
  const s = new Float32Array(C);
  const t = new Float32Array(C);
  const [g, bb, m, v] = [scale, beta, mean, variance].map((c) => floatData(c, ctx.where));
  for (let c = 0; c < C; c++) {
    s[c] = g[c] / Math.sqrt(v[c] + eps);
    t[c] = bb[c] - m[c] * s[c];
  }
  const r = isConst(x) ? x.dims.length : x.shape.length;
  const perChannel = (d: Float32Array): ConstValue => ({ kind: "const", dtype: "float32", dims: [C, ...new Array(Math.max(r - 2, 0)).fill(1)], data: d });
  if (isConst(x)) {
    const y = mapConsts([x, perChannel(s)], "float32", (a, k) => (a as number) * (k as number), ctx.where);
    return [mapConsts([y, perChannel(t)], "float32", (a, k) => (a as number) + (k as number), ctx.where)];
  }
  const b = ctx.b;
  const layer = ctx.node.name;
  if (x.order[x.order.length - 1] === 1) {
    // channels innermost (after a Conv): the scale_shift op
    const weights = {
      scale: b.addWeight(b.newId(`${layer}/scale`), "vector", s, [C], 4 * C),
      shift: b.addWeight(b.newId(`${layer}/shift`), "vector", t, [C], 0),
    };
    const out = ctx.output(0, x.shape, x.batchAxis, x.order);
    return [b.emitValue({ op: "scale_shift", layer, inputs: [x.id], outputs: [], weights }, out)];
  }
  return [runtimeBinary(ctx, "add", runtimeBinary(ctx, "mul", x, perChannel(s)), perChannel(t))];
}

export const convOps: OnnxOpTable = {
  Conv: conv,
  BatchNormalization: batchNormalization,
};
