/**
 * The README as a newcomer meets it. Its first commands are what CI runs (.ci/run) and npm
 * installs no dependency's script (.npmrc); every TypeScript block compiles under `strict`
 * where the packed packages are installed (rnn-wasm and rnn-wasm-tools from their tarballs)
 * and runs there, printing what its `// prints:` comments say. Python blocks are the Keras
 * side (not run here); `text` blocks are references, not code; every `rnn-wasm <command>` the
 * README names is a command the CLI has, with options it takes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ensureCliBuilt } from "../cli/helpers.ts";
import { BIN, ROOT, cleanup, packTarball, scratchDir } from "../runtimes/harness.ts";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const blocks = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2], line: README.slice(0, m.index).split("\n").length }));
const tsBlocks = blocks.filter((b) => b.lang === "ts");

describe("the README's commands", () => {
  it("every code block is TypeScript, shell, Python (the Keras side) or a text reference", () => {
    expect(blocks.filter((b) => !["ts", "sh", "python", "text"].includes(b.lang)).map((b) => `line ${b.line}: ${b.lang || "(none)"}`)).toEqual([]);
    expect(tsBlocks.length).toBeGreaterThanOrEqual(3);
  });

  it("the first commands are what .ci/run executes, verbatim, and npm runs no dependency's install script", () => {
    const first = blocks[0];
    expect(first.lang).toBe("sh");
    const commands = first.code.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
    expect(commands).toEqual(["npm ci && npm run demo", "npm test"]);
    const ci = readFileSync(join(ROOT, ".ci/run"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    const afterChromium = ci.slice(ci.indexOf("fi") + 1);
    expect(afterChromium).toEqual(commands);
    expect(ci.join("\n")).not.toMatch(/--ignore-scripts|--onnxruntime-node-install/);
    // what npm itself reads in the repository (the project .npmrc), not a flag to remember
    expect(execFileSync("npm", ["config", "get", "ignore-scripts"], { cwd: ROOT, encoding: "utf8" }).trim()).toBe("true");
  });

  it("npm run demo's program runs the shipped models; its streaming ends on predict's score", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "tools/demo.mjs")], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('"had a general" -> "council to consider what measures they could take');
    const streamed = r.stdout.split("\n").filter((l) => l.trim().startsWith("streaming "));
    expect(streamed).toHaveLength(2);
    for (const l of streamed) expect(l).toMatch(/the last equals predict: true\)$/);
  });

  it("every `rnn-wasm <command> --option` it names is a command and an option of the CLI", () => {
    ensureCliBuilt();
    const used = new Map<string, Set<string>>();
    for (const m of README.matchAll(/rnn-wasm (export|upgrade|inspect|predict|generate|bench|train|[a-z]+)\b([^\n`]*)/g)) {
      if (["is", "and", "as", "to", "from", "in", "runs", "the", "repository", "export`", "command", "cannot"].includes(m[1])) continue;
      const opts = used.get(m[1]) ?? new Set<string>();
      for (const o of m[2].matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)) opts.add(o[1]);
      used.set(m[1], opts);
    }
    expect(used.size).toBeGreaterThanOrEqual(6);
    for (const [cmd, opts] of used) {
      const help = spawnSync(process.execPath, [CLI, cmd, "--help"], { encoding: "utf8" });
      expect(help.status, `rnn-wasm ${cmd} is a command:\n${help.stderr}`).toBe(0);
      for (const o of opts) expect(help.stdout, `rnn-wasm ${cmd} takes ${o}`).toContain(o);
    }
  });
});

describe("the README's TypeScript, compiled under strict and run where the packages are installed", () => {
  let dir: string | undefined;

  beforeAll(() => {
    dir = scratchDir("readme");
    const tarballs = [packTarball(dir), packTarball(dir, "tools")];
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "readme-reader", private: true, type: "module" }));
    const r = spawnSync("npm", ["install", ...tarballs, "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
    expect(r.status, `npm install failed:\n${r.stderr}`).toBe(0);
    // what a reader of the Export block has installed already: tfjs (and Node's types for tsc)
    mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
    symlinkSync(join(ROOT, "node_modules/@tensorflow"), join(dir, "node_modules/@tensorflow"));
    symlinkSync(join(ROOT, "node_modules/@types/node"), join(dir, "node_modules/@types/node"));
    tsBlocks.forEach((b, i) => writeFileSync(join(dir!, `block-${i}.mts`), b.code));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], strict: true, noEmit: true, types: ["node"], skipLibCheck: true }, include: ["*.mts"] }),
    );
  }, 400_000);
  afterAll(() => cleanup(dir));

  it("every block compiles with tsc --strict", () => {
    const r = spawnSync(BIN("tsc"), ["-p", "tsconfig.json"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.status, `tsc --strict on the README's blocks:\n${r.stdout}${r.stderr}`).toBe(0);
  });

  it.each(tsBlocks.map((b, i) => [i, b.line] as const))("block %i (README line %i) runs and prints what it says", async (i) => {
    const code = tsBlocks[i].code;
    const js = (await esbuild.transform(code, { loader: "ts", format: "esm", target: "es2022" })).code;
    writeFileSync(join(dir!, `block-${i}.mjs`), js);
    const r = spawnSync(process.execPath, [`block-${i}.mjs`], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.status, `block ${i} failed:\n${r.stderr}`).toBe(0);
    const printed = r.stdout.split("\n");
    const promised = [...code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1].trim());
    expect(promised.length, "the block says what it prints").toBeGreaterThan(0);
    let at = 0;
    for (const p of promised) {
      const found = printed.indexOf(p, at);
      expect(found, `block ${i} prints ${JSON.stringify(p)} (in order); it printed:\n${r.stdout}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});
