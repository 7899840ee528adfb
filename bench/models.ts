/**
 * The benchmark models: definitions, seeded weights, and the in-memory tfjs artifacts every
 * engine loads, so all engines run the same numbers.
 *
 * bench/build.ts builds each model once as a tfjs LayersModel (cpu backend) with seeded random
 * weights (non-zero biases) and saves it through tf.io.withSaveHandler into
 * `{ modelJson, weights }` (model.json content + one ArrayBuffer), the form `loadModel` takes.
 * This module does not import tfjs itself, so cold-start children can use it before their clock
 * starts without loading tfjs.
 *
 * GRU layers are written with reset_after=true (the Keras 2.3+/TF2 default). tfjs cannot run
 * reset_after=true ("GRUCell does not support reset_after parameter set to true"), so every GRU
 * model also has a `tfjsTwin`: the same shapes with reset_after=false and a [3u] bias, which the
 * tfjs engines run instead (same MAC count; the report marks those cells).
 */
import type * as TF from "@tensorflow/tfjs";
import { mulberry32 } from "../src/random.ts";

export type Activation = "sigmoid" | "tanh" | "softmax" | "linear" | "hard_sigmoid";

export type LayerDef =
  | { kind: "embedding"; name: string; vocab: number; dim: number }
  | { kind: "lstm"; name: string; units: number; returnSequences: boolean }
  | { kind: "gru"; name: string; units: number; returnSequences: boolean; resetAfter: boolean }
  | { kind: "dense"; name: string; units: number; activation: Activation };

export type InputDef = { kind: "tokens"; vocab: number } | { kind: "features"; features: number };

export interface ModelDef {
  id: string;
  title: string;
  input: InputDef;
  layers: LayerDef[];
  /** Timesteps for the sequence and batch modes (the streaming mode feeds one at a time). */
  seqLen: number;
  seed: number;
  note?: string;
}

const lstm = (name: string, units: number, returnSequences = false): LayerDef => ({ kind: "lstm", name, units, returnSequences });
const gru = (name: string, units: number, returnSequences = false): LayerDef => ({ kind: "gru", name, units, returnSequences, resetAfter: true });

/** The models, plus the single-layer reference points its targets are stated at. */
export const MODEL_DEFS: ModelDef[] = [
  {
    id: "lstm-64",
    title: "LSTM 64 on 64 features",
    input: { kind: "features", features: 64 },
    layers: [lstm("lstm", 64)],
    seqLen: 100,
    seed: 101,
    note: "single layer, output = last h (the issue's 64->64 reference point)",
  },
  {
    id: "lstm-300-128",
    title: "LSTM 128 on 300 features",
    input: { kind: "features", features: 300 },
    layers: [lstm("lstm", 128)],
    seqLen: 100,
    seed: 102,
    note: "single layer, output = last h; 0.88 MB of f32 weights: the cold-start model",
  },
  {
    id: "stocktwits",
    title: "StockTwits-shaped: Embedding 10000x300 -> LSTM 128 -> LSTM 64 -> Dense 1 sigmoid",
    input: { kind: "tokens", vocab: 10000 },
    layers: [
      { kind: "embedding", name: "embedding", vocab: 10000, dim: 300 },
      lstm("lstm_1", 128, true),
      lstm("lstm_2", 64),
      { kind: "dense", name: "dense", units: 1, activation: "sigmoid" },
    ],
    seqLen: 100,
    seed: 103,
  },
  {
    id: "imdb-gru",
    title: "IMDB-shaped: Embedding 1000x32 -> GRU 64 -> GRU 64 -> Dense 1 sigmoid",
    input: { kind: "tokens", vocab: 1000 },
    layers: [
      { kind: "embedding", name: "embedding", vocab: 1000, dim: 32 },
      gru("gru_1", 64, true),
      gru("gru_2", 64),
      { kind: "dense", name: "dense", units: 1, activation: "sigmoid" },
    ],
    seqLen: 100,
    seed: 104,
  },
  {
    id: "aesop",
    title: "Aesop next-word: LSTM 512 -> LSTM 512 -> Dense 112 softmax, input [b,3,1]",
    input: { kind: "features", features: 1 },
    layers: [lstm("lstm_1", 512, true), lstm("lstm_2", 512), { kind: "dense", name: "dense", units: 112, activation: "softmax" }],
    seqLen: 3,
    seed: 105,
    note: "its real input is 3 timesteps of 1 float, so its sequence modes use T=3",
  },
  {
    id: "lstm-256",
    title: "Square LSTM 256 on 256 features",
    input: { kind: "features", features: 256 },
    layers: [lstm("lstm", 256)],
    seqLen: 100,
    seed: 106,
  },
  {
    id: "gru-256",
    title: "Square GRU 256 on 256 features",
    input: { kind: "features", features: 256 },
    layers: [gru("gru", 256)],
    seqLen: 100,
    seed: 107,
  },
  {
    id: "lstm-512",
    title: "Square LSTM 512 on 512 features",
    input: { kind: "features", features: 512 },
    layers: [lstm("lstm", 512)],
    seqLen: 100,
    seed: 108,
    note: "the issue's sequence-mode target is stated at 512->512, T=100",
  },
];

export function modelDef(id: string): ModelDef {
  const def = MODEL_DEFS.find((m) => m.id === id);
  if (!def) throw new Error(`unknown model "${id}" (known: ${MODEL_DEFS.map((m) => m.id).join(", ")})`);
  return def;
}

/** Weights and inputs, replayable from one u32 (mulberry32, shared with the runtime). */
export const seededRandom = mulberry32;

export function uniform(rand: () => number, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

/** One weight tensor, row-major, named as tfjs names it (`lstm_1/kernel`). */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** tfjs LayersModel artifacts in memory: what `loadModel({ modelJson, weights })` takes. */
export interface TfjsArtifacts {
  modelJson: {
    format: string;
    generatedBy: string;
    convertedBy: string | null;
    modelTopology: { class_name: string; config: { name: string; layers: Array<{ class_name: string; config: Record<string, unknown> }> }; [k: string]: unknown };
    weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
  };
  weights: ArrayBuffer;
}

export interface ModelVariant {
  /** "keras" = as Keras writes it (GRU reset_after=true); "tfjs-twin" = reset_after=false twin. */
  kind: "keras" | "tfjs-twin";
  layers: LayerDef[];
  weights: NamedWeight[];
  artifacts: TfjsArtifacts;
  /** True when tfjs can run this variant (no GRU with reset_after=true). */
  tfjsRunnable: boolean;
  /** The same model as an .rnnb bundle (f32), written by the parent for child processes. */
  bundle?: Uint8Array;
  /** The same model exported with `--dtype int8`, likewise. */
  bundleInt8?: Uint8Array;
}

export interface BenchModel {
  def: ModelDef;
  /** What a user would export: the model every non-tfjs engine runs. */
  main: ModelVariant;
  /** Present when `main` has a GRU with reset_after=true: the tfjs-runnable twin. */
  tfjsTwin?: ModelVariant;
  /** Bytes of f32 weights (embedding included). */
  weightBytes: number;
}

/** Keras/tfjs layer objects for a definition. `stateful` builds the batch-1, one-step twin. */
export function buildTfjsLayers(tf: typeof TF, def: ModelDef, layers: LayerDef[], opts: { stateful?: boolean } = {}): TF.Sequential {
  const batchInputShape =
    def.input.kind === "tokens"
      ? opts.stateful ? [1, 1] : [null, null]
      : opts.stateful ? [1, 1, def.input.features] : [null, null, def.input.features];
  const model = tf.sequential({ name: def.id.replace(/[^a-z0-9]/gi, "_") });
  // Zero initialisers: the seeded weights replace them, and tfjs's default Orthogonal
  // initialiser takes minutes on a 512x2048 recurrent kernel.
  const init = { kernelInitializer: "zeros", recurrentInitializer: "zeros", biasInitializer: "zeros" } as const;
  layers.forEach((layer, i) => {
    const first = i === 0 ? { batchInputShape } : {};
    switch (layer.kind) {
      case "embedding":
        model.add(tf.layers.embedding({ name: layer.name, inputDim: layer.vocab, outputDim: layer.dim, embeddingsInitializer: "zeros", ...first }));
        break;
      case "lstm":
        model.add(tf.layers.lstm({
          name: layer.name, units: layer.units, returnSequences: layer.returnSequences,
          // tfjs defaults to hardSigmoid; Keras 2+ to sigmoid. The benchmark models are Keras-style.
          recurrentActivation: "sigmoid", activation: "tanh", stateful: opts.stateful === true, ...init, ...first,
        }));
        break;
      case "gru":
        if (layer.resetAfter) throw new Error(`tfjs cannot build GRU "${layer.name}" with reset_after=true`);
        model.add(tf.layers.gru({
          name: layer.name, units: layer.units, returnSequences: layer.returnSequences,
          recurrentActivation: "sigmoid", activation: "tanh", stateful: opts.stateful === true, ...init, ...first,
        }));
        break;
      case "dense":
        model.add(tf.layers.dense({ name: layer.name, units: layer.units, activation: layer.activation === "hard_sigmoid" ? "hardSigmoid" : layer.activation, kernelInitializer: "zeros", biasInitializer: "zeros", ...first }));
        break;
    }
  });
  return model;
}

export function layerInputSize(def: ModelDef, layers: LayerDef[], index: number): number {
  let size = def.input.kind === "features" ? def.input.features : 0;
  for (let i = 0; i < index; i++) {
    const l = layers[i];
    size = l.kind === "embedding" ? l.dim : l.units;
  }
  return size;
}

/**
 * Seeded weights for a variant, in tfjs weight order. Scales keep pre-activations near unit
 * variance so outputs are far from saturation and a wrong gate order shows up as a large error.
 */
export function seededWeights(def: ModelDef, layers: LayerDef[], rand: () => number): NamedWeight[] {
  const out: NamedWeight[] = [];
  layers.forEach((layer, i) => {
    const inSize = layerInputSize(def, layers, i);
    const w = (role: string, shape: number[], scale: number) =>
      out.push({ name: `${layer.name}/${role}`, shape, data: uniform(rand, shape.reduce((a, b) => a * b, 1), scale) });
    switch (layer.kind) {
      case "embedding":
        w("embeddings", [layer.vocab, layer.dim], 1);
        break;
      case "lstm":
      case "gru": {
        const gates = layer.kind === "lstm" ? 4 : 3;
        w("kernel", [inSize, gates * layer.units], Math.sqrt(3 / inSize));
        w("recurrent_kernel", [layer.units, gates * layer.units], Math.sqrt(3 / layer.units));
        const resetAfter = layer.kind === "gru" && layer.resetAfter;
        w("bias", resetAfter ? [2, gates * layer.units] : [gates * layer.units], 0.5);
        break;
      }
      case "dense":
        w("kernel", [inSize, layer.units], Math.sqrt(3 / inSize));
        w("bias", [layer.units], 0.5);
        break;
    }
  });
  return out;
}

/** The variant a tfjs engine runs. */
export function tfjsVariant(model: BenchModel): ModelVariant {
  return model.tfjsTwin ?? model.main;
}

/** Input tensor, batch first: tokens [b, T] int32 or features [b, T, F] float32. */
export interface InputTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

export function makeInput(def: ModelDef, batch: number, steps: number, seed: number): InputTensor {
  const rand = seededRandom(seed);
  if (def.input.kind === "tokens") {
    const data = new Int32Array(batch * steps);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * def.input.vocab);
    return { data, shape: [batch, steps] };
  }
  const f = def.input.features;
  return { data: uniform(rand, batch * steps * f, 1), shape: [batch, steps, f] };
}

/** Timestep t of a batch-first input, as [b, 1] or [b, 1, F]. */
export function timestep(x: InputTensor, t: number): InputTensor {
  const [b, steps] = x.shape;
  const f = x.shape.length === 3 ? x.shape[2] : 1;
  const data = x.data instanceof Int32Array ? new Int32Array(b * f) : new Float32Array(b * f);
  for (let i = 0; i < b; i++) data.set(x.data.subarray((i * steps + t) * f, (i * steps + t + 1) * f), i * f);
  return { data, shape: x.shape.length === 3 ? [b, 1, f] : [b, 1] };
}

/** The first `steps` timesteps of a batch-first input. */
export function prefix(x: InputTensor, steps: number): InputTensor {
  const [b, total] = x.shape;
  const f = x.shape.length === 3 ? x.shape[2] : 1;
  const data = x.data instanceof Int32Array ? new Int32Array(b * steps * f) : new Float32Array(b * steps * f);
  for (let i = 0; i < b; i++) data.set(x.data.subarray(i * total * f, (i * total + steps) * f), i * steps * f);
  return { data, shape: x.shape.length === 3 ? [b, steps, f] : [b, steps] };
}

/**
 * Multiply-accumulates per batch row for one timestep of a layer (activations and bias adds
 * not counted): LSTM 4u(in+u), GRU 3u(in+u), Dense in*out, Embedding 0 (a gather).
 */
export function layerMacsPerStep(def: ModelDef, layers: LayerDef[], index: number): number {
  const l = layers[index];
  const inSize = layerInputSize(def, layers, index);
  switch (l.kind) {
    case "embedding": return 0;
    case "lstm": return 4 * l.units * (inSize + l.units);
    case "gru": return 3 * l.units * (inSize + l.units);
    case "dense": return inSize * l.units;
  }
}

/**
 * MACs for one batch row over T timesteps: every recurrent layer runs T steps; a Dense after a
 * layer that returns only its last output runs once, after one returning sequences T times.
 */
export function macsPerSequence(def: ModelDef, steps: number): number {
  let total = 0;
  let sequence = true; // whether the tensor flowing into layer i has a time axis
  def.layers.forEach((l, i) => {
    const per = layerMacsPerStep(def, def.layers, i);
    total += per * (sequence ? steps : 1);
    if (l.kind === "lstm" || l.kind === "gru") sequence = l.returnSequences;
  });
  return total;
}

/** The formula behind `macsPerSequence`, for the report. */
export function macsFormula(def: ModelDef): string {
  const terms: string[] = [];
  let sequence = true;
  def.layers.forEach((l, i) => {
    const inSize = layerInputSize(def, def.layers, i);
    const t = sequence ? "T*" : "";
    if (l.kind === "lstm") terms.push(`${t}4*${l.units}*(${inSize}+${l.units})`);
    if (l.kind === "gru") terms.push(`${t}3*${l.units}*(${inSize}+${l.units})`);
    if (l.kind === "dense") terms.push(`${t}${inSize}*${l.units}`);
    if (l.kind === "lstm" || l.kind === "gru") sequence = l.returnSequences;
  });
  return terms.join(" + ");
}
