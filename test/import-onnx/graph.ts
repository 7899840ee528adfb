/**
 * Writes ONNX graphs for the importer's tests, with onnx-proto (protobufjs generated from
 * onnx.proto: an encoder independent of the schema subset src/import/onnx/proto.ts decodes
 * with). A GraphBuilder holds nodes, initializers and the declared inputs and outputs; `model()`
 * encodes a ModelProto at a chosen opset. torch.ts builds on it to write graphs the way
 * torch.onnx.export does.
 */
import onnxProto from "onnx-proto";
import { floatToHalf } from "../../src/format/half.ts";

const { onnx } = onnxProto;

export type ElemType = "float32" | "float16" | "float64" | "int32" | "int64" | "bool" | "uint8" | "int8";

/** TensorProto.DataType codes. */
export const ELEM: Record<ElemType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

/** AttributeProto.AttributeType codes. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** A float attribute whose value happens to be an integer (alpha = 1): numbers are ints otherwise. */
export interface FloatAttr { float: number }
export interface FloatsAttr { floats: number[] }
export const f = (x: number): FloatAttr => ({ float: x });
export const fs = (xs: number[]): FloatsAttr => ({ floats: xs });

/** A tensor value (initializers, Constant nodes, ConstantOfShape's value). */
export interface TensorValue {
  dims: number[];
  data: ArrayLike<number>;
  type?: ElemType;
}

export type AttrValue = number | string | number[] | string[] | FloatAttr | FloatsAttr | TensorValue | GraphBuilder;

const isTensorValue = (v: unknown): v is TensorValue => typeof v === "object" && v !== null && "dims" in v && "data" in v;

/** Declared dimension: a size, a symbolic name (dim_param), or null (unknown). */
export type DimDecl = number | string | null;

export function tensorProto(name: string, t: TensorValue): onnxProto.onnx.ITensorProto {
  const type = t.type ?? "float32";
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`tensor ${name}: ${t.data.length} values for dims [${t.dims}]`);
  const base = { name, dims: t.dims, dataType: ELEM[type] };
  const raw = (bytes: ArrayBufferView) => ({ ...base, rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  switch (type) {
    case "float32": return raw(Float32Array.from(t.data));
    case "float64": return raw(Float64Array.from(t.data));
    case "float16": return raw(Uint16Array.from(t.data, (x) => floatToHalf(x)));
    // 2**63 stands for INT64_MAX (the "to the end" of Slice ends), which no double holds
    case "int64": return raw(BigInt64Array.from(Array.from(t.data, (x) => (x >= 2 ** 63 ? 2n ** 63n - 1n : BigInt(x)))));
    case "int32": return raw(Int32Array.from(t.data));
    case "int8": return raw(Int8Array.from(t.data));
    default: return raw(Uint8Array.from(t.data));
  }
}

function valueInfo(name: string, type: ElemType, dims: DimDecl[] | null): onnxProto.onnx.IValueInfoProto {
  const shape = dims === null ? undefined : { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : typeof d === "string" ? { dimParam: d } : {})) };
  return { name, type: { tensorType: { elemType: ELEM[type], ...(shape ? { shape } : {}) } } };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (v instanceof GraphBuilder) return { name, type: ATTR.GRAPH, g: v.graph() };
  if (typeof v === "number") return Number.isInteger(v) ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.FLOAT, f: v };
  if (typeof v === "string") return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "string")) return { name, type: ATTR.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    const nums = v as number[];
    return nums.every(Number.isInteger) ? { name, type: ATTR.INTS, ints: nums } : { name, type: ATTR.FLOATS, floats: nums };
  }
  if ("float" in v) return { name, type: ATTR.FLOAT, f: v.float };
  if ("floats" in v) return { name, type: ATTR.FLOATS, floats: v.floats };
  if (isTensorValue(v)) return { name, type: ATTR.TENSOR, t: tensorProto(name, v) };
  throw new Error(`attribute ${name}: unsupported value`);
}

/** IR version that goes with an opset (onnx/helper.py's VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 12) return 7;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(readonly name = "graph", private readonly prefix = "") {}

  /** A graph input. */
  input(name: string, dims: DimDecl[] | null, type: ElemType = "float32"): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A graph output (shape often left out, as exporters do for computed values). */
  output(name: string, dims: DimDecl[] | null = null, type: ElemType = "float32"): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** An initializer; also declared as a graph input when `asInput` (IR < 4 exporters did that). */
  init(name: string, t: TensorValue, asInput = false): string {
    this.initializers.push(tensorProto(name, t));
    if (asInput) this.inputs.push(valueInfo(name, t.type ?? "float32", t.dims));
    return name;
  }

  /** A fresh value name. */
  fresh(base: string): string {
    return `${this.prefix}${base}_${this.counter++}`;
  }

  /** A node; returns its output names (`outputs`: names, or how many to name). */
  node(op: string, inputs: string[], outputs: string[] | number = 1, attrs: Record<string, AttrValue> = {}, name?: string): string[] {
    const names = typeof outputs === "number" ? Array.from({ length: outputs }, () => this.fresh(`${op}_out`)) : outputs;
    this.nodes.push({
      opType: op,
      input: inputs,
      output: names,
      name: name ?? this.fresh(`/${op}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return names;
  }

  /** A node with one output. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(op, inputs, 1, attrs)[0];
  }

  /** A Constant node (how torch.onnx.export writes literals). */
  constant(t: TensorValue): string {
    return this.op("Constant", [], { value: t });
  }

  /** An int64 constant, 1-D (or a scalar with `scalar`). */
  ints(values: number[], scalar = false): string {
    return this.constant({ dims: scalar ? [] : [values.length], data: values, type: "int64" });
  }

  /** A subgraph (If's then_branch / else_branch) whose one output `build` computes; names are prefixed to stay apart. */
  static branch(name: string, build: (b: GraphBuilder) => string): GraphBuilder {
    const b = new GraphBuilder(name, `${name}_`);
    const out = `${name}_out`;
    b.node("Identity", [build(b)], [out]);
    b.output(out);
    return b;
  }

  graph(): onnxProto.onnx.IGraphProto {
    return { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }

  /** The encoded ModelProto. */
  model(opts: { opset?: number; irVersion?: number; producer?: string; extraOpsets?: { domain: string; version: number }[] } = {}): Uint8Array {
    const opset = opts.opset ?? 17;
    const proto = onnx.ModelProto.create({
      irVersion: opts.irVersion ?? irVersionFor(opset),
      producerName: opts.producer ?? "rnn-wasm tests",
      opsetImport: [{ domain: "", version: opset }, ...(opts.extraOpsets ?? [])],
      graph: this.graph(),
    });
    return onnx.ModelProto.encode(proto).finish();
  }
}
