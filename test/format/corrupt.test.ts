/**
 * Property: whatever happens to the bytes of a bundle, loadModel either throws an
 * RnnWasmError with code E_BUNDLE_CORRUPT / E_BUNDLE_VERSION or returns a model that predicts
 * on inputs of its own declared shape — never another exception, a kernel trap, a hang or an
 * allocation out of proportion to the file. Checked at every truncation point and on seeded
 * single-byte flips, both as they are (the checksum catches them) and with the CRC recomputed
 * (so the damage reaches the header parser and the spec validation behind the checksum). A
 * model loaded before the storm keeps predicting the same bits afterwards.
 *
 * The bundle: a text model of the Keras IMDB example's size (Embedding(1000, 32) -> LSTM(32) ->
 * Dense(1)) exported as f16 with a 999-word tokenizer and metadata, so the header has every
 * kind of field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { imdbSizedModel } from "../util/tfjs.ts";
import { fixCrc, headerOf, tryLoad, type LoadOutcome } from "./craft.ts";

/** The whole file must finish within this, or something hangs or is quadratic somewhere. */
const TIME_BOX_MS = 400_000;
/**
 * A loaded model's kernel memory: its weights widened to f32 (2x an f16 bundle), activations
 * for one small batch, wasm page granularity (64 KiB) and the allocator's slack.
 */
const memoryBound = (fileBytes: number) => 4 * fileBytes + (1 << 20);

type Model = Awaited<ReturnType<typeof loadModel>>;
let base: Uint8Array;
let reference: Model;
let referenceOut: Float32Array;
const referenceInput = { data: Int32Array.from({ length: 100 }, (_, i) => (i < 30 ? 0 : (i * 37) % 1000)), shape: [1, 100] };
const started = performance.now();

/** Seeded inputs (batch 2) of the model's own declared shape: ids inside every embedding's table. */
function inputsFor(m: Model) {
  return m.spec.inputs.map((inp) => {
    const shape = [2, ...inp.shape.map((d) => d ?? 3)];
    const n = shape.reduce((a, b) => a * b, 1);
    if (inp.dtype === "int32") {
      const tables = m.spec.ops.filter((o) => o.op === "embedding" && o.inputs[0] === inp.tensor).map((o) => (o as { inputDim: number }).inputDim);
      const lim = Math.min(1 << 30, ...tables);
      return { data: Int32Array.from({ length: n }, (_, i) => (i * 7919) % lim), shape };
    }
    return { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)), shape };
  });
}

/** The property for one outcome; returns "ok", "corrupt" or "version" for the tallies. */
function check(outcome: LoadOutcome, bytes: Uint8Array, what: string): "ok" | "corrupt" | "version" {
  if (!outcome.ok) {
    expect(["E_BUNDLE_CORRUPT", "E_BUNDLE_VERSION"], `${what}: ${outcome.code}: ${outcome.message}`).toContain(outcome.code);
    return outcome.code === "E_BUNDLE_VERSION" ? "version" : "corrupt";
  }
  const m = outcome.model;
  try {
    expect(m.memoryBytes, `${what}: kernel memory after load`).toBeLessThanOrEqual(memoryBound(bytes.length));
    // a model whose declared input length is huge (a flipped digit) cannot be fed a test input
    const n = m.spec.inputs.reduce((a, i) => a + i.shape.reduce<number>((x, d) => x * (d ?? 3), 1), 0);
    if (n > 1 << 16) return "ok";
    const xs = inputsFor(m);
    let y;
    try {
      y = m.predict(xs.length === 1 ? xs[0] : xs);
    } catch (e) {
      throw new Error(`${what}: the bundle loaded but predict failed: ${(e as Error).name} ${(e as { code?: string }).code ?? ""} ${(e as Error).message}`);
    }
    const ys = Array.isArray(y) ? y : [y];
    expect(ys.length, `${what}: output count`).toBe(m.outputs.length);
    ys.forEach((t, i) => {
      const declared = m.outputs[i].shape;
      const fits = t.shape.length === declared.length && t.shape[0] === 2 && declared.every((d, k) => k === 0 || d === null || d === t.shape[k]);
      expect(fits, `${what}: output ${i} shape [${t.shape}] vs declared [${declared}]`).toBe(true);
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    });
    expect(m.memoryBytes, `${what}: kernel memory after predict`).toBeLessThanOrEqual(memoryBound(bytes.length));
  } finally {
    m.dispose();
  }
  return "ok";
}

function timeLeft(): void {
  expect(performance.now() - started, "time box").toBeLessThan(TIME_BOX_MS);
}

beforeAll(async () => {
  const vocab: Record<string, number> = {};
  for (let i = 1; i < 1000; i++) vocab[`w${i}`] = i;
  base = await exportBundle(await imdbSizedModel(), { dtype: "f16", tokenizer: { word_index: vocab, oov_token: "w2" }, metadata: { labels: ["negative", "positive"], source: "imdb-sized tfjs model" } });
  reference = await loadModel(base);
  referenceOut = Float32Array.from((reference.predict(referenceInput) as { data: Float32Array }).data);
});

afterAll(() => {
  // the model loaded before all of this still computes the same bits
  const after = (reference.predict(referenceInput) as { data: Float32Array }).data;
  expect(Array.from(after)).toEqual(Array.from(referenceOut));
  expect(reference.tokenizer!.encode("w5 w6 unknown")).toEqual(Int32Array.from([...new Array(97).fill(0), 5, 6, 2]));
  reference.dispose();
});

describe("a damaged bundle: typed error or a working model, nothing else", () => {
  it("the bundle under test is complete", () => {
    const { header } = headerOf(base);
    expect(header.model.ops.map((o: { op: string }) => o.op)).toEqual(["embedding", "rnn", "dense"]);
    expect(header.dtype).toBe("f16");
    expect(header.tokenizer.vocab.length).toBe(1000);
    expect(base.length).toBeGreaterThan(80_000);
  });

  it("truncated at every byte: E_BUNDLE_CORRUPT, every time", async () => {
    const tally = { ok: 0, corrupt: 0, version: 0 };
    for (let n = 0; n < base.length; n++) {
      const cut = base.subarray(0, n);
      tally[check(await tryLoad(cut), cut, `truncated to ${n} bytes`)]++;
      if (n % 4096 === 0) timeLeft();
    }
    // a prefix cannot carry a matching checksum of itself except by a 2^-32 accident
    expect(tally).toEqual({ ok: 0, corrupt: base.length, version: 0 });
  }, TIME_BOX_MS);

  it("3000 seeded single-byte flips anywhere, checksum left as is: all refused", async () => {
    const rng = rngFor("bundle byte flips");
    const tally = { ok: 0, corrupt: 0, version: 0 };
    for (let i = 0; i < 3000; i++) {
      const at = i < 16 ? i : rng.int(0, base.length); // the preamble's 12 bytes and the start of the header, then anywhere
      const bytes = base.slice();
      bytes[at] ^= rng.int(1, 256);
      tally[check(await tryLoad(bytes), bytes, `byte ${at} flipped; ${describeSeed(rng)}`)]++;
      if (i % 200 === 0) timeLeft();
    }
    expect(tally.ok).toBe(0);
    expect(tally.corrupt + tally.version).toBe(3000);
  }, TIME_BOX_MS);

  it("3000 seeded single-byte flips with the CRC recomputed: typed error or a working model", async () => {
    const rng = rngFor("bundle byte flips, crc fixed");
    const { headerBytes } = headerOf(base);
    const tally = { ok: 0, corrupt: 0, version: 0 };
    const failures: string[] = []; // collected, so one run reports every kind of escape
    for (let i = 0; i < 3000; i++) {
      // two thirds in the preamble and header (where the structure is), a third in the sections
      const at = i % 3 === 2 ? rng.int(12 + headerBytes, base.length - 4) : rng.int(0, 12 + headerBytes);
      const bytes = base.slice();
      const was = bytes[at];
      bytes[at] ^= rng.int(1, 256);
      const fixed = fixCrc(bytes);
      const what = `byte ${at} ${JSON.stringify(String.fromCharCode(was))} -> ${JSON.stringify(String.fromCharCode(bytes[at]))} (context ${JSON.stringify(new TextDecoder().decode(fixed.subarray(Math.max(12, at - 25), at + 15)))}), CRC fixed`;
      try {
        tally[check(await tryLoad(fixed), fixed, what)]++;
      } catch (e) {
        failures.push((e as Error).message.split("\n")[0]);
      }
      if (i % 200 === 0) timeLeft();
    }
    expect(failures, `${failures.length} flips escaped the property; ${describeSeed(rng)}`).toEqual([]);
    // flips in f16 weights load (different weights, same structure); most header flips break it
    expect(tally.ok).toBeGreaterThanOrEqual(1000);
    expect(tally.corrupt).toBeGreaterThan(500);
    console.log(`crc-fixed flips: ${JSON.stringify(tally)}`);
  }, TIME_BOX_MS);
});
