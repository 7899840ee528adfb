/**
 * Recurrent cells spelled out step by step, as torch.onnx.export's dynamo=True path and
 * hand-written graphs write them (per time step: the step's input taken with Gather or
 * Slice + Squeeze, the gates as MatMul + Add or Gemm, Split or Slice into gates, Sigmoid / Tanh,
 * Mul / Add / Sub for the state update, the outputs stacked with Unsqueeze + Concat). Nothing
 * recognises these as recurrences: they must run right through the generic ops. Against
 * onnxruntime-node at batch 1 and 3, and as sessions carrying h (and c) as state pairs.
 */
import type * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { describeSeed, rngFor, type Rng } from "../util/prng.ts";
import { GraphBuilder } from "./graph.ts";
import { ErrorLog, expectMatch, ortRun, ortSession, outputsOf, type Feed, type Model } from "./oracle.ts";
import { squeeze, unsqueeze } from "./torch.ts";

const log = new ErrorLog();

interface CellCase {
  cell: "LSTM" | "GRU";
  K: number;
  H: number;
  T: number;
  opset: number;
  /** The step's input: Gather on the time axis, or Slice + Squeeze. */
  step: "gather" | "slice";
  /** The gate products: MatMul by transposed weights + Add, or Gemm (transB=1) with the bias. */
  product: "matmul" | "gemm";
  /** The gates apart: one Split, or a Slice each. */
  gates: "split" | "slice";
  /** h0 (and c0) as graph inputs [B, H] and the last h (c) as outputs: state pairs for sessions. */
  stateInputs: boolean;
}

const CASES: [string, CellCase][] = [
  { cell: "LSTM", K: 7, H: 8, T: 9, opset: 17, step: "gather", product: "matmul", gates: "split", stateInputs: false },
  { cell: "LSTM", K: 9, H: 7, T: 7, opset: 13, step: "slice", product: "gemm", gates: "slice", stateInputs: true },
  { cell: "LSTM", K: 1, H: 19, T: 1, opset: 18, step: "gather", product: "gemm", gates: "split", stateInputs: true },
  { cell: "GRU", K: 8, H: 9, T: 8, opset: 17, step: "gather", product: "matmul", gates: "split", stateInputs: true },
  { cell: "GRU", K: 19, H: 1, T: 7, opset: 11, step: "slice", product: "gemm", gates: "split", stateInputs: false },
  { cell: "GRU", K: 7, H: 8, T: 9, opset: 13, step: "gather", product: "gemm", gates: "slice", stateInputs: false },
].map((c) => [`${c.cell} K=${c.K} H=${c.H} T=${c.T} opset ${c.opset}: ${c.step}, ${c.product}, ${c.gates}${c.stateInputs ? ", h0 given" : ""}`, c as CellCase]);

interface CellGraph {
  bytes: Uint8Array;
  inputs: string[];
  outputs: string[];
  /** State pairs: input -> output. */
  pairs: Record<string, string>;
}

/** Writes the unrolled cell: X [B, T, K] -> Y [B, T, H], h_T (and c_T) [B, H]. */
function cellGraph(c: CellCase, rng: Rng): CellGraph {
  const g = new GraphBuilder("unrolled");
  const { K, H, T, opset } = c;
  const G = c.cell === "LSTM" ? 4 : 3;
  const k = 1.2 / Math.sqrt(H);
  const draw = (n: number) => rng.float32Array(n, (r) => r.uniform(-k, k));
  // PyTorch's parameters: weight_ih [G·H, K], weight_hh [G·H, H], the two biases [G·H]
  const wih = draw(G * H * K), whh = draw(G * H * H), bih = draw(G * H), bhh = draw(G * H);
  const transposed = (w: Float32Array, rows: number, cols: number) => {
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j];
    return out;
  };
  const X = g.input("X", ["batch", T, K]);
  const inputs = [X];
  const pairs: Record<string, string> = {};
  const zeros = () => {
    const batch = unsqueeze(g, g.op("Gather", [g.op("Shape", [X]), g.ints([0], true)], { axis: 0 }), [0], opset);
    return g.op("ConstantOfShape", [g.op("Concat", [batch, g.ints([H])], { axis: 0 })], { value: { dims: [1], data: [0] } });
  };
  let h = c.stateInputs ? g.input("h0", ["batch", H]) : zeros();
  let cs = c.cell === "LSTM" ? (c.stateInputs ? g.input("c0", ["batch", H]) : zeros()) : "";
  if (c.stateInputs) inputs.push(...(c.cell === "LSTM" ? ["h0", "c0"] : ["h0"]));

  const Wih = g.init("weight_ih", c.product === "gemm" ? { dims: [G * H, K], data: wih } : { dims: [K, G * H], data: transposed(wih, G * H, K) });
  const Whh = g.init("weight_hh", c.product === "gemm" ? { dims: [G * H, H], data: whh } : { dims: [H, G * H], data: transposed(whh, G * H, H) });
  const Bih = g.init("bias_ih", { dims: [G * H], data: bih });
  const Bhh = g.init("bias_hh", { dims: [G * H], data: bhh });
  const affine = (x: string, w: string, b: string) =>
    c.product === "gemm" ? g.op("Gemm", [x, w, b], { transB: 1 }) : g.op("Add", [g.op("MatMul", [x, w]), b]);
  const parts = (v: string): string[] => c.gates === "split"
    ? (opset >= 13 ? g.node("Split", [v, g.ints(new Array(G).fill(H))], G, { axis: 1 }) : g.node("Split", [v], G, { axis: 1, split: new Array(G).fill(H) }))
    : Array.from({ length: G }, (_, i) => g.op("Slice", [v, g.ints([i * H]), g.ints([(i + 1) * H]), g.ints([-1])]));
  const one = g.init("one", { dims: [], data: [1] });

  const ys: string[] = [];
  for (let t = 0; t < T; t++) {
    const xt = c.step === "gather"
      ? g.op("Gather", [X, g.ints([t], true)], { axis: 1 })
      : squeeze(g, g.op("Slice", [X, g.ints([t]), g.ints([t + 1]), g.ints([1])]), [1], opset);
    if (c.cell === "LSTM") {
      const gates = g.op("Add", [affine(xt, Wih, Bih), affine(h, Whh, Bhh)]);
      const [i, f, gg, o] = parts(gates); // PyTorch's order: input, forget, cell, output
      const ig = g.op("Mul", [g.op("Sigmoid", [i]), g.op("Tanh", [gg])]);
      cs = g.op("Add", [g.op("Mul", [g.op("Sigmoid", [f]), cs]), ig]);
      h = g.op("Mul", [g.op("Sigmoid", [o]), g.op("Tanh", [cs])]);
    } else {
      const [xr, xz, xn] = parts(affine(xt, Wih, Bih)); // PyTorch's order: reset, update, new
      const [hr, hz, hn] = parts(affine(h, Whh, Bhh));
      const r = g.op("Sigmoid", [g.op("Add", [xr, hr])]);
      const z = g.op("Sigmoid", [g.op("Add", [xz, hz])]);
      const n = g.op("Tanh", [g.op("Add", [xn, g.op("Mul", [r, hn])])]);
      h = g.op("Add", [g.op("Mul", [g.op("Sub", [one, z]), n]), g.op("Mul", [z, h])]);
    }
    ys.push(unsqueeze(g, h, [1], opset));
  }
  const outputs = ["Y", "h_T"];
  g.node("Concat", ys, ["Y"], { axis: 1 });
  g.node("Identity", [h], ["h_T"]);
  if (c.cell === "LSTM") {
    g.node("Identity", [cs], ["c_T"]);
    outputs.push("c_T");
  }
  for (const o of outputs) g.output(o);
  if (c.stateInputs) {
    pairs.h0 = "h_T";
    if (c.cell === "LSTM") pairs.c0 = "c_T";
  }
  return { bytes: g.model({ opset }), inputs, outputs, pairs };
}

function feedsFor(graph: CellGraph, c: CellCase, B: number, rng: Rng): Record<string, Feed> {
  return Object.fromEntries(graph.inputs.map((n) => {
    const shape = n === "X" ? [B, c.T, c.K] : [B, c.H];
    return [n, { data: rng.float32Array(shape.reduce((a, b) => a * b, 1), (r) => r.uniform(-1, 1)), shape }];
  }));
}

describe.each(CASES)("an unrolled %s against onnxruntime-node", (_label, c) => {
  const rng = rngFor(`onnx unrolled ${_label}`);
  let graph: CellGraph;
  let session: ort.InferenceSession;
  let model: Model;
  beforeAll(async () => {
    graph = cellGraph(c, rng.fork("weights"));
    session = await ortSession(graph.bytes);
    model = await loadModel(await exportBundle(graph.bytes));
  });
  afterAll(async () => {
    model?.dispose();
    await session?.release();
  });

  it.each([1, 3])("predict at batch %i: Y and the last states", async (B) => {
    const r = rng.fork(`B=${B}`);
    const feeds = feedsFor(graph, c, B, r);
    const want = await ortRun(session, feeds);
    const got = outputsOf(model.predict(graph.inputs.map((n) => feeds[n] as { data: Float32Array; shape: number[] })));
    expect(got.length).toBe(graph.outputs.length);
    graph.outputs.forEach((name, k) => log.add(c.cell, expectMatch(got[k], want[name], `${_label}, batch ${B}, ${name}; ${describeSeed(r)}`)));
  });

  if (c.stateInputs) {
    it("predict takes the inputs by name, in any order, as by position", () => {
      const r = rng.fork("by name");
      const feeds = feedsFor(graph, c, 2, r);
      const positional = outputsOf(model.predict(graph.inputs.map((n) => feeds[n] as { data: Float32Array; shape: number[] })));
      const reversed = Object.fromEntries([...graph.inputs].reverse().map((n) => [n, feeds[n]]));
      const named = outputsOf((model.predict as (x: unknown) => unknown)(reversed));
      expect(named.map((t) => Array.from(t.data))).toEqual(positional.map((t) => Array.from(t.data)));
    });
  }

  if (c.stateInputs) {
    it("session with state pairs (--state h0=h_T[, c0=c_T]): 3 chunks at batch 1 and 3", async () => {
      const stateful = await loadModel(await exportBundle(graph.bytes, { state: graph.pairs }));
      try {
        expect(stateful.inputs.map((i) => i.name)).toEqual(["X"]);
        for (const B of [1, 3]) {
          const r = rng.fork(`session B=${B}`);
          const s = stateful.createSession({ batchSize: B });
          const states: Record<string, Feed> = Object.fromEntries(Object.keys(graph.pairs).map((n) => [n, { data: new Float32Array(B * c.H), shape: [B, c.H] }]));
          for (let chunk = 0; chunk < 3; chunk++) {
            const x = feedsFor(graph, c, B, r).X;
            const want = await ortRun(session, { X: x, ...states });
            for (const [inName, outName] of Object.entries(graph.pairs)) states[inName] = want[outName];
            const got = s.step(x as { data: Float32Array; shape: number[] }) as { data: Float32Array; shape: number[] };
            log.add(`${c.cell} session`, expectMatch(got, want.Y, `${_label}, session batch ${B}, chunk ${chunk}; ${describeSeed(r)}`));
          }
        }
      } finally {
        stateful.dispose();
      }
    });
  }
});

afterAll(() => log.print("cells.test.ts"));
