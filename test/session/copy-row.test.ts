/**
 * Session.copyRow: a batch row's state copied into a row of another session of the same model
 * (or the same session) continues exactly as the row would have: for every kind of state a
 * session carries (LSTM h and c, GRU h, a pooling's running sum and count, a causal Conv1D's
 * history, an ONNX graph's state pairs). Bad rows and other models are typed errors that copy
 * nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportSileroVad } from "../../src/export.ts";
import { loadModel, type Model, type Session } from "../../src/index.ts";
import { codeOf } from "../util/errors.ts";
import { sileroOnnx } from "../vad/audio.ts";
import { EXACT_F32 } from "../tolerance.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const T = 8;

const MODELS: Record<string, { build?: () => tf.LayersModel; ids?: number; features: number[] }> = {
  "LSTM(5) -> GRU(7)": { features: [4], build: () => tf.sequential({ layers: [tf.layers.lstm({ units: 5, returnSequences: true, inputShape: [null, 4] }), tf.layers.gru({ units: 7 })] }) },
  "masked Embedding -> LSTM(6, sequences) -> GlobalAveragePooling1D": {
    ids: 13,
    features: [],
    build: () => tf.sequential({ layers: [tf.layers.embedding({ inputDim: 13, outputDim: 4, maskZero: true }), tf.layers.lstm({ units: 6, returnSequences: true }), tf.layers.globalAveragePooling1d()] }),
  },
  "causal Conv1D(k=3, d=2) -> SimpleRNN(4)": {
    features: [4],
    build: () => tf.sequential({ layers: [tf.layers.conv1d({ filters: 5, kernelSize: 3, dilationRate: 2, padding: "causal", inputShape: [null, 4] }), tf.layers.simpleRNN({ units: 4 })] }),
  },
  "Silero VAD v5 (ONNX state pairs)": { features: [576] },
};

async function load(name: string): Promise<Model> {
  const def = MODELS[name];
  if (!def.build) return loadModel(await exportSileroVad(sileroOnnx("silero_vad_v5"), { sampleRate: 16000 }));
  const m = def.build();
  randomizeWeights(m, rngFor(`copyRow weights ${name}`));
  const model = await loadModel(await artifactsOf(m));
  m.dispose();
  return model;
}

/** Step t for `rows` batch rows: ids or features, from a seeded generator per (row, t). */
function stepInput(name: string, rows: number[], t: number): { data: Float32Array | Int32Array; shape: number[] } {
  const def = MODELS[name];
  const per = def.features.reduce((a, b) => a * b, 1);
  const parts = rows.map((r) => {
    const rng = rngFor(`copyRow ${name} row ${r} t ${t}`);
    return def.ids ? Int32Array.of(t === 1 && r === 0 ? 0 : rng.int(1, def.ids - 1)) : rng.float32Array(per, (g) => g.uniform(-0.5, 0.5));
  });
  const data = def.ids ? new Int32Array(rows.length) : new Float32Array(rows.length * per);
  parts.forEach((p, i) => data.set(p as never, i * p.length));
  return { data, shape: [rows.length, ...(def.features.length ? def.features : [])] };
}

const outOf = (y: unknown) => (y as { data: Float32Array }).data;

/** Element by element within EXACT_F32 (the same kernels; only batched and single-row sums may differ). */
function assertClose(got: Float32Array, want: Float32Array, tol: typeof EXACT_F32, context: string): void {
  expect(got.length, context).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${context}, element ${i}: ${got[i]} vs ${want[i]} (${tol.name})`).toBeLessThanOrEqual(tol.abs + tol.rel * Math.abs(want[i]));
}

describe.each(Object.keys(MODELS))("%s", (name) => {
  let model: Model;
  beforeAll(async () => {
    model = await load(name);
  });

  it("rows moved into batch-1 sessions, back into another batch, and within one session continue as they would have", () => {
    const all = model.createSession({ batchSize: 3 });
    for (let t = 0; t < T / 2; t++) all.step(stepInput(name, [0, 1, 2], t));
    // each row alone, and rows 2 and 0 swapped into a batch-2 session
    const alone: Session[] = [0, 1, 2].map((r) => {
      const s = model.createSession({ batchSize: 1 });
      all.copyRow(r, s, 0);
      return s;
    });
    const pair = model.createSession({ batchSize: 2 });
    alone[2].copyRow(0, pair, 0);
    all.copyRow(0, pair, 1);
    const within = model.createSession({ batchSize: 3 });
    all.copyRow(1, within, 2);
    within.copyRow(2, within, 0); // the same session: row 2 -> row 0
    for (let t = T / 2; t < T; t++) {
      const want = outOf(all.step(stepInput(name, [0, 1, 2], t)));
      const per = want.length / 3;
      alone.forEach((s, r) => assertClose(outOf(s.step(stepInput(name, [r], t))), want.subarray(r * per, (r + 1) * per), EXACT_F32, `row ${r} alone, t ${t}`));
      const p = outOf(pair.step(stepInput(name, [2, 0], t)));
      assertClose(p.subarray(0, per), want.subarray(2 * per, 3 * per), EXACT_F32, `row 2 in a pair, t ${t}`);
      assertClose(p.subarray(per), want.subarray(0, per), EXACT_F32, `row 0 in a pair, t ${t}`);
      const w = outOf(within.step(stepInput(name, [1, 0, 1], t)));
      assertClose(w.subarray(0, per), want.subarray(per, 2 * per), EXACT_F32, `row 1 moved within a session, t ${t}`);
    }
    for (const s of [all, pair, within, ...alone]) s.dispose();
  });

  it("refuses rows outside either batch, another model's session and disposed sessions, copying nothing", async () => {
    const a = model.createSession({ batchSize: 2 });
    const b = model.createSession({ batchSize: 1 });
    a.step(stepInput(name, [0, 1], 0));
    const before = b.getState();
    for (const [from, to] of [[2, 0], [-1, 0], [0, 1], [0.5, 0], [NaN, 0], [0, -1]]) expect(codeOf(() => a.copyRow(from, b, to)), `${from} -> ${to}`).toBe("E_ARGUMENT");
    const other = await load(name);
    expect(codeOf(() => a.copyRow(0, other.createSession({ batchSize: 1 }), 0))).toBe("E_ARGUMENT");
    other.dispose();
    expect(b.getState()).toEqual(before);
    const gone = model.createSession({ batchSize: 1 });
    gone.dispose();
    expect(codeOf(() => a.copyRow(0, gone, 0))).toBe("E_DISPOSED");
    expect(codeOf(() => gone.copyRow(0, a, 0))).toBe("E_DISPOSED");
    a.dispose();
    b.dispose();
  });
});

describe("sessions of several batch sizes interleaved on a graph model", () => {
  it("each steps as it would alone (tensor ops' descriptors survive another plan's run)", async () => {
    const model = await load("Silero VAD v5 (ONNX state pairs)");
    const name = "Silero VAD v5 (ONNX state pairs)";
    const sizes = [1, 2, 3];
    const rows = (b: number) => Array.from({ length: b }, (_, i) => i);
    // alone: each batch size on its own model instance
    const want = new Map<number, Float32Array[]>();
    for (const b of sizes) {
      const m = await load(name);
      const s = m.createSession({ batchSize: b });
      want.set(b, Array.from({ length: 4 }, (_, t) => outOf(s.step(stepInput(name, rows(b), t))).slice()));
      m.dispose();
    }
    const sessions = sizes.map((b) => model.createSession({ batchSize: b }));
    for (let t = 0; t < 4; t++) {
      sessions.forEach((s, i) => assertClose(outOf(s.step(stepInput(name, rows(sizes[i]), t))), want.get(sizes[i])![t], EXACT_F32, `batch ${sizes[i]}, t ${t}`));
    }
    model.dispose();
  });
});
