/**
 * The command as users start it after a build: `npx rnn-wasm` in the repository (the npm
 * workspace links rnn-wasm-tools' bin), through the committed launcher, which no build
 * rewrites (its executable bit is git's); the built CLI is executable too; and a build with
 * --if-stale (npm run demo) does nothing when the outputs are newer than their sources.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, ensureCliBuilt, ROOT } from "./helpers.ts";

beforeAll(() => ensureCliBuilt(), 600_000);

describe("the rnn-wasm bin", () => {
  it("npx rnn-wasm runs in the repository after a build", () => {
    const r = spawnSync("npx", ["--no-install", "rnn-wasm", "--version"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(execFileSync("git", ["show", "HEAD:tools/package.json"], { cwd: ROOT, encoding: "utf8" })).version);
  });

  it("the launcher is committed executable and the built CLI is executable", () => {
    expect(execFileSync("git", ["ls-files", "-s", "tools/bin/rnn-wasm.js"], { cwd: ROOT, encoding: "utf8" })).toMatch(/^100755 /);
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    expect(statSync(join(ROOT, "tools/bin/rnn-wasm.js")).mode & 0o111).toBe(0o111);
  });

  it("build --if-stale builds at most once: a second run does nothing and says so", () => {
    const build = () => execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "--if-stale"], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    const first = build(); // builds (saying each step) only if a source is newer than the outputs
    if (!/nothing to do/.test(first)) expect(first).toMatch(/^build: kernels: AssemblyScript/m);
    const before = statSync(CLI).mtimeMs;
    expect(build()).toMatch(/^build: dist\/ and tools\/dist\/ are newer than their sources: nothing to do/m);
    expect(statSync(CLI).mtimeMs).toBe(before);
  });
});
