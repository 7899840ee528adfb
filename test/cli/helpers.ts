/**
 * Runs the built bin (tools/dist/cli.js, rnn-wasm-tools' CLI) the way a user does: `node
 * tools/dist/cli.js <args>` in a child process, returning exit code, stdout and stderr.
 * `ensureCliBuilt` rebuilds (scripts/build.mjs) only when the CLI is missing or older than a
 * source it is built from, under a lock so parallel test files build once. Model fixtures are
 * tfjs models saved as model.json + weights.bin.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LayersModel } from "@tensorflow/tfjs";
import { type Artifacts, saveArtifacts } from "../util/tfjs.ts";
import { optionalData } from "../util/data.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(ROOT, "tools", "dist", "cli.js");

/** The Keras-written .h5 files (not redistributable: null when no data folder holds them). */
export function realKerasDir(neededFor: string): string | null {
  return optionalData("real-models/keras-h5", neededFor);
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (/\.(ts|mjs|js|json)$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function isFresh(): boolean {
  if (!existsSync(CLI) || !existsSync(join(ROOT, "tools", "dist", "rnn-simd.wasm")) || !existsSync(join(ROOT, "tools", "dist", "rnn-relaxed.wasm"))) return false;
  const built = statSync(CLI).mtimeMs;
  const sources = Math.max(newestMtime(join(ROOT, "tools", "cli")), newestMtime(join(ROOT, "src")), newestMtime(join(ROOT, "assembly")));
  return built >= sources;
}

/** Builds when tools/dist/cli.js is stale. */
export function ensureCliBuilt(): void {
  if (isFresh()) return;
  // one lock per checkout (two clones build their own dist), taken over when a killed run left it
  const lock = join(ROOT, "build", ".cli-build.lock");
  mkdirSync(join(ROOT, "build"), { recursive: true });
  if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmdirSync(lock);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for 5 minutes; remove it if no build is running`);
      spawnSync("sleep", ["1"]);
      if (isFresh()) return;
    }
  }
  try {
    if (isFresh()) return;
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 5 * 60_000 });
    if (r.status !== 0 || !existsSync(CLI)) throw new Error(`the build failed or did not produce tools/dist/cli.js (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    env: { ...process.env, RNN_WASM_DEBUG: "", ...opts.env },
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts the contract of a failed command: one line on stderr with the code, no stack. */
export function errorLine(r: CliResult): string {
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${r.stderr}`);
  if (/\bat .*:\d+:\d+/.test(r.stderr)) throw new Error(`stack trace on stderr:\n${r.stderr}`);
  return lines[0];
}

/** Writes tfjs artifacts as `model.save('file://dir')` does: model.json and weights.bin. */
export function writeArtifacts(art: Artifacts, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const paths = art.modelJson.weightsManifest.flatMap((g) => g.paths);
  const shards = Array.isArray(art.weights) ? art.weights : [art.weights];
  if (paths.length !== shards.length) throw new Error(`writeArtifacts: ${paths.length} shard paths, ${shards.length} buffers`);
  paths.forEach((p, i) => writeFileSync(join(dir, p), new Uint8Array(shards[i])));
  writeFileSync(join(dir, "model.json"), JSON.stringify(art.modelJson));
  return join(dir, "model.json");
}

export async function saveModel(model: LayersModel, dir: string): Promise<string> {
  return writeArtifacts(await saveArtifacts(model), dir);
}

export function tempDir(label: string): string {
  const d = join(tmpdir(), `rnnwasm-cli-${label}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(d, { recursive: true });
  return d;
}
