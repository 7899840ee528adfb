/**
 * Turns what callers pass to predict/step (tensors, tfjs and onnxruntime tensors, nested
 * arrays; one, a list, or an object keyed by input name) into validated batch-first tensors,
 * with errors that name the input, the expected and the received shape or dtype. Values
 * (finite floats, ids in range) are checked by the executor once they are in kernel memory.
 */
import { fail } from "../errors.js";
import type { InputTensor } from "./executor.js";
import type { ModelSpec } from "./spec.js";

export interface Tensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** Rectangular nested arrays of numbers, batch first. */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * One input: `{ data, shape }` (data a Float32Array or Int32Array, or a number list), nested
 * arrays, a tfjs `tf.Tensor` (read with dataSync()) or an onnxruntime `ort.Tensor` (`data`, `dims`).
 */
export type TensorInput =
  | Tensor
  | { data: ArrayLike<number>; shape: readonly number[] }
  | { dataSync(): ArrayLike<number>; shape: readonly number[] }
  | { data: ArrayLike<number>; dims: readonly number[] }
  | NestedNumbers;

/** What predict and sessions take: one input, a list in the model's input order, or inputs by name. */
export type ModelInputs = TensorInput | readonly TensorInput[] | { readonly [inputName: string]: TensorInput };

const isTensorLike = (v: unknown): v is { data: unknown; shape: unknown } => {
  const t = v as { data?: unknown; shape?: unknown; dims?: unknown } | null;
  return t?.data != null && (t.shape ?? t.dims) != null;
};

/** A tf.Tensor (shape, dataSync()) or an ort.Tensor (data, dims) as {data, shape}; anything else unchanged. */
export function asTensor(v: unknown): unknown {
  const t = v as { dataSync?: () => unknown; isDisposed?: boolean; shape?: unknown; data?: unknown; dims?: unknown } | null;
  if (t?.dataSync) return t.isDisposed ? fail("E_ARGUMENT", "tf.Tensor is disposed") : { data: t.dataSync(), shape: t.shape };
  return t?.dims ? { data: t.data, shape: t.dims } : v;
}
const fmt = (s: unknown[]) => `[${s.map((d) => d ?? "?").join(", ")}]`;
const kind = (v: unknown) => (v === null ? "null" : typeof v);

/** Shape and flat data of a rectangular nested number array. */
export function fromNested(x: unknown[], where: string): { data: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let cur: unknown = x; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
  const data = x.flat(shape.length - 1) as unknown[];
  const bad = data.findIndex((v) => typeof v !== "number");
  if (data.length !== shape.reduce((a, b) => a * b, 1) || (bad >= 0 && Array.isArray(data[bad]))) {
    fail("E_SHAPE", `${where}: nested arrays are not rectangular (first lengths ${fmt(shape)})`);
  }
  if (bad >= 0) fail("E_DTYPE", `${where}: element ${bad} (flat) is ${kind(data[bad])}, expected a number`);
  return { data: data as number[], shape };
}

/** Validates one input against the spec; converts dtype as tfjs would (ids truncated). */
export function checkInput(raw: unknown, inp: ModelSpec["inputs"][number], where: string, unbatched?: boolean): InputTensor {
  let data: ArrayLike<number>;
  let shape: number[];
  raw = asTensor(raw);
  if (Array.isArray(raw)) ({ data, shape } = fromNested(raw, where));
  else if (isTensorLike(raw)) {
    const d = raw.data;
    if (!(Array.isArray(d) || (ArrayBuffer.isView(d) && !(d instanceof DataView) && typeof (d as unknown as unknown[])[0] !== "bigint"))) {
      fail("E_DTYPE", `${where}: data must be a Float32Array or Int32Array (or a number list), received ${(d as object)?.constructor?.name ?? kind(d)}`);
    }
    data = d as ArrayLike<number>;
    shape = raw.shape as number[];
    const count = Array.isArray(shape) && shape.every((v) => Number.isInteger(v) && v >= 0) ? shape.reduce((a, b) => a * b, 1) : NaN;
    if (data.length !== count) fail("E_SHAPE", `${where}: shape ${JSON.stringify(raw.shape)} needs ${count} values, data holds ${data.length}`);
  } else {
    fail("E_DTYPE", `${where}: expected a tensor {data, shape} or nested arrays, received ${(raw as object)?.constructor?.name ?? kind(raw)}`);
  }
  const want = unbatched ? inp.shape : [null, ...inp.shape];
  if (shape.length !== want.length || shape.some((d, i) => d < 1 || (want[i] !== null && want[i] !== d))) {
    fail("E_SHAPE", `${where}: expected shape ${fmt([...(unbatched ? [] : ["batch"]), ...inp.shape.map((d) => d ?? "time")])}, received ${fmt(shape)}`);
  }
  // (a graph with its batch in its own axes runs as a batch of one)
  if (unbatched) shape = [1, ...shape];
  if (inp.dtype !== "int32") return { data: data instanceof Float32Array ? data : Float32Array.from(data), shape };
  if (data instanceof Int32Array) return { data, shape };
  const ids = Int32Array.from(data, Math.trunc);
  const nan = Array.prototype.findIndex.call(data, (v: number) => !Number.isFinite(v));
  if (nan >= 0) fail("E_TOKEN_RANGE", `${where}: token id at flat index ${nan} is ${data[nan]}`);
  return { data: ids, shape };
}

/**
 * One raw input per model input, in the model's order: from a plain object keyed by input name
 * (onnxruntime's way), a list (several inputs, or one tensor in a list), or the one input.
 */
export function inputList(x: unknown, spec: ModelSpec): unknown[] {
  const names = spec.inputs.map((i) => i.name);
  const want = `model ${spec.name} has ${names.length} input(s) (${names.join(", ")})`;
  const named = (x as object | null)?.constructor === Object && !isTensorLike(x);
  const byName = x as Record<string, unknown>;
  if (named && (Object.keys(byName).length !== names.length || names.some((k) => !(k in byName)))) {
    fail("E_ARGUMENT", `${want}; received inputs named ${Object.keys(byName).join(", ") || "none"}`);
  }
  // a list holds the inputs when the model has several, or one tensor (not numbers)
  const list = named ? names.map((k) => byName[k]) : Array.isArray(x) && (names.length > 1 || isTensorLike(x[0])) ? x : [x];
  if (list.length !== names.length) fail("E_SHAPE", `${want}; received ${list.length}`);
  return list;
}

export function checkInputs(x: unknown, spec: ModelSpec): InputTensor[] {
  const tensors = inputList(x, spec).map((r, i) => checkInput(r, spec.inputs[i], `input ${spec.inputs[i].name}`, spec.unbatched));
  tensors.forEach((t, i) => {
    if (t.shape[0] !== tensors[0].shape[0]) fail("E_SHAPE", `input ${spec.inputs[i].name} has batch ${t.shape[0]}, input ${spec.inputs[0].name} has batch ${tensors[0].shape[0]}`);
  });
  return tensors;
}

/** Options of predict and of a session's step and run. */
export interface CallOptions {
  /** Return the outputs as an object keyed by output name (model.outputs[i].name), as onnxruntime does. */
  named?: boolean;
}

/** A call's outputs as callers get them: the one tensor, the list, or an object keyed by output name. */
export function callResult(outs: Tensor[], spec: ModelSpec, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor> {
  return options?.named ? Object.fromEntries(outs.map((t, i) => [spec.outputs[i].name, t])) : outs.length === 1 ? outs[0] : outs;
}
