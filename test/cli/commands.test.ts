/**
 * What the CLI does for the models users have: `inspect` shows a model with an unsupported
 * layer before it refuses it; `predict --text` on a model that reads ids as floats (the Aesop
 * model); `generate`; `export` refuses a tokenizer a model cannot read, and takes a
 * character-level vocabulary with --char-level. Outputs are checked against the library.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, type Tensor } from "../../src/index.ts";
import { rngFor } from "../util/prng.ts";
import { randomizeWeights } from "../util/tfjs.ts";
import { ensureCliBuilt, errorLine, ROOT, runCli, saveModel, tempDir } from "./helpers.ts";

const AESOP = join(ROOT, "models/aesop-next-word.rnnb");
let dir: string;

beforeAll(async () => {
  ensureCliBuilt();
  await tf.setBackend("cpu");
  dir = tempDir("commands");
}, 600_000);

describe("inspect on a model with a layer rnn-wasm cannot run", () => {
  it("prints every layer with its parameter count, marks the unsupported one, then exits 1 with the error line", async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ name: "conv", filters: 4, kernelSize: 3, inputShape: [8, 8, 1] }),
        tf.layers.flatten({ name: "flat" }),
        tf.layers.dense({ name: "head", units: 2 }),
      ],
    });
    const json = await saveModel(m, join(dir, "conv2d"));
    const r = runCli(["inspect", json]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_UNSUPPORTED_LAYER: .*conv.*Conv2D/);
    const rows = r.stdout.split("\n");
    const row = (name: string) => rows.find((l) => l.startsWith(`${name} (`)) ?? "";
    expect(row("conv")).toMatch(/^conv \(Conv2D\)\s+40\s+<- unsupported$/);
    expect(row("flat")).toMatch(/^flat \(Flatten\)\s+0$/);
    expect(row("head")).toMatch(new RegExp(`^head \\(Dense\\)\\s+${(m.layers[2].countParams()).toLocaleString("en-US")}$`));
    expect(r.stdout).toMatch(new RegExp(`^Total params: ${m.countParams().toLocaleString("en-US")}$`, "m"));
    const j = runCli(["inspect", json, "--json"]);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as { layers: { name: string; type: string; params: number; unsupported: boolean }[]; error: { code: string } };
    expect(doc.layers.map((l) => [l.name, l.type, l.params, l.unsupported])).toEqual([["conv", "Conv2D", 40, true], ["flat", "Flatten", 0, false], ["head", "Dense", m.layers[2].countParams(), false]]);
    expect(doc.error.code).toBe("E_UNSUPPORTED_LAYER");
    m.dispose();
  });
});

describe("models that read ids as floats (the shipped Aesop model)", () => {
  it("predict --text encodes the prompt as [1, T, 1] floats and prints what the library predicts", async () => {
    const r = runCli(["predict", AESOP, "--text", "had a general"]);
    expect(r.code, r.stderr).toBe(0);
    const model = await loadModel(readFileSync(AESOP), { simd: "baseline" }); // the CLI runs the baseline build (Node 20 without the flag)
    const ids = model.tokenizer!.encode("had a general");
    const y = model.predict({ data: Float32Array.from(ids), shape: [1, ids.length, 1] }) as Tensor;
    const printed = JSON.parse(r.stdout) as number[][];
    expect(printed[0]).toHaveLength(112);
    expect(printed[0]).toEqual(Array.from(y.data));
    model.dispose();
  });

  it("generate continues a prompt as model.generate does, greedy and seeded sampling", async () => {
    const model = await loadModel(readFileSync(AESOP), { simd: "baseline" }); // the CLI runs the baseline build (Node 20 without the flag)
    for (const opts of [{ steps: 8 }, { steps: 6, temperature: 0.8, topK: 5, seed: 7 }]) {
      const args = ["generate", AESOP, "--prompt", "had a general", "--steps", String(opts.steps)];
      if ("seed" in opts) args.push("--temperature", String(opts.temperature), "--top-k", String(opts.topK), "--seed", String(opts.seed));
      const r = runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${model.generate("had a general", opts)}\n`);
    }
    expect(runCli(["generate", AESOP, "--prompt", "had a general", "--json", "--steps", "3"]).stdout).toBe(`${JSON.stringify(model.generate("had a general", { steps: 3 }))}\n`);
    model.dispose();
  });

  it("generate: usage errors exit 2, a model that reads no token sequence exits 1", () => {
    expect(errorLine(runCli(["generate", AESOP]))).toMatch(/^rnn-wasm: E_USAGE: give the prompt/);
    expect(errorLine(runCli(["generate", AESOP, "--prompt", "x", "--ids", "[1]"]))).toMatch(/^rnn-wasm: E_USAGE: give the prompt/);
    expect(errorLine(runCli(["generate", AESOP, "--prompt", "x", "--steps", "0"]))).toMatch(/--steps must be a positive integer/);
    const r = runCli(["generate", join(ROOT, "models/sine.rnnb"), "--ids", "[1, 2]"]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_ARGUMENT: /);
  });
});

describe("export and vocabularies", () => {
  it("refuses a tokenizer for a model that takes float features", async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ name: "lstm", units: 3, inputShape: [null, 4] })] });
    const json = await saveModel(m, join(dir, "floats"));
    writeFileSync(join(dir, "vocab.json"), JSON.stringify({ the: 1, cat: 2 }));
    const r = runCli(["export", json, "-o", join(dir, "floats.rnnb"), "--tokenizer", join(dir, "vocab.json")]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_ARGUMENT: .*model\.json: a tokenizer needs a model that reads token ids .*: input \S+ takes float32 values of shape \[batch, time, 4\]$/);
    m.dispose();
  });

  it("--char-level: a plain character map encodes one id per character", async () => {
    const m = tf.sequential({
      layers: [tf.layers.embedding({ name: "emb", inputDim: 4, outputDim: 3, inputLength: 6 }), tf.layers.lstm({ name: "lstm", units: 2 })],
    });
    randomizeWeights(m, rngFor("cli char-level"));
    const json = await saveModel(m, join(dir, "chars"));
    writeFileSync(join(dir, "chars.json"), JSON.stringify({ a: 1, b: 2, c: 3 }));
    const out = join(dir, "chars.rnnb");
    const e = runCli(["export", json, "-o", out, "--tokenizer", join(dir, "chars.json"), "--char-level"]);
    expect(e.code, e.stderr).toBe(0);
    const model = await loadModel(readFileSync(out), { simd: "baseline" });
    expect(Array.from(model.tokenizer!.encode("cab"))).toEqual([0, 0, 0, 3, 1, 2]);
    const r = runCli(["predict", out, "--text", "cab"]);
    expect(r.code, r.stderr).toBe(0);
    const y = model.predict({ data: Int32Array.from([0, 0, 0, 3, 1, 2]), shape: [1, 6] }) as Tensor;
    expect(JSON.parse(r.stdout)).toEqual([Array.from(y.data)]);
    expect(errorLine(runCli(["export", json, "-o", out, "--char-level"]))).toMatch(/^rnn-wasm: E_USAGE: .*--char-level apply to a tokenizer/);
    model.dispose();
    m.dispose();
  });
});
