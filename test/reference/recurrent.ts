/**
 * Recurrent layers of the reference: the cells of Keras' lstm.py / gru.py / simple_rnn.py and
 * tfjs-layers' recurrent.ts, the time loop of tfjs' backend rnn() / Keras' backend rnn(), and
 * the Bidirectional wrapper (bidirectional.py / wrappers.ts).
 *
 * Equations (x_t: input row, h: previous output, W kernel, U recurrent kernel, b bias):
 *   SimpleRNN: h' = act(x W + b + h U)
 *   LSTM:      z = x W + h U + b, split [i f c o] (Keras gate order)
 *              i = ra(z_i), f = ra(z_f), c' = f*c + i*act(z_c), o = ra(z_o), h' = o*act(c')
 *   GRU, reset_after = false (bias [3u]; tfjs' only form):
 *              xz|xr|xh = x W + b
 *              z = ra(xz + h U_z), r = ra(xr + h U_r), hh = act(xh + (r*h) U_h)
 *   GRU, reset_after = true (bias [2, 3u]: row 0 input bias, row 1 recurrent bias; Keras/TF2
 *              default, cuDNN-compatible):
 *              xz|xr|xh = x W + b_in, rz|rr|rh = h U + b_rec
 *              z = ra(xz + rz), r = ra(xr + rr), hh = act(xh + r*rh)
 *   GRU out:   h' = z*h + (1-z)*hh
 *
 * Masking (tfjs rnn() and Keras rnn() agree): at a masked step (mask 0) every state keeps its
 * previous value and the step's output is the previous output (for these cells the previous
 * h, zeros before the first unmasked step). With zero_output_for_mask (Keras only: forced by
 * Bidirectional when return_sequences) the output of a masked step is zero instead, the
 * states still carry over. go_backwards reverses the input (and mask) in time; the sequence
 * output stays in processing order (reversed), as in both libraries.
 */
import { applyActivation, checkActivation, scalarActivation } from "./activations.ts";
import { RefError } from "./errors.ts";
import {
  type CallResult,
  type Context,
  type RefLayer,
  type Shape,
  WeightBag,
  lastDim,
  requireRank,
  unsupported,
} from "./layer-base.ts";
import { concat, type Mask, reverseTime, type Tensor64, zip } from "./tensor.ts";
import { CudnnCore } from "./cudnn.ts";

type Config = Record<string, any>;
type Direction = "forward" | "backward" | null;

interface CellWeights {
  kernel: Tensor64;
  recurrent: Tensor64;
  /** [g*u], or [2, 3u] for GRU reset_after. */
  bias: Tensor64 | null;
}

const GATES: Record<string, number> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };

/** y[u] = sum_k v[k] * M[k, col0 + u] for u < n: one row-vector times a column block. */
function rowTimes(v: Float64Array, m: Tensor64, col0: number, n: number, out: Float64Array): void {
  const cols = m.shape[1];
  const k = m.shape[0];
  for (let u = 0; u < n; u++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += v[i] * m.data[i * cols + col0 + u];
    out[u] = s;
  }
}

/**
 * One recurrent layer (LSTM, GRU, SimpleRNN). Holds the config and weights of one direction;
 * Bidirectional makes two of them.
 */
export class RnnCore {
  readonly units: number;
  readonly cell: string;
  readonly resetAfter: boolean;
  private w!: CellWeights;
  private act: (x: number) => number = Math.tanh;
  private rec: (x: number) => number = Math.tanh;

  constructor(
    readonly layerName: string,
    readonly className: string,
    readonly config: Config,
    readonly defaultRecurrentActivation: string,
  ) {
    this.cell = className;
    this.units = Number(config.units);
    if (!Number.isInteger(this.units) || this.units < 1) {
      throw new RefError("E_MODEL_JSON", `layer ${layerName} (${className}): units must be a positive integer, received ${config.units}`);
    }
    if (config.time_major === true) unsupported(layerName, className, "time_major", true);
    this.resetAfter = false;
    if (className === "GRU") this.resetAfter = config.reset_after === true;
  }

  get stateCount(): number {
    return this.cell === "LSTM" ? 2 : 1;
  }

  build(inputDim: number, bag: WeightBag, direction: Direction, ctx: Context): void {
    const g = GATES[this.cell];
    const u = this.units;
    const activation = this.config.activation === undefined ? "tanh" : this.config.activation;
    checkActivation(activation, `layer ${this.layerName}`);
    this.act = scalarActivation(activation, ctx.hardSigmoid);
    if (this.cell !== "SimpleRNN") {
      const ra = this.config.recurrent_activation === undefined ? this.defaultRecurrentActivation : this.config.recurrent_activation;
      checkActivation(ra, `layer ${this.layerName}`);
      this.rec = scalarActivation(ra, ctx.hardSigmoid);
    }
    const kernel = bag.take("kernel", [inputDim, g * u], direction);
    const recurrent = bag.take("recurrent_kernel", [u, g * u], direction);
    let bias: Tensor64 | null = null;
    if (this.config.use_bias !== false) {
      if (this.cell === "GRU") {
        // reset_after is absent from old configs: the bias shape then tells ([2, 3u] = true).
        const rec = bag.peek("bias", direction);
        const inferred = rec !== undefined && rec.tensor.shape.length === 2;
        if (this.config.reset_after === undefined) (this as { resetAfter: boolean }).resetAfter = inferred;
      }
      bias = bag.take("bias", this.resetAfter ? [2, 3 * u] : [g * u], direction);
    }
    this.w = { kernel, recurrent, bias };
  }

  /** One step for one batch row; returns the new states (output = states[0]). */
  private step(x: Float64Array, states: Float64Array[]): Float64Array[] {
    const u = this.units;
    const { kernel, recurrent, bias } = this.w;
    const g = GATES[this.cell];
    const xw = new Float64Array(g * u);
    rowTimes(x, kernel, 0, g * u, xw);
    const h = states[0];
    if (this.cell === "SimpleRNN") {
      const hu = new Float64Array(u);
      rowTimes(h, recurrent, 0, u, hu);
      const out = new Float64Array(u);
      for (let j = 0; j < u; j++) out[j] = this.act(xw[j] + (bias ? bias.data[j] : 0) + hu[j]);
      return [out];
    }
    if (this.cell === "LSTM") {
      const hu = new Float64Array(4 * u);
      rowTimes(h, recurrent, 0, 4 * u, hu);
      const c = states[1];
      const hNew = new Float64Array(u);
      const cNew = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        const z = (gate: number) => xw[gate * u + j] + hu[gate * u + j] + (bias ? bias.data[gate * u + j] : 0);
        const i = this.rec(z(0));
        const f = this.rec(z(1));
        const cc = f * c[j] + i * this.act(z(2));
        const o = this.rec(z(3));
        cNew[j] = cc;
        hNew[j] = o * this.act(cc);
      }
      return [hNew, cNew];
    }
    // GRU
    const hNew = new Float64Array(u);
    const bIn = (k: number) => (bias ? bias.data[k] : 0);
    const bRec = (k: number) => (bias && this.resetAfter ? bias.data[3 * u + k] : 0);
    if (this.resetAfter) {
      const hu = new Float64Array(3 * u);
      rowTimes(h, recurrent, 0, 3 * u, hu);
      for (let j = 0; j < u; j++) {
        const z = this.rec(xw[j] + bIn(j) + hu[j] + bRec(j));
        const r = this.rec(xw[u + j] + bIn(u + j) + hu[u + j] + bRec(u + j));
        const hh = this.act(xw[2 * u + j] + bIn(2 * u + j) + r * (hu[2 * u + j] + bRec(2 * u + j)));
        hNew[j] = z * h[j] + (1 - z) * hh;
      }
    } else {
      const hu = new Float64Array(2 * u);
      rowTimes(h, recurrent, 0, 2 * u, hu);
      const z = new Float64Array(u);
      const rh = new Float64Array(u);
      for (let j = 0; j < u; j++) {
        z[j] = this.rec(xw[j] + bIn(j) + hu[j]);
        const r = this.rec(xw[u + j] + bIn(u + j) + hu[u + j]);
        rh[j] = r * h[j];
      }
      const hc = new Float64Array(u);
      rowTimes(rh, recurrent, 2 * u, u, hc);
      for (let j = 0; j < u; j++) {
        const hh = this.act(xw[2 * u + j] + bIn(2 * u + j) + hc[j]);
        hNew[j] = z[j] * h[j] + (1 - z[j]) * hh;
      }
    }
    return [hNew];
  }

  /**
   * The time loop. Returns the sequence of outputs in processing order ([b, t, u]), the last
   * output ([b, u]) and the final states ([b, u] each).
   */
  run(
    x: Tensor64,
    mask: Mask | null,
    goBackwards: boolean,
    zeroOutputForMask: boolean,
    initialStates: Tensor64[] | null,
    prevOutputStartsAtZero = false,
  ): { sequence: Tensor64; last: Tensor64; states: Tensor64[] } {
    const [b, t, d] = x.shape;
    const u = this.units;
    if (mask !== null && (mask.shape[0] !== b || mask.shape[1] !== t)) {
      throw new RefError(
        "E_SHAPE",
        `layer ${this.layerName}: mask of shape [${mask.shape.join(", ")}] for input [${x.shape.join(", ")}]`,
      );
    }
    const seq = new Float64Array(b * t * u);
    const last = new Float64Array(b * u);
    const finals = Array.from({ length: this.stateCount }, () => new Float64Array(b * u));
    for (let n = 0; n < b; n++) {
      let states: Float64Array[] = Array.from({ length: this.stateCount }, (_, k) =>
        initialStates ? initialStates[k].data.slice(n * u, (n + 1) * u) : new Float64Array(u),
      );
      // tfjs uses states[0] as "previous output" (h0 when an initial state is given); Keras'
      // rnn() starts prev_output at zeros. Only differs for a masked first step with h0 != 0.
      let prevOut: Float64Array = prevOutputStartsAtZero ? new Float64Array(u) : states[0];
      for (let s = 0; s < t; s++) {
        const src = goBackwards ? t - 1 - s : s;
        const keep = mask === null || mask.data[n * t + src] !== 0;
        let out: Float64Array;
        if (keep) {
          states = this.step(x.data.subarray((n * t + src) * d, (n * t + src + 1) * d), states);
          out = states[0];
        } else {
          out = zeroOutputForMask ? new Float64Array(u) : prevOut;
        }
        seq.set(out, (n * t + s) * u);
        prevOut = out;
      }
      last.set(prevOut, n * u);
      states.forEach((st, k) => finals[k].set(st, n * u));
    }
    return {
      sequence: { shape: [b, t, u], data: seq },
      last: { shape: [b, u], data: last },
      states: finals.map((data) => ({ shape: [b, u], data })),
    };
  }
}

/** A recurrent layer's cell and time loop: RnnCore, or CudnnCore for CuDNNLSTM / CuDNNGRU. */
type Core = RnnCore | CudnnCore;
const CUDNN = new Set(["CuDNNLSTM", "CuDNNGRU"]);
function makeCore(name: string, className: string, config: Config, defaultRecurrentActivation: string): Core {
  return CUDNN.has(className) ? new CudnnCore(name, className, config) : new RnnCore(name, className, config, defaultRecurrentActivation);
}

/** LSTM / GRU / SimpleRNN / CuDNNLSTM / CuDNNGRU layer. Extra inputs (Functional `initial_state`) are initial states. */
export class RecurrentLayer implements RefLayer {
  private core: Core;
  constructor(
    readonly className: string,
    readonly name: string,
    readonly config: Config,
    defaultRecurrentActivation: string,
  ) {
    this.core = makeCore(name, className, config, defaultRecurrentActivation);
  }

  build(inputShapes: Shape[], weights: WeightBag, ctx: Context): Shape[] {
    const s = inputShapes[0];
    requireRank(this.name, s, [3]);
    this.core.build(lastDim(this.name, s), weights, null, ctx);
    return rnnOutputShapes(s, this.core.units, this.core.stateCount, this.config);
  }

  call(inputs: Tensor64[], _masks: (Mask | null)[], rnnMask: Mask | null, ctx: Context): CallResult {
    const zero = ctx.semantics === "keras" && this.config.zero_output_for_mask === true;
    const init = inputs.length > 1 ? inputs.slice(1) : null;
    const r = this.core.run(inputs[0], rnnMask, this.config.go_backwards === true, zero, init, ctx.semantics === "keras");
    const seqOut = this.config.return_sequences === true;
    const outputs = [seqOut ? r.sequence : r.last];
    const masks: (Mask | null)[] = [seqOut ? rnnMask : null];
    if (this.config.return_state === true) {
      outputs.push(...r.states);
      masks.push(...r.states.map(() => null));
    }
    return { outputs, masks };
  }
}

function rnnOutputShapes(s: Shape, units: number, nStates: number, config: Config): Shape[] {
  const out: Shape[] = [config.return_sequences === true ? [s[0], s[1], units] : [s[0], units]];
  if (config.return_state === true) for (let k = 0; k < nStates; k++) out.push([s[0], units]);
  return out;
}

/**
 * Bidirectional: a forward copy of the wrapped layer and a backward copy with go_backwards
 * toggled (tfjs, Keras 2) — or Keras 3's explicit `backward_layer` config when present. The
 * backward sequence output is reversed back in time before merging (concat/sum/mul/ave, or
 * null: two outputs). Outputs with return_state: [merged..., forward states..., backward
 * states...]. Under "keras" semantics both copies use zero_output_for_mask = return_sequences.
 */
export class BidirectionalLayer implements RefLayer {
  readonly className = "Bidirectional";
  private fwd: Core;
  private bwd: Core;
  private fwdConfig: Config;
  private bwdConfig: Config;
  private mergeMode: string | null;

  constructor(
    readonly name: string,
    readonly config: Config,
    defaultRecurrentActivation: string,
  ) {
    const inner = config.layer;
    if (!inner || typeof inner.class_name !== "string") {
      throw new RefError("E_MODEL_JSON", `layer ${name} (Bidirectional): config.layer is missing`);
    }
    if (!(inner.class_name in GATES) && !CUDNN.has(inner.class_name)) {
      throw new RefError("E_UNSUPPORTED_LAYER", `layer ${name}: Bidirectional(${inner.class_name}) is not supported`);
    }
    this.fwdConfig = inner.config;
    this.bwdConfig = config.backward_layer?.config ?? { ...inner.config, go_backwards: !(inner.config.go_backwards === true) };
    this.mergeMode = config.merge_mode === undefined ? "concat" : config.merge_mode;
    if (this.mergeMode !== null && !["concat", "sum", "mul", "ave"].includes(this.mergeMode)) {
      unsupported(name, "Bidirectional", "merge_mode", config.merge_mode);
    }
    this.fwd = makeCore(name, inner.class_name, this.fwdConfig, defaultRecurrentActivation);
    const bwdClass = config.backward_layer?.class_name ?? inner.class_name;
    this.bwd = makeCore(name, bwdClass, this.bwdConfig, defaultRecurrentActivation);
  }

  build(inputShapes: Shape[], weights: WeightBag, ctx: Context): Shape[] {
    const s = inputShapes[0];
    requireRank(this.name, s, [3]);
    const d = lastDim(this.name, s);
    this.fwd.build(d, weights, "forward", ctx);
    this.bwd.build(d, weights, "backward", ctx);
    const [out, ...states] = rnnOutputShapes(s, this.fwd.units, this.fwd.stateCount, this.fwdConfig);
    const merged: Shape[] =
      this.mergeMode === null ? [out, out.slice()] : this.mergeMode === "concat" ? [[...out.slice(0, -1), 2 * this.fwd.units]] : [out];
    return [...merged, ...states, ...states.map((x) => x.slice())];
  }

  call(inputs: Tensor64[], _masks: (Mask | null)[], rnnMask: Mask | null, ctx: Context): CallResult {
    const returnSequences = this.fwdConfig.return_sequences === true;
    const zero = ctx.semantics === "keras" && returnSequences;
    const n = this.fwd.stateCount;
    const initF = inputs.length > 1 ? inputs.slice(1, 1 + n) : null;
    const initB = inputs.length > 1 ? inputs.slice(1 + n, 1 + 2 * n) : null;
    const kerasPrev = ctx.semantics === "keras";
    const f = this.fwd.run(inputs[0], rnnMask, this.fwdConfig.go_backwards === true, zero, initF, kerasPrev);
    const b = this.bwd.run(inputs[0], rnnMask, this.bwdConfig.go_backwards === true, zero, initB, kerasPrev);
    const y = returnSequences ? f.sequence : f.last;
    const yRev = returnSequences ? reverseTime(b.sequence) : b.last;
    let merged: Tensor64[];
    switch (this.mergeMode) {
      case "concat":
        merged = [concat([y, yRev], -1)];
        break;
      case "sum":
        merged = [zip(y, yRev, (p, q) => p + q)];
        break;
      case "mul":
        merged = [zip(y, yRev, (p, q) => p * q)];
        break;
      case "ave":
        merged = [zip(y, yRev, (p, q) => 0.5 * (p + q))];
        break;
      default:
        merged = [y, yRev];
    }
    const outMask = returnSequences ? rnnMask : null;
    const outputs = [...merged];
    const masks: (Mask | null)[] = merged.map(() => outMask);
    if (this.fwdConfig.return_state === true) {
      outputs.push(...f.states, ...b.states);
      masks.push(...f.states.map(() => null), ...b.states.map(() => null));
    }
    return { outputs, masks };
  }
}

/** TimeDistributed(inner): the inner layer applied to [b*t, ...] and reshaped back. */
export class TimeDistributedLayer implements RefLayer {
  readonly className = "TimeDistributed";
  constructor(
    readonly name: string,
    readonly inner: RefLayer,
  ) {}
  build(inputShapes: Shape[], weights: WeightBag, ctx: Context): Shape[] {
    const s = inputShapes[0];
    if (s.length < 3) requireRank(this.name, s, [3]);
    const [innerOut] = this.inner.build([[null, ...s.slice(2)]], weights, ctx);
    return [[s[0], s[1], ...innerOut.slice(1)]];
  }
  call([x]: Tensor64[], masks: (Mask | null)[], _r: Mask | null, ctx: Context): CallResult {
    const [b, t] = x.shape;
    const flat = { shape: [b * t, ...x.shape.slice(2)], data: x.data };
    const y = this.inner.call([flat], [null], null, ctx).outputs[0];
    return { outputs: [{ shape: [b, t, ...y.shape.slice(1)], data: y.data }], masks: [masks[0]] };
  }
}

export { applyActivation };
