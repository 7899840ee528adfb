/**
 * float16 conversion (f16 bundle sections): decoding checked exhaustively over all 65536 half
 * bit patterns against the IEEE 754 binary16 definition evaluated in float64; encoding checked
 * for exact round trips of every half and against a reference round-to-nearest-even that
 * searches the sorted table of halves (no bit tricks shared with the implementation), on every
 * midpoint between neighbouring halves, its float32 neighbours, and seeded random float32s.
 */
import { describe, expect, it } from "vitest";
import { floatToHalf, halvesToFloats } from "../../src/format/half.ts";
import { describeSeed, rngFor } from "../util/prng.ts";

/** binary16 by definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024. */
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Finite non-negative halves in increasing order: bits 0x0000..0x7bff are monotonic. */
const MAG = Array.from({ length: 0x7c00 }, (_, h) => halfValue(h));

/** Reference encoder: nearest half by value, ties to the even bit pattern, overflow to inf. */
function referenceHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  // 65536 stands for infinity: IEEE rounds to inf from max + ulp/2 = 65520 on
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = MAG.length - 1;
  if (a >= MAG[hi]) return sign | hi; // in [65504, 65520): nearer to 65504
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (MAG[mid] <= a) lo = mid;
    else hi = mid;
  }
  if (MAG[lo] === a) return sign | lo;
  const dLo = a - MAG[lo];
  const dHi = MAG[hi] - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number) => ((u32[0] = b >>> 0), f32[0]);
const bitsOf = (v: number) => ((f32[0] = v), u32[0]);

describe("float16", () => {
  it("decodes all 65536 halves exactly as the binary16 definition", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = new Float32Array(65536);
    halvesToFloats(all, out);
    const outBits = new Uint32Array(out.buffer); // NaN bits read without a round trip through a JS number
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const want = halfValue(h);
      // NaN: still NaN, sign and payload carried into the float32 (payload << 13)
      const ok = Number.isNaN(want) ? Number.isNaN(out[h]) && outBits[h] === (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0 : Object.is(out[h], want);
      if (!ok && wrong.length < 20) wrong.push(`half 0x${h.toString(16)}: ${out[h]}, expected ${want}`);
    }
    expect(wrong).toEqual([]);
  });

  it("encodes every half's value back to the same bits (NaNs stay NaN with their sign)", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = new Float32Array(65536);
    halvesToFloats(all, out);
    const wrong: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const back = floatToHalf(out[h]);
      const ok = Number.isNaN(halfValue(h)) ? (back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0 && (back & 0x8000) === (h & 0x8000) : back === h;
      if (!ok && wrong.length < 20) wrong.push(`half 0x${h.toString(16)} -> 0x${back.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it("rounds to nearest even like the reference at every midpoint and its float32 neighbours", () => {
    let checked = 0;
    const wrong: string[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      const lo = MAG[h];
      const hi = h + 1 < 0x7c00 ? MAG[h + 1] : 65536;
      const mid = (lo + hi) / 2; // exact in float32: 12 significant bits
      if (Math.fround(mid) !== mid) wrong.push(`midpoint ${mid} not exact in float32`);
      const b = bitsOf(mid);
      for (const v of [mid, fromBits(b - 1), fromBits(b + 1), lo]) {
        for (const s of [1, -1]) {
          const x = s * v;
          const got = floatToHalf(x);
          const want = referenceHalf(x);
          if (got !== want && wrong.length < 20) wrong.push(`${x} (bits 0x${bitsOf(x).toString(16)}): 0x${got.toString(16)}, reference 0x${want.toString(16)}`);
          checked++;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(0x7c00 * 8);
  });

  it("special values: zeros, infinities, NaN, float32 subnormals, overflow and underflow edges", () => {
    const cases = [0, -0, Infinity, -Infinity, NaN, 65504, 65519.99, 65520, 65536, 1e30, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0000001, 3 * 2 ** -26, 2 ** -26, 1e-40, -1e-45, 2 ** -14, 2 ** -14 - 2 ** -25];
    for (const v of cases) {
      const x = Math.fround(v);
      expect(floatToHalf(x), `${v}`).toBe(referenceHalf(x));
    }
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal: even is 0
  });

  it("agrees with the reference on 300000 seeded random float32 bit patterns", () => {
    const rng = rngFor("float16 random bits");
    for (let i = 0; i < 300_000; i++) {
      // half the draws are concentrated in the half range (exponents 100..145)
      const bits = i % 2 ? (rng.int(0, 65536) << 16) | rng.int(0, 65536) : ((rng.int(0, 2) << 31) | (rng.int(100, 146) << 23) | rng.int(0, 1 << 23)) >>> 0;
      const x = fromBits(bits);
      const got = floatToHalf(x);
      const want = referenceHalf(x);
      if (Number.isNaN(x)) expect((got & 0x7c00) === 0x7c00 && (got & 0x3ff) !== 0).toBe(true);
      else if (got !== want) expect(got, `bits 0x${bits.toString(16)} (${x}); ${describeSeed(rng)}`).toBe(want);
    }
  });
});
