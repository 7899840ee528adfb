/**
 * The Node entry, ESM and CommonJS alike, is two modules (scripts/eager-lazy.mjs): dist/node.js
 * (node.cjs) holds what a bundle load + predict + session need, dist/node-lazy.js (.cjs) the
 * optional parts (tfjs model.json import, model builder, tokenizer, generation, standalone
 * cells), which read the entry's own modules instead of carrying copies. Checked in fresh Node
 * processes on dist/ as `npm run build` left it.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { NIETZSCHE_DIR } from "../util/real-models.ts";
import { cleanup, ROOT, runProcess, scratchDir } from "./harness.ts";

/** What a cold start parses before the first model (~0.07 ms per KB on this VM). */
/**
 * What a cold start parses before the first model (~0.07 ms per KB on this VM): the browser
 * runtime's budget plus Node's bounded file readers (docs/ARCHITECTURE.md, "Runtime JS budget").
 */
const NODE_EAGER_BUDGET = 40 * 1024;

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const staticImports = (src: string) => [...src.matchAll(/(?:^|[;}\s])import\s*(?:[\w${},*\s]+from\s*)?"([^"]+)"/g)].map((m) => m[1]);
const dynamicImports = (src: string) => [...src.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);

let dir: string | undefined;
let bundlePath = "";

beforeAll(async () => {
  dir = scratchDir("node-entry");
  // float features in, 3 values out: nothing about it looks like a token model, so loading it
  // touches no optional part (a token model prefetches generation)
  await tf.setBackend("cpu");
  const model = tf.sequential({
    layers: [tf.layers.lstm({ units: 8, inputShape: [null, 5], recurrentInitializer: "glorotUniform" }), tf.layers.dense({ units: 3 })],
  });
  const bytes = await exportBundle(model);
  model.dispose();
  bundlePath = join(dir, "lstm-features.rnnb");
  writeFileSync(bundlePath, bytes);
}, 60_000);
afterAll(() => cleanup(dir));

async function runScript(name: string, source: string, cwd: string): Promise<Record<string, unknown>> {
  writeFileSync(join(cwd, name), source);
  const r = await runProcess(process.execPath, [name], { cwd, timeoutMs: 60_000 });
  expect(r.code, `node ${name} failed:\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

/** ESM (`import`) and CommonJS (`require`) builds of the Node entry: same layout, own files. */
const FORMATS = [
  // each builtin's ESM facade costs a cold start: path and url load with the file resolver
  { label: "ESM", ext: ".js", eagerStatic: ["node:fs/promises"], lazyStatic: ["./node.js"] },
  // the CJS build defines import.meta.url from __filename through node:url (a banner line)
  { label: "CommonJS", ext: ".cjs", eagerStatic: ["node:url", "node:fs/promises"], lazyStatic: ["node:url", "./node.cjs"] },
];
const requires = (src: string) => [...src.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);

describe.each(FORMATS)("Node $label entry: one eager module, one lazy module", ({ label, ext, eagerStatic, lazyStatic }) => {
  const entryFile = `node${ext}`;
  const lazyFile = `node-lazy${ext}`;
  const eager = readFileSync(join(ROOT, "dist", entryFile), "utf8");
  const lazy = readFileSync(join(ROOT, "dist", lazyFile), "utf8");
  const cjs = ext === ".cjs";
  // a script in the format under test: `load(spec)` gives the module namespace
  const script = (body: string) =>
    cjs
      ? `const load = async (p) => require(p);\n(async () => {\n${body}\n})().catch((e) => { console.error(e); process.exit(1); });`
      : `const load = (p) => import(p);\n${body}`;
  const scriptName = (base: string) => `${base}${cjs ? ".cjs" : ".mjs"}`;

  it(`dist/${entryFile} loads only Node builtins up front, reaches the optional parts only through ./${lazyFile}, and stays <= ${NODE_EAGER_BUDGET} bytes`, () => {
    const bytes = Buffer.byteLength(eager);
    console.log(`[size] dist/${entryFile}: ${bytes} bytes parsed on load; dist/${lazyFile}: ${Buffer.byteLength(lazy)} bytes on demand`);
    expect(cjs ? requires(eager) : staticImports(eager)).toEqual(eagerStatic);
    expect(new Set(dynamicImports(eager).filter((p) => !builtins.has(p)))).toEqual(new Set([`./${lazyFile}`]));
    expect(bytes).toBeLessThanOrEqual(NODE_EAGER_BUDGET);
  });

  it(`dist/${lazyFile} loads nothing but the entry: errors, kernels and the loader are the entry's own`, () => {
    expect(new Set(cjs ? requires(lazy) : staticImports(lazy))).toEqual(new Set(lazyStatic));
    expect(dynamicImports(lazy)).toEqual([]);
    // a second RnnWasmError class would break `instanceof` for errors from the optional parts
    expect(lazy.includes('"RnnWasmError"')).toBe(false);
  });

  it(`a bundle loads, predicts and streams with ${lazyFile} absent; the first optional part asks for it`, async () => {
    const app = join(dir!, `eager-only-${label}`);
    mkdirSync(app);
    for (const f of [entryFile, "rnn-simd.wasm", "rnn-relaxed.wasm"]) copyFileSync(join(ROOT, "dist", f), join(app, f));
    const out = await runScript(
      scriptName("eager"),
      script(`const { readFileSync } = await load("node:fs");
const { loadModel } = await load(${JSON.stringify(join(app, entryFile))});
const m = await loadModel(readFileSync(${JSON.stringify(bundlePath)}));
const F = m.inputs[0].shape[2];
const x = { data: new Float32Array(5 * F).map((_, i) => Math.sin(i)), shape: [1, 5, F] };
const y = m.predict(x);
const s = m.createSession();
let last;
for (let t = 0; t < 5; t++) last = s.step({ data: x.data.subarray(t * F, (t + 1) * F), shape: [1, F] });
let lazyError = null;
try { await loadModel({ modelJson: {}, weights: [] }); } catch (e) { lazyError = { code: e.code, message: String(e.message) }; }
console.log(JSON.stringify({ predict: Array.from(y.data), stream: Array.from(last.data), lazyError }));`),
      app,
    );
    const predict = out.predict as number[];
    expect(predict.length).toBe(3);
    expect(predict.every(Number.isFinite)).toBe(true);
    // the session fed the same five steps ends where predict ends (same kernels, same order)
    expect(out.stream).toEqual(predict);
    const err = out.lazyError as { code: string; message: string } | null;
    expect(err?.code).toBe("ERR_MODULE_NOT_FOUND");
    expect(err?.message).toContain(lazyFile);
  });

  it("every optional part works from dist/ and throws the entry's RnnWasmError", async () => {
    const out = await runScript(
      scriptName("lazy"),
      script(`const { loadModel, RnnWasmError, LstmCell, GruCell } = await load(${JSON.stringify(join(ROOT, "dist", entryFile))});
const kinds = {};
const errorOf = async (f) => { try { await f(); return "no error"; } catch (e) { return e instanceof RnnWasmError ? e.code : "foreign: " + e?.constructor?.name + " " + e?.message; } };
// tfjs importer + model builder
const tfjs = await loadModel(${JSON.stringify(join(NIETZSCHE_DIR, "model.json"))});
kinds.tfjsOutputs = tfjs.outputs[0].shape;
kinds.tfjsError = await errorOf(() => loadModel({ modelJson: { modelTopology: {} }, weights: [] }));
// tokenizer + generation
const aesop = await loadModel(${JSON.stringify(join(ROOT, "models/aesop-next-word.rnnb"))});
kinds.generated = aesop.generate("the mice had", { steps: 3, temperature: 0 }).split(" ").length;
kinds.generateError = await errorOf(() => aesop.generate("the mice had", { steps: 0 }));
kinds.tokenizerError = await errorOf(() => aesop.tokenizer.decode([1e9]));
// standalone cells: the kernels come from the provider the entry registered
const cell = await LstmCell.create({ units: 2, kernel: new Float32Array(3 * 8).fill(0.1), recurrentKernel: new Float32Array(2 * 8).fill(0.1) });
const [h] = cell.call([[1, 2, 3]], [[[0, 0]], [[0, 0]]]);
kinds.cellH = Array.from(h.data).every(Number.isFinite);
kinds.cellError = await errorOf(() => GruCell.create({ units: 0, kernel: [] }));
console.log(JSON.stringify(kinds));`),
      dir!,
    );
    expect(out.tfjsOutputs).toEqual([null, 57]);
    expect(out.generated).toBe(3);
    expect(out.cellH).toBe(true);
    expect({ tfjs: out.tfjsError, generate: out.generateError, tokenizer: out.tokenizerError, cell: out.cellError }).toEqual({
      tfjs: "E_MODEL_JSON",
      generate: "E_ARGUMENT",
      tokenizer: "E_TOKEN_RANGE",
      cell: "E_ARGUMENT",
    });
  });
});
