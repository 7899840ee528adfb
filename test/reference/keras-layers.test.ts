/**
 * The reference's layers that tfjs cannot run, checked before they are trusted as oracles
 * (test/keras-layers): each against an independent derivation.
 * - CuDNNLSTM / CuDNNGRU (cuDNN's flat buffers and equations) against the plain LSTM / GRU
 *   (reset_after) fed the weights tf.keras' own loader makes of them (hdf5_format.py
 *   `_convert_rnn_weights`: each gate's kernel block `kernel.T.reshape(kernel.shape,
 *   order='F')`, recurrent blocks transposed, an LSTM's two biases added, a GRU's bias [2, 3u]).
 * - MultiHeadAttention with one head and identity projections against Attention with
 *   use_scale at 1/sqrt(key_dim).
 * - Attention's masks and causality against values worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { ReferenceModel } from "./index.ts";
import { HAND_F64 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { rngFor } from "../util/prng.ts";

type W = { name: string; shape: number[]; data: Float64Array };

const input = (name: string, shape: (number | null)[], dtype = "float32") => ({ class_name: "InputLayer", name, config: { name, batch_input_shape: [null, ...shape], dtype }, inbound_nodes: [] });
const layer = (class_name: string, name: string, config: Record<string, unknown>, inbound: unknown[][]) => ({ class_name, name, config: { name, ...config }, inbound_nodes: [inbound.map((r) => [...r, {}])] });
const functional = (layers: unknown[], inputs: string[], outputs: [string, number, number][]) =>
  ({ keras_version: "2.6.0", backend: "tensorflow", model_config: { class_name: "Functional", config: { name: "m", layers, input_layers: inputs.map((i) => [i, 0, 0]), output_layers: outputs } } });

const random = (rng: ReturnType<typeof rngFor>, shape: number[]) => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-0.8, 0.8));
const predict = (topology: unknown, weights: W[], x: { shape: number[]; data: Float64Array }) => new ReferenceModel(topology, weights, { semantics: "keras" }).predict([x]);

/** tf.keras' conversion of a CuDNN kernel block [K, u] (numpy: kernel.T.reshape(kernel.shape, order='F')), gate by gate. */
function kerasConvert(w: Float64Array, K: number, gates: number, u: number, transpose: boolean): Float64Array {
  const out = new Float64Array(w.length);
  for (let g = 0; g < gates; g++) {
    // the block, row-major [K][u]
    const block = (r: number, c: number) => w[r * gates * u + g * u + c];
    // transpose: the block's T; reshape with order F: element (r, c) of the [K, u] result is element r + K·c of T's column-major ravel
    for (let r = 0; r < K; r++) {
      for (let c = 0; c < u; c++) {
        let v: number;
        if (transpose) v = block(c, r);
        else {
          const m = r + K * c; // column-major index into T [u][K]: T[m % u][floor(m / u)] = block[floor(m / u)][m % u]
          v = block(Math.floor(m / u), m % u);
        }
        out[r * gates * u + g * u + c] = v;
      }
    }
  }
  return out;
}

describe("CuDNN layers: cuDNN's equations equal the Keras layer tf.keras converts them to", () => {
  it.each([["CuDNNLSTM", 4, 5, 3], ["CuDNNLSTM", 1, 3, 2], ["CuDNNGRU", 3, 6, 4], ["CuDNNGRU", 1, 2, 5]] as const)("%s units=%i inputs=%i", (cls, u, K, T) => {
    const rng = rngFor(`cudnn reference ${cls} ${u} ${K}`);
    const lstm = cls === "CuDNNLSTM";
    const g = lstm ? 4 : 3;
    const kernel = random(rng, [K, g * u]);
    const recurrent = random(rng, [u, g * u]);
    const bias = random(rng, [2 * g * u]);
    const x = { shape: [2, T, K], data: random(rng, [2 * T * K]) };
    const cudnn = predict(functional([input("x", [null, K]), layer(cls, "c", { units: u, return_sequences: true }, [["x", 0, 0]])], ["x"], [["c", 0, 0]]),
      [{ name: "c/kernel:0", shape: [K, g * u], data: kernel }, { name: "c/recurrent_kernel:0", shape: [u, g * u], data: recurrent }, { name: "c/bias:0", shape: [2 * g * u], data: bias }], x);
    const plainBias = lstm ? Float64Array.from({ length: 4 * u }, (_, i) => bias[i] + bias[4 * u + i]) : bias;
    const plain = predict(functional([input("x", [null, K]), layer(lstm ? "LSTM" : "GRU", "p", { units: u, return_sequences: true, activation: "tanh", recurrent_activation: "sigmoid", ...(lstm ? {} : { reset_after: true }) }, [["x", 0, 0]])], ["x"], [["p", 0, 0]]),
      [{ name: "p/kernel:0", shape: [K, g * u], data: kerasConvert(kernel, K, g, u, false) }, { name: "p/recurrent_kernel:0", shape: [u, g * u], data: kerasConvert(recurrent, u, g, u, true) },
        { name: "p/bias:0", shape: lstm ? [4 * u] : [2, 3 * u], data: plainBias }], x);
    assertClose(cudnn[0], plain[0], HAND_F64, `${cls} units=${u}`);
  });
});

describe("MultiHeadAttention with one head and identity projections is Attention scaled by 1/sqrt(key_dim)", () => {
  it("same outputs", () => {
    const rng = rngFor("mha vs attention");
    const D = 3;
    const eye = (rows: number, cols: number) => Float64Array.from({ length: rows * cols }, (_, i) => (Math.floor(i / cols) === i % cols ? 1 : 0));
    const x = { shape: [2, 4, D], data: random(rng, [2 * 4 * D]) };
    const mha = predict(functional([input("x", [null, D]), { ...layer("MultiHeadAttention", "mha", { num_heads: 1, key_dim: D, use_bias: false, attention_axes: [1] }, [["x", 0, 0]]), inbound_nodes: [[["x", 0, 0, { value: ["x", 0, 0] }]]] }], ["x"], [["mha", 0, 0]]),
      ["query", "key", "value", "attention_output"].map((s) => ({ name: `mha/${s}/kernel:0`, shape: s === "attention_output" ? [1, D, D] : [D, 1, D], data: eye(D, D) })), x);
    const att = predict(functional([input("x", [null, D]), layer("Attention", "att", { use_scale: true }, [["x", 0, 0], ["x", 0, 0]])], ["x"], [["att", 0, 0]]),
      [{ name: "att/scale:0", shape: [], data: Float64Array.of(1 / Math.sqrt(D)) }], x);
    assertClose(mha[0], att[0], HAND_F64, "one head");
  });
});

describe("Attention's masks and causality, by hand", () => {
  // q = k = v = x: one batch row, 3 steps of one feature
  const run = (config: Record<string, unknown>, args: Record<string, unknown>, xs: number[]) =>
    predict(functional([input("x", [3, 1]), { ...layer("Attention", "att", config, [["x", 0, 0], ["x", 0, 0]]), inbound_nodes: [[["x", 0, 0, args], ["x", 0, 0, args]]] }], ["x"], [["att", 0, 0]]),
      [], { shape: [1, 3, 1], data: Float64Array.from(xs) })[0].data;

  it("dot scores, softmax, weighted values", () => {
    const xs = [1, 0.5, -1];
    const out = run({}, {}, xs);
    xs.forEach((qi, i) => {
      const w = xs.map((k) => Math.exp(qi * k));
      const want = w.reduce((a, wi, j) => a + wi * xs[j], 0) / w.reduce((a, b) => a + b, 0);
      expect(Math.abs(out[i] - want)).toBeLessThan(1e-12);
    });
  });

  it("use_causal_mask: step i sees steps 0..i only; the first step is its own value", () => {
    const out = run({}, { use_causal_mask: true }, [1, 0.5, -1]);
    expect(out[0]).toBe(1);
    const w = [Math.exp(0.5 * 1), Math.exp(0.5 * 0.5)];
    expect(Math.abs(out[1] - (w[0] * 1 + w[1] * 0.5) / (w[0] + w[1]))).toBeLessThan(1e-12);
  });
});
