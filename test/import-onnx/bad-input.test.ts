/**
 * Bad ONNX input: every failure is an RnnWasmError with a code and a message naming what was
 * wrong (the file, the node and its op, the input or the binding), never a TypeError, a trap, a
 * hang or an unbounded allocation; a failed export or call leaves other models working. Then a
 * bounded, seeded fuzzer: byte mutations and truncations of the Silero file and of a test graph,
 * and structural mutations (op types, attributes, dims, inputs, nodes) of three test graphs whose
 * survivors run against onnxruntime-node wherever it accepts the mutated file too.
 * RNN_ONNX_FUZZ=<rounds> runs more; RNN_ONNX_FUZZ_DUMP=<i> writes structural mutation i to a file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel, RnnWasmError } from "../../src/index.ts";
import { dataFile } from "../util/data.ts";
import { rngFor, describeSeed } from "../util/prng.ts";
import { f, GraphBuilder, tensorProto } from "./graph.ts";
import { expectMatch, expectOnnxError, ortOnce, outputsOf } from "./oracle.ts";
import { torchParams, torchRnn } from "./torch.ts";

const SILERO = "real-models/onnx-silero-vad/silero_vad_v5.onnx";
const SILERO_BINDINGS = { inputs: { input: [1, 576] }, constants: { sr: 16000 }, state: { state: "stateN" } };

/** X [batch, 4, 3] -> one node -> Y. */
function oneNode(op: string, inputs: string[], attrs: Record<string, Parameters<GraphBuilder["node"]>[3] extends infer A ? A extends Record<string, infer V> ? V : never : never> = {}, prep?: (g: GraphBuilder) => void, opset = 17): Uint8Array {
  const g = new GraphBuilder();
  g.input("X", ["batch", 4, 3]);
  prep?.(g);
  g.node(op, inputs, ["Y"], attrs, "the_node");
  g.output("Y");
  return g.model({ opset });
}

describe("files that are not readable ONNX models", () => {
  let silero: Uint8Array;
  beforeAll(() => {
    silero = new Uint8Array(readFileSync(dataFile(SILERO)));
  });

  it("random bytes and an empty graph: E_ONNX naming the file", async () => {
    const rng = rngFor("onnx bad bytes");
    const noise = Uint8Array.from({ length: 300 }, () => rng.int(0, 256));
    noise[0] = 0x08; // looks like ir_version, so it is taken for protobuf
    await expectOnnxError(() => exportBundle(noise), "E_ONNX", /model\.onnx/);
    await expectOnnxError(() => exportBundle(new Uint8Array([0x08, 0x07])), "E_ONNX", /no graph/);
  });

  it.each([0.001, 0.1, 0.5, 0.9, 0.9999])("the Silero file truncated at %f of its length: a typed error", async (at) => {
    const cut = silero.subarray(0, Math.floor(silero.length * at));
    const e = await expectOnnxError(() => exportBundle(cut, SILERO_BINDINGS), "E_ONNX");
    expect(e.message.length).toBeGreaterThan(10);
  });

  it("a path that does not exist: E_IO naming it", async () => {
    await expectOnnxError(() => exportBundle("/nonexistent/dir/model.onnx"), "E_IO", /nonexistent\/dir\/model\.onnx/, /no such file/);
  });

  it("weights in external data: refused by name (nothing outside the file is read)", async () => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    const w = tensorProto("W", { dims: [3, 2], data: new Float32Array(6) });
    delete w.rawData;
    w.dataLocation = 1;
    w.externalData = [{ key: "location", value: "../../../../etc/passwd" }, { key: "length", value: "24" }];
    g.initializers.push(w);
    g.node("MatMul", ["X", "W"], ["Y"]);
    g.output("Y");
    await expectOnnxError(() => exportBundle(g.model()), "E_ONNX", /\bW\b/, /external data/);
  });
});

describe("absurd sizes: refused before anything is allocated", () => {
  const huge = (dims: number[]) => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    const w = tensorProto("W", { dims: [1], data: [1] });
    w.dims = dims;
    g.initializers.push(w);
    g.node("Add", ["X", "W"], ["Y"]);
    g.output("Y");
    return g.model();
  };
  it.each([
    ["2^40 elements", [1 << 20, 1 << 20], /over the limit/],
    ["dims whose product passes 2^53", [2 ** 31, 2 ** 31, 2 ** 31], /over the limit/],
    ["a negative dim", [-3, 1], /invalid dims/],
    ["dims that do not match the raw data", [7, 3], /raw data holds 4 bytes/],
  ] as [string, number[], RegExp][])("an initializer with %s: E_ONNX naming it", async (_what, dims, reason) => {
    await expectOnnxError(() => exportBundle(huge(dims)), "E_ONNX", /\bW\b/, reason);
  });

  const bigShape = (op: string) => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    const shape = g.ints([1 << 15, 1 << 15]);
    let v: string;
    if (op === "ConstantOfShape") v = g.op("ConstantOfShape", [shape]);
    else if (op === "Expand") v = g.op("Expand", [g.init("one", { dims: [1], data: [1] }), shape]);
    else if (op === "Tile") v = g.op("Tile", [g.init("row", { dims: [1, 3], data: [1, 2, 3] }), g.ints([1 << 15, 1 << 15])]);
    else if (op === "Range") v = g.op("Range", [g.ints([0], true), g.ints([2 ** 40], true), g.ints([1], true)]);
    else if (op === "Add (broadcast)") v = g.op("Add", [g.init("col", { dims: [1 << 15, 1], data: new Float32Array(1 << 15) }), g.init("rowv", { dims: [1, 1 << 15], data: new Float32Array(1 << 15) })]);
    else v = g.op("MatMul", [g.init("a", { dims: [1 << 15, 1], data: new Float32Array(1 << 15) }), g.init("b", { dims: [1, 1 << 15], data: new Float32Array(1 << 15) })]);
    g.node("Add", ["X", g.op("ReduceSum", [v], { keepdims: 0 })], ["Y"]);
    g.output("Y");
    return g.model({ opset: 12 });
  };
  it.each(["ConstantOfShape", "Expand", "Tile", "Range", "Add (broadcast)", "MatMul"])("%s folding a constant of 2^30 elements: E_ONNX naming the node", async (op) => {
    await expectOnnxError(() => exportBundle(bigShape(op)), "E_ONNX", /node /, /over the limit|elements/);
  });
});

describe("runtime tensors made huge by a few bytes of shape", () => {
  const padded = (build: (g: GraphBuilder) => string) => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    g.node("Identity", [build(g)], ["Y"]);
    g.output("Y");
    return g.model({ opset: 13 });
  };
  it.each([
    ["Pad by 2^28", (g: GraphBuilder) => g.op("Pad", ["X", g.ints([0, 0, 0, 1 << 28])])],
    ["Expand to 2^28 rows", (g: GraphBuilder) => g.op("Expand", [g.op("Unsqueeze", ["X", g.ints([1])]), g.ints([1, 1 << 28, 3])])],
    ["Tile by 2^20", (g: GraphBuilder) => g.op("Tile", ["X", g.ints([1, 1 << 20])])],
  ] as [string, (g: GraphBuilder) => string][])("%s: refused at export, naming the node", async (what, build) => {
    await expectOnnxError(() => exportBundle(padded(build)), what.startsWith("Tile") ? "E_UNSUPPORTED_OPTION" : "E_ONNX", /(Pad|Expand|Tile)_\d/, /limit|over/);
  });

  // Between the spec's window bound (2^20, src/model) and the runtime tensor bound (2^28 per
  // row): the export checks what it wrote against the bundle validator, so the pad is refused
  // there and not by loadModel as a corrupt bundle.
  it.each([
    ["Pad by 2^21", (g: GraphBuilder) => g.op("Pad", ["X", g.ints([0, 0, 0, 1 << 21])])],
    ["Expand to 2^21 rows", (g: GraphBuilder) => g.op("Expand", [g.op("Unsqueeze", ["X", g.ints([1])]), g.ints([1, 1 << 21, 3])])],
  ] as [string, (g: GraphBuilder) => string][])("%s: refused at export, not at load", async (_what, build) => {
    await expectOnnxError(() => exportBundle(padded(build)), "E_UNSUPPORTED_OPTION");
  });
});

describe("operators the importer does not run: E_UNSUPPORTED_LAYER naming the op, the node and why it did not fold", () => {
  it("an operator on a runtime tensor", async () => {
    await expectOnnxError(() => exportBundle(oneNode("NonZero", ["X"])), "E_UNSUPPORTED_LAYER", /node the_node \(NonZero\)/, /operator NonZero is not supported/, /did not fold/, /\bX\b.*run time/);
  });
  it("an operator on constants only", async () => {
    const bytes = oneNode("Add", ["X", "c"], {}, (g) => g.node("Hardmax", [g.init("k", { dims: [2], data: [1, 2] })], ["c"], {}, "const_node"));
    await expectOnnxError(() => exportBundle(bytes), "E_UNSUPPORTED_LAYER", /node const_node \(Hardmax\)/, /even on constants/);
  });
  it.each(["constructor", "__proto__", "toString"])("an op type named %s (the registry has no prototype)", async (op) => {
    await expectOnnxError(() => exportBundle(oneNode(op, ["X"])), "E_UNSUPPORTED_LAYER", new RegExp(`operator ${op} is not supported`));
  });
  it("an operator of another domain", async () => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    g.nodes.push({ opType: "FusedMatMul", domain: "com.microsoft", input: ["X", "X"], output: ["Y"], name: "ms_node" });
    g.output("Y");
    await expectOnnxError(() => exportBundle(g.model({ extraOpsets: [{ domain: "com.microsoft", version: 1 }] })), "E_UNSUPPORTED_LAYER", /ms_node/, /com\.microsoft/);
  });
  it("an If on a runtime value: its condition cannot fold", async () => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    const cond = g.op("Greater", [g.op("ReduceSum", ["X"], { keepdims: 0 }), g.init("zero", { dims: [], data: [0] })]);
    g.node("If", [cond], ["Y"], { then_branch: GraphBuilder.branch("then", (b) => b.op("Relu", ["X"])), else_branch: GraphBuilder.branch("else", (b) => b.op("Neg", ["X"])) }, "the_if");
    g.output("Y");
    // Greater on runtime tensors is where it stops: the comparison itself cannot fold
    await expectOnnxError(() => exportBundle(g.model()), "E_UNSUPPORTED_LAYER", /(Greater|If)/, /run time/);
  });
  it("an If whose condition is a runtime input", async () => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    g.input("flag", []);
    g.node("If", ["flag"], ["Y"], { then_branch: GraphBuilder.branch("then", (b) => b.op("Relu", ["X"])), else_branch: GraphBuilder.branch("else", (b) => b.op("Neg", ["X"])) }, "the_if");
    g.output("Y");
    await expectOnnxError(() => exportBundle(g.model()), "E_UNSUPPORTED_LAYER", /node the_if \(If\)/, /condition is computed at run time/, /--const/);
  });
});

describe("an If whose condition folds once an input is bound (--const), as Silero's on the sample rate", () => {
  function ifOnRate(): Uint8Array {
    const g = new GraphBuilder();
    g.input("X", ["batch", 4]);
    g.input("sr", [], "int64");
    const cond = g.op("Equal", ["sr", g.ints([16000], true)]);
    const then = GraphBuilder.branch("then", (b) => b.op("Mul", ["X", b.init("k", { dims: [], data: [2] })]));
    g.node("If", [cond], ["Y"], { then_branch: then, else_branch: GraphBuilder.branch("else", (b) => b.op("Tanh", ["X"])) }, "rate_if");
    g.output("Y");
    return g.model();
  }
  it.each([16000, 8000])("sr=%i takes the branch onnxruntime takes", async (sr) => {
    const bytes = ifOnRate();
    const model = await loadModel(await exportBundle(bytes, { constants: { sr } }));
    const x = { data: Float32Array.of(-1, 0.5, 2, 3, 0.25, -0.75, 1, 0), shape: [2, 4] };
    const want = await ortOnce(bytes, { X: x, sr: { data: BigInt64Array.of(BigInt(sr)), shape: [] } });
    expectMatch(outputsOf(model.predict(x))[0], want.Y, `If on sr=${sr}`);
    model.dispose();
  });
  it("sr left unbound: the If is refused naming it and how to bind it", async () => {
    await expectOnnxError(() => exportBundle(ifOnRate()), "E_UNSUPPORTED_LAYER", /\(Equal\)/, /\bsr is computed at run time/, /--const/);
  });
});

describe("malformed nodes: E_ONNX / E_UNSUPPORTED_OPTION naming the node, never a TypeError", () => {
  const int = (v: number[]) => (g: GraphBuilder, name: string) => g.init(name, { dims: [v.length], data: v, type: "int64" });
  const cases: [string, () => Uint8Array, string, RegExp][] = [
    ["Concat of nothing", () => oneNode("Concat", [], { axis: 0 }), "E_ONNX", /Concat/],
    ["Concat of tensors of different ranks", () => oneNode("Concat", ["X", "c"], { axis: 1 }, (g) => g.init("c", { dims: [3], data: [1, 2, 3] })), "E_ONNX", /Concat/],
    ["Transpose with a perm that is not a permutation", () => oneNode("Transpose", ["X"], { perm: [0, 0, 1] }), "E_ONNX", /perm/],
    ["Reshape to an impossible shape", () => oneNode("Reshape", ["X", "s"], {}, (g) => int([0, 5])(g, "s")), "E_ONNX", /reshape/],
    ["Reshape with two -1", () => oneNode("Reshape", ["X", "s"], {}, (g) => int([0, -1, -1])(g, "s")), "E_ONNX", /reshape/],
    ["Slice with a step of 0", () => oneNode("Slice", ["X", "a", "b", "c", "d"], {}, (g) => { int([0])(g, "a"); int([2])(g, "b"); int([1])(g, "c"); int([0])(g, "d"); }), "E_ONNX", /step of 0/],
    ["Gather out of range", () => oneNode("Gather", ["X", "i"], { axis: 1 }, (g) => int([9])(g, "i")), "E_ONNX", /index 9/],
    ["Split sizes that do not add up", () => oneNode("Split", ["X", "s"], { axis: 1 }, (g) => int([1, 2])(g, "s")), "E_ONNX", /split sizes/],
    ["Softmax on an axis outside the tensor", () => oneNode("Softmax", ["X"], { axis: 5 }), "E_ONNX", /axis 5/],
    ["ReduceMean on an axis outside the tensor", () => oneNode("ReduceMean", ["X"], { axes: [-4] }, undefined, 13), "E_ONNX", /axis -4/],
    ["Unsqueeze without axes", () => oneNode("Unsqueeze", ["X"]), "E_ONNX", /axes/],
    ["Gemm with a 1-D weight", () => oneNode("Gemm", ["X2", "w"], {}, (g) => { g.node("Flatten", ["X"], ["X2"]); g.init("w", { dims: [12], data: new Float32Array(12) }); }), "E_ONNX", /Gemm/],
    ["MatMul by a weight of the wrong size", () => oneNode("MatMul", ["X", "w"], {}, (g) => g.init("w", { dims: [4, 2], data: new Float32Array(8) })), "E_ONNX", /cannot multiply/],
    ["Conv with 2-D kernels", () => oneNode("Conv", ["X", "w"], {}, (g) => g.init("w", { dims: [2, 4, 3, 3], data: new Float32Array(72) })), "E_UNSUPPORTED_OPTION", /1-D/],
    ["Conv with a zero stride", () => oneNode("Conv", ["X", "w"], { strides: [0] }, (g) => g.init("w", { dims: [2, 4, 2], data: new Float32Array(16) })), "E_ONNX", /strides/],
    ["Conv whose weights do not fit the channels", () => oneNode("Conv", ["X", "w"], {}, (g) => g.init("w", { dims: [2, 5, 2], data: new Float32Array(20) })), "E_ONNX", /do not fit/],
    ["Pad with pads of the wrong length", () => oneNode("Pad", ["X", "p"], {}, (g) => int([1, 1])(g, "p")), "E_ONNX", /pads/],
    ["Pad in an unknown mode", () => oneNode("Pad", ["X", "p"], { mode: "wrap" }, (g) => int([0, 0, 1, 0, 0, 1])(g, "p")), "E_UNSUPPORTED_OPTION", /wrap/],
    ["LSTM without hidden_size", () => oneNode("LSTM", ["X", "W", "R"], {}, (g) => { g.init("W", { dims: [1, 8, 3], data: new Float32Array(24) }); g.init("R", { dims: [1, 8, 2], data: new Float32Array(16) }); }), "E_ONNX", /hidden_size/],
    ["LSTM whose W does not fit hidden_size", () => oneNode("LSTM", ["X", "W", "R"], { hidden_size: 3 }, (g) => { g.init("W", { dims: [1, 8, 3], data: new Float32Array(24) }); g.init("R", { dims: [1, 8, 2], data: new Float32Array(16) }); }), "E_ONNX", /do not fit/],
    ["LSTM in an unknown direction", () => oneNode("LSTM", ["X", "W", "R"], { hidden_size: 2, direction: "sideways" }, (g) => { g.init("W", { dims: [1, 8, 3], data: new Float32Array(24) }); g.init("R", { dims: [1, 8, 2], data: new Float32Array(16) }); }), "E_ONNX", /sideways/],
    ["LSTM with too few activations", () => oneNode("LSTM", ["X", "W", "R"], { hidden_size: 2, layout: 1, activations: ["Sigmoid"] }, (g) => { g.init("W", { dims: [1, 8, 3], data: new Float32Array(24) }); g.init("R", { dims: [1, 8, 2], data: new Float32Array(16) }); }), "E_ONNX", /activations/],
    ["a node reading a value computed later (a cycle)", () => { const g = new GraphBuilder(); g.input("X", ["batch", 3]); g.node("Add", ["X", "Z"], ["Y"], {}, "first"); g.node("Relu", ["Y"], ["Z"], {}, "second"); g.output("Y"); return g.model(); }, "E_ONNX", /node first \(Add\): input Z is not computed/],
    ["an output nobody computes", () => { const g = new GraphBuilder(); g.input("X", ["batch", 3]); g.node("Relu", ["X"], ["Y"]); g.output("Q"); return g.model(); }, "E_ONNX", /output Q is never computed/],
    ["BatchNormalization with a missing statistic", () => oneNode("BatchNormalization", ["X", "s", "b", "m"], {}, (g) => { for (const n of ["s", "b", "m"]) g.init(n, { dims: [4], data: [1, 1, 1, 1] }); }), "E_ONNX", /missing|var/],
    ["Clip with a bound computed at run time", () => oneNode("Clip", ["X", "X"]), "E_UNSUPPORTED_OPTION", /bound is computed at run time/],
    ["Dropout whose mask is used", () => { const g = new GraphBuilder(); g.input("X", ["batch", 3]); g.node("Dropout", ["X"], ["Y", "mask"], {}, "drop"); g.node("Cast", ["mask"], ["Z"], { to: 1 }); g.output("Y"); g.output("Z"); return g.model(); }, "E_UNSUPPORTED_OPTION", /mask/],
  ];
  it.each(cases)("%s", async (_what, bytes, code, reason) => {
    await expectOnnxError(() => exportBundle(bytes()), code, reason);
  });
});

describe("bindings that do not fit the graph: E_ARGUMENT naming the flag, the input and what fits", () => {
  const silero = () => dataFile(SILERO);
  it.each([
    ["--const for an input the graph lacks", { ...SILERO_BINDINGS, constants: { sample_rate: 16000 } }, [/--const sample_rate/, /no input sample_rate/, /input, state, sr/]],
    ["--const that is not a finite number", { ...SILERO_BINDINGS, constants: { sr: Number.NaN } }, [/--const sr/, /finite/]],
    ["--input for an input the graph lacks", { ...SILERO_BINDINGS, inputs: { audio: [1, 576] } }, [/--input audio/, /no input audio/]],
    ["--input of the wrong rank", { ...SILERO_BINDINGS, inputs: { input: [1, 24, 24] } }, [/--input input/, /3 dims/, /declares 2/]],
    ["--input with a zero dim", { ...SILERO_BINDINGS, inputs: { input: [1, 0] } }, [/--input input/, /positive integer/]],
    ["--input with a fractional dim", { ...SILERO_BINDINGS, inputs: { input: [1, 57.5] } }, [/--input input/, /positive integer/]],
    ["--state whose input the graph lacks", { ...SILERO_BINDINGS, state: { h: "stateN" } }, [/--state h=stateN/, /no input h/]],
    ["--state whose output the graph lacks", { ...SILERO_BINDINGS, state: { state: "hn" } }, [/--state state=hn/, /no output hn/]],
    ["--state pairing tensors of different shapes", { ...SILERO_BINDINGS, state: { state: "output" } }, [/--state state=output/, /shapes differ/]],
  ] as [string, object, RegExp[]][])("%s", async (_what, opts, reasons) => {
    await expectOnnxError(() => exportBundle(silero(), opts), "E_ARGUMENT", ...reasons);
  });

  // a bound size replacing a fixed declared one would run a graph onnxruntime refuses
  it("a fixed dim bound to another size: refused, naming the input, the dim and both sizes", async () => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 5, 3]);
    g.node("Relu", ["X"], ["Y"]);
    g.output("Y");
    await expectOnnxError(() => exportBundle(g.model(), { inputs: { X: [1, 6, 3] } }), "E_ARGUMENT", /--input X/, /\b5\b/, /\b6\b/);
  });

  it("an input with no declared shape and no --input: refused, saying how to give it", async () => {
    const g = new GraphBuilder();
    g.input("X", null);
    g.node("Relu", ["X"], ["Y"]);
    g.output("Y");
    await expectOnnxError(() => exportBundle(g.model()), "E_ARGUMENT", /input X has no declared shape/, /--input X=/);
  });

  // checked before the walk: the --const value in place of the state would fail deep inside (an If branch)
  it("--state on an input bound with --const: E_ARGUMENT naming the input", async () => {
    await expectOnnxError(() => exportBundle(silero(), { ...SILERO_BINDINGS, constants: { sr: 16000, state: 0 } }), "E_ARGUMENT", /--state state/, /--const/);
  });

  it("an input of type string: E_ARGUMENT naming it", async () => {
    const g = new GraphBuilder();
    g.inputs.push({ name: "S", type: { tensorType: { elemType: 8, shape: { dim: [{ dimValue: 2 }] } } } });
    g.input("X", ["batch", 3]);
    g.node("Relu", ["X"], ["Y"]);
    g.output("Y");
    await expectOnnxError(() => exportBundle(g.model()), "E_ARGUMENT", /\bS\b/, /string/);
  });

  it("bindings on a source that is not ONNX", async () => {
    await expectOnnxError(() => exportBundle(new Uint8Array([0x7b, 0x7d]), { constants: { sr: 1 } }), "E_ARGUMENT", /not an \.onnx model/);
  });
});

describe("a failed call changes nothing", () => {
  it("wrong input shapes are refused with E_SHAPE, and the model and its sessions keep working", async () => {
    const bytes = await exportBundle(dataFile(SILERO), SILERO_BINDINGS);
    const model = await loadModel(bytes);
    const other = await loadModel(bytes);
    try {
      const rng = rngFor("onnx failed call");
      const x = { data: rng.float32Array(576, (r) => r.uniform(-0.3, 0.3)), shape: [1, 576] };
      const s = model.createSession();
      const before = (s.step(x) as { data: Float32Array }).data[0];
      await expectOnnxError(() => model.predict({ data: new Float32Array(500), shape: [1, 500] }), "E_SHAPE", /input/);
      await expectOnnxError(() => s.step({ data: new Float32Array(576 * 2), shape: [2, 576] }), "E_SHAPE");
      await expectOnnxError(() => model.predict([x, x]), "E_SHAPE");
      await expectOnnxError(() => exportBundle(dataFile(SILERO), { ...SILERO_BINDINGS, constants: { rate: 1 } }), "E_ARGUMENT");
      const ref = other.createSession();
      ref.step(x);
      expect((s.step(x) as { data: Float32Array }).data[0]).toBe((ref.step(x) as { data: Float32Array }).data[0]);
      expect(Number.isFinite(before)).toBe(true);
    } finally {
      model.dispose();
      other.dispose();
    }
  });

  it("NaN in an input is refused, not passed on as a NaN probability", async () => {
    const model = await loadModel(await exportBundle(dataFile(SILERO), SILERO_BINDINGS));
    try {
      const x = new Float32Array(576);
      x[100] = Number.NaN;
      const e = await expectOnnxError(() => model.createSession().step({ data: x, shape: [1, 576] }), "E_VALUE");
      expect(e.message).toMatch(/NaN|finite/);
    } finally {
      model.dispose();
    }
  });
});

// ------------------------------------------------------------------ fuzzing (seeded, bounded)

/** Findings of the fuzzers that are typed but wrong: a bundle the exporter wrote that its own loader refuses, a result onnxruntime disagrees with. */
const defects: string[] = [];

/**
 * What an export of a mutated file may do: succeed (then load and, with `input`, run against
 * onnxruntime where onnxruntime accepts the file too), or throw an RnnWasmError. Anything else
 * throws (the test fails with the mutation's seed).
 */
async function survives(bytes: Uint8Array, opts: object, what: string, input?: { name: string; data: Float32Array; shape: number[] }): Promise<string> {
  let bundle: Uint8Array;
  try {
    bundle = await exportBundle(bytes, opts);
  } catch (e) {
    if (e instanceof RnnWasmError) return e.code;
    throw new Error(`${what}: export threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
  let model;
  try {
    model = await loadModel(bundle);
  } catch (e) {
    if (e instanceof RnnWasmError) {
      defects.push(`${what}: the exported bundle fails to load: ${e.code}: ${e.message}`);
      return `load ${e.code}`;
    }
    throw new Error(`${what}: the exported bundle failed to load with ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
  try {
    if (!input) return "ok";
    let want: Record<string, { data: Float32Array; shape: number[] }>;
    try {
      want = await ortOnce(bytes, { [input.name]: input });
    } catch {
      return "ok (onnxruntime refuses the file)";
    }
    let got;
    try {
      got = outputsOf(model.predict(input));
    } catch (e) {
      if (!(e instanceof RnnWasmError)) throw new Error(`${what}: predict threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
      return `predict ${e.code}`;
    }
    const names = model.outputs.map((o) => o.name);
    names.forEach((n, k) => {
      try {
        expectMatch(got[k], want[n], `${what}, output ${n}`);
      } catch (e) {
        defects.push((e as Error).message);
      }
    });
    return "ok, matches onnxruntime";
  } finally {
    model.dispose();
  }
}

/** Small graphs with recurrent layers and the ops around them, for structural mutations (X [batch, 6, 4] in each). */
function fuzzSeedGraph(which: number): onnxProto.onnx.IModelProto {
  if (which === 1) {
    // a torch.onnx.export LSTM (2 layers, bidirectional, unfolded weights) with fc(h_n[-1])
    const o = { cell: "LSTM", inputSize: 4, hiddenSize: 3, numLayers: 2, bidirectional: true, batchFirst: true, folded: false, opset: 13, seq: 6 } as const;
    const g = new GraphBuilder();
    const r = torchRnn(g, g.input("X", ["batch", 6, 4]), o, torchParams(o, rngFor("onnx fuzz seed 1")));
    g.node("Gemm", [g.op("Gather", [r.hn, g.ints([-1], true)], { axis: 0 }), g.init("fc", { dims: [2, 3], data: [0.1, -0.2, 0.3, 0.4, 0.5, -0.6] })], ["Y"], { transB: 1 });
    g.output("Y");
    return onnxProto.onnx.ModelProto.decode(g.model({ opset: 13 }));
  }
  if (which === 2) {
    // data movement and products: Slice, Split, Concat, Unsqueeze, MatMul of runtime tensors, Softmax, Where on constants
    const g = new GraphBuilder();
    g.input("X", ["batch", 6, 4]);
    const [a, b] = g.node("Split", ["X", g.ints([2, 4])], 2, { axis: 1 });
    const s = g.op("Slice", [b, g.ints([2]), g.ints([4]), g.ints([1]), g.ints([1])]);
    const m = g.op("MatMul", [g.op("Transpose", [a], { perm: [0, 2, 1] }), s]);
    const w = g.op("Where", [g.constant({ dims: [4], data: [1, 0, 1, 0], type: "bool" }), g.init("p", { dims: [4], data: [1, 2, 3, 4] }), g.init("q", { dims: [4], data: [-1, -2, -3, -4] })]);
    const c = g.op("Concat", [m, g.op("Unsqueeze", [g.op("ReduceMax", ["X"], { axes: [1], keepdims: 0 }), g.ints([2])])], { axis: 2 });
    g.node("Softmax", [g.op("Mul", [c, g.op("Unsqueeze", [w, g.ints([0, 2])])])], ["Y"], { axis: 1 });
    g.output("Y");
    return onnxProto.onnx.ModelProto.decode(g.model({ opset: 13 }));
  }
  const g = new GraphBuilder();
  g.input("X", ["batch", 6, 4]);
  const t = g.op("Transpose", ["X"], { perm: [1, 0, 2] });
  g.init("W", { dims: [1, 12, 4], data: new Float32Array(48).fill(0.1) });
  g.init("R", { dims: [1, 12, 4], data: new Float32Array(48).fill(0.05) });
  const [y] = g.node("GRU", [t, "W", "R"], 2, { hidden_size: 4, linear_before_reset: 1 });
  const s = g.op("Squeeze", [y, g.ints([1])]);
  const p = g.op("Pad", [g.op("Transpose", [s], { perm: [1, 2, 0] }), g.ints([0, 0, 1, 0, 0, 1])], { mode: "reflect" });
  const c = g.op("Conv", [p, g.init("cw", { dims: [2, 4, 3], data: new Float32Array(24).fill(0.2) })], { pads: [0, 0] });
  const r = g.op("ReduceMean", [g.op("Relu", [c])], { axes: [-1], keepdims: 0 });
  g.node("Softmax", [g.op("Gemm", [r, g.init("fw", { dims: [2, 3], data: new Float32Array(6).fill(0.3) })], { alpha: f(1) })], ["Y"], { axis: -1 });
  g.output("Y");
  return onnxProto.onnx.ModelProto.decode(g.model({ opset: 13 }));
}

const OPS = ["Relu", "Add", "Gather", "Slice", "Concat", "Reshape", "LSTM", "Conv", "Split", "Unsqueeze", "Transpose", "ConstantOfShape", "If", "Shape", "Pad", "MatMul", "Softmax", "ReduceSum"];

/** One structural change: an op type, an attribute's value, an initializer's dims, a node's input. */
function mutateStructure(m: onnxProto.onnx.IModelProto, rng: ReturnType<typeof rngFor>): void {
  const graph = m.graph!;
  const nodes = graph.node!;
  const node = nodes[rng.int(0, nodes.length)];
  switch (rng.int(0, 6)) {
    case 0:
      node.opType = OPS[rng.int(0, OPS.length)];
      break;
    case 1: {
      const a = node.attribute?.[rng.int(0, Math.max(1, node.attribute.length))];
      if (a) {
        if (a.ints?.length) a.ints = a.ints.map(() => rng.int(-4, 9));
        else if (a.i !== undefined && a.i !== null) a.i = [0, -1, 1, 2, 7, 1 << 20][rng.int(0, 6)];
        else if (a.s?.length) a.s = new TextEncoder().encode(["forward", "x", "bidirectional", "edge", ""][rng.int(0, 5)]);
      } else node.attribute = [{ name: ["axis", "perm", "hidden_size", "mode"][rng.int(0, 4)], type: 2, i: rng.int(-3, 5) }];
      break;
    }
    case 2: {
      const t = graph.initializer![rng.int(0, graph.initializer!.length)];
      t.dims = (t.dims as number[]).map((d) => (rng.next() < 0.5 ? d : rng.int(0, 9)));
      break;
    }
    case 3: {
      const names = [...graph.input!.map((i) => i.name!), ...nodes.flatMap((n) => n.output!), ""];
      if (node.input!.length) node.input![rng.int(0, node.input!.length)] = names[rng.int(0, names.length)];
      break;
    }
    case 4:
      node.input = node.input!.slice(0, rng.int(0, node.input!.length + 1));
      break;
    default:
      nodes.splice(rng.int(0, nodes.length), 1);
  }
}

describe("fuzzing the importer (seeded; RNN_ONNX_FUZZ=n for more rounds): every outcome is a model or a typed error", () => {
  const ROUNDS = Number(process.env.RNN_ONNX_FUZZ ?? 1);

  it("byte flips and truncations of a test graph", async () => {
    const base = onnxProto.onnx.ModelProto.encode(fuzzSeedGraph(0)).finish();
    const rng = rngFor("onnx fuzz bytes");
    const codes = new Map<string, number>();
    for (let i = 0; i < 300 * ROUNDS; i++) {
      const b = base.slice(0, rng.next() < 0.2 ? rng.int(1, base.length) : base.length);
      for (let k = rng.int(1, 6); k > 0; k--) b[rng.int(0, b.length)] = rng.int(0, 256);
      const out = await survives(b, {}, `byte mutation ${i}; ${describeSeed(rng)}`);
      codes.set(out, (codes.get(out) ?? 0) + 1);
    }
    expect(codes.size, JSON.stringify([...codes])).toBeGreaterThan(1);
    expect(defects).toEqual([]);
  }, 60_000 * ROUNDS);

  it("structural mutations of a test graph (op types, attributes, dims, inputs, nodes)", async () => {
    const rng = rngFor("onnx fuzz structure");
    const codes = new Map<string, number>();
    for (let i = 0; i < 400 * ROUNDS; i++) {
      const m = fuzzSeedGraph(i % 3);
      for (let k = rng.int(1, 4); k > 0; k--) mutateStructure(m, rng);
      // replay: RNN_ONNX_FUZZ_DUMP=<i> writes mutation i as an .onnx file to look at
      if (process.env.RNN_ONNX_FUZZ_DUMP === String(i)) {
        const file = join(tmpdir(), `rnn-wasm-onnx-fuzz-${i}.onnx`);
        writeFileSync(file, onnxProto.onnx.ModelProto.encode(m).finish());
        process.stdout.write(`[fuzz] mutation ${i} written to ${file}\n`);
      }
      const x = { name: "X", data: rng.float32Array(24, (r) => r.uniform(-1, 1)), shape: [1, 6, 4] };
      const out = await survives(onnxProto.onnx.ModelProto.encode(m).finish(), {}, `structural mutation ${i}; ${describeSeed(rng)}`, x);
      codes.set(out, (codes.get(out) ?? 0) + 1);
    }
    if (process.env.RNN_ONNX_FUZZ) process.stdout.write(`[fuzz] structural outcomes: ${JSON.stringify([...codes])}\n`);
    expect(codes.get("ok, matches onnxruntime"), JSON.stringify([...codes])).toBeGreaterThan(10);
    expect(defects).toEqual([]);
  }, 60_000 * ROUNDS);

  it("byte flips in the Silero file's graph (its weights are most of the bytes: flips there only change numbers)", async () => {
    const silero = new Uint8Array(readFileSync(dataFile(SILERO)));
    const rng = rngFor("onnx fuzz silero");
    for (let i = 0; i < 30 * ROUNDS; i++) {
      const b = silero.slice();
      for (let k = rng.int(1, 4); k > 0; k--) b[rng.int(0, b.length)] = rng.int(0, 256);
      await survives(b, SILERO_BINDINGS, `Silero mutation ${i}; ${describeSeed(rng)}`);
    }
    expect(defects).toEqual([]);
  }, 60_000 * ROUNDS);
});
