/**
 * The seeded parity matrix: every layer and option of issue 2 and the seed architectures, as
 * tfjs models (oracle: tfjs cpu) or as converter-style model.json files tfjs cannot run
 * (oracle: the float64 reference). Shared by test/reference (reference vs tfjs) and
 * test/parity (rnn-wasm vs tfjs / reference), so both suites check the same matrix.
 */
import type { LayersModel, SymbolicTensor } from "@tensorflow/tfjs";
import { type KerasStyleOptions, type NamedWeight32, type WriteOptions, reencode, toKerasStyle } from "./converter.ts";
import { type Rng, rngFor } from "./prng.ts";
import type { Artifacts, InputTensor, Tf } from "./tfjs.ts";
import { randomWeightValues } from "./tfjs.ts";

export interface InputGen {
  kind: "float" | "ids" | "onehot";
  /** Last dimension of float / one-hot inputs. */
  features?: number;
  /** ids are drawn from [1, vocab); 0 is padding. */
  vocab?: number;
  /**
   * ids: where the zeros go. left/right: each row gets a random length in [1, time] and zeros
   * before/after; mixed: isolated zeros anywhere (interior masked steps) and one all-zero row
   * when batch >= 3. float: the same with all-zero timesteps (for Masking).
   */
  padding?: "none" | "left" | "right" | "mixed";
  /** float inputs: standard deviation (default 1). */
  scale?: number;
  /** Input without a time axis: [batch, features]. */
  noTime?: boolean;
  /** Fixed time length baked into the model (overrides the run's time). */
  fixedTime?: number;
}

export interface Run {
  batch: number;
  time: number;
}

export interface ParityCase {
  id: string;
  group: string;
  /** Builds the tfjs model (weights are then drawn from the case's seed). */
  build: (tf: Tf) => LayersModel;
  /** Rewrites the saved artifacts (Keras names, quantisation, shards, patched configs). */
  transform?: (art: Artifacts, rng: Rng) => Artifacts;
  /** tfjs runs the (transformed) artifacts; "reference" when tfjs cannot run them. */
  oracle: "tfjs" | "reference";
  inputs: InputGen[];
  runs: Run[];
  /** Uses tanh/sigmoid/exp-family activations (APPROX tolerance) or only exact ones (EXACT_F32). */
  approx: boolean;
  /** Why the case exists, when not obvious from the id. */
  note?: string;
}

// ---------------------------------------------------------------- inputs

export function makeInput(gen: InputGen, run: Run, rng: Rng): InputTensor {
  const b = run.batch;
  const t = gen.fixedTime ?? run.time;
  if (gen.kind === "ids") {
    const vocab = gen.vocab ?? 50;
    const data = new Int32Array(b * t);
    for (let i = 0; i < b * t; i++) data[i] = rng.int(1, vocab);
    applyPadding(gen.padding ?? "none", b, t, rng, (n, s) => (data[n * t + s] = 0));
    return { data, shape: [b, t] };
  }
  const f = gen.features ?? 1;
  if (gen.noTime) {
    return { data: rng.float32Array(b * f, (g) => g.normal(0, gen.scale ?? 1)), shape: [b, f] };
  }
  const data = new Float32Array(b * t * f);
  if (gen.kind === "onehot") {
    for (let i = 0; i < b * t; i++) data[i * f + rng.int(0, f)] = 1;
  } else {
    for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, gen.scale ?? 1);
  }
  applyPadding(gen.padding ?? "none", b, t, rng, (n, s) => data.fill(0, (n * t + s) * f, (n * t + s + 1) * f));
  return { data, shape: [b, t, f] };
}

function applyPadding(kind: string, b: number, t: number, rng: Rng, zero: (n: number, s: number) => void): void {
  if (kind === "none") return;
  for (let n = 0; n < b; n++) {
    if (kind === "mixed") {
      if (b >= 3 && n === b - 1) {
        for (let s = 0; s < t; s++) zero(n, s);
        continue;
      }
      for (let s = 0; s < t; s++) if (rng.next() < 0.3) zero(n, s);
      continue;
    }
    const len = rng.int(1, t + 1);
    for (let s = 0; s < t - len; s++) zero(n, kind === "left" ? s : t - 1 - s);
  }
}

export function makeInputs(c: ParityCase, run: Run, rng: Rng): InputTensor[] {
  return c.inputs.map((g, k) => makeInput(g, run, rng.fork(`input${k}`)));
}

export function runLabel(run: Run): string {
  return `batch ${run.batch}, time ${run.time}`;
}

// ---------------------------------------------------------------- builders

const APPROX_ACTS = new Set(["tanh", "sigmoid", "softmax", "elu", "selu", "softplus", "swish", "gelu", "exponential", "mish"]);

type TfLayer = Parameters<ReturnType<Tf["sequential"]>["add"]>[0];

function seq(tf: Tf, layers: TfLayer[]): LayersModel {
  const m = tf.sequential();
  for (const l of layers) m.add(l);
  return m;
}

/** Functional model from a builder over symbolic tensors. */
function fn(tf: Tf, inputShapes: (number | null)[][], body: (xs: SymbolicTensor[]) => SymbolicTensor[], dtypes?: ("float32" | "int32")[]): LayersModel {
  const xs = inputShapes.map((shape, i) => tf.input({ shape, dtype: dtypes?.[i] ?? "float32" }));
  return tf.model({ inputs: xs, outputs: body(xs) });
}

const apply = (layer: { apply: (x: SymbolicTensor | SymbolicTensor[]) => unknown }, x: SymbolicTensor | SymbolicTensor[]) =>
  layer.apply(x) as SymbolicTensor;
const applyMany = (layer: { apply: (x: SymbolicTensor | SymbolicTensor[]) => unknown }, x: SymbolicTensor | SymbolicTensor[]) =>
  layer.apply(x) as SymbolicTensor[];

const FLOAT4: InputGen = { kind: "float", features: 4 };
const R_SMALL: Run[] = [
  { batch: 1, time: 5 },
  { batch: 3, time: 1 },
  { batch: 7, time: 4 },
];
const R_ONE: Run[] = [{ batch: 3, time: 6 }];

type RnnKind = "lstm" | "gru" | "simpleRNN";
const rnn = (tf: Tf, kind: RnnKind, args: Record<string, unknown>) =>
  (tf.layers[kind] as unknown as (a: Record<string, unknown>) => TfLayer)(args);

// ---------------------------------------------------------------- the matrix

export function parityCases(): ParityCase[] {
  const cases: ParityCase[] = [];
  const add = (c: ParityCase) => cases.push(c);

  // Recurrent cells over odd sizes, both output forms.
  const sizes: [RnnKind, number, boolean, Run[]][] = [
    ["lstm", 1, false, R_SMALL],
    ["lstm", 3, true, R_SMALL],
    ["lstm", 5, true, [{ batch: 2, time: 17 }]],
    ["lstm", 33, false, R_ONE],
    ["lstm", 129, true, [{ batch: 1, time: 4 }, { batch: 3, time: 2 }]],
    ["gru", 1, true, R_SMALL],
    ["gru", 3, false, R_SMALL],
    ["gru", 5, true, [{ batch: 2, time: 17 }]],
    ["gru", 33, false, R_ONE],
    ["gru", 129, true, [{ batch: 1, time: 4 }, { batch: 3, time: 2 }]],
    ["simpleRNN", 1, false, R_SMALL],
    ["simpleRNN", 5, true, R_SMALL],
    ["simpleRNN", 33, false, R_ONE],
  ];
  for (const [kind, units, returnSequences, runs] of sizes) {
    add({
      id: `${kind} units=${units} return_sequences=${returnSequences}`,
      group: "recurrent cells",
      build: (tf) => seq(tf, [rnn(tf, kind, { units, returnSequences, inputShape: [null, 4] })]),
      oracle: "tfjs",
      inputs: [FLOAT4],
      runs,
      approx: true,
    });
  }
  // Options.
  const options: [string, RnnKind, Record<string, unknown>][] = [
    ["lstm go_backwards seq", "lstm", { units: 5, goBackwards: true, returnSequences: true }],
    ["gru go_backwards last", "gru", { units: 5, goBackwards: true }],
    ["simpleRNN go_backwards seq", "simpleRNN", { units: 3, goBackwards: true, returnSequences: true }],
    ["lstm use_bias=false", "lstm", { units: 5, useBias: false, returnSequences: true }],
    ["gru use_bias=false", "gru", { units: 5, useBias: false }],
    ["simpleRNN use_bias=false", "simpleRNN", { units: 5, useBias: false }],
    ["lstm recurrent_activation=sigmoid", "lstm", { units: 5, recurrentActivation: "sigmoid", returnSequences: true }],
    ["lstm recurrent_activation=hard_sigmoid", "lstm", { units: 5, recurrentActivation: "hardSigmoid", returnSequences: true }],
    ["gru recurrent_activation=sigmoid", "gru", { units: 5, recurrentActivation: "sigmoid", returnSequences: true }],
    ["gru recurrent_activation=hard_sigmoid", "gru", { units: 5, recurrentActivation: "hardSigmoid" }],
    ["gru activation=relu (Keras 2.2 imdb GRU)", "gru", { units: 5, activation: "relu", recurrentActivation: "hardSigmoid" }],
    ["lstm activation=relu", "lstm", { units: 5, activation: "relu", recurrentActivation: "sigmoid" }],
    ["lstm activation=softsign", "lstm", { units: 3, activation: "softsign", returnSequences: true }],
    ["simpleRNN activation=relu", "simpleRNN", { units: 5, activation: "relu", returnSequences: true }],
    ["simpleRNN activation=linear", "simpleRNN", { units: 3, activation: "linear" }],
    ["lstm unit_forget_bias (load only)", "lstm", { units: 3, unitForgetBias: true }],
  ];
  for (const [id, kind, args] of options) {
    add({
      id,
      group: "recurrent options",
      build: (tf) => seq(tf, [rnn(tf, kind, { ...args, inputShape: [null, 4] })]),
      oracle: "tfjs",
      inputs: [FLOAT4],
      runs: [{ batch: 3, time: 6 }, { batch: 1, time: 1 }],
      approx: true,
    });
  }
  add({
    id: "lstm stateful=true (recorded; first predict starts from zeros)",
    group: "recurrent options",
    build: (tf) => seq(tf, [tf.layers.lstm({ units: 3, stateful: true, returnSequences: true, batchInputShape: [3, null, 4] })]),
    oracle: "tfjs",
    inputs: [FLOAT4],
    runs: [{ batch: 3, time: 6 }],
    approx: true,
    note: "one run only: tfjs carries state across predict() calls of a stateful model",
  });
  add({
    id: "stack lstm(seq) -> gru(seq) -> simpleRNN",
    group: "recurrent options",
    build: (tf) =>
      seq(tf, [
        tf.layers.lstm({ units: 7, returnSequences: true, inputShape: [null, 4] }),
        tf.layers.gru({ units: 6, returnSequences: true }),
        tf.layers.simpleRNN({ units: 5 }),
      ]),
    oracle: "tfjs",
    inputs: [FLOAT4],
    runs: [{ batch: 3, time: 9 }],
    approx: true,
  });

  // return_state: several outputs (Functional).
  const states: [string, RnnKind, boolean][] = [
    ["lstm return_state last", "lstm", false],
    ["lstm return_state seq", "lstm", true],
    ["gru return_state seq", "gru", true],
    ["simpleRNN return_state last", "simpleRNN", false],
  ];
  for (const [id, kind, returnSequences] of states) {
    add({
      id,
      group: "return_state",
      build: (tf) => fn(tf, [[null, 4]], ([x]) => applyMany(rnn(tf, kind, { units: 5, returnSequences, returnState: true }), x)),
      oracle: "tfjs",
      inputs: [FLOAT4],
      runs: [{ batch: 3, time: 5 }],
      approx: true,
    });
  }
  add({
    id: "lstm return_state -> heads on output and on h, c (merges of states)",
    group: "return_state",
    build: (tf) =>
      fn(tf, [[null, 4]], ([x]) => {
        const [seqOut, h, c] = applyMany(tf.layers.lstm({ units: 6, returnSequences: true, returnState: true }), x);
        const last = apply(tf.layers.gru({ units: 6 }), seqOut);
        const hc = apply(tf.layers.concatenate(), [h, c]);
        return [apply(tf.layers.dense({ units: 2, activation: "softmax" }), hc), apply(tf.layers.add(), [last, h])];
      }),
    oracle: "tfjs",
    inputs: [FLOAT4],
    runs: [{ batch: 3, time: 5 }],
    approx: true,
  });

  // Bidirectional in every merge mode.
  const bidi: [string, RnnKind, string | null, boolean][] = [
    ["bidirectional lstm concat seq", "lstm", "concat", true],
    ["bidirectional lstm concat last", "lstm", "concat", false],
    ["bidirectional lstm sum last", "lstm", "sum", false],
    ["bidirectional lstm mul seq", "lstm", "mul", true],
    ["bidirectional lstm ave last", "lstm", "ave", false],
    ["bidirectional lstm merge_mode=null seq", "lstm", null, true],
    ["bidirectional lstm merge_mode=null last", "lstm", null, false],
    ["bidirectional gru concat last", "gru", "concat", false],
    ["bidirectional gru ave seq", "gru", "ave", true],
    ["bidirectional gru merge_mode=null seq", "gru", null, true],
    ["bidirectional simpleRNN sum seq", "simpleRNN", "sum", true],
    ["bidirectional simpleRNN mul last", "simpleRNN", "mul", false],
  ];
  for (const [id, kind, mergeMode, returnSequences] of bidi) {
    add({
      id,
      group: "bidirectional",
      build: (tf) =>
        fn(tf, [[null, 4]], ([x]) =>
          applyMany(
            tf.layers.bidirectional({
              layer: rnn(tf, kind, { units: 5, returnSequences }) as never,
              mergeMode: mergeMode as never,
            }),
            x,
          ),
        ),
      oracle: "tfjs",
      inputs: [FLOAT4],
      runs: [{ batch: 3, time: 6 }, { batch: 1, time: 1 }],
      approx: true,
    });
  }
  const bidiStates: [string, RnnKind, string | null, boolean][] = [
    ["bidirectional lstm return_state concat last", "lstm", "concat", false],
    ["bidirectional lstm return_state merge_mode=null seq", "lstm", null, true],
    ["bidirectional gru return_state sum seq", "gru", "sum", true],
  ];
  for (const [id, kind, mergeMode, returnSequences] of bidiStates) {
    add({
      id,
      group: "bidirectional",
      build: (tf) =>
        fn(tf, [[null, 4]], ([x]) =>
          applyMany(
            tf.layers.bidirectional({
              layer: rnn(tf, kind, { units: 3, returnSequences, returnState: true }) as never,
              mergeMode: mergeMode as never,
            }),
            x,
          ),
        ),
      oracle: "tfjs",
      inputs: [FLOAT4],
      runs: [{ batch: 3, time: 5 }],
      approx: true,
    });
  }

  // Masks.
  const ids = (padding: InputGen["padding"], vocab = 30): InputGen => ({ kind: "ids", vocab, padding });
  const emb = (tf: Tf, maskZero = true, vocab = 30, dim = 4) => tf.layers.embedding({ inputDim: vocab, outputDim: dim, maskZero });
  const masked: [string, InputGen, (tf: Tf) => LayersModel, string?][] = [
    ["masked lstm(seq) -> lstm, left padding", ids("left"), (tf) => seq(tf, [emb(tf), tf.layers.lstm({ units: 5, returnSequences: true }), tf.layers.lstm({ units: 3 })])],
    ["masked gru, right padding", ids("right"), (tf) => seq(tf, [emb(tf), tf.layers.gru({ units: 5 })])],
    ["masked simpleRNN(seq), interior zeros", ids("mixed"), (tf) => seq(tf, [emb(tf), tf.layers.simpleRNN({ units: 5, returnSequences: true })])],
    ["masked lstm go_backwards(seq), right padding", ids("right"), (tf) => seq(tf, [emb(tf), tf.layers.lstm({ units: 5, goBackwards: true, returnSequences: true })])],
    ["masked gru go_backwards, left padding", ids("left"), (tf) => seq(tf, [emb(tf), tf.layers.gru({ units: 5, goBackwards: true })])],
    ["masked bidirectional lstm concat seq -> lstm, left padding", ids("left"), (tf) => seq(tf, [emb(tf), tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: true }) as never }), tf.layers.lstm({ units: 3 })])],
    ["masked bidirectional gru ave last, right padding", ids("right"), (tf) => seq(tf, [emb(tf), tf.layers.bidirectional({ layer: tf.layers.gru({ units: 4 }) as never, mergeMode: "ave" })])],
    ["masked bidirectional lstm sum seq (model output), interior zeros", ids("mixed"), (tf) => seq(tf, [emb(tf), tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: true }) as never, mergeMode: "sum" })]), "tfjs carries the previous output over masked steps in both directions (Keras would output zeros)"],
    ["masked lstm(seq) -> time_distributed dense (mask passes)", ids("mixed"), (tf) => seq(tf, [emb(tf), tf.layers.lstm({ units: 5, returnSequences: true }), tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }) })])],
    ["mask through dropout, dense(3D), layer_norm, batch_norm into gru", ids("left"), (tf) => seq(tf, [emb(tf, true, 30, 6), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 5, activation: "tanh" }), tf.layers.layerNormalization(), tf.layers.batchNormalization(), tf.layers.activation({ activation: "relu" }), tf.layers.gru({ units: 4 })])],
    ["masked lstm(seq) -> GlobalAveragePooling1D (tfjs: plain mean)", ids("left"), (tf) => seq(tf, [emb(tf), tf.layers.lstm({ units: 5, returnSequences: true }), tf.layers.globalAveragePooling1d(), tf.layers.dense({ units: 1, activation: "sigmoid" })]), "tfjs' GlobalAveragePooling1D ignores the mask: padded steps (carrying the previous h) are averaged in"],
    ["masked lstm(seq) -> GlobalMaxPooling1D", ids("right"), (tf) => seq(tf, [emb(tf), tf.layers.lstm({ units: 5, returnSequences: true }), tf.layers.globalMaxPooling1d()])],
    ["Masking layer -> gru(seq), zero timesteps right", { kind: "float", features: 3, padding: "right" }, (tf) => seq(tf, [tf.layers.masking({ maskValue: 0, inputShape: [null, 3] }), tf.layers.gru({ units: 5, returnSequences: true })])],
    ["Masking layer -> lstm, zero timesteps interior", { kind: "float", features: 3, padding: "mixed" }, (tf) => seq(tf, [tf.layers.masking({ inputShape: [null, 3] }), tf.layers.lstm({ units: 4 })])],
  ];
  for (const [id, gen, build, note] of masked) {
    add({ id, group: "masking", build, oracle: "tfjs", inputs: [gen], runs: [{ batch: 3, time: 7 }, { batch: 7, time: 4 }, { batch: 1, time: 5 }], approx: true, note });
  }

  // Dense and activations.
  const acts = ["tanh", "sigmoid", "hardSigmoid", "relu", "linear", "softmax", "elu", "selu", "softplus", "softsign", "swish", "gelu", "relu6"];
  for (const act of acts) {
    add({
      id: `dense activation=${act}`,
      group: "dense and activations",
      build: (tf) => seq(tf, [tf.layers.dense({ units: 7, activation: act as never, inputShape: [6] })]),
      oracle: "tfjs",
      inputs: [{ kind: "float", features: 6, noTime: true, scale: 2 }],
      runs: [{ batch: 1, time: 0 }, { batch: 5, time: 0 }],
      approx: APPROX_ACTS.has(act),
    });
  }
  add({
    id: "dense(3D) -> activation layers -> ReLU(max_value) -> dropout family -> lstm",
    group: "dense and activations",
    build: (tf) =>
      seq(tf, [
        tf.layers.dense({ units: 6, inputShape: [null, 4] }),
        tf.layers.activation({ activation: "elu" }),
        tf.layers.reLU({ maxValue: 0.7 }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.spatialDropout1d({ rate: 0.3 }),
        tf.layers.gaussianNoise({ stddev: 0.5 }),
        tf.layers.lstm({ units: 3 }),
        tf.layers.activation({ activation: "softmax" }),
      ]),
    oracle: "tfjs",
    inputs: [FLOAT4],
    runs: [{ batch: 3, time: 5 }],
    approx: true,
  });
  add({
    id: "dense without bias -> ReLU layer",
    group: "dense and activations",
    build: (tf) => seq(tf, [tf.layers.dense({ units: 9, useBias: false, inputShape: [5] }), tf.layers.reLU()]),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 5, noTime: true }],
    runs: [{ batch: 7, time: 0 }],
    approx: false,
  });

  // Conv1D and pooling (tfjs cannot run causal padding: see the reference-oracle group).
  const convs: [string, Record<string, unknown>, boolean][] = [
    ["conv1d valid k=3 relu", { filters: 5, kernelSize: 3, padding: "valid", activation: "relu" }, false],
    ["conv1d same k=4 strides=2", { filters: 4, kernelSize: 4, strides: 2, padding: "same" }, false],
    ["conv1d same k=3 dilation=2 tanh", { filters: 6, kernelSize: 3, dilationRate: 2, padding: "same", activation: "tanh" }, true],
    ["conv1d valid k=2 strides=3 no bias", { filters: 3, kernelSize: 2, strides: 3, useBias: false }, false],
    ["conv1d valid k=3 dilation=3 elu", { filters: 3, kernelSize: 3, dilationRate: 3, activation: "elu" }, true],
    ["conv1d same k=5 (foul-shot lstm first layer) relu", { filters: 8, kernelSize: 5, padding: "same", activation: "relu" }, false],
  ];
  for (const [id, args, approx] of convs) {
    add({
      id,
      group: "conv1d and pooling",
      build: (tf) => seq(tf, [tf.layers.conv1d({ ...(args as object), inputShape: [null, 3] } as never)]),
      oracle: "tfjs",
      inputs: [{ kind: "float", features: 3 }],
      runs: [{ batch: 2, time: 11 }, { batch: 1, time: 8 }],
      approx,
    });
  }
  const pools: [string, "maxPooling1d" | "averagePooling1d", Record<string, unknown>][] = [
    ["max_pooling1d pool=2 valid", "maxPooling1d", { poolSize: 2 }],
    ["max_pooling1d pool=3 strides=1 same", "maxPooling1d", { poolSize: 3, strides: 1, padding: "same" }],
    ["average_pooling1d pool=2 same (odd length)", "averagePooling1d", { poolSize: 2, padding: "same" }],
    ["average_pooling1d pool=3 strides=2 valid", "averagePooling1d", { poolSize: 3, strides: 2 }],
    ["average_pooling1d pool=4 strides=3 same", "averagePooling1d", { poolSize: 4, strides: 3, padding: "same" }],
  ];
  for (const [id, kind, args] of pools) {
    add({
      id,
      group: "conv1d and pooling",
      build: (tf) => seq(tf, [(tf.layers[kind] as (a: unknown) => never)({ ...args, inputShape: [null, 3] })]),
      oracle: "tfjs",
      inputs: [{ kind: "float", features: 3 }],
      runs: [{ batch: 2, time: 11 }, { batch: 3, time: 6 }],
      approx: false,
    });
  }
  add({
    id: "conv1d same relu x2 -> max_pooling1d -> gru(seq) -> gru -> dense softmax (foul-shot shape)",
    group: "conv1d and pooling",
    build: (tf) =>
      seq(tf, [
        tf.layers.conv1d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu", inputShape: [null, 6] }),
        tf.layers.conv1d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.gru({ units: 7, returnSequences: true, recurrentActivation: "sigmoid" }),
        tf.layers.gru({ units: 5, recurrentActivation: "sigmoid" }),
        tf.layers.dense({ units: 9, activation: "softmax" }),
      ]),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 6 }],
    runs: [{ batch: 1, time: 12 }, { batch: 3, time: 7 }],
    approx: true,
  });

  // Normalisation.
  add({
    id: "batch_normalization 2D and 3D (inference form)",
    group: "normalization",
    build: (tf) =>
      fn(tf, [[null, 4]], ([x]) => {
        const a = apply(tf.layers.batchNormalization({ epsilon: 0.01 }), x);
        const b = apply(tf.layers.conv1d({ filters: 3, kernelSize: 2 }), a);
        const c = apply(tf.layers.batchNormalization({ center: false }), b);
        const d = apply(tf.layers.globalMaxPooling1d(), c);
        return [c, apply(tf.layers.batchNormalization({ scale: false }), d)];
      }),
    oracle: "tfjs",
    inputs: [FLOAT4],
    runs: [{ batch: 3, time: 6 }],
    approx: false,
  });
  add({
    id: "layer_normalization 3D and 2D (center/scale off)",
    group: "normalization",
    build: (tf) =>
      fn(tf, [[null, 4]], ([x]) => {
        const a = apply(tf.layers.layerNormalization({ epsilon: 1e-5 }), x);
        const b = apply(tf.layers.lstm({ units: 6 }), a);
        return [a, apply(tf.layers.layerNormalization({ center: false }), b), apply(tf.layers.layerNormalization({ scale: false }), b)];
      }),
    oracle: "tfjs",
    inputs: [FLOAT4],
    runs: [{ batch: 3, time: 6 }],
    approx: true,
  });

  // Shape layers.
  add({
    id: "flatten -> dense -> repeat_vector -> lstm(seq) -> time_distributed dense",
    group: "reshape and friends",
    build: (tf) =>
      seq(tf, [
        tf.layers.flatten({ inputShape: [5, 3] }),
        tf.layers.dense({ units: 4, activation: "tanh" }),
        tf.layers.repeatVector({ n: 6 }),
        tf.layers.lstm({ units: 5, returnSequences: true }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: "sigmoid" }) }),
      ]),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 3, fixedTime: 5 }],
    runs: [{ batch: 1, time: 5 }, { batch: 3, time: 5 }],
    approx: true,
  });
  add({
    id: "reshape [6,4] -> [12,2] -> gru; reshape -1",
    group: "reshape and friends",
    build: (tf) =>
      fn(tf, [[6, 4]], ([x]) => {
        const r = apply(tf.layers.reshape({ targetShape: [12, 2] }), x);
        const g = apply(tf.layers.gru({ units: 3 }), r);
        return [g, apply(tf.layers.reshape({ targetShape: [-1, 4] }), x)];
      }),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 4, fixedTime: 6 }],
    runs: [{ batch: 2, time: 6 }],
    approx: true,
  });

  // Functional merges.
  const merges: ["concatenate" | "add" | "multiply" | "average", boolean][] = [
    ["concatenate", true],
    ["add", false],
    ["multiply", true],
    ["average", false],
  ];
  for (const [kind, seqOut] of merges) {
    add({
      id: `functional ${kind} of lstm and gru branches (return_sequences=${seqOut})`,
      group: "functional merges",
      build: (tf) =>
        fn(tf, [[null, 4]], ([x]) => {
          const a = apply(tf.layers.lstm({ units: 5, returnSequences: seqOut }), x);
          const b = apply(tf.layers.gru({ units: 5, returnSequences: seqOut }), x);
          const m = apply((tf.layers[kind] as () => never)(), [a, b]);
          return [apply(tf.layers.dense({ units: 3 }), m)];
        }),
      oracle: "tfjs",
      inputs: [FLOAT4],
      runs: [{ batch: 3, time: 5 }],
      approx: true,
    });
  }
  add({
    id: "functional two inputs (ids + float) -> concatenate -> two heads",
    group: "functional merges",
    build: (tf) =>
      fn(
        tf,
        [[null], [3]],
        ([tok, feat]) => {
          const e = apply(tf.layers.embedding({ inputDim: 40, outputDim: 5 }), tok);
          const l = apply(tf.layers.lstm({ units: 6 }), e);
          const f = apply(tf.layers.dense({ units: 4, activation: "relu" }), feat);
          const c = apply(tf.layers.concatenate(), [l, f]);
          return [apply(tf.layers.dense({ units: 1, activation: "sigmoid" }), c), apply(tf.layers.dense({ units: 3, activation: "softmax" }), c)];
        },
        ["int32", "float32"],
      ),
    oracle: "tfjs",
    inputs: [{ kind: "ids", vocab: 40 }, { kind: "float", features: 3, noTime: true }],
    runs: [{ batch: 3, time: 6 }, { batch: 1, time: 2 }],
    approx: true,
  });

  // The seeds' architectures.
  add({
    id: "seed: Embedding(300) -> LSTM(128, seq) -> Dropout -> LSTM(64) -> Dense(1, sigmoid), left-padded ids",
    group: "seed architectures",
    build: (tf) =>
      seq(tf, [
        tf.layers.embedding({ inputDim: 1000, outputDim: 300 }),
        tf.layers.lstm({ units: 128, returnSequences: true }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.lstm({ units: 64 }),
        tf.layers.dense({ units: 1, activation: "sigmoid" }),
      ]),
    oracle: "tfjs",
    inputs: [{ kind: "ids", vocab: 1000, padding: "left" }],
    runs: [{ batch: 1, time: 24 }, { batch: 3, time: 12 }],
    approx: true,
    note: "stocktwits sentiment seed (zeros are padding but the Embedding has no mask_zero, as in the tutorial)",
  });
  add({
    id: "seed: LSTM(512, seq) -> LSTM(512) -> Dense(112, softmax) on [b,3,1]",
    group: "seed architectures",
    build: (tf) =>
      seq(tf, [
        tf.layers.lstm({ units: 512, returnSequences: true, inputShape: [3, 1] }),
        tf.layers.lstm({ units: 512 }),
        tf.layers.dense({ units: 112, activation: "softmax" }),
      ]),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 1, fixedTime: 3, scale: 0.5 }],
    runs: [{ batch: 1, time: 3 }, { batch: 2, time: 3 }],
    approx: true,
    note: "next-word seed (Aesop fable, 112 symbols)",
  });
  add({
    id: "seed: masked Embedding -> LSTM(seq) -> GlobalAveragePooling1D -> Dense(1, sigmoid)",
    group: "seed architectures",
    build: (tf) =>
      seq(tf, [
        tf.layers.embedding({ inputDim: 500, outputDim: 32, maskZero: true }),
        tf.layers.lstm({ units: 32, returnSequences: true }),
        tf.layers.globalAveragePooling1d(),
        tf.layers.dense({ units: 1, activation: "sigmoid" }),
      ]),
    oracle: "tfjs",
    inputs: [{ kind: "ids", vocab: 500, padding: "left" }],
    runs: [{ batch: 3, time: 10 }, { batch: 7, time: 6 }],
    approx: true,
    note: "tfjs averages over all steps, padded ones included (its GlobalAveragePooling1D ignores masks)",
  });
  add({
    id: "seed: Dense(10) -> LSTM(10, seq) -> TimeDistributed(Dense(1)) on a sine",
    group: "seed architectures",
    build: (tf) =>
      seq(tf, [
        tf.layers.dense({ units: 10, inputShape: [null, 1] }),
        tf.layers.lstm({ units: 10, returnSequences: true }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1 }) }),
      ]),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 1 }],
    runs: [{ batch: 1, time: 20 }, { batch: 3, time: 5 }],
    approx: true,
  });
  for (const kind of ["lstm", "gru"] as const) {
    add({
      id: `seed: Embedding -> ${kind.toUpperCase()}(64) x2 -> Dense(64) -> ReLU -> Dense(1) -> Activation(sigmoid)`,
      group: "seed architectures",
      build: (tf) =>
        seq(tf, [
          tf.layers.embedding({ inputDim: 1000, outputDim: 32 }),
          tf.layers[kind]({ units: 64, returnSequences: true }),
          tf.layers[kind]({ units: 64 }),
          tf.layers.dense({ units: 64 }),
          tf.layers.reLU(),
          tf.layers.dense({ units: 1 }),
          tf.layers.activation({ activation: "sigmoid" }),
        ]),
      oracle: "tfjs",
      inputs: [{ kind: "ids", vocab: 1000, padding: "left" }],
      runs: [{ batch: 2, time: 15 }, { batch: 1, time: 3 }],
      approx: true,
    });
  }

  // Quantised and sharded weights: tfjs loads the very same artifacts.
  const quantModel = (tf: Tf) =>
    seq(tf, [
      tf.layers.embedding({ inputDim: 37, outputDim: 5 }),
      tf.layers.lstm({ units: 7, returnSequences: true }),
      tf.layers.gru({ units: 3 }),
      tf.layers.dense({ units: 3, activation: "softmax" }),
    ]);
  const quantRuns: Run[] = [{ batch: 3, time: 6 }];
  const quant: [string, WriteOptions][] = [
    ["float16 weights", { quantize: () => "float16" }],
    ["uint8 weights", { quantize: () => "uint8" }],
    ["uint16 weights", { quantize: () => "uint16" }],
    [
      "mixed float16/uint8/uint16/float32, per-layer groups in reverse order, 64-byte shards (unaligned offsets)",
      {
        groups: "per-layer",
        groupOrder: "reversed",
        shardBytes: 64,
        pathStyle: "bare",
        quantize: (n) => (n.includes("embedding") ? "uint8" : n.includes("gru") ? "float16" : n.endsWith("bias") ? "uint16" : undefined),
      },
    ],
  ];
  for (const [id, opts] of quant) {
    add({
      id: `quantized: ${id}`,
      group: "quantized and sharded",
      build: quantModel,
      transform: (art) => reencode(art, opts),
      oracle: "tfjs",
      inputs: [{ kind: "ids", vocab: 37 }],
      runs: quantRuns,
      approx: true,
    });
  }

  // Converter-style files (Keras weight names and topology) that tfjs can load.
  add({
    id: "converter-style keras 2.6: InputLayer, masked Embedding -> Bidirectional(LSTM seq) -> LSTM -> Dense, 1 KiB shards",
    group: "converter-style (tfjs oracle)",
    build: (tf) =>
      seq(tf, [
        tf.layers.embedding({ name: "embedding", inputDim: 30, outputDim: 4, maskZero: true }),
        tf.layers.bidirectional({ name: "bidirectional", layer: tf.layers.lstm({ name: "lstm", units: 5, returnSequences: true, recurrentActivation: "sigmoid" }) as never }),
        tf.layers.lstm({ name: "lstm_1", units: 4, recurrentActivation: "sigmoid" }),
        tf.layers.dense({ name: "dense", units: 2, activation: "softmax" }),
      ]),
    transform: (art) => toKerasStyle(art, { shardBytes: 1024 }),
    oracle: "tfjs",
    inputs: [ids("left")],
    runs: [{ batch: 3, time: 7 }],
    approx: true,
    note: "Keras 2 writes zero_output_for_mask: true into the wrapped layer config; tfjs ignores it",
  });
  add({
    id: "converter-style keras 2.6: Conv1D -> GRU(reset_after=false) x2 -> Dense (foul-shot shape)",
    group: "converter-style (tfjs oracle)",
    build: (tf) =>
      seq(tf, [
        tf.layers.conv1d({ name: "conv1d", filters: 6, kernelSize: 3, padding: "same", activation: "relu", inputShape: [null, 6] }),
        tf.layers.gru({ name: "gru", units: 5, returnSequences: true, recurrentActivation: "sigmoid" }),
        tf.layers.gru({ name: "gru_1", units: 4, recurrentActivation: "sigmoid" }),
        tf.layers.dense({ name: "dense", units: 9, activation: "softmax" }),
      ]),
    transform: (art) => toKerasStyle(art, { patchLayer: (l) => l.class_name === "GRU" && (l.config.reset_after = false) }),
    oracle: "tfjs",
    inputs: [{ kind: "float", features: 6 }],
    runs: [{ batch: 2, time: 8 }],
    approx: true,
  });

  // Files tfjs cannot run: checked against the float64 reference.
  const resetAfter = (extra: (l: Record<string, any>) => void = () => {}): KerasStyleOptions => ({
    patchLayer: (l) => {
      const target = l.class_name === "Bidirectional" ? l.config.layer : l;
      if (target.class_name === "GRU") target.config.reset_after = true;
      extra(l);
    },
    patchWeight: (w, cfg) => {
      const inner = cfg.class_name === "Bidirectional" ? cfg.config.layer : cfg;
      if (inner.class_name !== "GRU" || !w.name.endsWith("/bias")) return undefined;
      const u = inner.config.units as number;
      return { name: w.name, shape: [2, 3 * u], data: randomWeightValues(w.name, [2, 3 * u], rngForWeight(w)) };
    },
  });
  const gruRA: [string, (tf: Tf) => LayersModel, InputGen, Run[]][] = [
    ["GRU(1, reset_after=true)", (tf) => seq(tf, [tf.layers.gru({ name: "gru", units: 1, recurrentActivation: "sigmoid", inputShape: [null, 4] })]), FLOAT4, R_SMALL],
    ["GRU(5, reset_after=true, seq) -> GRU(33, reset_after=true)", (tf) => seq(tf, [tf.layers.gru({ name: "gru", units: 5, returnSequences: true, recurrentActivation: "sigmoid", inputShape: [null, 4] }), tf.layers.gru({ name: "gru_1", units: 33, recurrentActivation: "sigmoid" })]), FLOAT4, [{ batch: 3, time: 6 }]],
    ["GRU(129, reset_after=true, seq)", (tf) => seq(tf, [tf.layers.gru({ name: "gru", units: 129, returnSequences: true, recurrentActivation: "sigmoid", inputShape: [null, 4] })]), FLOAT4, [{ batch: 2, time: 3 }]],
    ["masked Embedding -> GRU(reset_after=true, seq, go_backwards) -> GRU(reset_after=true)", (tf) => seq(tf, [tf.layers.embedding({ name: "embedding", inputDim: 30, outputDim: 4, maskZero: true }), tf.layers.gru({ name: "gru", units: 5, returnSequences: true, goBackwards: true, recurrentActivation: "sigmoid" }), tf.layers.gru({ name: "gru_1", units: 3, recurrentActivation: "sigmoid" })]), ids("left"), [{ batch: 3, time: 7 }]],
    ["Bidirectional(GRU(reset_after=true)) concat", (tf) => seq(tf, [tf.layers.bidirectional({ name: "bidirectional", layer: tf.layers.gru({ name: "gru", units: 4, recurrentActivation: "sigmoid" }) as never, inputShape: [null, 4] } as never)]), FLOAT4, [{ batch: 3, time: 5 }]],
    ["GRU(reset_after=true, use_bias=false)", (tf) => seq(tf, [tf.layers.gru({ name: "gru", units: 5, useBias: false, recurrentActivation: "sigmoid", inputShape: [null, 4] })]), FLOAT4, [{ batch: 3, time: 5 }]],
  ];
  for (const [id, build, gen, runs] of gruRA) {
    add({ id: `converter-style keras 2.6: ${id}`, group: "converter-style (reference oracle)", build, transform: (art) => toKerasStyle(art, resetAfter()), oracle: "reference", inputs: [gen], runs, approx: true });
  }
  add({
    id: "converter-style keras 3: LSTM(hard_sigmoid = relu6(x+3)/6) -> Dense",
    group: "converter-style (reference oracle)",
    build: (tf) => seq(tf, [tf.layers.lstm({ name: "lstm", units: 5, recurrentActivation: "hardSigmoid", inputShape: [null, 4] }), tf.layers.dense({ name: "dense", units: 3, activation: "hardSigmoid" })]),
    transform: (art) => toKerasStyle(art, { kerasVersion: "3.3.3" }),
    oracle: "reference",
    inputs: [{ kind: "float", features: 4, scale: 3 }],
    runs: [{ batch: 3, time: 6 }],
    approx: true,
    note: "Keras 3 hard_sigmoid differs from tfjs/Keras 2 (0.2x+0.5); inputs scaled so both linear ramps and clipping occur",
  });
  add({
    id: "converter-style keras 2.6: Dense(activation=exponential)",
    group: "converter-style (reference oracle)",
    build: (tf) => seq(tf, [tf.layers.dense({ name: "dense", units: 4, inputShape: [5] })]),
    transform: (art) => toKerasStyle(art, { patchLayer: (l) => l.class_name === "Dense" && (l.config.activation = "exponential") }),
    oracle: "reference",
    inputs: [{ kind: "float", features: 5, noTime: true }],
    runs: [{ batch: 3, time: 0 }],
    approx: true,
  });
  const causal: [string, Record<string, unknown>][] = [
    ["Conv1D(causal, k=3)", { filters: 4, kernelSize: 3 }],
    ["Conv1D(causal, k=3, dilation=2, tanh)", { filters: 4, kernelSize: 3, dilationRate: 2, activation: "tanh" }],
    ["Conv1D(causal, k=2, strides=2, no bias)", { filters: 3, kernelSize: 2, strides: 2, useBias: false }],
  ];
  for (const [id, args] of causal) {
    add({
      id: `converter-style keras 2.6: ${id} -> LSTM`,
      group: "converter-style (reference oracle)",
      build: (tf) => seq(tf, [tf.layers.conv1d({ name: "conv1d", ...(args as object), padding: "valid", inputShape: [null, 3] } as never), tf.layers.lstm({ name: "lstm", units: 3, returnSequences: true })]),
      transform: (art) => toKerasStyle(art, { patchLayer: (l) => l.class_name === "Conv1D" && (l.config.padding = "causal") }),
      oracle: "reference",
      inputs: [{ kind: "float", features: 3 }],
      runs: [{ batch: 2, time: 9 }],
      approx: true,
      note: "tfjs-layers 4.22 throws NotImplementedError for causal padding in conv1dWithBias",
    });
  }
  return cases;
}

/** A generator for replacing weights inside transforms, derived from the weight name. */
function rngForWeight(w: NamedWeight32): Rng {
  return rngFor(`replacement weight ${w.name}`);
}
