/**
 * Documents that describe code say what the code does: the bundle format's example header has
 * the version the writer writes; the README's API says outputs carry no dtype (they do not);
 * ARCHITECTURE lists the training tasks there are and what inspect reads, and speaks to its
 * readers, not its builders; training.md names no machine path and says where data comes from.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FORMAT_VERSION, OLDEST_FORMAT } from "../../src/format/bundle.ts";
import { loadModel } from "../../src/index.ts";
import { TASKS } from "../../tools/train/train.ts";
import { ROOT } from "../runtimes/harness.ts";

const doc = (f: string) => readFileSync(join(ROOT, f), "utf8");

describe("docs agree with the code", () => {
  it("docs/bundle-format.md: the title and the example header carry the format version written", () => {
    const text = doc("docs/bundle-format.md");
    expect(text.split("\n")[0]).toContain(`(version ${FORMAT_VERSION})`);
    const versions = [...text.matchAll(/"version":\s*(\d+)/g)].map((m) => Number(m[1]));
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.every((v) => v === FORMAT_VERSION || v === OLDEST_FORMAT)).toBe(true);
  });

  it("README: inputs carry a dtype, outputs do not (as model.outputs shows)", async () => {
    const model = await loadModel(readFileSync(join(ROOT, "models/sine.rnnb")));
    expect(model.outputs.every((o) => !("dtype" in o))).toBe(true);
    expect(model.inputs.every((i) => "dtype" in i)).toBe(true);
    model.dispose();
    const api = doc("README.md");
    const outputsLine = api.split("\n").find((l) => l.startsWith("model.outputs"));
    expect(outputsLine).toBeDefined();
    expect(outputsLine).not.toMatch(/\bdtype\b/);
  });

  it("docs/ARCHITECTURE.md: every training task, inspect's every source format, no notes to its builders", () => {
    const text = doc("docs/ARCHITECTURE.md");
    const train = text.split("\n").find((l) => l.startsWith("rnn-wasm train"))!;
    const listed = text.slice(text.indexOf(train), text.indexOf("```", text.indexOf(train)));
    for (const t of TASKS) expect(listed, `task ${t}`).toContain(t);
    expect(text).toMatch(/rnn-wasm inspect <model\.rnnb \| model\.json \| model\.h5 \| model\.keras \| model\.onnx>/);
    expect(text).not.toMatch(/once the project has one|keep the two in step/);
  });

  it("docs/training.md: no machine path, and where the data comes from", () => {
    const text = doc("docs/training.md");
    expect(text).not.toMatch(/\/work\//);
    expect(text).toContain("RNN_WASM_DATA");
    expect(text).toContain("test/data");
  });
});
