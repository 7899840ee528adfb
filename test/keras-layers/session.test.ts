/**
 * Sessions of models with causal attention (Keras Attention use_causal_mask, MultiHeadAttention
 * use_causal_mask): each step attends over every step so far, kept in the session's cache
 * (tensor-ops.ts AttentionCaches), and equals predict on the sequence so far bit for bit; the
 * cache grows past its first capacity (16 steps), travels in snapshots (restored into another
 * session and another model instance), empties on reset, and a damaged snapshot tail is refused.
 * Non-causal attention refuses to stream, naming the layer.
 */
import { describe, expect, it } from "vitest";
import { RnnWasmError, type Model } from "../../src/index.ts";
import type { CorpusModel } from "../fixtures/corpus/models.ts";
import { KerasGraph } from "../fixtures/corpus/graph.ts";
import { attention, dense, embedding, multiHeadAttention, rnn } from "../fixtures/corpus/layers.ts";
import type { CorpusDefinition } from "../fixtures/corpus/files.ts";
import { crc32 } from "../../src/format/crc32.ts";
import { rngFor } from "../util/prng.ts";
import { define, loadDefinition } from "./helpers.ts";

const T = 40; // past the cache's first capacity (16) twice
const B = 2;

function model(id: string, version: string, layer: "attention" | "mha"): CorpusModel {
  return {
    id, pattern: id, writer: version.startsWith("3") ? "keras3" : "keras2", kerasVersion: version, inputs: [], runs: [], approx: true, streams: true,
    graph: () => {
      const g = new KerasGraph("model");
      const x = g.input("tokens", [null], "int32");
      const h = g.apply(rnn("GRU", "gru", 6, { returnSequences: true }), g.apply(embedding("embedding", 12, 5, true), x));
      const a = layer === "attention"
        ? g.apply(attention("attention", { useScale: true }), [h, h], { use_causal_mask: true })
        : g.apply(multiHeadAttention("multi_head_attention", { numHeads: 2, keyDim: 3 }), [h, h], { use_causal_mask: true });
      return g.done(g.apply(dense("dense", 12, "softmax"), a));
    },
  };
}

/** Token ids [B, T] with zeros (masked steps) here and there. */
function tokens(seed: string): Int32Array {
  const rng = rngFor(seed);
  return Int32Array.from({ length: B * T }, () => (rng.next() < 0.2 ? 0 : rng.int(1, 12)));
}

const column = (ids: Int32Array, t: number) => ({ data: Int32Array.from({ length: B }, (_, b) => ids[b * T + t]), shape: [B] });
const prefix = (ids: Int32Array, t: number) => ({ data: Int32Array.from({ length: B * t }, (_, i) => ids[Math.floor(i / t) * T + (i % t)]), shape: [B, t] });

/** predict's output at the last step of the first t steps. */
function predictAt(m: Model, ids: Int32Array, t: number): number[] {
  const y = m.predict(prefix(ids, t)) as { data: Float32Array; shape: number[] };
  const F = y.shape[2];
  return Array.from({ length: B * F }, (_, i) => y.data[(Math.floor(i / F) * t + t - 1) * F + (i % F)]);
}

describe.each([
  ["Keras 2 Attention(use_scale) use_causal_mask", "2.13.1", "attention"],
  ["Keras 3.10 MultiHeadAttention use_causal_mask", "3.10.0", "mha"],
] as const)("%s", (label, version, layer) => {
  let def: CorpusDefinition;
  const ids = tokens(`attention session ${label}`);

  it("steps equal predict on the sequence so far, bit for bit, past the cache's first capacity", async () => {
    def = await define(model(label, version, layer));
    const m = await loadDefinition(def);
    const s = m.createSession({ batchSize: B });
    for (let t = 1; t <= T; t++) {
      const y = s.step(column(ids, t - 1)) as { data: Float32Array };
      expect(Array.from(y.data), `step ${t}`).toEqual(predictAt(m, ids, t));
    }
    m.dispose();
  });

  it("a snapshot carries the cache: restored into another session of another instance, the steps continue alike", async () => {
    def ??= await define(model(label, version, layer));
    const a = await loadDefinition(def);
    const b = await loadDefinition(def);
    const sa = a.createSession({ batchSize: B });
    for (let t = 0; t < 21; t++) sa.step(column(ids, t));
    const snapshot = sa.getState();
    const sb = b.createSession({ batchSize: B });
    sb.setState(snapshot);
    for (let t = 21; t < T; t++) {
      const ya = sa.step(column(ids, t)) as { data: Float32Array };
      const yb = sb.step(column(ids, t)) as { data: Float32Array };
      expect(Array.from(yb.data), `step ${t + 1} after restoring`).toEqual(Array.from(ya.data));
    }
    // a snapshot restores into a session that has run longer (its cache is replaced, not appended to)
    const sc = b.createSession({ batchSize: B });
    for (let t = 0; t < 30; t++) sc.step(column(ids, t));
    sc.setState(snapshot);
    expect(Array.from((sc.step(column(ids, 21)) as { data: Float32Array }).data)).toEqual(predictAt(a, ids, 22));
    a.dispose();
    b.dispose();
  });

  it("reset empties the cache; run() of a chunk equals its steps", async () => {
    def ??= await define(model(label, version, layer));
    const m = await loadDefinition(def);
    const s = m.createSession({ batchSize: B });
    for (let t = 0; t < 5; t++) s.step(column(ids, t));
    s.reset();
    expect(Array.from((s.step(column(ids, 0)) as { data: Float32Array }).data)).toEqual(predictAt(m, ids, 1));
    s.reset();
    const chunk = s.run(prefix(ids, 7)) as { data: Float32Array };
    const whole = m.predict(prefix(ids, 7)) as { data: Float32Array };
    expect(Array.from(chunk.data)).toEqual(Array.from(whole.data));
    m.dispose();
  });

  it("a snapshot whose cache does not fit is refused, and the session keeps working", async () => {
    def ??= await define(model(label, version, layer));
    const m = await loadDefinition(def);
    const s = m.createSession({ batchSize: B });
    // a fresh session's snapshot ends with its cache's step count (0), then the CRC-32
    const fresh = s.getState();
    for (let t = 0; t < 3; t++) s.step(column(ids, t));
    const damaged = s.getState().slice(0, -9);
    expect(() => s.setState(damaged)).toThrowError(expect.objectContaining({ code: "E_STATE_CORRUPT" }));
    // a step count the bytes do not hold, under a valid checksum: only the layout is wrong
    const crafted = fresh.slice();
    const view = new DataView(crafted.buffer);
    view.setUint32(crafted.length - 8, 1000, true);
    view.setUint32(crafted.length - 4, crc32(crafted.subarray(0, -4)), true);
    expect(() => s.setState(crafted)).toThrowError(expect.objectContaining({ code: "E_STATE_MISMATCH", message: expect.stringMatching(/attention caches/) }));
    // nothing changed: the session continues from its 3 steps
    expect(Array.from((s.step(column(ids, 3)) as { data: Float32Array }).data)).toEqual(predictAt(m, ids, 4));
    m.dispose();
  });
});

describe("attention that sees later steps does not stream", () => {
  it("non-causal self-attention: E_NOT_STREAMABLE naming the layer", async () => {
    const def = await define({
      id: "non-causal", pattern: "", writer: "keras2", kerasVersion: "2.13.1", inputs: [], runs: [], approx: true, streams: "",
      graph: () => {
        const g = new KerasGraph("model");
        const h = g.apply(rnn("LSTM", "lstm", 4, { returnSequences: true }), g.input("x", [null, 3]));
        return g.done(g.apply(attention("self_attention"), [h, h]));
      },
    });
    const m = await loadDefinition(def);
    let err: unknown;
    try {
      m.createSession();
    } catch (e) {
      err = e;
    }
    expect((err as RnnWasmError).code).toBe("E_NOT_STREAMABLE");
    expect((err as Error).message).toMatch(/layer self_attention attends to later steps/);
    m.dispose();
  });

  it("causal attention returning its scores: E_NOT_STREAMABLE (they grow with every step)", async () => {
    const def = await define({
      id: "scores", pattern: "", writer: "keras3", kerasVersion: "3.5.0", inputs: [], runs: [], approx: true, streams: "",
      graph: () => {
        const g = new KerasGraph("model");
        const h = g.apply(rnn("LSTM", "lstm", 4, { returnSequences: true }), g.input("x", [null, 3]));
        return g.done(...g.call(attention("attention"), [h, h], { use_causal_mask: true, return_attention_scores: true }));
      },
    });
    const m = await loadDefinition(def);
    expect(() => m.createSession()).toThrowError(/layer attention returns its attention scores/);
    m.dispose();
  });
});
