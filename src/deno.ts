/**
 * Deno entry ("deno" export condition): Deno fetches file: URLs, so the kernel builds are
 * read from next to this file the same way the browser fetches them (needs --allow-read for
 * the package folder).
 */
import { setDefaultWasmProvider } from "./wasm/loader.js";
import { fetchWasmProvider } from "./wasm/fetch-provider.js";

export * from "./index.js";

setDefaultWasmProvider(
  fetchWasmProvider({
    baseline: () => new URL("./rnn-simd.wasm", import.meta.url),
    relaxed: () => new URL("./rnn-relaxed.wasm", import.meta.url),
  }),
);
