/**
 * Silero VAD ONNX files -> .rnnb bundles bound for one sample rate (Node, tools side: it reads
 * ONNX through the exporter). The interface is read from the graph's inputs, as silero-vad's
 * OnnxWrapper expects it:
 *
 * - v5 / v6 (inputs `input`, `state`, `sr`): frames of 512 samples at 16 kHz (256 at 8 kHz) with
 *   the previous 64 (32) in front; `state` -> `stateN` is the session state.
 * - v4 "legacy" (inputs `input`, `sr`, `h`, `c`): frames of 512/1024/1536 samples at 16 kHz
 *   (256/512/768 at 8 kHz), no context; `h` -> `hn`, `c` -> `cn`.
 * - Graphs without `sr`, or files named "16k" (as silero's wrapper decides), are 16 kHz only.
 *
 * The bundle's metadata.vad states the contract, which rnn-wasm/vad reads (src/vad/model.ts).
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { RnnWasmError } from "../errors.js";
import type { BundleDtype } from "../format/bundle.js";
import { writeBundle } from "../format/writer.js";
import { importOnnx } from "../import/onnx/build.js";
import { readOnnx } from "../import/onnx/proto.js";
import type { VadModelInfo } from "./model.js";

export interface SileroExportOptions {
  /** 8000 or 16000 (default 16000); a 16 kHz-only model refuses 8000 (see sileroRates). */
  sampleRate?: number;
  /** Legacy v4 only: samples per frame (512, 1024 or 1536 at 16 kHz; half at 8 kHz). */
  frameSamples?: number;
  dtype?: BundleDtype;
  /** Name for messages and metadata (default: the file name). */
  name?: string;
}

export interface SileroInterface {
  kind: "v5" | "legacy";
  /** The rates the graph serves. */
  rates: number[];
  /** Whether the graph takes the rate as an input (folded to a constant on export). */
  hasSr: boolean;
}

/** Which Silero interface an ONNX graph has, and its sample rates. */
export function sileroInterface(bytes: Uint8Array, name = "model.onnx"): SileroInterface {
  const inputs = new Set(readOnnx(bytes, name).graph.inputs.map((i) => i.name));
  const hasSr = inputs.has("sr");
  const rates = hasSr && !/16k/i.test(name) ? [8000, 16000] : [16000];
  if (inputs.has("input") && inputs.has("state")) return { kind: "v5", rates, hasSr };
  if (inputs.has("input") && inputs.has("h") && inputs.has("c")) return { kind: "legacy", rates, hasSr };
  throw new RnnWasmError("E_ARGUMENT", `${name} is not a Silero VAD model: it has inputs ${[...inputs].join(", ")}; expected input, state[, sr] (v5/v6) or input, sr, h, c (v4)`);
}

export async function exportSileroVad(source: string | Uint8Array, opts: SileroExportOptions = {}): Promise<Uint8Array> {
  const name = opts.name ?? (typeof source === "string" ? basename(source) : "silero_vad.onnx");
  let bytes: Uint8Array;
  if (typeof source === "string") {
    try {
      bytes = new Uint8Array(await readFile(resolve(source)));
    } catch (e) {
      throw new RnnWasmError("E_IO", `cannot read model file ${source}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, { cause: e });
    }
  } else bytes = source;
  const face = sileroInterface(bytes, name);
  const rate = opts.sampleRate ?? 16000;
  if (!face.rates.includes(rate)) throw new RnnWasmError("E_ARGUMENT", `${name} serves ${face.rates.join(" and ")} Hz, not ${rate} Hz`);
  const per16k = rate / 16000;
  let info: VadModelInfo;
  if (face.kind === "v5") info = { sampleRate: rate, frameSamples: 512 * per16k, contextSamples: 64 * per16k };
  else {
    const frame = opts.frameSamples ?? 512 * per16k;
    if (![512, 1024, 1536].map((n) => n * per16k).includes(frame)) throw new RnnWasmError("E_ARGUMENT", `legacy Silero frames at ${rate} Hz are ${[512, 1024, 1536].map((n) => n * per16k).join(", ")} samples, not ${frame}`);
    info = { sampleRate: rate, frameSamples: frame, contextSamples: 0 };
  }
  if (face.kind === "v5" && opts.frameSamples !== undefined && opts.frameSamples !== info.frameSamples) {
    throw new RnnWasmError("E_ARGUMENT", `Silero v5/v6 frames at ${rate} Hz are ${info.frameSamples} samples`);
  }
  const { packed } = importOnnx(bytes, {
    inputs: { input: [1, info.frameSamples + info.contextSamples] },
    constants: face.hasSr ? { sr: rate } : {},
    state: face.kind === "v5" ? { state: "stateN" } : { h: "hn", c: "cn" },
    sourceName: name,
  });
  return writeBundle(packed, { dtype: opts.dtype, metadata: { vad: { ...info, source: name } }, generator: "rnn-wasm exportSileroVad" });
}
