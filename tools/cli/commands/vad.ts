/**
 * `rnn-wasm vad`: the speech segments of a WAV file with Silero VAD (get_speech_timestamps'
 * rules and defaults), as text, JSON or SRT. The model is the shipped Silero v5 bundle for the
 * file's rate (8 kHz files get the 8 kHz export, all others 16 kHz, resampled), a .rnnb, or a
 * Silero .onnx bound for the file's rate on the fly.
 */
import { extname, resolve } from "node:path";
import { type Command, Option } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { exportSileroVad, sileroInterface } from "../../../src/vad/export.js";
import { loadModel, type Model } from "../../../src/index.js";
import { detectSpeech, type SpeechDetection } from "../../../src/vad/index.js";
import { loadSileroVad } from "../../../src/vad/node.js";
import { decodeWav } from "../../audio/wav.js";
import { withSource } from "../errors.js";
import { numberIn } from "../options.js";
import { progressBar, type Bar } from "../progress.js";
import { readBytes } from "../source.js";

/** Recordings longer than this show a progress bar on a terminal. */
const PROGRESS_MIN_SECONDS = 60;

interface VadFlags {
  model?: string;
  json?: boolean;
  srt?: boolean;
  threshold: number;
  negThreshold?: number;
  minSpeechMs: number;
  minSilenceMs: number;
  speechPadMs: number;
  maxSpeechS?: number;
  progress?: boolean;
}

async function modelFor(file: string | undefined, sampleRate: number): Promise<Model> {
  if (!file) return loadSileroVad(sampleRate);
  const bytes = await readBytes(resolve(file), "model file");
  try {
    if (extname(file).toLowerCase() === ".onnx") {
      const { rates } = sileroInterface(bytes, file);
      // bound for the file's rate when the graph serves it, else 16 kHz (the audio is resampled)
      return await loadModel(await exportSileroVad(bytes, { sampleRate: rates.includes(sampleRate) ? sampleRate : 16000, name: file }));
    }
    return await loadModel(bytes);
  } catch (e) {
    throw withSource(e, file);
  }
}

const clock = (seconds: number) => {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3600000))}:${pad(Math.floor(ms / 60000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
};

function format(r: SpeechDetection, o: VadFlags): string {
  const segs = r.segments.map((s) => ({ start: s.start, end: s.end, startSample: s.startSample, endSample: s.endSample }));
  if (o.json) return JSON.stringify({ sampleRate: r.sampleRate, segments: segs }) + "\n";
  if (o.srt) return segs.map((s, i) => `${i + 1}\n${clock(s.start)} --> ${clock(s.end)}\nspeech\n`).join("\n");
  return segs.map((s) => `${s.start.toFixed(3)}\t${s.end.toFixed(3)}\t${(s.end - s.start).toFixed(3)} s\n`).join("");
}

async function run(input: string, o: VadFlags): Promise<void> {
  const audio = decodeWav(await readBytes(resolve(input), "audio file"), input);
  if (o.negThreshold !== undefined && o.negThreshold > o.threshold) throw new RnnWasmError("E_ARGUMENT", `--neg-threshold ${o.negThreshold} is above --threshold ${o.threshold}`);
  const model = await modelFor(o.model, audio.sampleRate);
  const seconds = audio.samples.length / audio.sampleRate;
  const showBar = o.progress ?? (process.stderr.isTTY === true && seconds > PROGRESS_MIN_SECONDS);
  let bar: Bar | null = null;
  try {
    const result = detectSpeech(model, audio.samples, {
      sampleRate: audio.sampleRate,
      threshold: o.threshold,
      negThreshold: o.negThreshold,
      minSpeechMs: o.minSpeechMs,
      minSilenceMs: o.minSilenceMs,
      speechPadMs: o.speechPadMs,
      maxSpeechMs: o.maxSpeechS === undefined ? Infinity : o.maxSpeechS * 1000,
      chunkSeconds: 5,
      onProgress: showBar
        ? (done, total) => {
            if (!bar) {
              bar = progressBar("vad |{bar}| {percentage}% | {value}/{total} s of audio");
              bar.start(Math.round(total / audio.sampleRate), 0);
            }
            bar.update(Math.round(done / audio.sampleRate));
          }
        : undefined,
    });
    (bar as Bar | null)?.stop();
    process.stdout.write(format(result, o));
  } catch (e) {
    (bar as Bar | null)?.stop();
    throw withSource(e, o.model ?? input);
  } finally {
    model.dispose();
  }
}

export function register(program: Command): void {
  program
    .command("vad")
    .description("speech segments of a WAV file (Silero VAD, get_speech_timestamps' rules)")
    .argument("<input.wav>", "a WAV file: PCM, float, A-law or mu-law; several channels are averaged")
    .option("--model <file>", "a .rnnb bundle or a Silero .onnx file (bound for the file's rate); default: the shipped Silero v5")
    .addOption(new Option("--json", 'print {"sampleRate": r, "segments": [{"start": s, "end": s, "startSample": n, "endSample": n}]}').conflicts("srt"))
    .addOption(new Option("--srt", "print SubRip subtitles, one cue per segment").conflicts("json"))
    .option("--threshold <p>", "speech when the probability is at least p", numberIn("--threshold", 0, 1), 0.5)
    .option("--neg-threshold <p>", "inside speech, silence below p (default: threshold - 0.15, at least 0.01)", numberIn("--neg-threshold", 0, 1))
    .option("--min-speech-ms <ms>", "drop segments not longer than this", numberIn("--min-speech-ms", 0, 3.6e6), 250)
    .option("--min-silence-ms <ms>", "silence this long ends a segment", numberIn("--min-silence-ms", 0, 3.6e6), 100)
    .option("--speech-pad-ms <ms>", "padding added to each end of a segment", numberIn("--speech-pad-ms", 0, 3.6e6), 30)
    .option("--max-speech-s <s>", "split segments longer than this at their longest silence (default: no limit)", numberIn("--max-speech-s", 0.1, 3.6e6))
    .option("--progress", `always show the progress bar (default: on a terminal, for recordings over ${PROGRESS_MIN_SECONDS} s)`)
    .option("--no-progress", "never show the progress bar")
    .action((input: string, o: VadFlags) => run(input, o));
}
