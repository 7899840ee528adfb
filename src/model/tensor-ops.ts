/**
 * The executor's half of the general tensor ops (ONNX graphs): the scratch each needs in a
 * plan and its calls. A separate chunk, loaded with the models that use these ops, so a Keras
 * model's runtime carries none of it. Strided copies and broadcast operands are described to the
 * kernels by small i32 blocks (dims, then per operand its strides in elements) written into the
 * plan's scratch once, when the plan is compiled.
 */
import { fail } from "../errors.js";
import { BIN_ADD, BIN_MAX, BIN_MIN, BIN_MUL, BIN_SUB, POOL_AVG, POOL_MAX, type KernelExports } from "../wasm/abi.js";
import type { KernelInstance } from "../wasm/kernels.js";
import type { StateProvider } from "./executor.js";
import { convPadLeft, product, tensorOpHooks } from "./shapes.js";
import type { ModelSpec, Op, Shape } from "./spec.js";
import { BINARY_FNS, REDUCE_FNS, UNARY_FNS } from "./tensor-codes.js";
import { align } from "../wasm/kernels.js";
import {
  ATTN_ADDITIVE, ATTN_CACHED, ATTN_CAUSAL, ATTN_DESC_BYTES, ATTN_KEEP_WEIGHTS, ATTN_MASK_QUERY_OUTPUT, ATTN_MASK_QUERY_ROWS, ATTN_ZERO_MASKED,
} from "../wasm/abi.js";

/** Two dims that must agree: equal, or either not known until the input arrives (checked then). */
const agree = (a: number | null, b: number | null) => a === null || b === null || a === b;

/**
 * Python's slice of an axis of size n (numpy, TF strided_slice): the first index read and the
 * count read from [start, stop) by step; negative bounds count from the end, null ones are the
 * ends, out-of-range ones are clamped.
 */
export function pythonSlice(n: number, start: number | null, stop: number | null, step: number): [number, number] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const at = (v: number | null, fallback: number, lo: number, hi: number) => (v === null ? fallback : clamp(v < 0 ? v + n : v, lo, hi));
  const first = step > 0 ? at(start, 0, 0, n) : at(start, n - 1, -1, n - 1);
  const end = step > 0 ? at(stop, n, 0, n) : at(stop, -1, -1, n - 1);
  return [first, Math.max(0, Math.ceil((end - first) / step))];
}

/** A slice's starts and sizes for an input of shape x (the fixed ones, or its bounds resolved). */
function sliceExtent(op: Extract<Op, { op: "slice" }>, x: number[]): { starts: number[]; sizes: number[] } {
  if (!op.bounds) return op;
  const r = x.map((n, i) => pythonSlice(n, op.bounds![i][0], op.bounds![i][1], op.steps[i]));
  return { starts: r.map((v) => v[0]), sizes: r.map((v) => v[1]) };
}

/**
 * Output shapes of the general tensor ops. A dim may be null while a Keras model is imported
 * (a time axis of any length): what follows from it is null too, and the executor, which calls
 * this again with every dim known, checks what could not be checked before.
 */
function tensorOpShapes(op: Op, ins: Shape[]): Shape[] {
  const where = `layer ${op.layer} (${op.op})`;
  const x = ins[0];
  const rankIs = (n: number) => n === x.length || fail("E_SHAPE", `${where}: expects ${n} axes after the batch, input has ${x.length}`);
  switch (op.op) {
    case "transpose":
      rankIs(op.perm.length);
      if ([...op.perm].sort((a, b) => a - b).some((p, i) => p !== i)) fail("E_SHAPE", `${where}: perm [${op.perm.join(", ")}] is not a permutation`);
      return [op.perm.map((p) => x[p])];
    case "slice": {
      rankIs(op.steps.length);
      if (op.bounds) {
        if (x.some((d) => d === null)) return [x.map((d, i) => (d === null ? null : pythonSlice(d, op.bounds![i][0], op.bounds![i][1], op.steps[i])[1]))];
      }
      const { starts, sizes } = x.some((d) => d === null) ? op : sliceExtent(op, x as number[]);
      x.forEach((d, i) => {
        const first = starts[i];
        const lastRead = first + (sizes[i] - 1) * op.steps[i];
        if (!(sizes[i] >= 1) || op.steps[i] === 0 || (d !== null && (first < 0 || first >= d || lastRead < 0 || lastRead >= d))) {
          fail("E_SHAPE", `${where}: axis ${i} of size ${d} cannot give ${sizes[i]} elements from ${first} by ${op.steps[i]}`);
        }
      });
      return [sizes.slice()];
    }
    case "concat": {
      const a = op.axis;
      if (!(a >= 0 && a < x.length)) fail("E_SHAPE", `${where}: axis ${a} is outside rank ${x.length}`);
      let total: number | null = 0;
      for (const k of ins) {
        if (k.length !== x.length || k.some((d, i) => i !== a && !agree(d, x[i]))) fail("E_SHAPE", `${where}: inputs [${ins.map((t) => t.join(", ")).join("], [")}] differ off axis ${a}`);
        total = total === null || k[a] === null ? null : total + k[a]!;
      }
      return [x.map((d, i) => (i === a ? total : d ?? ins.find((k) => k[i] !== null)?.[i] ?? null))];
    }
    case "pad":
      rankIs(op.before.length);
      return [x.map((d, i) => {
        const b = op.before[i], e = op.after[i];
        if (!(b >= 0 && e >= 0) || (d !== null && ((op.mode === "reflect" && (b >= d || e >= d)) || (op.mode === "edge" && d < 1)))) {
          fail("E_SHAPE", `${where}: axis ${i} of size ${d} cannot be padded ${op.mode} by ${b} and ${e}`);
        }
        return d === null ? null : d + b + e;
      })];
    case "binary": {
      const operands: Shape[] = [...ins];
      if (op.weights?.a) operands.unshift(op.constShape!);
      else if (op.weights?.b) operands.push(op.constShape!);
      if (operands.length !== 2 || operands[1].length !== operands[0].length) fail("E_SHAPE", `${where}: needs two operands of the same rank`);
      const [a, b] = operands;
      return [a.map((d, i) => {
        const e = b[i];
        if (d === 1) return e;
        if (e === 1) return d;
        if (!agree(d, e)) fail("E_SHAPE", `${where}: shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast`);
        return d ?? e;
      })];
    }
    case "unary":
      return [x];
    case "reduce":
    case "softmax": {
      if (!(op.axis >= 0 && op.axis < x.length)) fail("E_SHAPE", `${where}: axis ${op.axis} is outside rank ${x.length}`);
      if (op.op === "softmax") return [x];
      return [op.keepDims ? x.map((d, i) => (i === op.axis ? 1 : d)) : x.filter((_, i) => i !== op.axis)];
    }
    case "matmul": {
      const y = ins[1];
      const r = x.length;
      if (r < 2 || y.length !== r || !agree(x[r - 1], y[r - 2]) || x.slice(0, -2).some((d, i) => !agree(d, y[i]))) {
        fail("E_SHAPE", `${where}: cannot multiply [${x.join(", ")}] by [${y.join(", ")}]`);
      }
      return [[...x.slice(0, -2).map((d, i) => d ?? y[i]), x[r - 2], y[r - 1]]];
    }
    case "constant":
      return [op.shape.slice()];
    case "lengths_mask":
      return []; // its one output is the mask
    case "attention":
      return attentionShapes(op, ins, where);
    case "stft_magnitude": {
      // a one-channel signal [..., T, 1] -> [..., frames, bins] (leading axes: more signals)
      if (!(x.length >= 2 && x[x.length - 1] === 1)) fail("E_SHAPE", `${where}: expects a signal [..., T, 1], input is [${x.join(", ")}]`);
      const T = x[x.length - 2];
      if (T === null) return [[...x.slice(0, -2), null, op.bins]];
      const frames = Math.floor((T + op.pads[0] + op.pads[1] - op.frameLength) / op.hop) + 1;
      if (!(frames >= 1)) fail("E_SHAPE", `${where}: a signal of ${T} samples gives no frame of ${op.frameLength}`);
      return [[...x.slice(0, -2), frames, op.bins]];
    }
    default:
      return fail("E_BUNDLE_CORRUPT", `unknown op ${(op as { op: string }).op}`);
  }
}

/** Query [Tq, H·Dk], value [Tv, H·Dv], key [Tv, H·Dk]: the result [Tq, H·Dv] and the weights. */
function attentionShapes(op: Extract<Op, { op: "attention" }>, ins: Shape[], where: string): Shape[] {
  const [q, v, k = v] = ins;
  const H = op.heads;
  if (q.length !== 2 || v.length !== 2 || k.length !== 2) fail("E_SHAPE", `${where}: expects query, value and key of shape [batch, time, features]`);
  const [Fq, Fv, Fk] = [q[1], v[1], k[1]];
  if (Fq === null || Fv === null || Fk === null || Fq % H || Fv % H || Fk !== Fq || !agree(v[0], k[0])) {
    fail("E_SHAPE", `${where}: query [${q.join(", ")}], value [${v.join(", ")}] and key [${k.join(", ")}] do not fit ${H} heads`);
  }
  const Tv = v[0] ?? k[0];
  const out: Shape[] = [[q[0], Fv]];
  if (op.returnScores) out.push(op.headAxis ? [H, q[0], Tv] : [q[0], Tv]);
  return out;
}

const MAX = 1 << 30;
const WINDOW_MAX = 1 << 20;
const oneOf = (v: unknown, xs: readonly string[]) => xs.includes(v as string);
const int = (v: unknown, max = MAX) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
/** A list of `n` integers (any length when n < 0) in [lo, hi]. */
const ints = (v: unknown, n: number, lo: number, hi = MAX): v is number[] =>
  Array.isArray(v) && (n < 0 || v.length === n) && v.every((d) => Number.isInteger(d) && d >= lo && d <= hi);

/** validate.ts's question for these ops: are the op's fields sane, and which weights (and sizes) does it read? */
function tensorOpNeeds(op: Op, ins: Shape[], w: Record<string, string>): [boolean, [string | undefined, number, number, boolean][]] {
  switch (op.op) {
    case "transpose":
      return [ints(op.perm, ins[0].length, 0), []];
    case "slice": {
      const r = ins[0].length;
      const bound = (v: unknown) => v === null || (Number.isInteger(v) && Math.abs(v as number) <= MAX);
      const fixed = ints(op.starts, r, 0) && ints(op.sizes, r, 1);
      const bounds = op.bounds === undefined || (Array.isArray(op.bounds) && op.bounds.length === r &&
        op.bounds.every((p) => Array.isArray(p) && p.length === 2 && bound(p[0]) && bound(p[1])));
      return [fixed && bounds && Array.isArray(op.steps) && op.steps.length === r && op.steps.every((v) => Number.isInteger(v) && v !== 0 && Math.abs(v) <= MAX), []];
    }
    case "concat":
      return [Number.isInteger(op.axis), []];
    case "pad":
      return [oneOf(op.mode, ["constant", "reflect", "edge"]) && ints(op.before, ins[0].length, 0, WINDOW_MAX) &&
        ints(op.after, ins[0].length, 0, WINDOW_MAX) && Number.isFinite(op.value), []];
    case "binary": {
      const wn = w.a ?? w.b;
      const shapeOk = wn === undefined ? op.constShape === undefined : ints(op.constShape, ins[0].length, 1) && !(w.a && w.b);
      return [oneOf(op.fn, BINARY_FNS) && ins.length === (wn === undefined ? 2 : 1) && shapeOk,
        wn === undefined ? [] : [[wn, product(op.constShape!)!, 1, true]]];
    }
    case "unary":
      return [oneOf(op.fn, UNARY_FNS) && Number.isFinite(op.alpha) && Number.isFinite(op.beta), []];
    case "reduce":
      return [oneOf(op.fn, REDUCE_FNS) && Number.isInteger(op.axis) && typeof op.keepDims === "boolean", []];
    case "softmax":
      return [Number.isInteger(op.axis) && typeof op.log === "boolean", []];
    case "matmul":
      return [ins.length === 2, []];
    case "constant":
      return [ints(op.shape, -1, 1) && op.shape.length >= 1, [[w.value, product(op.shape)!, 1, true]]];
    case "lengths_mask":
      return [ins.length === 2 && ins[0].length >= 1 && ins[1].length === 0 && op.outputs.length === 1, []];
    case "attention":
      return [int(op.heads) && oneOf(op.score, ["dot", "additive"]) && Number.isFinite(op.scoreScale) && Number.isFinite(op.tanhScale) &&
        oneOf(op.queryMask, ["none", "rows", "output"]) && [op.causal, op.keyMask, op.zeroMasked, op.returnScores, op.headAxis].every((v) => typeof v === "boolean") &&
        (ins.length === 2 || ins.length === 3) && op.outputs.length === (op.returnScores ? 2 : 1) && (!w.factors || op.score === "additive"),
      [[w.factors, ins[0][1] as number, 1, false]]];
    case "stft_magnitude": {
      const N = op.frameLength;
      return [int(N, WINDOW_MAX) && N >= 4 && (N & (N - 1)) === 0 && int(op.hop, WINDOW_MAX) && ints(op.pads, 2, 0, WINDOW_MAX) &&
        int(op.bins, N / 2 + 1), [[w.window, N, 1, true], [w.twiddles, 2 * N, 1, true]]];
    }
    default:
      return fail("E_BUNDLE_CORRUPT", `bundle model spec: unknown op ${String((op as { op: unknown }).op)}`);
  }
}

/** The state pairs of a spec from outside: each input a known shape, each output produced alike. */
function checkStates(spec: ModelSpec, known: Map<string, Shape>, after: boolean): void {
  const bad = (msg: string) => fail("E_BUNDLE_CORRUPT", `bundle model spec: ${msg}`);
  const states = spec.states ?? [];
  if (!Array.isArray(states)) bad("states is not a list");
  for (const st of states) {
    if (after) {
      const out = known.get(st.output);
      if (!out || out.length !== known.get(st.input)!.length || out.some((d, i) => d !== known.get(st.input)![i])) bad(`state ${st.name}: its next value ${st.output} is not produced with its shape`);
      continue;
    }
    const shape = spec.tensors[st?.input]?.shape;
    if (typeof st?.name !== "string" || typeof st.output !== "string" || !ints(shape, -1, 1) || known.has(st.input)) {
      bad(`state ${JSON.stringify(st).slice(0, 80)} is malformed`);
    }
    known.set(st.input, shape as number[]);
  }
}

/**
 * Why op, reading a sequence (inSeq: which inputs are), cannot run one chunk of steps at a time,
 * or null: it reads or moves across the time axis (axis 0), or it is attention that may see later
 * steps or returns scores that grow with every step.
 */
function streamReason(op: Op, inSeq: boolean[], spec: ModelSpec): string | null {
  const across = (() => {
    switch (op.op) {
      case "transpose": return op.perm[0] !== 0;
      // only the whole time axis, whatever its length (a slice by Python bounds)
      case "slice": return !(op.bounds && op.steps[0] === 1 && !op.bounds[0][0] && op.bounds[0][1] === null);
      case "concat": case "reduce": case "softmax": return op.axis === 0;
      case "pad": return op.before[0] + op.after[0] > 0;
      // time as the rows of x [T, K], or as a leading axis of both operands
      case "matmul": return inSeq[1] && (spec.tensors[op.inputs[0]]?.shape.length === 2 || !inSeq[0]);
      case "stft_magnitude": return true;
      default: return false;
    }
  })();
  if (across) return `(${op.op}) mixes timesteps`;
  if (op.op !== "attention") return null;
  if (!op.causal || !inSeq.every(Boolean)) return "attends to later steps: only causal self-attention (use_causal_mask) streams";
  return op.returnScores ? "returns its attention scores, which grow with every step" : null;
}

/** Installs these ops' shapes and checks where shapes.ts, validate.ts and session.ts look for them. */
export function installTensorOps(): void {
  tensorOpHooks.shapes = tensorOpShapes;
  tensorOpHooks.needs = tensorOpNeeds;
  tensorOpHooks.states = checkStates;
  tensorOpHooks.streams = streamReason;
}

/** A session's attention caches, or null for a model without attention. */
export function attentionCaches(k: KernelInstance, spec: ModelSpec, batch: number): AttentionCaches | null {
  return spec.ops.some((op) => op.op === "attention") ? new AttentionCaches(k, spec, batch) : null;
}

/**
 * The calls around a plan that has state pairs: before, each pair's input is filled from the
 * session's rows (zeros for predict: every call starts from the zero state); after, the
 * output is copied back to the session.
 */
export function statePairCalls(k: KernelInstance, pairs: [number, number, number][]): [(s: StateProvider | null) => void, (s: StateProvider | null) => void] {
  return [
    (states) => pairs.forEach(([into, , bytes], i) => {
      const from = states?.pair?.(i);
      if (from) k.u8.copyWithin(into, from, from + bytes);
      else k.u8.fill(0, into, into + bytes);
    }),
    (states) => pairs.forEach(([, out, bytes], i) => {
      const to = states?.pair?.(i);
      if (to) k.u8.copyWithin(to, out, out + bytes);
    }),
  ];
}

/** What the executor lends an op's compile: resolved pointers and shapes of one plan. */
export interface TensorOpEnv {
  k: KernelInstance;
  batch: number;
  /** Arena pointer of a tensor. */
  ptr(id: string): number;
  /** Shape of a tensor, batch excluded. */
  shapeOf(id: string): number[];
  /** Elements of a tensor, its rows (all axes but the last) and its last axis, batch included. */
  n(id: string): number;
  rows(id: string): number;
  last(id: string): number;
  /** Arena pointer of the mask travelling with a tensor, or 0. */
  mask(id: string): number;
  /** The op's index in the spec (sessions keep per-op stream state by it). */
  opIndex: number;
  /** Pointer of one of this op's scratch regions (opScratch named them). */
  scratch(name: string): number;
  /** Kernel-memory pointers of the op's weights, by role. */
  weights: Record<string, number>;
  /** A layer's output activation as a call (linear: a no-op). */
  activate(code: number, p: number, rows: number, F: number): () => void;
}

type Call = (states?: StateProvider | null) => void;

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Row-major strides of `dims`, in elements. */
export function contiguous(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/**
 * A strided walk over `dims` for several operands (strides per operand), with axes of size 1
 * dropped and neighbours merged where every operand steps through them as one: fewer, longer
 * rows for the kernels.
 */
function coalesce(dims: number[], strides: number[][]): [number[], number[][]] {
  const d: number[] = [];
  const s: number[][] = strides.map(() => []);
  dims.forEach((n, i) => {
    if (n === 1) return;
    const last = d.length - 1;
    if (last >= 0 && strides.every((st, k) => s[k][last] === st[i] * n)) {
      d[last] *= n;
      strides.forEach((st, k) => (s[k][last] = st[i]));
    } else {
      d.push(n);
      strides.forEach((st, k) => s[k].push(st[i]));
    }
  });
  if (!d.length) return [[1], strides.map(() => [1])];
  return [d, s];
}

/** One strided copy: its block is [rank, dims..., src strides..., dst strides...] at `at`. */
interface CopyJob {
  dims: number[];
  src: number[];
  dst: number[];
  /** Element offsets of the first read and write from the operands' bases. */
  srcAt: number;
  dstAt: number;
}

const copyBlockBytes = (rank: number) => 4 * 3 * rank;

function copyJobs(op: Op, ins: number[][], out: number[], batch: number): { jobs: CopyJob[]; fill?: number } {
  const x = ins[0];
  const N = prod(x);
  const O = prod(out);
  const os = contiguous(out);
  switch (op.op) {
    case "transpose": {
      const xs = contiguous(x);
      return { jobs: [{ dims: [batch, ...out], src: [N, ...op.perm.map((p) => xs[p])], dst: [O, ...os], srcAt: 0, dstAt: 0 }] };
    }
    case "slice": {
      const xs = contiguous(x);
      const srcAt = sliceExtent(op, x).starts.reduce((a, s, i) => a + s * xs[i], 0);
      return { jobs: [{ dims: [batch, ...out], src: [N, ...op.steps.map((st, i) => st * xs[i])], dst: [O, ...os], srcAt, dstAt: 0 }] };
    }
    case "concat": {
      let offset = 0;
      return {
        jobs: ins.map((s) => {
          const job = { dims: [batch, ...s], src: [prod(s), ...contiguous(s)], dst: [O, ...os], srcAt: 0, dstAt: offset * os[op.axis] };
          offset += s[op.axis];
          return job;
        }),
      };
    }
    case "pad": {
      const r = x.length;
      const jobs: CopyJob[] = [{ dims: [batch, ...x], src: [N, ...contiguous(x)], dst: [O, ...os], srcAt: 0, dstAt: op.before.reduce((a, b, i) => a + b * os[i], 0) }];
      // reflect and edge: each axis in turn copies from the output into its own margins, over the
      // full extent of the axes done before it and the interior of those after it
      if (op.mode !== "constant") {
        for (let a = 0; a < r; a++) {
          const region = (count: number) => out.map((d, i) => (i < a ? d : i === a ? count : x[i]));
          const base = out.reduce((acc, _, i) => acc + (i > a ? op.before[i] * os[i] : 0), 0);
          const stepA = (reflect: boolean) => (op.mode === "reflect" && reflect ? -os[a] : 0);
          const st = (along: number) => [O, ...os.map((s, i) => (i === a ? along : s))];
          if (op.before[a]) {
            const from = op.mode === "reflect" ? 2 * op.before[a] : op.before[a];
            jobs.push({ dims: [batch, ...region(op.before[a])], src: st(stepA(true)), dst: st(os[a]), srcAt: base + from * os[a], dstAt: base });
          }
          if (op.after[a]) {
            const end = op.before[a] + x[a];
            const from = op.mode === "reflect" ? end - 2 : end - 1;
            jobs.push({ dims: [batch, ...region(op.after[a])], src: st(stepA(true)), dst: st(os[a]), srcAt: base + from * os[a], dstAt: base + end * os[a] });
          }
        }
      }
      return { jobs, fill: op.mode === "constant" ? op.value : undefined };
    }
    default:
      return { jobs: [] };
  }
}

/** Writes a job's block (coalesced) at `p`; returns its rank. */
function writeCopyBlock(k: KernelInstance, p: number, job: CopyJob): number {
  const [dims, [src, dst]] = coalesce(job.dims, [job.src, job.dst]);
  const i32 = k.i32;
  const q = p >>> 2;
  const r = dims.length;
  for (let i = 0; i < r; i++) {
    i32[q + i] = dims[i];
    i32[q + r + i] = src[i];
    i32[q + 2 * r + i] = dst[i];
  }
  return r;
}

/** Broadcast strides of an operand shaped `s` (same rank as `out`) inside `out`, batch first. */
function operandStrides(s: number[], out: number[], batchStride: number): number[] {
  const cs = contiguous(s);
  return [batchStride, ...s.map((d, i) => (d === 1 && out[i] !== 1 ? 0 : cs[i]))];
}

/**
 * The scratch regions of one op in a plan, by name and bytes: descriptor blocks of strided
 * copies, a convolution's im2col rows (and in sessions its window of history + chunk), what the
 * kernels report for a product with int8 weights.
 */
export function opScratch(op: Op, ins: number[][], outs: number[][], batch: number, ex: KernelExports, W: Record<string, number>, streaming: boolean): [string, number][] {
  switch (op.op) {
    case "conv1d": {
      const x = ins[0];
      const rows = batch * prod(x.slice(0, -2)) * outs[0][outs[0].length - 2];
      const regions: [string, number][] = [["cols", rows * op.kernelSize * op.inDim * 4], ["q", ex.gemmScratchBytes(rows, op.kernelSize * op.inDim, W.kernel)]];
      if (streaming) regions.push(["window", batch * (op.dilation * (op.kernelSize - 1) + x[0]) * op.inDim * 4]);
      return regions;
    }
    case "binary":
      return [["desc", 3 * 4 * (ins[0].length + 1)]];
    case "stft_magnitude":
      return [["work", 8 * (op.frameLength + 2)]];
    case "lengths_mask":
      return []; // (its one output is the mask: no data output to copy into)
    // its description, the value and key masks combined, a row of weights
    case "attention":
      return [["desc", ATTN_DESC_BYTES], ["mixed", batch * ins[1][0]], ["row", 4 * ins[1][0]]];
    default: {
      const { jobs } = copyJobs(op, ins, outs[0], batch);
      return jobs.length ? [["desc", jobs.reduce((a, j) => a + copyBlockBytes(j.dims.length), 0)]] : [];
    }
  }
}

const BIN = { add: BIN_ADD, avg: BIN_ADD, mul: BIN_MUL, max: BIN_MAX, min: BIN_MIN, sub: BIN_SUB } as const;

/** Keras' rarer layers: masking, pooling, Conv1D (causal ones stream), normalisation, repeats, merges. */
function compileLayerOp(op: Op, env: TensorOpEnv): Call[] | undefined {
  const { k, batch, ptr, shapeOf, n, rows, last } = env;
  const ex = k.exports;
  const x = op.inputs[0];
  const out = op.outputs[0];
  const X = ptr(x);
  const O = ptr(out);
  const W = env.weights;
  const idx = env.opIndex;
  switch (op.op) {
    case "relu":
      return [() => {
        k.u8.copyWithin(O, X, X + n(out) * 4);
        ex.reluGeneral(n(out), O, op.maxValue ?? Infinity, op.negativeSlope, op.threshold);
      }];
    case "masking":
      return [() => ex.maskRows(rows(x), last(x), X, op.maskValue, O, ptr(op.outputs[1]))];
    case "global_pool":
      return [(st?: StateProvider | null) => {
        const [T, F] = shapeOf(x);
        const mask = op.maskAware === false ? 0 : env.mask(x);
        const mode = op.mode === "max" ? POOL_MAX : POOL_AVG;
        const s = st?.stream?.pool(idx);
        if (s) ex.poolStream(batch, T, F, X, mask, s.acc, s.count, O, mode);
        else ex.globalPool(batch, T, F, X, mask, O, mode);
      }];
    case "pool1d":
      return [() => {
        const [T, F] = shapeOf(x);
        const padLeft = op.padding === "same" ? convPadLeft(T, op.poolSize, op.strides, 1, "same") : 0;
        ex.pool1d(batch, T, F, X, shapeOf(out)[0], op.poolSize, op.strides, padLeft, op.mode === "max" ? POOL_MAX : POOL_AVG, O);
      }];
    case "conv1d":
      return [(st?: StateProvider | null) => {
        const sh = shapeOf(x);
        const T = sh[sh.length - 2];
        const Tout = shapeOf(out)[sh.length - 2];
        const B = batch * prod(sh.slice(0, -2));
        const cols = env.scratch("cols");
        const C = op.inDim;
        const stream = st?.stream;
        if (stream) {
          // causal: [history; chunk] with no padding gives exactly this chunk's outputs
          const hist = op.dilation * (op.kernelSize - 1);
          const win = env.scratch("window");
          const h = stream.convHistory(idx);
          const rowsIn = hist + T;
          if (hist) ex.copyRows(batch, hist * C, h, hist * C, win, rowsIn * C);
          ex.copyRows(batch, T * C, X, T * C, win + hist * C * 4, rowsIn * C);
          if (hist) ex.copyRows(batch, hist * C, win + T * C * 4, rowsIn * C, h, hist * C);
          ex.im2col1d(batch, rowsIn, C, win, Tout, op.kernelSize, 1, op.dilation, 0, cols);
        } else {
          ex.im2col1d(B, T, C, X, Tout, op.kernelSize, op.strides, op.dilation, convPadLeft(T, op.kernelSize, op.strides, op.dilation, op.padding, op.pads), cols);
        }
        const K = op.kernelSize * C;
        ex.gemm(B * Tout, op.filters, K, cols, K, W.kernel, W.bias, O, op.filters, env.scratch("q"));
      }, env.activate(op.activation, O, rows(out), op.filters)];
    case "scale_shift":
      return [() => ex.scaleShift(rows(out), last(out), X, W.scale, W.shift, O)];
    case "layer_norm":
      return [() => ex.layerNorm(rows(out), last(out), X, W.gamma, W.beta, op.epsilon, O)];
    case "repeat":
      return [() => ex.repeatRows(batch, op.n, shapeOf(x)[0], X, O)];
    case "merge":
      return [() => {
        if (op.mode === "concat") {
          let off = 0;
          for (const i of op.inputs) {
            ex.copyRows(rows(out), last(i), ptr(i), last(i), O + off * 4, last(out));
            off += last(i);
          }
        } else {
          const code = BIN[op.mode];
          ex.binary(code, n(out), X, ptr(op.inputs[1]), O);
          for (let i = 2; i < op.inputs.length; i++) ex.binary(code, n(out), O, ptr(op.inputs[i]), O);
          if (op.mode === "avg") ex.scale(n(out), O, 1 / op.inputs.length);
        }
        const m = op.outputs[1];
        if (m) {
          // Keras merges AND the masks of the inputs that have one
          k.u8.fill(1, ptr(m), ptr(m) + batch * shapeOf(m)[0]);
          for (const i of op.inputs) if (env.mask(i)) ex.andMask(batch * shapeOf(m)[0], env.mask(i), ptr(m));
        }
      }];
    default:
      return undefined;
  }
}

/** The calls of one op for a compiled plan. */
export function compileTensorOp(op: Op, env: TensorOpEnv): Call[] {
  const layer = compileLayerOp(op, env);
  if (layer) return layer;
  const { k, batch } = env;
  const ex = k.exports;
  const x = op.inputs[0];
  const out = op.outputs[0];
  const X = env.ptr(x);
  const O = env.ptr(out);
  const xs = env.shapeOf(x);
  const outShape = env.shapeOf(out);
  switch (op.op) {
    case "transpose":
    case "slice":
    case "concat":
    case "pad": {
      const ins = op.inputs.map((i) => env.shapeOf(i));
      const { jobs, fill } = copyJobs(op, ins, outShape, batch);
      const srcs = op.op === "concat" ? op.inputs.map((i) => env.ptr(i)) : jobs.map((_, j) => (op.op === "pad" && j > 0 ? O : X));
      let at = env.scratch("desc");
      const calls: Call[] = [];
      if (fill !== undefined) calls.push(() => ex.fill(batch * prod(outShape), fill, O));
      jobs.forEach((job, j) => {
        const block = at;
        const r = writeCopyBlock(k, block, job);
        at += copyBlockBytes(job.dims.length);
        const src = srcs[j] + job.srcAt * 4;
        const dst = O + job.dstAt * 4;
        calls.push(() => ex.copyStrided(r, block, block + 4 * r, src, block + 8 * r, dst));
      });
      return calls;
    }
    case "binary": {
      const fn = BINARY_FNS.indexOf(op.fn);
      const operands: [number, number[], number][] = op.inputs.map((i) => [env.ptr(i), env.shapeOf(i), prod(env.shapeOf(i))]);
      if (op.weights?.a) operands.unshift([env.weights.a, op.constShape!, 0]);
      if (op.weights?.b) operands.push([env.weights.b, op.constShape!, 0]);
      const [[A, as, an], [Bp, bs, bn]] = operands;
      const [dims, [sa, sb]] = coalesce([batch, ...outShape], [operandStrides(as, outShape, an), operandStrides(bs, outShape, bn)]);
      const block = env.scratch("desc");
      const q = block >>> 2;
      const r = dims.length;
      dims.forEach((d, i) => {
        k.i32[q + i] = d;
        k.i32[q + r + i] = sa[i];
        k.i32[q + 2 * r + i] = sb[i];
      });
      return [() => ex.binaryStrided(fn, r, block, block + 4 * r, A, block + 8 * r, Bp, O)];
    }
    case "unary": {
      const fn = UNARY_FNS.indexOf(op.fn);
      const n = batch * prod(xs);
      return [() => ex.unary(fn, n, X, O, op.alpha, op.beta)];
    }
    case "reduce":
    case "softmax": {
      const outer = batch * prod(xs.slice(0, op.axis));
      const n = xs[op.axis];
      const inner = prod(xs.slice(op.axis + 1));
      if (op.op === "reduce") {
        const fn = REDUCE_FNS.indexOf(op.fn);
        return [() => ex.reduce(fn, outer, n, inner, X, O)];
      }
      const bytes = batch * prod(xs) * 4;
      const log = op.log ? 1 : 0;
      return [() => {
        k.u8.copyWithin(O, X, X + bytes);
        ex.softmaxAxis(outer, n, inner, O, log);
      }];
    }
    case "matmul": {
      const ys = env.shapeOf(op.inputs[1]);
      const Y = env.ptr(op.inputs[1]);
      const r = xs.length;
      const count = batch * prod(xs.slice(0, -2));
      return [() => ex.batchedMatmul(count, xs[r - 2], ys[r - 1], xs[r - 1], X, Y, O)];
    }
    case "stft_magnitude": {
      const frames = outShape[outShape.length - 2];
      const signals = batch * prod(xs.slice(0, -2));
      const { window, twiddles } = env.weights;
      return [() => ex.stftMagnitude(signals, xs[xs.length - 2], X, frames, op.frameLength, op.hop, op.pads[0], window, twiddles, op.bins, O, env.scratch("work"))];
    }
    case "lengths_mask": {
      const T = xs[0];
      const L = env.ptr(op.inputs[1]);
      return [() => {
        const bad = ex.firstIdOutOfRange(batch, L, T + 1);
        if (bad >= 0) fail("E_VALUE", `layer ${op.layer}: sequence length ${k.i32[(L >>> 2) + bad]} of batch row ${bad} is outside [0, ${T}]`);
        ex.lengthsToMask(batch, T, L, O);
      }];
    }
    case "constant": {
      const n = prod(op.shape);
      const W = env.weights.value;
      return [() => ex.copyRows(batch, n, W, 0, O, n)];
    }
    case "attention":
      return compileAttention(op, env);
    default:
      throw new Error(`no tensor op ${op.op}`);
  }
}

/**
 * An attention op's calls: its description (attentionDescribe), then one kernel call. In a
 * session (causal attention only: notStreamableReason), each call appends this chunk's keys,
 * values and key mask to the session's cache ([step][batch][features], so that growing it is
 * one copy) and attends over every step so far.
 */
function compileAttention(op: Extract<Op, { op: "attention" }>, env: TensorOpEnv): Call[] {
  const { k, batch: B } = env;
  const ex = k.exports;
  const [qId, vId, kId = vId] = op.inputs;
  const [Tq, Fq] = env.shapeOf(qId);
  const [Tv, Fv] = env.shapeOf(vId);
  const H = op.heads;
  const [desc, mixed, row] = ["desc", "mixed", "row"].map(env.scratch);
  const flags = (op.score === "additive" ? ATTN_ADDITIVE : 0) | (op.causal ? ATTN_CAUSAL : 0) | (op.zeroMasked ? ATTN_ZERO_MASKED : 0) |
    (op.queryMask === "rows" ? ATTN_MASK_QUERY_ROWS : op.queryMask === "output" ? ATTN_MASK_QUERY_OUTPUT : 0) | (op.returnScores ? ATTN_KEEP_WEIGHTS : 0);
  const [Q, V, K, O] = [qId, vId, kId, op.outputs[0]].map(env.ptr);
  const qMask = env.mask(qId);
  const vMask = env.mask(vId);
  const kMask = op.keyMask && kId !== vId ? env.mask(kId) : 0;
  const keyMask = vMask && kMask ? mixed : vMask || kMask;
  const factors = env.weights.factors ?? 0;
  const W = op.returnScores ? env.ptr(op.outputs[1]) : row;
  const combine = () => {
    if (!(vMask && kMask)) return;
    k.u8.copyWithin(mixed, vMask, vMask + B * Tv);
    ex.andMask(B * Tv, kMask, mixed);
  };
  return [(states) => {
    combine();
    const cache = states?.stream?.caches?.attention(env.opIndex, Tq);
    // a session's plan (cache layout) and predict's are different plans, each describing itself
    ex.attentionDescribe(desc, B, H, Tq, Tv, Fq / H, Fv / H, flags | (cache ? ATTN_CACHED : 0), op.scoreScale, op.tanhScale);
    if (!cache) {
      ex.attention(desc, Tv, 0, Q, K, V, qMask, keyMask, factors, O, W);
      return;
    }
    const past = cache.steps;
    for (let t = 0; t < Tq; t++) {
      ex.copyRows(B, Fq, K + 4 * t * Fq, Tq * Fq, cache.keys + 4 * (past + t) * B * Fq, Fq);
      ex.copyRows(B, Fv, V + 4 * t * Fv, Tq * Fv, cache.values + 4 * (past + t) * B * Fv, Fv);
      if (keyMask) for (let b = 0; b < B; b++) k.u8[cache.mask + (past + t) * B + b] = k.u8[keyMask + b * Tq + t];
    }
    ex.attention(desc, past + Tq, past, Q, cache.keys, cache.values, qMask, keyMask ? cache.mask : 0, factors, O, cache.row);
    cache.steps = past + Tq;
  }];
}

/** A session's cache of one attention op: every step's keys, values and key mask so far. */
export interface AttentionCache {
  steps: number;
  keys: number;
  values: number;
  mask: number;
  /** Scratch for one row of weights over every cached step. */
  row: number;
}

/**
 * The attention caches of one session, in kernel memory: per causal attention op, [step][batch]
 * rows of keys, values and key-mask bytes, grown by doubling (the only allocation a session
 * makes after its first step, once per doubling). Their used part is the tail of the session's
 * snapshot: per op, the step count (u32) then the keys, values and mask bytes of those steps.
 */
export class AttentionCaches {
  private slots = new Map<number, AttentionCache & { capacity: number; block: number; bytes: number }>();
  private readonly rows: Map<number, [keys: number, values: number]>;

  constructor(private readonly k: KernelInstance, spec: ModelSpec, private readonly batch: number) {
    this.rows = new Map(spec.ops.flatMap((op, i) => (op.op === "attention"
      ? [[i, [spec.tensors[op.inputs[2] ?? op.inputs[1]].shape[1] as number, spec.tensors[op.inputs[1]].shape[1] as number]] as const]
      : [])));
  }

  private layout(op: number, capacity: number): [number, number, number, number] {
    const [fk, fv] = this.rows.get(op)!;
    const keys = align(4 * capacity * this.batch * fk);
    const values = align(4 * capacity * this.batch * fv);
    const mask = align(capacity * this.batch);
    return [keys, values, mask, keys + values + mask + 4 * capacity];
  }

  /** Op `op`'s cache, with room for `more` steps after those it holds. */
  attention(op: number, more: number): AttentionCache {
    let slot = this.slots.get(op);
    const need = (slot?.steps ?? 0) + more;
    if (!slot || slot.capacity < need) {
      const capacity = Math.max(16, need, 2 * (slot?.capacity ?? 0));
      const [kb, vb, mb, bytes] = this.layout(op, capacity);
      const block = this.k.alloc(bytes, "attention cache");
      const grown = { steps: slot?.steps ?? 0, capacity, block, bytes, keys: block, values: block + kb, mask: block + kb + vb, row: block + kb + vb + mb };
      if (slot) {
        const [fk, fv] = this.rows.get(op)!;
        const n = slot.steps * this.batch;
        const u8 = this.k.u8;
        u8.copyWithin(grown.keys, slot.keys, slot.keys + 4 * n * fk);
        u8.copyWithin(grown.values, slot.values, slot.values + 4 * n * fv);
        u8.copyWithin(grown.mask, slot.mask, slot.mask + n);
        this.k.release(slot.block, slot.bytes);
      }
      this.slots.set(op, (slot = grown));
    }
    return slot;
  }

  /** Back to no steps (the memory stays). */
  reset(): void {
    for (const slot of this.slots.values()) slot.steps = 0;
  }

  /** The used part of every cache, op by op. */
  save(): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const op of this.rows.keys()) {
      const slot = this.slots.get(op);
      const steps = slot?.steps ?? 0;
      const [fk, fv] = this.rows.get(op)!;
      const n = steps * this.batch;
      const out = new Uint8Array(4 + 4 * n * (fk + fv) + n);
      new DataView(out.buffer).setUint32(0, steps, true);
      if (slot) {
        const u8 = this.k.u8;
        out.set(u8.subarray(slot.keys, slot.keys + 4 * n * fk), 4);
        out.set(u8.subarray(slot.values, slot.values + 4 * n * fv), 4 + 4 * n * fk);
        out.set(u8.subarray(slot.mask, slot.mask + n), 4 + 4 * n * (fk + fv));
      }
      parts.push(out);
    }
    const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
    return all;
  }

  /** Restores what save() wrote; E_STATE_MISMATCH when the bytes do not fit this model. */
  load(bytes: Uint8Array): void {
    const plan: [number, number, number][] = [];
    let at = 0;
    for (const [op, [fk, fv]] of this.rows) {
      if (at + 4 > bytes.length) fail("E_STATE_MISMATCH", "setState: the snapshot's attention caches do not match this model");
      const steps = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
      const n = steps * this.batch;
      const len = 4 + 4 * n * (fk + fv) + n;
      if (steps > 1 << 24 || at + len > bytes.length) fail("E_STATE_MISMATCH", "setState: the snapshot's attention caches do not match this model");
      // cached keys and values are state: finite, like every state value
      if (!new Float32Array(bytes.slice(at + 4, at + 4 + 4 * n * (fk + fv)).buffer).every(isFinite)) fail("E_STATE_CORRUPT", "setState: a cached attention key or value is NaN or infinite");
      plan.push([op, steps, at]);
      at += len;
    }
    if (at !== bytes.length) fail("E_STATE_MISMATCH", "setState: the snapshot's attention caches do not match this model");
    for (const [op, steps, from] of plan) {
      const [fk, fv] = this.rows.get(op)!;
      const held = this.slots.get(op);
      if (held) held.steps = 0;
      const grown = this.attention(op, steps);
      const n = steps * this.batch;
      const u8 = this.k.u8;
      u8.set(bytes.subarray(from + 4, from + 4 + 4 * n * fk), grown.keys);
      u8.set(bytes.subarray(from + 4 + 4 * n * fk, from + 4 + 4 * n * (fk + fv)), grown.values);
      u8.set(bytes.subarray(from + 4 + 4 * n * (fk + fv), from + 4 + 4 * n * (fk + fv) + n), grown.mask);
      grown.steps = steps;
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) this.k.release(slot.block, slot.bytes);
    this.slots.clear();
  }
}
