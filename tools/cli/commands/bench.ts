/**
 * `rnn-wasm bench`: a small self-timing of one model on this machine: load, predict on one
 * seeded batch, and a one-timestep call. Medians of repeats after a warm-up; the full
 * comparison with peers lives in bench/. The one-step figure uses predict on a length-1
 * sequence until streaming sessions time it directly.
 */
import { writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { loadModel } from "../../../src/index.js";
import type { ModelSpec } from "../../../src/model/spec.js";
import { mulberry32 } from "../../../src/random.js";
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
  step: (Timing & { inputShapes: number[][] }) | { skipped: string };
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

/**
 * One seeded input per model input: ids inside the embedding's table, floats in [-1, 1). A
 * free time axis gets length `time`; null when the model cannot take that length.
 */
export function benchInputs(spec: ModelSpec, batch: number, time: number, seed: number, forceTime = false): { data: Float32Array | Int32Array; shape: number[] }[] | null {
  const next = rng(seed);
  const out: { data: Float32Array | Int32Array; shape: number[] }[] = [];
  for (const inp of spec.inputs) {
    const dims = [...inp.shape];
    if (hasTime(inp)) {
      if (dims[0] === null) dims[0] = time;
      else if (forceTime && dims[0] !== time) return null;
    } else if (forceTime) return null;
    if (dims.some((d) => d === null)) return null;
    const shape = [batch, ...(dims as number[])];
    const n = shape.reduce((a, b) => a * b, 1);
    if (inp.dtype === "int32") {
      const emb = spec.ops.find((o) => o.op === "embedding" && o.inputs[0] === inp.tensor) as { inputDim: number } | undefined;
      const vocab = Math.max(2, emb?.inputDim ?? 2);
      const ids = new Int32Array(n);
      for (let i = 0; i < n; i++) ids[i] = 1 + Math.floor(next() * (vocab - 1));
      out.push({ data: ids, shape });
    } else {
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = next() * 2 - 1;
      out.push({ data: x, shape });
    }
  }
  return out;
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
    const one = benchInputs(spec, opts.batch, 1, opts.seed + 1, true);
    if (!one) {
      const fixed = spec.inputs.find((i) => hasTime(i) && i.shape[0] !== null);
      step = {
        skipped: fixed
          ? `input ${fixed.name} has a fixed length of ${fixed.shape[0]}, so one timestep cannot go through predict (per-step timing needs sessions)`
          : "the model input has no time axis",
      };
    } else {
      const f1 = one.length === 1 ? one[0] : one;
      step = { ...timeRepeats(() => model.predict(f1), opts.repeats, Math.min(3, opts.repeats)), inputShapes: one.map((x) => x.shape) };
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
    "skipped" in r.step ? `step:    skipped: ${r.step.skipped}` : `step:    ${ms(r.step)}, input ${shapes(r.step.inputShapes)}`,
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
