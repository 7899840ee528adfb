/**
 * examples/node runs as documented (from the repository, `rnn-wasm` resolves to the built
 * dist/node.js by self-reference) and prints what the repository's loadModel predicts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/index.ts";
import { EXACT_F32 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { ROOT, cleanup, runProcess, scratchDir } from "./harness.ts";
import { runtimeCases, type RuntimeCase } from "./models.ts";

describe("examples/node", () => {
  let dir: string | undefined;
  let textCase: RuntimeCase | undefined;

  beforeAll(async () => {
    textCase = (await runtimeCases()).find((c) => c.texts);
    dir = scratchDir("example-node");
  });
  afterAll(() => cleanup(dir));

  it("predict.mjs loads a bundle and prints the model's output for a text", async () => {
    expect(textCase, "a runtime model with a tokenizer").toBeDefined();
    const path = join(dir!, "model.rnnb");
    writeFileSync(path, textCase!.bundle);
    const text = textCase!.texts![1];
    const r = await runProcess(process.execPath, [join(ROOT, "examples/node/predict.mjs"), path, text], { cwd: ROOT, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { input: string; ids: number[]; output: number[]; simd: string };
    const model = await loadModel(textCase!.bundle, { simd: out.simd as "baseline" | "relaxed" });
    const ids = model.tokenizer!.encode(text);
    const y = model.predict({ data: ids, shape: [1, ids.length] }) as { data: Float32Array; shape: number[] };
    expect(out.input).toBe(text);
    expect(out.ids).toEqual(Array.from(ids));
    assertClose({ data: out.output, shape: y.shape }, y, EXACT_F32, `examples/node/predict.mjs, ${textCase!.origin}`);
    model.dispose();
  });

  it("predict.mjs takes JSON for a bundle without a vocabulary, and says so when the input is not JSON", async () => {
    const sine = join(ROOT, "models/sine.rnnb");
    const r = await runProcess(process.execPath, [join(ROOT, "examples/node/predict.mjs"), sine, "[[[0.5], [0.25]]]"], { cwd: ROOT, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ids?: number[]; output: number[]; simd: string };
    const model = await loadModel(readFileSync(sine), { simd: out.simd as "baseline" | "relaxed" });
    const y = model.predict([[[0.5], [0.25]]]) as { data: Float32Array; shape: number[] };
    expect(out.ids).toBeUndefined();
    assertClose({ data: out.output, shape: y.shape }, y, EXACT_F32, "examples/node/predict.mjs, sine.rnnb");
    model.dispose();
    const bad = await runProcess(process.execPath, [join(ROOT, "examples/node/predict.mjs"), sine, "some words"], { cwd: ROOT, timeoutMs: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/carries no vocabulary, so the input must be JSON/);
    expect(bad.stderr).not.toMatch(/TypeError/);
  });
});
