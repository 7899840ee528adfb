/**
 * Finds, compiles and caches the kernel module. Platform-neutral: the platform entries
 * (src/node.ts, src/browser.ts, src/workerd.ts) register how to obtain the two builds by
 * default; callers can always pass `options.wasm` (a compiled WebAssembly.Module — what edge
 * runtimes that forbid compiling from bytes need — or bytes, or a URL).
 */
import { RnnWasmError } from "../errors.js";

export type SimdChoice = "auto" | "relaxed" | "baseline";
export type WasmSource = WebAssembly.Module | BufferSource | string | URL;

/** How a platform entry provides the builds when the caller passes none. */
export interface WasmProvider {
  /** Returns the module (or bytes) for a build; "relaxed" may return null if not shipped. */
  load(build: "relaxed" | "baseline"): Promise<WebAssembly.Module | BufferSource | null>;
}

let defaultProvider: WasmProvider | null = null;

export function setDefaultWasmProvider(p: WasmProvider): void {
  defaultProvider = p;
}

// A one-function module whose body is `f32x4.relaxed_madd(0, 0, 0)`: engines without
// relaxed SIMD refuse to validate it.
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const v128Const = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...v128Const, ...v128Const, ...v128Const, 0xfd, 0x85, 0x02, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

let relaxedSupported: boolean | null = null;

/** Whether this engine validates relaxed-SIMD instructions (checked once). */
export function engineHasRelaxedSimd(): boolean {
  if (relaxedSupported === null) {
    try {
      relaxedSupported = WebAssembly.validate(relaxedProbe());
    } catch {
      relaxedSupported = false;
    }
  }
  return relaxedSupported;
}

const moduleCache = new Map<string, Promise<WebAssembly.Module>>();
const sourceCache = new WeakMap<object, Promise<WebAssembly.Module>>();

async function compileSource(src: WebAssembly.Module | BufferSource | string | URL, what: string): Promise<WebAssembly.Module> {
  try {
    if (src instanceof WebAssembly.Module) return src;
    if (typeof src === "string" || src instanceof URL) {
      const res = await fetch(src);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (typeof WebAssembly.compileStreaming === "function" && (res.headers.get("content-type") ?? "").includes("application/wasm")) {
        return await WebAssembly.compileStreaming(res);
      }
      return await WebAssembly.compile(await res.arrayBuffer());
    }
    return await WebAssembly.compile(src as BufferSource);
  } catch (e) {
    throw new RnnWasmError("E_WASM", `could not compile the rnn-wasm kernels (${what}): ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

export interface KernelModule {
  module: WebAssembly.Module;
  build: "relaxed" | "baseline";
}

/**
 * Resolves the module to instantiate. With `wasm` given, that source is used as is (its
 * build is read from its `relaxed_build` export after instantiation). Otherwise the
 * default provider's relaxed build is used when the engine validates relaxed SIMD and the
 * caller allows it, else the baseline build.
 */
export async function getKernelModule(wasm: WasmSource | undefined, simd: SimdChoice = "auto"): Promise<WebAssembly.Module> {
  if (simd !== "auto" && simd !== "relaxed" && simd !== "baseline") {
    throw new RnnWasmError("E_ARGUMENT", `options.simd must be "auto", "relaxed" or "baseline"; received ${JSON.stringify(simd)}`);
  }
  if (wasm !== undefined) {
    if (wasm instanceof WebAssembly.Module) return wasm;
    if (typeof wasm === "object" && wasm !== null && !(wasm instanceof URL)) {
      let p = sourceCache.get(wasm);
      if (!p) {
        p = compileSource(wasm, "options.wasm bytes");
        sourceCache.set(wasm, p);
      }
      return p;
    }
    const key = `url:${String(wasm)}`;
    let p = moduleCache.get(key);
    if (!p) {
      p = compileSource(wasm, String(wasm));
      moduleCache.set(key, p);
      p.catch(() => moduleCache.delete(key));
    }
    return p;
  }
  if (!defaultProvider) {
    throw new RnnWasmError(
      "E_WASM",
      "no kernel module available: import rnn-wasm through its package entry (Node, browser, workerd, Deno) or pass options.wasm",
    );
  }
  if (simd === "relaxed" && !engineHasRelaxedSimd()) {
    throw new RnnWasmError("E_WASM", 'options.simd is "relaxed" but this engine does not support relaxed SIMD');
  }
  const build: "relaxed" | "baseline" = simd === "baseline" ? "baseline" : engineHasRelaxedSimd() ? "relaxed" : "baseline";
  const key = `default:${build}`;
  let p = moduleCache.get(key);
  if (!p) {
    const provider = defaultProvider;
    p = (async () => {
      let src = await provider.load(build);
      if (src === null && build === "relaxed") src = await provider.load("baseline");
      if (src === null) throw new RnnWasmError("E_WASM", `the ${build} kernel build is not available`);
      return compileSource(src, `${build} build`);
    })();
    moduleCache.set(key, p);
    p.catch(() => moduleCache.delete(key));
  }
  return p;
}
