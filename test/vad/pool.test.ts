/**
 * Many streams on one model (VadPool): streams that join and leave at any time, with different
 * rates and chunkings, each get what a stream of their own gets; snapshots resume a stream in
 * another pool (another model instance of the same bundle) exactly; bad input and bad
 * snapshots are refused by code and leave every other stream working.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exportSileroVad } from "../../src/export.ts";
import { loadModel, type Model } from "../../src/index.ts";
import { createVad, VadPool, type VadStream, type VadUpdate } from "../../src/vad/index.ts";
import { codeOf } from "../util/errors.ts";
import { sileroOnnx, speechAudio } from "./audio.ts";

let bundle: Uint8Array;
let model: Model;
beforeAll(async () => {
  bundle = await exportSileroVad(sileroOnnx("silero_vad_v5"), { sampleRate: 16000, name: "silero_vad_v5.onnx" });
  model = await loadModel(bundle);
});

interface Collected {
  probs: number[];
  segments: string[];
  events: string[];
}

const collect = (into: Collected, u: VadUpdate) => {
  expect(u.firstFrame).toBe(into.probs.length);
  into.probs.push(...u.probabilities);
  for (const e of u.events) {
    into.events.push(e.type);
    if (e.type === "segment") into.segments.push(`${e.startSample}-${e.endSample}`);
  }
};

const empty = (): Collected => ({ probs: [], segments: [], events: [] });

/** What one stream of its own reports on `audio`. */
function alone(m: Model, audio: Float32Array, sampleRate: number, options: object = {}): Collected {
  const vad = createVad(m, { sampleRate, ...options });
  const c = empty();
  for (let at = 0; at < audio.length; at += 4000) collect(c, vad.push(audio.subarray(at, at + 4000)));
  collect(c, vad.end());
  vad.dispose();
  return c;
}

function expectSame(got: Collected, want: Collected, what: string) {
  expect(got.probs.length, what).toBe(want.probs.length);
  // batched and single-row products sum in another order: float32 noise only
  let worst = 0;
  for (let i = 0; i < want.probs.length; i++) worst = Math.max(worst, Math.abs(got.probs[i] - want.probs[i]));
  expect(worst, what).toBeLessThan(1e-5);
  expect(got.segments, what).toEqual(want.segments);
  expect(got.events, what).toEqual(want.events);
}

describe("VadPool", () => {
  it("12 streams joining and leaving at different times, rates and chunk sizes = each alone", () => {
    const sources = [
      ["speech/silero-test-16k.wav", 16000],
      ["speech/aepyx_8k.wav", 8000],
      ["speech/silero-test.mp3", 48000],
      ["speech/silero-test.mp3", 44100],
    ] as const;
    const pool = new VadPool(model);
    const plans = Array.from({ length: 12 }, (_, k) => {
      const [file, rate] = sources[k % sources.length];
      // aepyx is long: a 20 s excerpt starting somewhere else for each stream
      const full = speechAudio(file, rate);
      const from = file.includes("aepyx") ? Math.round(rate * 7 * k) % (full.length - rate * 20) : 0;
      const audio = full.subarray(from, from + rate * 20);
      return { audio, rate, joinAt: k * 3, chunk: 160 * (k + 1) + 7 * k, got: empty(), at: 0, stream: null as VadStream | null, done: false };
    });
    let tick = 0;
    const capacities = new Set<number>();
    while (plans.some((p) => !p.done)) {
      for (const p of plans) {
        if (p.done || tick < p.joinAt) continue;
        p.stream ??= pool.open({ sampleRate: p.rate });
        if (p.at < p.audio.length) {
          p.stream.write(p.audio.subarray(p.at, p.at + p.chunk));
          p.at += p.chunk;
        } else p.stream.end();
      }
      pool.process();
      capacities.add(pool.capacity);
      for (const p of plans) {
        if (!p.stream || p.done) continue;
        collect(p.got, p.stream.read());
        if (p.at >= p.audio.length && p.got.events.length >= 0 && !p.stream.hasFrame() && (p.stream as unknown as { finished: boolean }).finished) {
          p.stream.close();
          p.done = true;
        }
      }
      tick++;
    }
    expect(pool.size).toBe(0);
    expect(capacities.size).toBeGreaterThan(2); // the session grew and shrank on the way
    plans.forEach((p, k) => expectSame(p.got, alone(model, p.audio, p.rate), `stream ${k} (${p.rate} Hz)`));
    pool.dispose();
  });

  it("a snapshot resumes the stream in another pool on another model instance, exactly", async () => {
    const other = await loadModel(bundle);
    for (const options of [{ sampleRate: 48000 }, { sampleRate: 8000 }, { sampleRate: 48000, segmentAudio: true, speechPadMs: 100 }, { sampleRate: 48000, rules: "vad-web" as const }]) {
      const audio = speechAudio("speech/silero-test.mp3", options.sampleRate);
      const want = alone(model, audio, 48000, options);
      for (const cut of [1, 4097, 8000, 61234, audio.length]) {
        const a = createVad(model, options);
        const got = empty();
        collect(got, a.push(audio.subarray(0, cut)));
        const snap = a.snapshot();
        a.dispose();
        const b = createVad(other, {}, snap); // the snapshot's options win
        expect(b.stream.options).toEqual(a.stream.options);
        collect(got, b.push(audio.subarray(cut)));
        collect(got, b.end());
        b.dispose();
        expect(got.probs, `cut at ${cut}`).toEqual(want.probs); // the same kernels on the same rows: bit for bit
        expect(got.segments, `cut at ${cut}`).toEqual(want.segments);
      }
    }
    other.dispose();
  });

  it("segment audio is the model-rate audio of the segment", () => {
    const audio = speechAudio("speech/aepyx_8k.wav", 16000).subarray(0, 16000 * 30);
    const vad = createVad(model, { segmentAudio: true });
    const segs: { startSample: number; endSample: number; audio?: Float32Array }[] = [];
    for (let at = 0; at < audio.length; at += 1000) for (const e of vad.push(audio.subarray(at, at + 1000)).events) if (e.type === "segment") segs.push(e);
    for (const e of vad.end().events) if (e.type === "segment") segs.push(e);
    vad.dispose();
    expect(segs.length).toBeGreaterThan(3);
    for (const s of segs) {
      const want = audio.subarray(s.startSample, s.endSample);
      expect(s.audio!.length).toBe(want.length);
      expect(s.audio!.every((v, i) => v === want[i])).toBe(true);
    }
  });

  it("refuses bad audio, options and snapshots by code; a failed call changes nothing", () => {
    const pool = new VadPool(model);
    const a = pool.open();
    const audio = speechAudio("speech/silero-test-16k.wav", 16000);
    a.write(audio.subarray(0, 8000));
    pool.process();
    a.read();
    const snap = a.snapshot();
    const nan = new Float32Array(100);
    nan[50] = NaN;
    expect(codeOf(() => a.write(nan))).toBe("E_VALUE");
    expect(codeOf(() => a.write([1, 2] as unknown as Float32Array))).toBe("E_ARGUMENT");
    expect(codeOf(() => pool.open({ threshold: 2 }))).toBe("E_ARGUMENT");
    expect(codeOf(() => pool.open({ sampleRate: 44101 }))).toBe("E_ARGUMENT");
    expect(codeOf(() => pool.open({ rules: "webrtc" } as never))).toBe("E_ARGUMENT");
    const damaged = snap.slice();
    damaged[40] ^= 1;
    expect(codeOf(() => pool.open({}, damaged))).toBe("E_STATE_CORRUPT");
    expect(codeOf(() => pool.open({}, snap.subarray(0, 20)))).toBe("E_STATE_CORRUPT");
    expect(codeOf(() => pool.open({}, new Uint8Array(64)))).toBe("E_STATE_CORRUPT");
    expect(pool.size).toBe(1);
    // the stream still runs as if nothing happened
    const want = alone(model, audio, 16000);
    const got = empty();
    got.probs.push(...want.probs.slice(0, 15)); // the 15 frames of the first 8000 samples, read above
    a.write(audio.subarray(8000));
    a.end();
    pool.process();
    collect(got, a.read());
    expect(got.probs.slice(15)).toEqual(want.probs.slice(15).map((p) => expect.closeTo(p, 5)));
    a.close();
    expect(codeOf(() => a.write(nan))).toBe("E_DISPOSED");
    pool.dispose();
    expect(codeOf(() => pool.open())).toBe("E_DISPOSED");
  });

  it("a snapshot of another model is refused as a mismatch", async () => {
    const legacy = await loadModel(await exportSileroVad(sileroOnnx("silero_vad_legacy"), { sampleRate: 16000, name: "silero_vad_legacy.onnx" }));
    const v6 = await loadModel(await exportSileroVad(sileroOnnx("silero_vad_v6"), { sampleRate: 16000, name: "silero_vad_v6.onnx" }));
    const a = createVad(model);
    a.push(speechAudio("speech/silero-test-16k.wav", 16000).subarray(0, 5000));
    const snap = a.snapshot();
    expect(codeOf(() => createVad(legacy, {}, snap))).toBe("E_STATE_MISMATCH"); // other framing
    expect(codeOf(() => createVad(v6, {}, snap))).toBe("E_STATE_MISMATCH"); // same framing, other weights
    a.dispose();
    legacy.dispose();
    v6.dispose();
  });
});
