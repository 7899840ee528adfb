/**
 * A loaded model: its own kernel instance and memory, weights copied in once, and the
 * executor. Public behaviour follows docs/ARCHITECTURE.md.
 */
import { fail, RnnWasmError } from "../errors.js";
import { align, type KernelInstance } from "../wasm/kernels.js";
import { Executor, type StateProvider, type StateSlot } from "./executor.js";
import { callResult, checkInputs, type CallOptions, type ModelInputs, type Tensor } from "./inputs.js";
import { padTo8 } from "./layout.js";
import type { ModelSpec, PackedModel } from "./spec.js";
import type { Tokenizer } from "../text/tokenizer.js";
import { Session } from "../session.js";
import type { GenerateOptions } from "../generate.js";

type GenerateModule = typeof import("../generate.js");
let generateModule: GenerateModule | null = null;

/** Loads the generation chunk (loadModel does it for models that read token sequences). */
export async function loadGenerate(): Promise<void> {
  generateModule ??= await import("../generate.js");
}

/**
 * Whether generate() can apply: one input of token ids ([T] int32 or [T, 1] float ids) or
 * one-hot tokens ([T, V] in, V out), the shapes generate() accepts.
 */
export function looksGenerative(spec: ModelSpec): boolean {
  if (spec.inputs.length !== 1) return false;
  const inp = spec.inputs[0];
  const outShape = spec.tensors[spec.outputs[0].tensor]?.shape ?? [];
  const V = outShape[outShape.length - 1];
  if (inp.dtype === "int32") return inp.shape.length === 1;
  return inp.shape.length === 2 && (inp.shape[1] === 1 || inp.shape[1] === V);
}

export interface ModelIO {
  name: string;
  shape: (number | null)[];
  dtype?: "float32" | "int32";
}

/**
 * Copies every packed weight into one block of kernel memory; returns name -> pointer. The low
 * bits of a pointer tell the kernels how a weight is stored (docs/kernels.md): bit 0 an int8
 * weight (its int8 values, then its f32 scales), bit 1 an f16 embedding table, kept as halves
 * and widened per gathered row. Other f16 weights are widened to f32 here, once.
 */
export function placeWeights(k: KernelInstance, { spec, data }: PackedModel): { ptrs: Map<string, number>; bytes: number } {
  const tables = spec.ops.map((op) => op.op === "embedding" && op.weights.table);
  let bytes = 0;
  const slots = spec.weights.map((w) => {
    const d = data.get(w.name)!;
    const tag = d instanceof Uint8Array ? 1 : d instanceof Uint16Array && tables.includes(w.name) ? 2 : 0;
    const slot = [w, d, tag, bytes] as const;
    bytes += align(tag ? d.byteLength : w.length * 4);
    return slot;
  });
  const block = k.alloc(bytes, "weights");
  const ptrs = new Map<string, number>();
  for (const [w, d, tag, at] of slots) {
    const p = block + at;
    // other halves go into the upper half of their f32 slot, widened in place by the kernel
    const widen = !tag && d instanceof Uint16Array;
    k.u8.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), widen ? p + 2 * w.length : p);
    if (widen) k.exports.widenHalves(w.length, p + 2 * w.length, p);
    ptrs.set(w.name, p + tag);
  }
  return { ptrs, bytes };
}

export class RnnModel {
  readonly inputs: ModelIO[];
  readonly outputs: ModelIO[];
  readonly metadata: Record<string, unknown>;
  private disposed = false;
  /** @internal */
  readonly executor: Executor;
  /** @internal */
  readonly weightPtrs: Map<string, number>;
  /** State of layers imported with stateful: true (tfjs semantics: carried across predict). */
  private statefulSlots = new Map<number, StateSlot>();
  readonly weightBytes: number;

  private checksum: number | ((m: RnnModel) => number);

  constructor(
    /** @internal */
    readonly kernels: KernelInstance,
    readonly spec: ModelSpec,
    packed: PackedModel,
    extras: { metadata?: Record<string, unknown>; tokenizer?: Tokenizer; checksum: number | ((m: RnnModel) => number) },
  ) {
    const placed = placeWeights(kernels, packed);
    this.weightPtrs = placed.ptrs;
    this.weightBytes = placed.bytes;
    this.executor = new Executor(kernels, spec, this.weightPtrs);
    const batch = spec.unbatched ? [] : [spec.inputs[0].batch ?? null];
    this.inputs = spec.inputs.map((i) => ({ name: i.name, shape: [...(spec.unbatched ? [] : [i.batch ?? null]), ...i.shape], dtype: i.dtype }));
    this.outputs = spec.outputs.map((o) => ({ name: o.name, shape: [...batch, ...spec.tensors[o.tensor].shape] }));
    this.metadata = extras.metadata ?? {};
    this.tokenizer = extras.tokenizer;
    this.checksum = extras.checksum;
  }

  /** The bundle's vocabulary (Keras Tokenizer + pad_sequences), when it carries one. */
  readonly tokenizer?: Tokenizer;

  /** Which SIMD build runs this model. */
  get simd(): "relaxed" | "baseline" {
    return this.kernels.relaxed ? "relaxed" : "baseline";
  }

  /** Bytes of kernel memory this model holds (weights, activations, states). */
  get memoryBytes(): number {
    return this.kernels.memoryBytes;
  }

  /** @internal */
  live(): void {
    if (this.disposed) fail("E_DISPOSED", `model ${this.spec.name} has been disposed`);
  }

  /**
   * Runs the model on a batch: one input, a list in `inputs` order, or an object keyed by input
   * name; tensors as {data, shape}, nested arrays, tf.Tensor or ort.Tensor. Returns the output,
   * a list of outputs, or with `{ named: true }` an object keyed by output name.
   */
  predict(x: ModelInputs): Tensor | Tensor[];
  predict(x: ModelInputs, options: CallOptions & { named: true }): Record<string, Tensor>;
  predict(x: ModelInputs, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor>;
  predict(x: ModelInputs, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor> {
    this.live();
    const inputs = checkInputs(x, this.spec);
    const hasStateful = this.spec.ops.some((op) => op.op === "rnn" && op.stateful);
    const provider: StateProvider | null = hasStateful ? { slot: (idx, op, batch) => (op.stateful ? this.statefulSlot(idx, op.units, batch) : null) } : null;
    return callResult(this.guard(() => this.executor.run(inputs, provider)) as Tensor[], this.spec, options);
  }

  /** h and c rows of a stateful layer, one block; tied to the first batch size seen. */
  private statefulSlot(idx: number, units: number, batch: number): StateSlot {
    let s = this.statefulSlots.get(idx);
    if (s && s.batch !== batch) fail("E_SHAPE", `model ${this.spec.name}: stateful layers hold batch ${s.batch}, not ${batch} (resetStates() first)`);
    if (!s) {
      const bytes = batch * padTo8(units) * 4;
      const h = this.kernels.alloc(2 * bytes, "stateful layer state");
      this.statefulSlots.set(idx, (s = { batch, h, c: h + bytes }));
    }
    return s;
  }

  /** Zeroes the state of stateful layers (tfjs model.resetStates()). */
  resetStates(): void {
    this.live();
    for (const [idx, s] of this.statefulSlots) this.kernels.release(s.h, 2 * s.batch * padTo8((this.spec.ops[idx] as { units: number }).units) * 4);
    this.statefulSlots.clear();
  }

  /** @internal Runs `fn`, turning an engine trap into a typed error (the model stays usable). */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof RnnWasmError) throw e;
      // an engine trap, or a defect of ours: never let a bare RuntimeError/TypeError through
      fail("E_WASM", `model ${this.spec.name}: ${e instanceof WebAssembly.RuntimeError ? "kernel trap" : "internal error"}: ${(e as Error)?.message ?? e}`, e);
    }
  }

  /**
   * Identifies this model's weights and structure for session snapshots: the bundle's CRC-32,
   * or for models loaded from tfjs/Keras files the CRC-32 that model/from-artifacts.ts computes
   * over the packed spec and weights on first use.
   * @internal
   */
  modelId(): number {
    if (typeof this.checksum === "function") this.checksum = this.checksum(this);
    return this.checksum;
  }

  /**
   * Continues a prompt (text when the bundle has a vocabulary, or token ids) for `steps`
   * tokens: greedy when temperature is 0 (the default), seeded sampling otherwise.
   */
  generate(prompt: string | ArrayLike<number>, opts: GenerateOptions): string | number[] {
    this.live();
    if (!generateModule) {
      fail("E_ARGUMENT", `generate: model ${this.spec.name} does not read token sequences`);
    }
    return generateModule.generate(this, prompt, opts);
  }

  /** A streaming session (one timestep at a time); see docs/ARCHITECTURE.md. */
  createSession(opts: { batchSize?: number } = {}): Session {
    this.live();
    if (opts === null || typeof opts !== "object") fail("E_ARGUMENT", "createSession options must be an object");
    // (sessions live in this model's kernel memory: disposing the model ends them too)
    return new Session(this, opts.batchSize ?? 1);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.executor.release();
    this.statefulSlots.clear();
    this.weightPtrs.clear();
  }

}
