/**
 * Output arrays: what predict and step hand back is the caller's. Outputs of up to 1024 floats
 * are views into shared 64 KB slabs (src/model/executor.ts copyOut, like Node's Buffer pool), so
 * these tests pin the promises that make that safe: a range is never written again, later calls
 * never change earlier outputs, and a slab whose buffer the caller transferred is replaced.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, type Model } from "../../src/index.ts";
import { SLAB_FLOATS } from "../../src/model/executor.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

type Out = { data: Float32Array; shape: number[] };

/** LSTM(units) on 3 features, last output only: one output of batch * units floats (sizes
 * come from the batch: tfjs' orthogonal initialiser is slow for wide layers). */
async function lstmModel(units: number): Promise<Model> {
  const m = tf.sequential({ layers: [tf.layers.lstm({ units, inputShape: [null, 3] })] });
  randomizeWeights(m, rngFor(`outputs lstm ${units}`));
  return loadModel(await artifactsOf(m));
}

function stepInput(t: number, batch = 1) {
  return { data: Float32Array.from({ length: batch * 3 }, (_, i) => Math.sin(0.7 * t + i)), shape: [batch, 3] };
}

describe("outputs are the caller's", () => {
  it("200 streamed outputs (pooled: 24 floats each) keep their values while 200 more steps run", async () => {
    const model = await lstmModel(24);
    const s = model.createSession();
    const outs: Out[] = [];
    const copies: number[][] = [];
    for (let t = 0; t < 200; t++) {
      const y = s.step(stepInput(t)) as Out;
      outs.push(y);
      copies.push(Array.from(y.data));
    }
    for (let t = 200; t < 400; t++) s.step(stepInput(t));
    outs.forEach((y, t) => expect(Array.from(y.data), `step ${t}`).toEqual(copies[t]));
    // distinct arrays, and the pool really is in use at this size (else this test proves nothing)
    expect(new Set(outs.map((y) => y.data)).size).toBe(200);
    let shared = 0;
    for (let t = 1; t < outs.length; t++) {
      if (outs[t].data.buffer !== outs[t - 1].data.buffer) continue;
      shared++;
      expect(outs[t].data.byteOffset).toBe(outs[t - 1].data.byteOffset + 24 * 4);
    }
    expect(shared).toBeGreaterThan(150);
  });

  it("a transferred (detached) slab is replaced: the next outputs are correct and the model keeps working", async () => {
    const model = await lstmModel(24);
    const reference = model.createSession();
    const expected = Array.from({ length: 6 }, (_, t) => Array.from((reference.step(stepInput(t)) as Out).data));
    const s = model.createSession();
    const first = s.step(stepInput(0)) as Out;
    expect(Array.from(first.data)).toEqual(expected[0]);
    // the caller transfers the buffer away (postMessage / structuredClone with transfer)
    const offset = first.data.byteOffset;
    const moved = structuredClone(first.data.buffer, { transfer: [first.data.buffer] });
    expect(first.data.buffer.byteLength).toBe(0);
    expect(new Float32Array(moved, offset, 24)[0]).toBe(expected[0][0]);
    for (let t = 1; t < 6; t++) {
      const y = s.step(stepInput(t)) as Out;
      expect(y.data.length, `step ${t}`).toBe(24);
      expect(Array.from(y.data), `step ${t}`).toEqual(expected[t]);
    }
    // predict on the same model too
    const p = model.predict({ data: new Float32Array(2 * 5 * 3).fill(0.25), shape: [2, 5, 3] }) as Out;
    expect(p.data.length).toBe(48);
    expect(p.data.every(Number.isFinite)).toBe(true);
  });

  it("outputs of more than 1024 floats own their buffer; small ones share a slab", async () => {
    const model = await lstmModel(16);
    const big = model.createSession({ batchSize: 65 }).step(stepInput(0, 65)) as Out; // 1040 floats
    expect(big.data.length).toBe(1040);
    expect(big.data.byteOffset).toBe(0);
    expect(big.data.buffer.byteLength).toBe(1040 * 4);
    const s = model.createSession();
    const a = s.step(stepInput(0)) as Out;
    const b = s.step(stepInput(1)) as Out;
    expect(a.data.length).toBe(16);
    expect(a.data.buffer.byteLength).toBe(SLAB_FLOATS * 4);
    if (a.data.buffer === b.data.buffer) expect(b.data.byteOffset).toBe(a.data.byteOffset + 64);
  });

  it("a slab never hands out a range past its end (outputs that do not fit start a new slab)", async () => {
    const model = await lstmModel(10); // batch 100: 1000 floats, 16 per 16384-float slab
    const perSlab = Math.floor(SLAB_FLOATS / 1000);
    const s = model.createSession({ batchSize: 100 });
    const ys = Array.from({ length: 2 * perSlab + 1 }, (_, t) => s.step(stepInput(t, 100)) as Out);
    for (const y of ys) {
      expect(y.data.length).toBe(1000);
      expect(y.data.byteOffset + y.data.byteLength).toBeLessThanOrEqual(y.data.buffer.byteLength);
    }
    // the slab is shared with earlier calls in this module, so count: at most perSlab per slab
    const buffers = new Set(ys.map((y) => y.data.buffer));
    expect(buffers.size).toBeGreaterThanOrEqual(3);
    for (const buf of buffers) expect(ys.filter((y) => y.data.buffer === buf).length).toBeLessThanOrEqual(perSlab);
    for (let i = 1; i < ys.length; i++) {
      if (ys[i].data.buffer === ys[i - 1].data.buffer) expect(ys[i].data.byteOffset).toBe(ys[i - 1].data.byteOffset + 4000);
    }
  });
});
