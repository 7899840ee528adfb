/**
 * The seeded matrix of ONNX recurrent nodes against onnxruntime-node: every cell (LSTM, GRU with
 * linear_before_reset 0 and 1, RNN) x direction x layout, each case drawing its sizes around the
 * kernels' 8-unit tile edges and the attributes and optional inputs the importer supports
 * (bias forms, initial states absent / given / zeros of the input's shape, sequence_lens absent /
 * empty / full, zero peepholes, explicit activations per direction, any subset of outputs).
 * One export per case runs at batch 1 and at batch 3 (predict), and cases with state inputs run
 * again as sessions (--state H0=Y_h, C0=Y_c) over chunks, the state carried, against
 * onnxruntime fed its own states back. A second matrix draws every option ONNX's recurrences
 * have — all eleven activations with their alpha / beta, per direction; clip; input_forget;
 * peepholes; sequence_lens as a graph input (lengths 0 and T among them) or a constant shorter
 * than T — and checks each case against onnxruntime and the float64 oracle
 * (test/util/onnx-recurrent.ts). What the importer refuses is asserted as a typed error naming
 * the node and the reason (the table of refusals at the end).
 *
 * Replay: the seed is printed on failure; RNN_SEED=<n> draws another matrix.
 */
import type * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { describeSeed, rngFor, type Rng } from "../util/prng.ts";
import { f, fs, GraphBuilder } from "./graph.ts";
import { APPROX } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { activationSlots, referenceOutputs, TAKES, type OnnxRecurrentCase } from "../util/onnx-recurrent.ts";
import { ErrorLog, expectMatch, expectOnnxError, ortOnce, ortRun, ortSession, outputsOf, rnnModel, type Feed, type Model } from "./oracle.ts";
import { dirCount, GATE_COUNT, recurrentGraph, recWeights, type Direction, type NodeTweak, type RecCase, type RecGraph, type RecOp, type RecWeights } from "./recurrent-graphs.ts";

const SIZES = [1, 7, 8, 9, 19];
const CELLS: [RecOp, 0 | 1][] = [["LSTM", 0], ["GRU", 0], ["GRU", 1], ["RNN", 0]];
const DIRECTIONS: Direction[] = ["forward", "reverse", "bidirectional"];
const log = new ErrorLog();

/** Activations the recurrent kernels run, per cell: [f, g(, h)] for one direction. */
function drawActivations(op: RecOp, rng: Rng): string[] {
  const pick = <T>(xs: T[]) => xs[rng.int(0, xs.length)];
  if (op === "RNN") return [pick(["Tanh", "Relu", "Sigmoid", "Softsign"])];
  const f = pick(["Sigmoid", "HardSigmoid", "Tanh", "Softsign"]);
  const g = pick(["Tanh", "Relu", "Softsign", "Softplus", "Elu", "Sigmoid"]);
  return op === "LSTM" ? [f, g, g] : [f, g];
}

function drawCase(op: RecOp, lbr: 0 | 1, direction: Direction, layout: 0 | 1, index: number, round: number): { c: RecCase; rng: Rng } {
  const label = `${op}${op === "GRU" ? ` lbr=${lbr}` : ""} ${direction} layout=${layout} #${round}`;
  const rng = rngFor(`onnx recurrent ${label}`);
  const pick = <T>(xs: T[]) => xs[rng.int(0, xs.length)];
  // sizes cycle through the tile edges so every cell meets each of them
  const H = SIZES[index % 5];
  const K = SIZES[(index * 3 + 2) % 5];
  const T = SIZES[(index * 2 + 1) % 5];
  // a third of the cases carry their states (inputs and outputs): sessions with state pairs
  const statePairs = index % 3 === 0;
  const initial = statePairs ? "inputs" : pick<RecCase["initial"]>(op === "LSTM" ? ["absent", "zeros-of-shape", "h-only"] : ["absent", "zeros-of-shape"]);
  const D = dirCount(direction);
  const activations = rng.next() < 0.4 ? null : Array.from({ length: D }, () => drawActivations(op, rng)).flat();
  const stateOuts: RecCase["outputs"] = op === "LSTM" ? ["Y_h", "Y_c"] : ["Y_h"];
  let outputs: RecCase["outputs"];
  if (statePairs) outputs = ["Y", ...stateOuts];
  else {
    const all: RecCase["outputs"] = ["Y", ...stateOuts];
    outputs = all.filter(() => rng.next() < 0.6);
    if (!outputs.length) outputs = [pick(all)];
  }
  const c: RecCase = {
    label: `${label} T=${T} K=${K} H=${H}`,
    op,
    linearBeforeReset: lbr,
    direction,
    layout,
    opset: layout === 1 ? pick([14, 17, 21]) : pick([9, 11, 13, 14, 17, 21]),
    T, K, H,
    bias: pick(["absent", "initializer", "initializer", "slices"]),
    initial,
    sequenceLens: statePairs ? pick(["absent", "empty"]) : pick(["absent", "empty", "full"]),
    peepholes: op === "LSTM" && rng.next() < 0.3 ? "zeros" : "absent",
    activations,
    outputs,
    unusedNamed: rng.next() < 0.5,
    symbolicTime: statePairs || rng.next() < 0.5,
  };
  c.label += ` bias=${c.bias} initial=${c.initial} seq_lens=${c.sequenceLens} opset=${c.opset}${c.activations ? ` act=${c.activations.join("/")}` : ""} out=${c.outputs.join("+")}`;
  return { c, rng };
}

/** Draws of the whole cell x direction x layout product (RNN_ONNX_ROUNDS for more). */
const ROUNDS = Number(process.env.RNN_ONNX_ROUNDS ?? 3);
const CASES: [string, { c: RecCase; rng: Rng }][] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [op, lbr] of CELLS) for (const direction of DIRECTIONS) for (const layout of [0, 1] as const) {
    const drawn = drawCase(op, lbr, direction, layout, CASES.length, round);
    CASES.push([drawn.c.label, drawn]);
  }
}

/** Seeded inputs of a case at batch B: X, then the given states. */
function feedsFor(c: RecCase, inputs: string[], B: number, rng: Rng, T = c.T): Record<string, Feed> {
  const D = dirCount(c.direction);
  const feeds: Record<string, Feed> = {};
  for (const name of inputs) {
    const shape = name === "X" ? [B, T, c.K] : [B, D, c.H];
    feeds[name] = { data: rng.float32Array(shape.reduce((a, b) => a * b, 1), (r) => r.uniform(-1, 1)), shape };
  }
  return feeds;
}

/**
 * For a describe block: the case's graph exported through rnn-wasm (one export, bound at batch 1)
 * and its layout-0 twin on onnxruntime, made before its tests and released after them.
 */
function engines(c: RecCase, weights: RecWeights): { graph: RecGraph; session: ort.InferenceSession; model: Model } {
  const e = {} as { graph: RecGraph; session: ort.InferenceSession; model: Model };
  beforeAll(async () => {
    e.graph = recurrentGraph(c, weights);
    e.session = await ortSession(recurrentGraph(c, weights, { oracle: true }).bytes);
    e.model = await loadModel(await exportBundle(e.graph.bytes, { inputs: { X: [1, c.T, c.K] } }));
  });
  afterAll(async () => {
    e.model?.dispose();
    await e.session?.release();
  });
  return e;
}

describe.each(CASES)("ONNX recurrent node against onnxruntime-node: %s", (_label, { c, rng }) => {
  const weights = recWeights(c, rng.fork("weights"));
  const e = engines(c, weights);

  it("names its inputs and outputs as the graph does", () => {
    expect(e.model.inputs.map((i) => i.name)).toEqual(e.graph.inputs);
    expect(e.model.outputs.map((o) => o.name)).toEqual(c.outputs);
  });

  // a constant sequence_lens holds one length per row of the batch it was written for (here 1)
  const batches = c.sequenceLens === "full" ? [1] : [1, 3];
  it.each(batches)("predict at batch %i matches", async (B) => {
    const r = rng.fork(`predict B=${B}`);
    const feeds = feedsFor(c, e.graph.inputs, B, r);
    const want = await ortRun(e.session, feeds);
    const got = outputsOf(e.model.predict(e.graph.inputs.map((n) => feeds[n] as { data: Float32Array; shape: number[] })));
    expect(got.length).toBe(c.outputs.length);
    c.outputs.forEach((name, k) => {
      log.add(c.op, expectMatch(got[k], want[name], `${c.label}, batch ${B}, output ${name}; ${describeSeed(r)}`));
    });
  });

  if (c.initial === "inputs") it("session with state pairs: 3 chunks, state carried, at batch 1 and 3", async () => {
    const pairs: Record<string, string> = c.op === "LSTM" ? { H0: "Y_h", C0: "Y_c" } : { H0: "Y_h" };
    const stateful = await loadModel(await exportBundle(e.graph.bytes, { inputs: { X: [1, c.T, c.K] }, state: pairs }));
    try {
      expect(stateful.inputs.map((i) => i.name)).toEqual(["X"]);
      expect(stateful.outputs.map((o) => o.name)).toEqual(["Y"]);
      for (const B of [1, 3]) {
        const r = rng.fork(`session B=${B}`);
        const s = stateful.createSession({ batchSize: B });
        const D = dirCount(c.direction);
        const states: Record<string, Feed> = {};
        for (const name of Object.keys(pairs)) states[name] = { data: new Float32Array(B * D * c.H), shape: [B, D, c.H] };
        for (let chunk = 0; chunk < 3; chunk++) {
          const x = feedsFor(c, ["X"], B, r).X;
          const want = await ortRun(e.session, { X: x, ...states });
          for (const [inName, outName] of Object.entries(pairs)) states[inName] = want[outName];
          const got = s.step(x as { data: Float32Array; shape: number[] }) as { data: Float32Array; shape: number[] };
          log.add(`${c.op} session`, expectMatch(got, want.Y, `${c.label}, session batch ${B}, chunk ${chunk}; ${describeSeed(r)}`));
        }
      }
    } finally {
      stateful.dispose();
    }
  });
});

// ------------------------------------------------------------------ activation_alpha / activation_beta

/**
 * ONNX: "the values are consumed in the order of activation functions": only the functions that
 * take an alpha (beta) consume one, so in GRU [Sigmoid, HardSigmoid] the first alpha is the
 * HardSigmoid's; missing values take onnxruntime's defaults (where ONNX agrees).
 */
describe("ONNX recurrent activation_alpha / activation_beta, consumed in the order of the functions that take them", () => {
  const run = async (c: RecCase, alphas: number[], betas: number[]) => {
    const w = recWeights(c, rngFor(`onnx recurrent alpha ${c.op} ${c.activations}`));
    const tweak: NodeTweak = (_g, _i, a) => {
      if (alphas.length) a.activation_alpha = fs(alphas);
      if (betas.length) a.activation_beta = fs(betas);
    };
    const graph = recurrentGraph(c, w, { tweak });
    const r = rngFor(`onnx recurrent alpha input ${c.op}`);
    const x = { data: r.float32Array(2 * c.T * c.K, (v) => v.uniform(-1, 1)), shape: [2, c.T, c.K] };
    const want = await ortOnce(recurrentGraph(c, w, { oracle: true, tweak }).bytes, { X: x });
    const model = await loadModel(await exportBundle(graph.bytes, { inputs: { X: [1, c.T, c.K] } }));
    try {
      log.add("activation parameters", expectMatch(outputsOf(model.predict(x))[0], want.Y, `${c.op} ${c.activations} alpha [${alphas}] beta [${betas}]`));
    } finally {
      model.dispose();
    }
  };
  it("GRU [Sigmoid, HardSigmoid] with HardSigmoid's defaults given: the first alpha / beta are the HardSigmoid's", async () => {
    await run(baseCase({ op: "GRU", linearBeforeReset: 1, activations: ["Sigmoid", "HardSigmoid"] }), [0.2], [0.5]);
  });
  it("LSTM [HardSigmoid, Elu, Elu] with the defaults given for each (alphas 0.2, 1, 1; beta 0.5)", async () => {
    await run(baseCase({ activations: ["HardSigmoid", "Elu", "Elu"] }), [0.2, 1, 1], [0.5]);
  });
  it("values left over after the functions took theirs are ignored, as onnxruntime does", async () => {
    await run(baseCase({ op: "RNN", direction: "bidirectional", activations: ["HardSigmoid", "Tanh"] }), [0.2, 7, 9], [0.5, 3]);
  });
  it("GRU [Sigmoid, HardSigmoid] with alpha 0.3 for the HardSigmoid: runs with 0.3 (and the default beta)", async () => {
    await run(baseCase({ op: "GRU", activations: ["Sigmoid", "HardSigmoid"] }), [0.3], []);
  });
  it("RNN [LeakyRelu] and [Elu] at their default alphas, none given", async () => {
    await run(baseCase({ op: "RNN", direction: "bidirectional", activations: ["LeakyRelu", "Elu"] }), [], []);
  });
  it("bidirectional LSTM, each direction its own functions, the alphas and betas running on from the forward's into the reverse's", async () => {
    await run(baseCase({ direction: "bidirectional", activations: ["HardSigmoid", "ScaledTanh", "Affine", "Sigmoid", "LeakyRelu", "ThresholdedRelu"] }), [0.25, 0.9, 0.6, 0.05, 0.1], [0.45, 1.2, 0.2]);
  });
});

// ------------------------------------------------------------------ every ONNX recurrence option

/** ONNX's recurrent activation functions, and which of them consume an alpha / a beta. */
const ALL_ACTIVATIONS = ["Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"];

/**
 * One direction's functions, each drawn from every ONNX name: the gates' f from those bounded to
 * a gate's range or near it (an unbounded gate over 9 steps overflows in both engines alike and
 * says nothing), the candidate's g and LSTM's h from all of them.
 */
function drawAnyActivations(op: RecOp, rng: Rng): string[] {
  const pick = <T>(xs: T[]) => xs[rng.int(0, xs.length)];
  const gates = ["Sigmoid", "HardSigmoid", "Tanh", "Softsign", "ScaledTanh", "Affine", "Relu", "LeakyRelu", "ThresholdedRelu", "Elu", "Softplus"];
  if (op === "RNN") return [pick(ALL_ACTIVATIONS)];
  const f = pick(gates);
  return op === "LSTM" ? [f, pick(ALL_ACTIVATIONS), pick(ALL_ACTIVATIONS)] : [f, pick(ALL_ACTIVATIONS)];
}

/** An alpha and a beta for every function that takes one, in ONNX's order (scales that keep 9 steps finite). */
function drawParams(names: string[], rng: Rng): { alphas: number[]; betas: number[] } {
  const alphas: number[] = [];
  const betas: number[] = [];
  for (const n of names) {
    const [a, b] = TAKES[n] ?? [false, false];
    if (a) alphas.push(n === "ThresholdedRelu" ? rng.uniform(-0.3, 0.3) : n === "Affine" ? rng.uniform(0.3, 0.9) : rng.uniform(0.1, 1.2));
    if (b) betas.push(n === "HardSigmoid" ? rng.uniform(0.3, 0.7) : rng.uniform(-0.4, 0.6));
  }
  return { alphas, betas };
}

const FEATURE_SIZES = [1, 7, 8, 9, 17];

function drawFeatureCase(op: RecOp, lbr: 0 | 1, direction: Direction, layout: 0 | 1, index: number): { c: RecCase; rng: Rng } {
  const label = `${op}${op === "GRU" ? ` lbr=${lbr}` : ""} ${direction} layout=${layout}`;
  const rng = rngFor(`onnx recurrence features ${label}`);
  const D = dirCount(direction);
  const H = FEATURE_SIZES[index % 5];
  const K = FEATURE_SIZES[(index * 3 + 1) % 5];
  const T = 4 + (index % 5);
  const names = Array.from({ length: D }, () => drawAnyActivations(op, rng)).flat();
  const { alphas, betas } = drawParams(names, rng);
  // lengths at run time in most cases, a constant shorter than T in the others
  const lens: RecCase["sequenceLens"] = index % 4 === 3 ? "short" : "input";
  const c: RecCase = {
    label, op, linearBeforeReset: lbr, direction, layout, opset: layout === 1 ? 17 : 13, T, K, H,
    bias: "initializer", initial: index % 2 === 0 ? "inputs" : "absent",
    sequenceLens: lens, shortSteps: lens === "short" ? rng.int(1, T) : undefined,
    peepholes: op === "LSTM" ? "random" : "absent",
    activations: names, alphas: alphas.length ? alphas : undefined, betas: betas.length ? betas : undefined,
    clip: rng.next() < 0.7 ? rng.uniform(0.5, 3) : undefined,
    inputForget: op === "LSTM" && rng.next() < 0.5,
    outputs: op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"],
    unusedNamed: false, symbolicTime: false,
  };
  c.label += ` T=${T} K=${K} H=${H} act=${names.join("/")}${c.clip !== undefined ? ` clip=${c.clip.toFixed(2)}` : ""}${c.inputForget ? " input_forget" : ""}` +
    ` lens=${lens === "short" ? `const ${c.shortSteps}` : "input"} initial=${c.initial}`;
  return { c, rng };
}

const FEATURE_CASES: [string, { c: RecCase; rng: Rng }][] = [];
for (const [op, lbr] of CELLS) for (const direction of DIRECTIONS) for (const layout of [0, 1] as const) {
  const drawn = drawFeatureCase(op, lbr, direction, layout, FEATURE_CASES.length);
  FEATURE_CASES.push([drawn.c.label, drawn]);
}

/** Lengths for a batch of B: 0 and T among them (batch 1: one of 0, T or between). */
function drawLengths(B: number, T: number, rng: Rng): Int32Array {
  if (B === 1) return Int32Array.of([0, T, rng.int(1, T)][rng.int(0, 3)]);
  return Int32Array.from({ length: B }, (_, b) => (b === 0 ? T : b === 1 ? 0 : rng.int(0, T + 1)));
}

/**
 * The float64 oracle (test/util/onnx-recurrent.ts) on a case's graph interface: X [B, T, K],
 * states [B, D, H] in; Y [B, T, D, H], Y_h / Y_c [B, D, H] out, each direction run on its own.
 */
function float64Outputs(c: RecCase, w: RecWeights, feeds: Record<string, Feed>, B: number): Record<string, { data: Float64Array; shape: number[] }> {
  const { T, K, H } = c;
  const D = dirCount(c.direction);
  const G = GATE_COUNT[c.op];
  const per = c.op === "LSTM" ? 3 : c.op === "GRU" ? 2 : 1;
  const names = c.activations!;
  const slots = activationSlots({ op: c.op, activations: names, alphas: c.alphas, betas: c.betas } as OnnxRecurrentCase);
  const x = feeds.X.data as Float32Array;
  const xt = new Float32Array(T * B * K); // ONNX's [T, B, K]
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) xt.set(x.subarray((b * T + t) * K, (b * T + t + 1) * K), (t * B + b) * K);
  const stateOf = (name: string, d: number) => {
    const s = feeds[name]?.data as Float32Array | undefined;
    return s && Float32Array.from({ length: B * H }, (_, i) => s[(Math.floor(i / H) * D + d) * H + (i % H)]);
  };
  const lens = c.sequenceLens === "input" ? (feeds.lens.data as Int32Array) : c.sequenceLens === "short" ? new Int32Array(B).fill(c.shortSteps!) : undefined;
  const Y = new Float64Array(B * T * D * H);
  const Yh = new Float64Array(B * D * H);
  const Yc = new Float64Array(B * D * H);
  for (let d = 0; d < D; d++) {
    const own = slots.slice(d * per, (d + 1) * per);
    const r = referenceOutputs({
      op: c.op, T, B, inDim: K, units: H, direction: c.direction === "reverse" || d === 1 ? "reverse" : "forward",
      activations: own.map((s) => s.name),
      alphas: own.filter((s) => TAKES[s.name]?.[0]).map((s) => s.alpha),
      betas: own.filter((s) => TAKES[s.name]?.[1]).map((s) => s.beta),
      clip: c.clip, inputForget: c.inputForget, linearBeforeReset: c.linearBeforeReset === 1,
      x: xt,
      W: w.W.subarray(d * G * H * K, (d + 1) * G * H * K),
      R: w.R.subarray(d * G * H * H, (d + 1) * G * H * H),
      bias: c.bias === "absent" ? new Float32Array(2 * G * H) : w.B.subarray(d * 2 * G * H, (d + 1) * 2 * G * H),
      peepholes: c.peepholes === "random" ? w.P.subarray(d * 3 * H, (d + 1) * 3 * H) : undefined,
      lens, h0: stateOf("H0", d), c0: stateOf("C0", d),
    });
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) Y.set(r.Y.subarray((t * B + b) * H, (t * B + b + 1) * H), ((b * T + t) * D + d) * H);
      Yh.set(r.Yh.subarray(b * H, (b + 1) * H), (b * D + d) * H);
      if (r.Yc) Yc.set(r.Yc.subarray(b * H, (b + 1) * H), (b * D + d) * H);
    }
  }
  return { Y: { data: Y, shape: [B, T, D, H] }, Y_h: { data: Yh, shape: [B, D, H] }, Y_c: { data: Yc, shape: [B, D, H] } };
}

describe.each(FEATURE_CASES)("ONNX recurrence options against onnxruntime-node and the float64 oracle: %s", (_label, { c, rng }) => {
  const weights = recWeights(c, rng.fork("weights"));
  const e = engines(c, weights);

  // (batch 5 takes the kernels' batched path, 1 and 3 the per-row one; a constant sequence_lens
  // holds the rows of one batch size for onnxruntime, here 1)
  it.each(c.sequenceLens === "short" ? [1] : [1, 3, 5])("predict at batch %i matches both", async (B) => {
    const r = rng.fork(`predict B=${B}`);
    const feeds = feedsFor(c, e.graph.inputs.filter((n) => n !== "lens"), B, r);
    if (c.sequenceLens === "input") feeds.lens = { data: drawLengths(B, c.T, r), shape: [B] };
    const want = await ortRun(e.session, feeds);
    const ref = float64Outputs(c, weights, feeds, B);
    const got = outputsOf(e.model.predict(e.graph.inputs.map((n) => feeds[n] as { data: Float32Array; shape: number[] })));
    const what = (name: string) => `${c.label}, batch ${B}${feeds.lens ? ` lens [${feeds.lens.data}]` : ""}, output ${name}; ${describeSeed(r)}`;
    c.outputs.forEach((name, k) => {
      log.add(`options ${c.op}`, expectMatch(got[k], want[name], what(name)));
      assertClose(got[k], ref[name], APPROX, `${what(name)} (float64 oracle)`);
    });
  });
});

it("the options matrix draws every ONNX activation, clip, input_forget, peepholes and both kinds of sequence_lens", () => {
  const cs = FEATURE_CASES.map(([, { c }]) => c);
  expect(new Set(cs.flatMap((c) => c.activations!))).toEqual(new Set(ALL_ACTIVATIONS));
  expect(cs.some((c) => c.clip !== undefined) && cs.some((c) => c.inputForget) && cs.some((c) => c.peepholes === "random")).toBe(true);
  for (const direction of DIRECTIONS) expect(new Set(cs.filter((c) => c.direction === direction).map((c) => c.sequenceLens))).toEqual(new Set(["input", "short"]));
});

describe("sequence_lens given at run time: bad lengths fail the call by name and change nothing", () => {
  const c = baseCase({ op: "GRU", direction: "bidirectional", sequenceLens: "input", outputs: ["Y", "Y_h"], initial: "inputs" });
  const w = recWeights(c, rngFor("onnx recurrent bad lengths"));
  const graph = recurrentGraph(c, w);
  const r = rngFor("onnx recurrent bad lengths input");
  const feeds = feedsFor(c, ["X", "H0"], 2, r);
  const call = (model: Model, lens: number[]) => model.predict([feeds.X, feeds.H0, { data: Int32Array.from(lens), shape: [2] }] as { data: Float32Array; shape: number[] }[]);

  it.each([[[3, 6]], [[-1, 2]], [[2, 2 ** 31 - 1]]])("lengths %j: E_VALUE naming sequence_lens and its input; the model runs on", async (lens) => {
    const model = await rnnModel(graph.bytes, { inputs: { X: [1, c.T, c.K] } });
    try {
      const good = outputsOf(call(model, [5, 2]));
      await expectOnnxError(() => call(model, lens), "E_VALUE", /sequence_lens lens/, new RegExp(`sequence length ${lens.find((n) => n < 0 || n > c.T)}`), /outside \[0, 5\]/);
      const again = outputsOf(call(model, [5, 2]));
      again.forEach((o, k) => expect(Array.from(o.data)).toEqual(Array.from(good[k].data)));
      const want = await ortOnce(recurrentGraph(c, w, { oracle: true }).bytes, { ...feeds, lens: { data: Int32Array.of(5, 2), shape: [2] } });
      log.add("lengths", expectMatch(again[0], want.Y, "bidirectional GRU after a refused call"));
    } finally {
      model.dispose();
    }
  });
});

describe("sequence_lens given at run time in a session with state pairs: each chunk's lengths, the state carried", () => {
  it.each(["LSTM", "GRU"] as RecOp[])("%s bidirectional, 3 chunks at batch 4 (lengths 0 and T among them)", async (op) => {
    const c = baseCase({ op, direction: "bidirectional", sequenceLens: "input", initial: "inputs", outputs: op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"], H: 9 });
    const w = recWeights(c, rngFor(`onnx recurrent lens session ${op}`));
    const graph = recurrentGraph(c, w);
    const pairs: Record<string, string> = op === "LSTM" ? { H0: "Y_h", C0: "Y_c" } : { H0: "Y_h" };
    const model = await rnnModel(graph.bytes, { inputs: { X: [1, c.T, c.K] }, state: pairs });
    const session = await ortSession(recurrentGraph(c, w, { oracle: true }).bytes);
    try {
      expect(model.inputs.map((i) => i.name)).toEqual(["X", "lens"]);
      const B = 4;
      const r = rngFor(`onnx recurrent lens session ${op} input`);
      const s = model.createSession({ batchSize: B });
      const states: Record<string, Feed> = {};
      for (const name of Object.keys(pairs)) states[name] = { data: new Float32Array(B * 2 * c.H), shape: [B, 2, c.H] };
      for (let chunk = 0; chunk < 3; chunk++) {
        const x = feedsFor(c, ["X"], B, r).X;
        const lens = { data: drawLengths(B, c.T, r), shape: [B] };
        const want = await ortRun(session, { X: x, lens, ...states });
        for (const [inName, outName] of Object.entries(pairs)) states[inName] = want[outName];
        const got = s.step([x, lens] as { data: Float32Array; shape: number[] }[]) as { data: Float32Array; shape: number[] };
        log.add("lengths", expectMatch(got, want.Y, `${op} session chunk ${chunk}, lengths [${lens.data}]; ${describeSeed(r)}`));
      }
    } finally {
      model.dispose();
      await session.release();
    }
  });
});

// ------------------------------------------------------------------ refused: typed errors

/** A base case to vary: a forward LSTM, layout 1, output Y. */
function baseCase(over: Partial<RecCase>): RecCase {
  return {
    label: "not yet", op: "LSTM", linearBeforeReset: 0, direction: "forward", layout: 1, opset: 17, T: 5, K: 3, H: 4,
    bias: "initializer", initial: "absent", sequenceLens: "absent", peepholes: "absent", activations: null,
    outputs: ["Y"], unusedNamed: false, symbolicTime: false, ...over,
  };
}

/** The case's graph with its recurrent node changed. */
function variant(c: RecCase, tweak: NodeTweak): Uint8Array {
  return recurrentGraph(c, recWeights(c, rngFor(`onnx recurrent not yet ${c.op}`)), { tweak }).bytes;
}

describe("ONNX recurrent nodes the importer refuses: a typed error naming the node and the reason", () => {
  const refused: [string, () => Uint8Array, string, RegExp][] = [
    ["a constant non-zero initial state (its rows would have to be the batch's)", () => variant(baseCase({}), (g, i) => (i[5] = g.init("h_const", { dims: [1, 1, 4], data: [0.1, 0.2, 0.3, 0.4] }))), "E_UNSUPPORTED_OPTION", /initial state/],
    ["a NaN alpha", () => variant(baseCase({ op: "RNN", activations: ["LeakyRelu"] }), (_g, _i, a) => (a.activation_alpha = fs([Number.NaN]))), "E_ONNX", /activation_alpha\[0\] is NaN/],
    ["an infinite beta", () => variant(baseCase({ op: "GRU", activations: ["HardSigmoid", "Tanh"] }), (_g, _i, a) => (a.activation_beta = fs([Infinity]))), "E_ONNX", /activation_beta\[0\] is Infinity/],
    ["an activation ONNX does not define for recurrences (Gelu)", () => variant(baseCase({ op: "RNN", activations: ["Gelu"] }), () => {}), "E_ONNX", /activation Gelu is not one of/],
    // ONNX's default alpha is 1, onnxruntime's 0: neither is taken silently
    ["ThresholdedRelu without its alpha", () => variant(baseCase({ op: "RNN", activations: ["ThresholdedRelu"] }), () => {}), "E_UNSUPPORTED_OPTION", /ThresholdedRelu needs its alpha/],
    ["ScaledTanh with an alpha but no beta", () => variant(baseCase({ op: "GRU", activations: ["Sigmoid", "ScaledTanh"] }), (_g, _i, a) => (a.activation_alpha = fs([1.5]))), "E_UNSUPPORTED_OPTION", /ScaledTanh needs its beta/],
    ["clip 0", () => variant(baseCase({}), (_g, _i, a) => (a.clip = f(0))), "E_ONNX", /clip is 0/],
    ["peepholes computed at run time", () => variant(baseCase({}), (g, i) => (i[7] = g.input("P_in", [1, 12]))), "E_UNSUPPORTED_OPTION", /peepholes \(P\) computed at run time/],
    ["peepholes of the wrong size", () => variant(baseCase({}), (g, i) => (i[7] = g.init("P_short", { dims: [1, 8], data: new Float32Array(8).fill(0.5) }))), "E_ONNX", /P \[1,8\] must be \[1, 12\]/],
    ["a constant sequence_lens longer than the sequence", () => variant(baseCase({}), (g, i) => (i[4] = g.init("long", { dims: [1], data: [6], type: "int32" }))), "E_ONNX", /sequence_lens\[0\] is 6, outside \[0, 5\]/],
    ["a constant sequence_lens of 0 for every row", () => variant(baseCase({}), (g, i) => (i[4] = g.init("none", { dims: [1], data: [0], type: "int32" }))), "E_UNSUPPORTED_OPTION", /sequence_lens is 0 for every row/],
    ["a constant sequence_lens differing per row (it holds the rows of one batch size)", () => variant(baseCase({}), (g, i) => (i[4] = g.init("rows", { dims: [2], data: [5, 3], type: "int32" }))), "E_UNSUPPORTED_OPTION", /different lengths per row \(\[5,3\]\).*graph input/],
    ["a float sequence_lens input", () => variant(baseCase({}), (g, i) => (i[4] = g.input("flens", ["batch"]))), "E_ONNX", /sequence_lens must be an integer tensor/],
  ];
  it.each(refused)("%s", async (_what, bytes, code, reason) => {
    await expectOnnxError(() => exportBundle(bytes(), { inputs: { X: [1, 5, 3] } }), code, /node rnn \((LSTM|GRU|RNN)\)/, reason);
  });

  it("sequence_lens given at run time in a graph exported for one batch size (layout 0 as the interface): refused by name", async () => {
    const c = baseCase({ layout: 0, sequenceLens: "input" });
    const bytes = recurrentGraph(c, recWeights(c, rngFor("onnx recurrent native lens")), { native: true }).bytes;
    await expectOnnxError(() => exportBundle(bytes, { inputs: { X: [5, 2, 3] } }), "E_UNSUPPORTED_OPTION", /node rnn \(LSTM\)/, /sequence_lens computed at run time in a graph exported for one batch size/);
  });
});

// ------------------------------------------------------------------ one batch size (fixed-batch fallback)

/**
 * ONNX's own layout 0 as the graph's interface (X [T, B, K], initial states [D, B, H], outputs
 * Y [T, D, B, H], Y_h, Y_c), as torch.onnx.export writes a batch_first=False module: the batch
 * is not the first axis, so the export is for the batch size the inputs are bound to and takes
 * the graph's own shapes.
 */
const NATIVE: [string, RecCase][] = (["LSTM", "GRU", "RNN"] as RecOp[]).flatMap((op) => (["forward", "bidirectional"] as Direction[]).map((direction, k): [string, RecCase] => {
  const c = baseCase({ op, linearBeforeReset: 1, direction, layout: 0, T: 7, K: 9, H: 8 + k, initial: "inputs", outputs: op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"] });
  return [`${op} ${direction}`, { ...c, label: `native ${op} ${direction}` }];
}));

describe.each(NATIVE)("ONNX %s in its own layout 0 (time-major X, states [D, B, H]) exported for one batch size", (_name, c) => {
  const w = recWeights(c, rngFor(`onnx recurrent ${c.label}`));
  const graph = recurrentGraph(c, w, { native: true });
  const D = dirCount(c.direction);
  const bound = (B: number) => Object.fromEntries(graph.inputs.map((n) => [n, n === "X" ? [c.T, B, c.K] : [D, B, c.H]]));

  it.each([1, 3])("batch %i: every output matches, shapes as the graph's; another batch size is refused", async (B) => {
    const model = await loadModel(await exportBundle(graph.bytes, { inputs: bound(B) }));
    try {
      expect(model.inputs.map((i) => i.shape)).toEqual(Object.values(bound(B)));
      const r = rngFor(`onnx recurrent ${c.label} B=${B}`);
      const feeds: Record<string, Feed> = Object.fromEntries(Object.entries(bound(B)).map(([n, shape]) => [n, { data: r.float32Array(shape.reduce((a, b) => a * b, 1), (v) => v.uniform(-1, 1)), shape }]));
      const want = await ortOnce(graph.bytes, feeds);
      const got = outputsOf(model.predict(graph.inputs.map((n) => feeds[n] as { data: Float32Array; shape: number[] })));
      c.outputs.forEach((name, k) => log.add("one batch size", expectMatch(got[k], want[name], `${c.label} batch ${B}, ${name}; ${describeSeed(r)}`)));
      const other = Object.entries(bound(B === 1 ? 2 : 1)).map(([, shape]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape }));
      await expectOnnxError(() => model.predict(other), "E_SHAPE");
    } finally {
      model.dispose();
    }
  });

  // build.ts takes the example batch from the first input's first dim: here that is T, so H0 is
  // made [D, T, H] (refused: "initial_h [D, T, H] does not fit [D, 3, H]")
  it("batch 3 bound on X alone (the states' batch follows X's): exports and runs", async () => {
    const model = await loadModel(await exportBundle(graph.bytes, { inputs: { X: [c.T, 3, c.K] } }));
    expect(model.inputs.map((i) => i.shape)).toEqual(Object.values(bound(3)));
    model.dispose();
  });
});

afterAll(() => log.print("recurrent.test.ts"));
