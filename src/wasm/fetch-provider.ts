/**
 * A WasmProvider that fetches the kernel builds from URLs (the browser and Deno entries:
 * files next to the entry, addressed relative to its import.meta.url). Compiles while the
 * bytes stream in when the server labels them application/wasm; otherwise from the bytes.
 */
import { RnnWasmError } from "../errors.js";
import type { WasmProvider } from "./loader.js";

export function fetchWasmProvider(urls: { baseline: () => URL; relaxed: () => URL }): WasmProvider {
  return {
    async load(build) {
      const url = urls[build]();
      let res: Response;
      try {
        res = await fetch(url);
      } catch (e) {
        throw new RnnWasmError("E_WASM", `could not fetch the ${build} kernel build ${url.href}: ${(e as Error)?.message ?? e}`, { cause: e });
      }
      if (!res.ok) throw new RnnWasmError("E_WASM", `could not fetch the ${build} kernel build ${url.href}: HTTP ${res.status}`);
      try {
        if (typeof WebAssembly.compileStreaming === "function" && (res.headers.get("content-type") ?? "").includes("application/wasm")) {
          return await WebAssembly.compileStreaming(res);
        }
        return await WebAssembly.compile(await res.arrayBuffer());
      } catch (e) {
        throw new RnnWasmError("E_WASM", `could not compile the ${build} kernel build ${url.href}: ${(e as Error)?.message ?? e}`, { cause: e });
      }
    },
  };
}
