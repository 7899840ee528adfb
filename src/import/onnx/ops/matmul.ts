/**
 * Gemm and MatMul. A product with a constant matrix is a dense op over the rows of the runtime
 * operand (its contracted axis innermost in memory; the weight packed into panels once), a
 * product of two runtime tensors the batched matmul op.
 */
import { packPanels, padVector } from "../../../model/pack.js";
import { isBatch, showShape } from "../dims.js";
import { BatchLayout, type NodeContext } from "../context.js";
import { floatData, foldable, isConst, mapConsts, transposeConst, type ConstValue, type RtValue, type Value } from "../values.js";
import { runtimeBinary } from "./elementwise.js";
import type { OnnxOpTable } from "./registry.js";

/** x [..., K] (runtime) times w [K, N] (constant) plus bias [N]: a dense op. */
export function dense(ctx: NodeContext, x: RtValue, w: ConstValue, bias: ConstValue | undefined, k = 0): RtValue {
  const b = ctx.b;
  const layer = ctx.node.name;
  const r = x.shape.length;
  const [K, N] = w.dims;
  if (x.shape[r - 1] !== K) ctx.fail(`cannot multiply ${showShape(x.shape)} by a [${w.dims.join(", ")}] matrix`, "E_ONNX");
  if (x.batchAxis === r - 1) throw new BatchLayout(`${ctx.where}: contracts the batch axis`);
  const rows = b.arrange(x, [...x.order.filter((a) => a !== r - 1), r - 1], layer);
  const weights: { kernel: string; bias?: string } = {
    kernel: b.addWeight(b.newId(`${layer}/kernel`), "panels", packPanels(floatData(w, ctx.where), K, N), [K, N], K * N),
  };
  if (bias) weights.bias = b.addWeight(b.newId(`${layer}/bias`), "panels_bias", padVector(floatData(bias, ctx.where), N), [N], N);
  const out = ctx.output(k, [...x.shape.slice(0, -1), N], x.batchAxis, rows.order);
  return b.emitValue({ op: "dense", layer, inputs: [rows.id], outputs: [], units: N, inDim: K, activation: 0, weights }, out);
}

/** The same runtime value with its last two logical axes swapped (a rename). */
function swapLast(ctx: NodeContext, v: RtValue): RtValue {
  const r = v.shape.length;
  const perm = (a: number) => (a === r - 1 ? r - 2 : a === r - 2 ? r - 1 : a);
  const shape = v.shape.slice();
  [shape[r - 2], shape[r - 1]] = [shape[r - 1], shape[r - 2]];
  return { ...v, shape, batchAxis: v.batchAxis === null ? null : perm(v.batchAxis), order: v.order.map(perm) };
}

function constMatmul(a: ConstValue, c: ConstValue, ctx: NodeContext): ConstValue {
  if (a.dims.length !== 2 || c.dims.length !== 2 || a.dims[1] !== c.dims[0]) ctx.fail(`folds only 2-D constant products, found [${a.dims}] x [${c.dims}]`, "E_UNSUPPORTED_LAYER");
  const [M, K] = a.dims;
  const N = c.dims[1];
  foldable([M, N], ctx.where);
  const A = floatData(a, ctx.where), C = floatData(c, ctx.where);
  const out = new Float32Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[m * K + k] * C[k * N + n];
    out[m * N + n] = s;
  }
  return { kind: "const", dtype: "float32", dims: [M, N], data: out };
}

function matmul(ctx: NodeContext): Value[] {
  const [a, c] = [ctx.input(0), ctx.input(1)];
  if (isConst(a) && isConst(c)) return [constMatmul(a, c, ctx)];
  if (!isConst(a) && isConst(c)) {
    if (c.dims.length === 1) {
      // x [..., K] · v [K] -> [...]: a one-column product, then the column axis dropped
      const col = dense(ctx, a, { ...c, dims: [c.dims[0], 1] }, undefined);
      const out = ctx.output(0, a.shape.slice(0, -1), col.batchAxis, col.order.filter((ax) => ax !== a.shape.length - 1));
      return [ctx.b.reshape(col, out, ctx.node.name)];
    }
    if (c.dims.length > 2 && c.dims.slice(0, -2).some((d) => d !== 1)) ctx.fail("multiplies by a stack of constant matrices (not supported)");
    return [dense(ctx, a, { ...c, dims: c.dims.slice(-2) }, undefined)];
  }
  if (isConst(a) && !isConst(c)) {
    // A · x = (xᵀ · Aᵀ)ᵀ, the transposes being renames
    if (a.dims.length !== 2 || c.shape.length < 2) ctx.fail("multiplies a constant stack by a runtime tensor (not supported)");
    const y = dense(ctx, swapLast(ctx, c), transposeConst(a, [1, 0]), undefined);
    return [swapLast(ctx, y)];
  }
  return [runtimeMatmul(ctx, a as RtValue, c as RtValue)];
}

function runtimeMatmul(ctx: NodeContext, x: RtValue, y: RtValue): RtValue {
  const b = ctx.b;
  const layer = ctx.node.name;
  const r = x.shape.length;
  if (r < 2 || y.shape.length !== r) ctx.fail(`multiplies [${x.shape}] by [${y.shape}] (only equal ranks >= 2)`);
  const lead = x.shape.slice(0, -2);
  if (y.shape.slice(0, -2).some((d, i) => (isBatch(d) ? !isBatch(lead[i]) : d !== lead[i]))) ctx.fail("leading dims differ (broadcast matmul is not supported)");
  if (x.batchAxis !== null && x.batchAxis >= r - 2) throw new BatchLayout(`${ctx.where}: the batch is a matrix axis`);
  const xs = b.rowMajor(x, layer);
  const ys = b.rowMajor(y, layer);
  const out = ctx.output(0, [...lead, x.shape[r - 2], y.shape[r - 1]], x.batchAxis, xs.order);
  return b.emitValue({ op: "matmul", layer, inputs: [xs.id, ys.id], outputs: [] }, out);
}

function gemm(ctx: NodeContext): Value[] {
  let [a, w] = [ctx.input(0), ctx.input(1)];
  const c = ctx.inputs[2];
  const rank = (v: Value) => (isConst(v) ? v.dims : v.shape).length;
  if (rank(a) !== 2 || rank(w) !== 2) ctx.fail(`multiplies a ${rank(a)}-D A by a ${rank(w)}-D B: Gemm takes matrices (2-D)`, "E_ONNX");
  const alpha = ctx.float("alpha", 1);
  const beta = ctx.float("beta", 1);
  if (ctx.int("transA", 0)) a = isConst(a) ? transposeConst(a, [1, 0]) : swapLast(ctx, a);
  if (ctx.int("transB", 0)) w = isConst(w) ? transposeConst(w, [1, 0]) : swapLast(ctx, w);
  if (isConst(a) || !isConst(w)) {
    if (isConst(a) && isConst(w) && (!c || isConst(c))) {
      let y = constMatmul(a, w, ctx);
      if (alpha !== 1) y = mapConsts([y], "float32", (v) => (v as number) * alpha, ctx.where);
      if (c) y = mapConsts([y, c as ConstValue], "float32", (v, z) => (v as number) + beta * (z as number), ctx.where);
      return [y];
    }
    ctx.fail("multiplies by a runtime matrix B (Gemm with a constant B only)");
  }
  const wc = alpha === 1 ? w : mapConsts([w], "float32", (v) => (v as number) * alpha, ctx.where);
  const [, N] = wc.dims;
  // a bias that is one row ([N], [1, N] or a scalar) goes into the dense op; else it is added after
  let bias: ConstValue | undefined;
  let after: Value | undefined;
  if (c) {
    if (isConst(c) && c.dims.reduce((p, d) => p * d, 1) === N && (c.dims.length <= 1 || c.dims[0] === 1)) {
      bias = mapConsts([c], "float32", (v) => (v as number) * beta, ctx.where);
      bias = { ...bias, dims: [N] };
    } else if (isConst(c) && c.dims.reduce((p, d) => p * d, 1) === 1) {
      bias = mapConsts([{ ...c, dims: [1] }, { kind: "const", dtype: "float32", dims: [N], data: new Float32Array(N) }], "float32", (v, z) => (v as number) * beta + (z as number), ctx.where);
    } else {
      after = beta === 1 || !isConst(c) ? c : mapConsts([c], "float32", (v) => (v as number) * beta, ctx.where);
    }
  }
  const y = dense(ctx, a as RtValue, wc, bias);
  return [after ? runtimeBinary(ctx, "add", y, after) : y];
}

export const matmulOps: OnnxOpTable = {
  MatMul: matmul,
  Gemm: gemm,
};
