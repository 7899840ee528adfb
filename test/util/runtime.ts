/**
 * Which implementation the parity suite checks. By default rnn-wasm itself, through its public
 * API (src/index.ts). With RNN_PARITY_TARGET=reference the same tests run against the float64
 * reference behind a loadModel-shaped adapter (test/util/reference-runtime.ts): that mode only
 * validates the test code (cases, inputs, tolerances, error expectations) while the runtime
 * does not exist yet; it is never what the suite is meant to check.
 */
export interface RuntimeTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

export interface RuntimeModel {
  readonly inputs: { name: string; shape: (number | null)[]; dtype: "float32" | "int32" }[];
  readonly outputs: { name: string; shape: (number | null)[] }[];
  predict(x: RuntimeTensor | RuntimeTensor[] | number[][] | number[][][]): RuntimeTensor | RuntimeTensor[];
  dispose(): void;
}

export interface RuntimeModule {
  loadModel(source: unknown, options?: unknown): Promise<RuntimeModel>;
  RnnWasmError: abstract new (...args: never[]) => Error & { code: string };
}

export const TARGET: "rnn-wasm" | "reference" = process.env.RNN_PARITY_TARGET === "reference" ? "reference" : "rnn-wasm";

/** The module under test. Fails (at import) until src/index.ts exists, which is expected. */
export async function loadRuntime(): Promise<RuntimeModule> {
  if (TARGET === "reference") return (await import("./reference-runtime.ts")) as unknown as RuntimeModule;
  const specifier = new URL("../../src/index.ts", import.meta.url).href;
  return (await import(/* @vite-ignore */ specifier)) as RuntimeModule;
}

export function asList(y: RuntimeTensor | RuntimeTensor[]): RuntimeTensor[] {
  return Array.isArray(y) ? y : [y];
}
