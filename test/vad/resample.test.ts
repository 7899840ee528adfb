/**
 * The resampler (src/vad/resample.ts): the same output however the input is cut, the promised
 * length, the filter's stated figures (passband flat to 0.9 of the lower Nyquist, 80 dB against
 * aliasing and images above it) measured on pure tones, and sox's very-high-quality resampler
 * (a maintained library, the oracle) on real speech.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Resampler } from "../../src/vad/resample.ts";
import { rngFor } from "../util/prng.ts";
import { speechAudio } from "./audio.ts";

const RATES: [number, number][] = [[48000, 16000], [44100, 16000], [8000, 16000], [16000, 8000], [22050, 16000], [32000, 16000]];

function convert(inRate: number, outRate: number, x: Float32Array, chunks?: number[]): Float32Array {
  const r = new Resampler(inRate, outRate);
  const parts: Float32Array[] = [];
  let at = 0;
  for (let k = 0; at < x.length; k++) {
    const n = chunks ? chunks[k % chunks.length] : x.length;
    parts.push(r.process(x.subarray(at, at + n)).slice());
    at += n;
  }
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
}

const tone = (rate: number, hz: number, seconds: number, amp = 0.5) => Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
const rms = (x: ArrayLike<number>, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
};
const db = (v: number) => 20 * Math.log10(v);

describe.each(RATES)("%i Hz -> %i Hz", (inRate, outRate) => {
  it("chunking does not change a sample; the length is ceil(n·out/in)", () => {
    const rng = rngFor(`resample-${inRate}-${outRate}`);
    const x = Float32Array.from({ length: 20011 }, () => rng.uniform(-1, 1));
    const whole = convert(inRate, outRate, x);
    expect(whole.length).toBe(Math.ceil((x.length * outRate) / inRate));
    const chunked = convert(inRate, outRate, x, [1, 128, 7, 3000, 513, 2]);
    expect(chunked).toEqual(whole);
  });

  it("passes tones below 0.9 of the lower Nyquist within 0.05 dB, in phase", () => {
    const nyq = Math.min(inRate, outRate) / 2;
    for (const hz of [200, 1000, 0.5 * nyq, 0.88 * nyq]) {
      const y = convert(inRate, outRate, tone(inRate, hz, 0.5));
      const want = tone(outRate, hz, 0.5).subarray(0, y.length);
      const skip = Math.round(outRate * 0.05); // edges: the filter reads zeros before and after
      const err = Float32Array.from(y, (v, i) => v - want[i]);
      expect(Math.abs(db(rms(y, skip, y.length - skip) / rms(want, skip, y.length - skip))), `${hz} Hz gain`).toBeLessThan(0.05);
      expect(db(rms(err, skip, y.length - skip) / rms(want, skip, y.length - skip)), `${hz} Hz error`).toBeLessThan(-40);
    }
  });

  it("attenuates what would alias or image (above the lower Nyquist) by at least 75 dB", () => {
    const nyq = Math.min(inRate, outRate) / 2;
    const inNyq = inRate / 2;
    for (const hz of [1.02 * nyq, 1.3 * nyq, 0.98 * inNyq].filter((f) => f < inNyq && f > nyq)) {
      const y = convert(inRate, outRate, tone(inRate, hz, 0.5));
      const skip = Math.round(outRate * 0.05);
      expect(db(rms(y, skip, y.length - skip) / rms(tone(inRate, hz, 0.1))), `${hz} Hz`).toBeLessThan(-75);
    }
    if (outRate > inRate) {
      // upsampling: a tone's image mirrored around the input Nyquist must not appear
      const hz = 0.3 * inRate;
      const y = convert(inRate, outRate, tone(inRate, hz, 0.5));
      const want = tone(outRate, hz, 0.5).subarray(0, y.length);
      const skip = Math.round(outRate * 0.05);
      const err = Float32Array.from(y, (v, i) => v - want[i]);
      expect(db(rms(err, skip, y.length - skip) / rms(want)), "image").toBeLessThan(-70);
    }
  });
});

/** sox on raw float32 mono: `sox ... <args>` from `rate` to `outRate`. */
function sox(x: Float32Array, rate: number, outRate: number, args: string[]): Float32Array {
  const raw = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"];
  const out = execFileSync("sox", [...raw, "-r", String(rate), "-", ...raw, "-r", String(outRate), "-", ...args], { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength), maxBuffer: 1 << 26 });
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

it("matches sox's very-high-quality resampler on speech (48 kHz -> 16 kHz) within -55 dB below 6.5 kHz", () => {
  // the two filters' passbands end at different places (ours 7.2 kHz, sox -v 7.6 kHz): compare
  // the band both pass flat, through the same sox low-pass
  const x = speechAudio("speech/silero-test.mp3", 48000);
  const want = sox(x, 48000, 16000, ["rate", "-v"]);
  const got = convert(48000, 16000, x);
  expect(Math.abs(got.length - want.length)).toBeLessThanOrEqual(1);
  const band = (y: Float32Array) => sox(y, 16000, 16000, ["sinc", "-6500"]);
  const [g, w] = [band(got), band(want)];
  const n = Math.min(g.length, w.length);
  const err = Float32Array.from({ length: n }, (_, i) => g[i] - w[i]);
  const full = Float32Array.from({ length: n }, (_, i) => got[i] - want[i]);
  const inBand = db(rms(err) / rms(w, 0, n));
  console.log(`[vad] resampler vs sox rate -v on speech 48k -> 16k: ${inBand.toFixed(1)} dB below 6.5 kHz, ${db(rms(full) / rms(want, 0, n)).toFixed(1)} dB full band`);
  expect(inBand).toBeLessThan(-55);
});

it("refuses rates it cannot convert, by name", () => {
  expect(() => new Resampler(0, 16000)).toThrow(/sample rates must be integers/);
  expect(() => new Resampler(16000.5, 16000)).toThrow(/sample rates must be integers/);
  expect(() => new Resampler(44101, 16000)).toThrow(/filter phases/);
});
