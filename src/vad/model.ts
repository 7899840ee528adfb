/**
 * What a voice-activity model asks of the audio: its sample rate, how many new samples each
 * step takes, and how many samples of the previous step it wants in front of them (Silero v5/v6:
 * 512 + 64 at 16 kHz, 256 + 32 at 8 kHz; the legacy v4 takes 512/1024/1536 with no context and
 * carries h and c instead). Bundles made by exportSileroVad (or `rnn-wasm vad --model x.onnx`)
 * say so in their metadata; other bundles are recognised by their input length.
 */
import { RnnWasmError, type Model } from "../index.js";

export interface VadModelInfo {
  /** The rate the model was exported for (8000 or 16000). */
  sampleRate: number;
  /** New samples per step. */
  frameSamples: number;
  /** Samples of the previous step's input repeated in front of each frame (0: none). */
  contextSamples: number;
}

/** Silero v5/v6 inputs by length: [frame + context, rate]. */
const KNOWN_INPUTS: Record<number, VadModelInfo> = {
  576: { sampleRate: 16000, frameSamples: 512, contextSamples: 64 },
  288: { sampleRate: 8000, frameSamples: 256, contextSamples: 32 },
};

const bad = (msg: string): never => {
  throw new RnnWasmError("E_ARGUMENT", msg);
};

function checkInfo(info: VadModelInfo, inputLength: number, where: string): VadModelInfo {
  const { sampleRate, frameSamples, contextSamples } = info;
  if (![8000, 16000].includes(sampleRate)) bad(`${where}: sampleRate must be 8000 or 16000, received ${JSON.stringify(sampleRate)}`);
  if (!Number.isInteger(frameSamples) || !Number.isInteger(contextSamples) || frameSamples < 1 || contextSamples < 0 || contextSamples > frameSamples
    || frameSamples + contextSamples !== inputLength) {
    bad(`${where}: frameSamples ${frameSamples} + contextSamples ${contextSamples} must be the model's input length ${inputLength}`);
  }
  return { sampleRate, frameSamples, contextSamples };
}

/**
 * The audio contract of a loaded model: from its metadata `vad` entry, else from its input
 * length (576 or 288: Silero v5/v6), else `fallback` (a legacy model: `{ sampleRate }` and the
 * input length as the frame).
 */
export function describeVadModel(model: Model, fallback?: Partial<VadModelInfo>): VadModelInfo {
  const inp = model.inputs;
  const out = model.outputs;
  const n = inp[0]?.shape[1];
  if (inp.length !== 1 || inp[0].shape.length !== 2 || typeof n !== "number" || inp[0].dtype !== "float32" || out.length !== 1 || out[0].shape[1] !== 1) {
    bad(`not a voice-activity model: expected one float input [batch, samples] and one output [batch, 1], found inputs ${JSON.stringify(inp.map((i) => i.shape))} and outputs ${JSON.stringify(out.map((o) => o.shape))}`);
  }
  const meta = (model.metadata as { vad?: Partial<VadModelInfo> }).vad;
  if (meta !== undefined) {
    if (typeof meta !== "object" || meta === null) bad("the model's metadata.vad must be an object");
    return checkInfo({ ...KNOWN_INPUTS[n as number], ...meta } as VadModelInfo, n as number, "metadata.vad");
  }
  if (fallback?.frameSamples === undefined && KNOWN_INPUTS[n as number]) {
    return checkInfo({ ...KNOWN_INPUTS[n as number], ...fallback }, n as number, "the model");
  }
  return checkInfo({ sampleRate: 16000, frameSamples: n as number, contextSamples: 0, ...fallback }, n as number, "the model");
}
