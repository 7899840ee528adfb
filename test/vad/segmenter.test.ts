/**
 * The streaming segmenters (src/vad/segmenter.ts) against the offline rules they restate, on
 * the same probabilities: silero's get_speech_timestamps (test/vad/reference.ts) and vad-web's
 * own FrameProcessor (the package itself). Seeded random probability tracks alternate speech-
 * and silence-like runs, with values landing exactly on the thresholds, and random settings
 * cover what the recordings do not: padding wider than the minimum silence (segments that share
 * a gap), maximum speech with its split at the longest silence, zero minimums.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createSegmenter, normalizeRules, type RawEvent, type SileroRules, type VadWebRules } from "../../src/vad/segmenter.ts";
import { BASE_SEED, rngFor, type Rng } from "../util/prng.ts";
import { referenceSegments } from "./reference.ts";

const require = createRequire(import.meta.url);
const { FrameProcessor } = require("@ricky0123/vad-web/dist/frame-processor.js") as {
  FrameProcessor: new (process: (f: Float32Array) => Promise<{ isSpeech: number; notSpeech: number }>, reset: () => void, o: object, msPerFrame: number) => {
    resume(): void;
    process(frame: Float32Array, handle: (e: { msg: string; audio?: Float32Array }) => void): Promise<void>;
    endSegment(handle: (e: { msg: string; audio?: Float32Array }) => void): void;
  };
};

const pick = <T>(rng: Rng, xs: T[]): T => xs[rng.int(0, xs.length - 1)];

/** A probability track: runs of speech-like and silence-like frames, some values exactly on `edges`. */
function track(rng: Rng, frames: number, edges: number[]): number[] {
  const p: number[] = [];
  let speech = rng.next() < 0.5;
  while (p.length < frames) {
    const run = rng.int(1, 40);
    for (let i = 0; i < run && p.length < frames; i++) {
      const r = rng.next();
      p.push(r < 0.08 ? edges[rng.int(0, edges.length - 1)] : speech ? rng.uniform(0.3, 1) : rng.uniform(0, 0.6));
    }
    speech = !speech;
  }
  return p;
}

function sileroCase(rng: Rng): SileroRules {
  const threshold = rng.next() < 0.3 ? 0.5 : rng.uniform(0.2, 0.8);
  return {
    threshold,
    negThreshold: rng.next() < 0.5 ? undefined : rng.uniform(0.01, threshold),
    minSpeechMs: pick(rng, [0, 64, 250, rng.int(0, 600)]),
    minSilenceMs: pick(rng, [0, 100, rng.int(0, 400)]),
    speechPadMs: pick(rng, [0, 30, rng.int(0, 300)]),
    maxSpeechMs: rng.next() < 0.5 ? Infinity : rng.int(300, 4000),
    minSilenceAtMaxSpeechMs: pick(rng, [98, rng.int(0, 200)]),
    useMaxPossibleSilenceAtMaxSpeech: rng.next() < 0.7,
  };
}

const N_CASES = 400;

describe("silero rules: streaming = get_speech_timestamps", () => {
  it.each([[16000, 512], [8000, 256]])(`${N_CASES} seeded tracks and settings at %i Hz (seed ${BASE_SEED})`, (rate, w) => {
    const stats = { segments: 0, shared: 0, split: 0 };
    for (let k = 0; k < N_CASES; k++) {
      const rng = rngFor(`silero-${rate}-${k}`);
      const opts = sileroCase(rng);
      const norm = normalizeRules(opts) as Required<SileroRules>;
      const probs = track(rng, rng.int(0, 300), [norm.threshold, norm.negThreshold]);
      const length = Math.max(0, probs.length * w - rng.int(0, w - 1));
      const seg = createSegmenter(norm, rate, w);
      const got: { start: number; end: number; at: number }[] = [];
      const collect = (events: RawEvent[], at: number) => {
        for (const e of events) if (e.type === "segment") got.push({ start: e.start, end: e.end, at });
      };
      probs.forEach((p, i) => {
        seg.frame(p, (i + 1) * w > length);
        collect(seg.drain(), i);
      });
      seg.finish(length);
      collect(seg.drain(), Infinity);
      const want = referenceSegments(probs, length, rate, w, opts);
      const where = `case ${k} (seed ${BASE_SEED}, label silero-${rate}-${k}): ${JSON.stringify(opts)}`;
      expect(got.map(({ start, end }) => ({ start, end })), where).toEqual(want);
      stats.segments += want.length;
      for (let j = 1; j < want.length; j++) if (want[j].start - want[j - 1].end < 2 * Math.floor((rate * norm.speechPadMs) / 1000)) stats.shared++;
      if (norm.maxSpeechMs < Infinity && want.length) stats.split++;
      // latency: with padding that cannot reach a neighbour (min silence >= 2 pad) and no
      // maximum, a segment is reported on the frame where get_speech_timestamps closes it: the
      // first frame below the negative threshold at least min_silence after its end
      const pad = (rate * norm.speechPadMs) / 1000;
      const minSilence = (rate * norm.minSilenceMs) / 1000;
      if (minSilence >= 2 * pad && norm.maxSpeechMs === Infinity) {
        for (const g of got) {
          if (g.at === Infinity) continue;
          const rawEnd = g.end - Math.floor(pad);
          const closes = (j: number) => probs[j] < norm.negThreshold && w * j - rawEnd >= minSilence;
          const first = probs.findIndex((_, j) => j * w >= rawEnd && closes(j));
          expect(g.at, where).toBe(first);
        }
      }
    }
    // the cases reach what they are for: many segments, gaps shared, a maximum speech duration
    console.log(`[vad] silero rules at ${rate} Hz: ${JSON.stringify(stats)}`);
    expect(stats.segments).toBeGreaterThan(N_CASES);
    expect(stats.shared).toBeGreaterThan(N_CASES / 10);
    expect(stats.split).toBeGreaterThan(N_CASES / 10);
  });
});

describe("vad-web rules: same segments and misfires as vad-web's FrameProcessor", () => {
  it(`${N_CASES} seeded tracks and settings (seed ${BASE_SEED})`, async () => {
    const w = 512;
    for (let k = 0; k < N_CASES; k++) {
      const rng = rngFor(`vad-web-${k}`);
      const positive = rng.uniform(0.2, 0.8);
      const opts: VadWebRules = {
        rules: "vad-web",
        positiveSpeechThreshold: positive,
        negativeSpeechThreshold: rng.uniform(0, positive),
        redemptionMs: pick(rng, [1400, rng.int(0, 1500)]),
        preSpeechPadMs: pick(rng, [800, rng.int(0, 1000)]),
        minSpeechMs: pick(rng, [400, rng.int(0, 800)]),
      };
      const probs = track(rng, rng.int(0, 300), [positive, opts.negativeSpeechThreshold!]);
      // vad-web's frames carry their index, so the audio it hands back names its frames
      let i = 0;
      const fp = new FrameProcessor(async () => ({ isSpeech: probs[i], notSpeech: 1 - probs[i] }), () => {}, { ...opts, submitUserSpeechOnPause: false }, w / 16);
      fp.resume();
      const want: string[] = [];
      const handle = (e: { msg: string; audio?: Float32Array }) => {
        if (e.msg === "SPEECH_END") want.push(`segment ${e.audio![0] * w}-${(e.audio![e.audio!.length - 1] + 1) * w}`);
        else if (e.msg === "VAD_MISFIRE") want.push("misfire");
        else if (e.msg === "SPEECH_START") want.push("start");
      };
      for (i = 0; i < probs.length; i++) await fp.process(new Float32Array(w).fill(i), handle);
      fp.endSegment(handle);
      const seg = createSegmenter(normalizeRules(opts), 16000, w);
      for (const p of probs) seg.frame(p);
      seg.finish(probs.length * w);
      const got = seg.drain().map((e) => (e.type === "segment" ? `segment ${e.start}-${e.end}` : e.type === "misfire" ? "misfire" : "start"));
      expect(got, `case ${k} (seed ${BASE_SEED}): ${JSON.stringify(opts)}`).toEqual(want);
    }
  });
});
