/**
 * Runs a ModelSpec on concrete inputs: resolves shapes for the batch and sequence lengths
 * at hand, lays every tensor out in one arena of kernel memory (kept and reused while the
 * shapes repeat), and calls one kernel (or a few) per op. Recurrent state lives either in
 * the arena (a fresh zero state per call) or in a StateSlot owned by a stateful layer or a
 * streaming session.
 */
import { fail } from "../errors.js";
import { align, type KernelInstance } from "../wasm/kernels.js";
import { ACT_LOG_SOFTMAX, ACT_SOFTMAX } from "../wasm/abi.js";
import { padTo8, sameShape } from "./layout.js";
import { describeRecurrence, type RecurrenceWeights } from "./recurrence.js";
import { opOutputShapes, product } from "./shapes.js";
import type { ModelSpec, Op, Shape } from "./spec.js";

/**
 * Each output owns its ArrayBuffer, so transferring `y.data.buffer` to a worker touches no
 * other output; outputs of up to 16 floats stay cheap (V8 keeps typed arrays of <= 64 bytes on
 * its heap). docs/performance.md has the cost per step against shared slabs.
 */
const copyOut = (src: Float32Array, from: number, n: number): Float32Array => src.slice(from, from + n);

type RnnOp = Extract<Op, { op: "rnn" }>;

/** Persistent recurrent state of one rnn op for a given batch size: h and c rows of U8 floats. */
export interface StateSlot {
  batch: number;
  h: number;
  c: number; // 0 for GRU / SimpleRNN
}

/**
 * Running state of the ops that look across time, for sessions: the session feeds a sequence
 * in chunks (one step or more) and these carry what the whole-sequence ops would have seen.
 */
export interface StreamState {
  /** Global pooling: running sum (avg) or max, [B][F] floats, and steps counted, [B] floats. */
  pool(opIndex: number): { acc: number; count: number };
  /** Causal Conv1D: the last span-1 input rows per batch row, [B][span-1][Cin] floats. */
  convHistory(opIndex: number): number;
  /** Causal attention's caches of every step's keys and values (tensor-ops.ts), when the model has attention. */
  caches?: import("./tensor-ops.js").AttentionCaches | null;
}

/** Gives the executor the state buffers of stateful ops (sessions, stateful layers). */
export interface StateProvider {
  slot(opIndex: number, op: RnnOp, batch: number): StateSlot | null;
  /** State pairs (spec.states): the kernel-memory rows of pair i, read before a call and written after it. */
  pair?(index: number): number;
  /** Present for sessions: ops across time continue from the previous chunk. */
  stream?: StreamState;
}

export interface InputTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

interface Plan {
  /** What the plan was made for: every input's shape, batch first, and whether it streams. */
  inputShapes: number[][];
  streaming: boolean;
  batch: number;
  shapes: Map<string, number[]>; // without batch
  offsets: Map<string, number>; // tensor id -> arena byte offset
  /** Per op, its scratch regions' arena byte offsets by name. */
  scratch: Record<string, number>[];
  bytes: number;
  /**
   * Compiled for the arena at `base` (compile): each op as a closure over its resolved
   * pointers and sizes, so a call (a streaming step above all) does no lookups by tensor name.
   */
  base?: number;
  calls?: ((states: StateProvider | null) => void)[];
  inPtrs?: number[];
  /** Per output: its float index in kernel memory, its length, its shape and its one-step shape. */
  outs?: [number, number, number[], number[]][];
  /**
   * The tensor ops' descriptor blocks (dims and strides, written once when compiled): a block of
   * kernel memory the plan owns, not the arena, which every plan shares and each run overwrites.
   * Per op its offset in the block; released when the plan is evicted.
   */
  descAt: number[];
  descBytes: number;
  desc?: number;
}


/**
 * The ops this module plans and compiles itself: what a text or sequence model streams through.
 * Every other op (Keras' rarer layers, the general tensor ops of ONNX graphs) is planned and
 * compiled by the chunk model/tensor-ops.ts, loaded with the models that use one.
 */
const CORE_OPS = new Set(["embedding", "dense", "rnn", "activation", "reshape"]);
let tensorOps: typeof import("./tensor-ops.js") | undefined;

/** Loads the tensor-ops chunk when a spec needs it (before an Executor is built for it). */
export async function prepareTensorOps(spec: ModelSpec, loaded?: typeof import("./tensor-ops.js")): Promise<void> {
  // (a bundle's spec is not validated yet: it needs these ops' checks first; given the module,
  // `loaded`, it is installed before this returns: a synchronous load)
  if (!tensorOps && (spec.states || (Array.isArray(spec.ops) && spec.ops.some((op) => !CORE_OPS.has(op?.op))))) {
    tensorOps = loaded ?? (await import("./tensor-ops.js"));
    tensorOps.installTensorOps();
  }
}

export class Executor {
  /**
   * The four most recently built plans, newest first (a hit does not reorder them: the
   * oldest-built goes when a fifth shape comes). A model serving predict and sessions of
   * several batch sizes keeps each compiled (one plan recompiled on every switch cost more than
   * a 64-unit step: docs/kernels.md). They share the arena: a call uses it only while it runs.
   */
  private plans: Plan[] = [];
  private arena = 0;
  private arenaBytes = 0;
  /** Valid id range per int input: the smallest input_dim of the Embeddings it feeds. */
  private idLimits = new Map<string, { limit: number; layer: string }>();
  /**
   * Per op, the kernel-memory pointer of each weight role, and of a recurrent layer's
   * description block (role "desc", recurrence.ts). An absent role is undefined, which a wasm
   * i32 parameter receives as 0 (no weight).
   */
  private w: Record<string, number>[];

  constructor(
    private readonly k: KernelInstance,
    readonly spec: ModelSpec,
    weightPtrs: Map<string, number>,
  ) {
    this.w = spec.ops.map((op) => {
      const ptrs: Record<string, number> = {};
      for (const [role, name] of Object.entries((op as { weights?: Record<string, string> }).weights ?? {})) ptrs[role] = weightPtrs.get(name)!;
      if (op.op === "rnn") ptrs.desc = describeRecurrence(k, op, ptrs as unknown as RecurrenceWeights);
      return ptrs;
    });
    for (const op of spec.ops) {
      if (op.op !== "embedding") continue;
      const cur = this.idLimits.get(op.inputs[0]);
      if (!cur || op.inputDim < cur.limit) this.idLimits.set(op.inputs[0], { limit: op.inputDim, layer: op.layer });
    }
  }

  /** A session's attention caches (tensor-ops.ts), or null when the model has no attention. */
  streamCaches(batch: number): import("./tensor-ops.js").AttentionCaches | null {
    return tensorOps?.attentionCaches(this.k, this.spec, batch) ?? null;
  }

  /** Releases the arena (the model is being disposed, or a larger arena replaces it). */
  release(): void {
    // the plan stays: ensureArena releases the old arena right after makePlan made a new plan
    if (this.arena) this.k.release(this.arena, this.arenaBytes);
    this.arena = this.arenaBytes = 0;
  }

  private makePlan(inputs: InputTensor[], streaming: boolean): Plan {
    // compared dim by dim: a streaming step must not build key strings (garbage every call)
    const hit = this.plans.find((p) => p.streaming === streaming && inputs.every((t, i) => sameShape(t.shape, p.inputShapes[i])));
    if (hit) return hit;
    const batch = inputs[0].shape[0];
    const inputShapes = inputs.map((t) => t.shape.slice()); // copies: callers own their arrays
    const shapes = new Map<string, number[]>();
    const offsets = new Map<string, number>();
    const scratch: Record<string, number>[] = [];
    const descAt: number[] = [];
    let descBytes = 0;
    let bytes = 0;
    const take = (id: string, n: number, op?: number) => {
      if (op === undefined) offsets.set(id, bytes);
      else scratch[op][id] = bytes;
      bytes += align(n);
      if (bytes > 2 ** 31) fail("E_SHAPE", `inputs [${inputShapes.join("], [")}]: activations over 2 GiB`);
    };
    this.spec.inputs.forEach((inp, i) => {
      shapes.set(inp.tensor, inputShapes[i].slice(1));
      take(inp.tensor, product(inputShapes[i])! * 4);
    });
    for (const s of this.spec.states ?? []) {
      const shape = this.spec.tensors[s.input].shape as number[];
      shapes.set(s.input, shape);
      take(s.input, batch * product(shape)! * 4);
    }
    this.spec.ops.forEach((op, idx) => {
      scratch[idx] = {}; // a role an op does not use reads as NaN, which wasm receives as 0
      const ins = op.inputs.map((i) => shapes.get(i)!);
      const outShapes = opOutputShapes(op, ins as Shape[]) as number[][];
      const T = ins[0][0];
      const W = this.w[idx];
      op.outputs.forEach((o, k2) => {
        if (o.endsWith("/mask")) {
          shapes.set(o, [T]);
          take(o, batch * T);
          return;
        }
        const s = outShapes[k2];
        if (s.some((d) => !(d >= 1))) fail("E_SHAPE", `layer ${op.layer}: inputs [${ins.join("], [")}] give output [${s.join(", ")}]`);
        shapes.set(o, s);
        if (op.op === "reshape") offsets.set(o, offsets.get(op.inputs[0])!);
        else take(o, batch * product(s)! * 4);
      });
      // scratch as the kernels report it (the int8 GEMM's quantised rows, the recurrences' own)
      const ex = this.k.exports;
      // rnn and conv1d read [T, features]: axes before T are more rows (graphs whose batch is an axis of their own)
      const rowsB = batch * product(ins[0].slice(0, -2))!;
      if (op.op === "rnn") {
        take("state", rowsB * padTo8(op.units) * 8, idx); // h, then c: [rows][U8] floats each
        take("scratch", ex.rnnScratchBytes(W.desc, rowsB, ins[0][ins[0].length - 2]), idx);
      } else if (op.op === "dense") take("q", ex.gemmScratchBytes(batch * product(ins[0])! / op.inDim, op.inDim, W.kernel), idx);
      else if (!CORE_OPS.has(op.op)) {
        for (const [name, n] of tensorOps!.opScratch(op, ins as number[][], outShapes, batch, ex, W, streaming)) {
          if (name !== "desc") take(name, n, idx);
          else {
            descAt[idx] = descBytes;
            descBytes += Math.ceil(n / 16) * 16;
          }
        }
      }
    });
    const plan: Plan = { inputShapes, streaming, batch, shapes, offsets, scratch, bytes, descAt, descBytes };
    const evicted = this.plans[3];
    if (evicted?.desc) this.k.release(evicted.desc, evicted.descBytes);
    this.plans = [plan, ...this.plans.slice(0, 3)];
    return plan;
  }

  private ensureArena(bytes: number): void {
    if (this.arenaBytes >= bytes && this.arena) return;
    this.release();
    this.arena = this.k.alloc(bytes, "activations");
    this.arenaBytes = bytes;
  }

  /**
   * Runs the model. `inputs` are checked against the spec (rank, fixed dims, dtype) by the
   * caller; values (finite floats, ids in range) are checked here once they are in memory.
   */
  run(inputs: InputTensor[], states: StateProvider | null, oneStep?: boolean): InputTensor[] {
    const plan = this.makePlan(inputs, !!states?.stream);
    this.ensureArena(plan.bytes);
    if (plan.base !== this.arena) this.compile(plan);
    const k = this.k;
    const ex = k.exports;
    for (let i = 0; i < inputs.length; i++) {
      const inp = this.spec.inputs[i];
      const t = inputs[i];
      const p = plan.inPtrs![i];
      const count = t.data.length;
      if (inp.dtype === "int32") {
        k.i32.set(t.data, p >>> 2);
        const lim = this.idLimits.get(inp.tensor);
        const bad = lim ? ex.firstIdOutOfRange(count, p, lim.limit) : -1;
        if (bad >= 0) {
          fail("E_TOKEN_RANGE", `layer ${lim!.layer} (Embedding): token id ${t.data[bad]} at flat index ${bad} of input ${inp.name} is outside input_dim ${lim!.limit}`);
        }
      } else {
        k.f32.set(t.data, p >>> 2);
        const bad = ex.firstNonFinite(count, p);
        if (bad >= 0) fail("E_VALUE", `input ${inp.name}: value at flat index ${bad} is ${t.data[bad]}; inputs must be finite`);
      }
    }
    for (const call of plan.calls!) call(states);
    // copies out of kernel memory: outputs stay valid after the next call; a session step
    // returns [B, ...] without the time axis of sequence outputs
    return plan.outs!.map(([p, n, shape, stepShape]) => ({ data: copyOut(k.f32, p, n), shape: (oneStep ? stepShape : shape).slice() }));
  }

  /**
   * Resolves every pointer and size of the plan for the current arena into one closure per
   * op. Kernel memory views (k.f32, k.u8) are read inside the closures: memory can grow.
   */
  private compile(plan: Plan): void {
    if (plan.descBytes && !plan.desc) plan.desc = this.k.alloc(plan.descBytes, "tensor op descriptors");
    const base = this.arena;
    const batch = plan.batch;
    const k = this.k;
    const ex = k.exports;
    const ptr = (id: string) => base + plan.offsets.get(id)!;
    const shapeOf = (id: string) => plan.shapes.get(id)!;
    const n = (id: string) => batch * product(shapeOf(id))!;
    const rows = (id: string) => batch * product(shapeOf(id).slice(0, -1))!;
    const last = (id: string) => shapeOf(id)[shapeOf(id).length - 1];
    const maskPtr = (id: string) => {
      const m = this.spec.tensors[id]?.mask;
      return m ? ptr(m) : 0;
    };
    plan.inPtrs = this.spec.inputs.map((inp) => ptr(inp.tensor));
    plan.outs = this.spec.outputs.map(({ tensor: o }) => {
      const shape = this.spec.unbatched ? shapeOf(o).slice() : [batch, ...shapeOf(o)];
      return [ptr(o) >>> 2, n(o), shape, this.spec.tensors[o].shape.length > 1 ? [batch, ...shape.slice(2)] : shape];
    });
    const copy = (from: string, to: string) => () => k.u8.copyWithin(ptr(to), ptr(from), ptr(from) + n(to) * 4);
    plan.calls = this.spec.ops.flatMap((op, idx): ((states: StateProvider | null) => void)[] => {
      const x = op.inputs[0];
      const out = op.outputs[0];
      const own = plan.scratch[idx];
      const scratch = (name: string) => base + own[name];
      const W = this.w[idx];
      const X = ptr(x);
      const O = ptr(out);
      switch (op.op) {
        case "embedding":
          return [() => {
            ex.gatherRows(n(x), X, W.table, op.outputDim, O, op.inputDim);
            if (op.maskZero) ex.maskFromIds(n(x), X, ptr(op.outputs[1]));
          }];
        case "dense": {
          const R = rows(x);
          const Q = scratch("q");
          return [() => ex.gemm(R, op.units, op.inDim, X, op.inDim, W.kernel, W.bias, O, op.units, Q), this.activate(op.activation, O, R, op.units)];
        }
        case "rnn": {
          const sh = shapeOf(x);
          const T = sh[sh.length - 2];
          const B = batch * product(sh.slice(0, -2))!;
          const u = op.units;
          const U8 = padTo8(u);
          const sc = scratch("scratch");
          const own = scratch("state");
          const initial = op.inputs.slice(1).map(ptr); // initial_state inputs: h (and c)
          const mask = maskPtr(x);
          const outs = op.outputs.map(ptr); // sequence or last h, then h and c with return_state
          const seqOut = op.returnSequences ? O : 0;
          return [(states) => {
            const slot = states?.slot(idx, op, batch);
            const h = slot ? slot.h : own;
            const c = slot ? slot.c : own + B * U8 * 4;
            if (!slot) k.u8.fill(0, h, h + B * U8 * 8);
            // initial_state inputs overwrite the state rows
            initial.forEach((p, i) => ex.copyRows(B, u, p, u, i ? c : h, U8));
            ex.rnnSequence(W.desc, B, T, X, h, c, mask, seqOut, sc);
            if (!seqOut) ex.copyRows(B, u, h, U8, O, u);
            if (op.returnState) {
              ex.copyRows(B, u, h, U8, outs[1], u);
              if (outs[2]) ex.copyRows(B, u, c, U8, outs[2], u); // LSTM's c
            }
          }];
        }
        case "activation":
          return [copy(x, out), this.activate(op.activation, O, rows(out), last(out))];
        case "reshape":
          return []; // shares its input's region
        default:
          return tensorOps!.compileTensorOp(op, {
            k, batch, ptr, shapeOf, n, rows, last, mask: maskPtr, opIndex: idx, weights: W,
            scratch: (name) => (name === "desc" ? plan.desc! + plan.descAt[idx] : scratch(name)),
            activate: (code, p, r, F) => this.activate(code, p, r, F),
          });
      }
    });
    if (this.spec.states) {
      const [before, after] = tensorOps!.statePairCalls(k, this.spec.states.map((s) => [ptr(s.input), ptr(s.output), n(s.input) * 4]));
      plan.calls = [before, ...plan.calls, after];
    }
    plan.base = base; // last: a plan whose compile did not finish is compiled again
  }

  /** The activation of a layer's output as a call (linear: a no-op). */
  private activate(code: number, p: number, rows: number, F: number): () => void {
    const ex = this.k.exports;
    if (code < ACT_SOFTMAX) return () => code && ex.activate(code, p, rows * F);
    return () => {
      ex.softmax(rows, F, p);
      if (code === ACT_LOG_SOFTMAX) {
        const f32 = this.k.f32;
        for (let i = p >>> 2, end = i + rows * F; i < end; i++) f32[i] = Math.log(f32[i]);
      }
    };
  }
}
