/**
 * What an ONNX op translator works with: the spec being built, the values in scope (constants
 * and runtime tensors), and helpers that keep runtime tensors in the memory layout an op needs.
 * A spec tensor is batch-first and holds the other ONNX axes in its value's `order`; putting the
 * axes in another order is a transpose op, which the helpers emit only when some axis of size
 * over 1 actually moves.
 */
import { RnnWasmError } from "../../errors.js";
import type { ModelSpec, Op, PackedModel } from "../../model/spec.js";
import { SpecBuilder } from "../spec-builder.js";
import { B1, BatchDependent, isBatch, showShape, type Dim } from "./dims.js";
import type { OnnxAttribute, OnnxNode } from "./proto.js";
import { floatData, foldable, isConst, isRt, transposeConst, type ConstValue, type RtValue, type Value } from "./values.js";

/** Elements a runtime tensor may hold per batch row (1 GiB of float32): the runtime's arena stops at 2 GiB. */
const RUNTIME_LIMIT = 1 << 28;

/** Thrown where a graph mixes the batch with other axes in a way batch-first tensors cannot hold. */
export class BatchLayout extends BatchDependent {
  constructor(where: string) {
    super(where);
    this.message = `${where}: the batch is not where batch-first tensors keep it`;
  }
}

export class OnnxBuilder extends SpecBuilder {
  private counter = 0;

  constructor(
    /** Set when the export runs with a fixed batch (the graph decides on its value). */
    readonly fixedBatch: number | undefined,
    readonly opset: number,
  ) {
    super();
  }

  /** The op type of each node that became runtime ops, by node name (inspect's layer types). */
  readonly nodeTypes = new Map<string, string>();

  /** How many nodes (in any branch) or outputs read each name: an LSTM whose Y nobody reads returns only its states, a conv read once fuses with its activation. */
  uses = new Map<string, number>();

  isUsed(name: string | undefined): boolean {
    return !!name && this.useCount(name) > 0;
  }

  useCount(name: string): number {
    return this.uses.get(name) ?? 0;
  }

  /**
   * The spec with its packed weights, keeping only the ops an output or a state needs (folding
   * and branches leave ops behind whose results nobody reads) and the weights they read.
   */
  finish(spec: ModelSpec): PackedModel {
    const live = new Set<string>([...spec.outputs.map((o) => o.tensor), ...(spec.states ?? []).map((s) => s.output)]);
    const keep: Op[] = [];
    for (let i = spec.ops.length - 1; i >= 0; i--) {
      const op = spec.ops[i];
      if (!op.outputs.some((o) => live.has(o))) continue;
      keep.unshift(op);
      // (a mask travels with its tensor: the op that makes it is live when the tensor is read)
      for (const inp of op.inputs) for (const id of [inp, spec.tensors[inp]?.mask]) if (id) live.add(id);
    }
    const usedWeights = new Set(keep.flatMap((op) => Object.values((op as { weights?: Record<string, string> }).weights ?? {})));
    const weights = spec.weights.filter((w) => usedWeights.has(w.name));
    const tensors: ModelSpec["tensors"] = Object.create(null);
    for (const op of keep) for (const id of [...op.inputs, ...op.outputs]) tensors[id] = spec.tensors[id];
    for (const s of spec.states ?? []) tensors[s.input] = spec.tensors[s.input];
    for (const i of spec.inputs) tensors[i.tensor] = spec.tensors[i.tensor];
    const data = new Map(weights.map((w) => [w.name, this.data.get(w.name)!] as const));
    return { spec: { ...spec, ops: keep, weights, tensors }, data };
  }

  /** Spec id of a runtime input, whose batch rows a broadcast constant takes its count from. */
  batchRef: string | undefined;

  /** A fresh spec tensor id derived from an ONNX name. */
  newId(base: string): string {
    return `${base}#${this.counter++}`;
  }

  /** The spec shape of a runtime value: its non-batch axes in memory order. */
  physical(v: RtValue): number[] {
    return v.order.map((a) => {
      const d = v.shape[a];
      if (isBatch(d)) throw new BatchLayout(`tensor ${v.id} ${showShape(v.shape)}`);
      return d;
    });
  }

  /** Registers a runtime value's spec tensor (graph inputs; op outputs come from emit). */
  declare(v: RtValue): RtValue {
    this.tensors[v.id] = { shape: this.physical(v) };
    return v;
  }

  /** Emits `op` whose single output is `out`; checks the shape the spec derives against the value's. */
  emitValue(op: Op, out: RtValue): RtValue {
    const elements = this.physical(out).reduce((a, b) => a * b, 1);
    if (!(elements <= RUNTIME_LIMIT)) {
      throw new RnnWasmError("E_ONNX", `layer ${op.layer}: ${op.op} would make a tensor of ${elements} elements per batch row (the limit is ${RUNTIME_LIMIT})`);
    }
    op.outputs = [out.id];
    this.emit(op);
    const got = this.tensors[out.id].shape;
    const want = this.physical(out);
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw new RnnWasmError("E_ONNX", `layer ${op.layer}: ${op.op} gives [${got.join(", ")}], the graph expects [${want.join(", ")}] (an importer defect)`);
    }
    return out;
  }

  /**
   * `v` with its axes in memory in `order` (logical axes other than the batch, outermost
   * first): the same tensor when only size-1 axes move, else a transpose.
   */
  arrange(v: RtValue, order: number[], layer: string): RtValue {
    const moved = (o: number[]) => o.filter((a) => v.shape[a] !== 1);
    const a = moved(v.order);
    const b = moved(order);
    if (a.length === b.length && a.every((x, i) => x === b[i])) {
      if (v.order.every((x, i) => x === order[i])) return v;
      return this.reshape(v, { ...v, id: this.newId(v.id), order }, layer);
    }
    const perm = order.map((axis) => v.order.indexOf(axis));
    const out: RtValue = { ...v, id: this.newId(v.id), order };
    return this.emitValue({ op: "transpose", layer, inputs: [v.id], outputs: [], perm }, out);
  }

  /**
   * `v` laid out for an op that runs over rows of its `rest` axes (innermost, in this order),
   * the rows being `lead`: the batch (batch-first memory), or, when the batch is fixed, those
   * axes outermost in memory.
   */
  withRows(v: RtValue, lead: number[], rest: number[], layer: string): RtValue {
    if (v.batchAxis === null) return this.arrange(v, [...lead, ...rest], layer);
    if (lead.length !== 1 || lead[0] !== v.batchAxis) throw new BatchLayout(`${layer}: its rows are not the batch`);
    return this.arrange(v, rest, layer);
  }

  /** The memory order of a new value whose rows are `lead` (see withRows), given the batch axis (null: fixed). */
  rowsOrder(batchAxis: number | null, lead: number[], rest: number[]): number[] {
    return batchAxis === null ? [...lead, ...rest] : rest;
  }

  /** `v` with its non-batch axes in ascending logical order (row-major without the batch). */
  rowMajor(v: RtValue, layer: string): RtValue {
    return this.arrange(v, v.shape.map((_, i) => i).filter((i) => i !== v.batchAxis), layer);
  }

  /** A view of `v`'s memory under another value's shape and order (same element order). */
  reshape(v: RtValue, out: RtValue, layer: string): RtValue {
    const target = this.physical(out);
    const have = this.physical(v);
    if (target.length === have.length && target.every((d, i) => d === have[i])) return { ...out, id: v.id };
    return this.emitValue({ op: "reshape", layer, inputs: [v.id], outputs: [], target }, out);
  }

  /** A runtime tensor shaped `dims` (one axis the batch) whose every element is `value`. */
  batchConstant(ctx: NodeContext, dims: Dim[], value: number): RtValue {
    const found = dims.findIndex((d) => isBatch(d));
    if (dims.some((d, i) => isBatch(d) && (i !== found || d.k !== 1))) throw new BatchLayout(`${ctx.where}: shape ${showShape(dims)}`);
    if (found < 0 && this.fixedBatch === undefined) throw new BatchLayout(`${ctx.where}: a runtime constant without the batch`);
    if (!this.batchRef) ctx.fail("makes a tensor of the batch size before any runtime input", "E_ONNX");
    const batchAxis = found < 0 ? null : found;
    const order = dims.map((_, i) => i).filter((i) => i !== batchAxis);
    const out = ctx.output(0, dims, batchAxis, order);
    const phys = this.physical(out);
    const n = foldable(phys, ctx.where);
    const weight = this.addWeight(`${ctx.node.name}/value`, "tensor", new Float32Array(n).fill(value), phys, 0);
    this.emitValue({ op: "constant", layer: ctx.node.name, inputs: [this.batchRef], outputs: [], shape: phys, weights: { value: weight } }, out);
    return value === 0 ? { ...out, zeros: true } : out;
  }

  /** Gather of rows of a constant table by runtime ids: an embedding lookup. */
  embeddingLookup(ctx: NodeContext, table: Value, ids: RtValue, axis: number): RtValue {
    if (!isConst(table) || axis !== 0 || table.dims.length !== 2) {
      ctx.fail("gathers with indices computed at run time; only rows of a constant [rows, dim] table (an embedding) are supported");
    }
    if (ids.dtype !== "int32") ctx.fail("gathers by float indices", "E_ONNX");
    const [V, D] = table.dims;
    const weight = this.addWeight(`${ctx.node.name}/table`, "rows", floatData(table, ctx.where), [V, D], V * D);
    const rank = ids.shape.length;
    const src = this.rowMajor(ids, ctx.node.name);
    const out = ctx.output(0, [...ids.shape, D], ids.batchAxis, [...src.order, rank]);
    return this.emitValue({ op: "embedding", layer: ctx.node.name, inputs: [src.id], outputs: [], inputDim: V, outputDim: D, maskZero: false, weights: { table: weight } }, out);
  }

  /** A new spec tensor viewing `id`'s memory as `dims` (a reshape op: no data moves). */
  view(id: string, dims: number[], layer: string): string {
    const out = this.newId(id);
    this.emit({ op: "reshape", layer, inputs: [id], outputs: [out], target: dims });
    return out;
  }

  /** Adds a constant as a weight (float32, row-major in `dims`). */
  constWeight(name: string, c: ConstValue, dims: number[], where: string): string {
    return this.addWeight(name, "tensor", floatData(c, where), dims, c.dims.reduce((a, b) => a * b, 1));
  }

  /**
   * A constant laid out to meet a runtime value `like` in a broadcast op: its logical axes
   * right-aligned to `rank` axes, then in `like`'s memory order, the batch axis dropped (it must
   * be 1 there: a constant cannot vary with the batch).
   */
  constInLayout(c: ConstValue, rank: number, batchAxis: number | null, order: number[], where: string): { data: ConstValue; dims: number[] } {
    const dims = [...new Array(rank - c.dims.length).fill(1), ...c.dims];
    if (batchAxis !== null && dims[batchAxis] !== 1) {
      throw new BatchLayout(`${where}: a constant of shape [${c.dims.join(", ")}] varies along the batch axis`);
    }
    const full: ConstValue = { ...c, dims };
    const perm = batchAxis === null ? order : [batchAxis, ...order];
    const t = transposeConst(full, perm);
    return { data: t, dims: order.map((a) => dims[a]) };
  }
}

/** One ONNX node being translated. */
export class NodeContext {
  constructor(
    readonly b: OnnxBuilder,
    readonly node: OnnxNode,
    /** The node's inputs (undefined: an optional input left out, named ""). */
    readonly inputs: (Value | undefined)[],
  ) {}

  get where(): string {
    return `node ${this.node.name} (${this.node.opType})`;
  }

  fail(msg: string, code: "E_ONNX" | "E_UNSUPPORTED_OPTION" | "E_UNSUPPORTED_LAYER" = "E_UNSUPPORTED_OPTION"): never {
    throw new RnnWasmError(code, `${this.where}: ${msg}`);
  }

  attr(name: string): OnnxAttribute | undefined {
    return this.node.attrs.get(name);
  }

  int(name: string, fallback: number): number {
    return this.attr(name)?.i ?? fallback;
  }

  float(name: string, fallback: number): number {
    return this.attr(name)?.f ?? fallback;
  }

  ints(name: string): number[] | undefined {
    return this.attr(name)?.ints;
  }

  str(name: string, fallback: string): string {
    return this.attr(name)?.s ?? fallback;
  }

  input(i: number): Value {
    const v = this.inputs[i];
    if (!v) this.fail(`input ${i} is missing`, "E_ONNX");
    return v;
  }

  /** Input i as a constant (it must fold: weights, shapes, axes). */
  constInput(i: number, what: string): ConstValue {
    const v = this.input(i);
    if (!isConst(v)) this.fail(`${what} (input ${i}) must be a constant, but it is computed at run time`);
    return v;
  }

  optionalConst(i: number, what: string): ConstValue | undefined {
    return this.inputs[i] === undefined ? undefined : this.constInput(i, what);
  }

  rtInput(i: number): RtValue {
    const v = this.input(i);
    if (!isRt(v)) this.fail(`input ${i} is a constant where a runtime tensor was expected (an importer defect)`, "E_ONNX");
    return v;
  }

  get allConst(): boolean {
    return this.inputs.every((v) => v === undefined || isConst(v));
  }

  /** A runtime output value with the given logical shape and layout. */
  output(k: number, shape: Dim[], batchAxis: number | null, order: number[], dtype: RtValue["dtype"] = "float32"): RtValue {
    return { kind: "rt", id: this.b.newId(this.node.outputs[k] || `${this.node.name}:${k}`), dtype, shape, batchAxis, order };
  }

  /** Normalises a possibly negative axis of a rank-r tensor. */
  axis(a: number, r: number, what = "axis"): number {
    const n = a < 0 ? a + r : a;
    if (!(n >= 0 && n < r)) this.fail(`${what} ${a} is outside a rank-${r} tensor`, "E_ONNX");
    return n;
  }
}

/** The batch dim, for inputs' declared shapes. */
export const BATCH = B1;
