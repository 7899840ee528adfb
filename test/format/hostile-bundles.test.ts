/**
 * The crafted bundles of issue 15 (items 6, 7, 11), each with a valid CRC: refused at load
 * with E_BUNDLE_CORRUPT, never a TypeError or a stack overflow from the reader, never a
 * session whose state regions overlap, never a repeat that asks for a gigabyte.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { MAX_HEADER_DEPTH } from "../../src/format/reader.ts";
import { loadModel } from "../../src/index.ts";
import { MAX_JSON_DEPTH } from "../../src/json.ts";
import { initTfjs, saveArtifacts } from "../util/tfjs.ts";
import { headerOf, type Json, tryLoad, withHeader, withNewHeader } from "./craft.ts";

let pool: Uint8Array; // GlobalMaxPooling1D straight on the input [T, 2]
let repeat: Uint8Array; // [3, 1] -> LSTM(4) -> RepeatVector(2) -> LSTM(4, seq) -> TimeDistributed(Dense(1))

beforeAll(async () => {
  const tf = await initTfjs();
  pool = await exportBundle(await saveArtifacts(tf.sequential({ layers: [tf.layers.globalMaxPooling1d({ name: "pool", inputShape: [null, 2] })] })));
  repeat = await exportBundle(await saveArtifacts(tf.sequential({
    layers: [
      tf.layers.lstm({ name: "enc", units: 4, inputShape: [3, 1] }),
      tf.layers.repeatVector({ name: "rep", n: 2 }),
      tf.layers.lstm({ name: "dec", units: 4, returnSequences: true }),
      tf.layers.timeDistributed({ name: "td", layer: tf.layers.dense({ units: 1 }) }),
    ],
  })));
});

async function refused(bytes: Uint8Array, message: RegExp): Promise<void> {
  const r = await tryLoad(bytes); // anything but an RnnWasmError fails the test inside tryLoad
  if (r.ok) {
    r.model.dispose();
    throw new Error("the crafted bundle loaded");
  }
  expect(`${r.code}: ${r.message}`).toMatch(/^E_BUNDLE_CORRUPT: /);
  expect(r.message).toMatch(message);
}

const inputTensor = (b: Uint8Array): string => headerOf(b).header.model.inputs[0].tensor;

describe("item 7: sizes come from checked facts, not from the header's tensor table", () => {
  it("tensors[input].shape = [null, 0] under a global_pool: refused (its state regions overlapped: max-pool 3.5, 3.1 vs predict's 0.75, 0.3)", async () => {
    await refused(withHeader(pool, (h) => (h.model.tensors[h.model.inputs[0].tensor].shape = [null, 0])), /input .*has another shape/);
  });

  it("the untouched model: a session's run equals predict, bit for bit", async () => {
    const m = await loadModel(pool);
    const x = { data: Float32Array.from([0.75, -0.2, 0.1, 0.3, -1, 0.25, 0.5, 0.3]), shape: [1, 4, 2] };
    const s = m.createSession();
    expect(Array.from((s.run(x) as { data: Float32Array }).data)).toEqual(Array.from((m.predict(x) as { data: Float32Array }).data));
    expect(Array.from((m.predict(x) as { data: Float32Array }).data)).toEqual([0.75, 0.30000001192092896]);
    m.dispose();
  });
});

describe("item 6: untyped errors from crafted headers", () => {
  it("the reader's nesting bound is every JSON reader's", () => expect(MAX_HEADER_DEPTH).toBe(MAX_JSON_DEPTH));

  it("a 10,000-deep array as a section's dtype: E_BUNDLE_CORRUPT, not a stack overflow while formatting the error", async () => {
    const deep = `${"[".repeat(10_000)}1${"]".repeat(10_000)}`;
    await refused(withNewHeader(repeat, (h) => (h.sections[0].dtype = "DEEP"), (t) => t.replace('"DEEP"', deep)), /nests deeper than 256 levels/);
    // deep anywhere: metadata, the tokenizer, an op's field
    await refused(withNewHeader(pool, (h) => (h.metadata = { x: "DEEP" }), (t) => t.replace('"DEEP"', deep)), /nests deeper/);
    await refused(withNewHeader(pool, (h) => (h.model.ops[0].mode = "DEEP"), (t) => t.replace('"DEEP"', deep)), /nests deeper/);
  });

  it("an output naming the model input, whose tensors entry is gone: refused (was a TypeError in loadModel)", async () => {
    await refused(withHeader(pool, (h) => {
      h.model.outputs[0].tensor = h.model.inputs[0].tensor;
      delete h.model.tensors[h.model.inputs[0].tensor];
    }), /input .*has another shape/);
  });

  it("a global_pool reading the model input, whose tensors entry is gone: refused (was a TypeError in createSession)", async () => {
    expect(headerOf(pool).header.model.ops[0].inputs[0]).toBe(inputTensor(pool));
    await refused(withHeader(pool, (h) => delete h.model.tensors[h.model.inputs[0].tensor]), /has another shape/);
  });

  it("tensor ids and cell names that are Object.prototype keys", async () => {
    await refused(withHeader(repeat, (h) => (h.model.ops.find((o: Json) => o.op === "rnn").cell = "constructor")), /options do not fit/);
    await refused(withHeader(pool, (h) => {
      const id = h.model.inputs[0].tensor;
      h.model.inputs[0].tensor = "__proto__";
      h.model.ops[0].inputs[0] = "__proto__";
      delete h.model.tensors[id];
    }), /has another shape/);
  });
});

describe("item 11: sizes a bundle declares are bounded", () => {
  it("a repeat of 2^20 is refused; 2^16, the bound, loads and predicts a [2, 3, 1] input within bounded memory", async () => {
    const n = (b: Uint8Array) => headerOf(b).header.model.ops.find((o: Json) => o.op === "repeat").n;
    expect(n(repeat)).toBe(2);
    const retime = (k: number) => withHeader(repeat, (h) => {
      // the repeat's n and every shape that follows from it
      h.model.ops.find((o: Json) => o.op === "repeat").n = k;
      for (const t of Object.values(h.model.tensors) as Json[]) if (t.shape[0] === 2 && t.shape.length === 2) t.shape[0] = k;
    });
    await refused(retime(2 ** 20), /options do not fit/);
    const m = await loadModel(retime(2 ** 16));
    const y = m.predict({ data: new Float32Array(6).fill(0.5), shape: [2, 3, 1] }) as { data: Float32Array; shape: number[] };
    expect(y.shape).toEqual([2, 2 ** 16, 1]);
    expect(m.memoryBytes).toBeLessThan(64 << 20);
    m.dispose();
  });
});
