/**
 * CuDNNLSTM and CuDNNGRU (Keras 2 / tf.keras `keras/layers/cudnn_recurrent.py`) in float64, the
 * way the layer hands its weights to cuDNN and cuDNN computes with them, written independently
 * of the importer's conversion to Keras layout (src/import/keras/layers/cudnn.ts):
 *
 * 1. `_canonical_to_params(weights, biases, shape=[-1], transpose_weights=False)`: the layer
 *    passes cuDNN one flat buffer per gate matrix, the row-major flattening of its [inputs,
 *    units] column block of `kernel` (and of `recurrent_kernel`), in cuDNN's gate order:
 *    LSTM i, f, c, o (Keras' order); GRU r, z, h (Keras stores z, r, h: the layer reorders).
 *    Biases: the first half of `bias` per gate for the input matrices, the second half for
 *    the recurrent ones, in the same order.
 * 2. cuDNN reads each buffer as a row-major [units, inputs] matrix W: gate_j = Σ_k W[j][k]·x_k
 *    (cudnnGetRNNLinLayerMatrixParams; NVIDIA's cuDNN API reference, "cudnnRNNMode_t"):
 *      LSTM  i = σ(W_i x + R_i h + bW_i + bR_i), f, o alike, c~ = tanh(W_c x + R_c h + bW_c + bR_c)
 *            c' = f∘c + i∘c~,  h' = o∘tanh(c')
 *      GRU   r = σ(W_r x + R_r h + bW_r + bR_r),  u = σ(W_u x + R_u h + bW_u + bR_u)
 *            h~ = tanh(W_h x + bW_h + r∘(R_h h + bR_h)),  h' = (1 - u)∘h~ + u∘h
 * The layers take no mask (Keras raises "Masking is not supported for CuDNN RNNs").
 */
import { sigmoid } from "./activations.ts";
import { RefError } from "./errors.ts";
import type { Context, WeightBag } from "./layer-base.ts";
import type { Mask, Tensor64 } from "./tensor.ts";

type Config = Record<string, any>;
type Direction = "forward" | "backward" | null;

/** Row-major flattening of columns [from, from + n) of a row-major [rows, cols] matrix. */
function columnBlock(m: Tensor64, from: number, n: number): Float64Array {
  const [rows, cols] = m.shape;
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) out[r * n + c] = m.data[r * cols + from + c];
  return out;
}

/** cuDNN's product of a row-major [units, inputs] flat matrix with x. */
function cudnnTimes(flat: Float64Array, units: number, x: Float64Array): Float64Array {
  const k = x.length;
  const out = new Float64Array(units);
  for (let j = 0; j < units; j++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += flat[j * k + i] * x[i];
    out[j] = s;
  }
  return out;
}

/** One direction of a CuDNNLSTM / CuDNNGRU layer, with RnnCore's interface (Bidirectional wraps two). */
export class CudnnCore {
  readonly units: number;
  readonly lstm: boolean;
  /** cuDNN's buffers per gate, in cuDNN's order: input matrices, recurrent matrices, their biases. */
  private W: Float64Array[] = [];
  private R: Float64Array[] = [];
  private bW: Float64Array[] = [];
  private bR: Float64Array[] = [];

  constructor(readonly layerName: string, readonly className: string, readonly config: Config) {
    this.lstm = className === "CuDNNLSTM";
    this.units = Number(config.units);
    if (!Number.isInteger(this.units) || this.units < 1) {
      throw new RefError("E_MODEL_JSON", `layer ${layerName} (${className}): units must be a positive integer, received ${config.units}`);
    }
  }

  get stateCount(): number {
    return this.lstm ? 2 : 1;
  }

  build(inputDim: number, bag: WeightBag, direction: Direction, _ctx: Context): void {
    const u = this.units;
    const g = this.lstm ? 4 : 3;
    const kernel = bag.take("kernel", [inputDim, g * u], direction);
    const recurrent = bag.take("recurrent_kernel", [u, g * u], direction);
    const bias = bag.take("bias", [2 * g * u], direction);
    // Keras' slices in the order the layer passes them: LSTM i, f, c, o; GRU r (Keras slot 1), z (slot 0), h
    const order = this.lstm ? [0, 1, 2, 3] : [1, 0, 2];
    this.W = order.map((s) => columnBlock(kernel, s * u, u));
    this.R = order.map((s) => columnBlock(recurrent, s * u, u));
    this.bW = order.map((s) => bias.data.slice(s * u, (s + 1) * u));
    this.bR = order.map((s) => bias.data.slice((g + s) * u, (g + s + 1) * u));
  }

  private step(x: Float64Array, states: Float64Array[]): Float64Array[] {
    const u = this.units;
    const h = states[0];
    const wx = this.W.map((w) => cudnnTimes(w, u, x));
    const rh = this.R.map((r) => cudnnTimes(r, u, h));
    const gate = (k: number, j: number) => wx[k][j] + this.bW[k][j] + rh[k][j] + this.bR[k][j];
    const hNew = new Float64Array(u);
    if (this.lstm) {
      const cNew = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        const i = sigmoid(gate(0, j));
        const f = sigmoid(gate(1, j));
        const cc = Math.tanh(gate(2, j));
        const o = sigmoid(gate(3, j));
        cNew[j] = f * states[1][j] + i * cc;
        hNew[j] = o * Math.tanh(cNew[j]);
      }
      return [hNew, cNew];
    }
    for (let j = 0; j < u; j++) {
      const r = sigmoid(gate(0, j));
      const z = sigmoid(gate(1, j));
      const hh = Math.tanh(wx[2][j] + this.bW[2][j] + r * (rh[2][j] + this.bR[2][j]));
      hNew[j] = (1 - z) * hh + z * h[j];
    }
    return [hNew];
  }

  run(
    x: Tensor64,
    mask: Mask | null,
    goBackwards: boolean,
    _zeroOutputForMask: boolean,
    initialStates: Tensor64[] | null,
  ): { sequence: Tensor64; last: Tensor64; states: Tensor64[] } {
    if (mask !== null) throw new RefError("E_UNSUPPORTED_OPTION", `layer ${this.layerName} (${this.className}): masking is not supported for CuDNN RNNs`);
    const [b, t, d] = x.shape;
    const u = this.units;
    const seq = new Float64Array(b * t * u);
    const last = new Float64Array(b * u);
    const finals = Array.from({ length: this.stateCount }, () => new Float64Array(b * u));
    for (let n = 0; n < b; n++) {
      let states: Float64Array[] = Array.from({ length: this.stateCount }, (_, k) => (initialStates ? initialStates[k].data.slice(n * u, (n + 1) * u) : new Float64Array(u)));
      for (let s = 0; s < t; s++) {
        const src = goBackwards ? t - 1 - s : s;
        states = this.step(x.data.subarray((n * t + src) * d, (n * t + src + 1) * d), states);
        seq.set(states[0], (n * t + s) * u);
      }
      last.set(states[0], n * u);
      states.forEach((st, k) => finals[k].set(st, n * u));
    }
    return { sequence: { shape: [b, t, u], data: seq }, last: { shape: [b, u], data: last }, states: finals.map((data) => ({ shape: [b, u], data })) };
  }
}
