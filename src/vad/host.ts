/**
 * What the audio-thread and worker hosts share: the messages between a host and the page, and
 * the host's side of them (a model loaded without awaiting anything, one VAD stream, audio in,
 * updates out). docs/audio.md draws the threads and buffers.
 */
import { RnnWasmError } from "../errors.js";
import type { Model } from "../index.js";
import { createVad, type Vad, type VadOptions, type VadUpdate } from "./index.js";
import { loadModelSync } from "./load-sync.js";

/** What the page sends a host when it starts one. */
export interface HostInit {
  /** The compiled kernel module (structured-cloned: the host compiles and fetches nothing). */
  module: WebAssembly.Module;
  /** The .rnnb bundle. */
  bundle: Uint8Array;
  /** VAD options; sampleRate is the audio's (the AudioContext's). */
  options: VadOptions;
  /** Also post the mono audio the VAD receives (for drawing it, and for tests). */
  captureAudio?: boolean;
  /** A recording's length: input past it (the rest of the last render quantum) is not the recording's. */
  length?: number;
}

/** Page -> host. */
export type HostCommand =
  | { type: "pause" }
  | { type: "resume" }
  | { type: "reset" }
  /** The audio has ended: run what is left, post the final update, then "ended". */
  | { type: "end" }
  | { type: "snapshot" }
  | { type: "dispose" };

/** Host -> page. */
export type HostMessage =
  | { type: "ready"; sampleRate: number; modelRate: number; frameSamples: number }
  | ({ type: "update" } & VadUpdate)
  | { type: "audio"; samples: Float32Array; at: number }
  /** Input samples the audio thread never got (the device or the thread fell behind); zeros stand in for them. */
  | { type: "gap"; samples: number; at: number }
  /** Audio-thread health: the slowest process() call and the render quanta over budget since the last report. */
  | { type: "load"; maxMs: number; late: number; quanta: number }
  | { type: "snapshot"; bytes: Uint8Array }
  | { type: "ended" }
  | { type: "error"; code: string; message: string };

export type Post = (m: HostMessage, transfer?: Transferable[]) => void;

/** One VAD stream driven by messages: the same in the worklet and in the worker. */
export class VadHost {
  readonly model: Model;
  readonly vad: Vad;
  private paused = false;
  private disposed = false;
  /** Input samples seen, for gap positions and captured audio. */
  heard = 0;

  constructor(init: HostInit, sampleRate: number, private readonly post: Post) {
    this.model = loadModelSync(init.bundle, init.module);
    try {
      this.vad = createVad(this.model, { ...init.options, sampleRate });
    } catch (e) {
      this.model.dispose();
      throw e;
    }
    this.capture = !!init.captureAudio;
    this.length = init.length;
    const info = this.vad.pool.info;
    post({ type: "ready", sampleRate, modelRate: info.sampleRate, frameSamples: info.frameSamples });
  }

  private readonly capture: boolean;
  private readonly length: number | undefined;

  /** Audio from the device (or the forwarding worklet). */
  push(samples: Float32Array): void {
    if (this.paused || this.disposed) return;
    if (this.length !== undefined && this.heard + samples.length > this.length) samples = samples.subarray(0, Math.max(0, this.length - this.heard));
    if (!samples.length) return;
    if (this.capture) this.post({ type: "audio", samples: samples.slice(), at: this.heard });
    this.heard += samples.length;
    this.send(this.vad.push(samples));
  }

  /** Samples that never arrived: the stream's timeline keeps its length (zeros), and the page is told. */
  gap(samples: number): void {
    if (this.paused || this.disposed || samples <= 0) return;
    this.post({ type: "gap", samples, at: this.heard });
    this.push(new Float32Array(Math.min(samples, 1 << 20)));
  }

  private send(u: VadUpdate): void {
    if (!u.probabilities.length && !u.events.length) return;
    this.post({ type: "update", ...u }, [u.probabilities.buffer]);
  }

  command(c: HostCommand): void {
    if (this.disposed) return;
    try {
      switch (c.type) {
        case "pause":
          this.paused = true;
          break;
        case "resume":
          this.paused = false;
          break;
        case "reset":
          this.vad.reset();
          this.heard = 0;
          break;
        case "end":
          this.send(this.vad.end());
          this.post({ type: "ended" });
          break;
        case "snapshot": {
          const bytes = this.vad.snapshot();
          this.post({ type: "snapshot", bytes }, [bytes.buffer]);
          break;
        }
        case "dispose":
          this.dispose();
          break;
      }
    } catch (e) {
      this.post(errorMessage(e));
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.vad.dispose();
    this.model.dispose();
  }
}

export function errorMessage(e: unknown): HostMessage {
  return { type: "error", code: e instanceof RnnWasmError ? e.code : "E_INTERNAL", message: (e as Error)?.message ?? String(e) };
}
