/**
 * Finds, compiles and caches the kernel module. Platform-neutral: the platform entries
 * (src/node.ts, src/browser.ts, src/deno.ts, src/workerd.ts, src/edge.ts) register how to
 * obtain the two builds by default; callers can always pass `options.wasm` (a compiled
 * WebAssembly.Module — what edge runtimes that forbid compiling from bytes need — or bytes,
 * or a URL).
 */
import { fail } from "../errors.js";
import { fetchOk } from "../io.js";

export type SimdChoice = "auto" | "relaxed" | "baseline";
export type WasmSource = WebAssembly.Module | BufferSource | string | URL;

/** How a platform entry provides the builds when the caller passes none. */
export interface WasmProvider {
  /** The module, bytes or URL of a build; "relaxed" may give null when not shipped. */
  load(build: "relaxed" | "baseline"): Promise<WasmSource | null>;
}

let defaultProvider: WasmProvider | null = null;

export function setDefaultWasmProvider(p: WasmProvider): void {
  defaultProvider = p;
}

let relaxedSupported: boolean | undefined;

/**
 * Whether this engine validates relaxed-SIMD instructions (checked once): a module with one
 * function `() -> v128` whose body is `f32x4.relaxed_madd` of its v128 local three times,
 * which engines without relaxed SIMD refuse.
 */
export function engineHasRelaxedSimd(): boolean {
  if (relaxedSupported === undefined) {
    try {
      relaxedSupported = WebAssembly.validate(new Uint8Array([
        0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // "\0asm", version 1
        1, 5, 1, 0x60, 0, 1, 0x7b, // types: () -> v128
        3, 2, 1, 0, // one function of type 0
        0x0a, 15, 1, 13, 1, 1, 0x7b, // code: one body of 13 bytes, one v128 local
        0x20, 0, 0x20, 0, 0x20, 0, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 x3, f32x4.relaxed_madd, end
      ]));
    } catch {
      relaxedSupported = false;
    }
  }
  return relaxedSupported;
}

/** A compiled module, also one from another realm (edge sandboxes), where instanceof fails. */
// (a boolean, not a type guard: Module is an empty interface, so a guard would narrow away
// every object type)
const isModule = (x: unknown): boolean =>
  x instanceof WebAssembly.Module || Object.prototype.toString.call(x) === "[object WebAssembly.Module]";

async function compile(src: WasmSource, what: string): Promise<WebAssembly.Module> {
  if (isModule(src)) return src as WebAssembly.Module;
  try {
    if (typeof src === "string" || src instanceof URL) {
      const res = await fetchOk(src);
      // compile while downloading when the server labels it as wasm
      return (res.headers.get("content-type") ?? "").includes("application/wasm") && WebAssembly.compileStreaming
        ? await WebAssembly.compileStreaming(res)
        : await WebAssembly.compile(await res.arrayBuffer());
    }
    return await WebAssembly.compile(src as BufferSource);
  } catch (e) {
    fail("E_WASM", `could not compile the rnn-wasm kernels (${what}): ${(e as Error)?.message ?? e}`, e);
  }
}

/** Compiled modules, by source object (bytes) or by key (URL, default build). */
const byKey = new Map<string, Promise<WebAssembly.Module>>();
const byObject = new WeakMap<object, Promise<WebAssembly.Module>>();

function cached(key: string | object, make: () => Promise<WebAssembly.Module>): Promise<WebAssembly.Module> {
  const map = (typeof key === "string" ? byKey : byObject) as Map<unknown, Promise<WebAssembly.Module>>;
  let p = map.get(key);
  if (!p) {
    map.set(key, (p = make()));
    p.catch(() => map.delete(key)); // a failed compile can be retried
  }
  return p;
}

/**
 * The module to instantiate: `wasm` as given, else the default provider's relaxed build when
 * the engine validates relaxed SIMD and `simd` allows it, else its baseline build.
 */
export function getKernelModule(wasm: WasmSource | undefined, simd: SimdChoice = "auto"): Promise<WebAssembly.Module> {
  if (simd !== "auto" && simd !== "relaxed" && simd !== "baseline") {
    fail("E_ARGUMENT", `options.simd must be "auto", "relaxed" or "baseline"; received ${JSON.stringify(simd)}`);
  }
  if (wasm !== undefined) {
    if (isModule(wasm)) return Promise.resolve(wasm as WebAssembly.Module);
    const url = typeof wasm === "string" || wasm instanceof URL;
    return cached(url ? String(wasm) : (wasm as object), () => compile(wasm, url ? String(wasm) : "options.wasm bytes"));
  }
  const provider = defaultProvider;
  if (!provider) fail("E_WASM", "no kernel module: import rnn-wasm through its package entry or pass options.wasm");
  if (simd === "relaxed" && !engineHasRelaxedSimd()) fail("E_WASM", 'options.simd is "relaxed" but this engine has no relaxed SIMD');
  const build = simd !== "baseline" && engineHasRelaxedSimd() ? "relaxed" : "baseline";
  return cached(`default:${build}`, async () => {
    const src = (await provider.load(build)) ?? (build === "relaxed" ? await provider.load("baseline") : null);
    if (src === null) fail("E_WASM", `the ${build} kernel build is not available`);
    return compile(src, `${build} build`);
  });
}
