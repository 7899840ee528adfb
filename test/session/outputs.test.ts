/**
 * Output arrays: what predict and step hand back is the caller's, buffer and all. Each output
 * owns its ArrayBuffer (src/model/executor.ts copyOut), so the usual worker hand-off,
 * `postMessage(y.data, [y.data.buffer])`, moves that output alone: no other output, earlier or
 * of the same call, loses its values, and posting without transfer copies only the output.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, type Model } from "../../src/index.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

type Out = { data: Float32Array; shape: number[] };

/**
 * LSTM(units) on 3 features: the last output, batch * units floats; with returnState also h
 * and c (three outputs of one call). Glorot initialisers: tfjs' orthogonal one is slow for
 * wide layers, and every weight is replaced by seeded values anyway.
 */
async function lstmModel(units: number, returnState = false): Promise<Model> {
  const x = tf.input({ shape: [null, 3] });
  const lstm = tf.layers.lstm({ units, returnState, recurrentInitializer: "glorotUniform" }).apply(x) as tf.SymbolicTensor | tf.SymbolicTensor[];
  const m = tf.model({ inputs: x, outputs: lstm });
  randomizeWeights(m, rngFor(`outputs lstm ${units}`));
  return loadModel(await artifactsOf(m));
}

function stepInput(t: number, batch = 1) {
  return { data: Float32Array.from({ length: batch * 3 }, (_, i) => Math.sin(0.7 * t + i)), shape: [batch, 3] };
}

/** Moves a buffer away as postMessage(x, [buffer]) does (it is detached here afterwards). */
const transfer = (b: ArrayBufferLike) => structuredClone(b, { transfer: [b as ArrayBuffer] });

describe("outputs are the caller's", () => {
  it("200 streamed outputs (24 floats each) keep their values while 200 more steps run", async () => {
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
    expect(new Set(outs.map((y) => y.data.buffer)).size).toBe(200);
  });

  it.each([1, 16, 24, 64])("transferring one output's buffer (%i floats) leaves every other output as it was", async (units) => {
    const model = await lstmModel(units);
    const s = model.createSession();
    const outs = Array.from({ length: 40 }, (_, t) => s.step(stepInput(t)) as Out);
    const copies = outs.map((y) => Array.from(y.data));
    const moved = transfer(outs[17].data.buffer);
    expect(outs[17].data.length, "the transferred output itself is detached").toBe(0);
    expect(Array.from(new Float32Array(moved)), "the receiver gets exactly that output").toEqual(copies[17]);
    outs.forEach((y, t) => t !== 17 && expect(Array.from(y.data), `step ${t}`).toEqual(copies[t]));
    // and the session goes on: its next output is what an untouched session gives
    const ref = model.createSession();
    for (let t = 0; t < 40; t++) ref.step(stepInput(t));
    expect(Array.from((s.step(stepInput(40)) as Out).data)).toEqual(Array.from((ref.step(stepInput(40)) as Out).data));
  });

  it("each output's buffer holds that output alone (posting it without transfer copies only its values)", async () => {
    for (const [units, batch] of [[1, 1], [16, 1], [24, 1], [16, 65]] as const) {
      const model = await lstmModel(units);
      const y = model.createSession({ batchSize: batch }).step(stepInput(0, batch)) as Out;
      expect(y.data.length).toBe(units * batch);
      expect(y.data.byteOffset).toBe(0);
      expect(y.data.buffer.byteLength).toBe(units * batch * 4);
      const p = model.predict({ data: new Float32Array(batch * 2 * 3).fill(0.25), shape: [batch, 2, 3] }) as Out;
      expect([p.data.byteOffset, p.data.buffer.byteLength]).toEqual([0, units * batch * 4]);
    }
  });

  it("the outputs of one call (return_state: output, h, c) own separate buffers", async () => {
    const model = await lstmModel(8, true);
    const ys = model.predict({ data: new Float32Array(2 * 4 * 3).fill(0.5), shape: [2, 4, 3] }) as Out[];
    expect(ys).toHaveLength(3);
    const copies = ys.map((y) => Array.from(y.data));
    transfer(ys[0].data.buffer);
    expect(Array.from(ys[1].data)).toEqual(copies[1]);
    expect(Array.from(ys[2].data)).toEqual(copies[2]);
    expect(new Set(ys.map((y) => y.data.buffer)).size).toBe(3);
  });
});
