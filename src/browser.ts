/**
 * Browser entry ("browser" export condition): the kernel builds are fetched from next to this
 * file and compiled while they download. The `new URL("./x.wasm", import.meta.url)` form is
 * kept literal so bundlers (Vite, webpack, Parcel) see the two files and emit them as assets.
 */
import { setDefaultWasmProvider } from "./wasm/loader.js";

export * from "./index.js";

setDefaultWasmProvider({
  load: async (build) => (build === "relaxed" ? new URL("./rnn-relaxed.wasm", import.meta.url) : new URL("./rnn-simd.wasm", import.meta.url)),
});
