/**
 * Silero VAD (ONNX, as PyTorch and spox export it) per frame: rnn-wasm (the .onnx exported to a
 * bundle with its state as a session state pair) against onnxruntime-web (wasm, 1 thread) and
 * onnxruntime-node (native, 1 thread) running the .onnx file itself, each carrying the state
 * from frame to frame as silero-vad's own loop does (64 samples of context + 512 new ones at
 * 16 kHz). Measured: the correctness gate over real speech, the per-frame latency in
 * interleaved rounds (ratios per round), export time and bundle bytes, and in fresh processes
 * the time from loading the model to the first frame's output.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { requireData } from "../tools/train/data.ts";
import { pairedRatio, summarize, type Summary } from "./stats.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

export const SILERO_MODELS = ["silero_vad_v5", "silero_vad_v6", "silero_vad_16k_op15", "silero_vad_half"] as const;
export type SileroEngine = "rnn-wasm" | "ort-web" | "ort-node-1t";
const ENGINES: SileroEngine[] = ["rnn-wasm", "ort-web", "ort-node-1t"];
/** Probabilities within this of onnxruntime-node over every gated frame (the ONNX oracle's bound, test/tolerance.ts). */
const GATE = 1e-4;
const FRAME = 512;
const CONTEXT = 64;

export interface SileroResult {
  model: string;
  onnxBytes: number;
  bundleBytes: number;
  bundleGzipBytes: number;
  exportMs: Summary;
  gate: { engine: SileroEngine; maxErr: number; ok: boolean }[];
  /** µs per frame, batch 1, state carried. */
  perFrame: { engine: SileroEngine; us: Summary; ratio?: Summary }[];
  /** Fresh processes: module import + load + first frame, and load + first frame, ms. */
  firstFrame: { engine: SileroEngine; totalMs?: Summary; fromLoadMs?: Summary; error?: string }[];
}

export interface SileroSettings {
  rounds: number;
  runMs: number;
  coldRuns: number;
  models: string[];
}

/** Mono PCM16 WAV -> floats in [-1, 1). */
export function readWav(file: string): { rate: number; samples: Float32Array } {
  const b = readFileSync(file);
  let rate = 0;
  for (let p = 12; p + 8 <= b.length;) {
    const id = b.toString("ascii", p, p + 4);
    const len = b.readUInt32LE(p + 4);
    if (id === "fmt ") rate = b.readUInt32LE(p + 12);
    if (id === "data") {
      const pcm = new Int16Array(b.buffer.slice(b.byteOffset + p + 8, b.byteOffset + p + 8 + len));
      return { rate, samples: Float32Array.from(pcm, (v) => v / 32768) };
    }
    p += 8 + len + (len & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** silero-vad's model input per frame: the previous 64 samples, then 512 new ones. */
export function sileroFrames(samples: Float32Array): Float32Array[] {
  const frames: Float32Array[] = [];
  let context = new Float32Array(CONTEXT);
  for (let i = 0; i + FRAME <= samples.length; i += FRAME) {
    const x = new Float32Array(CONTEXT + FRAME);
    x.set(context);
    x.set(samples.subarray(i, i + FRAME), CONTEXT);
    context = x.slice(FRAME);
    frames.push(x);
  }
  return frames;
}

const exportOptions = (model: string) => ({
  inputs: { input: [1, CONTEXT + FRAME] },
  constants: (model.includes("half") ? {} : { sr: 16000 }) as Record<string, number>,
  state: { state: "stateN" },
});

type Step = (x: Float32Array) => number | Promise<number>;

/** A per-frame step of each engine, its state carried across calls, reset by `fresh()`. */
async function stepper(engine: SileroEngine, model: string, onnx: Uint8Array, bundle: Uint8Array): Promise<{ fresh(): Step; sync: boolean }> {
  if (engine === "rnn-wasm") {
    const { loadModel } = (await import(resolve(root, "dist/node.js"))) as typeof import("../src/index.ts");
    const m = await loadModel(bundle);
    return {
      sync: true,
      fresh() {
        const s = m.createSession();
        const t: { data: Float32Array; shape: number[] } = { data: new Float32Array(CONTEXT + FRAME), shape: [1, CONTEXT + FRAME] };
        return (x) => {
          t.data = x;
          return (s.step(t) as { data: Float32Array }).data[0];
        };
      },
    };
  }
  const web = engine === "ort-web";
  const ort = (await import(web ? "onnxruntime-web" : "onnxruntime-node")) as typeof import("onnxruntime-node");
  if (web) (ort.env as { wasm: { numThreads: number } }).wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(onnx, web
    ? { executionProviders: ["wasm"], graphOptimizationLevel: "all" }
    : { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" });
  const sr = model.includes("half") ? undefined : new ort.Tensor("int64", BigInt64Array.of(16000n), []);
  return {
    sync: false,
    fresh() {
      let state: InstanceType<typeof ort.Tensor> = new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]);
      return async (x) => {
        const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input: new ort.Tensor("float32", x, [1, CONTEXT + FRAME]), state };
        if (sr) feeds.sr = sr;
        const out = await session.run(feeds);
        state = out.stateN;
        return (out.output.data as Float32Array)[0];
      };
    },
  };
}

const COLD = `
const [engine, model, file, sr] = process.argv.slice(2);
const { readFileSync } = await import("node:fs");
const bytes = new Uint8Array(readFileSync(file));
const frame = new Float32Array(576).map((_, i) => Math.sin(i / 9) * 0.1);
const t0 = performance.now();
let t1, p;
if (engine === "rnn-wasm") {
  const { loadModel } = await import(process.env.RNN_WASM_DIST);
  t1 = performance.now();
  const m = await loadModel(bytes);
  p = m.createSession().step({ data: frame, shape: [1, 576] }).data[0];
} else {
  const ort = await import(engine === "ort-web" ? "onnxruntime-web" : "onnxruntime-node");
  if (engine === "ort-web") ort.env.wasm.numThreads = 1;
  t1 = performance.now();
  const s = await ort.InferenceSession.create(bytes, engine === "ort-web" ? { executionProviders: ["wasm"] } : { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { input: new ort.Tensor("float32", frame, [1, 576]), state: new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]) };
  if (sr === "1") feeds.sr = new ort.Tensor("int64", BigInt64Array.of(16000n), []);
  p = (await s.run(feeds)).output.data[0];
}
const t2 = performance.now();
process.stdout.write(JSON.stringify({ total: t2 - t0, fromLoad: t2 - t1, p }));
`;

/** Load + first frame in fresh processes, `runs` of each engine, alternated. */
function firstFrames(model: string, onnx: Uint8Array, bundle: Uint8Array, runs: number): SileroResult["firstFrame"] {
  const dir = mkdtempSync(join(tmpdir(), "rnnwasm-silero-"));
  try {
    const script = join(root, "bench", ".silero-cold.mjs");
    writeFileSync(script, COLD);
    writeFileSync(join(dir, "m.onnx"), onnx);
    writeFileSync(join(dir, "m.rnnb"), bundle);
    const times: Record<SileroEngine, { total: number[]; fromLoad: number[]; error?: string }> = {
      "rnn-wasm": { total: [], fromLoad: [] }, "ort-web": { total: [], fromLoad: [] }, "ort-node-1t": { total: [], fromLoad: [] },
    };
    for (let r = 0; r < runs; r++) {
      for (const e of ENGINES) {
        const file = join(dir, e === "rnn-wasm" ? "m.rnnb" : "m.onnx");
        const res = spawnSync(process.execPath, [script, e, model, file, model.includes("half") ? "0" : "1"], {
          cwd: root, encoding: "utf8", env: { ...process.env, RNN_WASM_DIST: resolve(root, "dist/node.js") },
        });
        try {
          const o = JSON.parse(res.stdout) as { total: number; fromLoad: number };
          times[e].total.push(o.total);
          times[e].fromLoad.push(o.fromLoad);
        } catch {
          times[e].error = (res.stderr || res.stdout || `exit ${res.status}`).split("\n").find((l) => l.trim()) ?? "failed";
        }
      }
    }
    rmSync(script, { force: true });
    return ENGINES.map((e) => (times[e].total.length
      ? { engine: e, totalMs: summarize(times[e].total), fromLoadMs: summarize(times[e].fromLoad) }
      : { engine: e, error: times[e].error }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchSilero(s: SileroSettings, log: (...a: unknown[]) => void): Promise<SileroResult[]> {
  const { exportBundle } = (await import(resolve(root, "dist/export.js"))) as typeof import("../src/export.ts");
  const speech = sileroFrames(readWav(requireData("speech/silero-test-16k.wav", "Silero benchmark speech")).samples);
  const results: SileroResult[] = [];
  for (const model of s.models) {
    const onnx = new Uint8Array(readFileSync(requireData(`real-models/onnx-silero-vad/${model}.onnx`, "Silero VAD model")));
    const exports: number[] = [];
    let bundle: Uint8Array = new Uint8Array();
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      bundle = await exportBundle(onnx, exportOptions(model));
      exports.push(performance.now() - t0);
    }
    log(`\n== ${model}: ${onnx.length} bytes of ONNX -> ${bundle.length} bytes of bundle (export ${summarize(exports).median.toFixed(0)} ms)`);
    const engines = new Map<SileroEngine, Awaited<ReturnType<typeof stepper>>>();
    for (const e of ENGINES) engines.set(e, await stepper(e, model, onnx, bundle));
    // gate: every frame of the recording from the zero state, against onnxruntime-node
    const probs = new Map<SileroEngine, number[]>();
    for (const [e, st] of engines) {
      const step = st.fresh();
      const p: number[] = [];
      for (const x of speech) p.push(await step(x));
      probs.set(e, p);
    }
    const ref = probs.get("ort-node-1t")!;
    const gate = ENGINES.map((e) => {
      const maxErr = Math.max(...probs.get(e)!.map((v, i) => Math.abs(v - ref[i])));
      return { engine: e, maxErr, ok: maxErr <= GATE };
    });
    for (const g of gate) log(`  gate ${g.engine.padEnd(12)} max |p - ort-node| ${g.maxErr.toExponential(2)} ${g.ok ? "ok" : "DISAGREES"}`);
    // per-frame timing: warm up, then interleaved rounds of about runMs each
    const steps = new Map<SileroEngine, Step>();
    for (const [e, st] of engines) {
      const step = st.fresh();
      const t0 = performance.now();
      let i = 0;
      while (performance.now() - t0 < 1500) await step(speech[i++ % speech.length]);
      steps.set(e, step);
    }
    const perRound = new Map<SileroEngine, number[]>(ENGINES.map((e) => [e, []]));
    const count = new Map<SileroEngine, number>();
    for (const e of ENGINES) {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < s.runMs) await steps.get(e)!(speech[n++ % speech.length]);
      count.set(e, Math.max(1, n));
    }
    for (let r = 0; r < s.rounds; r++) {
      for (const e of ENGINES) {
        const step = steps.get(e)!;
        const n = count.get(e)!;
        const sync = engines.get(e)!.sync;
        const t0 = performance.now();
        if (sync) for (let i = 0; i < n; i++) step(speech[i % speech.length]);
        else for (let i = 0; i < n; i++) await step(speech[i % speech.length]);
        perRound.get(e)!.push((performance.now() - t0) / n);
      }
    }
    const own = perRound.get("rnn-wasm")!;
    const perFrame = ENGINES.map((e) => ({
      engine: e,
      us: summarize(perRound.get(e)!.map((ms) => ms * 1000)),
      ...(e === "rnn-wasm" ? {} : { ratio: pairedRatio(perRound.get(e)!, own) }),
    }));
    for (const f of perFrame) log(`  frame ${f.engine.padEnd(12)} ${f.us.median.toFixed(1)} µs${f.ratio ? ` (${f.ratio.median.toFixed(2)}x rnn-wasm's time)` : ""}`);
    const firstFrame = firstFrames(model, onnx, bundle, s.coldRuns);
    for (const f of firstFrame) log(`  first frame ${f.engine.padEnd(12)} ${f.fromLoadMs ? `${f.fromLoadMs.median.toFixed(1)} ms after load, ${f.totalMs!.median.toFixed(1)} ms with the import` : f.error}`);
    results.push({
      model, onnxBytes: onnx.length, bundleBytes: bundle.length, bundleGzipBytes: gzipSync(bundle, { level: 9 }).length,
      exportMs: summarize(exports), gate, perFrame, firstFrame,
    });
  }
  return results;
}
