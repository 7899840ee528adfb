/**
 * Shared machinery of the engine tests: pack the package exactly as `npm pack` ships it, lay it
 * out as an installed dependency of a fresh folder, resolve its entries through the package's
 * own "exports" conditions (esbuild's resolver, the one wrangler uses), run child processes
 * with time limits, and compare an engine's probe results with Node's.
 */
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { expect } from "vitest";
import * as api from "../../src/index.ts";
import { APPROX, EXACT_F32, type Tolerance } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import type { ProbeApi, ProbeCaseResult, ProbeOutput, ProbeResult, ProbeRun } from "./engine/probe.ts";
import { runProbe } from "./engine/probe.ts";
import type { RuntimeCase } from "./models.ts";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const BIN = (name: string) => join(ROOT, "node_modules", ".bin", name);
const PROBE_SOURCE = join(ROOT, "test/runtimes/engine/probe.ts");

/** A scratch folder removed by `cleanup`. */
export function scratchDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `rnn-wasm-${label}-`));
}

export function cleanup(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * `npm pack` of one of the repository's packages into `dest`: the runtime (the root, rnn-wasm)
 * or the tools (tools/, rnn-wasm-tools). Returns the tarball path. Needs a current build.
 */
export function packTarball(dest: string, which: "runtime" | "tools" = "runtime"): string {
  const needs = which === "runtime"
    ? ["dist/node.js", "dist/browser.js", "dist/workerd.js", "dist/rnn-simd.wasm", "dist/types/index.d.ts"]
    : ["tools/dist/cli.js", "tools/dist/export.js", "tools/dist/rnn-simd.wasm", "tools/dist/models/sine.rnnb"];
  for (const f of needs) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
  const json = execFileSync("npm", ["pack", ...(which === "tools" ? ["./tools"] : []), "--json", "--pack-destination", dest], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  const info = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  return join(dest, info[0].filename);
}

/**
 * A fresh project folder with the packed runtime extracted as node_modules/rnn-wasm (no
 * dependencies: none of the runtime entries imports one) and, with `tools`, the tools package
 * as node_modules/rnn-wasm-tools (for its demo models; its own dependencies are not installed).
 */
export function projectWithPackedPackage(label: string, opts: { tools?: boolean } = {}): { dir: string; tarball: string } {
  const dir = scratchDir(label);
  try {
    const tarball = packTarball(dir);
    const packages: [string, string][] = [[tarball, "rnn-wasm"]];
    if (opts.tools) packages.push([packTarball(dir, "tools"), "rnn-wasm-tools"]);
    for (const [file, name] of packages) {
      const pkgDir = join(dir, "node_modules", name);
      mkdirSync(pkgDir, { recursive: true });
      execFileSync("tar", ["-xzf", file, "-C", pkgDir, "--strip-components=1"], { stdio: "pipe" });
    }
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `probe-${label}`, private: true, type: "module" }, null, 2));
    return { dir, tarball };
  } catch (e) {
    cleanup(dir);
    throw e;
  }
}

/** Which file `import "rnn-wasm"` (or a subpath) reaches from `dir` under the given conditions. */
export async function resolveEntry(dir: string, conditions: string[], specifier = "rnn-wasm"): Promise<string> {
  let found: string | null = null;
  await esbuild.build({
    stdin: { contents: `import ${JSON.stringify(specifier)};`, resolveDir: dir },
    bundle: true,
    write: false,
    platform: "neutral",
    conditions,
    logLevel: "silent",
    plugins: [
      {
        name: "capture",
        setup(b) {
          b.onResolve({ filter: /^rnn-wasm/ }, async (args) => {
            if (args.pluginData === "inner") return undefined;
            const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "inner" });
            if (r.errors.length) throw new Error(r.errors.map((e) => e.text).join("; "));
            found = r.path;
            return { path: r.path, external: true };
          });
        },
      },
    ],
  });
  if (!found) throw new Error(`could not resolve ${specifier} from ${dir} with conditions ${conditions.join(",")}`);
  return found;
}

/** The probe compiled to a plain ES module (written into `dir` as probe.mjs). */
export async function writeProbeModule(dir: string): Promise<string> {
  const out = join(dir, "probe.mjs");
  await esbuild.build({ entryPoints: [PROBE_SOURCE], outfile: out, format: "esm", target: "es2022", bundle: true, logLevel: "warning" });
  return out;
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion; kills it (whole process group) after `timeoutMs`. */
export function runProcess(cmd: string, args: string[], opts: SpawnOptions & { timeoutMs: number }): Promise<RunResult> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      killTree(child);
      rej(new Error(`${cmd} ${args.join(" ")} did not finish within ${opts.timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, opts.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      rej(new Error(`could not start ${cmd}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** A long-running child (a server) whose output is kept for failure messages. */
export class ServerProcess {
  readonly child: ChildProcess;
  output = "";
  exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(cmd: string, args: string[], opts: SpawnOptions) {
    this.child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.child.on("exit", (code, signal) => (this.exited = { code, signal }));
    this.child.on("error", (e) => {
      this.output += `\nspawn error: ${e.message}`;
      this.exited = { code: -1, signal: null };
    });
  }

  /** Polls `url` until it answers (any status), the process exits, or `timeoutMs` passes. */
  async waitForHttp(url: string, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      if (this.exited) throw new Error(`server exited (${JSON.stringify(this.exited)}) before answering ${url}; output:\n${this.output}`);
      try {
        await fetch(url, { signal: AbortSignal.timeout(2000) });
        return performance.now() - t0;
      } catch {
        // not listening yet
      }
      if (performance.now() - t0 > timeoutMs) throw new Error(`no answer from ${url} within ${timeoutMs} ms; output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once("exit", () => r()));
    killTree(this.child, "SIGTERM");
    const timer = setTimeout(() => killTree(this.child, "SIGKILL"), 3000);
    await done;
    clearTimeout(timer);
  }
}

function killTree(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the process group (spawned detached)
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Probe cases without their bundles (what crosses into an engine as JSON). */
export function probeCases(cases: RuntimeCase[]): { name: string; inputs: RuntimeCase["inputs"]; texts?: string[] }[] {
  return cases.map((c) => ({ name: c.name, inputs: c.inputs, texts: c.texts }));
}

/** Node's answer: the same probe through the repository's source (vitest registers the Node entry). */
export function nodeReference(cases: RuntimeCase[]): Promise<ProbeResult> {
  return runProbe(api as unknown as ProbeApi, cases.map((c) => c.bundle), probeCases(cases));
}

function isRun(r: ProbeCaseResult["runs"][string] | undefined): r is ProbeRun {
  return r !== undefined && !("error" in r);
}

function closeOutputs(actual: ProbeOutput[], expected: ProbeOutput[], tol: Tolerance, context: string): number {
  expect(actual.length, `${context}: number of outputs`).toBe(expected.length);
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    const r = assertClose(actual[k], expected[k], tol, `${context}, output ${k}`);
    worst = Math.max(worst, r.maxAbs);
  }
  return worst;
}

export interface EngineSummary {
  engine: string;
  relaxedSupported: boolean;
  autoPicked: string[];
  /** Largest |engine - Node| per build, and |relaxed - baseline| inside the engine. */
  maxAbsVsNode: Record<string, number>;
  maxAbsRelaxedVsBaseline: number;
}

/**
 * Checks an engine's probe result against Node's: for each build the engine ran, outputs and
 * token ids equal Node's for that build (EXACT_F32: the same wasm bytes and JavaScript, so any
 * difference is an engine bug); relaxed vs baseline inside the engine within APPROX; "auto"
 * picked relaxed exactly when the engine validates relaxed SIMD and gives that build's
 * outputs; the two provoked errors are RnnWasmErrors with Node's codes and messages.
 */
export function checkAgainstNode(engine: string, got: ProbeResult, node: ProbeResult, cases: RuntimeCase[]): EngineSummary {
  const summary: EngineSummary = { engine, relaxedSupported: got.relaxedSupported, autoPicked: [], maxAbsVsNode: {}, maxAbsRelaxedVsBaseline: 0 };
  expect(got.cases.map((c) => c.name)).toEqual(cases.map((c) => c.name));
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const seed = `${c.origin}; ${describeSeed(rngFor(`runtimes/${c.name}`))}`;
    const e = got.cases[i];
    const n = node.cases[i];
    const ctx = `${engine}, model ${c.name} [${seed}]`;
    const builds = got.relaxedSupported ? ["baseline", "relaxed"] : ["baseline"];
    for (const b of builds) {
      const run = e.runs[b];
      if (!isRun(run)) throw new Error(`${ctx}: loading with simd "${b}" failed: ${JSON.stringify(run)}`);
      expect(run.build, `${ctx}: simd "${b}" ran the ${run.build} build`).toBe(b);
      const ref = n.runs[b];
      if (!isRun(ref)) continue; // Node without relaxed SIMD: only the in-engine comparison below
      const w = closeOutputs(run.outputs, ref.outputs, EXACT_F32, `${ctx}, ${b} build vs Node`);
      summary.maxAbsVsNode[b] = Math.max(summary.maxAbsVsNode[b] ?? 0, w);
      expect(run.textIds, `${ctx}: token ids of the texts`).toEqual(ref.textIds);
      if (ref.textOutputs) closeOutputs(run.textOutputs ?? [], ref.textOutputs, EXACT_F32, `${ctx}, ${b} build, texts vs Node`);
    }
    if (got.relaxedSupported) {
      const r = e.runs.relaxed as ProbeRun;
      const b = e.runs.baseline as ProbeRun;
      const w = closeOutputs(r.outputs, b.outputs, APPROX, `${ctx}, relaxed vs baseline build`);
      summary.maxAbsRelaxedVsBaseline = Math.max(summary.maxAbsRelaxedVsBaseline, w);
    } else {
      const r = e.runs.relaxed;
      expect(isRun(r), `${ctx}: simd "relaxed" must be refused by an engine without relaxed SIMD`).toBe(false);
      expect((r as { error: { code: string } }).error.code).toBe("E_WASM");
    }
    const auto = e.runs.auto;
    if (!isRun(auto)) throw new Error(`${ctx}: loading with simd "auto" failed: ${JSON.stringify(auto)}`);
    const picked = got.relaxedSupported ? "relaxed" : "baseline";
    expect(auto.build, `${ctx}: "auto" must pick the ${picked} build`).toBe(picked);
    expect(auto.outputs, `${ctx}: "auto" outputs equal the ${picked} build's`).toEqual((e.runs[picked] as ProbeRun).outputs);
    summary.autoPicked.push(auto.build);
    for (const key of ["badInput", "corruptBundle"] as const) {
      expect(e[key], `${ctx}: ${key} must throw`).not.toBeNull();
      expect(e[key]!.isRnnWasmError, `${ctx}: ${key} throws an RnnWasmError (${e[key]!.message})`).toBe(true);
      expect({ code: e[key]!.code, message: e[key]!.message }, `${ctx}: ${key}`).toEqual({ code: n[key]!.code, message: n[key]!.message });
    }
  }
  return summary;
}

/** One line per engine for the test log (the lead's report reads these). */
export function logSummary(s: EngineSummary, timings: Record<string, number>): void {
  const t = Object.entries(timings).map(([k, v]) => `${k} ${Math.round(v)} ms`).join(", ");
  console.log(
    `[runtimes] ${s.engine}: relaxed SIMD ${s.relaxedSupported ? "validated" : "absent"}, auto picked ${[...new Set(s.autoPicked)].join("/")}; ` +
      `max |engine-Node| ${JSON.stringify(s.maxAbsVsNode)}, max |relaxed-baseline| ${s.maxAbsRelaxedVsBaseline.toExponential(2)}; ${t}`,
  );
}

export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}
