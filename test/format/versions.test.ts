/**
 * Which format a bundle is written in (src/format/writer.ts, formatOf): 2 for every model
 * rnn-wasm 0.2 could run, 3 when the model uses what format 3 added, so a 0.2 runtime refuses
 * it by version instead of running it without what it cannot read. This runtime reads both.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FORMAT_VERSION, OLDEST_FORMAT } from "../../src/format/bundle.ts";
import { readBundle } from "../../src/format/reader.ts";
import { formatOf, writeBundle } from "../../src/format/writer.ts";
import { loadModel } from "../../src/index.ts";
import type { ModelSpec, Op } from "../../src/model/spec.ts";
import { ROOT } from "../runtimes/harness.ts";

const bundle = (f: string) => new Uint8Array(readFileSync(join(ROOT, "models", f)));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe("bundle format versions", () => {
  const sine = readBundle(bundle("sine.rnnb"));
  const rnnOf = (spec: ModelSpec) => spec.ops.find((o) => o.op === "rnn") as Extract<Op, { op: "rnn" }>;

  it("a Keras LSTM model is format 2, rewritten as format 2, and loads", async () => {
    expect(OLDEST_FORMAT).toBe(2);
    expect(sine.header.version).toBe(OLDEST_FORMAT);
    expect(formatOf(sine.packed.spec)).toBe(OLDEST_FORMAT);
    const again = writeBundle(sine.packed);
    expect(new DataView(again.buffer).getUint32(4, true)).toBe(OLDEST_FORMAT);
    (await loadModel(again)).dispose();
  });

  it("each thing format 3 added makes a model format 3", () => {
    const variants: [string, (s: ModelSpec) => void][] = [
      ["state pairs", (s) => void (s.states = [])],
      ["an unbatched graph", (s) => void (s.unbatched = true)],
      ["an rnn op's clip", (s) => void (rnnOf(s).clip = 3)],
      ["an rnn op's cell activation", (s) => void (rnnOf(s).cellActivation = 0)],
      ["an rnn op's activation parameters", (s) => void (rnnOf(s).activationParams = [0, 0])],
      ["an rnn op's input_forget", (s) => void (rnnOf(s).inputForget = false)],
      ["an rnn op's peepholes", (s) => void (rnnOf(s).weights.peepholes = "p")],
      ["a general tensor op", (s) => void s.ops.push({ op: "unary", fn: "abs", alpha: 0, beta: 0, layer: "u", inputs: [], outputs: [] } as unknown as Op)],
    ];
    for (const [what, change] of variants) {
      const spec = clone(sine.packed.spec);
      change(spec);
      expect(formatOf(spec), what).toBe(FORMAT_VERSION);
    }
  });

  it("the shipped Silero VAD bundle (state pairs, an STFT) is format 3 and loads", async () => {
    const silero = bundle("silero-vad-v5-16k.rnnb");
    expect(FORMAT_VERSION).toBe(3);
    expect(readBundle(silero).header.version).toBe(FORMAT_VERSION);
    (await loadModel(silero)).dispose();
  });
});
