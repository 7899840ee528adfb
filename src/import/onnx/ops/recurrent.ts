/**
 * LSTM, GRU and RNN (ONNX operators, as torch.onnx.export writes PyTorch's nn.LSTM / nn.GRU /
 * nn.RNN). Each direction becomes one rnn op: ONNX's gate blocks (LSTM i, o, f, c; GRU z, r, h)
 * are reordered into the kernels' order (LSTM i, f, c, o; GRU z, r, h), the two biases summed
 * (or, for GRU linear_before_reset=1, kept apart as the recurrent bias), and the weights packed
 * once. Bidirectional outputs are the two directions concatenated on ONNX's direction axis.
 */
import { ACT } from "../../../model/activations.js";
import {
  packGatePanels, packGateVector, packGruRecurrent, packLstmRecurrent, packSimpleRnnRecurrent,
} from "../../../model/pack.js";
import type { Op } from "../../../model/spec.js";
import { isBatch } from "../dims.js";
import { BatchLayout, type NodeContext } from "../context.js";
import { floatData, isConst, type ConstValue, type RtValue, type Value } from "../values.js";
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

/** ONNX activation names the recurrent kernels run (with ONNX's default alpha/beta). */
const ACTIVATIONS: Record<string, number> = Object.assign(Object.create(null), {
  sigmoid: ACT.sigmoid, tanh: ACT.tanh, relu: ACT.relu, softsign: ACT.softsign, softplus: ACT.softplus,
  hardsigmoid: ACT.hard_sigmoid, elu: ACT.elu,
});

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
    const seqLens = ctx.inputs[4];
    if (seqLens !== undefined) {
      if (!isConst(seqLens)) ctx.fail("sequence_lens computed at run time is not supported yet");
      if (!Array.from(seqLens.data as ArrayLike<unknown>).every((v) => v === T)) ctx.fail("sequence_lens shorter than the sequence are not supported yet");
    }
    const P = kind === "LSTM" ? ctx.inputs[7] : undefined;
    if (P !== undefined && !(isConst(P) && allZero(P))) ctx.fail("peepholes (P) are not supported yet");
    if (ctx.attr("clip")) ctx.fail("clip is not supported yet");
    if (kind === "LSTM" && ctx.int("input_forget", 0)) ctx.fail("input_forget=1 is not supported yet");

    // activations per direction: f (gates) and g (candidate); LSTM's h must equal g
    const names = ctx.attr("activations")?.strings ?? [...def.defaults, ...(D === 2 ? def.defaults : [])];
    const alphas = ctx.attr("activation_alpha")?.floats;
    const betas = ctx.attr("activation_beta")?.floats;
    if (names.length !== def.defaults.length * D) ctx.fail(`expected ${def.defaults.length * D} activations, found ${names.length}`, "E_ONNX");
    const actCode = (i: number): number => {
      const name = names[i].toLowerCase();
      const code = ACTIVATIONS[name];
      const params = (alphas?.[i] !== undefined || betas?.[i] !== undefined) && !(name === "hardsigmoid" && Math.fround(alphas?.[i] ?? 0.2) === Math.fround(0.2) && (betas?.[i] ?? 0.5) === 0.5) && !(name === "elu" && (alphas?.[i] ?? 1) === 1);
      if (code === undefined || params) ctx.fail(`activation ${names[i]}${params ? " with alpha/beta" : ""} is not supported yet`);
      return code;
    };

    const w = floatData(W, ctx.where);
    const r = floatData(R, ctx.where);
    const bias = B ? floatData(B, ctx.where) : undefined;
    const resetAfter = kind === "GRU" && ctx.int("linear_before_reset", 0) === 1;
    const xs = b.withRows(x, [batchAxis], [timeAxis, 2], layer);
    const wantY = b.isUsed(ctx.node.outputs[0]);
    const wantH = b.isUsed(ctx.node.outputs[1]);
    const wantC = kind === "LSTM" && b.isUsed(ctx.node.outputs[2]);
    const returnState = wantH || wantC;
    const states = [5, 6].slice(0, kind === "LSTM" ? 2 : 1).map((i) => ctx.inputs[i]);
    const dirAxis = layout === 0 ? 1 : 2;

    const perDir = dirs.map((backwards, d) => {
      const per = def.defaults.length;
      const activation = actCode(d * per + 1);
      const recurrentActivation = def.cell === "simple_rnn" ? ACT.linear : actCode(d * per);
      if (def.cell === "simple_rnn" && activation !== actCode(d * per)) ctx.fail("internal", "E_ONNX");
      if (kind === "LSTM" && actCode(d * per + 2) !== activation) ctx.fail(`LSTM with cell activation ${names[d * per + 1]} and output activation ${names[d * per + 2]} (they must be the same for now)`);
      const name = `${layer}/${backwards ? "reverse" : "forward"}`;
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
      const initial = states.map((s) => directionSlice(ctx, s, d, D, layout));
      if (initial.some((s) => s) && !initial.every((s) => s)) {
        // one given, one zero: the zero one made explicit
        initial.forEach((s, i) => {
          if (!s) initial[i] = zerosLike(ctx, initial.find((t) => t)!);
        });
      }
      const ids = [b.newId(`${name}/y`), b.newId(`${name}/h`), b.newId(`${name}/c`)];
      const outputs = returnState ? ids.slice(0, def.cell === "lstm" ? 3 : 2) : ids.slice(0, 1);
      b.emit({
        op: "rnn", layer, inputs: [xs.id, ...(initial.every((s) => s) ? initial.map((s) => s!.id) : [])], outputs, cell: def.cell,
        units: H, inDim: K, activation, recurrentActivation, returnSequences: wantY, returnState,
        goBackwards: backwards, alignOutput: backwards && wantY, zeroOutputForMask: false, resetAfter, stateful: false, weights,
      });
      return outputs;
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

