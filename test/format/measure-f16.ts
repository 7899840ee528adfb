/**
 * Measurements behind docs/bundle-format.md (not a test; prints a report):
 *
 *   npx tsx test/format/measure-f16.ts
 *
 * 1. Load time of a ~1 MB f16 bundle and of the same model as f32: loadModel(bytes), and its
 *    parts (CRC-32, header parse and validation, widening the halves).
 * 2. The output error f16 storage introduces: f16 bundle vs f32 bundle, same inputs, on the
 *    whole seeded parity matrix and on the real models (test/data/README.md says where each comes from).
 */
import "../../src/node.ts";
import { performance } from "node:perf_hooks";
import { exportBundle } from "../../src/export.ts";
import { crc32 } from "../../src/format/crc32.ts";
import { halvesToFloats } from "../../src/format/half.ts";
import { readBundle } from "../../src/format/reader.ts";
import { loadModel } from "../../src/index.ts";
import { parityCases } from "../util/cases.ts";
import { copyArtifacts, prepareCase } from "../util/harness.ts";
import { rngFor } from "../util/prng.ts";
import { initTfjs, randomizeWeights, saveArtifacts, withCheapInitializers } from "../util/tfjs.ts";
import { requireData } from "../../tools/train/data.ts";

const real = (rel: string) => requireData(`real-models/${rel}`, "a real model measure-f16 reads");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function time(fn: () => unknown | Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

type T = { data: Float32Array | Int32Array; shape: number[] };
const list = (y: T | T[]) => (Array.isArray(y) ? y : [y]);

function maxAbsDiff(a: T[], b: T[]): { abs: number; scale: number } {
  let abs = 0;
  let scale = 0;
  a.forEach((t, i) => {
    for (let k = 0; k < t.data.length; k++) {
      abs = Math.max(abs, Math.abs(t.data[k] - b[i].data[k]));
      scale = Math.max(scale, Math.abs(b[i].data[k]));
    }
  });
  return { abs, scale };
}

async function loadTimes(): Promise<void> {
  const tf = withCheapInitializers(await initTfjs());
  // LSTM(320) on 80 features + Dense(10): 513,280 + 3,210 parameters -> ~1 MB as f16
  const m = tf.sequential({ layers: [tf.layers.lstm({ units: 320, inputShape: [null, 80] }), tf.layers.dense({ units: 10 })] });
  randomizeWeights(m, rngFor("measure load"));
  const art = await saveArtifacts(m);
  const f32 = await exportBundle(copyArtifacts(art), { dtype: "f32" });
  const f16 = await exportBundle(copyArtifacts(art), { dtype: "f16" });
  const N = 40;
  console.log(`## load time (median of ${N}; ${m.countParams().toLocaleString("en-US")} parameters)`);
  console.log("| bundle | bytes | loadModel | readBundle (CRC + parse + validate + widen) | CRC-32 alone | widening alone |");
  console.log("|---|---|---|---|---|---|");
  for (const [name, bytes] of [["f32", f32], ["f16", f16]] as const) {
    const load = await time(async () => (await loadModel(bytes)).dispose(), N);
    const read = await time(() => readBundle(bytes), N);
    const crc = await time(() => crc32(bytes.subarray(0, bytes.length - 4)), N);
    let widen = 0;
    if (name === "f16") {
      const halves = new Uint16Array(bytes.length >> 1);
      const out = new Float32Array(halves.length);
      widen = await time(() => halvesToFloats(halves, out), N);
    }
    console.log(`| ${name} | ${bytes.length.toLocaleString("en-US")} | ${load.toFixed(2)} ms | ${read.toFixed(2)} ms | ${crc.toFixed(2)} ms | ${name === "f16" ? `${widen.toFixed(2)} ms` : "—"} |`);
  }
}

async function parityErrors(): Promise<void> {
  const rows: { id: string; abs: number; scale: number }[] = [];
  for (const c of parityCases()) {
    const p = await prepareCase(c);
    const m32 = await loadModel(await exportBundle(copyArtifacts(p.artifacts), { dtype: "f32" }));
    const m16 = await loadModel(await exportBundle(copyArtifacts(p.artifacts), { dtype: "f16" }));
    let worst = { abs: 0, scale: 0 };
    for (const run of c.runs) {
      const { inputs } = p.expected(run);
      const x = inputs.length === 1 ? inputs[0] : inputs;
      const d = maxAbsDiff(list(m16.predict(x)), list(m32.predict(x)));
      if (d.abs > worst.abs) worst = d;
    }
    rows.push({ id: c.id, ...worst });
    m32.dispose();
    m16.dispose();
    p.dispose();
  }
  const abs = rows.map((r) => r.abs).sort((a, b) => a - b);
  const q = (f: number) => abs[Math.min(abs.length - 1, Math.floor(f * abs.length))];
  console.log(`\n## f16 vs f32 outputs over the ${rows.length} parity cases (per case: max abs difference over its runs)`);
  console.log(`median ${q(0.5).toExponential(2)}, 90th percentile ${q(0.9).toExponential(2)}, max ${abs[abs.length - 1].toExponential(2)}`);
  for (const r of rows.sort((a, b) => b.abs - a.abs).slice(0, 5)) console.log(`  ${r.abs.toExponential(2)} (outputs up to ${r.scale.toFixed(2)}): ${r.id}`);
}

async function realModelErrors(): Promise<void> {
  console.log("\n## f16 vs f32 outputs on the real models (seeded inputs, batch 8)");
  console.log("| model | parameters | f32 bundle | f16 bundle | max abs difference | largest output |");
  console.log("|---|---|---|---|---|---|");
  const rng = rngFor("measure real models");
  const models: [string, string, (r: typeof rng) => T][] = [
    ["keras224_imdb_lstm.h5", real("keras-h5/keras224_imdb_lstm.h5"), (r) => ({ data: Int32Array.from({ length: 800 }, () => r.int(1, 1000)), shape: [8, 100] })],
    ["keras224_imdb_gru_reset_after_false.h5", real("keras-h5/keras224_imdb_gru_reset_after_false.h5"), (r) => ({ data: Int32Array.from({ length: 800 }, () => r.int(1, 1000)), shape: [8, 100] })],
    ["tfkeras_imdb_lstm.h5", real("keras-h5/tfkeras_imdb_lstm.h5"), (r) => ({ data: Int32Array.from({ length: 800 }, () => r.int(1, 1000)), shape: [8, 100] })],
    ["tfjs-foulshot-gru", real("tfjs-foulshot-gru/model.json"), (r) => ({ data: r.float32Array(8 * 32 * 6, (g) => g.normal(0, 1)), shape: [8, 32, 6] })],
    ["tfjs-foulshot-simple-lstm", real("tfjs-foulshot-simple-lstm/model.json"), (r) => ({ data: r.float32Array(8 * 32 * 6, (g) => g.normal(0, 1)), shape: [8, 32, 6] })],
    ["tfjs-nietzsche-lstm", real("tfjs-nietzsche-lstm/model.json"), (r) => {
      const d = new Float32Array(8 * 40 * 57);
      for (let i = 0; i < 8 * 40; i++) d[i * 57 + r.int(0, 57)] = 1;
      return { data: d, shape: [8, 40, 57] };
    }],
  ];
  for (const [name, path, input] of models) {
    const b32 = await exportBundle(path, { dtype: "f32" });
    const b16 = await exportBundle(path, { dtype: "f16" });
    const m32 = await loadModel(b32);
    const m16 = await loadModel(b16);
    const params = m32.spec.weights.reduce((a, w) => a + w.params, 0);
    const x = input(rng.fork(name));
    const d = maxAbsDiff(list(m16.predict(x)), list(m32.predict(x)));
    console.log(`| ${name} | ${params.toLocaleString("en-US")} | ${b32.length.toLocaleString("en-US")} | ${b16.length.toLocaleString("en-US")} | ${d.abs.toExponential(2)} | ${d.scale.toFixed(3)} |`);
    m32.dispose();
    m16.dispose();
  }
}

await loadTimes();
await realModelErrors();
await parityErrors();
