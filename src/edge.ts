/**
 * Vercel Edge Runtime / Next.js edge entry ("edge-light" export condition). Like workerd, the
 * edge runtime refuses to compile wasm from bytes; its bundler turns a `.wasm?module` import
 * into a precompiled WebAssembly.Module binding.
 */
import simd from "./rnn-simd.wasm?module";
import relaxed from "./rnn-relaxed.wasm?module";
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

setDefaultWasmProvider({ load: async (build) => (build === "relaxed" ? relaxed : simd) });
