/**
 * The engine adapters: each engine's predict and stream (state carried across calls) agree
 * with the reference on the same weights, through the same calls the harness times. Covers a
 * feature model (lstm-64) and a token model with GRU reset_after=true (imdb-gru; tfjs engines
 * run its reset_after=false twin and are compared with that twin's reference).
 */
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngine } from "../../bench/engines/index.ts";
import type { Engine, EngineId, LoadedModel } from "../../bench/engines/types.ts";
import { makeInput, prefix, timestep, type BenchModel } from "../../bench/models.ts";
import { float64Output } from "../../bench/oracle.ts";
import { GATE } from "../../bench/tolerance.ts";
import { benchModel, expectClose } from "./helpers.ts";

const root = resolve(__dirname, "../..");
const ENGINES: EngineId[] = ["tfjs-cpu", "tfjs-wasm", "ort-web", "ort-node-1t", "rnn-wasm"];
const MODELS = ["lstm-64", "imdb-gru"];

describe.each(ENGINES)("engine %s", (id) => {
  let engine: Engine;
  const loaded = new Map<string, LoadedModel>();
  beforeAll(async () => {
    engine = await createEngine(id, { root, rnnWasmFrom: "src" });
  }, 60_000);
  afterAll(async () => {
    for (const m of loaded.values()) m.dispose();
    await engine.dispose();
    await tf.setBackend("cpu");
  });

  async function load(model: BenchModel): Promise<LoadedModel> {
    let m = loaded.get(model.def.id);
    if (!m) loaded.set(model.def.id, (m = await engine.load(model)));
    await m.activate?.();
    return m;
  }

  it.each(MODELS)("%s: predict, batch 2", async (modelId) => {
    const model = await benchModel(modelId);
    const variant = engine.variant(model);
    expect(variant.kind).toBe(id.startsWith("tfjs") && model.tfjsTwin ? "tfjs-twin" : "keras");
    const m = await load(model);
    const seed = model.def.seed + 31;
    const x = makeInput(model.def, 2, 12, seed);
    const want = float64Output(variant, x);
    expectClose(Float32Array.from(await m.predict(x)), want, GATE, `${id} ${modelId} predict`, seed);
  });

  it.for(MODELS)("%s: stream of 5 steps, reset, then again", async (modelId, ctx) => {
    const model = await benchModel(modelId);
    const variant = engine.variant(model);
    const m = await load(model);
    let stream;
    try {
      stream = await m.openStream();
    } catch (e) {
      // rnn-wasm before its session API exists: the harness reports "n/a" the same way.
      if (id === "rnn-wasm" && /createSession/.test((e as Error).message)) return ctx.skip();
      throw e;
    }
    const seed = model.def.seed + 32;
    const x = makeInput(model.def, 1, 5, seed);
    // the head after each step: the reference on each prefix
    const ref = Array.from({ length: 5 }, (_, t) => float64Output(variant, prefix(x, t + 1)));
    for (let pass = 0; pass < 2; pass++) {
      for (let t = 0; t < 5; t++) expectClose(Float32Array.from(await stream.step(timestep(x, t))), ref[t], GATE, `${id} ${modelId} pass ${pass} step ${t}`, seed);
      stream.reset();
    }
    // A later prefix differs from the first step, so carried state is really used.
    expect(Math.abs(ref[4][0] - ref[0][0])).toBeGreaterThan(1e-4);
  });
});
