/**
 * Turns what callers pass to predict/step (tensors, typed arrays, nested arrays) into
 * validated batch-first tensors, with errors that name the input, the expected and the
 * received shape or dtype. Values (finite floats, ids in range) are checked by the executor
 * once they are in kernel memory.
 */
import { fail } from "../errors.js";
import type { InputTensor } from "./executor.js";
import type { ModelSpec } from "./spec.js";

export interface Tensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

const isTensorLike = (v: unknown): v is { data: unknown; shape: unknown } => typeof v === "object" && v !== null && "data" in v && "shape" in v;
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
  if (Array.isArray(raw)) ({ data, shape } = fromNested(raw, where));
  else if (isTensorLike(raw)) {
    const d = raw.data;
    if (!(Array.isArray(d) || (ArrayBuffer.isView(d) && !(d instanceof DataView) && typeof (d as unknown as unknown[])[0] !== "bigint"))) {
      fail("E_DTYPE", `${where}: data must be a Float32Array or Int32Array, received ${(d as object)?.constructor?.name ?? kind(d)}`);
    }
    data = d as ArrayLike<number>;
    shape = raw.shape as number[];
    const count = Array.isArray(shape) && shape.every((v) => Number.isInteger(v) && v >= 0) ? shape.reduce((a, b) => a * b, 1) : NaN;
    if (data.length !== count) fail("E_SHAPE", `${where}: shape ${JSON.stringify(raw.shape)} needs ${count} values, data holds ${data.length}`);
  } else {
    fail("E_DTYPE", `${where}: expected a tensor {data, shape} or nested arrays, received ${kind(raw)}`);
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

export function checkInputs(x: unknown, spec: ModelSpec): InputTensor[] {
  const n = spec.inputs.length;
  const several = Array.isArray(x) && isTensorLike(x[0]);
  if (several ? x.length !== n : n !== 1) {
    fail("E_SHAPE", `model ${spec.name} has ${n} input(s) (${spec.inputs.map((i) => i.name).join(", ")}); received ${several ? (x as unknown[]).length : 1}`);
  }
  const tensors = (several ? (x as unknown[]) : [x]).map((r, i) => checkInput(r, spec.inputs[i], `input ${spec.inputs[i].name}`, spec.unbatched));
  tensors.forEach((t, i) => {
    if (t.shape[0] !== tensors[0].shape[0]) fail("E_SHAPE", `input ${spec.inputs[i].name} has batch ${t.shape[0]}, input ${spec.inputs[0].name} has batch ${tensors[0].shape[0]}`);
  });
  return tensors;
}
