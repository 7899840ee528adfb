/**
 * int8 bundles (`exportBundle(src, { dtype: "int8" })`, docs/bundle-format.md): the round trip
 * over the whole seeded parity matrix against the f32 bundle of the same model (within
 * INT8_WEIGHTS; the worst error is printed for docs/kernels.md), the section layout (i8 values,
 * then their f32 scales at the next 16-byte boundary), re-writing without change, what stays
 * f32, and crafted damage to the int8 sections with a valid CRC: every defect a typed error
 * decided before kernel memory is touched, an unknown dtype still E_BUNDLE_VERSION.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RnnWasmError } from "../../src/errors.ts";
import { exportBundle } from "../../src/export.ts";
import { SECTION_ALIGN } from "../../src/format/bundle.ts";
import { readBundle } from "../../src/format/reader.ts";
import { SCALES_SUFFIX, writeBundle } from "../../src/format/writer.ts";
import { loadModel } from "../../src/index.ts";
import { int8Image, quantizePacked } from "../../src/model/quantize.ts";
import { fixCrc, headerOf, type Json, tryLoad, withHeader } from "../format/craft.ts";
import { INT8_WEIGHTS } from "../tolerance.ts";
import { parityCases, runLabel } from "../util/cases.ts";
import { assertAllClose } from "../util/compare.ts";
import { expectError } from "../util/errors.ts";
import { copyArtifacts, prepareCase } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { type Artifacts, imdbSizedModel, initTfjs, saveArtifacts } from "../util/tfjs.ts";

type T = { data: Float32Array | Int32Array; shape: number[] };
const list = (y: T | T[]): T[] => (Array.isArray(y) ? y : [y]);

const cases = parityCases();
const worst = { abs: 0, where: "", bounded: 0, boundedWhere: "" };
let f32Bytes = 0;
let int8Bytes = 0;

for (const group of [...new Set(cases.map((c) => c.group))]) {
  describe(`int8 bundle round trip: ${group}`, () => {
    for (const c of cases.filter((x) => x.group === group)) {
      it(c.id, async () => {
        const p = await prepareCase(c);
        const f32 = await exportBundle(copyArtifacts(p.artifacts), { dtype: "f32" });
        const i8 = await exportBundle(copyArtifacts(p.artifacts), { dtype: "int8" });
        f32Bytes += f32.length;
        int8Bytes += i8.length;
        const r = readBundle(i8);
        expect(r.header.dtype).toBe("int8");
        const byName = new Map(r.header.sections.map((s) => [s.name, s]));
        for (const s of r.header.sections) {
          expect(s.offset % SECTION_ALIGN).toBe(0);
          if (s.dtype !== "i8") continue;
          // the scales: f32, right after the values
          const sc = byName.get(s.scales!)!;
          expect(sc.dtype).toBe("f32");
          expect(sc.offset).toBe(Math.ceil((s.offset + s.bytes) / 16) * 16);
        }
        // reading and writing again changes nothing
        expect(Buffer.from(writeBundle(r.packed, { dtype: "int8", generator: r.header.generator, metadata: r.header.metadata })).equals(Buffer.from(i8))).toBe(true);
        const m32 = await loadModel(f32);
        const m8 = await loadModel(i8);
        try {
          expect(m8.inputs).toEqual(m32.inputs);
          expect(m8.outputs).toEqual(m32.outputs);
          for (const run of c.runs) {
            const { inputs } = p.expected(run);
            const x = inputs.length === 1 ? inputs[0] : inputs;
            const y32 = list(m32.predict(x));
            const y8 = list(m8.predict(x));
            const where = `${c.id}, ${runLabel(run)}; ${describeSeed(p.rng)}`;
            for (const [i, res] of assertAllClose(y8, y32, INT8_WEIGHTS, `int8 bundle vs f32 bundle: ${where}`).entries()) {
              if (res.maxAbs > worst.abs) Object.assign(worst, { abs: res.maxAbs, where: `${c.id} (${runLabel(run)})` });
              const bound = Math.max(...Array.from(y32[i].data, Math.abs)) <= 1;
              if (bound && res.maxAbs > worst.bounded) Object.assign(worst, { bounded: res.maxAbs, boundedWhere: `${c.id} (${runLabel(run)})` });
            }
          }
        } finally {
          m32.dispose();
          m8.dispose();
          p.dispose();
        }
      }, 120_000);
    }
  });
}

afterAll(() => {
  console.log(
    `int8 round trip over ${cases.length} parity cases: int8 vs f32 max abs ${worst.abs.toExponential(2)} (${worst.where}); ` +
      `outputs within [-1, 1]: ${worst.bounded.toExponential(2)} (${worst.boundedWhere}); bundles ${f32Bytes} -> ${int8Bytes} bytes`,
  );
});

describe("int8 export", () => {
  let lstm: Artifacts;

  beforeAll(async () => {
    const tf = await initTfjs();
    const rng = rngFor("int8 export");
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ name: "emb", inputDim: 50, outputDim: 7, inputLength: 6 }),
        tf.layers.lstm({ name: "lstm", units: 12, returnSequences: true }),
        tf.layers.gru({ name: "gru", units: 5 }), // tfjs: reset_after=false
        tf.layers.dense({ name: "head", units: 3, activation: "softmax" }),
      ],
    });
    for (const w of m.weights) w.write(tf.tensor(Array.from({ length: w.shape.reduce((a, b) => a! * b!, 1)! }, () => rng.uniform(-0.5, 0.5)), w.shape as number[]));
    lstm = await saveArtifacts(m);
  });

  it("quantises the matrices (and only those), about 4x smaller for their bytes", async () => {
    const f32 = readBundle(await exportBundle(copyArtifacts(lstm), { dtype: "f32" }));
    const i8 = readBundle(await exportBundle(copyArtifacts(lstm), { dtype: "int8" }));
    const dtypes = Object.fromEntries(i8.header.sections.map((s) => [s.name, s.dtype]));
    expect(dtypes).toEqual({
      "emb/embeddings": "i8", [`emb/embeddings${SCALES_SUFFIX}`]: "f32",
      "lstm/kernel": "i8", [`lstm/kernel${SCALES_SUFFIX}`]: "f32", "lstm/recurrent_kernel": "i8", [`lstm/recurrent_kernel${SCALES_SUFFIX}`]: "f32", "lstm/bias": "f32",
      "gru/kernel": "i8", [`gru/kernel${SCALES_SUFFIX}`]: "f32", "gru/recurrent_kernel": "i8", [`gru/recurrent_kernel${SCALES_SUFFIX}`]: "f32", "gru/bias": "f32",
      "head/kernel": "i8", [`head/kernel${SCALES_SUFFIX}`]: "f32", "head/bias": "f32",
    });
    // K rounded up to even: emb 7 -> 8 per row, lstm kernel K=7 -> 8, gru kernel K=12, head K=5 -> 6
    const len = (r: typeof f32, n: string) => r.header.sections.find((s) => s.name === n)!.length;
    expect(len(i8, "emb/embeddings")).toBe(50 * 8);
    expect(len(i8, `emb/embeddings${SCALES_SUFFIX}`)).toBe(50);
    expect(len(i8, "lstm/kernel")).toBe(4 * 16 * 8);
    expect(len(i8, "lstm/recurrent_kernel")).toBe(4 * 16 * 12);
    expect(len(i8, `lstm/recurrent_kernel${SCALES_SUFFIX}`)).toBe(4 * 16);
    expect(len(i8, "gru/recurrent_kernel")).toBe(3 * 8 * 6);
    expect(len(i8, "head/kernel")).toBe(8 * 6);
    // everything but the spec's weight lengths is the f32 model
    expect({ ...i8.header.model, weights: [] }).toEqual({ ...f32.header.model, weights: [] });
  });

  it("keeps single-feature matrices f32 (pairing k would double them) and tells dtypes apart", async () => {
    const tf = await initTfjs();
    const m = tf.sequential({ layers: [tf.layers.dense({ name: "d", units: 4, inputShape: [1] }), tf.layers.dense({ name: "e", units: 2 })] });
    const b = readBundle(await exportBundle(await saveArtifacts(m), { dtype: "int8" }));
    expect(b.header.sections.map((s) => `${s.name}:${s.dtype}`)).toEqual(["d/kernel:f32", "d/bias:f32", "e/kernel:i8", `e/kernel${SCALES_SUFFIX}:f32`, "e/bias:f32"]);
  });

  it("keeps the weights quantizePacked was told to keep f32 (here the embedding table)", async () => {
    const f32 = await exportBundle(copyArtifacts(lstm));
    const q = quantizePacked(readBundle(f32).packed, (name) => name === "emb/embeddings");
    const bytes = writeBundle(q, { dtype: "int8" });
    const dtypes = readBundle(bytes).header.sections.filter((s) => !s.name.endsWith(SCALES_SUFFIX)).map((s) => `${s.name}:${s.dtype}`);
    expect(dtypes).toEqual(["emb/embeddings:f32", "lstm/kernel:i8", "lstm/bias:f32", "lstm/recurrent_kernel:i8", "gru/kernel:i8", "gru/bias:f32", "gru/recurrent_kernel:i8", "head/kernel:i8", "head/bias:f32"]);
    const [a, b] = [await loadModel(f32), await loadModel(bytes)];
    const x = { data: Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 50), shape: [2, 6] };
    assertAllClose([b.predict(x) as T], [a.predict(x) as T], INT8_WEIGHTS, "int8 with an f32 table vs f32");
  });

  it("refuses to write int8 weights as f32 or f16, and unknown dtypes", async () => {
    const q = quantizePacked(readBundle(await exportBundle(copyArtifacts(lstm))).packed);
    for (const dtype of ["f32", "f16"] as const) {
      expect(() => writeBundle(q, { dtype })).toThrow(expect.objectContaining({ code: "E_ARGUMENT", message: expect.stringMatching(/is int8: this model can only be written with dtype "int8"/) }));
    }
    expect(() => writeBundle(q, { dtype: "int4" as never })).toThrow(RnnWasmError);
    // quantising twice changes nothing
    expect(Buffer.from(writeBundle(quantizePacked(q), { dtype: "int8" })).equals(Buffer.from(writeBundle(q, { dtype: "int8" })))).toBe(true);
  });

  it("converts an f16 bundle (the shipped UCI sentiment model) to int8", async () => {
    const { readFileSync } = await import("node:fs");
    const f16 = readFileSync(new URL("../../models/uci-sentiment.rnnb", import.meta.url));
    const r = readBundle(f16);
    const i8 = writeBundle(r.packed, { dtype: "int8", metadata: r.header.metadata, tokenizer: r.header.tokenizer });
    const [a, b] = [await loadModel(f16), await loadModel(i8)];
    const ids = a.tokenizer!.encode("the battery life is great and the sound is clear");
    const pa = (a.predict({ data: ids, shape: [1, ids.length] }) as T).data[0];
    const pb = (b.predict({ data: ids, shape: [1, ids.length] }) as T).data[0];
    expect(Math.abs(pa - pb)).toBeLessThan(INT8_WEIGHTS.abs);
    expect(b.tokenizer!.decode(ids)).toBe(a.tokenizer!.decode(ids));
  });
});

describe("crafted int8 sections (valid CRC)", () => {
  let i8: Uint8Array;

  beforeAll(async () => {
    i8 = await exportBundle(await imdbSizedModel(), { dtype: "int8" });
  });

  const expectCode = (bytes: Uint8Array, code: "E_BUNDLE_CORRUPT" | "E_BUNDLE_VERSION", message: RegExp) => expectError(() => loadModel(bytes), code, { message });
  const find = (h: Json, name: string) => h.sections.find((s: Json) => s.name === name);

  it("the int8 bundle itself loads, and the imdb LSTM's matrices are i8", async () => {
    expect(headerOf(i8).header.sections.filter((s: Json) => s.dtype === "i8").map((s: Json) => s.name)).toEqual(["embedding_2/embeddings", "lstm_1/kernel", "lstm_1/recurrent_kernel", "dense_2/kernel"]);
    const r = await tryLoad(i8);
    expect(r.ok).toBe(true);
    if (r.ok) r.model.dispose();
  });

  it("an unknown dtype is still E_BUNDLE_VERSION", async () => {
    await expectCode(withHeader(i8, (h) => (find(h, "lstm_1/kernel").dtype = "i4")), "E_BUNDLE_VERSION", /dtype "i4" needs a newer rnn-wasm/);
  });

  it("scales missing, unknown, not f32, or not right after the values", async () => {
    await expectCode(withHeader(i8, (h) => delete find(h, "lstm_1/kernel").scales), "E_BUNDLE_CORRUPT", /int8 weight lstm_1\/kernel: no f32 scales after it/);
    await expectCode(withHeader(i8, (h) => (find(h, "lstm_1/kernel").scales = "nope")), "E_BUNDLE_CORRUPT", /no f32 scales after it/);
    await expectCode(withHeader(i8, (h) => (find(h, "lstm_1/kernel").scales = 7)), "E_BUNDLE_CORRUPT", /no f32 scales after it/);
    // another weight's scales (f32, but elsewhere)
    await expectCode(withHeader(i8, (h) => (find(h, "lstm_1/kernel").scales = `dense_2/kernel${SCALES_SUFFIX}`)), "E_BUNDLE_CORRUPT", /no f32 scales after it/);
    // the scales section stored as f16 (bytes still consistent)
    await expectCode(withHeader(i8, (h) => {
      const s = find(h, `lstm_1/kernel${SCALES_SUFFIX}`);
      s.dtype = "f16";
      s.length *= 2;
    }), "E_BUNDLE_CORRUPT", /no f32 scales after it/);
  });

  it("scale counts and value counts that do not fit the layer", async () => {
    // one panel of scales fewer (the section shrinks, the bytes stay in place)
    await expectCode(withHeader(i8, (h) => {
      const s = find(h, `lstm_1/kernel${SCALES_SUFFIX}`);
      s.length -= 8;
      s.bytes -= 32;
    }), "E_BUNDLE_CORRUPT", /layer lstm_1: weight lstm_1\/kernel holds \d+ int8, the layer needs/);
    // two values fewer (the scales still at the next 16-byte boundary): not columns x K2
    await expectCode(withHeader(i8, (h) => {
      const s = find(h, "dense_2/kernel");
      s.length -= 2;
      s.bytes -= 2;
      h.model.weights.find((w: Json) => w.name === "dense_2/kernel").length -= 2;
    }), "E_BUNDLE_CORRUPT", /weight dense_2\/kernel holds 254 int8, the layer needs 256/);
    // values shorter by 16: the scales are no longer right after them
    await expectCode(withHeader(i8, (h) => {
      const s = find(h, "dense_2/kernel");
      s.length -= 16;
      s.bytes -= 16;
      h.model.weights.find((w: Json) => w.name === "dense_2/kernel").length -= 16;
    }), "E_BUNDLE_CORRUPT", /int8 weight dense_2\/kernel: no f32 scales after it/);
  });

  it("int8 where the layer reads f32 (a bias) is refused", async () => {
    // a writer that quantised the bias too: values and scales well-formed, the layout is not
    const r = readBundle(i8);
    const bias = r.packed.spec.weights.find((w) => w.name === "lstm_1/bias")!;
    const data = new Map(r.packed.data);
    data.set(bias.name, int8Image({ values: new Int8Array(2 * bias.length), scales: new Float32Array(bias.length) }));
    const spec = { ...r.packed.spec, weights: r.packed.spec.weights.map((w) => (w === bias ? { ...w, length: 2 * bias.length } : w)) };
    await expectCode(writeBundle({ spec, data }, { dtype: "int8" }), "E_BUNDLE_CORRUPT", /layer lstm_1: weight lstm_1\/bias holds 256 int8, the layer needs 128/);
  });

  it("seeded single-byte flips inside the int8 sections, CRC recomputed: typed error or a working model", async () => {
    const { header } = headerOf(i8);
    const spans = header.sections.filter((s: Json) => s.dtype === "i8" || String(s.name).endsWith(SCALES_SUFFIX)).map((s: Json) => [s.offset, s.bytes]);
    const rng = rngFor("int8 flips");
    const x = { data: Int32Array.from({ length: 100 }, (_, i) => (i * 37) % 1000), shape: [1, 100] };
    let loaded = 0;
    for (let i = 0; i < 200; i++) {
      const [off, n] = spans[rng.int(0, spans.length)];
      const b = i8.slice();
      b[off + rng.int(0, n)] ^= 1 << rng.int(0, 8);
      const r = await tryLoad(fixCrc(b));
      if (r.ok) {
        // data bytes are not validated beyond their layout: the model runs (a flipped scale may give NaN)
        const y = r.model.predict(x) as T;
        expect(y.shape).toEqual([1, 1]);
        r.model.dispose();
        loaded++;
      }
    }
    expect(loaded).toBe(200);
  });
});
