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

const GATES: Record<string, number> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };
const CELLS: Record<string, RecurrentCell> = { LSTM: "lstm", GRU: "gru", SimpleRNN: "simple_rnn" };

// ---------------------------------------------------------------- the recurrence itself
// Every float64 recurrence of the test suite runs here: the layers of this reference (below),
// the kernel tests (test/kernels/harness.ts), the int8 oracle (test/int8/reference.ts, which
// replaces the products), the benchmark's gate and the importers' tests (through the model).

export type RecurrentCell = "lstm" | "gru" | "simple_rnn";

/** What one recurrent layer computes, independent of any file format. */
export interface CellSpec {
  cell: RecurrentCell;
  units: number;
  /** Input kernel [in, G·u], row-major, gate-major columns (LSTM i, f, c, o; GRU z, r, h). */
  kernel: ArrayLike<number>;
  /** Recurrent kernel [u, G·u], same column order. */
  recurrentKernel: ArrayLike<number>;
  /** [G·u]; GRU reset_after: [2·3u] = input bias, then recurrent bias. null: no bias. */
  bias: ArrayLike<number> | null;
  /** GRU: the reset gate applies after the recurrent product (Keras reset_after=True). */
  resetAfter: boolean;
  /** The gates' activation (Keras recurrent_activation): LSTM i, f, o; GRU z, r. */
  gate: (x: number) => number;
  /** The candidate's activation (Keras activation): LSTM c̃, GRU h̃, SimpleRNN h. */
  candidate: (x: number) => number;
  /** LSTM: the activation of c in h = o·act(c) (Keras: the same as candidate; ONNX h). */
  cellOutput?: (x: number) => number;
  /** ONNX clip: every gate's pre-activation clipped to [-clip, clip] (onnxruntime: c itself before h is not). */
  clip?: number;
  /** ONNX LSTM input_forget: f = 1 − i. */
  inputForget?: boolean;
  /** ONNX LSTM peepholes P, [3u] in the order i, f, o: i and f add P ⊙ c_{t-1}, o adds P ⊙ c_t. */
  peepholes?: ArrayLike<number> | null;
}

/** The matrix products of a step, replaceable (the int8 oracle quantises them). */
export interface RecurrentProducts {
  /** x_t · W over all G·u columns (bias not included). */
  input(x: ArrayLike<number>): Float64Array;
  /** h · U over the columns [from, from + n). */
  hidden(h: ArrayLike<number>, from: number, n: number): Float64Array;
  /** r ⊙ h, the vector GRU reset_after=false multiplies by its h-gate columns of U. */
  resetHidden(r: ArrayLike<number>, h: ArrayLike<number>): ArrayLike<number>;
}

export const gatesOf = (cell: RecurrentCell): number => (cell === "lstm" ? 4 : cell === "gru" ? 3 : 1);

/** y[c] = Σ_k v[k] · M[k, from + c] for c < n, M row-major with `cols` columns. */
function rowTimes(v: ArrayLike<number>, m: ArrayLike<number>, cols: number, from: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let k = 0; k < v.length; k++) s += v[k] * m[k * cols + from + c];
    out[c] = s;
  }
  return out;
}

/** The products in float64 on the spec's weights. */
export function float64Products(spec: CellSpec): RecurrentProducts {
  const N = gatesOf(spec.cell) * spec.units;
  return {
    input: (x) => rowTimes(x, spec.kernel, N, 0, N),
    hidden: (h, from, n) => rowTimes(h, spec.recurrentKernel, N, from, n),
    resetHidden: (r, h) => Float64Array.from(r, (rj, j) => rj * h[j]),
  };
}

/** One step of one row: the new states ([h] or [h, c]) from x_t and the previous states. */
export function cellStep(spec: CellSpec, x: ArrayLike<number>, states: Float64Array[], products: RecurrentProducts): Float64Array[] {
  const { cell, units: u, bias } = spec;
  const G = gatesOf(cell);
  const clip = spec.clip ? (v: number) => Math.min(Math.max(v, -spec.clip!), spec.clip!) : (v: number) => v;
  const f = (v: number) => spec.gate(clip(v));
  const g = (v: number) => spec.candidate(clip(v));
  const P = spec.peepholes;
  const xz = products.input(x);
  if (bias) for (let n = 0; n < G * u; n++) xz[n] += bias[n];
  const h = states[0];
  const hNew = new Float64Array(u);
  if (cell === "lstm") {
    const hz = products.hidden(h, 0, 4 * u);
    const c = states[1];
    const cNew = new Float64Array(u);
    const out = spec.cellOutput ?? spec.candidate; // (c itself is not clipped)
    for (let j = 0; j < u; j++) {
      const i = f(xz[j] + hz[j] + (P ? P[j] * c[j] : 0));
      const fg = spec.inputForget ? 1 - i : f(xz[u + j] + hz[u + j] + (P ? P[u + j] * c[j] : 0));
      cNew[j] = fg * c[j] + i * g(xz[2 * u + j] + hz[2 * u + j]);
      const o = f(xz[3 * u + j] + hz[3 * u + j] + (P ? P[2 * u + j] * cNew[j] : 0));
      hNew[j] = o * out(cNew[j]);
    }
    return [hNew, cNew];
  }
  if (cell === "gru") {
    // reset_after=false applies r before its h-gate product: only the z and r columns here
    const hz = products.hidden(h, 0, spec.resetAfter ? 3 * u : 2 * u);
    if (spec.resetAfter && bias) for (let n = 0; n < 3 * u; n++) hz[n] += bias[3 * u + n];
    const z = Float64Array.from({ length: u }, (_, j) => f(xz[j] + hz[j]));
    const r = Float64Array.from({ length: u }, (_, j) => f(xz[u + j] + hz[u + j]));
    const rhU = spec.resetAfter ? null : products.hidden(products.resetHidden(r, h), 2 * u, u);
    for (let j = 0; j < u; j++) {
      const hh = g(xz[2 * u + j] + (rhU ? rhU[j] : r[j] * hz[2 * u + j]));
      hNew[j] = z[j] * h[j] + (1 - z[j]) * hh;
    }
    return [hNew];
  }
  const hz = products.hidden(h, 0, u);
  for (let j = 0; j < u; j++) hNew[j] = g(xz[j] + hz[j]);
  return [hNew];
}

export interface RecurrenceInput {
  /** [B, T, in] values, row-major. */
  x: ArrayLike<number>;
  B: number;
  T: number;
  /** [B, T]: 0 = masked step. */
  mask?: ArrayLike<number> | null;
  goBackwards?: boolean;
  /** Masked steps output zeros (Keras zero_output_for_mask) instead of the previous output. */
  zeroOutputForMask?: boolean;
  /** Initial h (and c), each [B, u]; zeros when absent. */
  initialStates?: ArrayLike<number>[] | null;
  /**
   * Keras' rnn() starts the "previous output" at zeros; tfjs' at the initial h. They differ
   * only for a masked first step with a non-zero initial state.
   */
  prevOutputStartsAtZero?: boolean;
}

/**
 * The time loop (tfjs' backend rnn() / Keras' backend rnn()): at a masked step every state keeps
 * its value and the output is the previous output (or zeros); go_backwards reverses the input
 * in time, the sequence output stays in processing order. Returns the sequence [B, T, u], the
 * last output [B, u] and the final states ([B, u] each).
 */
export function recurrence(spec: CellSpec, input: RecurrenceInput, products: RecurrentProducts = float64Products(spec)): { sequence: Float64Array; last: Float64Array; states: Float64Array[] } {
  const { B, T, x, mask } = input;
  const u = spec.units;
  const d = x.length / (B * T);
  const nStates = spec.cell === "lstm" ? 2 : 1;
  const sequence = new Float64Array(B * T * u);
  const last = new Float64Array(B * u);
  const finals = Array.from({ length: nStates }, () => new Float64Array(B * u));
  for (let b = 0; b < B; b++) {
    let states: Float64Array[] = Array.from({ length: nStates }, (_, k) => {
      const init = input.initialStates?.[k];
      return init ? Float64Array.from({ length: u }, (_, j) => init[b * u + j]) : new Float64Array(u);
    });
    let prevOut: Float64Array = input.prevOutputStartsAtZero ? new Float64Array(u) : states[0];
    for (let s = 0; s < T; s++) {
      const t = input.goBackwards ? T - 1 - s : s;
      let out: Float64Array;
      if (!mask || mask[b * T + t] !== 0) {
        const row = Array.from({ length: d }, (_, k) => x[(b * T + t) * d + k]);
        states = cellStep(spec, row, states, products);
        out = states[0];
      } else {
        out = input.zeroOutputForMask ? new Float64Array(u) : prevOut;
      }
      sequence.set(out, (b * T + s) * u);
      prevOut = out;
    }
    last.set(prevOut, b * u);
    states.forEach((st, k) => finals[k].set(st, b * u));
  }
  return { sequence, last, states: finals };
}

// ---------------------------------------------------------------- layers

/**
 * One recurrent layer (LSTM, GRU, SimpleRNN). Holds the config and weights of one direction;
 * Bidirectional makes two of them.
 */
export class RnnCore {
  readonly units: number;
  readonly cell: string;
  readonly resetAfter: boolean;
  private spec!: CellSpec;

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
    let gate: (x: number) => number = Math.tanh;
    if (this.cell !== "SimpleRNN") {
      const ra = this.config.recurrent_activation === undefined ? this.defaultRecurrentActivation : this.config.recurrent_activation;
      checkActivation(ra, `layer ${this.layerName}`);
      gate = scalarActivation(ra, ctx.hardSigmoid);
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
    this.spec = {
      cell: CELLS[this.cell], units: u, kernel: kernel.data, recurrentKernel: recurrent.data, bias: bias?.data ?? null,
      resetAfter: this.resetAfter, gate, candidate: scalarActivation(activation, ctx.hardSigmoid),
    };
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
    const [b, t] = x.shape;
    const u = this.units;
    if (mask !== null && (mask.shape[0] !== b || mask.shape[1] !== t)) {
      throw new RefError(
        "E_SHAPE",
        `layer ${this.layerName}: mask of shape [${mask.shape.join(", ")}] for input [${x.shape.join(", ")}]`,
      );
    }
    const r = recurrence(this.spec, {
      x: x.data, B: b, T: t, mask: mask?.data ?? null, goBackwards, zeroOutputForMask,
      initialStates: initialStates?.map((s) => s.data) ?? null, prevOutputStartsAtZero,
    });
    return {
      sequence: { shape: [b, t, u], data: r.sequence },
      last: { shape: [b, u], data: r.last },
      states: r.states.map((data) => ({ shape: [b, u], data })),
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
