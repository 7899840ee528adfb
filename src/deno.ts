/**
 * Deno entry ("deno" export condition): Deno fetches file: URLs, so the kernel builds are
 * read from next to this file the same way the browser fetches them (needs --allow-read for
 * the package folder).
 */
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

setDefaultWasmProvider({
  load: async (build) => (build === "relaxed" ? new URL("./rnn-relaxed.wasm", import.meta.url) : new URL("./rnn-simd.wasm", import.meta.url)),
});
