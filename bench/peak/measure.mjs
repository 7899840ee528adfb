// Measures peak multiply-add throughput of one peak build (bench/peak/peak.ts) in this
// process's wasm engine. Run as a child process by the harness:
//   node [--experimental-wasm-relaxed-simd] bench/peak/measure.mjs <peak.wasm> [runs] [targetMs]
// Prints one JSON line: per kernel variant, GMAC/s median/min/max over `runs` timed calls.
import { readFileSync } from "node:fs";

const [file, runsArg = "7", targetArg = "60"] = process.argv.slice(2);
const runs = Number(runsArg);
const targetMs = Number(targetArg);
const bytes = readFileSync(file);
let instance;
try {
  ({ instance } = await WebAssembly.instantiate(bytes, { env: { abort() { throw new Error("abort"); } } }));
} catch (e) {
  console.log(JSON.stringify({ file, error: `engine refused the module: ${e.message}` }));
  process.exit(0);
}
const ex = instance.exports;
ex.fill_weights(1.5);
const variants = [
  { name: "regs-4", fn: ex.peak_regs_4, macsPerUnit: 4 * 4 },
  { name: "regs-8", fn: ex.peak_regs_8, macsPerUnit: 8 * 4 },
  { name: "regs-12", fn: ex.peak_regs_12, macsPerUnit: 12 * 4 },
  { name: "load-8", fn: ex.peak_load_8, macsPerUnit: 4096 },
];
const median = (v) => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const results = {};
let sink = 0;
for (const v of variants) {
  // Warm up (tier-up to the optimising compiler), then size one call to about targetMs.
  let units = 1000;
  for (;;) {
    const t0 = performance.now();
    sink += v.fn(units, 0.5);
    const ms = performance.now() - t0;
    if (ms > targetMs / 4) { units = Math.max(1, Math.round((units * targetMs) / ms)); break; }
    units *= 4;
  }
  const gmacs = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    sink += v.fn(units, 0.5 + r * 1e-3);
    const s = (performance.now() - t0) / 1000;
    gmacs.push((units * v.macsPerUnit) / s / 1e9);
  }
  results[v.name] = { median: median(gmacs), min: Math.min(...gmacs), max: Math.max(...gmacs), n: runs };
}
console.log(JSON.stringify({ file, relaxed: Boolean(ex.RELAXED?.value ?? ex.RELAXED), node: process.version, results, sink: Number.isFinite(sink) }));
