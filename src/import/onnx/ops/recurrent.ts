/**
 * LSTM, GRU and RNN (ONNX operators, as torch.onnx.export writes PyTorch's nn.LSTM / nn.GRU /
 * nn.RNN). Each direction becomes one rnn op: ONNX's gate blocks (LSTM i, o, f, c; GRU z, r, h)
 * are reordered into the kernels' order (LSTM i, f, c, o; GRU z, r, h), the two biases summed
 * (or, for GRU linear_before_reset=1, kept apart as the recurrent bias), and the weights packed
 * once. Bidirectional outputs are the two directions concatenated on ONNX's direction axis.
 * ONNX's options ride on each direction's op (spec.ts: activations with their alpha and beta,
 * LSTM's h as `cellActivation`, clip, input_forget, peepholes); sequence_lens becomes a mask on
 * the input (given at run time) or a slice of the first steps (a constant shorter than T).
 */
import { ACT } from "../../../model/activations.js";
import { ACT_UNARY, TU_AFFINE, TU_ELU, TU_HARD_SIGMOID, TU_LEAKY_RELU, TU_SCALED_TANH, TU_THRESHOLDED_RELU } from "../../../wasm/abi.js";
import {
  packGatePanels, packGateVector, packGruRecurrent, packLstmRecurrent, packSimpleRnnRecurrent,
} from "../../../model/pack.js";
import type { Op } from "../../../model/spec.js";
import { dimEq, isBatch, showShape, type Dim } from "../dims.js";
import { BatchLayout, type NodeContext } from "../context.js";
import { floatData, isConst, numbersOf, type ConstValue, type RtValue, type Value } from "../values.js";
import type { OnnxOpTable } from "./registry.js";

type Cell = "lstm" | "gru" | "simple_rnn";

interface CellDef {
  cell: Cell;
  gates: number;
  /** ONNX block of each kernel gate, in the kernel's order. */
  blocks: number[];
  /** ONNX's default activations per direction (f, g, h for LSTM). */
  defaults: string[];
}

const CELLS: Record<string, CellDef> = {
  LSTM: { cell: "lstm", gates: 4, blocks: [0, 2, 3, 1], defaults: ["Sigmoid", "Tanh", "Tanh"] },
  GRU: { cell: "gru", gates: 3, blocks: [0, 1, 2], defaults: ["Sigmoid", "Tanh"] },
  RNN: { cell: "simple_rnn", gates: 1, blocks: [0], defaults: ["Tanh"] },
};

/**
 * ONNX's recurrent activation functions (names compared in lower case, as onnxruntime does):
 * the kernel code, and for a function taking an alpha and / or a beta, its default — `null`
 * where it takes one but has no default ONNX and onnxruntime agree on (Affine and ScaledTanh
 * have none in ONNX, and onnxruntime takes 0; ThresholdedRelu's is 1 in ONNX, 0 in
 * onnxruntime): the file must give it. `plain`: a parameterless code computing the same
 * function at the defaults (the kernels' vector forms of hard_sigmoid and elu).
 */
interface OnnxActivation {
  code: number;
  alpha?: number | null;
  beta?: number | null;
  plain?: number;
}
const unary = (fn: number) => ACT_UNARY + fn;
const ACTIVATIONS: Record<string, OnnxActivation> = Object.assign(Object.create(null), {
  relu: { code: ACT.relu }, tanh: { code: ACT.tanh }, sigmoid: { code: ACT.sigmoid }, softsign: { code: ACT.softsign }, softplus: { code: ACT.softplus },
  affine: { code: unary(TU_AFFINE), alpha: null, beta: null },
  leakyrelu: { code: unary(TU_LEAKY_RELU), alpha: 0.01 },
  thresholdedrelu: { code: unary(TU_THRESHOLDED_RELU), alpha: null },
  scaledtanh: { code: unary(TU_SCALED_TANH), alpha: null, beta: null },
  hardsigmoid: { code: unary(TU_HARD_SIGMOID), alpha: 0.2, beta: 0.5, plain: ACT.hard_sigmoid },
  elu: { code: unary(TU_ELU), alpha: 1, plain: ACT.elu },
});

/** One activation slot of an rnn op: its code with the alpha and beta it reads (0: none). */
interface Slot {
  code: number;
  alpha: number;
  beta: number;
}

/**
 * The node's `activations` as slots, `activation_alpha` / `activation_beta` consumed in the order
 * of the functions that take one (ONNX; values left over are ignored and missing ones take the
 * defaults, as onnxruntime does).
 */
function activationSlots(ctx: NodeContext, names: string[]): Slot[] {
  const alphas = ctx.attr("activation_alpha")?.floats ?? [];
  const betas = ctx.attr("activation_beta")?.floats ?? [];
  for (const [what, list] of [["activation_alpha", alphas], ["activation_beta", betas]] as const) {
    const bad = list.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) ctx.fail(`${what}[${bad}] is ${list[bad]}, not a finite number`, "E_ONNX");
  }
  let nextAlpha = 0, nextBeta = 0;
  return names.map((name) => {
    const fn = ACTIVATIONS[name.toLowerCase()];
    if (!fn) ctx.fail(`activation ${name} is not one of ONNX's recurrent activations (${Object.keys(ACTIVATIONS).join(", ")})`, "E_ONNX");
    const take = (has: number | null | undefined, list: number[], at: number, what: string): number => {
      if (has === undefined) return 0;
      const v = at < list.length ? list[at] : has;
      if (v === null) ctx.fail(`activation ${name} needs its ${what} (ONNX and onnxruntime differ on its default): give it in activation_${what}`);
      return Math.fround(v);
    };
    const alpha = take(fn.alpha, alphas, fn.alpha === undefined ? 0 : nextAlpha++, "alpha");
    const beta = take(fn.beta, betas, fn.beta === undefined ? 0 : nextBeta++, "beta");
    const atDefaults = fn.plain !== undefined && alpha === Math.fround(fn.alpha!) && beta === Math.fround(fn.beta ?? 0);
    return atDefaults ? { code: fn.plain!, alpha: 0, beta: 0 } : { code: fn.code, alpha, beta };
  });
}

const sameSlot = (a: Slot, b: Slot) => a.code === b.code && a.alpha === b.alpha && a.beta === b.beta;

/**
 * W [gates·H, K] of one direction (ONNX rows, gate blocks in ONNX order) -> [K, gates·H] in
 * the kernel's gate order, the layout the packers take.
 */
function gateColumns(w: Float32Array, d: number, def: CellDef, H: number, K: number): Float32Array {
  const G = def.gates;
  const out = new Float32Array(K * G * H);
  const base = d * G * H * K;
  def.blocks.forEach((block, g) => {
    for (let u = 0; u < H; u++) {
      const row = base + (block * H + u) * K;
      for (let k = 0; k < K; k++) out[k * G * H + g * H + u] = w[row + k];
    }
  });
  return out;
}

/** One bias half [gates·H] of direction d in the kernel's gate order (offset: 0 = Wb, 1 = Rb). */
function gateBias(b: Float32Array | undefined, d: number, def: CellDef, H: number, half: number): Float32Array {
  const G = def.gates;
  const out = new Float32Array(G * H);
  if (!b) return out;
  def.blocks.forEach((block, g) => {
    for (let u = 0; u < H; u++) out[g * H + u] = b[d * 2 * G * H + half * G * H + block * H + u];
  });
  return out;
}

function allZero(c: ConstValue): boolean {
  return Array.from(c.data as ArrayLike<unknown>).every((v) => v === 0);
}

function recurrent(kind: keyof typeof CELLS) {
  const def = CELLS[kind];
  return (ctx: NodeContext): (Value | undefined)[] => {
    const b = ctx.b;
    const layer = ctx.node.name;
    const H = ctx.int("hidden_size", 0);
    if (!(H >= 1)) ctx.fail("hidden_size is missing", "E_ONNX");
    const direction = ctx.str("direction", "forward");
    const dirs = direction === "bidirectional" ? [false, true] : direction === "reverse" ? [true] : direction === "forward" ? [false] : ctx.fail(`direction ${direction}`, "E_ONNX");
    const D = dirs.length;
    const layout = ctx.int("layout", 0);
    const x = ctx.input(0);
    if (isConst(x)) ctx.fail("runs on a constant sequence (not folded)", "E_UNSUPPORTED_LAYER");
    if (x.shape.length !== 3) ctx.fail(`X must be 3-D, it is ${x.shape.length}-D`, "E_ONNX");
    const [timeAxis, batchAxis] = layout === 0 ? [0, 1] : [1, 0];
    const fixed = x.batchAxis === null; // the batch is an axis of its own: the rnn op's leading rows
    const T = x.shape[timeAxis];
    const K = x.shape[2];
    if (isBatch(T) || isBatch(K)) throw new BatchLayout(`${ctx.where}: X ${x.shape}`);
    const W = ctx.constInput(1, "W");
    const R = ctx.constInput(2, "R");
    const G = def.gates;
    if (W.dims.join() !== [D, G * H, K].join() || R.dims.join() !== [D, G * H, H].join()) {
      ctx.fail(`W [${W.dims}] / R [${R.dims}] do not fit ${D} direction(s), ${G} gates, hidden ${H}, input ${K}`, "E_ONNX");
    }
    const B = ctx.optionalConst(3, "B");
    if (B && B.dims.join() !== [D, 2 * G * H].join()) ctx.fail(`B [${B.dims}] must be [${D}, ${2 * G * H}]`, "E_ONNX");
    const lengths = sequenceLengths(ctx, x, batchAxis, T);
    const peepholes = kind === "LSTM" ? peepholeVectors(ctx, D, H) : undefined;
    const clip = clipOf(ctx);
    const inputForget = kind === "LSTM" && ctx.int("input_forget", 0) !== 0;

    // activations per direction: LSTM f, g, h; GRU f, g; RNN f alone
    const per = def.defaults.length;
    const names = ctx.attr("activations")?.strings ?? [...def.defaults, ...(D === 2 ? def.defaults : [])];
    if (names.length !== per * D) ctx.fail(`expected ${per * D} activations, found ${names.length}`, "E_ONNX");
    const slots = activationSlots(ctx, names);

    const w = floatData(W, ctx.where);
    const r = floatData(R, ctx.where);
    const bias = B ? floatData(B, ctx.where) : undefined;
    const resetAfter = kind === "GRU" && ctx.int("linear_before_reset", 0) === 1;
    const xs = b.withRows(x, [batchAxis], [timeAxis, 2], layer);
    const xIn = lengths.kind === "first" ? firstSteps(ctx, xs, lengths.steps) : lengths.kind === "runtime" ? masked(ctx, xs, lengths.lens) : xs;
    const wantY = b.isUsed(ctx.node.outputs[0]);
    const wantH = b.isUsed(ctx.node.outputs[1]);
    const wantC = kind === "LSTM" && b.isUsed(ctx.node.outputs[2]);
    const returnState = wantH || wantC;
    const states = [5, 6].slice(0, kind === "LSTM" ? 2 : 1).map((i) => ctx.inputs[i]);
    // initial_h / initial_c: [D, batch, H] (layout 1: [batch, D, H])
    const initialShape = layout === 0 ? [D, x.shape[batchAxis], H] : [x.shape[batchAxis], D, H];
    states.forEach((st, k) => {
      const have = st === undefined ? undefined : isConst(st) ? st.dims : st.shape;
      // (a constant has 1 where the batch is: the same state for every row)
      const fits = (dim: Dim, i: number) => dimEq(dim, initialShape[i]) || (isConst(st!) && dim === 1 && isBatch(initialShape[i]));
      if (have && !(have.length === 3 && have.every(fits))) {
        ctx.fail(`${k ? "initial_c" : "initial_h"} ${showShape(have)} does not fit ${showShape(initialShape)}`, "E_ONNX");
      }
    });
    const dirAxis = layout === 0 ? 1 : 2;
    // onnxruntime's Y_h and Y_c of a row of length 0 are zeros, not its initial state
    let hasSteps: string | undefined;

    const perDir = dirs.map((backwards, d) => {
      const name = `${layer}/${backwards ? "reverse" : "forward"}`;
      const own = slots.slice(d * per, (d + 1) * per);
      // the kernels' slots: the gates' (f), the candidate's (g; RNN's one activation), LSTM's cell output's (h)
      const [gate, candidate, cellOutput] = def.cell === "simple_rnn" ? [{ code: ACT.linear, alpha: 0, beta: 0 }, own[0]] : own;
      const distinctCell = cellOutput && !sameSlot(cellOutput, candidate);
      const params = [gate, candidate, distinctCell ? cellOutput : { alpha: 0, beta: 0 }].flatMap((sl) => [sl.alpha, sl.beta]);
      const kernel = gateColumns(w, d, def, H, K);
      const rec = gateColumns(r, d, def, H, H);
      const wb = gateBias(bias, d, def, H, 0);
      const rb = gateBias(bias, d, def, H, 1);
      const weights: Extract<Op, { op: "rnn" }>["weights"] = {
        kernel: b.addWeight(`${name}/kernel`, "panels", packGatePanels(kernel, K, G, H), [K, G * H], K * G * H),
        recurrentKernel: b.addWeight(`${name}/recurrent_kernel`, `${def.cell}_rec${resetAfter ? "_reset_after" : ""}`,
          def.cell === "lstm" ? packLstmRecurrent(rec, H) : def.cell === "gru" ? packGruRecurrent(rec, H, resetAfter) : packSimpleRnnRecurrent(rec, H), [H, G * H], H * G * H),
      };
      if (bias) {
        if (resetAfter) {
          weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(wb, 3, H, 0), [G * H], 2 * G * H);
          weights.recurrentBias = b.addWeight(`${name}/recurrent_bias`, "gate_vector", packGateVector(rb, 3, H, 0), [G * H], 0);
        } else {
          weights.bias = b.addWeight(`${name}/bias`, "panels_bias", packGateVector(wb.map((v, i) => v + rb[i]), G, H, 0), [G * H], 2 * G * H);
        }
      } else if (resetAfter) {
        // reset_after reads a recurrent bias: zeros
        weights.recurrentBias = b.addWeight(`${name}/recurrent_bias`, "gate_vector", new Float32Array(3 * Math.ceil(H / 8) * 8), [G * H], 0);
      }
      if (peepholes?.[d]) weights.peepholes = b.addWeight(`${name}/peepholes`, "gate_vector", packGateVector(peepholes[d], 3, H), [3 * H], 3 * H);
      const initial = states.map((s) => directionSlice(ctx, s, d, D, layout));
      if (initial.some((s) => s) && !initial.every((s) => s)) {
        // one given, one zero: the zero one made explicit
        initial.forEach((s, i) => {
          if (!s) initial[i] = zerosLike(ctx, initial.find((t) => t)!);
        });
      }
      const given = initial.every((s) => s);
      const ids = [b.newId(`${name}/y`), b.newId(`${name}/h`), b.newId(`${name}/c`)];
      const outputs = returnState ? ids.slice(0, def.cell === "lstm" ? 3 : 2) : ids.slice(0, 1);
      b.emit({
        op: "rnn", layer, inputs: [xIn.id, ...(given ? initial.map((s) => s!.id) : [])], outputs, cell: def.cell,
        units: H, inDim: K, activation: candidate.code, recurrentActivation: gate.code, returnSequences: wantY, returnState,
        goBackwards: backwards, alignOutput: backwards && wantY, zeroOutputForMask: lengths.kind === "runtime", resetAfter, stateful: false, weights,
        ...(distinctCell ? { cellActivation: cellOutput.code } : {}),
        ...(params.some((v) => v !== 0) ? { activationParams: params } : {}),
        ...(clip !== undefined ? { clip } : {}),
        ...(inputForget ? { inputForget } : {}),
      });
      const result = outputs.slice();
      if (wantY && lengths.kind === "first") result[0] = padSteps(ctx, outputs[0], T - lengths.steps);
      if (returnState && given && lengths.kind === "runtime") {
        hasSteps ??= rowsWithSteps(ctx, xIn, K);
        for (let k = 1; k < outputs.length; k++) result[k] = b.emit({ op: "binary", layer, fn: "mul", inputs: [outputs[k], hasSteps], outputs: [b.newId(`${outputs[k]}/kept`)] })[0];
      }
      return result;
    });

    // ONNX outputs: Y [T, D, B, H] (layout 1: [B, T, D, H]); Y_h, Y_c [D, B, H] (layout 1: [B, D, H])
    const results: (Value | undefined)[] = [];
    const N = x.shape[batchAxis];
    // memory: the batch (or, fixed, the batch axis) first, then time, direction, hidden
    const lead = (batch: number, rest: number[]) => b.rowsOrder(fixed ? null : batch, [batch], rest);
    if (wantY) {
      const shape = layout === 0 ? [T, D, N, H] : [N, T, D, H];
      const yBatch = layout === 0 ? 2 : 0;
      const order = lead(yBatch, layout === 0 ? [0, 1, 3] : [1, 2, 3]);
      results[0] = stack(ctx, perDir.map((o) => o[0]), shape, fixed ? null : yBatch, order, order.indexOf(dirAxis), 0);
    }
    const stateShape = layout === 0 ? [D, N, H] : [N, D, H];
    const stateBatch = layout === 0 ? 1 : 0;
    const stateDir = layout === 0 ? 0 : 1;
    const stateOrder = lead(stateBatch, layout === 0 ? [0, 2] : [1, 2]);
    const sb = fixed ? null : stateBatch;
    if (wantH) results[1] = stack(ctx, perDir.map((o) => o[1]), stateShape, sb, stateOrder, stateOrder.indexOf(stateDir), 1);
    if (wantC) results[2] = stack(ctx, perDir.map((o) => o[2]), stateShape, sb, stateOrder, stateOrder.indexOf(stateDir), 2);
    return results;
  };
}

/**
 * How a node's sequence_lens runs: every row for all T steps; every row for its first `steps`
 * (a constant shorter than T, the same for every row); or each row for its own length, given at
 * run time (a mask over the time axis, checked against [0, T] at each call).
 */
type Lengths = { kind: "all" } | { kind: "first"; steps: number } | { kind: "runtime"; lens: RtValue };

function sequenceLengths(ctx: NodeContext, x: RtValue, batchAxis: number, T: number): Lengths {
  const v = ctx.inputs[4];
  if (v === undefined) return { kind: "all" };
  if (isConst(v)) {
    if (v.dims.length !== 1) ctx.fail(`sequence_lens must be 1-D, it is [${v.dims}]`, "E_ONNX");
    const lens = numbersOf(v, `${ctx.where}: sequence_lens`);
    const bad = lens.findIndex((n) => !(Number.isInteger(n) && n >= 0 && n <= T));
    if (bad >= 0) ctx.fail(`sequence_lens[${bad}] is ${lens[bad]}, outside [0, ${T}]`, "E_ONNX");
    if (lens.every((n) => n === T)) return { kind: "all" };
    if (lens.some((n) => n !== lens[0])) {
      ctx.fail(`a constant sequence_lens with different lengths per row ([${lens}]) holds the rows of one batch size; give the lengths as a graph input`);
    }
    if (lens[0] === 0) ctx.fail("sequence_lens is 0 for every row: the node reads nothing of its sequence");
    return { kind: "first", steps: lens[0] };
  }
  if (v.dtype !== "int32") ctx.fail("sequence_lens must be an integer tensor", "E_ONNX");
  if (x.batchAxis === null) {
    ctx.fail("sequence_lens computed at run time in a graph exported for one batch size (its batch is an axis of its own) is not supported: " +
      "only exports that serve any batch size carry a length per row");
  }
  if (!(v.shape.length === 1 && v.batchAxis === 0 && dimEq(v.shape[0], x.shape[batchAxis]))) {
    ctx.fail(`sequence_lens ${showShape(v.shape)} must hold one length per batch row, [batch]`, "E_ONNX");
  }
  return { kind: "runtime", lens: v };
}

/** The first `steps` timesteps of xs ([.., T, K] in memory, time second to last). */
function firstSteps(ctx: NodeContext, xs: RtValue, steps: number): RtValue {
  const b = ctx.b;
  const phys = b.physical(xs);
  const at = phys.length - 2;
  const timeAxis = xs.order[at];
  const out: RtValue = { ...xs, id: b.newId(`${ctx.node.name}/steps`), shape: xs.shape.map((d, i) => (i === timeAxis ? steps : d)) };
  return b.emitValue({
    op: "slice", layer: ctx.node.name, inputs: [xs.id], outputs: [], starts: phys.map(() => 0), steps: phys.map(() => 1), sizes: phys.map((n, i) => (i === at ? steps : n)),
  }, out);
}

/** A sequence output ([.., steps, H]) followed by `zeros` timesteps of zeros: ONNX's Y past a row's length. */
function padSteps(ctx: NodeContext, id: string, zeros: number): string {
  const b = ctx.b;
  const rank = b.tensors[b.resolve(id)].shape.length;
  const after = Array.from({ length: rank }, (_, i) => (i === rank - 2 ? zeros : 0));
  return b.emit({ op: "pad", layer: ctx.node.name, inputs: [id], outputs: [b.newId(`${id}/padded`)], mode: "constant", before: after.map(() => 0), after, value: 0 })[0];
}

/**
 * A view of xs carrying the mask of each row's length (lengths_mask; a length outside [0, T]
 * fails the call with E_VALUE naming the input): the recurrence skips masked steps, so a row
 * read backwards starts at its last valid step.
 */
function masked(ctx: NodeContext, xs: RtValue, lens: RtValue): RtValue {
  const b = ctx.b;
  const mask = `${b.newId(`${ctx.node.name}/sequence_lens`)}/mask`;
  b.emit({ op: "lengths_mask", layer: `${ctx.node.name} (sequence_lens ${ctx.node.inputs[4]})`, inputs: [xs.id, lens.id], outputs: [mask] });
  const view = b.view(xs.id, b.physical(xs), ctx.node.name);
  b.tensors[view].mask = mask;
  return { ...xs, id: view };
}

/**
 * Per batch row, 1 where its length is over 0, else 0: a one-unit recurrence h' = 1 (zero
 * weights, bias 1, linear) over the masked input, whose h stays at its initial 0 through a row
 * with no live step. Multiplies the final states so that a row of length 0 ends with zeros, as
 * onnxruntime gives, not with its initial state.
 */
function rowsWithSteps(ctx: NodeContext, xm: RtValue, K: number): string {
  const b = ctx.b;
  const name = `${ctx.node.name}/rows_with_steps`;
  const weights = {
    kernel: b.addWeight(`${name}/kernel`, "panels", packGatePanels(new Float32Array(K), K, 1, 1), [K, 1], 0),
    recurrentKernel: b.addWeight(`${name}/recurrent_kernel`, "simple_rnn_rec", packSimpleRnnRecurrent(new Float32Array(1), 1), [1, 1], 0),
    bias: b.addWeight(`${name}/bias`, "panels_bias", packGateVector(Float32Array.of(1), 1, 1), [1], 0),
  };
  return b.emit({
    op: "rnn", layer: ctx.node.name, inputs: [xm.id], outputs: [b.newId(name)], cell: "simple_rnn", units: 1, inDim: K, activation: ACT.linear,
    recurrentActivation: ACT.linear, returnSequences: false, returnState: false, goBackwards: false, alignOutput: false, resetAfter: false, stateful: false, weights,
  })[0];
}

/** LSTM's P [D, 3H] (ONNX order i, o, f) as the kernels' i, f, o vectors per direction; undefined where all zero. */
function peepholeVectors(ctx: NodeContext, D: number, H: number): (Float32Array | undefined)[] | undefined {
  const P = ctx.inputs[7];
  if (P === undefined) return undefined;
  if (!isConst(P)) ctx.fail("peepholes (P) computed at run time are not supported: they must be a constant");
  if (P.dims.join() !== [D, 3 * H].join()) ctx.fail(`P [${P.dims}] must be [${D}, ${3 * H}]`, "E_ONNX");
  const p = floatData(P, ctx.where);
  return Array.from({ length: D }, (_, d) => {
    const [i, o, f] = [0, 1, 2].map((g) => p.subarray((d * 3 + g) * H, (d * 3 + g + 1) * H));
    return [i, o, f].every((v) => v.every((x) => x === 0)) ? undefined : Float32Array.from([...i, ...f, ...o]);
  });
}

/** The clip attribute: a positive threshold, or undefined (absent or infinite: nothing is clipped). */
function clipOf(ctx: NodeContext): number | undefined {
  const a = ctx.attr("clip");
  if (a === undefined) return undefined;
  const v = a.f ?? Number.NaN;
  if (!(v > 0)) ctx.fail(`clip is ${v}; it must be a positive number`, "E_ONNX");
  return v === Infinity ? undefined : Math.fround(v);
}

/** The [B, H] initial state of direction d from ONNX's [D, B, H] (layout 1: [B, D, H]); undefined: zeros. */
function directionSlice(ctx: NodeContext, s: Value | undefined, d: number, D: number, layout: number): RtValue | undefined {
  if (s === undefined) return undefined;
  if (isConst(s)) {
    if (allZero(s)) return undefined;
    ctx.fail("a constant non-zero initial state is not supported yet");
  }
  if (s.zeros) return undefined;
  const b = ctx.b;
  const layer = ctx.node.name;
  const dirAxis = layout === 0 ? 0 : 1;
  const batchAxis = layout === 0 ? 1 : 0;
  const hAxis = 2;
  // memory [N?, D, H]: the direction sliced, then seen as [N, H] (N the batch, or its own axis when fixed)
  const arranged = b.withRows(s, [batchAxis], [dirAxis, hAxis], layer);
  let v: RtValue = arranged;
  if (D > 1) {
    const phys = b.physical(arranged);
    const out: RtValue = { ...arranged, id: b.newId(`${layer}/state${d}`), shape: arranged.shape.map((x, i) => (i === dirAxis ? 1 : x)) };
    const at = phys.length - 2;
    v = b.emitValue({
      op: "slice", layer, inputs: [arranged.id], outputs: [], starts: phys.map((_, i) => (i === at ? d : 0)), steps: phys.map(() => 1),
      sizes: phys.map((n, i) => (i === at ? 1 : n)),
    }, out);
  }
  const fixed = s.batchAxis === null;
  const flat: RtValue = { ...v, id: b.newId(`${layer}/state${d}`), shape: [v.shape[batchAxis], v.shape[hAxis]], batchAxis: fixed ? null : 0, order: fixed ? [0, 1] : [1] };
  return b.reshape(v, flat, layer);
}

function zerosLike(ctx: NodeContext, like: RtValue): RtValue {
  return ctx.b.batchConstant(ctx, like.shape, 0);
}

/**
 * The per-direction outputs (spec ids, physical [.., H] without the direction axis) as one ONNX
 * value: a view adding the size-1 direction axis, or a concat along it.
 */
function stack(ctx: NodeContext, ids: string[], shape: (number | { k: number })[], batchAxis: number | null, order: number[], dirPos: number, k: number): RtValue {
  const b = ctx.b;
  const layer = ctx.node.name;
  const dirAxis = order[dirPos];
  const one = shape.map((d, i) => (i === dirAxis ? 1 : d));
  const views = ids.map((id) => {
    const v = ctx.output(k, one as RtValue["shape"], batchAxis, order);
    const phys = b.physical(v);
    const have = b.tensors[b.resolve(id)].shape;
    return have.length === phys.length ? { ...v, id } : { ...v, id: b.view(id, phys, layer) };
  });
  if (views.length === 1) return views[0];
  const out = ctx.output(k, shape as RtValue["shape"], batchAxis, order);
  return b.emitValue({ op: "concat", layer, inputs: views.map((v) => v.id), outputs: [], axis: dirPos }, out);
}

export const recurrentOps: OnnxOpTable = {
  LSTM: recurrent("LSTM") as (ctx: NodeContext) => Value[],
  GRU: recurrent("GRU") as (ctx: NodeContext) => Value[],
  RNN: recurrent("RNN") as (ctx: NodeContext) => Value[],
};

