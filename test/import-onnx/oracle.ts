/**
 * The one oracle of the ONNX importer: onnxruntime-node (CPU, one thread) on the same graph and
 * inputs. Helpers run a graph through both engines and compare within ONNX_VS_ORT, and export
 * a graph through rnn-wasm's public path (exportBundle -> loadModel).
 */
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import { exportBundle, type ExportOptions } from "../../src/export.ts";
import { loadModel, RnnWasmError } from "../../src/index.ts";
import { assertClose, type CompareResult } from "../util/compare.ts";
import { ONNX_VS_ORT, type Tolerance } from "../tolerance.ts";

export type Model = Awaited<ReturnType<typeof loadModel>>;

export interface Feed {
  data: Float32Array | Int32Array | BigInt64Array;
  shape: number[];
}

export interface Out {
  data: Float32Array;
  shape: number[];
}

export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3 });
}

const ortType = (d: Feed["data"]) => (d instanceof Float32Array ? "float32" : d instanceof Int32Array ? "int32" : "int64");

/** Runs the session; every output as float32 with its shape. */
export async function ortRun(session: ort.InferenceSession, feeds: Record<string, Feed>): Promise<Record<string, Out>> {
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(ortType(f.data), f.data, f.shape);
  const outs = await session.run(inputs);
  const result: Record<string, Out> = {};
  for (const [name, t] of Object.entries(outs)) {
    result[name] = { data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>, Number), shape: t.dims.slice() };
  }
  return result;
}

/** One-shot: a graph's outputs on onnxruntime-node. */
export async function ortOnce(bytes: Uint8Array, feeds: Record<string, Feed>): Promise<Record<string, Out>> {
  const s = await ortSession(bytes);
  try {
    return await ortRun(s, feeds);
  } finally {
    await s.release();
  }
}

/** The graph through rnn-wasm's public path: exportBundle (the ONNX importer) -> bundle -> loadModel. */
export async function rnnModel(bytes: Uint8Array, opts: ExportOptions = {}): Promise<Model> {
  return loadModel(await exportBundle(bytes, opts));
}

/** int64 ids for ort from the Int32Array rnn-wasm takes. */
export const asInt64 = (ids: Int32Array): BigInt64Array => BigInt64Array.from(ids, (v) => BigInt(v));

/** Compares one output within ONNX_VS_ORT (or `tol`); the context names the case and its seed. */
export function expectMatch(actual: { data: ArrayLike<number>; shape: readonly number[] }, expected: Out, context: string, tol: Tolerance = ONNX_VS_ORT): CompareResult {
  return assertClose(actual, expected, tol, context);
}

/** rnn-wasm's result as a list of outputs. */
export const outputsOf = (y: unknown): { data: Float32Array | Int32Array; shape: number[] }[] =>
  (Array.isArray(y) ? y : [y]) as { data: Float32Array | Int32Array; shape: number[] }[];

/**
 * Worst comparison seen, by suite: printed once per file so the margin under ONNX_VS_ORT stays
 * visible (as the fraction of the bound used at the worst element, and the largest absolute gap).
 */
export class ErrorLog {
  private worst = new Map<string, { used: number; abs: number }>();
  add(suite: string, r: CompareResult): void {
    const e = r.worstExpected;
    const used = Number.isFinite(e) ? Math.abs(r.worstActual - e) / (ONNX_VS_ORT.abs + ONNX_VS_ORT.rel * Math.abs(e)) : 0;
    const w = this.worst.get(suite) ?? { used: 0, abs: 0 };
    this.worst.set(suite, { used: Math.max(w.used, used), abs: Math.max(w.abs, r.maxAbs) });
  }
  print(file: string): void {
    const parts = [...this.worst].map(([k, v]) => `${k} ${(100 * v.used).toFixed(1)}% (max abs ${v.abs.toExponential(1)})`);
    if (parts.length) process.stdout.write(`[${file}] worst gap to onnxruntime as a share of ${ONNX_VS_ORT.name}, by suite: ${parts.join(", ")}\n`);
  }
}

/**
 * Expects `fn` to throw an RnnWasmError with `code` whose message matches every pattern; a
 * TypeError, a trap or a success fails the test with what happened.
 */
export async function expectOnnxError(fn: () => unknown, code: string, ...patterns: RegExp[]): Promise<RnnWasmError> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected ${code}, the call succeeded`);
  if (!(error instanceof RnnWasmError)) throw new Error(`expected RnnWasmError ${code}, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`, { cause: error });
  expect(error.code, error.message).toBe(code);
  for (const p of patterns) expect(error.message).toMatch(p);
  return error;
}
