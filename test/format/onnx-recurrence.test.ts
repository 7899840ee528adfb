/**
 * ONNX's recurrence options through the whole runtime: a model spec whose rnn op carries them
 * (src/model/spec.ts: cellActivation, activationParams, clip, inputForget, peepholes), written
 * as a bundle and loaded, predicts what the float64 reference (checked against onnxruntime in
 * test/reference/onnx.test.ts) computes for the same ONNX operator, f32 and int8, and a
 * session steps to the same outputs; options the kernels do not run are refused at load.
 */
import { describe, expect, it } from "vitest";
import { writeBundle } from "../../src/format/writer.ts";
import { loadModel } from "../../src/index.ts";
import { packGatePanels, packGateVector, packGruRecurrent, packLstmRecurrent, packSimpleRnnRecurrent, padTo8 } from "../../src/model/pack.ts";
import type { ModelSpec, PackedModel } from "../../src/model/spec.ts";
import * as abi from "../../src/wasm/abi.ts";
import { APPROX, INT8_WEIGHTS } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { expectError } from "../util/errors.ts";
import { headerOf, withHeader } from "./craft.ts";
import { activationSlots, cellSpecOf, GATE_COUNT, referenceOutputs, type OnnxCell, type OnnxRecurrentCase } from "../util/onnx-recurrent.ts";
import { rngFor } from "../util/prng.ts";

/** ONNX's activation names as kernel codes (what an ONNX importer writes). */
const CODES: Record<string, number> = {
  Relu: abi.ACT_RELU, Tanh: abi.ACT_TANH, Sigmoid: abi.ACT_SIGMOID, Softsign: abi.ACT_SOFTSIGN, Softplus: abi.ACT_SOFTPLUS,
  Affine: abi.ACT_UNARY + abi.TU_AFFINE, LeakyRelu: abi.ACT_UNARY + abi.TU_LEAKY_RELU, ThresholdedRelu: abi.ACT_UNARY + abi.TU_THRESHOLDED_RELU,
  ScaledTanh: abi.ACT_UNARY + abi.TU_SCALED_TANH, HardSigmoid: abi.ACT_UNARY + abi.TU_HARD_SIGMOID, Elu: abi.ACT_UNARY + abi.TU_ELU,
};

/** The ONNX operator as a one-op model: x [T, in] -> y [T, u] (sequence), h (and c). */
function packedModel(c: OnnxRecurrentCase, opOverrides: Record<string, unknown> = {}): PackedModel {
  const spec = cellSpecOf(c);
  const G = GATE_COUNT[c.op];
  const u = c.units;
  const slots = activationSlots(c);
  const [gate, cand, cell] = c.op === "RNN" ? [slots[0], slots[0], undefined] : slots;
  const data = new Map<string, Float32Array>([
    ["k", packGatePanels(Float32Array.from(spec.kernel), c.inDim, G, u)],
    ["r", spec.cell === "lstm" ? packLstmRecurrent(Float32Array.from(spec.recurrentKernel), u)
      : spec.cell === "gru" ? packGruRecurrent(Float32Array.from(spec.recurrentKernel), u, spec.resetAfter)
        : packSimpleRnnRecurrent(Float32Array.from(spec.recurrentKernel), u)],
    ["b", packGateVector(Float32Array.from(spec.bias!), G, u, 0)],
  ]);
  if (spec.resetAfter) data.set("rb", packGateVector(Float32Array.from(spec.bias!), G, u, G * u));
  if (spec.peepholes) data.set("p", packGateVector(Float32Array.from(spec.peepholes), 3, u));
  const layouts: Record<string, string> = { k: "panels", r: `${spec.cell}_rec${spec.resetAfter ? "_reset_after" : ""}`, b: "gate_vector", rb: "gate_vector", p: "gate_vector" };
  const states = spec.cell === "lstm" ? ["h", "c"] : ["h"];
  const m: ModelSpec = {
    name: `onnx ${c.op}`,
    inputs: [{ name: "x", tensor: "x", shape: [null, c.inDim], dtype: "float32" }],
    outputs: [{ name: "y", tensor: "y" }, ...states.map((s) => ({ name: s, tensor: s }))],
    tensors: { x: { shape: [null, c.inDim] }, y: { shape: [null, u] }, ...Object.fromEntries(states.map((s) => [s, { shape: [u] }])) },
    ops: [{
      op: "rnn", layer: "rnn", cell: spec.cell, units: u, inDim: c.inDim, inputs: ["x"], outputs: ["y", ...states],
      activation: CODES[cand.name], recurrentActivation: CODES[gate.name], cellActivation: cell && CODES[cell.name],
      activationParams: [gate.alpha, gate.beta, cand.alpha, cand.beta, cell?.alpha ?? 0, cell?.beta ?? 0],
      clip: c.clip, inputForget: c.inputForget, returnSequences: true, returnState: true,
      goBackwards: c.direction === "reverse", alignOutput: c.direction === "reverse", resetAfter: spec.resetAfter, stateful: false,
      weights: { kernel: "k", bias: "b", recurrentKernel: "r", ...(data.has("rb") ? { recurrentBias: "rb" } : {}), ...(data.has("p") ? { peepholes: "p" } : {}) },
      ...opOverrides,
    } as ModelSpec["ops"][number]],
    weights: [...data].map(([name, d]) => ({ name, layout: layouts[name], length: d.length, sourceShape: [d.length], params: d.length })),
    source: { origin: "test", className: "ONNX" },
  };
  return { spec: m, data };
}

function onnxCase(op: OnnxCell, units: number, opts: Partial<OnnxRecurrentCase>, seed: string): OnnxRecurrentCase {
  const rng = rngFor(seed);
  const [T, B, inDim] = [6, 2, 5];
  const G = GATE_COUNT[op];
  const w = (n: number, scale: number) => rng.float32Array(n, (r) => r.uniform(-scale, scale));
  return {
    op, T, B, inDim, units, direction: "forward",
    x: w(T * B * inDim, 1), W: w(G * units * inDim, 0.8), R: w(G * units * units, 0.8), bias: w(2 * G * units, 0.5), ...opts,
  };
}

const CASES: [string, OnnxCell, (rng: () => Float32Array) => Partial<OnnxRecurrentCase>][] = [
  ["LSTM: peepholes, input_forget, clip, HardSigmoid / ScaledTanh / LeakyRelu", "LSTM", (p) => ({
    peepholes: p(), inputForget: true, clip: 0.9, activations: ["HardSigmoid", "ScaledTanh", "LeakyRelu"], alphas: [0.3, 1.1, 0.2], betas: [0.45, 0.9],
  })],
  ["LSTM reverse: peepholes, Sigmoid / Elu / Affine", "LSTM", (p) => ({ direction: "reverse", peepholes: p(), activations: ["Sigmoid", "Elu", "Affine"], alphas: [0.7, 0.8], betas: [-0.1] })],
  ["GRU linear_before_reset: clip, Sigmoid / Elu", "GRU", () => ({ linearBeforeReset: true, clip: 0.7, activations: ["Sigmoid", "Elu"], alphas: [0.6] })],
  ["GRU: clip, HardSigmoid / Softsign", "GRU", () => ({ clip: 0.8, activations: ["HardSigmoid", "Softsign"] })],
  ["RNN reverse: ScaledTanh, clip", "RNN", () => ({ direction: "reverse", activations: ["ScaledTanh"], alphas: [1.3], betas: [0.7], clip: 1.2 })],
];

describe.each(CASES)("%s", (name, op, opts) => {
  it.each([5, 12])("%i units: predict (f32 and int8 bundles) and session steps", async (units) => {
    const seed = `onnx model ${name} ${units}`;
    const rng = rngFor(`${seed} peepholes`);
    const c = onnxCase(op, units, opts(() => rng.float32Array(3 * units, (r) => r.uniform(-1, 1))), seed);
    const ref = referenceOutputs(c);
    const { T, B, inDim } = c;
    // batch first, as the runtime takes and gives them
    const x = new Float32Array(B * T * inDim);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) x.set(c.x.subarray((t * B + b) * inDim, (t * B + b + 1) * inDim), (b * T + t) * inDim);
    const y = new Float64Array(B * T * units);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) y.set(ref.Y.subarray((t * B + b) * units, (t * B + b + 1) * units), (b * T + t) * units);
    const packed = packedModel(c);
    for (const dtype of ["f32", "int8"] as const) {
      const model = await loadModel(writeBundle(packed, { dtype }));
      const [ys, h, cs] = model.predict({ data: x, shape: [B, T, inDim] }) as { data: Float32Array; shape: number[] }[];
      const tol = dtype === "f32" ? APPROX : INT8_WEIGHTS;
      assertClose(ys, { data: y, shape: [B, T, units] }, tol, `${name} ${units} units ${dtype}: sequence (seed ${seed})`);
      assertClose(h, { data: ref.Yh, shape: [B, units] }, tol, `${name} ${units} units ${dtype}: h`);
      if (cs) assertClose(cs, { data: ref.Yc!, shape: [B, units] }, tol, `${name} ${units} units ${dtype}: c`);
      if (c.direction === "forward") {
        // a session, one step at a time, gives the sequence output bit for bit
        const s = model.createSession({ batchSize: B });
        for (let t = 0; t < T; t++) {
          const xt = new Float32Array(B * inDim);
          for (let b = 0; b < B; b++) xt.set(x.subarray((b * T + t) * inDim, (b * T + t + 1) * inDim), b * inDim);
          const [yt] = s.step({ data: xt, shape: [B, inDim] }) as { data: Float32Array }[];
          for (let b = 0; b < B; b++) expect(Array.from(yt.data.subarray(b * units, (b + 1) * units))).toEqual(Array.from(ys.data.subarray((b * T + t) * units, (b * T + t + 1) * units)));
        }
      }
      model.dispose();
    }
  });
});

// the loader checks the fields' types, the kernels their values (rnnDescribe, docs/kernels.md)
describe("options the kernels do not run are refused when the model loads", () => {
  const lstm = onnxCase("LSTM", 5, { activations: ["Sigmoid", "Tanh", "Tanh"] }, "onnx bad options");
  const gru = onnxCase("GRU", 5, { activations: ["Sigmoid", "Tanh"] }, "onnx bad options gru");
  it.each([
    ["an unknown activation code", lstm, { activation: 57 }],
    ["an unknown cell activation", lstm, { cellActivation: 23 }],
    ["a code past the unary functions", lstm, { activation: abi.ACT_UNARY + abi.TU_COUNT }],
    ["a negative clip", lstm, { clip: -1 }],
    ["an activation code that is a string", lstm, { activation: "7" }],
    ["an activation code that is not an integer", lstm, { recurrentActivation: 1.5 }],
    ["an alpha that is a string", lstm, { activationParams: [0, "1"] }],
    ["activation parameters that are not a list", lstm, { activationParams: "0" }],
    ["a clip that is a string", lstm, { clip: "1" }],
    ["input_forget that is not a boolean", lstm, { inputForget: 1 }],
    ["input_forget on a GRU", gru, { inputForget: true }],
    ["a cell activation on a GRU", gru, { cellActivation: abi.ACT_TANH }],
  ])("%s: E_BUNDLE_CORRUPT", async (_what, c, override) => {
    await expectError(async () => loadModel(writeBundle(packedModel(c, override))), "E_BUNDLE_CORRUPT", { mentions: ["layer rnn"] });
  });

  it("an infinite beta (1e999 in the header) reaches the kernel, which refuses it", async () => {
    const bytes = withHeader(writeBundle(packedModel(lstm, { activationParams: [0, 12345] })), () => {}, (t) => t.replace("12345", "1e999"));
    expect(headerOf(bytes).header.model.ops[0].activationParams[1]).toBe(Infinity);
    await expectError(async () => loadModel(bytes), "E_BUNDLE_CORRUPT", { mentions: ["layer rnn", "invalid recurrent option 16"] });
  });
});
