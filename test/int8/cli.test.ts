/**
 * `rnn-wasm export --dtype int8` and `inspect` of the result, through the built bin (dist/cli.js,
 * rebuilt when stale): the bundle is int8, about 4x smaller than f32 for an embedding model,
 * and `predict` runs it.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readBundle } from "../../src/format/reader.ts";
import { ensureCliBuilt, runCli, tempDir, writeArtifacts } from "../cli/helpers.ts";
import { INT8_WEIGHTS } from "../tolerance.ts";
import { imdbSizedModel } from "../util/tfjs.ts";

let source = "";
beforeAll(async () => {
  ensureCliBuilt();
  source = writeArtifacts(await imdbSizedModel(), tempDir("int8-cli-source"));
}, 600_000);

describe("rnn-wasm export --dtype int8", () => {
  it("writes an int8 bundle that inspect reports and predict runs", async () => {
    const dir = tempDir("int8-cli");
    const [f32, i8] = [join(dir, "m32.rnnb"), join(dir, "m8.rnnb")];
    for (const [out, dtype] of [[f32, "f32"], [i8, "int8"]]) {
      const r = runCli(["export", source, "-o", out, "--dtype", dtype]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^.*m${dtype === "f32" ? 32 : 8}\\.rnnb: [\\d,]+ bytes, ${dtype}, 40,353 params`));
    }
    // Embedding(1000, 32) + LSTM(32) + Dense(1), 40k parameters: 4x on the matrices, less the
    // per-row scales of the table (one f32 per 32 values), the f32 biases and the header
    expect(statSync(f32).size / statSync(i8).size).toBeGreaterThan(3.2);
    const { readFileSync } = await import("node:fs");
    const header = readBundle(readFileSync(i8)).header;
    expect(header.sections.filter((s) => s.dtype === "i8").length).toBe(4);
    const inspect = runCli(["inspect", i8]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/^Dtype:\s+int8$/m);
    expect(inspect.stdout).toMatch(/^Weight bytes:\s+[\d,]+ B .*\(int8, packed for the kernels\)$/m);
    const json = JSON.parse(runCli(["inspect", source, "--dtype", "int8", "--json"]).stdout);
    expect(json.dtype).toBe("int8");
    expect(json.bundleBytes).toBe(statSync(i8).size);
    const ids = JSON.stringify([Array.from({ length: 100 }, (_, i) => (i * 13) % 1000)]);
    const [p32, p8] = [f32, i8].map((m) => (JSON.parse(runCli(["predict", m, "--input", ids]).stdout) as number[][])[0][0]);
    expect(Math.abs(p8 - p32)).toBeLessThan(INT8_WEIGHTS.abs);
  }, 120_000);
});
