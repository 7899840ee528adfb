/**
 * Where tfjs-layers (4.22) and Keras disagree, or where tfjs cannot run a configuration. Each
 * test pins tfjs' actual behaviour against the reference's "tfjs" semantics, and shows what
 * the "keras" semantics compute instead, so the runtime can choose knowingly
 * (test/reference/README.md lists the same facts).
 */
import { describe, expect, it } from "vitest";
import { ReferenceModel, toTensor64 } from "./index.ts";
import { REF_VS_TFJS } from "../tolerance.ts";
import { makeInput } from "../util/cases.ts";
import { assertAllClose, compareArrays } from "../util/compare.ts";
import { toKerasStyle } from "../util/converter.ts";
import { referenceOutputs } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { type InputTensor, initTfjs, loadTfjsModel, randomizeWeights, saveArtifacts, tfjsPredict, withCheapInitializers } from "../util/tfjs.ts";

const tfRaw = await initTfjs();
const tf = withCheapInitializers(tfRaw);

async function setup(label: string, build: () => ReturnType<typeof tf.model | typeof tf.sequential>) {
  const rng = rngFor(label);
  const model = build();
  randomizeWeights(model, rng.fork("weights"));
  const art = await saveArtifacts(model);
  const tfjsRef = ReferenceModel.fromArtifacts(art.modelJson, art.weights, { semantics: "tfjs" });
  const kerasRef = ReferenceModel.fromArtifacts(art.modelJson, art.weights, { semantics: "keras" });
  return { rng, model, art, tfjsRef, kerasRef };
}

function leftPadded(batch: number, time: number, label: string): InputTensor {
  return makeInput({ kind: "ids", vocab: 20, padding: "left" }, { batch, time }, rngFor(label));
}

describe("masking semantics: tfjs vs Keras", () => {
  it("GlobalAveragePooling1D: tfjs averages over every step (mask ignored); Keras over unmasked steps", async () => {
    const label = "semantics gap1d";
    const { rng, model, tfjsRef, kerasRef } = await setup(label, () => {
      const m = tf.sequential();
      m.add(tf.layers.embedding({ inputDim: 20, outputDim: 3, maskZero: true }));
      m.add(tf.layers.lstm({ units: 4, returnSequences: true }));
      m.add(tf.layers.globalAveragePooling1d());
      return m;
    });
    // Row 0 has 3 padded steps, row 1 none: the two semantics must differ on row 0 only.
    const x: InputTensor = { data: new Int32Array([0, 0, 0, 5, 6, 7, 1, 2, 3, 4, 5, 6]), shape: [2, 6] };
    const expected = tfjsPredict(model, [x]);
    assertAllClose(referenceOutputs(tfjsRef, [x]), expected, REF_VS_TFJS, `${label}; ${describeSeed(rng)}`);
    // Keras: the mean of the LSTM outputs over the 3 unmasked steps of row 0.
    const seqModel = ReferenceModel.fromArtifacts(
      ...(await (async () => {
        const s = tf.sequential();
        s.add(tf.layers.embedding({ inputDim: 20, outputDim: 3, maskZero: true }));
        s.add(tf.layers.lstm({ units: 4, returnSequences: true }));
        s.setWeights(model.getWeights());
        const a = await saveArtifacts(s);
        return [a.modelJson, a.weights] as const;
      })()),
    );
    const [seqOut] = seqModel.predict([toTensor64(x)]);
    const manual = new Float64Array(8);
    for (let k = 0; k < 4; k++) {
      for (let t = 3; t < 6; t++) manual[k] += seqOut.data[(0 * 6 + t) * 4 + k] / 3;
      for (let t = 0; t < 6; t++) manual[4 + k] += seqOut.data[(1 * 6 + t) * 4 + k] / 6;
    }
    const [keras] = kerasRef.predict([toTensor64(x)]);
    expect(compareArrays(keras.data, manual, [2, 4], { name: "f64", abs: 1e-12, rel: 1e-12 }).pass).toBe(true);
    expect(compareArrays(keras.data.subarray(0, 4), expected[0].data.subarray(0, 4), [4], REF_VS_TFJS).pass).toBe(false);
    expect(compareArrays(keras.data.subarray(4), expected[0].data.subarray(4), [4], REF_VS_TFJS).pass).toBe(true);
  });

  it("Bidirectional(return_sequences): tfjs carries the previous output over masked steps, Keras outputs zeros", async () => {
    const label = "semantics bidirectional mask";
    const { rng, model, tfjsRef, kerasRef } = await setup(label, () => {
      const m = tf.sequential();
      m.add(tf.layers.embedding({ inputDim: 20, outputDim: 3, maskZero: true }));
      m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, returnSequences: true }) as never, mergeMode: "concat" }));
      return m;
    });
    const x: InputTensor = { data: new Int32Array([4, 5, 0, 0, 0, 0, 6, 7]), shape: [2, 4] };
    const expected = tfjsPredict(model, [x]);
    assertAllClose(referenceOutputs(tfjsRef, [x]), expected, REF_VS_TFJS, `${label}; ${describeSeed(rng)}`);
    const [keras] = kerasRef.predict([toTensor64(x)]);
    const mask = [1, 1, 0, 0, 0, 0, 1, 1];
    for (let i = 0; i < 8; i++) {
      const k = Array.from(keras.data.subarray(i * 4, i * 4 + 4));
      const t = Array.from(expected[0].data.subarray(i * 4, i * 4 + 4));
      if (mask[i]) k.forEach((v, j) => expect(Math.abs(v - t[j])).toBeLessThan(1e-6));
      else expect(k).toEqual([0, 0, 0, 0]);
    }
    // tfjs: right padding keeps the forward output of step 1 at steps 2-3; left padding gives
    // zeros forward (initial state) and, backward, the state reached at the first real token.
    const fwd = (i: number) => Array.from(expected[0].data.subarray(i * 4, i * 4 + 2));
    expect(fwd(2)).toEqual(fwd(1));
    expect(fwd(3)).toEqual(fwd(1));
    expect(fwd(4)).toEqual([0, 0]);
  });

  it("mask leak: an RNN after a mask-dropping layer still receives the last mask tfjs saw", async () => {
    const label = "semantics mask leak";
    const { rng, model, tfjsRef, kerasRef } = await setup(label, () => {
      const m = tf.sequential();
      m.add(tf.layers.embedding({ inputDim: 20, outputDim: 3, maskZero: true }));
      m.add(tf.layers.lstm({ units: 3 }));
      m.add(tf.layers.repeatVector({ n: 5 }));
      m.add(tf.layers.lstm({ units: 2, returnSequences: true }));
      return m;
    });
    const x = leftPadded(3, 5, label);
    const expected = tfjsPredict(model, [x]);
    assertAllClose(referenceOutputs(tfjsRef, [x]), expected, REF_VS_TFJS, `${label}; ${describeSeed(rng)}`);
    // In tfjs the second LSTM outputs zeros at the embedding's padded steps; Keras does not mask.
    const [keras] = kerasRef.predict([toTensor64(x)]);
    let padded = 0;
    for (let i = 0; i < 15; i++) {
      if (x.data[i] !== 0) continue;
      padded++;
      expect(Array.from(expected[0].data.subarray(i * 2, i * 2 + 2))).toEqual([0, 0]);
      expect(Array.from(keras.data.subarray(i * 2, i * 2 + 2)).some((v) => v !== 0)).toBe(true);
    }
    expect(padded).toBeGreaterThan(0);
  });

  it("masked merge feeding an RNN: tfjs throws (its Merge.computeMask is broken), Keras ANDs the masks", async () => {
    const inp = tfRaw.input({ shape: [null], dtype: "int32" });
    const e = tf.layers.embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(inp) as never;
    const a = tf.layers.dense({ units: 3 }).apply(e) as never;
    const s = tf.layers.add().apply([e, a]) as never;
    const l = tf.layers.lstm({ units: 2, returnSequences: true }).apply(s) as never;
    const model = tfRaw.model({ inputs: inp, outputs: l });
    randomizeWeights(model, rngFor("semantics masked merge"));
    const x: InputTensor = { data: new Int32Array([0, 1, 2, 3, 1, 2, 0, 0]), shape: [2, 4] };
    expect(() => tfjsPredict(model, [x])).toThrow(/broadcast/);
    const art = await saveArtifacts(model);
    const [y] = ReferenceModel.fromArtifacts(art.modelJson, art.weights, { semantics: "keras" }).predict([toTensor64(x)]);
    // Keras: masked steps carry the previous output (zeros before the first real token).
    expect(Array.from(y.data.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(y.data.subarray(12, 14))).toEqual(Array.from(y.data.subarray(10, 12)));
  });
});

describe("what tfjs cannot run", () => {
  it("GRU reset_after=true: tfjs refuses the layer (so the reference stands alone there)", async () => {
    const m = tf.sequential();
    m.add(tf.layers.gru({ name: "gru", units: 3, inputShape: [null, 2] }));
    randomizeWeights(m, rngFor("semantics gru reset_after"));
    const art = toKerasStyle(await saveArtifacts(m), {
      patchLayer: (l) => (l.config.reset_after = true),
      patchWeight: (w) => (w.name.endsWith("bias") ? { ...w, shape: [2, 9], data: new Float32Array(18).fill(0.1) } : undefined),
    });
    await expect(loadTfjsModel(art)).rejects.toThrow(/reset_after/);
    expect(() => ReferenceModel.fromArtifacts(art.modelJson, art.weights)).not.toThrow();
  });

  it("Conv1D padding=causal: tfjs-layers throws NotImplementedError at predict", () => {
    const m = tf.sequential();
    m.add(tf.layers.conv1d({ filters: 2, kernelSize: 3, padding: "causal", inputShape: [null, 3] }));
    expect(() => tfjsPredict(m, [{ data: new Float32Array(15), shape: [1, 5, 3] }])).toThrow(/CAUSAL/);
  });
});

describe("graph forms", () => {
  it("initial_state: an RNN node with extra inbound tensors [x, h, c] (encoder-decoder)", async () => {
    const label = "semantics initial_state";
    const x = tfRaw.input({ shape: [null, 3] });
    const y = tfRaw.input({ shape: [null, 2] });
    const [, h, c] = tf.layers.lstm({ units: 4, returnState: true }).apply(x) as never[];
    const dec = tf.layers.lstm({ units: 4, returnSequences: true }).apply(y, { initialState: [h, c] }) as never;
    const gx = tf.layers.gru({ units: 5, returnState: true }).apply(x) as never[];
    const gdec = tf.layers.gru({ units: 5 }).apply(y, { initialState: [gx[1]] }) as never;
    const model = tfRaw.model({ inputs: [x, y], outputs: [dec, gdec] });
    const rng = rngFor(label);
    randomizeWeights(model, rng.fork("weights"));
    const art = await saveArtifacts(model);
    const inputs = [
      makeInput({ kind: "float", features: 3 }, { batch: 3, time: 5 }, rng.fork("x")),
      makeInput({ kind: "float", features: 2 }, { batch: 3, time: 4 }, rng.fork("y")),
    ];
    const ref = ReferenceModel.fromArtifacts(art.modelJson, art.weights);
    assertAllClose(referenceOutputs(ref, inputs), tfjsPredict(model, inputs), REF_VS_TFJS, `${label}; ${describeSeed(rng)}`);
  });
});
