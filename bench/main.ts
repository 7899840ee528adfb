/**
 * The benchmark harness (entry: `node bench/run.mjs`, which runs this file through tsx).
 *
 * For each selected model: every engine loads the same weights; each engine's output is
 * compared with the reference (tfjs cpu, or the float64 reference where tfjs cannot run the
 * model) before it is timed, and an engine that disagrees is reported, not timed. Timing runs
 * in interleaved rounds: in each round every engine runs K calls (K sized so one run lasts
 * about `runMs`), so ratios between engines are computed per round and machine drift cancels.
 * Each figure is the median over rounds with min and max. Cold start and memory run in fresh
 * child processes, the peak MAC/s of the wasm engine in its own child.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpus, totalmem, platform, arch } from "node:os";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { buildBenchModel } from "./build.ts";
import { createEngine, ENGINE_IDS, isEngineId, RNN_WASM_ENGINES } from "./engines/index.ts";
import { prepareRnnWasmEntry, type RnnWasmEntry, type RnnWasmFrom } from "./engines/rnnwasm.ts";
import { EngineUnavailable, type Engine, type EngineId, type LoadedModel, type Stream } from "./engines/types.ts";
import { MODEL_DEFS, macsFormula, macsPerSequence, makeInput, modelDef, prefix, timestep, type BenchModel, type InputTensor, type ModelVariant } from "./models.ts";
import { writeModelFiles } from "./model-files.ts";
import { referenceModel } from "./reference.ts";
import { renderMarkdown, renderSvg } from "./report.ts";
import { benchSilero, SILERO_MODELS, type SileroResult } from "./silero.ts";
import { maxAbsDiff, pairedRatio, summarize, within, type Summary } from "./stats.ts";
import { GATE, GATE_INT8 } from "./tolerance.ts";

/** The correctness gate of an engine: int8 weights are held to their quantisation bound. */
const gateFor = (eid: EngineId) => (eid === "rnn-wasm-int8" ? GATE_INT8 : GATE);
import type { ColdStartResult } from "./coldstart.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");

export type Mode = "step" | "sequence" | "batch32" | "batch64";
export const MODES: Mode[] = ["step", "sequence", "batch32", "batch64"];
const BATCH: Record<Mode, number> = { step: 1, sequence: 1, batch32: 32, batch64: 64 };

interface Settings {
  quick: boolean;
  models: string[];
  modes: Mode[];
  engines: EngineId[];
  coldStart: boolean;
  memory: boolean;
  peak: boolean;
  rounds: number;
  runMs: number;
  warmupMs: number;
  firstWarmupMs: number;
  budgetMs: number;
  maxCallMs: number;
  coldRuns: number;
  coldModel: string;
  rnnWasmFrom: RnnWasmFrom;
  outDir: string;
  relaxedFlag: boolean;
  /** Silero VAD files timed per frame (bench/silero.ts). */
  silero: string[];
}

const QUICK_MODELS = ["lstm-64", "stocktwits"];

function parseArgs(argv: string[]): Settings {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const [k, inline] = a.slice(2).split("=", 2);
    if (inline !== undefined) flags.set(k, inline);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags.set(k, argv[++i]);
    else flags.set(k, "true");
  }
  const known = ["render", "quick", "models", "modes", "engines", "no-cold-start", "no-memory", "no-peak", "rounds", "run-ms", "budget-ms", "cold-runs", "cold-model", "rnn-wasm-from", "out", "relaxed-flag", "silero", "help"];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k} (known: ${known.map((s) => `--${s}`).join(" ")})`);
  const quick = flags.has("quick");
  const list = (k: string, all: string[], dflt: string[]) => {
    const v = flags.get(k);
    if (!v || v === "all") return v === "all" ? all : dflt;
    const items = v.split(",").map((s) => s.trim()).filter(Boolean);
    for (const it of items) if (!all.includes(it)) throw new Error(`--${k}: unknown "${it}" (known: ${all.join(", ")})`);
    return items;
  };
  const modes = list("modes", [...MODES, "coldstart", "memory"], quick ? ["step", "sequence", "batch32", "coldstart"] : [...MODES, "coldstart", "memory"]);
  return {
    quick,
    models: list("models", MODEL_DEFS.map((m) => m.id), quick ? QUICK_MODELS : MODEL_DEFS.map((m) => m.id)),
    modes: modes.filter((m): m is Mode => (MODES as string[]).includes(m)),
    engines: list("engines", ENGINE_IDS, ENGINE_IDS) as EngineId[],
    coldStart: modes.includes("coldstart") && !flags.has("no-cold-start"),
    memory: modes.includes("memory") && !flags.has("no-memory"),
    peak: !flags.has("no-peak"),
    rounds: Number(flags.get("rounds") ?? (quick ? 5 : 11)),
    runMs: Number(flags.get("run-ms") ?? (quick ? 10 : 40)),
    warmupMs: quick ? 200 : 500,
    firstWarmupMs: quick ? 1500 : 3000,
    budgetMs: Number(flags.get("budget-ms") ?? (quick ? 400 : 6000)),
    maxCallMs: quick ? 500 : 15000,
    coldRuns: Number(flags.get("cold-runs") ?? (quick ? 1 : 7)),
    coldModel: flags.get("cold-model") ?? "lstm-300-128",
    rnnWasmFrom: (flags.get("rnn-wasm-from") ?? "auto") as RnnWasmFrom,
    outDir: resolve(root, flags.get("out") ?? "bench/results"),
    relaxedFlag: flags.has("relaxed-flag"),
    silero: flags.get("silero") === "none" ? [] : list("silero", [...SILERO_MODELS], quick ? ["silero_vad_v5"] : ["silero_vad_v5", "silero_vad_v6"]),
  };
}

const log = (...a: unknown[]) => console.error(...a);

// ---------------------------------------------------------------------------------------------
// Reference outputs

const tfjsReferenceCache = new Map<ModelVariant, tf.LayersModel>();

/** The reference output for a variant: tfjs cpu when tfjs can run it, else the float64 reference. */
async function referenceOutput(model: BenchModel, variant: ModelVariant, x: InputTensor): Promise<{ data: ArrayLike<number>; by: string }> {
  if (!variant.tfjsRunnable) {
    return { data: referenceModel(model.def, variant.layers, variant.weights).predict(x), by: "float64 reference" };
  }
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  try {
    let m = tfjsReferenceCache.get(variant);
    if (!m) {
      const { modelJson, weights } = variant.artifacts;
      m = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights as tf.io.WeightsManifestEntry[], weightData: weights }));
      tfjsReferenceCache.set(variant, m);
    }
    const input = tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? "int32" : "float32");
    const y = m.predict(input) as tf.Tensor;
    const data = y.dataSync().slice();
    input.dispose();
    y.dispose();
    return { data, by: "tfjs cpu" };
  } finally {
    if (previous !== "cpu") await tf.setBackend(previous);
  }
}

// ---------------------------------------------------------------------------------------------
// Timing

interface Timed {
  engine: EngineId;
  /** Seconds per call, per round (undefined where the engine did not run that round). */
  perRound: (number | undefined)[];
  calls: number;
  status: "ok" | "too-slow";
  firstCallMs: number;
}

type Call = () => unknown;

async function runCalls(call: Call, sync: boolean, k: number): Promise<number> {
  const t0 = performance.now();
  if (sync) for (let i = 0; i < k; i++) call();
  else for (let i = 0; i < k; i++) await call();
  return (performance.now() - t0) / 1000;
}

interface Contender {
  engine: EngineId;
  call: Call;
  sync: boolean;
  activate?: () => Promise<void>;
}

/** Engines already warmed up once in this process (their first cell gets a longer warm-up). */
const warmedEngines = new Set<EngineId>();

/** Warm up, size K, then interleaved rounds; each engine gets its own K and round count. */
async function timeCell(contenders: Contender[], s: Settings): Promise<Timed[]> {
  const plans: { c: Contender; k: number; rounds: number; timed: Timed }[] = [];
  for (const c of contenders) {
    // The first cell of an engine warms up longer: V8 tiers hot wasm functions up to its
    // optimising compiler in the background, which takes seconds for a large module on a
    // busy machine (measured: onnxruntime-web steps stay ~4x slow for the first ~1.5 s).
    // Later cells reuse the same instance and its optimised code.
    const warmupMs = warmedEngines.has(c.engine) ? s.warmupMs : s.firstWarmupMs;
    warmedEngines.add(c.engine);
    await c.activate?.();
    const first = await runCalls(c.call, c.sync, 1);
    const timed: Timed = { engine: c.engine, perRound: [], calls: 1, status: "ok", firstCallMs: first * 1000 };
    if (first * 1000 > s.maxCallMs) {
      timed.status = "too-slow";
      timed.perRound = [first];
      plans.push({ c, k: 0, rounds: 0, timed });
      continue;
    }
    // Warm up until the per-call time is stable: wasm engines tier up hot functions in
    // background threads (onnxruntime-web needs a few thousand small calls), so a fixed short
    // warm-up would time the baseline compiler. Stop once at least warmupMs has passed and two
    // consecutive batches agree within 15%, or after 4 x the warm-up time.
    let calls = 0;
    let callTime = first;
    let previous = Infinity;
    const t0 = performance.now();
    for (;;) {
      const n = Math.max(1, Math.min(5000, Math.floor(warmupMs / 8 / 1000 / Math.max(callTime, 1e-7))));
      const t = await runCalls(c.call, c.sync, n);
      callTime = t / n;
      calls += n;
      const elapsed = performance.now() - t0;
      const stable = Math.abs(callTime - previous) <= 0.15 * Math.min(callTime, previous);
      previous = callTime;
      if (calls >= 2 && ((elapsed >= warmupMs && stable) || elapsed >= 4 * warmupMs)) break;
      if (callTime * 1000 > s.maxCallMs / 4 && calls >= 2) break;
    }
    const k = Math.max(1, Math.round(s.runMs / 1000 / callTime));
    const rounds = Math.max(3, Math.min(s.rounds, Math.floor(s.budgetMs / 1000 / (k * callTime))));
    timed.calls = k;
    plans.push({ c, k, rounds, timed });
  }
  const maxRounds = Math.max(0, ...plans.map((p) => p.rounds));
  for (let r = 0; r < maxRounds; r++) {
    // Rotate the order so no engine always runs right after the same neighbour.
    for (let j = 0; j < plans.length; j++) {
      const p = plans[(j + r) % plans.length];
      if (r >= p.rounds) continue;
      await p.c.activate?.();
      p.timed.perRound[r] = (await runCalls(p.c.call, p.c.sync, p.k)) / p.k;
      // Let thread pools that spin after a run (onnxruntime-node) park before the next engine.
      await new Promise((done) => setTimeout(done, 5));
    }
  }
  return plans.map((p) => p.timed);
}

// ---------------------------------------------------------------------------------------------
// Results

export interface CellResult {
  model: string;
  mode: Mode;
  engine: EngineId;
  status: "ok" | "too-slow" | "skipped" | "disagrees" | "unavailable" | "failed";
  detail?: string;
  /** Variant the engine ran: "keras" or "tfjs-twin" (GRU reset_after=false). */
  variant: string;
  gate?: { maxErr: number; reference: string; tolerance: string };
  /** Seconds per call. */
  perCall?: Summary;
  callsPerRound?: number;
  /** Sequences per second (sequence and batch modes) or steps per second (step). */
  throughput?: Summary;
  gmacs?: Summary;
  pctPeak?: number;
}

export interface RatioResult {
  model: string;
  mode: Mode;
  peer: EngineId;
  /** peer time / rnn-wasm time per round: > 1 means rnn-wasm is faster. */
  ratio: Summary;
  /** Which rnn-wasm engine the ratio is to, when not the default f32 one ("rnn-wasm-int8"). */
  ours?: EngineId;
}

export interface BenchResults {
  meta: {
    date: string;
    node: string;
    v8: string;
    cpu: string;
    cores: number;
    memoryBytes: number;
    platform: string;
    quick: boolean;
    settings: Omit<Settings, "outDir">;
    durationSeconds: number;
    notes: string[];
  };
  peak?: PeakResult;
  engines: { id: EngineId; label: string; available: boolean; reason?: string; notes: string[] }[];
  models: { id: string; title: string; seqLen: number; weightBytes: number; macsPerStep: number; macsPerSequence: number; formula: string; note?: string; tfjsTwin: boolean }[];
  cells: CellResult[];
  ratios: RatioResult[];
  coldStart: { engine: EngineId; model: string; runs: number; ok: boolean; error?: string; firstMs?: Summary; initMs?: Summary; loadMs?: Summary }[];
  memory: (ColdStartResult & { model: string })[];
  streamHow: Record<string, string>;
  silero?: SileroResult[];
}

export interface PeakResult {
  baseline?: { variants: Record<string, Summary>; best: string; gmacs: number };
  relaxed?: { variants: Record<string, Summary>; best: string; gmacs: number; flag: string } | { error: string };
  /**
   * GMAC/s every "% of peak" figure divides by: the fastest run of the best register-only
   * baseline SIMD128 loop. Load from other processes only slows a loop down, so the fastest
   * run is the closest to the machine's uncontended peak.
   */
  reference: number;
}

// ---------------------------------------------------------------------------------------------
// Peak

function measurePeak(s: Settings): PeakResult | undefined {
  const build = join(here, "peak", "build");
  const files = { baseline: join(build, "peak-simd.wasm"), relaxed: join(build, "peak-relaxed.wasm") };
  if (!existsSync(files.baseline)) {
    log("peak: bench/peak/build/peak-simd.wasm missing (bench/run.mjs builds it); skipped");
    return undefined;
  }
  const run = (file: string, flags: string[]) => {
    const out = execFileSync(process.execPath, [...flags, join(here, "peak", "measure.mjs"), file, s.quick ? "5" : "9", s.quick ? "40" : "80"], { encoding: "utf8" });
    return JSON.parse(out.trim().split("\n").pop()!) as { results?: Record<string, Summary>; error?: string };
  };
  const best = (r: Record<string, Summary>) => {
    const regs = Object.entries(r).filter(([k]) => k.startsWith("regs"));
    regs.sort((a, b) => b[1].max - a[1].max);
    return { best: regs[0][0], gmacs: regs[0][1].max };
  };
  const base = run(files.baseline, []);
  if (!base.results) return undefined;
  const result: PeakResult = { baseline: { variants: base.results, ...best(base.results) }, reference: best(base.results).gmacs };
  if (existsSync(files.relaxed)) {
    const flag = "--experimental-wasm-relaxed-simd";
    const rel = run(files.relaxed, [flag]);
    result.relaxed = rel.results ? { variants: rel.results, ...best(rel.results), flag } : { error: rel.error ?? "failed" };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Children: cold start and memory

function bundleColdStart(): string {
  const out = join(root, "bench/results/tmp/coldstart.mjs");
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(process.execPath, [
    "-e",
    `require("esbuild").buildSync({ entryPoints: [${JSON.stringify(join(here, "coldstart.ts"))}], outfile: ${JSON.stringify(out)}, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "warning" })`,
  ], { cwd: root, stdio: "inherit" });
  return out;
}

function runChild(script: string, engine: EngineId, modelDir: string, s: Settings, rnnWasmEntry: RnnWasmEntry | undefined): ColdStartResult {
  const args = [...(s.relaxedFlag ? ["--experimental-wasm-relaxed-simd"] : []), script, JSON.stringify({ engine, root, rnnWasmEntry, modelDir })];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", timeout: 120_000 });
  const line = (r.stdout ?? "").trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) return { engine, model: modelDir, ok: false, error: `child exited ${r.status}: ${(r.stderr ?? "").trim().split("\n").slice(-1)[0]}` };
  return JSON.parse(line) as ColdStartResult;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const s = parseArgs(process.argv.slice(2));
  if (process.argv.includes("--help")) {
    console.log(HELP);
    return;
  }
  const renderIndex = process.argv.indexOf("--render");
  if (renderIndex > 0) {
    // Re-render the Markdown and SVG of an earlier run from its JSON.
    const file = resolve(process.argv[renderIndex + 1]);
    const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
    // Runs written before the peak reference became the fastest run: recompute it.
    const base = results.peak?.baseline;
    if (results.peak && base) {
      const regs = Object.entries(base.variants).filter(([k]) => k.startsWith("regs")).sort((a, b) => b[1].max - a[1].max);
      results.peak.reference = regs[0][1].max;
      base.best = regs[0][0];
      base.gmacs = regs[0][1].max;
      for (const c of results.cells) if (c.gmacs) c.pctPeak = (100 * c.gmacs.median) / results.peak.reference;
      writeFileSync(file, JSON.stringify(results, null, 1));
    }
    writeFileSync(join(dirname(file), "latest.md"), renderMarkdown(results));
    writeFileSync(join(dirname(file), "latest.svg"), renderSvg(results));
    log(`rendered ${join(dirname(file), "latest.md")} and latest.svg from ${file}`);
    return;
  }
  await tf.setBackend("cpu");
  tf.enableProdMode();
  const notes: string[] = [
    "Shared 2-core machine: figures are indicative; compare ratios within one run, not across runs.",
    "tfjs engines run GRU models as their reset_after=false twin (tfjs cannot run reset_after=true); same shapes and MAC count.",
  ];
  log(`bench: models ${s.models.join(", ")}; modes ${s.modes.join(", ")}${s.coldStart ? ", coldstart" : ""}${s.memory ? ", memory" : ""}; engines ${s.engines.join(", ")}`);

  const peak = s.peak ? measurePeak(s) : undefined;
  if (peak?.baseline) log(`peak: baseline SIMD128 ${peak.baseline.gmacs.toFixed(2)} GMAC/s (${peak.baseline.best})`);

  const engines: BenchResults["engines"] = [];
  const live = new Map<EngineId, Engine>();
  const rnnWasmEntry = s.engines.some((e) => RNN_WASM_ENGINES.includes(e)) ? await prepareRnnWasmEntry(root, s.rnnWasmFrom) : undefined;
  if (rnnWasmEntry?.from === "src-bundle") notes.push("rnn-wasm: dist/ was missing or older than src/, so the harness bundled src/node.ts with esbuild (as npm run build does) and used the kernels in build/.");
  for (const id of s.engines) {
    try {
      const e = await createEngine(id, { root, rnnWasmFrom: s.rnnWasmFrom, rnnWasmEntry });
      live.set(id, e);
      engines.push({ id, label: e.label, available: true, notes: e.notes });
    } catch (e) {
      const reason = e instanceof EngineUnavailable ? e.message : `failed to start: ${(e as Error).message.split("\n")[0]}`;
      engines.push({ id, label: id, available: false, reason, notes: [] });
      log(`engine ${id}: unavailable (${reason})`);
    }
  }
  await tf.setBackend("cpu");

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      v8: process.versions.v8,
      cpu: cpus()[0]?.model ?? "?",
      cores: cpus().length,
      memoryBytes: totalmem(),
      platform: `${platform()} ${arch()}`,
      quick: s.quick,
      settings: { ...s, outDir: undefined } as unknown as Omit<Settings, "outDir">,
      durationSeconds: 0,
      notes,
    },
    peak,
    engines,
    models: [],
    cells: [],
    ratios: [],
    coldStart: [],
    memory: [],
    streamHow: {},
  };
  const modelFilesRoot = join(root, "bench/results/tmp/models");
  const models = new Map<string, BenchModel>();
  const needFiles = new Set<string>(s.memory ? s.models : []);
  if (s.coldStart) needFiles.add(s.coldModel);

  for (const id of s.models) {
    const model = await buildBenchModel(modelDef(id));
    models.set(id, model);
    const def = model.def;
    results.models.push({
      id, title: def.title, seqLen: def.seqLen, weightBytes: model.weightBytes,
      macsPerStep: macsPerSequence(def, 1), macsPerSequence: macsPerSequence(def, def.seqLen),
      formula: `per row: ${macsFormula(def)} (T=${def.seqLen})`, note: def.note, tfjsTwin: model.tfjsTwin !== undefined,
    });
    log(`\n== ${id}: ${def.title} (${(model.weightBytes / 1e6).toFixed(2)} MB f32)`);

    // Load every engine, gate it, then time each mode.
    const loaded = new Map<EngineId, LoadedModel>();
    const gateFail = new Map<EngineId, CellResult>();
    const seqGate = makeInput(def, 2, def.seqLen, def.seed + 1000);
    const refByVariant = new Map<ModelVariant, { data: ArrayLike<number>; by: string }>();
    for (const [eid, engine] of live) {
      const variant = engine.variant(model);
      const base: Omit<CellResult, "mode"> = { model: id, engine: eid, status: "ok", variant: variant.kind };
      try {
        const lm = await engine.load(model);
        loaded.set(eid, lm);
        await lm.activate?.();
        const out = Float32Array.from(await lm.predict(seqGate));
        if (!refByVariant.has(variant)) refByVariant.set(variant, await referenceOutput(model, variant, seqGate));
        const ref = refByVariant.get(variant)!;
        const maxErr = maxAbsDiff(out, ref.data);
        const G = gateFor(eid);
        const gate = { maxErr, reference: ref.by, tolerance: G.name };
        if (!within(out, ref.data, G)) gateFail.set(eid, { ...base, mode: "sequence", status: "disagrees", gate, detail: `disagrees (max err ${maxErr.toExponential(2)})` });
        else gateFail.set(eid, { ...base, mode: "sequence", status: "ok", gate });
        log(`  ${eid}: loaded; gate vs ${ref.by}: max err ${maxErr.toExponential(2)}${within(out, ref.data, G) ? "" : "  DISAGREES"}`);
      } catch (e) {
        gateFail.set(eid, { ...base, mode: "sequence", status: "failed", detail: (e as Error).message.split("\n")[0] });
        log(`  ${eid}: failed to load or predict: ${(e as Error).message.split("\n")[0]}`);
      }
    }

    for (const mode of s.modes) {
      const batch = BATCH[mode];
      const contenders: Contender[] = [];
      const cells = new Map<EngineId, CellResult>();
      const macsPerCall = mode === "step" ? macsPerSequence(def, 1) : batch * macsPerSequence(def, def.seqLen);
      for (const [eid, engine] of live) {
        const seqResult = gateFail.get(eid)!;
        const cell: CellResult = { model: id, mode, engine: eid, status: seqResult.status, variant: engine.variant(model).kind, gate: seqResult.gate, detail: seqResult.detail };
        cells.set(eid, cell);
        const lm = loaded.get(eid);
        if (!lm || cell.status !== "ok") continue;
        if (mode === "step") {
          // Streaming gate: the head output after each of S steps vs the reference on prefixes.
          let stream: Stream;
          try {
            await lm.activate?.();
            stream = await lm.openStream();
          } catch (e) {
            cell.status = "unavailable";
            cell.detail = (e as Error).message.split("\n")[0];
            cell.gate = undefined;
            continue;
          }
          results.streamHow[eid] = stream.how;
          const S = Math.min(def.seqLen, 6);
          const xs = makeInput(def, 1, S, def.seed + 2000);
          const variant = engine.variant(model);
          let maxErr = 0;
          let ok = true;
          let by = "";
          try {
            for (let t = 0; t < S; t++) {
              const out = Float32Array.from(await stream.step(timestep(xs, t)));
              const ref = await referenceOutput(model, variant, prefix(xs, t + 1));
              by = ref.by;
              maxErr = Math.max(maxErr, maxAbsDiff(out, ref.data));
              ok &&= within(out, ref.data, gateFor(eid));
            }
          } catch (e) {
            cell.status = "failed";
            cell.detail = (e as Error).message.split("\n")[0];
            continue;
          }
          cell.gate = { maxErr, reference: `${by}, ${S} steps vs prefixes`, tolerance: gateFor(eid).name };
          if (!ok) {
            cell.status = "disagrees";
            cell.detail = `disagrees (max err ${maxErr.toExponential(2)})`;
            continue;
          }
          stream.reset();
          const pool = makeInput(def, 1, 16, def.seed + 3000);
          const steps = Array.from({ length: 16 }, (_, t) => timestep(pool, t));
          let i = 0;
          contenders.push({ engine: eid, sync: lm.sync, activate: lm.activate, call: () => stream.step(steps[i++ & 15]) });
        } else {
          // Skip a batch mode an engine cannot finish in time, estimated from its sequence mode
          // (allowing batching to be up to 4x more efficient per row than one sequence).
          const seq = results.cells.find((c) => c.model === id && c.mode === "sequence" && c.engine === eid)?.perCall;
          const estimateMs = seq ? (seq.median * 1000 * batch) / 4 : 0;
          if (mode !== "sequence" && estimateMs > s.maxCallMs) {
            cell.status = "skipped";
            cell.detail = `estimated ${(estimateMs / 1000).toFixed(1)} s per call (> ${s.maxCallMs / 1000} s cap)`;
            continue;
          }
          const x = makeInput(def, batch, def.seqLen, def.seed + 4000 + batch);
          contenders.push({ engine: eid, sync: lm.sync, activate: lm.activate, call: () => lm.predict(x) });
        }
      }
      if (contenders.length) log(`  ${mode} (batch ${batch}${mode === "step" ? ", 1 step" : `, T=${def.seqLen}`}): timing ${contenders.map((c) => c.engine).join(", ")}`);
      const timed = contenders.length ? await timeCell(contenders, s) : [];
      for (const t of timed) {
        const cell = cells.get(t.engine)!;
        const perCall = summarize(t.perRound.filter((v): v is number => v !== undefined));
        cell.perCall = perCall;
        cell.callsPerRound = t.calls;
        const perSecond = (v: number) => (mode === "step" ? 1 : batch) / v;
        cell.throughput = { median: perSecond(perCall.median), min: perSecond(perCall.max), max: perSecond(perCall.min), n: perCall.n };
        cell.gmacs = { median: macsPerCall / perCall.median / 1e9, min: macsPerCall / perCall.max / 1e9, max: macsPerCall / perCall.min / 1e9, n: perCall.n };
        if (peak) cell.pctPeak = (100 * cell.gmacs.median) / peak.reference;
        if (t.status === "too-slow") {
          cell.status = "too-slow";
          cell.detail = `one call took ${(t.firstCallMs / 1000).toFixed(1)} s (> ${s.maxCallMs / 1000} s cap): first call only`;
        }
        const unit = mode === "step" ? `${(perCall.median * 1e6).toFixed(1)} µs/step` : `${(perCall.median * 1e3).toFixed(2)} ms/call`;
        log(`    ${t.engine.padEnd(12)} ${unit}  (${cell.gmacs.median.toFixed(2)} GMAC/s, n=${perCall.n}, K=${t.calls})`);
      }
      // ratios of every other engine to each of rnn-wasm's (f32, and int8 when it runs)
      for (const ours of timed.filter((t) => RNN_WASM_ENGINES.includes(t.engine))) {
        for (const t of timed) {
          if (t.engine === ours.engine) continue;
          const ratio = pairedRatio(t.perRound, ours.perRound);
          if (ratio) results.ratios.push({ model: id, mode, peer: t.engine, ratio, ...(ours.engine === "rnn-wasm" ? {} : { ours: ours.engine }) });
        }
      }
      results.cells.push(...cells.values());
    }
    for (const lm of loaded.values()) lm.dispose();
    for (const m of tfjsReferenceCache.values()) m.dispose();
    tfjsReferenceCache.clear();
    if (needFiles.has(id)) await writeModelFiles(model, modelFilesRoot);
  }

  // Cold start and memory: fresh processes.
  if (s.coldStart || s.memory) {
    const script = bundleColdStart();
    const ids = s.engines.filter((e) => engines.find((x) => x.id === e)?.available);
    if (s.coldStart) {
      if (!models.has(s.coldModel)) {
        const m = await buildBenchModel(modelDef(s.coldModel));
        await writeModelFiles(m, modelFilesRoot);
      }
      log(`\n== cold start: ${s.coldModel}, ${s.coldRuns} fresh processes per engine`);
      const dir = join(modelFilesRoot, s.coldModel);
      const perEngine = new Map<EngineId, ColdStartResult[]>();
      // Interleave engines across repetitions, like the timing rounds.
      for (let r = 0; r < s.coldRuns; r++) {
        for (const eid of ids) {
          const res = runChild(script, eid, dir, s, rnnWasmEntry);
          if (!perEngine.has(eid)) perEngine.set(eid, []);
          perEngine.get(eid)!.push(res);
        }
      }
      for (const [eid, runs] of perEngine) {
        const ok = runs.filter((r) => r.ok && r.ms);
        const entry: BenchResults["coldStart"][number] = { engine: eid, model: s.coldModel, runs: runs.length, ok: ok.length === runs.length };
        if (ok.length) {
          entry.firstMs = summarize(ok.map((r) => r.ms!.first));
          entry.initMs = summarize(ok.map((r) => r.ms!.init));
          entry.loadMs = summarize(ok.map((r) => r.ms!.load - r.ms!.init));
        }
        if (ok.length < runs.length) entry.error = runs.find((r) => !r.ok)?.error;
        results.coldStart.push(entry);
        log(`  ${eid.padEnd(12)} ${entry.firstMs ? `${entry.firstMs.median.toFixed(1)} ms (init ${entry.initMs!.median.toFixed(1)}, load ${entry.loadMs!.median.toFixed(1)})` : `failed: ${entry.error}`}`);
        if (s.memory && runs[0]?.ok) results.memory.push({ ...runs[0], model: s.coldModel });
      }
    }
    if (s.memory) {
      log(`\n== memory: one fresh process per engine and model`);
      for (const id of s.models) {
        if (s.coldStart && id === s.coldModel) continue;
        const dir = join(modelFilesRoot, id);
        for (const eid of ids) {
          const res = runChild(script, eid, dir, s, rnnWasmEntry);
          results.memory.push({ ...res, model: id });
          const d = res.rss ? `${((res.rss.load - res.rss.init) / 1e6).toFixed(1)} MB model, ${((res.rss.first - res.rss.load) / 1e6).toFixed(1)} MB first predict` : res.error;
          log(`  ${id} ${eid.padEnd(12)} ${d}`);
        }
      }
    }
  }

  if (s.silero.length) {
    log(`\n== Silero VAD per frame: ${s.silero.join(", ")}`);
    results.silero = await benchSilero({ rounds: s.rounds, runMs: s.runMs * 10, coldRuns: Math.max(3, s.coldRuns), models: s.silero }, log);
  }

  // an engine's label can name what it chose at load (rnn-wasm: its SIMD build)
  for (const e of engines) e.label = live.get(e.id)?.label ?? e.label;
  if (s.relaxedFlag) notes.push("Run with --experimental-wasm-relaxed-simd (--relaxed-flag): rnn-wasm loads its relaxed-SIMD build, as it does by default in Chromium, Deno and workerd; the peers' wasm files validate without relaxed SIMD: they use none of it.");
  for (const e of live.values()) await e.dispose();
  // The children's model files (up to ~100 MB) are rebuilt by every run.
  rmSync(modelFilesRoot, { recursive: true, force: true });
  for (const e of engines) notes.push(...e.notes);
  results.meta.durationSeconds = (performance.now() - started) / 1000;
  mkdirSync(s.outDir, { recursive: true });
  const stamp = results.meta.date.replace(/[:.]/g, "-");
  const json = JSON.stringify(results, null, 1);
  writeFileSync(join(s.outDir, `${stamp}.json`), json);
  writeFileSync(join(s.outDir, "latest.json"), json);
  writeFileSync(join(s.outDir, "latest.md"), renderMarkdown(results));
  writeFileSync(join(s.outDir, "latest.svg"), renderSvg(results));
  log(`\nwrote ${join(s.outDir, `${stamp}.json`)}, latest.json, latest.md, latest.svg (${results.meta.durationSeconds.toFixed(0)} s)`);
  process.exit(0);
}

const HELP = `node bench/run.mjs [flags]
  --quick                 about a minute: ${QUICK_MODELS.join(", ")}; step, sequence, batch32, cold start
  --models a,b|all        ${MODEL_DEFS.map((m) => m.id).join(", ")}
  --modes a,b|all         ${MODES.join(", ")}, coldstart, memory
  --engines a,b|all       ${ENGINE_IDS.join(", ")}
  --rounds N              timed rounds per cell (default 11, quick 5)
  --run-ms N              target duration of one timed run (default 40, quick 10)
  --budget-ms N           time budget per engine and cell (default 6000, quick 400)
  --cold-runs N           fresh processes per engine for cold start (default 7, quick 1)
  --cold-model ID         model for cold start (default lstm-300-128, 0.88 MB)
  --rnn-wasm-from dist|src|auto
  --relaxed-flag          run with --experimental-wasm-relaxed-simd (rnn-wasm then picks its relaxed build)
  --silero a,b|all|none   Silero VAD files timed per frame (default silero_vad_v5,silero_vad_v6; quick: v5): ${SILERO_MODELS.join(", ")}
  --no-peak --no-cold-start --no-memory
  --out DIR               default bench/results
  --render FILE.json      only rewrite latest.md and latest.svg next to FILE.json from it`;

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
