/**
 * Attention layers of the reference, in float64, written from Keras' layers
 * (keras/src/layers/attention/attention.py, additive_attention.py, multi_head_attention.py,
 * layers/activations/softmax.py; tf.keras 2.x's are the same equations):
 *
 *   Attention        s_ij = q_i·k_j (× scale with use_scale), or with score_mode="concat"
 *                    concat_score_weight · Σ_d tanh(scale·(q_id + k_jd)) (scale 1 without use_scale)
 *   AdditiveAttention s_ij = Σ_d scale_d · tanh(q_id + k_jd) (scale_d = 1 without use_scale)
 *                    masked s_ij (value mask 0, or j > i with use_causal_mask / `causal`)
 *                    become s_ij - 1e9; w_i = softmax_j(s_i); out_i = Σ_j w_ij v_j, times the
 *                    query's mask. Output mask: the query's. Scores output: w.
 *   MultiHeadAttention per head h: q = x Wq_h + bq_h (kernels [D, H, Dk]), k, v alike;
 *                    s_ij = (q_i / sqrt(Dk))·k_j, masked where the query's, value's or key's
 *                    mask or causality says so (Softmax layer: s + (1 - mask)·(-1e9); Keras 3.10+
 *                    then zeroes masked weights); out = concat_h(Σ_j w_ij v_j) Wo + bo.
 *
 * The -1e9 is applied as Keras does it in float32: Math.fround(s - 1e9), so that a row whose
 * keys are all masked spreads its weight evenly (every |s| < 32 gives the same float32).
 */
import { RefError } from "./errors.ts";
import type { CallResult, Context, RefLayer, Shape, WeightBag } from "./layer-base.ts";
import { shapeError } from "./layer-base.ts";
import type { Mask, Tensor64 } from "./tensor.ts";

type Config = Record<string, any>;
type Args = Record<string, unknown> | undefined;

const MASKED = 1e9;

function softmax(row: Float64Array): void {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += row[j] = Math.exp(row[j] - m);
  for (let j = 0; j < row.length; j++) row[j] /= sum;
}

/** An argument that names one of the call's inputs ({input: i}), as its index. */
function inputIndex(v: unknown): number | undefined {
  const i = typeof v === "object" && v !== null ? (v as { input?: unknown }).input : undefined;
  return typeof i === "number" ? i : undefined;
}

const isSet = (m: Mask | null, b: number, t: number) => m === null || m.data[b * m.shape[1] + t] !== 0;

/** Attention and AdditiveAttention. */
export class AttentionLayer implements RefLayer {
  private scale: Tensor64 | null = null;
  private concatWeight = 1;
  constructor(
    readonly className: string,
    readonly name: string,
    readonly config: Config,
  ) {}

  private get additive(): boolean {
    return this.className === "AdditiveAttention";
  }

  build(inputShapes: Shape[], w: WeightBag, _ctx: Context, args?: Args): Shape[] {
    if (inputShapes.length < 2 || inputShapes.length > 3) throw new RefError("E_MODEL_JSON", `layer ${this.name}: expects [query, value] or [query, value, key]`);
    const [q, v, k = v] = inputShapes;
    const D = q[q.length - 1];
    if (q.length !== 3 || v.length !== 3 || k.length !== 3 || D === null) shapeError(this.name, "inputs", "[batch, time, features]", q);
    const mode = this.additive ? "additive" : String(this.config.score_mode ?? "dot");
    if (!["dot", "concat", "additive"].includes(mode)) throw new RefError("E_UNSUPPORTED_OPTION", `layer ${this.name}: score_mode ${mode}`);
    const useScale = this.config.use_scale ?? this.additive;
    if (useScale) this.scale = w.take("scale", this.additive ? [D] : []);
    if (mode === "concat") this.concatWeight = w.take("concat_score_weight", []).data[0];
    const out: Shape[] = [[q[0], q[1], v[2]]];
    if (args?.return_attention_scores === true) out.push([q[0], q[1], v[1]]);
    return out;
  }

  call(inputs: Tensor64[], masks: (Mask | null)[], _r: Mask | null, _ctx: Context, args?: Args): CallResult {
    const [q, v, k = v] = inputs;
    const [B, Tq, D] = q.shape;
    const [, Tv, Dv] = v.shape;
    const qMask = masks[0] ?? null;
    const vMask = masks[1] ?? null;
    const causal = args?.use_causal_mask === true || this.config.causal === true;
    const mode = this.additive ? "additive" : String(this.config.score_mode ?? "dot");
    const out = new Float64Array(B * Tq * Dv);
    const weights = new Float64Array(B * Tq * Tv);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < Tq; i++) {
        const row = new Float64Array(Tv);
        for (let j = 0; j < Tv; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) {
            const qd = q.data[(b * Tq + i) * D + d];
            const kd = k.data[(b * Tv + j) * D + d];
            if (mode === "dot") s += qd * kd;
            else if (mode === "concat") s += Math.tanh((this.scale ? this.scale.data[0] : 1) * (qd + kd));
            else s += (this.scale ? this.scale.data[d] : 1) * Math.tanh(qd + kd);
          }
          if (mode === "dot" && this.scale) s *= this.scale.data[0];
          if (mode === "concat") s *= this.concatWeight;
          const masked = !isSet(vMask, b, j) || (causal && j > i);
          row[j] = masked ? Math.fround(s - MASKED) : s;
        }
        softmax(row);
        weights.set(row, (b * Tq + i) * Tv);
        if (!isSet(qMask, b, i)) continue; // result × query mask
        for (let e = 0; e < Dv; e++) {
          let acc = 0;
          for (let j = 0; j < Tv; j++) acc += row[j] * v.data[(b * Tv + j) * Dv + e];
          out[(b * Tq + i) * Dv + e] = acc;
        }
      }
    }
    const outputs: Tensor64[] = [{ shape: [B, Tq, Dv], data: out }];
    if (args?.return_attention_scores === true) outputs.push({ shape: [B, Tq, Tv], data: weights });
    return { outputs, masks: outputs.map((_, n) => (n === 0 ? qMask : null)) };
  }
}

/** MultiHeadAttention over the time axis (attention_axes None or [1]). */
export class MultiHeadAttentionLayer implements RefLayer {
  readonly className = "MultiHeadAttention";
  private W: Record<string, Tensor64> = {};
  private b: Record<string, Tensor64 | null> = {};
  private H: number;
  private Dk: number;
  private Dv: number;
  constructor(
    readonly name: string,
    readonly config: Config,
  ) {
    this.H = Number(config.num_heads);
    this.Dk = Number(config.key_dim);
    this.Dv = Number(config.value_dim ?? config.key_dim);
    const axes = config.attention_axes;
    if (!(axes === null || axes === undefined || JSON.stringify(axes) === "[1]")) throw new RefError("E_UNSUPPORTED_OPTION", `layer ${name}: attention_axes ${JSON.stringify(axes)}`);
  }

  /** The call's query, value and key, as input indices (value and key by position or keyword). */
  private roles(n: number, args: Args): [number, number, number] {
    const v = inputIndex(args?.value) ?? 1;
    const k = inputIndex(args?.key) ?? (args?.value === undefined && n > 2 ? 2 : v);
    return [0, v, k];
  }

  build(inputShapes: Shape[], w: WeightBag, _ctx: Context, args?: Args): Shape[] {
    const [qi, vi, ki] = this.roles(inputShapes.length, args);
    const [q, v, k] = [inputShapes[qi], inputShapes[vi], inputShapes[ki]];
    const { H, Dk, Dv } = this;
    const Dout = Array.isArray(this.config.output_shape) ? this.config.output_shape[0] : this.config.output_shape ?? q[2];
    const useBias = this.config.use_bias !== false;
    for (const [sub, inDim, dim] of [["query", q[2], Dk], ["key", k[2], Dk], ["value", v[2], Dv]] as const) {
      this.W[sub] = w.takeIn(sub, "kernel", [inDim as number, H, dim]);
      this.b[sub] = useBias ? w.takeIn(sub, "bias", [H, dim]) : null;
    }
    this.W.out = w.takeIn("attention_output", "kernel", [H, Dv, Dout]);
    this.b.out = useBias ? w.takeIn("attention_output", "bias", [Dout]) : null;
    const out: Shape[] = [[q[0], q[1], Dout]];
    if (args?.return_attention_scores === true) out.push([q[0], H, q[1], v[1]]);
    return out;
  }

  /** x [B, T, D] -> [B, T, H, dim] by einsum "abc,cde->abde" + bias. */
  private project(x: Tensor64, sub: string, dim: number): Float64Array {
    const [B, T, D] = x.shape;
    const H = this.H;
    const W = this.W[sub];
    const bias = this.b[sub];
    const out = new Float64Array(B * T * H * dim);
    for (let r = 0; r < B * T; r++) {
      for (let h = 0; h < H; h++) {
        for (let e = 0; e < dim; e++) {
          let acc = bias ? bias.data[h * dim + e] : 0;
          for (let d = 0; d < D; d++) acc += x.data[r * D + d] * W.data[(d * H + h) * dim + e];
          out[(r * H + h) * dim + e] = acc;
        }
      }
    }
    return out;
  }

  call(inputs: Tensor64[], masks: (Mask | null)[], _r: Mask | null, ctx: Context, args?: Args): CallResult {
    const [qi, vi, ki] = this.roles(inputs.length, args);
    const [x, vx, kx] = [inputs[qi], inputs[vi], inputs[ki]];
    const [qMask, vMask, kMask] = [masks[qi] ?? null, masks[vi] ?? null, masks[ki] ?? null];
    const [B, Tq] = x.shape;
    const Tv = vx.shape[1];
    const { H, Dk, Dv } = this;
    const q = this.project(x, "query", Dk);
    const k = this.project(kx, "key", Dk);
    const v = this.project(vx, "value", Dv);
    const causal = args?.use_causal_mask === true;
    const [major, minor] = ctx.kerasRelease ?? [0, 0];
    const zeroMasked = major > 3 || (major === 3 && minor >= 10);
    const inv = 1 / Math.sqrt(Dk);
    const heads = new Float64Array(B * Tq * H * Dv);
    const scores = new Float64Array(B * H * Tq * Tv);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < Tq; i++) {
          const row = new Float64Array(Tv);
          const keep = (j: number) => isSet(qMask, b, i) && isSet(vMask, b, j) && isSet(kMask, b, j) && !(causal && j > i);
          for (let j = 0; j < Tv; j++) {
            let s = 0;
            for (let d = 0; d < Dk; d++) s += q[((b * Tq + i) * H + h) * Dk + d] * inv * k[((b * Tv + j) * H + h) * Dk + d];
            row[j] = keep(j) ? s : Math.fround(s - MASKED);
          }
          softmax(row);
          if (zeroMasked) for (let j = 0; j < Tv; j++) if (!keep(j)) row[j] = 0;
          scores.set(row, ((b * H + h) * Tq + i) * Tv);
          for (let e = 0; e < Dv; e++) {
            let acc = 0;
            for (let j = 0; j < Tv; j++) acc += row[j] * v[((b * Tv + j) * H + h) * Dv + e];
            heads[((b * Tq + i) * H + h) * Dv + e] = acc;
          }
        }
      }
    }
    const Wo = this.W.out;
    const Dout = Wo.shape[2];
    const out = new Float64Array(B * Tq * Dout);
    for (let r = 0; r < B * Tq; r++) {
      for (let o = 0; o < Dout; o++) {
        let acc = this.b.out ? this.b.out.data[o] : 0;
        for (let c = 0; c < H * Dv; c++) acc += heads[r * H * Dv + c] * Wo.data[c * Dout + o];
        out[r * Dout + o] = acc;
      }
    }
    const outputs: Tensor64[] = [{ shape: [B, Tq, Dout], data: out }];
    if (args?.return_attention_scores === true) outputs.push({ shape: [B, H, Tq, Tv], data: scores });
    return { outputs, masks: outputs.map((_, n) => (n === 0 ? qMask : null)) };
  }
}
