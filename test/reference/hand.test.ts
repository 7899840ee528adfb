/**
 * The reference against values derived by hand from the Keras equations (float64, written out
 * here independently of test/reference/*.ts), for what tfjs cannot check: GRU reset_after=true
 * (Keras' default, cuDNN-compatible), Keras 3 hard_sigmoid, exponential, causal Conv1D; plus
 * the numeric building blocks (erf, float16, quantisation, TF 'same' padding arithmetic).
 */
import { describe, expect, it } from "vitest";
import { ReferenceModel, activations, decodeFloat16, decodeWeights } from "./index.ts";
import { window1d } from "./layers.ts";
import { HAND_F64 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed, rngFor } from "../util/prng.ts";

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** A Sequential topology in converter form around one layer config. */
function topology(layers: object[], kerasVersion = "2.6.0") {
  return { keras_version: kerasVersion, backend: "tensorflow", model_config: { class_name: "Sequential", config: { name: "sequential", layers } } };
}

function w(name: string, shape: number[], data: number[]) {
  return { name, shape, data: Float64Array.from(data) };
}

describe("GRU reset_after=true by hand (Keras gru.py, implementation 2)", () => {
  const rng = rngFor("hand gru reset_after");
  const d = 3;
  const u = 2;
  const W = Array.from({ length: d * 3 * u }, () => rng.uniform(-1, 1));
  const U = Array.from({ length: u * 3 * u }, () => rng.uniform(-1, 1));
  const B = Array.from({ length: 2 * 3 * u }, () => rng.nonZero(0.1, 0.6));
  const xs = [
    [0.5, -1.25, 2],
    [-0.3, 0.8, 0.1],
    [1.5, 0.2, -0.7],
  ];

  /** h' for one step, spelled out gate by gate: z, r from x W + b_in + h U + b_rec, hh with r applied after U. */
  function step(x: number[], h: number[]): number[] {
    const col = (M: number[], rows: number, j: number, v: number[]) => v.reduce((s, vi, i) => s + vi * M[i * 3 * u + j], 0);
    const out: number[] = [];
    for (let j = 0; j < u; j++) {
      const xz = col(W, d, j, x) + B[j];
      const xr = col(W, d, u + j, x) + B[u + j];
      const xh = col(W, d, 2 * u + j, x) + B[2 * u + j];
      const rz = col(U, u, j, h) + B[3 * u + j];
      const rr = col(U, u, u + j, h) + B[3 * u + u + j];
      const rh = col(U, u, 2 * u + j, h) + B[3 * u + 2 * u + j];
      const z = sig(xz + rz);
      const r = sig(xr + rr);
      const hh = Math.tanh(xh + r * rh);
      out.push(z * h[j] + (1 - z) * hh);
    }
    return out;
  }

  const model = (extra: object = {}) =>
    new ReferenceModel(
      topology([
        { class_name: "InputLayer", config: { name: "in", batch_input_shape: [null, null, d], dtype: "float32" } },
        {
          class_name: "GRU",
          config: { name: "gru", units: u, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true, reset_after: true, return_sequences: true, ...extra },
        },
      ]),
      [w("gru/gru_cell/kernel", [d, 3 * u], W), w("gru/gru_cell/recurrent_kernel", [u, 3 * u], U), w("gru/gru_cell/bias", [2, 3 * u], B)],
    );

  it("three steps from a zero state", () => {
    const h1 = step(xs[0], [0, 0]);
    const h2 = step(xs[1], h1);
    const h3 = step(xs[2], h2);
    const [y] = model().predict([{ shape: [1, 3, d], data: Float64Array.from(xs.flat()) }]);
    assertClose(y, { data: [...h1, ...h2, ...h3], shape: [1, 3, u] }, HAND_F64, `gru reset_after; ${describeSeed(rng)}`);
  });

  it("go_backwards: steps run last-to-first and the sequence stays in processing order", () => {
    const h1 = step(xs[2], [0, 0]);
    const h2 = step(xs[1], h1);
    const h3 = step(xs[0], h2);
    const [y] = model({ go_backwards: true }).predict([{ shape: [1, 3, d], data: Float64Array.from(xs.flat()) }]);
    assertClose(y, { data: [...h1, ...h2, ...h3], shape: [1, 3, u] }, HAND_F64, `gru reset_after go_backwards; ${describeSeed(rng)}`);
  });

  it("a masked step (Masking layer) keeps h and repeats the previous output", () => {
    const masked = new ReferenceModel(
      topology([
        { class_name: "InputLayer", config: { name: "in", batch_input_shape: [null, null, d] } },
        { class_name: "Masking", config: { name: "masking", mask_value: 0 } },
        { class_name: "GRU", config: { name: "gru", units: u, recurrent_activation: "sigmoid", reset_after: true, return_sequences: true } },
      ]),
      [w("gru/gru_cell/kernel", [d, 3 * u], W), w("gru/gru_cell/recurrent_kernel", [u, 3 * u], U), w("gru/gru_cell/bias", [2, 3 * u], B)],
    );
    const h1 = step(xs[0], [0, 0]);
    const h3 = step(xs[2], h1);
    const [y] = masked.predict([{ shape: [1, 3, d], data: Float64Array.from([...xs[0], 0, 0, 0, ...xs[2]]) }]);
    assertClose(y, { data: [...h1, ...h1, ...h3], shape: [1, 3, u] }, HAND_F64, `gru reset_after masked; ${describeSeed(rng)}`);
  });
});

describe("LSTM steps by hand", () => {
  it("LSTM: i f c o gates, one step from zero then one from (h, c)", () => {
    const rng = rngFor("hand lstm");
    const W = Array.from({ length: 2 * 4 }, () => rng.uniform(-1, 1)); // d=2, u=1
    const U = Array.from({ length: 4 }, () => rng.uniform(-1, 1));
    const B = Array.from({ length: 4 }, () => rng.nonZero(0.1, 0.5));
    const x = [
      [0.7, -0.2],
      [0.1, 0.9],
    ];
    let h = 0;
    let c = 0;
    const out: number[] = [];
    for (const xt of x) {
      const z = [0, 1, 2, 3].map((g) => xt[0] * W[g] + xt[1] * W[4 + g] + h * U[g] + B[g]);
      const i = sig(z[0]);
      const f = sig(z[1]);
      c = f * c + i * Math.tanh(z[2]);
      h = sig(z[3]) * Math.tanh(c);
      out.push(h);
    }
    const ref = new ReferenceModel(
      {
        class_name: "Functional",
        config: {
          name: "model",
          layers: [
            { class_name: "InputLayer", name: "in", config: { name: "in", batch_input_shape: [null, 2, 2] }, inbound_nodes: [] },
            {
              class_name: "LSTM",
              name: "lstm",
              config: { name: "lstm", units: 1, recurrent_activation: "sigmoid", return_sequences: true, return_state: true },
              inbound_nodes: [[["in", 0, 0, {}]]],
            },
          ],
          input_layers: [["in", 0, 0]],
          output_layers: [["lstm", 0, 0], ["lstm", 0, 1], ["lstm", 0, 2]],
        },
      },
      [w("lstm/lstm_cell/kernel", [2, 4], W), w("lstm/lstm_cell/recurrent_kernel", [1, 4], U), w("lstm/lstm_cell/bias", [4], B)],
    );
    const [seq, hT, cT] = ref.predict([{ shape: [1, 2, 2], data: Float64Array.from(x.flat()) }]);
    assertClose(seq, { data: out, shape: [1, 2, 1] }, HAND_F64, "lstm sequence");
    assertClose(hT, { data: [h], shape: [1, 1] }, HAND_F64, "lstm h");
    assertClose(cT, { data: [c], shape: [1, 1] }, HAND_F64, "lstm c");
  });
});

describe("activations at chosen points", () => {
  it("erf and gelu against tabulated values", () => {
    // Abramowitz & Stegun table 7.1 / exact closed forms.
    const table: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, e] of table) {
      expect(Math.abs(activations.erf(x) - e)).toBeLessThan(2e-15);
      expect(Math.abs(activations.erf(-x) + e)).toBeLessThan(2e-15);
    }
    // gelu(1) = Phi(1) = 0.8413447460685429 (standard normal CDF at 1).
    expect(Math.abs(activations.gelu(1) - 0.8413447460685429)).toBeLessThan(1e-15);
  });

  it("hard_sigmoid: tfjs / Keras 2 clip(0.2x+0.5) vs Keras 3 relu6(x+3)/6", () => {
    const pts = [-4, -3, -2.5, -1, 0, 1, 2.5, 3, 4];
    expect(pts.map(activations.hardSigmoidTfjs)).toEqual([0, 0, 0, 0.3, 0.5, 0.7, 1, 1, 1]);
    expect(pts.map((x) => +activations.hardSigmoidKeras3(x).toFixed(12))).toEqual([0, 0, 0.083333333333, 0.333333333333, 0.5, 0.666666666667, 0.916666666667, 1, 1]);
  });

  it("Keras 3 files get the relu6 form, other files the clip form", () => {
    const layers = [
      { class_name: "InputLayer", config: { name: "in", batch_shape: [null, 1] } },
      { class_name: "Dense", config: { name: "dense", units: 1, activation: "hard_sigmoid", use_bias: false } },
    ];
    const weights = [w("dense/kernel", [1, 1], [1])];
    const x = { shape: [1, 1], data: Float64Array.from([1]) };
    const [k3] = new ReferenceModel(topology(layers, "3.3.3"), weights).predict([x]);
    const [k2] = new ReferenceModel(topology(layers, "2.6.0"), weights).predict([x]);
    expect(k3.data[0]).toBeCloseTo(4 / 6, 14);
    expect(k2.data[0]).toBeCloseTo(0.7, 14);
  });

  it("selu, elu, softplus, softsign, exponential, swish at a few points", () => {
    const a = 1.6732632423543772848170429916717;
    const s = 1.0507009873554804934193349852946;
    expect(activations.selu(-1)).toBeCloseTo(s * a * (Math.exp(-1) - 1), 15);
    expect(activations.selu(2)).toBeCloseTo(2 * s, 15);
    expect(activations.elu(-2)).toBeCloseTo(Math.exp(-2) - 1, 15);
    expect(activations.softplus(40)).toBeCloseTo(40, 12);
    expect(activations.softplus(-40)).toBeCloseTo(Math.exp(-40), 25);
    expect(activations.softplus(0)).toBeCloseTo(Math.LN2, 15);
    const f = (n: string) => activations.scalarActivation(n, "tfjs");
    expect(f("softsign")(3)).toBe(0.75);
    expect(f("exponential")(1)).toBe(Math.E);
    expect(f("swish")(2)).toBeCloseTo(2 / (1 + Math.exp(-2)), 15);
  });
});

describe("weights decoding", () => {
  it("float16 bit patterns", () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x0001, 2 ** -24],
      [0x0400, 2 ** -14],
      [0x3555, 0.333251953125],
      [0x8000, -0],
      [0x7c00, Infinity],
    ];
    for (const [bits, v] of cases) expect(decodeFloat16(bits)).toBe(v);
  });

  it("uint8 / uint16 affine dequantisation and unaligned float32 after them", () => {
    const bytes = new Uint8Array(3 + 4 + 4);
    bytes.set([0, 128, 255], 0);
    new DataView(bytes.buffer).setUint16(3, 1000, true);
    new DataView(bytes.buffer).setUint16(5, 0, true);
    new DataView(bytes.buffer).setFloat32(7, 0.1, true); // offset 7: not 4-byte aligned
    const out = decodeWeights(
      [
        { name: "a", shape: [3], dtype: "float32", quantization: { dtype: "uint8", min: -1, scale: 2 / 255 } },
        { name: "b", shape: [2], dtype: "float32", quantization: { dtype: "uint16", min: 0.5, scale: 0.001 } },
        { name: "c", shape: [1], dtype: "float32" },
      ],
      bytes,
    );
    expect(Array.from(out[0].data)).toEqual([-1, 128 * (2 / 255) - 1, 1].map(Math.fround));
    expect(Array.from(out[1].data)).toEqual([Math.fround(1.5), 0.5]);
    expect(out[2].data[0]).toBe(Math.fround(0.1));
  });
});

describe("1-D windows (TF padding arithmetic) and causal Conv1D", () => {
  it("output length and left padding", () => {
    // (length, window, stride, dilation, padding) -> (out, padLeft), from TF's conv_output_length
    // and 'same' = pad max((out-1)*s + (k-1)*d + 1 - L, 0), floor half on the left.
    expect(window1d(10, 3, 1, 1, "valid")).toEqual({ out: 8, padLeft: 0 });
    expect(window1d(10, 3, 1, 1, "same")).toEqual({ out: 10, padLeft: 1 });
    expect(window1d(10, 4, 2, 1, "same")).toEqual({ out: 5, padLeft: 1 });
    expect(window1d(11, 2, 2, 1, "same")).toEqual({ out: 6, padLeft: 0 });
    expect(window1d(9, 3, 1, 2, "same")).toEqual({ out: 9, padLeft: 2 });
    expect(window1d(9, 3, 1, 3, "valid")).toEqual({ out: 3, padLeft: 0 });
    expect(window1d(9, 3, 1, 2, "causal")).toEqual({ out: 9, padLeft: 4 });
    expect(window1d(9, 2, 2, 1, "causal")).toEqual({ out: 5, padLeft: 1 });
  });

  it("causal Conv1D: y_t = sum_j x_{t-(k-1-j)d} K_j + b, zeros before the start", () => {
    const x = [1, 2, 3, 4, 5];
    const K = [0.5, -1, 2]; // k=3, one channel in and out
    const ref = new ReferenceModel(
      topology([
        { class_name: "InputLayer", config: { name: "in", batch_input_shape: [null, null, 1] } },
        { class_name: "Conv1D", config: { name: "conv1d", filters: 1, kernel_size: [3], strides: [1], dilation_rate: [2], padding: "causal", activation: "linear", use_bias: true } },
      ]),
      [w("conv1d/kernel", [3, 1, 1], K), w("conv1d/bias", [1], [0.25])],
    );
    const [y] = ref.predict([{ shape: [1, 5, 1], data: Float64Array.from(x) }]);
    const at = (t: number) => (t >= 0 ? x[t] : 0);
    const expected = x.map((_, t) => K[0] * at(t - 4) + K[1] * at(t - 2) + K[2] * at(t) + 0.25);
    assertClose(y, { data: expected, shape: [1, 5, 1] }, HAND_F64, "causal conv1d");
  });
});
