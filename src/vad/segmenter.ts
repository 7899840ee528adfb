/**
 * Speech segments from per-frame speech probabilities, one frame at a time, under two sets of
 * rules (docs/audio.md compares them):
 *
 * - "silero": silero-vad's `get_speech_timestamps` (threshold, negative threshold, minimum speech
 *   and silence, maximum speech with its split at the longest silence, speech padding shared
 *   between close segments). That function sees the whole recording; here a segment is final as
 *   soon as nothing later can change it: with the defaults when its silence has lasted
 *   min_silence, in general once no kept segment can start within 2·pad of its end. The
 *   segments equal the offline function's on any audio, however it arrives
 *   (test/vad/reference.ts holds the offline rules, written from silero's documentation).
 * - "vad-web": @ricky0123/vad-web's FrameProcessor (positive and negative thresholds,
 *   redemption frames, pre-speech padding frames, minimum speech frames). A segment is the audio
 *   vad-web would hand to onSpeechEnd.
 *
 * Positions are samples at the model's rate. The state is plain numbers (snapshots are JSON).
 */

/** What a segmenter reports, in model-rate samples. */
export type RawEvent =
  | { type: "speechStart"; start: number }
  | { type: "misfire"; start: number; end: number }
  | { type: "segment"; start: number; end: number };

export interface SileroRules {
  rules?: "silero";
  /** Speech when the probability is at least this (0.5). */
  threshold?: number;
  /** Inside speech, silence when the probability is below this (max(threshold - 0.15, 0.01)). */
  negThreshold?: number;
  /** Segments not longer than this are dropped (250 ms). */
  minSpeechMs?: number;
  /** Silence this long ends a segment (100 ms). */
  minSilenceMs?: number;
  /** Added to both ends of each segment, or half the gap when segments are closer (30 ms). */
  speechPadMs?: number;
  /** Longer segments are split at their longest silence over minSilenceAtMaxSpeechMs, else cut (Infinity). */
  maxSpeechMs?: number;
  /** Silences shorter than this are no split point for maxSpeechMs (98 ms). */
  minSilenceAtMaxSpeechMs?: number;
  /** Split at the longest such silence (true) or at the last one (false). */
  useMaxPossibleSilenceAtMaxSpeech?: boolean;
}

export interface VadWebRules {
  rules: "vad-web";
  /** A frame is speech at this probability or above (0.3). */
  positiveSpeechThreshold?: number;
  /** While speaking, frames below this count towards the end (0.25). */
  negativeSpeechThreshold?: number;
  /** This much of below-negative frames ends speech (1400 ms). */
  redemptionMs?: number;
  /** Audio kept before the first speech frame (800 ms). */
  preSpeechPadMs?: number;
  /** Fewer speech frames than this make a misfire, not a segment (400 ms). */
  minSpeechMs?: number;
}

export type SegmentRules = SileroRules | VadWebRules;

export interface Segmenter {
  /** Takes the next frame's speech probability; `padded`: the audio ends inside this frame (finish follows). */
  frame(prob: number, padded?: boolean): void;
  /** The audio ended after `length` samples (its last frames already given). */
  finish(length: number): void;
  /** Events since the last call. */
  drain(): RawEvent[];
  /** The earliest sample a segment still to be reported may start at (segment audio is kept from there). */
  keepFrom(): number;
  state(): unknown;
  restore(state: unknown): void;
  reset(): void;
}

/** Whether `v` has exactly the number and boolean fields of `like` (snapshots come from callers). */
function fieldsLike(v: unknown, like: object): boolean {
  if (typeof v !== "object" || v === null) return false;
  return Object.entries(like).every(([k, t]) => {
    const x = (v as Record<string, unknown>)[k];
    return typeof t === "boolean" ? typeof x === "boolean" : typeof t !== "number" || (typeof x === "number" && Number.isFinite(x) && Math.abs(x) <= 2 ** 52);
  });
}

const num = (v: unknown, name: string, lo: number, hi: number): number => {
  if (typeof v !== "number" || !(v >= lo && v <= hi)) throw new RangeError(`${name} must be a number from ${lo} to ${hi}, received ${JSON.stringify(v)}`);
  return v;
};

/** The settings of a stream's rules with defaults filled in (what snapshots and the CLI report). */
export function normalizeRules(r: SegmentRules = {}): Required<SileroRules> | Required<VadWebRules> {
  if (typeof r !== "object" || r === null) throw new RangeError("segmentation options must be an object");
  if (r.rules === "vad-web") {
    const pos = num(r.positiveSpeechThreshold ?? 0.3, "positiveSpeechThreshold", 0, 1);
    return {
      rules: "vad-web",
      positiveSpeechThreshold: pos,
      negativeSpeechThreshold: num(r.negativeSpeechThreshold ?? 0.25, "negativeSpeechThreshold", 0, pos),
      redemptionMs: num(r.redemptionMs ?? 1400, "redemptionMs", 0, 3.6e6),
      preSpeechPadMs: num(r.preSpeechPadMs ?? 800, "preSpeechPadMs", 0, 3.6e6),
      minSpeechMs: num(r.minSpeechMs ?? 400, "minSpeechMs", 0, 3.6e6),
    };
  }
  if (r.rules !== undefined && r.rules !== "silero") throw new RangeError(`rules must be "silero" or "vad-web", received ${JSON.stringify(r.rules)}`);
  const threshold = num(r.threshold ?? 0.5, "threshold", 0, 1);
  return {
    rules: "silero",
    threshold,
    negThreshold: num(r.negThreshold ?? Math.max(threshold - 0.15, 0.01), "negThreshold", 0, 1),
    minSpeechMs: num(r.minSpeechMs ?? 250, "minSpeechMs", 0, 3.6e6),
    minSilenceMs: num(r.minSilenceMs ?? 100, "minSilenceMs", 0, 3.6e6),
    speechPadMs: num(r.speechPadMs ?? 30, "speechPadMs", 0, 3.6e6),
    maxSpeechMs: num(r.maxSpeechMs ?? Infinity, "maxSpeechMs", 0, Infinity),
    minSilenceAtMaxSpeechMs: num(r.minSilenceAtMaxSpeechMs ?? 98, "minSilenceAtMaxSpeechMs", 0, 3.6e6),
    useMaxPossibleSilenceAtMaxSpeech: r.useMaxPossibleSilenceAtMaxSpeech ?? true,
  };
}

export function createSegmenter(rules: ReturnType<typeof normalizeRules>, sampleRate: number, frameSamples: number): Segmenter {
  return rules.rules === "vad-web" ? new VadWebSegmenter(rules, frameSamples) : new SileroSegmenter(rules, sampleRate, frameSamples);
}

/** A kept segment whose padded end waits for the next kept segment's start. */
interface Pending {
  end: number;
  padStart: number;
}

interface SileroState {
  /** Index of the next frame. */
  i: number;
  triggered: boolean;
  /** The open segment's start, or -1 (silero's empty current_speech). */
  start: number;
  tempEnd: number;
  prevEnd: number;
  nextStart: number;
  possibleEnds: [number, number][];
  pending: Pending | null;
  /** The open segment's padded start when a short gap to the pending one already fixed it, else -1. */
  openPadStart: number;
}

class SileroSegmenter implements Segmenter {
  private s!: SileroState;
  private events: RawEvent[] = [];
  private readonly minSpeech: number;
  private readonly minSilence: number;
  private readonly pad: number;
  private readonly maxSpeech: number;
  private readonly minSilenceAtMax: number;

  constructor(private readonly r: Required<SileroRules>, sampleRate: number, private readonly w: number) {
    const samples = (ms: number) => (sampleRate * ms) / 1000;
    this.minSpeech = samples(r.minSpeechMs);
    this.minSilence = samples(r.minSilenceMs);
    this.pad = samples(r.speechPadMs);
    this.maxSpeech = sampleRate * (r.maxSpeechMs / 1000) - w - 2 * this.pad;
    this.minSilenceAtMax = samples(r.minSilenceAtMaxSpeechMs);
    this.reset();
  }

  reset(): void {
    this.s = { i: 0, triggered: false, start: -1, tempEnd: 0, prevEnd: 0, nextStart: 0, possibleEnds: [], pending: null, openPadStart: -1 };
    this.events = [];
  }

  frame(prob: number, padded = false): void {
    this.step(prob, this.w * this.s.i++);
    // (settle reasons from the audio running to the end of this frame: a padded one does not)
    if (!padded) this.settle();
  }

  /** One iteration of get_speech_timestamps' loop over the probabilities (the frame at `cur`). */
  private step(prob: number, cur: number): void {
    const s = this.s;
    const { threshold, negThreshold } = this.r;
    if (prob >= threshold && s.tempEnd) {
      const silence = cur - s.tempEnd;
      if (silence > this.minSilenceAtMax) s.possibleEnds.push([s.tempEnd, silence]);
      s.tempEnd = 0;
      if (s.nextStart < s.prevEnd) s.nextStart = cur;
    }
    if (prob >= threshold && !s.triggered) {
      s.triggered = true;
      s.start = cur;
      this.events.push({ type: "speechStart", start: Math.max(0, Math.floor(cur - this.pad)) });
      return;
    }
    if (s.triggered && cur - s.start > this.maxSpeech) {
      if (s.possibleEnds.length) {
        // the longest silence (the first of equal ones, as Python's max), or the last one
        const pick = this.r.useMaxPossibleSilenceAtMaxSpeech ? s.possibleEnds.reduce((a, b) => (b[1] > a[1] ? b : a)) : s.possibleEnds[s.possibleEnds.length - 1];
        s.prevEnd = pick[0];
        this.keep(s.start, s.prevEnd);
        s.start = -1;
        s.nextStart = s.prevEnd + pick[1];
        // silero's test as written: the silence after the split point has not turned into speech
        if (s.nextStart < s.prevEnd + cur) s.start = s.nextStart;
        else s.triggered = false;
        s.possibleEnds = s.possibleEnds.filter((p) => p[0] > s.nextStart);
        s.prevEnd = s.nextStart = s.tempEnd = 0;
      } else {
        this.keep(s.start, cur);
        this.close();
        return;
      }
    }
    if (prob < negThreshold && s.triggered) {
      if (!s.tempEnd) s.tempEnd = cur;
      if (cur - s.tempEnd < this.minSilence) return;
      if (s.tempEnd - s.start > this.minSpeech) this.keep(s.start, s.tempEnd);
      else this.events.push({ type: "misfire", start: s.start, end: s.tempEnd });
      this.close();
    }
  }

  private close(): void {
    const s = this.s;
    s.start = -1;
    s.prevEnd = s.nextStart = s.tempEnd = 0;
    s.triggered = false;
    s.possibleEnds = [];
    s.openPadStart = -1;
  }

  /** A segment [start, end) is kept: the pending one (if any) gets its padded end from the gap. */
  private keep(start: number, end: number): void {
    const s = this.s;
    let padStart = s.openPadStart >= 0 ? s.openPadStart : Math.max(0, Math.floor(start - this.pad));
    if (s.pending) padStart = this.share(start);
    s.openPadStart = -1;
    s.pending = { end, padStart };
  }

  /**
   * silero's padding loop for the pending segment and a next one starting at `nextStart`: a gap
   * under 2·pad is split between them, else each gets pad. Reports the pending segment and
   * returns the next one's padded start.
   */
  private share(nextStart: number): number {
    const p = this.s.pending!;
    const gap = nextStart - p.end;
    const half = Math.floor(gap / 2);
    const short = gap < 2 * this.pad;
    this.report(short ? p.end + half : Math.floor(p.end + this.pad));
    return Math.max(0, short ? nextStart - half : Math.floor(nextStart - this.pad));
  }

  private report(end: number): void {
    this.events.push({ type: "segment", start: this.s.pending!.padStart, end });
    this.s.pending = null;
  }

  /**
   * Reports the pending segment once its end cannot change: no kept segment can start within
   * 2·pad of it (the next frame starts later and no open segment started earlier), or the open
   * segment that did start in time is sure to be kept (every end it can get leaves it longer
   * than min speech).
   */
  private settle(): void {
    const s = this.s;
    if (!s.pending) return;
    if (s.start < 0) {
      if (this.w * s.i - s.pending.end >= 2 * this.pad) this.report(Math.floor(s.pending.end + this.pad));
      return;
    }
    const earliestEnd = s.tempEnd || this.w * s.i;
    if (s.start - s.pending.end >= 2 * this.pad || earliestEnd - s.start > this.minSpeech) s.openPadStart = this.share(s.start);
  }

  finish(length: number): void {
    const s = this.s;
    if (s.start >= 0) {
      if (length - s.start > this.minSpeech) this.keep(s.start, length);
      else this.events.push({ type: "misfire", start: s.start, end: length });
    }
    this.close();
    if (s.pending) this.report(Math.floor(Math.min(length, s.pending.end + this.pad)));
  }

  drain(): RawEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  keepFrom(): number {
    const s = this.s;
    if (s.pending) return s.pending.padStart;
    if (s.openPadStart >= 0) return s.openPadStart;
    return Math.max(0, Math.floor((s.start >= 0 ? s.start : this.w * s.i) - this.pad));
  }

  state(): unknown {
    return { ...this.s, possibleEnds: this.s.possibleEnds.map((p) => [...p]), pending: this.s.pending && { ...this.s.pending } };
  }

  restore(state: unknown): void {
    const s = state as SileroState;
    const fresh = (this.reset(), this.s);
    const pair = (p: unknown) => Array.isArray(p) && p.length === 2 && fieldsLike({ a: p[0], b: p[1] }, { a: 0, b: 0 });
    if (!fieldsLike(s, fresh) || !Array.isArray(s.possibleEnds) || s.possibleEnds.length > 1e6 || !s.possibleEnds.every(pair)
      || !(s.pending === null || fieldsLike(s.pending, { end: 0, padStart: 0 })) || !Number.isSafeInteger(s.i) || s.i < 0) {
      throw new RangeError("the silero segmenter state is malformed");
    }
    const known = Object.fromEntries(Object.keys(fresh).map((k) => [k, s[k as keyof SileroState]])) as unknown as SileroState;
    this.s = { ...known, possibleEnds: s.possibleEnds.map((p) => [p[0], p[1]]), pending: s.pending && { end: s.pending.end, padStart: s.pending.padStart } };
  }
}

interface VadWebState {
  i: number;
  speaking: boolean;
  redemption: number;
  speechFrames: number;
  /** Frame index where the buffered audio (pre-speech padding, then the speech) begins. */
  bufferStart: number;
}

class VadWebSegmenter implements Segmenter {
  private s!: VadWebState;
  private events: RawEvent[] = [];
  private readonly redemptionFrames: number;
  private readonly padFrames: number;
  private readonly minSpeechFrames: number;

  constructor(private readonly r: Required<VadWebRules>, private readonly w: number) {
    // vad-web counts in frames of its 16 kHz model: frameSamples / 16 ms each
    const msPerFrame = w / 16;
    this.redemptionFrames = Math.floor(r.redemptionMs / msPerFrame);
    this.padFrames = Math.floor(r.preSpeechPadMs / msPerFrame);
    this.minSpeechFrames = Math.floor(r.minSpeechMs / msPerFrame);
    this.reset();
  }

  reset(): void {
    this.s = { i: 0, speaking: false, redemption: 0, speechFrames: 0, bufferStart: 0 };
    this.events = [];
  }

  frame(prob: number): void {
    const s = this.s;
    const i = s.i++;
    const isSpeech = prob >= this.r.positiveSpeechThreshold;
    if (isSpeech) {
      s.speechFrames++;
      s.redemption = 0;
    }
    if (isSpeech && !s.speaking) {
      s.speaking = true;
      this.events.push({ type: "speechStart", start: s.bufferStart * this.w });
    }
    if (prob < this.r.negativeSpeechThreshold && s.speaking && ++s.redemption >= this.redemptionFrames) this.end(i + 1);
    if (!s.speaking) {
      s.bufferStart = Math.max(s.bufferStart, i + 1 - this.padFrames);
      s.speechFrames = 0;
    }
  }

  /** Speech over after frame `upTo` - 1: a segment of the buffered frames, or a misfire. */
  private end(upTo: number): void {
    const s = this.s;
    const seg = { start: s.bufferStart * this.w, end: upTo * this.w };
    this.events.push(s.speechFrames >= this.minSpeechFrames ? { type: "segment", ...seg } : { type: "misfire", ...seg });
    s.redemption = s.speechFrames = 0;
    s.speaking = false;
    s.bufferStart = upTo;
  }

  finish(): void {
    if (this.s.speaking) this.end(this.s.i);
  }

  drain(): RawEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  keepFrom(): number {
    return this.s.bufferStart * this.w;
  }

  state(): unknown {
    return { ...this.s };
  }

  restore(state: unknown): void {
    this.reset();
    const s = state as VadWebState;
    if (!fieldsLike(s, this.s) || !Number.isSafeInteger(s.i) || s.i < 0) throw new RangeError("the vad-web segmenter state is malformed");
    this.s = { i: s.i, speaking: s.speaking, redemption: s.redemption, speechFrames: s.speechFrames, bufferStart: s.bufferStart };
  }
}
