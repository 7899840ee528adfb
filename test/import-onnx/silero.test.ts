/**
 * The real Silero VAD files (test/data/real-models/onnx-silero-vad, MIT) against
 * onnxruntime-node, frame by frame over real speech, as silero's usage feeds them: 512 samples
 * at 16 kHz (256 at 8 kHz) with the previous 64 (32) prepended as context, the state carried;
 * the legacy v4 file takes bare 512 / 256-sample frames and carries h and c.
 *
 * Each case covers a window of a few hundred frames of the 2 min 49 s recording (cases step
 * through the file); RNN_ONNX_FULL=1 runs every case over the whole recording. Paths: a session
 * (state pairs, --state) at batch 1 and a batch of streams, snapshots, and predict (one call of
 * the graph from a zero state) on a batch of frames.
 */
import { readFileSync } from "node:fs";
import type * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { dataFile } from "../util/data.ts";
import { ErrorLog, expectMatch, ortRun, ortSession, outputsOf, type Feed, type Model, type Out } from "./oracle.ts";
import { readWav, type Recording } from "./wav.ts";
import { ONNX_LONG_STATE, ONNX_VS_ORT } from "../tolerance.ts";

const DIR = "real-models/onnx-silero-vad";
const FULL = process.env.RNN_ONNX_FULL === "1";
/** Frames per case (the whole recording with RNN_ONNX_FULL=1). */
const WINDOW = 300;
const log = new ErrorLog();

interface SileroCase {
  file: string;
  rate: 16000 | 8000;
  /** The graph's int64 sample-rate input, folded with --const sr=... (the half file has none). */
  sr: boolean;
  /** v4: inputs h, c (no context), outputs hn, cn. */
  legacy: boolean;
  /** Which window of the recording (cases step through it). */
  window: number;
}

const CASES: SileroCase[] = [
  { file: "silero_vad_v5.onnx", rate: 16000, sr: true, legacy: false, window: 0 },
  { file: "silero_vad_v5.onnx", rate: 8000, sr: true, legacy: false, window: 1 },
  { file: "silero_vad_v6.onnx", rate: 16000, sr: true, legacy: false, window: 2 },
  { file: "silero_vad_v6.onnx", rate: 8000, sr: true, legacy: false, window: 3 },
  { file: "silero_vad_16k_op15.onnx", rate: 16000, sr: true, legacy: false, window: 4 },
  { file: "silero_vad_half.onnx", rate: 16000, sr: false, legacy: false, window: 5 },
  { file: "silero_vad_legacy.onnx", rate: 16000, sr: true, legacy: true, window: 6 },
  { file: "silero_vad_legacy.onnx", rate: 8000, sr: true, legacy: true, window: 7 },
];

const frameOf = (rate: number) => (rate === 16000 ? 512 : 256);
const contextOf = (c: SileroCase) => (c.legacy ? 0 : c.rate === 16000 ? 64 : 32);

const recordings = new Map<number, Recording>();
function recording(rate: number): Recording {
  let r = recordings.get(rate);
  if (!r) {
    r = readWav(dataFile(rate === 16000 ? "speech/aepyx_16k_resampled.wav" : "speech/aepyx_8k.wav"));
    expect(r.rate).toBe(rate);
    recordings.set(rate, r);
  }
  return r;
}

/**
 * The model's inputs for frames [first, first + count) of the recording, as silero's streaming
 * loop builds them: each frame with the last `context` samples of the previous one before it
 * (zeros before the first frame of the stream).
 */
function frames(c: SileroCase, first: number, count: number): Float32Array[] {
  const samples = recording(c.rate).samples;
  const n = frameOf(c.rate);
  const ctx = contextOf(c);
  return Array.from({ length: count }, (_, k) => {
    const at = (first + k) * n;
    const x = new Float32Array(ctx + n);
    if (k > 0) x.set(samples.subarray(at - ctx, at), 0);
    x.set(samples.subarray(at, at + n), ctx);
    return x;
  });
}

/** Frames in the recording, and the window a case covers. */
function windowOf(c: SileroCase): { first: number; count: number } {
  const total = Math.floor(recording(c.rate).samples.length / frameOf(c.rate));
  if (FULL) return { first: 0, count: total };
  const first = (c.window * WINDOW) % Math.max(1, total - WINDOW);
  return { first, count: WINDOW };
}

const stateNames = (c: SileroCase): Record<string, string> => (c.legacy ? { h: "hn", c: "cn" } : { state: "stateN" });

/** exportBundle's bindings for a case: the frame shape at batch 1, sr folded, the state pairs. */
function bindings(c: SileroCase, withState = true) {
  return {
    inputs: { input: [1, contextOf(c) + frameOf(c.rate)] },
    ...(c.sr ? { constants: { sr: c.rate } } : {}),
    ...(withState ? { state: stateNames(c) } : {}),
  };
}

/** onnxruntime-node's streaming loop over `batch` streams (one per row), state carried. */
class OrtStream {
  private carried: Record<string, Feed>;
  constructor(private session: ort.InferenceSession, private c: SileroCase, private batch: number) {
    const units = c.legacy ? 64 : 128;
    this.carried = {};
    for (const name of Object.keys(stateNames(c))) this.carried[name] = { data: new Float32Array(2 * batch * units), shape: [2, batch, units] };
  }
  /** The states the last step returned, in the graph's order (the next step's inputs). */
  states(): Out[] {
    return Object.values(this.carried) as Out[];
  }
  async step(x: Float32Array): Promise<Float32Array> {
    const n = x.length / this.batch;
    const feeds: Record<string, Feed> = { input: { data: x, shape: [this.batch, n] }, ...this.carried };
    if (this.c.sr) feeds.sr = { data: BigInt64Array.of(BigInt(this.c.rate)), shape: [] };
    const out = await ortRun(this.session, feeds);
    for (const [inName, outName] of Object.entries(stateNames(this.c))) this.carried[inName] = out[outName];
    return out.output.data;
  }
}

const label = (c: SileroCase) => `${c.file} ${c.rate} Hz`;

/** Row-major [B, n] from B frames. */
function stack(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
}

describe.each(CASES)("Silero VAD $file at $rate Hz against onnxruntime-node", (c) => {
  let bundle: Uint8Array;
  let model: Model;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    bundle = await exportBundle(dataFile(`${DIR}/${c.file}`), bindings(c));
    model = await loadModel(bundle);
    session = await ortSession(readFileSync(dataFile(`${DIR}/${c.file}`)));
  });
  afterAll(async () => {
    model?.dispose();
    await session?.release();
  });

  it("declares the frame input and the probability output, the state carried by sessions", () => {
    expect(model.inputs).toEqual([{ name: "input", shape: [null, contextOf(c) + frameOf(c.rate)], dtype: "float32" }]);
    expect(model.outputs.map((o) => [o.name, o.shape])).toEqual([["output", [null, 1]]]);
  });

  it("session, batch 1: every frame of the window matches, state carried", async () => {
    const { first, count } = windowOf(c);
    const xs = frames(c, first, count);
    const s = model.createSession();
    const oracle = new OrtStream(session, c, 1);
    let speech = 0;
    for (let t = 0; t < xs.length; t++) {
      const want = await oracle.step(xs[t]);
      const got = s.step({ data: xs[t], shape: [1, xs[t].length] }) as { data: Float32Array; shape: number[] };
      log.add(`session ${c.file} ${c.rate}`, expectMatch(got, { data: want, shape: [1, 1] }, `${label(c)}, frame ${first + t}`));
      if (want[0] > 0.5) speech++;
    }
    // the window holds speech and silence: the probabilities move, so a constant output would not pass
    expect(speech, `${label(c)}: frames over 0.5 in the window`).toBeGreaterThan(0);
    expect(speech).toBeLessThan(xs.length);
  });

  it("session, a batch of 3 streams (different parts of the recording) matches the batched graph", async () => {
    const { first, count } = windowOf(c);
    const steps = Math.min(count, FULL ? count : 120);
    const streams = [0, 1, 2].map((k) => frames(c, first + k * 97, steps));
    const s = model.createSession({ batchSize: 3 });
    const oracle = new OrtStream(session, c, 3);
    for (let t = 0; t < steps; t++) {
      const x = stack(streams.map((f) => f[t]));
      const want = await oracle.step(x);
      const got = s.step({ data: x, shape: [3, x.length / 3] }) as { data: Float32Array; shape: number[] };
      log.add("batch", expectMatch(got, { data: want, shape: [3, 1] }, `${label(c)}, batch of 3, step ${t}`));
    }
  });

  it("getState / setState: a restored snapshot replays the same probabilities", () => {
    const xs = frames(c, windowOf(c).first, 40);
    const s = model.createSession();
    for (const x of xs.slice(0, 20)) s.step({ data: x, shape: [1, x.length] });
    const snapshot = s.getState();
    const after = xs.slice(20).map((x) => (s.step({ data: x, shape: [1, x.length] }) as { data: Float32Array }).data[0]);
    s.setState(snapshot);
    const replay = xs.slice(20).map((x) => (s.step({ data: x, shape: [1, x.length] }) as { data: Float32Array }).data[0]);
    expect(replay).toEqual(after);
    s.reset();
    const fresh = model.createSession();
    expect((s.step({ data: xs[0], shape: [1, xs[0].length] }) as { data: Float32Array }).data[0])
      .toBe((fresh.step({ data: xs[0], shape: [1, xs[0].length] }) as { data: Float32Array }).data[0]);
  });

  it("predict: a batch of 8 frames, each from a zero state, matches the graph with zero states", async () => {
    const { first } = windowOf(c);
    const xs = frames(c, first, 8 * 13).filter((_, k) => k % 13 === 0);
    const x = stack(xs);
    const got = outputsOf(model.predict({ data: x, shape: [8, x.length / 8] }));
    expect(got.length).toBe(1);
    const want = await new OrtStream(session, c, 8).step(x);
    log.add("predict", expectMatch(got[0], { data: want, shape: [8, 1] }, `${label(c)}, predict on 8 frames`));
  });
});

// one case per file (legacy at 8 kHz; at 16 kHz its quietest frames have a test of their own below)
const WITHOUT_STATE = CASES.filter((c) => [0, 3, 4, 5, 7].includes(c.window));

describe.each(WITHOUT_STATE)("Silero VAD $file at $rate Hz without --state: the state an ordinary input and output", (c) => {
  // the state tensors carry the batch on their second axis, so the export is for one batch size
  // (the one the input is bound to) and callers pass the graph's own shapes, as to onnxruntime
  it.each([1, 3])("predict at batch %i, the caller carrying the state, matches frame by frame", async (B) => {
    const model = await loadModel(await exportBundle(dataFile(`${DIR}/${c.file}`), { ...bindings(c, false), inputs: { input: [B, contextOf(c) + frameOf(c.rate)] } }));
    const session = await ortSession(readFileSync(dataFile(`${DIR}/${c.file}`)));
    try {
      const names = stateNames(c);
      expect(model.inputs.map((i) => [i.name, i.shape])).toEqual([["input", [B, contextOf(c) + frameOf(c.rate)]], ...Object.keys(names).map((n) => [n, [2, B, c.legacy ? 64 : 128]])]);
      expect(model.outputs.map((o) => o.name)).toEqual(["output", ...Object.values(names)]);
      const { first } = windowOf(c);
      const steps = FULL ? windowOf(c).count : 80;
      const streams = Array.from({ length: B }, (_, k) => frames(c, first + k * 97, steps));
      const oracle = new OrtStream(session, c, B);
      let states = Object.keys(names).map(() => ({ data: new Float32Array(2 * B * (c.legacy ? 64 : 128)), shape: [2, B, c.legacy ? 64 : 128] }));
      for (let t = 0; t < steps; t++) {
        const x = stack(streams.map((f) => f[t]));
        const want = await oracle.step(x);
        const got = outputsOf(model.predict([{ data: x, shape: [B, x.length / B] }, ...states]));
        log.add("predict, state carried", expectMatch(got[0], { data: want, shape: [B, 1] }, `${label(c)} without --state, batch ${B}, step ${t}`));
        // the cell state integrates rounding over the whole recording (ONNX_LONG_STATE)
        oracle.states().forEach((st, k) => expectMatch(got[1 + k], st, `${label(c)} without --state, batch ${B}, step ${t}, state ${Object.values(names)[k]}`, FULL ? ONNX_LONG_STATE : ONNX_VS_ORT));
        states = got.slice(1) as typeof states;
      }
    } finally {
      model.dispose();
      await session.release();
    }
  });
});

describe("Silero VAD v4 (legacy) at 16 kHz where its STFT magnitude runs as a fused FFT", () => {
  // Frames 1380-1580 of the 16 kHz recording: v4 takes the log of its magnitudes, which turns
  // a float32 FFT's error (relative to the whole frame, not to each bin) into a drift of up to
  // 4e-4 from onnxruntime on its quietest bins; the FFT runs in float64 for it (spectral.ts).
  const c: SileroCase = { file: "silero_vad_legacy.onnx", rate: 16000, sr: true, legacy: true, window: 0 };
  it("every frame within ONNX_VS_ORT", async () => {
    const model = await loadModel(await exportBundle(dataFile(`${DIR}/${c.file}`), bindings(c)));
    const session = await ortSession(readFileSync(dataFile(`${DIR}/${c.file}`)));
    try {
      const xs = frames(c, 1380, 200);
      const s = model.createSession();
      const oracle = new OrtStream(session, c, 1);
      for (let t = 0; t < xs.length; t++) {
        const want = await oracle.step(xs[t]);
        expectMatch(s.step({ data: xs[t], shape: [1, xs[t].length] }) as { data: Float32Array; shape: number[] }, { data: want, shape: [1, 1] }, `${label(c)}, frame ${1380 + t}`);
      }
    } finally {
      model.dispose();
      await session.release();
    }
  });
});

afterAll(() => log.print("silero.test.ts"));
