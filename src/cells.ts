/**
 * Standalone cells, like tf.keras LSTMCell / GRUCell, for people who write their own loops:
 * built from kernel, recurrent kernel and bias arrays (Keras layouts and gate orders), one
 * `call(x, state)` per timestep, running the same fused kernels as whole models.
 *
 * Kernel instances are created asynchronously (browsers refuse synchronous instantiation of
 * modules over 4 KB on the main thread): use `await LstmCell.create(...)`, or call
 * `await ready()` once and then `new LstmCell(...)`.
 */
import { RnnWasmError } from "./errors.js";
import { activationByName, activationCode } from "./model/activations.js";
import type { Tensor } from "./model/inputs.js";
import { packGatePanels, packGateVector, packGruRecurrent, packLstmRecurrent, padTo8 } from "./model/pack.js";
import { describeRecurrence, type RecurrenceFields } from "./model/recurrence.js";
import { getKernelModule, type SimdChoice, type WasmSource } from "./wasm/loader.js";
import { KernelInstance } from "./wasm/kernels.js";

let shared: KernelInstance | null = null;

/** Prepares the kernel instance cells use (call once before `new LstmCell(...)`). */
export async function ready(options: { wasm?: WasmSource; simd?: SimdChoice } = {}): Promise<void> {
  if (!shared) shared = await KernelInstance.create(await getKernelModule(options.wasm, options.simd ?? "auto"));
}

type ArrayInput = Float32Array | number[] | number[][] | Tensor;

function flat(v: ArrayInput, what: string, expected: number[]): Float32Array {
  let data: ArrayLike<number>;
  if (v instanceof Float32Array) data = v;
  else if (Array.isArray(v)) data = (v as unknown[]).flat(2) as number[];
  else if (typeof v === "object" && v !== null && "data" in v) data = v.data;
  else throw new RnnWasmError("E_ARGUMENT", `${what} must be a Float32Array, nested arrays or a tensor`);
  const n = expected.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new RnnWasmError("E_SHAPE", `${what} must have shape [${expected.join(", ")}] (${n} values), received ${data.length} values`);
  const out = Float32Array.from(data);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new RnnWasmError("E_VALUE", `${what}[${i}] is ${out[i]}`);
  return out;
}

export interface CellArgs {
  units: number;
  /** [inputDim, G*units], Keras gate order (LSTM i,f,c,o; GRU z,r,h). */
  kernel: ArrayInput;
  /** [units, G*units]. */
  recurrentKernel: ArrayInput;
  /** LSTM [4u]; GRU [3u], or [2, 3u] with resetAfter. Omit for use_bias=false. */
  bias?: ArrayInput;
  activation?: string;
  recurrentActivation?: string;
  /** GRU only: Keras 2+/TF2 default true. */
  resetAfter?: boolean;
}

abstract class Cell {
  readonly units: number;
  readonly inputDim: number;
  protected k: KernelInstance;
  protected act: number;
  protected recAct: number;
  /** The kernels' description of this cell (recurrence.ts), written once its weights are placed. */
  protected desc = 0;
  private buffers = new Map<number, { x: number; h: number; c: number; scratch: number }>();

  constructor(protected readonly G: number, args: CellArgs, protected readonly kind: string) {
    if (!shared) throw new RnnWasmError("E_WASM", `${kind}: call \`await ready()\` once before \`new ${kind}(...)\`, or use \`await ${kind}.create(...)\``);
    this.k = shared;
    const u = args.units;
    if (!Number.isInteger(u) || u < 1) throw new RnnWasmError("E_ARGUMENT", `${kind}: units must be a positive integer, received ${JSON.stringify(u)}`);
    this.units = u;
    const kLen = (args.kernel as { length?: number; data?: { length: number } });
    const total = Array.isArray(args.kernel) ? (args.kernel as unknown[]).flat(2).length : (kLen.data?.length ?? kLen.length ?? 0);
    if (total % (G * u) !== 0 || total === 0) throw new RnnWasmError("E_SHAPE", `${kind}: kernel must have shape [inputDim, ${G * u}], received ${total} values`);
    this.inputDim = total / (G * u);
    this.act = activationCode(activationByName(args.activation ?? "tanh", kind), false);
    this.recAct = activationCode(activationByName(args.recurrentActivation ?? "sigmoid", kind), false);
    if (this.act >= 100 || this.recAct >= 100) throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${kind}: softmax cannot be a cell activation`);
  }

  protected place(data: Float32Array): number {
    const p = this.k.alloc(data.length * 4, `${this.kind} weights`);
    this.k.f32.set(data, p >>> 2);
    return p;
  }

  /** Describes the cell to the kernels once its weights are in kernel memory. */
  protected describe(op: Omit<RecurrenceFields, "layer" | "units" | "inDim" | "activation" | "recurrentActivation">, w: { kernel: number; bias?: number; recurrentKernel: number; recurrentBias?: number }): void {
    this.desc = describeRecurrence(this.k, { ...op, layer: this.kind, units: this.units, inDim: this.inputDim, activation: this.act, recurrentActivation: this.recAct }, w);
  }

  protected buffersFor(B: number) {
    let bufs = this.buffers.get(B);
    if (!bufs) {
      const U8 = padTo8(this.units);
      bufs = {
        x: this.k.alloc(B * this.inputDim * 4, "cell input"),
        h: this.k.alloc(B * U8 * 4, "cell state"),
        c: this.k.alloc(B * U8 * 4, "cell state"),
        scratch: this.k.alloc(this.k.exports.rnnScratchBytes(this.desc, B, 1), "cell scratch"),
      };
      this.buffers.set(B, bufs);
    }
    return bufs;
  }

  protected abstract stateCount: number;

  /** One timestep: x [batch, inputDim], state [h] or [h, c] each [batch, units]. */
  call(x: Tensor | number[][], state: (Tensor | number[][])[]): [Tensor, Tensor[]] {
    const norm = (t: Tensor | number[][], what: string, cols: number): { data: Float32Array; B: number } => {
      if (Array.isArray(t)) {
        const B = t.length;
        return { data: flat(t as number[][], what, [B, cols]), B };
      }
      if (!t || !Array.isArray(t.shape) || t.shape.length !== 2 || t.shape[1] !== cols) {
        throw new RnnWasmError("E_SHAPE", `${this.kind}.call: ${what} must have shape [batch, ${cols}], received ${JSON.stringify(t?.shape)}`);
      }
      return { data: flat(t, what, t.shape), B: t.shape[0] };
    };
    const xi = norm(x, "x", this.inputDim);
    if (!Array.isArray(state) || state.length !== this.stateCount) {
      throw new RnnWasmError("E_SHAPE", `${this.kind}.call: state must be a list of ${this.stateCount} tensors`);
    }
    const st = state.map((s, i) => norm(s, `state[${i}]`, this.units));
    const B = xi.B;
    st.forEach((s, i) => {
      if (s.B !== B) throw new RnnWasmError("E_SHAPE", `${this.kind}.call: state[${i}] has batch ${s.B}, x has batch ${B}`);
    });
    const bufs = this.buffersFor(B);
    const U8 = padTo8(this.units);
    const f32 = this.k.f32;
    f32.set(xi.data, bufs.x >>> 2);
    const rows = [bufs.h, bufs.c];
    st.forEach((s, i) => {
      f32.fill(0, rows[i] >>> 2, (rows[i] >>> 2) + B * U8);
      for (let b = 0; b < B; b++) f32.set(s.data.subarray(b * this.units, (b + 1) * this.units), (rows[i] >>> 2) + b * U8);
    });
    this.k.exports.rnnSequence(this.desc, B, 1, bufs.x, bufs.h, bufs.c, 0, 0, bufs.scratch);
    const read = (p: number): Tensor => {
      const v = this.k.f32;
      const out = new Float32Array(B * this.units);
      for (let b = 0; b < B; b++) out.set(v.subarray((p >>> 2) + b * U8, (p >>> 2) + b * U8 + this.units), b * this.units);
      return { data: out, shape: [B, this.units] };
    };
    const h = read(bufs.h);
    const states = this.stateCount === 2 ? [h, read(bufs.c)] : [h];
    return [h, states];
  }
}

export class LstmCell extends Cell {
  protected stateCount = 2;

  constructor(args: CellArgs) {
    super(4, args, "LstmCell");
    const u = this.units;
    this.describe({ cell: "lstm", goBackwards: false, alignOutput: false, resetAfter: false }, {
      kernel: this.place(packGatePanels(flat(args.kernel, "kernel", [this.inputDim, 4 * u]), this.inputDim, 4, u)),
      recurrentKernel: this.place(packLstmRecurrent(flat(args.recurrentKernel, "recurrentKernel", [u, 4 * u]), u)),
      bias: args.bias === undefined ? 0 : this.place(packGateVector(flat(args.bias, "bias", [4 * u]), 4, u)),
    });
  }

  static async create(args: CellArgs, options?: { wasm?: WasmSource; simd?: SimdChoice }): Promise<LstmCell> {
    await ready(options);
    return new LstmCell(args);
  }
}

export class GruCell extends Cell {
  protected stateCount = 1;
  readonly resetAfter: boolean;

  constructor(args: CellArgs) {
    super(3, args, "GruCell");
    const u = this.units;
    const resetAfter = (this.resetAfter = args.resetAfter ?? true);
    const kernel = this.place(packGatePanels(flat(args.kernel, "kernel", [this.inputDim, 3 * u]), this.inputDim, 3, u));
    const recurrentKernel = this.place(packGruRecurrent(flat(args.recurrentKernel, "recurrentKernel", [u, 3 * u]), u, resetAfter));
    const bias = args.bias === undefined ? null : flat(args.bias, "bias", resetAfter ? [2, 3 * u] : [3 * u]);
    this.describe({ cell: "gru", goBackwards: false, alignOutput: false, resetAfter }, {
      kernel, recurrentKernel,
      bias: bias ? this.place(packGateVector(bias, 3, u, 0)) : 0,
      recurrentBias: bias && resetAfter ? this.place(packGateVector(bias, 3, u, 3 * u)) : 0,
    });
  }

  static async create(args: CellArgs, options?: { wasm?: WasmSource; simd?: SimdChoice }): Promise<GruCell> {
    await ready(options);
    return new GruCell(args);
  }
}
