/**
 * Checks a ModelSpec that came from outside (a bundle header) before any kernel sees it:
 * every op is known, its tensors exist, its shapes re-derive to what the header says, its
 * activation codes are valid, and every weight has exactly the packed length its op needs.
 * Kernels trust these invariants and do no bounds checks, so this is what keeps a crafted
 * bundle from making a kernel read or write outside its buffers.
 */
import { RnnWasmError } from "../errors.js";
import { ACT_CODES, ACT_LOG_SOFTMAX, ACT_SOFTMAX, padTo8 } from "./layout.js";
import { opOutputShapes } from "./shapes.js";
import type { ModelSpec, Op, Shape } from "./spec.js";

const validAct = (c: number) => (Number.isInteger(c) && c >= 0 && c < ACT_CODES) || c === ACT_SOFTMAX || c === ACT_LOG_SOFTMAX;
const GATES = { lstm: 4, gru: 3, simple_rnn: 1 } as const;

function bad(msg: string): never {
  throw new RnnWasmError("E_BUNDLE_CORRUPT", `bundle model spec: ${msg}`);
}

const isDim = (d: unknown) => d === null || (Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 1 << 30);
const isPosInt = (v: unknown, max = 1 << 30) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function validateSpec(spec: ModelSpec, weightLengths: Map<string, number>): void {
  if (typeof spec !== "object" || spec === null) bad("not an object");
  if (!Array.isArray(spec.inputs) || spec.inputs.length === 0) bad("no inputs");
  if (!Array.isArray(spec.outputs) || spec.outputs.length === 0) bad("no outputs");
  if (!Array.isArray(spec.ops)) bad("no ops");
  if (typeof spec.tensors !== "object" || spec.tensors === null) bad("no tensors");
  const known = new Map<string, Shape>();
  const masks = new Set<string>();
  for (const inp of spec.inputs) {
    if (typeof inp.tensor !== "string" || !Array.isArray(inp.shape) || !inp.shape.every(isDim) || !["float32", "int32"].includes(inp.dtype) || (inp.batch !== undefined && !isPosInt(inp.batch))) {
      bad(`input ${JSON.stringify(inp).slice(0, 80)} is malformed`);
    }
    known.set(inp.tensor, inp.shape);
  }
  const weight = (op: Op, name: string | undefined, expected: number, what: string) => {
    if (name === undefined) return;
    const len = weightLengths.get(name);
    if (len === undefined) bad(`layer ${op.layer}: weight ${name} has no section`);
    if (len !== expected) bad(`layer ${op.layer}: ${what} ${name} holds ${len} floats, the layer needs ${expected}`);
  };
  const act = (op: Op, code: number) => {
    if (!validAct(code)) bad(`layer ${op.layer}: unknown activation code ${code}`);
  };
  for (const op of spec.ops) {
    if (typeof op !== "object" || op === null || typeof op.op !== "string" || !Array.isArray(op.inputs) || !Array.isArray(op.outputs)) {
      bad("op entry is malformed");
    }
    const ins = op.inputs.map((i) => {
      const s = known.get(i);
      if (!s) bad(`layer ${op.layer}: input tensor ${i} is not produced before it is used`);
      return s;
    });
    const last = (s: Shape) => s[s.length - 1];
    switch (op.op) {
      case "embedding":
        if (!isPosInt(op.inputDim) || !isPosInt(op.outputDim)) bad(`layer ${op.layer}: bad embedding dims`);
        // ids must come straight from an int32 model input (the kernel indexes rows with them)
        if (spec.inputs.find((i) => i.tensor === op.inputs[0])?.dtype !== "int32") bad(`layer ${op.layer}: embedding input is not an int32 model input`);
        if (typeof op.maskZero !== "boolean" || (op.outputs.length === 2) !== op.maskZero) bad(`layer ${op.layer}: mask_zero does not match the mask output`);
        if (!op.weights?.table) bad(`layer ${op.layer}: embedding without table`);
        weight(op, op.weights.table, op.inputDim * op.outputDim, "table");
        break;
      case "dense":
        if (!isPosInt(op.units) || !isPosInt(op.inDim) || last(ins[0]) !== op.inDim) bad(`layer ${op.layer}: dense dims do not match its input`);
        act(op, op.activation);
        weight(op, op.weights?.kernel, padTo8(op.units) * op.inDim, "kernel");
        weight(op, op.weights?.bias, padTo8(op.units), "bias");
        if (!op.weights?.kernel) bad(`layer ${op.layer}: dense without kernel`);
        break;
      case "rnn": {
        const G = GATES[op.cell];
        if (!G || !isPosInt(op.units) || !isPosInt(op.inDim) || ins[0].length !== 2 || last(ins[0]) !== op.inDim) {
          bad(`layer ${op.layer}: recurrent layer does not match its input`);
        }
        act(op, op.activation);
        act(op, op.recurrentActivation);
        if (op.activation >= 100 || op.recurrentActivation >= 100) bad(`layer ${op.layer}: softmax inside a cell`);
        const U8 = padTo8(op.units);
        if (!op.weights?.kernel || !op.weights.recurrentKernel) bad(`layer ${op.layer}: missing weights`);
        weight(op, op.weights.kernel, G * U8 * op.inDim, "kernel");
        weight(op, op.weights.bias, G * U8, "bias");
        weight(op, op.weights.recurrentKernel, G * U8 * op.units, "recurrent kernel");
        weight(op, op.weights.recurrentBias, 3 * U8, "recurrent bias");
        if (op.weights.recurrentBias && !(op.cell === "gru" && op.resetAfter)) bad(`layer ${op.layer}: recurrent bias on a non reset_after layer`);
        const nStates = op.cell === "lstm" ? 2 : 1;
        if (op.inputs.length !== 1 && op.inputs.length !== 1 + nStates) bad(`layer ${op.layer}: bad initial state inputs`);
        for (const s of ins.slice(1)) if (!sameShape(s, [op.units])) bad(`layer ${op.layer}: initial state shape`);
        break;
      }
      case "activation":
        act(op, op.activation);
        break;
      case "relu":
        if (typeof op.negativeSlope !== "number" || typeof op.threshold !== "number" || !(op.maxValue === null || typeof op.maxValue === "number")) bad(`layer ${op.layer}: bad relu options`);
        break;
      case "masking":
        if (typeof op.maskValue !== "number" || ins[0].length !== 2 || op.outputs.length !== 2) bad(`layer ${op.layer}: bad masking`);
        break;
      case "global_pool":
        if (ins[0].length !== 2 || !["avg", "max"].includes(op.mode)) bad(`layer ${op.layer}: bad pooling`);
        break;
      case "pool1d":
        if (ins[0].length !== 2 || !isPosInt(op.poolSize, 1 << 20) || !isPosInt(op.strides, 1 << 20) || !["valid", "same"].includes(op.padding)) bad(`layer ${op.layer}: bad pooling`);
        break;
      case "conv1d":
        if (ins[0].length !== 2 || last(ins[0]) !== op.inDim || !isPosInt(op.filters) || !isPosInt(op.kernelSize, 1 << 20) || !isPosInt(op.strides, 1 << 20) || !isPosInt(op.dilation, 1 << 20) || !["valid", "same", "causal"].includes(op.padding)) {
          bad(`layer ${op.layer}: bad conv1d`);
        }
        act(op, op.activation);
        if (!op.weights?.kernel) bad(`layer ${op.layer}: conv1d without kernel`);
        weight(op, op.weights.kernel, padTo8(op.filters) * op.kernelSize * op.inDim, "kernel");
        weight(op, op.weights.bias, padTo8(op.filters), "bias");
        break;
      case "scale_shift": {
        const F = last(ins[0]);
        if (typeof F !== "number" || !op.weights?.scale || !op.weights.shift) bad(`layer ${op.layer}: bad normalisation`);
        weight(op, op.weights.scale, F, "scale");
        weight(op, op.weights.shift, F, "shift");
        break;
      }
      case "layer_norm": {
        const F = last(ins[0]);
        if (typeof F !== "number" || typeof op.epsilon !== "number") bad(`layer ${op.layer}: bad normalisation`);
        weight(op, op.weights?.gamma, F, "gamma");
        weight(op, op.weights?.beta, F, "beta");
        break;
      }
      case "reshape":
        if (!Array.isArray(op.target) || !op.target.every((d) => d === -1 || isPosInt(d))) bad(`layer ${op.layer}: bad reshape`);
        break;
      case "repeat":
        if (!isPosInt(op.n, 1 << 20) || ins[0].length !== 1) bad(`layer ${op.layer}: bad repeat`);
        break;
      case "merge":
        if (!["add", "mul", "avg", "max", "min", "sub", "concat"].includes(op.mode) || ins.length < 2) bad(`layer ${op.layer}: bad merge`);
        if (op.mode !== "concat" && !ins.every((s) => sameShape(s, ins[0]))) bad(`layer ${op.layer}: merge shapes differ`);
        if (op.mode === "concat" && !ins.every((s) => s.length === ins[0].length && s.slice(0, -1).every((d, i) => d === ins[0][i]))) bad(`layer ${op.layer}: concat shapes differ`);
        break;
      case "identity":
        break;
      default:
        bad(`unknown op ${(op as { op: string }).op}`);
    }
    let shapes: Shape[];
    try {
      shapes = opOutputShapes(op, ins);
    } catch (e) {
      bad(`layer ${op.layer}: ${(e as Error).message}`);
    }
    const dataOuts = op.outputs.filter((o) => !o.endsWith("/mask"));
    if (dataOuts.length !== shapes.length) bad(`layer ${op.layer}: output count`);
    dataOuts.forEach((o, k) => {
      const t = spec.tensors[o];
      if (!t || !Array.isArray(t.shape) || !sameShape(t.shape, shapes[k])) bad(`layer ${op.layer}: output ${o} shape does not follow from its inputs`);
      known.set(o, shapes[k]);
    });
    if ((op.op === "embedding" || op.op === "masking") && op.outputs.length === 2 && !op.outputs[1].endsWith("/mask")) bad(`layer ${op.layer}: second output must be its mask`);
    for (const m of op.outputs.filter((o) => o.endsWith("/mask"))) {
      if (!["embedding", "masking", "merge"].includes(op.op) || ins[0].length < 1) bad(`layer ${op.layer}: ${op.op} cannot produce a mask`);
      known.set(m, [ins[0][0]]);
      masks.add(m);
    }
  }
  for (const [id, t] of Object.entries(spec.tensors)) {
    if (t.mask === undefined) continue;
    // a mask is [batch, T] bytes matching the time axis of the tensor it travels with
    if (!masks.has(t.mask) || !Array.isArray(t.shape) || t.shape.length < 1 || known.get(t.mask)![0] !== t.shape[0]) {
      bad(`tensor ${id} names mask ${t.mask}, which is not a mask over its time axis`);
    }
  }
  for (const o of spec.outputs) if (!known.has(o.tensor)) bad(`output ${o.name} is not produced`);
}
