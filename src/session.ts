/**
 * Streaming sessions: feed a sequence one timestep (or one chunk) at a time and get, after
 * each, what the model would output if the sequence ended there. The session owns every
 * piece of state that crosses time — h and c of each recurrent layer, running pooling sums,
 * causal Conv1D history — in one block of kernel memory, so a step is one executor pass with
 * T = 1 using the same kernels as predict (no drift), and a snapshot is that block's bytes.
 */
import { RnnWasmError } from "./errors.js";
import { crc32 } from "./format/crc32.js";
import type { Executor, InputTensor, StateProvider, StateSlot, StreamState } from "./model/executor.js";
import { checkInput, fromNested, type Tensor } from "./model/inputs.js";
import { padTo8 } from "./model/layout.js";
import type { ModelSpec, Op } from "./model/spec.js";
import type { KernelInstance } from "./wasm/kernels.js";

/** Why a model cannot stream, or null when it can. */
export function notStreamableReason(spec: ModelSpec): string | null {
  // which tensors carry a time axis
  const seq = new Map<string, boolean>();
  for (const inp of spec.inputs) seq.set(inp.tensor, inp.dtype === "int32" ? inp.shape.length >= 1 : inp.shape.length >= 2);
  for (const inp of spec.inputs) {
    if (!seq.get(inp.tensor)) return `input ${inp.name} has no time axis (shape [batch, ${inp.shape.join(", ")}])`;
  }
  for (const op of spec.ops) {
    const inSeq = op.inputs.map((i) => seq.get(i) ?? false);
    const anySeq = inSeq.some(Boolean);
    const L = `layer ${op.layer}`;
    let outSeq = anySeq;
    switch (op.op) {
      case "rnn":
        if (op.goBackwards || op.alignOutput) return `${L} reads the sequence backwards (go_backwards or Bidirectional), so its output at step t depends on later steps`;
        outSeq = op.returnSequences;
        break;
      case "conv1d":
        if (anySeq && op.strides !== 1) return `${L} (Conv1D) has strides ${op.strides}; only stride 1 streams`;
        if (anySeq && op.kernelSize > 1 && op.padding !== "causal") return `${L} (Conv1D) uses padding "${op.padding}", so each output needs later inputs; only causal convolutions stream`;
        break;
      case "pool1d":
        if (anySeq && (op.poolSize !== 1 || op.strides !== 1)) return `${L} (${op.mode === "max" ? "MaxPooling1D" : "AveragePooling1D"}) pools across timesteps`;
        break;
      case "global_pool":
        outSeq = false;
        break;
      case "reshape":
        if (anySeq) return `${L} (Flatten/Reshape) reshapes across the time axis`;
        break;
      case "repeat":
        return `${L} (RepeatVector) builds a sequence from a vector`;
      case "merge":
        if (inSeq.some((v) => v !== inSeq[0])) return `${L} merges a sequence with a non-sequence tensor`;
        break;
      default:
        break;
    }
    op.outputs.forEach((o, k) => seq.set(o, op.op === "rnn" && k > 0 ? false : outSeq));
  }
  return null;
}

/** One contiguous block per session: its layout, for allocation and snapshots. */
interface StateEntry {
  op: number;
  kind: "h" | "c" | "pool_acc" | "pool_count" | "conv_history";
  floats: number;
  offset: number; // bytes from the block start
}

function layoutFor(spec: ModelSpec, batch: number): { entries: StateEntry[]; bytes: number } {
  const entries: StateEntry[] = [];
  let bytes = 0;
  const add = (op: number, kind: StateEntry["kind"], floats: number) => {
    entries.push({ op, kind, floats, offset: bytes });
    bytes += Math.ceil((floats * 4) / 16) * 16;
  };
  spec.ops.forEach((op: Op, i) => {
    if (op.op === "rnn") {
      add(i, "h", batch * padTo8(op.units));
      if (op.cell === "lstm") add(i, "c", batch * padTo8(op.units));
    } else if (op.op === "global_pool") {
      const F = spec.tensors[op.inputs[0]].shape[1] as number;
      add(i, "pool_acc", batch * F);
      add(i, "pool_count", batch);
    } else if (op.op === "conv1d") {
      const hist = op.dilation * (op.kernelSize - 1);
      if (hist > 0) add(i, "conv_history", batch * hist * op.inDim);
    }
  });
  return { entries, bytes };
}

const SNAPSHOT_MAGIC = 0x534e4e52; // "RNNS" little-endian
const SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER = 24;

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
  private block = 0;
  private readonly bytes: number;
  private readonly entries: StateEntry[];
  private readonly provider: StateProvider;
  private readonly layoutHash: number;
  private disposed = false;
  private readonly seqInputs: boolean[];

  constructor(private readonly host: SessionHost, batchSize: number) {
    const spec = host.spec;
    const reason = notStreamableReason(spec);
    if (reason) throw new RnnWasmError("E_NOT_STREAMABLE", `model ${spec.name} cannot run one step at a time: ${reason}`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1 << 20) {
      throw new RnnWasmError("E_ARGUMENT", `createSession: batchSize must be a positive integer, received ${JSON.stringify(batchSize)}`);
    }
    this.batchSize = batchSize;
    const layout = layoutFor(spec, batchSize);
    this.entries = layout.entries;
    this.bytes = Math.max(16, layout.bytes);
    this.layoutHash = crc32(new TextEncoder().encode(JSON.stringify(this.entries.map((e) => [e.op, e.kind, e.floats]))));
    this.block = host.kernels.alloc(this.bytes, "session state");
    this.seqInputs = spec.inputs.map((inp) => (inp.dtype === "int32" ? inp.shape.length >= 1 : inp.shape.length >= 2));
    const find = (op: number, kind: StateEntry["kind"]) => {
      const e = this.entries.find((x) => x.op === op && x.kind === kind);
      return e ? this.block + e.offset : 0;
    };
    const slots = new Map<number, StateSlot>();
    const stream: StreamState = {
      pool: (op) => ({ acc: find(op, "pool_acc"), count: find(op, "pool_count") }),
      convHistory: (op) => find(op, "conv_history"),
    };
    this.provider = {
      slot: (op, _rnn, batch) => {
        if (batch !== this.batchSize) throw new RnnWasmError("E_SHAPE", `session batch size is ${this.batchSize}, received batch ${batch}`);
        let s = slots.get(op);
        if (!s) {
          s = { batch, h: find(op, "h"), c: find(op, "c") };
          slots.set(op, s);
        }
        return s;
      },
      stream,
    };
  }

  private live(): void {
    if (this.disposed) throw new RnnWasmError("E_DISPOSED", "this session has been disposed");
    this.host.live();
  }

  /**
   * Shapes a step's input: a tensor [B, ...features] (or [B, 1, ...]), a flat array for batch
   * 1, or nested arrays; returns [B, 1, ...features] for the executor.
   */
  private stepInput(x: unknown, i: number): InputTensor {
    const inp = this.host.spec.inputs[i];
    const where = `session.step input ${inp.name}`;
    const feat = inp.shape.slice(1); // per-step feature shape (empty for token ids)
    const B = this.batchSize;
    let data: ArrayLike<number>;
    let shape: number[];
    if (typeof x === "number") {
      data = [x];
      shape = [1];
    } else if (Array.isArray(x) && (x.length === 0 || typeof x[0] === "number")) {
      data = x as number[];
      shape = [1, x.length];
      if (feat.length === 0) shape = [x.length]; // ids: one per batch row
    } else if (Array.isArray(x)) {
      const n = fromNested(x, where);
      data = n.data;
      shape = n.shape;
    } else if (typeof x === "object" && x !== null && "data" in x && "shape" in x) {
      data = (x as Tensor).data;
      shape = (x as Tensor).shape;
    } else {
      throw new RnnWasmError("E_DTYPE", `${where}: expected a tensor {data, shape}, a number array or nested arrays, received ${x === null ? "null" : typeof x}`);
    }
    // accept [B, ...feat] or [B, 1, ...feat]
    let full: number[];
    if (shape.length === feat.length + 1) full = [shape[0], 1, ...shape.slice(1)];
    else if (shape.length === feat.length + 2 && shape[1] === 1) full = shape;
    else {
      throw new RnnWasmError("E_SHAPE", `${where}: expected one timestep shaped [batch=${B}${feat.length ? ", " + feat.join(", ") : ""}], received [${shape.join(", ")}]`);
    }
    if (full[0] !== B) throw new RnnWasmError("E_SHAPE", `${where}: session batch size is ${B}, received batch ${full[0]}`);
    return checkInput({ data, shape: full }, { ...inp, shape: [null, ...feat] }, where);
  }

  private chunkInput(x: unknown, i: number): InputTensor {
    const inp = this.host.spec.inputs[i];
    const where = `session.run input ${inp.name}`;
    const t = checkInput(x, { ...inp, shape: [null, ...inp.shape.slice(1)] }, where);
    if (t.shape[0] !== this.batchSize) throw new RnnWasmError("E_SHAPE", `${where}: session batch size is ${this.batchSize}, received batch ${t.shape[0]}`);
    return t;
  }

  private split(x: unknown): unknown[] {
    const n = this.host.spec.inputs.length;
    if (n === 1) return [x];
    if (!Array.isArray(x) || x.length !== n) {
      throw new RnnWasmError("E_SHAPE", `model ${this.host.spec.name} has ${n} inputs; pass an array of ${n} tensors`);
    }
    return x;
  }

  /** Feeds one timestep for every batch row; returns the head's output at this step. */
  step(x: Tensor | number[] | number[][] | number): Tensor | Tensor[] {
    this.live();
    const inputs = this.split(x).map((xi, i) => {
      if (!this.seqInputs[i]) throw new RnnWasmError("E_NOT_STREAMABLE", `input ${this.host.spec.inputs[i].name} has no time axis`);
      return this.stepInput(xi, i);
    });
    const outs = this.host.guard(() => this.host.executor.run(inputs, this.provider));
    // sequence outputs come back [B, 1, ...]: a step returns [B, ...]
    const shaped = outs.map((o, k) => {
      const isSeq = this.host.spec.tensors[this.host.spec.outputs[k].tensor].shape.length >= 2 && o.shape[1] === 1;
      return (isSeq ? { data: o.data, shape: [o.shape[0], ...o.shape.slice(2)] } : o) as Tensor;
    });
    return shaped.length === 1 ? shaped[0] : shaped;
  }

  /** Feeds several timesteps [B, T, ...]; returns what predict returns for them, state carried. */
  run(x: Tensor | Tensor[]): Tensor | Tensor[] {
    this.live();
    const inputs = this.split(x).map((xi, i) => this.chunkInput(xi, i));
    const outs = this.host.guard(() => this.host.executor.run(inputs, this.provider)) as Tensor[];
    return outs.length === 1 ? outs[0] : outs;
  }

  /** Back to the initial (zero) state. */
  reset(): void {
    this.live();
    this.host.kernels.u8.fill(0, this.block, this.block + this.bytes);
  }

  /**
   * A portable snapshot: "RNNS", version, model id, batch size, layout hash, payload length,
   * the state block, CRC-32. Restorable in another process holding the same model.
   */
  getState(): Uint8Array {
    this.live();
    const out = new Uint8Array(SNAPSHOT_HEADER + this.bytes + 4);
    const v = new DataView(out.buffer);
    v.setUint32(0, SNAPSHOT_MAGIC, true);
    v.setUint32(4, SNAPSHOT_VERSION, true);
    v.setUint32(8, this.host.modelId(), true);
    v.setUint32(12, this.batchSize, true);
    v.setUint32(16, this.layoutHash, true);
    v.setUint32(20, this.bytes, true);
    out.set(this.host.kernels.u8.subarray(this.block, this.block + this.bytes), SNAPSHOT_HEADER);
    v.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
    return out;
  }

  setState(bytes: Uint8Array): void {
    this.live();
    if (!(bytes instanceof Uint8Array)) {
      throw new RnnWasmError("E_STATE_CORRUPT", `setState expects the Uint8Array from getState(), received ${bytes === null ? "null" : typeof bytes}`);
    }
    if (bytes.length < SNAPSHOT_HEADER + 4) throw new RnnWasmError("E_STATE_CORRUPT", `state snapshot of ${bytes.length} bytes is too short`);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    if (v.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new RnnWasmError("E_STATE_CORRUPT", "not an rnn-wasm session snapshot (bad magic)");
    if (v.getUint32(4, true) !== SNAPSHOT_VERSION) throw new RnnWasmError("E_STATE_CORRUPT", `snapshot version ${v.getUint32(4, true)} is not supported`);
    const stored = v.getUint32(bytes.length - 4, true);
    if (stored !== crc32(bytes.subarray(0, bytes.length - 4))) throw new RnnWasmError("E_STATE_CORRUPT", "state snapshot is damaged (checksum mismatch)");
    if (v.getUint32(8, true) !== this.host.modelId()) {
      throw new RnnWasmError("E_STATE_MISMATCH", `snapshot was taken on another model (id ${v.getUint32(8, true).toString(16)}, this model ${this.host.modelId().toString(16)})`);
    }
    if (v.getUint32(12, true) !== this.batchSize) {
      throw new RnnWasmError("E_STATE_MISMATCH", `snapshot holds batch size ${v.getUint32(12, true)}, this session has ${this.batchSize}`);
    }
    if (v.getUint32(16, true) !== this.layoutHash || v.getUint32(20, true) !== this.bytes || bytes.length !== SNAPSHOT_HEADER + this.bytes + 4) {
      throw new RnnWasmError("E_STATE_MISMATCH", "snapshot state layout does not match this model");
    }
    this.host.kernels.u8.set(bytes.subarray(SNAPSHOT_HEADER, SNAPSHOT_HEADER + this.bytes), this.block);
  }

  /** Frees the session's kernel memory. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.host.kernels) return;
    try {
      this.host.live();
      this.host.kernels.release(this.block, this.bytes);
    } catch {
      // the model is gone with its memory
    }
  }
}
