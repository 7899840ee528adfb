/**
 * Runs a ModelSpec on concrete inputs: resolves shapes for the batch and sequence lengths
 * at hand, lays every tensor out in one arena of kernel memory (kept and reused while the
 * shapes repeat), and calls one kernel (or a few) per op. Recurrent state lives either in
 * the arena (a fresh zero state per call) or in a StateSlot owned by a stateful layer or a
 * streaming session.
 */
import { RnnWasmError } from "../errors.js";
import type { KernelInstance } from "../wasm/kernels.js";
import { ACT_LOG_SOFTMAX, ACT_SOFTMAX, padTo8 } from "./layout.js";
import { convPadLeft, opOutputShapes } from "./shapes.js";
import type { ModelSpec, Op, Shape } from "./spec.js";

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
}

/** Gives the executor the state buffers of stateful ops (sessions, stateful layers). */
export interface StateProvider {
  slot(opIndex: number, op: RnnOp, batch: number): StateSlot | null;
  /** Present for sessions: ops across time continue from the previous chunk. */
  stream?: StreamState;
}

export interface InputTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

interface Region { offset: number; bytes: number }

interface Plan {
  key: string;
  batch: number;
  shapes: Map<string, number[]>; // without batch
  regions: Map<string, Region>; // tensor id -> arena region (aliases share)
  scratch: Map<number, Map<string, Region>>; // op index -> named scratch
  bytes: number;
}

const RNN_GATES = { lstm: 4, gru: 3, simple_rnn: 1 } as const;
const F32 = 4;

function roundUp16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

export class Executor {
  private plan: Plan | null = null;
  private arena = 0;
  private arenaBytes = 0;
  /** Largest valid id per int input (smallest input_dim of the Embeddings it feeds). */
  private idLimits = new Map<string, { limit: number; layer: string }>();

  constructor(
    private readonly k: KernelInstance,
    readonly spec: ModelSpec,
    private readonly weightPtr: (name: string) => number,
  ) {
    for (const op of spec.ops) {
      if (op.op === "embedding") {
        const cur = this.idLimits.get(op.inputs[0]);
        if (!cur || op.inputDim < cur.limit) this.idLimits.set(op.inputs[0], { limit: op.inputDim, layer: op.layer });
      }
    }
  }

  /** Releases the arena (the model is being disposed). */
  release(): void {
    if (this.arena) this.k.release(this.arena, this.arenaBytes);
    this.arena = 0;
    this.arenaBytes = 0;
    this.plan = null;
  }

  get arenaSize(): number {
    return this.arenaBytes;
  }

  // ---------------------------------------------------------------- planning

  private makePlan(inputShapes: number[][], batch: number, streaming: boolean): Plan {
    const key = `${streaming ? "s" : "p"}${batch}|${inputShapes.map((s) => s.join("x")).join(",")}`;
    if (this.plan && this.plan.key === key) return this.plan;
    const shapes = new Map<string, number[]>();
    this.spec.inputs.forEach((inp, i) => shapes.set(inp.tensor, inputShapes[i]));
    const regions = new Map<string, Region>();
    const scratch = new Map<number, Map<string, Region>>();
    let bytes = 0;
    const take = (n: number): Region => {
      const r = { offset: bytes, bytes: roundUp16(n) };
      bytes += r.bytes;
      if (bytes > 2 ** 31) {
        throw new RnnWasmError("E_SHAPE", `inputs of batch ${batch} and shapes ${inputShapes.map((s) => `[${s.join(", ")}]`).join(", ")} need more than 2 GiB of activations; use smaller batches or shorter sequences`);
      }
      return r;
    };
    const count = (shape: number[]) => batch * shape.reduce((a, b2) => a * b2, 1);
    for (const inp of this.spec.inputs) regions.set(inp.tensor, take(count(shapes.get(inp.tensor)!) * F32));
    this.spec.ops.forEach((op, idx) => {
      const ins = op.inputs.map((i) => {
        const s = shapes.get(i);
        if (!s) throw new Error(`internal: tensor ${i} has no shape`);
        return s;
      });
      const outShapes = opOutputShapes(op, ins as Shape[]) as number[][];
      const dataOutputs = op.outputs.filter((o) => !o.endsWith("/mask"));
      dataOutputs.forEach((o, k2) => {
        const s = outShapes[k2];
        if (s.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 1)) {
          throw new RnnWasmError("E_SHAPE", `layer ${op.layer} (${op.op}) would produce shape [batch, ${s.join(", ")}] from inputs ${ins.map((i) => `[${i.join(", ")}]`).join(", ")}`);
        }
        shapes.set(o, s);
        if (op.op === "reshape") regions.set(o, regions.get(op.inputs[0])!);
        else regions.set(o, take(count(s) * F32));
      });
      for (const m of op.outputs.filter((o) => o.endsWith("/mask"))) {
        const T = ins[0][0];
        shapes.set(m, [T]);
        regions.set(m, take(batch * T));
      }
      const sc = new Map<string, Region>();
      if (op.op === "rnn") {
        const T = ins[0][0];
        const U8 = padTo8(op.units);
        sc.set("xp", take(batch * T * RNN_GATES[op.cell] * U8 * F32));
        sc.set("h", take(batch * U8 * F32));
        if (op.cell === "lstm") sc.set("c", take(batch * U8 * F32));
        sc.set("scratch", take((3 * U8 + 32) * F32));
      } else if (op.op === "conv1d") {
        const Tout = outShapes[0][0] as number;
        sc.set("cols", take(batch * Tout * op.kernelSize * op.inDim * F32));
        if (streaming) {
          // history rows + this chunk, per batch row
          const span = op.dilation * (op.kernelSize - 1) + 1;
          sc.set("window", take(batch * (span - 1 + ins[0][0]) * op.inDim * F32));
        }
      }
      if (sc.size) scratch.set(idx, sc);
    });
    this.plan = { key, batch, shapes, regions, scratch, bytes };
    return this.plan;
  }

  private ensureArena(bytes: number): void {
    if (this.arenaBytes >= bytes && this.arena) return;
    if (this.arena) this.k.release(this.arena, this.arenaBytes);
    this.arena = 0;
    this.arenaBytes = 0;
    this.arena = this.k.alloc(bytes, "activations");
    this.arenaBytes = bytes;
  }

  // ---------------------------------------------------------------- running

  /**
   * Runs the model. `inputs` are already validated against the spec (rank, fixed dims,
   * dtype); ids are range-checked here, before anything is written.
   */
  run(inputs: InputTensor[], states: StateProvider | null): InputTensor[] {
    const batch = inputs[0].shape[0];
    const inputShapes = inputs.map((t) => t.shape.slice(1));
    this.checkIds(inputs);
    const stream = states?.stream;
    const plan = this.makePlan(inputShapes, batch, !!stream);
    this.ensureArena(plan.bytes);
    const base = this.arena;
    const ptr = (id: string) => base + plan.regions.get(id)!.offset;
    const k = this.k;
    this.spec.inputs.forEach((inp, i) => {
      const t = inputs[i];
      if (inp.dtype === "int32") {
        k.i32.set(t.data instanceof Int32Array ? t.data : Int32Array.from(t.data, (v) => Math.trunc(v)), ptr(inp.tensor) >>> 2);
      } else {
        k.f32.set(t.data, ptr(inp.tensor) >>> 2);
      }
    });
    const ex = k.exports;
    this.spec.ops.forEach((op, idx) => {
      const shapeOf = (id: string) => plan.shapes.get(id)!;
      const rows = (id: string) => batch * shapeOf(id).slice(0, -1).reduce((a, b2) => a * b2, 1);
      const n = (id: string) => batch * shapeOf(id).reduce((a, b2) => a * b2, 1);
      const maskPtr = (id: string) => {
        const m = this.spec.tensors[id]?.mask;
        return m ? ptr(m) : 0;
      };
      const out = op.outputs[0];
      switch (op.op) {
        case "embedding": {
          const ids = op.inputs[0];
          const count = n(ids);
          ex.gatherRows(count, ptr(ids), this.weightPtr(op.weights.table), op.outputDim, ptr(out));
          if (op.maskZero) {
            const i32 = k.i32;
            const u8 = k.u8;
            const src = ptr(ids) >>> 2;
            const dst = ptr(op.outputs[1]);
            for (let i = 0; i < count; i++) u8[dst + i] = i32[src + i] !== 0 ? 1 : 0;
          }
          break;
        }
        case "dense": {
          const M = rows(op.inputs[0]);
          ex.gemm(M, op.units, op.inDim, ptr(op.inputs[0]), op.inDim, this.weightPtr(op.weights.kernel),
            op.weights.bias ? this.weightPtr(op.weights.bias) : 0, ptr(out), op.units);
          this.activate(op.activation, ptr(out), M, op.units);
          break;
        }
        case "rnn":
          this.runRnn(op, idx, plan, ptr, states);
          break;
        case "activation": {
          k.u8.copyWithin(ptr(out), ptr(op.inputs[0]), ptr(op.inputs[0]) + n(out) * F32);
          const F = shapeOf(out)[shapeOf(out).length - 1];
          this.activate(op.activation, ptr(out), n(out) / F, F);
          break;
        }
        case "relu": {
          k.u8.copyWithin(ptr(out), ptr(op.inputs[0]), ptr(op.inputs[0]) + n(out) * F32);
          ex.reluGeneral(n(out), ptr(out), op.maxValue ?? Infinity, op.negativeSlope, op.threshold);
          break;
        }
        case "masking": {
          const [T, F] = shapeOf(op.inputs[0]);
          const f32 = k.f32;
          const u8 = k.u8;
          const src = ptr(op.inputs[0]) >>> 2;
          const dst = ptr(out) >>> 2;
          const m = ptr(op.outputs[1]);
          for (let r = 0; r < batch * T; r++) {
            let any = 0;
            for (let f = 0; f < F; f++) if (f32[src + r * F + f] !== op.maskValue) { any = 1; break; }
            u8[m + r] = any;
            for (let f = 0; f < F; f++) f32[dst + r * F + f] = any ? f32[src + r * F + f] : 0;
          }
          break;
        }
        case "global_pool": {
          const [T, F] = shapeOf(op.inputs[0]);
          const mask = op.maskAware === false ? 0 : maskPtr(op.inputs[0]);
          if (stream) this.streamPool(op.mode, idx, batch, T, F, ptr(op.inputs[0]), mask, ptr(out), stream);
          else ex.globalPool(batch, T, F, ptr(op.inputs[0]), mask, ptr(out), op.mode === "max" ? 1 : 0);
          break;
        }
        case "pool1d": {
          const [T, F] = shapeOf(op.inputs[0]);
          const Tout = shapeOf(out)[0];
          const padLeft = op.padding === "same" ? convPadLeft(T, op.poolSize, op.strides, 1, "same") : 0;
          ex.pool1d(batch, T, F, ptr(op.inputs[0]), Tout, op.poolSize, op.strides, padLeft, op.mode === "max" ? 1 : 0, ptr(out));
          break;
        }
        case "conv1d": {
          const [T] = shapeOf(op.inputs[0]);
          const Tout = shapeOf(out)[0];
          const cols = base + plan.scratch.get(idx)!.get("cols")!.offset;
          if (stream) {
            // causal: [history; chunk] with no padding gives exactly this chunk's outputs
            const span = op.dilation * (op.kernelSize - 1) + 1;
            const win = base + plan.scratch.get(idx)!.get("window")!.offset;
            this.fillWindow(batch, T, op.inDim, span - 1, ptr(op.inputs[0]), stream.convHistory(idx), win);
            ex.im2col1d(batch, T + span - 1, op.inDim, win, Tout, op.kernelSize, 1, op.dilation, 0, cols);
          } else {
            const padLeft = convPadLeft(T, op.kernelSize, op.strides, op.dilation, op.padding);
            ex.im2col1d(batch, T, op.inDim, ptr(op.inputs[0]), Tout, op.kernelSize, op.strides, op.dilation, padLeft, cols);
          }
          const K = op.kernelSize * op.inDim;
          ex.gemm(batch * Tout, op.filters, K, cols, K, this.weightPtr(op.weights.kernel),
            op.weights.bias ? this.weightPtr(op.weights.bias) : 0, ptr(out), op.filters);
          this.activate(op.activation, ptr(out), batch * Tout, op.filters);
          break;
        }
        case "scale_shift": {
          const sh = shapeOf(out);
          const F = sh[sh.length - 1];
          ex.scaleShift(rows(out), F, ptr(op.inputs[0]), this.weightPtr(op.weights.scale), this.weightPtr(op.weights.shift), ptr(out));
          break;
        }
        case "layer_norm": {
          const sh = shapeOf(out);
          const F = sh[sh.length - 1];
          ex.layerNorm(rows(out), F, ptr(op.inputs[0]), op.weights.gamma ? this.weightPtr(op.weights.gamma) : 0,
            op.weights.beta ? this.weightPtr(op.weights.beta) : 0, op.epsilon, ptr(out));
          break;
        }
        case "reshape":
          break; // shares its input's region
        case "repeat": {
          const F = shapeOf(op.inputs[0])[0];
          const f32 = k.f32;
          const src = ptr(op.inputs[0]) >>> 2;
          const dst = ptr(out) >>> 2;
          for (let b2 = 0; b2 < batch; b2++) {
            for (let r = 0; r < op.n; r++) f32.copyWithin(dst + (b2 * op.n + r) * F, src + b2 * F, src + (b2 + 1) * F);
          }
          break;
        }
        case "merge":
          this.runMerge(op, plan, ptr, batch);
          break;
        case "identity":
          k.u8.copyWithin(ptr(out), ptr(op.inputs[0]), ptr(op.inputs[0]) + n(out) * F32);
          break;
      }
    });
    return this.spec.outputs.map((o) => {
      const shape = plan.shapes.get(o.tensor)!;
      const count = batch * shape.reduce((a, b2) => a * b2, 1);
      return { data: k.readF32(ptr(o.tensor), count), shape: [batch, ...shape] };
    });
  }

  /**
   * Session mode pooling: folds this chunk's unmasked steps into the running sum (or max) and
   * count, then writes mean (or max) so far; 0 while no step has been seen, as predict does.
   */
  private streamPool(mode: "avg" | "max", idx: number, batch: number, T: number, F: number, x: number, mask: number, out: number, stream: StreamState): void {
    const { acc, count } = stream.pool(idx);
    const f32 = this.k.f32;
    const u8 = this.k.u8;
    const a = acc >>> 2;
    const c = count >>> 2;
    const xs = x >>> 2;
    const o = out >>> 2;
    for (let b2 = 0; b2 < batch; b2++) {
      for (let t = 0; t < T; t++) {
        if (mask && u8[mask + b2 * T + t] === 0) continue;
        const row = xs + (b2 * T + t) * F;
        if (mode === "max") {
          if (f32[c + b2] === 0) for (let f = 0; f < F; f++) f32[a + b2 * F + f] = f32[row + f];
          else for (let f = 0; f < F; f++) f32[a + b2 * F + f] = Math.max(f32[a + b2 * F + f], f32[row + f]);
        } else {
          for (let f = 0; f < F; f++) f32[a + b2 * F + f] += f32[row + f];
        }
        f32[c + b2] += 1;
      }
      const n = f32[c + b2];
      // the same float32 operations as the globalPool kernel: sum * (1 / count)
      const inv = Math.fround(1 / n);
      for (let f = 0; f < F; f++) f32[o + b2 * F + f] = n === 0 ? 0 : mode === "max" ? f32[a + b2 * F + f] : f32[a + b2 * F + f] * inv;
    }
  }

  /** window[b] = history[b] (hist rows) ++ chunk[b] (T rows); history keeps the last hist rows. */
  private fillWindow(batch: number, T: number, C: number, hist: number, chunk: number, history: number, win: number): void {
    const f32 = this.k.f32;
    const h = history >>> 2;
    const x = chunk >>> 2;
    const w = win >>> 2;
    const rows = hist + T;
    for (let b2 = 0; b2 < batch; b2++) {
      const wb = w + b2 * rows * C;
      f32.copyWithin(wb, h + b2 * hist * C, h + (b2 + 1) * hist * C);
      f32.copyWithin(wb + hist * C, x + b2 * T * C, x + (b2 + 1) * T * C);
      if (hist > 0) f32.copyWithin(h + b2 * hist * C, wb + T * C, wb + rows * C);
    }
  }

  private activate(code: number, p: number, rows: number, F: number): void {
    const ex = this.k.exports;
    if (code === 0) return;
    if (code === ACT_SOFTMAX || code === ACT_LOG_SOFTMAX) {
      ex.softmax(rows, F, p);
      if (code === ACT_LOG_SOFTMAX) {
        const f32 = this.k.f32;
        for (let i = p >>> 2, end = (p >>> 2) + rows * F; i < end; i++) f32[i] = Math.log(f32[i]);
      }
      return;
    }
    ex.activate(code, p, rows * F);
  }

  private runRnn(op: RnnOp, idx: number, plan: Plan, ptr: (id: string) => number, states: StateProvider | null): void {
    const k = this.k;
    const ex = k.exports;
    const batch = plan.batch;
    const base = this.arena;
    const sc = plan.scratch.get(idx)!;
    const x = op.inputs[0];
    const T = plan.shapes.get(x)![0];
    const u = op.units;
    const U8 = padTo8(u);
    const G = RNN_GATES[op.cell];
    const xp = base + sc.get("xp")!.offset;
    ex.gemm(batch * T, G * U8, op.inDim, ptr(x), op.inDim, this.weightPtr(op.weights.kernel),
      op.weights.bias ? this.weightPtr(op.weights.bias) : 0, xp, G * U8);
    const slot = states?.slot(idx, op, batch) ?? null;
    let h: number;
    let c: number;
    if (slot) {
      h = slot.h;
      c = slot.c;
    } else {
      h = base + sc.get("h")!.offset;
      c = op.cell === "lstm" ? base + sc.get("c")!.offset : 0;
      k.u8.fill(0, h, h + batch * U8 * F32);
      if (c) k.u8.fill(0, c, c + batch * U8 * F32);
    }
    // initial_state inputs overwrite the state rows
    const init = op.inputs.slice(1);
    init.forEach((s, i) => {
      const dst = i === 0 ? h : c;
      const f32 = k.f32;
      const src = ptr(s) >>> 2;
      for (let b2 = 0; b2 < batch; b2++) f32.copyWithin((dst >>> 2) + b2 * U8, src + b2 * u, src + (b2 + 1) * u);
    });
    const scratch = base + sc.get("scratch")!.offset;
    const maskId = this.spec.tensors[x]?.mask;
    const mask = maskId ? ptr(maskId) : 0;
    const seqOut = op.returnSequences ? ptr(op.outputs[0]) : 0;
    const flags = (op.goBackwards ? 1 : 0) | (op.alignOutput ? 2 : 0) | (op.zeroOutputForMask ? 4 : 0);
    if (op.cell === "lstm") {
      ex.lstmSequence(batch, T, u, xp, this.weightPtr(op.weights.recurrentKernel), h, c, scratch, mask, seqOut, flags, op.activation, op.recurrentActivation);
    } else if (op.cell === "gru") {
      ex.gruSequence(batch, T, u, xp, this.weightPtr(op.weights.recurrentKernel), op.weights.recurrentBias ? this.weightPtr(op.weights.recurrentBias) : 0,
        op.resetAfter ? 1 : 0, h, scratch, mask, seqOut, flags, op.activation, op.recurrentActivation);
    } else {
      ex.simpleRnnSequence(batch, T, u, xp, this.weightPtr(op.weights.recurrentKernel), h, scratch, mask, seqOut, flags, op.activation);
    }
    const f32 = k.f32;
    const copyState = (src: number, id: string) => {
      const dst = ptr(id) >>> 2;
      for (let b2 = 0; b2 < batch; b2++) f32.copyWithin(dst + b2 * u, (src >>> 2) + b2 * U8, (src >>> 2) + b2 * U8 + u);
    };
    if (!op.returnSequences) copyState(h, op.outputs[0]);
    if (op.returnState) {
      copyState(h, op.outputs[1]);
      if (op.cell === "lstm") copyState(c, op.outputs[2]);
    }
  }

  private runMerge(op: Extract<Op, { op: "merge" }>, plan: Plan, ptr: (id: string) => number, batch: number): void {
    const k = this.k;
    const ex = k.exports;
    const out = op.outputs[0];
    const shape = plan.shapes.get(out)!;
    if (op.mode === "concat") {
      const f32 = k.f32;
      const F = shape[shape.length - 1];
      const rows = batch * shape.slice(0, -1).reduce((a, b2) => a * b2, 1);
      const dst = ptr(out) >>> 2;
      let off = 0;
      for (const i of op.inputs) {
        const sh = plan.shapes.get(i)!;
        const Fi = sh[sh.length - 1];
        const src = ptr(i) >>> 2;
        for (let r = 0; r < rows; r++) f32.copyWithin(dst + r * F + off, src + r * Fi, src + (r + 1) * Fi);
        off += Fi;
      }
    } else {
      const count = batch * shape.reduce((a, b2) => a * b2, 1);
      const code = { add: 0, avg: 0, mul: 1, max: 2, min: 3, sub: 4 }[op.mode];
      ex.binary(code, count, ptr(op.inputs[0]), ptr(op.inputs[1]), ptr(out));
      for (let i = 2; i < op.inputs.length; i++) ex.binary(code, count, ptr(out), ptr(op.inputs[i]), ptr(out));
      if (op.mode === "avg") ex.scale(count, ptr(out), 1 / op.inputs.length);
    }
    if (op.outputs[1]) {
      // Keras merges AND the masks of the inputs that have one
      const u8 = k.u8;
      const m = ptr(op.outputs[1]);
      const T = plan.shapes.get(op.inputs[0])![0];
      const masks = op.inputs.map((i) => this.spec.tensors[i]?.mask).filter((x): x is string => !!x).map((x) => ptr(x));
      for (let j = 0; j < batch * T; j++) {
        let v = 1;
        for (const mp of masks) v &= u8[mp + j];
        u8[m + j] = v;
      }
    }
  }

  private checkIds(inputs: InputTensor[]): void {
    this.spec.inputs.forEach((inp, i) => {
      const lim = this.idLimits.get(inp.tensor);
      if (!lim) return;
      const d = inputs[i].data;
      for (let j = 0; j < d.length; j++) {
        const v = d[j];
        const id = Math.trunc(v);
        if (!(id >= 0 && id < lim.limit)) {
          const shape = inputs[i].shape;
          const pos: number[] = [];
          let rest = j;
          for (let a = shape.length - 1; a >= 0; a--) {
            pos.unshift(rest % shape[a]);
            rest = Math.floor(rest / shape[a]);
          }
          throw new RnnWasmError(
            "E_TOKEN_RANGE",
            `layer ${lim.layer} (Embedding): token id ${v} at position [${pos.join(", ")}] of input ${inp.name} is outside [0, ${lim.limit - 1}] (input_dim ${lim.limit})`,
          );
        }
      }
    });
  }
}

