/**
 * The test utilities checked on their own: seeded PRNG, comparison reports, the float16 and
 * affine quantisation writer, shard splitting, and the converter-style rewrite (which must load
 * in tfjs and predict exactly what the original model predicts).
 */
import { describe, expect, it } from "vitest";
import { ReferenceModel, decodeFloat16 } from "./index.ts";
import { F16_WEIGHTS, U8_WEIGHTS } from "../tolerance.ts";
import { compareArrays, assertClose } from "../util/compare.ts";
import { affineQuantize, encodeFloat16, readWeights, reencode, toKerasStyle } from "../util/converter.ts";
import { referenceOutputs } from "../util/harness.ts";
import { Rng, hashLabel, rngFor } from "../util/prng.ts";
import { makeInput } from "../util/cases.ts";
import { initTfjs, loadTfjsModel, randomizeWeights, saveArtifacts, tfjsPredict, withCheapInitializers } from "../util/tfjs.ts";

describe("prng", () => {
  it("is deterministic per label and differs between labels", () => {
    const a = rngFor("x");
    const b = rngFor("x");
    const c = rngFor("y");
    const va = Array.from({ length: 8 }, () => a.next());
    expect(Array.from({ length: 8 }, () => b.next())).toEqual(va);
    expect(Array.from({ length: 8 }, () => c.next())).not.toEqual(va);
    expect(va.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it("forks are independent of how much the parent has drawn", () => {
    const p = new Rng(hashLabel("parent"), "parent");
    const f1 = p.fork("child").next();
    for (let i = 0; i < 10; i++) p.next();
    expect(p.fork("child").next()).toBe(f1);
  });

  it("normal() has mean ~0 and variance ~1; nonZero() never returns 0", () => {
    const r = rngFor("moments");
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
    expect(Array.from({ length: 1000 }, () => r.nonZero(0.05, 0.5)).every((x) => Math.abs(x) >= 0.05)).toBe(true);
  });
});

describe("compare", () => {
  it("reports the worst element with its multi-dimensional index", () => {
    const tol = { name: "t", abs: 1e-3, rel: 0 };
    const r = compareArrays([0, 1, 2, 3, 4, 5.01], [0, 1, 2, 3, 4, 5], [2, 3], tol);
    expect(r.pass).toBe(false);
    expect(r.worstIndex).toEqual([1, 2]);
    expect(r.maxAbs).toBeCloseTo(0.01, 12);
    expect(() => assertClose({ data: [1, 2], shape: [2] }, { data: [1, 2], shape: [1, 2] }, tol, "shape")).toThrow(/shape mismatch/);
  });

  it("fails on NaN and passes equal infinities", () => {
    const tol = { name: "t", abs: 1, rel: 1 };
    expect(compareArrays([NaN], [0], [1], tol).pass).toBe(false);
    expect(compareArrays([0], [NaN], [1], tol).pass).toBe(false);
    expect(compareArrays([Infinity], [Infinity], [1], tol).pass).toBe(true);
  });
});

describe("quantisation writer", () => {
  it("encodeFloat16 rounds to nearest even and decodes back within half an ulp", () => {
    expect(encodeFloat16(1)).toBe(0x3c00);
    expect(encodeFloat16(-2)).toBe(0xc000);
    expect(encodeFloat16(65504)).toBe(0x7bff);
    expect(encodeFloat16(2 ** -24)).toBe(0x0001);
    expect(encodeFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(encodeFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    const r = rngFor("f16 roundtrip");
    for (let i = 0; i < 5000; i++) {
      const v = Math.fround(r.normal(0, 3));
      const back = decodeFloat16(encodeFloat16(v));
      const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(v), 2 ** -14))) - 10);
      expect(Math.abs(back - v)).toBeLessThanOrEqual(ulp / 2);
    }
  });

  it("affine uint8: zero is exact and every value moves by at most scale/2", () => {
    const r = rngFor("u8");
    const data = r.float32Array(257, (g) => g.uniform(-0.7, 1.3));
    const { q, min, scale } = affineQuantize(data, "uint8");
    expect(Math.round(-min / scale) * scale + min).toBeCloseTo(0, 12);
    data.forEach((v, i) => expect(Math.abs(q[i] * scale + min - v)).toBeLessThanOrEqual(scale / 2 + 1e-7));
  });

  it("shards split the bytes anywhere and concatenate back; quantised models stay near the original", async () => {
    const tf = withCheapInitializers(await initTfjs());
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: 21, outputDim: 5 }));
    m.add(tf.layers.lstm({ units: 6, returnSequences: true }));
    m.add(tf.layers.dense({ units: 3, activation: "softmax" }));
    const rng = rngFor("shards");
    randomizeWeights(m, rng);
    const art = await saveArtifacts(m);
    const sharded = reencode(art, { shardBytes: 37, groups: "per-layer", groupOrder: "reversed" });
    expect((sharded.weights as ArrayBuffer[]).length).toBeGreaterThan(10);
    expect((sharded.weights as ArrayBuffer[]).every((b) => b.byteLength <= 37)).toBe(true);
    const orig = readWeights(art);
    const back = new Map(readWeights(sharded).map((w) => [w.name, w]));
    for (const w of orig) expect(Array.from(back.get(w.name)!.data)).toEqual(Array.from(w.data));
    const x = makeInput({ kind: "ids", vocab: 21 }, { batch: 3, time: 4 }, rng.fork("x"));
    const base = tfjsPredict(m, [x]);
    for (const [dtype, tol] of [["float16", F16_WEIGHTS], ["uint8", U8_WEIGHTS]] as const) {
      const q = reencode(art, { quantize: () => dtype });
      const tfq = await loadTfjsModel(q);
      const y = tfjsPredict(tfq, [x]);
      assertClose(y[0], base[0], tol, `${dtype} model vs float32 model`);
      expect(compareArrays(y[0].data, base[0].data, y[0].shape, { name: "exact", abs: 0, rel: 0 }).pass).toBe(false);
      tfq.dispose();
    }
  });
});

describe("converter-style rewrite", () => {
  it("Keras names and topology load in tfjs and in the reference, predicting as the original", async () => {
    const tf = withCheapInitializers(await initTfjs());
    const m = tf.sequential();
    m.add(tf.layers.embedding({ name: "embedding", inputDim: 21, outputDim: 5, maskZero: true }));
    m.add(tf.layers.bidirectional({ name: "bidirectional", layer: tf.layers.gru({ name: "gru", units: 4, returnSequences: true }) as never }));
    m.add(tf.layers.lstm({ name: "lstm", units: 3 }));
    const rng = rngFor("keras style");
    randomizeWeights(m, rng);
    const keras = toKerasStyle(await saveArtifacts(m), { shardBytes: 100 });
    const names = keras.modelJson.weightsManifest.flatMap((g) => g.weights.map((w) => w.name));
    expect(names).toContain("bidirectional/forward_gru/gru_cell/kernel");
    expect(names).toContain("bidirectional/backward_gru/gru_cell/recurrent_kernel");
    expect(names).toContain("lstm/lstm_cell/bias");
    const topo = keras.modelJson.modelTopology as { keras_version: string; model_config: { config: { layers: { class_name: string }[] } } };
    expect(topo.keras_version).toBe("2.6.0");
    expect(topo.model_config.config.layers[0].class_name).toBe("InputLayer");
    const x = makeInput({ kind: "ids", vocab: 21, padding: "left" }, { batch: 3, time: 6 }, rng.fork("x"));
    const expected = tfjsPredict(m, [x]);
    const loaded = await loadTfjsModel(keras);
    expect(Array.from(tfjsPredict(loaded, [x])[0].data)).toEqual(Array.from(expected[0].data));
    loaded.dispose();
    const ref = ReferenceModel.fromArtifacts(keras.modelJson, keras.weights);
    assertClose(referenceOutputs(ref, [x])[0], expected[0], { name: "REF_VS_TFJS", abs: 1e-5, rel: 1e-5 }, "reference on the keras-style file");
  });
});
