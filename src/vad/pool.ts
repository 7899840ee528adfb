/**
 * Voice activity detection over any number of audio streams that share one model: each stream
 * resamples its audio to the model's rate, cuts it into frames (with the model's context in
 * front), and turns the model's per-frame speech probabilities into segments; the model steps
 * every stream that has a frame ready in one batched session call, so every weight is read once
 * per step for all of them. Streams join and leave at any time; each keeps its own recurrent
 * state (one row of the session) and can be snapshotted and resumed elsewhere.
 *
 * A single stream (createVad) is a pool of one: the same code path everywhere.
 */
import { RnnWasmError, type Model, type Session } from "../index.js";
import { describeVadModel, type VadModelInfo } from "./model.js";
import { Resampler } from "./resample.js";
import { createSegmenter, normalizeRules, type RawEvent, type SegmentRules, type Segmenter } from "./segmenter.js";
import { decodeSnapshot, encodeSnapshot, type StreamSnapshot } from "./snapshot.js";

export type VadStreamOptions = SegmentRules & {
  /** Sample rate of the audio given to push/write (default: the model's). */
  sampleRate?: number;
  /** Attach each segment's audio (at the model's rate) to its event (default false). */
  segmentAudio?: boolean;
  /** Longest segment audio kept, ms (default 300000); longer segments report `audioTruncated`. */
  maxSegmentAudioMs?: number;
};

/** Times in seconds; samples at the rate of the audio the stream is given. */
export type VadEvent =
  | { type: "speechStart"; start: number; startSample: number }
  | { type: "misfire"; start: number; end: number; startSample: number; endSample: number }
  | { type: "segment"; start: number; end: number; startSample: number; endSample: number; audio?: Float32Array; audioTruncated?: boolean };

export interface VadUpdate {
  /** The speech probability of each frame completed since the last update, in order. */
  probabilities: Float32Array;
  /** Index of the first of them (frame k covers model samples [k·frame, (k+1)·frame)). */
  firstFrame: number;
  events: VadEvent[];
}

const arg = (msg: string): never => {
  throw new RnnWasmError("E_ARGUMENT", msg);
};

/** Session capacities: powers of two up to 8, then multiples of 8 (bounded plan churn, little idle work). */
const capacityFor = (n: number) => (n <= 8 ? 2 ** Math.ceil(Math.log2(Math.max(1, n))) : Math.ceil(n / 8) * 8);

export class VadPool {
  readonly info: VadModelInfo;
  private readonly streams: VadStream[] = [];
  private session: Session | null = null;
  /** Rows of streams without a frame, kept aside while the others step. */
  private parking: Session | null = null;
  /** A batch-1 session: zero state for new rows, and the carrier of one row's snapshot. */
  private single: Session;
  private input = new Float32Array(0);
  private disposed = false;

  constructor(readonly model: Model, info?: Partial<VadModelInfo>) {
    this.info = describeVadModel(model, info);
    this.single = model.createSession({ batchSize: 1 });
  }

  /** Streams open now. */
  get size(): number {
    return this.streams.length;
  }

  /** Rows the batched session has (open streams, rounded up: see capacityFor). */
  get capacity(): number {
    return this.session?.batchSize ?? 0;
  }

  /** Opens a stream; with `snapshot`, resumes the stream it was taken from (its options included). */
  open(options: VadStreamOptions = {}, snapshot?: Uint8Array): VadStream {
    this.live();
    const snap = snapshot === undefined ? undefined : decodeSnapshot(snapshot);
    const stream = new VadStream(this, snap ? snap.options : options, snap);
    // (everything that can refuse the snapshot runs before the pool changes)
    if (snap) this.single.setState(snap.modelState);
    this.resize(this.streams.length + 1);
    const row = this.streams.length;
    this.single.copyRow(0, this.session!, row);
    this.single.reset();
    this.streams.push(stream);
    stream.row = row;
    return stream;
  }

  /**
   * Steps the model over every frame the streams have ready: one batched call per round, each
   * round taking one frame from every stream that has one. Returns the number of rounds.
   */
  process(): number {
    this.live();
    let rounds = 0;
    for (;;) {
      const ready = this.streams.filter((s) => s.hasFrame());
      if (!ready.length) return rounds;
      this.stepRows(ready);
      rounds++;
    }
  }

  private stepRows(ready: VadStream[]): void {
    const session = this.session!;
    const C = session.batchSize;
    const N = this.info.frameSamples + this.info.contextSamples;
    if (this.input.length !== C * N) this.input = new Float32Array(C * N);
    const idle = ready.length < this.streams.length ? this.streams.filter((s) => !s.hasFrame()) : [];
    if (idle.length) {
      if (this.parking?.batchSize !== C) {
        this.parking?.dispose();
        this.parking = this.model.createSession({ batchSize: C });
      }
      for (const s of idle) session.copyRow(s.row, this.parking, s.row);
    }
    for (const s of ready) s.frameInto(this.input, s.row * N);
    const probs = (session.step({ data: this.input, shape: [C, N] }) as { data: Float32Array }).data;
    for (const s of idle) this.parking!.copyRow(s.row, session, s.row);
    for (const s of ready) s.consume(probs[s.row]);
  }

  /** Makes room for `n` streams (grows, or shrinks when half the rows would be idle). */
  private resize(n: number): void {
    const C = this.session?.batchSize ?? 0;
    const want = capacityFor(n);
    if (n <= C && want * 2 >= C) return; // shrinks only to a quarter or less: no churn at a boundary
    const next = this.model.createSession({ batchSize: want });
    for (const s of this.streams) this.session!.copyRow(s.row, next, s.row);
    this.session?.dispose();
    this.parking?.dispose();
    this.parking = null;
    this.session = next;
  }

  /** @internal A stream leaves: the last stream moves into its row. */
  remove(stream: VadStream): void {
    const i = this.streams.indexOf(stream);
    if (i < 0) return;
    const last = this.streams.pop()!;
    if (last !== stream) {
      this.session!.copyRow(last.row, this.session!, stream.row);
      last.row = stream.row;
      this.streams[i] = last;
    }
    if (!this.disposed) this.resize(this.streams.length);
  }

  /** @internal The model state of one stream, as a batch-1 session snapshot. */
  rowState(stream: VadStream): Uint8Array {
    this.session!.copyRow(stream.row, this.single, 0);
    const bytes = this.single.getState();
    this.single.reset();
    return bytes;
  }

  /** @internal Zero model state for a stream's row. */
  resetRow(stream: VadStream): void {
    this.single.copyRow(0, this.session!, stream.row);
  }

  private live(): void {
    if (this.disposed) throw new RnnWasmError("E_DISPOSED", "this VAD pool has been disposed");
  }

  /** Closes every stream and frees the sessions (the model stays loaded: it is the caller's). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of [...this.streams]) s.close();
    this.session?.dispose();
    this.parking?.dispose();
    this.single.dispose();
    this.session = this.parking = null;
  }
}

/** One audio stream of a pool: give it audio (write), let the pool step, read what happened. */
export class VadStream {
  /** @internal Its row in the pool's session. */
  row = -1;
  readonly sampleRate: number;
  readonly options: Readonly<Required<Omit<VadStreamOptions, keyof SegmentRules>> & ReturnType<typeof normalizeRules>>;
  private readonly info: VadModelInfo;
  private readonly resampler: Resampler | null;
  private readonly segmenter: Segmenter;
  /** Model-rate audio from `audioStart` on: the frames still to run, their context, segment audio. */
  private audio = new Float32Array(4096);
  private audioLength = 0;
  private audioStart = 0;
  /** Model-rate samples heard (resampled), and frames run. */
  private heard = 0;
  private frames = 0;
  private probs: number[] = [];
  private firstFrame = 0;
  private events: VadEvent[] = [];
  private closed = false;
  private finished = false;

  constructor(private readonly pool: VadPool, options: VadStreamOptions, snap?: StreamSnapshot) {
    if (typeof options !== "object" || options === null) arg("VAD stream options must be an object");
    this.info = pool.info;
    let rules: ReturnType<typeof normalizeRules>;
    try {
      rules = normalizeRules(options);
    } catch (e) {
      throw new RnnWasmError("E_ARGUMENT", `VAD options: ${(e as Error).message}`);
    }
    const rate = options.sampleRate ?? this.info.sampleRate;
    if (!Number.isInteger(rate) || rate < 1000 || rate > 384000) arg(`sampleRate must be an integer from 1000 to 384000 Hz, received ${JSON.stringify(options.sampleRate)}`);
    const maxMs = options.maxSegmentAudioMs ?? 300000;
    if (!(maxMs >= 0 && maxMs <= 3.6e6)) arg(`maxSegmentAudioMs must be from 0 to 3600000, received ${JSON.stringify(maxMs)}`);
    this.sampleRate = rate;
    this.options = { ...rules, sampleRate: rate, segmentAudio: !!options.segmentAudio, maxSegmentAudioMs: maxMs };
    try {
      this.resampler = rate === this.info.sampleRate ? null : new Resampler(rate, this.info.sampleRate);
    } catch (e) {
      throw new RnnWasmError("E_ARGUMENT", (e as Error).message);
    }
    this.segmenter = createSegmenter(rules, this.info.sampleRate, this.info.frameSamples);
    if (snap) this.restore(snap);
  }

  /** Adds audio (mono, at `sampleRate`; Int16Array PCM is scaled by 1/32768). Nothing runs until the pool steps. */
  write(samples: Float32Array | Int16Array): void {
    this.live();
    if (this.finished) throw new RnnWasmError("E_ARGUMENT", "this VAD stream was flushed: reset() it to start a new recording");
    let x: Float32Array;
    if (samples instanceof Int16Array) {
      x = new Float32Array(samples.length);
      for (let i = 0; i < x.length; i++) x[i] = samples[i] / 32768;
    } else if (samples instanceof Float32Array) {
      x = samples;
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i])) throw new RnnWasmError("E_VALUE", `audio sample ${i} of this chunk is ${x[i]}; samples must be finite`);
      }
    } else throw new RnnWasmError("E_ARGUMENT", `audio must be a Float32Array or an Int16Array, received ${Object.prototype.toString.call(samples)}`);
    this.append(this.resampler ? this.resampler.process(x) : x);
  }

  /**
   * The audio has ended: the resampler's tail and (silero rules, like get_speech_timestamps) the
   * last short frame zero-padded are queued; once the pool has run them the final events come
   * (vad-web drops a last short frame, as its resampler does).
   */
  end(): void {
    this.live();
    if (this.finished) return;
    if (this.resampler) this.append(this.resampler.flush());
    const w = this.info.frameSamples;
    const partial = this.heard - this.frames * w;
    if (partial % w && this.options.rules === "silero") this.append(new Float32Array(w - (partial % w)), false);
    this.finished = true;
    if (!this.hasFrame()) this.finalize();
  }

  private finalize(): void {
    this.segmenter.finish(this.heard);
    this.collect();
  }

  private append(x: Float32Array, counts = true): void {
    if (this.audioLength + x.length > this.audio.length) this.compact(x.length);
    this.audio.set(x, this.audioLength);
    this.audioLength += x.length;
    if (counts) this.heard += x.length;
  }

  /** Drops audio nothing needs any more (before the next frame's context and the oldest segment start). */
  private compact(room: number): void {
    const nextInput = this.frames * this.info.frameSamples - this.info.contextSamples;
    let keep = nextInput;
    if (this.options.segmentAudio) {
      const maxKeep = (this.info.sampleRate * this.options.maxSegmentAudioMs) / 1000;
      keep = Math.min(keep, Math.max(this.segmenter.keepFrom(), nextInput - maxKeep));
    }
    const drop = Math.max(0, Math.min(keep - this.audioStart, this.audioLength));
    const needed = this.audioLength - drop + room;
    const target = needed > this.audio.length ? new Float32Array(Math.max(needed, 2 * this.audio.length)) : this.audio;
    target.set(this.audio.subarray(drop, this.audioLength));
    this.audio = target;
    this.audioLength -= drop;
    this.audioStart += drop;
  }

  /** @internal Whether a whole frame waits. */
  hasFrame(): boolean {
    return !this.closed && this.audioStart + this.audioLength >= (this.frames + 1) * this.info.frameSamples;
  }

  /** @internal The next frame with its context, written at `out[at]`. */
  frameInto(out: Float32Array, at: number): void {
    const { frameSamples: w, contextSamples: ctx } = this.info;
    const from = this.frames * w - ctx - this.audioStart; // negative before the stream began: zeros
    const n = w + ctx;
    if (from >= 0) out.set(this.audio.subarray(from, from + n), at);
    else {
      out.fill(0, at, at - from);
      out.set(this.audio.subarray(0, n + from), at - from);
    }
  }

  /** @internal The model's probability for the frame given by frameInto. */
  consume(prob: number): void {
    if (!this.probs.length) this.firstFrame = this.frames;
    this.probs.push(prob);
    this.frames++;
    this.segmenter.frame(prob, this.frames * this.info.frameSamples > this.heard);
    this.collect();
    if (this.finished && !this.hasFrame()) this.finalize();
  }

  private collect(): void {
    const rate = this.info.sampleRate;
    for (const e of this.segmenter.drain()) this.events.push(this.event(e, rate));
  }

  private event(e: RawEvent, rate: number): VadEvent {
    const toInput = (n: number) => Math.round((n * this.sampleRate) / rate);
    if (e.type === "speechStart") return { type: "speechStart", start: e.start / rate, startSample: toInput(e.start) };
    const ev = { type: e.type, start: e.start / rate, end: e.end / rate, startSample: toInput(e.start), endSample: toInput(e.end) } as VadEvent & { audio?: Float32Array; audioTruncated?: boolean };
    if (e.type === "segment" && this.options.segmentAudio) {
      const from = Math.max(e.start, this.audioStart);
      ev.audio = this.audio.slice(from - this.audioStart, Math.min(e.end, this.heard) - this.audioStart);
      if (from > e.start) ev.audioTruncated = true;
    }
    return ev;
  }

  /** What happened since the last read: probabilities of the frames run, and events. */
  read(): VadUpdate {
    const u = { probabilities: Float32Array.from(this.probs), firstFrame: this.probs.length ? this.firstFrame : this.frames, events: this.events };
    this.probs = [];
    this.events = [];
    return u;
  }

  /** A portable snapshot of everything this stream carries; `pool.open({}, bytes)` resumes it (any process with the same model). */
  snapshot(): Uint8Array {
    this.live();
    if (this.probs.length || this.events.length) throw new RnnWasmError("E_ARGUMENT", "snapshot(): read() this stream's update first (a snapshot carries no unread results)");
    const keepFrom = Math.min(this.frames * this.info.frameSamples - this.info.contextSamples, this.options.segmentAudio ? this.segmenter.keepFrom() : Infinity);
    const from = Math.max(0, keepFrom - this.audioStart);
    return encodeSnapshot({
      options: this.options,
      info: this.info,
      heard: this.heard,
      frames: this.frames,
      finished: this.finished,
      audioStart: this.audioStart + from,
      audio: this.audio.subarray(from, this.audioLength),
      segmenter: this.segmenter.state(),
      resampler: this.resampler?.getState() ?? null,
      modelState: this.pool.rowState(this),
    });
  }

  private restore(s: StreamSnapshot): void {
    const { frameSamples, contextSamples, sampleRate } = this.info;
    if (s.info.frameSamples !== frameSamples || s.info.contextSamples !== contextSamples || s.info.sampleRate !== sampleRate) {
      throw new RnnWasmError("E_STATE_MISMATCH", `the snapshot's stream ran frames of ${s.info.frameSamples} + ${s.info.contextSamples} samples at ${s.info.sampleRate} Hz; this model takes ${frameSamples} + ${contextSamples} at ${sampleRate} Hz`);
    }
    const corrupt = (why: string): never => {
      throw new RnnWasmError("E_STATE_CORRUPT", `VAD snapshot: ${why}`);
    };
    const int = (v: number) => Number.isSafeInteger(v) && v >= 0;
    const end = s.audioStart + s.audio.length; // the heard audio, and a zero-padded last frame
    if (!int(s.heard) || !int(s.frames) || !int(s.audioStart) || end < s.heard || end >= s.heard + frameSamples) corrupt("its sample counts disagree");
    if (s.audioStart > Math.max(0, s.frames * frameSamples - contextSamples) || s.frames * frameSamples > s.audioStart + s.audio.length) corrupt("its audio does not cover the next frame");
    try {
      if (this.resampler) this.resampler.setState(s.resampler!);
      this.segmenter.restore(s.segmenter);
    } catch (e) {
      corrupt((e as Error).message);
    }
    this.heard = s.heard;
    this.frames = s.frames;
    this.finished = s.finished;
    this.audioStart = s.audioStart;
    this.audio = new Float32Array(Math.max(4096, s.audio.length * 2));
    this.audio.set(s.audio);
    this.audioLength = s.audio.length;
  }

  /** Back to the start: no audio heard, zero model state, same options. */
  reset(): void {
    this.live();
    this.pool.resetRow(this);
    this.resampler?.reset();
    this.segmenter.reset();
    this.audioLength = this.audioStart = this.heard = this.frames = 0;
    this.probs = [];
    this.events = [];
    this.finished = false;
  }

  /** Leaves the pool (its row goes to another stream). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.remove(this);
  }

  private live(): void {
    if (this.closed) throw new RnnWasmError("E_DISPOSED", "this VAD stream has been closed");
  }
}
