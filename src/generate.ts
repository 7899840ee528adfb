/**
 * Next-token generation over a model that outputs a distribution over its vocabulary.
 * Fixed-window models (the seed's 3-word window) slide the window; variable-length models
 * feed tokens through a session, so each new token costs one step, not a re-run.
 */
import { RnnWasmError } from "./errors.js";
import { mulberry32 } from "./random.js";
import { ACT_SOFTMAX } from "./wasm/abi.js";
import type { Tensor } from "./model/inputs.js";
import type { ModelSpec } from "./model/spec.js";
import type { Tokenizer } from "./text/tokenizer.js";

/** What generation needs of a model (RnnModel; loadModel hands this chunk to the models it fits). */
export interface GenerateHost {
  readonly spec: ModelSpec;
  readonly tokenizer?: Tokenizer;
  predict(x: Tensor): Tensor | Tensor[];
  createSession(opts: { batchSize: number }): { run(x: Tensor): Tensor | Tensor[]; step(x: Tensor): Tensor | Tensor[]; dispose(): void };
}

/**
 * One call generates at most this many tokens: a call blocks its thread until it ends (a
 * few seconds at this bound for the shipped Aesop model), so longer texts are generated in
 * parts, each continuing from the previous output.
 */
export const MAX_GENERATE_STEPS = 10_000;

export interface GenerateOptions {
  /** Tokens to produce (1 .. MAX_GENERATE_STEPS). */
  steps: number;
  /** 0 = greedy (default); > 0 samples from softmax(log p / temperature). */
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  /** Seed of the sampler: the same seed gives the same continuation. */
  seed?: number;
}


type Encoding = { kind: "ids" } | { kind: "float-id" } | { kind: "one-hot"; V: number };

function inputEncoding(model: GenerateHost): { enc: Encoding; window: number | null } {
  const inp = model.spec.inputs[0];
  if (model.spec.inputs.length !== 1) throw new RnnWasmError("E_ARGUMENT", "generate: the model must have a single token input");
  const T = inp.shape[0];
  if (inp.dtype === "int32" && inp.shape.length === 1) return { enc: { kind: "ids" }, window: T };
  if (inp.dtype === "float32" && inp.shape.length === 2) {
    const F = inp.shape[1];
    if (F === 1) return { enc: { kind: "float-id" }, window: T };
    if (typeof F === "number") return { enc: { kind: "one-hot", V: F }, window: T };
  }
  throw new RnnWasmError("E_ARGUMENT", `generate: input ${inp.name} [batch, ${inp.shape.join(", ")}] is not a token sequence (ids, float ids [T, 1] or one-hot [T, V])`);
}

function outputInfo(model: GenerateHost): { V: number; probs: boolean } {
  const out = model.spec.outputs[0];
  const shape = model.spec.tensors[out.tensor].shape;
  const V = shape[shape.length - 1];
  if (typeof V !== "number" || V < 2) throw new RnnWasmError("E_ARGUMENT", "generate: the model's first output is not a distribution over tokens");
  const producer = model.spec.ops.find((op) => op.outputs.includes(out.tensor));
  const probs = !!producer && ((producer.op === "dense" || producer.op === "activation") && producer.activation === ACT_SOFTMAX);
  return { V, probs };
}

function pick(dist: Float32Array, probs: boolean, o: Required<Omit<GenerateOptions, "seed">>, rand: () => number): number {
  const V = dist.length;
  // log-probabilities (or logits) of every token
  const logits = new Float64Array(V);
  for (let i = 0; i < V; i++) logits[i] = probs ? Math.log(Math.max(dist[i], 1e-30)) : dist[i];
  if (o.temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from({ length: V }, (_, i) => i);
  if (o.topK > 0 && o.topK < V) {
    order.sort((a, b) => logits[b] - logits[a]);
    order = order.slice(0, o.topK);
  }
  let m = -Infinity;
  for (const i of order) m = Math.max(m, logits[i] / o.temperature);
  let sum = 0;
  const w = order.map((i) => {
    const e = Math.exp(logits[i] / o.temperature - m);
    sum += e;
    return e;
  });
  let r = rand() * sum;
  for (let j = 0; j < order.length; j++) {
    r -= w[j];
    if (r <= 0) return order[j];
  }
  return order[order.length - 1];
}

export function generate(model: GenerateHost, prompt: string | ArrayLike<number>, opts: GenerateOptions): string | number[] {
  if (typeof opts !== "object" || opts === null) throw new RnnWasmError("E_ARGUMENT", "generate: options {steps} are required");
  const { steps } = opts;
  if (!Number.isInteger(steps) || steps <= 0 || steps > MAX_GENERATE_STEPS) {
    throw new RnnWasmError("E_ARGUMENT", `generate: steps must be a positive integer up to ${MAX_GENERATE_STEPS} (continue from the output for more), received ${JSON.stringify(steps)}`);
  }
  const temperature = opts.temperature ?? 0;
  if (typeof temperature !== "number" || !(temperature >= 0) || !Number.isFinite(temperature)) throw new RnnWasmError("E_ARGUMENT", `generate: temperature must be >= 0, received ${JSON.stringify(opts.temperature)}`);
  const topK = opts.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new RnnWasmError("E_ARGUMENT", `generate: topK must be a non-negative integer, received ${JSON.stringify(opts.topK)}`);
  const rand = mulberry32(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
  const { enc, window } = inputEncoding(model);
  const { V, probs } = outputInfo(model);
  const tok = model.tokenizer;

  let ids: number[];
  const asText = typeof prompt === "string";
  if (asText) {
    if (!tok) throw new RnnWasmError("E_ARGUMENT", "generate: a text prompt needs a bundle with a vocabulary (export with --tokenizer); pass token ids instead");
    ids = tok.sequence(prompt as string);
    if (ids.length === 0) {
      throw new RnnWasmError("E_ARGUMENT", `generate: no word of the prompt ${JSON.stringify(prompt)} is in the vocabulary`);
    }
  } else {
    // an array or a typed array: an object claiming a length holds no ids
    if (!Array.isArray(prompt) && !(ArrayBuffer.isView(prompt) && !(prompt instanceof DataView))) {
      throw new RnnWasmError("E_ARGUMENT", "generate: prompt must be a string or an array of token ids");
    }
    ids = Array.from(prompt as ArrayLike<number>);
    if (ids.length === 0) throw new RnnWasmError("E_ARGUMENT", "generate: the prompt is empty");
  }
  const limit = enc.kind === "one-hot" ? enc.V : V;
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= limit) throw new RnnWasmError("E_TOKEN_RANGE", `generate: prompt token ${id} at position ${i} is outside [0, ${limit - 1}]`);
  });

  const encode = (tokens: number[]): Tensor => {
    const T = tokens.length;
    if (enc.kind === "ids") return { data: Int32Array.from(tokens), shape: [1, T] };
    if (enc.kind === "float-id") return { data: Float32Array.from(tokens), shape: [1, T, 1] };
    const d = new Float32Array(T * enc.V);
    tokens.forEach((t, i) => (d[i * enc.V + t] = 1));
    return { data: d, shape: [1, T, enc.V] };
  };
  const lastRow = (y: Tensor | Tensor[]): Float32Array => {
    const t = Array.isArray(y) ? y[0] : y;
    const d = t.data as Float32Array;
    return d.subarray(d.length - V);
  };
  const o = { steps, temperature, topK };
  const out: number[] = [];
  if (window !== null) {
    const padId = tok && tok.config.vocab[0] !== "" ? null : 0;
    if (ids.length < window && padId === null) {
      throw new RnnWasmError("E_ARGUMENT", `generate: this model reads a window of ${window} tokens; the prompt has ${ids.length}`);
    }
    const seq = ids.slice();
    for (let s = 0; s < steps; s++) {
      let win = seq.slice(-window);
      while (win.length < window) win = [padId as number, ...win];
      const next = pick(lastRow(model.predict(encode(win))), probs, o, rand);
      seq.push(next);
      out.push(next);
    }
  } else {
    const session = model.createSession({ batchSize: 1 });
    try {
      let y = session.run(encode(ids));
      for (let s = 0; s < steps; s++) {
        const next = pick(lastRow(y), probs, o, rand);
        out.push(next);
        if (s + 1 < steps) y = session.step(encode([next]));
      }
    } finally {
      session.dispose();
    }
  }
  if (!asText) return out;
  return tok!.decode(out);
}
