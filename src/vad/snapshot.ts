/**
 * A VAD stream's snapshot: everything it carries between two chunks of audio, in one portable
 * byte string (a stateless server keeps it with the caller between requests):
 *
 *   "RNVS" | u32 version | u32 header bytes | header (UTF-8 JSON) | pad to 4 |
 *   model state (a batch-1 session snapshot: its own checks name the model) |
 *   resampler history (f32) | audio not yet done with (f32) | CRC-32 of all before
 *
 * The header holds the options, the counters and the segmenter's state. Snapshots come from
 * callers: decode checks the layout, the checksum and every count before anything is used, and
 * the stream checks that the counts agree with each other.
 */
import { RnnWasmError } from "../index.js";
import { crc32 } from "../format/crc32.js";
import type { VadModelInfo } from "./model.js";
import type { ResamplerState } from "./resample.js";

const MAGIC = 0x53564e52; // "RNVS"
const VERSION = 1;
/** Header JSON larger than this is refused (a real one is a few hundred bytes). */
const MAX_HEADER = 1 << 16;

export interface StreamSnapshot {
  options: Record<string, unknown>;
  info: VadModelInfo;
  heard: number;
  frames: number;
  finished: boolean;
  audioStart: number;
  audio: Float32Array;
  segmenter: unknown;
  resampler: ResamplerState | null;
  modelState: Uint8Array;
}

interface Header extends Omit<StreamSnapshot, "audio" | "modelState" | "resampler"> {
  resampler: { consumed: number; produced: number; history: number } | null;
  modelStateBytes: number;
  audioSamples: number;
}

const align4 = (n: number) => (n + 3) & ~3;

export function encodeSnapshot(s: StreamSnapshot): Uint8Array {
  const header: Header = {
    options: s.options,
    info: s.info,
    heard: s.heard,
    frames: s.frames,
    finished: s.finished,
    audioStart: s.audioStart,
    segmenter: s.segmenter,
    resampler: s.resampler && { consumed: s.resampler.consumed, produced: s.resampler.produced, history: s.resampler.history.length },
    modelStateBytes: s.modelState.length,
    audioSamples: s.audio.length,
  };
  // Infinity (maxSpeechMs) has no JSON form: written as a string
  const json = new TextEncoder().encode(JSON.stringify(header, (_, v) => (v === Infinity ? "Infinity" : v)));
  const history = s.resampler?.history ?? new Float32Array(0);
  const at = align4(12 + json.length);
  const modelAt = at;
  const historyAt = align4(modelAt + s.modelState.length);
  const audioAt = historyAt + history.length * 4;
  const total = audioAt + s.audio.length * 4 + 4;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(s.modelState, modelAt);
  new Float32Array(out.buffer, historyAt, history.length).set(history);
  new Float32Array(out.buffer, audioAt, s.audio.length).set(s.audio);
  v.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): StreamSnapshot {
  const corrupt = (why: string): never => {
    throw new RnnWasmError("E_STATE_CORRUPT", `VAD snapshot: ${why}`);
  };
  if (!(bytes instanceof Uint8Array) || bytes.length < 16) corrupt("expected the Uint8Array from stream.snapshot()");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (v.getUint32(0, true) !== MAGIC) corrupt("not a VAD stream snapshot");
  if (v.getUint32(4, true) !== VERSION) corrupt(`format version ${v.getUint32(4, true)}, this rnn-wasm reads ${VERSION}`);
  if (v.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) corrupt("the bytes are damaged (checksum mismatch)");
  const jsonBytes = v.getUint32(8, true);
  if (jsonBytes > MAX_HEADER || 12 + jsonBytes > bytes.length - 4) corrupt("header length out of range");
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + jsonBytes)), (_, x) => (x === "Infinity" ? Infinity : x));
  } catch {
    return corrupt("unreadable header");
  }
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (typeof h !== "object" || h === null || typeof h.options !== "object" || h.options === null || typeof h.info !== "object" || h.info === null
    || !count(h.modelStateBytes) || !count(h.audioSamples) || typeof h.finished !== "boolean"
    || (h.resampler !== null && (typeof h.resampler !== "object" || !count(h.resampler.history) || !count(h.resampler.consumed) || !count(h.resampler.produced)))) {
    corrupt("header fields missing or of the wrong type");
  }
  const modelAt = align4(12 + jsonBytes);
  const historyAt = align4(modelAt + h.modelStateBytes);
  const historyLength = h.resampler?.history ?? 0;
  const audioAt = historyAt + historyLength * 4;
  if (audioAt + h.audioSamples * 4 + 4 !== bytes.length) corrupt("section lengths do not add up to the snapshot's length");
  // copies: the caller's buffer may be reused, and Float32Array views need aligned offsets
  const body = bytes.slice(historyAt, audioAt + h.audioSamples * 4);
  const floats = new Float32Array(body.buffer, 0, historyLength + h.audioSamples);
  for (let i = 0; i < floats.length; i++) if (!Number.isFinite(floats[i])) corrupt("audio or resampler history holds a non-finite sample");
  return {
    options: h.options,
    info: h.info,
    heard: h.heard,
    frames: h.frames,
    finished: h.finished,
    audioStart: h.audioStart,
    segmenter: h.segmenter,
    resampler: h.resampler && { consumed: h.resampler.consumed, produced: h.resampler.produced, history: floats.slice(0, historyLength) },
    audio: floats.slice(historyLength),
    modelState: bytes.slice(modelAt, modelAt + h.modelStateBytes),
  };
}
