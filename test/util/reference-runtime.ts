/**
 * The float64 reference behind rnn-wasm's public loadModel/predict/dispose API, throwing
 * RnnWasmError (src/errors.ts) with the reference's codes. Used only to validate the parity
 * tests themselves (RNN_PARITY_TARGET=reference); see test/util/runtime.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RnnWasmError } from "../../src/errors.ts";
import { RefError, ReferenceModel, type Tensor64 } from "../reference/index.ts";

export { RnnWasmError };

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RefError) throw new RnnWasmError(e.code, e.message);
    throw e;
  }
}

interface Tensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

function fmt(shape: readonly unknown[]): string {
  return `[${shape.map((d) => (d === null ? "null" : String(d))).join(", ")}]`;
}

function nestedToTensor(x: unknown, dtype: "float32" | "int32"): Tensor {
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const flat = (x as unknown[]).flat(Infinity) as number[];
  const bad = flat.find((v) => typeof v !== "number");
  if (bad !== undefined) {
    throw new RnnWasmError("E_DTYPE", `predict: nested arrays must hold numbers, received a ${typeof bad}`);
  }
  return { data: dtype === "int32" ? Int32Array.from(flat) : Float32Array.from(flat), shape };
}

class ReferenceRuntimeModel {
  private disposed = false;
  constructor(private readonly ref: ReferenceModel) {}
  get inputs() {
    return this.ref.inputs.map((i) => ({ name: i.name, shape: i.shape.slice(), dtype: i.dtype }));
  }
  get outputs() {
    return this.ref.outputs.map((o) => ({ name: o.name, shape: o.shape.slice() }));
  }
  predict(x: unknown): Tensor | Tensor[] {
    if (this.disposed) throw new RnnWasmError("E_DISPOSED", "predict: the model has been disposed");
    const specs = this.ref.inputs;
    let list: unknown[];
    if (Array.isArray(x) && x.length > 0 && !Array.isArray(x[0]) && typeof x[0] === "object") list = x;
    else if (Array.isArray(x)) list = [nestedToTensor(x, specs[0].dtype)];
    else list = [x];
    if (list.length !== specs.length) {
      throw new RnnWasmError("E_SHAPE", `predict: the model has ${specs.length} input(s), received ${list.length}`);
    }
    const tensors: Tensor64[] = list.map((raw, k) => {
      const spec = specs[k];
      const t = raw as Partial<Tensor>;
      if (t === null || typeof t !== "object" || !Array.isArray(t.shape)) {
        throw new RnnWasmError("E_SHAPE", `input ${spec.name}: expected { data, shape }, received ${typeof raw}`);
      }
      if (!(t.data instanceof Float32Array || t.data instanceof Int32Array)) {
        const got =
          t.data === null || t.data === undefined || typeof t.data !== "object" ? `${t.data === null ? "null" : typeof t.data}` : (t.data as object).constructor?.name ?? "object";
        throw new RnnWasmError("E_DTYPE", `input ${spec.name}: expected Float32Array or Int32Array data (${spec.dtype}), received ${got}`);
      }
      if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new RnnWasmError("E_SHAPE", `input ${spec.name}: invalid shape ${fmt(t.shape)}`);
      }
      const size = t.shape.reduce((a, b) => a * b, 1);
      if (size !== t.data.length) {
        throw new RnnWasmError("E_SHAPE", `input ${spec.name}: shape ${fmt(t.shape)} holds ${size} values, received ${t.data.length}`);
      }
      if (t.shape.length !== spec.shape.length || spec.shape.some((d, i) => d !== null && d !== t.shape![i])) {
        throw new RnnWasmError("E_SHAPE", `input ${spec.name}: expected shape ${fmt(spec.shape)}, received ${fmt(t.shape)}`);
      }
      if (spec.dtype === "int32") {
        for (let i = 0; i < t.data.length; i++) {
          if (!Number.isInteger(t.data[i])) {
            throw new RnnWasmError("E_DTYPE", `input ${spec.name}: token ids must be integers, received ${t.data[i]} at ${i}`);
          }
        }
      }
      return { shape: t.shape.slice(), data: Float64Array.from(t.data) };
    });
    const ys = wrap(() => this.ref.predict(tensors)).map((y) => ({ data: Float32Array.from(y.data), shape: y.shape.slice() }));
    return ys.length === 1 ? ys[0] : ys;
  }
  dispose(): void {
    this.disposed = true;
  }
}

function readModelFiles(path: string): { modelJson: unknown; weights: ArrayBuffer[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new RnnWasmError("E_IO", `cannot read ${path}: ${(e as Error).message}`);
  }
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(text);
  } catch (e) {
    throw new RnnWasmError("E_MODEL_JSON", `${path}: not valid JSON (${(e as Error).message})`);
  }
  const manifest = (modelJson as { weightsManifest?: { paths?: string[] }[] })?.weightsManifest;
  if (!Array.isArray(manifest)) throw new RnnWasmError("E_MODEL_JSON", `${path}: weightsManifest missing`);
  const weights = manifest.flatMap((g) =>
    (g.paths ?? []).map((p) => {
      try {
        const b = readFileSync(join(dirname(path), p));
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch (e) {
        throw new RnnWasmError("E_WEIGHTS", `${path}: weight shard ${p} cannot be read (${(e as Error).message})`);
      }
    }),
  );
  return { modelJson, weights };
}

export async function loadModel(source: unknown): Promise<ReferenceRuntimeModel> {
  let src = source;
  if (src instanceof URL) src = fileURLToPath(src);
  if (typeof src === "string") src = readModelFiles(src);
  if (src === null || typeof src !== "object" || !("modelJson" in src)) {
    throw new RnnWasmError("E_ARGUMENT", "loadModel: expected { modelJson, weights } or a path");
  }
  const { modelJson, weights } = src as { modelJson: unknown; weights: ArrayBuffer | ArrayBuffer[] };
  return new ReferenceRuntimeModel(wrap(() => ReferenceModel.fromArtifacts(modelJson, weights)));
}
