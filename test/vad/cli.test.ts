/**
 * `rnn-wasm vad` as a user runs it (the built bin, dist/cli.js): segments equal silero's
 * get_speech_timestamps on onnxruntime-node (test/vad/reference.ts) for the shipped model, an
 * .onnx bound on the fly and a .rnnb, with default and chosen settings; the three output
 * formats; the progress bar; refusals with their exit codes.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { dataFile } from "../util/data.ts";
import { ensureCliBuilt, errorLine, ROOT, runCli, tempDir } from "../cli/helpers.ts";
import { sileroOnnx, speechAudio } from "./audio.ts";
import { referenceProbabilities, referenceSegments, type ReferenceOptions } from "./reference.ts";

beforeAll(() => ensureCliBuilt(), 300_000);

const V5 = dataFile("real-models/onnx-silero-vad/silero_vad_v5.onnx");

async function reference(file: string, rate: number, onnx: string, options: ReferenceOptions = {}) {
  const audio = speechAudio(file, rate);
  const probs = await referenceProbabilities(sileroOnnx(onnx), audio, rate);
  return referenceSegments(probs, audio.length, rate, rate === 16000 ? 512 : 256, options).map((s) => ({ start: s.start / rate, end: s.end / rate, startSample: s.start, endSample: s.end }));
}

function json(args: string[]) {
  const r = runCli(["vad", ...args, "--json"], { timeoutMs: 120_000 });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { sampleRate: number; segments: { start: number; end: number; startSample: number; endSample: number }[] };
}

describe("rnn-wasm vad", () => {
  it("the shipped v5 on a 16 kHz and an 8 kHz file = get_speech_timestamps", async () => {
    expect(json([dataFile("speech/silero-test-16k.wav")])).toEqual({ sampleRate: 16000, segments: await reference("speech/silero-test-16k.wav", 16000, "silero_vad_v5") });
    expect(json([dataFile("speech/aepyx_8k.wav")])).toEqual({ sampleRate: 8000, segments: await reference("speech/aepyx_8k.wav", 8000, "silero_vad_v5") });
  });

  it("--model x.onnx is bound for the file's rate; flags are get_speech_timestamps' parameters", async () => {
    const flags = { threshold: 0.6, negThreshold: 0.3, minSpeechMs: 100, minSilenceMs: 300, speechPadMs: 80 };
    const got = json([dataFile("speech/aepyx_8k.wav"), "--model", dataFile("real-models/onnx-silero-vad/silero_vad_v6.onnx"), "--threshold", "0.6", "--neg-threshold", "0.3", "--min-speech-ms", "100", "--min-silence-ms", "300", "--speech-pad-ms", "80"]);
    expect(got).toEqual({ sampleRate: 8000, segments: await reference("speech/aepyx_8k.wav", 8000, "silero_vad_v6", flags) });
  });

  it("--max-speech-s splits long segments like get_speech_timestamps' max_speech_duration_s", async () => {
    const got = json([dataFile("speech/aepyx_8k.wav"), "--model", V5, "--max-speech-s", "1.5"]);
    expect(got.segments).toEqual(await reference("speech/aepyx_8k.wav", 8000, "silero_vad_v5", { maxSpeechMs: 1500 }));
    expect(got.segments.every((s) => s.end - s.start <= 1.5 + 0.06 + 1e-9)).toBe(true);
  });

  it("a 44.1 kHz stereo WAV is averaged and resampled; samples count at 44.1 kHz", () => {
    const dir = tempDir("vad-cli");
    const wav = join(dir, "stereo.wav");
    execFileSync("ffmpeg", ["-v", "error", "-y", "-i", dataFile("speech/silero-test.mp3"), "-ac", "2", "-ar", "44100", "-c:a", "pcm_s16le", wav]);
    const got = json([wav]);
    expect(got.sampleRate).toBe(44100);
    expect(got.segments.length).toBe(1);
    const [s] = got.segments;
    expect(s.startSample).toBe(Math.round(s.start * 44100));
    expect(s.endSample).toBeLessThanOrEqual(Math.ceil(2.54 * 44100));
    // the same speech as the 16 kHz decode of the same MP3 (resampled by ffmpeg), to a frame
    const at16k = json([dataFile("speech/silero-test-16k.wav")]).segments[0];
    expect(Math.abs(s.start - at16k.start)).toBeLessThan(0.033);
    expect(Math.abs(s.end - at16k.end)).toBeLessThan(0.033);
  });

  it("text and SRT output; a progress bar on stderr when asked", () => {
    const file = dataFile("speech/aepyx_8k.wav");
    const segs = json([file]).segments;
    const text = runCli(["vad", file], { timeoutMs: 120_000 });
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split("\n")).toEqual(segs.map((s) => `${s.start.toFixed(3)}\t${s.end.toFixed(3)}\t${(s.end - s.start).toFixed(3)} s`));
    const srt = runCli(["vad", file, "--srt", "--progress"], { timeoutMs: 120_000 });
    expect(srt.code).toBe(0);
    const cues = srt.stdout.trim().split("\n\n");
    expect(cues.length).toBe(segs.length);
    expect(cues[0]).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\nspeech$/);
    const ms = (t: string) => t.split(/[:,]/).map(Number).reduce((a, v, i) => a + v * [3600000, 60000, 1000, 1][i], 0);
    const [from, to] = cues[1].split("\n")[1].split(" --> ").map(ms);
    expect(from).toBe(Math.round(segs[1].start * 1000));
    expect(to).toBe(Math.round(segs[1].end * 1000));
    expect(srt.stderr).toMatch(/vad \|.*\| 100% \| 169\/169 s of audio/);
    expect(runCli(["vad", file, "--json"], { timeoutMs: 120_000 }).stderr).toBe(""); // no bar off a terminal
  });

  it("refuses bad input with one line and the right exit code", () => {
    const dir = tempDir("vad-cli-bad");
    const notWav = join(dir, "x.wav");
    writeFileSync(notWav, "not a wav file at all");
    const cases: [string[], number, RegExp][] = [
      [["vad", join(dir, "missing.wav")], 1, /E_IO: cannot read audio file .*missing\.wav: no such file/],
      [["vad", notWav], 1, /E_ARGUMENT: .*x\.wav is not a readable WAV file/],
      [["vad", dataFile("speech/silero-test-16k.wav"), "--threshold", "1.5"], 2, /E_USAGE: .*--threshold must be a number from 0 to 1/],
      [["vad", dataFile("speech/silero-test-16k.wav"), "--json", "--srt"], 2, /E_USAGE: option '--json' cannot be used with option '--srt'/],
      [["vad", dataFile("speech/silero-test-16k.wav"), "--threshold", "0.3", "--neg-threshold", "0.4"], 1, /E_ARGUMENT: --neg-threshold 0.4 is above --threshold 0.3/],
      [["vad", dataFile("speech/silero-test-16k.wav"), "--model", join(ROOT, "models/sine.rnnb")], 1, /E_ARGUMENT: .*sine\.rnnb: not a voice-activity model/],
      [["vad", dataFile("speech/silero-test-16k.wav"), "--model", dataFile("real-models/tfjs-nietzsche-lstm/model.json")], 1, /E_BUNDLE_CORRUPT|E_ARGUMENT/],
    ];
    for (const [args, code, line] of cases) {
      const r = runCli(args, { timeoutMs: 120_000 });
      expect(r.code, args.join(" ")).toBe(code);
      expect(errorLine(r), args.join(" ")).toMatch(line);
      expect(r.stdout, args.join(" ")).toBe("");
    }
  });
});
