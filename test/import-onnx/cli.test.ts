/**
 * `rnn-wasm export model.onnx` with the flags, through the built bin as a user runs it:
 * the bundle is the one exportBundle writes for the same bindings, and bad flags are one line on
 * stderr with the code (2 for malformed flags, 1 for bindings the graph does not have).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { ensureCliBuilt, errorLine, ROOT, runCli, tempDir } from "../cli/helpers.ts";
import { GraphBuilder } from "./graph.ts";
import { dataFile } from "../util/data.ts";

const SILERO = "real-models/onnx-silero-vad";

describe("rnn-wasm export model.onnx", () => {
  let dir: string;
  beforeAll(() => {
    ensureCliBuilt();
    dir = tempDir("onnx");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ["silero_vad_v5.onnx", ["--input", "input=1x576", "--const", "sr=16000", "--state", "state=stateN"], { inputs: { input: [1, 576] }, constants: { sr: 16000 }, state: { state: "stateN" } }],
    ["silero_vad_legacy.onnx", ["--input", "input=1x256", "--const", "sr=8000", "--state", "h=hn", "--state", "c=cn", "--dtype", "f16"], { inputs: { input: [1, 256] }, constants: { sr: 8000 }, state: { h: "hn", c: "cn" }, dtype: "f16" as const }],
    ["silero_vad_half.onnx", ["--input", "input=?x576", "--state", "state=stateN"], { inputs: { input: ["?" as const, 576] }, state: { state: "stateN" } }],
  ])("%s with %j writes the bundle exportBundle writes", async (file, flags, opts) => {
    const out = join(dir, `${file}.rnnb`);
    const r = runCli(["export", dataFile(`${SILERO}/${file}`), "-o", out, ...flags]);
    expect(r.code, r.stderr).toBe(0);
    const want = await exportBundle(dataFile(`${SILERO}/${file}`), opts);
    expect(Buffer.compare(readFileSync(out), Buffer.from(want))).toBe(0);
  });

  it.each([
    ["--const without a value", ["--const", "sr"]],
    ["--const that is not a number", ["--const", "sr=fast"]],
    ["--input with a negative dim", ["--input", "input=1x-5"]],
    ["--input with a word for a dim", ["--input", "input=1xmany"]],
    ["--state without an output", ["--state", "state"]],
  ])("%s: exit 2, one line naming the flag", (_what, flags) => {
    const r = runCli(["export", dataFile(`${SILERO}/silero_vad_v5.onnx`), "-o", join(dir, "bad.rnnb"), ...flags]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLine(r)).toMatch(new RegExp(`E_USAGE.*${flags[0]}`));
  });

  it("inspect model.onnx, nothing bound: exit 0, the declared inputs and the bindings the graph needs", () => {
    const r = runCli(["inspect", dataFile(`${SILERO}/silero_vad_v5.onnx`)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Graph inputs: input\s+float32\s+\[\?, \?\]/);
    expect(r.stdout).toMatch(/state\s+float32\s+\[2, \?, 128\]/);
    expect(r.stdout).toMatch(/To bind:\s+--const sr=16000 --state state=stateN/);
    expect(r.stdout).toMatch(/sr: decides If_0 \(compared with 16000\)/);
    expect(r.stdout).toMatch(/Export:\s+not as bound: E_ARGUMENT: .*--input input=/);
  });

  it("inspect model.onnx with the bindings: what folded (the If on sr), what runs, the state, the batch", () => {
    const r = runCli(["inspect", dataFile(`${SILERO}/silero_vad_v5.onnx`), "--input", "input=1x576", "--const", "sr=16000", "--state", "state=stateN"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sr\s+int64\s+\[\]\s+constant 16000/);
    expect(r.stdout).toMatch(/Export:\s+any batch size/);
    expect(r.stdout).toMatch(/Folded:.*\bIf \d+/);
    expect(r.stdout).toMatch(/Translated:.*\bLSTM 1\b.*-> \d+ rnn-wasm ops/);
    expect(r.stdout).toMatch(/States:\s+state \(None, 2, 128\)/);
    expect(r.stdout).not.toMatch(/To bind:/);
    // the layer table names each node with its ONNX op type (a fused Conv + Relu as both)
    expect(r.stdout).toMatch(/decoder\/rnn\/LSTM \(LSTM\)/);
    expect(r.stdout).toMatch(/encoder\/0\/reparam_conv\/Conv\+\S+ \(Conv\+Relu\)/);
  });

  it("inspect model.onnx --json: the same facts as a document", () => {
    const r = runCli(["inspect", dataFile(`${SILERO}/silero_vad_legacy.onnx`), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { onnx: { opset: number; hints: { constants: { input: string }[]; state: { input: string; output: string }[] }; export: { ok: boolean; needsBindings: boolean } } };
    expect(doc.onnx.opset).toBe(16);
    expect(doc.onnx.hints.constants.map((h) => h.input)).toEqual(["sr"]);
    expect(doc.onnx.hints.state).toEqual([{ input: "h", output: "hn" }, { input: "c", output: "cn" }]);
    expect(doc.onnx.export).toMatchObject({ ok: false, needsBindings: true });
  });

  it("inspect of an ONNX graph with an operator rnn-wasm lacks: the graph printed, then exit 1 with the code", () => {
    const g = new GraphBuilder();
    g.input("X", ["batch", 3]);
    g.node("NonZero", ["X"], ["Y"], {}, "nz");
    g.output("Y");
    const file = join(dir, "nonzero.onnx");
    writeFileSync(file, g.model());
    const r = runCli(["inspect", file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Nodes:\s+1 .*NonZero 1/);
    expect(errorLine(r)).toMatch(/E_UNSUPPORTED_LAYER.*NonZero/);
  });

  it("ONNX bindings on a model that is not ONNX: exit 2", () => {
    const r = runCli(["inspect", join(ROOT, "models/sine.rnnb"), "--const", "sr=16000"]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLine(r)).toMatch(/E_USAGE.*bind ONNX graphs/);
  });

  it.each([
    ["--const for an input the graph lacks", ["--const", "rate=16000"], /E_ARGUMENT.*--const rate.*no input rate/],
    ["--state whose output the graph lacks", ["--input", "input=1x576", "--state", "state=next"], /E_ARGUMENT.*--state state=next.*no output next/],
    ["an If left on a runtime input (sr unbound)", ["--input", "input=1x576"], /E_UNSUPPORTED_LAYER.*sr.*--const/],
  ])("%s: exit 1, one line with the code and the reason", (_what, flags, line) => {
    const r = runCli(["export", dataFile(`${SILERO}/silero_vad_v5.onnx`), "-o", join(dir, "bad.rnnb"), ...flags]);
    expect(r.code, r.stderr).toBe(1);
    expect(errorLine(r)).toMatch(line);
  });
});
