/**
 * rnn-wasm/vad: voice activity detection with Silero VAD models exported to .rnnb (or any model
 * with the same audio contract: src/vad/model.ts). docs/audio.md is the guide.
 *
 * ```js
 * import { loadModel } from "rnn-wasm";
 * import { createVad } from "rnn-wasm/vad";
 * const vad = createVad(await loadModel(bundleBytes), { sampleRate: 48000 });
 * const { probabilities, events } = vad.push(chunk);   // any length, any time
 * ```
 *
 * This module uses only rnn-wasm's public API (the package build imports it as "rnn-wasm").
 */
import type { Model } from "../index.js";
import { VadPool, type VadEvent, type VadStream, type VadStreamOptions, type VadUpdate } from "./pool.js";
import type { VadModelInfo } from "./model.js";

export { VadPool, VadStream } from "./pool.js";
export type { VadEvent, VadStreamOptions, VadUpdate } from "./pool.js";
export { describeVadModel } from "./model.js";
export type { VadModelInfo } from "./model.js";
export { Resampler } from "./resample.js";
export { normalizeRules } from "./segmenter.js";
export type { SegmentRules, SileroRules, VadWebRules } from "./segmenter.js";

export type VadOptions = VadStreamOptions & {
  /** The model's audio contract when its bundle does not say (legacy v4 bundles: { sampleRate }). */
  modelInfo?: Partial<VadModelInfo>;
};

/** One stream with its own batch-1 pool: push audio, get what it completed, synchronously. */
export class Vad {
  readonly pool: VadPool;
  readonly stream: VadStream;

  constructor(model: Model, options: VadOptions = {}, snapshot?: Uint8Array) {
    this.pool = new VadPool(model, options?.modelInfo);
    try {
      this.stream = this.pool.open(options, snapshot);
    } catch (e) {
      this.pool.dispose();
      throw e;
    }
  }

  /** Feeds audio of any length (at the stream's sampleRate); returns the frames it completed and the events. */
  push(samples: Float32Array | Int16Array): VadUpdate {
    this.stream.write(samples);
    this.pool.process();
    return this.stream.read();
  }

  /** The audio has ended: runs what is left and returns the final events. */
  end(): VadUpdate {
    this.stream.end();
    this.pool.process();
    return this.stream.read();
  }

  /** Portable state of the stream; `createVad(model, {}, bytes)` continues it (any process, same model). */
  snapshot(): Uint8Array {
    return this.stream.snapshot();
  }

  reset(): void {
    this.stream.reset();
  }

  /** Frees the stream's sessions (the model is the caller's to dispose). */
  dispose(): void {
    this.pool.dispose();
  }
}

/** A single-stream VAD; with `snapshot`, resumes a stream (the snapshot's options win). */
export function createVad(model: Model, options: VadOptions = {}, snapshot?: Uint8Array): Vad {
  return new Vad(model, options, snapshot);
}

export interface SpeechDetection {
  /** The input's sample rate (segment samples count at this rate). */
  sampleRate: number;
  /** The model's rate and frame: probability k belongs to seconds [k·frame, (k+1)·frame) / modelRate. */
  modelRate: number;
  frameSamples: number;
  probabilities: Float32Array;
  segments: Extract<VadEvent, { type: "segment" }>[];
}

/**
 * Speech segments of a whole recording (what `rnn-wasm vad` prints): the stream API run over it
 * in chunks of `chunkSeconds`, with `onProgress(done, total)` in input samples after each.
 */
export function detectSpeech(model: Model, audio: Float32Array | Int16Array, options: VadOptions & { chunkSeconds?: number; onProgress?: (done: number, total: number) => void } = {}): SpeechDetection {
  const vad = createVad(model, options);
  try {
    const rate = vad.stream.sampleRate;
    const chunk = Math.max(1, Math.round(rate * (options.chunkSeconds ?? 10)));
    const probs: Float32Array[] = [];
    const segments: SpeechDetection["segments"] = [];
    const take = (u: VadUpdate) => {
      probs.push(u.probabilities);
      for (const e of u.events) if (e.type === "segment") segments.push(e);
    };
    for (let at = 0; at < audio.length; at += chunk) {
      take(vad.push(audio.subarray(at, at + chunk)));
      options.onProgress?.(Math.min(audio.length, at + chunk), audio.length);
    }
    take(vad.end());
    const probabilities = new Float32Array(probs.reduce((n, p) => n + p.length, 0));
    probs.reduce((at, p) => (probabilities.set(p, at), at + p.length), 0);
    return { sampleRate: rate, modelRate: vad.pool.info.sampleRate, frameSamples: vad.pool.info.frameSamples, probabilities, segments };
  } finally {
    vad.dispose();
  }
}
