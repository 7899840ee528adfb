/**
 * rnn-wasm/vad in Node: everything of the platform-neutral module, plus the Silero v5 bundles
 * rnn-wasm-tools ships (its models/) and a Node stream over PCM audio (a microphone, a file, an RTP
 * depacketiser's output): PCM in, VAD events out, as the stream API gives them.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadModel, RnnWasmError, type LoadOptions, type Model } from "../index.js";
import { createVad, type Vad, type VadEvent, type VadOptions } from "./index.js";

export * from "./index.js";

/** The bundles rnn-wasm-tools ships: Silero v5 (MIT) bound for 16 kHz and for 8 kHz. */
const SHIPPED: Record<number, string> = { 16000: "silero-vad-v5-16k.rnnb", 8000: "silero-vad-v5-8k.rnnb" };

/** The rate of the shipped bundle that serves audio at `sampleRate` best: 8 kHz audio gets the 8 kHz model, all else 16 kHz. */
export const sileroRateFor = (sampleRate: number): 8000 | 16000 => (sampleRate === 8000 ? 8000 : 16000);

/**
 * Bytes of the Silero v5 bundle for 8000 or 16000 Hz that rnn-wasm-tools ships (its models/):
 * from a checkout (models/), beside the tools' own build, or from the rnn-wasm-tools package
 * next to rnn-wasm or in the working directory's project.
 */
export async function sileroBundle(modelRate: 8000 | 16000 = 16000): Promise<Uint8Array> {
  const file = SHIPPED[modelRate];
  if (!file) throw new RnnWasmError("E_ARGUMENT", `the shipped Silero bundles are for 8000 and 16000 Hz, not ${modelRate}`);
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/vad-node.js in a checkout: ../models; src/vad/node.ts: ../../models; tools/dist/cli.js: ./models
  const places = [resolve(here, "..", "models", file), resolve(here, "..", "..", "models", file), resolve(here, "models", file)];
  for (const from of [import.meta.url, pathToFileURL(`${process.cwd()}/`).href]) {
    try {
      places.push(createRequire(from).resolve(`rnn-wasm-tools/models/${file}`));
    } catch {
      // not installed there
    }
  }
  for (const p of places) {
    try {
      return new Uint8Array(await readFile(p));
    } catch {
      // the next place
    }
  }
  throw new RnnWasmError("E_IO", `the Silero bundle ${file} comes with the rnn-wasm-tools package (npm install rnn-wasm-tools), or pass your own bundle to loadModel; looked in ${places.join(", ")}`);
}

/** Loads the shipped Silero v5 model for audio at `sampleRate` (default 16000). */
export async function loadSileroVad(sampleRate = 16000, options?: LoadOptions): Promise<Model> {
  return loadModel(await sileroBundle(sileroRateFor(sampleRate)), options);
}

export type VadNodeStreamOptions = VadOptions & {
  /** How the written bytes encode samples: 16-bit little-endian PCM (default) or float32 little-endian. */
  encoding?: "s16le" | "f32le";
  /** Also emit { type: "probabilities", firstFrame, probabilities } records. */
  probabilities?: boolean;
};

export type VadRecord = VadEvent | { type: "probabilities"; firstFrame: number; probabilities: Float32Array };

/**
 * A Transform stream: write mono PCM bytes (any chunking; a sample split across chunks is kept
 * for the next), read VadRecord objects. Ending the input flushes the stream's last frames and
 * final events. The same stream API runs underneath: the events equal createVad's.
 */
export class VadNodeStream extends Transform {
  readonly vad: Vad;
  private readonly bytesPerSample: number;
  private readonly encoding: "s16le" | "f32le";
  private readonly withProbabilities: boolean;
  private carry = Buffer.alloc(0);

  constructor(model: Model, options: VadNodeStreamOptions = {}) {
    super({ writableObjectMode: false, readableObjectMode: true });
    const { encoding = "s16le", probabilities = false, ...vadOptions } = options;
    if (encoding !== "s16le" && encoding !== "f32le") throw new RnnWasmError("E_ARGUMENT", `encoding must be "s16le" or "f32le", received ${JSON.stringify(encoding)}`);
    this.encoding = encoding;
    this.bytesPerSample = encoding === "s16le" ? 2 : 4;
    this.withProbabilities = probabilities;
    this.vad = createVad(model, vadOptions);
  }

  private emitUpdate(u: ReturnType<Vad["push"]>): void {
    if (this.withProbabilities && u.probabilities.length) this.push({ type: "probabilities", firstFrame: u.firstFrame, probabilities: u.probabilities });
    for (const e of u.events) this.push(e);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const bytes = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
      const whole = bytes.length - (bytes.length % this.bytesPerSample);
      this.carry = Buffer.from(bytes.subarray(whole));
      const n = whole / this.bytesPerSample;
      const samples = this.encoding === "s16le" ? new Int16Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = this.encoding === "s16le" ? bytes.readInt16LE(2 * i) : bytes.readFloatLE(4 * i);
      this.emitUpdate(this.vad.push(samples));
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.emitUpdate(this.vad.end());
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    this.vad.dispose();
    done(err);
  }
}

/** `pipeline(source, createVadStream(model, { sampleRate: 16000 }), sink)`. */
export function createVadStream(model: Model, options: VadNodeStreamOptions = {}): VadNodeStream {
  return new VadNodeStream(model, options);
}
