/**
 * The audio-thread host (in dist/vad-host.js, one self-contained script with the worker host: a
 * worklet may not fetch or import() at run time). Registers "rnn-vad": an AudioWorkletProcessor that either
 * runs the model itself in process() ("worklet" host), or forwards the audio to a Worker over a
 * MessagePort it is handed ("worker" host). docs/audio.md explains the threads, the buffers and
 * what happens when a render quantum misses its deadline.
 */
import { errorMessage, VadHost, type HostCommand, type HostInit, type HostMessage } from "./host.js";
import { installTextCodecs } from "./text-codec.js";

installTextCodecs(); // the AudioWorkletGlobalScope has no TextDecoder; bundle headers are UTF-8 JSON

// the AudioWorkletGlobalScope's names (not in TypeScript's DOM library)
declare const sampleRate: number;
declare const currentFrame: number;
declare function registerProcessor(name: string, ctor: new (options: { processorOptions: ProcessorOptions }) => object): void;
declare const AudioWorkletProcessor: { new (): { readonly port: MessagePort } };
// a worker scope has neither: the class below must still be definable there
const Base = (typeof AudioWorkletProcessor === "function" ? AudioWorkletProcessor : class {}) as typeof AudioWorkletProcessor;

export interface ProcessorOptions {
  /** Run the model here; absent: forward audio to the port handed over in a "connect" message. */
  host?: HostInit;
  /** Forwarding: samples per message to the worker (fewer, larger messages; default 2048). */
  chunk?: number;
}

/** How often the processor reports its load, in render quanta (~1 s at 48 kHz). */
const LOAD_EVERY = 375;
/** A clock for process() times: the scope has no `performance` in some engines (Chromium before 135). */
const now: () => number = typeof performance !== "undefined" ? () => performance.now() : () => Date.now();

class RnnVadProcessor extends Base {
  private host: VadHost | null = null;
  private forward: MessagePort | null = null;
  private pending: Float32Array;
  private filled = 0;
  private nextFrame = -1;
  private alive = true;
  private maxMs = 0;
  private late = 0;
  private quanta = 0;
  private mono = new Float32Array(128);

  constructor(options: { processorOptions: ProcessorOptions }) {
    super();
    const o = options.processorOptions ?? {};
    const post = (m: HostMessage, transfer: Transferable[] = []) => this.port.postMessage(m, transfer);
    this.pending = new Float32Array(Math.max(128, o.chunk ?? 2048));
    try {
      if (o.host) this.host = new VadHost(o.host, sampleRate, post);
    } catch (e) {
      post(errorMessage(e));
      this.alive = false;
    }
    this.port.onmessage = (e: MessageEvent) => {
      const m = e.data as HostCommand | { type: "connect"; port: MessagePort };
      if (m.type === "connect") this.forward = m.port;
      else if (this.host) this.host.command(m);
      else this.forward?.postMessage(m); // the worker holds the stream
      if (m.type === "dispose") {
        this.alive = false;
        this.flushForward();
        this.forward?.close();
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (!this.alive) return false;
    const t0 = now();
    const channels = inputs[0];
    // a gap in the frame counter: quanta this processor never saw (the device or thread fell behind)
    if (this.nextFrame >= 0 && currentFrame > this.nextFrame) this.gap(currentFrame - this.nextFrame);
    const n = channels?.[0]?.length ?? 0;
    this.nextFrame = currentFrame + (n || 128);
    if (n) {
      if (this.mono.length !== n) this.mono = new Float32Array(n);
      const mono = this.mono;
      mono.set(channels[0]);
      for (let c = 1; c < channels.length; c++) for (let i = 0; i < n; i++) mono[i] += channels[c][i];
      if (channels.length > 1) for (let i = 0; i < n; i++) mono[i] /= channels.length;
      if (this.host) this.host.push(mono);
      else this.queue(mono);
    }
    this.account(now() - t0, n || 128);
    return true;
  }

  private gap(samples: number): void {
    if (this.host) this.host.gap(samples);
    else {
      this.flushForward();
      this.forward?.postMessage({ type: "gap", samples });
    }
  }

  private queue(x: Float32Array): void {
    if (!this.forward) return; // not connected yet: the page connects before it starts the source
    for (let at = 0; at < x.length;) {
      const n = Math.min(x.length - at, this.pending.length - this.filled);
      this.pending.set(x.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.pending.length) this.flushForward();
    }
  }

  private flushForward(): void {
    if (!this.forward || !this.filled) return;
    const chunk = this.pending.slice(0, this.filled);
    this.forward.postMessage({ type: "audio", samples: chunk }, [chunk.buffer]);
    this.filled = 0;
  }

  /** Time against the render quantum's budget; a report every LOAD_EVERY quanta. */
  private account(ms: number, samples: number): void {
    this.maxMs = Math.max(this.maxMs, ms);
    if (ms > (1000 * samples) / sampleRate) this.late++;
    if (++this.quanta >= LOAD_EVERY) {
      this.port.postMessage({ type: "load", maxMs: this.maxMs, late: this.late, quanta: this.quanta } satisfies HostMessage);
      this.maxMs = this.late = this.quanta = 0;
    }
  }
}

// (one script serves both hosts: in a worker scope there is no registerProcessor)
if (typeof registerProcessor === "function") registerProcessor("rnn-vad", RnnVadProcessor);
