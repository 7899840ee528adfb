import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Node 20 validates relaxed SIMD only behind this flag; with it the kernel tests can run
    // the relaxed build next to the baseline build in one process. Models loaded with the
    // default simd: "auto" therefore run the relaxed build in the tests; the fallback to the
    // baseline build without the flag is tested in a child process (test/api).
    execArgv: ["--experimental-wasm-relaxed-simd"],
  },
});
