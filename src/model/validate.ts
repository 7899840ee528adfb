/**
 * Checks a ModelSpec that came from outside (a bundle header) before any kernel sees it:
 * every op is known, its tensors exist, its shapes re-derive to what the header says, its
 * activation codes are valid, and every weight has exactly the packed length its op needs.
 * Kernels trust these invariants and do no bounds checks, so this is what keeps a crafted
 * bundle from making a kernel read or write outside its buffers.
 */
import { RnnWasmError } from "../errors.js";
import { ACT_COUNT, ACT_LOG_SOFTMAX, ACT_SOFTMAX } from "../wasm/abi.js";
import { padTo8, sameShape } from "./layout.js";
import { opOutputShapes, tensorOpHooks } from "./shapes.js";
import { GATES, type ModelSpec, type Op, type Shape } from "./spec.js";

const MAX = 1 << 30;
/** Bound of window sizes, strides, dilations and repeats. */
const WINDOW_MAX = 1 << 20;

function bad(msg: string): never {
  throw new RnnWasmError("E_BUNDLE_CORRUPT", `bundle model spec: ${msg}`);
}

const int = (v: unknown, max = MAX) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
const isAct = (c: unknown) => (Number.isInteger(c) && (c as number) >= 0 && (c as number) < ACT_COUNT) || c === ACT_SOFTMAX || c === ACT_LOG_SOFTMAX;
const oneOf = (v: unknown, xs: readonly string[]) => xs.includes(v as string);

/**
 * What `op` needs besides its shapes: whether its own fields are sane, and the packed size of
 * each weight it reads, [role, columns, K, required]: columns x K floats, or, for an int8
 * weight (K >= 2 only: matrices and tables), columns x K rounded up to even int8 values with one
 * scale per column (docs/kernels.md).
 */
function needs(op: Op, ins: Shape[], spec: ModelSpec): [boolean, [string | undefined, number, number, boolean][]] {
  const F = ins[0][ins[0].length - 1] as number;
  const w = (op as { weights?: Record<string, string> }).weights ?? {};
  switch (op.op) {
    case "embedding":
      // ids must come straight from an int32 model input (the kernel indexes rows with them)
      return [int(op.inputDim) && int(op.outputDim) && spec.inputs.find((i) => i.tensor === op.inputs[0])?.dtype === "int32" &&
        typeof op.maskZero === "boolean" && (op.outputs.length === 2) === op.maskZero, [[w.table, op.inputDim, op.outputDim, true]]];
    case "dense":
      return [int(op.units) && op.inDim === F && isAct(op.activation), [[w.kernel, padTo8(op.units), F, true], [w.bias, padTo8(op.units), 1, false]]];
    case "rnn": {
      const G = GATES[op.cell];
      const U8 = padTo8(op.units);
      const nStates = op.cell === "lstm" ? 2 : 1;
      return [
        !!G && int(op.units) && ins[0].length >= 2 && op.inDim === F && isAct(op.activation) && isAct(op.recurrentActivation) &&
          op.activation < ACT_SOFTMAX && op.recurrentActivation < ACT_SOFTMAX && (!w.recurrentBias || (op.cell === "gru" && op.resetAfter)) &&
          (op.inputs.length === 1 || op.inputs.length === 1 + nStates) && ins.slice(1).every((s) => sameShape(s, [...ins[0].slice(0, -2), op.units])),
        [[w.kernel, G * U8, F, true], [w.bias, G * U8, 1, false], [w.recurrentKernel, G * U8, op.units, true], [w.recurrentBias, 3 * U8, 1, false]],
      ];
    }
    case "conv1d":
      return [
        ins[0].length >= 2 && op.inDim === F && int(op.filters) && int(op.kernelSize, WINDOW_MAX) && int(op.strides, WINDOW_MAX) &&
          int(op.dilation, WINDOW_MAX) && oneOf(op.padding, ["valid", "same", "causal", "explicit"]) && isAct(op.activation) &&
          (op.padding === "explicit" ? Array.isArray(op.pads) && op.pads.length === 2 && op.pads.every((p) => p === 0 || int(p, WINDOW_MAX)) : op.pads === undefined),
        [[w.kernel, padTo8(op.filters), op.kernelSize * F, true], [w.bias, padTo8(op.filters), 1, false]],
      ];
    case "scale_shift":
      return [true, [[w.scale, F, 1, true], [w.shift, F, 1, true]]];
    case "layer_norm":
      return [typeof op.epsilon === "number", [[w.gamma, F, 1, false], [w.beta, F, 1, false]]];
    case "activation":
      return [isAct(op.activation), []];
    case "relu":
      return [typeof op.negativeSlope === "number" && typeof op.threshold === "number" && (op.maxValue === null || typeof op.maxValue === "number"), []];
    case "masking":
      return [typeof op.maskValue === "number" && ins[0].length === 2 && op.outputs.length === 2, []];
    case "global_pool":
      return [ins[0].length === 2 && oneOf(op.mode, ["avg", "max"]), []];
    case "pool1d":
      return [ins[0].length === 2 && int(op.poolSize, WINDOW_MAX) && int(op.strides, WINDOW_MAX) && oneOf(op.padding, ["valid", "same"]) && oneOf(op.mode, ["avg", "max"]), []];
    case "reshape":
      return [Array.isArray(op.target) && op.target.every((d) => d === -1 || int(d)), []];
    case "repeat":
      return [int(op.n, WINDOW_MAX) && ins[0].length === 1, []];
    case "merge":
      return [
        ins.length >= 2 && oneOf(op.mode, ["add", "mul", "avg", "max", "min", "sub", "concat"]) &&
          ins.every((s) => (op.mode === "concat" ? s.length === ins[0].length && sameShape(s.slice(0, -1), ins[0].slice(0, -1)) : sameShape(s, ins[0]))),
        [],
      ];
    default:
      return tensorOpHooks.needs?.(op, ins, w) ?? bad(`unknown op ${String((op as { op: unknown }).op)}`);
  }
}

/** int8: the int8 weights with their scale counts (none in an f32/f16 bundle). */
export function validateSpec(spec: ModelSpec, weightLengths: Map<string, number>, int8 = new Map<string, number>()): void {
  if (typeof spec !== "object" || spec === null || !Array.isArray(spec.inputs) || !spec.inputs.length || !Array.isArray(spec.outputs) ||
    !spec.outputs.length || !Array.isArray(spec.ops) || typeof spec.tensors !== "object" || spec.tensors === null) {
    bad("inputs, outputs, ops or tensors missing");
  }
  const known = new Map<string, Shape>();
  const masks = new Set<string>();
  for (const inp of spec.inputs) {
    if (typeof inp.tensor !== "string" || !Array.isArray(inp.shape) || !inp.shape.every((d) => d === null || int(d)) ||
      !oneOf(inp.dtype, ["float32", "int32"]) || (inp.batch !== undefined && !int(inp.batch))) {
      bad(`input ${JSON.stringify(inp).slice(0, 80)} is malformed`);
    }
    known.set(inp.tensor, inp.shape);
  }
  if (spec.unbatched !== undefined && typeof spec.unbatched !== "boolean") bad("unbatched must be a boolean");
  tensorOpHooks.states?.(spec, known, false);
  for (const op of spec.ops) {
    if (typeof op !== "object" || op === null || !Array.isArray(op.inputs) || !Array.isArray(op.outputs)) bad("op entry is malformed");
    const L = `layer ${op.layer}`;
    for (const key of ["activation", "recurrentActivation"] as const) {
      const code = (op as unknown as Record<string, unknown>)[key];
      if (code !== undefined && !isAct(code)) bad(`${L}: unknown activation code ${code}`);
    }
    const ins = op.inputs.map((i) => known.get(i) ?? bad(`${L}: input ${i} is not produced before it is used`));
    if (!ins.length) bad(`${L}: no inputs`);
    const [ok, ws] = needs(op, ins, spec);
    if (!ok) bad(`${L}: ${op.op} options do not fit its inputs`);
    for (const [name, cols, K, required] of ws) {
      if (name === undefined) {
        if (required) bad(`${L}: a weight is missing`);
        continue;
      }
      const len = weightLengths.get(name);
      const scales = int8.get(name);
      if (scales === undefined ? len !== cols * K : K < 2 || scales !== cols || len !== cols * (K + (K & 1))) {
        bad(`${L}: weight ${name} holds ${len ?? "no"} ${scales === undefined ? "floats" : "int8"}, the layer needs ${cols * K}`);
      }
    }
    let shapes: Shape[];
    try {
      shapes = opOutputShapes(op, ins);
    } catch (e) {
      bad(`${L}: ${(e as Error).message}`);
    }
    const data = op.outputs.filter((o) => !o.endsWith("/mask"));
    if (data.length !== shapes.length) bad(`${L}: output count`);
    data.forEach((o, k) => {
      if (!sameShape(spec.tensors[o]?.shape ?? [], shapes[k])) bad(`${L}: output ${o} shape does not follow from its inputs`);
      known.set(o, shapes[k]);
    });
    const maskOut = op.outputs.filter((o) => o.endsWith("/mask"));
    if (maskOut.length && (!oneOf(op.op, ["embedding", "masking", "merge"]) || op.outputs[op.outputs.length - 1] !== maskOut[0] || maskOut.length > 1)) {
      bad(`${L}: unexpected mask output`);
    }
    for (const m of maskOut) {
      known.set(m, [ins[0][0]]);
      masks.add(m);
    }
  }
  for (const [id, t] of Object.entries(spec.tensors)) {
    // a mask is [batch, T] bytes matching the time axis of the tensor it travels with
    if (t.mask !== undefined && (!masks.has(t.mask) || !Array.isArray(t.shape) || known.get(t.mask)![0] !== t.shape[0])) {
      bad(`tensor ${id} names mask ${t.mask}, which is not a mask over its time axis`);
    }
  }
  for (const o of spec.outputs) if (!known.has(o.tensor)) bad(`output ${o.name} is not produced`);
  tensorOpHooks.states?.(spec, known, true);
}
