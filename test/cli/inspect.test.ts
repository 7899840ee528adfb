/**
 * `rnn-wasm inspect` parameter counts equal Keras'. Oracles: tfjs `countParams()` per layer and
 * for the model (tfjs-layers counts exactly as Keras does), and for GRU reset_after=true — which
 * tfjs cannot build — the figure Keras reports, 3 * (units * (in + units) + 2 * units) per
 * direction, as stated in the issue (Bidirectional(GRU(12)) on 30 features: 3168).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { LayersModel } from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toKerasStyle } from "../util/converter.ts";
import { rngFor } from "../util/prng.ts";
import { initTfjs, randomizeWeights, saveArtifacts, type Tf } from "../util/tfjs.ts";
import { ensureCliBuilt, errorLine, realKerasDir, runCli, saveModel, tempDir, writeArtifacts } from "./helpers.ts";

let tf: Tf;
let dir: string;

interface InspectDoc {
  name: string;
  layers: { name: string; type: string; outputShapes: (number | null)[][]; params: number; nonTrainableParams: number }[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  weightBytes: number;
  bundleBytes: number;
  dtype: string;
  checksum: string;
  inputs: { name: string; shape: (number | null)[]; dtype: string }[];
  outputs: { name: string; shape: (number | null)[] }[];
  metadata: Record<string, unknown>;
  tokenizer: Record<string, unknown> | null;
}

function inspectJson(path: string, extra: string[] = []): InspectDoc {
  const r = runCli(["inspect", path, "--json", ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as InspectDoc;
}

beforeAll(async () => {
  ensureCliBuilt();
  tf = await initTfjs();
  dir = tempDir("inspect");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Per-layer and total counts against tfjs; layers without weights and ops (Dropout) are not listed. */
function expectMatchesTfjs(doc: InspectDoc, model: LayersModel): void {
  expect(doc.totalParams).toBe(model.countParams());
  const nonTrainable = model.nonTrainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y as number), 1), 0);
  expect(doc.nonTrainableParams).toBe(nonTrainable);
  expect(doc.trainableParams).toBe(model.countParams() - nonTrainable);
  for (const layer of model.layers) {
    const row = doc.layers.find((l) => l.name === layer.name);
    const cls = layer.getClassName();
    if (cls === "Dropout") {
      expect(row, `Dropout ${layer.name} has no op`).toBeUndefined();
      continue;
    }
    expect(row, `layer ${layer.name} (${cls}) listed`).toBeDefined();
    expect(row!.params, `params of ${layer.name}`).toBe(layer.countParams());
    expect(row!.type.startsWith(cls), `type ${row!.type} vs tfjs ${cls}`).toBe(true);
    const shapes = (Array.isArray(layer.outputShape[0]) || layer.outputShape[0] === undefined ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    expect(row!.outputShapes, `output shape of ${layer.name}`).toEqual(shapes);
  }
}

describe("inspect: parameter counts equal Keras/tfjs", () => {
  it("Bidirectional(LSTM(12)) on 30 features: 4128", async () => {
    const m = tf.sequential({ layers: [tf.layers.bidirectional({ name: "bidirectional", layer: tf.layers.lstm({ name: "lstm", units: 12 }) as never, inputShape: [null, 30] } as never)] });
    const doc = inspectJson(await saveModel(m, join(dir, "bilstm")));
    expect(m.countParams()).toBe(4128);
    expect(doc.totalParams).toBe(4128);
    expect(doc.layers.map((l) => [l.name, l.type, l.params])).toEqual([["bidirectional", "Bidirectional(LSTM)", 4128]]);
    expect(doc.layers[0].outputShapes).toEqual([[null, 24]]);
    expectMatchesTfjs(doc, m);
  });

  it("Bidirectional(GRU(12)) reset_after=true on 30 features: 3168 (Keras' figure; tfjs cannot build it)", async () => {
    const m = tf.sequential({ layers: [tf.layers.bidirectional({ name: "bidirectional", layer: tf.layers.gru({ name: "gru", units: 12, recurrentActivation: "sigmoid" }) as never, inputShape: [null, 30] } as never)] });
    const rng = rngFor("inspect bigru reset_after");
    const art = toKerasStyle(await saveArtifacts(m), {
      patchLayer: (l) => {
        if (l.class_name === "Bidirectional") l.config.layer.config.reset_after = true;
      },
      patchWeight: (w) => (w.name.endsWith("/bias") ? { name: w.name, shape: [2, 36], data: rng.float32Array(72, (g) => g.uniform(-0.3, 0.3)) } : undefined),
    });
    const doc = inspectJson(writeArtifacts(art, join(dir, "bigru")));
    const keras = 2 * 3 * (12 * (30 + 12) + 2 * 12);
    expect(keras).toBe(3168);
    expect(doc.totalParams).toBe(keras);
    const bidi = doc.layers.find((l) => l.name === "bidirectional")!;
    expect([bidi.type, bidi.params]).toEqual(["Bidirectional(GRU)", 3168]);
    // the same layer with reset_after=false (tfjs' GRU) counts one bias per gate instead of two
    expect(m.countParams()).toBe(3168 - 2 * 3 * 12);
  });

  it("LSTM(64) on 3 features: 17408", async () => {
    const m = tf.sequential({ layers: [tf.layers.lstm({ name: "lstm", units: 64, recurrentInitializer: "glorotUniform", inputShape: [null, 3] })] });
    const doc = inspectJson(await saveModel(m, join(dir, "lstm64")));
    expect(m.countParams()).toBe(17408);
    expect(doc.totalParams).toBe(17408);
    expectMatchesTfjs(doc, m);
  });

  it("GRU(64) reset_after=false on 3 features: tfjs' count, 3 * (64 * 67 + 64)", async () => {
    const m = tf.sequential({ layers: [tf.layers.gru({ name: "gru", units: 64, recurrentActivation: "sigmoid", recurrentInitializer: "glorotUniform", inputShape: [null, 3] })] });
    // as Keras 2.6 writes it: explicit reset_after=false, weights under gru/gru_cell/...
    const art = toKerasStyle(await saveArtifacts(m), { patchLayer: (l) => l.class_name === "GRU" && (l.config.reset_after = false) });
    const doc = inspectJson(writeArtifacts(art, join(dir, "gru64")));
    expect(m.countParams()).toBe(3 * (64 * (3 + 64) + 64));
    expect(doc.totalParams).toBe(m.countParams());
    expect(doc.layers.find((l) => l.name === "gru")!.type).toBe("GRU");
  });

  it("BatchNormalization(F): 4F parameters, 2F of them non-trainable", async () => {
    const F = 7;
    const m = tf.sequential({
      layers: [
        tf.layers.lstm({ name: "lstm", units: F, returnSequences: true, inputShape: [null, 3] }),
        tf.layers.batchNormalization({ name: "batch_normalization" }),
        tf.layers.dense({ name: "dense", units: 2 }),
      ],
    });
    randomizeWeights(m, rngFor("inspect bn"));
    const doc = inspectJson(await saveModel(m, join(dir, "bn")));
    const bn = doc.layers.find((l) => l.name === "batch_normalization")!;
    expect([bn.type, bn.params, bn.nonTrainableParams]).toEqual(["BatchNormalization", 4 * F, 2 * F]);
    expect(doc.nonTrainableParams).toBe(2 * F);
    expectMatchesTfjs(doc, m);
  });

  it("a functional model: two inputs, shared Dense, Embedding, Bidirectional(merge_mode=null, return_state), Dropout, Concatenate", async () => {
    const ids = tf.input({ shape: [9], name: "ids", dtype: "int32" });
    const feats = tf.input({ shape: [9, 4], name: "feats" });
    const emb = tf.layers.embedding({ name: "embedding", inputDim: 50, outputDim: 6 }).apply(ids) as never;
    const shared = tf.layers.dense({ name: "shared", units: 5, activation: "tanh" });
    const a = shared.apply(emb) as never;
    const b = tf.layers.dense({ name: "proj", units: 6 }).apply(feats) as never;
    const b2 = shared.apply(b) as never;
    const cat = tf.layers.concatenate({ name: "concatenate" }).apply([a, b2]) as never;
    const drop = tf.layers.dropout({ name: "dropout", rate: 0.5 }).apply(cat) as never;
    const bi = tf.layers.bidirectional({ name: "bidirectional", mergeMode: null as never, layer: tf.layers.lstm({ name: "lstm", units: 4 }) as never } as never).apply(drop) as never[];
    const out = tf.layers.dense({ name: "head", units: 3, activation: "softmax" }).apply(bi[0]) as never;
    const m = tf.model({ inputs: [ids, feats], outputs: [out, bi[1]] });
    const doc = inspectJson(await saveModel(m, join(dir, "functional")));
    expectMatchesTfjs(doc, m);
    expect(doc.inputs).toEqual([{ name: "ids", shape: [null, 9], dtype: "int32" }, { name: "feats", shape: [null, 9, 4], dtype: "float32" }]);
    expect(doc.layers.find((l) => l.name === "bidirectional")!.outputShapes).toEqual([[null, 4], [null, 4]]);
  });

  const kerasDir = realKerasDir("inspect of the real Keras files (test/cli/inspect)");
  it.skipIf(!kerasDir)("the real Keras 2.2.4 imdb LSTM (.h5): Embedding(1000, 32) + LSTM(32) + Dense(1) by the Keras formulas", () => {
    const doc = inspectJson(join(kerasDir!, "keras224_imdb_lstm.h5"));
    const expected = [
      ["embedding_2", "Embedding", 1000 * 32],
      ["lstm_1", "LSTM", 4 * (32 * (32 + 32) + 32)],
      ["dense_2", "Dense", 32 + 1],
    ];
    expect(doc.layers.map((l) => [l.name, l.type, l.params])).toEqual(expected);
    expect(doc.totalParams).toBe(40353);
    expect(doc.dtype).toBe("f32");
  });

  it.skipIf(!kerasDir)("the real Keras 2.2.4 GRU (reset_after=false) .h5: GRU(32) on 32 features", () => {
    const doc = inspectJson(join(kerasDir!, "keras224_imdb_gru_reset_after_false.h5"));
    const gru = doc.layers.find((l) => l.type === "GRU")!;
    expect(gru.params).toBe(3 * (32 * (32 + 32) + 32));
  });
});

describe("inspect: sizes, checksum, text output", () => {
  it("a source model and its exported bundle report the same counts, bytes and checksum", async () => {
    const m = tf.sequential({ layers: [tf.layers.gru({ name: "gru", units: 10, inputShape: [null, 4] }), tf.layers.dense({ name: "dense", units: 2 })] });
    randomizeWeights(m, rngFor("inspect sizes"));
    const json = await saveModel(m, join(dir, "sizes"));
    for (const dtype of ["f32", "f16"]) {
      const out = join(dir, `sizes-${dtype}.rnnb`);
      const e = runCli(["export", json, "-o", out, "--dtype", dtype]);
      expect(e.code, e.stderr).toBe(0);
      const fromSource = inspectJson(json, ["--dtype", dtype]);
      const fromBundle = inspectJson(out);
      expect(fromBundle.totalParams).toBe(m.countParams());
      expect(fromBundle.dtype).toBe(dtype);
      expect(fromBundle.bundleBytes).toBe((await import("node:fs")).statSync(out).size);
      // the writer is deterministic: inspecting the source sizes and checksums the same bytes
      expect(fromSource.bundleBytes).toBe(fromBundle.bundleBytes);
      expect(fromSource.checksum).toBe(fromBundle.checksum);
      expect(fromBundle.checksum).toMatch(/^[0-9a-f]{8}$/);
      const { crc32 } = await import("node:zlib");
      const bytes = (await import("node:fs")).readFileSync(out);
      expect(fromBundle.checksum).toBe((crc32 as (b: Uint8Array) => number)(bytes.subarray(0, bytes.length - 4)).toString(16).padStart(8, "0"));
      expect(fromBundle.weightBytes).toBeGreaterThanOrEqual(m.countParams() * (dtype === "f32" ? 4 : 2));
    }
  });

  it("prints a Keras-style table with totals, bytes, dtype, checksum, metadata and tokenizer", async () => {
    const m = tf.sequential({ layers: [tf.layers.embedding({ name: "embedding", inputDim: 20, outputDim: 4, inputLength: 6 }), tf.layers.lstm({ name: "lstm", units: 3 })] });
    const json = await saveModel(m, join(dir, "table"));
    const fs = await import("node:fs");
    fs.writeFileSync(join(dir, "vocab.json"), JSON.stringify({ the: 1, cat: 2, sat: 3 }));
    fs.writeFileSync(join(dir, "meta.json"), JSON.stringify({ labels: ["neg", "pos"] }));
    const out = join(dir, "table.rnnb");
    expect(runCli(["export", json, "-o", out, "--tokenizer", join(dir, "vocab.json"), "--metadata", join(dir, "meta.json"), "--padding", "post"]).code).toBe(0);
    const r = runCli(["inspect", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(`Model: "${m.name}"`);
    expect(lines).toContainEqual(expect.stringMatching(/^Layer \(type\)\s+Output Shape\s+Param #$/));
    expect(lines).toContainEqual(expect.stringMatching(/^embedding \(Embedding\)\s+\(None, 6, 4\)\s+80$/));
    expect(lines).toContainEqual(expect.stringMatching(/^lstm \(LSTM\)\s+\(None, 3\)\s+96$/));
    expect(lines).toContain(`Total params: ${m.countParams()}`);
    expect(lines).toContain("Non-trainable params: 0");
    expect(r.stdout).toMatch(/^Dtype:\s+f32$/m);
    expect(r.stdout).toMatch(/^Checksum:\s+[0-9a-f]{8} \(CRC-32 of the bundle\)$/m);
    expect(r.stdout).toMatch(/^Bundle bytes:\s+[\d,]+ B/m);
    expect(r.stdout).toMatch(/^Metadata:\s+labels: \["neg","pos"\]$/m);
    expect(r.stdout).toMatch(/^Tokenizer:\s+3 words \(ids < 4\), words, max length 6, padding post, truncating pre, oov none, lower true$/m);
  });

  it("a damaged bundle: exit 1, E_BUNDLE_CORRUPT naming nothing but the problem, one line", async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ name: "dense", units: 2, inputShape: [3] })] });
    const json = await saveModel(m, join(dir, "damaged"));
    const out = join(dir, "damaged.rnnb");
    expect(runCli(["export", json, "-o", out]).code).toBe(0);
    const fs = await import("node:fs");
    const b = fs.readFileSync(out);
    b[b.length - 20] ^= 0x40;
    fs.writeFileSync(out, b);
    const r = runCli(["inspect", out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_BUNDLE_CORRUPT: .*checksum mismatch/);
  });
});
