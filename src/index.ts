/**
 * rnn-wasm public API (platform-neutral). The package entries for Node, browsers and edge
 * runtimes (src/node.ts, ...) register how the kernel module and file paths are found, then
 * re-export this module.
 */
import { fail, RnnWasmError } from "./errors.js";
import { parseBundleUnchecked, validateBundle } from "./format/reader.js";
import { fetchOk } from "./io.js";
import { prepareTensorOps } from "./model/executor.js";
import { RnnModel, loadGenerate, looksGenerative } from "./model/model.js";
import type { ModelSpec } from "./model/spec.js";
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

export interface LoadOptions {
  /** The kernel module: a compiled WebAssembly.Module (edge runtimes), bytes, or a URL. */
  wasm?: WasmSource;
  /** Which kernel build: "auto" (relaxed SIMD when the engine has it), "relaxed", "baseline". */
  simd?: SimdChoice;
}

/** Resolves string/URL sources to artifacts or bundle bytes; Node registers file support. */
export interface SourceResolver {
  resolve(source: string | URL): Promise<Uint8Array | { modelJson: object; weights: ArrayBuffer[]; name: string } | null>;
}

const resolvers: SourceResolver[] = [];

export function registerSourceResolver(r: SourceResolver): void {
  resolvers.unshift(r);
}

async function fetchSource(source: string | URL): Promise<Uint8Array | { modelJson: object; weights: ArrayBuffer[]; name: string }> {
  const url = source instanceof URL ? source : new URL(source, (globalThis as { location?: { href: string } }).location?.href);
  // model.json and its shards: with the tfjs importer, in its own chunk
  if (url.pathname.endsWith(".json")) return (await import("./import/fetch-artifacts.js")).fetchArtifacts(url);
  return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
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
      resolved = await r.resolve(src);
      if (resolved) break;
    }

    src = resolved ?? (await fetchSource(src));
  }
  if (isArtifactsObject(src)) {
    // the tfjs importer and model builder are a separate chunk: bundle users never load them
    const { buildFromArtifacts, modelIdOf } = await import("./model/from-artifacts.js");
    const { packed, metadata } = buildFromArtifacts(src);
    const [kernels] = await Promise.all([instantiate(options), prepareExtras(packed.spec, undefined)]);
    return new RnnModel(kernels, packed.spec, packed, { metadata, checksum: modelIdOf });
  } else if (ArrayBuffer.isView(src) || Object.prototype.toString.call(src) === "[object ArrayBuffer]") {
    // (tags, not instanceof: bytes from another realm, e.g. an edge sandbox, still count)
    const v = src as ArrayBufferView;
    // the kernels first: their wasm CRC-32 checks the bundle (the JS loop runs cold: slow)
    const kernels = await instantiate(options);
    const read = parseBundleUnchecked(ArrayBuffer.isView(src) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(src as ArrayBuffer), (b) => kernels.crc32(b));
    // the checks of general tensor ops come with their chunk
    await prepareTensorOps(read.packed.spec);
    validateBundle(read);
    const tokenizer = await prepareExtras(read.packed.spec, read.header.tokenizer);
    return new RnnModel(kernels, read.packed.spec, read.packed, {
      metadata: read.header.metadata ?? {},
      tokenizer,
      checksum: read.checksum,
    });
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
 * vocabulary, the generation code when the model reads token sequences.
 */
async function prepareExtras(spec: ModelSpec, tokenizerConfig: unknown): Promise<Tokenizer | undefined> {
  const gen = looksGenerative(spec) ? loadGenerate() : undefined;
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
  await Promise.all([gen, tensorOps]);
  return tokenizer;
}

export { LstmCell, GruCell, ready } from "./cells-api.js";
export type { CellArgs } from "./cells.js";
export { Session } from "./session.js";
export type { GenerateOptions } from "./generate.js";
export type { Tokenizer, TokenizerConfig } from "./text/tokenizer.js";
