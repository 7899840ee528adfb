/**
 * Reads an .onnx file (protobuf) into plain objects: the graph, its nodes and attributes, its
 * initializers as typed arrays, and the declared input and output shapes. The schema below is
 * the subset of onnx.proto rnn-wasm reads, with the field numbers of the ONNX specification
 * (stable since IR version 3); protobufjs decodes it, and test/import-onnx checks the result
 * against an independent decoder. External data (models over 2 GB) is refused.
 */
import protobuf from "protobufjs/light.js";
import { RnnWasmError } from "../../errors.js";
import { halvesToFloats } from "../../format/half.js";

const repeated = (type: string, id: number) => ({ type, id, rule: "repeated" as const });
const field = (type: string, id: number) => ({ type, id });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: field("int64", 1), producerName: field("string", 2), producerVersion: field("string", 3),
            domain: field("string", 4), modelVersion: field("int64", 5), docString: field("string", 6),
            graph: field("GraphProto", 7), opsetImport: repeated("OperatorSetIdProto", 8),
            metadataProps: repeated("StringStringEntryProto", 14),
          },
        },
        OperatorSetIdProto: { fields: { domain: field("string", 1), version: field("int64", 2) } },
        StringStringEntryProto: { fields: { key: field("string", 1), value: field("string", 2) } },
        GraphProto: {
          fields: {
            node: repeated("NodeProto", 1), name: field("string", 2), initializer: repeated("TensorProto", 5),
            docString: field("string", 10), input: repeated("ValueInfoProto", 11), output: repeated("ValueInfoProto", 12),
            valueInfo: repeated("ValueInfoProto", 13), sparseInitializer: repeated("bytes", 15),
          },
        },
        NodeProto: {
          fields: {
            input: repeated("string", 1), output: repeated("string", 2), name: field("string", 3), opType: field("string", 4),
            attribute: repeated("AttributeProto", 5), docString: field("string", 6), domain: field("string", 7),
          },
        },
        AttributeProto: {
          fields: {
            name: field("string", 1), f: field("float", 2), i: field("int64", 3), s: field("bytes", 4),
            t: field("TensorProto", 5), g: field("GraphProto", 6), floats: repeated("float", 7), ints: repeated("int64", 8),
            strings: repeated("bytes", 9), tensors: repeated("TensorProto", 10), graphs: repeated("GraphProto", 11),
            docString: field("string", 13), type: field("int32", 20), refAttrName: field("string", 21),
          },
        },
        ValueInfoProto: { fields: { name: field("string", 1), type: field("TypeProto", 2), docString: field("string", 3) } },
        TypeProto: {
          fields: { tensorType: field("TensorTypeProto", 1), sequenceType: field("bytes", 4), mapType: field("bytes", 5), denotation: field("string", 6) },
        },
        TensorTypeProto: { fields: { elemType: field("int32", 1), shape: field("TensorShapeProto", 2) } },
        TensorShapeProto: { fields: { dim: repeated("Dimension", 1) } },
        Dimension: { fields: { dimValue: field("int64", 1), dimParam: field("string", 2), denotation: field("string", 3) } },
        TensorProto: {
          fields: {
            dims: repeated("int64", 1), dataType: field("int32", 2), floatData: repeated("float", 4), int32Data: repeated("int32", 5),
            stringData: repeated("bytes", 6), int64Data: repeated("int64", 7), name: field("string", 8), rawData: field("bytes", 9),
            doubleData: repeated("double", 10), uint64Data: repeated("uint64", 11), docString: field("string", 12),
            externalData: repeated("StringStringEntryProto", 13), dataLocation: field("int32", 14),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;

/** ONNX TensorProto.DataType codes rnn-wasm reads. */
export const DTYPE = {
  1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool", 10: "float16", 11: "float64",
  12: "uint32", 13: "uint64",
} as const;
export type OnnxDtype = (typeof DTYPE)[keyof typeof DTYPE];
/** Names of the element types rnn-wasm does not read, for messages. */
export const OTHER_TYPES: Record<number, string> = {
  8: "string", 14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
  20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
};
export const isFloatType = (t: OnnxDtype) => t === "float32" || t === "float16" || t === "float64";

/** A tensor of an initializer or a Constant: floats as Float32Array (float16 widened), integers and bools as numbers. */
export interface OnnxTensor {
  dtype: OnnxDtype;
  dims: number[];
  data: Float32Array | Float64Array | number[];
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: number[];
  strings?: string[];
}

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttribute>;
}

/** A declared dimension: a number, a symbolic name (dim_param), or null (unknown). */
export type DeclaredDim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  /** null when the type is undeclared (elemType 0) or one rnn-wasm does not read (elemType names it). */
  dtype: OnnxDtype | null;
  /** TensorProto.DataType as declared (0: undeclared). */
  elemType: number;
  dims: DeclaredDim[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Opset version of the default domain (ai.onnx). */
  opset: number;
  producer: string;
  graph: OnnxGraph;
}

/** Elements rnn-wasm allows in one tensor of a model file (4 GiB of float32). */
const MAX_ELEMENTS = 2 ** 30;
/** Nesting of subgraphs (If branches inside If branches): Silero uses 4. */
const MAX_GRAPH_DEPTH = 32;

function onnxError(where: string, msg: string): never {
  throw new RnnWasmError("E_ONNX", `${where}: ${msg}`);
}

const toNum = (v: unknown): number => (typeof v === "number" ? v : Number(v as bigint | { toString(): string }));

function dtypeOf(code: number, where: string): OnnxDtype {
  const t = (DTYPE as Record<number, OnnxDtype>)[code];
  if (!t) onnxError(where, `tensor data type ${code} is not supported (float32, float16, float64, int8/16/32/64, uint8/16/32/64, bool)`);
  return t;
}

const BYTES: Record<OnnxDtype, number> = {
  float32: 4, float64: 8, float16: 2, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, bool: 1,
};

function readRaw(dtype: OnnxDtype, raw: Uint8Array, count: number): OnnxTensor["data"] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case "float16": {
      const halves = new Uint16Array(count);
      for (let i = 0; i < count; i++) halves[i] = view.getUint16(i * 2, true);
      return widen(halves);
    }
    default: {
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) {
        const at = i * BYTES[dtype];
        out[i] = dtype === "int64" ? Number(view.getBigInt64(at, true))
          : dtype === "uint64" ? Number(view.getBigUint64(at, true))
          : dtype === "int32" ? view.getInt32(at, true)
          : dtype === "uint32" ? view.getUint32(at, true)
          : dtype === "int16" ? view.getInt16(at, true)
          : dtype === "uint16" ? view.getUint16(at, true)
          : dtype === "int8" ? view.getInt8(at)
          : view.getUint8(at);
      }
      return out;
    }
  }
}

type Msg = Record<string, unknown>;

function widen(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  halvesToFloats(halves, out);
  return out;
}

function readTensor(t: Msg, where: string): OnnxTensor {
  const name = typeof t.name === "string" && t.name ? t.name : where;
  if (toNum(t.dataLocation ?? 0) === 1 || (Array.isArray(t.externalData) && t.externalData.length)) {
    onnxError(name, "weights stored as external data are not supported (re-export the model with its weights inside the .onnx file)");
  }
  const dtype = dtypeOf(toNum(t.dataType ?? 0), name);
  const dims = ((t.dims as unknown[]) ?? []).map(toNum);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) onnxError(name, `invalid dims [${dims.join(", ")}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) onnxError(name, `${count} elements is over the limit of ${MAX_ELEMENTS}`);
  const raw = t.rawData as Uint8Array | undefined;
  let data: OnnxTensor["data"];
  if (raw && raw.length) {
    if (raw.length !== count * BYTES[dtype]) onnxError(name, `raw data holds ${raw.length} bytes, dims [${dims.join(", ")}] of ${dtype} need ${count * BYTES[dtype]}`);
    data = readRaw(dtype, raw, count);
  } else {
    const list = (dtype === "float32" ? t.floatData : dtype === "float64" ? t.doubleData
      : dtype === "int64" ? t.int64Data : dtype === "uint32" || dtype === "uint64" ? t.uint64Data : t.int32Data) as unknown[] | undefined;
    const values = (list ?? []).map(toNum);
    if (values.length !== count) onnxError(name, `holds ${values.length} values, dims [${dims.join(", ")}] need ${count}`);
    data = dtype === "float32" ? Float32Array.from(values)
      : dtype === "float64" ? Float64Array.from(values)
      : dtype === "float16" ? widen(Uint16Array.from(values))
      : values;
  }
  return { dtype, dims, data };
}

function readValueInfo(v: Msg): OnnxValueInfo {
  const tt = (v.type as Msg | undefined)?.tensorType as Msg | undefined;
  const shape = tt?.shape as Msg | undefined;
  const code = tt ? toNum(tt.elemType ?? 0) : 0;
  return {
    name: String(v.name ?? ""),
    dtype: (DTYPE as Record<number, OnnxDtype>)[code] ?? null,
    elemType: code,
    dims: shape
      ? ((shape.dim as Msg[]) ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNum(d.dimValue) > 0 ? toNum(d.dimValue)
        : typeof d.dimParam === "string" && d.dimParam ? d.dimParam : null))
      : null,
  };
}

const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

function readGraph(g: Msg, depth: number): OnnxGraph {
  if (depth > MAX_GRAPH_DEPTH) onnxError(String(g.name ?? "graph"), `subgraphs nested over ${MAX_GRAPH_DEPTH} deep`);
  const initializers = new Map<string, OnnxTensor>();
  for (const t of (g.initializer as Msg[]) ?? []) initializers.set(String(t.name), readTensor(t, "initializer"));
  const nodes = ((g.node as Msg[]) ?? []).map((n, idx): OnnxNode => {
    const opType = String(n.opType ?? "");
    const name = String(n.name || `${opType}_${idx}`);
    const attrs = new Map<string, OnnxAttribute>();
    for (const a of (n.attribute as Msg[]) ?? []) {
      const attr: OnnxAttribute = { name: String(a.name) };
      if (a.refAttrName) onnxError(name, `attribute ${attr.name} refers to a function attribute (${String(a.refAttrName)}), which is not supported`);
      if (a.f !== undefined && a.f !== null) attr.f = a.f as number;
      if (a.i !== undefined && a.i !== null) attr.i = toNum(a.i);
      if (a.s && (a.s as Uint8Array).length) attr.s = text(a.s);
      if (a.t) attr.t = readTensor(a.t as Msg, `${name}.${attr.name}`);
      if (a.g) attr.g = readGraph(a.g as Msg, depth + 1);
      if (Array.isArray(a.floats) && a.floats.length) attr.floats = a.floats as number[];
      if (Array.isArray(a.ints) && a.ints.length) attr.ints = a.ints.map(toNum);
      if (Array.isArray(a.strings) && a.strings.length) attr.strings = a.strings.map(text);
      attrs.set(attr.name, attr);
    }
    return {
      opType, domain: String(n.domain ?? ""), name, attrs,
      inputs: ((n.input as string[]) ?? []).map(String),
      outputs: ((n.output as string[]) ?? []).map(String),
    };
  });
  return {
    name: String(g.name ?? ""),
    nodes,
    initializers,
    inputs: ((g.input as Msg[]) ?? []).map(readValueInfo),
    outputs: ((g.output as Msg[]) ?? []).map(readValueInfo),
  };
}

/** Decodes an .onnx file. Malformed protobuf, unsupported tensor types and absurd sizes are E_ONNX. */
export function readOnnx(bytes: Uint8Array, sourceName = "model.onnx"): OnnxModel {
  modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType("onnx.ModelProto");
  let m: Msg;
  try {
    m = modelType.decode(bytes) as unknown as Msg;
  } catch (e) {
    throw new RnnWasmError("E_ONNX", `${sourceName}: not a readable ONNX model (${(e as Error).message})`, { cause: e });
  }
  if (!m.graph) onnxError(sourceName, "the file holds no graph (is it an ONNX model?)");
  const opsets = ((m.opsetImport as Msg[]) ?? []).map((o) => ({ domain: String(o.domain ?? ""), version: toNum(o.version ?? 0) }));
  const main = opsets.find((o) => o.domain === "" || o.domain === "ai.onnx");
  return {
    irVersion: toNum(m.irVersion ?? 0),
    opset: main?.version ?? 1,
    producer: `${String(m.producerName ?? "")} ${String(m.producerVersion ?? "")}`.trim(),
    graph: readGraph(m.graph as Msg, 0),
  };
}
