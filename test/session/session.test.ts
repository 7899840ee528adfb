/**
 * Sessions: stepping through a sequence gives exactly predict's outputs (same kernels, no
 * drift), chunked runs equal one run, snapshots restore across models and processes, and
 * every misuse is a typed error.
 */
import * as tf from "@tensorflow/tfjs";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel, RnnWasmError, type Model } from "../../src/index.ts";
import { exportBundle } from "../../src/export.ts";
import { KERNEL_TWIN } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { rngFor } from "../util/prng.ts";
import { artifactsOf, randomizeWeights } from "./helpers.ts";
import { codeOf, expectError } from "../util/errors.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

type Builder = () => tf.LayersModel;
const T = 9;
const B = 3;

/** Streamable architectures: every op kind that carries state across time. */
const STREAMABLE: Record<string, { build: Builder; ids?: number }> = {
  "LSTM(5) -> LSTM(7)": {
    build: () => tf.sequential({ layers: [tf.layers.lstm({ units: 5, returnSequences: true, inputShape: [null, 4] }), tf.layers.lstm({ units: 7 })] }),
  },
  "GRU(9, sequences) -> TimeDistributed(Dense(2))": {
    build: () => tf.sequential({ layers: [tf.layers.gru({ units: 9, returnSequences: true, inputShape: [null, 4] }), tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) })] }),
  },
  "masked Embedding -> LSTM(6, sequences) -> GlobalAveragePooling1D -> Dense(1, sigmoid)": {
    ids: 13,
    build: () => tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 13, outputDim: 4, maskZero: true }),
        tf.layers.lstm({ units: 6, returnSequences: true }),
        tf.layers.dense({ units: 3 }), // keeps the mask
        tf.layers.globalAveragePooling1d(), // mask-aware in rnn-wasm, as in Keras
        tf.layers.dense({ units: 1, activation: "sigmoid" }),
      ],
    }),
  },
  // 3 rows of 128+ units take the batched recurrence (assembly/rnn/driver.ts, batchedRows: B·u >= 384)
  "LSTM(130, sequences) -> GRU(129), batched rows": {
    // glorotUniform: tfjs' default orthogonal initializer takes ~20 s at this size (weights are randomised anyway)
    build: () => tf.sequential({
      layers: [
        tf.layers.lstm({ units: 130, returnSequences: true, inputShape: [null, 4], recurrentInitializer: "glorotUniform" }),
        tf.layers.gru({ units: 129, recurrentInitializer: "glorotUniform" }),
      ],
    }),
  },
  "causal Conv1D(k=3, d=2) -> SimpleRNN(4)": {
    build: () => tf.sequential({ layers: [tf.layers.conv1d({ filters: 5, kernelSize: 3, dilationRate: 2, padding: "causal", activation: "relu", inputShape: [null, 4] }), tf.layers.simpleRNN({ units: 4 })] }),
  },
};

function sequenceInput(name: string, ids: number | undefined): { data: Float32Array | Int32Array; shape: number[] } {
  const rng = rngFor(`session input ${name}`);
  if (ids) {
    // zeros (masked) at the start of row 0 and in the middle of row 1
    const d = new Int32Array(B * T).map((_, i) => (i < 3 || (i >= T + 4 && i < T + 6) ? 0 : rng.int(1, ids)));
    return { data: d, shape: [B, T] };
  }
  return { data: rng.float32Array(B * T * 4, (r) => r.uniform(-1, 1)), shape: [B, T, 4] };
}

/** The first t timesteps of a [B, T, ...] input. */
function prefix(x: { data: Float32Array | Int32Array; shape: number[] }, t: number, from = 0) {
  const per = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const [b, full] = x.shape;
  const out = new (x.data.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(b * (t - from) * per);
  for (let i = 0; i < b; i++) out.set(x.data.subarray((i * full + from) * per, (i * full + t) * per), i * (t - from) * per);
  return { data: out, shape: [b, t - from, ...x.shape.slice(2)] };
}

async function load(build: Builder, label: string): Promise<Model> {
  const m = build();
  randomizeWeights(m, rngFor(`weights ${label}`));
  return loadModel(await artifactsOf(m));
}

describe.each(Object.entries(STREAMABLE))("%s", (name, { build, ids }) => {
  it("step t equals predict on the first t steps, bit for bit", async () => {
    const model = await load(build, name);
    const x = sequenceInput(name, ids);
    const session = model.createSession({ batchSize: B });
    for (let t = 1; t <= T; t++) {
      const step = session.step(prefix(x, t, t - 1)) as { data: Float32Array; shape: number[] };
      const full = model.predict(prefix(x, t)) as { data: Float32Array; shape: number[] };
      // sequence heads: predict gives [B, t, F]; the step gives the last timestep [B, F]
      let expected = full;
      if (full.shape.length === 3) {
        const F = full.shape[2];
        const last = new Float32Array(B * F);
        for (let b = 0; b < B; b++) last.set(full.data.subarray((b * t + t - 1) * F, (b * t + t) * F), b * F);
        expected = { data: last, shape: [B, F] };
      }
      assertClose(step, expected, KERNEL_TWIN, `${name}: step ${t} vs predict`);
    }
  });

  it("a step given as [B, ...features] (the typed-array fast path), [B, 1, ...features], Float64Array or nested arrays gives the same bits", async () => {
    const model = await load(build, name);
    const x = sequenceInput(name, ids);
    const feat = x.shape.slice(2);
    const per = feat.reduce((a, b) => a * b, 1);
    const forms = {
      fast: (s: { data: Float32Array | Int32Array }) => ({ data: s.data, shape: [B, ...feat] }),
      withTimeAxis: (s: { data: Float32Array | Int32Array; shape: number[] }) => s,
      float64: (s: { data: Float32Array | Int32Array }) => ({ data: Float64Array.from(s.data) as unknown as Float32Array, shape: [B, ...feat] }),
      nested: (s: { data: Float32Array | Int32Array }) => (per === 1 && ids ? Array.from(s.data) : Array.from({ length: B }, (_, b) => Array.from(s.data.subarray(b * per, (b + 1) * per)))),
    };
    const sessions = Object.fromEntries(Object.keys(forms).map((f) => [f, model.createSession({ batchSize: B })]));
    for (let t = 1; t <= T; t++) {
      const xt = prefix(x, t, t - 1);
      const outs = Object.entries(forms).map(([f, make]) => [f, Array.from((sessions[f].step(make(xt) as never) as { data: Float32Array }).data)] as const);
      for (const [f, out] of outs) expect(out, `${name}: step ${t}, ${f} vs fast`).toEqual(outs[0][1]);
    }
    // the fast path's checks: a right value count in the wrong shape, a NaN, a wrong batch
    const s = sessions.fast;
    const code = (v: unknown) => codeOf(() => s.step(v as never));
    const xt = forms.fast(prefix(x, 1));
    if (!ids) {
      expect(code({ data: xt.data, shape: [B * per] })).toBe("E_SHAPE");
      const bad = Float32Array.from(xt.data);
      bad[per + 1] = NaN;
      expect(code({ data: bad, shape: xt.shape })).toBe("E_VALUE");
      expect(code({ data: xt.data.subarray(per), shape: [B - 1, ...feat] })).toBe("E_SHAPE");
    } else {
      expect(code({ data: Int32Array.from(xt.data, () => ids), shape: xt.shape })).toBe("E_TOKEN_RANGE");
      expect(code({ data: xt.data.subarray(1), shape: [B - 1] })).toBe("E_SHAPE");
    }
  });

  it("runs in chunks equal one run, and reset starts over", async () => {
    const model = await load(build, name);
    const x = sequenceInput(name, ids);
    const one = model.createSession({ batchSize: B }).run(x) as { data: Float32Array; shape: number[] };
    const s = model.createSession({ batchSize: B });
    s.run(prefix(x, 4));
    const rest = s.run(prefix(x, T, 4)) as { data: Float32Array; shape: number[] };
    const whole = model.predict(x) as { data: Float32Array; shape: number[] };
    if (whole.shape.length === 3) {
      // sequence output: the second chunk is the tail of the whole sequence
      assertClose(rest, prefix(whole as never, T, 4) as never, KERNEL_TWIN, `${name}: chunked tail`);
    } else {
      assertClose(rest, whole, KERNEL_TWIN, `${name}: chunked vs predict`);
      assertClose(one, whole, KERNEL_TWIN, `${name}: one run vs predict`);
    }
    s.reset();
    const again = s.run(x) as { data: Float32Array; shape: number[] };
    assertClose(again, whole, KERNEL_TWIN, `${name}: after reset`);
  });

  it("sessions interleaved on one model (one compiled plan, each its own state) equal each alone", async () => {
    const model = await load(build, name);
    const x = sequenceInput(name, ids);
    // the second session reads the batch rows in reverse order: different inputs, same shapes
    const per = x.data.length / B;
    const flipped = { data: x.data.slice(), shape: x.shape };
    for (let b = 0; b < B; b++) flipped.data.set(x.data.subarray((B - 1 - b) * per, (B - b) * per), b * per);
    const alone = [x, flipped].map((input) => {
      const s = model.createSession({ batchSize: B });
      return Array.from({ length: T }, (_, t) => (s.step(prefix(input, t + 1, t)) as { data: Float32Array }).data.slice());
    });
    const [s0, s1] = [model.createSession({ batchSize: B }), model.createSession({ batchSize: B })];
    for (let t = 0; t < T; t++) {
      const y1 = s1.step(prefix(flipped, t + 1, t)) as { data: Float32Array; shape: number[] };
      if (t % 3 === 2) model.predict(prefix(x, t + 1)); // another plan and arena in between
      const y0 = s0.step(prefix(x, t + 1, t)) as { data: Float32Array; shape: number[] };
      assertClose(y0, { data: alone[0][t], shape: y0.shape }, KERNEL_TWIN, `${name}: session 0 step ${t + 1}`);
      assertClose(y1, { data: alone[1][t], shape: y1.shape }, KERNEL_TWIN, `${name}: session 1 step ${t + 1}`);
    }
  });

  it("steps after the first allocate no kernel memory and reuse one plan; earlier outputs stay intact", async () => {
    const model = await load(build, name);
    const x = sequenceInput(name, ids);
    const session = model.createSession({ batchSize: B });
    const internals = model as unknown as { kernels: { usedBytes: number; memoryBytes: number }; executor: { plans: unknown[] } };
    const first = session.step(prefix(x, 1, 0)) as { data: Float32Array };
    const kept = first.data.slice();
    const used = internals.kernels.usedBytes;
    const memory = internals.kernels.memoryBytes;
    const plan = internals.executor.plans[0];
    expect(internals.executor.plans.length).toBe(1);
    for (let t = 2; t <= T; t++) {
      session.step(prefix(x, t, t - 1));
      expect(internals.kernels.usedBytes, `${name}: kernel bytes in use after step ${t}`).toBe(used);
      expect(internals.kernels.memoryBytes, `${name}: memory size after step ${t}`).toBe(memory);
      expect(internals.executor.plans, `${name}: plans after step ${t}`).toEqual([plan]);
    }
    // outputs are copies, not views of kernel memory the next step overwrites
    expect(Array.from(first.data)).toEqual(Array.from(kept));
  });

  it("predict and sessions of two batch sizes interleaved on one model: each keeps its compiled plan, every output equals the same call made alone", async () => {
    const x = sequenceInput(name, ids);
    const firstRow = (v: { data: Float32Array | Int32Array; shape: number[] }) => ({ data: v.data.subarray(0, v.data.length / B), shape: [1, ...v.shape.slice(1)] });
    const bits = (y: unknown) => Array.from((y as { data: Float32Array }).data);
    // alone: each kind of call on a model of its own
    const [refB, ref1, refP] = await Promise.all([load(build, name), load(build, name), load(build, name)]);
    const sB = refB.createSession({ batchSize: B });
    const s1 = ref1.createSession({ batchSize: 1 });
    const alone = Array.from({ length: T }, (_, i) => [bits(sB.step(prefix(x, i + 1, i))), bits(s1.step(firstRow(prefix(x, i + 1, i))))]);
    const predictAlone = bits(refP.predict(prefix(x, T)));
    // together on one model: the three calls alternate every step
    const model = await load(build, name);
    const internals = model as unknown as { executor: { plans: { calls: unknown }[] } };
    const [mB, m1] = [model.createSession({ batchSize: B }), model.createSession({ batchSize: 1 })];
    let compiled: unknown[] = [];
    for (let t = 1; t <= T; t++) {
      expect(bits(mB.step(prefix(x, t, t - 1))), `${name}: batch-${B} step ${t}`).toEqual(alone[t - 1][0]);
      expect(bits(m1.step(firstRow(prefix(x, t, t - 1)))), `${name}: batch-1 step ${t}`).toEqual(alone[t - 1][1]);
      expect(bits(model.predict(prefix(x, T))), `${name}: predict after step ${t}`).toEqual(predictAlone);
      // the arena settles at the largest plan by the second round; from then on nothing recompiles
      if (t === 2) compiled = internals.executor.plans.map((p) => p.calls);
    }
    expect(internals.executor.plans.length).toBe(3);
    internals.executor.plans.forEach((p, i) => expect(p.calls, `${name}: plan ${i} recompiled`).toBe(compiled[i]));
  });

  it("getState/setState resumes in another session exactly", async () => {
    const model = await load(build, name);
    const x = sequenceInput(name, ids);
    const a = model.createSession({ batchSize: B });
    a.run(prefix(x, 5));
    const snap = a.getState();
    const tailA = a.run(prefix(x, T, 5));
    const b = model.createSession({ batchSize: B });
    b.setState(snap);
    const tailB = b.run(prefix(x, T, 5));
    assertClose(tailB as never, tailA as never, KERNEL_TWIN, `${name}: restored session`);
  });
});

describe("snapshots across processes", () => {
  it("a state saved in one Node process resumes in another with the same bundle", async () => {
    const m = STREAMABLE["LSTM(5) -> LSTM(7)"].build();
    randomizeWeights(m, rngFor("cross-process"));
    const bundle = await exportBundle(m);
    const dir = mkdtempSync(join(tmpdir(), "rnn-session-"));
    writeFileSync(join(dir, "m.rnnb"), bundle);
    const x = sequenceInput("cross", undefined);
    writeFileSync(join(dir, "x.json"), JSON.stringify({ data: Array.from(x.data), shape: x.shape }));
    const script = (phase: string) => `
      import "${resolve("src/node.ts")}";
      import { loadModel } from "${resolve("src/index.ts")}";
      import { readFileSync, writeFileSync } from "node:fs";
      const m = await loadModel(readFileSync("${dir}/m.rnnb"));
      const x = JSON.parse(readFileSync("${dir}/x.json", "utf8"));
      const per = 4, Bn = x.shape[0], Tn = x.shape[1];
      const slice = (a, b) => { const d = []; for (let i = 0; i < Bn; i++) d.push(...x.data.slice((i * Tn + a) * per, (i * Tn + b) * per)); return { data: Float32Array.from(d), shape: [Bn, b - a, per] }; };
      const s = m.createSession({ batchSize: Bn });
      if ("${phase}" === "save") { s.run(slice(0, 5)); writeFileSync("${dir}/state.bin", s.getState()); }
      else { s.setState(new Uint8Array(readFileSync("${dir}/state.bin"))); const y = s.run(slice(5, Tn)); writeFileSync("${dir}/y.json", JSON.stringify(Array.from(y.data))); }
    `;
    for (const phase of ["save", "resume"]) {
      writeFileSync(join(dir, `${phase}.mts`), script(phase));
      execFileSync(process.execPath, ["--import", "tsx", join(dir, `${phase}.mts`)], { stdio: "pipe" });
    }
    // the child processes run without Node's relaxed-SIMD flag: compare with the same build
    const model = await loadModel(bundle, { simd: "baseline" });
    const expected = model.predict(x) as { data: Float32Array; shape: number[] };
    const got = JSON.parse((await import("node:fs")).readFileSync(join(dir, "y.json"), "utf8")) as number[];
    assertClose({ data: got, shape: expected.shape }, expected, KERNEL_TWIN, "resumed in a second process");
  }, 60_000);
});

describe("refusals and bad input", () => {
  it("models that cannot stream say why with E_NOT_STREAMABLE", async () => {
    const cases: [string, Builder, RegExp][] = [
      ["bidirectional", () => tf.sequential({ layers: [tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3 }) as never, inputShape: [null, 2] })] }), /backwards/],
      ["go_backwards", () => tf.sequential({ layers: [tf.layers.gru({ units: 3, goBackwards: true, inputShape: [null, 2] })] }), /backwards/],
      ["same conv", () => tf.sequential({ layers: [tf.layers.conv1d({ filters: 2, kernelSize: 3, padding: "same", inputShape: [null, 2] }), tf.layers.lstm({ units: 2 })] }), /causal/],
      ["pooling", () => tf.sequential({ layers: [tf.layers.maxPooling1d({ poolSize: 2, inputShape: [8, 2] }), tf.layers.lstm({ units: 2 })] }), /pools/],
      ["flatten", () => tf.sequential({ layers: [tf.layers.lstm({ units: 2, returnSequences: true, inputShape: [4, 2] }), tf.layers.flatten()] }), /time axis/],
    ];
    for (const [label, build, why] of cases) {
      const model = await load(build, label);
      await expectError(() => model.createSession(), "E_NOT_STREAMABLE", { message: why });
    }
  });

  it("wrong batch, wrong shape, ids out of range, foreign and damaged snapshots, disposal", async () => {
    const model = await load(STREAMABLE["masked Embedding -> LSTM(6, sequences) -> GlobalAveragePooling1D -> Dense(1, sigmoid)"].build, "bad");
    const other = await load(STREAMABLE["LSTM(5) -> LSTM(7)"].build, "other");
    const s = model.createSession({ batchSize: 2 });
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(RnnWasmError);
        return (e as RnnWasmError).code;
      }
      return "no error";
    };
    expect(code(() => s.step([1, 2, 3]))).toBe("E_SHAPE"); // 3 ids for a batch of 2
    expect(code(() => s.step({ data: new Int32Array([1, 99]), shape: [2] }))).toBe("E_TOKEN_RANGE");
    expect(code(() => s.step({ data: new Int32Array([1, -1]), shape: [2] }))).toBe("E_TOKEN_RANGE");
    expect(code(() => model.createSession({ batchSize: 0 }))).toBe("E_ARGUMENT");
    const good = s.step([1, 2]);
    expect((good as { shape: number[] }).shape).toEqual([2, 1]);
    const snap = s.getState();
    const flipped = snap.slice();
    flipped[30] ^= 0x40;
    expect(code(() => s.setState(flipped))).toBe("E_STATE_CORRUPT");
    expect(code(() => s.setState(snap.subarray(0, 10)))).toBe("E_STATE_CORRUPT");
    expect(code(() => model.createSession({ batchSize: 3 }).setState(snap))).toBe("E_STATE_MISMATCH");
    expect(code(() => other.createSession({ batchSize: 2 }).setState(snap))).toBe("E_STATE_MISMATCH");
    // after all that the session and the other model still work
    s.setState(snap);
    expect(Array.from((s.step([3, 4]) as { data: Float32Array }).data).every(Number.isFinite)).toBe(true);
    const x = sequenceInput("other", undefined);
    expect(Array.from((other.predict(x) as { data: Float32Array }).data).every(Number.isFinite)).toBe(true);
    s.dispose();
    expect(code(() => s.step([1, 2]))).toBe("E_DISPOSED");
    const s2 = model.createSession({ batchSize: 2 });
    model.dispose();
    expect(code(() => s2.step([1, 2]))).toBe("E_DISPOSED");
    expect(code(() => model.createSession())).toBe("E_DISPOSED");
  });
});
