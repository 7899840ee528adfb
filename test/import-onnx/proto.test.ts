/**
 * The importer's protobuf reading (src/import/onnx/proto.ts: protobufjs over a schema subset
 * written from onnx.proto) against an independent decoder: onnx-proto (protobufjs code
 * generated from the full onnx.proto) and a float16 decoder written here. Every node of every
 * graph and subgraph, its attributes, every initializer's dims and values, the declared inputs
 * and outputs, on the five Silero files and on test graphs with every attribute and tensor type.
 */
import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { readOnnx, type OnnxGraph, type OnnxTensor } from "../../src/import/onnx/proto.ts";
import { dataFile } from "../util/data.ts";
import { f, fs, GraphBuilder } from "./graph.ts";

const { onnx } = onnxProto;
type G = onnxProto.onnx.IGraphProto;
type T = onnxProto.onnx.ITensorProto;

const num = (v: unknown) => (typeof v === "number" ? v : Number(v as bigint | { toString(): string }));
const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());

/** IEEE half -> float, bit by bit (independent of src/format/half.ts). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A tensor's values as onnx-proto gives them, decoded here. */
function values(t: T): number[] {
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const n = (t.dims ?? []).map(num).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (t.dataType) {
      case 1: out.push(view ? view.getFloat32(4 * i, true) : num(t.floatData![i])); break;
      case 10: out.push(halfToFloat(view ? view.getUint16(2 * i, true) : num(t.int32Data![i]))); break;
      case 11: out.push(view ? view.getFloat64(8 * i, true) : num(t.doubleData![i])); break;
      case 7: out.push(view ? Number(view.getBigInt64(8 * i, true)) : num(t.int64Data![i])); break;
      case 6: out.push(view ? view.getInt32(4 * i, true) : num(t.int32Data![i])); break;
      case 9: case 2: out.push(view ? view.getUint8(i) : num(t.int32Data![i])); break;
      case 3: out.push(view ? view.getInt8(i) : num(t.int32Data![i])); break;
      default: throw new Error(`tensor ${t.name}: data type ${t.dataType} not covered by this test`);
    }
  }
  return out;
}

function sameTensor(mine: OnnxTensor, ref: T, where: string): void {
  expect(mine.dims, `${where} dims`).toEqual((ref.dims ?? []).map(num));
  const want = values(ref);
  const got = Array.from(mine.data as ArrayLike<number>);
  expect(got.length, `${where} length`).toBe(want.length);
  // float32 holds every float16 and float32 value exactly; float64 stays float64
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      throw new Error(`${where}: element ${i} is ${got[i]}, onnx-proto gives ${want[i]}`);
    }
  }
}

const DIMS = (v: onnxProto.onnx.IValueInfoProto) => {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : d.dimParam ? d.dimParam : null));
};

/** Walks both graphs in step, subgraphs included; returns how many nodes were compared. */
function sameGraph(mine: OnnxGraph, ref: G, where: string): number {
  expect(mine.inputs.map((i) => [i.name, i.dims]), `${where} inputs`).toEqual((ref.input ?? []).map((i) => [i.name, DIMS(i)]));
  expect(mine.outputs.map((o) => o.name), `${where} outputs`).toEqual((ref.output ?? []).map((o) => o.name));
  expect([...mine.initializers.keys()], `${where} initializers`).toEqual((ref.initializer ?? []).map((t) => t.name));
  for (const t of ref.initializer ?? []) sameTensor(mine.initializers.get(t.name!)!, t, `${where} initializer ${t.name}`);
  const nodes = ref.node ?? [];
  expect(mine.nodes.length, `${where} node count`).toBe(nodes.length);
  let count = nodes.length;
  nodes.forEach((n, k) => {
    const m = mine.nodes[k];
    const at = `${where} node ${k} (${n.opType} ${n.name})`;
    expect([m.opType, m.domain, m.inputs, m.outputs], at).toEqual([n.opType, n.domain ?? "", n.input ?? [], n.output ?? []]);
    if (n.name) expect(m.name, at).toBe(n.name);
    expect([...m.attrs.keys()], `${at} attributes`).toEqual((n.attribute ?? []).map((a) => a.name));
    for (const a of n.attribute ?? []) {
      const got = m.attrs.get(a.name!)!;
      const aw = `${at} attribute ${a.name}`;
      switch (a.type) {
        case 1: expect(got.f, aw).toBe(a.f); break;
        case 2: expect(got.i, aw).toBe(num(a.i)); break;
        case 3: expect(got.s, aw).toBe(text(a.s)); break;
        case 4: sameTensor(got.t!, a.t!, aw); break;
        case 5: count += sameGraph(got.g!, a.g!, aw); break;
        case 6: expect(got.floats, aw).toEqual(a.floats); break;
        case 7: expect(got.ints, aw).toEqual((a.ints ?? []).map(num)); break;
        case 8: expect(got.strings, aw).toEqual((a.strings ?? []).map(text)); break;
        default: throw new Error(`${aw}: attribute type ${a.type} not covered by this test`);
      }
    }
  });
  return count;
}

function compareFile(bytes: Uint8Array): number {
  const mine = readOnnx(bytes, "test.onnx");
  const ref = onnx.ModelProto.decode(bytes);
  const main = (ref.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  expect(mine.opset).toBe(num(main?.version ?? 1));
  expect(mine.irVersion).toBe(num(ref.irVersion));
  expect(mine.producer).toBe(`${ref.producerName ?? ""} ${ref.producerVersion ?? ""}`.trim());
  return sameGraph(mine.graph, ref.graph!, "graph");
}

describe("proto.ts reads what onnx-proto reads", () => {
  it.each(["silero_vad_v5.onnx", "silero_vad_v6.onnx", "silero_vad_16k_op15.onnx", "silero_vad_half.onnx", "silero_vad_legacy.onnx"])("%s: every node, attribute, subgraph and initializer", (file) => {
    const nodes = compareFile(new Uint8Array(readFileSync(dataFile(`real-models/onnx-silero-vad/${file}`))));
    expect(nodes).toBeGreaterThan(100);
  });

  it("a graph with every attribute type, every tensor type, values in raw and typed fields, and an If", () => {
    const g = new GraphBuilder("all");
    g.input("X", ["batch", "seq", 3]);
    g.input("ids", [null, 4], "int64");
    g.init("f32", { dims: [2, 3], data: [1.5, -0, Number.POSITIVE_INFINITY, -2.25, 1e-30, 3.4e38] });
    g.init("f16", { dims: [4], data: [0.5, -65504, 6.1e-5, 1 / 3], type: "float16" });
    g.init("f64", { dims: [2], data: [Math.PI, -1e300], type: "float64" });
    g.init("i64", { dims: [3], data: [-(2 ** 40), 0, 2 ** 53 - 1], type: "int64" });
    g.init("i32", { dims: [2], data: [-7, 2 ** 31 - 1], type: "int32" });
    g.init("u8", { dims: [2], data: [0, 255], type: "uint8" });
    g.init("i8", { dims: [2], data: [-128, 127], type: "int8" });
    g.init("b", { dims: [3], data: [1, 0, 1], type: "bool" });
    g.initializers.push({ name: "typed_f32", dims: [3], dataType: 1, floatData: [1, 2.5, -3] });
    g.initializers.push({ name: "typed_i64", dims: [2], dataType: 7, int64Data: [5, -6] });
    g.initializers.push({ name: "scalar", dims: [], dataType: 1, floatData: [42] });
    const branches = { then_branch: GraphBuilder.branch("then", (b) => b.op("Relu", ["X"])), else_branch: GraphBuilder.branch("else", (b) => b.op("Neg", ["X"])) };
    g.node("If", [g.constant({ dims: [], data: [1], type: "bool" })], ["Y"], branches, "if");
    g.node("LSTM", ["X", "f32", "f32"], ["Z"], { hidden_size: 3, activations: ["Sigmoid", "Tanh", "Tanh"], activation_alpha: fs([0.5, 1.25]), clip: f(2.5), direction: "reverse", layout: 1 }, "attrs");
    g.node("ConstantOfShape", ["i64"], ["C"], { value: { dims: [1], data: [0.25] } }, "tensor_attr");
    g.output("Y");
    expect(compareFile(g.model({ opset: 17, producer: "tests" }))).toBe(8);
  });
});
