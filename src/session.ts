/**
 * Streaming sessions: feed a sequence one timestep (or one chunk) at a time and get, after
 * each, what the model would output if the sequence ended there. The session owns every
 * piece of state that crosses time — h and c of each recurrent layer, running pooling sums,
 * causal Conv1D history — in one block of kernel memory, so a step is one executor pass with
 * T = 1 using the same kernels as predict (no drift), and a snapshot is that block's bytes.
 */
import { fail } from "./errors.js";
import type { Executor, InputTensor, StateProvider } from "./model/executor.js";
import { asTensor, callResult, checkInput, fromNested, inputList, type CallOptions, type ModelInputs, type Tensor } from "./model/inputs.js";
import { padTo8, sameShape } from "./model/layout.js";
import { product, tensorOpHooks } from "./model/shapes.js";
import type { ModelSpec } from "./model/spec.js";
import { align, type KernelInstance } from "./wasm/kernels.js";

/** Whether a spec input carries a time axis (token ids [T], features [T, ...]). */
const isSequence = (inp: ModelSpec["inputs"][number]) => inp.shape.length >= (inp.dtype === "int32" ? 1 : 2);

/** Why a model cannot stream, or null when it can. */
export function notStreamableReason(spec: ModelSpec): string | null {
  // a graph with state pairs streams by construction: each call is one step
  if (spec.states) return null;
  const seq = new Map<string, boolean>();
  for (const inp of spec.inputs) {
    if (!isSequence(inp)) return `input ${inp.name} has no time axis`;
    seq.set(inp.tensor, true);
  }
  for (const op of spec.ops) {
    const inSeq = op.inputs.map((i) => !!seq.get(i));
    const any = inSeq.includes(true);
    const L = `layer ${op.layer}`;
    let outSeq = any;
    if (op.op === "rnn") {
      if (op.goBackwards || op.alignOutput) return `${L} reads the sequence backwards (go_backwards or Bidirectional)`;
      outSeq = op.returnSequences;
    } else if (op.op === "conv1d" && any && (op.strides !== 1 || (op.kernelSize > 1 && op.padding !== "causal"))) {
      return `${L} (Conv1D) needs later inputs: only causal, stride-1 convolutions stream`;
    } else if (op.op === "pool1d" && any && (op.poolSize !== 1 || op.strides !== 1)) {
      return `${L} pools across timesteps`;
    } else if ((op.op === "reshape" && any) || op.op === "repeat") {
      return `${L} reshapes or builds the time axis`;
    } else if (op.op === "merge" && inSeq.some((v) => v !== inSeq[0])) {
      return `${L} merges a sequence with a non-sequence tensor`;
    } else if (op.op === "global_pool") outSeq = false;
    else if (any && tensorOpHooks.streams) {
      const why = tensorOpHooks.streams(op, inSeq, spec);
      if (why) return `${L} ${why}`;
    }
    op.outputs.forEach((o, k) => seq.set(o, outSeq && !(op.op === "rnn" && k > 0)));
  }
  return null;
}

/**
 * The session block: one entry per piece of state, in op order (also the snapshot layout).
 * Every entry is [batch][per-row floats], so `rows` ([offset, row bytes] per entry) locates
 * one batch row's state: copyRow moves a stream between rows and sessions.
 */
function layoutFor(spec: ModelSpec, batch: number): Map<string, number> & { bytes?: number; rows?: number[][] } {
  const at = new Map<string, number>() as Map<string, number> & { bytes?: number; rows?: number[][] };
  const rows: number[][] = (at.rows = []);
  let bytes = 0;
  const add = (key: string, floats: number) => {
    at.set(key, bytes);
    rows.push([bytes, floats * 4]);
    bytes += align(batch * floats * 4);
  };
  // a graph with state pairs: its states are all the session carries
  spec.states?.forEach((st, i) => add(`pair${i}`, product(spec.tensors[st.input].shape)!));
  if (!spec.states) spec.ops.forEach((op, i) => {
    if (op.op === "rnn") {
      add(`${i}h`, padTo8(op.units));
      if (op.cell === "lstm") add(`${i}c`, padTo8(op.units));
    } else if (op.op === "global_pool") {
      add(`${i}acc`, spec.tensors[op.inputs[0]].shape[1] as number);
      add(`${i}count`, 1);
    } else if (op.op === "conv1d" && op.kernelSize > 1) {
      add(`${i}hist`, op.dilation * (op.kernelSize - 1) * op.inDim);
    }
  });
  at.bytes = Math.max(16, bytes);
  return at;
}

const MAGIC = 0x534e4e52; // "RNNS"
const VERSION = 1;
const HEADER = 24;

export interface SessionHost {
  readonly spec: ModelSpec;
  readonly kernels: KernelInstance;
  readonly executor: Executor;
  /** Identifies the model's weights and structure (bundle CRC or a hash of the packed model). */
  modelId(): number;
  live(): void;
  guard<T>(fn: () => T): T;
}

export class Session {
  readonly batchSize: number;
  private block: number;
  private readonly bytes: number;
  private readonly rows: number[][];
  private readonly provider: StateProvider;
  private readonly layoutHash: number;
  /** Per input: its spec with any sequence length (a session takes chunks), and its name for errors. */
  private readonly anyTime: [ModelSpec["inputs"][number], string][];
  /** One-input models: a step given as [B, ...features] skips the general path ([B, 1, ...], count). */
  private readonly stepFast: [number[], number[], number | null, typeof Float32Array | typeof Int32Array] | null;
  /** Graphs with state pairs: step and run are one call of the graph, its inputs as the model takes them. */
  private readonly graphSteps: boolean;
  /** Causal attention's keys and values of every step so far (tensor-ops.ts), or null. */
  private readonly caches: ReturnType<Executor["streamCaches"]>;
  private disposed = false;

  constructor(private readonly host: SessionHost, batchSize: number) {
    const spec = host.spec;
    const reason = notStreamableReason(spec);
    if (reason) fail("E_NOT_STREAMABLE", `model ${spec.name} cannot run one step at a time: ${reason}`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1 << 20) {
      fail("E_ARGUMENT", `createSession: batchSize must be a positive integer, received ${JSON.stringify(batchSize)}`);
    }
    this.batchSize = batchSize;
    const at = layoutFor(spec, batchSize);
    this.bytes = at.bytes!;
    this.rows = at.rows!;
    this.layoutHash = host.kernels.crc32(new TextEncoder().encode(JSON.stringify([...at])));
    const block = (this.block = host.kernels.alloc(this.bytes, "session state"));
    const p = (key: string) => (at.has(key) ? block + at.get(key)! : 0);
    // resolved once: a step looks its state up by op index, without building key strings
    const slots = spec.ops.map((_, i) => ({ batch: batchSize, h: p(`${i}h`), c: p(`${i}c`) }));
    // a graph with state pairs steps as one run of the graph on inputs shaped as the model's
    const graph = (this.graphSteps = !!spec.states);
    this.anyTime = spec.inputs.map((inp) => [graph ? inp : { ...inp, shape: [null, ...inp.shape.slice(1)] }, `session input ${inp.name}`]);
    // the fast path's given shape and the executor's: a step [B, ...features] of a sequence model
    // ([B, 1, ...] inside), or the graph's input shape (with the batch of one of an unbatched graph)
    const shape = spec.inputs[0].shape as number[];
    const dims = graph ? (spec.unbatched ? shape : [batchSize, ...shape]) : [batchSize, ...shape.slice(1)];
    this.stepFast = spec.inputs.length === 1 ? [dims, graph ? (spec.unbatched ? [1, ...shape] : dims) : [batchSize, 1, ...dims.slice(1)], product(dims), spec.inputs[0].dtype === "int32" ? Int32Array : Float32Array] : null;
    const caches = (this.caches = graph ? null : host.executor.streamCaches(batchSize));
    this.provider = graph ? { slot: () => null, pair: (i) => p(`pair${i}`) } : {
      slot: (op) => slots[op], // the batch was checked against batchSize by batchOf
      stream: {
        pool: (op) => ({ acc: p(`${op}acc`), count: p(`${op}count`) }),
        convHistory: (op) => p(`${op}hist`),
        caches,
      },
    };
  }

  private live(): void {
    if (this.disposed) fail("E_DISPOSED", "this session has been disposed");
    this.host.live();
  }

  private inputs(x: unknown, oneStep: boolean): InputTensor[] {
    // the common streaming call, one typed array shaped exactly [B, ...features], skips the
    // normalisation below (a tenth of a 64-unit step: docs/kernels.md)
    const f = this.stepFast;
    const t = x as Tensor;
    if (oneStep && f && t?.data instanceof f[3] && t.data.length === f[2] && Array.isArray(t.shape) && sameShape(t.shape, f[0])) {
      return [{ data: t.data, shape: f[1] }];
    }
    const spec = this.host.spec;
    return inputList(x, spec).map((raw, i) => {
      const inp = spec.inputs[i];
      const [any, where] = this.anyTime[i];
      if (!oneStep || this.graphSteps) return this.batchOf(checkInput(raw, any, where, spec.unbatched), where);
      // one step: [B, ...features] or [B, 1, ...features]; a flat number array is batch 1
      // (or B ids for token inputs); nested arrays give their own shape
      const feat = inp.shape.slice(1);
      let t: { data: ArrayLike<number>; shape: number[] };
      if (typeof raw === "number") t = { data: [raw], shape: [1, ...(feat as number[])] }; // batch 1, one value (E_SHAPE when the step needs more)
      else if (Array.isArray(raw)) {
        t = fromNested(raw, where);
        if (t.shape.length === 1 && feat.length) t.shape = [1, ...t.shape];
      } else t = asTensor(raw) as Tensor;
      const shape = t?.shape;
      if (Array.isArray(shape) && shape.length === feat.length + 1) t = { data: t.data, shape: [shape[0], 1, ...shape.slice(1)] };
      else if (!(Array.isArray(shape) && shape.length === feat.length + 2 && shape[1] === 1)) {
        fail("E_SHAPE", `${where}: one step is [batch, ${feat.join(", ") || "id"}], received ${JSON.stringify(shape)}`);
      }
      return this.batchOf(checkInput(t, any, where), where);
    });
  }

  private batchOf(t: InputTensor, where: string): InputTensor {
    if (t.shape[0] !== this.batchSize) fail("E_SHAPE", `${where}: session batch size is ${this.batchSize}, received batch ${t.shape[0]}`);
    return t;
  }

  private runOn(x: unknown, oneStep: boolean, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor> {
    this.live();
    const inputs = this.inputs(x, oneStep);
    return callResult(this.host.guard(() => this.host.executor.run(inputs, this.provider, oneStep && !this.graphSteps)) as Tensor[], this.host.spec, options);
  }

  /** Feeds one timestep for every batch row; returns the head's output at this step ([B, ...]). */
  step(x: ModelInputs): Tensor | Tensor[];
  step(x: ModelInputs, options: CallOptions & { named: true }): Record<string, Tensor>;
  step(x: ModelInputs, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor>;
  step(x: ModelInputs, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor> {
    return this.runOn(x, true, options);
  }

  /** Feeds several timesteps [B, T, ...]; returns what predict returns for them, state carried. */
  run(x: ModelInputs): Tensor | Tensor[];
  run(x: ModelInputs, options: CallOptions & { named: true }): Record<string, Tensor>;
  run(x: ModelInputs, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor>;
  run(x: ModelInputs, options?: CallOptions): Tensor | Tensor[] | Record<string, Tensor> {
    return this.runOn(x, false, options);
  }

  /** Back to the initial (zero) state. */
  reset(): void {
    this.live();
    this.host.kernels.u8.fill(0, this.block, this.block + this.bytes);
    this.caches?.reset();
  }

  /**
   * Copies the state of batch row `from` into row `to` of `into`, a session of the same model
   * (this one or another of any batch size). With a batch-1 session on either side it takes or
   * restores one stream's snapshot; a stream pool uses it to move streams between rows.
   */
  copyRow(from: number, into: Session, to: number): void {
    this.live();
    into.live();
    // (a non-integer or out-of-range row fails one of the comparisons)
    if (into.host !== this.host || !(from % 1 === 0 && from >= 0 && from < this.batchSize && to % 1 === 0 && to >= 0 && to < into.batchSize)) {
      fail("E_ARGUMENT", `copyRow: no rows ${from} -> ${to} in sessions of one model`);
    }
    // attention caches hold every row's past keys together: a row cannot move without them
    if (this.caches || into.caches) fail("E_NOT_STREAMABLE", "copyRow: the model has attention caches, whose rows do not move one by one");
    this.rows.forEach(([at, n], i) => this.host.kernels.u8.copyWithin(into.block + into.rows[i][0] + to * n, this.block + at + from * n, this.block + at + from * n + n));
  }

  /**
   * A portable snapshot: "RNNS", version, model id, batch size, layout hash, payload length,
   * the state block, CRC-32. Restorable in another process holding the same model.
   */
  getState(): Uint8Array {
    this.live();
    // the state block, then the attention caches (whose size grows with the steps taken)
    const tail = this.caches?.save() ?? new Uint8Array(0);
    const out = new Uint8Array(HEADER + this.bytes + tail.length + 4);
    const v = new DataView(out.buffer);
    [MAGIC, VERSION, this.host.modelId(), this.batchSize, this.layoutHash, this.bytes + tail.length].forEach((n, i) => v.setUint32(4 * i, n, true));
    out.set(this.host.kernels.u8.subarray(this.block, this.block + this.bytes), HEADER);
    out.set(tail, HEADER + this.bytes);
    v.setUint32(out.length - 4, this.host.kernels.crc32(out.subarray(0, -4)), true);
    return out;
  }

  setState(bytes: Uint8Array): void {
    this.live();
    const corrupt = (why: string) => fail("E_STATE_CORRUPT", `setState: ${why}`);
    if (!(bytes instanceof Uint8Array) || bytes.length < HEADER + 4) corrupt("expected the Uint8Array from getState()");
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const word = (i: number) => v.getUint32(4 * i, true);
    if (word(0) !== MAGIC || word(1) !== VERSION) corrupt("not a session snapshot of this version");
    if (v.getUint32(bytes.length - 4, true) !== this.host.kernels.crc32(bytes.subarray(0, -4))) corrupt("the snapshot is damaged (checksum mismatch)");
    const mismatch = (why: string) => fail("E_STATE_MISMATCH", `setState: ${why}`);
    if (word(2) !== this.host.modelId()) mismatch("snapshot of another model");
    if (word(3) !== this.batchSize) mismatch(`snapshot holds batch size ${word(3)}, this session has ${this.batchSize}`);
    const tail = bytes.length - HEADER - 4 - this.bytes;
    if (word(4) !== this.layoutHash || word(5) !== this.bytes + tail || tail < 0 || (tail > 0 && !this.caches)) mismatch("snapshot state layout does not match this model");
    // a state is checked like an input: every value finite (a valid CRC proves nothing about intent)
    if (!new Float32Array(bytes.slice(HEADER, HEADER + this.bytes).buffer).every(isFinite)) corrupt("a state value is NaN or infinite");
    this.caches?.load(bytes.subarray(HEADER + this.bytes, bytes.length - 4));
    this.host.kernels.u8.set(bytes.subarray(HEADER, HEADER + this.bytes), this.block);
  }

  /** Frees the session's kernel memory. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.host.live();
      this.host.kernels.release(this.block, this.bytes);
      this.caches?.dispose();
    } catch {
      // the model is gone, and its memory with it
    }
  }
}
