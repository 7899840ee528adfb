/**
 * The float64 recurrence (recurrent.ts) against onnxruntime-node on ONNX's LSTM, GRU and RNN
 * operators with the options Keras lacks — clip, input_forget, peepholes, three activations
 * with alpha and beta, linear_before_reset, sequence_lens, reverse — so the reference the
 * kernel tests trust for those options computes what onnxruntime does.
 */
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { REF_VS_ORT } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { GATE_COUNT, onnxModel, referenceOutputs, type OnnxCell, type OnnxRecurrentCase } from "../util/onnx-recurrent.ts";
import { rngFor } from "../util/prng.ts";

type Options = Omit<OnnxRecurrentCase, "op" | "x" | "W" | "R" | "bias" | "T" | "B" | "inDim" | "units" | "direction" | "peepholes" | "lens" | "h0" | "c0"> & {
  peepholes?: boolean;
  lens?: number[];
  init?: boolean;
  reverse?: boolean;
};

const CASES: [string, OnnxCell, Options][] = [
  ["LSTM, defaults", "LSTM", {}],
  ["LSTM, peepholes and clip 0.5, lengths, initial states", "LSTM", { peepholes: true, clip: 0.5, lens: [5, 2, 4], init: true }],
  ["LSTM reverse, input_forget, HardSigmoid / ScaledTanh / LeakyRelu, clip, lengths", "LSTM", {
    reverse: true, inputForget: true, activations: ["HardSigmoid", "ScaledTanh", "LeakyRelu"], alphas: [0.3, 1.1, 0.2], betas: [0.45, 0.9],
    clip: 1.5, lens: [3, 5, 1], init: true, peepholes: true,
  }],
  ["LSTM, Sigmoid / Elu / Affine with defaults and given values, peepholes", "LSTM", {
    activations: ["Sigmoid", "Elu", "Affine"], alphas: [0.7, 0.8], betas: [-0.1], peepholes: true, init: true,
  }],
  ["LSTM, Softsign / Softplus / Relu", "LSTM", { activations: ["Softsign", "Softplus", "Relu"] }],
  ["GRU, defaults", "GRU", {}],
  ["GRU linear_before_reset, Sigmoid / Elu, initial state", "GRU", { linearBeforeReset: true, activations: ["Sigmoid", "Elu"], alphas: [0.7], init: true }],
  ["GRU reverse, HardSigmoid (defaults) / Softsign, clip, lengths", "GRU", {
    reverse: true, activations: ["HardSigmoid", "Softsign"], clip: 0.8, lens: [4, 5, 2],
  }],
  ["GRU linear_before_reset, clip, lengths", "GRU", { linearBeforeReset: true, clip: 0.6, lens: [1, 5, 3], init: true }],
  ["RNN, defaults", "RNN", {}],
  ["RNN reverse, ScaledTanh, clip, lengths", "RNN", { reverse: true, activations: ["ScaledTanh"], alphas: [1.3], betas: [0.7], clip: 1.2, lens: [5, 3, 4], init: true }],
  ["RNN, LeakyRelu (default alpha)", "RNN", { activations: ["LeakyRelu"] }],
  // a row of length 0 ends with zero states, not its initial ones (onnxruntime)
  ["LSTM reverse, lengths 0 and T, initial states, peepholes", "LSTM", { reverse: true, lens: [0, 5, 3], init: true, peepholes: true }],
  ["GRU, lengths T and 0, initial state", "GRU", { lens: [5, 2, 0], init: true }],
];

let worst = 0;
afterAll(() => console.log(`[onnx] worst |onnxruntime - reference| over every case: ${worst.toExponential(2)} (${REF_VS_ORT.name} ${REF_VS_ORT.abs})`));

describe.each(CASES)("float64 reference vs onnxruntime-node: %s", (name, op, o) => {
  it.each([3, 9])("%i units", async (units) => {
    const rng = rngFor(`onnx ${name} ${units}`);
    const [T, B, inDim] = [5, 3, 4];
    const G = GATE_COUNT[op];
    const w = (n: number, scale: number) => rng.float32Array(n, (r) => r.uniform(-scale, scale));
    const c: OnnxRecurrentCase = {
      op, T, B, inDim, units, direction: o.reverse ? "reverse" : "forward",
      activations: o.activations, alphas: o.alphas, betas: o.betas, clip: o.clip, inputForget: o.inputForget, linearBeforeReset: o.linearBeforeReset,
      x: w(T * B * inDim, 1),
      W: w(G * units * inDim, 1.2),
      R: w(G * units * units, 1.2),
      bias: w(2 * G * units, 0.5),
      peepholes: o.peepholes ? w(3 * units, 1) : undefined,
      lens: o.lens ? Int32Array.from(o.lens) : undefined,
      h0: o.init ? w(B * units, 1) : undefined,
      c0: o.init && op === "LSTM" ? w(B * units, 1) : undefined,
    };
    const session = await ort.InferenceSession.create(onnxModel(c));
    const got = await session.run({ X: new ort.Tensor("float32", c.x, [T, B, inDim]) });
    const ref = referenceOutputs(c);
    const what = `${name}, ${units} units (seed: onnx ${name} ${units})`;
    const err = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    worst = Math.max(worst, err(got.Y.data as Float32Array, ref.Y), err(got.Y_h.data as Float32Array, ref.Yh));
    assertClose({ data: got.Y.data as Float32Array, shape: [T, B, units] }, { data: ref.Y, shape: [T, B, units] }, REF_VS_ORT, `${what}: Y`);
    assertClose({ data: got.Y_h.data as Float32Array, shape: [B, units] }, { data: ref.Yh, shape: [B, units] }, REF_VS_ORT, `${what}: Y_h`);
    if (op === "LSTM") assertClose({ data: got.Y_c.data as Float32Array, shape: [B, units] }, { data: ref.Yc!, shape: [B, units] }, REF_VS_ORT, `${what}: Y_c`);
    // the options change the outputs (a reference ignoring them would not be checked)
    if (o.clip !== undefined) {
      const unclipped = referenceOutputs({ ...c, clip: undefined });
      expect(Math.max(...unclipped.Y.map((v, i) => Math.abs(v - ref.Y[i]))), `${what}: the clip matters`).toBeGreaterThan(1e-3);
    }
    await session.release();
  });
});
