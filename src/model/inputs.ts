/**
 * Turns what callers pass to predict/step (tensors, typed arrays, nested arrays) into
 * validated batch-first tensors, with errors that name the input, the expected and the
 * received shape or dtype.
 */
import { RnnWasmError } from "../errors.js";
import type { InputTensor } from "./executor.js";
import type { ModelSpec } from "./spec.js";

export interface Tensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

function isTensorLike(v: unknown): v is { data: unknown; shape: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "data" in v && "shape" in v;
}

/** Shape and flat data of a rectangular nested number array. */
export function fromNested(x: unknown, where: string): { data: Float64Array; shape: number[] } {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(count);
  let k = 0;
  const walk = (v: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") {
        throw new RnnWasmError("E_DTYPE", `${where}: element [${path.join(", ")}] is ${v === null ? "null" : typeof v}, expected a number`);
      }
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new RnnWasmError("E_SHAPE", `${where}: nested array is not rectangular at [${path.join(", ")}] (expected length ${shape[depth]}, received ${Array.isArray(v) ? v.length : typeof v})`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, [...path, i]);
  };
  walk(x, 0, []);
  return { data, shape };
}

const fmt = (s: (number | null)[]) => `[${s.map((d) => (d === null ? "?" : d)).join(", ")}]`;

/** Validates one input against the spec; converts dtype as tfjs would (ids truncated). */
export function checkInput(raw: unknown, inp: ModelSpec["inputs"][number], where: string): InputTensor {
  let data: ArrayLike<number>;
  let shape: number[];
  if (isTensorLike(raw)) {
    const d = raw.data;
    if (!(d instanceof Float32Array || d instanceof Int32Array || d instanceof Float64Array || d instanceof Uint8Array || d instanceof Uint16Array || d instanceof Uint32Array || d instanceof Int8Array || d instanceof Int16Array || Array.isArray(d))) {
      throw new RnnWasmError("E_DTYPE", `${where}: data must be a Float32Array or Int32Array, received ${d === null ? "null" : (d as object)?.constructor?.name ?? typeof d}`);
    }
    if (!Array.isArray(raw.shape) || !raw.shape.every((v: unknown) => Number.isInteger(v) && (v as number) >= 0)) {
      throw new RnnWasmError("E_SHAPE", `${where}: shape must be an array of non-negative integers, received ${JSON.stringify(raw.shape)}`);
    }
    data = d as ArrayLike<number>;
    shape = raw.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (data.length !== count) {
      throw new RnnWasmError("E_SHAPE", `${where}: shape ${fmt(shape)} needs ${count} values, data holds ${data.length}`);
    }
  } else if (Array.isArray(raw)) {
    const n = fromNested(raw, where);
    data = n.data;
    shape = n.shape;
  } else {
    throw new RnnWasmError("E_DTYPE", `${where}: expected a tensor {data, shape} or a nested number array, received ${raw === null ? "null" : typeof raw}`);
  }
  const want = [null, ...inp.shape];
  if (shape.length !== want.length) {
    throw new RnnWasmError(
      "E_SHAPE",
      `${where}: expected rank ${want.length} shape [batch, ${inp.shape.map((d) => d ?? "time").join(", ")}], received ${fmt(shape)}`,
    );
  }
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] < 1) throw new RnnWasmError("E_SHAPE", `${where}: axis ${i} of shape ${fmt(shape)} is empty`);
    if (want[i] !== null && want[i] !== shape[i]) {
      throw new RnnWasmError("E_SHAPE", `${where}: expected shape ${fmt(want)} (batch first), received ${fmt(shape)}`);
    }
  }
  if (inp.dtype === "int32") {
    if (data instanceof Int32Array) return { data, shape };
    const ids = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isFinite(v)) throw new RnnWasmError("E_TOKEN_RANGE", `${where}: token id at flat index ${i} is ${v}`);
      ids[i] = Math.trunc(v);
    }
    return { data: ids, shape };
  }
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  for (let i = 0; i < f.length; i++) {
    if (!Number.isFinite(f[i])) {
      throw new RnnWasmError("E_VALUE", `${where}: value at flat index ${i} is ${f[i]}; inputs must be finite numbers`);
    }
  }
  return { data: f, shape };
}

/** Splits predict's argument into one raw input per model input. */
export function splitInputs(x: unknown, spec: ModelSpec): unknown[] {
  const n = spec.inputs.length;
  if (Array.isArray(x) && x.length > 0 && isTensorLike(x[0])) {
    if (x.length !== n) throw new RnnWasmError("E_SHAPE", `model ${spec.name} has ${n} input(s), received ${x.length} tensors`);
    return x;
  }
  if (n !== 1) {
    throw new RnnWasmError("E_SHAPE", `model ${spec.name} has ${n} inputs (${spec.inputs.map((i) => i.name).join(", ")}); pass an array of ${n} tensors`);
  }
  return [x];
}

export function checkInputs(x: unknown, spec: ModelSpec): InputTensor[] {
  const raws = splitInputs(x, spec);
  const tensors = raws.map((r, i) => checkInput(r, spec.inputs[i], `input ${spec.inputs[i].name}`));
  const b = tensors[0].shape[0];
  tensors.forEach((t, i) => {
    if (t.shape[0] !== b) {
      throw new RnnWasmError("E_SHAPE", `input ${spec.inputs[i].name} has batch ${t.shape[0]}, input ${spec.inputs[0].name} has batch ${b}`);
    }
  });
  return tensors;
}
