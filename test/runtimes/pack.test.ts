/**
 * The two packages as users get them: `npm pack` of the runtime (the root, rnn-wasm) and of
 * the tools (tools/, rnn-wasm-tools), each installed with a plain `npm install` of the tarballs
 * in an empty folder.
 *
 * - rnn-wasm alone: no dependency of any kind in the installed tree (`npm ls`), under 1 MB on
 *   disk (`du`), no demo model; ESM import and CommonJS require predict what the repository
 *   predicts; `rnn-wasm/export` says which package to install; TypeScript types for both.
 * - with rnn-wasm-tools: the `rnn-wasm` command (`npx rnn-wasm`), `rnn-wasm/export` writing the
 *   repository's bytes with errors that are `instanceof RnnWasmError` of "rnn-wasm", and the
 *   demo models; the StockTwits model (trained on messages with no licence) ships in neither.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { rngFor } from "../util/prng.ts";
import { initTfjs, randomizeWeights, saveArtifacts } from "../util/tfjs.ts";
import type { ProbeResult } from "./engine/probe.ts";
import { BIN, ROOT, checkAgainstNode, cleanup, logSummary, nodeReference, packTarball, probeCases, runProcess, scratchDir, writeProbeModule } from "./harness.ts";
import { runtimeCases, type RuntimeCase } from "./models.ts";

/** Installed size budget of the runtime package (du, 1 KiB blocks). */
const RUNTIME_INSTALLED_KB = 1024;

const ESM = `
import * as api from "rnn-wasm";
import { exportBundle } from "rnn-wasm/export";
import { readFile } from "node:fs/promises";
import { runProbe } from "./probe.mjs";
const cases = JSON.parse(await readFile(new URL("./cases.json", import.meta.url), "utf8"));
const bundles = await Promise.all(cases.map((_, i) => readFile(new URL("./model-" + i + ".rnnb", import.meta.url)).then((b) => new Uint8Array(b))));
const result = await runProbe(api, bundles, cases);
const fromPath = await api.loadModel("./model-0.rnnb");
const exportError = await exportBundle("./tfjs/model.json").then(() => null, (e) => ({ code: e.code, message: e.message, typed: e instanceof api.RnnWasmError }));
console.log(JSON.stringify({ entry: import.meta.resolve("rnn-wasm"), exportEntry: import.meta.resolve("rnn-wasm/export"), result, fromPathInputs: fromPath.inputs, exportError }));
`;

const CJS = `
const api = require("rnn-wasm");
const { readFileSync } = require("node:fs");
(async () => {
  const { runProbe } = await import("./probe.mjs");
  const cases = JSON.parse(readFileSync(__dirname + "/cases.json", "utf8"));
  const bundles = cases.map((_, i) => new Uint8Array(readFileSync(__dirname + "/model-" + i + ".rnnb")));
  const result = await runProbe(api, bundles, cases);
  console.log(JSON.stringify({ entry: require.resolve("rnn-wasm"), result }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

const WITH_TOOLS = `
import { loadModel, RnnWasmError } from "rnn-wasm";
import { exportBundle } from "rnn-wasm/export";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
const exported = await exportBundle("./tfjs/model.json");
const missing = await exportBundle("./no-such/model.json").then(() => null, (e) => ({ code: e.code, typed: e instanceof RnnWasmError, error: e instanceof Error }));
const sineUrl = import.meta.resolve("rnn-wasm-tools/models/sine.rnnb");
const sine = await loadModel(new URL(sineUrl));
console.log(JSON.stringify({
  exported: Buffer.from(exported).toString("base64"),
  missing,
  sine: { path: fileURLToPath(sineUrl), exists: existsSync(new URL(sineUrl)), inputs: sine.inputs },
}));
`;

const TYPES_ESM = `
import { loadModel, RnnWasmError, type Model } from "rnn-wasm";
import { exportBundle } from "rnn-wasm/export";
export async function run(bytes: Uint8Array): Promise<number> {
  const model: Model = await loadModel(bytes, { simd: "baseline" });
  // @ts-expect-error simd is "auto" | "relaxed" | "baseline"
  await loadModel(bytes, { simd: "fast" });
  const out: Uint8Array = await exportBundle("model.json", { dtype: "f16" });
  // @ts-expect-error dtype is "f32" | "f16" | "int8"
  await exportBundle("model.json", { dtype: "f64" });
  const named = model.predict({ x: [[1]] }, { named: true });
  return model.inputs.length + out.length + Object.keys(named).length + (new RnnWasmError("E_IO", "x").code === "E_IO" ? 1 : 0);
}
`;

const TYPES_CJS = `
import { loadModel, type Model } from "rnn-wasm";
export async function run(bytes: Uint8Array): Promise<number> {
  const model: Model = await loadModel(bytes, { simd: "auto" });
  // @ts-expect-error simd is "auto" | "relaxed" | "baseline"
  await loadModel(bytes, { simd: 3 });
  return model.inputs.length;
}
`;

function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split("\n").pop()!) as T;
}

function tarListing(tarball: string): Set<string> {
  return new Set(execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean).map((l) => l.replace(/^package\//, "./")));
}

/** `npm install` of the tarballs in a fresh folder, as a user types it. */
function install(dir: string, tarballs: string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "rnn-wasm-consumer", private: true }, null, 2));
  const r = spawnSync("npm", ["install", ...tarballs, "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
  expect(r.status, `npm install failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
}

/** Installed size in KiB blocks, as `du -sk` reports it. */
const duKb = (path: string) => Number(execFileSync("du", ["-sk", path], { encoding: "utf8" }).split("\t")[0]);

describe("npm pack: the runtime and the tools, installed from their tarballs", () => {
  let tmp: string | undefined;
  let runtimeTgz = "";
  let toolsTgz = "";
  let alone = ""; // rnn-wasm installed alone
  let both = ""; // rnn-wasm and rnn-wasm-tools
  let cases: RuntimeCase[];
  let node: ProbeResult;
  let tfjsDir = "";
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    cases = await runtimeCases();
    node = await nodeReference(cases);
    tmp = scratchDir("pack");
    // a small tfjs model on disk for rnn-wasm/export (model.json + weights.bin)
    const tf = await initTfjs();
    const m = tf.sequential();
    m.add(tf.layers.lstm({ units: 5, inputShape: [4, 3] }));
    m.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    randomizeWeights(m, rngFor("runtimes/pack-export"));
    const art = await saveArtifacts(m);
    m.dispose();
    tfjsDir = join(tmp, "tfjs");
    mkdirSync(tfjsDir);
    writeFileSync(join(tfjsDir, "model.json"), JSON.stringify(art.modelJson));
    writeFileSync(join(tfjsDir, "weights.bin"), new Uint8Array(art.weights as ArrayBuffer));
    const t0 = performance.now();
    runtimeTgz = packTarball(tmp);
    toolsTgz = packTarball(tmp, "tools");
    timings.pack = performance.now() - t0;
  });
  afterAll(() => cleanup(tmp));

  const withModelFiles = (app: string) => {
    mkdirSync(join(app, "tfjs"), { recursive: true });
    for (const f of ["model.json", "weights.bin"]) writeFileSync(join(app, "tfjs", f), readFileSync(join(tfjsDir, f)));
  };

  it("the runtime tarball holds the entries, types, kernels and LICENSE, and no source, tool or model", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: unknown; main: string; types: string };
    const listing = tarListing(runtimeTgz);
    const targets = [...JSON.stringify(pkg.exports).match(/\.\/dist\/[^"]+/g)!, pkg.main, pkg.types];
    for (const t of targets) expect(listing.has(t), `${t} (named in "exports") is in the tarball`).toBe(true);
    for (const f of ["./dist/rnn-simd.wasm", "./dist/rnn-relaxed.wasm", "./package.json", "./LICENSE", "./README.md", "./dist/node.js.map"]) expect(listing.has(f), f).toBe(true);
    expect([...listing].filter((f) => /^\.\/(src|test|assembly|build|node_modules|tools|bench|models|examples)\//.test(f) || f.endsWith(".rnnb"))).toEqual([]);
    console.log(`[pack] ${runtimeTgz.replace(/^.*\//, "")}: ${readFileSync(runtimeTgz).byteLength} bytes, ${listing.size} entries`);
  });

  it("the tools tarball holds the bin, the CLI, the exporter, the shippable demo models and LICENSE", () => {
    const listing = tarListing(toolsTgz);
    for (const f of ["./bin/rnn-wasm.js", "./dist/cli.js", "./dist/export.js", "./dist/types/export.d.ts", "./dist/rnn-simd.wasm", "./dist/LICENSE", "./README.md"]) expect(listing.has(f), f).toBe(true);
    const models = [...listing].filter((f) => f.endsWith(".rnnb")).sort();
    expect(models).toEqual(["./dist/models/aesop-next-word.rnnb", "./dist/models/silero-vad-v5-16k.rnnb", "./dist/models/silero-vad-v5-8k.rnnb", "./dist/models/sine.rnnb", "./dist/models/uci-gru-sentiment.rnnb", "./dist/models/uci-sentiment.rnnb"]);
    expect([...listing].filter((f) => /^\.\/(src|test|cli|train|commands)\//.test(f) || /stocktwits/i.test(f))).toEqual([]);
  });

  it("rnn-wasm installs alone with no dependency of any kind, under 1 MB", () => {
    alone = join(tmp!, "alone");
    const t0 = performance.now();
    install(alone, [runtimeTgz]);
    timings.install = performance.now() - t0;
    expect(readdirSync(join(alone, "node_modules")).filter((f) => !f.startsWith(".")), "node_modules holds rnn-wasm alone").toEqual(["rnn-wasm"]);
    const ls = JSON.parse(execFileSync("npm", ["ls", "--all", "--json"], { cwd: alone, encoding: "utf8" })) as { dependencies: Record<string, { dependencies?: object }> };
    expect(Object.keys(ls.dependencies)).toEqual(["rnn-wasm"]);
    expect(ls.dependencies["rnn-wasm"].dependencies ?? {}).toEqual({});
    const installed = JSON.parse(readFileSync(join(alone, "node_modules/rnn-wasm/package.json"), "utf8")) as Record<string, unknown>;
    for (const field of ["dependencies", "optionalDependencies", "peerDependencies", "bundleDependencies", "bin"]) expect(installed[field], field).toBeUndefined();
    expect(execFileSync("npm", ["ls", "--all"], { cwd: alone, encoding: "utf8" })).not.toMatch(/UNMET|OPTIONAL|deduped/);
    const kb = duKb(join(alone, "node_modules"));
    console.log(`[pack] rnn-wasm installed alone: ${kb} KiB (du -sk node_modules), budget ${RUNTIME_INSTALLED_KB}`);
    expect(kb).toBeLessThan(RUNTIME_INSTALLED_KB);
  });

  it("ESM: import picks dist/node.js and predicts what the repository predicts; rnn-wasm/export names the package it needs", async () => {
    expect(alone, "the install test must pass first").not.toBe("");
    await writeProbeModule(alone);
    writeFileSync(join(alone, "cases.json"), JSON.stringify(probeCases(cases)));
    cases.forEach((c, i) => writeFileSync(join(alone, `model-${i}.rnnb`), c.bundle));
    withModelFiles(alone);
    writeFileSync(join(alone, "esm.mjs"), ESM);
    const reference = await loadModel(cases[0].bundle);
    const expectedInputs = JSON.parse(JSON.stringify(reference.inputs));
    reference.dispose();
    // Node 20 validates relaxed SIMD only behind a flag: without it "auto" must fall back
    for (const flags of [[], ["--experimental-wasm-relaxed-simd"]]) {
      const r = await runProcess(process.execPath, [...flags, "esm.mjs"], { cwd: alone, timeoutMs: 60_000 });
      timings[`esm${flags.length ? "+relaxed" : ""}`] = r.ms;
      expect(r.code, `node ${flags.join(" ")} esm.mjs failed:\n${r.stderr}`).toBe(0);
      const out = lastJson<{ entry: string; exportEntry: string; result: ProbeResult; fromPathInputs: unknown; exportError: { code: string; message: string; typed: boolean } }>(r.stdout);
      expect(out.entry).toBe(pathToFileURL(join(alone, "node_modules/rnn-wasm/dist/node.js")).href);
      expect(out.exportEntry).toBe(pathToFileURL(join(alone, "node_modules/rnn-wasm/dist/export.js")).href);
      expect(out.result.relaxedSupported).toBe(flags.length > 0);
      logSummary(checkAgainstNode(`Node ${process.versions.node} ESM from the tarball ${flags.join(" ")}`.trim(), out.result, node, cases), timings);
      expect(out.fromPathInputs, "loadModel(path) through the Node file resolver").toEqual(expectedInputs);
      expect(out.exportError).toEqual({ code: "E_IO", typed: true, message: expect.stringMatching(/rnn-wasm\/export needs the rnn-wasm-tools package .*npm install rnn-wasm-tools$/) });
    }
  });

  it("CommonJS: require picks dist/node.cjs and predicts what the repository predicts", async () => {
    expect(alone, "the install test must pass first").not.toBe("");
    writeFileSync(join(alone, "cjs.cjs"), CJS);
    const r = await runProcess(process.execPath, ["cjs.cjs"], { cwd: alone, timeoutMs: 60_000 });
    timings.cjs = r.ms;
    expect(r.code, `node cjs.cjs failed:\n${r.stderr}`).toBe(0);
    const out = lastJson<{ entry: string; result: ProbeResult }>(r.stdout);
    expect(out.entry).toBe(join(alone, "node_modules/rnn-wasm/dist/node.cjs"));
    logSummary(checkAgainstNode(`Node ${process.versions.node} CommonJS from the tarball`, out.result, node, cases), { cjs: r.ms });
  });

  it("ships types that TypeScript resolves for ESM (.mts) and CommonJS (.cts) consumers, rnn-wasm/export's included", async () => {
    expect(alone, "the install test must pass first").not.toBe("");
    mkdirSync(join(alone, "ts"), { recursive: true });
    writeFileSync(join(alone, "ts", "esm.mts"), TYPES_ESM);
    writeFileSync(join(alone, "ts", "cjs.cts"), TYPES_CJS);
    writeFileSync(
      join(alone, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "node16", moduleResolution: "node16", target: "es2022", lib: ["es2022", "dom"], strict: true, noEmit: true, types: [], skipLibCheck: false },
        include: ["ts"],
      }),
    );
    const r = await runProcess(BIN("tsc"), ["-p", "tsconfig.json", "--listFiles"], { cwd: alone, timeoutMs: 120_000 });
    timings.tsc = r.ms;
    expect(r.code, `tsc failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const files = r.stdout.split("\n");
    expect(files).toContain(join(alone, "node_modules/rnn-wasm/dist/types/index.d.ts"));
    expect(files).toContain(join(alone, "node_modules/rnn-wasm/dist/types-cjs/index.d.ts"));
    expect(files).toContain(join(alone, "node_modules/rnn-wasm/dist/types/export-forward.d.ts"));
    console.log(`[pack] timings ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  it("with rnn-wasm-tools: npx rnn-wasm, rnn-wasm/export (the repository's bytes, typed errors) and the demo models", async () => {
    both = join(tmp!, "both");
    install(both, [runtimeTgz, toolsTgz]);
    console.log(`[pack] rnn-wasm + rnn-wasm-tools installed: ${duKb(join(both, "node_modules"))} KiB (du -sk node_modules)`);
    const npx = (args: string[]) => spawnSync("npx", ["--no-install", "rnn-wasm", ...args], { cwd: both, encoding: "utf8", timeout: 60_000 });
    const version = npx(["--version"]);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const inspect = npx(["inspect", "node_modules/rnn-wasm-tools/dist/models/uci-sentiment.rnnb", "--json"]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout).tokenizer.words).toBeGreaterThan(1000);
    const predict = npx(["predict", "node_modules/rnn-wasm-tools/dist/models/uci-sentiment.rnnb", "--text", "a wonderful film, I loved it"]);
    expect(predict.status, predict.stderr).toBe(0);
    expect(JSON.parse(predict.stdout)[0][0]).toBeGreaterThan(0.5);

    withModelFiles(both);
    writeFileSync(join(both, "with-tools.mjs"), WITH_TOOLS);
    const r = await runProcess(process.execPath, ["with-tools.mjs"], { cwd: both, timeoutMs: 60_000 });
    expect(r.code, `node with-tools.mjs failed:\n${r.stderr}`).toBe(0);
    const out = lastJson<{ exported: string; missing: unknown; sine: { path: string; exists: boolean; inputs: unknown } }>(r.stdout);
    const expectedExport = await exportBundle(join(both, "tfjs", "model.json"));
    expect(Buffer.from(out.exported, "base64").equals(Buffer.from(expectedExport)), "rnn-wasm/export bundle bytes equal the repository's").toBe(true);
    // an error the tools package's own copy of the class made is an RnnWasmError of the runtime
    expect(out.missing).toEqual({ code: "E_IO", typed: true, error: true });
    expect(out.sine.path).toBe(join(both, "node_modules/rnn-wasm-tools/dist/models/sine.rnnb"));
    expect(out.sine.exists).toBe(true);
  });
});
