/**
 * A float64 JavaScript forward pass of the benchmark models: the oracle for the configurations
 * tfjs cannot run (GRU reset_after=true). It is written from the Keras equations, checked
 * against tfjs on every configuration tfjs can run (test/bench/reference.test.ts), and slow.
 *
 * Keras gate orders: LSTM kernel columns [i | f | c | o], GRU [z | r | h].
 *   LSTM: i=σ(xWi+hUi+bi) f=σ(xWf+hUf+bf) g=tanh(xWc+hUc+bc) o=σ(xWo+hUo+bo); c=f*c+i*g; h=o*tanh(c)
 *   GRU reset_after=false: hh=tanh(xWh + bh + (r*h)Uh)
 *   GRU reset_after=true:  hh=tanh(xWh + b0h + r*(hUh + b1h));  h = z*h_prev + (1-z)*hh
 */
import type { Activation, InputTensor, LayerDef, ModelDef, NamedWeight } from "./models.ts";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const hardSigmoid = (x: number) => Math.min(1, Math.max(0, 0.2 * x + 0.5));

function activate(kind: Activation, v: Float64Array): void {
  switch (kind) {
    case "sigmoid": for (let i = 0; i < v.length; i++) v[i] = sigmoid(v[i]); break;
    case "hard_sigmoid": for (let i = 0; i < v.length; i++) v[i] = hardSigmoid(v[i]); break;
    case "tanh": for (let i = 0; i < v.length; i++) v[i] = Math.tanh(v[i]); break;
    case "linear": break;
    case "softmax": {
      let max = -Infinity;
      for (const x of v) max = Math.max(max, x);
      let sum = 0;
      for (let i = 0; i < v.length; i++) { v[i] = Math.exp(v[i] - max); sum += v[i]; }
      for (let i = 0; i < v.length; i++) v[i] /= sum;
      break;
    }
  }
}

/** out[j] = bias[j] + sum_k x[k] * w[k, j] for a row-major [in, out] matrix. */
function affine(x: Float64Array, w: Float32Array, cols: number, colOffset: number, width: number, out: Float64Array): void {
  for (let k = 0; k < x.length; k++) {
    const xk = x[k];
    if (xk === 0) continue;
    const row = k * cols + colOffset;
    for (let j = 0; j < width; j++) out[j] += xk * w[row + j];
  }
}

/** Recurrent state of one layer for one batch row: [h] for GRU, [h, c] for LSTM. */
export type LayerState = Float64Array[];

export interface ReferenceModel {
  /** Head output for every batch row, row-major: [b, outputSize]. */
  predict(x: InputTensor): Float64Array;
  /** Head output after each timestep for batch row 0 (what a streaming session returns). */
  stream(x: InputTensor): Float64Array[];
}

export function referenceModel(def: ModelDef, layers: LayerDef[], weights: NamedWeight[]): ReferenceModel {
  const byName = new Map(weights.map((w) => [w.name, w]));
  const get = (name: string) => {
    const w = byName.get(name);
    if (!w) throw new Error(`reference: missing weight ${name}`);
    return w;
  };

  /** Run one batch row through all layers; returns the head output after each timestep. */
  function runRow(row: Float64Array[], everyStep: boolean): Float64Array[] {
    let seq: Float64Array[] = row; // one vector per timestep
    for (let li = 0; li < layers.length; li++) {
      const layer = layers[li];
      const isLast = li === layers.length - 1;
      if (layer.kind === "embedding") {
        const table = get(`${layer.name}/embeddings`);
        seq = seq.map((tok) => {
          const id = tok[0];
          return Float64Array.from(table.data.subarray(id * layer.dim, (id + 1) * layer.dim));
        });
      } else if (layer.kind === "dense") {
        const kernel = get(`${layer.name}/kernel`);
        const bias = get(`${layer.name}/bias`);
        seq = seq.map((x) => {
          const out = Float64Array.from(bias.data);
          affine(x, kernel.data, layer.units, 0, layer.units, out);
          activate(layer.activation, out);
          return out;
        });
      } else {
        const u = layer.units;
        const kernel = get(`${layer.name}/kernel`);
        const recurrent = get(`${layer.name}/recurrent_kernel`);
        const bias = get(`${layer.name}/bias`);
        const gates = layer.kind === "lstm" ? 4 : 3;
        let h = new Float64Array(u);
        let c = new Float64Array(u);
        const outputs: Float64Array[] = [];
        for (const x of seq) {
          if (layer.kind === "lstm") {
            const z = Float64Array.from(bias.data.subarray(0, 4 * u));
            affine(x, kernel.data, 4 * u, 0, 4 * u, z);
            affine(h, recurrent.data, 4 * u, 0, 4 * u, z);
            const nextC = new Float64Array(u);
            const nextH = new Float64Array(u);
            for (let j = 0; j < u; j++) {
              const i = sigmoid(z[j]), f = sigmoid(z[u + j]), g = Math.tanh(z[2 * u + j]), o = sigmoid(z[3 * u + j]);
              nextC[j] = f * c[j] + i * g;
              nextH[j] = o * Math.tanh(nextC[j]);
            }
            c = nextC;
            h = nextH;
          } else {
            const resetAfter = layer.resetAfter;
            const inBias = bias.data.subarray(0, gates * u);
            const recBias = resetAfter ? bias.data.subarray(gates * u, 2 * gates * u) : new Float32Array(gates * u);
            const xw = Float64Array.from(inBias);
            affine(x, kernel.data, 3 * u, 0, 3 * u, xw);
            // z and r: both biases, both products.
            const hzr = Float64Array.from(recBias.subarray(0, 2 * u));
            affine(h, recurrent.data, 3 * u, 0, 2 * u, hzr);
            const zg = new Float64Array(u), rg = new Float64Array(u);
            for (let j = 0; j < u; j++) {
              zg[j] = sigmoid(xw[j] + hzr[j]);
              rg[j] = sigmoid(xw[u + j] + hzr[u + j]);
            }
            const hh = new Float64Array(u);
            if (resetAfter) {
              const rec = Float64Array.from(recBias.subarray(2 * u, 3 * u));
              affine(h, recurrent.data, 3 * u, 2 * u, u, rec);
              for (let j = 0; j < u; j++) hh[j] = Math.tanh(xw[2 * u + j] + rg[j] * rec[j]);
            } else {
              const rh = new Float64Array(u);
              for (let j = 0; j < u; j++) rh[j] = rg[j] * h[j];
              const rec = new Float64Array(u);
              affine(rh, recurrent.data, 3 * u, 2 * u, u, rec);
              for (let j = 0; j < u; j++) hh[j] = Math.tanh(xw[2 * u + j] + rec[j]);
            }
            const nextH = new Float64Array(u);
            for (let j = 0; j < u; j++) nextH[j] = zg[j] * h[j] + (1 - zg[j]) * hh[j];
            h = nextH;
          }
          outputs.push(h);
        }
        // Streaming returns the head after every step, so keep all steps when asked to.
        seq = layer.returnSequences || everyStep ? outputs : [outputs[outputs.length - 1]];
      }
      if (isLast && !everyStep) seq = [seq[seq.length - 1]];
    }
    return seq;
  }

  function rows(x: InputTensor): Float64Array[][] {
    const [b, steps] = x.shape;
    const f = x.shape.length === 3 ? x.shape[2] : 1;
    const out: Float64Array[][] = [];
    for (let i = 0; i < b; i++) {
      const row: Float64Array[] = [];
      for (let t = 0; t < steps; t++) row.push(Float64Array.from(x.data.subarray((i * steps + t) * f, (i * steps + t + 1) * f)));
      out.push(row);
    }
    return out;
  }

  return {
    predict(x) {
      const outs = rows(x).map((row) => runRow(row, false)[0]);
      const size = outs[0].length;
      const flat = new Float64Array(outs.length * size);
      outs.forEach((o, i) => flat.set(o, i * size));
      return flat;
    },
    stream(x) {
      return runRow(rows(x)[0], true);
    },
  };
}
