/**
 * WAV files for the VAD command and the tests, read with wavefile: PCM 8/16/24/32-bit, float
 * 32/64-bit, A-law and mu-law, mono or several channels (averaged, as silero-vad's read_audio
 * does). Integer samples are scaled by 1/2^(bits-1) — what torchaudio and the browsers'
 * decodeAudioData do — so the same file gives the same floats in Node, in silero's Python
 * and in a page.
 */
import wavefile from "wavefile";
import { RnnWasmError } from "../../src/errors.js";

export interface Audio {
  sampleRate: number;
  /** Mono samples in [-1, 1]. */
  samples: Float32Array;
  channels: number;
}

const PCM = 1;
const FLOAT = 3;
const ALAW = 6;
const MULAW = 7;
const EXTENSIBLE = 0xfffe;

export function decodeWav(bytes: Uint8Array, name = "audio.wav"): Audio {
  let w: InstanceType<typeof wavefile.WaveFile>;
  try {
    w = new wavefile.WaveFile(bytes);
  } catch (e) {
    throw new RnnWasmError("E_ARGUMENT", `${name} is not a readable WAV file: ${(e as Error).message}`, { cause: e });
  }
  const fmt = w.fmt as { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number; subformat?: number[] };
  let format = fmt.audioFormat === EXTENSIBLE ? (fmt.subformat?.[0] ?? 0) : fmt.audioFormat;
  if (format === ALAW || format === MULAW) {
    if (format === ALAW) w.fromALaw("16");
    else w.fromMuLaw("16");
    format = PCM;
  }
  const bits = Number((w as unknown as { bitDepth: string }).bitDepth.replace("f", ""));
  if (format !== PCM && format !== FLOAT) throw new RnnWasmError("E_ARGUMENT", `${name}: WAV format ${fmt.audioFormat} is not PCM, float, A-law or mu-law`);
  const channels = fmt.numChannels;
  if (!(channels >= 1) || !(fmt.sampleRate >= 1)) throw new RnnWasmError("E_ARGUMENT", `${name}: WAV header has ${channels} channels at ${fmt.sampleRate} Hz`);
  const raw = w.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const planes = channels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  const n = planes[0].length;
  const samples = new Float32Array(n);
  const scale = format === FLOAT ? 1 : 1 / 2 ** (bits - 1);
  const offset = format === PCM && bits === 8 ? 128 : 0; // 8-bit PCM is unsigned
  for (const p of planes) for (let i = 0; i < n; i++) samples[i] += (p[i] - offset) * scale;
  if (channels > 1) for (let i = 0; i < n; i++) samples[i] /= channels;
  for (let i = 0; i < n; i++) if (!Number.isFinite(samples[i])) throw new RnnWasmError("E_VALUE", `${name}: sample ${i} is ${samples[i]}`);
  return { sampleRate: fmt.sampleRate, samples, channels };
}
