/**
 * rnn-wasm/vad's "vad-web" rules against @ricky0123/vad-web itself (0.0.31, a devDependency), on
 * real speech with vad-web's default settings:
 *
 * - its real-time pipeline's core (what MicVAD runs after resampling to 16 kHz): its
 *   FrameProcessor over its Silero v5 wrapper (512 samples + 64 of context per frame), with
 *   onnxruntime-node as the engine, against a VadStream on the v5 bundle;
 * - its NonRealTimeVAD as published (onnxruntime-web in Node, the legacy v4 model in frames of
 *   1536 samples, its own resampler) against a VadStream on the legacy bundle bound for 1536.
 *
 * Same segments (the audio vad-web hands to onSpeechEnd: from the first pre-speech pad frame to
 * the frame that ends the redemption) and the same misfires.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import * as ortNode from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { exportSileroVad } from "../../src/export.ts";
import { loadModel, type Model } from "../../src/index.ts";
import { createVad } from "../../src/vad/index.ts";
import { dataFile } from "../util/data.ts";
import { speechAudio } from "./audio.ts";

const require = createRequire(import.meta.url);
const VAD_WEB = require.resolve("@ricky0123/vad-web/dist/index.js").replace(/index\.js$/, "");
type Handle = (e: { msg: string; audio?: Float32Array }) => void;
const { FrameProcessor, defaultFrameProcessorOptions } = require(`${VAD_WEB}frame-processor.js`) as {
  defaultFrameProcessorOptions: Record<string, number | boolean>;
  FrameProcessor: new (process: (f: Float32Array) => Promise<{ isSpeech: number }>, reset: () => void, o: object, msPerFrame: number) => {
    resume(): void;
    process(frame: Float32Array, handle: Handle): Promise<void>;
    endSegment(handle: Handle): void;
  };
};
const { Silero } = require(`${VAD_WEB}models/index.js`) as {
  Silero: { new: (ort: unknown, fetch: () => Promise<ArrayBuffer>) => Promise<{ process(f: Float32Array): Promise<{ isSpeech: number }>; reset_state(): void }> };
};
const FILES = ["speech/silero-test-16k.wav", "speech/aepyx_16k_resampled.wav"];
const fileBytes = (rel: string) => {
  const b = readFileSync(dataFile(rel));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

/** Our segments and misfires under vad-web's rules, as "segment start-end" / "misfire" lines. */
function ours(model: Model, audio: Float32Array): string[] {
  const vad = createVad(model, { rules: "vad-web" });
  const out: string[] = [];
  for (const u of [vad.push(audio), vad.end()]) {
    for (const e of u.events) if (e.type !== "speechStart") out.push(e.type === "segment" ? `segment ${e.startSample}-${e.endSample}` : "misfire");
  }
  vad.dispose();
  return out;
}

describe("vad-web rules = @ricky0123/vad-web", () => {
  let v5: Model;
  let legacy: Model;
  beforeAll(async () => {
    v5 = await loadModel(await exportSileroVad(dataFile("real-models/onnx-silero-vad/silero_vad_v5.onnx"), { sampleRate: 16000 }));
    legacy = await loadModel(await exportSileroVad(dataFile("real-models/onnx-silero-vad/silero_vad_legacy.onnx"), { sampleRate: 16000, frameSamples: 1536 }));
  });

  it.each(FILES)("%s: its FrameProcessor over its Silero v5 wrapper (onnxruntime-node)", async (file) => {
    const audio = speechAudio(file, 16000);
    const model = await Silero.new(ortNode, async () => fileBytes("real-models/onnx-silero-vad/silero_vad_v5.onnx"));
    const fp = new FrameProcessor(model.process, model.reset_state, defaultFrameProcessorOptions, 512 / 16);
    fp.resume();
    const want: string[] = [];
    let frame = 0;
    const handle: Handle = (e) => {
      if (e.msg === "SPEECH_END") want.push(`segment ${(frame + 1) * 512 - e.audio!.length}-${(frame + 1) * 512}`);
      else if (e.msg === "VAD_MISFIRE") want.push("misfire");
    };
    // whole frames only, as vad-web's resampler hands them out; then its end of stream
    for (frame = 0; (frame + 1) * 512 <= audio.length; frame++) await fp.process(audio.slice(frame * 512, (frame + 1) * 512), handle);
    frame--;
    fp.endSegment(handle);
    expect(want.length).toBeGreaterThan(0);
    expect(ours(v5, audio)).toEqual(want);
    console.log(`[vad] vad-web FrameProcessor + Silero v5 on ${file}: ${want.join(", ")}`);
  }, 120_000);

  it.each(FILES)("%s: its NonRealTimeVAD (onnxruntime-web, legacy model, 1536-sample frames)", async (file) => {
    const { NonRealTimeVAD } = require(`${VAD_WEB}index.js`) as { NonRealTimeVAD: { new: (o: object) => Promise<{ run(a: Float32Array, rate: number): AsyncIterable<{ audio: Float32Array; start: number; end: number }> }> } };
    const audio = speechAudio(file, 16000);
    const nrt = await NonRealTimeVAD.new({ modelFetcher: async () => fileBytes("real-models/onnx-silero-vad/silero_vad_legacy.onnx"), ortConfig: (ort: { env: { wasm: { numThreads: number } } }) => (ort.env.wasm.numThreads = 1) });
    const want: string[] = [];
    for await (const s of nrt.run(audio, 16000)) want.push(`segment ${s.end * 16 - s.audio.length}-${s.end * 16}`);
    expect(want.length).toBeGreaterThan(0);
    // (NonRealTimeVAD reports no misfires: compare its segments)
    expect(ours(legacy, audio).filter((l) => l !== "misfire")).toEqual(want);
    console.log(`[vad] vad-web NonRealTimeVAD on ${file}: ${want.length} segments equal`);
  }, 180_000);
});
