/**
 * `rnn-wasm bench`: a small self-timing of one model on this machine: load, predict on one
 * seeded batch, and a streaming step (session.step of one timestep, the call a streaming user
 * makes, fixed-length models included). Medians of repeats after a warm-up; the full
 * comparison with peers lives in bench/.
 */
import { writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { loadModel } from "../../../src/index.js";
import type { ModelSpec } from "../../../src/model/spec.js";
import { mulberry32 } from "../../../src/random.js";
import { notStreamableReason } from "../../../src/session.js";
import { nonNegativeInt, positiveInt } from "../options.js";
import { bundleBytesOf, readModelFile } from "../source.js";

export interface BenchOptions {
  repeats: number;
  batch: number;
  /** Sequence length for predict when the model's is not fixed. */
  time: number;
  seed: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  repeats: number;
}

export interface BenchResult {
  model: string;
  simd: "relaxed" | "baseline";
  node: string;
  bundleBytes: number;
  load: Timing;
  predict: Timing & { inputShapes: number[][] };
  /** One timestep through a session (state carried), per call. */
  step: (Timing & { inputShapes: number[][]; callsPerSample: number }) | { skipped: string };
}

function timing(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const medianMs = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { medianMs, minMs: s[0], maxMs: s[s.length - 1], repeats: s.length };
}

/** A seeded generator for the benchmark input. */
const rng = mulberry32;

/** Whether an input has a time axis first: sequences [T, F], and token ids [T]. */
function hasTime(inp: ModelSpec["inputs"][number]): boolean {
  return inp.shape.length >= 2 || inp.dtype === "int32";
}

/** A seeded tensor of the given shape for a model input: ids inside the embedding's table, floats in [-1, 1). */
function seededInput(spec: ModelSpec, inp: ModelSpec["inputs"][number], shape: number[], next: () => number): { data: Float32Array | Int32Array; shape: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  if (inp.dtype === "int32") {
    const emb = spec.ops.find((o) => o.op === "embedding" && o.inputs[0] === inp.tensor) as { inputDim: number } | undefined;
    const vocab = Math.max(2, emb?.inputDim ?? 2);
    return { data: Int32Array.from({ length: n }, () => 1 + Math.floor(next() * (vocab - 1))), shape };
  }
  return { data: Float32Array.from({ length: n }, () => next() * 2 - 1), shape };
}

/**
 * One seeded input per model input for predict. A free time axis gets length `time`; null when
 * an input has another unknown dimension.
 */
export function benchInputs(spec: ModelSpec, batch: number, time: number, seed: number): { data: Float32Array | Int32Array; shape: number[] }[] | null {
  const next = rng(seed);
  const out: { data: Float32Array | Int32Array; shape: number[] }[] = [];
  for (const inp of spec.inputs) {
    const dims = [...inp.shape];
    if (hasTime(inp) && dims[0] === null) dims[0] = time;
    if (dims.some((d) => d === null)) return null;
    out.push(seededInput(spec, inp, [batch, ...(dims as number[])], next));
  }
  return out;
}

/** One timestep per input for session.step: [batch, ...features] (the time axis dropped). */
function stepInputs(spec: ModelSpec, batch: number, seed: number): { data: Float32Array | Int32Array; shape: number[] }[] | null {
  const next = rng(seed);
  const out: { data: Float32Array | Int32Array; shape: number[] }[] = [];
  for (const inp of spec.inputs) {
    const feat = inp.shape.slice(1);
    if (feat.some((d) => d === null)) return null;
    out.push(seededInput(spec, inp, [batch, ...(feat as number[])], next));
  }
  return out;
}

/**
 * Per-call times of a call too fast to time alone (a streaming step takes microseconds): each
 * sample runs the call `calls` times, `calls` sized so a sample takes about a millisecond.
 */
function timePerCall(fn: () => void, repeats: number): Timing & { callsPerSample: number } {
  let calls = 1;
  for (let t0 = performance.now(); performance.now() - t0 < 1; calls++) fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) fn();
    samples.push((performance.now() - t0) / calls);
  }
  return { ...timing(samples), callsPerSample: calls };
}

function timeRepeats(fn: () => void, repeats: number, warmup: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return timing(samples);
}

export async function benchModel(name: string, bundle: Uint8Array, opts: BenchOptions): Promise<BenchResult> {
  const loads: number[] = [];
  for (let i = 0; i < Math.min(5, opts.repeats); i++) {
    const t0 = performance.now();
    const m = await loadModel(bundle);
    loads.push(performance.now() - t0);
    m.dispose();
  }
  const model = await loadModel(bundle);
  try {
    const spec = model.spec;
    const xs = benchInputs(spec, opts.batch, opts.time, opts.seed);
    if (!xs) throw new RnnWasmError("E_SHAPE", `${name}: an input has an unknown dimension other than time; cannot make a benchmark input`);
    const feed = xs.length === 1 ? xs[0] : xs;
    const predict = { ...timeRepeats(() => model.predict(feed), opts.repeats, Math.min(3, opts.repeats)), inputShapes: xs.map((x) => x.shape) };
    let step: BenchResult["step"];
    const cannot = notStreamableReason(spec);
    const one = cannot ? null : stepInputs(spec, opts.batch, opts.seed + 1);
    if (!one) {
      step = { skipped: cannot ? `the model cannot stream: ${cannot}` : "an input has an unknown feature dimension" };
    } else {
      const session = model.createSession({ batchSize: opts.batch });
      const f1 = one.length === 1 ? one[0] : one;
      step = { ...timePerCall(() => session.step(f1), opts.repeats), inputShapes: one.map((x) => x.shape) };
      session.dispose();
    }
    return { model: name, simd: model.simd, node: process.version, bundleBytes: bundle.length, load: timing(loads), predict, step };
  } finally {
    model.dispose();
  }
}

export function formatBench(r: BenchResult): string {
  const ms = (t: Timing) => `${t.medianMs.toFixed(3)} ms (median of ${t.repeats}; min ${t.minMs.toFixed(3)}, max ${t.maxMs.toFixed(3)})`;
  const shapes = (s: number[][]) => s.map((x) => `[${x.join(", ")}]`).join(", ");
  return [
    `model:   ${r.model} (${r.bundleBytes.toLocaleString("en-US")} bytes, ${r.simd} SIMD, node ${r.node})`,
    `load:    ${ms(r.load)}`,
    `predict: ${ms(r.predict)}, input ${shapes(r.predict.inputShapes)}`,
    "skipped" in r.step
      ? `step:    skipped: ${r.step.skipped}`
      : `step:    ${(r.step.medianMs * 1000).toFixed(2)} µs per session.step (median of ${r.step.repeats} samples of ${r.step.callsPerSample} steps), input ${shapes(r.step.inputShapes)}`,
  ].join("\n");
}

async function run(model: string, o: BenchOptions & { json?: string }): Promise<void> {
  const m = await readModelFile(model);
  const r = await benchModel(basename(model), bundleBytesOf(m, "f32"), o);
  process.stdout.write(formatBench(r) + "\n");
  if (o.json) {
    try {
      await writeFile(resolve(o.json), JSON.stringify(r, null, 2) + "\n");
    } catch (e) {
      throw new RnnWasmError("E_IO", `cannot write ${o.json}: ${(e as Error).message}`, { cause: e });
    }
  }
}

export function register(program: Command): void {
  program
    .command("bench")
    .description("time loading, predict and a one-timestep call of a model on this machine (medians of repeats)")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--json <file>", "also write the figures to a JSON file")
    .option("--repeats <n>", "timed repeats of each call", positiveInt("--repeats"), 30)
    .option("--batch <n>", "batch size of the input", positiveInt("--batch"), 1)
    .option("--time <n>", "sequence length when the model's is not fixed", positiveInt("--time"), 32)
    .option("--seed <n>", "seed of the random input", nonNegativeInt("--seed"), 1)
    .action((model: string, o: BenchOptions & { json?: string }) => run(model, o));
}
