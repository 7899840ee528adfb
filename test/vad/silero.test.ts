/**
 * rnn-wasm/vad against silero-vad's reference loop on onnxruntime-node (test/vad/reference.ts):
 * every Silero model, every recording of test/data/speech at 16 kHz and at 8 kHz (where the
 * model serves 8 kHz). Probabilities frame by frame within VAD_PROB (one case of v4 within
 * VAD_PROB_V4_QUIET_BINS), segments identical to the sample. The audio goes through the stream
 * API in uneven chunks, so framing, context and the zero-padded last frame are exercised as a
 * caller would.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exportSileroVad, sileroInterface } from "../../src/export.ts";
import { loadModel, type Model } from "../../src/index.ts";
import { createVad, type VadUpdate } from "../../src/vad/index.ts";
import { VAD_PROB, VAD_PROB_V4_QUIET_BINS, type Tolerance } from "../tolerance.ts";
import { sileroOnnx, speechAudio, SPEECH_FILES } from "./audio.ts";
import { referenceProbabilities, referenceSegments, sileroFraming } from "./reference.ts";

/** v5 (the default) and v6 (vad-web's newest) on every recording; the other exports on one long and the short ones. */
const MODELS: [string, string[]][] = [
  ["silero_vad_v5", SPEECH_FILES],
  ["silero_vad_v6", SPEECH_FILES],
  ...["silero_vad_legacy", "silero_vad_16k_op15", "silero_vad_half"].map((m): [string, string[]] => [m, SPEECH_FILES.filter((f) => !f.includes("aepyx_16k"))]),
];

const cases = MODELS.flatMap(([name, files]) => sileroInterface(sileroOnnx(name), `${name}.onnx`).rates.map((rate) => [name, rate, files] as const));

/** Runs the audio through one stream in chunks of 1..5000 samples (a fixed pattern), collecting everything. */
export function runStream(model: Model, audio: Float32Array, sampleRate: number): { probs: Float32Array; segments: { start: number; end: number }[] } {
  const vad = createVad(model, { sampleRate });
  const probs: number[] = [];
  const segments: { start: number; end: number }[] = [];
  const take = (u: VadUpdate) => {
    expect(u.firstFrame).toBe(probs.length);
    probs.push(...u.probabilities);
    for (const e of u.events) if (e.type === "segment") segments.push({ start: e.startSample, end: e.endSample });
  };
  let size = 1;
  for (let at = 0; at < audio.length; at += size, size = (size * 7 + 13) % 5000 || 1) take(vad.push(audio.subarray(at, at + size)));
  take(vad.end());
  vad.dispose();
  return { probs: Float32Array.from(probs), segments };
}

/**
 * The bound for a case: VAD_PROB, except v4 at 16 kHz on the 8 kHz recording upsampled, whose
 * near-empty upper band v4's log spectrum amplifies (VAD_PROB_V4_QUIET_BINS says why).
 */
function boundFor(name: string, rate: number, file: string): Tolerance {
  return name === "silero_vad_legacy" && rate === 16000 && file === "speech/aepyx_8k.wav" ? VAD_PROB_V4_QUIET_BINS : VAD_PROB;
}

describe.each(cases)("%s at %i Hz", (name, rate, files) => {
  let model: Model;
  const onnx = sileroOnnx(name);
  beforeAll(async () => {
    model = await loadModel(await exportSileroVad(onnx, { sampleRate: rate, name: `${name}.onnx` }));
  });

  it.each(files)("%s: probabilities within their bound, segments identical", async (file) => {
    const bound = boundFor(name, rate, file);
    const audio = speechAudio(file, rate);
    const want = await referenceProbabilities(onnx, audio, rate);
    const got = runStream(model, audio, rate);
    expect(got.probs.length).toBe(want.length);
    let worst = 0;
    let at = -1;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got.probs[i] - want[i]);
      if (d > worst) [worst, at] = [d, i];
    }
    console.log(`[vad] ${name} ${rate} Hz ${file}: ${want.length} frames, max |Δp| ${worst.toExponential(2)} at frame ${at}`);
    expect(worst, `${bound.name}: frame ${at}`).toBeLessThanOrEqual(bound.abs);
    const { window } = sileroFraming(rate, name === "silero_vad_legacy");
    const segments = referenceSegments(want, audio.length, rate, window);
    expect(segments.length).toBeGreaterThan(0);
    expect(got.segments).toEqual(segments);
  });
});
