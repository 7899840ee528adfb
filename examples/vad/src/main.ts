/// <reference types="vite/client" />
/**
 * The voice-activity demo: the microphone (or a WAV file) through rnn-wasm/vad, the model in the
 * audio thread or in a worker; the waveform, the speech probability per 32 ms frame and the
 * detected segments on one timeline. Query parameters for automation (test/vad/browser.test.ts):
 * `?autostart=worklet|worker` starts the microphone on load, `?keep=1` keeps every sample the VAD
 * received in `window.__vad.audio`.
 */
import { engineHasRelaxedSimd } from "rnn-wasm";
import { compileKernels, detectSpeechInBuffer, MicVad, type MicVadOptions, type VadEvent, type VadUpdate } from "rnn-wasm/vad";
import { Timeline } from "./timeline.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const MODEL_URL = new URL(import.meta.env.BASE_URL + "silero-vad-v5-16k.rnnb", location.href);
const params = new URLSearchParams(location.search);
const keep = params.get("keep") === "1";

type Segment = Extract<VadEvent, { type: "segment" }>;

/** What the page exposes to automation. */
const state = {
  ready: false,
  build: engineHasRelaxedSimd() ? "relaxed" : "baseline",
  sampleRate: 0,
  /** ms from navigation start to the first processed frame (microphone or file). */
  firstFrameMs: null as number | null,
  segments: [] as { start: number; end: number; startSample: number; endSample: number }[],
  probabilities: [] as number[],
  audio: [] as Float32Array[],
  gaps: 0,
  load: null as null | { maxMs: number; late: number; quanta: number },
  error: null as string | null,
  running: false,
};
(window as unknown as { __vad: typeof state }).__vad = state;

const timeline = new Timeline($<HTMLCanvasElement>("timeline"));
let mic: MicVad | null = null;
let bundle: Uint8Array | null = null;

function resetRun(sampleRate: number, windowSeconds: number | null): void {
  state.segments = [];
  state.probabilities = [];
  state.audio = [];
  state.gaps = 0;
  state.sampleRate = sampleRate;
  timeline.reset(sampleRate, windowSeconds);
  $("segments").replaceChildren();
}

function onUpdate(u: VadUpdate): void {
  if (state.firstFrameMs === null && u.probabilities.length) {
    state.firstFrameMs = performance.now();
    showNumbers();
  }
  for (const p of u.probabilities) state.probabilities.push(p);
  timeline.addProbabilities(u.firstFrame, u.probabilities);
}

function onSegment(e: Segment): void {
  state.segments.push({ start: e.start, end: e.end, startSample: e.startSample, endSample: e.endSample });
  timeline.addSegment(e.start, e.end);
  const li = document.createElement("li");
  li.textContent = `${e.start.toFixed(2)} – ${e.end.toFixed(2)} s`;
  $("segments").append(li);
}

function showNumbers(): void {
  const bytes = performance.getEntriesByType("resource").reduce((n, r) => n + ((r as PerformanceResourceTiming).transferSize || 0), 0);
  const parts = [`kernel build: ${state.build}`];
  if (state.firstFrameMs !== null) parts.push(`first frame ${state.firstFrameMs.toFixed(0)} ms after the page started loading`);
  parts.push(`${(bytes / 1024).toFixed(0)} KiB transferred`);
  if (state.load) parts.push(`audio thread: slowest quantum ${state.load.maxMs.toFixed(2)} ms, ${state.load.late} over budget`);
  if (state.gaps) parts.push(`${state.gaps} samples lost`);
  $("numbers").textContent = parts.join(" · ");
}

function options(host: "worklet" | "worker"): MicVadOptions {
  return {
    model: bundle!,
    host,
    captureAudio: true,
    onUpdate,
    onSegment,
    onAudio(samples) {
      timeline.addAudio(samples);
      if (keep) state.audio.push(samples);
    },
    onGap(samples) {
      state.gaps += samples;
    },
    onLoad(load) {
      state.load = load;
      showNumbers();
    },
    onError(e) {
      state.error = `${e.code}: ${e.message}`;
      $("status").textContent = state.error;
    },
  };
}

async function startMic(host: "worklet" | "worker"): Promise<void> {
  if (mic) return;
  $<HTMLButtonElement>("start").disabled = true;
  mic = await MicVad.start(options(host));
  // (no audio reaches the page before start resolves: the source is connected last)
  resetRun(mic.context.sampleRate, 12);
  state.running = true;
  $<HTMLButtonElement>("pause").disabled = false;
  $<HTMLButtonElement>("stop").disabled = false;
  $("status").textContent = `Listening (${host === "worklet" ? "model in the audio thread" : "model in a worker"}, ${state.sampleRate} Hz microphone resampled to 16 kHz)`;
}

async function stopMic(): Promise<void> {
  const m = mic;
  mic = null;
  state.running = false;
  await m?.destroy();
  $<HTMLButtonElement>("start").disabled = false;
  $<HTMLButtonElement>("pause").disabled = true;
  $<HTMLButtonElement>("stop").disabled = true;
  $("status").textContent = "Stopped.";
}

/** A WAV file at its own rate (read from its header), decoded by the browser, through the same worklet host. */
async function analyseFile(file: File): Promise<void> {
  await stopMic();
  const bytes = await file.arrayBuffer();
  const rate = new DataView(bytes).getUint32(24, true);
  const decoder = new OfflineAudioContext(1, 1, rate >= 3000 && rate <= 384000 ? rate : 16000);
  const buffer = await decoder.decodeAudioData(bytes);
  resetRun(buffer.sampleRate, null);
  timeline.setDuration(buffer.duration);
  $("status").textContent = `Analysing ${file.name} (${buffer.duration.toFixed(1)} s at ${buffer.sampleRate} Hz)…`;
  const t0 = performance.now();
  const result = await detectSpeechInBuffer(buffer, { ...options($<HTMLSelectElement>("host").value as "worklet" | "worker"), captureAudio: true });
  state.probabilities = Array.from(result.probabilities);
  $("status").textContent = `${file.name}: ${result.segments.length} segments in ${(performance.now() - t0).toFixed(0)} ms (${buffer.duration.toFixed(1)} s of audio).`;
  $("status").dataset.file = "done";
}

/** For the memory test: start and destroy the microphone n times, each after its first processed frame. */
async function cycle(n: number, host: "worklet" | "worker"): Promise<void> {
  for (let i = 0; i < n; i++) {
    let first!: () => void;
    const framed = new Promise<void>((r) => (first = r));
    const m = await MicVad.start({ model: bundle!, host, onUpdate: (u) => u.probabilities.length && first() });
    await framed;
    await m.destroy();
  }
}
(window as unknown as { __vadCycle: typeof cycle }).__vadCycle = cycle;
(window as unknown as { __vadStop: typeof stopMic }).__vadStop = stopMic;

async function main(): Promise<void> {
  try {
    // the kernels and the model are fetched while the page sets up; the host gets both
    const [, bytes] = await Promise.all([compileKernels(), fetch(MODEL_URL).then((r) => r.arrayBuffer())]);
    bundle = new Uint8Array(bytes);
    $("status").textContent = `Ready: Silero VAD v5 (${(bundle.length / 1024).toFixed(0)} KiB), ${state.build === "relaxed" ? "relaxed-SIMD" : "baseline SIMD"} kernels.`;
    state.ready = true;
    $("status").dataset.ready = "true";
    showNumbers();
  } catch (e) {
    state.error = String(e);
    $("status").textContent = `Could not load: ${e}`;
    $("status").dataset.ready = "error";
    return;
  }
  $("start").addEventListener("click", () => void startMic($<HTMLSelectElement>("host").value as "worklet" | "worker").catch(fail));
  $("stop").addEventListener("click", () => void stopMic());
  $("pause").addEventListener("click", () => {
    if (!mic) return;
    const b = $<HTMLButtonElement>("pause");
    if (b.textContent === "Pause") {
      mic.pause();
      b.textContent = "Resume";
    } else {
      mic.resume();
      b.textContent = "Pause";
    }
  });
  $<HTMLInputElement>("file").addEventListener("change", (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void analyseFile(f).catch(fail);
  });
  const auto = params.get("autostart");
  if (auto === "worklet" || auto === "worker") {
    $<HTMLSelectElement>("host").value = auto;
    await startMic(auto).catch(fail);
  }
}

function fail(e: unknown): void {
  state.error = String((e as Error)?.message ?? e);
  $("status").textContent = `Error: ${state.error}`;
}

void main();
