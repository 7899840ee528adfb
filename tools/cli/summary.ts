/**
 * `rnn-wasm inspect`: a Keras model.summary()-style table from a model spec. Parameter counts
 * come from the spec's per-weight `params` (the source model's counts, not the packed lengths),
 * so they equal Keras' `count_params()` whatever padding the kernel layouts add.
 */
import type { ModelSpec, Op, Shape } from "../../src/model/spec.js";

export interface LayerRow {
  name: string;
  /** Source class as Keras names it: LSTM, GRU, Bidirectional(LSTM), Dense, ... */
  type: string;
  /** Output shapes with the batch axis first (null = None). */
  outputShapes: Shape[];
  params: number;
  nonTrainable: number;
}

export interface ModelSummary {
  name: string;
  layers: LayerRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
}

/** What the spec may say about source layers (forward-compatible: not every spec has it). */
interface SourceLayerInfo {
  name: string;
  className: string;
  inner?: string;
}

const RNN_CLASS = { lstm: "LSTM", gru: "GRU", simple_rnn: "SimpleRNN" } as const;
const MERGE_CLASS: Record<string, string> = {
  concat: "Concatenate", add: "Add", sub: "Subtract", mul: "Multiply", avg: "Average", max: "Maximum", min: "Minimum",
};

/**
 * The source class of a layer, inferred from the ops it became when the spec does not record
 * it (src/import/keras/layers/recurrent.ts: Bidirectional -> two rnn ops with forward/ and backward/ weights and
 * an optional merge; BatchNormalization -> scale_shift; Softmax/ELU -> activation; ...).
 */
function inferClass(ops: Op[]): string {
  const rnns = ops.filter((o) => o.op === "rnn") as Extract<Op, { op: "rnn" }>[];
  if (rnns.length > 0) {
    const cell = RNN_CLASS[rnns[0].cell] ?? rnns[0].cell;
    const bidi = rnns.some((o) => o.weights.kernel.startsWith("forward/")) && rnns.some((o) => o.weights.kernel.startsWith("backward/"));
    return bidi ? `Bidirectional(${cell})` : cell;
  }
  const op = ops[0];
  switch (op.op) {
    case "embedding": return "Embedding";
    case "dense": return "Dense";
    case "activation": return "Activation";
    case "relu": return op.negativeSlope !== 0 ? "LeakyReLU" : "ReLU";
    case "masking": return "Masking";
    case "global_pool": return op.mode === "max" ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D";
    case "pool1d": return op.mode === "max" ? "MaxPooling1D" : "AveragePooling1D";
    case "conv1d": return "Conv1D";
    case "scale_shift": return "BatchNormalization";
    case "layer_norm": return "LayerNormalization";
    case "reshape": return op.target.length === 1 && op.target[0] === -1 ? "Flatten" : "Reshape";
    case "repeat": return "RepeatVector";
    case "merge": return MERGE_CLASS[op.mode] ?? "Merge";
    default: return (op as { op: string }).op;
  }
}

function weightNames(op: Op): string[] {
  const w = (op as { weights?: Record<string, string | undefined> }).weights;
  return w ? Object.values(w).filter((v): v is string => typeof v === "string" && v !== "") : [];
}

export function summarize(spec: ModelSpec): ModelSummary {
  const weightByName = new Map(spec.weights.map((w) => [w.name, w]));
  const byLayer = new Map<string, Op[]>();
  for (const op of spec.ops) {
    const list = byLayer.get(op.layer);
    if (list) list.push(op);
    else byLayer.set(op.layer, [op]);
  }
  const declared = new Map<string, SourceLayerInfo>();
  const layersField = (spec as { layers?: unknown }).layers;
  if (Array.isArray(layersField)) {
    for (const l of layersField as SourceLayerInfo[]) if (l && typeof l.name === "string" && typeof l.className === "string") declared.set(l.name, l);
  }
  const classOf = (name: string, ops: Op[]): string => {
    const d = declared.get(name);
    if (d) return d.inner ? `${d.className}(${d.inner})` : d.className;
    return inferClass(ops);
  };

  const rows: LayerRow[] = [];
  // functional models list their inputs as InputLayer rows, as Keras does; Sequential ones do not
  if (spec.source?.className !== "Sequential") {
    for (const i of spec.inputs) rows.push({ name: i.name, type: "InputLayer", outputShapes: [[null, ...i.shape]], params: 0, nonTrainable: 0 });
  }
  for (const [name, ops] of byLayer) {
    // a shared layer (several nodes) or a wrapper (Bidirectional) owns each weight once
    const names = new Set(ops.flatMap(weightNames));
    let params = 0;
    let nonTrainable = 0;
    for (const n of names) {
      const w = weightByName.get(n);
      if (!w) continue;
      params += w.params;
    }
    for (const op of ops) {
      // BatchNormalization: moving mean and variance are not trained (2F of its 4F)
      if (op.op === "scale_shift") nonTrainable += 2 * (weightByName.get(op.weights.scale)?.sourceShape[0] ?? 0);
    }
    // outputs leaving the layer: produced by one of its ops, not consumed inside it. Tensor ids
    // are "layer:node:k" (build.ts); a shared layer shows each distinct node signature once.
    const internal = new Set(ops.flatMap((o) => o.inputs));
    const nodeOf = (op: Op) => /:(\d+):\d+/.exec(op.outputs[0] ?? "")?.[1] ?? "0";
    const perNode = new Map<string, Shape[]>();
    const ordered = [...ops.filter((o) => o.op === "merge"), ...ops.filter((o) => o.op !== "merge")];
    for (const op of ordered) {
      const list = perNode.get(nodeOf(op)) ?? [];
      perNode.set(nodeOf(op), list);
      for (const t of op.outputs) {
        if (t.endsWith("/mask") || internal.has(t)) continue;
        const shape = spec.tensors[t]?.shape;
        if (shape) list.push([null, ...shape]);
      }
    }
    const outs: Shape[] = [];
    const seen = new Set<string>();
    for (const list of perNode.values()) {
      const key = JSON.stringify(list);
      if (!seen.has(key)) outs.push(...list);
      seen.add(key);
    }
    rows.push({ name, type: classOf(name, ops), outputShapes: outs, params, nonTrainable });
  }
  const totalParams = rows.reduce((a, r) => a + r.params, 0);
  const nonTrainableParams = rows.reduce((a, r) => a + r.nonTrainable, 0);
  return { name: spec.name, layers: rows, totalParams, trainableParams: totalParams - nonTrainableParams, nonTrainableParams };
}

export function formatShape(s: Shape): string {
  const dims = s.map((d) => (d === null ? "None" : String(d)));
  return `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`;
}

export const thousands = (n: number): string => n.toLocaleString("en-US");

/** A CRC-32 as eight hex digits, as inspect and export print it. */
export const hex32 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

/** Human-readable byte size: exact bytes plus KiB/MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${thousands(n)} B`;
  const unit = n < 1024 * 1024 ? ["KiB", 1024] as const : ["MiB", 1024 * 1024] as const;
  return `${thousands(n)} B (${(n / unit[1]).toFixed(1)} ${unit[0]})`;
}

/** The table, Keras-style: rules of "_" between rows, "=" around the header and totals. */
export function formatTable(s: ModelSummary): string {
  const head = ["Layer (type)", "Output Shape", "Param #"];
  const cells = s.layers.map((r) => {
    const shapes = r.outputShapes.map(formatShape);
    return [`${r.name} (${r.type})`, shapes.length === 1 ? shapes[0] : `[${shapes.join(", ")}]`, thousands(r.params)];
  });
  const w0 = Math.max(head[0].length, ...cells.map((c) => c[0].length)) + 3;
  const w1 = Math.max(head[1].length, ...cells.map((c) => c[1].length)) + 3;
  const w2 = Math.max(head[2].length, ...cells.map((c) => c[2].length));
  const width = w0 + w1 + w2;
  const line = (c: string[]) => (c[0].padEnd(w0) + c[1].padEnd(w1) + c[2].padStart(w2)).trimEnd();
  const out: string[] = [`Model: "${s.name}"`, "_".repeat(width), line(head), "=".repeat(width)];
  cells.forEach((c, i) => {
    out.push(line(c));
    out.push(i === cells.length - 1 ? "=".repeat(width) : "_".repeat(width));
  });
  if (cells.length === 0) out.push("=".repeat(width));
  out.push(`Total params: ${thousands(s.totalParams)}`);
  out.push(`Trainable params: ${thousands(s.trainableParams)}`);
  out.push(`Non-trainable params: ${thousands(s.nonTrainableParams)}`);
  out.push("_".repeat(width));
  return out.join("\n");
}
