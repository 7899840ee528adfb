/**
 * tfjs (cpu backend) as an oracle: seeded weights, artifacts exactly as `model.save()` writes
 * them, loading artifacts back through a custom IOHandler, and prediction to plain arrays.
 */
import * as tf from "@tensorflow/tfjs";
import { joinWeightData, modelArtifacts } from "../../tools/train/artifacts.ts";
import { rngFor, type Rng } from "./prng.ts";

export type Tf = typeof tf;
export { tf };

export interface InputTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}
export interface OutputTensor {
  data: Float32Array;
  shape: number[];
}

/** `{ modelJson, weights }` as the runtime's loadModel takes them. */
export interface Artifacts {
  modelJson: {
    modelTopology: Record<string, unknown>;
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    weightsManifest: { paths: string[]; weights: WeightManifestEntry[] }[];
    [k: string]: unknown;
  };
  weights: ArrayBuffer | ArrayBuffer[];
}

export interface WeightManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: "uint8" | "uint16" | "float16"; min?: number; scale?: number; original_dtype?: string };
}

let ready: Promise<Tf> | null = null;

/**
 * `tf` whose recurrent layers default to zeros initialisers: the weights are replaced by seeded
 * values right after construction, and tfjs' Orthogonal initialiser takes ~50 s for a 128-unit
 * LSTM (it warns beyond 2000 elements).
 */
export function withCheapInitializers(t: Tf): Tf {
  const cheap = (f: (args: Record<string, unknown>) => unknown) => (args: Record<string, unknown>) =>
    f({ kernelInitializer: "zeros", recurrentInitializer: "zeros", ...args });
  const layers = new Proxy(t.layers, {
    get(target, key, recv) {
      const v = Reflect.get(target, key, recv);
      return key === "lstm" || key === "gru" || key === "simpleRNN" ? cheap(v) : v;
    },
  });
  return new Proxy(t, { get: (target, key, recv) => (key === "layers" ? layers : Reflect.get(target, key, recv)) });
}

/** Selects the cpu backend once per worker. */
export function initTfjs(): Promise<Tf> {
  ready ??= (async () => {
    await tf.setBackend("cpu");
    await tf.ready();
    return tf;
  })();
  return ready;
}

function role(weightName: string): string {
  const parts = weightName.replace(/:\d+$/, "").split("/");
  return parts[parts.length - 1];
}

/**
 * Draws every weight from `rng`: kernels uniform in ±1.2·sqrt(6/(fan_in+fan_out)) (lively but
 * not saturated activations), biases, beta and moving means non-zero in ±[0.05, 0.5] (zero
 * biases hide bugs), gamma in ±[0.5, 1.5], moving variances in [0.3, 2], embeddings in ±0.6.
 */
export function randomWeightValues(name: string, shape: number[], rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = role(name);
  if (r === "bias" || r === "beta" || r === "moving_mean") return rng.float32Array(n, (g) => g.nonZero(0.05, 0.5));
  if (r === "gamma") return rng.float32Array(n, (g) => g.nonZero(0.5, 1.5));
  if (r === "moving_variance") return rng.float32Array(n, (g) => g.uniform(0.3, 2));
  if (r === "embeddings") return rng.float32Array(n, (g) => g.uniform(-0.6, 0.6));
  const fanOut = shape[shape.length - 1];
  const fanIn = n / fanOut;
  const lim = 1.2 * Math.sqrt(6 / (fanIn + fanOut));
  return rng.float32Array(n, (g) => g.uniform(-lim, lim));
}

/** Replaces every weight of `model` with seeded values (see randomWeightValues). */
export function randomizeWeights(model: tf.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (ws.length === 0) continue;
    const values = ws.map((w) => {
      const name = (w as unknown as { originalName?: string }).originalName ?? w.name;
      return tf.tensor(randomWeightValues(name, w.shape as number[], rng.fork(name)), w.shape as number[]);
    });
    layer.setWeights(values);
    values.forEach((v) => v.dispose());
  }
}

/**
 * The artifacts `model.save()` produces, in model.json form: modelTopology, format,
 * generatedBy, convertedBy and one weightsManifest group; weights as one ArrayBuffer
 * (tools/train/artifacts.ts, the one place a model becomes artifacts).
 */
export async function saveArtifacts(model: tf.LayersModel): Promise<Artifacts & { weights: ArrayBuffer }> {
  const { modelJson, weights } = await modelArtifacts(model);
  return { modelJson: modelJson as Artifacts["modelJson"], weights };
}

/** Loads artifacts in tfjs through a custom IOHandler (shards concatenated in manifest order). */
export async function loadTfjsModel(art: Artifacts): Promise<tf.LayersModel> {
  const mj = art.modelJson;
  const specs = mj.weightsManifest.flatMap((g) => g.weights);
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: mj.modelTopology as object,
      weightSpecs: specs as tf.io.WeightsManifestEntry[],
      weightData: joinWeightData(art.weights),
      format: mj.format,
      generatedBy: mj.generatedBy,
      convertedBy: mj.convertedBy ?? undefined,
    }),
  };
  return tf.loadLayersModel(handler);
}

export function tfjsPredict(model: tf.LayersModel, inputs: InputTensor[]): OutputTensor[] {
  return tf.tidy(() => {
    const xs = inputs.map((x) => tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? "int32" : "float32"));
    const y = model.predict(xs.length === 1 ? xs[0] : xs);
    const ys = Array.isArray(y) ? y : [y];
    return ys.map((t) => ({ data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape.slice() }));
  });
}

/** Symbolic input/output shapes of a tfjs model (null for batch and variable dims). */
export function tfjsSignature(model: tf.LayersModel): { inputs: (number | null)[][]; outputs: (number | null)[][] } {
  return {
    inputs: model.inputs.map((i) => i.shape.slice()),
    outputs: model.outputs.map((o) => o.shape.slice()),
  };
}

/**
 * A text model of the size of Keras' IMDB example, Embedding(1000, 32) -> LSTM(32) ->
 * Dense(1, sigmoid), 40,353 parameters, with seeded weights and that file's layer names, as tfjs
 * artifacts: a text model every checkout has (the Keras-written file cannot be redistributed).
 */
export async function imdbSizedModel(): Promise<Artifacts> {
  await initTfjs();
  const m = tf.sequential({ name: "imdb_sized" });
  m.add(tf.layers.embedding({ name: "embedding_2", inputDim: 1000, outputDim: 32, inputLength: 100 }));
  m.add(tf.layers.lstm({ name: "lstm_1", units: 32 }));
  m.add(tf.layers.dense({ name: "dense_2", units: 1, activation: "sigmoid" }));
  randomizeWeights(m, rngFor("imdb-sized model"));
  const art = await saveArtifacts(m);
  m.dispose();
  return art;
}
