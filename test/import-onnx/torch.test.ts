/**
 * nn.LSTM / nn.GRU / nn.RNN modules as torch.onnx.export's TorchScript exporter writes them
 * (torch.ts), with the heads PyTorch models put on them, against onnxruntime-node at batch 1 and
 * 3 from one export: a seeded draw per cell x opset (9-18) of layers, directions, constant
 * folding on or off, sizes around the tile edges and the head. What waits for the lead's
 * fixed-batch fallback (batch_first=False, h_n as an output, h0 as an input) is asserted as a
 * typed error.
 */
import type * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { describeSeed, rngFor, type Rng } from "../util/prng.ts";
import { f, GraphBuilder } from "./graph.ts";
import { ErrorLog, expectMatch, expectOnnxError, ortRun, ortSession, outputsOf, type Feed, type Model } from "./oracle.ts";
import { torchParams, torchRnn, torchRnnModel, type TorchCell, type TorchRnnOptions } from "./torch.ts";

const SIZES = [1, 7, 8, 9, 19];
const CELLS: TorchCell[] = ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"];
const OPSETS = [9, 11, 13, 15, 17, 18];
const log = new ErrorLog();

/** What the model does with the recurrent module's results. */
type Head =
  | "output" // return output [B, T, D·H]
  | "last-step-linear" // fc(output[:, -1]) -> sigmoid: Gather on the time axis, Gemm (transB=1), Sigmoid
  | "hn-linear" // fc(h_n[-1]): Gather on h_n's layer axis, Gemm
  | "sequence-linear"; // fc(output) on every step: MatMul + Add, then LogSoftmax

const HEADS: Head[] = ["output", "last-step-linear", "hn-linear", "sequence-linear"];

interface TorchCase {
  label: string;
  o: TorchRnnOptions;
  head: Head;
  T: number;
  outFeatures: number;
}

function drawCase(cell: TorchCell, opset: number, index: number): { c: TorchCase; rng: Rng } {
  const rng = rngFor(`onnx torch ${cell} opset ${opset}`);
  const pick = <T>(xs: T[]) => xs[rng.int(0, xs.length)];
  const o: TorchRnnOptions = {
    cell,
    inputSize: SIZES[(index * 3 + 1) % 5],
    hiddenSize: SIZES[index % 5],
    numLayers: pick([1, 1, 2, 3]),
    bidirectional: rng.next() < 0.5,
    batchFirst: true,
    bias: rng.next() < 0.85,
    initial: "zeros",
    folded: rng.next() < 0.5,
    opset,
    seq: rng.next() < 0.5 ? "seq" : undefined,
  };
  const T = SIZES[(index * 2 + 3) % 5];
  o.seq = o.seq ?? T;
  const head = HEADS[index % HEADS.length];
  const c: TorchCase = {
    label: `${cell} opset ${opset}: layers=${o.numLayers}${o.bidirectional ? " bidirectional" : ""} K=${o.inputSize} H=${o.hiddenSize} T=${T}${o.bias ? "" : " bias=False"}${o.folded ? "" : " unfolded"} head=${head}`,
    o, head, T, outFeatures: pick([1, 3, 8]),
  };
  return { c, rng };
}

const CASES: [string, { c: TorchCase; rng: Rng }][] = [];
for (const cell of CELLS) for (const opset of OPSETS) {
  const d = drawCase(cell, opset, CASES.length);
  CASES.push([d.c.label, d]);
}

/** The exported model: the module, then its head; one graph output "y". */
function torchModel(c: TorchCase, rng: Rng): Uint8Array {
  const o = c.o;
  const g = new GraphBuilder("torch_jit");
  const input = g.input("input", ["batch", o.seq!, o.inputSize]);
  const r = torchRnn(g, input, o, torchParams(o, rng.fork("module")));
  const D = o.bidirectional ? 2 : 1;
  const features = c.head === "hn-linear" ? o.hiddenSize : D * o.hiddenSize;
  const k = 1 / Math.sqrt(features);
  const fcW = rng.float32Array(c.outFeatures * features, (x) => x.uniform(-k, k));
  const fcB = rng.float32Array(c.outFeatures, (x) => x.uniform(-k, k));
  let y: string;
  switch (c.head) {
    case "output":
      y = r.output;
      break;
    case "last-step-linear": {
      const last = g.op("Gather", [r.output, g.ints([-1], true)], { axis: 1 });
      y = g.op("Sigmoid", [g.op("Gemm", [last, g.init("fc.weight", { dims: [c.outFeatures, features], data: fcW }), g.init("fc.bias", { dims: [c.outFeatures], data: fcB })], { alpha: f(1), beta: f(1), transB: 1 })]);
      break;
    }
    case "hn-linear": {
      const last = g.op("Gather", [r.hn, g.ints([-1], true)], { axis: 0 });
      y = g.op("Gemm", [last, g.init("fc.weight", { dims: [c.outFeatures, features], data: fcW }), g.init("fc.bias", { dims: [c.outFeatures], data: fcB })], { transB: 1 });
      break;
    }
    case "sequence-linear": {
      // nn.Linear on a 3-D tensor: MatMul by the transposed weight (an initializer), then Add
      const wt = new Float32Array(features * c.outFeatures);
      for (let i = 0; i < c.outFeatures; i++) for (let j = 0; j < features; j++) wt[j * c.outFeatures + i] = fcW[i * features + j];
      const mm = g.op("MatMul", [r.output, g.init("onnx::MatMul_fc", { dims: [features, c.outFeatures], data: wt })]);
      y = g.op("LogSoftmax", [g.op("Add", [g.init("fc.bias", { dims: [c.outFeatures], data: fcB }), mm])], { axis: o.opset! < 13 ? 2 : -1 });
      break;
    }
  }
  g.node("Identity", [y], ["y"]);
  g.output("y");
  return g.model({ opset: o.opset, producer: "pytorch" });
}

describe.each(CASES)("torch.onnx.export graph against onnxruntime-node: %s", (_label, { c, rng }) => {
  let bytes: Uint8Array;
  let session: ort.InferenceSession;
  let model: Model;
  beforeAll(async () => {
    bytes = torchModel(c, rng);
    session = await ortSession(bytes);
    model = await loadModel(await exportBundle(bytes, { inputs: { input: [1, c.T, c.o.inputSize] } }));
  });
  afterAll(async () => {
    model?.dispose();
    await session?.release();
  });

  it.each([1, 3])("predict at batch %i", async (B) => {
    const r = rng.fork(`input B=${B}`);
    const x: Feed = { data: r.float32Array(B * c.T * c.o.inputSize, (v) => v.uniform(-1, 1)), shape: [B, c.T, c.o.inputSize] };
    const want = (await ortRun(session, { input: x })).y;
    const got = outputsOf(model.predict(x as { data: Float32Array; shape: number[] }));
    expect(got.length).toBe(1);
    log.add(c.head, expectMatch(got[0], want, `${c.label}, batch ${B}; ${describeSeed(r)}`));
  });
});

describe("torch.onnx.export graphs that wait for the fixed-batch fallback: typed errors naming the tensor", () => {
  const base: TorchRnnOptions = { cell: "LSTM", inputSize: 3, hiddenSize: 4, batchFirst: true, seq: 5 };
  const cases: [string, TorchRnnOptions, ("output" | "h_n" | "c_n")[], string][] = [
    ["batch_first=False (the default): input [T, B, K]", { ...base, batchFirst: false }, ["output"], "input"],
    ["h_n returned: [L·D, B, H]", base, ["output", "h_n"], "h_n"],
    ["h0 and c0 given as inputs: [L·D, B, H]", { ...base, initial: "inputs" }, ["output"], "h0"],
  ];
  it.each(cases)("%s", async (_what, o, returns, name) => {
    const m = torchRnnModel(o, torchParams(o, rngFor("onnx torch not yet")), returns);
    await expectOnnxError(() => exportBundle(m.bytes, {}), "E_UNSUPPORTED_OPTION", new RegExp(`\\b${name}\\b`), /batch/);
  });
});

afterAll(() => log.print("torch.test.ts"));
