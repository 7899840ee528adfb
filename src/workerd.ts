/**
 * Cloudflare workerd entry ("workerd" and "worker" export conditions). Workers may not compile
 * wasm from bytes at run time, so both builds are imported as wasm modules: wrangler (or a
 * workerd config listing them as `wasm` modules) compiles them at upload and the import yields
 * a WebAssembly.Module. The loader still picks the relaxed build only when the engine
 * validates relaxed SIMD.
 */
import simd from "./rnn-simd.wasm";
import relaxed from "./rnn-relaxed.wasm";
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

setDefaultWasmProvider({ load: async (build) => (build === "relaxed" ? relaxed : simd) });
