/**
 * rnn-wasm public API (platform-neutral). The package entries for Node, browsers and edge
 * runtimes (src/node.ts, ...) register how the kernel module and file paths are found, then
 * re-export this module.
 */
import { fail, RnnWasmError } from "./errors.js";
import { parseBundleUnchecked, validateBundle } from "./format/reader.js";
import { prepareTensorOps } from "./model/executor.js";
import { RnnModel, looksGenerative } from "./model/model.js";
import type { generate } from "./generate.js";
import type { StatefulLayers } from "./model/stateful.js";
import type { ModelSpec } from "./model/spec.js";
import type { SourceOptions } from "./sources/limits.js";
import type { Tokenizer } from "./text/tokenizer.js";
import { getKernelModule, type SimdChoice, type WasmSource } from "./wasm/loader.js";
import { KernelInstance } from "./wasm/kernels.js";

export { RnnWasmError } from "./errors.js";
export type { RnnWasmErrorCode } from "./errors.js";
export type { CallOptions, ModelInputs, NestedNumbers, Tensor, TensorInput } from "./model/inputs.js";
export { setDefaultWasmProvider, engineHasRelaxedSimd } from "./wasm/loader.js";
export type { WasmProvider, SimdChoice, WasmSource } from "./wasm/loader.js";
export type { RnnModel as Model } from "./model/model.js";

export type ModelSource =
  | Uint8Array
  | ArrayBuffer
  | { modelJson: object; weights: ArrayBuffer | ArrayBuffer[] | ArrayBufferView | ArrayBufferView[] }
  | string
  | URL;

export interface LoadOptions extends SourceOptions {
  /** The kernel module: a compiled WebAssembly.Module (edge runtimes), bytes, or a URL. */
  wasm?: WasmSource;
  /** Which kernel build: "auto" (relaxed SIMD when the engine has it), "relaxed", "baseline". */
  simd?: SimdChoice;
}

/** Resolves string/URL sources to artifacts or bundle bytes; Node registers file support. */
export interface SourceResolver {
  resolve(source: string | URL, options: SourceOptions): Promise<Uint8Array | { modelJson: object; weights: ArrayBuffer[]; name: string } | null>;
}

const resolvers: SourceResolver[] = [];

export function registerSourceResolver(r: SourceResolver): void {
  resolvers.unshift(r);
}

function isArtifactsObject(s: unknown): s is { modelJson: object; weights: unknown } {
  return typeof s === "object" && s !== null && "modelJson" in s && "weights" in s;
}

/** Loads a model: bundle bytes, tfjs artifacts in memory, or a path/URL of either. */
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<RnnModel> {
  if (typeof options !== "object" || !options) fail("E_ARGUMENT", "loadModel: options must be an object");
  let src: unknown = source;

  if (typeof src === "string" || src instanceof URL) {
    let resolved: Awaited<ReturnType<SourceResolver["resolve"]>> = null;
    for (const r of resolvers) {
      resolved = await r.resolve(src, options);
      if (resolved) break;
    }
    // URLs (bounded reads, shards from the model's folder) in their own chunk
    src = resolved ?? (await (await import("./sources/fetch.js")).fetchSource(src, options));
  }
  if (isArtifactsObject(src)) {
    // the tfjs importer and model builder are a separate chunk: bundle users never load them
    const { buildFromArtifacts, modelIdOf } = await import("./model/from-artifacts.js");
    const { packed, metadata } = buildFromArtifacts(src);
    const [kernels, extras] = await Promise.all([instantiate(options), prepareExtras(packed.spec, undefined)]);
    return new RnnModel(kernels, packed.spec, packed, { ...extras, metadata, checksum: modelIdOf });
  } else if (ArrayBuffer.isView(src) || Object.prototype.toString.call(src) === "[object ArrayBuffer]") {
    // (tags, not instanceof: bytes from another realm, e.g. an edge sandbox, still count)
    const v = src as ArrayBufferView;
    // the kernels first: their wasm CRC-32 checks the bundle (the JS loop runs cold: slow)
    const kernels = await instantiate(options);
    const read = parseBundleUnchecked(ArrayBuffer.isView(src) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(src as ArrayBuffer), (b) => kernels.crc32(b));
    // the checks of general tensor ops come with their chunk
    await prepareTensorOps(read.packed.spec);
    validateBundle(read);
    const extras = await prepareExtras(read.packed.spec, read.header.tokenizer);
    return new RnnModel(kernels, read.packed.spec, read.packed, { ...extras, metadata: read.header.metadata ?? {}, checksum: read.checksum });
  } else {
    fail(
      "E_ARGUMENT",
      `loadModel: expected bundle bytes, {modelJson, weights}, a path or a URL; received ${src === null ? "null" : typeof src}`,
    );
  }
}

async function instantiate(options: LoadOptions): Promise<KernelInstance> {
  return KernelInstance.create(await getKernelModule(options.wasm, options.simd ?? "auto"));
}

/**
 * Loads the optional chunks a model needs: the tokenizer when the bundle carries a
 * vocabulary, the generation code when the model reads token sequences, the state of
 * stateful layers when it has any.
 */
async function prepareExtras(spec: ModelSpec, tokenizerConfig: unknown): Promise<{ tokenizer?: Tokenizer; generate?: typeof generate; stateful?: typeof StatefulLayers }> {
  const gen = looksGenerative(spec) ? import("./generate.js") : undefined;
  const stateful = spec.ops.some((op) => op.op === "rnn" && op.stateful) ? import("./model/stateful.js") : undefined;
  const tensorOps = prepareTensorOps(spec);
  let tokenizer: Tokenizer | undefined;
  if (tokenizerConfig !== undefined) {
    const { Tokenizer: Tok, normalizeTokenizerConfig } = await import("./text/tokenizer.js");
    const T = spec.inputs[0].shape[0];
    try {
      tokenizer = new Tok(normalizeTokenizerConfig(tokenizerConfig), typeof T === "number" ? T : null);
    } catch (e) {
      fail("E_BUNDLE_CORRUPT", `the bundle's tokenizer is invalid: ${(e as Error).message}`, e);
    }
  }
  await tensorOps;
  return { tokenizer, generate: (await gen)?.generate, stateful: (await stateful)?.StatefulLayers };
}

export { LstmCell, GruCell, ready } from "./cells-api.js";
export type { CellArgs } from "./cells.js";
export { Session } from "./session.js";
export type { GenerateOptions } from "./generate.js";
export type { Tokenizer, TokenizerConfig } from "./text/tokenizer.js";
