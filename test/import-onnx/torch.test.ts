/**
 * nn.LSTM / nn.GRU / nn.RNN modules as torch.onnx.export's TorchScript exporter writes them
 * (torch.ts), with the heads PyTorch models put on them, against onnxruntime-node at batch 1 and
 * 3: a seeded draw per cell x opset (9-18) of layers, directions, constant folding on or off,
 * batch_first, initial states given or not, h_n (c_n) returned or not, sizes around the tile
 * edges and the head. A batch_first module that returns only its head serves every batch size
 * from one export; batch_first=False, h0 given or h_n returned put the batch on a later axis, so
 * those export for the batch size they are bound to (once per batch here) and take the graph's
 * own shapes.
 */
import type * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { describeSeed, rngFor, type Rng } from "../util/prng.ts";
import { f, GraphBuilder } from "./graph.ts";
import { ErrorLog, expectMatch, ortRun, ortSession, outputsOf, type Feed, type Model } from "./oracle.ts";
import { torchParams, torchRnn, type TorchCell, type TorchRnnOptions } from "./torch.ts";

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
  /** h_n (and c_n) returned beside the head's output. */
  returnsState: boolean;
  T: number;
  outFeatures: number;
}

/** Whether the graph's interface holds the batch on another axis than the first: one export per batch size. */
const fixedBatch = (c: TorchCase) => !c.o.batchFirst || c.o.initial === "inputs" || c.returnsState;

function drawCase(cell: TorchCell, opset: number, index: number, round: number): { c: TorchCase; rng: Rng } {
  const rng = rngFor(`onnx torch ${cell} opset ${opset} #${round}`);
  const pick = <T>(xs: T[]) => xs[rng.int(0, xs.length)];
  const o: TorchRnnOptions = {
    cell,
    inputSize: SIZES[(index * 3 + 1) % 5],
    hiddenSize: SIZES[index % 5],
    numLayers: pick([1, 1, 2, 3]),
    bidirectional: rng.next() < 0.5,
    batchFirst: rng.next() < 0.6,
    bias: rng.next() < 0.85,
    initial: rng.next() < 0.3 ? "inputs" : "zeros",
    folded: rng.next() < 0.5,
    opset,
    seq: rng.next() < 0.5 ? "seq" : undefined,
  };
  const T = SIZES[(index * 2 + 3) % 5];
  o.seq = o.seq ?? T;
  const head = HEADS[index % HEADS.length];
  const returnsState = rng.next() < 0.3;
  const c: TorchCase = {
    label: `${cell} opset ${opset} #${round}: layers=${o.numLayers}${o.bidirectional ? " bidirectional" : ""} K=${o.inputSize} H=${o.hiddenSize} T=${T}` +
      `${o.batchFirst ? "" : " batch_first=False"}${o.bias ? "" : " bias=False"}${o.folded ? "" : " unfolded"}${o.initial === "inputs" ? " h0 given" : ""} head=${head}${returnsState ? " +h_n" : ""}`,
    o, head, returnsState, T, outFeatures: pick([1, 3, 8]),
  };
  return { c, rng };
}

/** Draws of the whole cell x opset product (RNN_ONNX_ROUNDS for more). */
const ROUNDS = Number(process.env.RNN_ONNX_ROUNDS ?? 2);
const CASES: [string, { c: TorchCase; rng: Rng }][] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const cell of CELLS) for (const opset of OPSETS) {
    const d = drawCase(cell, opset, CASES.length, round);
    CASES.push([d.c.label, d]);
  }
}

/** The exported model: the module, then its head (graph output "y"), and h_n / c_n when returned. */
function torchModel(c: TorchCase, rng: Rng): { bytes: Uint8Array; inputs: string[]; outputs: string[] } {
  const o = c.o;
  const g = new GraphBuilder("torch_jit");
  const input = g.input("input", o.batchFirst ? ["batch", o.seq!, o.inputSize] : [o.seq!, "batch", o.inputSize]);
  const r = torchRnn(g, input, o, torchParams(o, rng.fork("module")));
  const D = o.bidirectional ? 2 : 1;
  const features = c.head === "hn-linear" ? o.hiddenSize : D * o.hiddenSize;
  const k = 1 / Math.sqrt(features);
  const fcW = rng.float32Array(c.outFeatures * features, (x) => x.uniform(-k, k));
  const fcB = rng.float32Array(c.outFeatures, (x) => x.uniform(-k, k));
  const timeAxis = o.batchFirst ? 1 : 0;
  let y: string;
  switch (c.head) {
    case "output":
      y = r.output;
      break;
    case "last-step-linear": {
      const last = g.op("Gather", [r.output, g.ints([-1], true)], { axis: timeAxis });
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
  const outputs = ["y"];
  g.node("Identity", [y], ["y"]);
  if (c.returnsState) {
    g.node("Identity", [r.hn], ["h_n"]);
    outputs.push("h_n");
    if (r.cn) {
      g.node("Identity", [r.cn], ["c_n"]);
      outputs.push("c_n");
    }
  }
  for (const name of outputs) g.output(name);
  return { bytes: g.model({ opset: o.opset, producer: "pytorch" }), inputs: ["input", ...r.stateInputs], outputs };
}

/** Shapes of the graph's inputs at batch B. */
function inputShapes(c: TorchCase, names: string[], B: number): Record<string, number[]> {
  const rows = (c.o.numLayers ?? 1) * (c.o.bidirectional ? 2 : 1);
  return Object.fromEntries(names.map((n) => [n, n === "input" ? (c.o.batchFirst ? [B, c.T, c.o.inputSize] : [c.T, B, c.o.inputSize]) : [rows, B, c.o.hiddenSize]]));
}

describe.each(CASES)("torch.onnx.export graph against onnxruntime-node: %s", (_label, { c, rng }) => {
  let graph: ReturnType<typeof torchModel>;
  let session: ort.InferenceSession;
  /** Exported once (any batch size) or per batch size. */
  const models = new Map<number | "any", Model>();
  beforeAll(async () => {
    graph = torchModel(c, rng);
    session = await ortSession(graph.bytes);
  });
  afterAll(async () => {
    for (const m of models.values()) m.dispose();
    await session?.release();
  });

  async function modelFor(B: number): Promise<Model> {
    const key = fixedBatch(c) ? B : "any";
    let m = models.get(key);
    if (!m) {
      const inputs = fixedBatch(c) ? inputShapes(c, graph.inputs, B) : { input: [1, c.T, c.o.inputSize] };
      m = await loadModel(await exportBundle(graph.bytes, { inputs }));
      models.set(key, m);
    }
    return m;
  }

  it.each([1, 3])("predict at batch %i", async (B) => {
    const model = await modelFor(B);
    const r = rng.fork(`input B=${B}`);
    const feeds: Record<string, Feed> = Object.fromEntries(Object.entries(inputShapes(c, graph.inputs, B)).map(([n, shape]) => [n, { data: r.float32Array(shape.reduce((a, b) => a * b, 1), (v) => v.uniform(-1, 1)), shape }]));
    const want = await ortRun(session, feeds);
    const got = outputsOf(model.predict(graph.inputs.map((n) => feeds[n] as { data: Float32Array; shape: number[] })));
    expect(model.outputs.map((o) => o.name)).toEqual(graph.outputs);
    graph.outputs.forEach((name, k) => log.add(fixedBatch(c) ? "one batch size" : c.head, expectMatch(got[k], want[name], `${c.label}, batch ${B}, ${name}; ${describeSeed(r)}`)));
  });
});

afterAll(() => log.print("torch.test.ts"));
