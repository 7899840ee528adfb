/**
 * The Node side of rnn-wasm/vad: the shipped bundles are what tools/vad/models.ts makes from the
 * Silero v5 file, and the Transform stream over PCM bytes (split anywhere, even inside a sample)
 * reports what the stream API reports on the same audio.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { detectSpeech } from "../../src/vad/index.ts";
import { createVadStream, loadSileroVad, type VadRecord } from "../../src/vad/node.ts";
import { makeShippedModel, SHIPPED_VAD_MODELS } from "../../tools/vad/models.ts";
import { REPO_ROOT } from "../util/data.ts";
import { dataFile } from "../util/data.ts";
import { codeOf } from "../util/errors.ts";

describe("shipped Silero bundles", () => {
  it.each(SHIPPED_VAD_MODELS.map((m) => [m.file, m.sampleRate]))("models/%s is the export of silero_vad_v5.onnx at %i Hz", async (file, rate) => {
    const shipped = new Uint8Array(readFileSync(join(REPO_ROOT, "models", file)));
    expect(Buffer.compare(Buffer.from(shipped), Buffer.from(await makeShippedModel(rate)))).toBe(0);
  });
});

/** PCM bytes of a file at `rate`, by ffmpeg. */
const pcm = (file: string, rate: number, format: "s16le" | "f32le") => execFileSync("ffmpeg", ["-v", "error", "-i", dataFile(file), "-ac", "1", "-ar", String(rate), "-f", format, "-"], { maxBuffer: 1 << 28 });

/** A readable that hands out `bytes` in pieces of the given sizes, cycling. */
function pieces(bytes: Buffer, sizes: number[]): Readable {
  const parts: Buffer[] = [];
  for (let at = 0, k = 0; at < bytes.length; at += sizes[k++ % sizes.length]) parts.push(bytes.subarray(at, at + sizes[k % sizes.length]));
  return Readable.from(parts);
}

describe("VadNodeStream", () => {
  it.each([["s16le", 8000], ["f32le", 48000]] as const)("%s PCM at %i Hz, split inside samples = detectSpeech", async (encoding, rate) => {
    const model = await loadSileroVad(rate);
    const bytes = pcm("speech/aepyx_8k.wav", rate, encoding).subarray(0, rate * 2 * 40 * (encoding === "f32le" ? 2 : 1));
    const records: VadRecord[] = [];
    await pipeline(pieces(bytes, [333, 4097, 1, 8191]), createVadStream(model, { sampleRate: rate, encoding, probabilities: true }), async (source: AsyncIterable<VadRecord>) => {
      for await (const r of source) records.push(r);
    });
    const samples = encoding === "s16le" ? new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const want = detectSpeech(model, samples, { sampleRate: rate });
    const probs = records.flatMap((r) => (r.type === "probabilities" ? [...r.probabilities] : []));
    expect(probs).toEqual([...want.probabilities]);
    const segments = records.filter((r) => r.type === "segment");
    expect(segments.length).toBeGreaterThan(5);
    expect(segments).toEqual(want.segments);
    model.dispose();
  });

  it("refuses an unknown encoding; a pipeline error reaches the caller", async () => {
    const model = await loadSileroVad(16000);
    expect(codeOf(() => createVadStream(model, { encoding: "mulaw" as never }))).toBe("E_ARGUMENT");
    const nan = Buffer.alloc(4096);
    nan.writeFloatLE(NaN, 400);
    await expect(pipeline(Readable.from([nan]), createVadStream(model, { encoding: "f32le" }), async (s: AsyncIterable<unknown>) => {
      for await (const _ of s) void _;
    })).rejects.toMatchObject({ code: "E_VALUE" });
    model.dispose();
  });
});
