/**
 * The peak loops compute what they claim: compiled with asc (baseline SIMD128, and relaxed
 * SIMD where this engine validates it), each returns the sum of its accumulators, checked
 * against a float32 simulation in JS (Math.fround after every operation). A loop the
 * optimiser folded or shortened would return a different value.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const f = Math.fround;

interface PeakExports {
  peak_regs_4(n: number, seed: number): number;
  peak_regs_8(n: number, seed: number): number;
  peak_regs_12(n: number, seed: number): number;
  peak_load_8(passes: number, x: number): number;
  fill_weights(seed: number): void;
}

function compile(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const dir = mkdtempSync(join(tmpdir(), "peak-"));
  const out = join(dir, "peak.wasm");
  const enable = relaxed ? ["--enable", "simd", "--enable", "relaxed-simd"] : ["--enable", "simd"];
  execFileSync(join(root, "node_modules/.bin/asc"), [join(root, "bench/peak/peak.ts"), ...enable, "-O3", "--runtime", "stub", "-o", out], { cwd: root });
  return new Uint8Array(readFileSync(out));
}

/** acc = acc*m + c per lane, rounded like f32x4.mul then f32x4.add. */
function simulateRegs(accumulators: number, n: number, seed: number): number[] {
  const m = f(0.99990004);
  const c = f(f(seed) * f(0.0001));
  const acc = Array.from({ length: accumulators }, (_, k) => f(f(seed) + k));
  for (let i = 0; i < n; i++) for (let k = 0; k < accumulators; k++) acc[k] = f(f(acc[k] * m) + c);
  return acc;
}

function regsExpected(accumulators: number, n: number, seed: number): number {
  const acc = simulateRegs(accumulators, n, seed);
  // The kernels add accumulators pairwise, then the 4 identical lanes.
  const pair = (xs: number[]): number => (xs.length === 1 ? xs[0] : f(pair(xs.slice(0, xs.length / 2)) + pair(xs.slice(xs.length / 2))));
  let total: number;
  if (accumulators === 12) total = f(f(pair(acc.slice(0, 4)) + pair(acc.slice(4, 8))) + pair(acc.slice(8, 12)));
  else total = pair(acc);
  return f(f(f(total + total) + total) + total);
}

const builds: [string, boolean][] = [["baseline SIMD128", false], ["relaxed SIMD", true]];

describe.each(builds)("peak loops (%s)", (_name, relaxed) => {
  let ex: PeakExports | undefined;
  let refused = "";
  beforeAll(() => {
    try {
      const module = new WebAssembly.Module(compile(relaxed) as Uint8Array<ArrayBuffer>);
      ex = new WebAssembly.Instance(module, { env: { abort() { throw new Error("abort"); } } }).exports as unknown as PeakExports;
    } catch (e) {
      refused = (e as Error).message;
    }
  }, 60_000);

  it("the engine accepts the build (relaxed needs --experimental-wasm-relaxed-simd on Node 20)", () => {
    expect(refused).toBe("");
  });

  it.each([4, 8, 12])("regs-%i returns the float32 sum of its accumulators", (k) => {
    const fn = k === 4 ? ex!.peak_regs_4 : k === 8 ? ex!.peak_regs_8 : ex!.peak_regs_12;
    for (const [n, seed] of [[0, 0.5], [1, 0.25], [37, 1.5]]) {
      const want = regsExpected(k, n, seed);
      // Relaxed madd may be fused (one rounding) or not: allow float32 rounding differences.
      if (relaxed) expect(Math.abs(fn(n, seed) - want)).toBeLessThan(1e-4 * Math.abs(want) + 1e-6);
      else expect(fn(n, seed)).toBe(want);
    }
  });

  it("load-8 streams the whole weight buffer once per pass", () => {
    ex!.fill_weights(1.5);
    // w[i] = 1.5 * ((i*7919) % 1000) * 1e-6, in float32, accumulated per lane over 4096 floats.
    const w = Float32Array.from({ length: 4096 }, (_, i) => f(f(f(1.5) * f((i * 7919) % 1000)) * f(0.000001)));
    for (const passes of [1, 3]) {
      const x = f(0.75);
      const acc = new Array(32).fill(0); // 8 accumulators x 4 lanes
      for (let p = 0; p < passes; p++) for (let i = 0; i < 4096; i++) acc[i % 32] = f(f(w[i] * x) + acc[i % 32]);
      let want = 0;
      for (const v of acc) want += v;
      expect(Math.abs(ex!.peak_load_8(passes, x) - want)).toBeLessThan(1e-5 * Math.abs(want));
    }
  });
});
