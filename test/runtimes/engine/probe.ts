/**
 * Runs inside every engine (Chromium page, workerd worker, Deno script, Vercel edge function)
 * and in Node as the reference: loads each bundle with each SIMD choice, predicts, encodes the
 * texts with the bundle's tokenizer, and provokes two errors. Self-contained (no imports): the
 * tests compile it to JavaScript with esbuild and hand it the package's API object, resolved
 * through the package's own "exports" condition for that engine.
 */
export interface ProbeTensor {
  dtype: "float32" | "int32";
  shape: number[];
  data: number[];
}
export interface ProbeCase {
  name: string;
  inputs: ProbeTensor[];
  texts?: string[];
}
export interface ProbeOutput {
  shape: number[];
  data: number[];
}
export interface ProbeRun {
  build: string;
  outputs: ProbeOutput[];
  textIds?: number[][];
  textOutputs?: ProbeOutput[];
}
export interface ProbeError {
  isRnnWasmError: boolean;
  code: string | null;
  message: string;
}
export interface ProbeCaseResult {
  name: string;
  runs: Record<string, ProbeRun | { error: ProbeError }>;
  badInput: ProbeError | null;
  corruptBundle: ProbeError | null;
}
export interface ProbeResult {
  relaxedSupported: boolean;
  cases: ProbeCaseResult[];
}

interface TensorLike {
  data: ArrayLike<number>;
  shape: number[];
}
interface ModelLike {
  simd: string;
  tokenizer?: { encode(text: string): Int32Array };
  predict(x: unknown): TensorLike | TensorLike[];
  dispose(): void;
}
export interface ProbeApi {
  loadModel(source: Uint8Array, options?: { simd?: string }): Promise<ModelLike>;
  engineHasRelaxedSimd(): boolean;
  RnnWasmError: abstract new (...args: never[]) => Error;
}

export const SIMD_CHOICES = ["auto", "baseline", "relaxed"] as const;

function plain(t: TensorLike): ProbeOutput {
  return { shape: Array.from(t.shape), data: Array.from(t.data) };
}

function toTensor(t: ProbeTensor): { data: Float32Array | Int32Array; shape: number[] } {
  return { data: t.dtype === "int32" ? Int32Array.from(t.data) : Float32Array.from(t.data), shape: t.shape };
}

function caught(api: ProbeApi, e: unknown): ProbeError {
  const err = e as { code?: unknown; message?: unknown };
  return {
    isRnnWasmError: e instanceof api.RnnWasmError,
    code: typeof err?.code === "string" ? err.code : null,
    message: String(err?.message ?? e),
  };
}

async function expectError(api: ProbeApi, fn: () => unknown): Promise<ProbeError | null> {
  try {
    await fn();
    return null;
  } catch (e) {
    return caught(api, e);
  }
}

export async function runProbe(api: ProbeApi, bundles: Uint8Array[], cases: ProbeCase[]): Promise<ProbeResult> {
  const out: ProbeCaseResult[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const runs: ProbeCaseResult["runs"] = {};
    for (const simd of SIMD_CHOICES) {
      let model: ModelLike;
      try {
        model = await api.loadModel(bundles[i], { simd });
      } catch (e) {
        runs[simd] = { error: caught(api, e) };
        continue;
      }
      const xs = c.inputs.map(toTensor);
      const y = model.predict(xs.length === 1 ? xs[0] : xs);
      const run: ProbeRun = { build: model.simd, outputs: (Array.isArray(y) ? y : [y]).map(plain) };
      if (c.texts && model.tokenizer) {
        const ids = c.texts.map((t) => Array.from(model.tokenizer!.encode(t)));
        run.textIds = ids;
        const ty = model.predict({ data: Int32Array.from(ids.flat()), shape: [ids.length, ids[0].length] });
        run.textOutputs = (Array.isArray(ty) ? ty : [ty]).map(plain);
      }
      runs[simd] = run;
      model.dispose();
    }
    const model = await api.loadModel(bundles[i]);
    // a rank-1 input no model accepts
    const badInput = await expectError(api, () => model.predict({ data: new Float32Array(5), shape: [5] }));
    model.dispose();
    const corrupt = bundles[i].slice();
    corrupt[corrupt.length >> 1] ^= 0x5a;
    const corruptBundle = await expectError(api, () => api.loadModel(corrupt));
    out.push({ name: c.name, runs, badInput, corruptBundle });
  }
  return { relaxedSupported: api.engineHasRelaxedSimd(), cases: out };
}
