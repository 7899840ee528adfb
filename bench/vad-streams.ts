/**
 * Many voice-activity streams on one core: how many real-time streams of 32 ms frames (16 kHz,
 * Silero VAD v5) one thread keeps up with, for 1, 8, 64 and 256 concurrent streams.
 *
 * - rnn-wasm: one VadPool (rnn-wasm/vad from dist/), every stream's frame in one batched session
 *   call per round, f32 and int8 bundles. The whole server path is timed: writing each stream's
 *   512 new samples, framing with context, the model, the segmentation, reading the results.
 * - onnxruntime-node, 1 thread, two ways: one InferenceSession per stream, batch 1 (how servers
 *   run Silero today, silero-vad's OnnxWrapper per caller), and one session over all streams,
 *   batch N with the state [2, N, 128] (the best native can do). Timed: building each frame with
 *   its context and the session runs (no segmentation: the peers get the cheaper job).
 *
 * Every stream plays its own stretch of real speech. Rounds are interleaved across engines;
 * streams per core = N · 32 ms / (time per round); ratios are per round (bench/stats.ts).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { requireData } from "../tools/train/data.ts";
import { readWav } from "./silero.ts";
import { pairedRatio, summarize, type Summary } from "./stats.ts";

const FRAME = 512;
const CONTEXT = 64;
const FRAME_MS = 32;

export type StreamEngine = "rnn-wasm" | "rnn-wasm-int8" | "ort-node-per-stream" | "ort-node-batched";
export const STREAM_ENGINES: StreamEngine[] = ["rnn-wasm", "rnn-wasm-int8", "ort-node-per-stream", "ort-node-batched"];

export interface StreamCountResult {
  streams: number;
  engines: { engine: StreamEngine; msPerRound: Summary; streamsPerCore: number; vsPerStream?: Summary; vsBatched?: Summary }[];
}

export interface VadStreamsResult {
  counts: StreamCountResult[];
  /** Max |p - ort-node| over the gated frames of every stream, per rnn-wasm engine. */
  gate: { engine: StreamEngine; maxErr: number }[];
}

export interface VadStreamsSettings {
  counts: number[];
  rounds: number;
  /** Target time of one measured batch of rounds, ms. */
  runMs: number;
}

/** One engine serving N streams: `round(k)` feeds every stream its k-th frame of new audio. */
interface Server {
  round(k: number): void | Promise<void>;
  probs(stream: number): number[];
  dispose(): void | Promise<void>;
}

type Ort = typeof import("onnxruntime-node");

async function rnnWasmServer(bundle: Uint8Array, audio: Float32Array[]): Promise<Server> {
  const { loadModel } = (await import(resolve(import.meta.dirname, "../dist/node.js"))) as typeof import("../src/index.ts");
  const { VadPool } = (await import(resolve(import.meta.dirname, "../dist/vad-node.js"))) as typeof import("../src/vad/node.ts");
  const model = await loadModel(bundle);
  const pool = new VadPool(model);
  const streams = audio.map(() => pool.open({}));
  const seen = audio.map(() => [] as number[]);
  return {
    round(k) {
      streams.forEach((s, i) => s.write(audio[i].subarray((k * FRAME) % (audio[i].length - FRAME), ((k * FRAME) % (audio[i].length - FRAME)) + FRAME)));
      pool.process();
      streams.forEach((s, i) => {
        const u = s.read();
        if (seen[i].length < 2000) seen[i].push(...u.probabilities);
      });
    },
    probs: (i) => seen[i],
    dispose() {
      pool.dispose();
      model.dispose();
    },
  };
}

async function ortServer(ort: Ort, onnx: Uint8Array, audio: Float32Array[], batched: boolean): Promise<Server> {
  const opts = { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" as const };
  const N = audio.length;
  const sessions = batched ? [await ort.InferenceSession.create(onnx, opts)] : await Promise.all(audio.map(() => ort.InferenceSession.create(onnx, opts)));
  const sr = new ort.Tensor("int64", BigInt64Array.of(16000n), []);
  const B = batched ? N : 1;
  const states = sessions.map(() => new ort.Tensor("float32", new Float32Array(2 * B * 128), [2, B, 128]));
  const context = audio.map(() => new Float32Array(CONTEXT));
  const seen = audio.map(() => [] as number[]);
  const frameOf = (i: number, k: number, into: Float32Array, at: number) => {
    const from = (k * FRAME) % (audio[i].length - FRAME);
    into.set(context[i], at);
    into.set(audio[i].subarray(from, from + FRAME), at + CONTEXT);
    context[i] = into.slice(at + FRAME, at + FRAME + CONTEXT);
  };
  return {
    async round(k) {
      if (batched) {
        const x = new Float32Array(N * (FRAME + CONTEXT));
        for (let i = 0; i < N; i++) frameOf(i, k, x, i * (FRAME + CONTEXT));
        const out = await sessions[0].run({ input: new ort.Tensor("float32", x, [N, FRAME + CONTEXT]), state: states[0], sr });
        states[0] = out.stateN as typeof states[0];
        const p = out.output.data as Float32Array;
        for (let i = 0; i < N; i++) if (seen[i].length < 2000) seen[i].push(p[i]);
        return;
      }
      // one after another: concurrent runs would spread over libuv's threads, not one core
      for (let i = 0; i < N; i++) {
        const x = new Float32Array(FRAME + CONTEXT);
        frameOf(i, k, x, 0);
        const out = await sessions[i].run({ input: new ort.Tensor("float32", x, [1, FRAME + CONTEXT]), state: states[i], sr });
        if (seen[i].length < 2000) seen[i].push((out.output.data as Float32Array)[0]);
        states[i] = out.stateN as typeof states[0];
      }
    },
    probs: (i) => seen[i],
    async dispose() {
      for (const s of sessions) await s.release();
    },
  };
}

/** N streams of real speech: 20 s stretches of the 16 kHz aepyx recording, each from its own offset. */
function streamAudio(n: number): Float32Array[] {
  const all = readWav(requireData("speech/aepyx_16k_resampled.wav", "VAD stream benchmark speech")).samples;
  const len = 16000 * 20;
  return Array.from({ length: n }, (_, i) => {
    const from = Math.floor(((i * 7919) % 997) / 997 * (all.length - len));
    return all.slice(from, from + len);
  });
}

export async function benchVadStreams(s: VadStreamsSettings, log: (...a: unknown[]) => void): Promise<VadStreamsResult> {
  const { exportSileroVad } = (await import(resolve(import.meta.dirname, "../tools/dist/export.js"))) as typeof import("../src/export.ts");
  const ort = (await import("onnxruntime-node")) as Ort;
  const onnx = new Uint8Array(readFileSync(requireData("real-models/onnx-silero-vad/silero_vad_v5.onnx", "Silero VAD v5")));
  const f32 = await exportSileroVad(onnx, { sampleRate: 16000, name: "silero_vad_v5.onnx" });
  const int8 = await exportSileroVad(onnx, { sampleRate: 16000, name: "silero_vad_v5.onnx", dtype: "int8" });
  const counts: StreamCountResult[] = [];
  const gate = new Map<StreamEngine, number>();
  for (const N of s.counts) {
    const audio = streamAudio(N);
    const servers = new Map<StreamEngine, Server>();
    servers.set("rnn-wasm", await rnnWasmServer(f32, audio));
    servers.set("rnn-wasm-int8", await rnnWasmServer(int8, audio));
    servers.set("ort-node-per-stream", await ortServer(ort, onnx, audio, false));
    servers.set("ort-node-batched", await ortServer(ort, onnx, audio, true));
    // warm-up rounds, then how many rounds make about runMs for each engine
    const next = new Map<StreamEngine, number>(STREAM_ENGINES.map((e) => [e, 0]));
    const perBatch = new Map<StreamEngine, number>();
    for (const e of STREAM_ENGINES) {
      const srv = servers.get(e)!;
      const t0 = performance.now();
      let k = next.get(e)!;
      while (performance.now() - t0 < Math.max(300, s.runMs / 2) || k < 5) await srv.round(k++);
      perBatch.set(e, Math.max(3, Math.round((s.runMs * (k - next.get(e)!)) / (performance.now() - t0))));
      next.set(e, k);
    }
    const times = new Map<StreamEngine, number[]>(STREAM_ENGINES.map((e) => [e, []]));
    for (let r = 0; r < s.rounds; r++) {
      for (const e of STREAM_ENGINES) {
        const srv = servers.get(e)!;
        const n = perBatch.get(e)!;
        let k = next.get(e)!;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await srv.round(k++);
        times.get(e)!.push((performance.now() - t0) / n);
        next.set(e, k);
      }
    }
    // gate: the streams' probabilities (same audio, same frames) against onnxruntime-node's
    const ref = servers.get("ort-node-per-stream")!;
    for (const e of ["rnn-wasm", "rnn-wasm-int8", "ort-node-batched"] as StreamEngine[]) {
      let worst = 0;
      for (let i = 0; i < N; i++) {
        const a = servers.get(e)!.probs(i);
        const b = ref.probs(i);
        for (let j = 0; j < Math.min(a.length, b.length); j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
      }
      gate.set(e, Math.max(gate.get(e) ?? 0, worst));
    }
    for (const srv of servers.values()) await srv.dispose();
    const per = times.get("ort-node-per-stream")!;
    const bat = times.get("ort-node-batched")!;
    const engines = STREAM_ENGINES.map((e) => {
      const t = times.get(e)!;
      const msPerRound = summarize(t);
      return {
        engine: e,
        msPerRound,
        streamsPerCore: (N * FRAME_MS) / msPerRound.median,
        ...(e.startsWith("rnn-wasm") ? { vsPerStream: pairedRatio(per, t), vsBatched: pairedRatio(bat, t) } : {}),
      };
    });
    counts.push({ streams: N, engines });
    for (const x of engines) {
      log(`  ${String(N).padStart(3)} streams ${x.engine.padEnd(20)} ${x.msPerRound.median.toFixed(3)} ms/round = ${x.streamsPerCore.toFixed(0)} real-time streams per core${x.vsPerStream ? ` (${x.vsPerStream.median.toFixed(2)}x per-stream ort, ${x.vsBatched!.median.toFixed(2)}x batched ort)` : ""}`);
    }
  }
  const gates = [...gate].map(([engine, maxErr]) => ({ engine, maxErr }));
  for (const g of gates) log(`  gate ${g.engine.padEnd(20)} max |p - ort-node per stream| ${g.maxErr.toExponential(2)}`);
  return { counts, gate: gates };
}
