/**
 * One harness for every fuzzer (test/fuzz/targets/*.ts; an ONNX fuzzer goes on the same).
 * A target says how to make case i from its own seeded generator and how to run it; the
 * harness runs the cases in a worker thread and holds every one to the same oracle:
 *
 *   - it ends: a case that takes longer than `caseTimeoutMs` is a hang (the worker is
 *     terminated, the hang recorded, and the run goes on in a new worker);
 *   - it refuses with a typed error or works: an RnnWasmError whose code the target allows,
 *     or an outcome the target checked (a model that predicts, streams equal to predict, ...);
 *     a TypeError, a RangeError, a trap (E_WASM), a code the target does not allow, or a
 *     broken invariant (`Defect`) is a defect;
 *   - it stays bounded: the worker's heap is capped (a crash is a defect), and a case may not
 *     leave more than `maxRetainedBytes` allocated after it (heap and external, after a
 *     collection).
 *
 * Cases are replayable alone: case i's generator is rngFor(`${target.name}/${i}`) (so
 * RNN_SEED changes every case), and RNN_FUZZ_CASE=i runs only that one. The suite runs each
 * fuzzer at a small size; RNN_FUZZ_N=10000 runs any of them at a large one (README, Testing).
 */
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { RnnWasmError } from "../../src/errors.ts";
import { BASE_SEED, type Rng } from "../util/prng.ts";

export interface FuzzTarget<Case, Base = unknown> {
  /** Part of every case's seed: rename it and every case changes. */
  name: string;
  /** Codes that count as a correct refusal (checked by the harness). */
  codes: readonly string[];
  /** Builds what every case starts from (base files, models), once per worker. */
  setup(): Promise<Base>;
  /** Case i: a pure function of its generator and the base (replayable). */
  make(rng: Rng, i: number, base: Base): Case | Promise<Case>;
  /** Runs the case; returns its outcome's label. Throw a Defect for a broken invariant. */
  run(c: Case, base: Base): Promise<string>;
  /** Longer than this (ms) is a hang; default 10,000. */
  caseTimeoutMs?: number;
  /** Bytes a case may leave allocated once it has ended; default 64 MiB. */
  maxRetainedBytes?: number;
}

/** A broken invariant: the target saw a wrong answer, not a refusal. */
export class Defect extends Error {
  override name = "Defect";
}

export interface FuzzFinding {
  case: number;
  kind: "hang" | "crash" | "untyped error" | "code not allowed" | "defect" | "retained memory" | "fuzzer error";
  message: string;
  /** The command that runs this case alone. */
  replay: string;
}

export interface FuzzReport {
  target: string;
  cases: number;
  /** How many cases ended each way ("loaded", "E_BUNDLE_CORRUPT", ...). */
  outcomes: Record<string, number>;
  findings: FuzzFinding[];
  ms: number;
}

/** Cases in the suite (`small`) or RNN_FUZZ_N; RNN_FUZZ_CASE runs one. */
export function caseRange(small: number): { from: number; to: number } {
  const only = process.env.RNN_FUZZ_CASE;
  if (only !== undefined && only !== "") return { from: Number(only), to: Number(only) + 1 };
  const n = process.env.RNN_FUZZ_N ? Number(process.env.RNN_FUZZ_N) : small;
  if (!Number.isInteger(n) || n < 1) throw new Error(`RNN_FUZZ_N must be a positive integer, got ${process.env.RNN_FUZZ_N}`);
  return { from: 0, to: n };
}

/** A worker running a TypeScript module (through tsx, as the suite runs). */
function tsWorker(file: URL, workerData: unknown): Worker {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(file.href)}); });`, {
    eval: true,
    workerData,
    // a runaway heap ends the worker (a crash finding) instead of the test process
    resourceLimits: { maxOldGenerationSizeMb: 768 },
  });
}

type WorkerMessage =
  | { type: "ready"; caseTimeoutMs: number }
  | { type: "start"; i: number }
  | { type: "done"; i: number; outcome: string }
  | { type: "finding"; i: number; kind: FuzzFinding["kind"]; message: string }
  | { type: "end" };

/** Runs cases [from, to) of the target module `targetFile` (it exports `target`). */
export async function fuzz(targetFile: URL, range: { from: number; to: number }): Promise<FuzzReport> {
  const t0 = performance.now();
  const name = fileURLToPath(targetFile).replace(/^.*\/targets\//, "").replace(/\.ts$/, "");
  const outcomes: Record<string, number> = {};
  const findings: FuzzFinding[] = [];
  const replay = (i: number) => `RNN_SEED=${BASE_SEED} RNN_FUZZ_CASE=${i} npx vitest run test/fuzz/${name}.test.ts`;
  let next = range.from;
  while (next < range.to) {
    // one worker until it ends, hangs or crashes; then a new one from the case after
    next = await new Promise<number>((resolve) => {
      const worker = tsWorker(new URL("./worker.ts", import.meta.url), { targetFile: targetFile.href, from: next, to: range.to });
      let current = next;
      let started = 0;
      let limit = Infinity;
      let settled = false;
      const finish = (resume: number) => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        void worker.terminate();
        resolve(resume);
      };
      const watch = setInterval(() => {
        if (started && performance.now() - started > limit) {
          findings.push({ case: current, kind: "hang", message: `case ${current} ran longer than ${limit} ms`, replay: replay(current) });
          finish(current + 1);
        }
      }, 100);
      worker.on("message", (m: WorkerMessage) => {
        if (m.type === "ready") limit = m.caseTimeoutMs;
        else if (m.type === "start") [current, started] = [m.i, performance.now()];
        else if (m.type === "done") {
          outcomes[m.outcome] = (outcomes[m.outcome] ?? 0) + 1;
          started = 0;
        } else if (m.type === "finding") {
          findings.push({ case: m.i, kind: m.kind, message: m.message, replay: replay(m.i) });
          started = 0;
        } else finish(range.to);
      });
      worker.on("error", (e) => {
        findings.push({ case: current, kind: "crash", message: `the worker died in case ${current}: ${e.message}`, replay: replay(current) });
        finish(current + 1);
      });
      worker.on("exit", () => finish(started ? current + 1 : range.to));
    });
  }
  return { target: name, cases: range.to - range.from, outcomes, findings, ms: performance.now() - t0 };
}

/** One line per finding, and the outcome counts: what a failing fuzz test prints. */
export function describeReport(r: FuzzReport): string {
  const counts = Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  const lines = r.findings.slice(0, 20).map((f) => `  case ${f.case}: ${f.kind}: ${f.message.slice(0, 300)}\n    replay: ${f.replay}`);
  return `${r.target}: ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s (seed ${BASE_SEED}): ${counts}${lines.length ? `\n${lines.join("\n")}` : ""}`;
}

/** The label of a typed refusal, or null when `e` is not an RnnWasmError. */
export function codeOf(e: unknown): string | null {
  return e instanceof RnnWasmError || (e as { name?: string })?.name === "RnnWasmError" ? (e as RnnWasmError).code : null;
}
