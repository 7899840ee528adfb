/**
 * The attention kernel (assembly/attention.ts, its block filled by attentionDescribe) against a
 * float64 transcription of its contract, in all three builds: dot and additive scores, heads
 * side by side in a row, masked keys and queries (rows masked, or outputs zeroed), causality
 * with keys cached before the queries (`past`, keys and values in a session's cache layout),
 * masked weights zeroed after the softmax, weights kept or a scratch row; value widths around
 * the 4-lane edge (1..5, 8, 9). The scalar twin is the reference rounding; the SIMD
 * build differs from it only in the softmax's lane sums, the relaxed build in fused products.
 */
import { describe, expect, it } from "vitest";
import {
  ATTN_ADDITIVE, ATTN_CACHED, ATTN_CAUSAL, ATTN_DESC_BYTES, ATTN_KEEP_WEIGHTS, ATTN_MASK_QUERY_OUTPUT, ATTN_MASK_QUERY_ROWS, ATTN_ZERO_MASKED,
} from "../../src/wasm/abi.ts";
import type { KernelInstance } from "../../src/wasm/kernels.ts";
import { KERNEL_F64, KERNEL_RELAXED, KERNEL_REORDER } from "../tolerance.ts";
import { rngFor, type Rng } from "../util/prng.ts";
import { allVariants, check, get, put, putBytes, unit, zeros } from "./harness.ts";

interface Case {
  B: number;
  H: number;
  Tq: number;
  past: number;
  Dk: number;
  Dv: number;
  flags: number;
  factors: boolean;
  qMask: boolean;
  kMask: boolean;
}

const name = (c: Case) =>
  `B${c.B} H${c.H} Tq${c.Tq} past${c.past} Dk${c.Dk} Dv${c.Dv} ${c.flags & ATTN_ADDITIVE ? "additive" : "dot"}${c.factors ? "+factors" : ""}` +
  `${c.flags & ATTN_CAUSAL ? " causal" : ""}${c.qMask ? ` qmask(${c.flags & ATTN_MASK_QUERY_ROWS ? "rows" : c.flags & ATTN_MASK_QUERY_OUTPUT ? "output" : "none"})` : ""}` +
  `${c.kMask ? " kmask" : ""}${c.flags & ATTN_ZERO_MASKED ? " zero-masked" : ""}${c.flags & ATTN_KEEP_WEIGHTS ? " keep-weights" : ""}`;

const base: Case = { B: 2, H: 1, Tq: 3, past: 0, Dk: 4, Dv: 4, flags: 0, factors: false, qMask: false, kMask: false };
const CASES: Case[] = [
  ...[1, 2, 3, 4, 5, 8, 9].map((Dv) => ({ ...base, Dv, Dk: Dv === 9 ? 5 : 3 })),
  { ...base, B: 1, Tq: 1 },
  { ...base, H: 2, Dk: 3, Dv: 5 },
  { ...base, H: 3, Dk: 2, Dv: 2, flags: ATTN_KEEP_WEIGHTS },
  { ...base, flags: ATTN_ADDITIVE, Dk: 5 },
  { ...base, flags: ATTN_ADDITIVE, factors: true, H: 2, Dk: 3 },
  { ...base, flags: ATTN_CAUSAL, Tq: 5 },
  { ...base, flags: ATTN_CAUSAL, Tq: 2, past: 4, Dv: 9 },
  { ...base, flags: ATTN_CAUSAL | ATTN_KEEP_WEIGHTS, Tq: 1, past: 6, H: 2 },
  { ...base, kMask: true, Tq: 4, past: 0 },
  { ...base, qMask: true, kMask: true, flags: ATTN_MASK_QUERY_OUTPUT, Tq: 4 },
  { ...base, qMask: true, kMask: true, flags: ATTN_MASK_QUERY_ROWS, Tq: 4, H: 2 },
  { ...base, qMask: true, kMask: true, flags: ATTN_MASK_QUERY_ROWS | ATTN_ZERO_MASKED | ATTN_CAUSAL, Tq: 4, H: 2 },
  { ...base, kMask: true, flags: ATTN_ZERO_MASKED | ATTN_KEEP_WEIGHTS | ATTN_ADDITIVE, Tq: 3, past: 2 },
  { ...base, B: 3, qMask: true, kMask: true, flags: ATTN_MASK_QUERY_ROWS | ATTN_CAUSAL, Tq: 3, past: 3, H: 2, Dk: 5, Dv: 3 },
];

/** Keys, values and the key mask as a session's cache ([step][batch]) when keys were cached before the queries, else batch-first. */
const cached = (c: Case) => c.past > 0;

interface Data {
  keys: number;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  qm: Uint8Array | null;
  km: Uint8Array | null;
  a: Float32Array | null;
  c: number;
  t: number;
}

function data(c: Case, rng: Rng): Data {
  const keys = c.past + c.Tq;
  const mask = (n: number) => {
    const m = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : 1));
    m[n - 1] = 0; // one masked entry at least
    return m;
  };
  return {
    keys,
    q: rng.float32Array(c.B * c.Tq * c.H * c.Dk, unit),
    k: rng.float32Array(keys * c.B * c.H * c.Dk, unit),
    v: rng.float32Array(c.B * keys * c.H * c.Dv, unit),
    qm: c.qMask ? mask(c.B * c.Tq) : null,
    km: c.kMask ? mask(c.B * keys) : null,
    a: c.factors ? rng.float32Array(c.H * c.Dk, (g) => g.uniform(0.5, 1.5)) : null,
    c: c.flags & ATTN_ADDITIVE ? rng.uniform(0.5, 1.5) : 1 / Math.sqrt(c.Dk),
    t: rng.uniform(0.5, 1.5),
  };
}

/** The kernel's contract in float64. */
function expected(c: Case, d: Data): { out: Float64Array; weights: Float64Array } {
  const { B, H, Tq, Dk, Dv } = c;
  const { keys } = d;
  // the row of key j of batch row b in the keys, values and key mask
  const at = (b: number, j: number) => (cached(c) ? j * B + b : b * keys + j);
  const out = new Float64Array(B * Tq * H * Dv);
  const weights = new Float64Array(B * H * Tq * keys);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Tq; i++) {
        const queryMasked = d.qm !== null && d.qm[b * Tq + i] === 0;
        const masked = (j: number) => (c.flags & ATTN_CAUSAL && j > c.past + i) || (d.km !== null && d.km[at(b, j)] === 0) || (queryMasked && c.flags & ATTN_MASK_QUERY_ROWS);
        const row = new Float64Array(keys);
        for (let j = 0; j < keys; j++) {
          let s = 0;
          for (let e = 0; e < Dk; e++) {
            const qv = d.q[((b * Tq + i) * H + h) * Dk + e];
            const kv = d.k[(at(b, j) * H + h) * Dk + e];
            s += c.flags & ATTN_ADDITIVE ? (d.a ? d.a[h * Dk + e] : 1) * Math.tanh(d.t * (qv + kv)) : qv * kv;
          }
          s *= Math.fround(d.c);
          row[j] = masked(j) ? Math.fround(Math.fround(s) - 1e9) : s;
        }
        const m = Math.max(...row);
        const sum = row.reduce((a, x) => a + Math.exp(x - m), 0);
        for (let j = 0; j < keys; j++) row[j] = c.flags & ATTN_ZERO_MASKED && masked(j) ? 0 : Math.exp(row[j] - m) / sum;
        weights.set(row, ((b * H + h) * Tq + i) * keys);
        if (queryMasked && c.flags & ATTN_MASK_QUERY_OUTPUT) continue;
        for (let e = 0; e < Dv; e++) {
          let acc = 0;
          for (let j = 0; j < keys; j++) acc += row[j] * d.v[(at(b, j) * H + h) * Dv + e];
          out[((b * Tq + i) * H + h) * Dv + e] = acc;
        }
      }
    }
  }
  return { out, weights };
}

function run(kernel: KernelInstance, c: Case, d: Data): { out: Float32Array; weights: Float32Array } {
  const { B, H, Tq, Dk, Dv } = c;
  const keys = d.keys;
  const desc = kernel.alloc(ATTN_DESC_BYTES, "test desc");
  kernel.exports.attentionDescribe(desc, B, H, Tq, keys, Dk, Dv, c.flags | (cached(c) ? ATTN_CACHED : 0), d.c, d.t);
  const keep = (c.flags & ATTN_KEEP_WEIGHTS) !== 0;
  const out = zeros(kernel, B * Tq * H * Dv);
  const weights = zeros(kernel, keep ? B * H * Tq * keys : keys);
  kernel.exports.attention(desc, keys, c.past, put(kernel, d.q), put(kernel, d.k), put(kernel, d.v), d.qm ? putBytes(kernel, d.qm) : 0,
    d.km ? putBytes(kernel, d.km) : 0, d.a ? put(kernel, d.a) : 0, out, weights);
  return { out: get(kernel, out, B * Tq * H * Dv), weights: keep ? get(kernel, weights, B * H * Tq * keys) : new Float32Array(0) };
}

const k = await allVariants();

describe("attention kernel", () => {
  it("the cases reach every flag, cached keys, both masks and value widths across the 4-lane edge", () => {
    for (const flag of [ATTN_ADDITIVE, ATTN_CAUSAL, ATTN_KEEP_WEIGHTS, ATTN_MASK_QUERY_OUTPUT, ATTN_MASK_QUERY_ROWS, ATTN_ZERO_MASKED]) {
      expect(CASES.some((c) => c.flags & flag), `flag ${flag}`).toBe(true);
    }
    expect(CASES.some(cached) && CASES.some((c) => !cached(c))).toBe(true);
    expect(CASES.some((c) => c.qMask) && CASES.some((c) => c.kMask) && CASES.some((c) => c.factors)).toBe(true);
    expect(new Set(CASES.map((c) => c.Dv % 4 === 0)).size).toBe(2);
  });

  it.each(CASES.map((c) => [name(c), c] as const))("%s", (label, c) => {
    const rng = rngFor(`attention kernel ${label}`);
    const d = data(c, rng);
    const want = expected(c, d);
    const scalar = run(k.scalar, c, d);
    check(scalar.out, want.out, KERNEL_F64, `${label}: scalar twin vs float64`, rng);
    check(run(k.simd, c, d).out, scalar.out, KERNEL_REORDER, `${label}: SIMD vs scalar twin`, rng);
    check(run(k.relaxed, c, d).out, scalar.out, KERNEL_RELAXED, `${label}: relaxed vs scalar twin`, rng);
    if (c.flags & ATTN_KEEP_WEIGHTS) check(scalar.weights, want.weights, KERNEL_F64, `${label}: weights`, rng);
  });
});
