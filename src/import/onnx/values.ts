/**
 * The two kinds of values an ONNX graph holds while it is imported. A constant is known at
 * export (initializers, Constant nodes, --const inputs, and everything computed from them,
 * shapes included) and is folded in JavaScript; a runtime value flows through the kernels and
 * is the output of spec ops. A runtime value records where its ONNX axes live in memory: the
 * batch axis first (every spec tensor is batch-first), then the other axes in `order`, so that
 * a Transpose only renames axes and a Conv can keep channels last.
 */
import { RnnWasmError } from "../../errors.js";
import { dimEq, isBatch, showShape, type Dim } from "./dims.js";
import type { Producer } from "./fuse.js";
import type { OnnxDtype, OnnxTensor } from "./proto.js";

export interface ConstValue {
  kind: "const";
  dtype: OnnxDtype;
  dims: number[];
  /** Floats as Float32Array (float32, float16) or Float64Array; integers and bools as dims (shapes may hold the batch). */
  data: Float32Array | Float64Array | Dim[];
}

export interface RtValue {
  kind: "rt";
  /** Spec tensor id. */
  id: string;
  dtype: "float32" | "int32";
  /** ONNX (logical) shape. */
  shape: Dim[];
  /** Logical axis of the batch (its dim is the batch symbol), or null when the batch is fixed (then spec tensors get a size-1 batch axis). */
  batchAxis: number | null;
  /** The logical axes other than the batch, in memory order (outermost first). */
  order: number[];
  /** Known to hold only zeros (an initial state made by ConstantOfShape): recurrences skip it. */
  zeros?: boolean;
  /** What made it, where a later op may fuse with that (fuse.ts). */
  from?: Producer;
}

export type Value = ConstValue | RtValue;

export const isConst = (v: Value | undefined): v is ConstValue => v?.kind === "const";
export const isRt = (v: Value | undefined): v is RtValue => v?.kind === "rt";
export const isFloat = (v: ConstValue) => v.data instanceof Float32Array || v.data instanceof Float64Array;
export const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Elements a folded constant may hold (64 MiB of float32): folding runs in the exporter on a
 * file nobody vouched for, and Expand, Tile, ConstantOfShape or a broadcast of two small
 * constants can ask for any size.
 */
export const FOLD_LIMIT = 1 << 24;

/** Refuses a folded result over FOLD_LIMIT before it is allocated. */
export function foldable(dims: readonly number[], where: string): number {
  const n = count(dims);
  if (!(n <= FOLD_LIMIT)) throw new RnnWasmError("E_ONNX", `${where}: folding would make a constant of ${n} elements (the limit is ${FOLD_LIMIT})`);
  return n;
}

export function fromTensor(t: OnnxTensor): ConstValue {
  return { kind: "const", dtype: t.dtype, dims: t.dims, data: t.data };
}

export function floatConst(dims: number[], data: ArrayLike<number>, dtype: OnnxDtype = "float32"): ConstValue {
  return { kind: "const", dtype, dims, data: dtype === "float64" ? Float64Array.from(data) : Float32Array.from(data) };
}

export function intConst(dims: number[], data: Dim[], dtype: OnnxDtype = "int64"): ConstValue {
  return { kind: "const", dtype, dims, data };
}

/** Elements as dims (integer tensors) — throws for float data. */
export function dimsOf(v: ConstValue, where: string): Dim[] {
  if (isFloat(v)) throw new RnnWasmError("E_ONNX", `${where}: expected an integer tensor, found ${v.dtype}`);
  return v.data as Dim[];
}

/** Elements as plain numbers; the batch symbol is refused (where it cannot stand). */
export function numbersOf(v: ConstValue, where: string): number[] {
  const out: number[] = [];
  for (const d of Array.from(v.data as ArrayLike<Dim>)) {
    if (isBatch(d)) throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: a value depends on the batch size here`);
    out.push(d);
  }
  return out;
}

export function scalarOf(v: ConstValue, where: string): number {
  const n = numbersOf(v, where);
  if (n.length !== 1) throw new RnnWasmError("E_ONNX", `${where}: expected one value, found ${n.length}`);
  return n[0];
}

export { contiguous as stridesOf } from "../../model/tensor-ops.js";
import { contiguous as stridesOf } from "../../model/tensor-ops.js";

/** Numpy broadcasting of two shapes (ONNX's multidirectional broadcasting). */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], where: string): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (dimEq(x, y) || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new RnnWasmError("E_ONNX", `${where}: shapes ${showShape([...a])} and ${showShape([...b])} do not broadcast`);
  }
  return out;
}

/** Index map for reading `dims`-shaped data broadcast to `outDims`. */
export function broadcastIndex(dims: readonly number[], outDims: readonly number[]): (flat: number) => number {
  const r = outDims.length;
  const full = [...new Array(r - dims.length).fill(1), ...dims];
  const inStrides = stridesOf(full).map((s, i) => (full[i] === 1 ? 0 : s));
  const outStrides = stridesOf(outDims);
  return (flat) => {
    let at = 0;
    for (let i = 0; i < r; i++) {
      const c = Math.floor(flat / outStrides[i]) % outDims[i];
      at += c * inStrides[i];
    }
    return at;
  };
}

/** Elementwise op over constants with broadcasting; floats in float64, rounded to the output dtype. */
export function mapConsts(inputs: ConstValue[], outDtype: OnnxDtype, f: (...xs: Dim[]) => Dim, where: string): ConstValue {
  let dims: number[] = [];
  for (const v of inputs) dims = broadcastShapes(dims, v.dims, where) as number[];
  const n = foldable(dims, where);
  const readers = inputs.map((v) => broadcastIndex(v.dims, dims));
  const isF = outDtype === "float32" || outDtype === "float16" || outDtype === "float64";
  const out: Dim[] | Float32Array | Float64Array = outDtype === "float64" ? new Float64Array(n) : isF ? new Float32Array(n) : new Array<Dim>(n);
  for (let i = 0; i < n; i++) {
    const r = f(...inputs.map((v, k) => (v.data as ArrayLike<Dim>)[readers[k](i)]));
    if (isF) {
      if (isBatch(r)) throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: a float value depends on the batch size`);
      (out as Float32Array)[i] = r;
    } else (out as Dim[])[i] = r;
  }
  return { kind: "const", dtype: outDtype === "float16" ? "float32" : outDtype, dims, data: out };
}

/** Gathers constant elements by flat source index. */
export function pickConst(v: ConstValue, dims: number[], index: (flat: number) => number): ConstValue {
  const n = foldable(dims, "a folded copy");
  const src = v.data as ArrayLike<Dim>;
  const data: Float32Array | Float64Array | Dim[] = v.data instanceof Float32Array ? new Float32Array(n) : v.data instanceof Float64Array ? new Float64Array(n) : new Array<Dim>(n);
  for (let i = 0; i < n; i++) (data as Dim[])[i] = src[index(i)];
  return { kind: "const", dtype: v.dtype, dims, data };
}

export function transposeConst(v: ConstValue, perm: number[]): ConstValue {
  const dims = perm.map((p) => v.dims[p]);
  const inStrides = stridesOf(v.dims);
  const outStrides = stridesOf(dims);
  return pickConst(v, dims, (flat) => {
    let at = 0;
    for (let i = 0; i < dims.length; i++) at += (Math.floor(flat / outStrides[i]) % dims[i]) * inStrides[perm[i]];
    return at;
  });
}

/** The constant as float32 data in row-major order (weights). */
export function floatData(v: ConstValue, where: string): Float32Array {
  if (v.data instanceof Float32Array) return v.data;
  if (v.data instanceof Float64Array) return Float32Array.from(v.data);
  return Float32Array.from(numbersOf(v, where));
}
