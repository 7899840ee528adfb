#!/usr/bin/env node
// Benchmark entry: `node bench/run.mjs [--quick] [--models ...] [--modes ...] [--engines ...]`
// (`--help` lists the flags). Builds the peak-MAC/s wasm (bench/peak/build/, gitignored) when it
// is missing or older than its source, then runs the harness (bench/main.ts) through tsx.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const args = process.argv.slice(2);

function buildPeak() {
  const src = join(here, "peak", "peak.ts");
  const out = join(here, "peak", "build");
  mkdirSync(out, { recursive: true });
  const asc = join(root, "node_modules", ".bin", "asc");
  const targets = [
    { file: join(out, "peak-simd.wasm"), enable: ["--enable", "simd"] },
    { file: join(out, "peak-relaxed.wasm"), enable: ["--enable", "simd", "--enable", "relaxed-simd"] },
  ];
  for (const t of targets) {
    if (existsSync(t.file) && statSync(t.file).mtimeMs >= statSync(src).mtimeMs) continue;
    execFileSync(asc, [src, ...t.enable, "-O3", "--runtime", "stub", "-o", t.file], { cwd: root, stdio: "inherit" });
  }
}

if (!args.includes("--help") && !args.includes("--no-peak")) buildPeak();
const nodeFlags = ["--import", "tsx", ...(args.includes("--relaxed-flag") ? ["--experimental-wasm-relaxed-simd"] : [])];
const r = spawnSync(process.execPath, [...nodeFlags, join(here, "main.ts"), ...args], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
