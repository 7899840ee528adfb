/**
 * `npm pack`, then `npm install <tarball>` into a fresh folder holding nothing but the tarball,
 * then the package used from that folder: ESM import and CommonJS require (Node's own resolver
 * picks the entry), `rnn-wasm/export` writing the same bundle bytes as the repository, and
 * TypeScript types for both module systems. Outputs must equal the repository's in Node.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

const ESM = `
import * as api from "rnn-wasm";
import { exportBundle } from "rnn-wasm/export";
import { readFile } from "node:fs/promises";
import { runProbe } from "./probe.mjs";
const cases = JSON.parse(await readFile(new URL("./cases.json", import.meta.url), "utf8"));
const bundles = await Promise.all(cases.map((_, i) => readFile(new URL("./model-" + i + ".rnnb", import.meta.url)).then((b) => new Uint8Array(b))));
const result = await runProbe(api, bundles, cases);
const exported = await exportBundle("./tfjs/model.json");
const fromPath = await api.loadModel("./model-0.rnnb");
console.log(JSON.stringify({
  entry: import.meta.resolve("rnn-wasm"),
  exportEntry: import.meta.resolve("rnn-wasm/export"),
  result,
  exported: Buffer.from(exported).toString("base64"),
  fromPathInputs: fromPath.inputs,
}));
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

const TYPES_ESM = `
import { loadModel, RnnWasmError, type Model } from "rnn-wasm";
import { exportBundle } from "rnn-wasm/export";
export async function run(bytes: Uint8Array): Promise<number> {
  const model: Model = await loadModel(bytes, { simd: "baseline" });
  // @ts-expect-error simd is "auto" | "relaxed" | "baseline"
  await loadModel(bytes, { simd: "fast" });
  const out: Uint8Array = await exportBundle("model.json");
  return model.inputs.length + out.length + (new RnnWasmError("E_IO", "x").code === "E_IO" ? 1 : 0);
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

describe("npm pack installs and works from a fresh folder", () => {
  let tmp: string | undefined;
  let app = "";
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
  });
  afterAll(() => cleanup(tmp));

  it("packs the entries, types and kernel builds, and nothing from the source tree", () => {
    let t0 = performance.now();
    const tarball = packTarball(tmp!);
    timings.pack = performance.now() - t0;
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: unknown; main: string; types: string };
    const targets = [...JSON.stringify(pkg.exports).match(/\.\/dist\/[^"]+/g)!, pkg.main, pkg.types];
    const tarList = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" });
    const listing = new Set(tarList.split("\n").filter(Boolean).map((l) => l.replace(/^package\//, "./")));
    for (const t of targets) expect(listing.has(t), `${t} (named in "exports") is in the tarball`).toBe(true);
    for (const f of ["./dist/rnn-simd.wasm", "./dist/rnn-relaxed.wasm", "./package.json"]) expect(listing.has(f), f).toBe(true);
    expect([...listing].filter((f) => /^\.\/(src|test|assembly|build|node_modules|tools|bench)\//.test(f))).toEqual([]);

    // install it where there is nothing but the tarball
    app = join(tmp!, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "rnn-wasm-consumer", private: true }, null, 2));
    t0 = performance.now();
    const install = spawnSync(
      "npm",
      ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--omit=optional", "--ignore-scripts", "--no-package-lock"],
      { cwd: app, encoding: "utf8", timeout: 180_000 },
    );
    timings.install = performance.now() - t0;
    expect(install.status, `npm install failed:\n${install.stderr}`).toBe(0);
    console.log(`[pack] ${tarball.replace(/^.*\//, "")}: ${readFileSync(tarball).byteLength} bytes, ${listing.size} entries; pack ${Math.round(timings.pack)} ms, install ${Math.round(timings.install)} ms`);
  });

  it("ESM: import picks dist/node.js, predicts what the repository predicts, and rnn-wasm/export writes the same bytes", async () => {
    expect(app, "the install test must pass first").not.toBe("");
    await writeProbeModule(app);
    writeFileSync(join(app, "cases.json"), JSON.stringify(probeCases(cases)));
    cases.forEach((c, i) => writeFileSync(join(app, `model-${i}.rnnb`), c.bundle));
    mkdirSync(join(app, "tfjs"), { recursive: true });
    for (const f of ["model.json", "weights.bin"]) writeFileSync(join(app, "tfjs", f), readFileSync(join(tfjsDir, f)));
    writeFileSync(join(app, "esm.mjs"), ESM);
    const expectedExport = await exportBundle(join(app, "tfjs", "model.json"));
    const reference = await loadModel(cases[0].bundle);
    const expectedInputs = JSON.parse(JSON.stringify(reference.inputs));
    reference.dispose();
    // Node 20 validates relaxed SIMD only behind a flag: without it "auto" must fall back
    for (const flags of [[], ["--experimental-wasm-relaxed-simd"]]) {
      const r = await runProcess(process.execPath, [...flags, "esm.mjs"], { cwd: app, timeoutMs: 60_000 });
      timings[`esm${flags.length ? "+relaxed" : ""}`] = r.ms;
      expect(r.code, `node ${flags.join(" ")} esm.mjs failed:\n${r.stderr}`).toBe(0);
      const out = lastJson<{ entry: string; exportEntry: string; result: ProbeResult; exported: string; fromPathInputs: unknown }>(r.stdout);
      expect(out.entry).toBe(pathToFileURL(join(app, "node_modules/rnn-wasm/dist/node.js")).href);
      expect(out.exportEntry).toBe(pathToFileURL(join(app, "node_modules/rnn-wasm/dist/export.js")).href);
      expect(out.result.relaxedSupported).toBe(flags.length > 0);
      const s = checkAgainstNode(`Node ${process.versions.node} ESM from the tarball ${flags.join(" ")}`.trim(), out.result, node, cases);
      logSummary(s, timings);
      expect(Buffer.from(out.exported, "base64").equals(Buffer.from(expectedExport)), "rnn-wasm/export bundle bytes equal the repository's").toBe(true);
      expect(out.fromPathInputs, "loadModel(path) through the Node file resolver").toEqual(expectedInputs);
    }
  });

  it("CommonJS: require picks dist/node.cjs and predicts what the repository predicts", async () => {
    expect(app, "the install test must pass first").not.toBe("");
    writeFileSync(join(app, "cjs.cjs"), CJS);
    const r = await runProcess(process.execPath, ["cjs.cjs"], { cwd: app, timeoutMs: 60_000 });
    timings.cjs = r.ms;
    expect(r.code, `node cjs.cjs failed:\n${r.stderr}`).toBe(0);
    const out = lastJson<{ entry: string; result: ProbeResult }>(r.stdout);
    expect(out.entry).toBe(join(app, "node_modules/rnn-wasm/dist/node.cjs"));
    logSummary(checkAgainstNode(`Node ${process.versions.node} CommonJS from the tarball`, out.result, node, cases), { cjs: r.ms });
  });

  it("ships types that TypeScript resolves for ESM (.mts) and CommonJS (.cts) consumers", async () => {
    expect(app, "the install test must pass first").not.toBe("");
    mkdirSync(join(app, "ts"), { recursive: true });
    writeFileSync(join(app, "ts", "esm.mts"), TYPES_ESM);
    writeFileSync(join(app, "ts", "cjs.cts"), TYPES_CJS);
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], strict: true, noEmit: true, types: [], skipLibCheck: false },
        include: ["ts"],
      }),
    );
    const r = await runProcess(BIN("tsc"), ["-p", "tsconfig.json", "--listFiles"], { cwd: app, timeoutMs: 120_000 });
    timings.tsc = r.ms;
    expect(r.code, `tsc failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const files = r.stdout.split("\n");
    expect(files).toContain(join(app, "node_modules/rnn-wasm/dist/types/node.d.ts"));
    expect(files).toContain(join(app, "node_modules/rnn-wasm/dist/types-cjs/node.d.ts"));
    expect(files).toContain(join(app, "node_modules/rnn-wasm/dist/types/export.d.ts"));
    console.log(`[pack] timings ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });
});
