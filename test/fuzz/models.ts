/**
 * Small real models the fuzzers start from: between them every op kind of the runtime
 * (embedding with and without mask_zero, dense, LSTM / GRU / SimpleRNN, Bidirectional,
 * stateful layers, Conv1D causal and valid, pooling, global pooling, masking, layer and batch
 * normalisation, reshape, repeat, merges), saved by tfjs exactly as model.save() writes them.
 */
import { type Artifacts, initTfjs, saveArtifacts } from "../util/tfjs.ts";

export async function fuzzArtifacts(): Promise<Record<string, Artifacts>> {
  const tf = await initTfjs();
  const L = tf.layers;
  const seq = (layers: unknown[]) => saveArtifacts(tf.sequential({ layers: layers as never }));
  const functional = () => {
    const a = tf.input({ shape: [null, 3], name: "a" });
    const b = tf.input({ shape: [null, 3], name: "b" });
    const masked = L.masking({ maskValue: 0, name: "mask" }).apply(a) as ReturnType<typeof tf.input>;
    const x = L.lstm({ units: 4, returnSequences: true, name: "la" }).apply(masked) as ReturnType<typeof tf.input>;
    const y = L.gru({ units: 4, returnSequences: true, name: "gb" }).apply(b) as ReturnType<typeof tf.input>;
    const sum = L.add({ name: "sum" }).apply([x, y]) as ReturnType<typeof tf.input>;
    const cat = L.concatenate({ name: "cat" }).apply([sum, y]) as ReturnType<typeof tf.input>;
    const pooled = L.globalAveragePooling1d({ name: "gap" }).apply(cat) as ReturnType<typeof tf.input>;
    return saveArtifacts(tf.model({ inputs: [a, b], outputs: L.dense({ units: 2, activation: "softmax", name: "head" }).apply(pooled) as ReturnType<typeof tf.input>, name: "two_inputs" }));
  };
  return {
    text: await seq([L.embedding({ inputDim: 50, outputDim: 6, inputLength: 7, maskZero: true, name: "emb" }), L.lstm({ units: 5, name: "lstm" }), L.dense({ units: 1, activation: "sigmoid", name: "out" })]),
    conv: await seq([
      L.conv1d({ filters: 4, kernelSize: 3, padding: "causal", inputShape: [null, 2], name: "conv" }),
      L.maxPooling1d({ poolSize: 1, name: "pool" }),
      L.gru({ units: 3, returnSequences: true, name: "gru" }),
      L.layerNormalization({ name: "ln" }),
      L.timeDistributed({ layer: L.dense({ units: 2 }), name: "td" }),
    ]),
    valid: await seq([L.conv1d({ filters: 3, kernelSize: 2, strides: 2, inputShape: [8, 2], name: "cv" }), L.averagePooling1d({ poolSize: 2, name: "ap" }), L.flatten({ name: "fl" }), L.dense({ units: 2, name: "d" })]),
    bidi: await seq([L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }), inputShape: [4, 2], name: "bi" }), L.batchNormalization({ name: "bn" }), L.globalMaxPooling1d({ name: "gmp" })]),
    repeat: await seq([L.simpleRNN({ units: 3, inputShape: [3, 1], name: "enc" }), L.repeatVector({ n: 2, name: "rep" }), L.lstm({ units: 3, returnSequences: true, name: "dec" }), L.reshape({ targetShape: [6], name: "rs" })]),
    // a global pool straight on the model input (session state sized by the input's features)
    pool: await seq([L.globalMaxPooling1d({ inputShape: [null, 2], name: "gmp_in" })]),
    stateful: await seq([L.lstm({ units: 3, stateful: true, batchInputShape: [1, 2, 2], returnSequences: true, name: "st" }), L.dense({ units: 1, name: "o" })]),
    functional: await functional(),
  };
}
