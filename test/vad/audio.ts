/**
 * The speech recordings of test/data/speech at the rates the tests need: a WAV at its own rate
 * is read by the CLI's reader (tools/audio/wav.ts); other rates and the MP3 are decoded to mono
 * float32 by ffmpeg (both sides of a comparison get the same array, so the bytes need no pinning).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { decodeWav } from "../../tools/audio/wav.ts";
import { dataFile } from "../util/data.ts";

/** Every recording of the shared speech folder (the 16 kHz aepyx file is derived by ffmpeg). */
export const SPEECH_FILES = ["speech/silero-test-16k.wav", "speech/silero-test.mp3", "speech/aepyx_8k.wav", "speech/aepyx_16k_resampled.wav"];

const cache = new Map<string, Float32Array>();

export function speechAudio(rel: string, sampleRate: number): Float32Array {
  const key = `${rel}@${sampleRate}`;
  let a = cache.get(key);
  if (!a) {
    const path = dataFile(rel);
    if (path.endsWith(".wav")) {
      const wav = decodeWav(readFileSync(path), rel);
      if (wav.sampleRate === sampleRate) a = wav.samples;
    }
    if (!a) {
      const raw = execFileSync("ffmpeg", ["-v", "error", "-i", path, "-ac", "1", "-ar", String(sampleRate), "-f", "f32le", "-"], { maxBuffer: 1 << 28 });
      a = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    }
    cache.set(key, a);
  }
  return a;
}

export function sileroOnnx(name: string): Uint8Array {
  return new Uint8Array(readFileSync(dataFile(`real-models/onnx-silero-vad/${name}.onnx`)));
}
